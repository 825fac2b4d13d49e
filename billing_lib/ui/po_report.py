"""The PO report for account managers (``po_burndown.ipynb``): burn-down, budget alerts at several
thresholds, hours and monthly budgets, PO coverage (summary, per customer, per charge category,
fields across Autotask's objects), recommendations, charts, and every PO's items.

``build`` computes everything once from an ``Analysis``; the ``*_html`` functions render pieces
(every text from the inputs escaped); ``po_report_files.save`` writes the report folder:

| file | what |
|---|---|
| ``po_report.html`` | the whole report as one page, charts inline |
| ``po_at_risk.csv`` | ``po_burndown.csv``'s columns, at-risk first, plus the threshold each PO reached |
| ``po_alerts.csv`` | one row per PO and measure (amount, hours, month) that reached a threshold |
| ``po_coverage.csv`` | the coverage summary: records, with a PO, coverage %, distinct POs, amounts |
| ``po_coverage_by_customer.csv``, ``po_coverage_by_category.csv`` | coverage per customer / billing code |
| ``po_fields.csv`` | where PO numbers are filled across items, contracts, projects, tasks and tickets |
| ``po_recommendations.csv`` | customers billed without a PO, largest first, and which to mark requires-PO |
| ``po_items.csv`` | every PO's items (the drill-down): date, amount, hours, invoice |
| ``charts/`` | overview, one chart per PO, ``po_coverage_by_customer.png``, ``po_amounts_hours.png`` |

In ``billing batch`` the report reads the register as it was when the batch started, so it shows
the month as the workbook invoices it ("this period"); a report run later counts it as earlier.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from billing_lib.core import alerts as alertmod
from billing_lib.core import coverage as covmod
from billing_lib.core.consolidate import format_number, renumber
from billing_lib.domain.period import Period
from billing_lib.io.charts import at_risk_first
from billing_lib.run.pipeline import Analysis
from billing_lib.ui import drilldown
from billing_lib.ui.page import Html, Png, card, chip, cut_note, esc, html_table, money
from billing_lib.ui.report_images import figure_png

MAX_ROWS = 200


@dataclass
class PoReport:
    analysis: Analysis
    thresholds: tuple[Decimal, ...]
    coverage: covmod.CoverageReport
    alerts: pd.DataFrame


def build(analysis: Analysis, thresholds: object = alertmod.DEFAULT_THRESHOLDS_TEXT) -> PoReport:
    """The report's figures: coverage of the run's records and alerts at ``thresholds`` (``"50, 75, 90, 100"``).

    For a final run (``analysis.options.draft`` False) this period's invoices carry the numbers the
    register gives them when the run issues them (``final_numbers``), not ``DRAFT-`` numbers.
    """
    levels = alertmod.parse_thresholds(thresholds)  # type: ignore[arg-type]  # a parameter: checked there
    if not analysis.options.draft:
        analysis = final_numbers(analysis)
    cov = covmod.coverage_report(analysis.prep, analysis.ref, analysis.invoice_set.items, analysis.held)
    return PoReport(analysis, levels, cov, alertmod.alerts(analysis.burndown, levels))


def _figure(text: object, unit: object) -> str:
    """An alert's amount or hours (plain decimal text) as ``1,234.50 EUR`` / ``18.675 h``."""
    try:
        number = f"{Decimal(str(text)):,}"
    except ArithmeticError:
        number = str(text)
    return f"{esc(number)} {esc(unit)}" if str(text) else ""


