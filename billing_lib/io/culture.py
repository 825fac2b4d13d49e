"""How a file wrote its numbers and dates, settled from the file itself: never guessed silently.

An export is written in one culture. Windows PowerShell 5.1 and PowerShell 7 write numbers with the
machine's decimal mark (``386,645`` in de-DE) even in a comma-separated file, and PowerShell 7 writes
dates in the culture's short form (``10/1/2026 12:00:00 AM`` in en-US, ``01.10.2026 00:00:00`` in
de-DE) -- PowerShell issues #13592, #19536, #15828 and #5131. So a column is read one way throughout,
and that way is settled, in this order, by:

1. the column's own values (``2,5`` can only be a decimal comma, ``1,234.50`` only a decimal point;
   a date's day above 12; ``AM``/``PM`` is the en-US month-first form; ``01.10.2026`` is day-first);
2. the rest of the file: its delimiter (a semicolon CSV is Excel's decimal-comma export), its other
   number columns and its dates (dotted dates are a decimal-comma culture, ``AM``/``PM`` a decimal-point
   one);
3. a cross-check on the rows: the reading under which quantity x rate gives the supplied amount.

What stays open is *ambiguous*: the cell is neither read nor rejected, and the caller holds its row
(``ambiguous_number`` / ``ambiguous_date``) naming the file, row, column and value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from billing_lib.domain.money import parse_decimal, separator_evidence
from billing_lib.domain.period import EXCEL_EPOCH, FIRST_YEAR, LAST_YEAR

# Excel's serial day 0, for numbers in a date column
_EXCEL_EPOCH = dt.datetime.combine(EXCEL_EPOCH, dt.time())
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")
# a culture's short date, with PowerShell's time part: 10/1/2026 12:00:00 AM, 01.10.2026 00:00:00
_LOCAL = re.compile(
    r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*([AaPp]\.?[Mm]\.?))?)?$"
)
# a number a thousands comma and a decimal comma both read: 386,645 (never 1,234,567 or 2,5)
_EITHER_COMMA = re.compile(r"^[-+(]?\d{1,3},\d{3}\)?$")

# The columns of a billable table whose product is checked against the amount.
CROSS_CHECK = {
    "billing_items": ("quantity", "rate", "amount"),
    "charges": ("quantity", "rate", "amount"),
    "time_entries": ("hours_to_bill", "rate", "amount"),
}


@dataclass(frozen=True)
class Read:
    """A column read: the typed cells, the cells that are not a value of the kind, the open ones."""

    values: pd.Series
    bad: np.ndarray
    ambiguous: np.ndarray


# --- dates ------------------------------------------------------------------------------------------


def _date_evidence(uniques: np.ndarray) -> tuple[bool, bool]:
    """(day first, month first): what the column's short dates show of their order."""
    day_first = month_first = False
    for value in uniques:
        match = _LOCAL.match(value.strip()) if isinstance(value, str) else None
        if not match:
            continue
        a, sep, b, meridiem = int(match[1]), match[2], int(match[3]), match[5]
        if a > 12 and b > 12:
            continue  # no date either way: rejected, not evidence
        day_first |= a > 12 or (sep == "." and not meridiem)
        month_first |= b > 12 or bool(meridiem)
    return day_first, month_first


def date_order(columns: Mapping[str, pd.Series]) -> bool | None:
    """The file's date order from all its date columns: True day first, False month first, None open."""
    day = month = False
    for cells in columns.values():
        d, m = _date_evidence(pd.unique(cells.dropna().to_numpy(object)))
        day |= d
        month |= m
    return day if day != month else None


def dates_decimal_comma(columns: Mapping[str, pd.Series]) -> bool | None:
    """What a file's dates say of its decimal mark: dotted day-first dates (``01.10.2026 00:00:00``,
    de-DE) go with a decimal comma, ``AM``/``PM`` dates (en-US) with a point; None when they do not tell."""
    dotted = meridiem = False
    for cells in columns.values():
        for value in pd.unique(cells.dropna().to_numpy(object)):
            match = _LOCAL.match(value.strip()) if isinstance(value, str) else None
            if match:
                dotted |= match[2] == "." and not match[5]
                meridiem |= bool(match[5])
    return True if dotted and not meridiem else False if meridiem and not dotted else None


