"""The pieces every page of the notebooks and the app is built from: the house CSS, escaping, numbers
as text, tables and cards, and ``Html`` / ``Png``, which a notebook displays as they are.

Every piece of text that comes from the inputs is passed through ``html.escape`` (``esc``) before it
reaches a page: customer names, PO numbers and descriptions are data, never markup.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from decimal import Decimal

import pandas as pd

from billing_lib.domain.money import format_minor
from billing_lib.domain.text import is_missing as missing
from billing_lib.io.charts import STATUS_COLOURS

CSS = """
<style>
.billing-app { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733; }
.billing-app h2, .billing-app h3 { margin: 0.2em 0 0.4em 0; color: #1f4e79; }
table.billing-table { border-collapse: collapse; font-size: 13px; margin: 0.3em 0 0.8em 0; }
table.billing-table th { background: #1f4e79; color: white; text-align: left; padding: 4px 10px;
  font-weight: 600; }
table.billing-table td { padding: 3px 10px; border-bottom: 1px solid #e3e7ec; vertical-align: top;
  text-align: left; white-space: nowrap; }
table.billing-table td.wrap { white-space: normal; min-width: 16em; }
table.billing-table tr:nth-child(even) td { background: #f6f8fa; }
table.billing-table td.num, table.billing-table th.num { text-align: right; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
table.billing-table tr.total td { font-weight: 700; border-top: 2px solid #1f4e79; background: white; }
.billing-head { display: grid; gap: 3px 14px;
  grid-template-columns: max-content minmax(12em, 1fr) max-content minmax(12em, 1fr);
  font-size: 13px; margin: 0.2em 0 0.6em 0; max-width: 1000px; }
.billing-head .key { color: #5b6773; }
.billing-cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 0.4em 0 0.6em 0; }
.billing-card { border: 1px solid #d8dee4; border-left: 5px solid #1f4e79; border-radius: 4px;
  padding: 6px 14px; min-width: 130px; background: white; }
.billing-card .k { color: #5b6773; font-size: 12px; }
.billing-card .v { font-size: 21px; font-weight: 700; color: #1d2733; }
.billing-card .s { color: #5b6773; font-size: 12px; max-width: 420px; }
.billing-card.bad { border-left-color: #c62828; }
.billing-card.bad .v { color: #c62828; }
.billing-card.warn { border-left-color: #f0a202; }
.billing-card.good { border-left-color: #2e7d32; }
.billing-card.good .v { color: #2e7d32; }
.billing-chip { display: inline-block; padding: 0 8px; border-radius: 9px; color: white; font-size: 12px; }
.billing-note { color: #5b6773; font-size: 12px; }
.billing-count { font-size: 15px; }
.billing-count b { font-size: 22px; color: #1f4e79; }
pre.billing-checklist { font-size: 12.5px; line-height: 1.35; background: #f6f8fa; padding: 10px 14px;
  border-left: 4px solid #1f4e79; white-space: pre-wrap; }
.billing-error { color: #c62828; font-weight: 600; }
.billing-scroll, .billing-burndown, .billing-preview, .billing-register { overflow-x: auto; max-width: 100%; }
.billing-flags { border-left: 4px solid #f0a202; background: #fff8e6; padding: 4px 12px; font-size: 13px; }
.billing-confirm { border: 2px solid #c62828; border-radius: 4px; padding: 6px 14px; background: #fff5f5; }
.billing-ok { color: #2e7d32; font-weight: 600; }
</style>
"""


def esc(value: object) -> str:
    """Any value as safe HTML text ('' for missing)."""
    return "" if missing(value) else html.escape(str(value), quote=True)


def money(minor: object, currency: object) -> str:
    """``1,234.50`` for minor units in the currency; '' when missing."""
    return format_minor(minor, currency, grouped=True)


def decimal_text(value: object) -> str:
    """A quantity or price with at least two decimals (``190.00``, ``1.00``, ``0.125``), '' when missing."""
    if isinstance(value, float | int) and not isinstance(value, bool) and not missing(value):
        value = Decimal(str(value))
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        shown = value.quantize(Decimal("0.01")) if isinstance(exponent, int) and exponent > -2 else value
        return f"{shown:,}"
    return "" if missing(value) else str(value)


def date_text(value: object) -> str:
    return "" if missing(value) else f"{pd.Timestamp(str(value)):%Y-%m-%d}"


def chip(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#444444")
    return f'<span class="billing-chip" style="background:{colour}">{esc(status)}</span>'


def html_table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Iterable[int] = (),
    total: Sequence[str] | None = None,
    css: str = "billing-table",
    wrap: Iterable[int] = (),
) -> str:
    """A table of cells that are HTML already (escape data with ``esc``).

    ``numeric`` columns align right; ``wrap`` columns (long text) may wrap, the others keep to one line.
    """
    classes = {**{i: ' class="wrap"' for i in wrap}, **{i: ' class="num"' for i in numeric}}

    def cells(values: Sequence[str], tag: str) -> str:
        return "".join(f"<{tag}{classes.get(i, '')}>{v}</{tag}>" for i, v in enumerate(values))

    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    foot = f'<tr class="total">{cells(total, "td")}</tr>' if total else ""
    head = f"<thead><tr>{cells(header, 'th')}</tr></thead>"
    return f'<table class="{css}">{head}<tbody>{body}{foot}</tbody></table>'


def plural(count: int, word: str) -> str:
    """``1 customer``, ``2 customers``, ``1,234 items``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def cut_note(shown: int, total: int, what: str) -> str:
    if total <= shown:
        return ""
    return (
        f'<p class="billing-note">The first {shown} of {total:,} {esc(what)} are shown; narrow the filters '
        "or open the CSV outputs for all of them.</p>"
    )


def card(key: str, value: str, sub: str = "", tone: str = "") -> str:
    """One figure of the month as a card (``tone``: '', good, warn, bad); arguments are escaped here."""
    small = f'<div class="s">{esc(sub)}</div>' if sub else ""
    inner = f'<div class="k">{esc(key)}</div><div class="v">{esc(value)}</div>{small}'
    return f'<div class="billing-card {tone}">{inner}</div>'


class Html:
    """A piece of HTML a notebook displays as is (``_repr_html_``), with the house CSS."""

    def __init__(self, body: str) -> None:
        self.body = body

    def _repr_html_(self) -> str:
        return f'{CSS}<div class="billing-app">{self.body}</div>'

    def __repr__(self) -> str:  # plain-text front ends (and papermill logs) get the gist
        return f"<{len(self.body):,} characters of HTML>"


class Png:
    """PNG images a notebook displays in a column (``_repr_html_``) with an optional caption each."""

    def __init__(self, images: Sequence[tuple[str, bytes]]) -> None:
        self.images = list(images)

    def _repr_html_(self) -> str:
        return (
            "".join(
                f'<figure><img alt="{esc(c)}" src="data:image/png;base64,{base64.b64encode(b).decode()}"/>'
                f"</figure>"
                for c, b in self.images
            )
            or "<p>No charts: nothing consumed on any PO.</p>"
        )

    def __repr__(self) -> str:
        return f"<{len(self.images)} charts>"
