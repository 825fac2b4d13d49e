"""What the notebooks show: their parameters as ``RunOptions``, and the month as escaped HTML and PNG charts.

Both notebooks are a parameters cell plus calls into this module and ``widgets``; nothing here
writes invoices. Every piece of text that comes from the inputs is passed through ``html.escape``
before it reaches a page: customer names, PO numbers and descriptions are data, never markup.

Paths in a notebook's parameters are relative to the ``notebooks/`` folder (where Jupyter, Voilà,
nbval and ``billing batch`` run them), whatever the kernel's working folder is. Two environment
variables replace the defaults when set: ``BILLING_INPUTS`` the sample input folder, and
``BILLING_OUTPUTS`` the ``outputs/`` folder (``locations.notebook_inputs`` / ``notebook_outputs_root``).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from billing_lib.core.burndown import EXCEEDED, EXPIRED, OK, UNKNOWN, WARNING
from billing_lib.core.consolidate import LABELS, Comparison, normalise_method
from billing_lib.domain.errors import UsageError
from billing_lib.domain.money import format_minor
from billing_lib.domain.records import Invoice, Issue
from billing_lib.domain.text import is_missing as missing
from billing_lib.io import locations
from billing_lib.io.charts import STATUS_COLOURS, at_risk_first, overview_figure, po_figure
from billing_lib.run.pipeline import Analysis, RunOptions, analyse

NOTEBOOK_INPUTS = "../data/sample"  # the notebooks' default ``inputs``; BILLING_INPUTS replaces it when set
MAX_ROWS = 200  # longest table a page shows; the CSV outputs carry every row

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


# --- parameters -> options ---------------------------------------------------------------------


def notebook_path(value: str | Path) -> Path:
    """A notebook parameter's path: absolute as given, or relative to the ``notebooks/`` folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (locations.NOTEBOOK_DIR / path).resolve()


def inputs_path(value: str | Path) -> Path:
    """The input folder: the parameter, or ``locations.notebook_inputs()`` while it is the default."""
    if str(value) in ("", NOTEBOOK_INPUTS):
        return locations.notebook_inputs()
    return notebook_path(value)


def options_from_parameters(
    inputs: str | Path = NOTEBOOK_INPUTS,
    period: str = locations.DEFAULT_PERIOD,
    method: str = locations.DEFAULT_METHOD,
    force_method: bool = False,
    out: str | Path = "",
    draft: bool = True,
    over_budget_policy: str = "flag",
    register: str | Path = "",
    split_by_contact: bool = False,
    number_format: str = locations.DEFAULT_NUMBER_FORMAT,
    template: str | Path = "",
    excel: bool = True,
    invoice_date: str = "",
    documents: bool = True,
) -> RunOptions:
    """The ``RunOptions`` a notebook's parameters stand for (empty ``out``: ``outputs/<period>/``)."""
    root = locations.notebook_outputs_root()
    return RunOptions(
        inputs=inputs_path(inputs),
        period=str(period).strip(),
        method=normalise_method(method),
        force_method=bool(force_method),
        out=notebook_path(out) if str(out) else root / str(period).strip(),
        draft=bool(draft),
        register=notebook_path(register) if str(register) else root / "register.sqlite",
        over_budget_policy=over_budget_policy,
        split_by_contact=bool(split_by_contact),
        number_format=number_format,
        template=notebook_path(template) if str(template) else None,
        excel=bool(excel),
        documents=bool(excel) and bool(documents),
        invoice_date=_date(invoice_date),
    ).checked()


def _date(text: str) -> dt.date | None:
    if not str(text).strip():
        return None
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError(f"invoice_date {text!r} is not a date of the form YYYY-MM-DD") from None


def load(options: RunOptions) -> Analysis:
    """The month computed without writing anything (what ``po_burndown.ipynb`` shows)."""
    return analyse(options)


# --- formatting ----------------------------------------------------------------------------------


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


