"""The PO tracking report on a month built here: coverage (summary, per customer, per charge category,
PO fields across Autotask's objects), recommendations, alerts at several thresholds, monthly budgets,
authorised hours, the drill-down, the checklist's coverage figures and the charts' plotted values.

The report is "PO Number Tracking: Hours and Charges Booked Per Purchase Order" (Proxuma's Power BI
report for Autotask, ``shared/reference/po-tracking-report.txt``): its coverage summary, charges by
category, PO numbers across four objects, charges against one PO, and recommendations.
"""

from __future__ import annotations

import dataclasses
import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from billing_lib.core import alerts
from billing_lib.domain.errors import UsageError
from billing_lib.io import charts
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import Analysis, analyse, check, prepare
from billing_lib.ui import drilldown, po_report, po_report_files
from billing_lib.ui.checklist_text import render_text

COMPANIES = """\
id,companyName,requiresPO
101,Acme Ltd,no
102,Beta GmbH,yes
103,Cobalt BV,no
104,Delta Ltd,no
"""
CONTRACTS = """\
id,contractName,companyID,purchaseOrderNumber
C1,Acme support,101,PO-C
C2,Cobalt support,103,
"""
PROJECTS = """\
id,projectName,companyID,purchaseOrderNumber
P1,Acme move,101,PO-P
P2,Cobalt site,103,
P3,Beta rollout,102,
"""
TASKS = """\
id,title,projectID,purchaseOrderNumber
T1,Cabling,P1,PO-T
T2,Survey,P2,
"""
TICKETS = """\
id,title,companyID,purchaseOrderNumber
K1,Printer,103,
K2,Server,101,
"""
REFERENCE = """\
PO Number,Customer ID,Authorised Amount,Authorised Hours,Monthly Amount,Valid From,Valid To
PO-A,101,1000.00,10,,2026-01-01,2026-12-31
PO-C,101,2000.00,,500.00,2026-01-01,2026-12-31
PO-T,101,1000.00,,,2026-01-01,2026-12-31
PO-P,101,1000.00,,,2026-01-01,2026-12-31
PO-B,102,100.00,,,2026-01-01,2026-12-31
PO-X,103,5000.00,,,2026-01-01,2026-12-31
"""
# a1 a2: labour on PO-A (own PO); c1 c2: PO-C from contract C1; t1: PO-T from task T1; p1: PO-P from
# project P1; n1 x1 x2 y1: no PO; b1: held (Beta requires a PO); z1: PO-A of another customer (held)
ITEMS = """\
id,itemDate,companyID,timeEntryID,quantity,extendedPrice,purchaseOrderNumber,internalPurchaseOrderNumber,billingCodeName,contractID,projectID,taskID,ticketID
a1,2026-10-03,101,te1,4,400.00,PO-A,INT-1,Remote support,,,,
a2,2026-10-17,101,te2,5,500.00,PO-A,,Remote support,,,,
c1,2026-10-05,101,,1,300.00,,,Hardware,C1,,,
c2,2026-10-20,101,,1,250.00,,,Hardware,C1,,,
t1,2026-10-08,101,,1,100.00,,,Consulting,,P1,T1,
p1,2026-10-09,101,,1,50.00,,,Consulting,,P1,,
n1,2026-10-10,101,,1,200.00,,,Hardware,,,,
b1,2026-10-11,102,,1,80.00,,,Consulting,,,,
b2,2026-10-12,102,,1,120.00,PO-B,,Consulting,,,,
x1,2026-10-13,103,te3,2,240.00,,,Remote support,,,,K1
x2,2026-10-14,103,,1,60.00,,,Hardware,,,,
z1,2026-10-15,103,,1,70.00,PO-A,,Hardware,,,,
y1,2026-10-16,104,,1,40.00,,,Hardware,,,,
"""
# what earlier invoices in the register took (Register.previously_invoiced's columns)
EARLIER = [
    ("po-a", "PO-A", "101", 20000, "2", "labour", "2026-09-15", "2026-09", "INV-202609-0001"),
    ("po-c", "PO-C", "101", 10000, "1", "charge", "2026-10-02", "2026-10", "INV-202610-0001"),
    ("po-t", "PO-T", "101", 95000, "1", "charge", "2026-08-20", "2026-08", "INV-202608-0001"),
    ("po-p", "PO-P", "101", 92000, "1", "charge", "2026-08-21", "2026-08", "INV-202608-0001"),
]


