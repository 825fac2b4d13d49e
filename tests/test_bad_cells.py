"""The bad-cell corpus (issue #13, SPEC section 2): every kind of cell real spreadsheets hold is read
right or held with a reason and its location, and no case gives a wrong amount, a skipped item without
a reason, a formula-looking cell in any CSV, or an internal error.

Each case is a small month (CSV text below, or an xlsx built with openpyxl where the case is an xlsx
property) whose item 1 carries the bad cell. For every case the whole draft run is made, and:
- item 1 is invoiced at the exact amount, held with its reason and location (file, sheet, row, column,
  value), or left out with a counted reason;
- items read = invoiced + held + left out with a reason; every invoice's net is the sum of its items,
  its total net + tax;
- no text cell of any CSV written starts like a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest

from billing_lib.domain.records import (
    AMOUNT_OUT_OF_RANGE,
    DUPLICATE_HEADING,
    HIDDEN_SHEET,
    IGNORED_FILE,
    INVALID_ROW,
    LATE,
    NO_RATE,
    OVER_BUDGET,
    PO_CURRENCY_MISMATCH,
    PO_REFERENCE_CONFLICT,
    PO_REFERENCE_INVALID,
    SUMMARY_ROW,
)
from billing_lib.run.cli import main
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import Analysis, run_invoice

HEADINGS = (
    "id",
    "itemDate",
    "companyID",
    "quantity",
    "unitPrice",
    "extendedPrice",
    "purchaseOrderNumber",
    "invoiceID",
    "description",
    "currencyCode",
)
ITEM_1 = dict(
    zip(HEADINGS, ("1", "2026-10-05", "101", "2", "50", "100.00", "PO-1", "", "Support", ""), strict=True)
)
ITEM_2 = dict(
    zip(HEADINGS, ("2", "2026-10-06", "101", "1", "20", "20.00", "PO-1", "", "Other", ""), strict=True)
)
COMPANY = {"id": "101", "companyName": "Acme", "currency": "EUR", "taxRate": "21"}
PO_ROW = {
    "po_number": "PO-1",
    "customer_id": "101",
    "authorised_amount": "100000",
    "currency": "EUR",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?\d[\d.,]*$")


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class Case:
    """A month whose item 1 (or table) carries one bad cell, and what must come of it."""

    name: str
    expect: tuple[object, ...]  # ("invoiced", minor) | ("held", reason, column, value) | ("skipped", why)
    item: dict[str, str] = field(default_factory=dict)  # item 1's cells that differ
    company: dict[str, str] = field(default_factory=dict)
    po_rows: list[dict[str, str]] | None = None  # the reference table (None: the one good row)
    more_items: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, str | bytes] = field(default_factory=dict)  # other files of the folder
    xlsx: Callable[[Path], None] | None = None  # writes BillingItems.xlsx instead of the CSV
    blocking: str = ""  # a whole-input problem (reason) that stops check saying Ready
    flags: tuple[str, ...] = ()  # flags item 1 or 2 must carry
    tax: int | None = None  # the tax of item 1's invoice, in cents
    location: tuple[str, str, int] = ("BillingItems.csv", "", 2)

    def write(self, folder: Path) -> Path:
        folder.mkdir()
        items = [{**ITEM_1, **self.item}, ITEM_2, *({**ITEM_2, **m} for m in self.more_items)]
        if self.xlsx is not None:
            self.xlsx(folder)
        else:
            (folder / "BillingItems.csv").write_text(csv_text(items), encoding="utf-8")
        (folder / "Companies.csv").write_text(csv_text([{**COMPANY, **self.company}]), encoding="utf-8")
        rows = [PO_ROW] if self.po_rows is None else self.po_rows
        if rows:
            (folder / "po_reference.csv").write_text(csv_text(rows), encoding="utf-8")
        for name, content in self.files.items():
            path = folder / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
        return folder


def xlsx_items(cells: dict[str, object], *, hidden_copy: bool = False) -> Callable[[Path], None]:
    """BillingItems.xlsx holding items 1 and 2, with ``cells`` (heading -> value) on item 1: a value
    starting with ``=`` is saved as a formula without a cached value (what a script writes), one
    starting with ``#`` as an error cell."""

    def build(folder: Path) -> None:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "BillingItems"
        ws.append(list(HEADINGS))
        for item in ({**ITEM_1}, ITEM_2):
            ws.append([_typed(item[h]) for h in HEADINGS])
        for heading, value in cells.items():
            cell = ws.cell(row=2, column=HEADINGS.index(heading) + 1)
            cell.value = value
            if isinstance(value, str) and value.startswith("#"):
                cell.data_type = "e"
        if hidden_copy:
            copy = wb.create_sheet("BillingItems (2)")
            copy.append(list(HEADINGS))
            copy.append([_typed(v) for v in {**ITEM_1, "id": "9"}.values()])
            copy.sheet_state = "hidden"
        wb.save(folder / "BillingItems.xlsx")

    return build


