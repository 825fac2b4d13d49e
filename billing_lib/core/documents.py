"""What every document of an invoice shows, worked out once: the PDF, the UBL e-invoice and the workbook.

``document(invoice, parties)`` gives the lines in date order (a line that merges items of several
days shows the date range), a subtotal per PO when the invoice has several, the VAT breakdown per
category and rate with the exemption wording of a 0 % category, the due date and payment terms, and
the references an accounts-payable team matches on (PO, buyer reference, contract, project, cost
centre), mapped as EN 16931 does (BT-13, BT-10, BT-12, BT-11, BT-19).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from billing_lib.domain.parties import Parties, due_date, exemption, payment_terms_text, vat_category
from billing_lib.domain.records import Invoice, InvoiceLine


@dataclass(frozen=True, slots=True)
class VatRow:
    """One row of the VAT breakdown: the category, its rate, the net it applies to and the VAT."""

    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_text: str = ""
    exemption_code: str = ""


@dataclass(frozen=True, slots=True)
class PoGroup:
    po_number: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal


@dataclass(frozen=True, slots=True)
class References:
    order: str  # BT-13: the PO of a one-PO invoice
    buyer: str  # BT-10
    contract: str  # BT-12
    project: str  # BT-11
    cost_centre: str  # BT-19


@dataclass(frozen=True, slots=True)
class Document:
    invoice: Invoice
    parties: Parties
    lines: tuple[InvoiceLine, ...]
    po_groups: tuple[PoGroup, ...]  # empty unless the invoice has several POs
    vat: tuple[VatRow, ...]
    due_date: dt.date | None
    payment_terms: str
    references: References
    period_start: dt.date
    period_end: dt.date

    @property
    def category(self) -> str:
        return self.vat[0].category if self.vat else ""


def line_order(line: InvoiceLine) -> tuple[dt.date, dt.date, str, str]:
    return (line.first_date, line.date, line.po_number, line.description)


def date_text(line: InvoiceLine) -> str:
    """``2026-10-03`` or, for a line of several days, ``2026-10-03 – 2026-10-28``."""
    if line.date_from is None or line.date_from == line.date:
        return line.date.isoformat()
    return f"{line.date_from.isoformat()} – {line.date.isoformat()}"


def _only(values: set[str]) -> str:
    values.discard("")
    return next(iter(values)) if len(values) == 1 else ""


def references(invoice: Invoice, parties: Parties) -> References:
    """The invoice's references: a key its method grouped on, else the one value all its items share."""
    method, key = invoice.method, invoice.group_key
    contracts = {i.contract_id for i in invoice.items}
    projects = {i.project_id for i in invoice.items}
    return References(
        order=invoice.po_numbers[0] if len(invoice.po_numbers) == 1 else "",
        buyer=(key if method == "buyer_reference" and key else parties.buyer.buyer_reference),
        contract=key if method in ("contract", "job") and key else _only(contracts),
        project=key if method in ("project", "project_activity") and key else _only(projects),
        cost_centre=key if method == "cost_centre" and key else "",
    )


def _period_bounds(period: str) -> tuple[dt.date, dt.date]:
    year, month = (int(x) for x in period.split("-")[:2])
    start = dt.date(year, month, 1)
    end = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
    return start, end


def document(invoice: Invoice, parties: Parties) -> Document:
    lines = tuple(sorted(invoice.lines, key=line_order))
    groups: tuple[PoGroup, ...] = ()
    if len({line.po_number for line in lines}) > 1:
        by_po: dict[str, list[InvoiceLine]] = {}
        for line in lines:
            by_po.setdefault(line.po_number, []).append(line)
        order = {po: i for i, po in enumerate(invoice.po_numbers)}
        groups = tuple(
            PoGroup(po, tuple(ls), sum((x.amount for x in ls), Decimal(0)))
            for po, ls in sorted(
                by_po.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0] == "", kv[0])
            )
        )
    category = vat_category(parties.buyer, invoice.tax_rate)
    text, code = exemption(parties.buyer, category) if invoice.tax_rate == 0 else ("", "")
    vat = (VatRow(category, invoice.tax_rate, invoice.net, invoice.tax, text, code),)
    start, end = _period_bounds(invoice.period)
    first = min((line.first_date for line in lines), default=start)
    return Document(
        invoice=invoice,
        parties=parties,
        lines=lines,
        po_groups=groups,
        vat=vat,
        due_date=due_date(invoice.invoice_date, parties),
        payment_terms=payment_terms_text(parties),
        references=references(invoice, parties),
        period_start=min(start, first),
        period_end=end,
    )
