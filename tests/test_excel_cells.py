"""What every workbook shares: Excel's date serials, formula-proof text cells and the atomic write."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from billing_lib.domain.errors import OutputError
from billing_lib.io.excel_cells import (
    EXCEL_EPOCH,
    excel_serial,
    text_safe_workbook,
    write_atomically,
)


def test_serials_are_excel_1900_system_days() -> None:
    # Excel shows serial 1 as 1900-01-01 and 45658 as 2025-01-01 (the 1900 leap-year bug sits between)
    assert excel_serial(dt.date(2025, 1, 1)) == 45658
    assert excel_serial(dt.date(1900, 3, 1)) == 61
    assert EXCEL_EPOCH + dt.timedelta(days=45658) == dt.date(2025, 1, 1)


def test_text_safe_workbook_keeps_formula_text_as_text() -> None:
    buffer = io.BytesIO()
    wb = text_safe_workbook(buffer)
    ws = wb.add_worksheet("S")
    for row, text in enumerate(["=1+1", "+31", "0042", "http://example.org"]):
        ws.write(row, 0, text)
    wb.close()
    buffer.seek(0)
    sheet = openpyxl.load_workbook(buffer)["S"]
    assert [sheet.cell(r + 1, 1).value for r in range(4)] == ["=1+1", "+31", "0042", "http://example.org"]
    assert all(sheet.cell(r + 1, 1).data_type == "s" for r in range(4))


def test_write_atomically_leaves_the_file_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a.xlsx"
    write_atomically(target, b"data")
    assert target.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]
    with pytest.raises(OutputError, match="cannot write in"):
        write_atomically(tmp_path / "missing" / "b.xlsx", b"x")
