"""SPEC section 5: the invoice workbooks and summary.xlsx, read back with openpyxl and python-calamine.

The month below is small and awkward on purpose: a customer whose name is a formula, descriptions
starting with ``= + - @``, a customer called ``CON``, two POs on one customer, a credit note, a
yen customer. Golden snapshots (``tests/golden/*.json``) hold every cell value per sheet with the
invoice date blanked; ``UPDATE_GOLDEN=1 pytest tests/test_excel.py`` rewrites them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import textwrap
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from billing_lib.core.consolidate import InvoiceSet, consolidate
from billing_lib.core.documents import date_text, line_order
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import prepare_items
from billing_lib.domain.errors import OutputError
from billing_lib.domain.period import Period
from billing_lib.domain.records import Invoice
from billing_lib.io import excel, filenames
from billing_lib.io.inputs import load_inputs

GOLDEN = Path(__file__).parent / "golden"
INVOICE_DATE = dt.date(2026, 11, 3)

ITEMS = """
    id,itemDate,companyID,contractID,ticketID,resourceID,billingCodeID,billingCodeName,description,quantity,rate,extendedPrice,purchaseOrderNumber,invoiceID
    1,2026-10-03T00:00:00Z,101,501,9001,7,20,Remote support,"=HYPERLINK(""http://evil.example"",""click"")",3.175,100,386.645,PO-1001,0
    2,2026-10-04T00:00:00Z,101,501,9002,7,20,Remote support,Password reset,1.0000,100,100,PO-1001,0
    3,2026-10-05T00:00:00Z,101,502,,8,30,Hardware,+Laptop dock,2,150,300,PO/2002,0
    4,2026-10-06T00:00:00Z,102,503,,7,20,Remote support,-credit for outage,1,-50,-50,,0
    5,2026-10-07T00:00:00Z,103,504,,7,20,Remote support,@SUM(A1:A9),2,80,160,,0
    6,2026-10-08T00:00:00Z,104,505,,7,20,Remote support,Server patching,3,12000,36000,,0
"""
COMPANIES = """
    id,companyName,currencyCode,taxRate,billingEntity,address1,city,postalCode,country,billingContact
    101,Contoso Logistics GmbH,EUR,19,NL01,Hafenstraße 12,Hamburg,20457,Germany,Accounts Payable
    102,CON,EUR,0,NL01,,,,,
    103,"=cmd|' /C calc'!A0",EUR,21,NL01,,,,,
    104,東京システム株式会社,JPY,10,NL01,,,,,
"""
CONTRACTS = """
    id,contractName,companyID,purchaseOrderNumber
    501,Managed services,101,PO-1001
    502,Hardware,101,
    503,Support,102,
    504,Support,103,
    505,Support,104,
"""
PO_REFERENCE = """
    po_number,customer_id,authorised_amount,currency,valid_from,valid_to
    PO-1001,101,10000,EUR,2026-01-01,2026-12-31
    PO/2002,101,5000,EUR,2026-01-01,2026-12-31
"""
ENTITIES = """
    billing_entity,legal_name,address,tax_id,payment_terms
    NL01,Northwind IT Services B.V.,"Keizersgracht 100, 1015 AA Amsterdam",NL001234567B01,30 days net
