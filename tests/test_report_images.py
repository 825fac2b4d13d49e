"""The PO charts as PNG bytes (``ui.report_images``)."""

from __future__ import annotations

from test_report_html import burndown

from billing_lib.ui import report_images

PNG = b"\x89PNG\r\n\x1a\n"


def test_figure_png_is_a_png_and_clears_the_figure() -> None:
    from matplotlib.figure import Figure

    figure = Figure()
    figure.add_subplot().plot([1, 2], [3, 4])
    assert report_images.figure_png(figure).startswith(PNG)
    assert not figure.axes  # cleared: a page of many charts does not keep them all


def test_the_overview_draws_every_po() -> None:
    bd = burndown()
    bd["po_key"] = bd["po_number"]
    assert report_images.overview_png(bd).startswith(PNG)
