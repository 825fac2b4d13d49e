"""Writing small exports for tests: CSV text blocks turned into the xlsx files a PSA report gives.

Shared by the importer and rule tests so both write files the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import textwrap
from pathlib import Path

import openpyxl

TITLES = (["Autotask report: billing"], ["Exported 2026-11-01 08:00 by finance"])


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(textwrap.dedent(text).strip("\n"))))


def cell(text: str) -> object:
    """A CSV field as a spreadsheet export holds it: numbers as numbers, ISO dates as date cells."""
    if text == "":
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T00:00:00Z)?", text):
        try:
            return dt.datetime.fromisoformat(text[:10])
        except ValueError:
            return text  # "2026-02-30" stays the text the user typed
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def write_xlsx(path: Path, sheets: dict[str, str], titles: tuple[list[str], ...] = TITLES) -> Path:
    """A workbook with one sheet per CSV block; title rows above each heading row, typed cells below."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, text in sheets.items():
        ws = wb.create_sheet(name)
        for title in titles:
            ws.append(title)
        for i, row in enumerate(rows_of(text)):
            ws.append(row if i == 0 else [cell(c) for c in row])
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, dt.datetime):
                    c.number_format = "dd/mm/yyyy"
    wb.save(path)
    return path
