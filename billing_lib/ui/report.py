"""What the notebooks display as their record of the month (``po_burndown.ipynb``; the executed
notebooks of ``billing batch`` are the audit record): the month computed without writing, the PO
burn-down table, the charts and the exposure, as ``page.Html`` / ``page.Png``.

Nothing here writes invoices. The notebooks' parameters become ``RunOptions`` in ``run.options``
(``from_notebook``); the HTML is made in ``report_html``, the charts in ``report_images``.
"""

from __future__ import annotations

from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import Analysis, analyse
from billing_lib.ui.page import Html, Png
from billing_lib.ui.report_html import burndown_html, exposure_html, status_counts_html
from billing_lib.ui.report_images import overview_png, po_chart_pngs


def load(options: RunOptions) -> Analysis:
    """The month computed without writing anything (what ``po_burndown.ipynb`` shows)."""
    return analyse(options)


def po_report(analysis: Analysis) -> Html:
    """``po_burndown.ipynb``'s table: status counts, then every PO at risk first."""
    return Html(status_counts_html(analysis.burndown) + burndown_html(analysis.burndown))


def overview(analysis: Analysis) -> Png:
    return Png([("PO budgets used", overview_png(analysis.burndown))])


def po_charts(analysis: Analysis, limit: int = 12) -> Png:
    return Png(po_chart_pngs(analysis, limit))


def exposure(analysis: Analysis) -> Html:
    return Html(exposure_html(analysis.exposure))
