"""SPEC section 3: which items share an invoice, and the invoices they make.

Every invoice is for one customer, one currency and one billing entity; within that the
consolidation method (resolved billing group -> customer -> entity -> run default, or forced) picks
the key. Invoices are computed as frames (vectorised, for 200,000-item months); ``InvoiceSet.record``
turns one into the paper-like ``models.Invoice``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.core.codes import (
    distinct_tuples,
    factorize,
    first_positions,
    mostly_distinct,
    object_ids,
    order_of,
    subset_codes,
    text_ranks,
)
from billing_lib.core.rules import Prepared
from billing_lib.domain.errors import UsageError
from billing_lib.domain.money import format_minor, from_minor
from billing_lib.domain.parties import PartyBook
from billing_lib.domain.period import Period
from billing_lib.domain.records import (
    LINE_KEY,
    TIMESHEET_EXCLUDED,
    Invoice,
    InvoiceLine,
    Issue,
    Party,
    SourceItem,
    where,
)

METHODS = (
    "po_number", "contract", "customer", "project", "project_activity", "cost_centre", "workplace", "timesheet",
    "timesheet_and_expense", "buyer_reference",
)  # fmt: skip
ALIASES = {
    "job": "contract", "po": "po_number", "purchase_order": "po_number", "ponumber": "po_number",
    "cost_center": "cost_centre", "costcentre": "cost_centre", "activity": "project_activity",
    "projectactivity": "project_activity", "timesheetandexpense": "timesheet_and_expense",
    "timesheet_and_expense_report": "timesheet_and_expense", "buyerreference": "buyer_reference", "site": "workplace",
}  # fmt: skip
LABELS = {
    "po_number": "PO number", "contract": "Contract (job)", "customer": "Customer", "project": "Project",
    "project_activity": "Project activity", "cost_centre": "Cost centre", "workplace": "Workplace",
    "timesheet": "Timesheet", "timesheet_and_expense": "Timesheet and expense", "buyer_reference": "Buyer reference",
}  # fmt: skip
DRAFT_FORMAT = "DRAFT-{yyyy}{mm}-{seq:04d}"


def normalise_method(name: object, *, where_from: str = "method") -> str:
    """The canonical method name; ``UsageError`` naming the valid ones for anything else."""
    text = str(name).strip().casefold().replace(" ", "_").replace("-", "_")
    text = ALIASES.get(text, ALIASES.get(text.replace("_", ""), text))
    if text not in METHODS:
        raise UsageError(
            f"{where_from}: unknown consolidation method {name!r}; use one of {', '.join(METHODS)} (or job)"
        )
    return text


def is_method(name: object) -> bool:
    """Whether ``name`` is a consolidation method or one of its aliases."""
    try:
        normalise_method(name)
    except UsageError:
        return False
    return True


def check_default_method(method: str) -> str:
    method = normalise_method(method)
    if method == "buyer_reference":
        raise UsageError(
            "buyer_reference cannot be the run's default method: set it on a customer, billing group or entity"
        )
    return method


def resolve_methods(prep: Prepared, default: str, force: bool = False) -> pd.Series:
    """The method of every item's customer: billing group -> customer -> entity -> run default."""
    default = check_default_method(default)
    items = prep.items
    if force or items.empty:
        return pd.Series(default, index=items.index, dtype="str")
    method = pd.Series("", index=items.index, dtype="str")
    inputs = prep.inputs

    def fill(keys: pd.Series, table: pd.DataFrame, key_col: str, label: str) -> None:
        nonlocal method
        if table.empty or "consolidation_method" not in table:
            return
        ref = table.dropna(subset=["consolidation_method"]).drop_duplicates(key_col)
        valid = {}
        for k, m in zip(ref[key_col].astype("str"), ref["consolidation_method"].astype("str"), strict=True):
            if m.strip() and not (label == "customer" and not is_method(m)):  # rules hold such a customer
                valid[k] = normalise_method(m, where_from=f"{label} {k}")
        found = keys.map(valid).astype("str").fillna("") if valid else ""
        method = method.where(method != "", found)

    fill(items["billing_group"], inputs.table("billing_groups"), "billing_group", "billing group")
    fill(items["customer_id"], prep.companies, "customer_id", "customer")
    fill(items["billing_entity"], inputs.table("billing_entities"), "billing_entity", "billing entity")
    return method.where(method != "", default)


def _iso_week(dates: pd.Series) -> pd.Series:
    """``2026-W41`` for each date, worked out once per distinct date."""
    codes, uniques = pd.factorize(dates)
    labels = np.array(["{}-W{:02d}".format(*d.isocalendar()[:2]) for d in uniques] + [""], dtype=object)
    return pd.Series(labels[codes], index=dates.index, dtype="str")


def group_keys(items: pd.DataFrame, methods: pd.Series) -> pd.Series:
    """Each item's consolidation key under its method ('' = the customer's catch-all invoice).

    The readable definition of the keys: ``consolidate`` computes the same keys on integer codes, and
    the tests hold the two to each other.
    """
    keys = pd.Series("", index=items.index, dtype="str")
    week = None
    for method in pd.unique(methods):
        mask = methods == method
        sub = items[mask]
        if method == "po_number":
            value = sub["po_number"]
        elif method == "contract":
            value = sub["contract_id"]
        elif method == "customer":
            value = sub["billing_group"]
        elif method == "project":
            value = sub["project_id"]
        elif method == "project_activity":
            value = (sub["project_id"] + "/" + sub["task_id"]).where(sub["project_id"] != "", "")
        elif method == "cost_centre":
            value = sub["cost_centre"]
        elif method == "workplace":
            value = sub["workplace"]
        elif method == "buyer_reference":
            value = sub["buyer_reference"]
        else:  # timesheet, timesheet_and_expense
            if week is None:
                week = _iso_week(items["item_date"])
            value = (sub["resource_id"] + "|" + week[mask] + "|" + sub["contract_id"]).where(
                sub["resource_id"] != "", ""
            )
        keys[mask] = value.fillna("").astype("str")
    return keys


