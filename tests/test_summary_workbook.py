"""SPEC section 5: ``summary.xlsx``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from invoice_month import png
from python_calamine import CalamineWorkbook

from billing_lib.domain.errors import OutputError
from billing_lib.io import (
    summary_workbook,
)


def test_summary_sheets_are_tables_with_typed_cells(tmp_path: Path) -> None:
    chart = tmp_path / "burn.png"
    chart.write_bytes(png(300, 200))
    invoices = pd.DataFrame({
        "invoice_number": ["INV-1", "INV-2"], "customer_name": ["=cmd|' /C calc'!A0", "Acme"],
        "net_amount": [Decimal("1234.50"), Decimal("-5.00")], "item_count": [3, 1],
        "invoice_date": pd.to_datetime(["2026-11-03", "2026-11-03"]), "customer_id": ["101", "102"],
    })  # fmt: skip
    burn = pd.DataFrame({"po_number": ["PO-1", None], "percent_used": [12.5, float("nan")],
                         "date": [dt.date(2026, 10, 1), None]})  # fmt: skip
    path = tmp_path / "summary.xlsx"
    summary_workbook.write_summary(
        path,
        {
            "Invoices": invoices,
            "PO burn-down": burn,
            "Empty": pd.DataFrame(columns=["a", "b"]),
            "A name that is far too long for Excel": invoices,
        },
        [chart],
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Invoices", "PO burn-down", "Empty", "A name that is far too long for", "Charts"]
    ws = wb["Invoices"]
    assert ws.freeze_panes == "A2" and list(ws.tables) and ws.tables[next(iter(ws.tables))].ref == "A1:F3"
    assert [c.value for c in ws[1]] == list(invoices.columns)
    assert ws["B2"].data_type == "s" and ws["B2"].value == "=cmd|' /C calc'!A0" and ws["B2"].quotePrefix
    assert ws["C2"].value == 1234.5 and ws["C3"].value == -5 and ws["D2"].value == 3
    assert ws["E2"].value == dt.datetime(2026, 11, 3) and ws["F2"].value == "101"
    assert ws.column_dimensions["B"].width >= len("=cmd|' /C calc'!A0")
    burn_ws = wb["PO burn-down"]
    assert (
        burn_ws["A3"].value is None
        and burn_ws["B3"].value is None
        and burn_ws["C2"].value == dt.datetime(2026, 10, 1)
    )
    assert len(wb["Charts"]._images) == 1
    book = CalamineWorkbook.from_path(str(path))
    assert book.get_sheet_by_name("Invoices").to_python()[1][2] == 1234.5


def test_summary_refuses_a_missing_chart(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        summary_workbook.write_summary(
            tmp_path / "summary.xlsx", {"A": pd.DataFrame({"x": [1]})}, [tmp_path / "nope.png"]
        )
