"""The analyst's app without a browser: set a widget's value or click a button as the page would, then check
what changed. Expected figures come from the pipeline (``analyse``), never from the app."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from billing_lib.core import adjustments as adj
from billing_lib.run.options import from_notebook
from billing_lib.run.pipeline import analyse
from billing_lib.ui import app_data, page
from billing_lib.ui.app import App


@pytest.fixture()
def month(sample_month: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(sample_month, tmp_path / "exports"))


@pytest.fixture()
def app(month: Path, notebook_env: Path) -> App:
    return App.from_parameters(inputs=str(month), period="2026-10")


def test_opens_on_the_month_with_a_sentence(app: App, month: Path) -> None:
    expected = analyse(from_notebook(inputs=str(month))).invoice_set.invoices
    assert app.message_ok
    assert app.message.startswith(
        f"2026-10: 400 billable rows read from exports, {len(expected)} invoices to issue"
    )
    assert app.w_period.value == "2026-10"
    assert "2026-10" in app.w_period.options


def test_exceptions_read_as_sentences_with_names_and_amounts(app: App) -> None:
    table = app.exceptions
    mismatch = table[table["reason"] == "po_customer_mismatch"].iloc[0]
    assert mismatch["Reason"] == "PO PO-3300 belongs to Fabrikam Engineering BV, not to Alpine Data AG."
    assert mismatch["Customer"] == "Alpine Data AG"
    assert mismatch["Amount"].endswith(" EUR") and "." in mismatch["Amount"]
    assert mismatch["Amount"].split()[0].split(".")[1].__len__() == 2  # 450.00, never 450.0
    assert not table["Reason"].str.contains("_").any()  # no reason codes on screen
    assert set(table["Status"]) == {"Held", "Flagged"}


def test_filters_apply_to_the_exceptions_and_the_budgets(app: App) -> None:
    wb = app.workbook
    assert wb is not None
    customer = app.exceptions.loc[app.exceptions["reason"] == "po_customer_mismatch", "customer_id"].iloc[0]
    wb.w_customer.value = customer
    assert set(app.shown_exceptions["customer_id"]) == {customer}
    app.w_reason.value = "late"
    assert set(app.shown_exceptions["reason"]) <= {"late"}
    wb.w_customer.value = ""
    po = next(v for _, v in wb.w_po.options if v not in ("", "\u2205"))
    wb.w_po.value = po
    assert set(app.shown_exceptions["po_filter"]) <= {po}
    assert f">{po}<" in wb.w_burndown.value and "<p>1 PO: " in wb.w_burndown.value


def test_giving_a_held_item_a_po_from_the_table(app: App, month: Path) -> None:
    app.w_reason.value = "missing_po"
    row = app.shown_exceptions.iloc[0]
    po = next(v for _, v in app.workbook.w_po.options if v not in ("", "\u2205"))  # type: ignore[union-attr]
    app.w_exceptions.selected_rows = [0]
    app.w_action.value = adj.SET_PO
    app.w_value.value = po
    app.w_note.value = "PO from the buyer's e-mail"
    app.w_record.click()
    assert app.message_ok, app.message
    kept = adj.read(month / adj.FILE_NAME)
    assert [(a.item_id, a.action, a.value, a.note) for a in kept] == [
        (row["item_id"], "set_po", po, "PO from the buyer's e-mail")
    ]
    assert row["item_id"] not in set(app.exceptions.loc[app.exceptions["reason"] == "missing_po", "item_id"])
    assert "PO from the buyer" in app.w_adjustments.value and "applied" in app.w_adjustments.value


def test_record_without_a_selection_says_so(app: App) -> None:
    app.w_record.click()
    assert not app.message_ok and app.message == "Select an exception in the table first."


def test_issue_confirms_then_lists_what_was_issued_and_a_second_issue_moves_nothing(
    app: App, notebook_env: Path
) -> None:
    count = len(app.workbook.invoices)  # type: ignore[union-attr]
    app.w_issue.click()
    assert app.w_confirm_box.layout.display is None
    text = app.w_confirm_text.value
    assert (
        f"Issue {count} final invoices for 2026-10" in text
        and "not ready" in text
        and "flags still stand" in text
    )
    assert not (notebook_env / "register.sqlite").exists()  # nothing happens before the confirmation
    app.w_confirm.click()
    assert app.message == f"{count} final invoices issued for 2026-10."
    assert len(app.issued_rows()) == count and "INV-202610-0001" in app.w_issue_result.value
    assert not app.w_issue.disabled and not app.issuing
    issued = sorted((notebook_env / "2026-10" / "invoices").glob("*.xlsx"))
    assert len(issued) == count
    stamps = [p.stat().st_mtime_ns for p in issued]
    app.w_confirm.click()  # a second click of the same confirmation: ignored
    assert "INV-202610-0001" in app.w_issue_result.value
    app.w_issue.click()  # issuing the month again: nothing new, nothing moved
    app.w_confirm.click()
    assert app.message.startswith("Nothing new to issue for 2026-10")
    assert "Nothing new to issue" in app.w_issue_result.value
    assert [p.stat().st_mtime_ns for p in issued] == stamps
    assert len(app.register_rows()) == count
    assert "Register of 2026-10: " + page.plural(count, "document") in app.w_register.value


def test_cancel_issues_nothing(app: App) -> None:
    app.w_issue.click()
    app.w_cancel.click()
    app.w_confirm.click()  # a stale click after the cancel
    assert app.message == "Nothing was issued." and app.register_rows().empty


def test_issuing_twice_at_once_issues_once(app: App) -> None:
    app.issuing = True  # a first click still running
    assert app.issue() is None
    assert app.register_rows().empty


def test_void_from_the_register_needs_a_reason(app: App) -> None:
    app.issue()
    number = app.w_void_number.value
    app.w_void_reason.value = ""
    app.w_void.click()
    assert not app.message_ok and "Say why" in app.message
    app.w_void_reason.value = "wrong PO"
    app.w_void.click()
    assert app.message.startswith(f"{number} is void (wrong PO): credit note ")
    rows = app.register_rows()
    status = rows.loc[rows["invoice_number"] == number, "status"].item()
    assert status.startswith("void since ") and "(wrong PO)" in status
    credit = rows[rows["document"] == "Credit note"]
    assert list(credit["status"]) == [f"cancels {number}"]
    assert app.w_void_number.value != number  # the next standing invoice is offered


def test_reprint_from_the_register(app: App, notebook_env: Path) -> None:
    app.issue()
    number = app.w_void_number.value
    app.w_reprint.click()
    assert app.message == f"{number} reprinted as it was issued."
    assert (notebook_env / "2026-10" / "reprints" / f"{number}.xlsx").exists()
    assert f'download="{number}.xlsx"' in app.w_download.value


def test_download_zips_the_period_inside_outputs(app: App, notebook_env: Path) -> None:
    app.workbook.export()  # type: ignore[union-attr]
    path = app.make_download()
    assert path == notebook_env / "downloads" / "2026-10.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert "2026-10/drafts/manifest.json" in names and "2026-10/drafts/invoices.csv" in names
    assert 'download="2026-10.zip"' in app.w_download.value


def test_upload_saves_into_the_period_folder_and_reads_it(app: App, month: Path, notebook_env: Path) -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(month.glob("*.xlsx"))]
    app.w_period.value = "2026-09"
    folder = notebook_env / "inputs" / "2026-09"
    assert app_data.save_uploads([("../../evil.csv", b"a,b\n")], "2026-09") == folder
    assert (folder / "evil.csv").exists() and not (notebook_env / "evil.csv").exists()  # kept in its folder
    (folder / "evil.csv").unlink()
    assert app.upload(files)
    assert app.options.inputs == folder.resolve() or app.options.inputs == folder
    assert sorted(p.name for p in folder.glob("*.xlsx")) >= sorted(n for n, _ in files)
    assert app.message.startswith("2026-09:")


def test_upload_refuses_other_files(app: App) -> None:
    assert not app.upload([("notes.txt", b"hello")])
    assert "is not an export this app reads" in app.message


def test_a_wrong_folder_is_a_sentence(app: App, tmp_path: Path) -> None:
    app.w_folder.value = str(tmp_path / "nowhere")
    app.w_open.click()
    assert not app.message_ok
    assert app.message == f"The folder {tmp_path / 'nowhere'} does not exist on the server."
    (tmp_path / "empty").mkdir()
    assert not app.open_folder(str(tmp_path / "empty"))
    assert "holds no .xlsx or .csv export" in app.message


def test_a_missing_po_table_is_stated(month: Path, notebook_env: Path) -> None:
    (month / "po_reference.xlsx").unlink()
    app = App.from_parameters(inputs=str(month), period="2026-10")
    assert app_data.NO_PO_TABLE in app.w_checklist.value
    assert app.message.endswith(app_data.NO_PO_TABLE)
    assert app_data.NO_PO_TABLE in app.confirmation_text()


def test_the_batch_gets_the_record_panels(month: Path, notebook_env: Path) -> None:
    app = App.from_parameters(inputs=str(month), period="2026-10", interactive=False)
    assert "<h2>PO budgets</h2>" in app.record_panel("burndown")._repr_html_()
    assert app.export_if_requested(False) is None


def test_period_choices_offer_recent_months() -> None:
    import datetime as dt

    choices = app_data.period_choices(dt.date(2026, 11, 30), around="2025-01", months=3)
    assert choices == ["2026-12", "2026-11", "2026-10", "2026-09", "2025-01"]


def test_decimal_text_shows_two_decimals() -> None:
    from decimal import Decimal

    assert [page.decimal_text(v) for v in (Decimal("190.0"), Decimal("1"), Decimal("0.125"), 6.0)] == [
        "190.00",
        "1.00",
        "0.125",
        "6.00",
    ]


def test_a_wrong_inputs_folder_at_start_is_a_sentence_and_the_app_still_opens(
    notebook_env: Path, tmp_path: Path
) -> None:
    app = App.from_parameters(inputs=str(tmp_path / "missing"), period="2026-10")
    assert app.workbook is None and not app.message_ok
    assert app.message == (
        f"The folder {tmp_path / 'missing'} does not exist: upload the month's exports or choose another folder."
    )
    assert app.panel() is app.w_app  # the period picker and the upload are there to fix it


def test_a_bad_period_is_a_sentence_and_the_month_shown_stays(notebook_env: Path, tmp_path: Path) -> None:
    app = App.from_parameters(inputs=str(tmp_path / "missing"), period="2026-10")
    assert not app.load(period="October")  # the options are checked as they are made: no traceback
    assert not app.message_ok
    assert app.message == "period 'October' is not of the form YYYY-MM (for example 2026-10)"
    assert app.options.period == "2026-10"


def test_the_customer_filter_applies_to_the_register(app: App) -> None:
    app.issue()
    wb = app.workbook
    assert wb is not None
    everyone = app.register_rows()
    customer = str(everyone["customer_id"].iloc[0])
    name = str(everyone["customer_name"].iloc[0])
    wb.w_customer.value = customer
    shown = app.w_register.value
    others = set(everyone.loc[everyone["customer_id"] != customer, "invoice_number"])
    assert name in shown and others and not any(n in shown for n in others)


def test_a_customer_with_only_held_items_can_be_picked(month: Path, notebook_env: Path) -> None:
    items = month / "BillingItems.xlsx"
    assert items.exists()
    app = App.from_parameters(inputs=str(month), period="2026-10")
    wb = app.workbook
    assert wb is not None
    held_only = set(wb.prepared[0].held["customer_id"]) - set(wb.invoices["customer_id"]) - {""}
    offered = {v for _, v in wb.w_customer.options}
    assert set(wb.prepared[0].held["customer_id"]) - {""} <= offered
    assert held_only <= offered