def _date_of(value: object, day_first: bool | None) -> dt.datetime | None:
    """The day a cell holds; raises ValueError when it is no date, LookupError when its order is open."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:  # Excel's serial day range
            raise ValueError(value)
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = str(value).strip()
    if not text:
        return None
    if _ISO.match(text):
        stamp = pd.Timestamp(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        return dt.datetime(stamp.year, stamp.month, stamp.day)
    match = _LOCAL.match(text)
    if match:
        a, b, year = int(match[1]), int(match[3]), int(match[4])
        if a > 12 and b > 12:
            raise ValueError(value)
        if day_first is None and a != b:
            raise LookupError(value)
        day, month = (a, b) if day_first or day_first is None else (b, a)
        return dt.datetime(year, month, day)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # an Excel serial number written as text
        return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    raise ValueError(value)


def dates(values: pd.Series, file_order: bool | None = None) -> Read:
    """A date column read one way throughout (its own evidence first, then the file's)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    day, month = _date_evidence(uniques)
    order = day if day != month else None if day else file_order
    converted = np.empty(len(uniques) + 1, dtype=object)
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    open_ = np.zeros(len(uniques) + 1, dtype=bool)
    for i, value in enumerate(uniques):
        try:
            converted[i] = _date_of(value, order)
        except LookupError:
            open_[i] = True
        except (ValueError, OverflowError):
            bad[i] = True
        else:  # a day outside the years handled (3026-10-05, 0001-01-01) is a typo, not a date
            if converted[i] is not None and not FIRST_YEAR <= converted[i].year <= LAST_YEAR:
                converted[i], bad[i] = None, True
    days = pd.to_datetime(pd.Series(converted, dtype=object), errors="coerce").astype("datetime64[ns]")
    return Read(pd.Series(days.to_numpy()[codes], index=values.index), bad[codes], open_[codes])


# --- numbers ----------------------------------------------------------------------------------------


def _mode(comma_only: bool, dot_only: bool) -> bool | None:
    return True if comma_only and not dot_only else False if dot_only and not comma_only else None


def _numbers(values: pd.Series, mode: bool | None, settled: bool) -> Read:
    """Parse with a decimal comma (True), point (False), or each value by itself (None).

    Unsettled, a value either reading takes (``386,645``) is left open.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    parsed = np.empty(len(uniques) + 1, dtype=object)
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    open_ = np.zeros(len(uniques) + 1, dtype=bool)
    for i, raw in enumerate(uniques):
        if not settled and isinstance(raw, str) and _EITHER_COMMA.match(raw.strip()):
            open_[i] = True
            continue
        try:
            parsed[i] = parse_decimal(raw, decimal_comma=mode)
        except ValueError:
            bad[i] = True
    return Read(pd.Series(parsed[codes], index=values.index, dtype=object), bad[codes], open_[codes])


def _has_open(values: pd.Series) -> bool:
    return any(isinstance(v, str) and _EITHER_COMMA.match(v.strip()) for v in pd.unique(values.dropna()))


def _agrees(quantity: pd.Series, rate: pd.Series, amount: pd.Series, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` have quantity x rate within a cent of the amount."""
    out = np.zeros(len(rows), dtype=bool)
    for k, i in enumerate(rows):
        q, r, a = quantity.iloc[i], rate.iloc[i], amount.iloc[i]
        if q is not None and r is not None and a is not None:
            out[k] = abs(q * r - a) <= Decimal("0.01")
    return out


def _cross_check(table: str, columns: Mapping[str, pd.Series], undecided: list[str]) -> bool | None:
    """The reading (True decimal comma, False point) under which quantity x rate meets the amount on the
    rows with an open value, when exactly one reading does; None when the rows do not tell."""
    names = CROSS_CHECK.get(table)
    if not names or not all(n in columns for n in names) or not set(names) & set(undecided):
        return None
    cells = [columns[n] for n in names]
    open_rows = np.zeros(len(cells[0]), dtype=bool)
    for name, column in zip(names, cells, strict=True):
        if name in undecided:
            open_rows |= column.map(
                lambda v: isinstance(v, str) and bool(_EITHER_COMMA.match(v.strip()))
            ).to_numpy(bool)
    rows = np.flatnonzero(open_rows)
    if not len(rows):
        return None
    agree = {}
    for mode in (True, False):
        read = []
        for name, column in zip(names, cells, strict=True):
            evidence = _mode(*separator_evidence(pd.unique(column.dropna())))
            read.append(_numbers(column, mode if name in undecided else evidence, True).values)
        agree[mode] = _agrees(read[0], read[1], read[2], rows)
    if agree[True].any() and not agree[False].any():
        return True
    if agree[False].any() and not agree[True].any():
        return False
    return None


def numbers(
    table: str,
    columns: Mapping[str, pd.Series],
    *,
    semicolon_file: bool = False,
    file_dates: bool | None = None,
) -> dict[str, Read]:
    """Every number column of one sheet, each read one way throughout.

    ``semicolon_file``: a semicolon-separated CSV (Excel's export where the comma is the decimal mark).
    ``file_dates``: what the file's dates say of its decimal mark (``dates_decimal_comma``).
    """
    evidence = {name: separator_evidence(pd.unique(cells.dropna())) for name, cells in columns.items()}
    own = {name: _mode(*ev) for name, ev in evidence.items()}
    file_comma = any(c and not d for c, d in evidence.values())
    file_dot = any(d and not c for c, d in evidence.values())
    file_mode = _mode(file_comma, file_dot)
    if file_mode is None and semicolon_file and not file_dot:
        file_mode = True
    if file_mode is None and file_dates is not None:
        file_mode = file_dates  # dotted day-first dates: a decimal-comma culture
    undecided = [n for n, m in own.items() if m is None and _has_open(columns[n])]
    if file_mode is None and undecided:
        file_mode = _cross_check(table, columns, undecided)
    out = {}
    for name, cells in columns.items():
        mode = own[name]
        settled = mode is not None or file_mode is not None
        if mode is None and file_mode is not None and _has_open(cells):
            mode = file_mode
        out[name] = _numbers(cells, mode, settled)
    return out
