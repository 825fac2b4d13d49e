"""Small immutable domain records: an issue found in the inputs, an invoice line, an invoice.

An ``Invoice`` reads like the paper one: who it is to, from which of our entities, its number and
date, the period, its PO numbers, its lines, net, tax and total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from billing_lib.domain.money import Currency
from billing_lib.domain.parties import Parties
from billing_lib.domain.reasons import Reason

Action = Literal["held", "flagged"]

# Reason codes (SPEC section 2) as plain strings, for the frames and files that carry them: the codes,
# their meaning and the text the analyst reads are ``reasons.Reason``.
INVALID_ROW = Reason.INVALID_ROW.value
AMOUNT_OUT_OF_RANGE = Reason.AMOUNT_OUT_OF_RANGE.value
DUPLICATE_ITEM = Reason.DUPLICATE_ITEM.value
NO_RATE = Reason.NO_RATE.value
AMBIGUOUS_NUMBER = Reason.AMBIGUOUS_NUMBER.value
AMBIGUOUS_DATE = Reason.AMBIGUOUS_DATE.value
NEEDS_POSTING = Reason.NEEDS_POSTING.value
POSTED_ELSEWHERE = Reason.POSTED_ELSEWHERE.value
AMOUNT_MISMATCH = Reason.AMOUNT_MISMATCH.value
MISSING_CUSTOMER = Reason.MISSING_CUSTOMER.value
UNKNOWN_PO = Reason.UNKNOWN_PO.value
PO_CUSTOMER_MISMATCH = Reason.PO_CUSTOMER_MISMATCH.value
PO_CURRENCY_MISMATCH = Reason.PO_CURRENCY_MISMATCH.value
EXPIRED_PO = Reason.EXPIRED_PO.value
OVER_BUDGET = Reason.OVER_BUDGET.value
MISSING_PO = Reason.MISSING_PO.value
LATE = Reason.LATE.value
ENCODING = Reason.ENCODING.value
SUMMARY_ROW = Reason.SUMMARY_ROW.value
TIMESHEET_EXCLUDED = Reason.TIMESHEET_EXCLUDED.value
COPY_OF_ANOTHER_FILE = Reason.COPY_OF_ANOTHER_FILE.value
EINVOICE_INCOMPLETE = Reason.EINVOICE_INCOMPLETE.value
PO_REFERENCE_CONFLICT = Reason.PO_REFERENCE_CONFLICT.value
PO_REFERENCE_INVALID = Reason.PO_REFERENCE_INVALID.value
HIDDEN_SHEET = Reason.HIDDEN_SHEET.value
DUPLICATE_HEADING = Reason.DUPLICATE_HEADING.value
IGNORED_FILE = Reason.IGNORED_FILE.value

# SPEC section 2, "Several reasons": the first of this order is an item's reason in every summary.
HELD_ORDER = (
    INVALID_ROW,
    AMBIGUOUS_NUMBER,
    AMBIGUOUS_DATE,
    AMOUNT_OUT_OF_RANGE,
    DUPLICATE_ITEM,
    PO_CUSTOMER_MISMATCH,
    PO_CURRENCY_MISMATCH,
    MISSING_PO,
    NO_RATE,
    NEEDS_POSTING,
    POSTED_ELSEWHERE,
    OVER_BUDGET,
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

    @property
    def text(self) -> str:
        """The message without the place it names first (the place is in ``file`` ... ``column``)."""
        return self.message.removeprefix(f"{where(self.file, self.sheet, self.row, self.column)}: ")

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


def issue_at(
    reason: str,
    text: str,
    *,
    source_table: str = "",
    item_id: str = "",
    action: Action = "held",
    file: str = "",
    sheet: str = "",
    row: int | None = None,
    column: str = "",
    value: str = "",
) -> Issue:
    """The one way the core builds an issue: the place in fields, ``text`` saying what is wrong there.

    The message the analyst reads (``exceptions.csv``, the checklist) is the place, then the text:
    ``items.xlsx, sheet Charges, row 7, column Rate: no amount and no rate``."""
    message = f"{where(file, sheet, row, column)}: {text}"
    return Issue(source_table, item_id, reason, action, message, file, sheet, row, column, value)


def issues_at(
    reason: str,
    texts: Sequence[str],
    *,
    action: Action,
    source_tables: Iterable[object],
    item_ids: Iterable[object],
    files: Iterable[object],
    sheets: Iterable[str],
    rows: Iterable[object],
    column: str = "",
    values: Sequence[str] | None = None,
) -> list[Issue]:
    """``issue_at`` for many rows at once, one text each (cheap for 100,000 flags: each file and sheet
    is named once)."""
    named: dict[tuple[str, str], str] = {}
    tail = f", column {column}" if column else ""
    shown: Iterable[str] = values if values is not None else [""] * len(texts)
    out = []
    for src, item, f, sh, r, text, value in zip(
        source_tables, item_ids, files, sheets, rows, texts, shown, strict=True
    ):
        file, row = str(f), int(r)
        head = named.get((file, sh))
        if head is None:
            head = named[(file, sh)] = where(file, sh, None)
        message = f"{head}, row {row}{tail}: {text}"
        out.append(Issue(str(src), str(item), reason, action, message, file, sh, row, column, value))
    return out


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
