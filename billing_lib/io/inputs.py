"""Read a month's exports into one typed frame per table, collecting row problems instead of raising.

An input folder holds one file per table (``.xlsx`` or ``.csv``) or one workbook with a sheet per
table. Tables, sheets and headings are matched by ``schema.key``. Title rows above the heading
row are skipped. xlsx is read with python-calamine.

Every frame carries the canonical columns of its ``TableSpec`` (missing optional ones are empty)
plus ``_file``, ``_sheet``, ``_row`` (the row number as Excel shows it) and ``_source``
(``ticket_charges``, ``billing_items``, ...), and ``_bad`` (True where a cell could not be read;
the matching ``Issue`` is in ``Inputs.issues``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import pickle
import re
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.domain.money import MAX_AMOUNT, MAX_RATE_PLACES, amount_in_range, decimals_of, rate_in_range
from billing_lib.domain.period import FIRST_YEAR, LAST_YEAR
from billing_lib.domain.records import (
    AMBIGUOUS_DATE,
    AMBIGUOUS_NUMBER,
    AMOUNT_OUT_OF_RANGE,
    DUPLICATE_HEADING,
    ENCODING,
    HELD_ORDER,
    HIDDEN_SHEET,
    IGNORED_FILE,
    INVALID_ROW,
    SUMMARY_ROW,
    Action,
    Issue,
    where,
)
from billing_lib.io import culture, locations
from billing_lib.io.cells import CellProblem, hidden_sheets, is_error_text, problem_cells
from billing_lib.io.children import die_with_parent

HEADER_SCAN_ROWS = 30
META = ("_file", "_sheet", "_row", "_source", "_bad")


@dataclass(frozen=True)
class InputFile:
    path: Path
    sha256: str
    tables: tuple[str, ...]


@dataclass
class Inputs:
    """What was read: the typed tables, the problems found, and the files with their hashes."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    issues: list[Issue] = field(default_factory=list)
    files: list[InputFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    headings: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> canonical -> heading seen
    # (file, sheet) -> canonical -> heading: what messages about a row of that sheet call the column
    sheet_headings: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def heading(self, table: str, file: str, sheet: str, column: str, default: str = "") -> str:
        """The heading the user wrote for a canonical column in that file and sheet."""
        seen = self.sheet_headings.get((file, sheet)) or self.headings.get(table, {})
        return seen.get(column, default)

    def table(self, name: str) -> pd.DataFrame:
        """The table's frame, or an empty frame with its canonical columns when it was not supplied."""
        if name in self.tables:
            return self.tables[name]
        return empty_table(schema.SPECS[name])

    def has(self, name: str) -> bool:
        return name in self.tables


def empty_table(spec: schema.TableSpec) -> pd.DataFrame:
    cols = {c.name: pd.Series([], dtype=_dtype(c.kind)) for c in spec.columns}
    cols.update({m: pd.Series([], dtype=object) for m in META})
    return pd.DataFrame(cols)


def _dtype(kind: schema.Kind) -> str:
    return {"date": "datetime64[ns]", "bool": "object", "decimal": "object"}.get(kind, "str")


# --- reading raw cells ---------------------------------------------------------------------------


@dataclass
class RawSheet:
    file: Path
    sheet: str  # "" for csv
    rows: list[Any]  # rows of cells as the reader gives them (str, float, int, bool, date, ...)
    first_row: int = 1  # Excel row number of rows[0]
    note: str = ""  # e.g. an encoding fallback
    comma_file: bool = False  # a semicolon-separated CSV: a lone comma in a number is a decimal comma
    hidden: bool = False  # a hidden sheet of a workbook
    problems: dict[tuple[int, int], CellProblem] | None = None  # formula and error cells (xlsx), when known


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_xlsx(path: Path) -> list[RawSheet]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for zip/xml/password problems
        raise InputError(
            f"{path.name}: cannot be read as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from None
    sheets = []
    hidden = hidden_sheets(path)
    names = list(workbook.sheet_names)
    wanted = [n for i, n in enumerate(names) if i == 0 or schema.table_for(n) is not None]
    # the sheet XML is unzipped for formula and error cells beside calamine's parse (zlib runs without the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        scanned = pool.submit(lambda: {n: problem_cells(path, n) for n in wanted})
        for name in names:
            try:
                sheet = workbook.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=False)
            except Exception as exc:
                raise InputError(
                    f"{path.name}, sheet {name}: cannot be read ({type(exc).__name__}: {exc})"
                ) from None
            sheets.append(RawSheet(path, name, list(rows), 1, hidden=name in hidden))
        problems = scanned.result()
    for raw in sheets:
        raw.problems = problems.get(raw.sheet, {})
    return sheets


def mark_problem_cells(raw: RawSheet) -> None:
    """Put a ``CellProblem`` where the sheet has a formula without a saved value or an error value."""
    found = raw.problems if raw.problems is not None else problem_cells(raw.file, raw.sheet)
    for (i, j), problem in found.items():
        i -= raw.first_row - 1
        if 0 <= i < len(raw.rows):
            row = raw.rows[i]
            if j >= len(row):
                row = raw.rows[i] = [*row, *([""] * (j + 1 - len(row)))]
            row[j] = problem


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), ""
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        text = data.decode("cp1252", errors="replace")
        return text, f"{path.name}: not valid UTF-8 (first bad byte on line {line}); read as Windows-1252"


