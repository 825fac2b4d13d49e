"""inputs.load_inputs: real-shaped exports give the same typed frames; whole-file problems are clear errors.

The same small month is written as xlsx files with two title rows, as CSV files and as one workbook
with a sheet per table, each with Autotask REST, reporting (snake_case) and screen-label headings.
Every form must give the same canonical frames and the same prepared items.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from exports import write_xlsx

from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import prepare_items
from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.domain.period import Period
from billing_lib.domain.records import ENCODING, INVALID_ROW
from billing_lib.io import inputs as inputs_mod
from billing_lib.io.inputs import load_inputs
from billing_lib.sample.synthetic import write_sample

# --- writing test files ----------------------------------------------------------------------------


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(textwrap.dedent(text).strip("\n").encode(encoding) + b"\n")
    return path


# --- the month, in three heading styles --------------------------------------------------------------

BODY = {
    "BillingItems": """
        5001,2026-10-03T00:00:00Z,101,701,9001,30,Server patching,3.1750,100.0000,386.6450, po-4711 ,0,0,x
        5002,2026-10-06T00:00:00Z,102,,,31,Cable kit,2.0000,12.5000,25.0000,,0,0,
        5003,2026-10-07T00:00:00Z,101,701,,,Credit for downtime,1.0000,-50.0000,-50.0000,PO-4711,0,0,
    """,
    "TimeEntries": """
        9101,2026-10-08T00:00:00Z,88,7,30,1.5000,0.2500,,Onsite visit
        9102,2026-10-09T00:00:00Z,88,7,30,2.0000,0.0000,1.7500,Remote fix
    """,
    "Tickets": """
        88,102,,PO-9000
    """,
    "Companies": """
        101,Acme Industrie GmbH
        102,Müller & Söhne KG
    """,
    "BillingCodes": """
        30,Labour,120.0000
        31,Materials,
    """,
    "po_reference": """
        PO-4711,101,1000.00,EUR,2026-01-01,2026-12-31
        PO-9000,102,500,EUR,,
    """,
}

HEADINGS = {
    "autotask": {
        "BillingItems": "id,itemDate,companyID,contractID,timeEntryID,billingCodeID,description,"
        "quantity,rate,extendedPrice,purchaseOrderNumber,invoiceID,nonBillable,udfRegion",
        "TimeEntries": "id,dateWorked,ticketID,resourceID,billingCodeID,hoursWorked,offsetHours,hoursToBill,"
        "summaryNotes",
        "Tickets": "id,companyID,contractID,purchaseOrderNumber",
        "Companies": "id,companyName",
        "BillingCodes": "id,name,unitPrice",
        "po_reference": "purchaseOrderNumber,companyID,authorizedAmount,currencyCode,validFrom,validTo",
    },
    "reporting": {
        "BillingItems": "billing_item_id,item_date,company_id,contract_id,time_entry_id,billing_code_id,"
        "description,quantity,rate,billable_amount,purchase_order_number,invoice_id,non_billable,region_code",
        "TimeEntries": "time_entry_id,date_worked,ticket_id,resource_id,billing_code_id,hours_worked,"
        "offset_hours,hours_to_bill,summary_notes",
        "Tickets": "ticket_id,company_id,contract_id,purchase_order_number",
        "Companies": "company_id,company_name",
        "BillingCodes": "billing_code_id,billing_code_name,unit_price",
        "po_reference": "po_number,company_id,authorised_amount,currency,valid_from,valid_to",
    },
    "screen": {
        "BillingItems": "Item ID,Item Date,Company ID,Contract ID,Time Entry ID,Billing Code ID,Description,"
        "Quantity,Rate,Billable Amount,Purchase Order Number,Invoice ID,Non-Billable,Region (UDF)",
        "TimeEntries": "Time Entry ID,Date Worked,Ticket ID,Resource ID,Billing Code ID,Hours Worked,"
        "Offset Hours,Hours To Bill,Summary Notes",
        "Tickets": "Ticket ID,Company ID,Contract ID,Purchase Order Number",
        "Companies": "Company ID,Company Name",
        "BillingCodes": "Billing Code ID,Name,Unit Price",
        "po_reference": "PO Number,Customer ID,Authorised Amount,Currency,Valid From,Valid To",
    },
}

FILE_NAMES = {  # per-table files, spelt the ways people save them
    "xlsx": {
        "BillingItems": "BILLING_ITEMS",
        "TimeEntries": "Time Entries",
        "Tickets": "tickets",
        "Companies": "COMPANIES",
        "BillingCodes": "billing_codes",
        "po_reference": "PO Reference",
    },
    "csv": {
        "BillingItems": "billing-items",
        "TimeEntries": "Time-Entries",
        "Tickets": "Tickets",
        "Companies": "Companies",
        "BillingCodes": "BillingCodes",
        "po_reference": "po-reference",
    },
}


def table_text(style: str, sheet: str) -> str:
    return HEADINGS[style][sheet] + "\n" + textwrap.dedent(BODY[sheet]).strip("\n")


def write_month(folder: Path, form: str, style: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if form == "workbook":
        write_xlsx(folder / "October 2026.xlsx", {sheet: table_text(style, sheet) for sheet in BODY})
    elif form == "xlsx":
        for sheet, stem in FILE_NAMES["xlsx"].items():
            write_xlsx(folder / f"{stem}.xlsx", {"Sheet1": table_text(style, sheet)})
    else:
        for sheet, stem in FILE_NAMES["csv"].items():
            write_csv(folder / f"{stem}.csv", table_text(style, sheet))
    return folder


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, object]]:
    """Rows of the given columns with every kind of missing value as None (NaN != NaN)."""
    out = frame[columns].astype(object)
    return out.where(out.notna(), None).to_dict("records")


def canonical(spec: schema.TableSpec) -> list[str]:
    return [c.name for c in spec.columns]


FORMS = [
    (form, style) for form in ("xlsx", "csv", "workbook") for style in ("autotask", "reporting", "screen")
]
D = Decimal


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], object]:
    base = tmp_path_factory.mktemp("forms")
    return {
        (form, style): load_inputs(write_month(base / f"{form}-{style}", form, style))
        for form, style in FORMS
    }


@pytest.mark.parametrize(("form", "style"), FORMS)
def test_every_form_and_heading_style_gives_the_same_typed_frames(months, form: str, style: str) -> None:
    inputs = months[(form, style)]
    baseline = months[("csv", "autotask")]
    assert sorted(inputs.tables) == [
        "billing_codes",
        "billing_items",
        "companies",
        "po_budgets",
        "tickets",
        "time_entries",
    ]
    assert inputs.issues == []
    for name, frame in inputs.tables.items():
        cols = canonical(schema.SPECS[name])
        assert list(frame.columns[: len(cols)]) == cols
        assert records(frame, cols) == records(baseline.tables[name], cols), name


@pytest.mark.parametrize(("form", "style"), FORMS)
def test_typed_values_are_exact_text_ids_decimals_and_dates(months, form: str, style: str) -> None:
    inputs = months[(form, style)]
    items = inputs.tables["billing_items"]
    got = records(
        items,
        [
            "item_id",
            "item_date",
            "customer_id",
            "contract_id",
            "time_entry_id",
            "quantity",
            "rate",
            "amount",
            "po_number",
            "invoice_id",
            "non_billable",
        ],
    )
    assert got == [
        {
            "item_id": "5001",
            "item_date": pd.Timestamp("2026-10-03"),
            "customer_id": "101",
            "contract_id": "701",
            "time_entry_id": "9001",
            "quantity": D("3.175"),
            "rate": D("100"),
            "amount": D("386.645"),
            "po_number": "po-4711",
            "invoice_id": "0",
            "non_billable": False,
        },
        {
            "item_id": "5002",
            "item_date": pd.Timestamp("2026-10-06"),
            "customer_id": "102",
            "contract_id": None,
            "time_entry_id": None,
            "quantity": D("2"),
            "rate": D("12.5"),
            "amount": D("25"),
            "po_number": None,
            "invoice_id": "0",
            "non_billable": False,
        },
        {
            "item_id": "5003",
            "item_date": pd.Timestamp("2026-10-07"),
            "customer_id": "101",
            "contract_id": "701",
            "time_entry_id": None,
            "quantity": D("1"),
            "rate": D("-50"),
            "amount": D("-50"),
            "po_number": "PO-4711",
            "invoice_id": "0",
            "non_billable": False,
        },
    ]
    # exact decimals, never floats; ids are text
    assert all(isinstance(v, Decimal) for v in items["amount"])
    assert str(items["amount"].iloc[0]).rstrip("0") == "386.645"
    assert items["item_date"].dtype == "datetime64[ns]"
    assert pd.api.types.is_string_dtype(items["customer_id"])
    # data rows are numbered as Excel shows them: two title rows, headings on row 3
    assert list(items["_row"]) == ([2, 3, 4] if form == "csv" else [4, 5, 6])
    te = inputs.tables["time_entries"]
    assert records(
        te, ["item_id", "ticket_id", "resource_id", "hours_worked", "offset_hours", "hours_to_bill"]
    ) == [
        {
            "item_id": "9101",
            "ticket_id": "88",
            "resource_id": "7",
            "hours_worked": D("1.5"),
            "offset_hours": D("0.25"),
            "hours_to_bill": None,
        },
        {
            "item_id": "9102",
            "ticket_id": "88",
            "resource_id": "7",
            "hours_worked": D("2"),
            "offset_hours": D("0"),
            "hours_to_bill": D("1.75"),
        },
    ]
    ref = inputs.tables["po_budgets"]
    assert records(
        ref, ["po_number", "customer_id", "authorised_amount", "currency", "valid_from", "valid_to"]
    ) == [
        {
            "po_number": "PO-4711",
            "customer_id": "101",
            "authorised_amount": D("1000"),
            "currency": "EUR",
            "valid_from": pd.Timestamp("2026-01-01"),
            "valid_to": pd.Timestamp("2026-12-31"),
        },
        {
            "po_number": "PO-9000",
            "customer_id": "102",
            "authorised_amount": D("500"),
            "currency": "EUR",
            "valid_from": None,
            "valid_to": None,
        },
    ]
    assert list(inputs.tables["companies"]["customer_name"]) == ["Acme Industrie GmbH", "Müller & Söhne KG"]


@pytest.mark.parametrize(("form", "style"), FORMS)
def test_every_form_gives_the_same_prepared_items(months, form: str, style: str) -> None:
    prep = prepare_items(months[(form, style)], Period.parse("2026-10"))
    prep, _ = check_pos(prep, reference_table(prep.inputs.table("po_budgets")))
    got = records(
        prep.items.sort_values(["source_table", "item_id"]),
        ["source_table", "item_id", "amount_minor", "po_number", "customer_id", "customer_name"],
    )
    assert got == [
        {
            "source_table": "billing_items",
            "item_id": "5001",
            "amount_minor": 38665,
            "po_number": "PO-4711",
            "customer_id": "101",
            "customer_name": "Acme Industrie GmbH",
        },
        {
            "source_table": "billing_items",
            "item_id": "5002",
            "amount_minor": 2500,
            "po_number": "",
            "customer_id": "102",
            "customer_name": "Müller & Söhne KG",
        },
        {
            "source_table": "billing_items",
            "item_id": "5003",
            "amount_minor": -5000,
            "po_number": "PO-4711",
            "customer_id": "101",
            "customer_name": "Acme Industrie GmbH",
        },
        # 1.5 worked + 0.25 offset, and 1.75 to bill, at the billing code's 120.00; PO from the ticket
        {
            "source_table": "time_entries",
            "item_id": "9101",
            "amount_minor": 21000,
            "po_number": "PO-9000",
            "customer_id": "102",
            "customer_name": "Müller & Söhne KG",
        },
        {
            "source_table": "time_entries",
            "item_id": "9102",
            "amount_minor": 21000,
            "po_number": "PO-9000",
            "customer_id": "102",
            "customer_name": "Müller & Söhne KG",
        },
    ]
    assert prep.held.empty
    # Autotask's real row: 3.175 x 100 is 317.50, not the 386.645 posted (a block-hour factor): flagged,
    # and the supplied amount invoiced
    assert [(i.reason, i.action, i.item_id) for i in prep.issues] == [("amount_mismatch", "flagged", "5001")]


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("billing-items", "billing_items"),
        ("BILLING_ITEMS", "billing_items"),
        ("Billing Items", "billing_items"),
        ("Time Entries", "time_entries"),
        ("time-entries", "time_entries"),
        ("TicketCharges", "charges"),
        ("ticket_charges", "charges"),
        ("Contract Charges", "charges"),
        ("po_reference", "po_budgets"),
        ("PO-Reference", "po_budgets"),
        ("Billing Codes", "billing_codes"),
        ("customers", "companies"),
        ("invoices", None),
        ("Sheet1", None),
        ("billing items 2026-10", "billing_items"),  # a trailing period or date is ignored
    ],
)
def test_table_names_ignore_case_spaces_underscores_and_hyphens(name: str, table: str | None) -> None:
    spec = schema.table_for(name)
    assert (spec.name if spec else None) == table


def test_charge_files_keep_their_kind_as_source_table(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "ticket-charges.csv",
        """
        id,datePurchased,companyID,unitQuantity,unitPrice,billableAmount
        1,2026-10-01,101,1,10,10
    """,
    )
    write_csv(
        tmp_path / "Contract Charges.csv",
        """
        id,datePurchased,companyID,unitQuantity,unitPrice,billableAmount
        1,2026-10-01,101,1,20,20
    """,
    )
    charges = load_inputs(tmp_path).tables["charges"]
    assert sorted(charges["_source"]) == ["contract_charges", "ticket_charges"]


# --- cells -----------------------------------------------------------------------------------------


def test_excel_serial_dates_in_csv_and_real_date_cells_read_as_the_same_day(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        id,itemDate,companyID,extendedPrice
        1,46300,101,10.00
        2,46300.0,101,10.00
        3,2026-10-05T00:00:00Z,101,10.00
        4,05.10.2026,101,10.00
    """,
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Charges"
    ws.append(["Charges export"])
    ws.append([])
    ws.append(["id", "datePurchased", "companyID", "billableAmount"])
    ws.append([1, dt.date(2026, 10, 5), 101, 10])
    ws["B4"].number_format = "d-mmm-yy"
    ws.append([2, 46300, 101, 10])  # a serial number in a General cell
    wb.save(tmp_path / "charges.xlsx")
    inputs = load_inputs(tmp_path)
    assert inputs.issues == []
    assert list(inputs.tables["billing_items"]["item_date"]) == [pd.Timestamp("2026-10-05")] * 4
    assert list(inputs.tables["charges"]["item_date"]) == [pd.Timestamp("2026-10-05")] * 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("no", False),
        ("1", True),
        ("0", False),
        ("TRUE", True),
        ("False", False),
        ("Y", True),
        ("-1", True),
        ("", None),
    ],
)
def test_bool_spellings(tmp_path: Path, value: str, expected: bool | None) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        f"""
        id,itemDate,companyID,extendedPrice,isNonBillable
        1,2026-10-05,101,10.00,{value}
    """,
    )
    inputs = load_inputs(tmp_path)
    assert inputs.issues == []
    assert inputs.tables["billing_items"]["non_billable"].iloc[0] is expected