def _typed(text: str) -> object:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text or None


X = ("BillingItems.xlsx", "BillingItems", 2)
EUR_100 = ("invoiced", 10000)
QTY_X_RATE = ("invoiced", 10000)  # 2 x 50.00 when the amount is missing

CASES = [
    # --- amounts out of range: held, never wrapped or stopping the run ---------------------------
    Case("amount 1e30", ("held", AMOUNT_OUT_OF_RANGE, "extendedPrice", "1e30"), {"extendedPrice": "1e30"}),
    Case("amount -1e30", ("held", AMOUNT_OUT_OF_RANGE, "extendedPrice", "-1e30"), {"extendedPrice": "-1e30"}),
    Case(
        "amount 10^17",
        ("held", AMOUNT_OUT_OF_RANGE, "extendedPrice", "100000000000000000"),
        {"extendedPrice": "100000000000000000"},
    ),
    Case(
        "amount 10^15",
        ("held", AMOUNT_OUT_OF_RANGE, "extendedPrice", "1000000000000000"),
        {"extendedPrice": "1000000000000000"},
    ),
    Case(
        "amount just past 10^13",
        ("held", AMOUNT_OUT_OF_RANGE, "extendedPrice", "10000000000000.01"),
        {"extendedPrice": "10000000000000.01"},
    ),
    Case(
        "amount exactly 10^13",
        ("invoiced", 10**15),
        {"extendedPrice": "10000000000000", "purchaseOrderNumber": ""},
        tax=21 * 10**13,
    ),  # item 2 has a PO: another invoice
    Case(
        "amount 1e13 written as exponent",
        ("invoiced", 10**15),
        {"extendedPrice": "1E13", "purchaseOrderNumber": ""},
    ),
    Case("amount 1e-30", ("invoiced", 0), {"extendedPrice": "1e-30"}),
    # --- amounts that are not numbers ------------------------------------------------------------
    Case("amount NaN", ("held", INVALID_ROW, "extendedPrice", "NaN"), {"extendedPrice": "NaN"}),
    Case("amount inf", ("held", INVALID_ROW, "extendedPrice", "inf"), {"extendedPrice": "inf"}),
    Case(
        "amount Infinity", ("held", INVALID_ROW, "extendedPrice", "-Infinity"), {"extendedPrice": "-Infinity"}
    ),
    Case("amount #N/A text", ("held", INVALID_ROW, "extendedPrice", "#N/A"), {"extendedPrice": "#N/A"}),
    Case("amount #REF! text", ("held", INVALID_ROW, "extendedPrice", "#REF!"), {"extendedPrice": "#REF!"}),
    Case(
        "amount #VALUE! text", ("held", INVALID_ROW, "extendedPrice", "#VALUE!"), {"extendedPrice": "#VALUE!"}
    ),
    Case(
        "amount formula text",
        ("held", INVALID_ROW, "extendedPrice", "=E2*F2*0.5"),
        {"extendedPrice": "=E2*F2*0.5"},
    ),
    Case("amount two dots", ("held", INVALID_ROW, "extendedPrice", "12.3.4"), {"extendedPrice": "12.3.4"}),
    Case("amount words", ("held", INVALID_ROW, "extendedPrice", "twelve"), {"extendedPrice": "twelve"}),
    # --- placeholders in an amount mean "missing": quantity x rate ---------------------------------
    Case("amount -", QTY_X_RATE, {"extendedPrice": "-"}),
    Case("amount N/A", QTY_X_RATE, {"extendedPrice": "N/A"}),
    Case("amount null", QTY_X_RATE, {"extendedPrice": "null"}),
    Case("amount none", QTY_X_RATE, {"extendedPrice": "None"}),
    Case("amount empty", QTY_X_RATE, {"extendedPrice": ""}),
    Case(
        "amount and rate missing",
        ("held", NO_RATE, "unitPrice", ""),
        {"extendedPrice": "N/A", "unitPrice": "-"},
    ),
    Case(
        "quantity placeholder, no amount",
        ("held", NO_RATE, "unitPrice", ""),
        {"extendedPrice": "", "quantity": "n/a"},
    ),
    Case("amount 0 is an amount", ("invoiced", 0), {"extendedPrice": "0"}),
    # --- amounts read exactly, rounded half up once --------------------------------------------------
    Case("amount credit in brackets", ("invoiced", -1250), {"extendedPrice": "(12.50)"}),
    Case("amount thousands", ("invoiced", 123450), {"extendedPrice": "1,234.50"}),
    Case("amount with symbol", ("invoiced", 1200), {"extendedPrice": "€ 12"}),
    Case("amount half up", ("invoiced", 1235), {"extendedPrice": "12.345"}),
    Case("amount half a cent", ("invoiced", 1), {"extendedPrice": "0.005"}),
    Case("negative half a cent", ("invoiced", -1), {"extendedPrice": "-0.005"}),
    # --- rates and quantities ------------------------------------------------------------------------
    Case(
        "rate 9 decimals",
        ("held", AMOUNT_OUT_OF_RANGE, "unitPrice", "0.123456789"),
        {"extendedPrice": "", "unitPrice": "0.123456789"},
    ),
    Case("rate 8 decimals", ("invoiced", 25), {"extendedPrice": "", "unitPrice": "0.12345678"}),
    Case("rate trailing zeros", QTY_X_RATE, {"extendedPrice": "", "unitPrice": "50.0000000000"}),
    Case(
        "rate 1e30",
        ("held", AMOUNT_OUT_OF_RANGE, "unitPrice", "1e30"),
        {"extendedPrice": "", "unitPrice": "1e30"},
    ),
    Case(
        "quantity 1e30",
        ("held", AMOUNT_OUT_OF_RANGE, "quantity", "1e30"),
        {"extendedPrice": "", "quantity": "1e30"},
    ),
    Case(
        "product past 10^13",
        ("held", AMOUNT_OUT_OF_RANGE, "quantity", ""),
        {"extendedPrice": "", "quantity": "1000000000000", "unitPrice": "1000000"},
    ),
    # 0.99999999999999999999999999999 x 0.005 is just under half a cent: the default 28-digit context
    # would round the product up to 0.005 and then to 0.01
    Case(
        "product past 28 digits",
        ("invoiced", 0),
        {"extendedPrice": "", "quantity": "0.99999999999999999999999999999", "unitPrice": "0.005"},
    ),
    # --- dates ---------------------------------------------------------------------------------------
    Case("date 3026", ("held", INVALID_ROW, "itemDate", "3026-10-05"), {"itemDate": "3026-10-05"}),
    Case("date 0001", ("held", INVALID_ROW, "itemDate", "0001-01-01"), {"itemDate": "0001-01-01"}),
    Case("date 1899", ("held", INVALID_ROW, "itemDate", "1899-12-31"), {"itemDate": "1899-12-31"}),
    Case("date 30 February", ("held", INVALID_ROW, "itemDate", "2026-02-30"), {"itemDate": "2026-02-30"}),
    Case("date words", ("held", INVALID_ROW, "itemDate", "last week"), {"itemDate": "last week"}),
    Case("date #N/A", ("held", INVALID_ROW, "itemDate", "#N/A"), {"itemDate": "#N/A"}),
    Case("date after the period", ("skipped", "after_period"), {"itemDate": "2026-11-05"}),
    Case("date before the period", EUR_100, {"itemDate": "2026-09-30"}, flags=(LATE,)),
    # --- invoice ids: placeholders mean "not invoiced" -------------------------------------------
    Case("invoiceID -", EUR_100, {"invoiceID": "-"}),
    Case("invoiceID N/A", EUR_100, {"invoiceID": "N/A"}),
    Case("invoiceID null", EUR_100, {"invoiceID": "null"}),
    Case("invoiceID none", EUR_100, {"invoiceID": "none"}),
    Case("invoiceID 0", EUR_100, {"invoiceID": "0"}),
    Case("invoiceID -1", EUR_100, {"invoiceID": "-1"}),
    Case("invoiceID a number", ("skipped", "already_invoiced"), {"invoiceID": "12345"}),
    Case("invoiceID an invoice number", ("skipped", "already_invoiced"), {"invoiceID": "INV-0042"}),
    Case("invoiceID unclear text", ("held", INVALID_ROW, "invoiceID", "TBD"), {"invoiceID": "TBD"}),
    # --- ids and texts that look like formulas: kept as text, neutralised in every output -----------
    Case("id =2+2", EUR_100, {"id": "=2+2"}),
    Case("id @SUM", EUR_100, {"id": "@SUM(A1)"}),
    Case("description HYPERLINK", EUR_100, {"description": '=HYPERLINK("http://x.example","click")'}),
    Case("description -cmd", EUR_100, {"description": "-2+3+cmd|' /C calc'!A0"}),
    Case(
        "PO formula text",
        ("held", INVALID_ROW, "purchaseOrderNumber", "=PO-1"),
        {"purchaseOrderNumber": "=PO-1"},
    ),
    Case("PO #N/A", ("held", INVALID_ROW, "purchaseOrderNumber", "#N/A"), {"purchaseOrderNumber": "#N/A"}),
    Case("PO with spaces and case", EUR_100, {"purchaseOrderNumber": "  po-1 "}),
    # --- currencies --------------------------------------------------------------------------------
    Case("customer currency Euro", ("held", INVALID_ROW, "", "Euro"), company={"currency": "Euro"}),
    Case("customer currency €", ("held", INVALID_ROW, "", "€"), company={"currency": "€"}),
    Case("customer currency XXX", ("held", INVALID_ROW, "", "XXX"), company={"currency": "XXX"}),
    Case("customer currency 12", ("held", INVALID_ROW, "", "12"), company={"currency": "12"}),
    Case("item currency =EUR", ("held", INVALID_ROW, "currencyCode", "=EUR"), {"currencyCode": "=EUR"}),
    Case("item currency usd", ("held", PO_CURRENCY_MISMATCH, "", ""), {"currencyCode": "usd"}),
    # --- tax rates ---------------------------------------------------------------------------------
    Case("tax 21%", EUR_100, company={"taxRate": "21%"}, tax=2520),
    Case("tax 21 %", EUR_100, company={"taxRate": "21 %"}, tax=2520),
    Case("tax 21,0", EUR_100, company={"taxRate": "21,0"}, tax=2520),
    Case("tax 0", EUR_100, company={"taxRate": "0"}, tax=0),
    Case("tax 5.5", EUR_100, company={"taxRate": "5.5"}, tax=660),
    Case("tax -21", ("held", INVALID_ROW, "", ""), company={"taxRate": "-21"}),
    Case("tax 150", ("held", INVALID_ROW, "", ""), company={"taxRate": "150"}),
    Case("tax 0.21", ("held", INVALID_ROW, "", ""), company={"taxRate": "0.21"}),
    Case("tax words", ("held", INVALID_ROW, "", ""), company={"taxRate": "standard"}),
    Case(
        "customer method unknown",
        ("held", INVALID_ROW, "", "by_magic"),
        company={"consolidationMethod": "by_magic"},
    ),
    Case("customer method alias", EUR_100, company={"consolidationMethod": "Job"}),
    # --- totals rows -------------------------------------------------------------------------------
    Case(
        "a real totals row",
        EUR_100,
        more_items=[{h: "" for h in HEADINGS} | {"id": "Total", "extendedPrice": "120.00"}],
    ),
    Case("id TOTAL-7 is an item", EUR_100, {"id": "TOTAL-7"}),
    Case("description Total is an item", EUR_100, {"description": "Total care package"}),
    Case(
        "label Total with a date and customer",
        ("held", INVALID_ROW, "id", ""),
        {"id": "", "description": "Total"},
    ),
    # --- headings ----------------------------------------------------------------------------------
    # a heading twice: test_a_heading_twice_with_different_values_holds_the_row
    # --- the PO reference table --------------------------------------------------------------------
    Case(
        "PO twice, budgets differ",
        EUR_100,
        po_rows=[PO_ROW, {**PO_ROW, "authorised_amount": "100"}],
        blocking=PO_REFERENCE_CONFLICT,
        flags=(OVER_BUDGET,),
    ),
    Case(
        "PO twice, customers differ",
        EUR_100,
        po_rows=[PO_ROW, {**PO_ROW, "customer_id": "102"}],
        blocking=PO_REFERENCE_CONFLICT,
    ),
    Case("PO twice, same", EUR_100, po_rows=[PO_ROW, {**PO_ROW, "authorised_amount": "100000.00"}]),
    Case(
        "PO budget 0",
        EUR_100,
        po_rows=[{**PO_ROW, "authorised_amount": "0"}],
        blocking=PO_REFERENCE_INVALID,
        flags=(OVER_BUDGET,),
    ),
    Case(
        "PO budget negative",
        EUR_100,
        po_rows=[{**PO_ROW, "authorised_amount": "-5"}],
        blocking=PO_REFERENCE_INVALID,
    ),
    Case(
        "PO dates reversed",
        EUR_100,
        po_rows=[{**PO_ROW, "valid_to": "2025-12-31"}],
        blocking=PO_REFERENCE_INVALID,
    ),
    Case(
        "PO currency Euro",
        ("held", PO_CURRENCY_MISMATCH, "", ""),
        po_rows=[{**PO_ROW, "currency": "Euro"}],
        blocking=PO_REFERENCE_INVALID,
    ),
    Case(
        "PO budget 1e30",
        EUR_100,
        po_rows=[{**PO_ROW, "authorised_amount": "1e30"}],
        blocking=AMOUNT_OUT_OF_RANGE,
    ),
    # --- files -------------------------------------------------------------------------------------
    Case(
        "file not recognised", EUR_100, files={"Billing_Itemz.csv": csv_text([ITEM_1])}, blocking=IGNORED_FILE
    ),
    Case("old .xls file", EUR_100, files={"TimeEntries.xls": b"\xd0\xcf\x11\xe0"}, blocking=IGNORED_FILE),
    Case("notes file", EUR_100, files={"readme.txt": "October exports"}),
    # --- xlsx cells ----------------------------------------------------------------------------------
    Case(
        "xlsx formula amount without value",
        ("held", INVALID_ROW, "extendedPrice", "=E2*F2*0.5"),
        xlsx=xlsx_items({"extendedPrice": "=E2*F2*0.5"}),
        location=X,
    ),
    Case(
        "xlsx #N/A amount",
        ("held", INVALID_ROW, "extendedPrice", "#N/A"),
        xlsx=xlsx_items({"extendedPrice": "#N/A"}),
        location=X,
    ),
    Case(
        "xlsx #DIV/0! date",
        ("held", INVALID_ROW, "itemDate", "#DIV/0!"),
        xlsx=xlsx_items({"itemDate": "#DIV/0!"}),
        location=X,
    ),
    Case(
        "xlsx #REF! customer",
        ("held", INVALID_ROW, "companyID", "#REF!"),
        xlsx=xlsx_items({"companyID": "#REF!"}),
        location=X,
    ),
    Case(
        "xlsx formula PO without value",
        ("held", INVALID_ROW, "purchaseOrderNumber", '="PO-"&1'),
        xlsx=xlsx_items({"purchaseOrderNumber": '="PO-"&1'}),
        location=X,
    ),
    Case(
        "xlsx amount 1e30",
        ("held", AMOUNT_OUT_OF_RANGE, "extendedPrice", "1e+30"),
        xlsx=xlsx_items({"extendedPrice": 1e30}),
        location=X,
    ),
    Case(
        "xlsx amount 10^17",
        ("held", AMOUNT_OUT_OF_RANGE, "extendedPrice", "1e+17"),
        xlsx=xlsx_items({"extendedPrice": 100000000000000000}),
        location=X,
    ),
    Case(
        "xlsx hidden copy of the items",
        EUR_100,
        xlsx=xlsx_items({}, hidden_copy=True),
        blocking=HIDDEN_SHEET,
        location=X,
    ),
]


