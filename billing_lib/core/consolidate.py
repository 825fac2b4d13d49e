"""SPEC section 3: which items share an invoice, and the invoices they make.

Every invoice is for one customer, one currency and one billing entity; within that the
consolidation method (resolved billing group -> customer -> entity -> run default, or forced) picks
the key (``group_keys``, the one definition of it). An invoice is one distinct value of the split
columns (``SPLIT``): the items are sorted by them, then by date, source table and item id, and each
run of equal split values is one invoice. ``InvoiceSet.record`` turns one into the paper-like
``records.Invoice``; money stays integer minor units until then.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

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
SPLIT = ["customer_id", "currency", "billing_entity", "method", "group_key"]  # one invoice per distinct value
ITEM_ORDER = ["item_date", "source_table", "item_id"]  # the items' order on an invoice
LINE = ["po_number", "kind", "billing_code_name", "unit_price_text"]  # an invoice's items on one line


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
    """``2026-W41`` for each date, worked out once per distinct date."""
    codes, uniques = pd.factorize(dates)
    labels = np.array(["{}-W{:02d}".format(*d.isocalendar()[:2]) for d in uniques] + [""], dtype=object)
    return pd.Series(labels[codes], index=dates.index, dtype="str")


def method_key(items: pd.DataFrame, method: str) -> pd.Series:
    """Every item's consolidation key were ``method`` its method ('' = the customer's catch-all invoice)."""
    if method in _KEY_COLUMNS:
        return items[_KEY_COLUMNS[method]]
    if method == "project_activity":
        return (items["project_id"] + "/" + items["task_id"]).where(items["project_id"] != "", "")
    # timesheet, timesheet_and_expense: one invoice per resource, ISO week and contract
    key = items["resource_id"] + "|" + _iso_week(items["item_date"]) + "|" + items["contract_id"]
    return key.where(items["resource_id"] != "", "")


def group_keys(items: pd.DataFrame, methods: pd.Series) -> pd.Series:
    """Each item's consolidation key under its own method ('' = the customer's catch-all invoice)."""
    keys = pd.Series("", index=items.index, dtype="str")
    for method in pd.unique(methods):
        keys = keys.mask(methods == method, method_key(items, str(method)))
    return keys.fillna("").astype("str")


@dataclass(eq=False)  # frames do not compare with ==
class InvoiceSet:
    """The invoices of a run as frames: ``invoices`` (one row each, in invoice order) and ``items``
    (every invoiced item in invoice order, then by date, source table and item id, with its
    ``invoice_seq`` and ``invoice_number``)."""

    period: Period
    invoices: pd.DataFrame
    items: pd.DataFrame
    excluded: pd.DataFrame  # the charges and expenses a timesheet run leaves for a separate run
    issues: list[Issue]  # one for each of them
    companies: pd.DataFrame
    entities: pd.DataFrame
    invoice_date: dt.date = field(default_factory=dt.date.today)

    def __repr__(self) -> str:
        return f"InvoiceSet({self.period.label}, {len(self.invoices)} invoices)"

    def invoice_items(self, invoice_number: str) -> pd.DataFrame:
        """The rows of ``items`` of one invoice."""
        return self.items[self.items["invoice_number"] == invoice_number]

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


def _tax_rates(companies: pd.DataFrame) -> dict[str, Decimal]:
    if companies.empty or "tax_rate" not in companies:
        return {}
    ref = companies.dropna(subset=["tax_rate"]).drop_duplicates("customer_id")
    return {
        str(c): Decimal(r) for c, r in zip(ref["customer_id"], ref["tax_rate"], strict=True) if r is not None
    }


def _price_text(price: object) -> str:
    """A unit price as written (``95`` and ``95.00`` are two lines' prices); '' for none."""
    if price.__class__ is Decimal:
        return str(price)
    return "" if price is None or price != price else str(price)


def _tax_minor(net_minor: pd.Series, rates: pd.Series) -> np.ndarray:
    """``net x rate / 100`` rounded half up (away from zero) once per invoice, in exact integer arithmetic
    (Python integers: no overflow whatever the amounts)."""
    codes, distinct = pd.factorize(rates)
    ratios = [rate.as_integer_ratio() for rate in distinct]
    exact = net_minor.to_numpy(object) * np.array([num for num, _ in ratios], dtype=object)[codes]
    den = np.array([100 * den for _, den in ratios], dtype=object)[codes]
    tax = (2 * np.abs(exact) + den) // (2 * den)
    return np.where(exact < 0, -tax, tax).astype(np.int64)


def _labour_only_issues(excluded: pd.DataFrame) -> list[Issue]:
    """An issue for each charge or expense a timesheet run leaves for a separate run."""
    issues = []
    files: dict[tuple[str, str], str] = {}  # the place's file and sheet, named once each
    columns = (excluded[c].to_numpy(object) for c in ("source_table", "item_id", "_file", "_sheet", "_row"))
    for table, item_id, file, sheet, row in zip(*columns, strict=True):
        sheet = sheet if isinstance(sheet, str) else ""
        in_file = files.get((file, sheet)) or files.setdefault((file, sheet), where(str(file), sheet, None))
        place = f"{in_file}, row {row}"  # as ``where`` names a row
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


def keyed_items(items: pd.DataFrame, methods: pd.Series) -> pd.DataFrame:
    """The items with their ``method``, one PO spelling per PO, ``group_key`` and ``unit_price_text``."""
    items = items.assign(method=methods, po_number=_one_spelling_per_po(items))
    prices = items["unit_price"].map(_price_text).astype("str")
    return items.assign(group_key=group_keys(items, items["method"]), unit_price_text=prices)


def in_invoice_order(items: pd.DataFrame, split: list[str]) -> pd.DataFrame:
    """The items numbered by invoice (``invoice_seq``: their split values' rank, as text sorts) and
    sorted by it, then by date, source table and item id (ties keep the month's order)."""
    seq = items.groupby(split, sort=True, dropna=False).ngroup()
    items = items.copy(deep=False)
    items.insert(list(items.columns).index("unit_price_text"), "invoice_seq", seq.to_numpy(np.int64))
    return items.sort_values(["invoice_seq", *ITEM_ORDER], kind="stable", ignore_index=True)


def _first_rows(seq: np.ndarray) -> np.ndarray:
    """Where each invoice starts in items sorted by ``invoice_seq``."""
    return np.flatnonzero(np.r_[True, seq[1:] != seq[:-1]]) if len(seq) else np.zeros(0, dtype=np.intp)


def po_header(items: pd.DataFrame, count: int) -> np.ndarray:
    """Each invoice's distinct PO numbers, sorted and joined by '; ' ('' when it has none)."""
    pairs = items.loc[items["po_number"] != "", ["invoice_seq", "po_number"]].drop_duplicates()
    pairs = pairs.sort_values(["invoice_seq", "po_number"])
    header = np.full(count, "", dtype=object)
    shared = pairs["invoice_seq"].duplicated(keep=False).to_numpy()
    header[pairs["invoice_seq"].to_numpy()[~shared]] = pairs["po_number"].to_numpy(object)[~shared]
    joined = pairs[shared].groupby("invoice_seq")["po_number"].agg("; ".join)
    header[joined.index.to_numpy()] = joined.to_numpy(object)
    return header


def invoice_heads(items: pd.DataFrame, split: list[str], rates: dict[str, Decimal]) -> pd.DataFrame:
    """One row per invoice of ``items`` in invoice order: its split values and first item's name and
    contact, item and line counts, net, tax and total in minor units, tax rate and PO header."""
    seq = items["invoice_seq"].to_numpy()
    first = _first_rows(seq)
    heads = items[list(dict.fromkeys([*split, "customer_name", "billing_contact"]))].take(first)
    heads = heads.reset_index(drop=True)
    heads["item_count"] = np.diff(np.r_[first, len(seq)]).astype(np.int64)
    amounts = items["amount_minor"].to_numpy(np.int64)
    heads["net_minor"] = np.add.reduceat(amounts, first) if len(first) else np.zeros(0, dtype=np.int64)
    heads["po_number"] = po_header(items, len(heads))
    heads["line_count"] = (
        items[["invoice_seq", *LINE]].drop_duplicates().groupby("invoice_seq").size().to_numpy()
    )
    zero = Decimal(0)
    tax_rate = pd.Series([rates.get(c, zero) for c in heads["customer_id"].to_numpy(object)], dtype=object)
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
    methods = resolve_methods(prep, method, force, billing_groups=billing_groups, billing_entities=entities)
    labour_only = (methods == "timesheet") & (prep.items["kind"] != "labour")
    excluded = prep.items[labour_only].assign(method=methods[labour_only], reason=TIMESHEET_EXCLUDED)
    split = [*SPLIT, "billing_contact"] if split_by_contact else SPLIT
    items = in_invoice_order(keyed_items(prep.items[~labour_only], methods[~labour_only]), split)
    invoices = invoice_heads(items, split, _tax_rates(prep.companies))
    numbers = np.array(format_numbers(number_format, prep.period, len(invoices)), dtype=object)
    invoices["invoice_number"] = numbers
    items["invoice_number"] = numbers[items["invoice_seq"].to_numpy()]
    return InvoiceSet(
        prep.period,
        invoices,
        items,
        excluded,
        _labour_only_issues(excluded),
        prep.companies,
        entities,
        invoice_date or dt.date.today(),
    )


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
    return list(map(template.format, range(1, count + 1)))


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