# --- invoices ------------------------------------------------------------------------------------


def invoice_labels(invoices: pd.DataFrame) -> list[str]:
    """How invoices are listed in the picker: number · customer · PO(s) · total."""
    columns = ("invoice_number", "customer_name", "po_number", "total_minor", "currency")
    return [
        f"{number} · {name}{f' · {po}' if po else ''} · {money(total, cur)} {cur}"
        for number, name, po, total, cur in zip(*(invoices[c] for c in columns), strict=True)
    ]


def invoices_html(invoices: pd.DataFrame, limit: int = MAX_ROWS) -> str:
    """The invoices of a consolidation as a table: number, customer, PO(s), items, net, tax, total."""
    rows = [
        [
            esc(r.invoice_number),
            esc(r.customer_name),
            esc(r.po_number),
            esc(r.method),
            f"{r.item_count:,}",
            esc(r.currency),
            money(r.net_minor, r.currency),
            money(r.tax_minor, r.currency),
            money(r.total_minor, r.currency),
        ]
        for r in invoices.head(limit).itertuples(index=False)
    ]
    header = ["Invoice", "Customer", "PO number(s)", "Method", "Items", "Cur.", "Net", "Tax", "Total"]
    table = html_table(header, rows, numeric=(4, 6, 7, 8), wrap=(1, 2))
    return table + cut_note(limit, len(invoices), "invoices")


def invoice_html(invoice: Invoice, max_lines: int = MAX_ROWS) -> str:
    """One invoice as the customer would read it: header, lines, net / tax / total."""
    cur = invoice.currency
    head = [
        ("Customer", f"{invoice.customer.name} ({invoice.customer_id})"),
        ("From", invoice.billing_entity.name),
        ("Invoice date", f"{invoice.invoice_date:%Y-%m-%d}"),
        ("Period", invoice.period),
        ("PO number(s)", "; ".join(invoice.po_numbers) or "—"),
        ("Billing contact", invoice.billing_contact or "—"),
        ("Payment terms", invoice.payment_terms),
        (
            "Grouped by",
            f"{LABELS.get(invoice.method, invoice.method)}: {invoice.group_key or '(one per customer)'}",
        ),
    ]
    head_html = "".join(f'<div class="key">{esc(k)}</div><div>{esc(v)}</div>' for k, v in head)
    lines = [
        [
            f"{line.date:%Y-%m-%d}",
            esc(line.description),
            esc(line.po_number),
            decimal_text(line.quantity),
            decimal_text(line.unit_price),
            f"{line.item_count:,}",
            f"{line.amount:,}",
        ]
        for line in invoice.lines[:max_lines]
    ]
    blank = ["", "", "", "", ""]
    totals = [
        [*blank, "Net", f"{invoice.net:,}"],
        [*blank, f"Tax {esc(invoice.tax_rate)} %", f"{invoice.tax:,}"],
    ]
    table = html_table(
        ["Date", "Description", "PO", "Quantity", "Unit price", "Items", f"Amount ({esc(cur)})"],
        lines + totals,
        numeric=(3, 4, 5, 6),
        wrap=(1,),
        total=[*blank, f"Total {esc(cur)}", f"{invoice.total:,}"],
    )
    title = f"{invoice.title} {invoice.invoice_number}"
    return (
        f"<h3>{esc(title)}</h3><div class='billing-head'>{head_html}</div>{table}"
        + cut_note(max_lines, len(invoice.lines), "lines")
        + f'<p class="billing-note">{len(invoice.items):,} source items on {len(invoice.lines):,} lines.</p>'
    )


def flags_html(flags: Sequence[Issue], limit: int = 50) -> str:
    """The flags of the items an invoice shows, each as its message (they are invoiced, but worth a look)."""
    if not flags:
        return ""
    items = "".join(f"<li>{esc(f.message)}</li>" for f in flags[:limit])
    more = f"<li>… and {len(flags) - limit:,} more (see the exceptions)</li>" if len(flags) > limit else ""
    return (
        f'<div class="billing-flags"><b>{plural(len(flags), "flag")} on this invoice</b>'
        f"<ul>{items}{more}</ul></div>"
    )


