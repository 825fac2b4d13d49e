"""SPEC section 2 rules: from the typed tables to one frame of billable items (``ITEM_COLUMNS``).

Billing items, time entries and charges become rows of one shape. Each row's amount is exact
(``amount_minor``: int64 minor units, rounded half up once), its customer, PO (by the cascade)
and billing settings resolved. Rows that cannot be billed are held with an ``Issue``; rows that
are not billable at all (non-billable, already invoiced, after the period, posted as a billing
item) are counted in ``skipped``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, partial
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.core import autotask
from billing_lib.core.item_codes import ItemCodes
from billing_lib.domain.identity import file_copies, item_keys, source_keys
from billing_lib.domain.money import (
    DEFAULT_CURRENCY,
    MAX_AMOUNT,
    SUM_LIMIT,
    amount_in_range,
    exact_product,
    is_currency,
    minor_digits,
    minor_units_of,
)
from billing_lib.domain.period import Period
from billing_lib.domain.records import (
    AMOUNT_MISMATCH,
    AMOUNT_OUT_OF_RANGE,
    DUPLICATE_ITEM,
    INVALID_ROW,
    LATE,
    NEEDS_POSTING,
    NO_RATE,
    POSTED_ELSEWHERE,
    Action,
    Issue,
    issue_at,
    issues_at,
    where,
)
from billing_lib.domain.schema import Tables
from billing_lib.domain.text import is_error_text

ITEM_COLUMNS = (
    "source_table", "item_id", "item_key", "source_key", "_file", "_sheet", "_row", "kind", "item_date", "customer_id", "customer_name",
    "contract_id", "contract_name", "project_id", "project_name", "task_id", "task_title", "ticket_id",
    "ticket_title", "resource_id", "resource_name", "billing_code_id", "billing_code_name", "description",
    "quantity", "unit_price", "amount_minor", "currency", "po_number", "po_key", "po_source",
    "internal_po_number", "cost_centre", "workplace", "billing_contact", "buyer_reference", "billing_group",
    "billing_entity", "late",
)  # fmt: skip

_WS = re.compile(r"\s+")


def po_key(value: object) -> str:
    """The matching key of a PO number: trimmed, inner white space collapsed, case-folded."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return _WS.sub(" ", str(value)).strip().casefold()


@dataclass
class Prepared:
    """Billable items of a period with every rule applied, before consolidation."""

    period: Period
    items: pd.DataFrame  # ITEM_COLUMNS, the items that may be invoiced (flagged ones included)
    held: pd.DataFrame  # ITEM_COLUMNS + reason, the items kept off every invoice
    issues: list[Issue]
    skipped: Counter[str]
    read: int  # billable rows read
    inputs: Tables
    companies: pd.DataFrame = field(default_factory=pd.DataFrame)
    adjustments: list[Any] = field(default_factory=list)  # ``adjustments.Adjustment`` rows with their outcome

    @cached_property
    def codes(self) -> ItemCodes:
        """The items as integer codes for consolidation (``item_codes``), each worked out on first use and
        kept: consolidating the month by another method reuses them. ``items`` is never changed in place (a
        changed month is a new ``Prepared``), so they stay true."""
        return ItemCodes(self.items)


def _text(series: pd.Series) -> pd.Series:
    """A text column with empty strings for missing values (keys and labels are compared as text)."""
    return series.astype("str").fillna("")


def _first(*series: pd.Series) -> pd.Series:
    """Row-wise first non-empty text among the series."""
    out = series[0].copy()
    for s in series[1:]:
        out = out.where(out != "", s)
    return out


def _common_frame(raw: pd.DataFrame, kind: np.ndarray | str) -> pd.DataFrame:
    """Columns every billable table shares, as text, with source bookkeeping."""
    out = pd.DataFrame(index=raw.index)
    out["source_table"] = raw["_source"].astype("str")
    out["item_id"] = _text(raw["item_id"])
    out["item_key"] = raw.get("_item_key", "")
    out["source_key"] = raw.get("_source_key", "")
    for meta in ("_file", "_sheet", "_row"):
        out[meta] = raw[meta]
    out["kind"] = kind
    out["item_date"] = raw["item_date"]
    for col in ("customer_id", "customer_name", "contract_id", "project_id", "task_id", "ticket_id", "resource_id",
                "billing_code_id", "billing_code_name", "currency", "cost_centre", "workplace", "billing_contact",
                "buyer_reference", "description", "role_id", "ticket_number", "resource_name",
                "contract_name"):  # fmt: skip
        out[col] = _text(raw[col]) if col in raw else ""
    return out


def _billing_items(raw: pd.DataFrame) -> pd.DataFrame:
    labour = (_text(raw["time_entry_id"]) != "").to_numpy()
    kind = np.array(["charge", "labour"], dtype=object)[labour.astype(np.intp)]  # two shared text objects
    out = _common_frame(raw, kind)
    out["description"] = _first(out["description"], _text(raw["item_name"]))
    out["quantity"] = raw["quantity"]
    out["unit_price"] = raw["rate"]
    out["_own_rate"] = raw["rate"].notna()
    out["supplied_amount"] = raw["amount"]
    out["own_po"] = _text(raw["po_number"])
    out["internal_po_number"] = _text(raw["internal_po_number"])
    return out


def _time_entries(raw: pd.DataFrame) -> pd.DataFrame:
    out = _common_frame(raw, "labour")
    zero = Decimal(0)
    worked = raw["hours_worked"]
    offset = raw["offset_hours"]
    summed = [
        (w + (o or zero)) if w is not None else None
        for w, o in zip(worked.to_numpy(object), offset.to_numpy(object), strict=True)
    ]
    to_bill = raw["hours_to_bill"]
    out["quantity"] = to_bill.where(to_bill.notna(), pd.Series(summed, index=raw.index, dtype=object))
    out["quantity_column"] = np.where(to_bill.notna(), "hours_to_bill", "hours_worked")  # named in messages
    out["unit_price"] = raw["rate"]
    out["_own_rate"] = raw["rate"].notna()
    out["supplied_amount"] = raw["amount"]
    out["own_po"] = ""  # labour cannot carry its own PO: it takes its task's or ticket's
    out["internal_po_number"] = ""
    return out


