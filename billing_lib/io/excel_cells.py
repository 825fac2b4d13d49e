"""What every workbook this package writes shares: Excel's date serials, the formula guard, the
row limit, and writing a file atomically.

Text from the inputs is always written as a text cell, never a formula; cells whose text starts with
``= + - @`` (or a tab or carriage return) also get Excel's quote prefix (``domain.text.FORMULA_START``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from pathlib import Path

import xlsxwriter

from billing_lib.domain.errors import OutputError
from billing_lib.domain.period import EXCEL_EPOCH
from billing_lib.io.outfolder import make_readable

EXCEL_EPOCH_ORDINAL = EXCEL_EPOCH.toordinal()
MAX_ROWS = 1_048_576


def excel_serial(day: dt.date) -> int:
    """The Excel serial number of a date (what a date cell stores)."""
    return day.toordinal() - EXCEL_EPOCH_ORDINAL


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fresh temporary file in the same folder and a rename."""
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=".xlsx", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in {folder}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        make_readable(Path(tmp))  # mkstemp makes 0600; the shared billing folder needs the user's umask
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def text_safe_workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    """An in-memory xlsxwriter workbook that never turns a string into a formula, number or link."""
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
    }
    return xlsxwriter.Workbook(buffer, options)