def card(key: str, value: str, sub: str = "", tone: str = "") -> str:
    """One figure of the month as a card (``tone``: '', good, warn, bad); arguments are escaped here."""
    small = f'<div class="s">{esc(sub)}</div>' if sub else ""
    inner = f'<div class="k">{esc(key)}</div><div class="v">{esc(value)}</div>{small}'
    return f'<div class="billing-card {tone}">{inner}</div>'


def header_html(analysis: Analysis, options: RunOptions) -> str:
    """The month at a glance: inputs and output, rows read, to invoice, held, flags, ready or not."""
    c = analysis.checklist
    amounts = " · ".join(f"{Decimal(amount):,} {cur}" for cur, amount in c.to_invoice)
    ready = (
        card("Checklist", "not ready", "; ".join(c.blocking_reasons), "bad")
        if c.blocking
        else card("Checklist", "ready", "nothing held, no PO taken over budget", "good")
    )
    cards = "".join(
        [
            card("Billable rows read", f"{c.read:,}"),
            card("To invoice", f"{c.billable:,}", amounts),
            card("Held", f"{c.held:,}", "kept off every invoice", "warn" if c.held else "good"),
            card("Flags", f"{c.flagged:,}", "invoiced, worth a look", "warn" if c.flagged else "good"),
            ready,
        ]
    )
    kind = (
        "draft run (DRAFT- numbers, nothing recorded)"
        if options.draft
        else "final run (numbers in the register)"
    )
    return (
        f"<h2>Billing workbook · {esc(options.period)}</h2>"
        f'<p class="billing-note">Inputs <code>{esc(options.inputs)}</code> · output '
        f"<code>{esc(options.out_dir)}</code> · {esc(kind)}</p>"
        f'<div class="billing-cards">{cards}</div>'
    )


def count_html(count: int, total: int, draft: bool, method: str) -> str:
    kind = "draft invoices" if draft else "invoices"
    shown = f" of {total:,}" if count != total else ""
    return (
        f'<div class="billing-count"><b>{count:,}</b>{shown} {kind} · {esc(LABELS.get(method, method))}</div>'
    )


# --- method comparison ---------------------------------------------------------------------------


def comparison_html(comparison: Comparison, limit: int = MAX_ROWS) -> str:
    """Invoices per method side by side: the summary, invoices per customer, and how many items move."""
    summary = [
        [
            esc(LABELS.get(str(r.method), r.method)),
            f"{r.invoices:,}",
            f"{r.items:,}",
            f"{r.credit_notes:,}",
            esc(r.net),
        ]
        for r in comparison.summary.itertuples(index=False)
    ]
    parts = [
        html_table(
            [
                "Method (for every customer)"
                if comparison.forced
                else "Default method (customers' own kept)",
                "Invoices",
                "Items",
                "Credit notes",
                "Net",
            ],
            summary,
            numeric=(1, 2, 3),
        )
    ]
    methods = list(comparison.summary["method"])
    per = comparison.per_customer
    if len(methods) >= 2 and not per.empty:
        counts = per.xs("invoices", axis=1, level=1).fillna(0).astype("int64")
        changed = counts[counts[methods[0]] != counts[methods[1]]]
        rows = [
            [esc(name), esc(cid), *(f"{int(v):,}" for v in values)]
            for (cid, name), values in zip(changed.index, changed[methods[:2]].to_numpy(), strict=True)
        ][:limit]
        moved = len(comparison.moves)
        parts.append(
            f"<p>{plural(moved, 'item')} would share an invoice with different items under "
            f"{esc(LABELS[methods[1]])} than under {esc(LABELS[methods[0]])}; "
            f"{plural(len(changed), 'customer')} would get a different number of invoices.</p>"
        )
        if rows:
            parts.append(
                html_table(
                    ["Customer", "Id", *(f"Invoices: {esc(LABELS[m])}" for m in methods[:2])],
                    rows,
                    numeric=(2, 3),
                    wrap=(0,),
                )
                + cut_note(limit, len(changed), "customers")
            )
    return "".join(parts)


