"""The pre-invoice checklist (``billing check``): what the run would invoice, what it holds and why,
which POs are near, over or past their budget, and what is billed without a PO.

``blocking`` is True when invoicing should not go ahead as is: some item is held (it cannot be
invoiced until its data is fixed), or this period's items take a PO past its authorised amount.
Flags alone (late items, unknown or expired POs, a PO near its budget) do not block.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

import pandas as pd

from billing_lib.core.burndown import EXPIRED, OK, UNKNOWN, WARNING, WARNING_PERCENT
from billing_lib.core.coverage import Coverage, charge_records
from billing_lib.core.coverage import summary as coverage_summary
from billing_lib.core.rules import Prepared
from billing_lib.domain.money import from_minor
from billing_lib.domain.reasons import summary
from billing_lib.domain.records import (
    BLOCKING_INPUT_REASONS,
    PO_REFERENCE_INVALID,
    READ_REASONS,
    Issue,
)

SKIPPED_TEXT = {
    "non_billable": "marked non-billable",
    "already_invoiced": "already invoiced",
    "after_period": "dated after the period (wait for their own period)",
    "posted_as_billing_item": "already posted as a billing item",
}
MARKS = {"ok": "✓", "bad": "✗", "note": "!", "more": "…"}
ASCII_MARKS = {"ok": "[ok]", "bad": "[X]", "note": "[!]", "more": "..."}


@dataclass(frozen=True, slots=True)
class PoAlert:
    """One PO worth a look, with its amounts as plain decimal text in its currency."""

    po_number: str
    customer_id: str
    status: str
    currency: str
    authorised: str
    consumed: str
    this_period: str
    remaining: str
    percent_used: str
    valid_to: str
    projected_exhaustion_date: str


@dataclass(frozen=True, slots=True)
class ExposureTotal:
    """What one customer is billed without a PO in one currency."""

    customer_id: str
    customer_name: str
    currency: str
    items: int
    amount: str
    held_items: int


@dataclass(frozen=True, slots=True)
class Checklist:
    period: str
    read: int  # billable rows read
    billable: int  # items that would be invoiced (flagged ones included)
    held: int
    flagged: int  # flag issues raised (an item can carry more than one)
    skipped: tuple[tuple[str, int], ...]  # reason -> count, non-zero only
    to_invoice: tuple[tuple[str, str], ...]  # currency -> amount text
    held_by_reason: tuple[tuple[str, int], ...]
    flagged_by_reason: tuple[tuple[str, int], ...]
    over_budget: tuple[PoAlert, ...]  # known POs consumed past their authorised amount (any status)
    near_budget: tuple[PoAlert, ...]  # status warning: 80 % or more used
    expired: tuple[PoAlert, ...]  # expired POs that this period's items use
    unknown: tuple[PoAlert, ...]  # POs on items that are not in the reference table
    pos_total: int
    pos_ok: int
    exposure: tuple[ExposureTotal, ...]  # by customer, largest first
    problems: tuple[str, ...]  # every issue message: held first, then by file and row
    blocking: bool
    blocking_reasons: tuple[str, ...]
    # the accounting hand-off: what the ledgers get by default because the accounting_map does not say
    accounting: tuple[str, ...] = ()
    # PO coverage of the month's charge records (to invoice and held): informs, never blocks
    coverage: Coverage | None = None

    def as_dict(self, max_problems: int = 50) -> dict[str, object]:
        """For ``manifest.json``: counts and POs in full, the first ``max_problems`` messages."""
        out = asdict(self)
        for key in ("skipped", "to_invoice", "held_by_reason", "flagged_by_reason"):
            out[key] = dict(out[key])
        out["problems_total"] = len(self.problems)
        out["problems"] = list(self.problems[:max_problems])
        for key in (
            "over_budget",
            "near_budget",
            "expired",
            "unknown",
            "exposure",
            "blocking_reasons",
            "accounting",
        ):
            out[key] = list(out[key])
        out["coverage"] = self.coverage.as_dict() if self.coverage is not None else None
        return out


def _counts(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    counts = pd.Series(list(values), dtype="str").value_counts(sort=False)
    return tuple(sorted(((str(k), int(v)) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _money(minor: object, currency: str) -> str:
    return "" if pd.isna(minor) else str(from_minor(int(minor), currency))  # type: ignore[call-overload]


def _alert(row: pd.Series) -> PoAlert:
    cur = str(row["currency"])
    percent = row["percent_used"]
    return PoAlert(
        str(row["po_number"]),
        str(row["customer_id"]),
        str(row["status"]),
        cur,
        _money(row["authorised_minor"], cur),
        _money(row["consumed_minor"], cur),
        _money(row["this_period_minor"], cur),
        _money(row["remaining_minor"], cur),
        str(percent) if isinstance(percent, Decimal) else "",
        "" if pd.isna(row["valid_to"]) else f"{row['valid_to']:%Y-%m-%d}",
        "" if pd.isna(row["projected_exhaustion_date"]) else f"{row['projected_exhaustion_date']:%Y-%m-%d}",
    )


def _alerts(bd: pd.DataFrame, mask: pd.Series) -> tuple[PoAlert, ...]:
    rows = bd[mask]
    return tuple(_alert(row) for _, row in rows.iterrows())


def _exposure_totals(exposure_frame: pd.DataFrame) -> tuple[ExposureTotal, ...]:
    if exposure_frame.empty:
        return ()
    totals = exposure_frame.groupby(
        ["customer_id", "customer_name", "currency"], as_index=False, sort=True
    ).agg(items=("items", "sum"), amount_minor=("amount_minor", "sum"), held_items=("held_items", "sum"))
    totals = totals.sort_values(["amount_minor", "customer_id"], ascending=[False, True], kind="stable")
    columns = ("customer_id", "customer_name", "currency", "items", "amount_minor", "held_items")
    return tuple(
        ExposureTotal(str(cid), str(name), str(cur), int(n), _money(minor, str(cur)), int(held))
        for cid, name, cur, n, minor, held in zip(*(totals[c].tolist() for c in columns), strict=True)
    )


def _problem_order(issue: Issue) -> tuple[bool, str, int]:
    """Held items first (they block), then by file and row."""
    return issue.action != "held", issue.file, issue.row or 0


def _input_problems(issues: list[Issue]) -> list[str]:
    """What in the inputs as a whole stops the month being ready: the PO reference table's problems,
    hidden sheets, files not read, repeated headings (each named in the problems)."""
    counts: dict[str, int] = {}
    for issue in issues:
        reason = issue.reason
        if reason in READ_REASONS and issue.source_table == "po_budgets":
            reason = PO_REFERENCE_INVALID  # a cell of the reference table that cannot be read
        if reason in BLOCKING_INPUT_REASONS:
            counts[reason] = counts.get(reason, 0) + 1
    return [f"{n} {summary(reason)}" for reason, n in sorted(counts.items())]


def build_checklist(
    prep: Prepared, bd: pd.DataFrame, exposure_frame: pd.DataFrame, more: Sequence[Issue] = ()
) -> Checklist:
    """What ``billing check`` reports, from the prepared items, the burn-down and the exposure report.

    ``more``: flags found after reading (customers whose invoices cannot get an e-invoice).
    """
    all_issues = [*prep.issues, *more]
    flagged = [i for i in all_issues if i.action == "flagged"]
    items = prep.items
    to_invoice = (
        tuple(
            (str(cur), _money(minor, str(cur)))
            for cur, minor in items.groupby("currency", sort=True)["amount_minor"].sum().items()
        )
        if len(items)
        else ()
    )
    known = bd["authorised_minor"].notna()
    over = known & (bd["consumed_minor"] > bd["authorised_minor"].fillna(0))
    used_now = bd["this_period_minor"] != 0
    over_now = bd[over & (bd["this_period_minor"] > 0)]
    held = len(prep.held)
    reasons: list[str] = []
    if held:
        reasons.append(f"{held} item{'s' if held != 1 else ''} held")
    reasons += _input_problems(prep.issues)
    if len(over_now):
        reasons.append(
            f"{len(over_now)} PO{'s' if len(over_now) != 1 else ''} taken over budget by this period's items"
        )
    return Checklist(
        period=str(prep.period),
        read=prep.read,
        billable=len(items),
        held=held,
        flagged=len(flagged),
        skipped=tuple((k, int(v)) for k, v in sorted(prep.skipped.items()) if v),
        to_invoice=to_invoice,
        held_by_reason=_counts(prep.held["reason"]) if held else (),
        flagged_by_reason=_counts(i.reason for i in flagged),
        over_budget=_alerts(bd, over),
        near_budget=_alerts(bd, bd["status"] == WARNING),
        expired=_alerts(bd, (bd["status"] == EXPIRED) & used_now),
        unknown=_alerts(bd, bd["status"] == UNKNOWN),
        pos_total=len(bd),
        pos_ok=int((bd["status"] == OK).sum()),
        exposure=_exposure_totals(exposure_frame),
        problems=tuple(i.message for i in sorted(all_issues, key=_problem_order)),
        blocking=bool(reasons),
        blocking_reasons=tuple(reasons),
        accounting=_accounting_notes(prep),
        coverage=coverage_summary(charge_records(items, prep.held, ("po_key", "currency", "amount_minor"))),
    )


def _accounting_notes(prep: Prepared) -> tuple[str, ...]:
    from billing_lib.core.accounting import AccountingMap, checklist_notes

    amap = AccountingMap.from_frame(prep.inputs.table("accounting_map"))
    return checklist_notes(prep.items, prep.companies, amap)


# --- text ------------------------------------------------------------------------------------------


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
            f"      {a.currency}: {from_minor(a.with_po_minor, a.currency):,} of "
            f"{from_minor(a.billable_minor, a.currency):,} billable carries a PO{share}; "
            f"{from_minor(a.without_po_minor, a.currency):,} without"
        )
    return lines


def _capped(lines: list[str], limit: int, mark: str) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"{mark} and {len(lines) - limit:,} more"]


def render_text(checklist: Checklist, limit: int = 50, ascii_only: bool = False) -> str:
    """The checklist as ``billing check`` prints it; lists past ``limit`` end with "… and N more"."""
    m = ASCII_MARKS if ascii_only else MARKS
    c = checklist
    out = [f"Pre-invoice checklist for {c.period}", ""]
    if c.blocking:
        out.append(f"{m['bad']} NOT READY to invoice: {'; '.join(c.blocking_reasons)}.")
    else:
        out.append(f"{m['ok']} Ready to invoice: nothing is held and no PO is taken over budget.")

    out += ["", "Items"]
    out.append(f"  {m['ok']} {_plural(c.read, 'billable row')} read")
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

    out += ["", "PO budgets"]
    if c.over_budget:
        now = any(Decimal(po.this_period or "0") > 0 for po in c.over_budget)  # blocks only when added to now
        out.append(f"  {m['bad'] if now else m['note']} over budget: {_plural(len(c.over_budget), 'PO')}")
        out += _capped([f"      {_po_line(po)}" for po in c.over_budget], limit, f"      {m['more']}")
    else:
        out.append(f"  {m['ok']} no PO over budget")
    if c.near_budget:
        near = _plural(len(c.near_budget), "PO")
        out.append(f"  {m['note']} near budget ({WARNING_PERCENT} % or more used): {near}")
        out += _capped([f"      {_po_line(po)}" for po in c.near_budget], limit, f"      {m['more']}")
    if c.expired:
        out.append(f"  {m['note']} expired POs used this period: {_plural(len(c.expired), 'PO')}")
        out += _capped([f"      {_po_line(po)}" for po in c.expired], limit, f"      {m['more']}")
    if c.unknown:
        out.append(f"  {m['note']} POs not in the reference table: {_plural(len(c.unknown), 'PO')}")
        out += _capped([f"      {_po_line(po)}" for po in c.unknown], limit, f"      {m['more']}")
    out.append(f"  {m['ok']} {c.pos_ok:,} of {_plural(c.pos_total, 'PO')} within budget and valid")

    if c.coverage is not None:
        out += ["", "PO coverage (the month's charge records, to invoice and held)"]
        out += _coverage_lines(c.coverage, m)

    out += ["", "Billing exposure (billable items without a PO)"]
    if c.exposure:
        out.append(f"  {m['note']} {_plural(len(c.exposure), 'customer')} billed without a PO")
        out += _capped(
            [
                f"      {e.customer_name or e.customer_id} ({e.customer_id}): {_plural(e.items, 'item')}, "
                f"{_amount(e.amount, e.currency)}"
                + (f", {e.held_items:,} of them held" if e.held_items else "")
                for e in c.exposure
            ],
            limit,
            f"      {m['more']}",
        )
    else:
        out.append(f"  {m['ok']} every billable item carries a PO")

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
