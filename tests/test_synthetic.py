"""The synthetic month: deterministic, the requested size, Autotask-shaped, every special case present."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from billing_lib.domain import schema
from billing_lib.domain.errors import UsageError
from billing_lib.sample.synthetic import fixed_row_count, write_sample

PERIOD = "2026-10"
START, END = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
BILLABLE = ("BillingItems", "TimeEntries", "ContractCharges", "TicketCharges", "ProjectCharges")
# Columns real exports carry that the importer keeps and ignores (SPEC §2: unknown columns are kept).
UNMAPPED = {"totalAmount", "postedDate", "showOnInvoice", "unitCost", "extendedCost"}

Row = dict[str, Any]


def read_rows(path: Path) -> list[Row]:
    """The data rows of a written file as dicts; title rows above the header are skipped."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    cells = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = next(i for i, r in enumerate(cells) if r and r[0] in ("id", "PO Number"))
    return [dict(zip(cells[header], r, strict=True)) for r in cells[header + 1 :]]


def read_all(folder: Path, fmt: str = "xlsx") -> dict[str, list[Row]]:
    return {p.stem: read_rows(p) for p in sorted(folder.glob(f"*.{fmt}"))}


def ident(value: object) -> str:
    """An id as text, however the reader typed it (101, 101.0, "101")."""
    if value in (None, ""):
        return ""
    return str(int(float(str(value))))


def po_key(value: object) -> str:
    return str(value or "").strip().casefold()


def as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def cents(value: object) -> int:
    return int((Decimal(repr(float(str(value)))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Row]]:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, 400, period=PERIOD)
    return read_all(folder)


# --- determinism, size, format ----------------------------------------------------------------------
def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", 100)
    second = write_sample(tmp_path / "b", 100)
    assert first == second
    for name in first:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    write_sample(tmp_path / "c", 100, seed=7)
    assert (tmp_path / "c" / "BillingItems.xlsx").read_bytes() != (
        tmp_path / "a" / "BillingItems.xlsx"
    ).read_bytes()


@pytest.mark.parametrize("scale", [fixed_row_count(), 400, 2_500])
def test_scale_is_the_number_of_billable_rows(tmp_path: Path, scale: int) -> None:
    counts = write_sample(tmp_path, scale)
    read = {name: len(read_rows(tmp_path / f"{name}.xlsx")) for name in BILLABLE}
    assert read == {name: counts[f"{name}.xlsx"] for name in BILLABLE}
    assert abs(sum(read.values()) - scale) <= scale * 0.01


def test_too_small_a_scale_or_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at least"):
        write_sample(tmp_path, fixed_row_count() - 1)
    with pytest.raises(UsageError, match="fmt"):
        write_sample(tmp_path, 400, fmt="ods")
    with pytest.raises(UsageError, match="YYYY-MM"):
        write_sample(tmp_path, 400, period="10-2026")


def test_csv_holds_the_same_tables_without_title_rows(tmp_path: Path, month: dict[str, list[Row]]) -> None:
    counts = write_sample(tmp_path, 400, period=PERIOD, fmt="csv")
    assert sorted(counts) == sorted(f"{name}.csv" for name in month)
    tables = read_all(tmp_path, "csv")
    assert {k: len(v) for k, v in tables.items()} == {k: len(v) for k, v in month.items()}
    assert (tmp_path / "BillingItems.csv").read_text(encoding="utf-8").startswith("id,itemDate,")
    items = {r["id"]: r for r in tables["BillingItems"]}
    assert items["80000001"]["extendedPrice"] == "386.645"
    assert items["80000007"]["description"] == '=HYPERLINK("http://x","click")'
    assert tables["TicketCharges"][0]["datePurchased"] == "31/13/2026"
    assert {r["isNonBillable"] for r in tables["TimeEntries"]} == {"true", "false"}
    assert "Müller & Söhne GmbH / IT" in {r["companyName"] for r in tables["Companies"]}


