"""SPEC section 3: which items share an invoice, and the invoices they make.

Every invoice is for one customer, one currency and one billing entity; within that the
consolidation method (resolved billing group -> customer -> entity -> run default, or forced) picks
the key (``group_keys``, the one definition of it). An invoice is one distinct value of the split
columns (``SPLIT``): the items are sorted by them, then by date, source table and item id, and each
run of equal split values is one invoice. ``InvoiceSet.record`` turns one into the paper-like
``records.Invoice``; money stays integer minor units until then.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import string
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import numpy as np
import pandas as pd

from billing_lib.core.item_codes import Codes, ItemCodes, combined, iso_weeks, sorted_codes
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

# the methods whose key is one column of the items
_KEY_COLUMNS = {
    "po_number": "po_number", "contract": "contract_id", "customer": "billing_group", "project": "project_id",
    "cost_centre": "cost_centre", "workplace": "workplace", "buyer_reference": "buyer_reference",
}  # fmt: skip
# the columns ``method_key`` makes each method's key of
_KEY_PARTS = {method: [column] for method, column in _KEY_COLUMNS.items()} | {
    "project_activity": ["project_id", "task_id"],
    "timesheet": ["resource_id", "item_date", "contract_id"],
    "timesheet_and_expense": ["resource_id", "item_date", "contract_id"],
}
SPLIT = ["customer_id", "currency", "billing_entity", "method", "group_key"]  # one invoice per distinct value


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


def _methods_of(table: pd.DataFrame, key_col: str, label: str) -> dict[str, str]:
    """The consolidation method a reference table sets per key (rows without one left out)."""
    if table.empty or "consolidation_method" not in table:
        return {}
    ref = table.dropna(subset=["consolidation_method"]).drop_duplicates(key_col)
    found = {}
    for key, name in zip(ref[key_col].astype("str"), ref["consolidation_method"].astype("str"), strict=True):
        if name.strip() and not (label == "customer" and not is_method(name)):  # rules hold such a customer
            found[key] = normalise_method(name, where_from=f"{label} {key}")
    return found


def resolve_methods(
    prep: Prepared,
    default: str,
    force: bool = False,
    *,
    billing_groups: pd.DataFrame | None = None,
    billing_entities: pd.DataFrame | None = None,
) -> pd.Series:
    """The method of every item's customer: billing group -> customer -> entity -> run default.

    ``billing_groups`` and ``billing_entities`` are the reference tables (None: the month has none).
    """
    default = check_default_method(default)
    items = prep.items
    if force or items.empty:
        return pd.Series(default, index=items.index, dtype="str")
    method = pd.Series("", index=items.index, dtype="str")
    for keys, table, key_col, label in (
        (items["billing_group"], billing_groups, "billing_group", "billing group"),
        (items["customer_id"], prep.companies, "customer_id", "customer"),
        (items["billing_entity"], billing_entities, "billing_entity", "billing entity"),
    ):
        found = _methods_of(pd.DataFrame() if table is None else table, key_col, label)
        if found:
            method = method.where(method != "", keys.map(found).astype("str").fillna(""))
    return method.where(method != "", default)


def _iso_week(dates: pd.Series) -> pd.Series:
    """``2026-W41`` for each date ('' for none), worked out once per distinct date."""
    codes, uniques = pd.factorize(dates)
    return pd.Series(iso_weeks(uniques)[codes], index=dates.index, dtype="str")


def method_key(items: pd.DataFrame, method: str) -> pd.Series:
    """Every item's consolidation key were ``method`` its method ('' = the customer's catch-all invoice)."""
    if method in _KEY_COLUMNS:
        return items[_KEY_COLUMNS[method]]
    if method == "project_activity":
        return (items["project_id"] + "/" + items["task_id"]).where(items["project_id"] != "", "")
    # timesheet, timesheet_and_expense: one invoice per resource, ISO week and contract
    parts = zip(
        items["resource_id"].tolist(),
        _iso_week(items["item_date"]).tolist(),
        items["contract_id"].tolist(),
        strict=True,
    )
    keys = [
        f"{r}|{w}|{c}" if r != "" and r.__class__ is str and c.__class__ is str else "" for r, w, c in parts
    ]
    return pd.Series(keys, index=items.index, dtype="str")


def group_keys(items: pd.DataFrame, methods: pd.Series) -> pd.Series:
    """Each item's consolidation key under its own method ('' = the customer's catch-all invoice)."""
    distinct = pd.unique(methods)
    if len(distinct) == 1:
        return method_key(items, str(distinct[0])).fillna("").astype("str")
    keys = pd.Series("", index=items.index, dtype="str")
    for method in distinct:
        keys = keys.mask(methods == method, method_key(items, str(method)))
    return keys.fillna("").astype("str")


# --- the keys as integer codes -------------------------------------------------------------------
#
# An invoice is one distinct value of the split columns, and invoices are numbered in the order those
# values sort as text. ``group_keys`` is the definition of the key; ``key_codes`` numbers the keys in
# the same order from the items' column codes, without writing and sorting a text per item.


def _joined_key(first: Codes, joint: str, rest: list[Codes], present: np.ndarray) -> Codes | None:
    """Codes of the keys ``first + joint + rest[0] (+ "|" + rest[1])`` where ``present`` ('' elsewhere),
    in the order the texts sort; None when a value of ``first`` holds ``joint`` (then the parts no
    longer say where the first one ends, and the texts are sorted instead).

    With no ``joint`` inside the first part, comparing two keys compares ``first + joint`` first, then
    the rest part by part (the ISO week ``2026-W41`` has one length); '' comes before every key."""
    values = first.values
    if any(joint in str(v) for v in values if isinstance(v, str)):
        return None
    ranked = pd.factorize(pd.Series([f"{v}{joint}" for v in values], dtype=object), sort=True)[0]
    code = combined(Codes(ranked.astype(np.int64)[first.codes], values), *rest).codes + 1
    return Codes(np.where(present, code, 0), np.arange(int(code.max(initial=0)) + 1))


def key_codes(items: pd.DataFrame, method: str, codes: ItemCodes) -> Codes:
    """Every item's key under ``method`` (``method_key``) as codes in the order the keys sort as text."""
    if method == "po_number":
        return codes.po
    if method in _KEY_COLUMNS:
        return codes.column(_KEY_COLUMNS[method])
    found = None
    parts = (
        ["project_id", "task_id"]
        if method == "project_activity"
        else ["resource_id", "contract_id", "item_date"]
    )
    if not any(codes.has_missing(part) for part in parts):  # a missing part makes the whole key ''
        if method == "project_activity":
            project, task = codes.column("project_id"), codes.column("task_id")
            found = _joined_key(project, "/", [task], codes.present("project_id"))
        else:
            resource, contract = codes.column("resource_id"), codes.column("contract_id")
            found = _joined_key(resource, "|", [codes.week, contract], codes.present("resource_id"))
    if found is None:  # the texts themselves, sorted
        keyed = items.assign(po_number=codes.po_number)
        return sorted_codes(method_key(keyed, method).fillna("").astype("str"))
    return found


