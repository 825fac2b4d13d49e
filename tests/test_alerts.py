"""Budget alerts on the PO tracking month (``po_month``): every threshold reached, whether this period
crossed it, and the thresholds parameter.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from po_month import analysed_month

from billing_lib.core import alerts
from billing_lib.domain.errors import UsageError
from billing_lib.run.pipeline import Analysis
from billing_lib.ui import po_report


@pytest.fixture()
def month(tmp_path: Path) -> Analysis:
    return analysed_month(tmp_path)


@pytest.fixture()
def tracking(month: Analysis) -> po_report.PoReport:
    return po_report.build(month, "50, 75, 90, 100")


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


def test_thresholds_are_a_parameter(month):
    levels = alerts.parse_thresholds("95; 60 %,  60")
    assert levels == (Decimal(60), Decimal(95))
    assert alerts.parse_thresholds(90) == (Decimal(90),)  # billing batch -p thresholds=90 passes a number
    assert alerts.parse_thresholds([100, "50"]) == (Decimal(50), Decimal(100))
    report = po_report.build(month, "95")
    assert list(report.alerts["po_number"]) == ["PO-C", "PO-B", "PO-A", "PO-A", "PO-T", "PO-P"]
    assert set(report.alerts["threshold"]) == {Decimal(95)}
    low = po_report.build(month, "30")  # PO-C's total budget (32.50 %) now counts
    assert ("PO-C", "amount") in set(zip(low.alerts["po_number"], low.alerts["measure"], strict=True))
    for bad in ("", "fifty", "0", "-5", "nan", True):
        with pytest.raises(UsageError, match="thresholds"):
            alerts.parse_thresholds(bad)
