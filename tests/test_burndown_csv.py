"""io.burndown_csv: the burn-down's CSV frames carry amounts, hours and dates as plain text."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from billing_lib.io.burndown_csv import EXPOSURE_CSV_COLUMNS, exposure_csv_frame, per_po_csv_frame


def test_exposure_amounts_in_each_rows_currency() -> None:
    frame = pd.DataFrame({
        "customer_id": ["101", "102"], "customer_name": ["Acme", "Beta"], "billing_code": ["Labour", "(none)"],
        "items": [2, 1], "amount_minor": [123450, 5000], "currency": ["EUR", "JPY"], "held_items": [0, 1],
        "held_amount_minor": [0, 5000],
    })  # fmt: skip
    out = exposure_csv_frame(frame)
    assert list(out.columns) == list(EXPOSURE_CSV_COLUMNS)
    assert out["amount"].tolist() == ["1234.50", "5000"]
    assert out["held_amount"].tolist() == ["0.00", "5000"]


def test_per_po_hours_as_text_and_missing_as_empty() -> None:
    frame = pd.DataFrame({
        "po_number": ["PO-1", "PO-2"], "customer_id": ["101", "101"], "currency": ["EUR", "EUR"],
        "entries": [3, 1], "hours": pd.Series([Decimal("7.50"), None], dtype=object), "amount_minor": [99, -1],
    })  # fmt: skip
    out = per_po_csv_frame(frame)
    assert "amount_minor" not in out
    assert out["amount"].tolist() == ["0.99", "-0.01"]
    assert out["hours"].tolist() == ["7.50", ""]