def test_bool_column_in_xlsx_with_real_booleans_and_numbers(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "BillingItems.xlsx", {"BillingItems": "id,itemDate,companyID,extendedPrice,nonBillable"}
    )
    wb = openpyxl.load_workbook(tmp_path / "BillingItems.xlsx")
    for row in (
        [1, dt.date(2026, 10, 1), 101, 1.5, True],
        [2, dt.date(2026, 10, 1), 101, 1.5, 0],
        [3, dt.date(2026, 10, 1), 101, 1.5, "Yes"],
    ):
        wb.active.append(row)
    wb.save(tmp_path / "BillingItems.xlsx")
    assert list(load_inputs(tmp_path).tables["billing_items"]["non_billable"]) == [True, False, True]


def test_unknown_extra_columns_are_tolerated_and_ignored(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        Region (UDF),id,itemDate,companyID,extendedPrice,Notes for finance,amount2
        North,1,2026-10-05,101,10.00,call first,999
    """,
    )
    inputs = load_inputs(tmp_path)
    items = inputs.tables["billing_items"]
    assert inputs.issues == []
    assert records(items, ["item_id", "customer_id", "amount"]) == [
        {"item_id": "1", "customer_id": "101", "amount": D("10.00")}
    ]
    assert inputs.headings["billing_items"] == {
        "item_id": "id",
        "item_date": "itemDate",
        "customer_id": "companyID",
        "amount": "extendedPrice",
    }


def test_a_title_row_that_looks_almost_like_a_header_is_skipped(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "BillingItems.xlsx",
        {
            "BillingItems": """
            id,itemDate,companyID,description,extendedPrice,purchaseOrderNumber
            1,2026-10-05,101,Patch,10.00,PO-1
        """
        },
        titles=(
            ["Billing Items"],
            ["Date", "Customer", "Amount"],
        ),  # aliases of item_date, customer_name, amount
    )
    inputs = load_inputs(tmp_path)
    items = inputs.tables["billing_items"]
    assert inputs.issues == []
    assert list(items["_row"]) == [4]
    assert records(items, ["item_id", "item_date", "customer_id", "amount", "po_number"]) == [
        {
            "item_id": "1",
            "item_date": pd.Timestamp("2026-10-05"),
            "customer_id": "101",
            "amount": D("10"),
            "po_number": "PO-1",
        }
    ]


def test_csv_with_title_rows_and_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    # a European Excel "CSV (semicolon)" save: 3,175 is three and 175 thousandths, not 3175
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        Billing items;;;;;
        Oktober 2026;;;;;
        id;itemDate;companyID;quantity;rate;extendedPrice
        1;03.10.2026;101;3,175;100,00;386,645
        2;04.10.2026;101;2,5;1.080,00;2.700,00
    """,
    )
    items = load_inputs(tmp_path).tables["billing_items"]
    assert records(items, ["item_id", "item_date", "quantity", "rate", "amount", "_row"]) == [
        {
            "item_id": "1",
            "item_date": pd.Timestamp("2026-10-03"),
            "quantity": D("3.175"),
            "rate": D("100"),
            "amount": D("386.645"),
            "_row": 4,
        },
        {
            "item_id": "2",
            "item_date": pd.Timestamp("2026-10-04"),
            "quantity": D("2.5"),
            "rate": D("1080"),
            "amount": D("2700"),
            "_row": 5,
        },
    ]


