"""The month as HTML: the invoices, one invoice as the customer reads it, the header cards, the
method comparison, the PO burn-down and the exposure, for the widgets, the app and the notebooks.

Built from the pieces of ``page``; every text from the inputs is escaped there (``esc``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pandas as pd

from billing_lib.core.burndown import EXCEEDED, EXPIRED, OK, UNKNOWN, WARNING
from billing_lib.core.consolidate import LABELS, Comparison
from billing_lib.domain.records import Invoice, Issue
from billing_lib.io.charts import at_risk_first
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import Analysis
from billing_lib.ui.page import card, chip, cut_note, date_text, decimal_text, esc, html_table, money, plural

MAX_ROWS = 200  # longest table a page shows; the CSV outputs carry every row


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
