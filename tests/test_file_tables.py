"""file_tables: which file and sheet is which table; files that are not read are said."""

from __future__ import annotations

from pathlib import Path

import pytest
from exports import write_xlsx
from input_files import GOOD_ITEMS, write_csv

from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.io.inputs import load_inputs


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
