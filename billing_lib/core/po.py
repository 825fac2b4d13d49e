"""PO checks against the reference table (SPEC section 2): unknown, wrong customer, expired, over budget,
missing where the customer requires one. Pure functions over the items frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.core.rules import Finding, Prepared, decide, po_key
from billing_lib.domain.money import format_minor, is_currency, minor_units_of
from billing_lib.domain.records import (
    EXPIRED_PO,
    MISSING_PO,
    OVER_BUDGET,
    PO_CURRENCY_MISMATCH,
    PO_CUSTOMER_MISMATCH,
    PO_REFERENCE_CONFLICT,
    PO_REFERENCE_INVALID,
    UNKNOWN_PO,
    Action,
    Issue,
    issue_at,
    issues_at,
)

OVER_BUDGET_POLICIES = ("flag", "hold")
REF_COLUMNS = (
    "po_number", "customer_id", "currency", "authorised_amount", "authorised_minor", "authorised_hours",
    "valid_from", "valid_to", "description", "monthly_amount",
)  # fmt: skip


def reference_table(po_budgets: pd.DataFrame) -> pd.DataFrame:
    """The PO reference table indexed by ``po_key``, with ``authorised_minor`` in the PO's currency."""
    if po_budgets.empty:
        return pd.DataFrame(columns=list(REF_COLUMNS)).rename_axis("po_key")
    ref = po_budgets.copy()
    ref["po_key"] = ref["po_number"].map(po_key)
    ref = ref[ref["po_key"] != ""]
    if ref["po_key"].duplicated().any():  # rows that disagree: the smallest budget and the narrowest dates
        by_po = ref.groupby("po_key", sort=False)
        smallest = by_po["authorised_amount"].transform(
            lambda s: min((v for v in s if v is not None), default=None)
        )
        ref = ref.assign(
            authorised_amount=smallest.astype(object),
            valid_from=by_po["valid_from"].transform("max"),
            valid_to=by_po["valid_to"].transform("min"),
        )
    ref = ref.drop_duplicates("po_key", keep="first")
    ref["currency"] = ref["currency"].astype("str").fillna("").str.upper()
    ref["customer_id"] = ref["customer_id"].astype("str").fillna("")
    ref["po_number"] = ref["po_number"].astype("str").str.strip()
    currency = ref["currency"].where(ref["currency"] != "", "EUR")
    ref["authorised_minor"] = minor_units_of(ref["authorised_amount"], currency)
    return ref.set_index("po_key")[list(REF_COLUMNS)]


def _as_named(table: str, file: str, sheet: str, column: str, default: str = "") -> str:
    return default


# The heading a file and sheet gives a canonical column of a table (``Inputs.heading``).
Heading = Callable[[str, str, str, str, str], str]


def reference_problems(table: pd.DataFrame, heading: Heading = _as_named) -> list[Issue]:
    """The PO reference table (``po_budgets``) checked (SPEC section 2): rows for one PO that disagree, a
    budget of 0 or below, ``valid_to`` before ``valid_from``, a currency that is not ISO 4217. Each names
    the table's row and blocks ``billing check``; the run takes the smallest budget and the narrowest dates
    of a PO. ``heading`` names a column as the row's own file does."""
    if table.empty:
        return []
    issues: list[Issue] = []
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]

    def issue(row: dict[str, Any], reason: str, column: str, value: object, text: str) -> None:
        file, sheet, number = str(row["_file"]), str(row["_sheet"] or ""), int(row["_row"])
        named = heading("po_budgets", file, sheet, column, column)
        shown = "" if value is None or (isinstance(value, float) and value != value) else str(value)
        issues.append(
            issue_at(reason, f"PO {row['po_number']}: {text}", source_table="po_budgets",
                     item_id=str(row["po_number"]), action="flagged", file=file, sheet=sheet, row=number,
                     column=named, value=shown)
        )  # fmt: skip

    first_of: dict[str, dict[str, Any]] = {}
    for row in records:
        key = po_key(row["po_number"])
        if not key:
            continue
        amount = row["authorised_amount"]
        if isinstance(amount, Decimal) and amount <= 0:
            issue(
                row, PO_REFERENCE_INVALID, "authorised_amount", amount, "an authorised amount of 0 or below"
            )
        valid_from, valid_to = row["valid_from"], row["valid_to"]
        if (
            isinstance(valid_from, pd.Timestamp)
            and isinstance(valid_to, pd.Timestamp)
            and valid_to < valid_from
        ):
            issue(row, PO_REFERENCE_INVALID, "valid_to", f"{valid_to:%Y-%m-%d}",
                  f"valid to {valid_to:%Y-%m-%d} is before valid from {valid_from:%Y-%m-%d}")  # fmt: skip
        currency = row["currency"].strip() if isinstance(row["currency"], str) else ""
        if currency and not is_currency(currency.upper()):
            issue(
                row,
                PO_REFERENCE_INVALID,
                "currency",
                currency,
                f"{currency!r} is not an ISO 4217 currency code",
            )
        first = first_of.setdefault(key, row)
        if first is row:
            continue
        for column in ("authorised_amount", "customer_id", "currency", "valid_from", "valid_to"):
            a, b = _comparable(first[column]), _comparable(row[column])
            if a != b:
                issue(row, PO_REFERENCE_CONFLICT, column, row[column],
                      f"{column} {b or '(empty)'} here but {a or '(empty)'} on row {int(first['_row'])} for the "
                      "same PO (the smallest budget and the narrowest dates are used)")  # fmt: skip
    return issues


