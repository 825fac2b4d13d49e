"""The pre-invoice checklist as ``billing check`` prints it (and the app shows it): marks, counts, amounts."""

from __future__ import annotations

from decimal import Decimal

from billing_lib.core.burndown import EXPIRED, UNKNOWN, WARNING_PERCENT
from billing_lib.core.checklist import (
    SKIPPED_TEXT,
    Checklist,
    PoAlert,
)
from billing_lib.core.coverage import Coverage
from billing_lib.domain.money import format_minor
from billing_lib.domain.reasons import summary

MARKS = {"ok": "✓", "bad": "✗", "note": "!", "more": "…"}
ASCII_MARKS = {"ok": "[ok]", "bad": "[X]", "note": "[!]", "more": "..."}


def _amount(text: str, currency: str) -> str:
    return f"{Decimal(text):,} {currency}" if text else "—"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _po_line(po: PoAlert) -> str:
    customer = f" (customer {po.customer_id})" if po.customer_id else ""
    if po.status == UNKNOWN:
        this_period = _amount(po.this_period, po.currency)
        return f"{po.po_number}{customer}: {this_period} this period, no budget on record"
    used = f"{_amount(po.consumed, po.currency)} of {_amount(po.authorised, po.currency)} used"
    if po.percent_used:
        used += f" ({po.percent_used} %)"
    remaining = Decimal(po.remaining) if po.remaining else Decimal(0)
    tail = (
        f", {_amount(str(-remaining), po.currency)} over"
        if remaining < 0
        else f", {_amount(po.remaining, po.currency)} left"
    )
    if po.projected_exhaustion_date and remaining > 0:
        tail += f", runs out about {po.projected_exhaustion_date}"
    if po.status == EXPIRED:
        tail += f", expired {po.valid_to}"
    return f"{po.po_number}{customer}: {used}{tail}"


def _coverage_lines(cov: Coverage, m: dict[str, str]) -> list[str]:
    if not cov.records:
        return [f"  {m['ok']} no charge records"]
    mark = m["ok"] if cov.with_po == cov.records else m["note"]
    percent = f" ({cov.percent} %)" if cov.percent is not None else ""
    lines = [
        f"  {mark} {cov.with_po:,} of {_plural(cov.records, 'charge record')} carry a PO{percent}, "
        f"{_plural(cov.pos, 'distinct PO')}"
    ]
    for a in cov.amounts:
        share = f" ({a.percent} % of the amount)" if a.percent is not None else ""
        lines.append(
            f"      {a.currency}: {format_minor(a.with_po_minor, a.currency, grouped=True)} of "
            f"{format_minor(a.billable_minor, a.currency, grouped=True)} billable carries a PO{share}; "
            f"{format_minor(a.without_po_minor, a.currency, grouped=True)} without"
        )
    return lines


def _capped(lines: list[str], limit: int, mark: str) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"{mark} and {len(lines) - limit:,} more"]


def _items_lines(c: Checklist, m: dict[str, str]) -> list[str]:
    out = ["", "Items", f"  {m['ok']} {_plural(c.read, 'billable row')} read"]
    money = ", ".join(_amount(amount, cur) for cur, amount in c.to_invoice)
    out.append(
        f"  {m['ok'] if c.billable else m['note']} {_plural(c.billable, 'item')} to invoice"
        + (f": {money}" if money else " (nothing to invoice)")
    )
    if c.held:
        out.append(
            f"  {m['bad']} {_plural(c.held, 'item')} held: kept off every invoice until the data is fixed"
        )
        out += [f"      {n:>6,}  {reason}: {summary(reason)}" for reason, n in c.held_by_reason]
    else:
        out.append(f"  {m['ok']} no item held")
    if c.flagged:
        out.append(f"  {m['note']} {_plural(c.flagged, 'flag')}: invoiced, but worth a look")
        out += [f"      {n:>6,}  {reason}: {summary(reason)}" for reason, n in c.flagged_by_reason]
    else:
        out.append(f"  {m['ok']} no flags")
    if c.skipped:
        out.append(
            f"  {m['ok']} not billed this run: "
            + "; ".join(f"{n:,} {SKIPPED_TEXT.get(k, k)}" for k, n in c.skipped)
        )
    return out


def _budget_lines(c: Checklist, m: dict[str, str], limit: int) -> list[str]:
    out = ["", "PO budgets"]
    if c.over_budget:
        now = any(Decimal(po.this_period or "0") > 0 for po in c.over_budget)  # blocks only when added to now
        out.append(f"  {m['bad'] if now else m['note']} over budget: {_plural(len(c.over_budget), 'PO')}")
        out += _capped([f"      {_po_line(po)}" for po in c.over_budget], limit, f"      {m['more']}")
    else:
        out.append(f"  {m['ok']} no PO over budget")
    groups = (
        (c.near_budget, f"near budget ({WARNING_PERCENT} % or more used)"),
        (c.expired, "expired POs used this period"),
        (c.unknown, "POs not in the reference table"),
    )
    for pos, title in groups:
        if pos:
            out.append(f"  {m['note']} {title}: {_plural(len(pos), 'PO')}")
            out += _capped([f"      {_po_line(po)}" for po in pos], limit, f"      {m['more']}")
    out.append(f"  {m['ok']} {c.pos_ok:,} of {_plural(c.pos_total, 'PO')} within budget and valid")
    return out


def _exposure_lines(c: Checklist, m: dict[str, str], limit: int) -> list[str]:
    out = ["", "Billing exposure (billable items without a PO)"]
    if not c.exposure:
        return [*out, f"  {m['ok']} every billable item carries a PO"]
    out.append(f"  {m['note']} {_plural(len(c.exposure), 'customer')} billed without a PO")
    out += _capped(
        [
            f"      {e.customer_name or e.customer_id} ({e.customer_id}): {_plural(e.items, 'item')}, "
            f"{_amount(e.amount, e.currency)}" + (f", {e.held_items:,} of them held" if e.held_items else "")
            for e in c.exposure
        ],
        limit,
        f"      {m['more']}",
    )
    return out


def render_text(checklist: Checklist, limit: int = 50, ascii_only: bool = False) -> str:
    """The checklist as ``billing check`` prints it; lists past ``limit`` end with "… and N more"."""
    m = ASCII_MARKS if ascii_only else MARKS
    c = checklist
    out = [f"Pre-invoice checklist for {c.period}", ""]
    if c.blocking:
        out.append(f"{m['bad']} NOT READY to invoice: {'; '.join(c.blocking_reasons)}.")
    else:
        out.append(f"{m['ok']} Ready to invoice: nothing is held and no PO is taken over budget.")
    out += _items_lines(c, m)
    out += _budget_lines(c, m, limit)
    if c.coverage is not None:
        out += ["", "PO coverage (the month's charge records, to invoice and held)"]
        out += _coverage_lines(c.coverage, m)
    out += _exposure_lines(c, m, limit)

    out += ["", "Accounting hand-off (QuickBooks and Xero import files of a final run)"]
    if c.accounting:
        out += _capped([f"  {m['note']} {note}" for note in c.accounting], limit, f"  {m['more']}")
    else:
        out.append(f"  {m['ok']} every customer, billing code and VAT rate is in the accounting_map")

    out += ["", f"Problems ({len(c.problems):,})"]
    if c.problems:
        out += _capped([f"  - {p}" for p in c.problems], limit, f"  {m['more']}")
    else:
        out.append(f"  {m['ok']} none")
    return "\n".join(out) + "\n"
