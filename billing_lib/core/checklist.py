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

from billing_lib.core.burndown import EXPIRED, OK, UNKNOWN, WARNING
from billing_lib.core.coverage import Coverage, charge_records
from billing_lib.core.coverage import summary as coverage_summary
from billing_lib.core.rules import Prepared
from billing_lib.domain.money import format_minor
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
    listed = values.tolist() if isinstance(values, pd.Series) else list(values)
    counts = pd.Series(listed, dtype="str").value_counts(sort=False)
    return tuple(sorted(((str(k), int(v)) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _alert(row: pd.Series) -> PoAlert:
    cur = str(row["currency"])
    percent = row["percent_used"]
    return PoAlert(
        str(row["po_number"]),
        str(row["customer_id"]),
        str(row["status"]),
        cur,
        format_minor(row["authorised_minor"], cur),
        format_minor(row["consumed_minor"], cur),
        format_minor(row["this_period_minor"], cur),
        format_minor(row["remaining_minor"], cur),
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
        ExposureTotal(str(cid), str(name), str(cur), int(n), format_minor(minor, str(cur)), int(held))
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
            (str(cur), format_minor(minor, str(cur)))
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
