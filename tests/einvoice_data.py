"""Invoices built by hand for the document tests (UBL, PDF, validation, customer documents).

A seller, one buyer per VAT category and a few lines, as the register keeps them; helpers that read a
document back (the official rules' failures, pdftotext's text, pdfinfo's page size).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal as D
from pathlib import Path

from billing_lib.domain.parties import TradeParty
from billing_lib.domain.records import Invoice, InvoiceLine, Party
from billing_lib.io.einvoice_validate import validate

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
