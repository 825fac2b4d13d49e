"""domain.text: text a spreadsheet would run as a formula is neutralised; numbers and plain text are not."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from billing_lib.domain.text import FORMULA_START, cell_text, csv_safe, is_missing


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
