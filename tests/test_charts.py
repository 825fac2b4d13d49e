"""PO charts: real PNG files, and the numbers drawn are the burn-down table's (read back from the figures)."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
import pytest

from billing_lib.core import burndown as bdm
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import ITEM_COLUMNS, prepare_items
from billing_lib.domain.period import Period
from billing_lib.io import charts
from billing_lib.io.inputs import load_inputs

PERIOD = Period.parse("2026-10")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

ITEMS = """\
id,itemDate,companyID,quantity,extendedPrice,purchaseOrderNumber
a1,2026-10-03,101,1,600.00,PO-A
a2,2026-10-20,101,1,500.00,PO-A
w1,2026-10-10,101,1,850.00,PO-W
k1,2026-10-12,101,1,100.00,PO-OK
r1,2026-10-13,101,1,2500.00,PO/RUN 1
x1,2026-10-05,101,1,50.00,PO-OLD
u1,2026-10-06,101,1,75.00,PO-NEW
"""
REFERENCE = """\
PO Number,Customer ID,Authorised Amount,Valid From,Valid To
PO-A,101,1000.00,2026-01-01,2026-12-31
PO-W,101,1000.00,2026-01-01,2026-12-31
PO-OK,101,1000.00,2026-01-01,2026-12-31
PO/RUN 1,101,1000.00,2026-01-01,2026-12-31
PO-OLD,101,1000.00,2026-01-01,2026-06-30
PO-IDLE,101,1000.00,2026-01-01,2026-12-31
"""


@pytest.fixture()
def month(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "BillingItems.csv").write_text(textwrap.dedent(ITEMS))
    (folder / "po_reference.csv").write_text(textwrap.dedent(REFERENCE))
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, PERIOD)
    ref = reference_table(inputs.table("po_budgets"))
    prep, ref = check_pos(prep, ref)
    return bdm.burndown(prep.items, ref, PERIOD), bdm.burn_series(prep.items, ref, period=PERIOD)


def is_png(path: Path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_write_charts_writes_the_overview_first_then_pos_at_risk(month, tmp_path):
    bd, series = month
    paths = charts.write_charts(bd, series, tmp_path / "charts")
    assert paths[0].name == "po_overview.png"
    names = [p.name for p in paths[1:]]
    # exceeded (fullest first), warning, expired, unknown, ok; PO-IDLE has nothing to draw
    assert names == ["po_PO_RUN_1.png", "po_PO-A.png", "po_PO-W.png", "po_PO-OLD.png", "po_PO-NEW.png",
                     "po_PO-OK.png"]  # fmt: skip
    assert all(is_png(p) for p in paths)
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == sorted(p.name for p in paths)


def test_write_charts_stops_at_max_pos(month, tmp_path):
    bd, series = month
    paths = charts.write_charts(bd, series, tmp_path / "charts", max_pos=2)
    assert [p.name for p in paths] == ["po_overview.png", "po_PO_RUN_1.png", "po_PO-A.png"]


def test_overview_bars_are_the_percent_used(month):
    bd, _ = month
    fig = charts.overview_figure(bd)
    ax = fig.axes[0]
    drawn = {bar.get_gid(): bar.get_width() for bar in ax.patches}
    assert set(drawn) == set(bd["po_key"])
    for row in bd.itertuples():
        if isinstance(row.percent_used, Decimal):
            assert drawn[row.po_key] == pytest.approx(min(float(row.percent_used), charts.OVERVIEW_CAP))
        else:
            assert drawn[row.po_key] == 0  # unknown PO: no budget, no bar
    # the runaway PO is drawn to the cap and labelled with its real figure
    assert drawn["po/run 1"] == charts.OVERVIEW_CAP
    assert any(t.get_text().startswith("250.00 %") for t in ax.texts)
    colours = {bar.get_gid(): bar.get_facecolor() for bar in ax.patches}
    assert colours["po-a"] == pytest.approx(_rgba(charts.STATUS_COLOURS["exceeded"]))
    assert colours["po-w"] == pytest.approx(_rgba(charts.STATUS_COLOURS["warning"]))
    assert colours["po-old"] == pytest.approx(_rgba(charts.STATUS_COLOURS["expired"]))
    assert colours["po-new"] == pytest.approx(_rgba(charts.STATUS_COLOURS["unknown"]))
    assert colours["po-ok"] == pytest.approx(_rgba(charts.STATUS_COLOURS["ok"]))
    assert {line.get_gid(): line.get_xdata()[0] for line in ax.lines} == {"ref_80": 80, "ref_100": 100}


def test_po_chart_ends_at_the_consumed_amount_and_projects_to_exhaustion(month):
    bd, series = month
    row = bd[bd["po_number"] == "PO-W"].iloc[0]
    assert row["status"] == "warning"
    # 850.00 in the last 30 days, 150.00 left: ceil(150 * 30 / 850) = 6 days after 2026-10-31
    assert row["projected_exhaustion_date"] == pd.Timestamp("2026-11-06")
    fig = charts.po_figure(series[series["po_key"] == "po-w"], row)
    lines = {line.get_gid(): line for line in fig.axes[0].lines if line.get_gid()}
    consumed = lines["consumed"]
    assert consumed.get_ydata()[-1] == pytest.approx(850.00)
    assert list(consumed.get_ydata()) == pytest.approx([0.0, 850.0, 850.0])
    assert consumed.get_xdata()[-1] == charts.day_number(pd.Timestamp("2026-10-31"))
    assert list(lines["authorised"].get_ydata()) == pytest.approx([1000.0, 1000.0])
    projection = lines["projection"]
    assert list(projection.get_ydata()) == pytest.approx([850.0, 1000.0])
    assert mdates.num2date(projection.get_xdata()[-1]).date().isoformat() == "2026-11-06"
    assert "PO-W" in fig.axes[0].get_title(loc="left") and "warning" in fig.axes[0].get_title(loc="left")


def test_po_chart_steps_through_every_day_of_consumption(month):
    bd, series = month
    row = bd[bd["po_number"] == "PO-A"].iloc[0]
    fig = charts.po_figure(series[series["po_key"] == "po-a"], row)
    consumed = next(line for line in fig.axes[0].lines if line.get_gid() == "consumed")
    assert list(consumed.get_ydata()) == pytest.approx([0.0, 600.0, 1100.0, 1100.0])
    assert consumed.get_ydata()[-1] == row["consumed_minor"] / 100
    assert not [line for line in fig.axes[0].lines if line.get_gid() == "projection"]  # already exhausted


def test_unknown_po_chart_has_no_budget_line(month, tmp_path):
    bd, series = month
    row = bd[bd["po_number"] == "PO-NEW"].iloc[0]
    fig = charts.po_figure(series[series["po_key"] == "po-new"], row)
    gids = {line.get_gid() for line in fig.axes[0].lines}
    assert "authorised" not in gids and "consumed" in gids
    assert is_png(charts.plot_po_burndown(series[series["po_key"] == "po-new"], row, tmp_path / "u.png"))


def test_overview_of_nothing(tmp_path):
    nothing = pd.DataFrame(columns=list(ITEM_COLUMNS)).astype(
        {"amount_minor": "int64", "item_date": "datetime64[ns]"}
    )
    ref = reference_table(pd.DataFrame())
    bd = bdm.burndown(nothing, ref, PERIOD)
    paths = charts.write_charts(bd, bdm.burn_series(nothing, ref, period=PERIOD), tmp_path)
    assert [p.name for p in paths] == ["po_overview.png"] and is_png(paths[0])


def test_safe_names():
    assert charts.safe_name("PO 12/34") == "PO_12_34"
    assert charts.safe_name("../..") == "_"  # no separator and no dots left to climb with
    assert charts.safe_name("Bestellung 7/été") == "Bestellung_7_été"  # letters of any script are kept
    assert charts.safe_name("CON") == "_CON"  # a Windows device name never stands alone


def _rgba(hex_colour: str) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    return to_rgba(hex_colour)


# --- on the PO tracking month (po_month) --------------------------------------------------


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


def test_amounts_and_hours_chart_draws_earlier_this_period_and_budgets(tracking_month):
    fig = charts.amounts_hours_figure(tracking_month.burndown)
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
