"""PO burn-down charts as PNG files (matplotlib's Agg canvas; never a display).

Figures are built with ``matplotlib.figure.Figure`` on a ``FigureCanvasAgg`` (not pyplot): no
global backend switch (a notebook keeps its own), no figure registry, and every figure is freed
once saved. ``overview_figure`` and ``po_figure`` return
the figure itself so tests can read back what was plotted (bar widths, line points) by ``gid``:

- overview: one bar per PO with ``gid`` = its ``po_key``; the bar's width is the percent used
  (capped at ``OVERVIEW_CAP`` so one runaway PO does not squash the rest; the label shows the real figure).
- PO chart: lines with ``gid`` ``consumed`` (cumulative step line), ``authorised``, ``projection``.

Amounts become floats here and only here, for drawing: no money is computed from them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from billing_lib.core.burndown import EXCEEDED, EXPIRED, OK, UNKNOWN, WARNING, WARNING_PERCENT
from billing_lib.domain.money import format_minor, from_minor
from billing_lib.io.filenames import safe_filename

STATUS_COLOURS = {
    OK: "#2e7d32",  # green
    WARNING: "#f0a202",  # amber
    EXCEEDED: "#c62828",  # red
    EXPIRED: "#8a8a8a",  # grey
    UNKNOWN: "#7b3fa0",  # purple
}
RISK_ORDER = {EXCEEDED: 0, WARNING: 1, EXPIRED: 2, UNKNOWN: 3, OK: 4}
OVERVIEW_CAP = 200  # percent: bars longer than this are drawn to the cap and labelled with the real figure
OVERVIEW_MAX_ROWS = 60
DPI = 110


def _major(minor: int, currency: str) -> float:
    return float(from_minor(minor, currency))  # drawing only


def _percent_text(value: object) -> str:
    return f"{value} %" if isinstance(value, Decimal) else "—"


def at_risk_first(bd: pd.DataFrame) -> pd.DataFrame:
    """The burn-down rows ordered for attention: exceeded, warning, expired, unknown, ok; fullest first."""
    if bd.empty:
        return bd
    rank = bd["status"].map(RISK_ORDER).fillna(len(RISK_ORDER))
    percent = bd["percent_used"].map(lambda p: float(p) if isinstance(p, Decimal) else -1.0)
    order = pd.DataFrame(
        {
            "rank": rank,
            "percent": -percent,
            "consumed": -bd["consumed_minor"].astype("int64"),
            "po": bd["po_number"].str.casefold(),
        }
    )
    return bd.loc[order.sort_values(["rank", "percent", "consumed", "po"], kind="stable").index]


def day_number(date: pd.Timestamp) -> float:
    """A date as matplotlib draws it on a date axis (days since its epoch)."""
    return float(mdates.date2num(date.to_pydatetime()))  # type: ignore[no-untyped-call]


def _new_figure(width: float, height: float, left: float, top: float = 0.45, bottom: float = 0.6) -> Figure:
    """A figure with fixed margins in inches (automatic layout engines cost more than drawing the chart)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(
        left=left / width, right=1 - 0.15 / width, top=1 - top / height, bottom=bottom / height
    )
    FigureCanvasAgg(fig)
    return fig


# --- overview ----------------------------------------------------------------------------------------