def write_month(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "BillingItems": ITEMS,
        "Companies": COMPANIES,
        "Contracts": CONTRACTS,
        "Projects": PROJECTS,
        "Tasks": TASKS,
        "Tickets": TICKETS,
        "po_reference": REFERENCE,
    }
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def earlier_frame() -> pd.DataFrame:
    columns = ["po_key", "po_number", "customer_id", "amount_minor", "quantity", "kind", "item_date", "period",
               "invoice_number"]  # fmt: skip
    frame = pd.DataFrame(EARLIER, columns=columns).assign(currency="EUR")
    frame["item_date"] = pd.to_datetime(frame["item_date"])
    return frame


@pytest.fixture()
def month(tmp_path: Path) -> Analysis:
    options = RunOptions(
        inputs=write_month(tmp_path / "in"), period="2026-10", draft=True, register=tmp_path / "none.sqlite"
    )
    prep, ref, _ = prepare(options)
    return analyse(options, prepared=(prep, ref, earlier_frame()))


@pytest.fixture()
def tracking(month: Analysis) -> po_report.PoReport:
    return po_report.build(month, "50, 75, 90, 100")


# --- coverage ----------------------------------------------------------------------------------------


def test_coverage_summary_counts_every_billable_record_held_ones_too(tracking):
    c = tracking.coverage.summary
    # 13 records (b1 and z1 held); with a PO: a1 a2 c1 c2 t1 p1 b2 z1
    assert (c.records, c.with_po, c.without_po, c.pos) == (13, 8, 5, 5)
    assert c.percent == Decimal("61.54")  # 8 / 13
    (eur,) = c.amounts
    assert (eur.currency, eur.billable_minor, eur.with_po_minor, eur.without_po_minor) == (
        "EUR",
        241000,
        179000,
        62000,
    )
    assert eur.percent == Decimal("74.27")  # 1790.00 / 2410.00


def test_coverage_per_customer_biggest_gap_first(tracking):
    got = [
        (
            r.customer_id,
            r.records,
            r.with_po,
            r.percent,
            r.pos,
            r.amount_minor,
            r.without_po_minor,
            r.amount_percent,
        )
        for r in tracking.coverage.by_customer.itertuples()
    ]
    assert got == [
        ("103", 3, 1, Decimal("33.33"), 1, 37000, 30000, Decimal("18.92")),
        ("101", 7, 6, Decimal("85.71"), 4, 180000, 20000, Decimal("88.89")),
        ("102", 2, 1, Decimal("50.00"), 1, 20000, 8000, Decimal("60.00")),
        ("104", 1, 0, Decimal("0.00"), 0, 4000, 4000, Decimal("0.00")),
    ]


def test_coverage_per_charge_category(tracking):
    got = [
        (r.billing_code, r.records, r.with_po, r.percent, r.pos, r.amount_minor, r.without_po_minor)
        for r in tracking.coverage.by_category.itertuples()
    ]
    assert got == [
        ("Hardware", 6, 3, Decimal("50.00"), 2, 92000, 30000),
        ("Remote support", 3, 2, Decimal("66.67"), 1, 114000, 24000),
        ("Consulting", 4, 3, Decimal("75.00"), 3, 35000, 8000),
    ]


def test_po_fields_across_the_four_objects(tracking):
    fields = tracking.coverage.fields.set_index("object")
    got = {
        name: (r.tables, r.records, r.with_po, r.percent, r.records_using) for name, r in fields.iterrows()
    }
    assert got == {
        "Items and charges": ("billing_items", 13, 4, Decimal("30.77"), 4),  # own PO: a1 a2 b2 z1
        "Contracts": ("contracts", 2, 1, Decimal("50.00"), 2),  # c1 c2 take PO-C from C1
        "Projects": ("projects", 3, 1, Decimal("33.33"), 1),  # p1
        "Tasks and tickets": ("tasks; tickets", 4, 1, Decimal("25.00"), 1),  # t1
    }
    assert fields.loc["Items and charges", "internal_po"] == 1 and isinstance(
        fields.loc["Items and charges", "internal_po"], int
    )
    assert fields.loc["Contracts", "internal_po"] is None


def test_recommendations_name_who_to_mark_requires_po(tracking):
    rec = tracking.coverage.recommendations
    assert list(rec["customer_id"]) == ["103", "101", "102", "104"]
    assert list(rec["without_po_minor"]) == [30000, 20000, 8000, 4000]
    assert list(rec["mark_requires_po"]) == [True, True, False, False]
    assert list(rec["requires_po"]) == [False, False, True, False]
    advice = dict(zip(rec["customer_id"], rec["advice"], strict=True))
    assert (
        advice["103"]
        == "mark requires-PO: it works with POs (1 of 3 records carry a PO, 1 PO on record) yet is billed without"
    )
    assert "6 of 7 records carry a PO, 4 POs on record" in advice["101"]
    assert advice["102"].startswith("already requires a PO")
    assert advice["104"].startswith("ask whether it needs a PO")