def read_csv(path: Path) -> RawSheet:
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path.name}: is not a text CSV file (it holds binary data)")
    text, note = _decode(path, data)
    # Windows PowerShell 5.1's Export-Csv writes "#TYPE System.Management.Automation.PSCustomObject" first
    powershell_type = re.match(r"#TYPE [^\r\n]*\r?\n", text)
    if powershell_type:
        text = text[powershell_type.end() :]
    first_row = 2 if powershell_type else 1
    hint = re.match(r"sep=(.)[ \t]*\r?\n", text)  # Excel's delimiter line: "sep=;"
    if hint:
        rows_after_hint = csv.reader(io.StringIO(text[hint.end() :]), csv.excel, delimiter=hint.group(1))
        hinted: list[Any] = [list(r) for r in rows_after_hint]
        return RawSheet(path, "", hinted, first_row + 1, note, hint.group(1) == ";")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    # the sniffer sometimes misses that a quote inside a quoted field is doubled ("Smith ""Partners"" Ltd"),
    # the only way spreadsheets and exports write one: read it so whatever the sniffer says
    rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text), dialect, doublequote=True)]
    return RawSheet(path, "", rows, first_row, note, dialect.delimiter == ";")


# --- heading row -------------------------------------------------------------------------------


def find_header(
    raw: RawSheet, spec: schema.TableSpec, repeated: dict[int, str] | None = None
) -> tuple[int, dict[int, str]]:
    """Index of the heading row (title rows above it are skipped) and column index -> canonical name.

    A second column standing for a field already mapped goes into ``repeated`` (column index -> name).
    """
    aliases = spec.alias_map()
    best: tuple[int, int, dict[int, str], dict[int, str]] = (0, -1, {}, {})
    for i, row in enumerate(raw.rows[:HEADER_SCAN_ROWS]):
        mapping: dict[int, str] = {}
        again: dict[int, str] = {}
        for j, cell in enumerate(row):
            if isinstance(cell, str) and cell.strip():
                name = aliases.get(schema.key(cell))
                if name is not None and name not in mapping.values():
                    mapping[j] = name
                elif name is not None:
                    again[j] = name
        if len(mapping) > best[0]:
            best = (len(mapping), i, mapping, again)
    score, index, mapping, again = best
    if repeated is not None:
        repeated.update(again)
    label = where(raw.file.name, raw.sheet, None)
    if score == 0:
        raise InputError(
            f"{label}: no heading row found in the first {HEADER_SCAN_ROWS} rows for table {spec.name} "
            f"(expected headings such as {', '.join(c.name for c in spec.columns[:4])})"
        )
    present = set(mapping.values())
    missing = [
        f"{c.name} (e.g. {' or '.join(c.aliases[:2])})" if c.aliases else c.name
        for c in spec.columns
        if c.required and c.name not in present
    ]
    missing += [" or ".join(group) for group in spec.one_of if not present.intersection(group)]
    if missing:
        seen = [str(c) for c in raw.rows[index] if str(c).strip()]
        raise InputError(
            f"{label}: table {spec.name} is missing the required column(s) {', '.join(missing)} "
            f"(heading row {raw.first_row + index} has: {', '.join(seen)})"
        )
    return index, mapping


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
    ids = grid[:, id_index]
    # numeric ids (the usual case) cannot be a label: only empty ids, or ids that are only a label
    # ("Total", not "TOTAL-7"), are looked at; a row with a date or a customer is an item, whatever it says
    candidates = [
        i
        for i, v in enumerate(ids.tolist())
        if v is None or (isinstance(v, str) and (v == "" or _TOTAL_ONLY.match(v)))
    ]
    item_columns = [j for j, n in mapping.items() if n in ("item_date", "customer_id", "customer_name")]
    candidates = [i for i in candidates if all(_is_empty_or_total(grid[i, j]) for j in item_columns)]
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


