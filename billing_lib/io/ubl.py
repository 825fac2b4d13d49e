"""``invoices/<number>.xml``: the invoice as a Peppol BIS Billing 3.0 UBL 2.1 document, built with lxml.

An ``Invoice`` (type 380), or a ``CreditNote`` (381) when the total is negative (its amounts are
written positive, as a credit note states what is credited) and for a void's credit note, which
references the original in ``BillingReference``. Where the consolidation goes in EN 16931:

| invoice                         | UBL                                                      | BT     |
|---------------------------------|----------------------------------------------------------|--------|
| the PO of a one-PO invoice      | ``OrderReference/ID``                                     | BT-13  |
| each line's PO on a multi-PO one| ``InvoiceLine/OrderLineReference/LineID``                 | BT-132 |
| buyer reference                 | ``BuyerReference``                                        | BT-10  |
| contract                        | ``ContractDocumentReference/ID``                          | BT-12  |
| project                         | ``ProjectReference/ID`` (credit note: ``AdditionalDocumentReference``, type 50) | BT-11 |
| cost centre                     | ``AccountingCost``                                        | BT-19  |
| a merged line's dates           | ``InvoiceLine/InvoicePeriod``                             | BG-26  |

VAT: one ``TaxSubtotal`` per (category, rate) with the tax rounded once per category (the invoice's
own tax, computed on its net); S, Z, E, AE, K, G, O each with the fields their rules ask for (no
rate and no VAT ids under O; the buyer's VAT id under AE and K; the deliver-to country under K;
an exemption reason and VATEX code for every 0 % category but Z).

The run does not validate each document against the Schematron at run time (the CEN and Peppol
XSLTs take a good part of a second per document in saxonche, hours for a large month): the documents
are built to the rules here, what the rules need from the data is checked first (``document_gaps``:
an invoice with gaps gets no XML and an ``einvoice_incomplete`` issue), and the tests validate every
document of the sample month and of months with each VAT category, credit notes, several POs and
currencies against the official XSD and Schematron (``einvoice_validate``).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from lxml import etree

from billing_lib.core.documents import Document, document
from billing_lib.domain.errors import OutputError
from billing_lib.domain.money import minor_digits
from billing_lib.domain.parties import BUYER_VAT_NEEDED, Parties, TradeParty, einvoice_gaps
from billing_lib.domain.records import Invoice, InvoiceLine

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_CAC = f"{{{NS_CAC}}}"
_CBC = f"{{{NS_CBC}}}"
_CENT = Decimal("0.01")
_PRICE_PLACES = Decimal("1e-8")
_LINE_SLACK = Decimal("0.02")  # PEPPOL-EN16931-R120: quantity x price may differ from the line net by this

BillingReference = tuple[str, dt.date | None]  # the credited invoice's number and, when known, date


def document_gaps(invoice: Invoice, parties: Parties) -> list[str]:
    """What is missing for a valid e-invoice of this invoice ([] when it can be written)."""
    return head_gaps(
        parties,
        invoice.tax_rate,
        len(invoice.po_numbers),
        invoice.method,
        invoice.group_key,
        invoice.currency,
    )


def head_gaps(
    parties: Parties, tax_rate: Decimal, po_count: int, method: str, group_key: str, currency: str
) -> list[str]:
    """``document_gaps`` from an invoice's head alone (no lines needed)."""
    gaps = einvoice_gaps(parties, tax_rate)
    if po_count != 1 and not buyer_reference_of(method, group_key, parties):
        # PEPPOL-EN16931-R003: a buyer reference or a PO reference must be given
        gaps.append("buyer buyer_reference (the invoice has no single PO)")
    if minor_digits(currency) > 2:
        gaps.append(f"currency ({currency} has 3 decimals; EN 16931 amounts have at most 2)")
    return gaps


def buyer_reference_of(method: str, group_key: str, parties: Parties) -> str:
    if method == "buyer_reference" and group_key:
        return group_key
    return parties.buyer.buyer_reference


def _buyer_reference(invoice: Invoice, parties: Parties) -> str:
    return buyer_reference_of(invoice.method, invoice.group_key, parties)


def _sub(parent: etree._Element, qname: str, text: object = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, qname, attrs)
    if text is not None:
        el.text = str(text)
    return el


def _cbc(parent: etree._Element, tag: str, text: object, **attrs: str) -> etree._Element:
    return _sub(parent, _CBC + tag, text, **attrs)


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return _sub(parent, _CAC + name)


