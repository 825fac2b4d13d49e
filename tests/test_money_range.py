"""Money cannot overflow or wrap (issue #13): Hypothesis over the whole range of amounts accepted.

What the workbook accepts: an amount, quantity or rate of at most 10**13 either way (``MAX_AMOUNT``), a
rate of at most 8 decimals, and a month whose absolute amounts add up to less than 2**61 minor units
(``SUM_LIMIT``: the largest items beyond it are held). Within that, every amount rounds half up once to
the exact minor unit, and every int64 sum the run makes (invoice nets with ``np.add.at``, pandas sums,
running totals, net + tax) equals the exact Python-integer sum.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_lib.core.consolidate import _tax_minor
from billing_lib.core.rules import _beyond_sums
from billing_lib.domain.money import (
    MAX_AMOUNT,
    SUM_LIMIT,
    amount_in_range,
    exact_product,
    minor_digits,
    rate_in_range,
    to_minor,
)

CURRENCIES = ("EUR", "JPY", "KWD")  # 2, 0 and 3 decimals: the largest minor amount is 10**16 (KWD)


def half_up(value: Fraction) -> int:
    """The integer nearest ``value``, halves away from zero: the reference for rounding."""
    magnitude = (abs(value.numerator) * 2 + value.denominator) // (2 * value.denominator)
    return magnitude if value >= 0 else -magnitude


decimals = st.decimals(
    min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, allow_nan=False, allow_infinity=False, places=None
)
in_range = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(-(10**13), 10**13),
    st.integers(0, 30),
).filter(amount_in_range)


@given(in_range, st.sampled_from(CURRENCIES))
def test_an_amount_rounds_half_up_once_from_every_digit(amount: Decimal, currency: str) -> None:
    digits = minor_digits(currency)
    assert to_minor(amount, currency) == half_up(Fraction(amount) * 10**digits)
    assert abs(to_minor(amount, currency)) <= 10**13 * 10**digits <= 10**16


@given(
    st.builds(lambda u, p: Decimal(u).scaleb(-p), st.integers(-(10**13), 10**13), st.integers(0, 20)),
    st.builds(lambda u, p: Decimal(u).scaleb(-p), st.integers(0, 10**13), st.integers(0, 8)),
)
def test_quantity_times_rate_keeps_every_digit(quantity: Decimal, rate: Decimal) -> None:
    assert Fraction(exact_product(quantity, rate)) == Fraction(quantity) * Fraction(rate)


@given(st.builds(lambda u, p: Decimal(u).scaleb(-p), st.integers(1, 10**12), st.integers(0, 16)))
def test_a_rate_past_eight_decimals_is_out_of_range(rate: Decimal) -> None:
    places = -rate.normalize().as_tuple().exponent  # type: ignore[operator]
    assert rate_in_range(rate) == (places <= 8 and rate <= MAX_AMOUNT)


# A month: a few distinct amounts, each repeated many times (up to a million items in all).
months = st.lists(st.tuples(st.integers(-(10**16), 10**16), st.integers(1, 200_000)), min_size=1, max_size=6)


def month_frame(parts: list[tuple[int, int]]) -> pd.DataFrame:
    amounts = np.concatenate([np.full(n, a, dtype=np.int64) for a, n in parts])
    return pd.DataFrame({"amount_minor": amounts})


@settings(max_examples=60, deadline=None)
@given(months, st.integers(0, 10_000).map(lambda r: Fraction(r, 100)))
def test_no_sum_of_an_accepted_month_wraps(parts: list[tuple[int, int]], rate: Fraction) -> None:
    items = month_frame(parts)
    held = [i for i, _ in _beyond_sums(items)]
    kept = items.drop(index=held)["amount_minor"].to_numpy(np.int64)
    exact = [int(a) for a in kept]
    assert sum(abs(a) for a in exact) < SUM_LIMIT  # what stays is under the limit ...
    if held:  # ... and only the largest were held, and only as many as needed
        smallest_held = min(abs(int(items.at[i, "amount_minor"])) for i in held)
        assert all(abs(a) <= smallest_held for a in exact)
        assert sum(abs(a) for a in exact) + smallest_held >= SUM_LIMIT
    # every int64 sum the run makes equals the exact one
    assert int(kept.sum()) == sum(exact)
    assert int(pd.Series(kept).sum()) == sum(exact)
    running = np.cumsum(kept)
    assert len(running) == 0 or int(running[-1]) == sum(exact)
    invoices = np.arange(len(kept)) % 3  # three invoices sharing the items
    net = np.zeros(3, dtype=np.int64)
    np.add.at(net, invoices, kept)
    assert [int(n) for n in net] == [sum(exact[k::3]) for k in range(3)]
    # tax at any rate from 0 to 100 %: net + tax stays exact
    rates = pd.Series([Decimal(rate.numerator) / Decimal(rate.denominator)] * 3, dtype=object)
    tax = _tax_minor(pd.Series(net), rates)
    for n, t in zip(net.tolist(), tax.tolist(), strict=True):
        assert t == half_up(Fraction(n) * rate / 100)
        assert int(np.int64(n) + np.int64(t)) == n + t


def test_the_issue_month_no_longer_wraps() -> None:
    """100 x 10**15 EUR is held cell by cell (each is past 10**13); at the limit 100 items sum exactly."""
    assert not amount_in_range(Decimal(10**15))
    items = month_frame([(10**15, 100)])  # 100 x 10**13 EUR in cents
    assert _beyond_sums(items) == []
    assert int(items["amount_minor"].sum()) == 10**17