def test_excel_sep_hint_line_sets_the_delimiter(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        sep=;
        id;itemDate;companyID;extendedPrice
        1;03.10.2026;101;386,645
        2;04.10.2026;101;12,50
    """,
    )
    items = load_inputs(tmp_path).tables["billing_items"]
    assert records(items, ["item_id", "amount", "_row"]) == [
        {"item_id": "1", "amount": D("386.645"), "_row": 3},
        {"item_id": "2", "amount": D("12.50"), "_row": 4},
    ]


def test_blank_rows_are_dropped_and_rows_keep_their_excel_numbers(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "BillingItems.xlsx",
        {
            "BillingItems": """
        id,itemDate,companyID,extendedPrice
        1,2026-10-01,101,10.00
        ,,,
        2,2026-10-02,101,bad
    """
        },
    )
    inputs = load_inputs(tmp_path)
    assert list(inputs.tables["billing_items"]["_row"]) == [4, 6]
    assert [(i.row, i.column, i.value) for i in inputs.issues] == [(6, "extendedPrice", "bad")]


def test_cp1252_csv_is_read_with_an_encoding_flag(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        id,itemDate,companyID,extendedPrice
        1,2026-10-05,101,10.00
    """,
    )
    write_csv(
        tmp_path / "Companies.csv",
        """
        id,companyName
        101,Müller Präzision
    """,
        encoding="cp1252",
    )
    inputs = load_inputs(tmp_path)
    assert list(inputs.tables["companies"]["customer_name"]) == ["Müller Präzision"]
    [issue] = inputs.issues
    assert (issue.reason, issue.action, issue.file) == (ENCODING, "flagged", "Companies.csv")
    assert "Companies.csv" in issue.message and "line 2" in issue.message and "Windows-1252" in issue.message