class InvoiceSet:
    """The invoices of a run as frames: ``invoices`` (one row each) and ``items`` (with ``invoice_number``).

    ``items`` may be given as a frame or, by ``consolidate``, as the pending reordering of the month's
    items: every item in invoice order is then only put together when ``items`` is first read (the
    invoice heads, sums and counts do not need it), and ``invoice_items`` gives one invoice's items
    without ordering all of them.
    """

    def __init__(
        self,
        period: Period,
        invoices: pd.DataFrame,
        items: pd.DataFrame | _PendingItems,
        excluded: pd.DataFrame | Callable[[], pd.DataFrame],
        issues: list[Issue] | Callable[[], list[Issue]],
        companies: pd.DataFrame,
        entities: pd.DataFrame,
        invoice_date: dt.date,
    ) -> None:
        self.period = period
        self.invoices = invoices
        self._items = items
        self._excluded = excluded
        self._issues = issues
        self.companies = companies
        self.entities = entities
        self.invoice_date = invoice_date

    def __repr__(self) -> str:
        return f"InvoiceSet({self.period.label}, {len(self.invoices)} invoices)"

    @property
    def excluded(self) -> pd.DataFrame:
        """The items a timesheet-only run leaves for a separate run (charges and expenses), built on first read."""
        if callable(self._excluded):
            self._excluded = self._excluded()
        return self._excluded

    @excluded.setter
    def excluded(self, frame: pd.DataFrame) -> None:
        self._excluded = frame

    @property
    def issues(self) -> list[Issue]:
        """The problems consolidation found (charges a timesheet run leaves out), built on first read."""
        if callable(self._issues):
            self._issues = self._issues()
        return self._issues

    @issues.setter
    def issues(self, issues: list[Issue]) -> None:
        self._issues = issues

    @property
    def items(self) -> pd.DataFrame:
        """Every invoiced item in invoice order, then by date, source table and item id."""
        if isinstance(self._items, _PendingItems):
            self._items = self._items.frame()
        return self._items

    @items.setter
    def items(self, frame: pd.DataFrame) -> None:
        self._items = frame

    def invoice_items(self, invoice_number: str) -> pd.DataFrame:
        """The rows of ``items`` of one invoice (worked out for that invoice alone while ``items`` is pending)."""
        if isinstance(self._items, _PendingItems):
            rows = self._items.invoice_frame(invoice_number)
            if rows is not None:
                return rows
        items = self.items
        return items[items["invoice_number"] == invoice_number]

    def record(self, invoice_number: str) -> Invoice:
        """The paper-like invoice with its lines and source items."""
        heads = self.invoices[self.invoices["invoice_number"] == invoice_number]
        if heads.empty:
            raise KeyError(invoice_number)
        return build_records(heads, self.invoice_items(invoice_number), self)[0]

    def records(self) -> list[Invoice]:
        """Every invoice, in the set's order."""
        return build_records(self.invoices, self.items, self)


def _one_spelling_per_po(items: pd.DataFrame) -> pd.Series:
    """Each item's PO as one spelling per PO key (SPEC: POs match trimmed and case-folded).

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


def _tax_rates(prep: Prepared) -> dict[str, Decimal]:
    companies = prep.companies
    if companies.empty or "tax_rate" not in companies:
        return {}
    ref = companies.dropna(subset=["tax_rate"]).drop_duplicates("customer_id")
    return {
        str(c): Decimal(r) for c, r in zip(ref["customer_id"], ref["tax_rate"], strict=True) if r is not None
    }


def _price_text(price: object) -> str:
    if price.__class__ is Decimal:
        return str(price)
    return "" if price is None or price != price else str(price)


def _price_codes(prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the unit prices as written, and the texts: each distinct price *object* is written once.

    ``95`` and ``95.00`` are equal Decimals but two texts, so prices are told apart by object, not value.
    """
    ids = object_ids(prices)
    if mostly_distinct(ids):
        texts = np.array([_price_text(p) for p in prices], dtype=object)
        codes, uniques = pd.factorize(texts)
        return codes, np.asarray(uniques, dtype=object)
    id_codes, distinct = pd.factorize(ids)
    texts = np.array([_price_text(p) for p in prices[first_positions(id_codes, len(distinct))]], dtype=object)
    text_codes, uniques = pd.factorize(texts)
    return text_codes[id_codes], np.asarray(uniques, dtype=object)


def _key_text(value: Any) -> str:
    """A group key value as ``group_keys`` writes it ('' for a missing one)."""
    return value if isinstance(value, str) else "" if pd.isna(value) else str(value)


