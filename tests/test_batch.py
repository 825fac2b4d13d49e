"""``billing batch``: both notebooks through papermill, the executed notebooks kept, the same invoices as
``billing invoice``, and failures that name the cell and leave no invoices behind."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from billing_lib.domain.errors import BillingError, UsageError
from billing_lib.io import locations
from billing_lib.run import batch, cli
from billing_lib.run.options import RunOptions, from_notebook

pytestmark = pytest.mark.slow


def errors_in(notebook: Path) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    return [
        o["ename"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o["output_type"] == "error"
    ]


def test_batch_invoices_equal_billing_invoice(
    sample_month: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [
        "--inputs",
        str(sample_month),
        "--period",
        "2026-10",
        "--method",
        "contract",
        "--draft",
        "--register",
        str(tmp_path / "register.sqlite"),
    ]
    assert cli.main(["invoice", *common, "--out", str(tmp_path / "invoice" / "2026-10")]) == 0
    extra = ["-p", "compare_with=project", "-p", "max_charts=3"]  # each to the notebook that declares it
    assert cli.main(["batch", *common, "--out", str(tmp_path / "batch" / "2026-10"), *extra]) == 0
    out = tmp_path / "batch" / "2026-10"
    assert f"executed notebooks in {out}" in capsys.readouterr().out

    by_invoice = (tmp_path / "invoice" / "2026-10" / "invoices.csv").read_text(encoding="utf-8")
    by_batch = (out / "invoices.csv").read_text(encoding="utf-8")
    assert by_batch == by_invoice
    assert len(pd.read_csv(out / "invoices.csv")) > 1
    for name in ("invoice_items.csv", "exceptions.csv", "po_burndown.csv"):
        assert (out / name).read_bytes() == (tmp_path / "invoice" / "2026-10" / name).read_bytes(), name
    assert sorted(p.name for p in (out / "invoices").glob("*.xlsx")) == sorted(
        p.name for p in (tmp_path / "invoice" / "2026-10" / "invoices").glob("*.xlsx")
    )

    # the audit record: both notebooks, executed without error, with the run's parameters
    for name in (batch.WORKBOOK, batch.BURNDOWN):
        executed = out / "notebooks" / name
        assert executed.exists() and errors_in(executed) == []
    workbook = nbformat.read(out / "notebooks" / batch.WORKBOOK, as_version=4)
    assert workbook.metadata["papermill"]["parameters"]["method"] == "contract"
    assert workbook.metadata["papermill"]["parameters"]["out"] == str(out)
    assert workbook.metadata["papermill"]["parameters"]["compare_with"] == "project"
    report = nbformat.read(out / "notebooks" / batch.BURNDOWN, as_version=4)
    assert report.metadata["papermill"]["parameters"]["max_charts"] == 3
    assert (out / "po-report" / "po_report.html").exists()
    assert (out / "po-report" / "charts" / "po_overview.png").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["draft"] is True and manifest["parameters"]["method"] == "contract"
    assert not (tmp_path / "register.sqlite").exists()  # a draft records nothing
    assert [p.name for p in (tmp_path / "batch").iterdir()] == ["2026-10"]  # no staging folder left


def test_unknown_parameter_is_a_usage_error_before_anything_runs(sample_month: Path, tmp_path: Path) -> None:
    options = RunOptions(inputs=sample_month, period="2026-10", draft=True, out=tmp_path / "2026-10")
    with pytest.raises(UsageError, match="no notebook has a parameter 'colour'") as caught:
        batch.run_batch(options, parameters={"colour": "red"})
    assert caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_parameter_goes_only_to_the_notebooks_that_declare_it(sample_month: Path, tmp_path: Path) -> None:
    options = RunOptions(inputs=sample_month, period="2026-10", draft=True, out=tmp_path / "2026-10")
    runs = dict(batch.plan(options, tmp_path / "staging", {"max_charts": 3, "compare_with": "project"}))
    burndown, workbook = (
        runs[locations.NOTEBOOK_DIR / batch.BURNDOWN],
        runs[locations.NOTEBOOK_DIR / batch.WORKBOOK],
    )
    assert burndown["max_charts"] == 3 and "compare_with" not in burndown
    assert workbook["compare_with"] == "project" and "max_charts" not in workbook
    assert workbook["export"] is True and workbook["interactive"] is False
    with pytest.raises(UsageError, match=r"po_burndown.ipynb has no parameter 'export'"):
        batch.check_parameters(locations.NOTEBOOK_DIR / batch.BURNDOWN, {"export": True})


def test_failing_notebook_names_the_cell_and_leaves_no_invoices(tmp_path: Path) -> None:
    out = tmp_path / "outputs" / "2026-10"
    options = RunOptions(inputs=tmp_path / "no-such-folder", period="2026-10", draft=True, out=out)
    with pytest.raises(BillingError) as caught:
        batch.run_batch(options, timeout=300)
    message = str(caught.value)
    failed = tmp_path / "outputs" / "2026-10-failed-notebooks" / "notebooks" / batch.BURNDOWN
    assert f"{batch.BURNDOWN} failed in cell In [" in message
    assert "no-such-folder" in message
    assert str(failed) in message
    assert failed.exists() and errors_in(failed)
    assert not out.exists()  # nothing invoiced, no half-written folder
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["2026-10-failed-notebooks"]


def test_a_failing_po_report_beside_the_workbook_keeps_the_finished_invoices(
    sample_month: Path, tmp_path: Path
) -> None:
    """The PO report runs beside the workbook: its failure is reported, the complete invoices stand."""
    out = tmp_path / "outputs" / "2026-10"
    options = RunOptions(inputs=sample_month, period="2026-10", draft=True, out=out)
    with pytest.raises(BillingError) as caught:
        batch.run_batch(options, timeout=300, parameters={"max_charts": "twelve"})
    message = str(caught.value)
    report = out / "notebooks" / batch.BURNDOWN
    assert f"{batch.BURNDOWN} failed in cell In [" in message
    assert str(report) in message and "The invoices were written" in message
    assert errors_in(report)  # the audit record keeps the failed report with its traceback
    assert not errors_in(out / "notebooks" / batch.WORKBOOK)
    invoices = pd.read_csv(out / "invoices.csv", dtype=str)
    assert len(invoices) > 0 and (out / "manifest.json").exists()


def test_parameters_on_the_command_line_are_name_value_pairs_read_as_json_where_they_can_be() -> None:
    assert batch.parse_parameters(
        ["max_charts=20", "compare_with=contract", "save=true", "note=a=b", "x="]
    ) == {
        "max_charts": 20,
        "compare_with": "contract",
        "save": True,
        "note": "a=b",
        "x": "",
    }
    with pytest.raises(UsageError, match=r"-p 'max_charts': write a notebook parameter as NAME=VALUE"):
        batch.parse_parameters(["max_charts"])


def test_a_parameter_the_options_set_is_refused_on_the_command_line(
    sample_month: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "2026-10"
    args = ["batch", "--inputs", str(sample_month), "--period", "2026-10", "--draft", "--out", str(out)]
    assert cli.main([*args, "-p", "method=customer"]) == 2
    assert "'method': set by the command's own options" in capsys.readouterr().err
    assert cli.main([*args, "-p", "max_charts"]) == 2
    assert not out.exists()


def test_the_batch_report_shows_the_month_as_the_run_invoiced_it_and_a_later_report_as_earlier(
    sample_month: Path, tmp_path: Path
) -> None:
    """A final batch: the PO report beside the workbook must not count the month it invoices as earlier
    (it read the register after the workbook recorded it); a report run afterwards does."""
    from billing_lib.ui import drilldown, po_report, po_report_files, report

    register = tmp_path / "register.sqlite"
    out = tmp_path / "outputs" / "2026-10"
    options = RunOptions(inputs=sample_month, period="2026-10", out=out, register=register, excel=False)
    batch.run_batch(options, timeout=600, parameters={"max_charts": 1})
    assert register.exists()

    def by_po(path: Path) -> pd.DataFrame:
        return pd.read_csv(path, dtype=str, keep_default_na=False).set_index("po_number").sort_index()

    run = by_po(out / "po_burndown.csv")
    shown = by_po(out / "po-report" / "po_at_risk.csv")
    assert (run["this_period"].map(float) > 0).sum() >= 3 and set(run["previously_invoiced"]) == {"0.00"}
    for column in ("previously_invoiced", "this_period", "consumed", "remaining", "percent_used", "status"):
        assert list(shown[column]) == list(run[column]), column
    assert batch.report_disagreements(out) == []
    # this period's items carry the invoice numbers the run issued, not DRAFT- numbers
    items = pd.read_csv(out / "po-report" / "po_items.csv", dtype=str, keep_default_na=False)
    now = items[(items["when"] == "this period") & (items["invoice_number"] != "")]
    issued_items = pd.read_csv(out / "invoice_items.csv", dtype=str)
    numbers = dict(
        zip(
            zip(issued_items["source_table"], issued_items["item_id"], strict=True),
            issued_items["invoice_number"],
            strict=True,
        )
    )
    assert len(now) > 10 and now["invoice_number"].str.startswith("INV-202610-").all()
    assert [numbers[k] for k in zip(now["source_table"], now["item_id"], strict=True)] == list(
        now["invoice_number"]
    )
    assert not list(out.parent.glob(".*")) and not (out / "po-report" / batch.REGISTER_SNAPSHOT).exists()

    # the same month reported afterwards: the register now holds this month's invoices, as earlier ones
    later = report.load(from_notebook(inputs=str(sample_month), register=str(register)))
    tracking = po_report.build(later)
    po_report_files.save(tracking, tmp_path / "later", True)
    after = by_po(tmp_path / "later" / "po_at_risk.csv")
    assert list(after["previously_invoiced"]) == list(run["this_period"])
    assert set(after["this_period"]) == {"0.00"}
    assert list(after["consumed"]) == list(run["consumed"])
    # the drill-down now lists the issued invoice numbers as earlier
    po = str(run.index[run["this_period"].map(float) > 0][0])
    rows = drilldown.po_items_of(later, po)
    assert set(rows["when"]) == {"earlier"} and rows["invoice_number"].str.startswith("INV-").all()
    issued = pd.read_csv(out / "invoice_items.csv", dtype=str)
    assert set(rows["invoice_number"]) <= set(issued["invoice_number"])


def test_a_report_that_disagrees_with_the_run_is_named(tmp_path: Path) -> None:
    out = tmp_path / "2026-10"
    (out / "po-report").mkdir(parents=True)
    header = "po_number,previously_invoiced,this_period,consumed,remaining,percent_used,status\n"
    (out / "po_burndown.csv").write_text(header + "PO-1,0.00,100.00,100.00,900.00,10.00,ok\n")
    (out / "po-report" / "po_at_risk.csv").write_text(header + "PO-1,100.00,0.00,100.00,900.00,10.00,ok\n")
    assert batch.report_disagreements(out) == [
        "PO PO-1: previously_invoiced '100.00' in the report, '0.00' in the run, "
        "this_period '0.00' in the report, '100.00' in the run"
    ]


def test_an_unreadable_register_stops_the_batch_before_anything_runs(
    sample_month: Path, tmp_path: Path
) -> None:
    register = tmp_path / "register.sqlite"
    register.write_bytes(b"this is not a database" * 100)
    out = tmp_path / "outputs" / "2026-10"
    options = RunOptions(inputs=sample_month, period="2026-10", out=out, register=register, excel=False)
    with pytest.raises(
        BillingError, match=r"cannot read the invoice register .*register.sqlite for the PO report"
    ):
        batch.run_batch(options, timeout=300)
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == []  # no staging folder left
