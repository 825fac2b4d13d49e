"""``Period``: a billing month parsed from ``YYYY-MM``, its first and last day, and the years allowed."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_lib.domain.errors import UsageError
from billing_lib.domain.period import FIRST_YEAR, LAST_YEAR, Period


@pytest.mark.parametrize(
    ("text", "year", "month"),
    [("2026-10", 2026, 10), (" 2026-10\n", 2026, 10), ("2026-1", 2026, 1), ("2026-01", 2026, 1), ("1900-01", 1900, 1),
     ("2199-12", 2199, 12)],
)  # fmt: skip
def test_parse(text: str, year: int, month: int) -> None:
    period = Period.parse(text)
    assert (period.year, period.month) == (year, month)
    assert period.label == str(period) == f"{year:04d}-{month:02d}"


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-10-01", "26-10", "2026/10", "202610", "October 2026", "", "2026-100"]
)
def test_malformed_periods_are_usage_errors_naming_the_text(text: str) -> None:
    with pytest.raises(UsageError, match="is not of the form YYYY-MM") as caught:
        Period.parse(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize("text", [f"{FIRST_YEAR - 1}-12", f"{LAST_YEAR + 1}-01", "0000-01", "9999-12"])
def test_years_outside_the_inputs_dates_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match=f"the year must be from {FIRST_YEAR} to {LAST_YEAR}"):
        Period.parse(text)


@pytest.mark.parametrize(
    ("text", "last_day"),
    [("2026-10", 31), ("2026-11", 30), ("2026-02", 28), ("2028-02", 29), ("2000-02", 29), ("2100-02", 28)],
)
def test_start_and_end_are_the_first_and_last_day(text: str, last_day: int) -> None:
    period = Period.parse(text)
    assert period.start == dt.date(period.year, period.month, 1)
    assert period.end == dt.date(period.year, period.month, last_day)


def test_periods_are_values() -> None:
    assert Period.parse("2026-10") == Period(2026, 10)
    assert len({Period.parse("2026-10"), Period.parse(" 2026-10"), Period(2026, 11)}) == 2
    with pytest.raises(AttributeError):
        Period.parse("2026-10").month = 11  # type: ignore[misc]
