"""The PO tracking report on the PO tracking month (``po_month``): the saved files, and a final
report numbering this period as the register will.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
from po_month import write_month

from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import analyse
from billing_lib.ui import drilldown, po_report, po_report_files


def test_saved_report_files(tracking, tmp_path):
    po_report_files.save(tracking, tmp_path / "report", True)
    folder = tmp_path / "report"
    read = lambda name: pd.read_csv(folder / name, dtype=str, keep_default_na=False)  # noqa: E731
    summary = read("po_coverage.csv").iloc[0]
    assert (summary["records"], summary["with_po"], summary["percent"], summary["distinct_pos"]) == (
        "13",
        "8",
        "61.54",
        "5",
    )
    assert (summary["billable_amount"], summary["without_po_amount"]) == ("2410.00", "620.00")
    customers = read("po_coverage_by_customer.csv")
    assert list(customers["customer_id"]) == ["103", "101", "102", "104"]
    assert list(customers["without_po"]) == ["2", "1", "1", "1"]
    assert list(customers["without_po_amount"]) == ["300.00", "200.00", "80.00", "40.00"]
    assert list(read("po_coverage_by_category.csv")["billing_code"]) == [
        "Hardware",
        "Remote support",
        "Consulting",
    ]
    assert list(read("po_recommendations.csv")["mark_requires_po"]) == ["yes", "yes", "no", "no"]
    at_risk = read("po_at_risk.csv").set_index("po_number")
    assert (at_risk.loc["PO-A", "amount_alert"], at_risk.loc["PO-A", "hours_alert"]) == ("100", "100")
    assert (at_risk.loc["PO-C", "amount_alert"], at_risk.loc["PO-C", "month_alert"]) == ("", "100")
    assert at_risk.loc["PO-P", "amount_alert"] == "90"
    assert len(read("po_alerts.csv")) == 6
    assert len(read("po_items.csv")) == 12
    assert (folder / "charts" / "po_coverage_by_customer.png").stat().st_size > 1000
    assert (folder / "charts" / "po_amounts_hours.png").stat().st_size > 1000
    page = (folder / "po_report.html").read_text(encoding="utf-8")
    assert "PO coverage" in page and "61.54 %" in page and "Mark requires-PO" in page and "Cobalt BV" in page


def test_a_final_report_numbers_this_period_as_the_register_will(tmp_path):
    """Numbers continue after the register's highest in the format's scope, like ``Register.finalise``."""
    from billing_lib.run.pipeline import run_invoice

    folder = write_month(tmp_path / "in")
    register = tmp_path / "register.sqlite"
    first = RunOptions(inputs=folder, period="2026-10", out=tmp_path / "out1", register=register, excel=False)
    issued = run_invoice(first).invoice_numbers
    assert issued and issued[0] == "INV-202610-0001"
    with (folder / "BillingItems.csv").open("a", encoding="utf-8") as handle:  # two late additions
        handle.write(
            "q1,2026-10-21,101,,1,30.00,PO-A,,Hardware,,,,\nq2,2026-10-22,103,,1,20.00,,,Hardware,,,,\n"
        )
    second = RunOptions(
        inputs=folder, period="2026-10", out=tmp_path / "out2", register=register, excel=False
    )
    tracking = po_report.build(analyse(second))
    predicted = list(tracking.analysis.invoice_set.invoices["invoice_number"])
    assert predicted == [f"INV-202610-{len(issued) + i + 1:04d}" for i in range(len(predicted))]
    assert run_invoice(second).invoice_numbers == predicted
    rows = drilldown.po_items_of(tracking.analysis, "PO-A")
    assert set(rows.loc[rows["item_id"] == "q1", "invoice_number"]) <= set(predicted)
    assert set(rows.loc[rows["when"] == "earlier", "invoice_number"]) <= set(issued)
    # a draft report keeps DRAFT- numbers
    draft = po_report.build(analyse(dataclasses.replace(second, draft=True)))
    assert draft.analysis.invoice_set.invoices["invoice_number"].str.startswith("DRAFT-").all()
