"""SPEC section 3: which items share an invoice, and the invoices they make.

Every invoice is for one customer, one currency and one billing entity; within that the
consolidation method (resolved billing group -> customer -> entity -> run default, or forced) picks
the key. Invoices are computed as frames (vectorised, for 200,000-item months); ``InvoiceSet.record``
turns one into the paper-like ``models.Invoice``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from .errors import UsageError
from .models import TIMESHEET_EXCLUDED, Invoice, InvoiceLine, Issue, Party, SourceItem, where
from .money import from_minor, minor_digits
from .period import Period
from .rules import Prepared

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
            if m.strip():
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
    """Each item's consolidation key under its method ('' = the customer's catch-all invoice)."""
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


@dataclass
class InvoiceSet:
    """The invoices of a run as frames: ``invoices`` (one row each) and ``items`` (with ``invoice_number``)."""

    period: Period
    invoices: pd.DataFrame
    items: pd.DataFrame
    excluded: pd.DataFrame  # items a timesheet-only run leaves for a separate run
    issues: list[Issue]
    companies: pd.DataFrame
    entities: pd.DataFrame
    invoice_date: dt.date

    def record(self, invoice_number: str) -> Invoice:
        """The paper-like invoice with its lines and source items."""
        heads = self.invoices[self.invoices["invoice_number"] == invoice_number]
        if heads.empty:
            raise KeyError(invoice_number)
        return build_records(heads, self.items[self.items["invoice_number"] == invoice_number], self)[0]

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


def _codes(values: pd.Series) -> np.ndarray:
    """Dense integer codes that sort as the values do (text by code point, like ``sort_values``).

    Text is factorised unsorted (a hash pass) and only the distinct values are sorted, as numpy text:
    several times faster than sorting 200,000 item ids as Python strings.
    """
    if values.dtype.kind == "M":
        return pd.factorize(values, sort=True, use_na_sentinel=False)[0].astype(np.int64)
    codes, uniques = pd.factorize(values.to_numpy(object), use_na_sentinel=False)
    ranks = np.empty(len(uniques), dtype=np.int64)
    ranks[np.argsort(np.asarray(uniques, dtype=str), kind="stable")] = np.arange(len(uniques))
    return ranks[codes]


def _price_texts(prices: pd.Series) -> pd.Series:
    """Unit prices as written (``95.00`` stays ``95.00``; two prices differing only so are two lines)."""
    texts = [
        str(p) if p.__class__ is Decimal else ("" if p is None or p != p else str(p))
        for p in prices.to_numpy(object)
    ]
    return pd.Series(texts, index=prices.index, dtype="str")


def _combine(*codes: np.ndarray) -> np.ndarray:
    """One dense code per distinct tuple of codes, in the tuples' sort order."""
    key = codes[0]
    for more in codes[1:]:
        key = np.unique(key * (int(more.max(initial=0)) + 1) + more, return_inverse=True)[1].astype(np.int64)
    return key


def _tax_minor(net_minor: np.ndarray, customer: pd.Series, rates: dict[str, Decimal]) -> np.ndarray:
    """``net x rate / 100`` rounded half up (away from zero) once, in exact integer arithmetic."""
    codes, uniques = pd.factorize(customer.to_numpy(object))
    ratios = [rates.get(c, Decimal(0)).as_integer_ratio() for c in uniques]
    num = np.array([n for n, _ in ratios] + [0], dtype=object)[codes]
    den = np.array([100 * d for _, d in ratios] + [100], dtype=object)[codes]
    exact = net_minor.astype(object) * num  # Python ints: no overflow whatever the amounts
    tax = (2 * np.abs(exact) + den) // (2 * den)
    return np.where(exact < 0, -tax, tax).astype(np.int64)


def _labour_only_issues(excluded: pd.DataFrame) -> list[Issue]:
    issues = []
    columns = (excluded[c] for c in ("source_table", "item_id", "_file", "_sheet", "_row"))
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


