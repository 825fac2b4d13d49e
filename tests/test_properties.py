"""Money invariants of consolidation over generated months (Hypothesis).

Each example is a small month written as CSV files and read by the real loader: billing items and
time entries of three customers (EUR, USD and JPY, which has no minor unit) with credits,
three-decimal amounts, PO numbers in several spellings, late, future, non-billable, duplicate and
unreadable rows, a PO reference table, and a consolidation method per customer or forced. The
generator keeps its own record of what every item should cost, so the checks below do not trust the
code under test for the expected numbers.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_lib.core.consolidate import InvoiceSet, consolidate
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import Prepared, prepare_items
from billing_lib.domain.period import Period
from billing_lib.io.inputs import load_inputs

PERIOD = Period.parse("2026-10")
PLACES = {"EUR": 2, "USD": 2, "JPY": 0}
CUSTOMERS = {"101": "EUR", "102": "USD", "103": "JPY"}
CONTRACTS = {
    "C1": ("101", "PO-1"),
    "C2": ("101", " po-1 "),
    "C3": ("102", "PO-2"),
    "C4": ("103", ""),
    "C5": ("102", ""),
}
PO_SPELLINGS = ["", "", "PO-1", "po-1", " Po-1", "PO-2", "PO-3", "po-3 ", "Po-3"]
DATES = ["2026-09-28", "2026-10-01", "2026-10-05", "2026-10-16", "2026-10-31", "2026-11-02"]
KEYED_METHODS = [
    "po_number",
    "contract",
    "customer",
    "project",
    "project_activity",
    "cost_centre",
    "workplace",
    "timesheet",
    "timesheet_and_expense",
]
CUSTOMER_METHODS = [""] * 10 + [*KEYED_METHODS, "buyer_reference"]  # mostly the run's default

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# each example of the row-order test reads and prepares two months: fewer examples keep the suite quick
ORDER_SETTINGS = settings(SETTINGS, max_examples=20)


def round_half_up(amount: Decimal, currency: str) -> int:
    """Minor units, rounded half up (away from zero), computed here independently of billing_lib."""
    return int((amount * 10 ** PLACES[currency]).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Month:
    companies: list[dict[str, str]]
    billing_items: list[dict[str, str]]
    time_entries: list[dict[str, str]]
    rates: dict[str, Decimal]
    expected_minor: dict[tuple[str, str], int] = field(default_factory=dict)  # first copy of each id
    expected_currency: dict[tuple[str, str], str] = field(default_factory=dict)
    method: str = "contract"
    force: bool = False
    split_by_contact: bool = False


def _csv(rows: list[dict[str, str]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


BI_COLUMNS = [
    "id",
    "itemDate",
    "companyID",
    "contractID",
    "resourceID",
    "timeEntryID",
    "extendedPrice",
    "purchaseOrderNumber",
    "currency",
    "isNonBillable",
    "billingContact",
    "costCentre",
    "projectID",
]
TE_COLUMNS = ["id", "dateWorked", "companyID", "contractID", "resourceID", "hoursToBill", "hourlyRate"]


def write_month(folder: Path, month: Month, billing_items=None, time_entries=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "Companies": _csv(
            month.companies, ["id", "companyName", "currency", "taxRate", "consolidationMethod"]
        ),
        "Contracts": _csv(
            [
                {"id": c, "companyID": cust, "purchaseOrderNumber": po, "site": f"Site {cust}"}
                for c, (cust, po) in CONTRACTS.items()
            ],
            ["id", "companyID", "purchaseOrderNumber", "site"],
        ),
        "Resources": "id,resourceName,costCentre\nR1,Ada,Ops\nR2,Alan,Dev\nR3,Grace,\n",
        "po_reference": "po_number,customer_id,authorised_amount,currency,valid_to\n"
        "PO-1,101,1000,EUR,\nPO-2,102,500,USD,2026-10-15\n",
        "BillingItems": _csv(billing_items if billing_items is not None else month.billing_items, BI_COLUMNS),
        "TimeEntries": _csv(time_entries if time_entries is not None else month.time_entries, TE_COLUMNS),
    }
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


@st.composite
def months(draw: st.DrawFn, duplicates: bool = True) -> Month:
    """A generated month; ``duplicates`` adds rows exported twice (same id, same content)."""
    rates = {
        c: draw(st.sampled_from([Decimal(0), Decimal("7.5"), Decimal(19), Decimal(20), Decimal("8.875")]))
        for c in CUSTOMERS
    }
    force = draw(st.booleans())
    companies = [
        {
            "id": c,
            "companyName": f"Customer {c}",
            "currency": cur,
            "taxRate": str(rates[c]),
            "consolidationMethod": "" if force else draw(st.sampled_from(CUSTOMER_METHODS)),
        }
        for c, cur in CUSTOMERS.items()
    ]
    method = draw(st.sampled_from([*KEYED_METHODS] + ["po_number"] * 5))  # the default, and the subtle one
    month = Month(companies, [], [], rates, method=method, force=force, split_by_contact=draw(st.booleans()))

    def customer_and_contract() -> tuple[str, str, str]:
        """(companyID cell, contractID cell, the customer they resolve to or '' for none)."""
        contract = draw(st.sampled_from(["", *CONTRACTS]))
        if contract:
            customer = CONTRACTS[contract][0]
            return draw(st.sampled_from(["", customer])), contract, customer
        customer = draw(st.sampled_from(["", *CUSTOMERS]))
        return customer, "", customer

    def expect(table: str, item_id: str, exact: Decimal, customer: str, currency: str) -> None:
        key = (table, item_id)
        if key in month.expected_minor or not customer:
            return
        cur = (currency or CUSTOMERS[customer]).upper()
        month.expected_minor[key] = round_half_up(exact, cur)
        month.expected_currency[key] = cur

    n_items = draw(st.integers(3, 16))
    for i in range(n_items):
        if duplicates and i and draw(st.integers(0, 7)) == 0:  # the same row exported twice
            month.billing_items.append(dict(month.billing_items[draw(st.integers(0, i - 1))]))
            continue
        company, contract, customer = customer_and_contract()
        item_id = f"B{i}"
        amount = Decimal(draw(st.integers(-30_000, 900_000))).scaleb(-3)
        currency = draw(st.sampled_from(["", "", "", "", "", "USD", "eur"]))
        date = draw(st.sampled_from([*DATES, *DATES, "31/02/2026"]))  # the last one is not a date
        month.billing_items.append(
            {
                "id": item_id,
                "itemDate": date,
                "companyID": company,
                "contractID": contract,
                "resourceID": draw(st.sampled_from(["", "R1", "R2", "R3"])),
                "timeEntryID": draw(st.sampled_from(["", "", "TE0", "TE1", f"TE9{i}"])),
                "extendedPrice": str(amount),
                "purchaseOrderNumber": draw(st.sampled_from(PO_SPELLINGS)),
                "currency": currency,
                "isNonBillable": draw(st.sampled_from(["", "", "", "", "yes", "no"])),
                "billingContact": draw(st.sampled_from(["", "", "Ann", "Bob"])),
                "costCentre": draw(st.sampled_from(["", "", "", "Field"])),
                "projectID": draw(st.sampled_from(["", "", "P1", "P2"])),
            }
        )
        expect("billing_items", item_id, amount, customer, currency)
    for i in range(draw(st.integers(0, 8))):
        company, contract, customer = customer_and_contract()
        hours = Decimal(draw(st.integers(0, 40))) / 4
        rate = Decimal(draw(st.integers(1, 20_000))).scaleb(-2)
        month.time_entries.append(
            {
                "id": f"TE{i}",
                "dateWorked": draw(st.sampled_from(DATES)),
                "companyID": company,
                "contractID": contract,
                "resourceID": draw(st.sampled_from(["R1", "R2", "R3"])),
                "hoursToBill": str(hours),
                "hourlyRate": str(rate),
            }
        )
        expect("time_entries", f"TE{i}", hours * rate, customer, "")
    return month


def run(folder: Path, month: Month) -> tuple[Prepared, InvoiceSet]:
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, PERIOD)
    prep, _ = check_pos(prep, reference_table(inputs.table("po_budgets")))
    tables = {
        "billing_groups": inputs.table("billing_groups"),
        "billing_entities": inputs.table("billing_entities"),
    }
    return prep, consolidate(
        prep, month.method, force=month.force, split_by_contact=month.split_by_contact, **tables
    )


def _keys(frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    return list(zip(frame["source_table"], frame["item_id"], frame["_row"].astype(int), strict=True))


@SETTINGS
@given(month=months())
def test_money_invariants_of_a_generated_month(month: Month) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        prep, s = run(write_month(Path(tmp), month), month)
    held = pd.concat([prep.held, s.excluded], ignore_index=True)

    # every billable row read is invoiced once or held with a reason, unless skipped (and counted)
    invoiced, kept_off = _keys(s.items), _keys(held)
    assert len(set(invoiced)) == len(invoiced)
    assert not set(invoiced) & set(kept_off)
    assert len(invoiced) + len(kept_off) == prep.read - sum(prep.skipped.values())
    assert (held["reason"].astype("str") != "").all()
    assert prep.read == len(month.billing_items) + len(month.time_entries)

    # each invoiced item costs what it should, rounded half up once in its currency
    items = s.items
    for table, item_id, minor, cur in zip(
        items["source_table"], items["item_id"], items["amount_minor"], items["currency"], strict=True
    ):
        assert (int(minor), cur) == (
            month.expected_minor[(table, item_id)],
            month.expected_currency[(table, item_id)],
        ), (table, item_id)

    # invoice nets add up to their items per currency, to the cent
    nets: Counter[str] = Counter()
    for cur, net in zip(s.invoices["currency"], s.invoices["net_minor"], strict=True):
        nets[cur] += int(net)
    lines: Counter[str] = Counter()
    for key, cur in zip(items["source_table"], items["item_id"], strict=True):
        lines[month.expected_currency[(key, cur)]] += month.expected_minor[(key, cur)]
    assert dict(nets) == dict(lines)
    assert sum(s.invoices["item_count"]) == len(items)

    # one customer and one currency per invoice; tax on the net, rounded once; total = net + tax
    by_invoice = items.groupby("invoice_number")
    assert (by_invoice["customer_id"].nunique() == 1).all()
    assert (by_invoice["currency"].nunique() == 1).all()
    per_invoice: dict[str, int] = defaultdict(int)
    for number, minor in zip(items["invoice_number"], items["amount_minor"], strict=True):
        per_invoice[number] += int(minor)
    for head in s.invoices.itertuples(index=False):
        rows = items[items["invoice_number"] == head.invoice_number]
        assert set(rows["customer_id"]) == {head.customer_id} and set(rows["currency"]) == {head.currency}
        assert head.net_minor == per_invoice[head.invoice_number]
        net = Decimal(int(head.net_minor)).scaleb(-PLACES[head.currency])
        assert head.tax_minor == round_half_up(net * month.rates[head.customer_id] / 100, head.currency)
        assert head.total_minor == head.net_minor + head.tax_minor

    # items share an invoice exactly when they share customer, currency, entity, method and the method's key
    assert partition(items, items["invoice_number"]) == partition(items, expected_invoice_keys(items, month))

    # the paper invoice adds up: lines and source items to the net, net and tax to the total
    for number in s.invoices["invoice_number"]:
        invoice = s.record(number)
        assert (
            sum(line.amount for line in invoice.lines) == invoice.net == sum(i.amount for i in invoice.items)
        )
        assert invoice.total == invoice.net + invoice.tax
        assert invoice.is_credit_note == (invoice.total < 0)
        assert len(invoice.items) == sum(line.item_count for line in invoice.lines)

    # consolidating the same prepared month again gives the same frames
    again = consolidate(
        prep,
        month.method,
        force=month.force,
        split_by_contact=month.split_by_contact,
        invoice_date=s.invoice_date,
    )
    pd.testing.assert_frame_equal(s.invoices, again.invoices)
    pd.testing.assert_frame_equal(s.items, again.items)


def expected_invoice_keys(items: pd.DataFrame, month: Month) -> pd.Series:
    """SPEC section 3's key per item, worked out here from the item's resolved fields."""

    def key(row: pd.Series) -> tuple[str, ...]:
        method = row["method"]
        if method == "po_number":
            value = " ".join(str(row["po_number"]).split()).casefold()
        elif method in ("timesheet", "timesheet_and_expense"):
            year, week, _ = row["item_date"].isocalendar()
            value = f"{row['resource_id']}|{year}|{week}|{row['contract_id']}" if row["resource_id"] else ""
        else:
            column = {
                "contract": "contract_id",
                "customer": "billing_group",
                "project": "project_id",
                "cost_centre": "cost_centre",
                "workplace": "workplace",
                "buyer_reference": "buyer_reference",
                "project_activity": "project_id",
            }[method]
            value = str(row[column])
            if method == "project_activity" and value:
                value += "/" + str(row["task_id"])
        contact = row["billing_contact"] if month.split_by_contact else ""
        return row["customer_id"], row["currency"], row["billing_entity"], method, value, contact

    return items.apply(key, axis=1) if len(items) else pd.Series([], dtype=object)


def partition(items: pd.DataFrame, by: pd.Series) -> set[frozenset[tuple[str, str]]]:
    groups: dict[object, set[tuple[str, str]]] = defaultdict(set)
    for label, table, item_id in zip(by, items["source_table"], items["item_id"], strict=True):
        groups[label].add((table, item_id))
    return {frozenset(g) for g in groups.values()}


@ORDER_SETTINGS
@given(month=months(), data=st.data())
def test_invoices_do_not_depend_on_the_order_of_the_input_rows(month: Month, data: st.DataObject) -> None:
    shuffled_items = data.draw(st.permutations(month.billing_items))
    shuffled_entries = data.draw(st.permutations(month.time_entries))
    with tempfile.TemporaryDirectory() as tmp:
        _, first = run(write_month(Path(tmp) / "a", month), month)
        _, other = run(write_month(Path(tmp) / "b", month, shuffled_items, shuffled_entries), month)
    assert content(first) == content(other)


def content(s: InvoiceSet) -> set[tuple[object, ...]]:
    """The invoices by what they hold, not by their numbers or the order the rows came in."""
    members = s.items.groupby("invoice_number").apply(
        lambda g: frozenset(
            zip(g["source_table"], g["item_id"], g["amount_minor"], g["po_number"], strict=True)
        )
    )
    return {
        (
            members[h.invoice_number],
            h.customer_id,
            h.currency,
            h.method,
            h.group_key,
            h.po_number,
            int(h.net_minor),
            int(h.tax_minor),
            int(h.total_minor),
            int(h.line_count),
        )
        for h in s.invoices.itertuples(index=False)
    }
