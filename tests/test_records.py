"""Issue records: one builder, the place in fields and named first in the message (``domain.records``)."""

from __future__ import annotations

from billing_lib.domain.records import Issue, issue_at, where


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