"""


def invoice_set(folder: Path, method: str = "customer", **tables: str) -> InvoiceSet:
    """The consolidated month of the CSV text blocks (defaults: the awkward month above)."""
    files = {"BillingItems": ITEMS, "Companies": COMPANIES, "Contracts": CONTRACTS,
             "po_reference": PO_REFERENCE, "BillingEntities": ENTITIES} | tables  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, Period.parse("2026-10"))
    prep, _ = check_pos(prep, reference_table(inputs.table("po_budgets")))
    return consolidate(prep, method, invoice_date=INVOICE_DATE)


@pytest.fixture()
def month(tmp_path: Path) -> InvoiceSet:
    return invoice_set(tmp_path / "inputs")


@pytest.fixture()
def written(month: InvoiceSet, tmp_path: Path) -> dict[str, tuple[Invoice, Path]]:
    """Every invoice of the month written with the default template, by customer id."""
    paths = excel.write_invoices(month, tmp_path / "invoices")
    records = month.records()
    assert [p.name for p in paths] == [f"{r.invoice_number}.xlsx" for r in records]
    return {r.customer_id: (r, p) for r, p in zip(records, paths, strict=True)}


def row_of(ws: Any, label: str) -> int:
    """The row whose cells include ``label`` (the default template's wording)."""
    for row in ws.iter_rows():
        if any(c.value == label for c in row):
            return row[0].row
    raise AssertionError(f"no cell {label!r} on sheet {ws.title}")


def as_decimal(value: float) -> Decimal:
    """A cell's float as the two-place decimal it shows."""
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return Decimal(repr(float(value))).quantize(Decimal("0.01"))


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
    rows = excel.sheet_lines(invoice)  # two POs: each PO's lines in date order, then its subtotal
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
    rows = excel.sheet_lines(invoice)
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
    path = excel.write_invoices(s, tmp_path / "out")[list(s.invoices["customer_id"]).index("104")]
    ws = openpyxl.load_workbook(path)["Invoice"]
    head = row_of(ws, "Date")
    rows = {ws.cell(head + 1 + i, 2).value: head + 1 + i for i in range(len(invoice.lines))}
    tall = next(r for text, r in rows.items() if long_text.strip() in text)
    assert (ws.row_dimensions[tall].height or 15) >= 3 * 13  # three lines of 10-point text, at least
    short = next(r for r in rows.values() if r != tall)
    assert ws.row_dimensions[short].height is None  # one line: the default height


# --- golden snapshots ---------------------------------------------------------------------------


def snapshot(path: Path, invoice_date: dt.date) -> dict[str, dict[str, Any]]:
    """Every cell value per sheet, typed (``date:``/``number:`` prefixes), the invoice date blanked."""
    out: dict[str, dict[str, Any]] = {}
    for ws in openpyxl.load_workbook(path):
        cells: dict[str, Any] = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None:
                    continue
                if isinstance(v, dt.datetime):
                    cells[c.coordinate] = (
                        "date:<invoice date>" if v.date() == invoice_date else f"date:{v.date()}"
                    )
                elif isinstance(v, int | float):
                    cells[c.coordinate] = f"number:{v!r}"
                else:
                    cells[c.coordinate] = v.replace(invoice_date.isoformat(), "<invoice date>")
        out[ws.title] = cells
    return out


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

ODD_NAMES = [
    "Acme/Holdings", "a\\b", "..", ".", "../../etc/passwd", ".hidden", "trailing dot.", "  spaced  ", "CON",
    "con",
    "Con.txt", "COM1", "lpt9.xlsx", "NUL ", "AUX.", "x" * 300, "é" * 300, "Müller & Søn 株式会社",
    "name:with*?<>|\"chars", "tab\tand\nnewline", "nul\x00byte", "rtl\u202etxt.exe", "",
]  # fmt: skip
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


@pytest.mark.parametrize("name", ODD_NAMES)
def test_safe_filename_is_safe_everywhere(name: str, tmp_path: Path) -> None:
    safe = filenames.safe_filename(name)
    assert safe and safe not in (".", "..") and not safe.startswith(".")
    assert not set(safe) & set('/\\:*?"<>|') and all(ord(ch) >= 32 and ch != "\u202e" for ch in safe)
    assert safe == safe.strip(" .")
    assert len(safe.encode("utf-8")) <= 120
    assert safe.split(".")[0].strip().casefold() not in RESERVED
    path = filenames.output_path(tmp_path, name)
    path.write_bytes(b"x")  # the operating system accepts it, in the folder itself
    assert path.parent == tmp_path and path.exists()


def test_safe_filename_keeps_ordinary_names_and_letters() -> None:
    assert filenames.safe_filename("INV-202610-0001") == "INV-202610-0001"
    assert filenames.safe_filename("Müller & Søn 株式会社") == "Müller & Søn 株式会社"
    assert filenames.safe_filename("Acme/Holdings .. Ltd") == "Acme_Holdings .. Ltd"


def test_long_names_stay_distinct() -> None:
    a, b = filenames.safe_filename("x" * 299 + "a"), filenames.safe_filename("x" * 299 + "b")
    assert a != b and a.startswith("x" * 50)


def test_writer_refuses_paths_outside_the_folder(month: InvoiceSet, tmp_path: Path) -> None:
    folder, outside = tmp_path / "invoices", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    target = outside / "victim.xlsx"
    target.write_bytes(b"keep me")
    first = str(month.invoices["invoice_number"].iloc[0])
    (folder / f"{first}.xlsx").symlink_to(target)
    with pytest.raises(OutputError, match="outside the output folder"):
        excel.write_invoices(month, folder)
    with pytest.raises(OutputError, match="outside the output folder"):
        excel.write_invoice_workbook(month.records()[0], folder / f"{first}.xlsx")
    assert target.read_bytes() == b"keep me"
    assert filenames.output_path(folder, "../../etc/passwd").parent == folder


def test_clashing_file_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="both be written"):
        excel.invoice_paths(tmp_path, ["INV/1", "INV_1"])
    with pytest.raises(OutputError, match="both be written"):
        excel.invoice_paths(tmp_path, ["inv-1", "INV-1"])  # one file on Windows and macOS


# --- the template -------------------------------------------------------------------------------


def test_default_template_file_is_the_factory_template(tmp_path: Path) -> None:
    assert excel.DEFAULT_TEMPLATE.exists(), "run data/templates/make_template.py"
    fresh = tmp_path / "invoice_template.xlsx"
    excel.build_default_template().save(fresh)
    committed = excel.load_template()
    assert (committed.invoice, committed.detail) == (
        excel.load_template(fresh).invoice,
        excel.load_template(fresh).detail,
    )