def run(folder: Path, tmp: Path) -> Analysis:
    options = RunOptions(
        inputs=folder,
        period="2026-10",
        out=tmp / "out",
        draft=True,
        register=tmp / "register.sqlite",
        excel=False,
        charts=False,
    )
    return run_invoice(options).analysis


def assert_reconciled(analysis: Analysis) -> None:
    """Items read = invoiced + held + left out with a reason; invoices are the sums of their items."""
    prep, invoice_set = analysis.prep, analysis.invoice_set
    left_out = sum(prep.skipped.values())
    assert prep.read == len(invoice_set.items) + len(analysis.held) + left_out
    keys = list(
        zip(analysis.held["source_table"], analysis.held["item_id"], analysis.held["_row"], strict=True)
    )
    assert len(set(keys)) == len(keys)
    sums = invoice_set.items.groupby("invoice_number")["amount_minor"].sum()
    for number, net, tax, total in zip(
        *(invoice_set.invoices[c] for c in ("invoice_number", "net_minor", "tax_minor", "total_minor")),
        strict=True,
    ):
        assert int(sums[number]) == int(net) and int(total) == int(net) + int(tax)


def assert_no_formula_cells(out: Path) -> None:
    for path in out.rglob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            for value in row:
                assert not (value.startswith(FORMULA_START) and not NUMBER.match(value)), (path.name, value)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_cell_is_read_right_or_held_with_a_reason(case: Case, tmp_path: Path) -> None:
    analysis = run(case.write(tmp_path / "month"), tmp_path)
    assert_reconciled(analysis)
    assert_no_formula_cells(tmp_path / "out")
    items, held, prep = analysis.invoice_set.items, analysis.held, analysis.prep
    first = items[items["_row"] == case.location[2]]
    first = first[first["_file"] == case.location[0]]
    kind = case.expect[0]
    if kind == "invoiced":
        assert list(first["amount_minor"]) == [case.expect[1]], case.name
        assert held.empty, list(held["reason"])
    elif kind == "skipped":
        assert first.empty and prep.skipped[str(case.expect[1])] == 1
    else:
        _, reason, column, value = case.expect
        assert first.empty, f"{case.name}: item 1 invoiced"
        mine = held[(held["_file"] == case.location[0]) & (held["_row"] == case.location[2])]
        assert list(mine["reason"]) == [reason]
        [issue] = [
            i
            for i in analysis.issues
            if (i.file, i.sheet, i.row) == case.location and i.reason == reason and i.action == "held"
        ]
        assert (issue.column, issue.value) == (column, value), issue
        assert issue.message.startswith(
            ", ".join(filter(None, (case.location[0], case.location[1] and f"sheet {case.location[1]}")))
        ), issue.message
    for flag in case.flags:
        assert any(i.reason == flag and i.action == "flagged" for i in analysis.issues), flag
    if case.tax is not None:
        invoice = analysis.invoice_set.invoices[
            analysis.invoice_set.invoices["invoice_number"] == first["invoice_number"].iloc[0]
        ]
        net = int(invoice["net_minor"].iloc[0])
        assert int(invoice["tax_minor"].iloc[0]) == case.tax, (net, case.tax)
    checklist = analysis.checklist
    if case.blocking:
        assert checklist.blocking
        assert any(i.reason == case.blocking for i in analysis.issues)
    elif kind == "held":
        assert checklist.blocking
    else:
        assert not checklist.blocking, checklist.blocking_reasons