def _amount(value: Decimal) -> str:
    return str(value.quantize(_CENT))


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _party(parent: etree._Element, party: TradeParty, *, with_vat: bool) -> None:
    el = _cac(parent, "Party")
    endpoint = party.endpoint
    if endpoint is not None:
        _cbc(el, "EndpointID", endpoint[1], schemeID=endpoint[0])
    _cbc(_cac(el, "PartyName"), "Name", party.name)
    address = _cac(el, "PostalAddress")
    for name, value in (
        ("StreetName", party.street),
        ("AdditionalStreetName", party.additional_street),
        ("CityName", party.city),
        ("PostalZone", party.postal_code),
    ):
        if value:
            _cbc(address, name, value)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country)
    if with_vat and party.tax_id:
        scheme = _cac(el, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.tax_id)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(el, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if party.legal_id:
        _cbc(legal, "CompanyID", party.legal_id)
    if party.email:
        _cbc(_cac(el, "Contact"), "ElectronicMail", party.email)


def _tax_category(parent: etree._Element, name: str, category: str, rate: Decimal) -> etree._Element:
    el = _cac(parent, name)
    _cbc(el, "ID", category)
    if category != "O":
        _cbc(el, "Percent", _plain(rate))
    return el


def _line_quantity(line: InvoiceLine, sign: int) -> tuple[Decimal, Decimal]:
    """Quantity and a non-negative price whose product is the line net within the rules' slack.

    A merged line's amount is the sum of its rounded items (or their supplied amounts), so its own
    unit price times the summed quantity may be off by more than a cent: the price is then the exact
    amount per unit, to 8 places.
    """
    amount, quantity = line.amount * sign, line.quantity * sign
    price = line.unit_price
    if price is not None and price >= 0 and quantity and abs(quantity * price - amount) <= _LINE_SLACK:
        return quantity, price
    if not quantity:
        return (Decimal(-1) if amount < 0 else Decimal(1)), abs(amount)
    per_unit = (amount / quantity).quantize(_PRICE_PLACES)
    if per_unit < 0:
        quantity, per_unit = -quantity, -per_unit
    return quantity, per_unit


def build_ubl(doc: Document, billing_reference: BillingReference | None = None) -> etree._Element:
    """The UBL element tree of a document (``Invoice`` or ``CreditNote``), its parts in the order the
    UBL schema fixes: header, references, parties, payment, tax total, monetary total, lines."""
    invoice = doc.invoice
    if billing_reference is None and invoice.credits:  # a void's credit note names the invoice it cancels
        billing_reference = (invoice.credits, None)
    credit = invoice.total < 0
    kind = "CreditNote" if credit else "Invoice"
    root = etree.Element(
        f"{{{NS_CREDIT_NOTE if credit else NS_INVOICE}}}{kind}",
        nsmap={None: NS_CREDIT_NOTE if credit else NS_INVOICE, "cac": NS_CAC, "cbc": NS_CBC},
    )
    _header(root, doc, credit)
    _references(root, doc, billing_reference, credit)
    _parties(root, doc)
    _payment(root, doc, credit)
    _totals(root, doc, -1 if credit else 1)
    _lines(root, doc, credit)
    return root


def _header(root: etree._Element, doc: Document, credit: bool) -> None:
    invoice = doc.invoice
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", invoice.invoice_number)
    _cbc(root, "IssueDate", invoice.invoice_date.isoformat())
    if not credit and doc.due_date is not None:
        _cbc(root, "DueDate", doc.due_date.isoformat())
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    if doc.references.cost_centre:
        _cbc(root, "AccountingCost", doc.references.cost_centre)
    buyer_reference = _buyer_reference(invoice, doc.parties)
    if buyer_reference:
        _cbc(root, "BuyerReference", buyer_reference)
    period = _cac(root, "InvoicePeriod")
    _cbc(period, "StartDate", doc.period_start.isoformat())
    _cbc(period, "EndDate", doc.period_end.isoformat())


def _references(
    root: etree._Element, doc: Document, billing_reference: BillingReference | None, credit: bool
) -> None:
    """The order, the invoice a credit note cancels, the contract and the project."""
    refs = doc.references
    if refs.order:
        _cbc(_cac(root, "OrderReference"), "ID", refs.order)
    if billing_reference is not None:
        ref = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(ref, "ID", billing_reference[0])
        if billing_reference[1] is not None:
            _cbc(ref, "IssueDate", billing_reference[1].isoformat())
    if refs.contract:
        _cbc(_cac(root, "ContractDocumentReference"), "ID", refs.contract)
    if refs.project and credit:
        extra = _cac(root, "AdditionalDocumentReference")
        _cbc(extra, "ID", refs.project)
        _cbc(extra, "DocumentTypeCode", "50")
    elif refs.project:
        _cbc(_cac(root, "ProjectReference"), "ID", refs.project)


def _parties(root: etree._Element, doc: Document) -> None:
    parties = doc.parties
    with_vat = doc.category != "O"
    _party(_cac(root, "AccountingSupplierParty"), parties.seller, with_vat=with_vat)
    _party(_cac(root, "AccountingCustomerParty"), parties.buyer, with_vat=with_vat)
    if doc.category == "K":  # BR-IC-12: the deliver-to country of an intra-community supply
        location = _cac(_cac(root, "Delivery"), "DeliveryLocation")
        _cbc(_cac(_cac(location, "Address"), "Country"), "IdentificationCode", parties.buyer.country)


def _payment(root: etree._Element, doc: Document, credit: bool) -> None:
    seller = doc.parties.seller
    if not credit and seller.iban:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", "30", name="Credit transfer")
        _cbc(means, "PaymentID", doc.invoice.invoice_number)
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", seller.iban)
        _cbc(account, "Name", seller.name)
        if seller.bic:
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", seller.bic)
    if doc.payment_terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", doc.payment_terms)


def _totals(root: etree._Element, doc: Document, sign: int) -> None:
    """The tax total with a subtotal per VAT row, and the monetary total (a credit note's positive)."""
    invoice, currency = doc.invoice, doc.invoice.currency
    total = _cac(root, "TaxTotal")
    _cbc(total, "TaxAmount", _amount(invoice.tax * sign), currencyID=currency)
    for row in doc.vat:
        sub = _cac(total, "TaxSubtotal")
        _cbc(sub, "TaxableAmount", _amount(row.taxable * sign), currencyID=currency)
        _cbc(sub, "TaxAmount", _amount(row.tax * sign), currencyID=currency)
        cat = _tax_category(sub, "TaxCategory", row.category, row.rate)
        if row.exemption_code:
            _sub(cat, _CBC + "TaxExemptionReasonCode", row.exemption_code)
        if row.exemption_text:
            _sub(cat, _CBC + "TaxExemptionReason", row.exemption_text)
        _cbc(_cac(cat, "TaxScheme"), "ID", "VAT")
    money = _cac(root, "LegalMonetaryTotal")
    _cbc(money, "LineExtensionAmount", _amount(invoice.net * sign), currencyID=currency)
    _cbc(money, "TaxExclusiveAmount", _amount(invoice.net * sign), currencyID=currency)
    _cbc(money, "TaxInclusiveAmount", _amount(invoice.total * sign), currencyID=currency)
    _cbc(money, "PayableAmount", _amount(invoice.total * sign), currencyID=currency)


def _lines(root: etree._Element, doc: Document, credit: bool) -> None:
    """One line per invoice line; each names its PO when the invoice has several."""
    invoice, currency, sign = doc.invoice, doc.invoice.currency, -1 if credit else 1
    per_line_po = len(invoice.po_numbers) > 1
    for number, line in enumerate(doc.lines, start=1):
        el = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        _cbc(el, "ID", number)
        quantity, price = _line_quantity(line, sign)
        unit = "HUR" if line.kind == "labour" else "C62"
        _cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", _plain(quantity), unitCode=unit)
        _cbc(el, "LineExtensionAmount", _amount(line.amount * sign), currencyID=currency)
        line_period = _cac(el, "InvoicePeriod")
        _cbc(line_period, "StartDate", line.first_date.isoformat())
        _cbc(line_period, "EndDate", line.date.isoformat())
        if per_line_po and line.po_number:
            _cbc(_cac(el, "OrderLineReference"), "LineID", line.po_number)
        item = _cac(el, "Item")
        _cbc(item, "Name", line.description.strip() or ("Labour" if line.kind == "labour" else "Charges"))
        classified = _tax_category(item, "ClassifiedTaxCategory", doc.category, invoice.tax_rate)
        _cbc(_cac(classified, "TaxScheme"), "ID", "VAT")
        _cbc(_cac(el, "Price"), "PriceAmount", _plain(price), currencyID=currency)


def invoice_ubl(
    invoice: Invoice, parties: Parties, *, billing_reference: BillingReference | None = None
) -> bytes:
    """The UBL document of an invoice as UTF-8 bytes (``ValueError`` naming the gaps when it cannot be valid)."""
    gaps = document_gaps(invoice, parties)
    if gaps:
        raise ValueError(f"invoice {invoice.invoice_number}: the e-invoice needs {', '.join(gaps)}")
    root = build_ubl(document(invoice, parties), billing_reference)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_invoice_ubl(
    invoice: Invoice, parties: Parties, path: Path, *, billing_reference: BillingReference | None = None
) -> bool:
    """Write ``path`` (atomically); False, and nothing written, when the invoice has e-invoice gaps.

    ``billing_reference`` is (number, issue date) of the invoice a credit note credits (a void).
    """
    if document_gaps(invoice, parties):
        return False
    data = invoice_ubl(invoice, parties, billing_reference=billing_reference)
    write_bytes_atomically(Path(path), data)
    return True


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` or is untouched: a temporary file in the same folder, renamed into place."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = [
    "BUYER_VAT_NEEDED",
    "build_ubl",
    "document_gaps",
    "invoice_ubl",
    "write_bytes_atomically",
    "write_invoice_ubl",
]
