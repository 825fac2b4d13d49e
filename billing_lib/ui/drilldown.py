"""All charges against one PO: the drill-down a customer's accounts payable asks for.

``po_items`` is a pure function of the month's charge records (``coverage.charge_records``) and
the register's earlier invoicing: every item on the PO with its date, amount, hours and invoice
number, earlier invoices first. ``po_items_of`` does the same from an ``Analysis``.
``drilldown_widget`` is the interactive version (pick a PO -> its items table) that any notebook
or the Voilà app adds with one call::

    from billing_lib.ui import drilldown
    drilldown.drilldown_widget(analysis)      # an ipywidgets.VBox

Invoice numbers of this period are the run's own: ``DRAFT-`` numbers in a draft or a preview,
the register's numbers once a final run has issued them (a later report lists them as earlier).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from billing_lib.core.coverage import charge_records
from billing_lib.core.rules import po_key
from billing_lib.domain.money import parse_decimal
from billing_lib.io.charts import at_risk_first

if TYPE_CHECKING:
    from billing_lib.run.pipeline import Analysis

EARLIER, THIS_PERIOD = "earlier", "this period"
ITEM_COLUMNS = (
    "when", "invoice_number", "period", "item_date", "source_table", "item_id", "kind", "customer_id",
    "customer_name", "billing_code", "description", "quantity", "hours", "amount_minor", "currency",
    "held_reason",
)  # fmt: skip


def _text(values: pd.Series) -> pd.Series:
    return values.astype("object").where(values.notna(), "").astype("str")


def _decimal(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) else parse_decimal(value)


def _prev_keys(previously: pd.DataFrame) -> pd.Series:
    if "po_key" in previously:
        return _text(previously["po_key"])
    return previously["po_number"].map(po_key)


def _rows(now: pd.DataFrame, before: pd.DataFrame | None, period: str, names: dict[str, str]) -> pd.DataFrame:
    """The drill-down rows of ``now`` (charge records) and ``before`` (earlier invoicing), unsorted,
    with ``po_key``; ``ITEM_COLUMNS`` otherwise."""
    this = pd.DataFrame(
        {
            "po_key": now["po_key"],
            "when": THIS_PERIOD,
            "invoice_number": now["invoice_number"],
            "period": period,
            "item_date": pd.to_datetime(now["item_date"]),
            "source_table": now["source_table"],
            "item_id": now["item_id"],
            "kind": now["kind"],
            "customer_id": now["customer_id"],
            "customer_name": now["customer_name"],
            "billing_code": now["billing_code"],
            "description": now["description"],
            "quantity": now["quantity"].map(_decimal),
            "amount_minor": now["amount_minor"].astype("int64"),
            "currency": now["currency"],
            "held_reason": now["held_reason"],
        }
    )
    parts = [this]
    if before is not None and len(before):

        def column(name: str) -> pd.Series:
            return _text(before[name]) if name in before else pd.Series("", index=before.index)

        customers = column("customer_id")
        parts.insert(
            0,
            pd.DataFrame(
                {
                    "po_key": _prev_keys(before),
                    "when": EARLIER,
                    "invoice_number": column("invoice_number"),
                    "period": column("period"),
                    "item_date": pd.to_datetime(before["item_date"], errors="coerce"),
                    "source_table": column("source_table"),
                    "item_id": column("item_id"),
                    "kind": column("kind"),
                    "customer_id": customers,
                    "customer_name": customers.map(lambda c: names.get(c, "")),
                    "billing_code": column("billing_code"),
                    "description": column("description"),
                    "quantity": before["quantity"].map(_decimal),
                    "amount_minor": pd.to_numeric(before["amount_minor"]).fillna(0).astype("int64"),
                    "currency": column("currency").str.upper(),
                    "held_reason": "",
                }
            ),
        )
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else this.reset_index(drop=True)
    rows["hours"] = pd.Series(
        [q if k == "labour" else None for q, k in zip(rows["quantity"], rows["kind"], strict=True)],
        index=rows.index,
        dtype=object,
    )
    rows["item_date"] = rows["item_date"].astype("datetime64[ns]")
    return rows


_ORDER = ["_w", "item_date", "invoice_number", "source_table", "item_id"]


def po_items(
    po: str,
    records: pd.DataFrame,
    previously: pd.DataFrame | None = None,
    period: str = "",
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Every item on PO ``po`` (matched trimmed and case-folded), ``ITEM_COLUMNS``.

    ``records``: this period's charge records (to invoice and held; ``held_reason`` says why one
    is held); ``previously``: the register's earlier invoicing (``Register.previously_invoiced``);
    ``names``: customer id -> name for the earlier rows. ``hours`` is the quantity of labour (None
    for charges). Earlier invoices first, then this period; by date, invoice and item within each.
    """
    key = po_key(po)
    before = None
    if previously is not None and len(previously):
        before = previously[_prev_keys(previously) == key]
    rows = _rows(records[records["po_key"] == key], before, period, names or {})
    order = rows.assign(_w=rows["when"] == THIS_PERIOD).sort_values(_ORDER, kind="stable", na_position="last")
    return order[list(ITEM_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class Totals:
    """What one PO's drill-down adds up to, per currency and for earlier / this period."""

    items: int
    held: int
    invoices: tuple[str, ...]
    hours: Decimal
    amounts: tuple[tuple[str, str, int], ...]  # (when, currency, amount minor): earlier, this period, A-Z


def totals(rows: pd.DataFrame) -> Totals:
    """The drill-down's totals: items, held items, invoice numbers, labour hours, amounts (held ones left out)."""
    billed = rows[rows["held_reason"] == ""]
    amounts = billed.groupby(["when", "currency"], sort=False)["amount_minor"].sum()
    ordered = sorted(
        ((str(k[0]), str(k[1]), int(v)) for k, v in amounts.items()),  # type: ignore[index]
        key=lambda t: (t[0] != EARLIER, t[1]),
    )
    hours = sum((h for h in billed["hours"] if isinstance(h, Decimal)), Decimal(0))
    invoices = tuple(dict.fromkeys(n for n in billed["invoice_number"] if n))
    return Totals(len(billed), len(rows) - len(billed), invoices, hours, tuple(ordered))


def _names(analysis: Analysis, records: pd.DataFrame) -> dict[str, str]:
    """Customer id -> name, from this run's records and the companies table."""
    names = dict(zip(records["customer_id"], records["customer_name"], strict=True))
    companies = analysis.prep.companies
    if not companies.empty and "customer_name" in companies:
        names.update(
            {
                str(k): str(v)
                for k, v in zip(companies["customer_id"], companies["customer_name"], strict=True)
                if v
            }
        )
    return names


def po_items_of(analysis: Analysis, po: str, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """``po_items`` of a computed month: this run's items and held ones, and the register's earlier ones.

    ``records``: ``charge_records`` of the analysis, when the caller has them (the widget keeps them).
    """
    records = charge_records(analysis.invoice_set.items, analysis.held) if records is None else records
    return po_items(po, records, analysis.previously, analysis.options.period, _names(analysis, records))


def all_po_items(analysis: Analysis) -> pd.DataFrame:
    """Every PO's drill-down in one frame (``po_number`` first): POs in the burn-down's order (any other
    PO seen only on held items after them), each as ``po_items`` orders it. ``po_items.csv``."""
    records = charge_records(analysis.invoice_set.items, analysis.held)
    previously = analysis.previously
    before = previously[_prev_keys(previously) != ""] if len(previously) else None
    rows = _rows(records[records["po_key"] != ""], before, analysis.options.period, _names(analysis, records))
    bd = analysis.burndown
    rank = {str(k): i for i, k in enumerate(bd["po_key"])}
    spelled = dict(zip(bd["po_key"].astype("str"), bd["po_number"].astype("str"), strict=True))
    spelled.update(
        {k: n for k, n in zip(records["po_key"], records["po_number"], strict=True) if k and k not in spelled}
    )
    rows["po_number"] = rows["po_key"].map(spelled).fillna(rows["po_key"])
    order = rows.assign(
        _p=rows["po_key"].map(rank).fillna(len(rank)),
        _n=rows["po_number"].str.casefold(),
        _w=rows["when"] == THIS_PERIOD,
    ).sort_values(["_p", "_n", *_ORDER], kind="stable", na_position="last")
    return order[["po_number", *ITEM_COLUMNS]].reset_index(drop=True)


def csv_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """A drill-down as plain text (amounts in their currency's places, dates ``YYYY-MM-DD``)."""
    from billing_lib.domain.money import format_minor

    out = rows.copy()
    out["amount"] = [
        format_minor(int(m), str(c)) for m, c in zip(rows["amount_minor"], rows["currency"], strict=True)
    ]
    out["item_date"] = rows["item_date"].dt.strftime("%Y-%m-%d").fillna("")
    for col in ("quantity", "hours"):
        out[col] = rows[col].map(lambda v: "" if v is None else str(v))
    return out.drop(columns=["amount_minor"]).astype("str")


# --- HTML and the widget ---------------------------------------------------------------------------


def choices(analysis: Analysis) -> list[tuple[str, str]]:
    """(label, PO number) for a picker: the POs at risk first, each with its customer and status."""
    bd = at_risk_first(analysis.burndown)
    return [
        (f"{po} · {cust or 'no customer'} · {status}", str(po))
        for po, cust, status in zip(bd["po_number"], bd["customer_id"], bd["status"], strict=True)
    ]


def drilldown_html(rows: pd.DataFrame, po: str, limit: int = 500) -> str:
    """One PO's items as a table, with its totals above (escaped: text from the inputs is data)."""
    from billing_lib.ui.page import cut_note, date_text, decimal_text, esc, html_table, money

    t = totals(rows)
    amounts = " · ".join(f"{w}: {money(m, c)} {esc(c)}" for w, c, m in t.amounts) or "nothing invoiced"
    head = (
        f"<h3>PO {esc(po)}</h3><p>{t.items:,} item{'s' if t.items != 1 else ''} on "
        f"{len(t.invoices):,} invoice{'s' if len(t.invoices) != 1 else ''} · {t.hours:,} h · {amounts}"
        + (f" · {t.held:,} held (not invoiced)" if t.held else "")
        + "</p>"
    )
    if rows.empty:
        return head + "<p>No item on this PO, earlier or this period.</p>"
    body = [
        [
            esc(r.when),
            esc(r.invoice_number) or ("held: " + esc(r.held_reason) if r.held_reason else ""),
            date_text(r.item_date),
            esc(r.customer_name or r.customer_id),
            esc(r.billing_code),
            esc(r.description),
            decimal_text(r.hours) if r.hours is not None else "",
            money(r.amount_minor, r.currency),
            esc(r.currency),
        ]
        for r in rows.head(limit).itertuples(index=False)
    ]
    header = ["When", "Invoice", "Date", "Customer", "Billing code", "Description", "Hours", "Amount", "Cur."]
    return head + html_table(header, body, numeric=(6, 7), wrap=(5,)) + cut_note(limit, len(rows), "items")


def drilldown_widget(analysis: Analysis, po: str = "") -> Any:
    """Pick a PO -> its items table: an ``ipywidgets.VBox`` (a Dropdown and an HTML pane).

    ``po`` is the PO shown first (default: the most at risk). The app adds it with one call.
    """
    import ipywidgets as w

    from billing_lib.ui.page import CSS

    options = choices(analysis)
    records = charge_records(analysis.invoice_set.items, analysis.held)
    picker = w.Dropdown(
        options=options,
        value=po if po in {v for _, v in options} else (options[0][1] if options else None),
        description="PO",
        layout=w.Layout(width="36em"),
    )
    pane = w.HTML()

    def show(*_: object) -> None:
        chosen = picker.value
        pane.value = (
            f'{CSS}<div class="billing-app">{drilldown_html(po_items_of(analysis, chosen, records), chosen)}</div>'
            if chosen
            else "<p>No PO in this month or the register.</p>"
        )

    picker.observe(show, names="value")
    show()
    box = w.VBox([picker, pane])
    box.add_class("billing-drilldown")
    return box


__all__ = [
    "EARLIER",
    "ITEM_COLUMNS",
    "THIS_PERIOD",
    "Totals",
    "all_po_items",
    "choices",
    "csv_frame",
    "drilldown_html",
    "drilldown_widget",
    "po_items",
    "po_items_of",
    "totals",
]