def test_a_heading_twice_with_different_values_holds_the_row(tmp_path: Path) -> None:
    """The "heading twice" case's month: ``extendedPrice`` and ``Extended Price`` on one sheet."""
    folder = tmp_path / "month"
    folder.mkdir()
    rows = [[*HEADINGS, "Extended Price"], [*ITEM_1.values(), "999.00"], [*ITEM_2.values(), "20.00"]]
    (folder / "BillingItems.csv").write_text("\n".join(",".join(r) for r in rows) + "\n")
    Case("", EUR_100).write(tmp_path / "other")  # the companies and reference table of every case
    for name in ("Companies.csv", "po_reference.csv"):
        (folder / name).write_bytes((tmp_path / "other" / name).read_bytes())
    analysis = run(folder, tmp_path)
    assert_reconciled(analysis)
    assert list(analysis.held["reason"]) == [INVALID_ROW]
    assert list(analysis.invoice_set.items["amount_minor"]) == [2000]
    [repeated] = [i for i in analysis.issues if i.reason == DUPLICATE_HEADING]
    assert (repeated.column, repeated.value) == ("Extended Price", "extendedPrice")
    assert analysis.checklist.blocking


def test_a_summary_row_is_left_out_with_a_flag_and_counted(tmp_path: Path) -> None:
    totals = {h: "" for h in HEADINGS} | {"id": "Total", "extendedPrice": "120.00"}
    analysis = run(Case("", EUR_100, more_items=[totals]).write(tmp_path / "month"), tmp_path)
    [issue] = [i for i in analysis.issues if i.reason == SUMMARY_ROW]
    assert (issue.file, issue.row, issue.action) == ("BillingItems.csv", 4, "flagged")
    assert sorted(analysis.invoice_set.items["amount_minor"]) == [2000, 10000]


