"""Peppol BIS 3.0 UBL documents (SPEC section 5), each validated with the official rules offline.

Every XML is checked against the OASIS UBL 2.1 XSD, the CEN EN 16931 UBL Schematron and the
OpenPEPPOL BIS Billing 3.0 Schematron (``billing_lib.io.einvoice_validate``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from einvoice_data import BUYERS, NS, ONE_PO, RATES, SELLER, TWO_POS, failures, invoice, line
from lxml import etree

from billing_lib.domain.parties import Parties, TradeParty
from billing_lib.io.ubl import document_gaps, invoice_ubl, write_invoice_ubl


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
