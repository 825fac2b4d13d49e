"""Read a month's exports into one typed frame per table, collecting row problems instead of raising.

An input folder holds one file per table (``.xlsx`` or ``.csv``) or one workbook with a sheet per
table. Tables, sheets and headings are matched by ``schema.key``. Title rows above the heading
row are skipped. xlsx is read with python-calamine.

Every frame carries the canonical columns of its ``TableSpec`` (missing optional ones are empty)
plus ``_file``, ``_sheet``, ``_row`` (the row number as Excel shows it) and ``_source``
(``ticket_charges``, ``billing_items``, ...), and ``_bad`` (True where a cell could not be read;
the matching ``Issue`` is in ``Inputs.issues``).

The steps, one module each: ``raw_sheets`` (cells of a file), ``headings`` (the heading row),
``cell_types`` (typed cells, held cells), ``file_tables`` (one file's tables), ``read_worker``
(two processes for a large month).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.domain.records import (
    ENCODING,
    Issue,
)
from billing_lib.io.cell_types import META, column_dtype
from billing_lib.io.file_tables import InputFile, LoadedFile
from billing_lib.io.read_worker import load_all


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
    cols = {c.name: pd.Series([], dtype=column_dtype(c.kind)) for c in spec.columns}
    cols.update({m: pd.Series([], dtype=object) for m in META})
    return pd.DataFrame(cols)


ADJUSTMENTS_FILE = (
    "adjustments.csv"  # the analyst's decisions beside the exports (``adjustments``), not a table
)


def _month_files(folder: Path) -> list[Path]:
    """The files of the inputs folder that may hold tables, in name order."""
    if not folder.is_dir():
        raise InputError(f"{folder}: the inputs folder does not exist")
    return [
        p
        for p in sorted(folder.iterdir())
        if not p.name.startswith((".", "~$")) and p.is_file() and p.name != ADJUSTMENTS_FILE
    ]


def _raise_whole_file_errors(loaded: list[LoadedFile]) -> None:
    """The errors in the order a file-by-file read meets them: every file is read before any is typed."""
    for result in loaded:
        if result.read_error is not None:
            raise result.read_error
    for result in loaded:
        if result.type_error is not None:
            raise result.type_error


def load_inputs(folder: str | Path, *, parallel: bool | None = None) -> Inputs:
    """Read and type every table in the folder. Raises ``InputError`` for whole-file problems.

    ``parallel``: read in two processes (None: when the month is large and there is a second core).
    The result is the same either way.
    """
    folder = Path(folder)
    loaded = load_all(_month_files(folder), parallel)
    _raise_whole_file_errors(loaded)
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