def _tax_minor(
    net_minor: np.ndarray, codes: np.ndarray, customers: np.ndarray, rates: dict[str, Decimal]
) -> np.ndarray:
    """``net x rate / 100`` rounded half up (away from zero) once, in exact integer arithmetic.

    ``codes`` are the invoices' customers as positions in ``customers`` (-1: none).
    """
    ratios = [rates.get(c, Decimal(0)).as_integer_ratio() for c in customers]
    numerators = [n for n, _ in ratios] + [0]
    denominators = [100 * d for _, d in ratios] + [100]
    biggest = int(np.abs(net_minor).max(initial=0))
    if biggest * max(map(abs, numerators)) < 2**61 and max(denominators) < 2**30:  # exact in int64
        num = np.array(numerators, dtype=np.int64)[codes]
        den = np.array(denominators, dtype=np.int64)[codes]
        exact = net_minor.astype(np.int64) * num
    else:  # Python ints: no overflow whatever the amounts
        num = np.array(numerators, dtype=object)[codes]
        den = np.array(denominators, dtype=object)[codes]
        exact = net_minor.astype(object) * num
    tax = (2 * np.abs(exact) + den) // (2 * den)
    return np.where(exact < 0, -tax, tax).astype(np.int64)


@dataclass
class _LeftOut:
    """The charges and expenses a timesheet run leaves for a separate run, put together when first asked."""

    source: pd.DataFrame
    labour_only: np.ndarray
    methods: pd.Series
    _frame: pd.DataFrame | None = None

    def __call__(self) -> pd.DataFrame:
        if self._frame is None:
            rows = self.labour_only
            self._frame = self.source[rows].assign(method=self.methods[rows], reason=TIMESHEET_EXCLUDED)
        return self._frame


def _labour_only_issues_of(excluded: Callable[[], pd.DataFrame]) -> list[Issue]:
    return _labour_only_issues(excluded())


def _labour_only_issues(excluded: pd.DataFrame) -> list[Issue]:
    issues = []
    columns = (excluded[c].to_numpy(object) for c in ("source_table", "item_id", "_file", "_sheet", "_row"))
    for table, item_id, file, sheet, row in zip(*columns, strict=True):
        sheet = sheet if isinstance(sheet, str) else ""
        place = where(str(file), sheet, int(row))
        issues.append(
            Issue(
                str(table),
                str(item_id),
                TIMESHEET_EXCLUDED,
                "held",
                f"{place}: a charge or expense under the timesheet method is left for a separate run",
                str(file),
                sheet,
                int(row),
            )
        )
    return issues


