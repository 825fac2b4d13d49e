"""rules.prepare_items: SPEC section 2 rules, and the bad-row corpus.

Every bad row is held (in ``prep.held`` with its reason, never in ``prep.items``) and its issue names
the file, the sheet, the row as Excel shows it (two title rows, headings on row 3, first data row 4)
and the column heading as the user wrote it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from exports import write_xlsx

from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import (
    Facts,
    Finding,
    Prepared,
    check_currency,
    check_customer,
    check_late,
    check_negative_hours,
    check_po_formula,
    decide,
    issues_for,
    prepare_items,
)
from billing_lib.domain.period import Period
from billing_lib.domain.records import DUPLICATE_ITEM, INVALID_ROW, LATE, NO_RATE, UNKNOWN_PO, Issue
from billing_lib.io.inputs import load_inputs

TITLES = (["Autotask export"], ["Run 2026-11-01"])


def month(folder: Path, **tables: str) -> Path:
    """One xlsx file per table (``BillingItems=...``), two title rows above the headings, typed cells."""
    for name, text in tables.items():
        write_xlsx(folder / f"{name}.xlsx", {name: text}, TITLES)
    return folder


def prepared(folder: Path, period: str = "2026-10") -> Prepared:
    prep = prepare_items(load_inputs(folder), Period.parse(period))
    prep, _ = check_pos(prep, reference_table(prep.inputs.table("po_budgets")))
    return prep


def held(prep: Prepared, item_id: str, reason: str, source: str | None = None) -> Issue:
    """Assert the item is held for ``reason`` and on no invoice; return its issue."""
    rows = prep.held[prep.held["item_id"] == item_id]
    if source:
        rows = rows[rows["source_table"] == source]
    assert list(rows["reason"]) == [reason], f"{item_id} held as {list(rows['reason'])}"
    places = set(zip(rows["_file"], rows["_row"], strict=True))
    assert not places & set(zip(prep.items["_file"], prep.items["_row"], strict=True)), (
        f"{item_id} also invoiceable"
    )
    [issue] = [
        i
        for i in prep.issues
        if i.item_id == item_id and i.reason == reason and (source is None or i.source_table == source)
    ]
    assert issue.action == "held"
    return issue


def kept_ids(prep: Prepared) -> list[str]:
    return sorted(prep.items["item_id"])


# --- bad rows: held with file, row and heading ---------------------------------------------------------


def test_duplicate_item_ids_keep_the_first_and_hold_later_copies(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        Item ID,Item Date,Company ID,Billable Amount
        1,2026-10-01,101,10.00
        2,2026-10-01,101,20.00
        1,2026-10-02,101,30.00
        1,2026-10-03,101,40.00
    """,
        )
    )
    assert list(prep.items["amount_minor"]) == [1000, 2000]  # the first copy of 1 is the one kept
    assert list(prep.held["_row"]) == [6, 7]
    assert list(prep.held["reason"]) == [DUPLICATE_ITEM, DUPLICATE_ITEM]
    issues = [i for i in prep.issues if i.reason == DUPLICATE_ITEM]
    assert [i.message for i in issues] == [
        f"BillingItems.xlsx, sheet BillingItems, row {row}, column Item ID: "
        "item id 1 appears again (first on row 4)"
        for row in (6, 7)
    ]
    assert all(i.action == "held" and i.column == "Item ID" for i in issues)


