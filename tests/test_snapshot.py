"""What the register keeps of an issued invoice: JSON text that gives back the very same record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

from einvoice_data import BUYERS, SELLER, TWO_POS, invoice, line

from billing_lib.domain.parties import Parties
from billing_lib.domain.records import Invoice, SourceItem
from billing_lib.io.snapshot import FORMAT, credit_note_for, from_json, to_json

ITEMS = (
    SourceItem("billing_items", "a1", dt.date(2026, 10, 3), "Ticket 1 «urgent»", "PO-4711", Decimal("1.50"),
               Decimal("95.000"), Decimal("142.50"), "C1", "", "T1", "R9", "Remote support"),
    SourceItem("ticket_charges", "501", dt.date(2026, 10, 9), "Dock", "", Decimal("-1"), None, Decimal("-0.10"),
               "", "P2", "", "", "Hardware"),
)  # fmt: skip


def issued() -> Invoice:
    lines = (*TWO_POS, line(3, "No unit price", "PO-4711", "1", None, "0.10", kind="charge"))
    return invoice(
        "INV-202610-0001", lines, Decimal("21"), items=ITEMS, parties=Parties(SELLER, BUYERS["AE"]),
        payment_terms="Net 14",
    )  # fmt: skip


def test_an_invoice_comes_back_equal() -> None:
    inv = issued()
    back = from_json(to_json(inv))
    assert back == inv
    assert back.items[0].quantity.as_tuple() == Decimal("1.50").as_tuple()  # exact text: 1.50 stays 1.50
    assert back.lines[-1].unit_price is None and back.lines[0].date_from is None
    assert isinstance(back.tax_rate, Decimal) and isinstance(back.invoice_date, dt.date)


def test_the_text_is_compact_readable_and_the_same_for_equal_invoices() -> None:
    text = to_json(issued())
    assert text == to_json(issued())
    data = json.loads(text)
    assert data["format"] == FORMAT
    assert "«urgent»" in text and "Müller GmbH" in text  # not escaped to \\u
    assert data["invoice"]["lines"]["fields"][:3] == ["date", "description", "po_number"]
    assert data["invoice"]["net"] == "470.10"


def test_an_invoice_without_parties_or_items() -> None:
    inv = dataclasses.replace(issued(), parties=None, items=())
    assert from_json(to_json(inv)) == inv


def test_a_record_missing_a_later_field_keeps_its_default() -> None:
    data = json.loads(to_json(issued()))
    del data["invoice"]["credits"]
    assert from_json(json.dumps(data)).credits == ""


def test_the_credit_note_negates_every_line_and_item_and_references_the_invoice() -> None:
    inv = issued()
    credit = credit_note_for(inv, "CN-202611-0001", dt.date(2026, 11, 5))
    assert (credit.invoice_number, credit.invoice_date, credit.credits) == (
        "CN-202611-0001", dt.date(2026, 11, 5), "INV-202610-0001",
    )  # fmt: skip
    assert (credit.net, credit.tax, credit.total) == (-inv.net, -inv.tax, -inv.total)
    assert [x.amount for x in credit.lines] == [-x.amount for x in inv.lines]
    assert [x.quantity for x in credit.items] == [-x.quantity for x in inv.items]
    assert [x.unit_price for x in credit.lines] == [x.unit_price for x in inv.lines]
    assert credit.is_credit_note and credit.parties == inv.parties
    assert from_json(to_json(credit)) == credit
