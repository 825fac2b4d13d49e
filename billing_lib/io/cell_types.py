"""Typing a sheet's cells by the schema's kinds (ids, text, dates, decimals, yes/no), dropping total
rows, and holding each cell that cannot be read with its place and a sentence why.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.domain import schema
from billing_lib.domain.money import MAX_AMOUNT, MAX_RATE_PLACES, amount_in_range, decimals_of, rate_in_range
from billing_lib.domain.period import FIRST_YEAR, LAST_YEAR
from billing_lib.domain.records import (
    AMBIGUOUS_DATE,
    AMBIGUOUS_NUMBER,
    AMOUNT_OUT_OF_RANGE,
    DUPLICATE_HEADING,
    HELD_ORDER,
    INVALID_ROW,
    SUMMARY_ROW,
    Action,
    Issue,
    where,
)
from billing_lib.domain.text import is_error_text
from billing_lib.io import culture
from billing_lib.io.cells import CellProblem
from billing_lib.io.headings import find_header
from billing_lib.io.raw_sheets import RawSheet

META = ("_file", "_sheet", "_row", "_source", "_bad")


def column_dtype(kind: schema.Kind) -> str:
    return {"date": "datetime64[ns]", "bool": "object", "decimal": "object"}.get(kind, "str")


# --- typing cells --------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "x", "t", "ja", "oui", "-1"}
_FALSE = {"false", "no", "n", "0", "f", "", "nein", "non"}


def _distinct(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's code and the distinct cells (empty cells, None or NaN, get code -1)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _convert(uniques: np.ndarray, convert: Callable[[object], object]) -> tuple[np.ndarray, np.ndarray]:
    """``convert`` of each distinct cell, and which ones it rejected, with a last slot (None) for code -1.

    A ``ValueError`` or ``OverflowError`` marks the value bad (and gives None).
    """
    converted = np.empty(len(uniques) + 1, dtype=object)
    rejected = np.zeros(len(uniques) + 1, dtype=bool)
    for i, value in enumerate(uniques):
        try:
            converted[i] = convert(value)
        except (ValueError, ArithmeticError):  # OverflowError, decimal.InvalidOperation included
            rejected[i] = True
    return converted, rejected


def _by_distinct(values: pd.Series, convert: Callable[[object], object]) -> tuple[np.ndarray, np.ndarray]:
    """``convert`` applied once per distinct cell: (converted cells, mask of the cells it rejected)."""
    codes, uniques = _distinct(values)
    converted, rejected = _convert(uniques, convert)
    return converted[codes], rejected[codes]


def _id_of(v: object) -> object:
    if isinstance(v, CellProblem) or is_error_text(v):
        raise ValueError(v)
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        if np.isnan(v):
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, int):
        return str(v)
    text = str(v).strip()
    if re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text or None


def _ids(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids as text: ``101.0`` -> ``101``; returns (ids with NaN for empty, bad mask).

    Whole-number cells (what a spreadsheet reader gives for numeric ids) are converted in one
    vectorised step; only the other values go through Python one distinct value at a time.
    """
    raw = values.to_numpy(dtype=object)
    out = np.empty(len(raw), dtype=object)
    kind = pd.api.types.infer_dtype(raw, skipna=True)
    if kind in ("floating", "integer", "mixed-integer-float"):
        filled = raw.copy()
        filled[pd.isna(raw)] = np.nan
        numbers = filled.astype(float)
    elif kind in ("string", "empty"):
        numbers = np.full(len(raw), np.nan)
    else:
        numbers = pd.to_numeric(values.where(values.map(type).isin((float, int))), errors="coerce").to_numpy()
    whole = ~np.isnan(numbers) & (np.abs(numbers) < 2**53) & (numbers == np.floor(numbers))
    if whole.any():
        # each distinct id turned into text once (customer and contract ids repeat thousands of times)
        codes, distinct = pd.factorize(numbers[whole].astype(np.int64))
        out[whole] = np.array([str(i) for i in distinct.tolist()], dtype=object)[codes]
    rest = ~whole
    bad = np.zeros(len(raw), dtype=bool)
    if rest.any():
        out[rest], bad[rest] = _by_distinct(pd.Series(raw[rest], dtype=object), _id_of)
    return pd.Series(out, index=values.index, dtype="str"), pd.Series(bad, index=values.index)


