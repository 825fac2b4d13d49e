"""The PO report's files (``po_burndown.ipynb``'s ``save``; ``billing batch`` keeps them in
``<out>/po-report/``): the CSV tables as plain text, and the whole report as one HTML page with its
charts. The table of files is in ``po_report``'s docstring; the figures come from ``po_report.build``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from billing_lib.core import alerts as alertmod
from billing_lib.core import coverage as covmod
from billing_lib.domain.money import format_minor, format_minor_series
from billing_lib.domain.text import cell_text, csv_safe
from billing_lib.io import locations
from billing_lib.io.burndown_csv import to_csv_frame
from billing_lib.io.charts import at_risk_first, plot_amounts_hours, plot_coverage, write_charts
from billing_lib.io.outputs import write_csv
from billing_lib.run.options import notebook_path
from billing_lib.ui import drilldown
from billing_lib.ui.page import Html, Png, esc
from billing_lib.ui.po_report import PoReport, budget_alerts, coverage, fields, recommendations
from billing_lib.ui.report import po_report


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text (Decimals exact, None empty), formula-looking text neutralised."""
    out = frame.copy()
    for col in out.columns:
        out[col] = out[col].map(cell_text)
        out[col] = csv_safe(out[col].astype("str"))
    return out


def coverage_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``po_coverage_by_customer.csv`` / ``po_coverage_by_category.csv``: amounts as plain decimals."""
    out = frame.drop(columns=["amount_minor", "with_po_minor", "without_po_minor"])
    out["amount"] = format_minor_series(frame["amount_minor"], frame["currency"]).tolist()
    out["with_po_amount"] = format_minor_series(frame["with_po_minor"], frame["currency"]).tolist()
    out["without_po_amount"] = format_minor_series(frame["without_po_minor"], frame["currency"]).tolist()
    return _plain(out)


def summary_csv_frame(c: covmod.Coverage) -> pd.DataFrame:
    """``po_coverage.csv``: one row per currency (the counts repeat; they are for all currencies)."""
    rows = [
        {
            "records": c.records,
            "with_po": c.with_po,
            "without_po": c.without_po,
            "percent": "" if c.percent is None else str(c.percent),
            "distinct_pos": c.pos,
            "currency": a.currency,
            "billable_amount": format_minor(a.billable_minor, a.currency),
            "with_po_amount": format_minor(a.with_po_minor, a.currency),
            "without_po_amount": format_minor(a.without_po_minor, a.currency),
            "amount_percent": "" if a.percent is None else str(a.percent),
        }
        for a in c.amounts
    ] or [{"records": 0, "with_po": 0, "without_po": 0, "percent": "", "distinct_pos": 0}]
    return _plain(pd.DataFrame(rows))


def recommendations_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["amount"] = format_minor_series(frame["amount_minor"], frame["currency"]).tolist()
    out["without_po_amount"] = format_minor_series(frame["without_po_minor"], frame["currency"]).tolist()
    out["requires_po"] = frame["requires_po"].map(lambda v: "yes" if v else "no")
    out["mark_requires_po"] = frame["mark_requires_po"].map(lambda v: "yes" if v else "no")
    return _plain(out.drop(columns=["amount_minor", "without_po_minor"]))


def at_risk_csv_frame(report: PoReport) -> pd.DataFrame:
    """``po_at_risk.csv``: ``po_burndown.csv``'s columns, at-risk first, then the thresholds reached."""
    bd = at_risk_first(report.analysis.burndown)
    return pd.concat([to_csv_frame(bd), alertmod.threshold_columns(bd, report.thresholds)], axis=1)


def page(report: PoReport, images: list[Path]) -> str:
    """The whole report as one HTML document."""
    a = report.analysis
    period = a.options.period
    body = "".join(
        [
            f"<h2>PO report · {esc(period)}</h2>",
            "<h3>PO coverage</h3>",
            coverage(report).body,
            "<h3>PO budgets</h3>",
            po_report(a).body,
            "<h3>Budget alerts</h3>",
            budget_alerts(report).body,
            "<h3>Where PO numbers are filled</h3>",
            fields(report).body,
            "<h3>Recommendations</h3>",
            recommendations(report).body,
            '<p class="billing-note">Every PO\'s items (date, amount, hours, invoice) are in po_items.csv.</p>',
        ]
    )
    charts_html = Png([(p.stem, p.read_bytes()) for p in images])._repr_html_()
    return (
        f"<!doctype html><meta charset='utf-8'><title>PO report {esc(period)}</title>"
        f"{Html(body)._repr_html_()}{charts_html}"
    )


def save(report: PoReport, folder: str | Path, save: bool = True) -> Html | None:
    """When ``save``: every file of the report in ``folder`` (see the module's table).

    An empty ``folder`` is ``outputs/<period>-po-report/``: beside, not inside, the folder a run replaces.
    """
    if not save:
        return None
    a = report.analysis
    period = a.options.period
    target = (
        notebook_path(folder) if str(folder) else locations.notebook_outputs_root() / f"{period}-po-report"
    )
    target.mkdir(parents=True, exist_ok=True)
    chart_dir = target / "charts"
    images = write_charts(a.burndown, a.series, chart_dir)
    images[1:1] = [
        plot_coverage(report.coverage.by_customer, chart_dir / "po_coverage_by_customer.png"),
        plot_amounts_hours(a.burndown, chart_dir / "po_amounts_hours.png"),
    ]
    cov = report.coverage
    write_csv(at_risk_csv_frame(report), target / "po_at_risk.csv")
    write_csv(alertmod.alerts_csv_frame(report.alerts), target / "po_alerts.csv")
    write_csv(summary_csv_frame(cov.summary), target / "po_coverage.csv")
    write_csv(coverage_csv_frame(cov.by_customer), target / "po_coverage_by_customer.csv")
    write_csv(coverage_csv_frame(cov.by_category), target / "po_coverage_by_category.csv")
    write_csv(_plain(cov.fields), target / "po_fields.csv")
    write_csv(recommendations_csv_frame(cov.recommendations), target / "po_recommendations.csv")
    write_csv(_plain(drilldown.csv_frame(drilldown.all_po_items(a))), target / "po_items.csv")
    (target / "po_report.html").write_text(page(report, images), encoding="utf-8")
    return Html(
        f"<p>PO report saved in <code>{esc(target)}</code>: po_report.html, po_at_risk.csv, po_alerts.csv, "
        f"the coverage CSVs, po_items.csv and {len(images)} charts.</p>"
    )


__all__ = ["page", "save"]
