"""What the notebooks display (``ui.report``): the PO table, the overview chart and the exposure, on a
hand-made burn-down and on the PO tracking month computed without writing."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from po_month import write_month
from test_report_html import burndown

from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import Analysis
from billing_lib.ui import page, report

PNG = b"\x89PNG\r\n\x1a\n"


def fake_month() -> SimpleNamespace:  # the parts of an Analysis these displays read
    bd = burndown()
    bd["po_key"] = bd["po_number"]
    return SimpleNamespace(burndown=bd, exposure=pd.DataFrame(), series=pd.DataFrame())


def test_the_po_report_is_the_status_counts_then_the_burndown() -> None:
    shown = report.po_report(fake_month())  # type: ignore[arg-type]
    assert isinstance(shown, page.Html)
    assert shown.body.startswith("<p>3 POs: ") and "PO-OVER" in shown.body


def test_the_overview_and_the_exposure() -> None:
    overview = report.overview(fake_month())  # type: ignore[arg-type]
    assert [caption for caption, _ in overview.images] == ["PO budgets used"]
    assert "Every billable item carries a PO" in report.exposure(fake_month()).body  # type: ignore[arg-type]
    assert report.po_charts(fake_month()).images == []  # type: ignore[arg-type]  # no consumption series


@pytest.fixture()
def month(tmp_path: Path) -> Analysis:
    inputs = write_month(tmp_path / "in")
    out = tmp_path / "out"
    analysis = report.load(
        RunOptions(inputs=inputs, period="2026-10", out=out, register=tmp_path / "r.sqlite")
    )
    assert not out.exists() and not (tmp_path / "r.sqlite").exists()  # nothing written
    return analysis


def images(html: str) -> list[bytes]:
    return [base64.b64decode(x) for x in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_the_po_table_counts_statuses_then_lists_the_pos_at_risk_first(month: Analysis) -> None:
    shown = report.po_report(month)
    html = shown._repr_html_()
    assert html.lstrip().startswith("<style>") and '<div class="billing-app">' in html
    found = [po for po in re.findall(r"PO-[A-Z]", html) if po in set(month.burndown["po_number"])]
    order = list(dict.fromkeys(found))
    assert order[:2] == ["PO-B", "PO-A"]  # exceeded first, fullest first (120 %, 110 %)
    assert set(order) == set(month.burndown["po_number"])
    assert repr(shown) == f"<{len(shown.body):,} characters of HTML>"


def test_the_charts_are_png_images_with_captions(month: Analysis) -> None:
    overview = report.overview(month)
    assert repr(overview) == "<1 charts>"
    (picture,) = images(overview._repr_html_())
    assert picture.startswith(PNG) and 'alt="PO budgets used"' in overview._repr_html_()
    charts = report.po_charts(month)
    consumed = month.burndown.loc[month.burndown["po_number"] != "PO-X", "po_number"]  # nothing on PO-X
    assert sorted(caption for caption, _ in charts.images) == sorted(consumed)
    assert all(data.startswith(PNG) for data in images(charts._repr_html_()))
    assert len(report.po_charts(month, limit=2).images) == 2


def test_no_consumption_draws_no_chart_and_says_so() -> None:
    empty = report.Png([])
    assert empty._repr_html_() == "<p>No charts: nothing consumed on any PO.</p>"


def test_the_exposure_shows_what_is_billed_without_a_po(month: Analysis) -> None:
    html = report.exposure(month)._repr_html_()
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>.*?</td>", html)]
    rows = [cells[i : i + 7] for i in range(0, len(cells), 7)]
    # items without a PO (n1 x1 x2 y1, and b1 held), biggest amount first
    assert rows == [
        ["Cobalt BV", "103", "Remote support", "1", "EUR", "240.00", "0"],
        ["Acme Ltd", "101", "Hardware", "1", "EUR", "200.00", "0"],
        ["Beta GmbH", "102", "Consulting", "1", "EUR", "80.00", "1"],
        ["Cobalt BV", "103", "Hardware", "1", "EUR", "60.00", "0"],
        ["Delta Ltd", "104", "Hardware", "1", "EUR", "40.00", "0"],
    ]
