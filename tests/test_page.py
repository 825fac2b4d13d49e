"""The page toolkit (``ui.page``): escaping, numbers as text, tables, cards, and the display objects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from billing_lib.ui import page


def test_text_from_the_inputs_is_escaped_and_missing_is_empty() -> None:
    assert page.esc("Tom & Jerry <script>") == "Tom &amp; Jerry &lt;script&gt;"
    assert page.esc('PO "1"') == "PO &quot;1&quot;"
    for nothing in (None, float("nan"), pd.NA, pd.NaT):
        assert page.missing(nothing) and page.esc(nothing) == ""
    assert not page.missing(0) and not page.missing("")


def test_numbers_as_text() -> None:
    assert page.money(123450, "EUR") == "1,234.50"
    assert page.money(1234, "JPY") == "1,234"  # no minor unit
    assert page.money(None, "EUR") == ""
    assert page.decimal_text(Decimal("190")) == "190.00"
    assert page.decimal_text(Decimal("0.125")) == "0.125"
    assert page.decimal_text(1.5) == "1.50"
    assert page.date_text(dt.date(2026, 10, 5)) == "2026-10-05" and page.date_text(None) == ""
    assert page.plural(1, "customer") == "1 customer" and page.plural(1234, "item") == "1,234 items"


def test_tables_align_numbers_right_and_let_long_text_wrap() -> None:
    table = page.html_table(["Name", "Amount"], [["A", "1.00"]], numeric=(1,), wrap=(0,), total=["", "1.00"])
    assert '<th class="wrap">Name</th><th class="num">Amount</th>' in table
    assert '<td class="wrap">A</td><td class="num">1.00</td>' in table
    assert '<tr class="total">' in table


def test_a_cut_table_says_so() -> None:
    assert page.cut_note(200, 200, "POs") == ""
    assert "The first 200 of 1,500 POs" in page.cut_note(200, 1500, "POs")


def test_cards_and_chips_escape_what_they_show() -> None:
    card = page.card("Held", "<3>", "kept off", "warn")
    assert 'class="billing-card warn"' in card and "&lt;3&gt;" in card
    assert "<b>" not in page.chip("<b>")


def test_display_objects_carry_the_house_css() -> None:
    shown = page.Html("<p>hi</p>")._repr_html_()
    assert shown.startswith(page.CSS) and '<div class="billing-app"><p>hi</p></div>' in shown
    assert repr(page.Html("x" * 1500)) == "<1,500 characters of HTML>"
    assert "No charts" in page.Png([])._repr_html_()
    image = page.Png([("PO <1>", b"\x89PNG")])._repr_html_()
    assert 'alt="PO &lt;1&gt;"' in image and "data:image/png;base64,iVBORw==" in image