def overview_figure(bd: pd.DataFrame, max_rows: int = OVERVIEW_MAX_ROWS) -> Figure:
    """Horizontal bars of percent used per PO, coloured by status, at-risk POs at the top."""
    rows = at_risk_first(bd).head(max_rows)
    n = max(len(rows), 1)
    labels = [
        _label(str(po), str(customer))
        for po, customer in zip(rows["po_number"], rows["customer_id"], strict=True)
    ]
    longest = max((len(label) for label in labels), default=8)
    fig = _new_figure(10.5, 1.7 + 0.34 * n, left=0.25 + 0.068 * longest, top=0.5, bottom=0.95)
    ax = fig.add_subplot()
    widths = [min(float(p), OVERVIEW_CAP) if isinstance(p, Decimal) else 0.0 for p in rows["percent_used"]]
    colours = [STATUS_COLOURS.get(s, "#444444") for s in rows["status"]]
    positions = list(range(len(rows)))
    bars = ax.barh(positions, widths, color=colours, height=0.65, zorder=2)
    for bar, (_, row) in zip(bars, rows.iterrows(), strict=True):
        bar.set_gid(str(row["po_key"]))
        unknown = not isinstance(row["percent_used"], Decimal)
        ax.text(
            bar.get_width() + 1.5,
            bar.get_y() + bar.get_height() / 2,
            _bar_text(row),
            va="center",
            fontsize=8,
            color=STATUS_COLOURS[UNKNOWN] if unknown else "black",
            zorder=3,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.85},
        )
    ax.set_yticks(positions, labels, fontsize=9)
    ax.set_ylim(n - 0.5, -0.5)  # first row at the top, no empty rows around the bars
    top = min(max([*widths, 100.0]), OVERVIEW_CAP)
    ax.set_xlim(0, top * 1.6)  # room for the labels right of the bars
    step = 25 if top <= 100 else 50
    ax.set_xticks(range(0, int(top) + 1, step))  # no ticks beyond the cap: longer bars are cut there
    for limit, style in ((WARNING_PERCENT, ":"), (100, "--")):
        ax.axvline(limit, color="#333333", linestyle=style, linewidth=1, gid=f"ref_{limit}", zorder=1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.0f} %"))
    ax.set_xlabel("budget used (consumed ÷ authorised)")
    shown = f" (the {len(rows)} most at risk of {len(bd)})" if len(bd) > len(rows) else ""
    as_of = (
        f" at {bd['as_of'].iloc[0]:%Y-%m-%d}"
        if len(bd) and "as_of" in bd and pd.notna(bd["as_of"].iloc[0])
        else ""
    )
    ax.set_title(f"PO budgets used{as_of}{shown}", loc="left", fontsize=12)
    fig.legend(
        handles=[Patch(color=c, label=s) for s, c in STATUS_COLOURS.items()],
        loc="lower center",
        fontsize=8,
        ncols=5,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    ax.grid(axis="x", alpha=0.25)
    if rows.empty:
        ax.text(0.5, 0.5, "no POs", transform=ax.transAxes, ha="center", va="center")
    return fig


def _label(po_number: str, customer_id: str, width: int = 36) -> str:
    label = f"{po_number}  ({customer_id})" if customer_id else po_number
    return label if len(label) <= width else label[: width - 1] + "…"


def _bar_text(row: pd.Series) -> str:
    currency, consumed = (
        str(row["currency"]),
        format_minor(int(row["consumed_minor"]), str(row["currency"]), grouped=True, with_currency=True),
    )
    if not isinstance(row["percent_used"], Decimal):
        return f"not in the PO reference table  ·  {consumed} invoiced"
    text = f"{row['percent_used']} %  ·  {consumed} of {format_minor(int(row['authorised_minor']), currency, grouped=True, with_currency=True)}"
    return text + ("  ·  expired" if row["status"] == EXPIRED else "")


def plot_overview(bd: pd.DataFrame, path: Path, max_rows: int = OVERVIEW_MAX_ROWS) -> Path:
    """Write the overview bar chart to ``path`` (PNG)."""
    return _save(overview_figure(bd, max_rows), path)


# --- one PO -------------------------------------------------------------------------------------------


def po_figure(series: pd.DataFrame, row: pd.Series) -> Figure:
    """One PO's cumulative consumption (step line), its authorised amount and the projection to exhaustion.

    ``series`` holds that PO's rows of ``burndown.burn_series``; ``row`` is its ``burndown`` row.
    """
    currency = str(row["currency"])
    known = not pd.isna(row["authorised_minor"])
    as_of = pd.Timestamp(row["as_of"]) if "as_of" in row and pd.notna(row["as_of"]) else None
    fig = _new_figure(9, 4.6, left=0.85, top=0.4, bottom=0.65)
    ax = fig.add_subplot()
    # dates are drawn as matplotlib day numbers (``mdates.date2num``), amounts in major units
    dates = [day_number(d) for d in pd.to_datetime(series["date"])]
    values = [_major(int(v), currency) for v in series["consumed_minor"]]
    end = day_number(as_of) if as_of is not None else None
    if dates:
        # start from nothing on the first day, and carry the last amount to the period end
        dates, values = [dates[0], *dates], [0.0, *values]
        if end is not None and end > dates[-1]:
            dates.append(end)
            values.append(values[-1])
    elif end is not None:
        dates, values = [end], [0.0]
    ax.step(
        dates,
        values,
        where="post",
        color="#1f4e79",
        linewidth=2,
        label="consumed (cumulative)",
        gid="consumed",
    )
    if dates:
        ax.plot(dates[-1:], values[-1:], "o", color="#1f4e79", markersize=4)
    if known:
        authorised = _major(int(row["authorised_minor"]), currency)
        ax.axhline(
            authorised,
            color=STATUS_COLOURS[EXCEEDED],
            linewidth=1.5,
            gid="authorised",
            label=f"authorised {format_minor(int(row['authorised_minor']), currency, grouped=True, with_currency=True)}",
        )
        ax.axhline(
            authorised * WARNING_PERCENT / 100,
            color=STATUS_COLOURS[WARNING],
            linewidth=1,
            linestyle=":",
            gid="warning",
            label=f"{WARNING_PERCENT} % of authorised",
        )
        exhaustion = row["projected_exhaustion_date"]
        if pd.notna(exhaustion) and end is not None and as_of is not None and exhaustion > as_of and values:
            ax.plot(
                [end, day_number(exhaustion)],
                [values[-1], authorised],
                linestyle="--",
                color="#1f4e79",
                alpha=0.7,
                gid="projection",
                label=f"projection: budget used up {exhaustion:%Y-%m-%d}",
            )
        elif pd.notna(exhaustion) and (as_of is None or exhaustion <= as_of):
            ax.plot([day_number(exhaustion)], [authorised], "X", color=STATUS_COLOURS[EXCEEDED], markersize=9,
                    gid="exhausted", label=f"budget used up {exhaustion:%Y-%m-%d}")  # fmt: skip
    if end is not None and as_of is not None:
        start = day_number(as_of.replace(day=1))
        ax.axvspan(start, end, color="#e8eef5", zorder=0, gid="period", label=f"period {as_of:%Y-%m}")
        ax.axvline(end, color="#999999", linewidth=0.8, linestyle="-.", gid="as_of")
    top = max([*values, _major(int(row["authorised_minor"]), currency) if known else 0.0, 1.0])
    ax.set_ylim(min(0.0, *values), top * 1.1)  # headroom above the budget line
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:,.0f}"))
    ax.set_ylabel(currency)
    locator = mdates.AutoDateLocator(maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.grid(alpha=0.25)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9, edgecolor="none")
    ax.set_title(
        f"{row['po_number']} — {row['status']}",
        loc="left",
        fontsize=13,
        color=STATUS_COLOURS.get(str(row["status"]), "black"),
    )
    ax.set_title(_summary(row), loc="right", fontsize=8)
    return fig


