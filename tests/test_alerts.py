"""Budget alerts on the PO tracking month (``po_month``): every threshold reached, whether this period
crossed it, and the thresholds parameter.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd
import pytest

from billing_lib.core import alerts
from billing_lib.domain.errors import UsageError
from billing_lib.ui import po_report


def test_alerts_at_every_threshold_reached_and_whether_this_period_crossed_it(tracking):
    got = [
        (r.po_number, r.measure, r.percent_used, r.threshold, r.crossed_this_period)
        for r in tracking.alerts.itertuples()
    ]
    assert got == [
        ("PO-C", "month", Decimal("130.00"), Decimal(100), True),
        ("PO-B", "amount", Decimal("120.00"), Decimal(100), True),
        ("PO-A", "amount", Decimal("110.00"), Decimal(100), True),
        ("PO-A", "hours", Decimal("110.00"), Decimal(100), True),
        ("PO-T", "amount", Decimal("105.00"), Decimal(100), True),  # 95 % before: past 90, not 100
        ("PO-P", "amount", Decimal("97.00"), Decimal(90), False),  # 92 % before: 90 already reached
    ]
    row = tracking.alerts.iloc[0]
    assert (row["used"], row["authorised"], row["remaining"], row["unit"]) == (
        "650.00",
        "500.00",
        "-150.00",
        "EUR",
    )


def test_thresholds_are_a_parameter(tracking_month):
    levels = alerts.parse_thresholds("95; 60 %,  60")
    assert levels == (Decimal(60), Decimal(95))
    assert alerts.parse_thresholds(90) == (Decimal(90),)  # billing batch -p thresholds=90 passes a number
    assert alerts.parse_thresholds([100, "50"]) == (Decimal(50), Decimal(100))
    report = po_report.build(tracking_month, "95")
    assert list(report.alerts["po_number"]) == ["PO-C", "PO-B", "PO-A", "PO-A", "PO-T", "PO-P"]
    assert set(report.alerts["threshold"]) == {Decimal(95)}
    low = po_report.build(tracking_month, "30")  # PO-C's total budget (32.50 %) now counts
    assert ("PO-C", "amount") in set(zip(low.alerts["po_number"], low.alerts["measure"], strict=True))
    for bad in ("", "fifty", "0", "-5", "nan", True):
        with pytest.raises(UsageError, match="thresholds"):
            alerts.parse_thresholds(bad)


# --- on a burn-down frame from CSV text, without reading any file -------------------------------------

# the burn-down's columns the alerts read; blank: the PO has no such budget
BURNDOWN = """\
po_number,customer_id,currency,authorised_minor,consumed_minor,remaining_minor,percent_used,previously_invoiced_minor,authorised_hours,hours_previously,hours_consumed,hours_remaining,hours_percent_used,monthly_minor,month_consumed_minor,month_remaining_minor,month_percent_used,month_this_period_minor
PO-1,101,EUR,100000,95000,5000,95.00,80000,,,,,,,,,,
PO-2,101,EUR,100000,76000,24000,76.00,76000,10,9.5,9.5,0.5,95.00,,,,,
PO-3,102,JPY,5000,1000,4000,20.00,0,,,,,,2000,2400,-400,120.00,2400
po-0,103,EUR,100000,10000,90000,10.00,0,,,,,,,,,,
"""
DECIMALS = ("percent_used", "authorised_hours", "hours_previously", "hours_consumed", "hours_remaining",
            "hours_percent_used", "month_percent_used")  # fmt: skip
MINOR = ("authorised_minor", "consumed_minor", "remaining_minor", "previously_invoiced_minor", "monthly_minor",
         "month_consumed_minor", "month_remaining_minor", "month_this_period_minor")  # fmt: skip


def burndown_frame(text: str) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for column in DECIMALS:
        frame[column] = frame[column].map(lambda v: Decimal(v) if v else None).astype(object)
    for column in MINOR:
        frame[column] = pd.to_numeric(frame[column].replace("", None)).astype("Int64")
    return frame


def test_alerts_per_measure_with_the_highest_threshold_reached() -> None:
    found = alerts.alerts(burndown_frame(BURNDOWN))
    got = [
        (r.po_number, r.measure, r.unit, r.used, r.authorised, r.remaining, r.threshold, r.before_percent,
         r.crossed_this_period)
        for r in found.itertuples()
    ]  # fmt: skip
    assert got == [
        # JPY has no minor digits; the monthly budget crossed 100 % this period
        ("PO-3", "month", "JPY", "2400", "2000", "-400", Decimal(100), Decimal(0), True),
        ("PO-1", "amount", "EUR", "950.00", "1000.00", "50.00", Decimal(90), Decimal(80), True),
        ("PO-2", "hours", "h", "9.5", "10", "0.5", Decimal(90), Decimal(95), False),  # 95 % before already
        ("PO-2", "amount", "EUR", "760.00", "1000.00", "240.00", Decimal(75), Decimal(76), False),
    ]
    assert alerts.alerts(burndown_frame(BURNDOWN), (Decimal(99),))["po_number"].tolist() == ["PO-3"]
    empty = alerts.alerts(burndown_frame(BURNDOWN).iloc[3:])  # po-0 at 10 %: nothing reached
    assert empty.empty and list(empty.columns) == list(alerts.ALERT_COLUMNS)


def test_reached_is_the_highest_threshold_at_or_below() -> None:
    levels = alerts.DEFAULT_THRESHOLDS
    assert [alerts.reached(p, levels) for p in (None, Decimal("49.99"), Decimal(50), Decimal("99.99"), Decimal(250))] == [
        None, None, Decimal(50), Decimal(90), Decimal(100),
    ]  # fmt: skip


def test_the_csv_and_the_at_risk_columns_are_text() -> None:
    bd = burndown_frame(BURNDOWN)
    csv = alerts.alerts_csv_frame(alerts.alerts(bd))
    assert csv.loc[0, ["threshold", "before_percent", "crossed_this_period"]].tolist() == [
        "100",
        "0.00",
        "yes",
    ]
    assert all(isinstance(v, str) for v in csv.to_numpy().ravel())
    columns = alerts.threshold_columns(bd, alerts.DEFAULT_THRESHOLDS)
    assert columns.values.tolist() == [["90", "", ""], ["75", "90", ""], ["", "", "100"], ["", "", ""]]
