"""What the app shows, in words: the month's exceptions as sentences with names and amounts, the filters,
the periods offered, uploads kept inside ``outputs/``, the inputs folder checked, the period's zip."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from po_month import analysed_month

from billing_lib.domain.errors import InputError, UsageError
from billing_lib.io import locations
from billing_lib.run.pipeline import Analysis
from billing_lib.ui import app_data
from billing_lib.ui.app_data import ALL


@pytest.fixture()
def month(tmp_path: Path) -> Analysis:
    return analysed_month(tmp_path)


def test_exceptions_read_as_sentences_held_first(month: Analysis) -> None:
    table = app_data.exceptions_table(month)
    assert list(table.columns[: len(app_data.EXCEPTION_COLUMNS)]) == app_data.EXCEPTION_COLUMNS
    held = table[table["Status"] == "Held"]
    assert list(table["Status"][: len(held)]) == ["Held"] * len(held)  # held rows come first
    rows = {row["item_id"]: row for row in held.to_dict("records")}
    assert sorted(rows) == ["b1", "z1"]
    assert (rows["b1"]["Customer"], rows["b1"]["PO"], rows["b1"]["Amount"], rows["b1"]["Where"]) == (
        "Beta GmbH", "—", "80.00 EUR", "BillingItems.csv, row 9",
    )  # fmt: skip
    assert rows["b1"]["Reason"] == "The customer requires a PO and this item has none."
    # the mismatch names both customers
    assert rows["z1"]["Reason"] == "PO PO-A belongs to Acme Ltd, not to Cobalt BV."
    assert (rows["z1"]["Date"], rows["z1"]["Item"]) == ("2026-10-15", "billing items z1")
    flagged = table[table["item_id"] == "b2"].iloc[0]
    assert (flagged["Status"], flagged["reason"]) == ("Flagged", "over_budget")


def test_filters_and_reason_choices(month: Analysis) -> None:
    table = app_data.exceptions_table(month)
    assert app_data.filter_exceptions(table) is not None and len(app_data.filter_exceptions(table)) == len(
        table
    )
    assert list(app_data.filter_exceptions(table, customer="103")["item_id"]) == ["z1"]
    assert list(app_data.filter_exceptions(table, po="PO-B")["item_id"]) == ["b2"]
    assert list(app_data.filter_exceptions(table, reason="missing_po", customer="102")["item_id"]) == ["b1"]
    assert app_data.filter_exceptions(table, customer="102", po="PO-A").empty
    choices = app_data.reason_choices(table)
    assert choices[0] == ("Every reason", ALL)
    assert ("The PO belongs to another customer. (1)", "po_customer_mismatch") in choices
    counts = table["reason"].value_counts()
    assert [value for _, value in choices[1:]] == list(counts.index)  # most frequent first


def test_filter_burndown_by_customer_and_by_one_po_of_a_list() -> None:
    bd = pd.DataFrame({"customer_id": ["101", "101", "102"], "po_number": ["PO-A", "PO-A; PO-AB", "PO-B"]})
    assert list(app_data.filter_burndown(bd, customer="101").index) == [0, 1]
    assert list(app_data.filter_burndown(bd, po="PO-A").index) == [0, 1]
    assert list(app_data.filter_burndown(bd, po="PO-AB").index) == [1]  # whole PO numbers, not parts
    assert list(app_data.filter_burndown(bd, po="PO").index) == []
    assert app_data.filter_burndown(bd).equals(bd)


def test_period_choices_go_back_across_the_year_and_keep_the_asked_period() -> None:
    assert app_data.period_choices(dt.date(2027, 1, 15), months=3) == [
        "2027-02",
        "2027-01",
        "2026-12",
        "2026-11",
    ]
    # in December the next month is January of the next year (it was offered as "2026-13")
    assert app_data.period_choices(dt.date(2026, 12, 31), months=1) == ["2027-01", "2026-12"]
    assert app_data.period_choices(dt.date(2026, 12, 31), around="2020-05", months=1) == [
        "2027-01", "2026-12", "2020-05",
    ]  # fmt: skip
    assert app_data.period_choices(dt.date(2026, 12, 31), around="2026-12", months=1) == [
        "2027-01",
        "2026-12",
    ]


def test_uploads_are_kept_under_outputs_with_safe_names(notebook_env: Path) -> None:
    folder = app_data.save_uploads(
        [("../../Billing Items.CSV", b"id\n1\n"), ("po/ref.xlsx", b"PK")], "2026-10"
    )
    assert folder == notebook_env / "inputs" / "2026-10" == app_data.uploads_folder("2026-10")
    assert sorted(p.name for p in folder.iterdir()) == ["Billing Items.csv", "ref.xlsx"]
    app_data.save_uploads([("Billing Items.csv", b"id\n2\n")], "2026-10")  # the same name replaces it
    assert (folder / "Billing Items.csv").read_bytes() == b"id\n2\n"
    with pytest.raises(InputError, match="not an export this app reads"):
        app_data.save_uploads([("notes.docx", b"x")], "2026-10")
    with pytest.raises(InputError, match="is empty"):
        app_data.save_uploads([("empty.csv", b"")], "2026-10")
    with pytest.raises(InputError, match="no file was chosen"):
        app_data.save_uploads([], "2026-10")
    with pytest.raises(UsageError):
        app_data.uploads_folder("../2026-10")
    assert not [p for p in folder.iterdir() if p.name.startswith(".upload-")]


def test_the_inputs_folder_is_checked_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Type the folder"):
        app_data.check_inputs_folder("  ")
    with pytest.raises(InputError, match="does not exist on the server"):
        app_data.check_inputs_folder(str(tmp_path / "nowhere"))
    (tmp_path / "file.csv").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        app_data.check_inputs_folder(str(tmp_path / "file.csv"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(InputError, match=r"holds no \.xlsx or \.csv export"):
        app_data.check_inputs_folder(str(tmp_path / "empty"))
    assert app_data.check_inputs_folder(f" {tmp_path} ") == tmp_path.resolve()
    assert app_data.check_inputs_folder("data/sample") == locations.SAMPLE_DIR.resolve()  # from the project


def test_the_period_zip_holds_the_period_s_files_but_not_hidden_ones(tmp_path: Path) -> None:
    out = tmp_path / "outputs" / "2026-10"
    with pytest.raises(InputError, match="Nothing to download for 2026-10 yet"):
        app_data.period_zip(out, "2026-10")
    (out / "invoices").mkdir(parents=True)
    (out / "invoices" / "INV-1.pdf").write_bytes(b"%PDF")
    (out / "invoices.csv").write_text("n\n")
    (out / ".billing-folder").write_text("{}")
    (out / ".partial-run").mkdir()
    (out / ".partial-run" / "x.csv").write_text("x")
    target = app_data.period_zip(out, "2026-10")
    assert target == tmp_path / "outputs" / "downloads" / "2026-10.zip"
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["2026-10/invoices.csv", "2026-10/invoices/INV-1.pdf"]
        assert archive.read("2026-10/invoices/INV-1.pdf") == b"%PDF"
    assert [p.name for p in target.parent.iterdir()] == ["2026-10.zip"]


def test_no_register_yet_is_an_empty_table(tmp_path: Path) -> None:
    frame = app_data.register_invoices(tmp_path / "register.sqlite", "2026-10")
    assert frame.empty and "invoice_number" in frame.columns and "status" in frame.columns
