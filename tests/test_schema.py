"""The declared input tables: names compared loosely, every spelling naming one column, file names naming
one table (with what exports append to them), and charge files keeping their kind."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from billing_lib.domain import schema
from billing_lib.domain.schema import SPECS, TABLES, key, source_table_name, table_for


@pytest.mark.parametrize(
    "spelling", ["purchaseOrderNumber", "purchase_order_number", "Purchase Order Number", "PURCHASE-ORDER-NUMBER",
                 " purchase\torder number "],
)  # fmt: skip
def test_key_ignores_case_spaces_underscores_and_hyphens(spelling: str) -> None:
    assert key(spelling) == "purchaseordernumber"


def test_every_table_declares_distinct_snake_case_columns() -> None:
    assert len(SPECS) == len(TABLES)
    for spec in TABLES:
        names = [col.name for col in spec.columns]
        assert len(set(names)) == len(names), spec.name
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names), spec.name
        for group in spec.one_of:
            assert set(group) <= set(names), spec.name
        assert {col.kind for col in spec.columns} <= {"id", "text", "date", "decimal", "bool"}


def test_no_spelling_names_two_columns_of_one_table_or_two_tables() -> None:
    for spec in TABLES:
        seen = Counter(k for col in spec.columns for k in col.keys)
        assert [k for k, n in seen.items() if n > 1] == [], spec.name
    tables = Counter(k for spec in TABLES for k in spec.keys)
    assert [k for k, n in tables.items() if n > 1] == []


def test_alias_map_gives_the_canonical_name() -> None:
    aliases = schema.BILLING_ITEMS.alias_map()
    assert aliases[key("extendedPrice")] == aliases[key("Billable Amount")] == "amount"
    assert aliases[key("Purchase Order Number")] == aliases[key("PO")] == "po_number"
    assert aliases[key("item_id")] == "item_id"
    assert schema.BILLING_ITEMS.column("amount").kind == "decimal"
    with pytest.raises(KeyError):
        schema.BILLING_ITEMS.column("no_such_column")
    required = {col.name for col in schema.BILLING_ITEMS.columns if col.required}
    assert required == {"item_id", "item_date"}


@pytest.mark.parametrize(
    ("name", "table", "label"),
    [
        ("BillingItems", "billing_items", "billing_items"),
        ("BillingItems_2026-10", "billing_items", "billing_items"),  # a period appended
        ("TimeEntries (1)", "time_entries", "time_entries"),  # a browser's copy number
        ("items final", "billing_items", "billing_items"),
        ("BillingItems_copy", "billing_items", "billing_items"),
        ("ticket_charges", "charges", "ticket_charges"),  # charges keep their kind
        ("TicketCost", "charges", "ticket_charges"),  # the SOAP API's name
        ("contract costs", "charges", "contract_charges"),
        ("ExpenseItems (2)", "charges", "expenses"),
        ("charges", "charges", "charges"),
        ("po_reference", "po_budgets", "po_budgets"),
    ],
)
def test_a_file_or_sheet_name_stands_for_its_table(name: str, table: str, label: str) -> None:
    spec = table_for(name)
    assert spec is not None and spec.name == table
    assert source_table_name(name, spec) == label


@pytest.mark.parametrize("name", ["invoices", "Sheet1", "notes 2026", ""])
def test_other_names_are_no_table(name: str) -> None:
    assert table_for(name) is None
