"""One input file read into typed tables: its sheets matched to tables, headings found, cells typed;
files and sheets that are not read are recorded with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.domain.records import (
    HIDDEN_SHEET,
    IGNORED_FILE,
    Issue,
    where,
)
from billing_lib.io.cell_types import type_sheet
from billing_lib.io.raw_sheets import RawSheet, file_sha256, mark_problem_cells, read_csv, read_xlsx


@dataclass(frozen=True)
class InputFile:
    path: Path
    sha256: str
    tables: tuple[str, ...]


@dataclass
class SheetTable:
    """One sheet read as one table."""

    table: str
    file: str
    sheet: str
    frame: pd.DataFrame
    headings: dict[str, str]
    issues: list[Issue]


@dataclass
class LoadedFile:
    """One input file read and typed, or the error that stopped it (raised later, in folder order)."""

    ignored: list[str] = field(default_factory=list)
    file: InputFile | None = None
    note: str = ""  # e.g. an encoding fallback
    sheets: list[SheetTable] = field(default_factory=list)
    read_error: InputError | None = None  # the file cannot be read at all
    issues: list[Issue] = field(default_factory=list)  # sheets and files not read, and why
    type_error: InputError | None = None  # a sheet has no heading row or lacks a required column


# Spreadsheet files this reader cannot open: one named for a table is reported, never skipped silently.
_OTHER_SPREADSHEETS = (".xls", ".xlsb", ".ods", ".numbers", ".tsv", ".txt")


def _ignore(loaded: LoadedFile, path: Path, sheet: str = "", why: str = "") -> None:
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


def _read_file(path: Path, loaded: LoadedFile) -> list[tuple[RawSheet, schema.TableSpec]]:
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
        loaded.file = InputFile(path, file_sha256(path), (file_spec.name,))
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
        loaded.file = InputFile(path, file_sha256(path), tuple(spec.name for _, spec in found))
    elif not any(i.file == path.name for i in loaded.issues):
        _ignore(loaded, path)
    return found


def load_file(path: Path) -> LoadedFile:
    """Read and type one file; whole-file problems are kept on the result, not raised."""
    loaded = LoadedFile()
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
            loaded.sheets.append(SheetTable(spec.name, raw.file.name, raw.sheet, frame, seen, issues))
            raw.rows = []  # the typed frame replaces the cells: free them before the next sheet
    except InputError as exc:
        loaded.type_error = exc
    return loaded
