"""The domain records: one issue builder that names its place in fields, an invoice that reads like the
paper one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from einvoice_data import ONE_PO, invoice, line

from billing_lib.domain.records import ISSUE_COLUMNS, Issue, issue_at, where


def test_where_names_a_place_in_the_inputs() -> None:
    assert (
        where("items.xlsx", "BillingItems", 7, "Amount")
        == "items.xlsx, sheet BillingItems, row 7, column Amount"
    )
    assert where("items.csv", "", 2) == "items.csv, row 2"
    assert where("items.csv", "", None) == "items.csv"
    assert where("items.xlsx", "S", 0) == "items.xlsx, sheet S, row 0"  # row 0 is a row, not "none"


def test_an_issue_as_a_row_has_the_issue_columns() -> None:
    issue = Issue(source_table="billing_items", item_id="a1", reason="no_rate", action="held", message="no rate",
                  file="items.csv", row=3, column="rate")  # fmt: skip
    row = issue.as_row()
    assert tuple(row) == ISSUE_COLUMNS
    assert (row["row"], row["file"], row["action"]) == (3, "items.csv", "held")
    unplaced = Issue(source_table="companies", item_id="101", reason="x", action="flagged", message="m")
    assert unplaced.as_row()["row"] == ""  # no row: blank, not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        issue.reason = "late"  # type: ignore[misc]


def test_a_merged_line_starts_on_its_first_date() -> None:
    merged = line(28, "Remote support", "PO-1", "3.5", "95", "332.50", first=3, items=3)
    assert (merged.first_date, merged.date) == (dt.date(2026, 10, 3), dt.date(2026, 10, 28))
    single = line(7, "Dock", "PO-1", "1", "189", "189.00", kind="charge")
    assert single.first_date == single.date == dt.date(2026, 10, 7)


def test_a_negative_total_or_a_voided_invoice_is_a_credit_note() -> None:
    inv = invoice("INV-1", ONE_PO, Decimal(21))
    assert (inv.is_credit_note, inv.title) == (False, "Invoice")
    negative = dataclasses.replace(inv, total=-inv.total)
    assert (negative.is_credit_note, negative.title) == (True, "Credit note")
    voiding = dataclasses.replace(inv, credits="INV-0")
    assert voiding.is_credit_note and voiding.title == "Credit note"
    assert dataclasses.replace(inv, total=Decimal(0)).is_credit_note is False


def test_issue_at_keeps_the_place_in_fields_and_names_it_first_in_the_message() -> None:
    found = issue_at(
        "no_rate", "no amount and no rate", source_table="charges", item_id="7",
        file="items.xlsx", sheet="Charges", row=12, column="Rate", value="",
    )  # fmt: skip
    assert (found.file, found.sheet, found.row, found.column) == ("items.xlsx", "Charges", 12, "Rate")
    assert found.message == "items.xlsx, sheet Charges, row 12, column Rate: no amount and no rate"
    assert found.text == "no amount and no rate"
    assert found.action == "held"
    assert found.as_row()["message"] == found.message  # what exceptions.csv shows


def test_a_place_without_sheet_or_column_is_named_by_what_it_has() -> None:
    assert where("a.csv", "", 3) == "a.csv, row 3"
    found = issue_at("late", "dated 2026-09-30", action="flagged", file="a.csv", row=3)
    assert found.message == "a.csv, row 3: dated 2026-09-30"


def test_text_of_an_issue_built_elsewhere_is_its_whole_message_when_it_names_no_place_first() -> None:
    loose = Issue("", "", "encoding", "flagged", "file not in UTF-8", "a.csv")
    assert loose.text == "file not in UTF-8"
