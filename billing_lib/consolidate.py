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
from .money import from_minor, minor_digits, to_minor
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
        raise UsageError(f"{where_from}: unknown consolidation method {name!r}; use one of {', '.join(METHODS)} (or job)")
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
        method = method.where(method != "", keys.map(valid).fillna(""))

    fill(items["billing_group"], inputs.table("billing_groups"), "billing_group", "billing group")
    fill(items["customer_id"], prep.companies, "customer_id", "customer")
    fill(items["billing_entity"], inputs.table("billing_entities"), "billing_entity", "billing entity")
    return method.where(method != "", default)


def _iso_week(dates: pd.Series) -> pd.Series:
    iso = dates.dt.isocalendar()
    return iso["year"].astype("str") + "-W" + iso["week"].astype("str").str.zfill(2)


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
            value = (sub["resource_id"] + "|" + week[mask] + "|" + sub["contract_id"]).where(sub["resource_id"] != "", "")
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
        head = self.invoices.loc[self.invoices["invoice_number"] == invoice_number].iloc[0]
        rows = self.items[self.items["invoice_number"] == invoice_number]
        return build_record(head, rows, self)

    def records(self) -> list[Invoice]:
        grouped = dict(tuple(self.items.groupby("invoice_number", sort=False)))
        return [build_record(head, grouped[head["invoice_number"]], self) for _, head in self.invoices.iterrows()]


def _tax_rates(prep: Prepared) -> dict[str, Decimal]:
    companies = prep.companies
    if companies.empty or "tax_rate" not in companies:
        return {}
    ref = companies.dropna(subset=["tax_rate"]).drop_duplicates("customer_id")
    return {str(c): Decimal(r) for c, r in zip(ref["customer_id"], ref["tax_rate"], strict=True) if r is not None}


def consolidate(
    prep: Prepared,
    method: str = "po_number",
    *,
    force: bool = False,
    split_by_contact: bool = False,
    number_format: str = DRAFT_FORMAT,
    invoice_date: dt.date | None = None,
) -> InvoiceSet:
    """Group the prepared items into invoices with draft numbers (the register renumbers final runs)."""
    items = prep.items.copy()
    methods = resolve_methods(prep, method, force)
    items["method"] = methods
    issues: list[Issue] = []
    labour_only = (methods == "timesheet") & (items["kind"] != "labour")
    excluded = items[labour_only].assign(reason=TIMESHEET_EXCLUDED)
    for _, row in excluded.iterrows():
        sheet = row["_sheet"] if isinstance(row["_sheet"], str) else ""
        issues.append(Issue(str(row["source_table"]), str(row["item_id"]), TIMESHEET_EXCLUDED, "held",
                            f"{where(str(row['_file']), sheet, int(row['_row']))}: a charge or expense under the "
                            "timesheet method is left for a separate run", str(row["_file"]), sheet, int(row["_row"])))
    items = items[~labour_only]
    items["group_key"] = group_keys(items, items["method"])
    split = ["customer_id", "currency", "billing_entity", "method", "group_key"]
    if split_by_contact:
        split.append("billing_contact")
    items = items.sort_values([*split, "item_date", "source_table", "item_id"], kind="stable").reset_index(drop=True)
    codes = items.groupby(split, sort=False, observed=True).ngroup().to_numpy()
    items["invoice_seq"] = codes
    net = np.bincount(codes, weights=None, minlength=codes.max() + 1 if len(codes) else 0)  # item counts
    heads = items.drop_duplicates("invoice_seq")[[*split, "customer_name", "billing_contact", "invoice_seq"]]
    heads = heads.set_index("invoice_seq").sort_index()
    heads["item_count"] = net
    heads["net_minor"] = items.groupby("invoice_seq")["amount_minor"].sum()
    heads["po_number"] = items.groupby("invoice_seq")["po_number"].agg(
        lambda s: "; ".join(sorted({p for p in s if p}))
    )
    line_keys = ["invoice_seq", "po_number", "kind", "billing_code_name", "unit_price_text"]
    items["unit_price_text"] = items["unit_price"].map(lambda p: "" if p is None else str(p))
    heads["line_count"] = items.drop_duplicates(line_keys).groupby("invoice_seq").size()
    rates = _tax_rates(prep)
    tax = []
    for cust, cur, net_minor in zip(heads["customer_id"], heads["currency"], heads["net_minor"], strict=True):
        rate = rates.get(cust, Decimal(0))
        tax.append(to_minor(from_minor(int(net_minor), cur) * rate / 100, cur))
    heads["tax_minor"] = np.array(tax, dtype=np.int64)
    heads["total_minor"] = heads["net_minor"] + heads["tax_minor"]
    heads["tax_rate"] = [rates.get(c, Decimal(0)) for c in heads["customer_id"]]
    numbers = [format_number(number_format, prep.period, i + 1) for i in range(len(heads))]
    heads["invoice_number"] = numbers
    items["invoice_number"] = np.asarray(numbers, dtype=object)[codes] if len(codes) else []
    invoices = heads.reset_index(drop=True)
    return InvoiceSet(prep.period, invoices, items, excluded, issues, prep.companies,
                      prep.inputs.table("billing_entities"), invoice_date or dt.date.today())


