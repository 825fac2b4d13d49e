"""An issued invoice as JSON text: what the register keeps so that the invoice can be printed again.

The record is the paper-like ``models.Invoice`` exactly as it was issued (parties, dates, lines,
source items, amounts); decimals are kept as their exact text, dates as ISO dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import operator
from decimal import Decimal
from typing import Any

from billing_lib.domain.parties import Parties
from billing_lib.domain.records import Invoice, InvoiceLine, Party, SourceItem

FORMAT = 2  # lines and items as rows under their field names (compact: a month's documents are many)


def _cell(value: Any) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is Decimal:
        return str(value)
    if kind is dt.date:
        return value.isoformat()
    return _plain(value)


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


def _rows(cls: Any, records: tuple[Any, ...]) -> dict[str, Any]:
    names = [f.name for f in dataclasses.fields(cls)]
    get = operator.attrgetter(*names)
    return {"fields": names, "rows": [[_cell(v) for v in get(r)] for r in records]}


def to_json(invoice: Invoice) -> str:
    """The invoice as compact JSON text (fields in declaration order, so equal invoices give equal text)."""
    head = {
        f.name: _plain(getattr(invoice, f.name))
        for f in dataclasses.fields(Invoice)
        if f.name not in ("lines", "items")
    }
    head["lines"] = _rows(InvoiceLine, invoice.lines)
    head["items"] = _rows(SourceItem, invoice.items)
    return json.dumps({"format": FORMAT, "invoice": head}, ensure_ascii=False, separators=(",", ":"))


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
    """A record of ``cls`` from a dict of plain values; fields it lacks keep their defaults."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        if nested and f.name in nested:
            values[f.name] = nested[f.name](data[f.name])
        else:
            values[f.name] = _value(str(f.type), data[f.name])
    return cls(**values)


def _records(cls: Any, table: dict[str, Any]) -> tuple[Any, ...]:
    names = table["fields"]
    return tuple(_record(cls, dict(zip(names, row, strict=True))) for row in table["rows"])


def from_json(text: str) -> Invoice:
    """The invoice ``to_json`` wrote."""
    data = json.loads(text)["invoice"]
    invoice: Invoice = _record(
        Invoice,
        data,
        {
            "customer": lambda d: _record(Party, d),
            "billing_entity": lambda d: _record(Party, d),
            "lines": lambda table: _records(InvoiceLine, table),
            "items": lambda table: _records(SourceItem, table),
            "parties": lambda d: Parties.from_dict(d) if d else None,
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
