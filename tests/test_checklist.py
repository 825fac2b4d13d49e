"""The pre-invoice checklist: counts, PO alerts, exposure, what blocks invoicing, and its text."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from po_month import write_month

from billing_lib.core import burndown as bdm
from billing_lib.core.checklist import Checklist, build_checklist
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import Prepared, prepare_items
from billing_lib.domain.period import Period
from billing_lib.io.inputs import load_inputs
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import check
from billing_lib.ui.checklist_text import render_text

PERIOD = Period.parse("2026-10")

COMPANIES = """\
id,companyName,requiresPO
101,Acme Ltd,no
103,Gamma plc,yes
"""
REFERENCE = """\
PO Number,Customer ID,Authorised Amount,Valid From,Valid To
PO-A,101,1000.00,2026-01-01,2026-12-31
PO-W,101,1000.00,2026-01-01,2026-12-31
PO-OLD,101,1000.00,2026-01-01,2026-06-30
PO-OK,101,1000.00,2026-01-01,2026-12-31
"""
# PO-A goes over (a2), PO-W reaches 85 %, PO-OLD has expired, PO-NEW is unknown;
# n1 is billed without a PO, g1 is held (Gamma requires a PO), s1 was invoiced already, l1 is late
ITEMS = """\
id,itemDate,companyID,extendedPrice,purchaseOrderNumber,invoiceID
a1,2026-10-03,101,600.00,PO-A,
a2,2026-10-20,101,500.00,PO-A,
w1,2026-10-10,101,850.00,PO-W,
x1,2026-10-05,101,50.00,PO-OLD,
u1,2026-10-06,101,75.00,PO-NEW,
n1,2026-10-07,101,40.00,,
g1,2026-10-08,103,70.00,,
s1,2026-10-09,101,99.00,PO-OK,5001
l1,2026-09-28,101,20.00,PO-OK,
"""


def analyse(folder: Path, items: str = ITEMS, policy: str = "flag") -> tuple[Prepared, Checklist]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("BillingItems", items), ("Companies", COMPANIES), ("po_reference", REFERENCE)):
        (folder / f"{name}.csv").write_text(textwrap.dedent(text), encoding="utf-8")
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, PERIOD)
    ref = reference_table(inputs.table("po_budgets"))
    prep, ref = check_pos(prep, ref, over_budget_policy=policy)
    bd = bdm.burndown(prep.items, ref, PERIOD)
    return prep, build_checklist(prep, bd, bdm.exposure(prep.items, prep.held))


@pytest.fixture()
def checked(tmp_path: Path) -> tuple[Prepared, Checklist]:
    return analyse(tmp_path / "in")


def test_counts(checked):
    prep, c = checked
    assert (c.read, c.billable, c.held) == (9, 7, 1)
    assert dict(c.held_by_reason) == {"missing_po": 1}
    assert dict(c.flagged_by_reason) == {"over_budget": 1, "expired_po": 1, "unknown_po": 1, "late": 1}
    assert c.flagged == 4
    assert dict(c.skipped) == {"already_invoiced": 1}
    assert dict(c.to_invoice) == {"EUR": "2135.00"}  # 600 + 500 + 850 + 50 + 75 + 40 + 20
    assert len(c.problems) == len(prep.issues) == 5


def test_po_alerts(checked):
    _, c = checked
    assert [(p.po_number, p.consumed, p.authorised, p.remaining, p.percent_used) for p in c.over_budget] == [
        ("PO-A", "1100.00", "1000.00", "-100.00", "110.00")
    ]
    assert [(p.po_number, p.percent_used, p.projected_exhaustion_date) for p in c.near_budget] == [
        ("PO-W", "85.00", "2026-11-06")
    ]
    assert [(p.po_number, p.valid_to) for p in c.expired] == [("PO-OLD", "2026-06-30")]
    assert [(p.po_number, p.this_period, p.authorised) for p in c.unknown] == [("PO-NEW", "75.00", "")]
    assert (c.pos_total, c.pos_ok) == (5, 1)


def test_exposure_by_customer(checked):
    _, c = checked
    got = [(e.customer_id, e.customer_name, e.items, e.amount, e.held_items) for e in c.exposure]
    assert got == [("103", "Gamma plc", 1, "70.00", 1), ("101", "Acme Ltd", 1, "40.00", 0)]


def test_held_items_and_a_po_taken_over_budget_block(checked):
    _, c = checked
    assert c.blocking
    assert c.blocking_reasons == ("1 item held", "1 PO taken over budget by this period's items")


def test_flags_alone_do_not_block(tmp_path):
    # no held item, no PO over budget: unknown, expired, late and near-budget are only flags
    items = "\n".join(line for line in ITEMS.splitlines() if not line.startswith(("a2", "g1"))) + "\n"
    _, c = analyse(tmp_path / "in", items)
    assert c.held == 0 and not c.over_budget
    assert c.flagged == 3 and c.near_budget and c.unknown and c.expired
    assert not c.blocking and c.blocking_reasons == ()
    assert "Ready to invoice" in render_text(c)


def test_a_po_over_budget_only_in_earlier_periods_does_not_block(tmp_path):
    items = "id,itemDate,companyID,extendedPrice,purchaseOrderNumber\nk1,2026-10-03,101,10.00,PO-OK\n"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "BillingItems.csv").write_text(items)
    (folder / "po_reference.csv").write_text(textwrap.dedent(REFERENCE))
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, PERIOD)
    ref = reference_table(inputs.table("po_budgets"))
    earlier = pd.DataFrame([{"po_key": "po-a", "po_number": "PO-A", "customer_id": "101", "currency": "EUR",
                             "amount_minor": 120000, "quantity": "1", "kind": "charge",
                             "item_date": "2026-08-01"}])  # fmt: skip
    prep, ref = check_pos(prep, ref, previously_invoiced={"po-a": 120000})
    c = build_checklist(
        prep, bdm.burndown(prep.items, ref, PERIOD, earlier), bdm.exposure(prep.items, prep.held)
    )
    assert [p.po_number for p in c.over_budget] == ["PO-A"]  # still reported ...
    assert not c.blocking  # ... but nothing this run invoices takes it further


def test_hold_policy_blocks_through_the_held_item(tmp_path):
    _, c = analyse(tmp_path / "in", policy="hold")
    assert dict(c.held_by_reason) == {"missing_po": 1, "over_budget": 1}
    assert not c.over_budget  # the held item did not consume the budget
    assert c.blocking_reasons == ("2 items held",)


def test_text(checked):
    _, c = checked
    text = render_text(c)
    assert text.startswith("Pre-invoice checklist for 2026-10\n")
    assert "✗ NOT READY to invoice: 1 item held; 1 PO taken over budget by this period's items." in text
    assert "✗ 1 item held: kept off every invoice until the data is fixed" in text
    assert "missing_po: no PO, for a customer that requires one" in text
    assert "PO-A (customer 101): 1,100.00 EUR of 1,000.00 EUR used (110.00 %), 100.00 EUR over" in text
    assert "PO-W (customer 101): 850.00 EUR of 1,000.00 EUR used (85.00 %), 150.00 EUR left, " \
           "runs out about 2026-11-06" in text  # fmt: skip
    assert (
        "PO-OLD (customer 101): 50.00 EUR of 1,000.00 EUR used (5.00 %), 950.00 EUR left, expired 2026-06-30"
        in text
    )
    assert "PO-NEW (customer 101): 75.00 EUR this period, no budget on record" in text
    assert "Gamma plc (103): 1 item, 70.00 EUR, 1 of them held" in text
    assert "not billed this run: 1 already invoiced" in text
    assert "Problems (5)\n  - BillingItems.csv, row 8: customer requires a PO" in text  # held first
    plain = render_text(c, limit=1, ascii_only=True)
    assert plain.isascii()  # for consoles that cannot show the marks
    assert "[X] NOT READY" in plain and "... and 4 more" in plain


def test_long_lists_are_cut(checked):
    _, c = checked
    text = render_text(c, limit=2)
    problems = text.split("Problems (5)\n")[1].splitlines()
    assert len(problems) == 3 and problems[-1] == "  … and 3 more"


def test_as_dict_is_json_ready(checked):
    _, c = checked
    data = json.loads(json.dumps(c.as_dict(max_problems=2)))
    assert data["blocking"] is True
    assert data["held_by_reason"] == {"missing_po": 1}
    assert data["to_invoice"] == {"EUR": "2135.00"}
    assert data["over_budget"][0]["po_number"] == "PO-A"
    assert data["problems_total"] == 5 and len(data["problems"]) == 2


# --- on the PO tracking month (po_month) --------------------------------------------------


def test_check_shows_the_coverage_before_invoicing(tmp_path):
    options = RunOptions(
        inputs=write_month(tmp_path / "in"), period="2026-10", register=tmp_path / "none.sqlite"
    )
    c = check(options)
    assert c.coverage is not None
    assert (c.coverage.records, c.coverage.with_po, c.coverage.percent, c.coverage.pos) == (
        13,
        8,
        Decimal("61.54"),
        5,
    )
    text = render_text(c)
    assert "8 of 13 charge records carry a PO (61.54 %), 5 distinct POs" in text
    assert "EUR: 1,790.00 of 2,410.00 billable carries a PO (74.27 % of the amount); 620.00 without" in text
    assert c.as_dict()["coverage"]["percent"] == "61.54"
