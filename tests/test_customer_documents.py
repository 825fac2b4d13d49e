"""Each invoice's documents for the customer (workbook, PDF, Peppol XML): a whole month's run validates,
customers without the e-invoice fields are flagged, two processes write what one does, reprints repeat.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

from einvoice_data import BUYERS, NS, ONE_PO, SELLER, failures, invoice, pdf_text
from lxml import etree

from billing_lib.domain.parties import Parties
from billing_lib.io.customer_documents import DocumentOptions, einvoice_issues, write_documents
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import analyse, run_invoice


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