class _Columns:
    """The kept items' columns as object arrays, each factorised at most once."""

    def __init__(self, frame: pd.DataFrame, kept: np.ndarray | None) -> None:
        self.frame = frame
        self.kept = kept
        self.factorized: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.frame) if self.kept is None else len(self.kept)

    def series(self, name: str) -> pd.Series:
        column = self.frame[name]
        return column if self.kept is None else column.take(self.kept)

    def values(self, name: str) -> np.ndarray:
        values = self.frame[name].to_numpy(object)
        return values if self.kept is None else values[self.kept]

    def codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``factorize`` of the column: codes in order of first occurrence and the distinct values."""
        if name not in self.factorized:
            self.factorized[name] = factorize(self.values(name))
        return self.factorized[name]


@dataclass(frozen=True)
class _Pos:
    """Each item's PO, one spelling per PO key: codes into ``uniques`` (the column's distinct values)."""

    codes: np.ndarray
    uniques: np.ndarray
    respelled: bool  # some items show another spelling than their own (codes not in order of occurrence)


def _spelled_pos(cols: _Columns) -> _Pos:
    """``_one_spelling_per_po`` worked out on codes: per distinct (key, spelling) pair, not per item."""
    po_codes, pos = cols.codes("po_number")
    key_codes, keys = cols.codes("po_key")
    if pd.isna(pos).any() or pd.isna(keys).any():  # missing values: exactly as the frame version has it
        frame = pd.DataFrame({"po_key": cols.series("po_key"), "po_number": cols.series("po_number")})
        return _Pos(*factorize(_one_spelling_per_po(frame).to_numpy(object)), respelled=True)
    keyed = np.array([k != "" for k in keys], dtype=bool)
    pairs, first = distinct_tuples([(key_codes, len(keys)), (po_codes, len(pos))], len(cols))
    pair_key, pair_po = key_codes[first], po_codes[first]
    on = keyed[pair_key]
    if not on.any() or len(np.unique(pair_po[on])) == len(np.unique(pair_key[on])):
        return _Pos(po_codes, pos, respelled=False)
    counts = np.bincount(pairs, minlength=len(first))
    best: dict[int, tuple[int, int]] = {}  # key -> (spelling, items): the most items, then the first text
    for k, p, c in zip(pair_key[on].tolist(), pair_po[on].tolist(), counts[on].tolist(), strict=True):
        held = best.get(k)
        if held is None or c > held[1] or (c == held[1] and pos[p] < pos[held[0]]):
            best[k] = (p, c)
    spelling = np.zeros(len(keys), dtype=np.intp)  # read for keyed keys only, each of which has a best
    for k, (p, _) in best.items():
        spelling[k] = p
    return _Pos(np.where(keyed[key_codes], spelling[key_codes], po_codes), pos, respelled=True)


_KEY_COLUMNS = {
    "contract": "contract_id", "customer": "billing_group", "project": "project_id", "cost_centre": "cost_centre",
    "workplace": "workplace", "buyer_reference": "buyer_reference",
}  # fmt: skip


def _key_source(
    method: str, cols: _Columns, pos: _Pos
) -> tuple[np.ndarray, np.ndarray, bool] | tuple[np.ndarray, np.ndarray, bool, np.ndarray]:
    """``group_keys`` of every kept item under ``method``: codes, the key text per code, whether the
    codes are numbered in order of first occurrence, and (when worked out from the key's parts, the
    texts then being distinct) a number per code that sorts as the texts do."""
    n = len(cols)
    if method == "po_number":
        return pos.codes, np.array([_key_text(v) for v in pos.uniques], dtype=object), not pos.respelled
    if method in _KEY_COLUMNS:
        codes, uniques = cols.codes(_KEY_COLUMNS[method])
        return codes, np.array([_key_text(v) for v in uniques], dtype=object), True
    if method == "project_activity":
        p_codes, projects = cols.codes("project_id")
        t_codes, tasks = cols.codes("task_id")
        codes, first = distinct_tuples([(p_codes, len(projects)), (t_codes, len(tasks))], n)
        parts = zip(projects[p_codes[first]], tasks[t_codes[first]], strict=True)
        texts = [
            f"{p}/{t}" if p != "" and isinstance(p, str) and isinstance(t, str) else "" for p, t in parts
        ]
        return codes, np.array(texts, dtype=object), True
    # timesheet, timesheet_and_expense: resource, ISO week, contract
    r_codes, resources = cols.codes("resource_id")
    c_codes, contracts = cols.codes("contract_id")
    date_codes, dates = pd.factorize(cols.series("item_date"))
    labels = np.array(["{}-W{:02d}".format(*d.isocalendar()[:2]) for d in dates] + [""], dtype=object)
    label_codes, weeks = pd.factorize(labels)
    w_codes = label_codes[date_codes]  # a missing date (code -1) takes the last label, ''
    codes, first = distinct_tuples(
        [(r_codes, len(resources)), (w_codes, len(weeks)), (c_codes, len(contracts))], n
    )
    # as the text columns add up: '' without a resource, or with a part missing; each part's text is
    # made once per distinct value, then the keys are joined element-wise (no Python call per key)
    r_text = np.array([f"{r}|" if isinstance(r, str) else "" for r in resources], dtype=object)
    w_text = np.array([f"{w}|" for w in weeks], dtype=object)
    c_text = np.array([c if isinstance(c, str) else "" for c in contracts], dtype=object)
    r_ok = np.array([isinstance(r, str) and r != "" for r in resources], dtype=bool)
    c_ok = np.array([isinstance(c, str) for c in contracts], dtype=bool)
    rf, wf, cf = r_codes[first], w_codes[first], c_codes[first]
    rw_codes, rw_pairs = pd.factorize(rf * len(weeks) + wf)  # resource and week first: a few thousand
    rw_text = r_text[rw_pairs // len(weeks)] + w_text[rw_pairs % len(weeks)]
    keys = rw_text[rw_codes] + c_text[cf]
    valid = r_ok[rf] & c_ok[cf]
    keys[~valid] = ""
    if any("|" in t[:-1] or "\x00" in t for t in r_text) or any("\x00" in t for t in c_text):
        return codes, keys, True  # ranked as whole texts
    # "r|" never ends inside another "r|", so "r|w|c" sorts as (r|, w|, c) do: rank the parts, not the texts
    r_rank, w_rank, c_rank = text_ranks(r_text), text_ranks(w_text), text_ranks(c_text)
    rank = (r_rank[rf] * len(weeks) + w_rank[wf]) * len(contracts) + c_rank[cf]
    if not valid.all():  # every key missing a part is the one key ''
        renumber = np.full(len(valid), int(valid.sum()), dtype=np.int64)
        renumber[valid] = np.arange(int(valid.sum()))
        codes = renumber[codes]
        keys, rank = np.append(keys[valid], ""), np.append(rank[valid], -1)
    return codes, keys, True, rank


def _group_key(
    method_codes: np.ndarray, method_names: np.ndarray, cols: _Columns, pos: _Pos
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each kept item's group key as codes, the text of each code, and each code's rank as text."""
    sources = [_key_source(str(m), cols, pos) for m in method_names]
    if len(sources) == 1:
        codes, texts, in_order = sources[0][:3]
        if len(sources[0]) == 4:
            return codes, texts, sources[0][3]
    else:
        codes = np.zeros(len(cols), dtype=np.int64)
        offset = 0
        for j, (some, their_texts, *_) in enumerate(sources):
            mine = method_codes == j
            codes[mine] = some[mine] + offset
            offset += len(their_texts)
        texts, in_order = np.concatenate([s[1] for s in sources]), False
    merged, distinct = pd.factorize(texts)  # two codes may give one text: one key
    if len(distinct) < len(texts):
        codes = merged[codes]
    distinct = np.asarray(distinct, dtype=object)
    return codes, distinct, text_ranks(distinct, None if in_order else codes)


def _date_codes(dates: pd.Series) -> np.ndarray:
    if dates.dtype.kind == "M":
        return pd.factorize(dates, sort=True, use_na_sentinel=False)[0]
    return subset_codes(dates.to_numpy(object), None)


def _item_order(cols: _Columns, rows: np.ndarray | None, invoice: np.ndarray) -> np.ndarray:
    """The order of ``rows`` (every kept item when None) as ``items`` lists them: by invoice, then date,
    source table and item id."""
    dates = cols.series("item_date")
    if rows is not None:
        dates = dates.take(rows)
        invoice = invoice[rows]
    tables = subset_codes(cols.values("source_table"), rows)
    ids = subset_codes(cols.values("item_id"), rows)
    return np.lexsort((ids, tables, _date_codes(dates), invoice))


