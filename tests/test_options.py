"""``RunOptions`` is declared once; the command line, the notebooks and the batch are made from it.

No CSV, no run: these tests build parsers, parameters and options and look at them.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import datetime as dt
from pathlib import Path

import nbformat
import papermill
import pytest

from billing_lib.core.po import OVER_BUDGET_POLICIES as CORE_POLICIES
from billing_lib.domain.errors import UsageError
from billing_lib.io import locations
from billing_lib.run import batch, cli, options
from billing_lib.run.options import BATCH, BURNDOWN, CHECK, INVOICE, WORKBOOK, RunOptions


def subparser(command: str) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def flags(command: str) -> dict[str, argparse.Action]:
    """The long flags of ``billing <command>`` that set a RunOptions field, by field."""
    fields = {f.name for f in dataclasses.fields(RunOptions)}
    return {a.dest: a for a in subparser(command)._actions if a.dest in fields}


# --- the command line ------------------------------------------------------------------------------


def test_the_spec_command_line_is_there() -> None:
    # SPEC section 7: check --inputs [--period]; invoice/batch --inputs --period [--method] [--force-method]
    # [--out] [--draft] [--register]
    assert {"inputs", "period", "register"} <= set(flags(CHECK))
    for command in (INVOICE, BATCH):
        assert {"inputs", "period", "method", "force_method", "out", "draft", "register"} <= set(
            flags(command)
        )
        assert flags(command)["period"].required and flags(command)["inputs"].required
    assert flags(CHECK)["inputs"].required and not flags(CHECK)["period"].required


@pytest.mark.parametrize("command", [CHECK, INVOICE, BATCH])
def test_every_flag_comes_from_a_field_with_its_default_help_and_choices(command: str) -> None:
    made = flags(command)
    expected = {d.name: d for d in options.declared() if command in d.option.commands}
    assert set(made) == set(expected)
    for name, action in made.items():
        d = expected[name]
        assert action.option_strings == [d.option.flag]
        assert action.default == (None if d.default is dataclasses.MISSING else d.default), name
        assert (action.choices or ()) == d.option.choices, name
        hidden = action.help == argparse.SUPPRESS
        assert hidden == (command in d.option.hidden), name
        if not hidden:
            assert action.help == d.option.help, name


def test_flags_keep_their_names_and_forms() -> None:
    made = flags(INVOICE)
    assert made["over_budget_policy"].option_strings == ["--over-budget-policy"]
    assert made["over_budget_policy"].choices == ("flag", "hold")
    assert made["paper"].choices == ("A4", "letter")
    assert made["excel"].option_strings == ["--no-excel"] and made["excel"].default is True
    assert made["documents"].option_strings == ["--no-documents"]
    assert made["number_format"].default == "INV-{yyyy}{mm}-{seq:04d}"
    assert "paper" not in flags(BATCH) and "pdf_template" not in flags(BATCH)
    assert "--method" not in subparser(CHECK).format_help()  # check takes it, without listing it


def test_invoice_help_lists_the_flags_month_first_then_consolidation_then_output() -> None:
    text = subparser(INVOICE).format_help()
    order = ["--inputs", "--period", "--register", "--over-budget-policy", "--method", "--force-method",
             "--split-by-contact", "--out", "--draft", "--number-format", "--template", "--no-excel",
             "--no-documents", "--paper", "--pdf-template"]  # fmt: skip
    usage = text.split("\n\n")[0]
    positions = [usage.index(f"[{flag}" if flag not in ("--inputs", "--period") else flag) for flag in order]
    assert positions == sorted(positions)


def test_flags_make_the_options_they_say() -> None:
    args = cli.build_parser().parse_args(
        ["invoice", "--inputs", "month", "--period", "2026-09", "--method", "job", "--draft", "--no-excel",
         "--over-budget-policy", "hold", "--paper", "letter"]
    )  # fmt: skip
    made = options.from_args(INVOICE, args)
    assert made.inputs == Path("month") and made.period == "2026-09" and made.method == "job"
    assert made.draft and made.over_budget_policy == "hold" and made.paper == "letter"
    # --no-excel: the CSV tables only, so no PDFs, e-invoices or charts either
    assert (made.excel, made.documents, made.charts) == (False, False, False)
    check = options.from_args(CHECK, cli.build_parser().parse_args(["check", "--inputs", "m"]))
    assert check.period == options.DEFAULT_PERIOD and not check.draft and check.documents and check.charts


def test_no_documents_keeps_the_workbooks() -> None:
    args = cli.build_parser().parse_args(["batch", "--inputs", "m", "--period", "2026-10", "--no-documents"])
    made = options.from_args(BATCH, args)
    assert (made.excel, made.documents, made.charts) == (True, False, True)


@pytest.mark.parametrize(("argv", "message"), [
    (["--period", "October"], "period 'October' is not of the form YYYY-MM"),
    (["--period", "2026-10", "--method", "by_colour"], "unknown consolidation method 'by_colour'"),
    (["--period", "2026-10", "--method", "buyer_reference"], "buyer_reference cannot be the run's default"),
    (["--period", "2026-10", "--number-format", "INV-{yyyy}"], "has no {seq} field"),
])  # fmt: skip
def test_a_bad_value_is_a_sentence_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = cli.main(["invoice", "--inputs", str(tmp_path), *argv, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("billing: error: ") and message in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


# --- made once, checked once -----------------------------------------------------------------------


@pytest.mark.parametrize(("change", "message"), [
    ({"period": "2026-13"}, "YYYY-MM"),
    ({"method": "nope"}, "unknown consolidation method"),
    ({"over_budget_policy": "ignore"}, "over_budget_policy must be one of flag, hold, not 'ignore'"),
    ({"number_format": "X-{yyyy}"}, "no {seq} field"),
])  # fmt: skip
def test_options_are_checked_when_made_and_when_changed(change: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        RunOptions(inputs=Path("m"), **change)  # type: ignore[arg-type]
    good = RunOptions(inputs=Path("m"))
    with pytest.raises(UsageError, match=message):
        dataclasses.replace(good, **change)  # type: ignore[arg-type]


def test_the_policies_are_the_cores() -> None:
    assert options.OVER_BUDGET_POLICIES == CORE_POLICIES


def test_the_manifest_keeps_its_parameters_in_field_order() -> None:
    # manifest.json's "parameters" is asdict(options): its keys in this order, as before the options moved
    assert [f.name for f in dataclasses.fields(RunOptions)] == [
        "inputs", "period", "method", "force_method", "out", "draft", "register", "over_budget_policy",
        "split_by_contact", "number_format", "template", "excel", "documents", "paper", "pdf_template",
        "charts", "progress", "workers", "invoice_date",
    ]  # fmt: skip


# --- the notebooks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", [WORKBOOK, BURNDOWN])
def test_the_notebooks_parameters_cells_are_made_from_the_options(notebook: str) -> None:
    cell = next(
        c
        for c in nbformat.read(locations.NOTEBOOK_DIR / notebook, as_version=4).cells
        if "parameters" in c.metadata.get("tags", [])
    )
    expected = options.parameters_cell(notebook)
    lines = cell.source.splitlines()
    assert lines[: len(expected)] == expected, "\n".join(["the parameters cell should start:", *expected])
    # and papermill reads them as declared: type, default and help
    declared = papermill.inspect_notebook(str(locations.NOTEBOOK_DIR / notebook))
    for d in options.declared():
        if notebook in d.option.notebooks:
            assert declared[d.name]["help"] == (d.option.note or d.option.help)


def test_the_workbook_takes_every_invoice_option_the_batch_can_set() -> None:
    own = {d.name for d in options.declared() if WORKBOOK in d.option.notebooks}
    assert own >= {d.name for d in options.declared() if BATCH in d.option.commands}


def test_notebook_parameters_resolve_against_the_notebooks_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BILLING_INPUTS", raising=False)
    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "outs"))
    made = options.from_notebook(inputs="../data/sample", template="../data/templates/x.xlsx", draft=False)
    assert made.inputs == locations.SAMPLE_DIR
    assert made.template == locations.DATA_DIR / "templates" / "x.xlsx"
    assert (
        made.out == tmp_path / "outs" / "2026-10" and made.register == tmp_path / "outs" / "register.sqlite"
    )
    assert not made.draft and made.documents and made.paper == "A4"
    assert options.from_notebook().draft  # a notebook's default run is a draft
    assert not options.from_notebook(excel=False).documents  # no workbooks: no documents beside them


def test_parameters_resolve_against_the_notebooks_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BILLING_INPUTS", raising=False)
    monkeypatch.delenv("BILLING_OUTPUTS", raising=False)
    opts = options.from_notebook(inputs="../data/sample", period="2026-10", method="job")
    assert opts.inputs == locations.SAMPLE_DIR
    assert opts.method == "contract"
    assert opts.out == locations.PROJECT_ROOT / "outputs" / "2026-10"
    assert opts.register == locations.PROJECT_ROOT / "outputs" / "register.sqlite"
    assert opts.template is None and opts.invoice_date is None
    monkeypatch.setenv("BILLING_INPUTS", str(tmp_path / "month"))
    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "outs"))
    opts = options.from_notebook(inputs="../data/sample", period="2026-11", invoice_date="2026-12-01")
    assert opts.inputs == tmp_path / "month"  # the environment replaces the default ...
    assert opts.out == tmp_path / "outs" / "2026-11"
    assert opts.invoice_date == dt.date(2026, 12, 1)
    explicit = options.from_notebook(inputs=str(tmp_path / "other"), out="../outputs/x")
    assert explicit.inputs == tmp_path / "other"  # ... but never a folder the parameters name
    assert explicit.out == locations.PROJECT_ROOT / "outputs" / "x"


@pytest.mark.parametrize(("parameters", "message"), [
    ({"period": "October"}, "period 'October' is not of the form YYYY-MM"),
    ({"method": "by_colour"}, "unknown consolidation method"),
    ({"draft": "perhaps"}, "draft must be True or False, not 'perhaps'"),
    ({"invoice_date": "1/11/2026"}, "invoice_date '1/11/2026' is not a date of the form YYYY-MM-DD"),
    ({"over_budget_policy": "ignore"}, "over_budget_policy must be one of flag, hold"),
    ({"method": "buyer_reference"}, "buyer_reference"),
    ({"peroid": "2026-10"}, "no notebook parameter 'peroid'"),
])  # fmt: skip
def test_a_bad_notebook_parameter_is_a_usage_error_naming_it(
    parameters: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        options.from_notebook(**parameters)


def test_text_flags_from_papermill_are_read_as_flags() -> None:
    assert options.from_notebook(draft="false", force_method="True").force_method
    assert not options.from_notebook(draft="false").draft
    assert options.from_notebook(invoice_date="2026-11-01").invoice_date == dt.date(2026, 11, 1)


# --- the batch's parameters ------------------------------------------------------------------------


def test_the_batch_gives_each_notebook_the_options_it_declares(tmp_path: Path) -> None:
    made = RunOptions(
        inputs=tmp_path / "m", period="2026-09", method="customer", force_method=True, draft=True,
        register=tmp_path / "r.sqlite", template=tmp_path / "t.xlsx", invoice_date=dt.date(2026, 10, 1),
    )  # fmt: skip
    workbook = batch.workbook_parameters(made)
    assert workbook == {
        "inputs": str(tmp_path / "m"), "period": "2026-09", "register": str(tmp_path / "r.sqlite"),
        "over_budget_policy": "flag", "method": "customer", "force_method": True, "split_by_contact": False,
        "out": str(made.out_dir.resolve()), "draft": True, "number_format": options.DEFAULT_NUMBER_FORMAT,
        "template": str(tmp_path / "t.xlsx"), "excel": True, "documents": True, "invoice_date": "2026-10-01",
        "export": True, "interactive": False,
    }  # fmt: skip
    report = batch.burndown_parameters(made, tmp_path / "rep", tmp_path / "snap.sqlite")
    assert report["register"] == str(tmp_path / "snap.sqlite") and report["out"] == str(tmp_path / "rep")
    assert report["save"] is True and "template" not in report and "excel" not in report
    # what the batch gives a notebook, the notebook turns back into the same options
    back = options.from_notebook(**{k: v for k, v in workbook.items() if k not in ("export", "interactive")})
    assert back == dataclasses.replace(made, out=made.out_dir.resolve())


@pytest.mark.parametrize("notebook", [WORKBOOK, BURNDOWN])
def test_every_batch_parameter_is_declared_by_its_notebook(notebook: str) -> None:
    declared = papermill.inspect_notebook(str(locations.NOTEBOOK_DIR / notebook))
    made = RunOptions(inputs=Path("m"))
    given = (
        batch.workbook_parameters(made)
        if notebook == WORKBOOK
        else batch.burndown_parameters(made, Path("r"))
    )
    assert set(given) <= set(declared)


@pytest.mark.parametrize("notebook", [WORKBOOK, BURNDOWN])
def test_the_notebook_passes_every_option_it_declares_on_by_name(notebook: str) -> None:
    # the call after the parameters cell hands each declared option on as name=name: none forgotten
    cells = [
        c
        for c in nbformat.read(locations.NOTEBOOK_DIR / notebook, as_version=4).cells
        if c.cell_type == "code"
    ]
    passed = {
        keyword.arg
        for cell in cells[1:]
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if isinstance(keyword.value, ast.Name) and keyword.value.id == keyword.arg
    }
    declared = {d.name for d in options.declared() if notebook in d.option.notebooks}
    assert declared <= passed, sorted(declared - passed)
