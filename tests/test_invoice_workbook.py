"""SPEC section 5: one invoice's workbook, read back with openpyxl and python-calamine.

The month below is small and awkward on purpose: a customer whose name is a formula, descriptions
starting with ``= + - @``, a customer called ``CON``, two POs on one customer, a credit note, a
yen customer. Golden snapshots (``tests/golden/*.json``) hold every cell value per sheet with the
invoice date blanked; ``UPDATE_GOLDEN=1 pytest tests/test_invoice_workbook.py`` rewrites them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from invoice_month import (
    GOLDEN,
    INVOICE_DATE,
    ITEMS,
    as_decimal,
    invoice_set,
    row_of,
    snapshot,
)
from python_calamine import CalamineWorkbook

from billing_lib.core.consolidate import InvoiceSet
from billing_lib.core.documents import date_text, line_order
from billing_lib.domain.records import Invoice
from billing_lib.io import (
    invoice_files,
    invoice_workbook,
)


@pytest.fixture()
def month(tmp_path: Path) -> InvoiceSet:
    return invoice_set(tmp_path / "inputs")


@pytest.fixture()
def written(month: InvoiceSet, tmp_path: Path) -> dict[str, tuple[Invoice, Path]]:
    """Every invoice of the month written with the default template, by customer id."""
    paths = invoice_files.write_invoices(month, tmp_path / "invoices")
    records = month.records()
    assert [p.name for p in paths] == [f"{r.invoice_number}.xlsx" for r in records]
    return {r.customer_id: (r, p) for r, p in zip(records, paths, strict=True)}


# --- values and types ---------------------------------------------------------------------------


def test_header_lines_and_totals_are_typed_and_equal_the_invoice(
    written: dict[str, tuple[Invoice, Path]],
) -> None:
    invoice, path = written["101"]
    ws = openpyxl.load_workbook(path)["Invoice"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert invoice.invoice_number in texts
    assert "Contoso Logistics GmbH" in texts and "Northwind IT Services B.V." in texts
    assert "Hafenstraße 12" in texts and "Accounts Payable" in " ".join(texts)
    dates = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, dt.datetime)]
    assert dt.datetime.combine(INVOICE_DATE, dt.time()) in dates
    net, tax, total = (ws.cell(row_of(ws, label), 6).value for label in ("Net amount", "VAT S 19 %", "Total"))
    assert (as_decimal(net), as_decimal(tax), as_decimal(total)) == (invoice.net, invoice.tax, invoice.total)
    assert ws.cell(row_of(ws, "Total"), 6).number_format.startswith('#,##0.00 "EUR"')
    head = row_of(ws, "Date")
    rows = invoice_workbook.sheet_lines(invoice)  # two POs: each PO's lines in date order, then its subtotal
    assert len(rows) == len(invoice.lines) + 2
    lines = list(ws.iter_rows(min_row=head + 1, max_row=head + len(rows), values_only=True))
    by_po = {
        po: sorted((x for x in invoice.lines if x.po_number == po), key=line_order)
        for po in invoice.po_numbers
    }
    expected = [row for po in invoice.po_numbers for row in [*by_po[po], po]]
    for line, cells in zip(expected, lines, strict=True):
        day, description, po, quantity, unit_price, amount = cells
        if isinstance(line, str):  # the PO's subtotal
            assert (day, description, po, quantity, unit_price) == (
                None,
                f"Subtotal PO {line}",
                line,
                None,
                None,
            )
            assert as_decimal(amount) == sum(x.amount for x in by_po[line])
            continue
        assert day == date_text(line)  # the day, or the first and last day of a merged line
        assert (description, po) == (line.description, line.po_number)
        assert isinstance(quantity, int | float) and Decimal(repr(quantity)) == line.quantity
        assert as_decimal(unit_price) == line.unit_price and as_decimal(amount) == line.amount
    assert sum(as_decimal(c[5]) for c in lines if c[0] is not None) == invoice.net
    assert ws.cell(head + len(rows) + 1, 1).value is None  # nothing after the last line


def test_detail_sheet_lists_every_source_item(written: dict[str, tuple[Invoice, Path]]) -> None:
    invoice, path = written["101"]
    ws = openpyxl.load_workbook(path)["Detail"]
    head = row_of(ws, "Item id")
    rows = list(ws.iter_rows(min_row=head + 1, values_only=True))
    assert len(rows) == len(invoice.items) == 3
    for item, row in zip(invoice.items, rows, strict=True):
        source, item_id, day, description, po, quantity, _, amount, contract, _, ticket, _, code = row
        assert (source, item_id, description, po, contract, code) == (
            item.source_table,
            item.item_id,
            item.description,
            item.po_number,
            item.contract_id,
            item.billing_code,
        )
        assert isinstance(item_id, str) and isinstance(contract, str)  # ids are text, never 101.0
        assert day == dt.datetime.combine(item.date, dt.time())
        assert Decimal(repr(quantity)) == item.quantity and as_decimal(amount) == item.amount
        assert ticket == (item.ticket_id or None)
    assert sum(as_decimal(r[7]) for r in rows) == invoice.net
    assert ws.freeze_panes == f"A{head + 1}"
    assert ws.auto_filter.ref == f"A{head}:M{head + len(rows)}"


def test_calamine_reads_the_same_types(written: dict[str, tuple[Invoice, Path]]) -> None:
    invoice, path = written["101"]
    book = CalamineWorkbook.from_path(str(path))
    invoice_rows = book.get_sheet_by_name("Invoice").to_python()
    cells = [v for row in invoice_rows for v in row]
    assert invoice.invoice_number in cells
    assert any(isinstance(v, dt.date) and v == INVOICE_DATE for v in cells)  # a real date, not text
    totals = next(row for row in invoice_rows if "Total" in row)
    assert as_decimal(totals[5]) == invoice.total
    detail = book.get_sheet_by_name("Detail").to_python()
    first = detail[[r[1] for r in detail].index("Item id") + 1]
    assert first[0] == "billing_items" and first[1] == "1"
    assert first[2] == dt.date(2026, 10, 3)
    assert first[3] == '=HYPERLINK("http://evil.example","click")'  # the text, not a formula's result
    assert isinstance(first[7], float) and as_decimal(first[7]) == Decimal("386.65")


@pytest.mark.parametrize(
    ("customer", "text"),
    [("103", "=cmd|' /C calc'!A0"), ("101", '=HYPERLINK("http://evil.example","click")'),
     ("101", "+Laptop dock"),
     ("102", "-credit for outage"), ("103", "@SUM(A1:A9)")],
)  # fmt: skip
def test_text_that_looks_like_a_formula_is_stored_as_text(
    written: dict[str, tuple[Invoice, Path]], customer: str, text: str
) -> None:
    _, path = written[customer]
    wb = openpyxl.load_workbook(path)
    found = [
        c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str) and text in c.value
    ]
    assert found, f"{text!r} not written"
    for cell in found:
        assert cell.data_type == "s"
        if cell.value.startswith(("=", "+", "-", "@")):
            assert cell.quotePrefix, cell.coordinate  # Excel keeps it text even when the cell is edited
    assert any(c.value == text for c in found)


def test_no_sheet_holds_a_formula(written: dict[str, tuple[Invoice, Path]]) -> None:
    for _, path in written.values():
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), (
                        path.name,
                        name,
                    )


def test_credit_note_says_so(written: dict[str, tuple[Invoice, Path]]) -> None:
    invoice, path = written["102"]
    assert invoice.total < 0 and invoice.title == "Credit note"
    wb = openpyxl.load_workbook(path)
    assert wb["Invoice"]["D1"].value == "Credit note"
    assert wb["Detail"]["A1"].value == f"Items on Credit note {invoice.invoice_number}"
    ws = wb["Invoice"]
    assert as_decimal(ws.cell(row_of(ws, "Total"), 6).value) == invoice.total == Decimal("-50.00")
    assert written["101"][0].title == "Invoice"
    assert openpyxl.load_workbook(written["101"][1])["Invoice"]["D1"].value == "Invoice"


def test_several_pos_in_the_header_and_on_each_line(written: dict[str, tuple[Invoice, Path]]) -> None:
    invoice, path = written["101"]
    assert invoice.po_numbers == ("PO-1001", "PO/2002")
    ws = openpyxl.load_workbook(path)["Invoice"]
    assert "Purchase order(s): PO-1001; PO/2002" in [c.value for row in ws.iter_rows() for c in row]
    head = row_of(ws, "PO number")
    rows = invoice_workbook.sheet_lines(invoice)
    shown = [ws.cell(head + 1 + i, 3).value for i in range(len(rows))]
    assert shown == [row.po_number for row in rows] and set(shown) == {"PO-1001", "PO/2002"}
    subtotals = [ws.cell(head + 1 + i, 2).value for i, row in enumerate(rows) if row.date is None]
    assert subtotals == ["Subtotal PO PO-1001", "Subtotal PO PO/2002"]


def test_money_formats_follow_the_currency_minor_unit(written: dict[str, tuple[Invoice, Path]]) -> None:
    invoice, path = written["104"]
    assert invoice.currency == "JPY" and invoice.total == Decimal("39600")
    ws = openpyxl.load_workbook(path)["Invoice"]
    total = ws.cell(row_of(ws, "Total"), 6)
    assert total.value == 39600 and total.number_format.startswith('#,##0 "JPY"')
    assert "Amount (JPY)" in [c.value for c in ws[row_of(ws, "Date")]]


def test_mixed_text_without_values_is_left_blank(written: dict[str, tuple[Invoice, Path]]) -> None:
    ws = openpyxl.load_workbook(written["102"][1])["Invoice"]  # CON: no address, no contact, no VAT number
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith("Attn.")]
    assert [t for t in texts if t.startswith("VAT number")] == [
        "VAT number NL001234567B01"
    ]  # ours, not theirs


def test_long_descriptions_get_a_taller_row(tmp_path: Path) -> None:
    long_text = (
        "Migration of the finance department's file shares to SharePoint including a permissions review " * 2
    )
    items = ITEMS.rstrip() + f"\n    7,2026-10-09T00:00:00Z,104,505,,7,20,,{long_text.strip()},1,100,100,,0\n"
    s = invoice_set(tmp_path / "inputs", "customer", BillingItems=items)
    invoice = next(r for r in s.records() if r.customer_id == "104")
    path = invoice_files.write_invoices(s, tmp_path / "out")[list(s.invoices["customer_id"]).index("104")]
    ws = openpyxl.load_workbook(path)["Invoice"]
    head = row_of(ws, "Date")
    rows = {ws.cell(head + 1 + i, 2).value: head + 1 + i for i in range(len(invoice.lines))}
    tall = next(r for text, r in rows.items() if long_text.strip() in text)
    assert (ws.row_dimensions[tall].height or 15) >= 3 * 13  # three lines of 10-point text, at least
    short = next(r for r in rows.values() if r != tall)
    assert ws.row_dimensions[short].height is None  # one line: the default height


# --- golden snapshots ---------------------------------------------------------------------------


@pytest.mark.parametrize("customer", ["101", "102", "103", "104"])
def test_golden_cell_values(written: dict[str, tuple[Invoice, Path]], customer: str) -> None:
    invoice, path = written[customer]
    golden = GOLDEN / f"invoice_customer_{customer}.json"
    actual = snapshot(path, invoice.invoice_date)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(
            json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
    assert golden.exists(), f"{golden} is missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert actual == expected


# --- file names and paths -----------------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(
    os.environ.get("BILLING_LIBREOFFICE") != "1", reason="set BILLING_LIBREOFFICE=1 to convert to PDF"
)
def test_libreoffice_converts_an_invoice_to_pdf(
    written: dict[str, tuple[Invoice, Path]], tmp_path: Path
) -> None:
    _, path = written["101"]
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        ["libreoffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    pdf = tmp_path / "pdf" / (path.stem + ".pdf")
    assert result.returncode == 0, result.stderr
    assert pdf.exists() and pdf.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF")


def test_drafts_say_draft_on_every_page_of_both_sheets(month: InvoiceSet, tmp_path: Path) -> None:
    record = month.records()[0]
    invoice_workbook.write_invoice_workbook(record, tmp_path / "draft.xlsx", draft=True)
    invoice_workbook.write_invoice_workbook(record, tmp_path / "issued.xlsx")
    draft, issued = (openpyxl.load_workbook(tmp_path / n) for n in ("draft.xlsx", "issued.xlsx"))
    assert draft["Invoice"]["D1"].value == "DRAFT Invoice" and issued["Invoice"]["D1"].value == "Invoice"
    for name in ("Invoice", "Detail"):
        assert "DRAFT - not a valid invoice" in (draft[name].oddHeader.center.text or "")
        assert "DRAFT" not in (issued[name].oddHeader.center.text or "")


def test_zero_rate_category_prints_its_exemption_wording(tmp_path: Path) -> None:
    from billing_lib.domain.records import Party

    record = invoice_set(tmp_path / "inputs").records()[0]
    reverse = dataclasses.replace(
        record, customer=dataclasses.replace(record.customer, vat_category="AE"), tax_rate=Decimal(0),
        tax=Decimal("0.00"), total=record.net,
    )  # fmt: skip
    assert isinstance(reverse.customer, Party)
    invoice_workbook.write_invoice_workbook(reverse, tmp_path / "ae.xlsx")
    texts = [
        c.value for row in openpyxl.load_workbook(tmp_path / "ae.xlsx")["Invoice"].iter_rows() for c in row
    ]
    assert "VAT AE 0 %" in texts
    assert "VAT AE 0 %: Reverse charge: VAT to be accounted for by the customer (VATEX-EU-AE)" in texts