def test_billing_items_have_report_title_rows(tmp_path: Path) -> None:
    write_sample(tmp_path, 100)
    cells = CalamineWorkbook.from_path(str(tmp_path / "BillingItems.xlsx")).get_sheet_by_index(0).to_python()
    assert cells[0][0] == "Autotask — Billing Items export"
    assert cells[1][0] == "Generated 2026-11-01 06:00"
    assert not any(cells[2])
    assert cells[3][:3] == ["id", "itemDate", "companyID"]


@pytest.mark.parametrize(("period", "start", "end"), [("2027-02", dt.date(2027, 2, 1), dt.date(2027, 2, 28))])
def test_the_month_follows_the_period(tmp_path: Path, period: str, start: dt.date, end: dt.date) -> None:
    write_sample(tmp_path, 200, period=period)
    days = [as_date(r["itemDate"]) for r in read_rows(tmp_path / "BillingItems.xlsx")]
    assert all(
        d is not None and start - dt.timedelta(days=10) <= d <= end + dt.timedelta(days=1) for d in days
    )
    assert min(days) < start < end < max(days)  # type: ignore[type-var]
    ref = read_rows(tmp_path / "po_reference.xlsx")
    current = [r for r in ref if as_date(r["Valid To"]) >= start]  # type: ignore[operator]
    assert len(current) == len(ref) - 1
    assert all(as_date(r["Valid From"]) <= start - dt.timedelta(days=10) for r in current)  # type: ignore[operator]


# --- shape: what the importer expects ---------------------------------------------------------------
def test_every_heading_is_one_the_schema_knows(month: dict[str, list[Row]]) -> None:
    for name, rows in month.items():
        spec = schema.table_for(name)
        assert spec is not None, name
        known = spec.alias_map()
        unknown = {h for h in rows[0] if schema.key(h) not in known} - UNMAPPED
        assert not unknown, (name, unknown)
        mapped = {known[schema.key(h)] for h in rows[0] if schema.key(h) in known}
        assert {c.name for c in spec.columns if c.required} <= mapped, name


def test_ids_are_unique_per_file_and_posted_time_is_not_raw_time(month: dict[str, list[Row]]) -> None:
    for name, rows in month.items():
        if name == "po_reference":
            continue
        # billing entities are named (customers' billing_entity names one); every other id is a number
        ids = [str(r["id"]) if name == "BillingEntities" else ident(r["id"]) for r in rows]
        assert "" not in ids and len(set(ids)) == len(ids), name
    entities = {r["id"] for r in month["BillingEntities"]}
    assert {r["billing_entity"] for r in month["Companies"]} <= entities
    posted = {ident(r["timeEntryID"]) for r in month["BillingItems"]} - {""}
    assert posted and not posted & {ident(r["id"]) for r in month["TimeEntries"]}
    assert all(
        r.keys().isdisjoint({"purchaseOrderNumber", "rate", "companyID"}) for r in month["TimeEntries"]
    )


# --- the special cases ---------------------------------------------------------------------------------
def test_real_world_row_credits_and_formula_text(month: dict[str, list[Row]]) -> None:
    items = month["BillingItems"]
    real = next(r for r in items if ident(r["id"]) == "80000001")
    assert (real["quantity"], real["rate"], real["extendedPrice"], real["totalAmount"]) == (
        3.175,
        100,
        386.645,
        0,
    )
    assert any(float(r["extendedPrice"]) < 0 for r in items)
    charges = month["ContractCharges"] + month["TicketCharges"] + month["ProjectCharges"]
    assert any(float(r["billableAmount"]) < 0 for r in charges)
    texts = {r["description"] for r in items} | {r["summaryNotes"] for r in month["TimeEntries"]}
    texts |= {r["description"] for r in charges}
    assert {'=HYPERLINK("http://x","click")', "+SUM(A1:A2)"} <= texts
    assert any(t.startswith("@cmd") for t in texts)