def _summary(row: pd.Series) -> str:
    currency = str(row["currency"])
    customer = f"customer {row['customer_id'] or '?'}"
    consumed = f"{from_minor(int(row['consumed_minor']), currency):,}"
    if pd.isna(row["authorised_minor"]):
        return f"{customer}  ·  {consumed} {currency} invoiced  ·  not in the reference table"
    authorised = format_minor(int(row["authorised_minor"]), currency, grouped=True, with_currency=True)
    remaining = int(row["remaining_minor"])
    left = (
        f"over by {format_minor(-remaining, currency, grouped=True, with_currency=True)}"
        if remaining < 0
        else f"remaining {format_minor(remaining, currency, grouped=True, with_currency=True)}"
    )
    return f"{customer}  ·  {consumed} of {authorised} ({_percent_text(row['percent_used'])})  ·  {left}"


def plot_po_burndown(series_for_one_po: pd.DataFrame, row: pd.Series, path: Path) -> Path:
    """Write one PO's burn-down chart to ``path`` (PNG)."""
    return _save(po_figure(series_for_one_po, row), path)


# --- files --------------------------------------------------------------------------------------------


def safe_name(po_number: str) -> str:
    """A file-name part for a PO number that is safe on every file system (``PO 12/34`` -> ``PO_12_34``)."""
    return safe_filename(str(po_number).replace(" ", "_"))


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    fig.clear()  # free the artists now; the figure is not registered anywhere else
    return path


def write_charts(
    bd: pd.DataFrame, series: pd.DataFrame, folder: Path, max_pos: int = 40, *, at_risk_only: bool = False
) -> list[Path]:
    """``po_overview.png`` and one ``po_<name>.png`` per PO with consumption, most at risk first.

    At most ``max_pos`` PO charts are drawn (only POs not ``ok`` with ``at_risk_only``); the
    overview comes first in the returned list.
    """
    folder = Path(folder)
    written = [plot_overview(bd, folder / "po_overview.png")]
    by_po = dict(tuple(series.groupby("po_key", sort=False))) if len(series) else {}
    used: set[str] = set()
    for _, row in at_risk_first(bd).iterrows():
        if len(written) > max_pos:
            break
        if at_risk_only and row["status"] == "ok":
            break  # at_risk_first puts every ok PO after the rest
        points = by_po.get(row["po_key"])
        if points is None or points.empty:
            continue  # nothing consumed yet: nothing to draw
        name = safe_name(str(row["po_number"]))
        stem, n = f"po_{name}", 2
        while stem.casefold() in used:  # two POs that differ only in punctuation or case
            stem, n = f"po_{name}_{n}", n + 1
        used.add(stem.casefold())
        written.append(plot_po_burndown(points, row, folder / f"{stem}.png"))
    return written


