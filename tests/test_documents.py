"""What every document of an invoice shows, worked out once: lines in date order, subtotals per PO,
the VAT row with its exemption wording, due date and terms, references and the period's bounds."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D

from einvoice_data import BUYERS, ONE_PO, SELLER, TWO_POS, invoice, line

from billing_lib.core.documents import References, date_text, document, line_order, references
from billing_lib.domain.parties import Parties
from billing_lib.domain.records import SourceItem

CONTOSO = Parties(SELLER, BUYERS["S"])


def item(contract: str, project: str) -> SourceItem:
    return SourceItem("billing_items", "1", dt.date(2026, 10, 1), "", "", D(1), None, D(1), contract, project, "",
                      "", "")  # fmt: skip


def test_date_text_of_a_line_of_one_day_or_several() -> None:
    assert date_text(line(7, "Dock", "PO-1", "1", "1", "1")) == "2026-10-07"
    assert date_text(line(28, "Remote", "PO-1", "1", "1", "1", first=3)) == "2026-10-03 – 2026-10-28"
    assert date_text(line(28, "Remote", "PO-1", "1", "1", "1", first=28)) == "2026-10-28"


def test_lines_in_date_order_a_merged_line_by_its_first_day() -> None:
    merged = line(28, "Remote support", "PO-4711", "3.5", "95", "332.50", first=3, items=3)
    doc = document(invoice("INV-1", (*TWO_POS, merged), D(21), method="customer"), CONTOSO)
    assert [x.description for x in doc.lines] == [
        "Remote support",
        "Remote support",
        "On-site support",
        "Cabling",
    ]
    assert [x.first_date.day for x in doc.lines] == [2, 3, 12, 20]
    assert list(doc.lines) == sorted(doc.lines, key=line_order)


def test_subtotals_per_po_in_the_invoice_s_po_order_only_when_there_are_several() -> None:
    doc = document(invoice("INV-1", TWO_POS, D(21), method="customer"), CONTOSO)
    assert [(g.po_number, g.subtotal, len(g.lines)) for g in doc.po_groups] == [
        ("PO-4711", D("250.00"), 1),
        ("PO-4712", D("220.00"), 2),
    ]
    assert sum(g.subtotal for g in doc.po_groups) == doc.invoice.net
    assert document(invoice("INV-2", ONE_PO, D(21)), CONTOSO).po_groups == ()


def test_vat_row_with_the_exemption_of_a_zero_rated_category() -> None:
    standard = document(invoice("INV-1", ONE_PO, D(21)), CONTOSO)
    (row,) = standard.vat
    assert (row.category, row.rate, row.taxable, row.tax, row.exemption_text) == (
        "S",
        D(21),
        D("710.50"),
        D("149.21"),
        "",
    )
    assert standard.category == "S"
    reverse = document(invoice("INV-2", ONE_PO, D(0)), Parties(SELLER, BUYERS["AE"]))
    assert (reverse.category, reverse.vat[0].exemption_code) == ("AE", "VATEX-EU-AE")
    assert reverse.vat[0].exemption_text.startswith("Reverse charge")


def test_due_date_terms_and_period_bounds() -> None:
    doc = document(invoice("INV-1", ONE_PO, D(21)), CONTOSO)
    assert (doc.due_date, doc.payment_terms) == (dt.date(2026, 12, 2), "30 days net")
    assert (doc.period_start, doc.period_end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    december = document(invoice("INV-2", ONE_PO, D(21), period="2026-12"), CONTOSO)
    assert december.period_end == dt.date(2026, 12, 31)
    # a late item of September on October's invoice: the period shown starts with it
    late = document(
        invoice("INV-3", (line(9, "Late", "PO-1", "1", "1", "1.00"),), D(21), period="2026-11"), CONTOSO
    )
    assert (late.period_start, late.period_end) == (dt.date(2026, 10, 9), dt.date(2026, 11, 30))


def test_references_from_the_method_s_key_else_what_all_items_share() -> None:
    one_po = invoice("INV-1", ONE_PO, D(21))
    assert references(one_po, CONTOSO) == References("PO-4711", "CT-AP", "", "", "")
    by_contract = invoice("INV-2", ONE_PO, D(21), method="contract", group_key="30008")
    assert references(by_contract, CONTOSO).contract == "30008"
    shared = invoice("INV-3", TWO_POS, D(21), method="customer", items=(item("C1", "P1"), item("C1", "")))
    refs = references(shared, CONTOSO)
    assert (refs.order, refs.contract, refs.project) == ("", "C1", "P1")  # blanks do not count
    mixed = dataclasses.replace(shared, items=(item("C1", ""), item("C2", "")))
    assert references(mixed, CONTOSO).contract == ""  # two contracts: none named
    by_buyer = invoice("INV-4", ONE_PO, D(21), method="buyer_reference", group_key="AP-9")
    assert references(by_buyer, CONTOSO).buyer == "AP-9"
    cost = invoice("INV-5", ONE_PO, D(21), method="cost_centre", group_key="CC-OPS")
    assert references(cost, CONTOSO).cost_centre == "CC-OPS"
