"""headings: the heading row found below title rows; extra columns ignored; missing columns named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from exports import write_xlsx
from input_files import D, records, write_csv

from billing_lib.domain.errors import InputError
from billing_lib.io.inputs import load_inputs


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