def _count(value: object) -> str:
    """A count as ``1,234``; '' for a missing one (None or NaN)."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else ""


def final_numbers(analysis: Analysis) -> Analysis:
    """The analysis with its invoices numbered as a final run issues them: after the highest number of
    the format's scope in ``analysis.options.register_path`` (``Register.finalise``'s rule), in order.

    In ``billing batch`` the register is the copy taken when the batch started, so these are the
    numbers the workbook's run gives; the batch checks ``po_items.csv`` against its invoice items.
    """
    invoice_set = analysis.invoice_set
    if invoice_set.invoices.empty:
        return analysis
    fmt, period = analysis.options.number_format, invoice_set.period
    last = 0
    path = analysis.options.register_path
    if path.exists():
        from billing_lib.io.register import Register, number_scope

        scope = number_scope(fmt, period)
        with Register(path) as register:
            issued = register.invoices()
        for number_format, label, seq in zip(
            issued["number_format"], issued["period"], issued["seq"], strict=True
        ):
            if number_scope(str(number_format), Period.parse(str(label))) == scope:
                last = max(last, int(seq))
    numbers = [format_number(fmt, period, last + 1 + i) for i in range(len(invoice_set.invoices))]
    return dataclasses.replace(analysis, invoice_set=renumber(invoice_set, numbers))


def _pct(value: object) -> str:
    return f"{value} %" if isinstance(value, Decimal) else "—"


# --- coverage ----------------------------------------------------------------------------------------


def coverage_summary_html(report: PoReport) -> str:
    """The coverage cards: charge records, with a PO, coverage %, distinct POs, billable amount."""
    c = report.coverage.summary
    tone = "good" if c.records and c.with_po == c.records else ("bad" if c.with_po == 0 else "warn")
    billable = " · ".join(f"{money(a.billable_minor, a.currency)} {a.currency}" for a in c.amounts) or "0"
    amount_cov = "; ".join(f"{_pct(a.percent)} of the {a.currency} amount" for a in c.amounts)
    cards = "".join(
        [
            card(
                "Charge records",
                f"{c.records:,}",
                "this run's billable items, to invoice and held (earlier runs' invoices not counted)",
            ),
            card("Records with a PO", f"{c.with_po:,}", f"{c.without_po:,} without", tone),
            card("PO coverage", _pct(c.percent), amount_cov, tone),
            card("Distinct POs", f"{c.pos:,}", "PO numbers on the month's records"),
            card("Billable amount", billable),
        ]
    )
    return f'<div class="billing-cards">{cards}</div>'


def coverage_table_html(frame: pd.DataFrame, by: str, limit: int = MAX_ROWS) -> str:
    """Coverage per customer (``by="customer"``) or per billing code (``by="category"``), biggest gap first."""
    rows = []
    for r in frame.head(limit).itertuples(index=False):
        first = (
            [esc(r.customer_name) or esc(r.customer_id), esc(r.customer_id)]
            if by == "customer"
            else [esc(r.billing_code)]
        )
        rows.append(
            [
                *first,
                f"{r.records:,}",
                f"{r.with_po:,}",
                _pct(r.percent),
                f"{r.pos:,}",
                esc(r.currency),
                money(r.amount_minor, r.currency),
                money(r.without_po_minor, r.currency),
                _pct(r.amount_percent),
            ]
        )
    if not rows:
        return "<p>No billable records this period.</p>"
    lead = ["Customer", "Id"] if by == "customer" else ["Billing code (work type / material code)"]
    header = [
        *lead,
        "Records",
        "With PO",
        "Coverage",
        "POs",
        "Cur.",
        "Billable",
        "Without PO",
        "Amount covered",
    ]
    k = len(lead)
    return html_table(
        header, rows, numeric=(k, k + 1, k + 2, k + 3, k + 5, k + 6, k + 7), wrap=(0,)
    ) + cut_note(limit, len(frame), "rows")


def fields_html(report: PoReport) -> str:
    """Where PO numbers are filled across Autotask's four objects."""
    rows = [
        [
            esc(r.object),
            esc(r.tables) or '<span class="billing-note">not in the inputs</span>',
            f"{r.records:,}",
            f"{r.with_po:,}",
            _pct(r.percent),
            _count(r.internal_po),
            f"{r.records_using:,}",
        ]
        for r in report.coverage.fields.itertuples(index=False)
    ]
    return html_table(
        [
            "Object",
            "Tables",
            "Records",
            "With a PO",
            "Filled",
            "Internal PO",
            "This month's records taking their PO here",
        ],
        rows,
        numeric=(2, 3, 4, 5, 6),
    ) + (
        '<p class="billing-note">An item takes the first PO of: its own (charges and posted items), its task '
        "or ticket, its project, its contract. Items and charges count the month's charge records.</p>"
    )


def recommendations_html(report: PoReport, limit: int = 10) -> str:
    """The customers billed most without a PO, and which of them to mark requires-PO in Autotask."""
    frame = report.coverage.recommendations
    if frame.empty:
        return "<p>Every billable record carries a PO: nothing to recommend.</p>"
    marks = frame[frame["mark_requires_po"]]
    rows = [
        [
            esc(r.customer_name) or esc(r.customer_id),
            esc(r.customer_id),
            esc(r.currency),
            money(r.amount_minor, r.currency),
            money(r.without_po_minor, r.currency),
            f"{r.without_po:,} of {r.records:,}",
            "yes" if r.requires_po else "no",
            esc(r.advice),
        ]
        for r in frame.head(limit).itertuples(index=False)
    ]
    table = html_table(
        ["Customer", "Id", "Cur.", "Billable", "Without PO", "Records without", "Requires PO", "What to do"],
        rows,
        numeric=(3, 4, 5),
        wrap=(0, 7),
    )
    names = ", ".join(esc(n or c) for n, c in zip(marks["customer_name"], marks["customer_id"], strict=True))
    lead = (
        f"<p><b>Mark requires-PO</b> ({len(marks):,}): {names}.</p>"
        if len(marks)
        else "<p>No customer to mark requires-PO: none of those billed without a PO works with POs.</p>"
    )
    return lead + f"<p>The largest amounts billed without a PO (top {min(limit, len(frame))}):</p>" + table


# --- budgets ------------------------------------------------------------------------------------------