# --- PO burn-down --------------------------------------------------------------------------------


def burndown_html(bd: pd.DataFrame, limit: int = MAX_ROWS, names: Mapping[str, str] | None = None) -> str:
    """Every PO's burn-down, the ones at risk first (exceeded, warning, expired, unknown, then ok).

    ``names``: customer id -> name, to show customers by name (the id otherwise)."""
    names = names or {}
    rows = []
    for r in at_risk_first(bd).head(limit).itertuples(index=False):
        cur = str(r.currency)
        percent = f"{r.percent_used} %" if isinstance(r.percent_used, Decimal) else "—"
        rows.append(
            [
                chip(str(r.status)),
                esc(r.po_number),
                esc(names.get(str(r.customer_id), r.customer_id)),
                esc(cur),
                money(r.authorised_minor, cur),
                money(r.previously_invoiced_minor, cur),
                money(r.this_period_minor, cur),
                money(r.consumed_minor, cur),
                money(r.remaining_minor, cur),
                percent,
                date_text(r.valid_to),
                date_text(r.projected_exhaustion_date),
            ]
        )
    header = [
        "Status",
        "PO",
        "Customer",
        "Cur.",
        "Authorised",
        "Earlier",
        "This period",
        "Consumed",
        "Remaining",
        "Used",
        "Valid to",
        "Runs out about",
    ]
    return html_table(header, rows, numeric=tuple(range(4, 10))) + cut_note(limit, len(bd), "POs")


def status_counts_html(bd: pd.DataFrame) -> str:
    """One line: how many POs are in each status."""
    counts = bd["status"].value_counts() if len(bd) else pd.Series(dtype="int64")
    parts = [f"{chip(s)} {int(counts.get(s, 0))}" for s in (EXCEEDED, WARNING, EXPIRED, UNKNOWN, OK)]
    return f"<p>{plural(len(bd), 'PO')}: " + " &nbsp; ".join(parts) + "</p>"


def exposure_html(exposure: pd.DataFrame, limit: int = 50) -> str:
    """What is billed without a PO, by customer and billing code, largest first."""
    rows = [
        [
            esc(r.customer_name),
            esc(r.customer_id),
            esc(r.billing_code),
            f"{r.items:,}",
            esc(r.currency),
            money(r.amount_minor, str(r.currency)),
            f"{r.held_items:,}",
        ]
        for r in exposure.head(limit).itertuples(index=False)
    ]
    if not rows:
        return "<p>Every billable item carries a PO.</p>"
    return html_table(
        ["Customer", "Id", "Billing code", "Items", "Cur.", "Amount", "Held"],
        rows,
        numeric=(3, 5, 6),
        wrap=(0,),
    ) + cut_note(limit, len(exposure), "rows")


def checklist_html(text: str) -> str:
    return f'<pre class="billing-checklist">{esc(text)}</pre>'


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


# --- static pages (executed notebooks, the audit record) -----------------------------------------


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


def po_report(analysis: Analysis) -> Html:
    """``po_burndown.ipynb``'s table: status counts, then every PO at risk first."""
    return Html(status_counts_html(analysis.burndown) + burndown_html(analysis.burndown))


def overview(analysis: Analysis) -> Png:
    return Png([("PO budgets used", overview_png(analysis.burndown))])


def po_charts(analysis: Analysis, limit: int = 12) -> Png:
    return Png(po_chart_pngs(analysis, limit))


def exposure(analysis: Analysis) -> Html:
    return Html(exposure_html(analysis.exposure))