def test_same_id_in_different_source_tables_is_not_a_duplicate(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,extendedPrice
        7,2026-10-01,101,10.00
    """,
            ContractCharges="""
        id,datePurchased,companyID,billableAmount
        7,2026-10-01,101,5.00
    """,
            TicketCharges="""
        id,datePurchased,companyID,billableAmount
        7,2026-10-01,101,2.50
    """,
        )
    )
    assert prep.held.empty
    assert sorted(prep.items["source_table"]) == ["billing_items", "contract_charges", "ticket_charges"]


def test_duplicate_across_two_files_of_one_table_names_the_first_file(tmp_path: Path) -> None:
    month(
        tmp_path,
        TimeEntries="""
        id,dateWorked,companyID,hoursToBill,hourlyRate
        9,2026-10-01,101,1,100
    """,
    )
    (tmp_path / "time-entries.csv").write_text(
        "id,dateWorked,companyID,hoursToBill,hourlyRate\n9,2026-10-02,101,2,100\n"
    )
    prep = prepared(tmp_path)
    issue = held(prep, "9", DUPLICATE_ITEM)
    assert issue.message == (
        "time-entries.csv, row 2, column id: item id 9 appears again "
        "(first on TimeEntries.xlsx, sheet TimeEntries, row 4)"
    )


@pytest.mark.parametrize(
    ("heading", "value", "words"),
    [
        ("Item Date", "31/13/2026", "'31/13/2026' is not a valid date"),
        ("Item Date", "2026-02-30", "'2026-02-30' is not a valid date"),
        ("Item Date", "next Tuesday", "'next Tuesday' is not a valid date"),
        ("Billable Amount", "12.3.4", "'12.3.4' is not a valid number"),
        ("Billable Amount", "EUR twelve", "'EUR twelve' is not a valid number"),
        ("Quantity", "two", "'two' is not a valid number"),  # n/a is a placeholder: no quantity (SPEC 2)
        ("Non-Billable", "maybe", "'maybe' is not a valid yes/no value"),
        (
            "Company ID",
            "",
            "no customer: neither the row nor its ticket, task, project or contract names one",
        ),
    ],
)
def test_unreadable_cells_hold_the_row_naming_file_row_and_heading(
    tmp_path: Path, heading: str, value: str, words: str
) -> None:
    good = {
        "Item ID": "2",
        "Item Date": "2026-10-05",
        "Company ID": "101",
        "Quantity": "2",
        "Rate": "5.00",
        "Billable Amount": "10.00",
        "Non-Billable": "no",
    }
    bad = {**good, "Item ID": "1", heading: value}
    header = ",".join(good)
    prep = prepared(
        month(tmp_path, BillingItems="\n".join([header, ",".join(bad.values()), ",".join(good.values())]))
    )
    issue = held(prep, "1", INVALID_ROW)
    assert (issue.file, issue.sheet, issue.row, issue.column) == (
        "BillingItems.xlsx",
        "BillingItems",
        4,
        heading,
    )
    assert issue.message == f"BillingItems.xlsx, sheet BillingItems, row 4, column {heading}: {words}"
    assert kept_ids(prep) == ["2"]
    assert list(prep.items["amount_minor"]) == [1000]


def test_negative_hours_on_a_time_entry_are_held_naming_the_hours_column_used(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            TimeEntries="""
        Time Entry ID,Date Worked,Company ID,Hours Worked,Offset Hours,Hours To Bill,Rate
        1,2026-10-05,101,-1.5,,,100
        2,2026-10-05,101,2,,-1,100
        3,2026-10-05,101,1,-2,,100
        4,2026-10-05,101,1,-0.5,,100
    """,
        )
    )
    assert held(prep, "1", INVALID_ROW).message == (
        "TimeEntries.xlsx, sheet TimeEntries, row 4, column Hours Worked: "
        "negative hours (-1.5) on a time entry"
    )
    assert held(prep, "2", INVALID_ROW).column == "Hours To Bill"
    assert held(prep, "3", INVALID_ROW).column == "Hours Worked"  # 1 worked - 2 offset
    assert list(prep.items["amount_minor"]) == [5000]  # 1 - 0.5 hours at 100


def test_messages_name_the_heading_of_the_rows_own_file(tmp_path: Path) -> None:
    month(
        tmp_path,
        TimeEntries="""
        Time Entry ID,Date Worked,Company ID,Hours Worked,Rate
        1,2026-10-05,101,-1,100
    """,
    )
    (tmp_path / "time_entries.csv").write_text(
        "id,dateWorked,ticketID,hoursWorked,hourlyRate\n2,2026-10-05,,-1,100\n3,2026-10-05,,1,100\n"
    )
    prep = prepared(tmp_path)
    assert held(prep, "1", INVALID_ROW).column == "Hours Worked"
    assert held(prep, "2", INVALID_ROW).column == "hoursWorked"
    assert held(prep, "3", INVALID_ROW).message == (
        "time_entries.csv, row 3, column companyID: no customer: "
        "neither the row nor its ticket, task, project or contract names one"
    )


def test_negative_amounts_on_billing_items_are_credits_not_errors(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,quantity,rate,extendedPrice
        1,2026-10-05,101,-1,100,-100
        2,2026-10-05,101,1,100,
    """,
        )
    )
    assert prep.held.empty
    assert list(prep.items["amount_minor"]) == [-10000, 10000]


