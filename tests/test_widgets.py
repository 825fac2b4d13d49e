"""The workbook's widgets drive its state: set a widget's value (as a click would) and check what changed.

Expected figures come from the pipeline itself (``analyse`` with the same options), never from the
widgets, so a widget that shows a stale or wrong consolidation fails here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from billing_lib.domain.errors import BillingError
from billing_lib.domain.records import Invoice, InvoiceLine, Party
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import analyse, prepare
from billing_lib.ui import page, report_html
from billing_lib.ui.widgets import ALL, NO_PO, Workbook, filter_invoices


@pytest.fixture(scope="module")
def options(sample_month: Path, tmp_path_factory: pytest.TempPathFactory) -> RunOptions:
    out = tmp_path_factory.mktemp("widgets")
    return RunOptions(
        inputs=sample_month,
        period="2026-10",
        method="po_number",
        draft=True,
        out=out / "2026-10",
        register=out / "register.sqlite",
    )


@pytest.fixture(scope="module")
def prepared(options: RunOptions) -> tuple:
    return prepare(options)


@pytest.fixture()
def workbook(options: RunOptions, prepared: tuple) -> Workbook:
    return Workbook(options, prepared=prepared)


def expected_invoices(options: RunOptions, method: str, force: bool = False) -> pd.DataFrame:
    """The invoices ``billing invoice`` would make (read from scratch, not the workbook's prepared month)."""
    return analyse(dataclasses.replace(options, method=method, force_method=force)).invoice_set.invoices


def test_opens_on_the_parameters_method(workbook: Workbook, options: RunOptions) -> None:
    expected = expected_invoices(options, "po_number")
    assert workbook.w_method.value == "po_number"
    assert workbook.preview_invoice_count == len(expected) > 0
    assert workbook.selected_invoice == expected["invoice_number"].iloc[0]
    assert f"<b>{len(expected)}</b>" in workbook.w_count.value
    assert workbook.selected_invoice in workbook.w_preview.value


@pytest.mark.parametrize("method", ["customer", "contract", "timesheet"])
def test_picking_a_method_reconsolidates(workbook: Workbook, options: RunOptions, method: str) -> None:
    expected = expected_invoices(options, method)
    assert len(expected) != len(expected_invoices(options, "po_number"))  # the sample tells the methods apart
    workbook.w_method.value = method
    assert workbook.method == method
    assert workbook.preview_invoice_count == len(expected)
    assert list(workbook.invoices["invoice_number"]) == list(expected["invoice_number"])
    assert list(workbook.invoices["net_minor"]) == list(expected["net_minor"])
    assert f"<b>{len(expected)}</b>" in workbook.w_count.value
    assert workbook.selected_invoice == workbook.w_invoice.value in set(expected["invoice_number"])
    assert workbook.timings["preview_seconds"] < 1.0


def test_switching_back_uses_the_kept_consolidation(workbook: Workbook) -> None:
    first = workbook.analysis
    workbook.set_method("customer")
    workbook.set_method("po_number")
    assert workbook.analysis is first
    assert workbook.prepared is not None


def test_force_method_applies_it_to_every_customer(workbook: Workbook, options: RunOptions) -> None:
    workbook.w_method.value = "contract"
    workbook.w_force.value = True
    assert workbook.run_options.force_method
    assert workbook.preview_invoice_count == len(expected_invoices(options, "contract", force=True))
    assert set(workbook.invoices["method"]) == {"contract"}


def test_customer_filter_narrows_the_list(workbook: Workbook) -> None:
    invoices = workbook.invoices
    customer = invoices["customer_id"].value_counts().index[0]
    workbook.w_customer.value = customer
    assert workbook.customer == customer
    mine = invoices[invoices["customer_id"] == customer]
    assert workbook.preview_invoice_count == len(mine) < len(invoices)
    assert workbook.selected_invoice in set(mine["invoice_number"])
    assert [v for _, v in workbook.w_invoice.options] == list(mine["invoice_number"])
    # only this customer's POs are offered
    offered = {v for _, v in workbook.w_po.options} - {ALL, NO_PO}
    assert offered == {p for text in mine["po_number"] for p in text.split("; ") if p}
    workbook.w_customer.value = ALL
    assert workbook.preview_invoice_count == len(invoices)


def test_po_filter_narrows_to_the_invoices_carrying_it(workbook: Workbook) -> None:
    invoices = workbook.invoices
    po = next(p for p in invoices["po_number"] if p and "; " not in p)
    workbook.w_po.value = po
    carrying = invoices[invoices["po_number"].str.split("; ").map(lambda ps: po in ps)]
    assert workbook.preview_invoice_count == len(carrying) >= 1
    record = workbook.analysis.invoice_set.record(workbook.selected_invoice)
    assert po in record.po_numbers
    assert page.esc(po) in workbook.w_preview.value
    if (invoices["po_number"] == "").any():
        workbook.w_po.value = NO_PO
        assert set(workbook.preview_invoices["po_number"]) == {""}


def test_filters_reset_when_the_method_drops_their_value(workbook: Workbook) -> None:
    workbook.w_po.value = next(p for p in workbook.invoices["po_number"] if p)
    workbook.w_method.value = "customer"
    assert workbook.preview_invoice_count >= 1
    assert workbook.w_po.value == workbook.po


def test_picking_an_invoice_previews_it(workbook: Workbook) -> None:
    second = workbook.invoices["invoice_number"].iloc[1]
    workbook.w_invoice.value = second
    assert workbook.selected_invoice == second
    record = workbook.analysis.invoice_set.record(second)
    assert second in workbook.w_preview.value
    assert f"{record.total:,}" in workbook.w_preview.value


def test_comparison_follows_both_pickers(workbook: Workbook) -> None:
    workbook.w_compare.value = "project"
    assert workbook.compare_with == "project"
    summary = workbook.comparison().summary
    assert list(summary["method"]) == ["po_number", "project"]
    assert "Project" in workbook.w_comparison.value and "PO number" in workbook.w_comparison.value
    workbook.w_method.value = "contract"
    assert list(workbook.comparison().summary["method"]) == ["contract", "project"]


def test_burndown_chart_and_checklist_are_shown(workbook: Workbook) -> None:
    bd = workbook.analysis.burndown
    assert len(bd) > 0
    for po in bd["po_number"]:
        assert page.esc(po) in workbook.w_burndown.value
    assert workbook.overview_png.startswith(b"\x89PNG")
    assert workbook.w_chart.outputs[0]["data"]["image/png"]
    assert "Pre-invoice checklist" in workbook.w_checklist.value


def test_export_draft_writes_the_invoices(options: RunOptions, tmp_path: Path) -> None:
    workbook = Workbook(dataclasses.replace(options, out=tmp_path / "2026-10"))
    workbook.w_method.value = "customer"
    workbook.w_export.click()
    out = tmp_path / "2026-10"
    written = pd.read_csv(out / "invoices.csv", dtype=str)
    assert len(written) == workbook.preview_invoice_count
    assert set(written["method"]) <= {"customer"} | set(workbook.invoices["method"])
    assert all(n.startswith("DRAFT-") for n in written["invoice_number"])
    assert len(list((out / "invoices").glob("*.xlsx"))) == len(written)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    assert workbook.status_text == f"{len(written)} draft invoices written to {out} ({files} files)."
    assert workbook.w_progress.value == workbook.w_progress.max
    assert "billing-ok" in workbook.w_status.value
    assert not (tmp_path / "register.sqlite").exists()


def test_final_export_takes_the_items_and_other_workbooks_notice(options: RunOptions, tmp_path: Path) -> None:
    register = tmp_path / "register.sqlite"
    draft = Workbook(dataclasses.replace(options, out=tmp_path / "draft", register=register))
    final = Workbook(dataclasses.replace(options, out=tmp_path / "final", register=register, draft=False))
    assert draft.preview_invoice_count == final.preview_invoice_count > 0
    assert final.w_export.description == "Export final invoices"

    result = final.export()
    assert result is not None and register.exists()
    numbers = pd.read_csv(tmp_path / "final" / "invoices.csv", dtype=str)["invoice_number"]
    assert list(numbers) == [f"INV-202610-{i:04d}" for i in range(1, len(numbers) + 1)]
    assert final.preview_invoice_count == 0  # read again: the register holds every item now

    # the draft workbook read the month before: its export reads it again rather than offer billed items
    assert draft.preview_invoice_count > 0
    draft.export()
    assert draft.preview_invoice_count == 0
    assert len(pd.read_csv(tmp_path / "draft" / "invoices.csv")) == 0


def test_export_failure_is_shown_not_raised(workbook: Workbook, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise BillingError("the register is locked by another run")

    monkeypatch.setattr("billing_lib.ui.widgets.run_invoice", refuse)
    workbook.w_export.click()
    assert workbook.status_text == "Export failed, nothing was written: the register is locked by another run"
    assert "billing-error" in workbook.w_status.value
    assert not workbook.w_export.disabled


def test_batch_mode_shows_static_pages_and_exports_without_clicks(
    options: RunOptions, tmp_path: Path
) -> None:
    workbook = Workbook(dataclasses.replace(options, out=tmp_path / "out"), interactive=False)
    assert not hasattr(workbook, "w_method")
    pages = [
        workbook.invoices_panel(),
        workbook.comparison_panel(),
        workbook.burndown_panel(),
        workbook.checklist_panel(),
    ]
    html = "".join(p._repr_html_() for p in pages)
    for number in workbook.invoices["invoice_number"]:
        assert number in html
    assert "data:image/png;base64," in html
    assert workbook.export_if_requested(False) is None
    assert (tmp_path / "out").exists() is False
    shown = workbook.export_if_requested(True)
    assert shown is not None and "draft invoices written" in shown._repr_html_()
    assert (tmp_path / "out" / "invoices.csv").exists()


def test_filter_invoices_by_po_list() -> None:
    invoices = pd.DataFrame(
        {"customer_id": ["1", "1", "2"], "po_number": ["A; B", "", "B"], "invoice_number": ["x", "y", "z"]}
    )
    assert list(filter_invoices(invoices, po="B")["invoice_number"]) == ["x", "z"]
    assert list(filter_invoices(invoices, customer="1", po="B")["invoice_number"]) == ["x"]
    assert list(filter_invoices(invoices, po=NO_PO)["invoice_number"]) == ["y"]
    assert list(filter_invoices(invoices, po="A;")["invoice_number"]) == []


def test_invoice_preview_escapes_every_text() -> None:
    hostile = '<script>alert("x")</script>'
    invoice = Invoice(
        invoice_number="DRAFT-202610-0001",
        invoice_date=dt.date(2026, 11, 1),
        period="2026-10",
        customer_id="7",
        customer=Party(f"Tom & Jerry {hostile}"),
        billing_entity=Party("Acme <b>IT</b>"),
        billing_contact=hostile,
        payment_terms="30 days",
        method="po_number",
        group_key="PO<1>",
        po_numbers=("PO<1>",),
        currency="EUR",
        lines=(
            InvoiceLine(
                dt.date(2026, 10, 3),
                f"Support {hostile}",
                "PO<1>",
                Decimal("2"),
                Decimal("10.00"),
                Decimal("20.00"),
                1,
            ),
        ),
        items=(),
        net=Decimal("20.00"),
        tax_rate=Decimal("21"),
        tax=Decimal("4.20"),
        total=Decimal("24.20"),
    )
    page = report_html.invoice_html(invoice)
    assert "<script>" not in page and "<b>IT</b>" not in page and "PO<1>" not in page
    assert "Tom &amp; Jerry &lt;script&gt;" in page
    assert "PO&lt;1&gt;" in page
    assert "24.20" in page


@pytest.mark.parametrize("force", [False, True])
def test_the_comparison_counts_the_invoices_the_preview_shows(workbook: Workbook, force: bool) -> None:
    # the sample has customers with a method of their own: unless forced, they keep it on both sides
    workbook.w_force.value = force
    workbook.w_compare.value = "customer"
    summary = workbook.comparison().summary.set_index("method")
    assert summary.loc[workbook.method, "invoices"] == len(workbook.invoices)
    workbook.w_method.value = "customer"
    assert workbook.comparison().summary.set_index("method").loc["customer", "invoices"] == len(
        workbook.invoices
    )
    heading = "Method (for every customer)" if force else "Default method (customers' own kept)"
    assert heading in workbook.w_comparison.value
