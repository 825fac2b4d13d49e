"""The CSV tables and the summary view (billing_lib.io.outputs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from billing_lib.io.outputs import for_spreadsheet, write_csv
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import run_invoice


def test_text_that_a_spreadsheet_would_run_is_neutralised_and_numbers_are_not(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "description": ['=HYPERLINK("http://x","click")', "+SUM(A1:A2)", "@cmd", "-2+3", "Patching"],
            "amount": ["-20.00", "15.00", "1.00", "2.00", "3.00"],
            "customer_name": ["Acme", "=1+1", "Beta", "Gamma", "Delta"],
        }
    )
    write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert back["description"].tolist() == [
        '\'=HYPERLINK("http://x","click")',
        "'+SUM(A1:A2)",
        "'@cmd",
        "'-2+3",
        "Patching",
    ]
    assert back["customer_name"].tolist()[1] == "'=1+1"
    assert back["amount"].tolist() == ["-20.00", "15.00", "1.00", "2.00", "3.00"]  # amounts untouched


def test_the_sample_months_formula_looking_descriptions_reach_the_csv_as_text(
    sample_month: Path, tmp_path: Path
) -> None:
    result = run_invoice(
        RunOptions(inputs=sample_month, period="2026-10", draft=True, out=tmp_path / "o", excel=False)
    )
    items = pd.read_csv(result.out_dir / "invoice_items.csv", dtype=str, keep_default_na=False)
    risky = items[items["description"].str.contains("HYPERLINK|SUM\\(", regex=True)]
    assert len(risky) >= 2 and risky["description"].str.startswith("'").all()


def test_the_summary_view_carries_numbers_and_dates() -> None:
    view = for_spreadsheet(
        pd.DataFrame(
            {"net_amount": ["1234.50", ""], "item_date": ["2026-10-03", ""], "po_number": ["PO-1", ""]}
        )
    )
    assert view["net_amount"].iloc[0] == 1234.5 and pd.isna(view["net_amount"].iloc[1])
    assert view["item_date"].iloc[0] == pd.Timestamp("2026-10-03")
    assert view["po_number"].tolist() == ["PO-1", ""]  # text stays text
