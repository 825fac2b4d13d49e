"""The drill-down on one PO on the PO tracking month (``po_month``): its items earlier first, totals,
the HTML and the widget, and every PO's rows in one frame.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from po_month import analysed_month

from billing_lib.run.pipeline import Analysis
from billing_lib.ui import drilldown


@pytest.fixture()
def month(tmp_path: Path) -> Analysis:
    return analysed_month(tmp_path)


def test_drilldown_lists_every_item_on_a_po_earlier_first(month):
    rows = drilldown.po_items_of(month, " po-a ")
    got = [
        (r.when, r.item_id, f"{r.item_date:%Y-%m-%d}", r.amount_minor, r.hours, r.held_reason)
        for r in rows.itertuples()
    ]
    assert got == [
        ("earlier", "", "2026-09-15", 20000, Decimal(2), ""),
        ("this period", "a1", "2026-10-03", 40000, Decimal(4), ""),
        ("this period", "z1", "2026-10-15", 7000, None, "po_customer_mismatch"),
        ("this period", "a2", "2026-10-17", 50000, Decimal(5), ""),
    ]
    assert rows.loc[0, "invoice_number"] == "INV-202609-0001"
    assert rows.loc[0, "customer_name"] == "Acme Ltd"
    draft = rows.loc[1, "invoice_number"]
    assert (
        draft.startswith("DRAFT-")
        and rows.loc[3, "invoice_number"] == draft
        and rows.loc[2, "invoice_number"] == ""
    )
    t = drilldown.totals(rows)
    assert (t.items, t.held, t.hours, t.invoices) == (3, 1, Decimal(11), ("INV-202609-0001", draft))
    assert t.amounts == (("earlier", "EUR", 20000), ("this period", "EUR", 90000))


def test_drilldown_html_escapes_and_the_widget_shows_the_picked_po(month):
    html = drilldown.drilldown_html(drilldown.po_items_of(month, "PO-C"), "PO-C<script>")
    assert "PO-C&lt;script&gt;" in html and "<script>" not in html
    assert (
        "3 items on 2 invoices" in html
        and "earlier: 100.00 EUR" in html
        and "this period: 550.00 EUR" in html
    )
    box = drilldown.drilldown_widget(month, "PO-P")
    picker, pane = box.children
    assert picker.value == "PO-P" and "PO-P" in pane.value and "50.00" in pane.value
    picker.value = "PO-B"
    assert "<h3>PO PO-B</h3>" in pane.value and "120.00" in pane.value
    # at risk first: the exceeded POs, fullest first
    assert [v for _, v in drilldown.choices(month)][:3] == ["PO-B", "PO-A", "PO-T"]


def test_all_po_items_has_every_po_s_rows(month):
    frame = drilldown.all_po_items(month)
    counts = frame.groupby("po_number").size().to_dict()
    assert counts == {"PO-A": 4, "PO-B": 1, "PO-C": 3, "PO-P": 2, "PO-T": 2}
    assert list(dict.fromkeys(frame["po_number"])) == list(
        month.burndown["po_number"][month.burndown["po_number"] != "PO-X"]
    )
    for po, rows in frame.groupby("po_number", sort=False):  # each PO as its own drill-down lists it
        one = drilldown.po_items_of(month, str(po))
        assert rows.drop(columns="po_number").reset_index(drop=True).equals(one), po
    text = drilldown.csv_frame(frame)
    assert set(text.loc[text["po_number"] == "PO-C", "amount"]) == {"100.00", "300.00", "250.00"}
