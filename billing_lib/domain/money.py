"""Exact money: one way to make a number, currency always attached, no binary floats summed.

Inside frames an amount is an ``int64`` count of the currency's minor unit (cents for EUR, yen for
JPY), rounded half up once when the item is read. Outside frames it is a ``Decimal``.
A float handed to us by a spreadsheet reader is taken as written: its shortest round-trip text
(``repr``) is what the cell showed, so ``386.645`` stays three hundred eighty-six and 645
thousandths and rounds to ``386.65``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, InvalidOperation

import numpy as np
import pandas as pd

from billing_lib.domain.text import is_missing

Currency = str

DEFAULT_CURRENCY: Currency = "EUR"
# ISO 4217 minor units that differ from the usual two places.
_MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

_STRIP = re.compile(r"[\s\u00a0\u202f'’]")
_SYMBOLS = re.compile(r"^[A-Za-z$€£¥]{0,3}")


# SPEC section 2: an amount beyond what money can be here is held (``amount_out_of_range``), never summed.
MAX_AMOUNT = Decimal(10) ** 13  # an item's amount, rate or quantity, in absolute value
MAX_RATE_PLACES = 8  # a unit price with more decimals than this (trailing zeros aside) is not a price
# Every sum of a month's minor units stays below this: the absolute amounts of all items read together
# (invoiced and held) are kept under it, so no subset sum, running total, or net + tax (tax <= net, a
# rate being at most 100 %) can pass 2**63 - 1, and int64 arithmetic is exact (tests/test_money_range.py).
SUM_LIMIT = 2**61


def amount_in_range(value: Decimal) -> bool:
    """Whether an amount (or quantity) is one money can be: finite and at most ``MAX_AMOUNT`` either way."""
    return value.is_finite() and abs(value) <= MAX_AMOUNT


def rate_in_range(value: Decimal) -> bool:
    """Whether a unit price is one: in range, and at most ``MAX_RATE_PLACES`` decimals (trailing zeros aside)."""
    if not amount_in_range(value):
        return False
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -MAX_RATE_PLACES


def exact_product(a: Decimal, b: Decimal) -> Decimal:
    """``a x b`` with every digit kept (the default context would round past 28 digits)."""
    digits = len(a.as_tuple().digits) + len(b.as_tuple().digits)
    return Context(prec=max(digits, 28), Emax=MAX_EMAX, Emin=MIN_EMIN).multiply(a, b)


# ISO 4217 codes that are not money one invoices in: precious metals, bond-market units, the IMF's SDR,
# the testing code and "no currency".
_NOT_MONEY = frozenset(
    {"XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX", "XFO", "XFU",
     "XRE", "XEU", "XAD"}
)  # fmt: skip


@functools.cache
def _iso_codes() -> frozenset[str]:
    from babel.numbers import list_currencies  # CLDR's list of ISO 4217 codes

    return frozenset(list_currencies()) - _NOT_MONEY


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency code one can invoice in (``EUR``; not ``Euro``, ``€``, ``XXX``)."""
    return code in _iso_codes()


def minor_digits(currency: Currency) -> int:
    """How many decimal places the currency's minor unit has (2 unless ISO 4217 says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def parse_decimal(value: object, *, decimal_comma: bool | None = None) -> Decimal | None:
    """The exact decimal a cell holds, or None when it is empty. Raises ValueError when it is not a number.

    Accepts ints, floats (taken as their shortest text), Decimals and text such as ``1,234.50``,
    ``1.234,50``, ``€ 12``, ``(12.00)`` (a credit) or ``3.5000``. ``decimal_comma`` says how text
    with a comma is read: True for ``1.234,5`` style, False for ``1,234.5``, None to judge from
    the text itself (the later of ``.`` and ``,`` is the decimal mark; ``1,234`` is a thousand).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError(f"{value!r} is not a finite number")
        return Decimal(repr(value))
    text = _STRIP.sub("", str(value))
    if text == "":
        return None
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    text = _SYMBOLS.sub("", text) if not text[:1].isdigit() and text[:1] not in "+-." else text
    if decimal_comma is None and "," in text:
        if "." in text:
            decimal_comma = text.rfind(",") > text.rfind(".")
        else:
            decimal_comma = not re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", text)
    # 1.234,50 or 1,234.50
    text = text.replace(".", "").replace(",", ".") if decimal_comma else text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return -number if negative else number


def to_minor(amount: Decimal, currency: Currency) -> int:
    """Round an exact amount half up to the currency's minor unit, as an integer count of that unit.

    Rounded once, from every digit the amount has (the default 28-digit context would round
    ``0.00499999999999999999999999999995`` to ``0.005`` first, and then up to a cent).
    """
    digits = minor_digits(currency)
    context = Context(prec=max(28, amount.adjusted() + digits + 2), rounding=ROUND_HALF_UP)
    return int(amount.quantize(Decimal(1).scaleb(-digits), context=context).scaleb(digits, context=context))