def format_number(fmt: str, period: Period, seq: int) -> str:
    return fmt.format(yyyy=f"{period.year:04d}", mm=f"{period.month:02d}", seq=seq, period=period.label)


def renumber(invoice_set: InvoiceSet, numbers: list[str]) -> InvoiceSet:
    """The same invoices under other numbers (the register's final ones), in the same order."""
    mapping = dict(zip(invoice_set.invoices["invoice_number"], numbers, strict=True))
    invoices = invoice_set.invoices.assign(invoice_number=numbers)
    items = invoice_set.items.assign(invoice_number=invoice_set.items["invoice_number"].map(mapping))
    return InvoiceSet(invoice_set.period, invoices, items, invoice_set.excluded, invoice_set.issues,
                      invoice_set.companies, invoice_set.entities, invoice_set.invoice_date)


# --- paper-like records --------------------------------------------------------------------------


def _party(table: pd.DataFrame, key_col: str, key: str, name_col: str) -> tuple[str, tuple[str, ...], str, str]:
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
    lines = tuple(x for x in (get("address"), " ".join(filter(None, (get("postal_code"), get("city")))),
                              get("country")) if x)
    return name, lines, get("tax_id"), get("payment_terms")


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def build_record(head: pd.Series, rows: pd.DataFrame, invoice_set: InvoiceSet) -> Invoice:
    currency = str(head["currency"])
    customer_name, customer_lines, _, customer_terms = _party(
        invoice_set.companies, "customer_id", str(head["customer_id"]), "customer_name")
    entity_key = str(head["billing_entity"])
    entity_name, entity_lines, entity_tax, entity_terms = _party(
        invoice_set.entities, "billing_entity", entity_key, "legal_name")
    lines = []
    keys = ["po_number", "kind", "billing_code_name", "unit_price_text"]
    for _, group in rows.groupby(keys, sort=False):
        first = group.iloc[0]
        label = first["billing_code_name"] or ("Labour" if first["kind"] == "labour" else "Charges")
        if len(group) == 1 and first["description"]:
            label = f"{label}: {first['description']}" if first["billing_code_name"] else str(first["description"])
        quantity = sum((_dec(q) for q in group["quantity"]), Decimal(0))
        lines.append(InvoiceLine(
            date=group["item_date"].max().date(), description=str(label), po_number=str(first["po_number"]),
            quantity=quantity, unit_price=None if first["unit_price"] is None else _dec(first["unit_price"]),
            amount=from_minor(int(group["amount_minor"].sum()), currency), item_count=len(group),
        ))
    items = tuple(
        SourceItem(str(r.source_table), str(r.item_id), r.item_date.date(), str(r.description), str(r.po_number),
                   _dec(r.quantity), None if r.unit_price is None else _dec(r.unit_price),
                   from_minor(int(r.amount_minor), currency), str(r.contract_id), str(r.project_id),
                   str(r.ticket_id), str(r.resource_name or r.resource_id), str(r.billing_code_name))
        for r in rows.itertuples(index=False)
    )
    po_numbers = tuple(p for p in str(head["po_number"]).split("; ") if p)
    return Invoice(
        invoice_number=str(head["invoice_number"]), invoice_date=invoice_set.invoice_date,
        period=invoice_set.period.label, customer_id=str(head["customer_id"]),
        customer=Party(customer_name if customer_name != head["customer_id"] else str(head["customer_name"]),
                       customer_lines),
        billing_entity=Party(entity_name or entity_key or "", entity_lines, entity_tax),
        billing_contact=str(head["billing_contact"] or ""), payment_terms=customer_terms or entity_terms or "30 days net",
        method=str(head["method"]), group_key=str(head["group_key"]), po_numbers=po_numbers, currency=currency,
        lines=tuple(lines), items=items, net=from_minor(int(head["net_minor"]), currency),
        tax_rate=_dec(head["tax_rate"]), tax=from_minor(int(head["tax_minor"]), currency),
        total=from_minor(int(head["total_minor"]), currency),
    )