def _po_header(invoice: np.ndarray, po_number: pd.Series, po_codes: np.ndarray, count: int) -> np.ndarray:
    """Each invoice's distinct PO numbers, sorted and joined by '; ' ('' when it has none)."""
    header = np.full(count, "", dtype=object)
    texts_all = po_number.to_numpy(object)
    has = texts_all != ""
    if not has.any():
        return header
    width = int(po_codes.max()) + 1
    pairs, first = np.unique(invoice[has] * width + po_codes[has], return_index=True)  # by invoice, then PO
    inv, texts = pairs // width, texts_all[has][first]
    multi = np.bincount(inv, minlength=count)[inv] > 1
    header[inv[~multi]] = texts[~multi]
    if multi.any():
        joined = pd.Series(texts[multi]).groupby(inv[multi], sort=False).agg("; ".join)
        header[joined.index.to_numpy()] = joined.to_numpy()
    return header


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

    Vectorised: items are ordered by integer codes of the split keys (then date, table, id), an
    invoice is a run of equal split codes, and its sums are ``np.add.reduceat`` over the runs.
    """
    methods = resolve_methods(prep, method, force)
    items = prep.items.assign(method=methods)  # copy-on-write: no column is copied until written
    labour_only = ((methods == "timesheet") & (items["kind"] != "labour")).to_numpy()
    excluded = items[labour_only].assign(reason=TIMESHEET_EXCLUDED)
    issues = _labour_only_issues(excluded)
    if labour_only.any():
        items = items[~labour_only]
    items = items.assign(po_number=_one_spelling_per_po(items))
    items = items.assign(group_key=group_keys(items, items["method"]))
    split = ["customer_id", "currency", "billing_entity", "method", "group_key"]
    if split_by_contact:
        split.append("billing_contact")
    items = items.assign(unit_price_text=_price_texts(items["unit_price"]))
    # every code is computed before the rows are reordered, while equal texts still sit together in memory
    split_codes = [_codes(items[c]) for c in split]
    po_codes = _codes(items["po_number"])
    line = _combine(po_codes, *(_codes(items[c]) for c in ("kind", "billing_code_name", "unit_price_text")))
    tiebreak = [_codes(items[c]) for c in ("item_id", "source_table", "item_date")]
    order = np.lexsort(tiebreak + split_codes[::-1])  # lexsort's last key is the primary one
    po_codes, line = po_codes[order], line[order]
    items = items.take(order).reset_index(drop=True)
    n = len(items)
    by_split = np.column_stack([c[order] for c in split_codes]) if n else np.empty((0, len(split)), np.int64)
    new_invoice = np.r_[True, (by_split[1:] != by_split[:-1]).any(axis=1)] if n else np.zeros(0, bool)
    codes = np.cumsum(new_invoice) - 1
    starts = np.flatnonzero(new_invoice)
    items.insert(list(items.columns).index("unit_price_text"), "invoice_seq", codes)  # the usual order

    head_cols = list(dict.fromkeys([*split, "customer_name", "billing_contact"]))
    heads = items[head_cols].iloc[starts].reset_index(drop=True)
    heads["item_count"] = np.diff(np.r_[starts, n]).astype(np.int64)
    amounts = items["amount_minor"].to_numpy(np.int64)
    heads["net_minor"] = np.add.reduceat(amounts, starts) if n else np.zeros(0, np.int64)
    heads["po_number"] = _po_header(codes, items["po_number"], po_codes, len(starts))
    width = int(line.max(initial=0)) + 1
    lines = np.unique(codes * width + line) // width
    heads["line_count"] = np.bincount(lines, minlength=len(starts)).astype(np.int64)
    rates = _tax_rates(prep)
    heads["tax_minor"] = _tax_minor(heads["net_minor"].to_numpy(np.int64), heads["customer_id"], rates)
    heads["total_minor"] = heads["net_minor"] + heads["tax_minor"]
    zero = Decimal(0)
    heads["tax_rate"] = pd.Series(
        [rates.get(c, zero) for c in heads["customer_id"].to_numpy(object)], index=heads.index, dtype=object
    )
    numbers = np.array(format_numbers(number_format, prep.period, len(starts)), dtype=object)
    heads["invoice_number"] = numbers
    items["invoice_number"] = numbers[codes]
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
    numbers = [f"{prefix}{format(i, spec)}{suffix}" for i in range(1, count + 1)]
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
) -> tuple[str, tuple[str, ...], str, str]:
    if table.empty or key_col not in table:
        return key, (), "", ""
    match = table[table[key_col].astype("str") == key]
    if match.empty:
        return key, (), "", ""
    row = match.iloc[0]

    def get(col: str) -> str:
        value = row.get(col)
        return "" if value is None or (isinstance(value, float) and value != value) else str(value)

    name = get(name_col) or key
    lines = tuple(
        x
        for x in (get("address"), " ".join(filter(None, (get("postal_code"), get("city")))), get("country"))
        if x
    )
    return name, lines, get("tax_id"), get("payment_terms")


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _decimal_sum(values: pd.Series) -> Decimal:
    return sum(map(_dec, values), Decimal(0))


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    return [str(v) for v in frame[column].fillna("").to_numpy(object)]


def _line_records(items: pd.DataFrame, money: dict[tuple[int, str], Decimal]) -> dict[str, list[InvoiceLine]]:
    """The lines of every invoice at once: its items of one PO, kind, billing code and unit price together."""
    keys = ["invoice_number", "po_number", "kind", "billing_code_name", "unit_price_text"]
    grouped = items.groupby(keys, sort=False, dropna=False)
    agg = grouped.agg(
        date=("item_date", "max"),
        count=("item_id", "size"),
        minor=("amount_minor", "sum"),
        description=("description", "first"),
        unit_price=("unit_price", "first"),
        currency=("currency", "first"),
    ).reset_index()
    quantity = list(grouped["quantity"].agg(_decimal_sum))
    out: dict[str, list[InvoiceLine]] = {}
    for i, (number, po, kind, code, date, count, minor, text, price, currency) in enumerate(
        zip(agg["invoice_number"], agg["po_number"], agg["kind"], agg["billing_code_name"], agg["date"],
            agg["count"], agg["minor"], agg["description"], agg["unit_price"], agg["currency"], strict=True)
    ):  # fmt: skip
        label = str(code or ("Labour" if kind == "labour" else "Charges"))
        if count == 1 and text:
            label = f"{label}: {text}" if code else str(text)
        key = (int(minor), str(currency))
        amount = money[key] if key in money else money.setdefault(key, from_minor(*key))
        out.setdefault(str(number), []).append(
            InvoiceLine(date=date.date(), description=label, po_number=str(po), quantity=quantity[i],
                        unit_price=None if price is None else _dec(price), amount=amount, item_count=int(count))
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
    parties: dict[tuple[str, str], tuple[str, tuple[str, ...], str, str]] = {}

    def party(
        table: pd.DataFrame, key_col: str, key: str, name_col: str
    ) -> tuple[str, tuple[str, ...], str, str]:
        if (key_col, key) not in parties:
            parties[(key_col, key)] = _party(table, key_col, key, name_col)
        return parties[(key_col, key)]

    records = []
    for head in heads.to_dict("records"):
        number, currency = str(head["invoice_number"]), str(head["currency"])
        customer_name, customer_lines, _, customer_terms = party(
            invoice_set.companies, "customer_id", str(head["customer_id"]), "customer_name"
        )
        entity_key = str(head["billing_entity"])
        entity_name, entity_lines, entity_tax, entity_terms = party(
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
            )
        )
    return records


# --- comparing methods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    summary: pd.DataFrame  # method, invoices, items, net per currency
    per_customer: pd.DataFrame  # customer x method: invoice count and net
    moves: pd.DataFrame  # items whose invoice companions change between the first two methods


def compare_methods(prep: Prepared, methods: list[str], *, force: bool = True) -> Comparison:
    """The same month consolidated by several methods, side by side."""
    sets = {m: consolidate(prep, m, force=force) for m in (normalise_method(x) for x in methods)}
    summary = pd.DataFrame(
        [
            {
                "method": m,
                "invoices": len(s.invoices),
                "items": int(s.invoices["item_count"].sum()),
                "credit_notes": int((s.invoices["total_minor"] < 0).sum()),
                "net": _money_text(s.invoices, "net_minor"),
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
    return Comparison(summary, per_customer, moves)


def _money_text(invoices: pd.DataFrame, column: str) -> str:
    parts = []
    for cur, total in invoices.groupby("currency")[column].sum().items():
        amount = from_minor(int(total), str(cur))
        parts.append(f"{amount:,.{minor_digits(str(cur))}f} {cur}")
    return "; ".join(parts)