def test_missing_customer_is_held_unless_a_link_supplies_one(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            ProjectCharges="""
        Charge ID,Date Purchased,Company ID,Contract ID,Ticket ID,Project ID,Billable Amount
        1,2026-10-05,,,,,10.00
        2,2026-10-05,,C1,,,10.00
        3,2026-10-05,,,T1,,10.00
        4,2026-10-05,,,,P1,10.00
        5,2026-10-05,,C9,T9,P9,10.00
    """,
            Contracts="""
        id,companyID
        C1,101
    """,
            Tickets="""
        id,companyID
        T1,102
    """,
            Projects="""
        id,companyID
        P1,103
    """,
        )
    )
    issue = held(prep, "1", INVALID_ROW)
    assert issue.message == (
        "ProjectCharges.xlsx, sheet ProjectCharges, row 4, column Company ID: no customer: "
        "neither the row nor its ticket, task, project or contract names one"
    )
    assert held(prep, "5", INVALID_ROW).row == 8  # links to records that do not exist
    assert dict(zip(prep.items["item_id"], prep.items["customer_id"], strict=True)) == {
        "2": "101",
        "3": "102",
        "4": "103",
    }
    assert set(prep.items["source_table"]) == {"project_charges"}


def test_time_entry_takes_its_customer_through_ticket_or_task_and_project(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            TimeEntries="""
        id,dateWorked,ticketID,taskID,hoursToBill,billingCodeID
        1,2026-10-05,88,,1,30
        2,2026-10-05,,55,1,30
        3,2026-10-05,,,1,30
    """,
            Tickets="""
        id,companyID
        88,101
    """,
            Tasks="""
        id,projectID
        55,600
    """,
            Projects="""
        id,companyID
        600,102
    """,
            BillingCodes="""
        id,name,unitPrice
        30,Remote support,95.0000
    """,
        )
    )
    assert dict(zip(prep.items["item_id"], prep.items["customer_id"], strict=True)) == {
        "1": "101",
        "2": "102",
    }
    assert list(prep.items["amount_minor"]) == [9500, 9500]
    assert held(prep, "3", INVALID_ROW).row == 6


def test_time_entry_without_a_rate_is_held_no_rate(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            TimeEntries="""
        id,dateWorked,companyID,hoursWorked,billingCodeID
        1,2026-10-05,101,2,30
        2,2026-10-05,101,2,31
        3,2026-10-05,101,2,99
        4,2026-10-05,101,2,
    """,
            BillingCodes="""
        Billing Code ID,Name,Unit Price
        30,Labour,120.0000
        31,Internal,
    """,
        )
    )
    assert held(prep, "2", NO_RATE).message == (
        "TimeEntries.xlsx, sheet TimeEntries, row 5, column billingCodeID: no rate: no rate column, "
        "no contract rate for contract (none) and role (none) (ContractRates), no hourly rate for role (none) "
        "(Roles), and work type 31 has no unit price above 0"
    )
    held(prep, "3", NO_RATE)  # a code the billing codes table does not know
    held(prep, "4", NO_RATE)
    assert list(prep.items["amount_minor"]) == [24000]


def test_time_entry_own_rate_or_amount_wins_over_billing_code_price(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            TimeEntries="""
        id,dateWorked,companyID,hoursToBill,billingCodeID,hourlyRate,billableAmount
        1,2026-10-05,101,2,30,,
        2,2026-10-05,101,2,30,150,
        3,2026-10-05,101,2,30,150,333.335
    """,
            BillingCodes="""
        id,unitPrice
        30,120
    """,
        )
    )
    assert list(prep.items["amount_minor"]) == [24000, 30000, 33334]


def test_hours_to_bill_else_hours_worked_plus_offset(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            TimeEntries="""
        id,dateWorked,companyID,hoursWorked,offsetHours,hoursToBill,hourlyRate
        1,2026-10-05,101,1.5000,0.2500,,100.0000
        2,2026-10-05,101,1.5000,0.2500,1.0000,100.0000
        3,2026-10-05,101,1.5000,,,100.0000
        4,2026-10-05,101,0.3333,0.0000,,100.0000
    """,
        )
    )
    assert [Decimal(q) for q in prep.items["quantity"]] == [
        Decimal("1.75"),
        Decimal(1),
        Decimal("1.5"),
        Decimal("0.3333"),
    ]
    assert list(prep.items["amount_minor"]) == [17500, 10000, 15000, 3333]