def _po_header(line_invoice: np.ndarray, line_po: np.ndarray, pos: _Pos, count: int) -> np.ndarray:
    """Each invoice's distinct PO numbers, sorted and joined by '; ' ('' when it has none), from its lines."""
    header = np.full(count, "", dtype=object)
    has = np.array([p != "" for p in pos.uniques], dtype=bool)[line_po]
    if not has.any():
        return header
    ranks = text_ranks(pos.uniques, pos.codes if pos.respelled else None)
    by_rank = np.empty(len(ranks), dtype=np.intp)
    by_rank[ranks] = np.arange(len(ranks))
    width = len(ranks)
    pairs = np.sort(pd.unique(line_invoice[has] * width + ranks[line_po[has]]))  # by invoice, then PO as text
    invoice, texts = pairs // width, pos.uniques[by_rank[pairs % width]]
    starts = np.flatnonzero(np.r_[True, invoice[1:] != invoice[:-1]])
    ends = np.r_[starts[1:], len(pairs)]
    single = ends - starts == 1
    header[invoice[starts[single]]] = texts[starts[single]]
    for s, e in zip(starts[~single].tolist(), ends[~single].tolist(), strict=True):
        header[invoice[s]] = "; ".join(texts[s:e])
    return header


@dataclass
class _PendingItems:
    """``InvoiceSet.items`` before it is put together: the month's items with each one's invoice and codes."""

    source: pd.DataFrame
    kept: np.ndarray | None  # positions of the items on invoices (None: all)
    invoice: np.ndarray  # each kept item's invoice, as its position in the invoice order
    counts: np.ndarray  # items per invoice
    methods: tuple[np.ndarray, np.ndarray]  # (codes, texts) of each kept item's method
    pos: _Pos
    keys: tuple[np.ndarray, np.ndarray]  # (codes, texts) of each kept item's group key
    prices: tuple[np.ndarray, np.ndarray]  # (codes, texts) of each kept item's unit price as written
    numbers: np.ndarray  # the invoice numbers, in invoice order

    def frame(self) -> pd.DataFrame:
        """Every item in invoice order."""
        return self._rows(_item_order(_Columns(self.source, self.kept), None, self.invoice), 0)

    def invoice_frame(self, invoice_number: str) -> pd.DataFrame | None:
        """The rows of ``frame()`` of one invoice (None for a number not in the set)."""
        found = np.flatnonzero(self.numbers == invoice_number)
        if len(found) != 1:
            return None
        k = int(found[0])
        rows = np.flatnonzero(self.invoice == k)
        rows = rows[_item_order(_Columns(self.source, self.kept), rows, self.invoice)]
        return self._rows(rows, int(self.counts[:k].sum()))

    def _rows(self, rows: np.ndarray, start: int) -> pd.DataFrame:
        """The items at ``rows`` (kept positions, in their order) with the consolidation's columns."""
        items = self.source.take(rows if self.kept is None else self.kept[rows])

        def text(codes: np.ndarray, texts: np.ndarray) -> pd.Series:
            return pd.Series(texts[codes[rows]], index=items.index, dtype="str")

        items = items.assign(method=text(*self.methods))
        if self.pos.respelled:
            items = items.assign(po_number=text(self.pos.codes, self.pos.uniques))
        items = items.assign(group_key=text(*self.keys))
        items = items.assign(unit_price_text=text(*self.prices))
        items = items.set_axis(pd.RangeIndex(start, start + len(rows)))
        seq = self.invoice[rows]
        items.insert(list(items.columns).index("unit_price_text"), "invoice_seq", seq)  # the usual order
        items["invoice_number"] = self.numbers[seq]
        return items


