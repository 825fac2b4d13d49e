"""Text from the inputs is data: what a spreadsheet would run as a formula, and how it is neutralised.

A cell whose text starts with ``= + - @`` (or a tab or carriage return) is a formula to Excel and
LibreOffice (OWASP "CSV injection"). The xlsx writers store such text as text with Excel's quote prefix;
CSV files cannot say "text", so ``csv_safe`` puts an apostrophe in front instead.
"""

from __future__ import annotations

import re

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