def test_non_billable_and_already_invoiced_are_skipped_and_counted(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,extendedPrice,nonBillable,invoiceID,invoiceNumber
        1,2026-10-05,101,10.00,0,0,
        2,2026-10-05,101,10.00,1,0,
        3,2026-10-05,101,10.00,yes,,
        4,2026-10-05,101,10.00,0,4711,
        5,2026-10-05,101,10.00,0,,INV-202609-0001
        6,2026-10-05,101,10.00,TRUE,4711,
        7,2026-10-05,101,10.00,no,,
    """,
            ContractCharges="""
        id,datePurchased,companyID,billableAmount,isBillableToCompany,isBilled
        1,2026-10-05,101,5.00,false,false
        2,2026-10-05,101,5.00,true,true
        3,2026-10-05,101,5.00,True,0
    """,
        )
    )
    assert sorted(zip(prep.items["source_table"], prep.items["item_id"], strict=True)) == [
        ("billing_items", "1"),
        ("billing_items", "7"),
        ("contract_charges", "3"),
    ]
    # isBilled is Autotask's Approve & Post, not invoiced: with no posted BillingItems row for it, charge 2
    # is held, never called invoiced
    assert list(zip(prep.held["item_id"], prep.held["reason"], strict=True)) == [("2", "posted_elsewhere")]
    assert prep.skipped["non_billable"] == 4  # items 2, 3, 6 (non-billable wins over invoiced) and charge 1
    assert prep.skipped["already_invoiced"] == 2  # items 4 and 5
    assert prep.read == 10


def test_items_in_the_register_are_skipped_as_already_invoiced(tmp_path: Path) -> None:
    folder = month(
        tmp_path,
        BillingItems="""
        id,itemDate,companyID,extendedPrice
        1,2026-10-05,101,10.00
        2,2026-10-05,101,10.00
    """,
    )
    prep = prepare_items(load_inputs(folder), Period.parse("2026-10"), registered={"billing_item:2"})
    assert kept_ids(prep) == ["1"]
    assert prep.skipped["already_invoiced"] == 1


def test_time_entries_posted_as_billing_items_are_not_billed_twice(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,timeEntryID,extendedPrice
        1,2026-10-05,101,900,100.00
    """,
            TimeEntries="""
        id,dateWorked,companyID,hoursToBill,hourlyRate
        900,2026-10-05,101,1,100
        901,2026-10-05,101,1,100
    """,
        )
    )
    assert sorted(zip(prep.items["source_table"], prep.items["item_id"], strict=True)) == [
        ("billing_items", "1"),
        ("time_entries", "901"),
    ]
    assert prep.skipped["posted_as_billing_item"] == 1


def test_period_after_end_is_skipped_before_start_is_flagged_late(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,extendedPrice
        1,2026-10-01,101,10.00
        2,2026-10-31,101,10.00
        3,2026-11-01,101,10.00
        4,2026-09-30,101,10.00
        5,2025-12-31,101,10.00
    """,
        )
    )
    assert kept_ids(prep) == ["1", "2", "4", "5"]
    assert prep.skipped["after_period"] == 1
    assert dict(zip(prep.items["item_id"], prep.items["late"], strict=True)) == {
        "1": False,
        "2": False,
        "4": True,
        "5": True,
    }
    late = [i for i in prep.issues if i.reason == LATE]
    assert [(i.item_id, i.action) for i in late] == [("4", "flagged"), ("5", "flagged")]
    assert late[0].message == (
        "BillingItems.xlsx, sheet BillingItems, row 7: dated 2026-09-30, before the period "
        "2026-10; invoiced now"
    )
    # the same folder for November takes item 3 too, and flags the October ones late
    assert kept_ids(prepared(tmp_path, "2026-11")) == ["1", "2", "3", "4", "5"]


def test_bad_rows_after_the_period_are_still_held(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,extendedPrice
        1,2026-11-05,101,ten
    """,
        )
    )
    held(prep, "1", INVALID_ROW)
    assert prep.skipped["after_period"] == 0


# --- PO cascade and matching --------------------------------------------------------------------------


