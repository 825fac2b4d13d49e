"""The prepared month's items as integer codes, each worked out once per month.

Consolidation sorts and groups the items under every method. A text column becomes integer codes
numbered in the order its values sort as text, so sorting and grouping the codes sorts and groups the
text. ``Prepared.codes`` keeps one ``ItemCodes`` per prepared month, and each code is worked out on
first use: a run, and an analyst switching methods in the workbook, then sort and group integers:

- ``rank``: each item's place in the order an invoice lists its items: date, source table, item id
  (as text sorts), ties in the month's order;
- ``price_text``: the unit price as written (``95`` and ``95.00`` are the prices of two lines);
- ``po_number``: one spelling per PO (POs match trimmed and case-folded); ``po`` its codes;
- ``line``: an invoice line within one invoice (``records.LINE_KEY`` but the invoice number: PO, kind,
  billing code, unit price) as one code;
- ``party``: the customer, currency and billing entity together (every invoice is for one of each);
- ``column(name)``: any text column, a missing value read as '' (as the consolidation keys read it).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property

import numpy as np
import pandas as pd


class Codes:
    """A column as codes ``0 .. count - 1`` numbered in the order its values sort, with the values."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: np.ndarray, values: np.ndarray) -> None:
        self.codes = codes
        self.values = values

    @property
    def count(self) -> int:
        return max(len(self.values), 1)


def sorted_codes(values: pd.Series) -> Codes:
    """The column's codes in the order its values sort (as ``sort_values`` and ``groupby`` put them:
    a missing value last)."""
    codes, distinct = pd.factorize(values, sort=True, use_na_sentinel=False)
    return Codes(codes.astype(np.int64), np.asarray(distinct, dtype=object))


def combined(*columns: Codes) -> Codes:
    """One code per distinct combination of several columns' codes, numbered in the order the
    combinations sort column by column (the first column first)."""
    code, count = np.zeros(len(columns[0].codes), dtype=np.int64), 1
    for column in columns:
        if count * column.count >= 2**62:  # keep the mixed-radix number inside int64
            code, count = _compact(code)
        code, count = code * column.count + column.codes, count * column.count
    code, count = _compact(code)
    return Codes(code, np.arange(count))


def _compact(code: np.ndarray) -> tuple[np.ndarray, int]:
    distinct, compact = np.unique(code, return_inverse=True)
    return compact.astype(np.int64).reshape(-1), len(distinct)


def price_text(price: object) -> str:
    """A unit price as written (``95`` and ``95.00`` are two lines' prices); '' for none."""
    if price.__class__ is Decimal:
        return str(price)
    return "" if price is None or price != price else str(price)


def one_spelling_per_po(items: pd.DataFrame) -> pd.Series:
    """Each item's PO as one spelling per PO key.

    ``check_pos`` already shows the reference table's spelling for known POs; a PO missing from the
    table is shown as most of its items spell it (ties: the alphabetically first), whatever the row order.
    """
    with_po = items["po_key"] != ""
    keyed = items.loc[with_po, ["po_key", "po_number"]]
    if keyed.empty or keyed["po_number"].nunique() == keyed["po_key"].nunique():
        return items["po_number"]  # one spelling per key already (the spelling determines the key)
    counts = keyed.groupby(["po_key", "po_number"]).size().rename("n").reset_index()
    best = counts.sort_values(["po_key", "n", "po_number"], ascending=[True, False, True], kind="stable")
    spelling = best.drop_duplicates("po_key").set_index("po_key")["po_number"]
    return items["po_key"].map(spelling).where(with_po, items["po_number"]).astype("str")


def iso_weeks(days: pd.Index | np.ndarray) -> np.ndarray:
    """``2026-W41`` for each of distinct dates, and '' last (a missing date's code -1 takes it)."""
    return np.array(["{}-W{:02d}".format(*d.isocalendar()[:2]) for d in days] + [""], dtype=object)


def month_rank(items: pd.DataFrame) -> np.ndarray:
    """Each item's place in the order an invoice lists them: date (none last), source table, item id
    as text; ties keep the month's order."""
    dates = items["item_date"].to_numpy("datetime64[ns]")
    day = np.where(np.isnat(dates), np.iinfo(np.int64).max, dates.view(np.int64))  # no date: last
    table = sorted_codes(items["source_table"]).codes
    ident = sorted_codes(items["item_id"]).codes
    order = np.lexsort((ident, table, day))  # stable: equal keys keep the month's order
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank


class ItemCodes:
    """The month's items as integer codes, in the items' row order (see the module docstring)."""

    def __init__(self, items: pd.DataFrame) -> None:
        self.items = items
        self._columns: dict[str, Codes] = {}
        self._missing: dict[str, bool] = {}

    @cached_property
    def rank(self) -> np.ndarray:
        return month_rank(self.items)

    @cached_property
    def price_text(self) -> pd.Series:
        return self.items["unit_price"].map(price_text).astype("str")

    @cached_property
    def po_number(self) -> pd.Series:
        return one_spelling_per_po(self.items)

    @cached_property
    def po(self) -> Codes:
        return sorted_codes(self.po_number)

    @cached_property
    def line(self) -> Codes:
        kind, code = sorted_codes(self.items["kind"]), sorted_codes(self.items["billing_code_name"])
        return combined(self.po, kind, code, sorted_codes(self.price_text))

    @cached_property
    def party(self) -> Codes:
        """Customer, currency and billing entity (as the items hold them: a missing value sorts last)."""
        return combined(*(sorted_codes(self.items[c]) for c in ("customer_id", "currency", "billing_entity")))

    @cached_property
    def week(self) -> Codes:
        """The ISO week of each item's date (``2026-W41``; '' for none)."""
        day, days = pd.factorize(self.items["item_date"])
        return sorted_codes(pd.Series(iso_weeks(days)[day], dtype="str"))

    @cached_property
    def contact(self) -> Codes:
        return sorted_codes(self.items["billing_contact"])

    def column(self, name: str) -> Codes:
        """A text column's codes, a missing value read as ''."""
        if name not in self._columns:
            self._columns[name] = sorted_codes(self.items[name].fillna("").astype("str"))
        return self._columns[name]

    def present(self, name: str) -> np.ndarray:
        """Whether each item has a value in a text column (not '' and not missing)."""
        column = self.column(name)
        return (
            column.codes != 0
            if len(column.values) and column.values[0] == ""
            else np.ones(len(column.codes), bool)
        )

    def has_missing(self, name: str) -> bool:
        """Whether some item has no value at all (not even '') in the column."""
        if name not in self._missing:
            self._missing[name] = bool(self.items[name].isna().any())
        return self._missing[name]