def test_not_billable_invoiced_late_and_future_items(month: dict[str, list[Row]]) -> None:
    items = month["BillingItems"]
    assert any(ident(r["nonBillable"]) == "1" for r in items)
    assert any(r["isNonBillable"] is True for r in month["TimeEntries"])
    assert any(r["isBillableToCompany"] is False for r in month["ContractCharges"])
    assert any(ident(r["invoiceID"]) not in ("", "0") for r in items)
    assert {ident(r["invoiceID"]) for r in items} >= {"0"}
    dates = [as_date(r["itemDate"]) for r in items]
    assert any(d < START for d in dates if d) and any(d > END for d in dates if d)
    assert any(d < START for d in (as_date(r["dateWorked"]) for r in month["TimeEntries"]) if d)


def test_dates_come_as_iso_text_excel_dates_and_one_bad_text(month: dict[str, list[Row]]) -> None:
    worked = [r["dateWorked"] for r in month["TimeEntries"]]
    assert any(isinstance(v, str) and v.endswith("T00:00:00Z") for v in worked)
    assert any(isinstance(v, dt.date) for v in worked)
    assert [r["datePurchased"] for r in month["TicketCharges"]].count("31/13/2026") == 1


def test_companies_cover_the_billing_settings(month: dict[str, list[Row]]) -> None:
    companies = month["Companies"]
    assert "Müller & Söhne GmbH / IT" in {r["companyName"] for r in companies}
    assert {r["currency"] for r in companies} == {"EUR", "GBP"}
    assert {"contract", "project"} <= {r["consolidation_method"] for r in companies}
    groups = [r["billing_group"] for r in companies if r["billing_group"]]
    assert len(groups) >= 2 and len(set(groups)) < len(groups)
    assert len({r["billing_entity"] for r in companies}) == 2
    assert {float(r["tax_rate"]) for r in companies} >= {0.0, 20.0, 21.0}
    assert {ident(r["id"]) for r in companies} >= {str(i) for i in range(101, 109)}


def test_po_cases(month: dict[str, list[Row]]) -> None:
    ref = {po_key(r["PO Number"]): r for r in month["po_reference"]}
    contracts = month["Contracts"]
    customer_of = {ident(c["id"]): ident(c["companyID"]) for c in contracts}
    # several contracts of one customer share one PO, typed differently from the reference
    sharing: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in contracts:
        if po_key(c["purchaseOrderNumber"]) in ref:
            sharing[(ident(c["companyID"]), po_key(c["purchaseOrderNumber"]))].append(
                c["purchaseOrderNumber"]
            )
    shared = {k: typed for k, typed in sharing.items() if len(typed) >= 3}
    assert any(set(typed) - {ref[k[1]]["PO Number"]} for k, typed in shared.items())
    items = month["BillingItems"]
    used = {po_key(r["purchaseOrderNumber"]) for r in items}
    assert "" in used  # items without any PO
    assert used - set(ref), "a PO not in the reference table"
    requires = {ident(c["id"]) for c in month["Companies"] if c["requires_po"] == "yes"}
    assert any(ident(r["companyID"]) in requires and not po_key(r["purchaseOrderNumber"]) for r in items)
    owner = {k: ident(r["Customer ID"]) for k, r in ref.items()}
    typed = {ident(c["id"]): po_key(c["purchaseOrderNumber"]) for c in contracts}
    assert any(typed[cid] in owner and owner[typed[cid]] != customer_of[cid] for cid in typed)  # mismatch
    expired = {k for k, r in ref.items() if as_date(r["Valid To"]) < START}  # type: ignore[operator]
    assert expired & used
    assert any(po_key(r["purchaseOrderNumber"]) for r in month["ContractCharges"])  # a charge's own PO


