"""The month's PO charts as PNG bytes (for an image widget, ``page.Png`` or ``IPython.display.Image``)."""

from __future__ import annotations

import io

import pandas as pd

from billing_lib.io.charts import at_risk_first, overview_figure, po_figure
from billing_lib.run.pipeline import Analysis


def figure_png(figure: object) -> bytes:
    """A matplotlib figure as PNG bytes (for an image widget or ``IPython.display.Image``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")  # type: ignore[attr-defined]
    figure.clear()  # type: ignore[attr-defined]
    return buffer.getvalue()


def overview_png(bd: pd.DataFrame) -> bytes:
    return figure_png(overview_figure(bd))


def po_chart_pngs(analysis: Analysis, limit: int = 12) -> list[tuple[str, bytes]]:
    """(PO number, chart) for the POs with consumption, most at risk first, at most ``limit``."""
    by_po = dict(tuple(analysis.series.groupby("po_key", sort=False))) if len(analysis.series) else {}
    charts: list[tuple[str, bytes]] = []
    for _, row in at_risk_first(analysis.burndown).iterrows():
        if len(charts) >= limit:
            break
        points = by_po.get(row["po_key"])
        if points is not None and not points.empty:
            charts.append((str(row["po_number"]), figure_png(po_figure(points, row))))
    return charts