# --- budgets: thresholds, hours, monthly -----------------------------------------------------------


def test_burndown_counts_hours_and_the_monthly_budget(month):
    bd = month.burndown.set_index("po_number")
    a = bd.loc["PO-A"]
    assert (a["hours_previously"], a["hours_this_period"], a["hours_consumed"]) == (
        Decimal(2),
        Decimal(9),
        Decimal(11),
    )
    assert (a["authorised_hours"], a["hours_remaining"], a["hours_percent_used"], a["hours_status"]) == (
        Decimal(10), Decimal(-1), Decimal("110.00"), "exceeded",
    )  # fmt: skip
    c = bd.loc["PO-C"]
    # this month: 100.00 invoiced earlier in October (dated 2 October) and c1 + c2 of this run
    assert (c["monthly_minor"], c["month_consumed_minor"], c["month_this_period_minor"]) == (
        50000,
        65000,
        55000,
    )
    assert (c["month_remaining_minor"], c["month_percent_used"], c["month_status"]) == (
        -15000,
        Decimal("130.00"),
        "exceeded",
    )
    assert (c["percent_used"], c["status"]) == (Decimal("32.50"), "ok")  # its total budget is fine
    assert bd.loc["PO-T", "hours_status"] == "" and pd.isna(bd.loc["PO-T", "monthly_minor"])


def test_alerts_at_every_threshold_reached_and_whether_this_period_crossed_it(tracking):
    got = [
        (r.po_number, r.measure, r.percent_used, r.threshold, r.crossed_this_period)
        for r in tracking.alerts.itertuples()
    ]
    assert got == [
        ("PO-C", "month", Decimal("130.00"), Decimal(100), True),
        ("PO-B", "amount", Decimal("120.00"), Decimal(100), True),
        ("PO-A", "amount", Decimal("110.00"), Decimal(100), True),
        ("PO-A", "hours", Decimal("110.00"), Decimal(100), True),
        ("PO-T", "amount", Decimal("105.00"), Decimal(100), True),  # 95 % before: past 90, not 100
        ("PO-P", "amount", Decimal("97.00"), Decimal(90), False),  # 92 % before: 90 already reached
    ]
    row = tracking.alerts.iloc[0]
    assert (row["used"], row["authorised"], row["remaining"], row["unit"]) == (
        "650.00",
        "500.00",
        "-150.00",
        "EUR",
    )


def test_thresholds_are_a_parameter(month):
    levels = alerts.parse_thresholds("95; 60 %,  60")
    assert levels == (Decimal(60), Decimal(95))
    assert alerts.parse_thresholds(90) == (Decimal(90),)  # billing batch -p thresholds=90 passes a number
    assert alerts.parse_thresholds([100, "50"]) == (Decimal(50), Decimal(100))
    report = po_report.build(month, "95")
    assert list(report.alerts["po_number"]) == ["PO-C", "PO-B", "PO-A", "PO-A", "PO-T", "PO-P"]
    assert set(report.alerts["threshold"]) == {Decimal(95)}
    low = po_report.build(month, "30")  # PO-C's total budget (32.50 %) now counts
    assert ("PO-C", "amount") in set(zip(low.alerts["po_number"], low.alerts["measure"], strict=True))
    for bad in ("", "fifty", "0", "-5", "nan", True):
        with pytest.raises(UsageError, match="thresholds"):
            alerts.parse_thresholds(bad)


# --- the drill-down ----------------------------------------------------------------------------------


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


# --- checklist ---------------------------------------------------------------------------------------


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


# --- charts ------------------------------------------------------------------------------------------


def test_coverage_chart_draws_each_customer_s_covered_share(tracking):
    fig = charts.coverage_figure(tracking.coverage.by_customer)
    widths = {bar.get_gid(): bar.get_width() for bar in fig.axes[0].patches}
    assert widths["with:103:EUR"] == pytest.approx(18.92)
    assert widths["without:103:EUR"] == pytest.approx(100 - 18.92)
    assert widths["with:101:EUR"] == pytest.approx(88.89)
    assert widths["with:104:EUR"] == 0
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0].startswith("Cobalt BV") and len(labels) == 4
    assert any("300.00 EUR without a PO (2 of 3 records)" in t.get_text() for t in fig.axes[0].texts)


