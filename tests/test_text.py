"""domain.text: text a spreadsheet would run as a formula is neutralised, numbers and plain text are not; an
error value (``#N/A``) is recognised as text; a missing cell is one test."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from billing_lib.domain.text import FORMULA_START, cell_text, csv_safe, is_error_text, is_missing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
        ("@cmd", "'@cmd"),
        ("-PO7", "'-PO7"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.50", "-12.50"),  # a plain number is left as it is
        ("+1,234.5", "+1,234.5"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_safe(value: str, expected: str) -> None:
    assert csv_safe(pd.Series([value], dtype=object)).tolist() == [expected]


def test_csv_safe_leaves_non_text_alone() -> None:
    assert csv_safe(pd.Series([None, 3, "=x"], dtype=object)).tolist() == [None, 3, "'=x"]


def test_formula_start_is_what_excel_reads_as_a_formula() -> None:
    assert all(c.startswith(FORMULA_START) for c in ("=A1", "+A1", "-A1", "@A1", "\tA1", "\rA1"))
    assert not "A1".startswith(FORMULA_START)


@pytest.mark.parametrize(
    ("value", "missing"),
    [
        (None, True), (float("nan"), True), (np.float32("nan"), True), (pd.NA, True), (pd.NaT, True),
        (np.datetime64("NaT"), True), ("", False), (0, False), (Decimal("0"), False), ("nan", False),
        (np.datetime64("2026-10-01"), False),
    ],
)  # fmt: skip
def test_is_missing(value: object, missing: bool) -> None:
    assert is_missing(value) is missing
    assert cell_text(value) == ("" if missing else str(value))


@pytest.mark.parametrize("text", ["#N/A", " #n/a ", "#REF!", "#DIV/0!", "#VALUE!", "Err:502", "#SPILL!"])
def test_error_values_as_text(text: str) -> None:
    assert is_error_text(text)


@pytest.mark.parametrize("value", ["N/A", "#1", "REF!", "", None, 0, "#N/A and more"])
def test_other_values_are_not_errors(value: object) -> None:
    assert not is_error_text(value)