# --- large months: nothing wraps ----------------------------------------------------------------------


def many(n: int, amount: str) -> list[dict[str, str]]:
    return [
        {**ITEM_2, "id": str(100 + k), "extendedPrice": amount, "purchaseOrderNumber": ""} for k in range(n)
    ]


def test_a_hundred_items_of_10_to_the_15_are_held_not_wrapped(tmp_path: Path) -> None:
    """The issue's case: 100 x 1,000,000,000,000,000 EUR reported -84,467,440,737,095,516.16 to invoice."""
    case = Case("", EUR_100, more_items=many(100, "1000000000000000"))
    analysis = run(case.write(tmp_path / "month"), tmp_path)
    assert_reconciled(analysis)
    assert (analysis.held["reason"] == AMOUNT_OUT_OF_RANGE).sum() == 100
    assert analysis.checklist.to_invoice == (("EUR", "120.00"),)
    assert analysis.checklist.blocking


def test_a_thousand_items_at_the_limit_sum_exactly(tmp_path: Path) -> None:
    case = Case("", EUR_100, more_items=many(1000, "10000000000000"), po_rows=[])
    analysis = run(case.write(tmp_path / "month"), tmp_path)
    assert_reconciled(analysis)
    assert analysis.held.empty
    net = int(analysis.invoice_set.invoices["net_minor"].sum())
    assert net == 1000 * 10**15 + 12000
    assert analysis.checklist.to_invoice == (("EUR", "10000000000000120.00"),)
    taxed = int(analysis.invoice_set.invoices["tax_minor"].sum())
    assert taxed == sum((n * 21 + 50) // 100 for n in analysis.invoice_set.invoices["net_minor"].tolist())


def test_a_month_past_what_int64_sums_hold_holds_its_largest_items(tmp_path: Path) -> None:
    """3,000 items of 10^13 EUR (3 x 10^18 cents, past 2^61): the largest are held until the rest sums exactly."""
    case = Case("", EUR_100, more_items=many(3000, "10000000000000"), po_rows=[])
    analysis = run(case.write(tmp_path / "month"), tmp_path)
    assert_reconciled(analysis)
    held = analysis.held
    assert set(held["reason"]) == {AMOUNT_OUT_OF_RANGE} and 0 < len(held) < 3000
    net = sum(int(v) for v in analysis.invoice_set.invoices["net_minor"])
    assert net == int(analysis.invoice_set.items["amount_minor"].astype(object).sum())
    assert net < 2**61


# --- the command line ---------------------------------------------------------------------------------


def test_check_of_the_overflowing_month_says_not_ready_with_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = Case("", EUR_100, item={"extendedPrice": "1000000000000000"}).write(tmp_path / "month")
    code = main(
        ["check", "--inputs", str(folder), "--period", "2026-10", "--register", str(tmp_path / "r.sqlite")]
    )
    out = capsys.readouterr()
    assert code == 1
    assert "NOT READY" in out.out and "internal error" not in out.err
    assert (
        "BillingItems.csv, row 2, column extendedPrice: 1000000000000000 is beyond what an amount can be"
        in out.out
    )
    assert "20.00 EUR" in out.out  # item 2 alone is to invoice


def test_check_with_a_date_out_of_range_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = Case("", EUR_100, item={"itemDate": "3026-10-05"}).write(tmp_path / "month")
    code = main(
        ["check", "--inputs", str(folder), "--period", "2026-10", "--register", str(tmp_path / "r.sqlite")]
    )
    out = capsys.readouterr()
    assert code == 1 and "internal error" not in out.err
    assert (
        "BillingItems.csv, row 2, column itemDate: '3026-10-05' is outside the dates handled here" in out.out
    )


@pytest.mark.parametrize("period", ["0000-01", "10000-01", "2026-13", "2026-00", "26-10", "october"])
def test_a_bad_period_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str
) -> None:
    folder = Case("", EUR_100).write(tmp_path / "month")
    code = main(["check", "--inputs", str(folder), "--period", period])
    err = capsys.readouterr().err
    assert code == 2 and "period" in err and "internal error" not in err


