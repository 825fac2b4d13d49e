"""The reason codes and the texts the analyst reads for them (``domain.reasons``)."""

from __future__ import annotations

import pytest

from billing_lib.domain import records
from billing_lib.domain.reasons import Reason, sentence, summary
from billing_lib.ui import app_data

# The codes written in exceptions.csv, the issues, the register and SPEC section 2: they never change.
CODES = [
    "invalid_row",
    "ambiguous_number",
    "ambiguous_date",
    "amount_out_of_range",
    "duplicate_item",
    "po_customer_mismatch",
    "po_currency_mismatch",
    "missing_po",
    "no_rate",
    "needs_posting",
    "posted_elsewhere",
    "over_budget",
    "not_in_timesheet_run",
    "amount_mismatch",
    "missing_customer",
    "unknown_po",
    "expired_po",
    "late",
    "encoding",
    "summary_row",
    "copy_of_another_file",
    "einvoice_incomplete",
    "adjustment",
    "po_reference_conflict",
    "po_reference_invalid",
    "hidden_sheet",
    "duplicate_heading",
    "ignored_file",
]


def test_every_code_is_a_reason_whose_value_is_the_code() -> None:
    assert sorted(r.value for r in Reason) == sorted(CODES)
    assert Reason("no_rate") is Reason.NO_RATE and Reason.NO_RATE == "no_rate"
    assert f"{Reason.LATE}" == "late"  # written into files as the bare code


def test_the_records_constants_are_the_plain_codes() -> None:
    assert records.INVALID_ROW == "invalid_row" and type(records.INVALID_ROW) is str
    assert records.TIMESHEET_EXCLUDED == Reason.TIMESHEET_EXCLUDED.value == "not_in_timesheet_run"
    assert all(type(code) is str for code in records.HELD_ORDER)
    assert records.HELD_ORDER[0] == "invalid_row" and records.HELD_ORDER[-1] == "over_budget"


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("duplicate_item", "This item id appears twice in the export; the first copy is kept."),
        ("po_customer_mismatch", "The PO belongs to another customer."),
        ("adjustment", "An adjustment could not be applied."),
        ("needs_posting", "Needs posting."),  # no sentence of its own: its words
        ("something_new", "Something new."),  # a code this version does not know
    ],
)
def test_the_apps_sentence_comes_from_the_reason(code: str, text: str) -> None:
    assert sentence(code) == text
    assert app_data.sentence(code) == text


def test_the_checklist_summary_comes_from_the_reason() -> None:
    assert summary("hidden_sheet") == "hidden sheets (not read)"
    assert Reason.NO_RATE.summary == "no amount and no rate to price them"
    assert summary("adjustment") == "adjustment"  # no summary of its own: the code
    assert summary("unheard_of") == "unheard_of"


def test_every_blocking_reason_has_a_summary_for_the_not_ready_line() -> None:
    for code in records.BLOCKING_INPUT_REASONS:
        assert Reason(code).summary != code