def _comparable(value: object) -> str:
    """A reference cell as text for comparing two rows (``100`` = ``100.00``; empty = empty)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, Decimal):
        return str(value.normalize())
    return str(value).strip().upper()


def po_currencies(items: pd.DataFrame, ref: pd.DataFrame) -> pd.Series:
    """Each PO's currency: the reference table's, else the one most of its items carry (ties: A-Z).

    ``ref`` as ``with_item_currencies`` gives it (a reference row without a currency takes its items')."""
    return _po_currencies(ref, _items_currency(items))


def _po_currencies(ref: pd.DataFrame, from_items: pd.Series) -> pd.Series:
    stated = ref["currency"][ref["currency"] != ""]
    return pd.concat([stated, from_items[~from_items.index.isin(stated.index)]])


def _items_currency(items: pd.DataFrame) -> pd.Series:
    """The currency most of each PO's items carry (ties: A-Z), by ``po_key``."""
    with_po = items[items["po_key"] != ""]
    counts = with_po.groupby(["po_key", "currency"]).size().reset_index(name="n")
    counts = counts.sort_values(["po_key", "n", "currency"], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("po_key").set_index("po_key")["currency"]


def with_item_currencies(ref: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The reference table with each row that states no currency in the one most of its PO's items carry,
    its authorised amount counted again in that currency's minor unit (a new frame)."""
    return _filled(ref, _items_currency(items))


def _filled(ref: pd.DataFrame, from_items: pd.Series) -> pd.DataFrame:
    blank = ref.index[(ref["currency"] == "") & ref.index.isin(from_items.index)]
    if not len(blank):
        return ref
    ref = ref.copy()
    ref.loc[blank, "currency"] = from_items[blank]
    ref.loc[blank, "authorised_minor"] = minor_units_of(
        ref.loc[blank, "authorised_amount"], ref.loc[blank, "currency"]
    )
    return ref


Message = str | Callable[[pd.DataFrame], pd.Series]


def _issues(reason: str, action: Action, message: Message) -> Callable[[pd.DataFrame], list[Issue]]:
    """One issue per row given, read column-wise (``items.loc`` per row took seconds for 100,000 flags).

    ``message`` is a text, or a function of the rows giving one text each (built only for them).
    """

    def build(rows: pd.DataFrame) -> list[Issue]:
        texts = [message] * len(rows) if isinstance(message, str) else message(rows).astype("str").tolist()
        sheets = [s if isinstance(s, str) else "" for s in rows["_sheet"]]
        return issues_at(reason, texts, action=action, source_tables=rows["source_table"],
                         item_ids=rows["item_id"], files=rows["_file"], sheets=sheets, rows=rows["_row"])  # fmt: skip

    return build


def check_missing_po(items: pd.DataFrame, companies: pd.DataFrame) -> Finding:
    """A customer that requires a PO gets nothing invoiced without one."""
    missing = np.zeros(len(items), dtype=bool)
    if not companies.empty and "requires_po" in companies:
        requires = companies["requires_po"].map(lambda v: v is True)
        requiring = set(companies.loc[requires, "customer_id"].astype("str"))
        missing = ((items["po_key"] == "") & items["customer_id"].isin(requiring)).to_numpy(bool)
    text = "customer requires a PO number and this item has none"
    return Finding(missing, MISSING_PO, _issues(MISSING_PO, "held", text))


def check_po_currency(items: pd.DataFrame, currencies: pd.Series) -> Finding:
    """A PO is one budget in one currency (``currencies``, by ``po_key``, as ``po_currencies`` gives them):
    an item in another currency cannot count against it."""
    currency = items["po_key"].map(currencies.astype("str")).astype("str").fillna("")
    other = (items["po_key"] != "") & (currency != "") & (currency != items["currency"])

    def text(r: pd.DataFrame) -> pd.Series:
        return "the item is in " + r["currency"] + " but PO " + r["po_number"] + " is in " + currency[r.index]

    return Finding(other.to_numpy(bool), PO_CURRENCY_MISMATCH, _issues(PO_CURRENCY_MISMATCH, "held", text))


def check_unknown_po(items: pd.DataFrame, ref: pd.DataFrame) -> Finding:
    """A PO that is not in the reference table (flagged)."""
    unknown = (items["po_key"] != "") & ~items["po_key"].isin(ref.index)

    def text(r: pd.DataFrame) -> pd.Series:
        return "PO " + r["po_number"] + " is not in the PO reference table"

    return Finding(unknown.to_numpy(bool), UNKNOWN_PO, _issues(UNKNOWN_PO, "flagged", text), holds=False)


def check_po_customer(items: pd.DataFrame, ref: pd.DataFrame) -> Finding:
    """A PO the reference table gives to another customer."""
    owner = items["po_key"].map(ref["customer_id"]).fillna("")
    mismatch = items["po_key"].isin(ref.index) & (owner != "") & (owner != items["customer_id"])

    def text(r: pd.DataFrame) -> pd.Series:
        return "PO " + r["po_number"] + " belongs to customer " + owner[r.index] + ", not " + r["customer_id"]

    return Finding(mismatch.to_numpy(bool), PO_CUSTOMER_MISMATCH, _issues(PO_CUSTOMER_MISMATCH, "held", text))


def check_po_dates(items: pd.DataFrame, ref: pd.DataFrame) -> Finding:
    """An item dated outside its PO's validity (flagged)."""
    date = items["item_date"]
    valid_from = pd.to_datetime(items["po_key"].map(ref["valid_from"]))
    valid_to = pd.to_datetime(items["po_key"].map(ref["valid_to"]))
    outside = items["po_key"].isin(ref.index) & (
        (valid_from.notna() & (date < valid_from)) | (valid_to.notna() & (date > valid_to))
    )

    def text(r: pd.DataFrame) -> pd.Series:
        return "PO " + r["po_number"] + " is not valid on " + r["item_date"].dt.strftime("%Y-%m-%d")

    return Finding(outside.to_numpy(bool), EXPIRED_PO, _issues(EXPIRED_PO, "flagged", text), holds=False)


def check_pos(
    prep: Prepared,
    ref: pd.DataFrame,
    previously_invoiced: Mapping[str, int] | None = None,
    over_budget_policy: str = "flag",
    *,
    has_reference: bool | None = None,
) -> tuple[Prepared, pd.DataFrame]:
    """The PO checks: what must be held is held, the rest flagged, POs shown in the table's spelling.

    ``has_reference``: whether the inputs hold a PO reference table (when None, whether ``ref`` has rows);
    without one no PO is unknown. Returns the checked month (a new ``Prepared``) and the reference table
    as the checks used it (``with_item_currencies``)."""
    known = prep.items["po_key"].isin(ref.index)
    shown = prep.items["po_key"].map(ref["po_number"]).where(known, prep.items["po_number"]).fillna("")
    items = prep.items.assign(po_number=shown)
    from_items = _items_currency(items)
    ref = _filled(ref, from_items)
    findings = [
        check_missing_po(items, prep.companies),
        check_po_currency(items, _po_currencies(ref, from_items)),
    ]
    has_ref = not ref.empty if has_reference is None else has_reference
    if has_ref:
        findings += [check_unknown_po(items, ref), check_po_customer(items, ref), check_po_dates(items, ref)]
    reason, issues = decide(items, findings)
    # the held, grouped by reason in the order of the checks
    held = [
        items[reason == r].assign(reason=r) for r in (MISSING_PO, PO_CURRENCY_MISMATCH, PO_CUSTOMER_MISMATCH)
    ]
    items = items[reason == ""].reset_index(drop=True)
    if has_ref:  # the budget walk sees only what is still to invoice: held items do not consume a budget
        over = _over_budget(items, ref, previously_invoiced or {}, over_budget_policy)
        issues += over.issues(items[over.mask])
        if over.holds:
            held.append(items[over.mask].assign(reason=OVER_BUDGET))
            items = items[~over.mask].reset_index(drop=True)
    parts = [h for h in held if len(h)]
    all_held = pd.concat([prep.held, *parts], ignore_index=True) if parts else prep.held
    return replace(prep, items=items, held=all_held, issues=[*prep.issues, *issues]), ref


def _over_budget(
    items: pd.DataFrame, ref: pd.DataFrame, previously: Mapping[str, int], policy: str
) -> Finding:
    """The items that take a PO's cumulative amount, in date order, past its authorised amount (held under
    the ``hold`` policy, which keeps them from consuming the budget; flagged otherwise)."""
    action: Action = "held" if policy == "hold" else "flagged"
    over = np.zeros(len(items), dtype=bool)
    messages: dict[int, str] = {}
    known = items["po_key"].isin(ref.index)
    if known.any():
        on_ref = items[known]
        # a PO can only cross if its earlier invoicing plus all of this period's charges (credits aside)
        # exceed the budget: find those with one vectorised sum, and walk only their items in date order
        most = on_ref["amount_minor"].clip(lower=0).groupby(on_ref["po_key"]).sum()
        earlier = np.array([int(previously.get(str(k), 0)) for k in most.index], dtype=np.int64)
        budget = ref.loc[most.index, "authorised_minor"].astype("int64").to_numpy()
        crossing = most.index[most.to_numpy(np.int64) + earlier > budget]
        if len(crossing):
            ordered = on_ref[on_ref["po_key"].isin(crossing)].sort_values(
                ["po_key", "item_date", "source_table", "item_id"], kind="stable"
            )
            for key, group in ordered.groupby("po_key", sort=False):
                for idx, said in _crossings(group, ref, int(previously.get(str(key), 0)), policy):
                    messages[idx] = said
            over[items.index.get_indexer(pd.Index(list(messages)))] = True

    def text(r: pd.DataFrame) -> pd.Series:
        return pd.Series(messages, dtype="str").reindex(r.index)

    return Finding(over, OVER_BUDGET, _issues(OVER_BUDGET, action, text), holds=policy == "hold")


def _crossings(group: pd.DataFrame, ref: pd.DataFrame, running: int, policy: str) -> list[tuple[int, str]]:
    """The items of one PO (in date order) that take it past its authorised amount, each with its message."""
    key = group["po_key"].iloc[0]
    authorised = int(ref.at[key, "authorised_minor"])  # type: ignore[arg-type]  # an int64 cell
    currency = str(group["currency"].iloc[0])
    amounts = group["amount_minor"].to_numpy(np.int64)
    if running + int(amounts[amounts > 0].sum()) <= authorised:
        return []  # never crosses: the common case costs one sum
    out = []
    for idx, amount, po_number in zip(group.index, amounts, group["po_number"].tolist(), strict=True):
        after = running + int(amount)
        if amount > 0 and after > authorised:
            out.append((int(idx), f"takes PO {po_number} to {format_minor(after, currency)} of "
                                  f"{format_minor(authorised, currency)} authorised"))  # fmt: skip
            if policy == "hold":
                continue  # held items do not consume the budget
        running = after
    return out
