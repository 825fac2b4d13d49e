"""SPEC section 5: the PO burn-down's CSV files (``po_burndown.csv``, ``exposure.csv``, charges and hours per
PO): the core's frames with amounts, hours and dates as plain text."""

from __future__ import annotations

import pandas as pd

from billing_lib.domain.money import format_minor_series
from billing_lib.domain.text import cell_text

# po_burndown.csv (SPEC section 5), then the hours
CSV_COLUMNS = (
    "po_number", "customer_id", "currency", "authorised_amount", "previously_invoiced", "this_period",
    "consumed", "remaining", "percent_used", "status", "projected_exhaustion_date", "authorised_hours",
    "hours_consumed", "hours_previously", "hours_this_period", "hours_remaining", "hours_percent_used",
    "hours_status", "monthly_amount", "month_consumed", "month_remaining", "month_percent_used", "month_status",
)  # fmt: skip
EXPOSURE_CSV_COLUMNS = (
    "customer_id", "customer_name", "billing_code", "items", "amount", "currency", "held_items",
    "held_amount",
)  # fmt: skip


def _plain(values: pd.Series) -> pd.Series:
    return pd.Series([cell_text(v) for v in values], index=values.index, dtype="str")


def _date_text(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%d").fillna("").astype("str")


def to_csv_frame(bd: pd.DataFrame) -> pd.DataFrame:
    """``po_burndown.csv``: the SPEC columns (amounts as plain decimal text), then the hours."""
    cur = bd["currency"]
    return pd.DataFrame(
        {
            "po_number": bd["po_number"],
            "customer_id": bd["customer_id"],
            "currency": cur,
            "authorised_amount": format_minor_series(bd["authorised_minor"], cur),
            "previously_invoiced": format_minor_series(bd["previously_invoiced_minor"], cur),
            "this_period": format_minor_series(bd["this_period_minor"], cur),
            "consumed": format_minor_series(bd["consumed_minor"], cur),
            "remaining": format_minor_series(bd["remaining_minor"], cur),
            "percent_used": _plain(bd["percent_used"]),
            "status": bd["status"],
            "projected_exhaustion_date": _date_text(bd["projected_exhaustion_date"]),
            "authorised_hours": _plain(bd["authorised_hours"]),
            "hours_consumed": _plain(bd["hours_consumed"]),
            "hours_previously": _plain(bd["hours_previously"]),
            "hours_this_period": _plain(bd["hours_this_period"]),
            "hours_remaining": _plain(bd["hours_remaining"]),
            "hours_percent_used": _plain(bd["hours_percent_used"]),
            "hours_status": bd["hours_status"],
            "monthly_amount": format_minor_series(bd["monthly_minor"], cur),
            "month_consumed": format_minor_series(bd["month_consumed_minor"], cur),
            "month_remaining": format_minor_series(bd["month_remaining_minor"], cur),
            "month_percent_used": _plain(bd["month_percent_used"]),
            "month_status": bd["month_status"],
        },
        index=bd.index,
    )[list(CSV_COLUMNS)].astype("str")


def exposure_csv_frame(exposure_frame: pd.DataFrame) -> pd.DataFrame:
    """``exposure.csv``: the SPEC columns, amounts as plain decimal text, then currency and the held part."""
    cur = exposure_frame["currency"]
    return pd.DataFrame(
        {
            "customer_id": exposure_frame["customer_id"],
            "customer_name": exposure_frame["customer_name"],
            "billing_code": exposure_frame["billing_code"],
            "items": exposure_frame["items"],
            "amount": format_minor_series(exposure_frame["amount_minor"], cur),
            "currency": cur,
            "held_items": exposure_frame["held_items"],
            "held_amount": format_minor_series(exposure_frame["held_amount_minor"], cur),
        },
        index=exposure_frame.index,
    )[list(EXPOSURE_CSV_COLUMNS)]


def per_po_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``charges_per_po`` / ``hours_per_po`` for a CSV or a summary sheet: amounts and hours as plain text."""
    out = frame.copy()
    out["amount"] = format_minor_series(frame["amount_minor"], frame["currency"])
    if "hours" in out:
        out["hours"] = _plain(frame["hours"])
    return out.drop(columns=["amount_minor"])
