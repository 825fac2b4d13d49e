"""PO checks against the reference table (SPEC section 2): unknown, wrong customer, expired, over budget,
missing where the customer requires one. Pure functions over the items frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.core.rules import Prepared, po_key
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
    Issue,
    where,
)
from billing_lib.io.inputs import Inputs

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


def reference_problems(inputs: Inputs) -> list[Issue]:
    """The PO reference table checked (SPEC section 2): rows for one PO that disagree, a budget of 0 or
    below, ``valid_to`` before ``valid_from``, a currency that is not ISO 4217. Each names the table's row
    and blocks ``billing check``; the run takes the smallest budget and the narrowest dates of a PO."""
    table = inputs.table("po_budgets")
    if table.empty:
        return []
    issues: list[Issue] = []
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]

    def issue(row: dict[str, Any], reason: str, column: str, value: object, text: str) -> None:
        file, sheet, number = str(row["_file"]), str(row["_sheet"] or ""), int(row["_row"])
        heading = inputs.heading("po_budgets", file, sheet, column, column)
        shown = "" if value is None or (isinstance(value, float) and value != value) else str(value)
        issues.append(
            Issue("po_budgets", str(row["po_number"]), reason, "flagged",
                  f"{where(file, sheet, number, heading)}: PO {row['po_number']}: {text}",
                  file, sheet, number, heading, shown)
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

    A reference row without a currency takes that currency here (in place), and its authorised
    amount is counted again in that currency's minor unit.
    """
    with_po = items[items["po_key"] != ""]
    counts = with_po.groupby(["po_key", "currency"]).size().reset_index(name="n")
    counts = counts.sort_values(["po_key", "n", "currency"], ascending=[True, False, True], kind="stable")
    from_items = counts.drop_duplicates("po_key").set_index("po_key")["currency"]
    blank = ref.index[(ref["currency"] == "") & ref.index.isin(from_items.index)]
    if len(blank):
        ref.loc[blank, "currency"] = from_items[blank]
        ref.loc[blank, "authorised_minor"] = minor_units_of(
            ref.loc[blank, "authorised_amount"], ref.loc[blank, "currency"]
        )
    stated = ref["currency"][ref["currency"] != ""]
    return pd.concat([stated, from_items[~from_items.index.isin(stated.index)]])


Message = str | Callable[[pd.DataFrame], pd.Series]


def _flag(prep: Prepared, mask: pd.Series, reason: str, action: str, message: Message) -> None:
    """One issue per masked item, read column-wise (``items.loc`` per row took seconds for 100,000 flags).

    ``message`` is a text, or a function of the flagged rows giving one text each (built only for them).
    """
    rows = prep.items[mask.to_numpy(bool)]
    if rows.empty:
        return
    texts = [message] * len(rows) if isinstance(message, str) else message(rows).astype("str").tolist()
    columns = (rows[c].tolist() for c in ("source_table", "item_id", "_file", "_sheet", "_row"))
    for (table, item_id, file, sheet, row), text in zip(zip(*columns, strict=True), texts, strict=True):
        sheet = sheet if isinstance(sheet, str) else ""
        prep.issues.append(
            Issue(
                str(table),
                str(item_id),
                reason,
                action,  # type: ignore[arg-type]
                f"{where(str(file), sheet, int(row))}: {text}",
                str(file),
                sheet,
                int(row),
                "",
            )
        )


def _hold(prep: Prepared, mask: pd.Series, reason: str) -> None:
    if not mask.any():
        return
    prep.held = pd.concat([prep.held, prep.items[mask].assign(reason=reason)], ignore_index=True)
    prep.items = prep.items[~mask].reset_index(drop=True)