def test_po_numbers_match_after_trimming_and_case_folding_in_the_reference_spelling(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,extendedPrice,purchaseOrderNumber
        1,2026-10-05,101,10.00," po-4711 "
        2,2026-10-05,101,10.00,PO-4711
        3,2026-10-05,101,10.00,Po-4711
        4,2026-10-05,101,10.00,PO-0000
        5,2026-10-05,101,10.00,
    """,
            po_reference="""
        PO Number,Customer ID,Authorised Amount
        PO-4711,101,1000
    """,
        )
    )
    assert list(prep.items["po_number"]) == ["PO-4711", "PO-4711", "PO-4711", "PO-0000", ""]
    assert prep.held.empty
    assert [(i.item_id, i.reason, i.action) for i in prep.issues] == [("4", UNKNOWN_PO, "flagged")]


def test_labour_takes_its_ticket_or_task_po_never_its_own(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            TimeEntries="""
        id,dateWorked,ticketID,taskID,hoursToBill,hourlyRate,purchaseOrderNumber
        1,2026-10-05,T1,,1,100,PO-OWN
        2,2026-10-05,T2,,1,100,PO-OWN
        3,2026-10-05,,K1,1,100,PO-OWN
        4,2026-10-05,,K2,1,100,PO-OWN
        5,2026-10-05,T3,,1,100,PO-OWN
    """,
            Tickets="""
        id,companyID,contractID,projectID,purchaseOrderNumber
        T1,101,C1,,PO-TICKET
        T2,101,C1,,
        T3,101,,,
    """,
            Tasks="""
        id,projectID,purchaseOrderNumber
        K1,P1,PO-TASK
        K2,P1,
    """,
            Projects="""
        id,companyID,contractID,purchaseOrderNumber
        P1,101,C1,PO-PROJECT
    """,
            Contracts="""
        id,companyID,purchaseOrderNumber
        C1,101,PO-CONTRACT
    """,
        )
    )
    got = dict(
        zip(
            prep.items["item_id"],
            zip(prep.items["po_number"], prep.items["po_source"], strict=True),
            strict=True,
        )
    )
    assert got == {
        "1": ("PO-TICKET", "task"),
        "2": ("PO-CONTRACT", "contract"),
        "3": ("PO-TASK", "task"),
        "4": ("PO-PROJECT", "project"),
        "5": ("", ""),
    }


def test_a_charge_own_po_overrides_its_contract_po(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            ContractCharges="""
        id,datePurchased,contractID,billableAmount,purchaseOrderNumber
        1,2026-10-05,C1,10.00,PO-CHARGE
        2,2026-10-05,C1,10.00,
        3,2026-10-05,C1,10.00,"  "
    """,
            Contracts="""
        id,companyID,purchaseOrderNumber
        C1,101,PO-CONTRACT
    """,
        )
    )
    assert list(prep.items["po_number"]) == ["PO-CHARGE", "PO-CONTRACT", "PO-CONTRACT"]
    assert list(prep.items["customer_id"]) == ["101", "101", "101"]


def test_posted_billing_items_keep_their_effective_po(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,contractID,timeEntryID,extendedPrice,purchaseOrderNumber
        1,2026-10-05,101,C1,900,10.00,PO-POSTED
        2,2026-10-05,101,C1,901,10.00,
    """,
            Contracts="""
        id,companyID,purchaseOrderNumber
        C1,101,PO-CONTRACT
    """,
        )
    )
    assert list(prep.items["po_number"]) == ["PO-POSTED", "PO-CONTRACT"]
    assert list(prep.items["kind"]) == ["labour", "labour"]


def test_bill_to_company_of_the_contract_is_the_customer(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            ContractCharges="""
        id,datePurchased,companyID,contractID,billableAmount
        1,2026-10-05,101,C1,10.00
    """,
            Contracts="""
        id,companyID,billToCompanyID
        C1,101,900
    """,
        )
    )
    assert list(prep.items["customer_id"]) == ["900"]


# --- amounts --------------------------------------------------------------------------------------------