def _charges(raw: pd.DataFrame) -> pd.DataFrame:
    out = _common_frame(raw, "charge")
    out["description"] = _first(out["description"], _text(raw["item_name"]))
    out["quantity"] = raw["quantity"]
    out["unit_price"] = raw["rate"]
    out["_own_rate"] = raw["rate"].notna()
    out["supplied_amount"] = raw["amount"]
    out["own_po"] = _text(raw["po_number"])
    out["internal_po_number"] = _text(raw["internal_po_number"])
    return out


def _is(column: pd.Series, flag: bool) -> pd.Series:
    """Where a yes/no column holds exactly ``flag`` (empty and unreadable cells are neither)."""
    return pd.Series([v is flag for v in column.to_numpy(object)], index=column.index, dtype=bool)


def _not_billable(raw: pd.DataFrame) -> pd.Series:
    flags = pd.Series(False, index=raw.index)
    if "non_billable" in raw:
        flags |= _is(raw["non_billable"], True)
    if "billable_to_company" in raw:
        flags |= _is(raw["billable_to_company"], False)
    return flags


# An invoice id or number that says "not invoiced" (SPEC section 2, placeholders).
NOT_INVOICED = frozenset(
    {"", "0", "-", "--", "—", "–", "n/a", "na", "null", "none", "nil", "(none)", "(blank)"}
)