def test_a_restyled_template_is_used(month: InvoiceSet, tmp_path: Path) -> None:
    template = tmp_path / "ours.xlsx"
    shutil.copy(excel.DEFAULT_TEMPLATE, template)
    wb = openpyxl.load_workbook(template)
    ws = wb["Invoice"]
    ws["D7"] = "Factuurnummer"
    ws["A27"] = "Bank: Rabobank · IBAN NL91 RABO 0123 4567 89"
    ws["D1"].font = openpyxl.styles.Font(name="Georgia", size=26, color="C00000")
    ws.column_dimensions["B"].width = 60
    wb.save(template)
    path = excel.write_invoices(month, tmp_path / "out", template=template)[0]
    out = openpyxl.load_workbook(path)["Invoice"]
    texts = [c.value for row in out.iter_rows() for c in row]
    assert "Factuurnummer" in texts and "Invoice number" not in texts
    assert any(isinstance(t, str) and t.startswith("Bank: Rabobank") for t in texts)
    assert out["D1"].font.name == "Georgia" and out["D1"].font.sz == 26
    assert out["D1"].font.color.rgb.endswith("C00000")
    assert out.column_dimensions["B"].width == pytest.approx(60, abs=1)


def test_template_problems_are_clear_errors(month: InvoiceSet, tmp_path: Path) -> None:
    template = tmp_path / "broken.xlsx"
    shutil.copy(excel.DEFAULT_TEMPLATE, template)
    wb = openpyxl.load_workbook(template)
    wb["Invoice"]["B3"] = "{customer_shoe_size}"
    wb.save(template)
    with pytest.raises(OutputError, match=r"cell B3: unknown field \{customer_shoe_size\}"):
        excel.write_invoices(month, tmp_path / "out", template=template)
    with pytest.raises(OutputError, match="cannot read the invoice template"):
        excel.write_invoices(month, tmp_path / "out", template=tmp_path / "missing.xlsx")


def test_template_pictures_are_copied(month: InvoiceSet, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(120, 40))
    template = tmp_path / "with-logo.xlsx"
    shutil.copy(excel.DEFAULT_TEMPLATE, template)
    wb = openpyxl.load_workbook(template)
    wb["Invoice"].add_image(openpyxl.drawing.image.Image(str(logo)), "A1")
    wb.save(template)
    path = excel.write_invoices(month, tmp_path / "out", template=template)[0]
    with zipfile.ZipFile(path) as archive:
        assert any(n.startswith("xl/media/") for n in archive.namelist())


# --- writing a run ------------------------------------------------------------------------------


def test_parallel_and_sequential_write_the_same_cells(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = load_inputs(sample_month)
    prep = prepare_items(inputs, Period.parse("2026-10"))
    prep, _ = check_pos(prep, reference_table(inputs.table("po_budgets")))
    s = consolidate(prep, "po_number", invoice_date=INVOICE_DATE)
    monkeypatch.setattr(excel, "PARALLEL_MIN_ITEMS", 10)
    parallel = excel.write_invoices(s, tmp_path / "parallel", workers=2, progress=True)
    sequential = excel.write_invoices(s, tmp_path / "sequential", workers=1)
    assert len(parallel) == len(s.invoices) > 2
    assert sorted(tmp_path.joinpath("parallel").iterdir()) == sorted(parallel)  # no temporary files left
    for a, b in zip(parallel, sequential, strict=True):
        assert snapshot(a, INVOICE_DATE) == snapshot(b, INVOICE_DATE)


def test_a_failure_leaves_no_files_of_the_run(
    month: InvoiceSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "invoices"
    folder.mkdir()
    (folder / "unrelated.txt").write_text("keep")
    real = excel._workbook_bytes
    calls = []

    def failing(invoice: Invoice, template: excel.Template, draft: bool = False) -> bytes:
        calls.append(invoice.invoice_number)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(invoice, template, draft)

    monkeypatch.setattr(excel, "_workbook_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        excel.write_invoices(month, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["unrelated.txt"]


# --- summary.xlsx -------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    """A plain grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
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
    excel.write_summary(
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
        excel.write_summary(
            tmp_path / "summary.xlsx", {"A": pd.DataFrame({"x": [1]})}, [tmp_path / "nope.png"]
        )


# --- LibreOffice (optional) ---------------------------------------------------------------------


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
    excel.write_invoice_workbook(record, tmp_path / "draft.xlsx", draft=True)
    excel.write_invoice_workbook(record, tmp_path / "issued.xlsx")
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
    excel.write_invoice_workbook(reverse, tmp_path / "ae.xlsx")
    texts = [
        c.value for row in openpyxl.load_workbook(tmp_path / "ae.xlsx")["Invoice"].iter_rows() for c in row
    ]
    assert "VAT AE 0 %" in texts
    assert "VAT AE 0 %: Reverse charge: VAT to be accounted for by the customer (VATEX-EU-AE)" in texts