def invoice_seqs(items: pd.DataFrame, method: Codes, codes: ItemCodes, split_by_contact: bool) -> np.ndarray:
    """Each item's invoice: the rank of its split values (``SPLIT``) among the month's, as text sorts
    (``method``: the items' methods as codes)."""
    key = np.zeros(len(items), dtype=np.int64)
    count = 1
    for at, name in enumerate(method.values.tolist()):
        found = key_codes(items, str(name), codes)
        mine = method.codes == at
        key[mine] = found.codes[mine]
        count = max(count, found.count)
    parts = [codes.party, method, Codes(key, np.arange(count))]
    return combined(*parts, *([codes.contact] if split_by_contact else [])).codes


def invoice_order(seq: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The items' rows in invoice order: by invoice, then by their place in the month's order (``rank``,
    date, source table and item id; distinct, so no two items tie)."""
    return np.argsort(seq * (int(rank.max()) + 1 if len(rank) else 1) + rank)


@dataclass(frozen=True, eq=False)
class InvoicedItems:
    """The invoiced items as ``consolidate`` finds them; ``frame`` puts them together.

    ``rows`` are the month's items on the invoices, in invoice order, and ``seq`` their invoices;
    ``methods``, ``po_number`` and ``unit_price_text`` hold a value per item of the month,
    ``group_key`` and ``invoice_number`` one per invoice.
    """

    month: pd.DataFrame
    rows: np.ndarray
    seq: np.ndarray
    methods: pd.Series
    po_number: pd.Series
    unit_price_text: pd.Series
    group_key: pd.Series
    invoice_number: np.ndarray

    def frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """The items ``start`` to ``stop`` in invoice order, indexed by their place in it: the month's
        columns (``po_number`` as one spelling per PO), then ``method``, ``group_key``, ``invoice_seq``,
        ``unit_price_text`` and ``invoice_number``."""
        rows, seq = self.rows[start:stop], self.seq[start:stop]
        out = self.month.take(rows).set_axis(pd.RangeIndex(start, start + len(rows)))
        return out.assign(
            method=self.methods.array.take(rows),
            po_number=self.po_number.array.take(rows),
            group_key=self.group_key.array.take(seq),
            invoice_seq=seq,
            unit_price_text=self.unit_price_text.array.take(rows),
            invoice_number=self.invoice_number[seq],
        )

    def renumbered(self, numbers: np.ndarray) -> InvoicedItems:
        return dataclasses.replace(self, invoice_number=numbers)


@dataclass(frozen=True, eq=False)
class LeftOut:
    """The charges and expenses a timesheet run leaves for a separate run, as ``consolidate`` finds
    them: which of the month's items, and their methods; ``frame`` puts them together."""

    month: pd.DataFrame
    rows: np.ndarray  # a mask over the month's items
    methods: pd.Series

    def frame(self) -> pd.DataFrame:
        return self.month[self.rows].assign(method=self.methods[self.rows], reason=TIMESHEET_EXCLUDED)


@dataclass(eq=False)  # frames do not compare with ==
class InvoiceSet:
    """The invoices of a run as frames: ``invoices`` (one row each, in invoice order) and ``items``
    (every invoiced item in invoice order, then by date, source table and item id, with its
    ``invoice_seq`` and ``invoice_number``).

    ``invoiced`` and ``left_out`` are the items, or (from ``consolidate``) what they are made of:
    ``items`` and ``excluded`` are put together on first use, since the workbook's preview of one
    invoice (``invoice_items``) needs no more than the invoice list; so are the ``issues`` of
    ``excluded``.
    """

    period: Period
    invoices: pd.DataFrame
    invoiced: pd.DataFrame | InvoicedItems
    left_out: pd.DataFrame | LeftOut  # the charges and expenses a timesheet run leaves for a separate run
    companies: pd.DataFrame
    entities: pd.DataFrame
    invoice_date: dt.date = field(default_factory=dt.date.today)

    def __repr__(self) -> str:
        return f"InvoiceSet({self.period.label}, {len(self.invoices)} invoices)"

    @cached_property
    def items(self) -> pd.DataFrame:
        """Every invoiced item in invoice order, then by date, source table and item id."""
        if isinstance(self.invoiced, InvoicedItems):
            return self.invoiced.frame()
        return self.invoiced

    @cached_property
    def excluded(self) -> pd.DataFrame:
        """The items ``left_out``, with their method and reason."""
        return self.left_out.frame() if isinstance(self.left_out, LeftOut) else self.left_out

    @cached_property
    def issues(self) -> list[Issue]:
        """One issue for each item of ``excluded``."""
        return _labour_only_issues(self.excluded)

    def invoice_items(self, invoice_number: str) -> pd.DataFrame:
        """The rows of ``items`` of one invoice (with their index in ``items``)."""
        if not isinstance(self.invoiced, InvoicedItems) or "items" in self.__dict__:
            return self.items[self.items["invoice_number"] == invoice_number]
        at = np.flatnonzero(self.invoices["invoice_number"].to_numpy(object) == invoice_number)
        if not len(at):
            return self.invoiced.frame(0, 0)
        counts = self.invoices["item_count"].to_numpy(np.int64)
        start = int(counts[: at[0]].sum())
        return self.invoiced.frame(start, start + int(counts[at[0]]))

    def record(self, invoice_number: str) -> Invoice:
        """The paper-like invoice with its lines and source items."""
        heads = self.invoices[self.invoices["invoice_number"] == invoice_number]
        if heads.empty:
            raise KeyError(invoice_number)
        return build_records(heads, self.invoice_items(invoice_number), self)[0]

    def records(self) -> list[Invoice]:
        """Every invoice, in the set's order."""
        return build_records(self.invoices, self.items, self)


def _tax_rates(companies: pd.DataFrame) -> dict[str, Decimal]:
    if companies.empty or "tax_rate" not in companies:
        return {}
    ref = companies.dropna(subset=["tax_rate"]).drop_duplicates("customer_id")
    return {
        str(c): Decimal(r) for c, r in zip(ref["customer_id"], ref["tax_rate"], strict=True) if r is not None
    }


def _tax_minor(net_minor: pd.Series, rates: pd.Series) -> np.ndarray:
    """``net x rate / 100`` rounded half up (away from zero) once per invoice, in exact integer arithmetic
    (Python integers: no overflow whatever the amounts)."""
    codes, distinct = pd.factorize(rates)
    ratios = [rate.as_integer_ratio() for rate in distinct]
    nums = [num for num, _ in ratios]
    dens = [100 * den for _, den in ratios]
    net = net_minor.to_numpy(np.int64)
    biggest = int(np.abs(net).max(initial=0)) * 2 * max(map(abs, nums), default=1)
    kind = np.int64 if biggest + 2 * max(dens, default=1) < 2**62 else object  # int64 when it cannot wrap
    exact = net.astype(kind) * np.array(nums, dtype=kind)[codes]
    den = np.array(dens, dtype=kind)[codes]
    tax = (2 * np.abs(exact) + den) // (2 * den)
    return np.where(exact < 0, -tax, tax).astype(np.int64)


def _labour_only_issues(excluded: pd.DataFrame) -> list[Issue]:
    """An issue for each charge or expense a timesheet run leaves for a separate run."""
    if excluded.empty:
        return []
    sheets = excluded["_sheet"].where(excluded["_sheet"].map(lambda v: isinstance(v, str)), "").astype("str")
    files = excluded["_file"].astype("str")
    places = {pair: where(*pair, None) for pair in set(zip(files, sheets, strict=True))}  # each named once
    rows = excluded["_row"].astype(np.int64).tolist()
    why = "a charge or expense under the timesheet method is left for a separate run"
    return [
        Issue(str(table), str(item_id), TIMESHEET_EXCLUDED, "held", f"{places[(f, sh)]}, row {row}: {why}", f, sh, row)
        for table, item_id, f, sh, row in zip(
            excluded["source_table"].tolist(), excluded["item_id"].tolist(), files.tolist(), sheets.tolist(), rows,
            strict=True,
        )
    ]  # fmt: skip


def po_header(seq: np.ndarray, po: np.ndarray, pos: np.ndarray, count: int) -> np.ndarray:
    """Each invoice's distinct PO numbers, sorted and joined by '; ' ('' when it has none); ``po`` are
    the items' codes into ``pos``, the spellings as text sorts."""
    per_invoice = max(len(pos), 1)
    pairs = np.sort(
        pd.unique(seq * per_invoice + po)
    )  # each invoice's distinct POs, in invoice then PO order
    invoice, code = pairs // per_invoice, pairs % per_invoice
    named = pos[code] != ""
    invoice, code = invoice[named], code[named]
    header = np.full(count, "", dtype=object)
    pos_of = np.bincount(invoice, minlength=count)
    one = pos_of[invoice] == 1
    header[invoice[one]] = pos[code[one]]
    several = np.flatnonzero(pos_of > 1)  # invoices of several POs: their pairs are runs in ``invoice``
    starts, ends = np.searchsorted(invoice, several), np.searchsorted(invoice, several, side="right")
    for at, start, end in zip(several.tolist(), starts.tolist(), ends.tolist(), strict=True):
        header[at] = "; ".join(pos[code[start:end]])
    return header


def invoice_heads(
    month: pd.DataFrame,
    methods: pd.Series,
    rows: np.ndarray,
    seq: np.ndarray,
    codes: ItemCodes,
    split: list[str],
    rates: dict[str, Decimal],
) -> pd.DataFrame:
    """One row per invoice, in invoice order: its split values and first item's name and contact, item
    and line counts, net, tax and total in minor units, tax rate and PO header. ``rows`` are the
    invoiced items of ``month`` in invoice order, ``seq`` their invoices."""
    count = int(seq[-1]) + 1 if len(seq) else 0
    item_count = np.bincount(seq, minlength=count).astype(np.int64)
    first = rows[np.cumsum(item_count) - item_count]  # each invoice's first item
    parts = {part for name in pd.unique(methods.array.take(first)) for part in _KEY_PARTS[str(name)]}
    needed = [c for c in month.columns if c in {*split, "customer_name", "billing_contact", *parts}]
    firsts = (
        month[needed]
        .take(first)
        .assign(method=methods.array.take(first), po_number=codes.po_number.array.take(first))
    )
    firsts["group_key"] = group_keys(firsts, firsts["method"])
    heads = firsts[list(dict.fromkeys([*split, "customer_name", "billing_contact"]))].reset_index(drop=True)
    heads["item_count"] = item_count
    amounts = month["amount_minor"].to_numpy(np.int64)[rows]
    heads["net_minor"] = (
        np.add.reduceat(amounts, np.cumsum(item_count) - item_count) if count else amounts[:0]
    )
    heads["po_number"] = po_header(seq, codes.po.codes[rows], codes.po.values, count)
    per_invoice = codes.line.count
    lines = pd.unique(seq * per_invoice + codes.line.codes[rows])  # each invoice's distinct lines
    heads["line_count"] = np.bincount(lines // per_invoice, minlength=count).astype(np.int64)
    customer, customers = pd.factorize(heads["customer_id"])
    rate_of = np.array([rates.get(str(c), Decimal(0)) for c in customers] + [Decimal(0)], dtype=object)
    tax_rate = pd.Series(rate_of[customer], dtype=object)
    heads["tax_minor"] = _tax_minor(heads["net_minor"], tax_rate)
    heads["total_minor"] = heads["net_minor"] + heads["tax_minor"]
    heads["tax_rate"] = tax_rate
    return heads


def consolidate(
    prep: Prepared,
    method: str = "po_number",
    *,
    billing_groups: pd.DataFrame | None = None,
    billing_entities: pd.DataFrame | None = None,
    force: bool = False,
    split_by_contact: bool = False,
    number_format: str = DRAFT_FORMAT,
    invoice_date: dt.date | None = None,
) -> InvoiceSet:
    """Group the prepared items into invoices with draft numbers (the register renumbers final runs).

    ``billing_groups`` and ``billing_entities`` are the month's reference tables (None: it has none):
    they may set a method, and the entity's details go on the paper invoice.
    """
    entities = pd.DataFrame() if billing_entities is None else billing_entities
    month, codes = prep.items, prep.codes
    methods = resolve_methods(prep, method, force, billing_groups=billing_groups, billing_entities=entities)
    method_codes = (
        Codes(np.zeros(len(month), dtype=np.int64), np.array([methods.iloc[0]], dtype=object))
        if force and len(month)
        else sorted_codes(methods)
    )  # forced: every item the one method
    labour_only = np.zeros(len(month), dtype=bool)
    if "timesheet" in method_codes.values:  # charges and expenses wait for a separate run
        timesheet = method_codes.codes == list(method_codes.values).index("timesheet")
        kind = codes.column("kind")
        labour = list(kind.values).index("labour") if "labour" in kind.values else -1
        labour_only = timesheet & (kind.codes != labour)
    split = [*SPLIT, "billing_contact"] if split_by_contact else SPLIT
    seq = invoice_seqs(month, method_codes, codes, split_by_contact)
    invoiced = np.flatnonzero(~labour_only)
    seq = _compact_seq(seq[invoiced])  # invoices of left-out items only are no invoices
    at = invoice_order(seq, codes.rank[invoiced])
    rows, seq = invoiced[at], seq[at]
    invoices = invoice_heads(month, methods, rows, seq, codes, split, _tax_rates(prep.companies))
    numbers = np.array(format_numbers(number_format, prep.period, len(invoices)), dtype=object)
    invoices["invoice_number"] = numbers
    return InvoiceSet(
        prep.period,
        invoices,
        InvoicedItems(
            month, rows, seq, methods, codes.po_number, codes.price_text, invoices["group_key"], numbers
        ),
        LeftOut(month, labour_only, methods),
        prep.companies,
        entities,
        invoice_date or dt.date.today(),
    )


def _compact_seq(seq: np.ndarray) -> np.ndarray:
    """Invoice numbers 0, 1, 2, ... in the same order (some numbers may have no item left)."""
    if not len(seq):
        return seq
    present = np.zeros(int(seq.max()) + 1, dtype=np.int64)
    present[seq] = 1
    return (np.cumsum(present) - 1)[seq]


def format_number(fmt: str, period: Period, seq: int) -> str:
    return fmt.format(yyyy=f"{period.year:04d}", mm=f"{period.month:02d}", seq=seq, period=period.label)


def _seq_template(fmt: str, period: Period) -> str | None:
    """``fmt`` with every field but ``seq`` filled in and ``seq`` as ``{0...}`` (None when a format
    spec itself holds a field)."""
    fields = {"yyyy": f"{period.year:04d}", "mm": f"{period.month:02d}", "period": period.label}
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(fmt):
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        if "{" in (spec or ""):
            return None
        field_text = (
            "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        )
        if name == "seq" or name.startswith(("seq.", "seq[")):
            parts.append("{0" + field_text[4:])
        else:
            parts.append(field_text.format(**fields).replace("{", "{{").replace("}", "}}"))
    return "".join(parts)


def format_numbers(fmt: str, period: Period, count: int) -> list[str]:
    """``format_number`` for seq 1..count, formatting the fixed parts once."""
    template = _seq_template(fmt, period)
    if template is None:
        return [format_number(fmt, period, i) for i in range(1, count + 1)]
    padded = re.fullmatch(r"([^{}%]*)\{0:0(\d+)d\}([^{}%]*)", template)  # ``INV-202610-{0:04d}``
    if padded:  # the usual format, as printf-style formatting writes it twice as fast
        head, width, tail = padded.groups()
        printf = f"{head}%0{width}d{tail}"
        return [printf % i for i in range(1, count + 1)]
    return list(map(template.format, range(1, count + 1)))


def renumber(invoice_set: InvoiceSet, numbers: list[str]) -> InvoiceSet:
    """The same invoices under other numbers (the register's final ones), in the same order."""
    invoices = invoice_set.invoices.assign(invoice_number=numbers)
    invoiced = invoice_set.invoiced
    if isinstance(invoiced, InvoicedItems):
        renumbered: pd.DataFrame | InvoicedItems = invoiced.renumbered(np.array(numbers, dtype=object))
    else:
        mapping = dict(zip(invoice_set.invoices["invoice_number"], numbers, strict=True))
        renumbered = invoiced.assign(invoice_number=invoiced["invoice_number"].map(mapping))
    return InvoiceSet(
        invoice_set.period,
        invoices,
        renumbered,
        invoice_set.left_out,
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


def compare_methods(
    prep: Prepared,
    methods: list[str],
    *,
    force: bool = True,
    billing_groups: pd.DataFrame | None = None,
    billing_entities: pd.DataFrame | None = None,
) -> Comparison:
    """The same month consolidated by several methods, side by side.

    ``force``: each method for every customer; False: each as the run's default, so customers (and
    billing groups, entities) with a method of their own keep it, as a run with that default would.
    """
    sets = {
        m: consolidate(prep, m, force=force, billing_groups=billing_groups, billing_entities=billing_entities)
        for m in (normalise_method(x) for x in methods)
    }
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