def from_minor(minor: int, currency: Currency) -> Decimal:
    """The Decimal amount of ``minor`` units of the currency (``123450`` EUR is ``1234.50``)."""
    digits = minor_digits(currency)
    return Decimal(int(minor)).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def format_minor(
    minor: object, currency: object, *, grouped: bool = False, with_currency: bool = False
) -> str:
    """Minor units as text with the currency's places: ``1234.50`` (as the CSV outputs carry it),
    ``1,234.50`` with ``grouped``, ``1,234.50 EUR`` with ``with_currency`` too; '' when missing."""
    if is_missing(minor):
        return ""
    cur = str(currency)
    amount = from_minor(int(Decimal(minor)) if isinstance(minor, str) else int(minor), cur)  # type: ignore[call-overload]
    text = f"{amount:,}" if grouped else str(amount)
    return f"{text} {cur}" if with_currency else text


def format_minor_series(minor: pd.Series, currency: pd.Series) -> pd.Series:
    """``format_minor`` of each row (plain decimal text in the row's currency), a ``str`` column on the same index."""
    return pd.Series(
        [format_minor(m, c) for m, c in zip(minor, currency, strict=True)], index=minor.index, dtype="str"
    )


def round_money(amount: Decimal, currency: Currency) -> Decimal:
    """An amount rounded half up to the currency's minor unit."""
    return from_minor(to_minor(amount, currency), currency)


def decimals_of(values: pd.Series, comma_file: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse a column to exact Decimals, each distinct value once.

    Returns the parsed column (object dtype, None where empty or bad) and a boolean mask of the
    cells that held something that is not a number. ``comma_file``: the column comes from a
    semicolon-separated CSV, where a comma in a number with no dot is a decimal comma (``386,645``
    is 386.645) unless some value of the column can only be read with a decimal point.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))  # empty cells (None, NaN): code -1
    comma_only, dot_only = separator_evidence(uniques)
    comma = True if comma_only and not dot_only else None
    lone_comma_is_decimal = comma is None and comma_file and not dot_only
    parsed = np.empty(len(uniques) + 1, dtype=object)  # the last slot, None, is for code -1
    rejected = np.zeros(len(uniques) + 1, dtype=bool)
    for i, raw in enumerate(uniques):
        mode = comma
        if lone_comma_is_decimal and isinstance(raw, str) and "," in raw and "." not in raw:
            mode = True
        try:
            parsed[i] = parse_decimal(raw, decimal_comma=mode)
        except ValueError:
            rejected[i] = True
    return (
        pd.Series(parsed[codes], index=values.index, dtype=object, name=values.name),
        pd.Series(rejected[codes], index=values.index, name=values.name),
    )


_DOT_READING = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d*)(\.\d*)?")
_COMMA_READING = re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d*)(,\d*)?")


def separator_evidence(uniques: Iterable[object]) -> tuple[bool, bool]:
    """Whether some text value of a column can only be read with a decimal comma (``12,5``,
    ``1.234,50``), and whether some can only be read with a decimal point (``12.5``, ``1,234.50``).

    ``386,645`` alone could be either; a column with evidence of one kind and none of the other reads
    all its values that way (see ``decimals_of``).
    """
    comma_only = dot_only = False
    for raw in uniques:
        if not isinstance(raw, str) or ("," not in raw and "." not in raw):
            continue
        text = _STRIP.sub("", raw).strip("()")
        text = _SYMBOLS.sub("", text) if not text[:1].isdigit() and text[:1] not in "+-.," else text
        dot, comma = bool(_DOT_READING.fullmatch(text)), bool(_COMMA_READING.fullmatch(text))
        comma_only |= comma and not dot
        dot_only |= dot and not comma
    return comma_only, dot_only


def minor_units_of(amounts: pd.Series, currencies: pd.Series) -> np.ndarray:
    """Round a column of Decimals (None allowed, giving 0) to int64 minor units of each row's currency."""
    amount_codes, values = pd.factorize(amounts.to_numpy(object))  # a missing amount: code -1
    currency_codes, currency_values = pd.factorize(currencies.to_numpy(object), use_na_sentinel=False)
    pairs = np.where(
        amount_codes < 0, -1, amount_codes.astype(np.int64) * len(currency_values) + currency_codes
    )
    codes, distinct = pd.factorize(pairs)  # each distinct (amount, currency) rounded once
    minors = [
        to_minor(values[p // len(currency_values)], currency_values[p % len(currency_values)])
        if p >= 0
        else 0
        for p in distinct.tolist()
    ]
    return np.asarray(minors, dtype=np.int64)[codes]
