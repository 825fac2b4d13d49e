"""Budget alerts at several thresholds (e.g. 50 / 75 / 90 / 100 %) for amounts, hours and monthly budgets.

The burn-down's status keeps SPEC section 4's single warning level (80 %); teams that want to hear
at half, three quarters and nine tenths of a budget set ``thresholds`` (a notebook parameter, text
such as ``"50, 75, 90, 100"``). Each PO is measured three ways where it has the budget:

- ``amount``: consumed (earlier + this period) against the authorised amount;
- ``hours``: labour hours consumed against the authorised hours;
- ``month``: this period's amount against the monthly amount of a PO that authorises one.

``alerts`` gives one row per PO and measure with the highest threshold reached, and whether this
period's invoicing crossed it (the part used before this period was below it).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import pandas as pd

from billing_lib.core.burndown import hours_percent_of, percent_of
from billing_lib.domain.errors import UsageError
from billing_lib.domain.money import format_minor

DEFAULT_THRESHOLDS = (Decimal(50), Decimal(75), Decimal(90), Decimal(100))
DEFAULT_THRESHOLDS_TEXT = "50, 75, 90, 100"
MEASURES = ("amount", "hours", "month")
ALERT_COLUMNS = (
    "po_number", "customer_id", "measure", "unit", "authorised", "used", "remaining", "percent_used",
    "threshold", "before_percent", "crossed_this_period",
)  # fmt: skip


def parse_thresholds(value: str | int | float | Decimal | Iterable[object]) -> tuple[Decimal, ...]:
    """Percentages from ``"50, 75, 90, 100"`` (or one number, or a list: ``billing batch -p thresholds=90``
    passes a number), ascending; ``UsageError`` for anything else."""
    if isinstance(value, int | float | Decimal):
        value = str(value)
    parts = value.replace(";", ",").split(",") if isinstance(value, str) else list(value)
    out: set[Decimal] = set()
    for part in parts:
        text = str(part).strip().rstrip("%").strip()
        if not text:
            continue
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise UsageError(
                f"thresholds: {str(part).strip()!r} is not a percentage; write them like 50, 75, 90, 100"
            ) from None
        if not number.is_finite() or number <= 0:
            raise UsageError(f"thresholds: {str(part).strip()!r} must be a percentage above 0")
        out.add(number)
    if not out:
        raise UsageError("thresholds: give at least one percentage, e.g. 50, 75, 90, 100")
    return tuple(sorted(out))


def reached(percent: Decimal | None, thresholds: tuple[Decimal, ...]) -> Decimal | None:
    """The highest threshold ``percent`` has reached, or None."""
    if percent is None:
        return None
    hit = [t for t in thresholds if percent >= t]
    return hit[-1] if hit else None


def _measures(row: pd.Series) -> list[tuple[str, str, str, str, str, Decimal | None, Decimal | None]]:
    """(measure, unit, authorised, used, remaining, percent now, percent before this period) it has."""
    cur = str(row["currency"])
    out = []
    if not pd.isna(row["authorised_minor"]):
        authorised = int(row["authorised_minor"])
        out.append(
            (
                "amount",
                cur,
                format_minor(authorised, cur),
                format_minor(row["consumed_minor"], cur),
                format_minor(row["remaining_minor"], cur),
                row["percent_used"],
                percent_of(int(row["previously_invoiced_minor"]), authorised),
            )
        )
    hours = row["authorised_hours"]
    if isinstance(hours, Decimal):
        before = row["hours_previously"]
        out.append(
            (
                "hours",
                "h",
                str(hours),
                str(row["hours_consumed"]),
                str(row["hours_remaining"]),
                row["hours_percent_used"],
                hours_percent_of(before, hours) if isinstance(before, Decimal) else None,
            )
        )
    if not pd.isna(row["monthly_minor"]):
        monthly, used = int(row["monthly_minor"]), int(row["month_consumed_minor"])
        this_in_month = int(row.get("month_this_period_minor", 0) or 0)
        out.append(
            (
                "month",
                cur,
                format_minor(monthly, cur),
                format_minor(used, cur),
                format_minor(row["month_remaining_minor"], cur),
                row["month_percent_used"],
                percent_of(used - this_in_month, monthly),
            )
        )
    return out


def alerts(bd: pd.DataFrame, thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """One row per PO and measure that has reached a threshold (``ALERT_COLUMNS``), highest first.

    ``threshold`` is the highest reached; ``crossed_this_period`` is True when the part used before
    this period had not reached it (for ``month``: before this run's items dated in the month).
    """
    rows: list[dict[str, object]] = []
    for _, row in bd.iterrows():
        for measure, unit, authorised, used, remaining, percent, before in _measures(row):
            level = reached(percent, thresholds)
            if level is None:
                continue
            earlier = reached(before, thresholds)
            rows.append(
                {
                    "po_number": str(row["po_number"]),
                    "customer_id": str(row["customer_id"]),
                    "measure": measure,
                    "unit": unit,
                    "authorised": authorised,
                    "used": used,
                    "remaining": remaining,
                    "percent_used": percent,
                    "threshold": level,
                    "before_percent": before,
                    "crossed_this_period": earlier is None or earlier < level,
                }
            )
    frame = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    if frame.empty:
        return frame
    order = frame.assign(
        _t=-frame["threshold"].map(float),
        _p=-frame["percent_used"].map(float),
        _m=frame["measure"].map(MEASURES.index),
        _po=frame["po_number"].str.casefold(),
    )
    return frame.loc[order.sort_values(["_t", "_p", "_po", "_m"], kind="stable").index].reset_index(drop=True)


def alerts_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``po_alerts.csv``: every column as plain text."""
    out = frame.copy()
    for col in ("percent_used", "threshold", "before_percent"):
        out[col] = out[col].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    out["crossed_this_period"] = out["crossed_this_period"].map(lambda v: "yes" if v else "no")
    return out.astype("str")


def threshold_columns(bd: pd.DataFrame, thresholds: tuple[Decimal, ...]) -> pd.DataFrame:
    """The highest threshold each PO has reached per measure (``amount_alert``, ``hours_alert``,
    ``month_alert``: text, empty when none), for ``po_at_risk.csv``."""

    def level(values: pd.Series) -> pd.Series:
        return values.map(lambda p: str(reached(p, thresholds) or "") if isinstance(p, Decimal) else "")

    return pd.DataFrame(
        {
            "amount_alert": level(bd["percent_used"]),
            "hours_alert": level(bd["hours_percent_used"]),
            "month_alert": level(bd["month_percent_used"]),
        },
        index=bd.index,
    ).astype("str")


__all__ = [
    "DEFAULT_THRESHOLDS",
    "DEFAULT_THRESHOLDS_TEXT",
    "alerts",
    "alerts_csv_frame",
    "parse_thresholds",
    "reached",
    "threshold_columns",
]
