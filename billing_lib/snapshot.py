"""An issued invoice as JSON text: what the register keeps so that the invoice can be printed again.

The record is the paper-like ``models.Invoice`` exactly as it was issued (parties, dates, lines,
source items, amounts); decimals are kept as their exact text, dates as ISO dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from .models import Invoice, InvoiceLine, Party, SourceItem

FORMAT = 1  # bump when the record's fields change; older snapshots stay readable where they can


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def to_json(invoice: Invoice) -> str:
    """The invoice as compact JSON text (keys in field order, so equal invoices give equal text)."""
    return json.dumps(
        {"format": FORMAT, "invoice": _plain(invoice)}, ensure_ascii=False, separators=(",", ":")
    )


def _value(annotation: str, value: Any) -> Any:
    """A JSON value back as the type the record's field is annotated with (records name their types as text)."""
    if value is None:
        return None
    kind = annotation.replace(" | None", "").strip()
    if kind == "dt.date":
        return dt.date.fromisoformat(value)
    if kind == "Decimal":
        return Decimal(value)
    if kind.startswith("tuple[str"):
        return tuple(value)
    return value


def _record(cls: Any, data: dict[str, Any], nested: dict[str, Any] | None = None) -> Any:
    """A record of ``cls`` from ``_plain``'s dict; fields it lacks keep their defaults (older snapshots)."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        if nested and f.name in nested:
            values[f.name] = nested[f.name](data[f.name])
        else:
            values[f.name] = _value(str(f.type), data[f.name])
    return cls(**values)


def from_json(text: str) -> Invoice:
    """The invoice ``to_json`` wrote."""
    data = json.loads(text)["invoice"]
    invoice: Invoice = _record(
        Invoice,
        data,
        {
            "customer": lambda d: _record(Party, d),
            "billing_entity": lambda d: _record(Party, d),
            "lines": lambda rows: tuple(_record(InvoiceLine, r) for r in rows),
            "items": lambda rows: tuple(_record(SourceItem, r) for r in rows),
        },
    )
    return invoice


def credit_note_for(invoice: Invoice, number: str, issued: dt.date) -> Invoice:
    """The credit note that cancels ``invoice`` in full: every line and item negated, referencing it."""

    def neg_line(line: InvoiceLine) -> InvoiceLine:
        return dataclasses.replace(line, quantity=-line.quantity, amount=-line.amount)

    def neg_item(item: SourceItem) -> SourceItem:
        return dataclasses.replace(item, quantity=-item.quantity, amount=-item.amount)

    return dataclasses.replace(
        invoice,
        invoice_number=number,
        invoice_date=issued,
        lines=tuple(neg_line(x) for x in invoice.lines),
        items=tuple(neg_item(x) for x in invoice.items),
        net=-invoice.net,
        tax=-invoice.tax,
        total=-invoice.total,
        credits=invoice.invoice_number,
    )
