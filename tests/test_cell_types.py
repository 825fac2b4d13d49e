"""cell_types: dates, yes/no values, decimal commas, blank and total rows, held cells with their place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from exports import write_xlsx
from input_files import D, records, write_csv

from billing_lib.core.rules import prepare_items
from billing_lib.domain.period import Period
from billing_lib.domain.records import INVALID_ROW
from billing_lib.io.inputs import load_inputs


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