# --- comparing methods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    summary: pd.DataFrame  # method, invoices, items, net per currency
    per_customer: pd.DataFrame  # customer x method: invoice count and net
    moves: pd.DataFrame  # items whose invoice companions change between the first two methods


def compare_methods(prep: Prepared, methods: list[str], *, force: bool = True) -> Comparison:
    """The same month consolidated by several methods, side by side."""
    sets = {m: consolidate(prep, m, force=force) for m in (normalise_method(x) for x in methods)}
    summary = pd.DataFrame([
        {"method": m, "invoices": len(s.invoices), "items": int(s.invoices["item_count"].sum()),
         "credit_notes": int((s.invoices["total_minor"] < 0).sum()),
         "net": _money_text(s.invoices, "net_minor")}
        for m, s in sets.items()
    ])
    per_customer = pd.concat(
        {m: s.invoices.groupby(["customer_id", "customer_name"]).agg(invoices=("invoice_number", "size"),
                                                                       net_minor=("net_minor", "sum"))
         for m, s in sets.items()}, axis=1)
    names = list(sets)
    moves = pd.DataFrame()
    if len(names) >= 2:
        a, b = sets[names[0]].items, sets[names[1]].items
        ka = a.set_index(["source_table", "item_id"])["group_key"].rename(f"key_{names[0]}")
        kb = b.set_index(["source_table", "item_id"])["group_key"].rename(f"key_{names[1]}")
        joined = pd.concat([ka, kb], axis=1).dropna()
        inv_a = a.set_index(["source_table", "item_id"])["invoice_number"]
        inv_b = b.set_index(["source_table", "item_id"])["invoice_number"]
        # an item "moves" when the set of items it shares an invoice with changes
        sig_a = inv_a.map(a.groupby("invoice_number")["item_id"].agg(lambda s: hash(tuple(sorted(s)))))
        sig_b = inv_b.map(b.groupby("invoice_number")["item_id"].agg(lambda s: hash(tuple(sorted(s)))))
        changed = (sig_a.reindex(joined.index) != sig_b.reindex(joined.index))
        moves = joined[changed].assign(
            **{f"invoice_{names[0]}": inv_a.reindex(joined.index)[changed],
               f"invoice_{names[1]}": inv_b.reindex(joined.index)[changed]}
        ).reset_index()
    return Comparison(summary, per_customer, moves)


def _money_text(invoices: pd.DataFrame, column: str) -> str:
    parts = []
    for cur, total in invoices.groupby("currency")[column].sum().items():
        amount = from_minor(int(total), str(cur))
        parts.append(f"{amount:,.{minor_digits(str(cur))}f} {cur}")
    return "; ".join(parts)