def test_budgets_are_sized_to_the_month(month: dict[str, list[Row]]) -> None:
    """Most POs end 30-70 % used, one about 85 %, one passes 80 % and then 100 % during the period."""
    ref = {po_key(r["PO Number"]): r for r in month["po_reference"]}
    spent = billable_by_po(month)
    percent = {k: 100 * sum(c for _, c in spent[(ident(r["Customer ID"]), k)]) / cents(r["Authorised Amount"])
               for k, r in ref.items()}  # fmt: skip
    over = [k for k, p in percent.items() if p > 100]
    warning = [k for k, p in percent.items() if 80 <= p <= 90]
    assert len(over) == 1 and len(warning) == 1
    assert all(30 <= p <= 70 for k, p in percent.items() if k not in over + warning), percent
    authorised = cents(ref[over[0]]["Authorised Amount"])
    running, crossed = 0, {}
    for day, amount in sorted(spent[(ident(ref[over[0]]["Customer ID"]), over[0])]):
        running += amount
        for level in (80, 100):
            if running * 100 >= level * authorised:
                crossed.setdefault(level, day)
    assert START <= crossed[80] <= crossed[100] <= END


def billable_by_po(month: dict[str, list[Row]]) -> dict[tuple[str, str], list[tuple[dt.date, int]]]:
    """(customer, PO) -> (date, cents) of every billable, uninvoiced row dated up to the period end.

    The PO cascade as SPEC §2 states it: a charge's own PO, else its ticket's or task's, the project's,
    the contract's.
    """
    contracts = {ident(r["id"]): r for r in month["Contracts"]}
    projects = {ident(r["id"]): r for r in month["Projects"]}
    tasks = {ident(r["id"]): r for r in month["Tasks"]}
    tickets = {ident(r["id"]): r for r in month["Tickets"]}
    price = {ident(r["id"]): r["unitPrice"] for r in month["BillingCodes"]}

    def of_contract(cid: str) -> tuple[str, str]:
        return ident(contracts[cid]["companyID"]), po_key(contracts[cid]["purchaseOrderNumber"])

    def of_project(pid: str) -> tuple[str, str]:
        cust, po = of_contract(ident(projects[pid]["contractID"]))
        return cust, po_key(projects[pid]["purchaseOrderNumber"]) or po

    def of_ticket(kid: str) -> tuple[str, str]:
        k = tickets[kid]
        cust, po = (
            of_project(ident(k["projectID"]))
            if ident(k["projectID"])
            else of_contract(ident(k["contractID"]))
        )
        return cust, po_key(k["purchaseOrderNumber"]) or po

    def of_task(tid: str) -> tuple[str, str]:
        cust, po = of_project(ident(tasks[tid]["projectID"]))
        return cust, po_key(tasks[tid]["purchaseOrderNumber"]) or po

    out: dict[tuple[str, str], list[tuple[dt.date, int]]] = defaultdict(list)

    def add(cust: str, po: str, when: object, amount: int, billable: bool) -> None:
        day = as_date(when)
        if billable and day is not None and day <= END:
            out[(cust, po)].append((day, amount))

    for r in month["BillingItems"]:
        uninvoiced = ident(r["invoiceID"]) in ("", "0")
        add(ident(r["companyID"]), po_key(r["purchaseOrderNumber"]), r["itemDate"], cents(r["extendedPrice"]),
            uninvoiced and ident(r["nonBillable"]) == "0")  # fmt: skip
    for r in month["TimeEntries"]:
        cust, po = of_ticket(ident(r["ticketID"])) if ident(r["ticketID"]) else of_task(ident(r["taskID"]))
        hours = r["hoursToBill"] if r["hoursToBill"] != "" else r["hoursWorked"] + r["offsetHours"]
        add(
            cust, po, r["dateWorked"], cents(hours * price[ident(r["billingCodeID"])]), not r["isNonBillable"]
        )
    parents = {"ContractCharges": ("contractID", of_contract), "TicketCharges": ("ticketID", of_ticket),
               "ProjectCharges": ("projectID", of_project)}  # fmt: skip
    for name, (column, cascade) in parents.items():
        for r in month[name]:
            cust, po = cascade(ident(r[column]))
            add(cust, po_key(r["purchaseOrderNumber"]) or po, r["datePurchased"], cents(r["billableAmount"]),
                r["isBillableToCompany"] is True)  # fmt: skip
    return out