def test_amounts_and_hours_chart_draws_earlier_this_period_and_budgets(month):
    fig = charts.amounts_hours_figure(month.burndown)
    amount_ax, hours_ax = fig.axes
    bars = {b.get_gid(): (b.get_x(), b.get_width()) for ax in fig.axes for b in ax.patches}
    assert bars["amount_earlier:po-a"] == (0, pytest.approx(200.0))
    assert bars["amount_this:po-a"] == (pytest.approx(200.0), pytest.approx(900.0))
    assert bars["hours_earlier:po-a"][1] == pytest.approx(2.0)
    assert bars["hours_this:po-a"] == (pytest.approx(2.0), pytest.approx(9.0))
    marks = {line.get_gid(): line.get_xdata()[0] for ax in fig.axes for line in ax.lines}
    assert marks["authorised:po-a"] == pytest.approx(1000.0)
    assert marks["authorised_hours:po-a"] == pytest.approx(10.0)
    assert marks["authorised:po-c"] == pytest.approx(2000.0)
    assert "authorised:po-x" not in marks  # nothing consumed on PO-X: not drawn
    assert len(hours_ax.patches) == len(amount_ax.patches)


# --- the saved report --------------------------------------------------------------------------------


def test_saved_report_files(tracking, tmp_path):
    po_report_files.save(tracking, tmp_path / "report", True)
    folder = tmp_path / "report"
    read = lambda name: pd.read_csv(folder / name, dtype=str, keep_default_na=False)  # noqa: E731
    summary = read("po_coverage.csv").iloc[0]
    assert (summary["records"], summary["with_po"], summary["percent"], summary["distinct_pos"]) == (
        "13",
        "8",
        "61.54",
        "5",
    )
    assert (summary["billable_amount"], summary["without_po_amount"]) == ("2410.00", "620.00")
    customers = read("po_coverage_by_customer.csv")
    assert list(customers["customer_id"]) == ["103", "101", "102", "104"]
    assert list(customers["without_po"]) == ["2", "1", "1", "1"]
    assert list(customers["without_po_amount"]) == ["300.00", "200.00", "80.00", "40.00"]
    assert list(read("po_coverage_by_category.csv")["billing_code"]) == [
        "Hardware",
        "Remote support",
        "Consulting",
    ]
    assert list(read("po_recommendations.csv")["mark_requires_po"]) == ["yes", "yes", "no", "no"]
    at_risk = read("po_at_risk.csv").set_index("po_number")
    assert (at_risk.loc["PO-A", "amount_alert"], at_risk.loc["PO-A", "hours_alert"]) == ("100", "100")
    assert (at_risk.loc["PO-C", "amount_alert"], at_risk.loc["PO-C", "month_alert"]) == ("", "100")
    assert at_risk.loc["PO-P", "amount_alert"] == "90"
    assert len(read("po_alerts.csv")) == 6
    assert len(read("po_items.csv")) == 12
    assert (folder / "charts" / "po_coverage_by_customer.png").stat().st_size > 1000
    assert (folder / "charts" / "po_amounts_hours.png").stat().st_size > 1000
    page = (folder / "po_report.html").read_text(encoding="utf-8")
    assert "PO coverage" in page and "61.54 %" in page and "Mark requires-PO" in page and "Cobalt BV" in page


def test_a_final_report_numbers_this_period_as_the_register_will(tmp_path):
    """Numbers continue after the register's highest in the format's scope, like ``Register.finalise``."""
    from billing_lib.run.pipeline import run_invoice

    folder = write_month(tmp_path / "in")
    register = tmp_path / "register.sqlite"
    first = RunOptions(inputs=folder, period="2026-10", out=tmp_path / "out1", register=register, excel=False)
    issued = run_invoice(first).invoice_numbers
    assert issued and issued[0] == "INV-202610-0001"
    with (folder / "BillingItems.csv").open("a", encoding="utf-8") as handle:  # two late additions
        handle.write(
            "q1,2026-10-21,101,,1,30.00,PO-A,,Hardware,,,,\nq2,2026-10-22,103,,1,20.00,,,Hardware,,,,\n"
        )
    second = RunOptions(
        inputs=folder, period="2026-10", out=tmp_path / "out2", register=register, excel=False
    )
    tracking = po_report.build(analyse(second))
    predicted = list(tracking.analysis.invoice_set.invoices["invoice_number"])
    assert predicted == [f"INV-202610-{len(issued) + i + 1:04d}" for i in range(len(predicted))]
    assert run_invoice(second).invoice_numbers == predicted
    rows = drilldown.po_items_of(tracking.analysis, "PO-A")
    assert set(rows.loc[rows["item_id"] == "q1", "invoice_number"]) <= set(predicted)
    assert set(rows.loc[rows["when"] == "earlier", "invoice_number"]) <= set(issued)
    # a draft report keeps DRAFT- numbers
    draft = po_report.build(analyse(dataclasses.replace(second, draft=True)))
    assert draft.analysis.invoice_set.invoices["invoice_number"].str.startswith("DRAFT-").all()
