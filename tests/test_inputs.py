"""inputs.load_inputs: a month in every form and heading style reads to the same typed frames; whole-folder problems."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from exports import write_xlsx
from input_files import D, canonical, records, write_csv

from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import prepare_items
from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.domain.period import Period
from billing_lib.io.inputs import load_inputs

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


FORMS = [
    (form, style) for form in ("xlsx", "csv", "workbook") for style in ("autotask", "reporting", "screen")
]


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


def test_missing_inputs_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the inputs folder does not exist"):
        load_inputs(tmp_path / "nope")