def consolidate(
    prep: Prepared,
    method: str = "po_number",
    *,
    force: bool = False,
    split_by_contact: bool = False,
    number_format: str = DRAFT_FORMAT,
    invoice_date: dt.date | None = None,
) -> InvoiceSet:
    """Group the prepared items into invoices with draft numbers (the register renumbers final runs).

    Vectorised on integer codes: an invoice is a distinct tuple of the split columns' codes (one int64
    key per item), invoices are ordered by the tuples' texts, and sums and counts are taken per
    invoice without reordering the items. ``items`` (every item in invoice order) is put together when
    first read.
    """
    source = prep.items.copy(deep=False)  # later changes to the month's frame do not reach this set
    methods = resolve_methods(prep, method, force)
    if force or source.empty:
        method_codes = np.zeros(len(source), dtype=np.intp)
        method_names = np.array([check_default_method(method)], dtype=object)
    else:
        method_codes, method_names = factorize(methods.to_numpy(object))
    labour_only = np.zeros(len(source), dtype=bool)
    if "timesheet" in method_names.tolist():
        timesheet = method_names.tolist().index("timesheet")
        labour_only = (method_codes == timesheet) & (source["kind"].to_numpy(object) != "labour")
    # the charges a timesheet run leaves out, and an Issue for each, are put together when first read
    excluded = _LeftOut(source, labour_only, methods)
    issues = functools.partial(_labour_only_issues_of, excluded)
    kept = np.flatnonzero(~labour_only) if labour_only.any() else None
    if kept is not None:
        method_codes = method_codes[kept]
    cols = _Columns(source, kept)
    n = len(cols)

    pos = _spelled_pos(cols)
    key_codes, key_texts, key_ranks = _group_key(method_codes, method_names, cols, pos)
    split: dict[str, tuple[np.ndarray, int, np.ndarray]] = {}  # column -> codes, how many, rank per code
    for column in ("customer_id", "currency", "billing_entity"):
        codes, uniques = cols.codes(column)
        split[column] = (codes, len(uniques), text_ranks(uniques))
    method_ranks = text_ranks(method_names, None if kept is None else method_codes)
    split["method"] = (method_codes, len(method_names), method_ranks)
    split["group_key"] = (key_codes, len(key_texts), key_ranks)
    if split_by_contact:
        codes, uniques = cols.codes("billing_contact")
        split["billing_contact"] = (codes, len(uniques), text_ranks(uniques))

    # the invoices: distinct tuples of split codes, ordered as their texts sort
    tuple_codes, tuple_first = distinct_tuples([(codes, size) for codes, size, _ in split.values()], n)
    count = len(tuple_first)
    sort_keys = [ranks[codes[tuple_first]] for codes, size, ranks in split.values() if size > 1]
    order = order_of(sort_keys, count)
    place = np.empty(count, dtype=np.int64)
    place[order] = np.arange(count)
    invoice = place[tuple_codes]  # each kept item's invoice, numbered in invoice order
    first = tuple_first[order]  # one item of each invoice (its first in the month's order)

    item_count = np.bincount(invoice, minlength=count).astype(np.int64)
    net_minor = np.zeros(count, dtype=np.int64)
    np.add.at(
        net_minor, invoice, source["amount_minor"].to_numpy(np.int64)[slice(None) if kept is None else kept]
    )

    # columns that may vary within an invoice show its first item's value (by date, table, id): only the
    # invoices where they do vary are ordered to find it
    loose = [c for c in ("customer_name", "billing_contact") if c not in split]
    head = first.copy()
    varying = np.zeros(count, dtype=bool)
    for column in loose:
        codes, _ = cols.codes(column)
        varying[invoice[codes != codes[first][invoice]]] = True
    if varying.any():
        rows = np.flatnonzero(varying[invoice])
        rows = rows[_item_order(cols, rows, invoice)]
        starts = np.flatnonzero(np.r_[True, invoice[rows[1:]] != invoice[rows[:-1]]])
        head[invoice[rows[starts]]] = rows[starts]

    kind_codes, kinds = cols.codes("kind")
    name_codes, names = cols.codes("billing_code_name")
    price_codes, prices = _price_codes(cols.values("unit_price"))
    line_parts = [(invoice, count), (pos.codes, len(pos.uniques)), (kind_codes, len(kinds))]
    line_parts += [(name_codes, len(names)), (price_codes, len(prices))]
    _, line_first = distinct_tuples(line_parts, n)  # the invoices' distinct lines

    heads = pd.DataFrame()
    for column in dict.fromkeys([*split, "customer_name", "billing_contact"]):
        if column == "method":
            heads[column] = pd.Series(method_names[method_codes[first]], dtype="str")
        elif column == "group_key":
            heads[column] = pd.Series(key_texts[key_codes[first]], dtype="str")
        elif column in cols.factorized and source[column].dtype == "str":  # from its codes: no frame take
            codes, uniques = cols.factorized[column]
            heads[column] = pd.Series(uniques[codes[head if column in loose else first]], dtype="str")
        else:
            rows = head if column in loose else first
            heads[column] = source[column].take(rows if kept is None else kept[rows]).reset_index(drop=True)
    heads["item_count"] = item_count
    heads["net_minor"] = net_minor
    heads["po_number"] = _po_header(invoice[line_first], pos.codes[line_first], pos, count)
    heads["line_count"] = np.bincount(invoice[line_first], minlength=count).astype(np.int64)
    rates = _tax_rates(prep)
    customer_codes, customers = cols.codes("customer_id")
    customer_codes = customer_codes[first]  # each invoice's customer
    heads["tax_minor"] = _tax_minor(net_minor, customer_codes, customers, rates)
    heads["total_minor"] = heads["net_minor"] + heads["tax_minor"]
    zero = Decimal(0)
    customer_rates = np.array([rates.get(c, zero) for c in customers] + [zero], dtype=object)
    heads["tax_rate"] = pd.Series(customer_rates[customer_codes], index=heads.index, dtype=object)
    numbers = np.array(format_numbers(number_format, prep.period, count), dtype=object)
    heads["invoice_number"] = numbers
    items = _PendingItems(
        source,
        kept,
        invoice,
        item_count,
        (method_codes, method_names),
        pos,
        (key_codes, key_texts),
        (price_codes, prices),
        numbers,
    )
    return InvoiceSet(
        prep.period,
        heads,
        items,
        excluded,
        issues,
        prep.companies,
        prep.inputs.table("billing_entities"),
        invoice_date or dt.date.today(),
    )


def format_number(fmt: str, period: Period, seq: int) -> str:
    return fmt.format(yyyy=f"{period.year:04d}", mm=f"{period.month:02d}", seq=seq, period=period.label)


class _SeqMark:
    """Stands in for ``seq`` to split a number format around it and learn its format spec."""

    def __init__(self) -> None:
        self.specs: list[str] = []

    def __format__(self, spec: str) -> str:
        self.specs.append(spec)
        return "\x00"


def format_numbers(fmt: str, period: Period, count: int) -> list[str]:
    """``format_number`` for seq 1..count, formatting the fixed parts once."""
    mark = _SeqMark()
    try:
        text = fmt.format(yyyy=f"{period.year:04d}", mm=f"{period.month:02d}", seq=mark, period=period.label)
    except (ValueError, TypeError):  # e.g. {seq!r}: format each number in full
        text = ""
    if len(mark.specs) != 1 or text.count("\x00") != 1:
        return [format_number(fmt, period, i) for i in range(1, count + 1)]
    prefix, _, suffix = text.partition("\x00")
    spec = mark.specs[0]
    if re.fullmatch(r"0?\d*d?", spec):  # e.g. 04d: printf-style formatting gives the same text, faster
        printf = f"{prefix.replace('%', '%%')}%{spec.rstrip('d')}d{suffix.replace('%', '%%')}"
        numbers = list(map(printf.__mod__, range(1, count + 1)))
    else:
        numbers = [f"{prefix}{i:{spec}}{suffix}" for i in range(1, count + 1)]
    if numbers and numbers[-1] != format_number(fmt, period, count):  # e.g. {seq!r}: not a plain field
        return [format_number(fmt, period, i) for i in range(1, count + 1)]
    return numbers


