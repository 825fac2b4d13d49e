"""Small immutable domain records: an issue found in the inputs, an invoice line, an invoice.

An ``Invoice`` reads like the paper one: who it is to, from which of our entities, its number and
date, the period, its PO numbers, its lines, net, tax and total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from billing_lib.domain.money import Currency
from billing_lib.domain.parties import Parties

Action = Literal["held", "flagged"]

# Reason codes (SPEC section 2). Held reasons keep the item off every invoice.
INVALID_ROW = "invalid_row"
AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
DUPLICATE_ITEM = "duplicate_item"
NO_RATE = "no_rate"
AMBIGUOUS_NUMBER = "ambiguous_number"  # "386,645" where nothing in the file says which mark is decimal
AMBIGUOUS_DATE = "ambiguous_date"  # "03/04/2026" where nothing in the file says which part is the day
NEEDS_POSTING = "needs_posting"  # labour on a block-hours, retainer or per-ticket contract, not posted
POSTED_ELSEWHERE = "posted_elsewhere"  # a charge Autotask posted (isBilled) whose posted row is not here
AMOUNT_MISMATCH = "amount_mismatch"  # a supplied amount that is not quantity x rate
UNKNOWN_PO = "unknown_po"
PO_CUSTOMER_MISMATCH = "po_customer_mismatch"
PO_CURRENCY_MISMATCH = "po_currency_mismatch"
EXPIRED_PO = "expired_po"
OVER_BUDGET = "over_budget"
MISSING_PO = "missing_po"
LATE = "late"
ENCODING = "encoding"
SUMMARY_ROW = "summary_row"
TIMESHEET_EXCLUDED = "not_in_timesheet_run"
COPY_OF_ANOTHER_FILE = "copy_of_another_file"
EINVOICE_INCOMPLETE = "einvoice_incomplete"  # a customer's invoices get a PDF but no e-invoice
# Problems of the inputs as a whole, not of one item: each blocks ``billing check``.
PO_REFERENCE_CONFLICT = "po_reference_conflict"  # two rows of the PO reference table for one PO disagree
PO_REFERENCE_INVALID = "po_reference_invalid"  # budget <= 0, valid_to before valid_from, bad currency
HIDDEN_SHEET = "hidden_sheet"  # a hidden sheet of a known table: not read
DUPLICATE_HEADING = "duplicate_heading"  # two columns of one sheet stand for the same field
IGNORED_FILE = "ignored_file"  # a spreadsheet file or sheet whose name is not a known table

# SPEC section 2, "Several reasons": the first of this order is an item's reason in every summary.
HELD_ORDER = (
    INVALID_ROW,
    AMBIGUOUS_NUMBER,
    AMBIGUOUS_DATE,
    AMOUNT_OUT_OF_RANGE,
    DUPLICATE_ITEM,
    "po_customer_mismatch",
    "po_currency_mismatch",
    "missing_po",
    "no_rate",
    "needs_posting",
    "posted_elsewhere",
    "over_budget",
)
# The reasons a row is held because one of its cells cannot be read.
READ_REASONS = (INVALID_ROW, AMBIGUOUS_NUMBER, AMBIGUOUS_DATE, AMOUNT_OUT_OF_RANGE)
# Whole-input problems that stop ``billing check`` from saying "Ready".
BLOCKING_INPUT_REASONS = (
    PO_REFERENCE_CONFLICT,
    PO_REFERENCE_INVALID,
    HIDDEN_SHEET,
    IGNORED_FILE,
    DUPLICATE_HEADING,
)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with one row: what, where (file, sheet, Excel row number, column) and what we did."""

    source_table: str
    item_id: str
    reason: str
    action: Action
    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""

    def as_row(self) -> dict[str, object]:
        return {
            "source_table": self.source_table,
            "item_id": self.item_id,
            "reason": self.reason,
            "action": self.action,
            "message": self.message,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row if self.row is not None else "",
            "column": self.column,
            "value": self.value,
        }


ISSUE_COLUMNS = (
    "source_table",
    "item_id",
    "reason",
    "action",
    "message",
    "file",
    "sheet",
    "row",
    "column",
    "value",
)


def where(file: str, sheet: str, row: int | None, column: str = "") -> str:
    """How a place in the inputs is named in messages: ``items.xlsx, sheet BillingItems, row 7, column Amount``."""
    parts = [file]
    if sheet:
        parts.append(f"sheet {sheet}")
    if row is not None:
        parts.append(f"row {row}")
    if column:
        parts.append(f"column {column}")
    return ", ".join(parts)


# An invoice's items of one PO, kind, billing code and unit price make one line (workbook, CSV, ledgers).
LINE_KEY = ["invoice_number", "po_number", "kind", "billing_code_name", "unit_price_text"]


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    date: dt.date
    description: str
    po_number: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    item_count: int
    date_from: dt.date | None = None  # the first item's date when the line merges items of several days
    kind: str = ""  # labour or charge: hours or pieces

    @property
    def first_date(self) -> dt.date:
        return self.date_from or self.date


@dataclass(frozen=True, slots=True)
class SourceItem:
    source_table: str
    item_id: str
    date: dt.date
    description: str
    po_number: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    contract_id: str
    project_id: str
    ticket_id: str
    resource_id: str
    billing_code: str


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    address_lines: tuple[str, ...] = ()
    tax_id: str = ""
    vat_category: str = ""  # a customer's EN 16931 VAT category (S, Z, E, AE, K, G, O), when it has one
    vat_exemption_reason: str = ""


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_number: str
    invoice_date: dt.date
    period: str
    customer_id: str
    customer: Party
    billing_entity: Party
    billing_contact: str
    payment_terms: str
    method: str
    group_key: str
    po_numbers: tuple[str, ...]
    currency: Currency
    lines: tuple[InvoiceLine, ...]
    items: tuple[SourceItem, ...]
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    credits: str = ""  # on a credit note issued by voiding: the number of the invoice it cancels
    # seller and buyer as the PDF and the e-invoice need them (addresses, VAT and Peppol ids, bank)
    parties: Parties | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.total < 0 or bool(self.credits)

    @property
    def title(self) -> str:
        return "Credit note" if self.is_credit_note else "Invoice"