def check_pos(
    prep: Prepared,
    ref: pd.DataFrame,
    previously_invoiced: Mapping[str, int] | None = None,
    over_budget_policy: str = "flag",
) -> Prepared:
    """Run the PO checks in place: hold what must be held, flag the rest, show POs in the table's spelling."""
    previously_invoiced = previously_invoiced or {}
    items = prep.items
    has_ref = not ref.empty or prep.inputs.has("po_budgets")
    known = items["po_key"].isin(ref.index)
    items["po_number"] = items["po_key"].map(ref["po_number"]).where(known, items["po_number"]).fillna("")
    with_po = items["po_key"] != ""

    # a customer that requires a PO gets nothing invoiced without one
    companies = prep.companies
    if not companies.empty and "requires_po" in companies:
        requiring = set(
            companies.loc[companies["requires_po"].map(lambda v: v is True), "customer_id"].astype("str")
        )
        missing = ~with_po & items["customer_id"].isin(requiring)
        _flag(prep, missing, MISSING_PO, "held", "customer requires a PO number and this item has none")
        _hold(prep, missing, MISSING_PO)
        items, known, with_po = prep.items, prep.items["po_key"].isin(ref.index), prep.items["po_key"] != ""

    # a PO is one budget in one currency: an item in another currency cannot count against it
    currency = items["po_key"].map(po_currencies(items, ref).astype("str")).astype("str").fillna("")
    other = with_po & (currency != "") & (currency != items["currency"])
    _flag(
        prep,
        other,
        PO_CURRENCY_MISMATCH,
        "held",
        lambda r: (
            "the item is in " + r["currency"] + " but PO " + r["po_number"] + " is in " + currency[r.index]
        ),
    )
    _hold(prep, other, PO_CURRENCY_MISMATCH)
    items, known, with_po = prep.items, prep.items["po_key"].isin(ref.index), prep.items["po_key"] != ""

    if has_ref:
        _flag(
            prep,
            with_po & ~known,
            UNKNOWN_PO,
            "flagged",
            lambda r: "PO " + r["po_number"] + " is not in the PO reference table",
        )
        ref_customer = items["po_key"].map(ref["customer_id"]).fillna("")
        mismatch = known & (ref_customer != "") & (ref_customer != items["customer_id"])
        _flag(
            prep,
            mismatch,
            PO_CUSTOMER_MISMATCH,
            "held",
            lambda r: (
                "PO "
                + r["po_number"]
                + " belongs to customer "
                + ref_customer[r.index]
                + ", not "
                + r["customer_id"]
            ),
        )
        _hold(prep, mismatch, PO_CUSTOMER_MISMATCH)
        items = prep.items
        known = items["po_key"].isin(ref.index)
        date = items["item_date"]
        valid_from = pd.to_datetime(items["po_key"].map(ref["valid_from"]))
        valid_to = pd.to_datetime(items["po_key"].map(ref["valid_to"]))
        outside = known & (
            (valid_from.notna() & (date < valid_from)) | (valid_to.notna() & (date > valid_to))
        )
        _flag(
            prep,
            outside,
            EXPIRED_PO,
            "flagged",
            lambda r: "PO " + r["po_number"] + " is not valid on " + r["item_date"].dt.strftime("%Y-%m-%d"),
        )
        _over_budget(prep, ref, previously_invoiced, over_budget_policy)
    return prep


def _over_budget(prep: Prepared, ref: pd.DataFrame, previously: Mapping[str, int], policy: str) -> None:
    """Flag (or hold) the items that take a PO's cumulative amount, in date order, past its authorised amount."""
    items = prep.items
    known = items["po_key"].isin(ref.index)
    if not known.any():
        return
    on_ref = items[known]
    # a PO can only cross if its earlier invoicing plus all of this period's charges (credits aside) exceed
    # the budget: find those with one vectorised sum, and walk only their items in date order
    most = on_ref["amount_minor"].clip(lower=0).groupby(on_ref["po_key"]).sum()
    earlier = np.array([int(previously.get(str(k), 0)) for k in most.index], dtype=np.int64)
    budget = ref.loc[most.index, "authorised_minor"].astype("int64").to_numpy()
    crossing = most.index[most.to_numpy(np.int64) + earlier > budget]
    if len(crossing) == 0:
        return
    ordered = on_ref[on_ref["po_key"].isin(crossing)].sort_values(
        ["po_key", "item_date", "source_table", "item_id"], kind="stable"
    )
    over = np.zeros(len(items), dtype=bool)
    messages: dict[int, str] = {}
    positions = {idx: pos for pos, idx in enumerate(items.index)}
    for key, group in ordered.groupby("po_key", sort=False):
        authorised = int(ref.at[key, "authorised_minor"])  # type: ignore[arg-type]  # an int64 cell
        currency = str(group["currency"].iloc[0])
        running = int(previously.get(str(key), 0))
        amounts = group["amount_minor"].to_numpy(np.int64)
        if running + int(amounts[amounts > 0].sum()) <= authorised:
            continue  # never crosses: the common case costs one sum
        for idx, amount, po_number in zip(group.index, amounts, group["po_number"].tolist(), strict=True):
            after = running + int(amount)
            if amount > 0 and after > authorised:
                over[positions[idx]] = True
                messages[idx] = (
                    f"takes PO {po_number} to {format_minor(after, currency)} of "
                    f"{format_minor(authorised, currency)} authorised"
                )
                if policy == "hold":
                    continue  # held items do not consume the budget
            running = after
    mask = pd.Series(over, index=items.index)
    action = "held" if policy == "hold" else "flagged"
    _flag(prep, mask, OVER_BUDGET, action, lambda r: pd.Series(messages, dtype="str").reindex(r.index))
    if policy == "hold":
        _hold(prep, mask, OVER_BUDGET)
