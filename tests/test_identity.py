"""An item's identity is its kind and id (SPEC section 2), whatever file it came from."""

from __future__ import annotations

import io
import textwrap

import pandas as pd

from billing_lib.domain.identity import file_copies, item_keys, source_keys


def frame(text: str, **meta: object) -> pd.DataFrame:
    out = pd.read_csv(io.StringIO(textwrap.dedent(text).strip()), dtype=str, keep_default_na=False)
    out = out.replace("", None)
    for key, value in meta.items():
        out[key] = value
    return out


def test_billing_items_carry_the_identity_of_the_row_they_were_posted_from() -> None:
    items = frame(
        """
        item_id,time_entry_id,ticket_charge_id,contract_charge_id,project_charge_id,expense_item_id
        1,77,,,,
        2,,501,,,
        3,,,601,,
        4,,,,701,
        5,,,,,801
        6,,,,,
        """
    )
    assert list(item_keys(items, "billing_items")) == [f"billing_item:{i}" for i in range(1, 7)]
    assert list(source_keys(items, "billing_items")) == [
        "time_entry:77", "ticket_charge:501", "contract_charge:601", "project_charge:701", "expense:801", "",
    ]  # fmt: skip
    assert list(source_keys(frame("item_id\n77"), "time_entries")) == [""]


def test_a_charge_is_the_same_charge_whatever_its_file_is_called() -> None:
    named = frame("item_id,ticket_id,project_id,contract_id\n501,7,,3", _source="ticket_charges")
    generic = frame("item_id,ticket_id,project_id,contract_id\n501,7,,3", _source="charges")
    assert list(item_keys(named, "charges")) == list(item_keys(generic, "charges")) == ["ticket_charge:501"]
    rows = frame(
        """
        item_id,ticket_id,project_id,contract_id
        1,,9,3
        2,,,3
        3,,,
        """,
        _source="charges",
    )
    assert list(item_keys(rows, "charges")) == ["project_charge:1", "contract_charge:2", "charge:3"]
    expenses = frame("item_id\n8", _source="expenses")
    assert list(item_keys(expenses, "charges")) == ["expense:8"]
    assert list(item_keys(frame("item_id\n77"), "time_entries")) == ["time_entry:77"]


def test_a_copy_in_another_file_is_read_once_and_reported_once() -> None:
    original = frame("item_id,amount\n1,10.00\n2,20.00", _file="BillingItems.csv", _sheet=None)
    copy = frame("item_id,amount\n1,10.00\n2,20.00", _file="BillingItems (1).csv", _sheet=None)
    changed = frame("item_id,amount\n2,25.00", _file="BillingItems (2).csv", _sheet=None)
    raw = pd.concat([copy, original, changed], ignore_index=True)
    raw["_item_key"] = item_keys(raw, "billing_items")
    copies, issues = file_copies(raw)
    # the plainer name is the original, whichever was read first; a row that differs is no copy
    assert list(raw.loc[copies, "_file"]) == ["BillingItems (1).csv", "BillingItems (1).csv"]
    assert len(issues) == 1 and issues[0].file == "BillingItems (1).csv" and issues[0].action == "flagged"
    assert "2 row(s) of BillingItems.csv" in issues[0].message


def test_a_repeated_row_within_one_file_is_not_a_file_copy() -> None:
    raw = frame("item_id,amount\n1,10.00\n1,10.00", _file="BillingItems.csv", _sheet=None)
    raw["_item_key"] = item_keys(raw, "billing_items")
    copies, issues = file_copies(raw)
    assert not copies.any() and issues == []  # rules holds the second as a duplicate item