def renumber(invoice_set: InvoiceSet, numbers: list[str]) -> InvoiceSet:
    """The same invoices under other numbers (the register's final ones), in the same order."""
    mapping = dict(zip(invoice_set.invoices["invoice_number"], numbers, strict=True))
    invoices = invoice_set.invoices.assign(invoice_number=numbers)
    items = invoice_set.items.assign(invoice_number=invoice_set.items["invoice_number"].map(mapping))
    return InvoiceSet(
        invoice_set.period,
        invoices,
        items,
        invoice_set.excluded,
        invoice_set.issues,
        invoice_set.companies,
        invoice_set.entities,
        invoice_set.invoice_date,
    )


# --- paper-like records --------------------------------------------------------------------------


def _party(
    table: pd.DataFrame, key_col: str, key: str, name_col: str
) -> tuple[str, tuple[str, ...], str, str, dict[str, str]]:
    if table.empty or key_col not in table:
        return key, (), "", "", {}
    match = table[table[key_col].astype("str") == key]
    if match.empty and key_col == "billing_entity" and len(table) == 1:
        match = table  # one billing entity is every customer's (SPEC section 2)
    if match.empty:
        return key, (), "", "", {}
    row = match.iloc[0]

    def get(col: str) -> str:
        value = row.get(col)
        return "" if value is None or (isinstance(value, float) and value != value) else str(value)

    name = get(name_col) or key
    town = " ".join(filter(None, (get("postal_code"), get("city"))))
    lines = tuple(x for x in (get("address"), get("address2"), town, get("country")) if x)
    extra = {k: get(k) for k in ("vat_category", "vat_exemption_reason")}
    return name, lines, get("tax_id"), get("payment_terms"), extra


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _decimal_sum(values: pd.Series) -> Decimal:
    return sum(map(_dec, values), Decimal(0))


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    return [str(v) for v in frame[column].fillna("").to_numpy(object)]


def _line_records(items: pd.DataFrame, money: dict[tuple[int, str], Decimal]) -> dict[str, list[InvoiceLine]]:
    """The lines of every invoice at once: its items of one PO, kind, billing code and unit price together."""
    keys = LINE_KEY
    grouped = items.groupby(keys, sort=False, dropna=False)
    agg = grouped.agg(
        date=("item_date", "max"),
        date_from=("item_date", "min"),
        count=("item_id", "size"),
        minor=("amount_minor", "sum"),
        description=("description", "first"),
        unit_price=("unit_price", "first"),
        currency=("currency", "first"),
    ).reset_index()
    quantity = list(grouped["quantity"].agg(_decimal_sum))
    out: dict[str, list[InvoiceLine]] = {}
    for i, (number, po, kind, code, date, first, count, minor, text, price, currency) in enumerate(
        zip(agg["invoice_number"], agg["po_number"], agg["kind"], agg["billing_code_name"], agg["date"],
            agg["date_from"], agg["count"], agg["minor"], agg["description"], agg["unit_price"],
            agg["currency"], strict=True)
    ):  # fmt: skip
        label = str(code or ("Labour" if kind == "labour" else "Charges"))
        if count == 1 and text:
            label = f"{label}: {text}" if code else str(text)
        key = (int(minor), str(currency))
        amount = money[key] if key in money else money.setdefault(key, from_minor(*key))
        out.setdefault(str(number), []).append(
            InvoiceLine(date=date.date(), description=label, po_number=str(po), quantity=quantity[i],
                        unit_price=None if price is None else _dec(price), amount=amount, item_count=int(count),
                        date_from=first.date() if first != date else None, kind=str(kind))
        )  # fmt: skip
    return out


def _source_items(items: pd.DataFrame, money: dict[tuple[int, str], Decimal]) -> list[SourceItem]:
    """Every item as the detail sheet lists it, built column-wise (no per-row frame access)."""
    dates = [d.date() for d in items["item_date"]]
    amounts = []
    for minor, currency in zip(items["amount_minor"].tolist(), items["currency"].tolist(), strict=True):
        key = (int(minor), str(currency))
        amounts.append(money[key] if key in money else money.setdefault(key, from_minor(*key)))
    who = [n or r for n, r in zip(_texts(items, "resource_name"), _texts(items, "resource_id"), strict=True)]
    prices = [None if p is None else _dec(p) for p in items["unit_price"].to_numpy(object)]
    quantities = [_dec(q) for q in items["quantity"].to_numpy(object)]
    return [
        SourceItem(*fields)
        for fields in zip(
            _texts(items, "source_table"), _texts(items, "item_id"), dates, _texts(items, "description"),
            _texts(items, "po_number"), quantities, prices, amounts, _texts(items, "contract_id"),
            _texts(items, "project_id"), _texts(items, "ticket_id"), who, _texts(items, "billing_code_name"),
            strict=True,
        )
    ]  # fmt: skip


