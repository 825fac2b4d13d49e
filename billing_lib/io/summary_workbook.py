"""SPEC section 5: ``summary.xlsx``, one sheet per table (and the charts as pictures)."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.domain.errors import OutputError
from billing_lib.domain.text import FORMULA_START, is_missing
from billing_lib.io.excel_cells import (
    MAX_ROWS,
    excel_serial,
    text_safe_workbook,
    write_atomically,
)
from billing_lib.io.filenames import check_contained

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Valid, distinct Excel sheet names (31 characters, none of ``[]:*?/\\``, not ``History``)."""
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        base = _SHEET_NAME_BAD.sub("_", str(name)).strip("' ") or "Sheet"
        if base.casefold() == "history":
            base = "History_"
        candidate = base[:31]
        i = 2
        while candidate.casefold() in taken:
            suffix = f" ({i})"
            candidate = base[: 31 - len(suffix)] + suffix
            i += 1
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def _is_missing(value: Any) -> bool:
    """A missing cell, or an infinite number (which no cell can hold)."""
    return is_missing(value) or (isinstance(value, float | np.floating) and math.isinf(value))


def _write_value(ws: Any, row: int, col: int, value: Any, formats: Mapping[str, Any]) -> int:
    """Write one frame value as its type (text always as text); returns its width in characters."""
    if _is_missing(value):
        return 0
    if isinstance(value, bool | np.bool_):
        ws.write_boolean(row, col, bool(value))
        return 5
    if isinstance(value, Decimal):
        ws.write_number(row, col, float(value), formats["money"])
        return len(f"{value:,.2f}")
    if isinstance(value, int | np.integer):
        ws.write_number(row, col, int(value), formats["integer"])
        return len(f"{int(value):,}")
    if isinstance(value, float | np.floating):
        ws.write_number(row, col, float(value), formats["number"])
        return len(f"{float(value):,.2f}")
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):  # pandas Timestamps too
        naive = value.replace(tzinfo=None)
        if naive.time() == dt.time():
            ws.write_number(row, col, excel_serial(naive.date()), formats["date"])
            return 10
        ws.write_datetime(row, col, naive, formats["datetime"])
        return 16
    if isinstance(value, dt.date):
        ws.write_number(row, col, excel_serial(value), formats["date"])
        return 10
    text = str(value)
    if text:
        ws.write_string(row, col, text, formats["quoted"] if text.startswith(FORMULA_START) else None)
    return len(text)


def _table_headers(columns: Iterable[Any]) -> list[str]:
    """Distinct, non-empty header texts (an Excel table needs them)."""
    seen: dict[str, int] = {}
    out = []
    for column in columns:
        header = str(column) or "column"
        seen[header.casefold()] = seen.get(header.casefold(), 0) + 1
        count = seen[header.casefold()]
        out.append(header if count == 1 else f"{header} ({count})")
    return out


def _write_frame(ws: Any, frame: pd.DataFrame, formats: Mapping[str, Any]) -> None:
    """The frame as an Excel table: header row with filter buttons, frozen, columns as wide as their text."""
    headers = _table_headers(frame.columns)
    if not headers:
        ws.write_string(0, 0, "(no columns)")
        return
    if len(frame) + 1 > MAX_ROWS:
        raise OutputError(f"sheet {ws.get_name()}: {len(frame)} rows do not fit on one Excel sheet")
    for col in range(len(headers)):
        width = len(headers[col]) + 4  # room for the filter button
        for row, value in enumerate(frame.iloc[:, col].to_numpy(dtype=object), start=1):
            shown = _write_value(ws, row, col, value, formats)
            if row <= 2000:
                width = max(width, shown + 2)
        ws.set_column(col, col, min(max(width, 8), 60))
    ws.add_table(0, 0, max(len(frame), 1), len(headers) - 1,
                 {"columns": [{"header": h} for h in headers], "style": "Table Style Medium 2"})  # fmt: skip
    ws.freeze_panes(1, 0)


def _png_height(path: Path) -> int | None:
    with open(path, "rb") as handle:
        head = handle.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return int.from_bytes(head[20:24], "big")
    return None


def write_summary(path: Path, sheets: Mapping[str, pd.DataFrame], images: Sequence[Path] = ()) -> None:
    """``summary.xlsx``: each frame a sheet formatted as an Excel table (filter buttons, frozen header,
    column widths; text as text), and the images (PNG charts) one below the other on a sheet ``Charts``."""
    path = Path(path)
    check_contained(path, path.parent)
    for image in images:
        if not Path(image).is_file():
            raise OutputError(f"chart image {image} does not exist")
    buffer = io.BytesIO()
    wb = text_safe_workbook(buffer)
    formats = {
        "integer": wb.add_format({"num_format": "#,##0"}),
        "number": wb.add_format({"num_format": "#,##0.00##"}),
        "money": wb.add_format({"num_format": "#,##0.00"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "quoted": wb.add_format({"quote_prefix": True}),
    }
    names = _sheet_names(list(sheets) + (["Charts"] if images else []))
    for name, frame in zip(names, sheets.values(), strict=False):
        ws = wb.add_worksheet(name)
        _write_frame(ws, frame, formats)
    if images:
        ws = wb.add_worksheet(names[-1])
        row = 1
        for image in images:
            ws.insert_image(row, 1, str(image), {"object_position": 3})
            height = _png_height(Path(image))
            row += (math.ceil(height / 20) if height else 30) + 2
    wb.close()
    write_atomically(path, buffer.getvalue())