def alerts_html(report: PoReport, limit: int = MAX_ROWS) -> str:
    """POs that reached a threshold, per measure (amount, hours, month), the highest first."""
    levels = ", ".join(f"{t} %" for t in report.thresholds)
    frame = report.alerts
    if frame.empty:
        return f"<p>No PO has reached a threshold ({esc(levels)}).</p>"
    labels = {"amount": "amount", "hours": "hours", "month": "this month"}
    rows = [
        [
            f"{esc(r.threshold)} %",
            "new" if r.crossed_this_period else "",
            esc(r.po_number),
            esc(r.customer_id),
            esc(labels.get(str(r.measure), str(r.measure))),
            _figure(r.used, r.unit),
            _figure(r.authorised, r.unit),
            _figure(r.remaining, r.unit),
            _pct(r.percent_used),
        ]
        for r in frame.head(limit).itertuples(index=False)
    ]
    counts = frame.groupby("threshold").size().sort_index(ascending=False)
    line = " · ".join(f"{esc(t)} %: {int(n)}" for t, n in counts.items())
    return (
        f"<p>Thresholds {esc(levels)} · reached: {line} · <i>new</i>: crossed by this period's invoicing.</p>"
        + html_table(
            ["Reached", "", "PO", "Customer", "Budget", "Used", "Authorised", "Remaining", "Used %"],
            rows,
            numeric=(5, 6, 7, 8),
        )
        + cut_note(limit, len(frame), "alerts")
    )


def hours_and_months_html(report: PoReport, limit: int = MAX_ROWS) -> str:
    """Authorised hours burned like amounts, and monthly budgets, for the POs that have them."""
    bd = at_risk_first(report.analysis.burndown)
    parts = []
    hours = bd[bd["hours_status"] != ""]
    if len(hours):
        rows = [
            [
                chip(str(r.hours_status)),
                esc(r.po_number),
                esc(r.customer_id),
                esc(r.authorised_hours),
                esc(r.hours_previously),
                esc(r.hours_this_period),
                esc(r.hours_consumed),
                esc(r.hours_remaining),
                _pct(r.hours_percent_used),
            ]
            for r in hours.head(limit).itertuples(index=False)
        ]
        parts.append(
            "<h3>Authorised hours</h3>"
            + html_table(
                [
                    "Status",
                    "PO",
                    "Customer",
                    "Authorised h",
                    "Earlier h",
                    "This period h",
                    "Consumed h",
                    "Remaining h",
                    "Used",
                ],
                rows,
                numeric=(3, 4, 5, 6, 7, 8),
            )
        )
    months = bd[bd["month_status"] != ""]
    if len(months):
        rows = [
            [
                chip(str(r.month_status)),
                esc(r.po_number),
                esc(r.customer_id),
                esc(r.currency),
                money(r.monthly_minor, r.currency),
                money(r.month_consumed_minor, r.currency),
                money(r.month_remaining_minor, r.currency),
                _pct(r.month_percent_used),
            ]
            for r in months.head(limit).itertuples(index=False)
        ]
        parts.append(
            f"<h3>Monthly budgets · {esc(report.analysis.options.period)}</h3>"
            + html_table(
                [
                    "Status",
                    "PO",
                    "Customer",
                    "Cur.",
                    "Monthly amount",
                    "This month",
                    "Left this month",
                    "Used",
                ],
                rows,
                numeric=(4, 5, 6, 7),
            )
            + '<p class="billing-note">This month: what is invoiced on the PO dated in the period, by earlier '
            "runs of the period and this one.</p>"
        )
    return "".join(parts) or "<p>No PO authorises hours or a monthly amount.</p>"


# --- notebook pieces ---------------------------------------------------------------------------------


def coverage(report: PoReport) -> Html:
    cov = report.coverage
    return Html(
        coverage_summary_html(report)
        + "<h3>By customer</h3>"
        + coverage_table_html(cov.by_customer, "customer")
        + "<h3>By charge category</h3>"
        + coverage_table_html(cov.by_category, "category")
    )


def fields(report: PoReport) -> Html:
    return Html(fields_html(report))


def recommendations(report: PoReport) -> Html:
    return Html(recommendations_html(report))


def budget_alerts(report: PoReport) -> Html:
    return Html(alerts_html(report) + hours_and_months_html(report))


def charts(report: PoReport) -> Png:
    """Coverage by customer, and amounts and hours per PO."""
    from billing_lib.io.charts import amounts_hours_figure, coverage_figure

    return Png(
        [
            ("PO coverage by customer", figure_png(coverage_figure(report.coverage.by_customer))),
            ("Amounts and hours per PO", figure_png(amounts_hours_figure(report.analysis.burndown))),
        ]
    )


def items(report: PoReport, po: str = "") -> Html:
    """One PO's items, as the drill-down shows them (``po`` empty: the most at risk)."""
    choices = drilldown.choices(report.analysis)
    chosen = po or (choices[0][1] if choices else "")
    if not chosen:
        return Html("<p>No PO in this month or the register.</p>")
    return Html(drilldown.drilldown_html(drilldown.po_items_of(report.analysis, chosen), chosen))


def picker(report: PoReport, po: str = "") -> object:
    """The interactive drill-down (an ipywidgets box): pick a PO, see its items."""
    return drilldown.drilldown_widget(report.analysis, po)


__all__ = ["PoReport", "build"]