def test_utf16_csv_with_bom_and_tabs_reads_like_utf8(tmp_path: Path) -> None:
    text = "id\titemDate\tcompanyID\tcompanyName\textendedPrice\n1\t2026-10-05\t101\tMüller\t10.00\n"
    (tmp_path / "BillingItems.csv").write_bytes(text.encode("utf-16"))  # BOM + UTF-16-LE, as Excel saves it
    assert (tmp_path / "BillingItems.csv").read_bytes()[:2] == b"\xff\xfe"
    inputs = load_inputs(tmp_path)
    assert inputs.issues == []
    assert records(inputs.tables["billing_items"], ["item_id", "customer_name", "amount"]) == [
        {"item_id": "1", "customer_name": "Müller", "amount": D("10.00")}
    ]


def test_utf8_bom_does_not_spoil_the_first_heading(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        id,itemDate,companyID,extendedPrice
        1,2026-10-05,101,10.00
    """,
        encoding="utf-8-sig",
    )
    assert list(load_inputs(tmp_path).tables["billing_items"]["item_id"]) == ["1"]


# --- whole-file problems: InputError naming the file and what is wrong --------------------------------

GOOD_ITEMS = """
    id,itemDate,companyID,extendedPrice
    1,2026-10-05,101,10.00
"""


def test_corrupt_xlsx_names_the_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "BillingItems.csv", GOOD_ITEMS)
    (tmp_path / "Companies.xlsx").write_bytes(os.urandom(2048))
    with pytest.raises(InputError, match=r"^Companies\.xlsx: cannot be read as an Excel workbook"):
        load_inputs(tmp_path)


def test_truncated_xlsx_names_the_file(tmp_path: Path) -> None:
    data = write_xlsx(tmp_path / "x.xlsx", {"BillingItems": GOOD_ITEMS}).read_bytes()
    (tmp_path / "x.xlsx").unlink()
    (tmp_path / "billing items.xlsx").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"^billing items\.xlsx: cannot be read"):
        load_inputs(tmp_path)


def test_empty_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "TimeEntries.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"^TimeEntries\.csv: the file is empty$"):
        load_inputs(tmp_path)


def test_csv_of_blank_lines_is_an_empty_sheet(tmp_path: Path) -> None:
    (tmp_path / "TimeEntries.csv").write_text("\n,,,\n\n")
    with pytest.raises(InputError, match=r"^TimeEntries\.csv: the sheet is empty \(table time_entries\)$"):
        load_inputs(tmp_path)


def test_binary_data_named_csv_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "BillingItems.csv").write_bytes(b"PK\x03\x04\x00\x00" + os.urandom(64))
    with pytest.raises(InputError, match=r"^BillingItems\.csv: is not a text CSV file"):
        load_inputs(tmp_path)


def test_workbook_whose_sheets_match_no_table_lists_what_was_found(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "October export.xlsx", {"Sheet1": GOOD_ITEMS, "Pivot": "a,b\n1,2"})
    with pytest.raises(InputError) as err:
        load_inputs(tmp_path)
    message = str(err.value)
    assert "no billable table found" in message
    assert "October export.xlsx [Sheet1]" in message and "October export.xlsx [Pivot]" in message


def test_only_a_companies_file_is_not_a_billing_month(tmp_path: Path) -> None:
    write_csv(tmp_path / "Companies.csv", "id,companyName\n101,Acme")
    (tmp_path / "readme.txt").write_text("notes")
    with pytest.raises(InputError) as err:
        load_inputs(tmp_path)
    assert "no billable table found" in str(err.value)
    assert "Tables read: Companies.csv" in str(err.value) and "ignored: readme.txt" in str(err.value)


def test_missing_required_column_names_file_sheet_column_and_heading_row(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "BillingItems.xlsx",
        {
            "Posted": """
        Item ID,Company ID,Billable Amount
        1,101,10.00
    """
        },
    )
    with pytest.raises(InputError) as err:
        load_inputs(tmp_path)
    assert str(err.value) == (
        "BillingItems.xlsx, sheet Posted: table billing_items is missing the required column(s) "
        "item_date (e.g. itemDate or Item Date) (heading row 3 has: Item ID, Company ID, Billable Amount)"
    )


def test_missing_amount_and_quantity_is_a_missing_column(tmp_path: Path) -> None:
    write_csv(tmp_path / "ContractCharges.csv", "id,datePurchased,companyID\n1,2026-10-01,101")
    with pytest.raises(
        InputError,
        match=r"^ContractCharges\.csv: .* missing the required column\(s\) amount or "
        r"quantity \(heading row 1 has: id, datePurchased, companyID\)",
    ):
        load_inputs(tmp_path)


def test_no_heading_row_at_all(tmp_path: Path) -> None:
    write_csv(tmp_path / "BillingItems.csv", "foo,bar\n1,2")
    with pytest.raises(InputError, match=r"^BillingItems\.csv: no heading row found in the first 30 rows"):
        load_inputs(tmp_path)


def test_missing_inputs_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the inputs folder does not exist"):
        load_inputs(tmp_path / "nope")


def test_empty_required_cell_is_an_invalid_row_naming_the_heading(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "BillingItems.xlsx",
        {
            "BillingItems": """
        Item ID,Item Date,Company ID,Billable Amount
        1,2026-10-05,101,10.00
        2,,101,10.00
    """
        },
    )
    inputs = load_inputs(tmp_path)
    [issue] = inputs.issues
    assert (issue.reason, issue.action, issue.item_id, issue.row, issue.column) == (
        INVALID_ROW,
        "held",
        "2",
        5,
        "Item Date",
    )
    assert issue.message == "BillingItems.xlsx, sheet BillingItems, row 5, column Item Date: is empty"
    assert list(inputs.tables["billing_items"]["_bad"]) == [False, True]


def test_a_totals_row_at_the_end_of_a_report_is_left_out_with_a_flag_not_held(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "BillingItems.xlsx",
        {
            "BillingItems": """
                id,itemDate,companyID,extendedPrice
                1,2026-10-02,101,100.00
                2,2026-10-03,101,50.00
                ,,Total,150.00
            """
        },
    )
    inputs = load_inputs(tmp_path)
    assert inputs.table("billing_items")["item_id"].tolist() == ["1", "2"]
    [flag] = [i for i in inputs.issues if i.reason == "summary_row"]
    # two title rows, the heading on row 3, items on rows 4 and 5: the totals row is row 6
    assert (flag.action, flag.row, flag.file) == ("flagged", 6, "BillingItems.xlsx")
    assert "Total" in flag.message
    prep = prepare_items(inputs, Period.parse("2026-10"))
    assert prep.held.empty and sorted(prep.items["item_id"]) == ["1", "2"]


def test_a_row_with_no_id_that_is_not_a_total_is_still_held(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "BillingItems.xlsx",
        {
            "BillingItems": """
                id,itemDate,companyID,extendedPrice,description
                1,2026-10-02,101,100.00,Patching
                ,2026-10-03,101,50.00,Totally new switch
            """
        },
    )
    prep = prepare_items(load_inputs(tmp_path), Period.parse("2026-10"))
    assert prep.held["reason"].tolist() == ["invalid_row"]


@pytest.mark.parametrize(
    ("file_name", "table", "source"),
    [
        ("BillingItems_2026-10.csv", "billing_items", "billing_items"),
        ("TimeEntries (1).csv", "time_entries", "time_entries"),
        ("TicketCharges 2026-10-31.csv", "charges", "ticket_charges"),
        ("ContractCharges_final.csv", "charges", "contract_charges"),
    ],
)
def test_dated_and_copied_export_names_are_recognised(
    tmp_path: Path, file_name: str, table: str, source: str
) -> None:
    heading = {"billing_items": "id,itemDate,companyID,extendedPrice",
               "time_entries": "id,dateWorked,ticketID,hoursWorked",
               "charges": "id,datePurchased,companyID,billableAmount"}[table]  # fmt: skip
    (tmp_path / file_name).write_text(f"{heading}\n1,2026-10-02,101,10.00\n", encoding="utf-8")
    inputs = load_inputs(tmp_path)
    assert inputs.ignored == []
    assert inputs.table(table)["_source"].tolist() == [source]


# --- a large month is read in two processes: the same result as one ----------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def assert_same_inputs(a: inputs_mod.Inputs, b: inputs_mod.Inputs) -> None:
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    assert a.issues == b.issues
    assert (a.files, a.ignored, a.headings, a.sheet_headings) == (
        b.files,
        b.ignored,
        b.headings,
        b.sheet_headings,
    )


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_two_processes_read_the_sample_month_exactly_as_one(
    monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    monkeypatch.setattr(inputs_mod, "_worker_context", lambda: multiprocessing.get_context(start))
    one = load_inputs(SAMPLE, parallel=False)
    two = load_inputs(SAMPLE, parallel=True)
    assert_same_inputs(one, two)
    assert len(two.tables["billing_items"]) > 100 and two.issues  # the sample's bad rows are reported too


def test_the_worker_takes_the_smaller_files_and_the_split_is_even_by_size() -> None:
    sizes = {Path(n): s for n, s in (("a", 100), ("b", 60), ("c", 30), ("d", 20), ("e", 5))}
    mine, theirs = inputs_mod._split_for_two(list(sizes), sizes)
    assert mine[0] == Path("a") and set(mine) | set(theirs) == set(sizes) and not set(mine) & set(theirs)
    assert abs(sum(sizes[p] for p in mine) - sum(sizes[p] for p in theirs)) <= 20


def _worker_that_dies(paths: list[Path]) -> object:
    os._exit(3)


def test_a_worker_that_dies_is_replaced_by_reading_its_files_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs_mod, "_worker_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(inputs_mod, "_worker_load", _worker_that_dies)
    assert_same_inputs(load_inputs(SAMPLE, parallel=False), load_inputs(SAMPLE, parallel=True))


@pytest.mark.parametrize("parallel", [False, True])
def test_whole_file_errors_come_in_the_same_order_from_two_processes(tmp_path: Path, parallel: bool) -> None:
    # a file that cannot be read wins over a sheet lacking a column, whichever process met them
    write_xlsx(tmp_path / "BillingItems.xlsx", {"Sheet1": "Item ID,Company ID,Billable Amount\n1,101,10.00"})
    write_csv(
        tmp_path / "TimeEntries.csv", "id,dateWorked,ticketID,hoursWorked\n" + "9,2026-10-01,7,1\n" * 400
    )
    (tmp_path / "Tickets.xlsx").write_bytes(os.urandom(2048))
    with pytest.raises(InputError, match=r"^Tickets\.xlsx: cannot be read as an Excel workbook"):
        load_inputs(tmp_path, parallel=parallel)
    (tmp_path / "Tickets.xlsx").unlink()
    with pytest.raises(
        InputError, match=r"^BillingItems\.xlsx, sheet Sheet1: table billing_items is missing"
    ):
        load_inputs(tmp_path, parallel=parallel)


@pytest.mark.parametrize(("setting", "two"), [("1", False), ("2", True), ("", True)])
def test_billing_read_processes_decides_whether_a_worker_starts(
    monkeypatch: pytest.MonkeyPatch, setting: str, two: bool
) -> None:
    class NoWorkers:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("a worker was started")

    monkeypatch.setattr(inputs_mod, "_Worker", NoWorkers)
    monkeypatch.setattr(inputs_mod, "PARALLEL_MIN_BYTES", 0)  # the sample counts as a large month
    monkeypatch.setattr(inputs_mod, "_cores", lambda: 2)
    monkeypatch.setenv("BILLING_READ_PROCESSES", setting)
    if two:
        with pytest.raises(RuntimeError, match="a worker was started"):
            load_inputs(SAMPLE)
    else:
        assert load_inputs(SAMPLE).tables


def test_a_lone_comma_in_a_semicolon_csv_is_a_decimal_comma(tmp_path: Path) -> None:
    # every amount of the column has the shape of a thousands group: alone, 386,645 could be either.
    # Excel writes semicolon CSVs where the comma is the decimal mark, so there it is 386.645
    write_csv(
        tmp_path / "BillingItems.csv", "id;itemDate;companyID;extendedPrice\n1;03.10.2026;101;386,645\n"
    )
    items = load_inputs(tmp_path).tables["billing_items"]
    assert items["amount"].tolist() == [D("386.645")]


def test_a_lone_comma_in_a_comma_separated_csv_is_held_as_ambiguous(tmp_path: Path) -> None:
    # PowerShell in de-DE writes 386,645 for 386.645 even in a comma-separated file (issue #5131): with
    # nothing else in the file to tell, the value is held, never read as 386645 or 386.645 on a guess
    write_csv(
        tmp_path / "BillingItems.csv", 'id,itemDate,companyID,extendedPrice\n1,2026-10-03,101,"386,645"\n'
    )
    inputs = load_inputs(tmp_path)
    assert inputs.tables["billing_items"]["amount"].tolist() == [None]
    [issue] = inputs.issues
    assert (issue.reason, issue.action, issue.file, issue.row, issue.column, issue.value) == (
        "ambiguous_number",
        "held",
        "BillingItems.csv",
        2,
        "extendedPrice",
        "386,645",
    )


def test_a_semicolon_csv_written_with_decimal_points_keeps_them(tmp_path: Path) -> None:
    # 12.5 can only be a decimal point: the column's commas are thousands separators, its dots decimals
    write_csv(
        tmp_path / "BillingItems.csv",
        "id;itemDate;companyID;quantity;rate;extendedPrice\n"
        "1;2026-10-03;101;1.500;100;1,386.64\n"
        "2;2026-10-04;101;2;12.5;1,250\n",
    )
    items = load_inputs(tmp_path).tables["billing_items"]
    assert items["quantity"].tolist() == [D("1.500"), D("2")]
    assert items["amount"].tolist() == [D("1386.64"), D("1250")]


def test_ctrl_c_while_two_processes_read_stops_both_without_a_traceback(tmp_path: Path) -> None:
    # a month large enough to be read in two processes, interrupted while they read
    folder = tmp_path / "month"
    write_sample(folder, 40_000, period="2026-10")
    env = {**os.environ, "BILLING_READ_PROCESSES": "2"}
    billing = Path(sys.executable).parent / "billing"
    process = subprocess.Popen(
        [str(billing), "check", "--inputs", str(folder), "--register", str(tmp_path / "r.sqlite")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal would make it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # interrupt once both processes read (the worker exists): not during imports, whatever the machine's load
    import psutil

    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 60
    while not parent.children() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "the check ended before the worker was seen"
    time.sleep(0.2)  # both read now: the interrupt lands mid-read, not in the worker's start-up
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err.strip() == "billing: interrupted; nothing was written"
    assert "Traceback" not in err and out == ""
