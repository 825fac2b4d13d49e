"""A file's cells as text and numbers before any typing: xlsx through python-calamine (formula and
error cells marked from the sheet XML), CSV decoded (UTF-8, else the fallback encodings, said in a note).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.io.cells import CellProblem, hidden_sheets, problem_cells

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


def file_sha256(path: Path) -> str:
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