def test_supplied_amount_wins_and_is_rounded_half_up_once(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,quantity,rate,extendedPrice,currencyCode
        1,2026-10-03,101,3.175,100,386.645,EUR
        2,2026-10-03,101,3.175,100,,EUR
        3,2026-10-03,101,1,0.005,,EUR
        4,2026-10-03,101,1,-0.005,,EUR
        5,2026-10-03,101,1,1234.5,,JPY
        6,2026-10-03,101,1,1.2345,,KWD
        7,2026-10-03,101,3.1750,100.0000,0.0000,EUR
    """,
        )
    )
    assert list(prep.items["amount_minor"]) == [38665, 31750, 1, -1, 1235, 1235, 0]
    assert list(prep.items["currency"]) == ["EUR"] * 4 + ["JPY", "KWD", "EUR"]


def test_currency_comes_from_the_customer_when_the_row_has_none(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,extendedPrice
        1,2026-10-03,101,1000.5
        2,2026-10-03,102,1000.5
    """,
            Companies="""
        id,companyName,currencyCode
        101,Tokyo KK,jpy
        102,Acme,
    """,
        )
    )
    assert list(prep.items["currency"]) == ["JPY", "EUR"]
    assert list(prep.items["amount_minor"]) == [1001, 100050]


def test_every_billable_row_read_is_kept_held_or_skipped_exactly_once(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,extendedPrice,nonBillable
        1,2026-10-05,101,10.00,0
        1,2026-10-05,101,10.00,0
        2,2026-13-05,101,10.00,0
        3,2026-11-05,101,10.00,0
        4,2026-10-05,101,10.00,1
        5,2026-10-05,,10.00,0
    """,
        )
    )
    assert prep.read == 6
    assert len(prep.items) + len(prep.held) + sum(prep.skipped.values()) == prep.read
    assert Counter(prep.held["reason"]) == Counter({DUPLICATE_ITEM: 1, INVALID_ROW: 2})
    assert set(prep.held["_row"]) & set(prep.items["_row"]) == set()
    assert pd.api.types.is_integer_dtype(prep.items["amount_minor"])


# --- the checks as functions of frames (no files): items from CSV text next to the assertions ---------


def items_of(text: str) -> pd.DataFrame:
    """An items frame from CSV text; every column is text, as the checks see ids and places."""
    import io
    import textwrap

    frame = pd.read_csv(io.StringIO(textwrap.dedent(text).strip()), dtype=str, keep_default_na=False)
    frame["_row"] = frame["_row"].astype(int)
    return frame


def facts_of(items: pd.DataFrame, **given: object) -> Facts:
    from billing_lib.io.inputs import Inputs

    base: dict[str, object] = {
        "inputs": Inputs(Path("."), {}),
        "period": Period.parse("2026-10"),
        "first_copy": {},
        "name_problems": pd.Series("", index=items.index),
        "unknown_currency": {},
        "companies": pd.DataFrame(),
        "own_currency": pd.Series("", index=items.index),
    }
    return Facts(**{**base, **given})  # type: ignore[arg-type]


def test_decide_holds_each_row_for_the_first_finding_and_builds_issues_only_for_it() -> None:
    items = items_of("""
        source_table,item_id,_file,_sheet,_row
        charges,1,a.csv,,2
        charges,2,a.csv,,3
        charges,3,a.csv,,4
    """)
    told: list[list[str]] = []

    def telling(reason: str, action: str = "held") -> Callable[[pd.DataFrame], list[Issue]]:
        def build(rows: pd.DataFrame) -> list[Issue]:
            told.append(rows["item_id"].tolist())
            return issues_for(rows, reason, f"{reason} here", action)  # type: ignore[arg-type]

        return build

    findings = [
        Finding(np.array([True, True, False]), "no_rate", telling("no_rate")),
        Finding(np.array([False, True, True]), "late", telling("late", "flagged"), holds=False),
        Finding(np.array([False, True, True]), "duplicate_item", telling("duplicate_item")),
        Finding(np.array([False, False, False]), "invalid_row", telling("invalid_row")),
    ]
    reason, issues = decide(items, findings)
    assert reason.tolist() == ["no_rate", "no_rate", "duplicate_item"]
    assert told == [["1", "2"], ["3"], ["3"]]  # no issue for a row an earlier finding holds
    assert [(i.item_id, i.reason, i.action) for i in issues] == [
        ("1", "no_rate", "held"), ("2", "no_rate", "held"), ("3", "late", "flagged"), ("3", "duplicate_item", "held"),
    ]  # fmt: skip
    assert issues[0].message == "a.csv, row 2: no_rate here"


def test_an_overriding_finding_takes_rows_already_held() -> None:
    items = items_of("""
        source_table,item_id,_file,_sheet,_row
        charges,1,a.csv,,2
        charges,2,a.csv,,3
    """)
    findings = [
        Finding(np.array([True, False]), "no_rate", lambda rows: []),
        Finding(np.array([True, True]), "amount_out_of_range", lambda rows: issues_for(rows, "amount_out_of_range", "x"),
                overrides=True),
    ]  # fmt: skip
    reason, issues = decide(items, findings)
    assert reason.tolist() == ["amount_out_of_range", "amount_out_of_range"]
    assert [i.item_id for i in issues] == ["1", "2"]


def test_check_negative_hours_holds_only_raw_time_entries() -> None:
    items = items_of("""
        source_table,item_id,_file,_sheet,_row,quantity_column
        time_entries,1,t.csv,,2,hours_worked
        billing_items,2,b.csv,,2,
        time_entries,3,t.csv,,3,hours_to_bill
    """)
    items["quantity"] = [Decimal("-2"), Decimal("-5"), Decimal("1.5")]  # a credit on a billing item is fine
    (found,) = check_negative_hours(items, facts_of(items))
    assert found.mask.tolist() == [True, False, False] and found.reason == INVALID_ROW
    (issue,) = found.issues(items[found.mask])
    assert issue.message == "t.csv, row 2, column hours: negative hours (-2) on a time entry"


def test_check_customer_names_the_organisation_the_row_asked_for() -> None:
    items = items_of("""
        source_table,item_id,_file,_sheet,_row,customer_id,customer_name
        charges,1,c.csv,,2,,Acme Ltd
        charges,2,c.csv,,3,,
        charges,3,c.csv,,4,101,Alpha
        charges,4,c.csv,,5,102,Beta
    """)
    no_customer, no_currency = check_customer(
        items, facts_of(items, unknown_currency={"102": "currency 'EU' unread"})
    )
    assert no_customer.mask.tolist() == [True, True, False, False]
    first, second = no_customer.issues(items[no_customer.mask])
    assert (
        first.message == "c.csv, row 2, column companyID: no customer: no organisation is called 'Acme Ltd'"
    )
    assert second.text.startswith("no customer: neither the row nor its ticket")
    assert no_currency.mask.tolist() == [False, False, False, True]
    assert no_currency.issues(items[no_currency.mask])[0].text == "customer 102: currency 'EU' unread"


def test_check_currency_says_whose_currency_is_not_iso() -> None:
    items = items_of("""
        source_table,item_id,_file,_sheet,_row,customer_id,currency
        charges,1,c.csv,,2,101,EUR
        charges,2,c.csv,,3,101,EURO
        charges,3,c.csv,,4,102,XX1
    """)
    companies = items_of("""
        customer_id,currency,_row
        101,EUR,2
        102,XX1,3
    """)
    own = pd.Series(["", "euro", ""])
    item_own, customers = check_currency(items, facts_of(items, companies=companies, own_currency=own))
    assert item_own.mask.tolist() == [False, True, False]
    assert customers.mask.tolist() == [False, False, True]
    assert "the item's currency 'euro' is not an ISO 4217" in item_own.issues(items[item_own.mask])[0].message
    assert customers.issues(items[customers.mask])[0].text.startswith("the customer's currency 'XX1'")


def test_check_po_formula_holds_a_po_that_is_a_formula_or_an_error() -> None:
    items = items_of("""
        source_table,item_id,_file,_sheet,_row,po_raw,po_source
        charges,1,c.csv,,2,=VLOOKUP(A2),item
        charges,2,c.csv,,3,#N/A,contract
        charges,3,c.csv,,4,PO-1,item
        charges,4,c.csv,,5,=,item
    """)
    (found,) = check_po_formula(items, facts_of(items))
    assert found.mask.tolist() == [True, True, False, False]
    assert found.issues(items[found.mask])[1].value == "#N/A"


def test_check_late_flags_items_dated_before_the_period() -> None:
    items = items_of("""
        source_table,item_id,_file,_sheet,_row,item_date
        charges,1,c.csv,,2,2026-09-30
        charges,2,c.csv,,3,2026-10-01
    """)
    items["item_date"] = pd.to_datetime(items["item_date"])
    items["late"] = items["item_date"] < pd.Timestamp("2026-10-01")
    (found,) = check_late(items, facts_of(items))
    assert not found.holds and found.mask.tolist() == [True, False]
    (issue,) = found.issues(items[found.mask])
    assert (issue.action, issue.text) == (
        "flagged",
        "dated 2026-09-30, before the period 2026-10; invoiced now",
    )
