"""Text from the inputs is data: what a spreadsheet would run as a formula, and how it is neutralised.

A cell whose text starts with ``= + - @`` (or a tab or carriage return) is a formula to Excel and
LibreOffice (OWASP "CSV injection"). The xlsx writers store such text as text with Excel's quote prefix;
CSV files cannot say "text", so ``csv_safe`` puts an apostrophe in front instead.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d[\d.,]*$")


def csv_safe(values: pd.Series) -> pd.Series:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection).

    Plain numbers (``-20.00``) are untouched.
    """

    def one(v: object) -> object:
        if isinstance(v, str) and v.startswith(FORMULA_START) and not _NUMBER.match(v):
            return "'" + v
        return v

    return values.map(one)


def is_missing(value: object) -> bool:
    """None, NaN, NA or NaT: a cell with nothing in it (a Decimal, even ``Decimal("NaN")``, is a value)."""
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and bool(value != value))
        or (isinstance(value, np.datetime64) and bool(np.isnat(value)))
    )


def cell_text(value: object) -> str:
    """A cell as text, empty for a missing one."""
    return "" if is_missing(value) else str(value)


# The error values a spreadsheet shows in a cell it cannot calculate (Excel and LibreOffice).
ERROR_VALUES = frozenset(
    {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
     "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "ERR:502", "#ERR"}
)  # fmt: skip


def is_error_text(value: object) -> bool:
    """Whether text is a spreadsheet error value (``#N/A`` in a CSV)."""
    return isinstance(value, str) and value.strip().upper() in ERROR_VALUES