def build_records(heads: pd.DataFrame, items: pd.DataFrame, invoice_set: InvoiceSet) -> list[Invoice]:
    """The paper-like invoices of ``heads`` (rows of ``invoice_set.invoices``) from their ``items``."""
    money: dict[tuple[int, str], Decimal] = {}
    lines = _line_records(items, money)
    sources = _source_items(items, money)
    positions = items.groupby("invoice_number", sort=False).indices
    parties: dict[tuple[str, str], tuple[str, tuple[str, ...], str, str, dict[str, str]]] = {}
    book = PartyBook(invoice_set.companies, invoice_set.entities)

    def party(
        table: pd.DataFrame, key_col: str, key: str, name_col: str
    ) -> tuple[str, tuple[str, ...], str, str, dict[str, str]]:
        if (key_col, key) not in parties:
            parties[(key_col, key)] = _party(table, key_col, key, name_col)
        return parties[(key_col, key)]

    records = []
    for head in heads.to_dict("records"):
        number, currency = str(head["invoice_number"]), str(head["currency"])
        customer_name, customer_lines, customer_tax, customer_terms, vat = party(
            invoice_set.companies, "customer_id", str(head["customer_id"]), "customer_name"
        )
        entity_key = str(head["billing_entity"])
        entity_name, entity_lines, entity_tax, entity_terms, _ = party(
            invoice_set.entities, "billing_entity", entity_key, "legal_name"
        )
        records.append(
            Invoice(
                invoice_number=number,
                invoice_date=invoice_set.invoice_date,
                period=invoice_set.period.label,
                customer_id=str(head["customer_id"]),
                customer=Party(
                    customer_name if customer_name != head["customer_id"] else str(head["customer_name"]),
                    customer_lines,
                    customer_tax,
                    vat.get("vat_category", "").upper(),
                    vat.get("vat_exemption_reason", ""),
                ),
                billing_entity=Party(entity_name or entity_key or "", entity_lines, entity_tax),
                billing_contact=str(head["billing_contact"] or ""),
                payment_terms=customer_terms or entity_terms or "30 days net",
                method=str(head["method"]),
                group_key=str(head["group_key"]),
                po_numbers=tuple(p for p in str(head["po_number"]).split("; ") if p),
                currency=currency,
                lines=tuple(lines.get(number, ())),
                items=tuple(sources[i] for i in positions.get(number, ())),
                net=from_minor(int(head["net_minor"]), currency),
                tax_rate=_dec(head["tax_rate"]),
                tax=from_minor(int(head["tax_minor"]), currency),
                total=from_minor(int(head["total_minor"]), currency),
                parties=book.parties(str(head["customer_id"]), entity_key, str(head["customer_name"] or "")),
            )
        )
    return records


# --- comparing methods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    summary: pd.DataFrame  # method, invoices, items, net per currency
    per_customer: pd.DataFrame  # customer x method: invoice count and net
    moves: pd.DataFrame  # items whose invoice companions change between the first two methods
    forced: bool = True  # each method for every customer (False: customers' own methods kept)


def compare_methods(prep: Prepared, methods: list[str], *, force: bool = True) -> Comparison:
    """The same month consolidated by several methods, side by side.

    ``force``: each method for every customer; False: each as the run's default, so customers (and
    billing groups, entities) with a method of their own keep it, as a run with that default would.
    """
    sets = {m: consolidate(prep, m, force=force) for m in (normalise_method(x) for x in methods)}
    summary = pd.DataFrame(
        [
            {
                "method": m,
                "invoices": len(s.invoices),
                "items": int(s.invoices["item_count"].sum()),
                "credit_notes": int((s.invoices["total_minor"] < 0).sum()),
                "net": _totals_text(s.invoices, "net_minor"),
            }
            for m, s in sets.items()
        ]
    )
    per_customer = pd.concat(
        {
            m: s.invoices.groupby(["customer_id", "customer_name"]).agg(
                invoices=("invoice_number", "size"), net_minor=("net_minor", "sum")
            )
            for m, s in sets.items()
        },
        axis=1,
    )
    names = list(sets)
    moves = pd.DataFrame()
    if len(names) >= 2:
        a, b = sets[names[0]].items, sets[names[1]].items
        # one text key per item (source table and id; duplicates are held, so it is unique): a flat
        # index aligns the two runs far faster than a MultiIndex on 200,000 items
        key_a = pd.Index(a["source_table"] + "\x1f" + a["item_id"])
        key_b = pd.Index(b["source_table"] + "\x1f" + b["item_id"])
        inv_a = pd.Series(a["invoice_number"].to_numpy(), index=key_a)
        inv_b = pd.Series(b["invoice_number"].to_numpy(), index=key_b).reindex(key_a)
        both = inv_b.notna().to_numpy()
        # an item "moves" when the set of items it shares an invoice with changes: its two invoices
        # hold the same items exactly when their overlap is as large as each of them
        pair = pd.DataFrame({"a": inv_a.to_numpy()[both], "b": inv_b.to_numpy()[both]})
        overlap = pair.groupby(["a", "b"])["a"].transform("size").to_numpy()
        size_a = pair["a"].map(inv_a.value_counts()).to_numpy()
        size_b = pair["b"].map(pd.Series(b["invoice_number"].to_numpy()).value_counts()).to_numpy()
        changed = ~((overlap == size_a) & (overlap == size_b))
        rows_a = a[both][changed]
        moves = pd.DataFrame(
            {
                "source_table": rows_a["source_table"].to_numpy(),
                "item_id": rows_a["item_id"].to_numpy(),
                f"key_{names[0]}": rows_a["group_key"].to_numpy(),
                f"key_{names[1]}": b.set_axis(key_b)["group_key"].reindex(key_a[both][changed]).to_numpy(),
                f"invoice_{names[0]}": pair["a"].to_numpy()[changed],
                f"invoice_{names[1]}": pair["b"].to_numpy()[changed],
            }
        )
    return Comparison(summary, per_customer, moves, force)


def _totals_text(invoices: pd.DataFrame, column: str) -> str:
    """The column's total per currency (``1,234.50 EUR; 980 JPY``)."""
    totals = invoices.groupby("currency")[column].sum().items()
    return "; ".join(format_minor(int(total), cur, grouped=True, with_currency=True) for cur, total in totals)
