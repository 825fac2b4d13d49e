"""The PO report's files (``ui.po_report_files``): CSV tables as plain text, formulas neutralised.

The whole report saved from a real month is in ``test_po_tracking`` and ``test_batch``.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd

from billing_lib.core.coverage import Coverage, CurrencyAmounts
from billing_lib.ui import po_report_files

BY_CUSTOMER = """customer_id,customer_name,currency,records,with_po,amount_minor,with_po_minor,without_po_minor
C1,=HYPERLINK("x"),EUR,3,2,123450,100000,23450
C2,Beta,JPY,1,0,500,0,500
"""


def test_coverage_amounts_are_plain_decimals_in_their_currency_and_text_stays_text() -> None:
    frame = pd.read_csv(io.StringIO(BY_CUSTOMER), dtype={"customer_id": str})
    out = po_report_files.coverage_csv_frame(frame)
    assert list(out["amount"]) == ["1234.50", "500"]
    assert list(out["without_po_amount"]) == ["234.50", "500"]
    assert "amount_minor" not in out.columns
    assert not out["customer_name"].iloc[0].startswith("=")  # a formula from the inputs is text
    assert all(isinstance(v, str) for v in out.to_numpy().ravel())


def test_the_coverage_summary_has_a_row_per_currency_or_one_empty_row() -> None:
    eur = CurrencyAmounts("EUR", 100000, 75000, 25000, Decimal("75.0"))
    summary = po_report_files.summary_csv_frame(Coverage(4, 3, 1, Decimal("75.0"), 2, (eur,)))
    assert summary.to_dict("records") == [
        {"records": "4", "with_po": "3", "without_po": "1", "percent": "75.0", "distinct_pos": "2",
         "currency": "EUR", "billable_amount": "1000.00", "with_po_amount": "750.00",
         "without_po_amount": "250.00", "amount_percent": "75.0"}
    ]  # fmt: skip
    empty = po_report_files.summary_csv_frame(Coverage(0, 0, 0, None, 0, ()))
    assert empty.to_dict("records") == [
        {"records": "0", "with_po": "0", "without_po": "0", "percent": "", "distinct_pos": "0"}
    ]
