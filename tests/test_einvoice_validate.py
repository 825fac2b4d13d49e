"""The offline validator (UBL 2.1 XSD, EN 16931 and Peppol BIS 3.0 Schematron run with saxonche) reports
broken documents by rule.
"""

from __future__ import annotations

from decimal import Decimal as D

from einvoice_data import BUYERS, ONE_PO, SELLER, invoice

from billing_lib.domain.parties import Parties
from billing_lib.io.einvoice_validate import validate
from billing_lib.io.ubl import invoice_ubl


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