def _invoice_marks(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(invoiced, unclear) per row of an invoice id or number column, each distinct value once.

    A number above 0, or text with a digit (``INV-0042``), is an invoice; a placeholder (``-``, ``N/A``,
    ``null``, ``none``, ``0``, empty) or a number of 0 or below is not; other text (``TBD``) cannot tell.
    """
    codes, distinct = pd.factorize(_text(values).to_numpy(object))
    done = np.zeros(len(distinct), dtype=bool)
    unclear = np.zeros(len(distinct), dtype=bool)
    for k, value in enumerate(distinct.tolist()):
        text = str(value).strip()
        if text.casefold() in NOT_INVOICED:
            continue
        try:
            done[k] = float(text.replace(",", "")) > 0
        except ValueError:
            done[k] = any(ch.isdigit() for ch in text)
            unclear[k] = not done[k]
    return done[codes], unclear[codes]


def _unclear_invoice(raw: pd.DataFrame) -> pd.Series:
    """Rows whose invoice id or number is text that does not say whether they were invoiced."""
    unclear = pd.Series(False, index=raw.index)
    for column in ("invoice_id", "invoice_number"):
        if column in raw and len(raw):
            unclear |= _invoice_marks(raw[column])[1]
    return unclear


def _already_invoiced(raw: pd.DataFrame, registered: set[str]) -> pd.Series:
    done = pd.Series(False, index=raw.index)
    for column in ("invoice_id", "invoice_number"):
        if column in raw and len(raw):
            done |= _invoice_marks(raw[column])[0]
    # isBilled / Billed on a charge means Approve & Post, not invoiced: see ``_posted_elsewhere``
    if registered:  # by the item's kind and id, whatever file it came from, or the row it was posted from
        done |= raw["_item_key"].isin(registered) | raw["_source_key"].isin(registered)
    return done


def _posted_elsewhere(raw: pd.DataFrame, posted: pd.Series) -> pd.Series:
    """Raw time entries and charges that a billing item already carries (they would bill twice): a
    posted row and its source are one item, by kind and id (``identity``), SOAP ``*CostID`` links too.
    ``posted``: the billing items' ``source_keys``."""
    if posted.empty:
        return pd.Series(False, index=raw.index)
    return raw["_item_key"].isin(posted[posted != ""]) & (_text(raw["item_id"]) != "")


def _issue(row: pd.Series, reason: str, message: str, column: str = "", action: Action = "held") -> Issue:
    return issue_at(reason, message, source_table=str(row["source_table"]), item_id=str(row["item_id"]),
                    action=action, file=str(row["_file"]), sheet=_sheet_of(row), row=int(row["_row"]),
                    column=column)  # fmt: skip


def issues_for(
    rows: pd.DataFrame,
    reason: str,
    messages: pd.Series | str | list[str],
    action: Action = "held",
    column: str = "",
    values: pd.Series | None = None,
) -> list[Issue]:
    """One issue per row of ``rows`` (an items frame), built column-wise: cheap for thousands of flags.

    ``messages``: one text for all, a Series by the items' index, or a list of one text per row."""
    if rows.empty:
        return []
    if isinstance(messages, str):
        texts = [messages] * len(rows)
    elif isinstance(messages, list):
        texts = messages
    else:
        texts = messages.loc[rows.index].astype("str").tolist()
    return issues_at(
        reason,
        texts,
        action=action,
        source_tables=rows["source_table"].tolist(),  # lists: iterating a text Series is ~10x slower
        item_ids=rows["item_id"].tolist(),
        files=rows["_file"].tolist(),
        sheets=[s if isinstance(s, str) else "" for s in rows["_sheet"].tolist()],
        rows=rows["_row"].tolist(),
        column=column,
        values=None if values is None else values.loc[rows.index].astype("str").tolist(),
    )


class _Ref:
    """A reference table looked up by one id column (each id's first row), its values as text.

    Positions of the items' ids are found once per key column and reused for every value taken.
    """

    def __init__(self, table: pd.DataFrame, key_col: str) -> None:
        self.usable = not table.empty and key_col in table
        self.ref = table.dropna(subset=[key_col]).drop_duplicates(key_col) if self.usable else table
        self.index = pd.Index(_text(self.ref[key_col]).to_numpy(object) if self.usable else [])

    def positions(self, keys: np.ndarray) -> np.ndarray:
        """Each key's row in the table (-1 where it has none)."""
        if not self.usable:
            return np.full(len(keys), -1, dtype=np.intp)
        return self.index.get_indexer(pd.Index(keys))

    def column(self, value_col: str) -> np.ndarray:
        """The table's column as text ('' where empty), one slot per row plus a last '' for -1."""
        if not self.usable or value_col not in self.ref:
            return np.full(len(self.index) + 1, "", dtype=object)
        return np.append(_text(self.ref[value_col]).to_numpy(object), "")

    def take(self, at: np.ndarray, value_col: str) -> np.ndarray:
        return self.column(value_col)[at]


def _first_of(*arrays: np.ndarray) -> np.ndarray:
    """Element-wise first non-empty text among object arrays of text."""
    out = arrays[0].copy()
    for more in arrays[1:]:
        empty = out == ""
        if not empty.any():
            break
        out[empty] = more[empty]
    return out


def _col(items: pd.DataFrame, name: str) -> np.ndarray:
    return items[name].to_numpy(object)


def _set_text(items: pd.DataFrame, **columns: np.ndarray) -> None:
    for name, values in columns.items():
        items[name] = pd.Series(values, index=items.index, dtype="str")


def resolve_links(items: pd.DataFrame, inputs: Tables) -> pd.DataFrame:
    """Customer, names, PO cascade and billing settings from the reference tables."""
    contracts = _Ref(inputs.table("contracts"), "contract_id")
    projects = _Ref(inputs.table("projects"), "project_id")
    tickets = _Ref(inputs.table("tickets"), "ticket_id")
    tasks = _Ref(inputs.table("tasks"), "task_id")
    resources = _Ref(inputs.table("resources"), "resource_id")
    codes = _Ref(inputs.table("billing_codes"), "billing_code_id")
    at_task = tasks.positions(_col(items, "task_id"))
    at_ticket = tickets.positions(_col(items, "ticket_id"))
    at_resource = resources.positions(_col(items, "resource_id"))
    at_code = codes.positions(_col(items, "billing_code_id"))
    # the links an item does not carry itself come from its ticket, task and project
    project_id = _first_of(
        _col(items, "project_id"), tasks.take(at_task, "project_id"), tickets.take(at_ticket, "project_id")
    )
    at_project = projects.positions(project_id)
    contract_id = _first_of(
        _col(items, "contract_id"),
        tickets.take(at_ticket, "contract_id"),
        projects.take(at_project, "contract_id"),
    )
    at_contract = contracts.positions(contract_id)
    customer = _first_of(
        _col(items, "customer_id"),
        tickets.take(at_ticket, "customer_id"),
        projects.take(at_project, "customer_id"),
        contracts.take(at_contract, "customer_id"),
    )
    # a resource's name: its full name, else first and last name (worked out per resource)
    first_last = np.array(
        [
            f"{a} {b}".strip()
            for a, b in zip(resources.column("first_name"), resources.column("last_name"), strict=True)
        ],
        dtype=object,
    )
    # PO cascade: own (charges) -> task / ticket -> project -> contract
    levels = [
        ("item", _col(items, "own_po")),
        ("task", _first_of(tasks.take(at_task, "po_number"), tickets.take(at_ticket, "po_number"))),
        ("project", projects.take(at_project, "po_number")),
        ("contract", contracts.take(at_contract, "po_number")),
    ]
    po = np.full(len(items), "", dtype=object)
    source = np.full(len(items), "", dtype=object)
    for name, values in levels:
        take = (po == "") & (values != "")  # texts come stripped from the reader
        po[take] = values[take]
        source[take] = name
    _set_text(
        items,
        project_id=project_id,
        contract_id=contract_id,
        customer_id=_first_of(contracts.take(at_contract, "bill_to_customer_id"), customer),
        contract_name=contracts.take(at_contract, "contract_name"),
        project_name=projects.take(at_project, "project_name"),
        task_title=tasks.take(at_task, "title"),
        ticket_title=tickets.take(at_ticket, "title"),
        resource_name=_first_of(resources.column("resource_name"), first_last)[at_resource],
        billing_code_name=_first_of(
            _col(items, "billing_code_name"), codes.take(at_code, "billing_code_name")
        ),
        po_raw=po,
        po_source=source,
        # settings: item -> ticket/contract -> resource/billing code
        cost_centre=_first_of(
            _col(items, "cost_centre"),
            resources.take(at_resource, "cost_centre"),
            codes.take(at_code, "cost_centre"),
        ),
        workplace=_first_of(
            _col(items, "workplace"),
            tickets.take(at_ticket, "workplace"),
            contracts.take(at_contract, "workplace"),
            resources.take(at_resource, "workplace"),
        ),
        billing_contact=_first_of(
            _col(items, "billing_contact"), contracts.take(at_contract, "billing_contact")
        ),
        buyer_reference=_first_of(
            _col(items, "buyer_reference"), contracts.take(at_contract, "buyer_reference")
        ),
    )
    return items


def apply_customer_settings(
    items: pd.DataFrame, companies: pd.DataFrame, default_currency: str = DEFAULT_CURRENCY
) -> pd.DataFrame:
    customers = _Ref(companies, "customer_id")
    at = customers.positions(_col(items, "customer_id"))
    currency = _first_of(
        _col(items, "currency"),
        customers.take(at, "currency"),
        np.full(len(items), default_currency, dtype=object),
    )
    codes, distinct = pd.factorize(currency)  # a handful of currencies: upper-cased once each
    _set_text(
        items,
        customer_name=_first_of(
            customers.take(at, "customer_name"), _col(items, "customer_name"), _col(items, "customer_id")
        ),
        currency=np.array([c.upper() for c in distinct], dtype=object)[codes],
        billing_contact=_first_of(_col(items, "billing_contact"), customers.take(at, "billing_contact")),
        buyer_reference=_first_of(_col(items, "buyer_reference"), customers.take(at, "buyer_reference")),
        billing_group=customers.take(at, "billing_group"),
        billing_entity=customers.take(at, "billing_entity"),
    )
    return items


def compute_amounts(items: pd.DataFrame, inputs: Tables) -> tuple[pd.DataFrame, pd.Series]:
    """Exact amounts: a supplied amount wins, else quantity x rate (labour's rate by the cascade of
    ``autotask.labour_rates``, set before this runs).

    Returns the items with ``amount_minor`` and a mask of the rows with no amount and no rate.
    """
    # a code missing from the billing codes table maps to NaN: every kind of missing becomes None
    supplied, qty, rate = (
        items[c].astype(object).where(items[c].notna(), None).to_numpy(object)
        for c in ("supplied_amount", "quantity", "unit_price")
    )
    items["unit_price"] = pd.Series(rate, index=items.index, dtype=object)
    has_supplied, has_qty, has_rate = (pd.notna(v) for v in (supplied, qty, rate))
    exact = supplied.copy()
    readable = (
        ~items["_bad"].to_numpy(bool) if "_bad" in items else True
    )  # a row with a bad cell is not priced
    multiply = np.flatnonzero(~has_supplied & has_qty & has_rate & readable)
    if len(multiply):
        # quantity x rate once per distinct pair of values
        q_codes, q_values = pd.factorize(qty[multiply])
        r_codes, r_values = pd.factorize(rate[multiply])
        pair_codes, pairs = pd.factorize(q_codes.astype(np.int64) * len(r_values) + r_codes)
        products = np.empty(len(pairs), dtype=object)
        products[:] = [
            exact_product(q_values[p // len(r_values)], r_values[p % len(r_values)]) for p in pairs.tolist()
        ]
        exact[multiply] = products[pair_codes]
    items["_too_big"] = _beyond_money(exact, multiply)  # quantity x rate past MAX_AMOUNT: held, unpriced
    exact[items["_too_big"].to_numpy(bool)] = None
    no_rate = ~has_supplied & ~(has_qty & has_rate)
    items["_mismatch"] = _mismatches(supplied, qty, rate, has_supplied & has_qty & has_rate, items)
    items["amount_minor"] = minor_units_of(pd.Series(exact, index=items.index), items["currency"])
    items["quantity"] = items["quantity"].where(items["quantity"].notna(), Decimal(1))
    return items, pd.Series(no_rate, index=items.index)


def _beyond_money(exact: np.ndarray, multiplied: np.ndarray) -> np.ndarray:
    """Which products of quantity x rate are past what an amount can be (each distinct product once)."""
    too_big = np.zeros(len(exact), dtype=bool)
    if len(multiplied):
        products = exact[multiplied]
        codes, distinct = pd.factorize(products)
        beyond = np.array([not amount_in_range(p) for p in distinct.tolist()], dtype=bool)
        too_big[multiplied] = beyond[codes]
    return too_big


@dataclass(frozen=True)
class Finding:
    """What one check found: the rows (a mask over the items), why, and what to tell the analyst.

    ``issues`` builds the issues of the rows given (called only for the rows this finding decides).
    A finding that ``holds`` keeps its rows off every invoice, else it only flags them. A row takes the
    reason of the first finding that holds it, except that an ``overrides`` finding takes every row it
    found whatever came before (and tells each of them).
    """

    mask: np.ndarray
    reason: str | np.ndarray  # one reason, or one per row of the items
    issues: Callable[[pd.DataFrame], list[Issue]]
    holds: bool = True
    overrides: bool = False


def _none(rows: pd.DataFrame) -> list[Issue]:
    return []


@dataclass(frozen=True)
class Facts:
    """What the checks need besides the items: read once, passed explicitly."""

    inputs: Tables
    period: Period
    first_copy: dict[str, tuple[str, str, int]]  # a repeated item's first copy: file, sheet, row
    name_problems: pd.Series  # a name in a report that matches two records, per item
    unknown_currency: dict[str, str]  # a customer whose currencyID cannot be read
    companies: pd.DataFrame
    own_currency: pd.Series  # the currency the item carried itself ('' where none)


Check = Callable[[pd.DataFrame, Facts], list[Finding]]


def _rows_issue(
    reason: str,
    message: Callable[[pd.Series], str],
    column: Callable[[pd.Series], str],
    action: Action = "held",
) -> Callable[[pd.DataFrame], list[Issue]]:
    """Issues built row by row (for findings that touch few rows)."""

    def build(rows: pd.DataFrame) -> list[Issue]:
        out = []
        for idx in rows.index:
            row = rows.loc[idx]
            out.append(_issue(row, reason, message(row), column(row), action))
        return out

    return build


def check_unreadable(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """Rows with a cell that cannot be read: held with the reason the reader gave (its issues are the reader's)."""
    why = _text(items["_why"])
    reasons = why.where(why != "", INVALID_ROW).to_numpy(object)
    return [Finding(items["_bad"].to_numpy(bool), reasons, _none)]


def check_duplicates(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """A repeated item id within a source table: the first copy is kept (found on the raw rows)."""

    def message(row: pd.Series) -> str:
        f, sh, r = facts.first_copy[str(row["item_key"])]
        same_sheet = f == row["_file"] and sh == _sheet_of(row)
        first_at = f"row {r}" if same_sheet else where(f, sh, r)
        return f"item id {row['item_id']} appears again (first on {first_at})"

    column = partial(_heading_of, facts.inputs, "item_id", "")
    return [
        Finding(items["_dup"].to_numpy(bool), DUPLICATE_ITEM, _rows_issue(DUPLICATE_ITEM, message, column))
    ]


def check_negative_hours(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """Negative hours on a raw time entry are a data error (credits on billing items are fine)."""
    labour = (items["source_table"] == "time_entries").to_numpy(bool)
    qty = items["quantity"].to_numpy(object)
    negative = np.zeros(len(items), dtype=bool)
    negative[labour] = [q is not None and q < 0 for q in qty[labour].tolist()]

    def column(row: pd.Series) -> str:
        return _heading(facts.inputs, row, str(row["quantity_column"]), "hours")

    def message(row: pd.Series) -> str:
        return f"negative hours ({row['quantity']}) on a time entry"

    return [Finding(negative, INVALID_ROW, _rows_issue(INVALID_ROW, message, column))]


def check_names(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """A name in a report that matches two records."""
    problems = facts.name_problems.reindex(items.index)
    found = (problems != "").to_numpy(bool)
    text = dict(zip(items.index[found].tolist(), problems[found].tolist(), strict=True))
    return [
        Finding(
            found,
            INVALID_ROW,
            _rows_issue(INVALID_ROW, lambda row: str(text[row.name]), lambda row: ""),
        )
    ]


def check_customer(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """An item with no customer, or whose customer's currencyID cannot be read (never guessed)."""

    def no_customer(row: pd.Series) -> str:
        named = row["customer_name"] if row["customer_name"] != row["customer_id"] else ""
        if named:
            return f"no customer: no organisation is called {named!r}"
        return "no customer: neither the row nor its ticket, task, project or contract names one"

    def no_currency(row: pd.Series) -> str:
        return f"customer {row['customer_id']}: {facts.unknown_currency[row['customer_id']]}"

    column = partial(_heading_of, facts.inputs, "customer_id", "companyID")
    return [
        Finding((items["customer_id"] == "").to_numpy(bool), INVALID_ROW,
                _rows_issue(INVALID_ROW, no_customer, column)),
        Finding(items["customer_id"].isin(list(facts.unknown_currency)).to_numpy(bool), INVALID_ROW,
                _rows_issue(INVALID_ROW, no_currency, lambda row: "")),
    ]  # fmt: skip


def _setting(
    facts: Facts, found: pd.Series, about: str, texts: pd.Series, values: pd.Series | None
) -> Finding:
    """An item held as an invalid row because of what it is billed by; ``about`` is the item's column the
    problem is in ('' when it is the customer's row), named as each file and sheet heads it."""

    def issues(rows: pd.DataFrame) -> list[Issue]:
        made: list[Issue] = []
        for (f, _sh), group in rows.groupby(["_file", "_sheet"], sort=False, dropna=False):
            table = _table_of(str(group["source_table"].iloc[0]))
            heading = (
                facts.inputs.heading(table, str(f), _sheet_of(group.iloc[0]), about, "") if about else ""
            )
            made += issues_for(group, INVALID_ROW, texts, column=heading, values=values)
        return made

    return Finding(found.to_numpy(bool), INVALID_ROW, issues)


def _first_rows(companies: pd.DataFrame) -> pd.DataFrame:
    return companies.dropna(subset=["customer_id"]).drop_duplicates("customer_id")


def check_customer_settings(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """The customer's row in the companies table has a cell that cannot be read (a tax rate such as -21
    or 0.21, a yes/no that is neither): its items are not invoiced."""
    companies = facts.companies
    if companies.empty or "_bad" not in companies or not companies["_bad"].astype(bool).any():
        return []
    problem_of: dict[str, str] = {}
    by_place = {(i.file, i.sheet, i.row): i for i in facts.inputs.issues if i.source_table == "companies"}
    first_rows = _first_rows(companies)
    for cid, bad, f, sh, r in zip(
        *(first_rows[c] for c in ("customer_id", "_bad", "_file", "_sheet", "_row")), strict=True
    ):
        if bad:
            sheet = sh if isinstance(sh, str) else ""
            found = by_place.get((str(f), sheet, int(r)))
            detail = found.message if found else where(str(f), sheet, int(r))
            problem_of[str(cid)] = f"the customer's settings cannot be read ({detail}): not invoiced"
    if not problem_of:
        return []
    messages = items["customer_id"].map(problem_of)
    return [_setting(facts, messages.notna(), "", messages.fillna(""), None)]


def check_method(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """The customer's consolidation method is not one this workbook knows."""
    companies = facts.companies
    if companies.empty or "consolidation_method" not in companies:
        return []
    from billing_lib.core.consolidate import is_method  # consolidation builds on these rules

    first_rows = _first_rows(companies)
    wrong = {
        str(c): str(m)
        for c, m in zip(first_rows["customer_id"], first_rows["consolidation_method"], strict=True)
        if isinstance(m, str) and m.strip() and not is_method(m)
    }
    if not wrong:
        return []
    method = items["customer_id"].map(wrong)
    text = "the customer's consolidation method " + method.map(repr) + " is not one this workbook knows"
    return [_setting(facts, method.notna(), "", text.fillna(""), method.fillna(""))]


def check_currency(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """The item's currency (its own, else its customer's) is not an ISO 4217 code."""
    codes, distinct = pd.factorize(items["currency"].to_numpy(object))
    known = np.array([is_currency(str(c)) for c in distinct], dtype=bool)
    unknown = pd.Series(~known[codes] if len(distinct) else np.zeros(len(items), bool), index=items.index)
    if not unknown.any():
        return []
    own = _text(facts.own_currency)
    customers = _Ref(facts.companies, "customer_id")
    theirs = pd.Series(customers.take(customers.positions(_col(items, "customer_id")), "currency"),
                       index=items.index, dtype="str")  # fmt: skip
    sentence = " is not an ISO 4217 currency code (such as EUR, USD, GBP): not invoiced"
    from_item = own != ""
    return [
        _setting(
            facts, unknown & from_item, "currency", "the item's currency " + own.map(repr) + sentence, own
        ),
        _setting(
            facts, unknown & ~from_item, "", "the customer's currency " + theirs.map(repr) + sentence, theirs
        ),
    ]


def check_po_formula(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """The item's PO is a formula without its value, or an error value."""
    po = items["po_raw"].astype("str")
    po_codes, po_distinct = pd.factorize(po.to_numpy(object))
    looks = np.array([_looks_like_formula(str(p)) for p in po_distinct] + [False], dtype=bool)
    formula = pd.Series(looks[po_codes], index=items.index, dtype=bool)
    if not formula.any():
        return []
    messages = (
        "the PO number "
        + po.map(repr)
        + " (from the "
        + items["po_source"].astype("str")
        + ") is a formula without its value or an error value: not invoiced"
    )
    return [_setting(facts, formula, "po_number", messages, po)]


def check_amounts(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """Pricing: past what an amount can be, labour to bill from the posted items, no rate, posted elsewhere,
    a supplied amount that is not quantity x rate (flagged), the month's sum past what can be summed."""
    inputs = facts.inputs
    raw_time = (items["source_table"] == "time_entries").to_numpy(bool)
    told = raw_time & (items["_labour_message"] != "").to_numpy(bool)
    no_rate = items["_no_rate"].to_numpy(bool)

    def too_big(row: pd.Series) -> str:
        return (f"quantity {row['quantity']} x rate {row['unit_price']} is beyond what an amount can be here "
                f"(more than {MAX_AMOUNT:,}): held")  # fmt: skip

    def no_rate_text(row: pd.Series) -> str:
        return ("no amount and no rate (neither the row nor its billing code "
                f"{row['billing_code_id'] or '(none)'} has a unit price)")  # fmt: skip

    unposted = (
        "Autotask has posted this charge (isBilled), but its posted BillingItems row is not in the inputs: "
        "bill it from that row"
    )
    beyond = f"the month's amounts add up past what can be summed here ({SUM_LIMIT:,} minor units): the largest are held"
    return [
        Finding(items["_too_big"].to_numpy(bool), AMOUNT_OUT_OF_RANGE,
                _rows_issue(AMOUNT_OUT_OF_RANGE, too_big,
                            lambda row: _heading(inputs, row, "quantity") or _heading(inputs, row, "rate"))),
        Finding(items["_needs_posting"].to_numpy(bool), NEEDS_POSTING,
                lambda rows: issues_for(rows, NEEDS_POSTING, items["_labour_message"])),
        Finding(no_rate & told, NO_RATE,
                _rows_issue(NO_RATE, lambda row: str(row["_labour_message"]),
                            lambda row: _heading(inputs, row, "rate") or _heading(inputs, row, "billing_code_id"))),
        Finding(items["_unposted"].fillna(False).to_numpy(bool) & ~no_rate, POSTED_ELSEWHERE,
                lambda rows: issues_for(rows, POSTED_ELSEWHERE, unposted)),
        Finding(items["_mismatch"].to_numpy(bool), AMOUNT_MISMATCH,
                lambda rows: _amount_mismatches(rows, inputs), holds=False),
        Finding(no_rate & ~told, NO_RATE,
                _rows_issue(NO_RATE, no_rate_text,
                            lambda row: _heading(inputs, row, "billing_code_id") or _heading(inputs, row, "rate"))),
        Finding((items["_beyond_sums"] >= 0).to_numpy(bool), AMOUNT_OUT_OF_RANGE,
                lambda rows: _rows_issue(AMOUNT_OUT_OF_RANGE, lambda row: beyond,
                                         lambda row: _heading(inputs, row, "amount"))(
                    rows.sort_values("_beyond_sums", kind="stable")),
                overrides=True),
    ]  # fmt: skip


def check_late(items: pd.DataFrame, facts: Facts) -> list[Finding]:
    """Dated before the period: invoiced now, and flagged."""

    def issues(rows: pd.DataFrame) -> list[Issue]:
        codes, days = pd.factorize(rows["item_date"])  # each day's sentence once
        said = [f"dated {day:%Y-%m-%d}, before the period {facts.period}; invoiced now" for day in days]
        return issues_for(rows, LATE, np.array(said, dtype=object)[codes].tolist(), action="flagged")

    return [Finding(items["late"].to_numpy(bool), LATE, issues, holds=False)]


# The checks of SPEC section 2, in the order their reasons win (an item is held for the first that holds it).
CHECKS: tuple[Check, ...] = (
    check_unreadable,
    check_duplicates,
    check_negative_hours,
    check_names,
    check_customer,
    check_customer_settings,
    check_method,
    check_currency,
    check_po_formula,
    check_amounts,
    check_late,
)


def decide(items: pd.DataFrame, findings: list[Finding]) -> tuple[pd.Series, list[Issue]]:
    """Each item's held reason ('' for an item to invoice) and the issues, from the findings in order."""
    reason = np.full(len(items), "", dtype=object)
    held = np.zeros(len(items), dtype=bool)
    issues: list[Issue] = []
    for found in findings:
        rows = found.mask if found.overrides else found.mask & ~held
        if not rows.any():
            continue
        issues += found.issues(items[rows])
        if found.holds:
            reason[rows] = found.reason if isinstance(found.reason, str) else found.reason[rows]
            held |= rows
    return pd.Series(reason, index=items.index, dtype="str"), issues


def prepare_items(inputs: Tables, period: Period, registered: set[str] | None = None) -> Prepared:
    """Apply the SPEC section 2 rules to every billable row (PO checks come after, in ``po``): build the
    items, run ``CHECKS``, hold each item found once, for its first reason."""
    read = _read_billable(inputs, registered or set())
    items, facts, skipped = _resolved(read, inputs, period)
    items = _priced(items, inputs, facts)
    reason, found = decide(items, [f for check in CHECKS for f in check(items, facts)])
    items = items.reindex(columns=list(ITEM_COLUMNS))
    held = items[reason != ""].assign(reason=reason[reason != ""])
    kept = items[reason == ""].reset_index(drop=True)
    issues = [*read.issues, *found]
    return Prepared(
        period, kept, held.reset_index(drop=True), issues, skipped, read.count, inputs, facts.companies
    )


@dataclass
class _Read:
    """The billable rows of every source table, as items (before links and rules)."""

    items: pd.DataFrame
    issues: list[Issue]
    skipped: Counter[str]
    count: int
    first_copy: dict[str, tuple[str, str, int]]


def _read_billable(inputs: Tables, registered: set[str]) -> _Read:
    """Billing items, time entries and charges as one frame of items: copies of another file dropped,
    non-billable, invoiced and posted rows counted as skipped, unreadable and repeated rows marked."""
    done = _Read(pd.DataFrame(), list(inputs.issues), Counter(), 0, {})
    sources = source_keys(inputs.table("billing_items"), "billing_items")  # each posted row's source
    frames = []
    for table, build in (
        ("billing_items", _billing_items),
        ("time_entries", _time_entries),
        ("charges", _charges),
    ):
        if inputs.has(table):
            frames.append(_read_table(inputs, table, build, sources, registered, done))
    done.items = pd.concat(frames, ignore_index=True)
    return done


def _read_table(
    inputs: Tables,
    table: str,
    build: Callable[[pd.DataFrame], pd.DataFrame],
    sources: pd.Series,
    registered: set[str],
    done: _Read,
) -> pd.DataFrame:
    raw = inputs.table(table)
    raw = raw.assign(
        _item_key=item_keys(raw, table),
        _source_key=sources if table == "billing_items" else source_keys(raw, table),
    )
    # a row repeated exactly in another file of the same table (a re-downloaded export) is one item
    copies, copy_issues = file_copies(raw)
    if copies.any():
        done.issues += copy_issues
        done.skipped["copy_in_another_file"] += int(copies.sum())
        raw = raw[~copies]
    done.count += len(raw)
    bad = raw["_bad"].astype(bool)
    # a repeated item is held whatever became of its first copy (invoiced, non-billable, later period)
    keyed = raw["_item_key"]
    dup = keyed.duplicated(keep="first") & (_text(raw["item_id"]) != "") & ~bad
    if dup.any():
        firsts = raw[keyed.duplicated(keep=False) & ~keyed.duplicated(keep="first")]
        for key, f, sh, r in zip(
            firsts["_item_key"], firsts["_file"], firsts["_sheet"], firsts["_row"], strict=True
        ):
            done.first_copy.setdefault(str(key), (str(f), sh if isinstance(sh, str) else "", int(r)))
    unclear = _unclear_invoice(raw) & ~bad & ~dup
    done.issues += _unclear_issues(raw[unclear], inputs, table)
    raw = raw.assign(_bad=raw["_bad"].astype(bool) | unclear)
    bad = bad | dup | unclear
    non_billable = _not_billable(raw) & ~bad
    invoiced = _already_invoiced(raw, registered) & ~bad & ~non_billable
    posted = pd.Series(False, index=raw.index)
    if table != "billing_items":
        posted = _posted_elsewhere(raw, sources) & ~bad & ~non_billable & ~invoiced
    done.skipped["non_billable"] += int(non_billable.sum())
    done.skipped["already_invoiced"] += int(invoiced.sum())
    if posted.any():
        done.skipped["posted_as_billing_item"] += int(posted.sum())
    keep = ~(non_billable | invoiced | posted)
    frame = build(raw[keep])
    frame["_bad"] = bad[keep] & ~dup[keep]
    frame["_why"] = _text(raw["_why"])[keep] if "_why" in raw else ""
    frame["_dup"] = dup[keep]
    # posted by Autotask (isBilled / Billed) but its posted BillingItems row is not in the inputs
    billed = _is(raw["is_billed"], True) if "is_billed" in raw else pd.Series(False, index=raw.index)
    frame["_unposted"] = billed[keep]
    return frame


def _unclear_issues(rows: pd.DataFrame, inputs: Tables, table: str) -> list[Issue]:
    """An invoice id or number that does not say whether the row was invoiced."""
    out = []
    for idx in rows.index:
        row = rows.loc[idx]
        column = "invoice_id" if _invoice_marks(rows.loc[[idx], "invoice_id"])[1].any() else "invoice_number"
        heading = inputs.heading(table, str(row["_file"]), _sheet_of(row), column, column)
        out.append(
            issue_at(INVALID_ROW, f"{row[column]!r} does not say whether the item was invoiced (an invoice id, "
                     "or - / N/A / 0 for not invoiced)", source_table=str(row["_source"]),
                     item_id=str(row["item_id"]), file=str(row["_file"]), sheet=_sheet_of(row),
                     row=int(row["_row"]), column=heading, value=str(row[column]))
        )  # fmt: skip
    return out


def _resolved(read: _Read, inputs: Tables, period: Period) -> tuple[pd.DataFrame, Facts, Counter[str]]:
    """Links, customers and their settings resolved; the items after the period left for their own."""
    items = read.items
    name_problems = autotask.ids_from_names(items, inputs)
    items = resolve_links(items, inputs)
    companies, unknown_currency = autotask.company_codes(inputs.table("companies"), inputs)
    own_currency = items["currency"].copy()
    items = autotask.bill_to_parent(items, companies)
    items = apply_customer_settings(items, companies, autotask.default_currency(inputs))
    # period: items after the period's last day wait for their own period (unless unreadable: held)
    after = (
        items["item_date"].notna()
        & (items["item_date"] > pd.Timestamp(period.end))
        & ~items["_bad"].astype(bool)
    )
    skipped = read.skipped
    skipped["after_period"] += int(after.sum())
    items = items[~after]
    facts = Facts(inputs, period, read.first_copy, name_problems, unknown_currency, companies, own_currency)
    return items, facts, skipped


def _priced(items: pd.DataFrame, inputs: Tables, facts: Facts) -> pd.DataFrame:
    """Amounts (labour by its cascade of rates), what pricing found as columns, PO keys, the late mark."""
    raw_time = items["source_table"] == "time_entries"
    labour = autotask.price_labour(items, inputs, raw_time)
    items, no_rate = compute_amounts(items, inputs)
    items["_needs_posting"] = labour.needs_posting
    items["_labour_message"] = labour.messages
    items["_no_rate"] = (no_rate | labour.no_rate) & ~labour.covered & ~labour.needs_posting
    items.loc[labour.covered, "description"] = items.loc[labour.covered, "description"].map(
        lambda d: f"{d} (covered by the contract)" if d else "covered by the contract"
    )
    beyond = [idx for idx, _ in _beyond_sums(items)]  # largest amounts first
    order = pd.Series(-1, index=items.index, dtype="int64")
    order[beyond] = np.arange(len(beyond))
    items["_beyond_sums"] = order  # the rank among the held, -1 for the rest
    items.loc[beyond, "amount_minor"] = 0
    keys = {raw: po_key(raw) for raw in pd.unique(items["po_raw"].to_numpy(object))}
    items["po_key"] = items["po_raw"].map(keys).astype("str")
    items["po_number"] = items["po_raw"]
    items["late"] = (items["item_date"] < pd.Timestamp(facts.period.start)).fillna(False)
    return items


def _heading_of(inputs: Tables, column: str, default: str, row: pd.Series) -> str:
    return _heading(inputs, row, column, default)


def _mismatches(
    supplied: np.ndarray, qty: np.ndarray, rate: np.ndarray, priced: np.ndarray, items: pd.DataFrame
) -> np.ndarray:
    """Rows whose supplied amount is more than one minor unit away from quantity x their own rate.

    Worked out once per distinct (quantity, rate, amount, currency)."""
    out = np.zeros(len(items), dtype=bool)
    rows = np.flatnonzero(priced & items["_own_rate"].to_numpy(bool))
    if not len(rows):
        return out
    currency = items["currency"].to_numpy(object)
    units = {c: Decimal(1).scaleb(-minor_digits(str(c))) for c in pd.unique(currency[rows])}
    # one code per distinct (quantity, rate, amount, currency), each worked out once
    parts = [pd.factorize(a[rows]) for a in (qty, rate, supplied)]
    key = pd.factorize(currency[rows])[0].astype(np.int64)
    for codes, distinct in parts:
        key = key * (len(distinct) + 1) + codes
    codes, _ = pd.factorize(key)
    first_rows = rows[np.unique(codes, return_index=True)[1]]  # the first row of each code, in code order
    verdict = np.array(
        [abs(qty[i] * rate[i] - supplied[i]) > units[currency[i]] for i in first_rows.tolist()], dtype=bool
    )
    out[rows] = verdict[codes]
    return out


def _amount_mismatches(items: pd.DataFrame, inputs: Tables) -> list[Issue]:
    """A flag for each supplied amount that is not quantity x the row's own rate."""
    out = []
    for idx in items.index[items["_mismatch"].to_numpy(bool)]:
        row = items.loc[idx]
        product, supplied = row["quantity"] * row["unit_price"], row["supplied_amount"]
        column = _heading(inputs, row, "amount", "amount")
        message = (
            f"the supplied amount {supplied} is not quantity {row['quantity']} x rate {row['unit_price']} "
            f"= {product}; the supplied amount is invoiced"
        )
        out.append(_issue(row, AMOUNT_MISMATCH, message, column, action="flagged"))
    return out


def _sheet_of(row: pd.Series) -> str:
    return str(row["_sheet"]) if isinstance(row["_sheet"], str) else ""


def _looks_like_formula(value: str) -> bool:
    """A cell written as a formula (``=...``) whose value is not there, or a spreadsheet error value."""
    return (value.startswith("=") and len(value) > 1) or is_error_text(value)


def _beyond_sums(items: pd.DataFrame) -> list[tuple[int, str]]:
    """Items to hold so that the absolute amounts of the month stay under ``SUM_LIMIT`` (largest first).

    Each amount is at most 10**16 minor units, so only a month of hundreds of items at the limit gets
    here; then every sum of the month stays exact in int64 (see ``money.SUM_LIMIT``). What is kept is the
    longest run of the smallest amounts whose absolute sum is under the limit.
    """
    amounts = items["amount_minor"].to_numpy(np.int64)
    if not len(amounts) or int(np.abs(amounts).max()) * len(amounts) < SUM_LIMIT:
        return []
    order = np.argsort(np.abs(amounts), kind="stable")
    # each addend is below 2**54, so the running sum passes SUM_LIMIT before it could wrap
    running = np.cumsum(np.abs(amounts[order]))
    over = running >= SUM_LIMIT
    if not over.any():
        return []
    why = f"the month's amounts add up past what can be summed here ({SUM_LIMIT:,} minor units): the largest are held"
    return [(int(items.index[p]), why) for p in order[int(np.argmax(over)) :].tolist()]


def _heading(inputs: Tables, row: pd.Series, column: str, default: str = "") -> str:
    """The heading the row's own file and sheet gives a canonical column (``default`` when it has none)."""
    sheet = str(row["_sheet"]) if isinstance(row["_sheet"], str) else ""
    return inputs.heading(_table_of(str(row["source_table"])), str(row["_file"]), sheet, column, default)


def _table_of(source_table: str) -> str:
    if source_table in ("billing_items", "time_entries"):
        return source_table
    return "charges"