def _text_of(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    text = str(v).strip()
    return text or None


def _texts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    texts, _ = _by_distinct(values, _text_of)
    return pd.Series(texts, index=values.index, dtype="str"), pd.Series(False, index=values.index)


def _dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A date column by itself (a sheet's date columns are read together: ``_culture_reads``)."""
    read = culture.dates(values)
    return read.values, pd.Series(read.bad | read.ambiguous, index=values.index)


def _bool_of(value: object) -> bool | None:
    if isinstance(value, CellProblem):
        raise ValueError(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value == value else None
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False if text else None
    raise ValueError(value)


def _bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    flags, bad = _by_distinct(values, _bool_of)
    return pd.Series(flags, index=values.index, dtype=object), pd.Series(bad, index=values.index)


_CONVERTERS: dict[str, Callable[[pd.Series], tuple[pd.Series, pd.Series]]] = {
    "id": _ids, "text": _texts, "date": _dates, "decimal": decimals_of, "bool": _bools,
}  # fmt: skip


_TOTAL_LABEL = re.compile(r"^\s*(grand\s+)?(totals?|sum|subtotal|sub-total)\b", re.IGNORECASE)


def _total_candidates(grid: np.ndarray, id_index: int, mapping: dict[int, str]) -> list[int]:
    """Rows that may be a totals row: no id (or an id that is only a label), no date and no customer."""
    # numeric ids (the usual case) cannot be a label: only empty ids, or ids that are only a label
    # ("Total", not "TOTAL-7"), are looked at; a row with a date or a customer is an item, whatever it says
    candidates = [
        i
        for i, v in enumerate(grid[:, id_index].tolist())
        if v is None or (isinstance(v, str) and (v == "" or _TOTAL_ONLY.match(v)))
    ]
    item_columns = [j for j, n in mapping.items() if n in ("item_date", "customer_id", "customer_name")]
    return [i for i in candidates if all(_is_empty_or_total(grid[i, j]) for j in item_columns)]


def _drop_total_rows(
    raw: RawSheet,
    spec: schema.TableSpec,
    source: str,
    mapping: dict[int, str],
    grid: np.ndarray,
    rows_no: np.ndarray,
    issues: list[Issue],
) -> tuple[np.ndarray, np.ndarray]:
    """Leave out the totals rows report exports end with: no id, and a cell reading "Total" or the like.

    They are not items; each is named in a flagged ``summary_row`` issue so the analyst sees it went.
    """
    id_index = next(
        (j for j, n in mapping.items() if spec.column(n).required and spec.column(n).kind == "id"), None
    )
    if id_index is None or not len(rows_no):
        return grid, rows_no
    candidates = _total_candidates(grid, id_index, mapping)
    drop = np.zeros(len(rows_no), dtype=bool)
    for i in candidates:
        label = next(
            (str(cell) for cell in grid[i] if isinstance(cell, str) and _TOTAL_LABEL.match(cell)), ""
        )
        if label:
            drop[i] = True
            place = where(raw.file.name, raw.sheet, int(rows_no[i]))
            issues.append(Issue(source, "", SUMMARY_ROW,
                                "flagged", f"{place}: a totals row ({label.strip()!r}), not an item: left out",
                                raw.file.name, raw.sheet, int(rows_no[i])))  # fmt: skip
    if not drop.any():
        return grid, rows_no
    return grid[~drop], rows_no[~drop]


_TOTAL_ONLY = re.compile(r"^\s*(grand\s+)?(totals?|sum|subtotal|sub-total)\s*:?\s*$", re.IGNORECASE)


def _is_empty_or_total(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, str) and bool(_TOTAL_LABEL.match(value)))


def _grid(rows: list[Any], width: int) -> np.ndarray:
    """The rows as a 2-D object array ``width`` cells wide (short rows padded with empty cells)."""
    if not rows:
        return np.empty((0, width), dtype=object)
    if any(len(r) != width for r in rows):
        rows = [list(r) + [""] * (width - len(r)) for r in rows]
    grid = np.empty((len(rows), width), dtype=object)
    grid[:] = rows  # element by element, whatever the cells hold (lists of cells never nest here)
    return grid


def _body(
    raw: RawSheet, header_index: int, mapping: dict[int, str], repeated: dict[int, str]
) -> tuple[np.ndarray, np.ndarray]:
    """The cells below the heading row as a grid, and each row's number as Excel shows it; empty rows dropped."""
    body = raw.rows[header_index + 1 :]
    width = max(max(map(len, body), default=0), max(mapping) + 1, max(repeated, default=0) + 1)
    grid = _grid(body, width)
    first_row = raw.first_row + header_index + 1
    rows_no = np.arange(first_row, first_row + len(body), dtype=np.int64)
    # drop rows that are entirely empty: only a row with an empty first heading column can be one, so
    # the whole row is looked at for those alone
    first = grid[:, min(mapping)]
    maybe_empty = np.flatnonzero((first == "") | (first == None))  # noqa: E711 - element-wise on objects
    filled = np.ones(len(rows_no), dtype=bool)
    for i in maybe_empty:
        filled[i] = any(cell not in ("", None) for cell in grid[i])
    if not filled.all():
        grid = grid[filled]
        rows_no = rows_no[filled]
    return grid, rows_no


@dataclass
class _SheetIssues:
    """The issues of one typed sheet, and each row's first reason (in SPEC's order of reasons)."""

    raw: RawSheet
    source: str
    rows_no: np.ndarray
    ids: pd.Series | None
    action: Action
    issues: list[Issue]
    why: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.why = np.full(
            len(self.rows_no), "", dtype=object
        )  # the reason of each row's first unreadable cell

    def report(self, i: int, column: str, reason: str, what: str, value: object) -> None:
        ids, raw, why = self.ids, self.raw, self.why
        item_id = "" if ids is None or pd.isna(ids.iloc[i]) else str(ids.iloc[i])
        place = where(raw.file.name, raw.sheet, int(self.rows_no[i]), column)
        text = "" if value is None else str(value)
        if not why[i] or _RANK.get(reason, 99) < _RANK.get(why[i], 99):  # SPEC's order of reasons
            why[i] = reason
        self.issues.append(
            Issue(self.source, item_id, reason, self.action, f"{place}: {what}", raw.file.name, raw.sheet,
                  int(self.rows_no[i]), column, text)
        )  # fmt: skip


def _typed_column(
    col: schema.Column,
    series: pd.Series,
    reads: dict[str, culture.Read],
    comma_file: bool,
) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """A column's typed values, and where its cells are unreadable, ambiguous and out of range."""
    n_rows = len(series)
    ambiguous = np.zeros(n_rows, dtype=bool)
    out_of_range = np.zeros(n_rows, dtype=bool)
    if col.name not in reads:
        typed, bad_series = _CONVERTERS[col.kind](series)
        return typed, bad_series.to_numpy(), ambiguous, out_of_range
    read = reads[col.name]
    typed, bad, ambiguous = read.values, read.bad, read.ambiguous
    if col.kind == "decimal":
        if bad.any():  # placeholders are no value, and a tax rate may be written 21%
            typed, bad = _second_reading(series, typed, bad, col.name, comma_file)
        typed, out_of_range = _out_of_range(typed, col.name)
    return typed, bad, ambiguous, out_of_range


def _repeated_headings(
    raw: RawSheet,
    header_index: int,
    repeated: dict[int, str],
    headings: dict[str, str],
    column_of: dict[str, int],
    grid: np.ndarray,
    found: _SheetIssues,
) -> np.ndarray:
    """A flag per repeated heading, and each row where the repeated column differs from the first held."""
    raw_row = raw.first_row + header_index
    differ_any = np.zeros(len(grid), dtype=bool)
    for j, name in repeated.items():
        heading = str(raw.rows[header_index][j]).strip()
        first_heading = headings[name]
        found.issues.append(
            Issue(found.source, "", DUPLICATE_HEADING, "flagged",
                  f"{where(raw.file.name, raw.sheet, raw_row)}: the headings "
                  f"{first_heading!r} and {heading!r} both stand for {name}: the first is read, and a row "
                  "where the two differ is held", raw.file.name, raw.sheet,
                  raw_row, heading, first_heading)
        )  # fmt: skip
        differ = _cells_differ(grid[:, column_of[name]], grid[:, j])
        for i in np.flatnonzero(differ):
            a, b = grid[i, column_of[name]], grid[i, j]
            found.report(
                int(i), heading, INVALID_ROW, f"{first_heading!r} says {a!r} and {heading!r} says {b!r}", b
            )
        differ_any |= differ
    return differ_any


def type_sheet(
    raw: RawSheet, spec: schema.TableSpec, issues: list[Issue]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The sheet as a typed frame with canonical columns; bad cells become issues and mark ``_bad``."""
    repeated: dict[int, str] = {}
    header_index, mapping = find_header(raw, spec, repeated)
    grid, rows_no = _body(raw, header_index, mapping, repeated)
    headings = {name: str(raw.rows[header_index][j]).strip() for j, name in mapping.items()}
    source = schema.source_table_name(
        raw.sheet if raw.sheet and schema.table_for(raw.sheet) else raw.file.stem, spec
    )
    grid, rows_no = _drop_total_rows(raw, spec, source, mapping, grid, rows_no, issues)
    n_rows = len(rows_no)
    index = pd.RangeIndex(n_rows)
    column_of = {name: j for j, name in mapping.items()}
    frame: dict[str, object] = {}
    bad_any = np.zeros(n_rows, dtype=bool)
    id_col = next((c.name for c in spec.columns if c.required and c.kind == "id"), None)
    ids: pd.Series | None = None
    id_bad = np.zeros(n_rows, dtype=bool)
    if id_col is not None and id_col in column_of:
        ids, id_bad_series = _ids(pd.Series(_cells(grid, column_of[id_col]), index=index, dtype=object))
        id_bad = id_bad_series.to_numpy()
    reads, read_cells = _culture_reads(spec, grid, column_of, index, raw.comma_file)
    action: Action = "held" if spec.name in schema.BILLABLE_TABLES else "flagged"
    found = _SheetIssues(raw, source, rows_no, ids, action, issues)
    for col in spec.columns:
        j = column_of.get(col.name)
        if j is None:
            frame[col.name] = _absent(col.kind, n_rows)
            continue
        series = read_cells.get(col.name)
        if series is None:
            series = pd.Series(_cells(grid, j), index=index, dtype=object)
        if col.name == id_col and ids is not None:
            typed, bad = ids, id_bad
            ambiguous = out_of_range = np.zeros(n_rows, dtype=bool)
        else:
            typed, bad, ambiguous, out_of_range = _typed_column(col, series, reads, raw.comma_file)
        frame[col.name] = typed
        bad_mask = bad | series.isna().to_numpy() if col.required else bad
        bad_mask = bad_mask | ambiguous
        for i in np.flatnonzero(bad_mask):
            value = series.iloc[i]
            reason, what = _unreadable(col.kind, value, bool(ambiguous[i]))
            found.report(int(i), headings[col.name], reason, what, value)
        for i in np.flatnonzero(out_of_range & ~bad_mask):
            value = series.iloc[i]
            reason = INVALID_ROW if col.name == "tax_rate" else AMOUNT_OUT_OF_RANGE
            found.report(int(i), headings[col.name], reason, _range_sentence(col.name, value), value)
        bad_any |= bad_mask | out_of_range
    bad_any |= _repeated_headings(raw, header_index, repeated, headings, column_of, grid, found)
    out = pd.DataFrame(frame)
    out["_file"] = raw.file.name
    out["_sheet"] = raw.sheet
    out["_row"] = rows_no
    out["_source"] = source
    out["_bad"] = bad_any
    out["_why"] = pd.Series(found.why, dtype="str")
    return out, headings


def _culture_reads(
    spec: schema.TableSpec, grid: np.ndarray, column_of: dict[str, int], index: pd.RangeIndex, semicolon: bool
) -> tuple[dict[str, culture.Read], dict[str, pd.Series]]:
    """The sheet's number and date columns, each read one way throughout (``culture``), and their cells."""

    def cells(kind: schema.Kind) -> dict[str, pd.Series]:
        return {
            c.name: pd.Series(_cells(grid, column_of[c.name]), index=index, dtype=object)
            for c in spec.columns
            if c.kind == kind and c.name in column_of
        }

    dates = cells("date")
    cells_of_numbers = cells("decimal")
    numbers = culture.numbers(
        spec.name, cells_of_numbers, semicolon_file=semicolon, file_dates=culture.dates_decimal_comma(dates)
    )
    order = culture.date_order(dates)
    cells_read = {**cells_of_numbers, **dates}
    return numbers | {name: culture.dates(values, order) for name, values in dates.items()}, cells_read


def _unreadable(kind: schema.Kind, value: object, ambiguous: bool) -> tuple[str, str]:
    """The reason and sentence of a cell that cannot be read."""
    if ambiguous and kind == "date":
        return AMBIGUOUS_DATE, (
            f"{value!r} could be day/month or month/day, and nothing in the file says which: not read on a guess"
        )
    if ambiguous:
        return AMBIGUOUS_NUMBER, (
            f"{value!r} could be a decimal comma or a thousands separator, and nothing in the file says "
            "which: not read on a guess"
        )
    return INVALID_ROW, _why(kind, value)


_RANK = {reason: k for k, reason in enumerate(HELD_ORDER)}

# What exports write in an empty number cell: read as no value ("missing"), never as a bad number.
PLACEHOLDERS = frozenset({"-", "--", "—", "–", "n/a", "na", "null", "none", "nil", "(blank)", "(none)"})


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and value.strip().casefold() in PLACEHOLDERS


def _second_reading(
    series: pd.Series, typed: pd.Series, bad: np.ndarray, name: str, comma_file: bool
) -> tuple[pd.Series, np.ndarray]:
    """The cells a number column rejected, read again: a placeholder (``-``, ``N/A``, ``null``, ``none``)
    is no value, and a tax rate may carry a percent sign (``21%``, ``21 %``, ``21,0 %``)."""
    values = typed.to_numpy(object).copy()
    bad = bad.copy()
    at = np.flatnonzero(bad)
    cells = series.to_numpy(object)[at]
    for k, cell in zip(at.tolist(), cells.tolist(), strict=True):
        if is_placeholder(cell):
            values[k], bad[k] = None, False
        elif name == "tax_rate" and isinstance(cell, str) and cell.rstrip().endswith("%"):
            again, rejected = decimals_of(pd.Series([cell.rstrip()[:-1]], dtype=object), comma_file)
            if not rejected.iloc[0]:
                values[k], bad[k] = again.iloc[0], False
    return pd.Series(values, index=typed.index, dtype=object, name=typed.name), bad


def _out_of_range(typed: pd.Series, name: str) -> tuple[pd.Series, np.ndarray]:
    """Values no amount, rate, quantity or tax rate can be (each distinct value once): emptied, and marked."""
    values = typed.to_numpy(object)
    codes, distinct = pd.factorize(values)  # each distinct value checked once; no value: code -1
    bad = np.zeros(len(distinct) + 1, dtype=bool)  # the last stands for no value: never out of range
    for k, value in enumerate(distinct.tolist()):
        if name == "tax_rate":
            bad[k] = not 1 <= value <= 100 and value != 0
        elif name in ("rate", "unit_price"):
            bad[k] = not rate_in_range(value)
        else:
            bad[k] = not amount_in_range(value)
    mask = bad[codes]
    if not mask.any():
        return typed, mask
    emptied = values.copy()
    emptied[mask] = None
    return pd.Series(emptied, index=typed.index, dtype=object, name=typed.name), mask


def _range_sentence(name: str, value: object) -> str:
    if name == "tax_rate":
        return (
            f"tax rate {value!s} is not a percentage from 0 to 100 (write 21 or 21% for 21 %; a rate "
            "between 0 and 1, such as 0.21, could be either and is not guessed)"
        )
    if name in ("rate", "unit_price"):
        return (
            f"{value!s} is not a unit price money can have here (more than {MAX_AMOUNT:,} or more than "
            f"{MAX_RATE_PLACES} decimals): held"
        )
    return f"{value!s} is beyond what an amount can be here (more than {MAX_AMOUNT:,}): held"


def _why(kind: schema.Kind, value: object) -> str:
    """What is wrong with a cell a converter rejected, in a sentence."""
    if value is None:
        return "is empty"
    if isinstance(value, CellProblem):
        return value.sentence
    if is_error_text(value):
        return f"an error value ({str(value).strip()}), not a value"
    if kind == "date":
        year = re.match(r"\s*(\d{4})-\d{2}-\d{2}", value) if isinstance(value, str) else None
        try:
            culture._date_of(value, True)
        except (ValueError, LookupError, ArithmeticError):
            outside = year is not None and not FIRST_YEAR <= int(year.group(1)) <= LAST_YEAR
        else:
            outside = True
        if outside:
            return f"{value!r} is outside the dates handled here (years {FIRST_YEAR} to {LAST_YEAR})"
    return f"{value!r} is not a valid {_KIND_WORDS[kind]}"


def _cells_differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where two columns' cells are not the same value (empty cells equal; ``5`` equals ``5.0``)."""

    def norm(v: object) -> object:
        if v is None or v == "":
            return None
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v.strip() if isinstance(v, str) else v

    return np.array([norm(x) != norm(y) for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool)


def _absent(kind: schema.Kind, n_rows: int) -> pd.Series:
    """The column of a heading the sheet does not have: every cell empty, in the column's type."""
    dtype = column_dtype(kind)
    if dtype == "object":
        return pd.Series(np.full(n_rows, None, dtype=object), dtype=object)
    return pd.Series(
        pd.NaT if dtype.startswith("datetime") else np.nan, index=pd.RangeIndex(n_rows), dtype=dtype
    )


def _cells(grid: np.ndarray, j: int) -> np.ndarray:
    """Column ``j`` of the grid as its own array, with empty text cells as None."""
    cells = grid[:, j].copy()
    cells[cells == ""] = None
    return cells


_KIND_WORDS = {"id": "id", "text": "text", "date": "date", "decimal": "number", "bool": "yes/no value"}
