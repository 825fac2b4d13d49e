"""ui.checklist_text: the checklist as ``billing check`` prints it, from a Checklist built right here."""

from __future__ import annotations

from billing_lib.core.checklist import Checklist, ExposureTotal, PoAlert
from billing_lib.ui.checklist_text import render_text


def po(number: str, status: str, **amounts: str) -> PoAlert:
    values = {"authorised": "1000.00", "consumed": "0", "this_period": "0", "remaining": "1000.00",
              "percent_used": "", "valid_to": "", "projected_exhaustion_date": ""} | amounts  # fmt: skip
    return PoAlert(number, "101", status, "EUR", **values)


def checklist(**changes: object) -> Checklist:
    fields: dict[str, object] = dict(
        period="2026-10", read=12, billable=10, held=1, flagged=2, skipped=(("already_invoiced", 1),),
        to_invoice=(("EUR", "12345.60"), ("JPY", "5000")), held_by_reason=(("missing_po", 1),),
        flagged_by_reason=(("late", 2),),
        over_budget=(po("PO-A", "exceeded", consumed="1100.00", this_period="100.00", remaining="-100.00",
                        percent_used="110.00"),),
        near_budget=(), expired=(po("PO-OLD", "expired", consumed="50.00", valid_to="2026-06-30"),),
        unknown=(po("PO-NEW", "unknown", this_period="75.00"),), pos_total=4, pos_ok=1,
        exposure=(ExposureTotal("103", "Gamma plc", "EUR", 1, "70.00", 1),),
        problems=("a.csv, row 8: customer requires a PO", "a.csv, row 9: late", "a.csv, row 10: late"),
        blocking=True, blocking_reasons=("1 item held",),
    )  # fmt: skip
    return Checklist(**(fields | changes))  # type: ignore[arg-type]


def test_the_sections_in_order_with_grouped_amounts() -> None:
    text = render_text(checklist())
    assert text.startswith("Pre-invoice checklist for 2026-10\n\n✗ NOT READY to invoice: 1 item held.\n")
    assert "✓ 10 items to invoice: 12,345.60 EUR, 5,000 JPY" in text
    assert "PO-A (customer 101): 1,100.00 EUR of 1,000.00 EUR used (110.00 %), 100.00 EUR over" in text
    assert "✗ over budget: 1 PO" in text  # this period adds to it: blocking
    assert "! expired POs used this period: 1 PO\n      PO-OLD (customer 101): 50.00 EUR of 1,000.00" in text
    assert "PO-NEW (customer 101): 75.00 EUR this period, no budget on record" in text
    assert "Gamma plc (103): 1 item, 70.00 EUR, 1 of them held" in text
    assert "not billed this run: 1 " in text
    sections = [line for line in text.splitlines() if line and not line.startswith((" ", "✓", "✗", "!"))]
    assert sections[1:] == [
        "Items", "PO budgets", "Billing exposure (billable items without a PO)",
        "Accounting hand-off (QuickBooks and Xero import files of a final run)", "Problems (3)",
    ]  # fmt: skip


def test_limits_and_ascii_marks() -> None:
    plain = render_text(checklist(), limit=1, ascii_only=True)
    assert plain.isascii()
    assert "[X] NOT READY" in plain and "  ... and 2 more" in plain
    ready = render_text(checklist(held=0, blocking=False, over_budget=(), exposure=(), problems=()))
    assert "✓ Ready to invoice" in ready and "✓ every billable item carries a PO" in ready
    assert ready.endswith("Problems (0)\n  ✓ none\n")