def type_sheet(
    raw: RawSheet, spec: schema.TableSpec, issues: list[Issue]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The sheet as a typed frame with canonical columns; bad cells become issues and mark ``_bad``."""
    repeated: dict[int, str] = {}
    header_index, mapping = find_header(raw, spec, repeated)
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
    why = np.full(n_rows, "", dtype=object)  # the reason of each row's first unreadable cell
    reads, read_cells = _culture_reads(spec, grid, column_of, index, raw.comma_file)
    action: Action = "held" if spec.name in schema.BILLABLE_TABLES else "flagged"

    def report(i: int, column: str, reason: str, what: str, value: object) -> None:
        item_id = "" if ids is None or pd.isna(ids.iloc[i]) else str(ids.iloc[i])
        place = where(raw.file.name, raw.sheet, int(rows_no[i]), column)
        text = "" if value is None else str(value)
        if not why[i] or _RANK.get(reason, 99) < _RANK.get(why[i], 99):  # SPEC's order of reasons
            why[i] = reason
        issues.append(
            Issue(source, item_id, reason, action, f"{place}: {what}", raw.file.name, raw.sheet,
                  int(rows_no[i]), column, text)
        )  # fmt: skip

    for col in spec.columns:
        j = column_of.get(col.name)
        if j is None:
            frame[col.name] = _absent(col.kind, n_rows)
            continue
        series = read_cells.get(col.name)
        if series is None:
            series = pd.Series(_cells(grid, j), index=index, dtype=object)
        ambiguous = np.zeros(n_rows, dtype=bool)
        out_of_range = np.zeros(n_rows, dtype=bool)
        if col.name == id_col and ids is not None:
            typed, bad = ids, id_bad
        elif col.name in reads:
            read = reads[col.name]
            typed, bad, ambiguous = read.values, read.bad, read.ambiguous
            if col.kind == "decimal":
                if bad.any():  # placeholders are no value, and a tax rate may be written 21%
                    typed, bad = _second_reading(series, typed, bad, col.name, raw.comma_file)
                typed, out_of_range = _out_of_range(typed, col.name)
        else:
            typed, bad_series = _CONVERTERS[col.kind](series)
            bad = bad_series.to_numpy()
        frame[col.name] = typed
        bad_mask = bad | series.isna().to_numpy() if col.required else bad
        bad_mask = bad_mask | ambiguous
        for i in np.flatnonzero(bad_mask):
            value = series.iloc[i]
            reason, what = _unreadable(col.kind, value, bool(ambiguous[i]))
            report(int(i), headings[col.name], reason, what, value)
        for i in np.flatnonzero(out_of_range & ~bad_mask):
            value = series.iloc[i]
            reason = INVALID_ROW if col.name == "tax_rate" else AMOUNT_OUT_OF_RANGE
            report(int(i), headings[col.name], reason, _range_sentence(col.name, value), value)
        bad_any |= bad_mask | out_of_range
    for j, name in repeated.items():
        heading = str(raw.rows[header_index][j]).strip()
        first_heading = headings[name]
        issues.append(
            Issue(source, "", DUPLICATE_HEADING, "flagged",
                  f"{where(raw.file.name, raw.sheet, raw.first_row + header_index)}: the headings "
                  f"{first_heading!r} and {heading!r} both stand for {name}: the first is read, and a row "
                  "where the two differ is held", raw.file.name, raw.sheet,
                  raw.first_row + header_index, heading, first_heading)
        )  # fmt: skip
        differ = _cells_differ(grid[:, column_of[name]], grid[:, j])
        for i in np.flatnonzero(differ):
            a, b = grid[i, column_of[name]], grid[i, j]
            report(
                int(i), heading, INVALID_ROW, f"{first_heading!r} says {a!r} and {heading!r} says {b!r}", b
            )
        bad_any |= differ
    out = pd.DataFrame(frame)
    out["_file"] = raw.file.name
    out["_sheet"] = raw.sheet
    out["_row"] = rows_no
    out["_source"] = source
    out["_bad"] = bad_any
    out["_why"] = pd.Series(why, dtype="str")
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
    dtype = _dtype(kind)
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


# --- loading a folder ----------------------------------------------------------------------------

# A month this large (xlsx and csv bytes) reads its files in two processes: the largest file here,
# the others in a worker. python-calamine holds the GIL while it parses, so threads would not help.
PARALLEL_MIN_BYTES = 4_000_000


@dataclass
class _SheetTable:
    """One sheet read as one table."""

    table: str
    file: str
    sheet: str
    frame: pd.DataFrame
    headings: dict[str, str]
    issues: list[Issue]


@dataclass
class _Loaded:
    """One input file read and typed, or the error that stopped it (raised later, in folder order)."""

    ignored: list[str] = field(default_factory=list)
    file: InputFile | None = None
    note: str = ""  # e.g. an encoding fallback
    sheets: list[_SheetTable] = field(default_factory=list)
    read_error: InputError | None = None  # the file cannot be read at all
    issues: list[Issue] = field(default_factory=list)  # sheets and files not read, and why
    type_error: InputError | None = None  # a sheet has no heading row or lacks a required column


# Spreadsheet files this reader cannot open: one named for a table is reported, never skipped silently.
_OTHER_SPREADSHEETS = (".xls", ".xlsb", ".ods", ".numbers", ".tsv", ".txt")


def _ignore(loaded: _Loaded, path: Path, sheet: str = "", why: str = "") -> None:
    """Record a file or sheet that is not read, with an ``ignored_file`` issue when it looks like data."""
    loaded.ignored.append(f"{path.name} [{sheet}]" if sheet else path.name)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".csv") or (
        suffix in _OTHER_SPREADSHEETS and schema.table_for(path.stem) is not None
    ):
        what = why or "its name is not one of the tables (see schema.py): not read"
        loaded.issues.append(
            Issue(
                "", "", IGNORED_FILE, "flagged", f"{where(path.name, sheet, None)}: {what}", path.name, sheet
            )
        )


def _read_file(path: Path, loaded: _Loaded) -> list[tuple[RawSheet, schema.TableSpec]]:
    """The sheets of one file that stand for a known table (recording the file, or why it was ignored)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv"):
        _ignore(loaded, path, why=f"{suffix} files cannot be read here: save it as .xlsx or .csv")
        return []
    file_spec = schema.table_for(path.stem)
    if path.stat().st_size == 0:
        if file_spec is None and suffix == ".csv":
            _ignore(loaded, path)
            return []
        raise InputError(f"{path.name}: the file is empty")
    if suffix == ".csv":
        if file_spec is None:
            _ignore(loaded, path)
            return []
        sheet = read_csv(path)
        loaded.note = sheet.note
        loaded.file = InputFile(path, _sha256(path), (file_spec.name,))
        return [(sheet, file_spec)]
    sheets = read_xlsx(path)
    found: list[tuple[RawSheet, schema.TableSpec]] = []
    for raw in sheets:
        spec = schema.table_for(raw.sheet) or (file_spec if raw is sheets[0] else None)
        if spec is None:
            if any(any(c not in (None, "") for c in r) for r in raw.rows):  # an empty extra sheet is nothing
                _ignore(loaded, path, raw.sheet)
            else:
                loaded.ignored.append(f"{path.name} [{raw.sheet}]")
            continue
        if raw.hidden:
            loaded.ignored.append(f"{path.name} [{raw.sheet}]")
            loaded.issues.append(
                Issue("", "", HIDDEN_SHEET, "flagged",
                      f"{where(path.name, raw.sheet, None)}: a hidden sheet of table {spec.name}: not read "
                      "(unhide it to bill it, or delete it)", path.name, raw.sheet)
            )  # fmt: skip
            continue
        mark_problem_cells(raw)
        found.append((raw, spec))
    if found:
        loaded.file = InputFile(path, _sha256(path), tuple(spec.name for _, spec in found))
    elif not any(i.file == path.name for i in loaded.issues):
        _ignore(loaded, path)
    return found


def _load_file(path: Path) -> _Loaded:
    """Read and type one file; whole-file problems are kept on the result, not raised."""
    loaded = _Loaded()
    try:
        found = _read_file(path, loaded)
    except InputError as exc:
        loaded.read_error = exc
        return loaded
    try:
        for raw, spec in found:
            if not any(any(c not in (None, "") for c in r) for r in raw.rows):
                raise InputError(
                    f"{where(raw.file.name, raw.sheet, None)}: the sheet is empty (table {spec.name})"
                )
            issues: list[Issue] = []
            frame, seen = type_sheet(raw, spec, issues)
            loaded.sheets.append(_SheetTable(spec.name, raw.file.name, raw.sheet, frame, seen, issues))
            raw.rows = []  # the typed frame replaces the cells: free them before the next sheet
    except InputError as exc:
        loaded.type_error = exc
    return loaded


def _load_files(paths: list[Path]) -> list[_Loaded]:
    return [_load_file(p) for p in paths]


def _worker_load(paths: list[Path]) -> list[_Loaded]:
    """What the second process runs (its own name, so a test can stand in for a worker that dies)."""
    return _load_files(paths)


def _split_for_two(paths: list[Path], sizes: dict[Path, int]) -> tuple[list[Path], list[Path]]:
    """The files this process reads (the largest first) and those a worker reads, about evenly by size."""
    mine: list[Path] = []
    theirs: list[Path] = []
    load = [0, 0]
    for path in sorted(paths, key=lambda p: -sizes[p]):
        side = 0 if load[0] <= load[1] else 1
        (mine if side == 0 else theirs).append(path)
        load[side] += sizes[path]
    return mine, theirs


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _load_all(paths: list[Path], parallel: bool | None) -> list[_Loaded]:
    """``_load_file`` of every path, in order; large months in two processes."""
    sizes = {p: p.stat().st_size for p in paths if p.suffix.lower() in (".xlsx", ".xlsm", ".csv")}
    if parallel is None:
        parallel = locations.read_in_two_processes()
    if parallel is None:
        parallel = sum(sizes.values()) >= PARALLEL_MIN_BYTES and _cores() > 1
    if not parallel or len(sizes) < 2:
        return _load_files(paths)
    mine, theirs = _split_for_two(list(sizes), sizes)
    results: dict[Path, _Loaded] = {}
    worker = _Worker(theirs)
    try:
        results.update(zip(mine, _load_files(mine), strict=True))
        results.update(zip(theirs, worker.results(), strict=True))
    finally:
        worker.stop()  # at once, also when this process is interrupted (Ctrl-C) or fails
    return [results[p] if p in results else _load_file(p) for p in paths]


class _Worker:
    """A second process that reads and types ``paths`` while this one reads the others."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        context = _worker_context()
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(paths, send), daemon=True, name="billing-reader"
        )
        # Ctrl-C is for this process: the worker starts with SIGINT blocked (it ignores it before
        # unblocking), so a Ctrl-C while it starts up is this process's, delivered when unblocked here
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._process.start()
        finally:
            send.close()  # this process only receives: the pipe ends when the worker's end closes
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            except KeyboardInterrupt:
                self.stop()
                raise

    def results(self) -> list[_Loaded]:
        """What the worker read; its files are read here instead if it died (killed, out of memory)."""
        try:
            loaded: list[_Loaded] = self._receive.recv()
        except (EOFError, OSError, pickle.PickleError):
            return _load_files(self.paths)
        return loaded

    def stop(self) -> None:
        self._receive.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _worker_main(paths: list[Path], send: multiprocessing.connection.Connection) -> None:
    """The worker: read, send, end. Ctrl-C is for the main process, which stops this one; any failure
    closes the pipe without a word (the main process reads the files itself and meets it there)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent while starting it
    die_with_parent()
    try:
        send.send(_worker_load(paths))
    except BaseException:  # reported by the main process, which reads the files again
        pass
    finally:
        send.close()


def _worker_context() -> multiprocessing.context.BaseContext:
    """fork (no second start-up) from a single-threaded process like the CLI; spawn from any other
    (a Jupyter kernel has threads, and forking a threaded process can deadlock the child)."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


ADJUSTMENTS_FILE = (
    "adjustments.csv"  # the analyst's decisions beside the exports (``adjustments``), not a table
)


def load_inputs(folder: str | Path, *, parallel: bool | None = None) -> Inputs:
    """Read and type every table in the folder. Raises ``InputError`` for whole-file problems.

    ``parallel``: read in two processes (None: when the month is large and there is a second core).
    The result is the same either way.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: the inputs folder does not exist")
    paths = [
        p
        for p in sorted(folder.iterdir())
        if not p.name.startswith((".", "~$")) and p.is_file() and p.name != ADJUSTMENTS_FILE
    ]
    loaded = _load_all(paths, parallel)
    # the errors in the order a file-by-file read meets them: every file is read before any is typed
    for result in loaded:
        if result.read_error is not None:
            raise result.read_error
    for result in loaded:
        if result.type_error is not None:
            raise result.type_error
    files = [r.file for r in loaded if r.file is not None]
    ignored = [name for r in loaded for name in r.ignored]
    issues: list[Issue] = [
        Issue("", "", ENCODING, "flagged", r.note, r.file.path.name, "")
        for r in loaded
        if r.note and r.file is not None
    ]
    issues += [issue for r in loaded for issue in r.issues]
    parts: dict[str, list[pd.DataFrame]] = {}
    headings: dict[str, dict[str, str]] = {}
    sheet_headings: dict[tuple[str, str], dict[str, str]] = {}
    for sheet in (s for r in loaded for s in r.sheets):
        issues += sheet.issues
        parts.setdefault(sheet.table, []).append(sheet.frame)
        headings.setdefault(sheet.table, {}).update(sheet.headings)
        sheet_headings[(sheet.file, sheet.sheet)] = sheet.headings
    if not any(t in parts for t in schema.BILLABLE_TABLES):
        names = ", ".join(f.path.name for f in files) or "none"
        raise InputError(
            f"{folder}: no billable table found: expected billing items, or time entries and/or charges "
            f"(files or sheets named e.g. BillingItems, TimeEntries, ContractCharges). Tables read: {names}; "
            f"ignored: {', '.join(ignored) or 'none'}"
        )
    tables = {
        name: pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for name, frames in parts.items()
    }
    return Inputs(folder, tables, issues, files, ignored, headings, sheet_headings)
