"""Why an item is held or flagged: one ``Reason`` per code, with the text the analyst reads.

A reason's value is its code (SPEC section 2), written as is in ``exceptions.csv``, the issues, the
register and the checklist; it never changes. Each reason also carries two texts:

- ``summary``: what a count of it means in the checklist ("12 repeated item ids (the first copy is kept)");
- ``sentence``: one sentence about one item, as the app's exceptions table shows it.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """A reason code. ``Reason.NO_RATE == "no_rate"``: members are the code strings themselves."""

    # held: the item is kept off every invoice
    INVALID_ROW = "invalid_row"
    AMBIGUOUS_NUMBER = "ambiguous_number"  # "386,645" where nothing in the file says which mark is decimal
    AMBIGUOUS_DATE = "ambiguous_date"  # "03/04/2026" where nothing in the file says which part is the day
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    DUPLICATE_ITEM = "duplicate_item"
    PO_CUSTOMER_MISMATCH = "po_customer_mismatch"
    PO_CURRENCY_MISMATCH = "po_currency_mismatch"
    MISSING_PO = "missing_po"
    NO_RATE = "no_rate"
    NEEDS_POSTING = "needs_posting"  # labour on a block-hours, retainer or per-ticket contract, not posted
    POSTED_ELSEWHERE = "posted_elsewhere"  # a charge Autotask posted (isBilled) whose posted row is not here
    OVER_BUDGET = "over_budget"  # held or flagged, by the run's over-budget policy
    TIMESHEET_EXCLUDED = "not_in_timesheet_run"
    # flagged: the item is invoiced, the analyst is told
    AMOUNT_MISMATCH = "amount_mismatch"  # a supplied amount that is not quantity x rate
    MISSING_CUSTOMER = "missing_customer"
    UNKNOWN_PO = "unknown_po"
    EXPIRED_PO = "expired_po"
    LATE = "late"
    ENCODING = "encoding"
    SUMMARY_ROW = "summary_row"
    COPY_OF_ANOTHER_FILE = "copy_of_another_file"
    EINVOICE_INCOMPLETE = "einvoice_incomplete"  # a customer's invoices get a PDF but no e-invoice
    ADJUSTMENT = "adjustment"  # an analyst's adjustment that could not be applied
    # problems of the inputs as a whole, not of one item: each blocks ``billing check``
    PO_REFERENCE_CONFLICT = "po_reference_conflict"  # two rows of the PO reference table for one PO disagree
    PO_REFERENCE_INVALID = "po_reference_invalid"  # budget <= 0, valid_to before valid_from, bad currency
    HIDDEN_SHEET = "hidden_sheet"  # a hidden sheet of a known table: not read
    DUPLICATE_HEADING = "duplicate_heading"  # two columns of one sheet stand for the same field
    IGNORED_FILE = "ignored_file"  # a spreadsheet file or sheet whose name is not a known table

    @property
    def summary(self) -> str:
        """What a count of this reason means, after the number (the code itself where there is none)."""
        return _SUMMARY.get(self, self.value)

    @property
    def sentence(self) -> str:
        """One sentence about one item held or flagged for this reason."""
        return _SENTENCE.get(self, self.value.replace("_", " ").capitalize() + ".")


def summary(reason: str) -> str:
    """``Reason.summary`` of a code; an unknown code is shown as itself."""
    return Reason(reason).summary if reason in _CODES else reason


def sentence(reason: str) -> str:
    """``Reason.sentence`` of a code; an unknown code becomes a sentence of its words."""
    return Reason(reason).sentence if reason in _CODES else reason.replace("_", " ").capitalize() + "."


_CODES = frozenset(r.value for r in Reason)

_SUMMARY = {
    Reason.INVALID_ROW: "rows with a value that cannot be read (date, number, customer)",
    Reason.DUPLICATE_ITEM: "repeated item ids (the first copy is kept)",
    Reason.NO_RATE: "no amount and no rate to price them",
    Reason.AMBIGUOUS_NUMBER: "a number that reads two ways (decimal comma or thousands separator)",
    Reason.AMBIGUOUS_DATE: "a date that reads two ways (day/month or month/day)",
    Reason.NEEDS_POSTING: "labour on a block-hours, retainer or per-ticket contract: bill it from the posted items",
    Reason.POSTED_ELSEWHERE: "charges Autotask has posted whose posted billing item is not in the inputs",
    Reason.AMOUNT_MISMATCH: "a supplied amount that is not quantity x rate",
    Reason.MISSING_CUSTOMER: "no customer",
    Reason.MISSING_PO: "no PO, for a customer that requires one",
    Reason.PO_CUSTOMER_MISMATCH: "a PO that belongs to another customer",
    Reason.PO_CURRENCY_MISMATCH: "in another currency than their PO",
    Reason.OVER_BUDGET: "taking a PO past its authorised amount",
    Reason.UNKNOWN_PO: "a PO that is not in the PO reference table",
    Reason.EXPIRED_PO: "dated outside the PO's validity",
    Reason.LATE: "dated before the period (invoiced now)",
    Reason.ENCODING: "file not in UTF-8 (read as Windows-1252)",
    Reason.SUMMARY_ROW: "totals rows at the end of an export (not items; left out)",
    Reason.TIMESHEET_EXCLUDED: "charges left for a separate run (timesheet method)",
    Reason.EINVOICE_INCOMPLETE: "customers whose invoices get no e-invoice (PDF only): data missing",
    Reason.AMOUNT_OUT_OF_RANGE: "an amount beyond what money can be (more than 10^13, or a rate past 8 decimals)",
    Reason.PO_REFERENCE_CONFLICT: "rows of the PO reference table that disagree about one PO",
    Reason.PO_REFERENCE_INVALID: "PO reference rows that cannot be right (budget 0 or below, dates reversed, currency)",
    Reason.HIDDEN_SHEET: "hidden sheets (not read)",
    Reason.IGNORED_FILE: "files or sheets whose name is not a known table (not read)",
    Reason.DUPLICATE_HEADING: "two columns with headings for the same field",
}

_SENTENCE = {
    Reason.INVALID_ROW: "A value in this row cannot be read (a date, a number or the customer).",
    Reason.DUPLICATE_ITEM: "This item id appears twice in the export; the first copy is kept.",
    Reason.NO_RATE: "There is no amount and no rate to price this item.",
    Reason.MISSING_CUSTOMER: "The item names no customer.",
    Reason.MISSING_PO: "The customer requires a PO and this item has none.",
    Reason.PO_CUSTOMER_MISMATCH: "The PO belongs to another customer.",
    Reason.PO_CURRENCY_MISMATCH: "The item is in another currency than its PO.",
    Reason.OVER_BUDGET: "This item takes its PO past the authorised amount.",
    Reason.UNKNOWN_PO: "The PO is not in the PO reference table.",
    Reason.EXPIRED_PO: "The item is dated outside the PO's validity.",
    Reason.LATE: "The item is dated before the period; it is invoiced now.",
    Reason.ENCODING: "The file is not UTF-8; it was read as Windows-1252.",
    Reason.SUMMARY_ROW: "A totals row at the end of the export was left out.",
    Reason.TIMESHEET_EXCLUDED: "A charge left for a separate run (timesheet method).",
    Reason.ADJUSTMENT: "An adjustment could not be applied.",
}
