"""What the notebooks display (``ui.report``): the PO table, the overview chart and the exposure."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from test_report_html import burndown

from billing_lib.ui import page, report


def month() -> SimpleNamespace:  # the parts of an Analysis these displays read
    bd = burndown()
    bd["po_key"] = bd["po_number"]
    return SimpleNamespace(burndown=bd, exposure=pd.DataFrame(), series=pd.DataFrame())


def test_the_po_report_is_the_status_counts_then_the_burndown() -> None:
    shown = report.po_report(month())  # type: ignore[arg-type]
    assert isinstance(shown, page.Html)
    assert shown.body.startswith("<p>3 POs: ") and "PO-OVER" in shown.body


def test_the_overview_and_the_exposure() -> None:
    overview = report.overview(month())  # type: ignore[arg-type]
    assert [caption for caption, _ in overview.images] == ["PO budgets used"]
    assert "Every billable item carries a PO" in report.exposure(month()).body  # type: ignore[arg-type]
    assert report.po_charts(month()).images == []  # type: ignore[arg-type]  # no consumption series