def test_invoice_writes_formula_looking_ids_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = Case("", EUR_100, item={"id": "=2+2", "description": '=HYPERLINK("http://x.example","y")'})
    folder = case.write(tmp_path / "month")
    out = tmp_path / "out"
    code = main(
        [
            "invoice",
            "--inputs",
            str(folder),
            "--period",
            "2026-10",
            "--draft",
            "--out",
            str(out),
            "--register",
            str(tmp_path / "r.sqlite"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    items = list(csv.DictReader((out / "invoice_items.csv").open(encoding="utf-8")))
    assert sorted(r["item_id"] for r in items) == ["'=2+2", "2"]
    assert_no_formula_cells(out)
    book = openpyxl.load_workbook(next((out / "invoices").glob("*.xlsx")))
    texts = [c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(
        t.startswith("=") and c.data_type == "f"
        for ws in book
        for row in ws.iter_rows()
        for c in row
        for t in [str(c.value)]
    )
    assert '=HYPERLINK("http://x.example","y")' in texts or "=2+2" in texts


# --- cells.py: what the sheet XML says ----------------------------------------------------------------


def patched(path: Path, part: str, old: bytes, new: bytes) -> None:
    """Rewrite one part of an xlsx (what Excel itself saves, which openpyxl cannot write: cached values)."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    empty_value = rb"<v(?:\s*/>|></v>)"  # how openpyxl versions write a formula's missing value
    found = re.subn(
        re.escape(old).replace(re.escape(b"<v />"), empty_value), new.replace(b"\\", b"\\\\"), parts[part]
    )
    assert found[1] == 1, parts[part][:300]
    parts[part] = found[0]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_a_formula_with_its_saved_value_is_read_as_that_value(tmp_path: Path) -> None:
    case = Case("", EUR_100, xlsx=xlsx_items({"extendedPrice": "=D2*E2"}), location=X)
    folder = case.write(tmp_path / "month")
    patched(
        folder / "BillingItems.xlsx",
        "xl/worksheets/sheet1.xml",
        b"<f>D2*E2</f><v />",
        b"<f>D2*E2</f><v>100</v>",
    )
    analysis = run(folder, tmp_path)
    assert analysis.held.empty
    assert sorted(analysis.invoice_set.items["amount_minor"]) == [2000, 10000]


def test_a_shared_formula_without_a_value_is_held(tmp_path: Path) -> None:
    case = Case("", EUR_100, xlsx=xlsx_items({"extendedPrice": "=D2*E2"}), location=X)
    folder = case.write(tmp_path / "month")
    patched(
        folder / "BillingItems.xlsx",
        "xl/worksheets/sheet1.xml",
        b"<f>D2*E2</f><v />",
        b'<f t="shared" si="0"/>',
    )
    analysis = run(folder, tmp_path)
    [issue] = [i for i in analysis.issues if i.action == "held"]
    assert (issue.row, issue.column, issue.value) == (2, "extendedPrice", "=(shared formula)")
    assert "a formula saved without its value" in issue.message
