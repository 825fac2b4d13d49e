"""money: exact decimals from every cell shape, half-up rounding to each currency's minor unit, Money."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_lib.domain.money import (
    decimals_of,
    format_minor,
    format_minor_series,
    from_minor,
    minor_digits,
    minor_units_of,
    parse_decimal,
    round_money,
    to_minor,
)

D = Decimal


def test_386_645_rounds_to_386_65_where_floats_give_386_64() -> None:
    # the binary float nearest 386.645 is a little below it, so float rounding loses the half cent
    assert round(386.645, 2) == 386.64
    assert to_minor(parse_decimal("386.645"), "EUR") == 38665
    assert to_minor(parse_decimal(386.645), "EUR") == 38665  # a float cell from calamine, taken as written
    assert to_minor(parse_decimal("386.6450"), "EUR") == 38665  # Autotask's four places


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("-0.005", "EUR", -1),
        ("0.005", "EUR", 1),
        ("-0.0049", "EUR", 0),
        ("-386.645", "EUR", -38665),
        ("2.5", "JPY", 3),
        ("-2.5", "JPY", -3),
        ("1234.4999", "JPY", 1234),
        ("1.2345", "KWD", 1235),
        ("-1.2345", "KWD", -1235),
        ("1.2344", "KWD", 1234),
        ("0.0005", "BHD", 1),
        ("10", "usd", 1000),
    ],
)
def test_half_up_away_from_zero_in_each_currency(amount: str, currency: str, minor: int) -> None:
    assert to_minor(D(amount), currency) == minor


def test_minor_digits_and_formatting() -> None:
    assert (minor_digits("EUR"), minor_digits("JPY"), minor_digits("KWD"), minor_digits("jpy")) == (
        2,
        0,
        3,
        0,
    )
    assert format_minor(123450, "EUR") == "1234.50"
    assert format_minor(-1, "EUR") == "-0.01"
    assert format_minor(1235, "JPY") == "1235"
    assert format_minor(1235, "KWD") == "1.235"
    assert from_minor(5, "KWD") == D("0.005")
    assert str(round_money(D("-0.005"), "EUR")) == "-0.01"
    assert str(round_money(D("386.645"), "JPY")) == "387"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("12,5", "12.5"),
        ("1,234,567", "1234567"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234.50", "1234.50"),
        ("1'234.50", "1234.50"),
        ("(12.00)", "-12.00"),
        ("(1,234.50)", "-1234.50"),
        ("€ 12", "12"),
        ("$1,000.00", "1000.00"),
        ("EUR 12.00", "12.00"),
        ("-12.00", "-12.00"),
        ("3.5000", "3.5000"),
        (" 7 ", "7"),
        (".5", "0.5"),
        ("+5", "5"),
    ],
)
def test_parse_decimal_text(text: str, value: str) -> None:
    got = parse_decimal(text)
    assert got == D(value)
    assert str(got) == value  # exact, places kept


@pytest.mark.parametrize("value", [None, "", "   ", float("nan")])
def test_parse_decimal_empty(value: object) -> None:
    assert parse_decimal(value) is None


@pytest.mark.parametrize(
    "value", ["n/a", "abc", "12.3.4", "1.234.567", "-", "12-", float("inf"), True, "NaN", "1/2"]
)
def test_parse_decimal_rejects_what_is_not_a_number(value: object) -> None:
    with pytest.raises(ValueError, match="is not a"):
        parse_decimal(value)


def test_parse_decimal_of_numbers() -> None:
    assert parse_decimal(3) == D(3)
    assert str(parse_decimal(0.1)) == "0.1"  # not 0.1000000000000000055511151231257827...
    assert parse_decimal(D("1.10")) == D("1.10")


def test_decimals_of_reads_a_decimal_comma_column_consistently() -> None:
    # 386,645 alone could be a thousand-separated 386645; next to 2,5 and 100,00 it is 386.645
    parsed, bad = decimals_of(pd.Series(["386,645", "2,5", "100,00", "1.080,00", None, "x"], dtype=object))
    assert list(parsed) == [D("386.645"), D("2.5"), D("100.00"), D("1080.00"), None, None]
    assert list(bad) == [False, False, False, False, False, True]
    parsed, _ = decimals_of(
        pd.Series(["1,234", "2.5"], dtype=object)
    )  # a decimal point elsewhere: 1,234 is 1234
    assert list(parsed) == [D("1234"), D("2.5")]
    parsed, _ = decimals_of(
        pd.Series([386.645, 3, "1,5"], dtype=object)
    )  # numbers from xlsx are taken as they are
    assert list(parsed) == [D("386.645"), D(3), D("1.5")]


def test_minor_units_of_a_column() -> None:
    out = minor_units_of(
        pd.Series([D("386.645"), None, D("-0.005"), D("2.5")], dtype=object),
        pd.Series(["EUR", "EUR", "EUR", "JPY"]),
    )
    assert out.tolist() == [38665, 0, -1, 3]
    assert str(out.dtype) == "int64"


# --- invariants ------------------------------------------------------------------------------------------

four_places = st.decimals(
    min_value=D("-1000000"), max_value=D("1000000"), places=4, allow_nan=False, allow_infinity=False
)


@given(four_places, st.sampled_from(["EUR", "JPY", "KWD"]))
def test_rounding_moves_an_amount_by_at_most_half_a_minor_unit(amount: Decimal, currency: str) -> None:
    rounded = from_minor(to_minor(amount, currency), currency)
    half = D(1).scaleb(-minor_digits(currency)) / 2
    assert abs(rounded - amount) <= half
    if abs(rounded - amount) == half:  # ties go away from zero
        assert abs(rounded) > abs(amount)


@given(four_places, four_places)
def test_minor_units_of_a_sum_differ_from_the_sum_of_minor_units_by_at_most_one(
    a: Decimal, b: Decimal
) -> None:
    assert abs(to_minor(a + b, "EUR") - (to_minor(a, "EUR") + to_minor(b, "EUR"))) <= 1


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, min_value=D("-1e15"), max_value=D("1e15"), places=6
    ).filter(lambda d: len(d.normalize().as_tuple().digits) <= 15)
)
def test_a_float_cell_is_taken_as_written(value: Decimal) -> None:
    as_float = float(value)
    assert parse_decimal(repr(as_float)) == value
    assert parse_decimal(as_float) == value


@given(four_places)
def test_parse_decimal_round_trips_formatted_text(amount: Decimal) -> None:
    assert parse_decimal(f"{amount:,}") == amount  # 1,234,567.8901
    assert parse_decimal(f"({abs(amount):,})") == -abs(amount)


@pytest.mark.parametrize(
    ("minor", "currency", "options", "expected"),
    [
        (123450, "EUR", {}, "1234.50"),  # the CSV outputs
        (123450, "EUR", {"grouped": True}, "1,234.50"),  # the HTML report
        (123450, "EUR", {"grouped": True, "with_currency": True}, "1,234.50 EUR"),  # charts, app, notes
        (-123456789, "JPY", {"grouped": True, "with_currency": True}, "-123,456,789 JPY"),
        (1234567, "KWD", {"grouped": True}, "1,234.567"),
        (0, "EUR", {"grouped": True}, "0.00"),
        ("250", "EUR", {}, "2.50"),  # minor units that arrive as text
        (250.0, "EUR", {}, "2.50"),
        (None, "EUR", {"with_currency": True}, ""),  # missing: empty, never "nan"
        (float("nan"), "EUR", {}, ""),
        (pd.NA, "EUR", {}, ""),
    ],
)
def test_format_minor_variants(minor: object, currency: str, options: dict[str, bool], expected: str) -> None:
    assert format_minor(minor, currency, **options) == expected


def test_format_minor_series_keeps_the_index_and_each_rows_currency() -> None:
    out = format_minor_series(
        pd.Series([123450, None, 5], index=[7, 8, 9], dtype=object),
        pd.Series(["EUR", "EUR", "JPY"], index=[7, 8, 9]),
    )
    assert out.tolist() == ["1234.50", "", "5"]
    assert out.index.tolist() == [7, 8, 9] and str(out.dtype) in ("str", "object", "string")