# --- PO coverage by customer ------------------------------------------------------------------------

COVERED, UNCOVERED = "#2e7d32", "#c62828"
COVERAGE_MAX_ROWS = 30


def coverage_figure(by_customer: pd.DataFrame, max_rows: int = COVERAGE_MAX_ROWS) -> Figure:
    """Per customer (``coverage.coverage_by(records, CUSTOMER)``), the share of its billable amount that
    carries a PO (green) and the share without (red), largest uncovered amount at the top.

    Bars have ``gid`` ``with:<customer_id>:<currency>`` and ``without:<customer_id>:<currency>``; their
    widths are the percentages (they add up to 100); the label gives the amount billed without a PO.
    """
    rows = by_customer.head(max_rows)
    n = max(len(rows), 1)
    labels = [
        _label(str(name) or str(cid), str(cid))
        for name, cid in zip(rows["customer_name"], rows["customer_id"], strict=True)
    ]
    longest = max((len(label) for label in labels), default=8)
    fig = _new_figure(10.5, 1.7 + 0.34 * n, left=0.25 + 0.068 * longest, top=0.5, bottom=0.95)
    ax = fig.add_subplot()
    positions = list(range(len(rows)))
    covered = [float(p) if isinstance(p, Decimal) else 0.0 for p in rows["amount_percent"]]
    keys = [f"{cid}:{cur}" for cid, cur in zip(rows["customer_id"], rows["currency"], strict=True)]
    with_bars = ax.barh(positions, covered, color=COVERED, height=0.65, zorder=2)
    without_bars = ax.barh(
        positions, [100.0 - c for c in covered], left=covered, color=UNCOVERED, height=0.65, zorder=2
    )
    for bar, key in zip(with_bars, keys, strict=True):
        bar.set_gid(f"with:{key}")
    for bar, key, (_, row) in zip(without_bars, keys, rows.iterrows(), strict=True):
        bar.set_gid(f"without:{key}")
        cur = str(row["currency"])
        ax.text(
            101.5,
            bar.get_y() + bar.get_height() / 2,
            f"{_percent_text(row['amount_percent'])} covered  ·  {format_minor(int(row['without_po_minor']), cur, grouped=True, with_currency=True)} "
            f"without a PO ({int(row['without_po']):,} of {int(row['records']):,} records)",
            va="center",
            fontsize=8,
            zorder=3,
        )
    ax.set_yticks(positions, labels, fontsize=9)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 190)
    ax.set_xticks(range(0, 101, 25))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.0f} %"))
    ax.set_xlabel("share of the billable amount")
    shown = f" (the {len(rows)} largest gaps of {len(by_customer)})" if len(by_customer) > len(rows) else ""
    ax.set_title(f"PO coverage by customer{shown}", loc="left", fontsize=12)
    fig.legend(
        handles=[Patch(color=COVERED, label="with a PO"), Patch(color=UNCOVERED, label="without a PO")],
        loc="lower center",
        fontsize=8,
        ncols=2,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    ax.grid(axis="x", alpha=0.25)
    if rows.empty:
        ax.text(0.5, 0.5, "no billable records", transform=ax.transAxes, ha="center", va="center")
    return fig


# --- amounts and hours per PO ------------------------------------------------------------------------

EARLIER_COLOUR, THIS_PERIOD_COLOUR = "#9fb3c8", "#1f4e79"
PER_PO_MAX_ROWS = 40


def _hours_float(value: object) -> float:
    return float(value) if isinstance(value, Decimal) else 0.0  # drawing only


def amounts_hours_figure(bd: pd.DataFrame, max_rows: int = PER_PO_MAX_ROWS) -> Figure:
    """Two panels per PO with something consumed, most at risk first: the amount (left, in the PO's
    currency) and the labour hours (right), each as earlier + this period, with the authorised
    amount / hours as a black mark.

    Bars: ``gid`` ``amount_earlier:<po_key>``, ``amount_this:<po_key>``, ``hours_earlier:<po_key>``,
    ``hours_this:<po_key>``; marks: lines ``authorised:<po_key>`` and ``authorised_hours:<po_key>``
    whose x is the budget.
    """
    used = bd[
        (bd["consumed_minor"] != 0) | bd["hours_consumed"].map(lambda h: isinstance(h, Decimal) and h != 0)
    ]
    rows = at_risk_first(used).head(max_rows)
    n = max(len(rows), 1)
    labels = [_label(str(po), str(c)) for po, c in zip(rows["po_number"], rows["customer_id"], strict=True)]
    longest = max((len(label) for label in labels), default=8)
    fig = _new_figure(12.0, 1.8 + 0.34 * n, left=0.25 + 0.068 * longest, top=0.5, bottom=0.95)
    amount_ax, hours_ax = fig.subplots(1, 2, sharey=True)
    positions = list(range(len(rows)))
    keys = [str(k) for k in rows["po_key"]]
    currencies = [str(c) for c in rows["currency"]]
    earlier = [_major(int(m), c) for m, c in zip(rows["previously_invoiced_minor"], currencies, strict=True)]
    this = [_major(int(m), c) for m, c in zip(rows["this_period_minor"], currencies, strict=True)]
    h_earlier = [_hours_float(h) for h in rows["hours_previously"]]
    h_this = [_hours_float(h) for h in rows["hours_this_period"]]
    drawn = (
        (amount_ax, earlier, None, EARLIER_COLOUR, "amount_earlier"),
        (amount_ax, this, earlier, THIS_PERIOD_COLOUR, "amount_this"),
        (hours_ax, h_earlier, None, EARLIER_COLOUR, "hours_earlier"),
        (hours_ax, h_this, h_earlier, THIS_PERIOD_COLOUR, "hours_this"),
    )
    for ax, widths, lefts, colour, name in drawn:  # one call per series: bars per PO are many artists
        bars = ax.barh(positions, widths, left=lefts, color=colour, height=0.65, zorder=2)
        for bar, key in zip(bars, keys, strict=True):
            bar.set_gid(f"{name}:{key}")
    for i, (_, row) in enumerate(rows.iterrows()):
        key, cur = keys[i], currencies[i]
        if not pd.isna(row["authorised_minor"]):
            budget = _major(int(row["authorised_minor"]), cur)
            amount_ax.plot(
                [budget, budget], [i - 0.42, i + 0.42], color="black", lw=2, gid=f"authorised:{key}", zorder=3
            )
        amount_ax.text(
            max(earlier[i] + this[i], 0),
            i,
            f" {format_minor(int(row['consumed_minor']), cur, grouped=True, with_currency=True)}",
            va="center",
            fontsize=7,
            zorder=4,
        )
        h_before, h_now = h_earlier[i], h_this[i]
        if isinstance(row["authorised_hours"], Decimal):
            budget_h = float(row["authorised_hours"])
            hours_ax.plot(
                [budget_h, budget_h],
                [i - 0.42, i + 0.42],
                color="black",
                lw=2,
                gid=f"authorised_hours:{key}",
                zorder=3,
            )
        if h_before + h_now:
            hours_ax.text(
                h_before + h_now, i, f" {row['hours_consumed']} h", va="center", fontsize=7, zorder=4
            )
    amount_ax.set_yticks(positions, labels, fontsize=9)
    amount_ax.set_ylim(n - 0.5, -0.5)
    amount_ax.set_xlabel("amount invoiced (PO currency); black mark: authorised")
    hours_ax.set_xlabel("labour hours; black mark: authorised hours")
    for ax in (amount_ax, hours_ax):
        ax.grid(axis="x", alpha=0.25)
        ax.margins(x=0.25)
        ax.set_xlim(left=0)
    amount_ax.set_title("Amounts and hours per PO", loc="left", fontsize=12)
    fig.legend(
        handles=[
            Patch(color=EARLIER_COLOUR, label="earlier invoices"),
            Patch(color=THIS_PERIOD_COLOUR, label="this period"),
        ],
        loc="lower center",
        fontsize=8,
        ncols=2,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    if rows.empty:
        amount_ax.text(
            0.5, 0.5, "nothing consumed on any PO", transform=amount_ax.transAxes, ha="center", va="center"
        )
    return fig


def plot_coverage(by_customer: pd.DataFrame, path: Path, max_rows: int = COVERAGE_MAX_ROWS) -> Path:
    """Write ``coverage_figure`` to ``path`` (PNG)."""
    return _save(coverage_figure(by_customer, max_rows), path)


def plot_amounts_hours(bd: pd.DataFrame, path: Path, max_rows: int = PER_PO_MAX_ROWS) -> Path:
    """Write ``amounts_hours_figure`` to ``path`` (PNG)."""
    return _save(amounts_hours_figure(bd, max_rows), path)
