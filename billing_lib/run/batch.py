"""``billing batch``: both notebooks run headless with papermill; the executed notebooks are the audit record.

``po_burndown.ipynb`` runs first: it only reads, and saves its report to a staging folder.
``billing_workbook.ipynb`` runs second; its last cell exports with ``pipeline.run_invoice``, which
writes the output folder all at once or not at all. Only when both notebooks succeed do the
executed notebooks and the PO report move into the output folder (``<out>/notebooks/``,
``<out>/po-report/``). When a notebook fails nothing has been invoiced, and the executed notebooks
(with the error in them) go to ``<out parent>/<out name>-failed-notebooks/``, which the error names.

The PO report runs beside the workbook, which records its invoices in the register as it finishes:
the report reads a copy of the register taken when the batch starts (``REGISTER_SNAPSHOT`` in the
staging folder, never kept), so it shows the month as the workbook invoices it (this period), not as
earlier invoicing. A report run after the batch reads the register itself and counts the month as
earlier. When both notebooks succeed the report's figures are compared with the run's
``po_burndown.csv``; a PO on which they disagree is an error naming it.

Parameters are checked against each notebook's parameters cell (``papermill.inspect_notebook``)
before anything runs: a parameter a notebook does not declare is a ``UsageError``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from billing_lib.domain.errors import BillingError, UsageError
from billing_lib.io import locations
from billing_lib.run.options import BURNDOWN, WORKBOOK, RunOptions, notebook_parameters

KERNEL = "python3"
REGISTER_SNAPSHOT = "register-at-start.sqlite"
# the columns of po_burndown.csv that the batch's PO report must show exactly as the run
AGREEING_COLUMNS = ("previously_invoiced", "this_period", "consumed", "remaining", "percent_used", "status")

Progress = Callable[[str], None]


def workbook_parameters(options: RunOptions) -> dict[str, Any]:
    """``billing_workbook.ipynb``'s parameters: the options of ``billing invoice``, and export."""
    return {**notebook_parameters(options, WORKBOOK), "export": True, "interactive": False}


def burndown_parameters(
    options: RunOptions, report_dir: Path, register: Path | None = None
) -> dict[str, Any]:
    """``po_burndown.ipynb``'s parameters: the same month, its report saved to ``report_dir``.

    ``register``: the register to read (the batch's copy taken at its start); default the run's.
    """
    parameters = notebook_parameters(options, BURNDOWN)
    if register is not None:
        parameters["register"] = str(register)
    return {**parameters, "out": str(report_dir), "save": True}


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters a notebook's ``parameters`` cell declares, by name."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook)))


def check_parameters(
    notebook: Path, parameters: Mapping[str, Any], declared: Mapping[str, Any] | None = None
) -> None:
    """``UsageError`` naming every parameter the notebook does not declare (``declared``: already read)."""
    declared = declared_parameters(notebook) if declared is None else declared
    unknown = [name for name in parameters if name not in declared]
    if unknown:
        raise UsageError(
            f"{notebook.name} has no parameter {', '.join(map(repr, unknown))}; "
            f"it declares {', '.join(declared)}"
        )


def plan(
    options: RunOptions,
    staging: Path,
    extra: Mapping[str, Any] | None = None,
    notebooks_dir: Path = locations.NOTEBOOK_DIR,
) -> list[tuple[Path, dict[str, Any]]]:
    """(notebook, parameters) in the order they run; ``extra`` goes to each notebook that declares it.

    Raises ``UsageError`` for a parameter a notebook does not declare, before anything runs.
    """
    runs = [
        (
            notebooks_dir / BURNDOWN,
            burndown_parameters(options, staging / "po-report", staging / REGISTER_SNAPSHOT),
        ),
        (notebooks_dir / WORKBOOK, workbook_parameters(options)),
    ]
    extra = dict(extra or {})
    own = sorted({name for _, params in runs for name in params} & set(extra))
    if own:
        raise UsageError(
            f"{', '.join(map(repr, own))}: set by the command's own options (--method, --out, --draft, ...), "
            "not as a notebook parameter"
        )
    declared = {nb: declared_parameters(nb) for nb, _ in runs}
    nobody = [name for name in extra if not any(name in d for d in declared.values())]
    if nobody:
        raise UsageError(
            f"no notebook has a parameter {', '.join(map(repr, nobody))}; "
            + "; ".join(f"{nb.name} declares {', '.join(d)}" for nb, d in declared.items())
        )
    for notebook, params in runs:
        params.update({k: v for k, v in extra.items() if k in declared[notebook]})
        check_parameters(notebook, params, declared[notebook])
    return runs


def parse_parameters(pairs: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs (``billing batch -p``) as notebook parameters: a value that reads as JSON
    (``20``, ``true``, ``null``, ``"x"``) is taken as such, any other as text."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"-p {pair!r}: write a notebook parameter as NAME=VALUE, e.g. -p max_charts=20")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        parameters[name.strip()] = value
    return parameters


def _cell_text(source: str) -> str:
    first = next((line.strip() for line in str(source).splitlines() if line.strip()), "")
    return first if len(first) <= 80 else first[:77] + "..."


def _remove_dead_stagings(out: Path) -> None:
    """Remove the staging folders of batches that were killed (their process is gone): nothing in them was
    issued, since a batch's invoices are issued by the workbook notebook into ``out`` itself."""
    for staging in out.parent.glob(f".{out.name}-batch-*"):
        pid = staging.name.rsplit("-", 1)[-1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(staging, ignore_errors=True)
        except PermissionError:  # a process of another user: leave its folder alone
            continue


def snapshot_register(register: Path, target: Path) -> None:
    """A consistent copy of ``register`` at ``target`` (SQLite's online backup: it waits for a writer
    to commit); nothing when the register does not exist yet (the report then finds no earlier invoicing)."""
    import sqlite3

    target.unlink(missing_ok=True)
    if not register.exists():
        return
    try:
        source = sqlite3.connect(f"file:{register.resolve()}?mode=ro", uri=True, timeout=600)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise BillingError(f"cannot read the invoice register {register} for the PO report: {exc}") from None


def _rows_by_po(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["po_number"]: row for row in csv.DictReader(handle)}


def report_disagreements(out: Path) -> list[str]:
    """Where the PO report (``po-report/po_at_risk.csv``) shows a PO otherwise than the run's
    ``po_burndown.csv``: one sentence per PO; empty when they agree (or either file is missing)."""
    run_csv, report_csv = out / "po_burndown.csv", out / "po-report" / "po_at_risk.csv"
    if not run_csv.exists() or not report_csv.exists():
        return []
    run, shown = _rows_by_po(run_csv), _rows_by_po(report_csv)
    problems = [f"PO {po} is missing from one of them" for po in sorted(set(run) ^ set(shown))]
    for po in sorted(set(run) & set(shown)):
        differ = [
            f"{c} {shown[po].get(c, '')!r} in the report, {run[po].get(c, '')!r} in the run"
            for c in AGREEING_COLUMNS
            if run[po].get(c, "") != shown[po].get(c, "")
        ]
        if differ:
            problems.append(f"PO {po}: " + ", ".join(differ))
    return problems + _invoice_disagreements(out)


def _invoice_disagreements(out: Path) -> list[str]:
    """This period's items in the report's ``po_items.csv`` on another invoice than in ``invoice_items.csv``."""
    items_csv, report_csv = out / "invoice_items.csv", out / "po-report" / "po_items.csv"
    if not items_csv.exists() or not report_csv.exists():
        return []
    with items_csv.open(encoding="utf-8", newline="") as handle:
        issued = {(r["source_table"], r["item_id"]): r["invoice_number"] for r in csv.DictReader(handle)}
    problems = []
    with report_csv.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["when"] != "this period" or not row["invoice_number"]:
                continue
            number = issued.get((row["source_table"], row["item_id"]), "")
            if number != row["invoice_number"]:
                problems.append(
                    f"item {row['source_table']} {row['item_id']} of PO {row['po_number']}: invoice "
                    f"{row['invoice_number']!r} in the report, {number!r} in the run"
                )
    return problems


def _keep_failed(staging: Path, out: Path) -> Path:
    """Move the executed notebooks of a failed batch beside (never into) the output folder."""
    (staging / REGISTER_SNAPSHOT).unlink(missing_ok=True)
    failed = out.parent / f"{out.name}-failed-notebooks"
    shutil.rmtree(failed, ignore_errors=True)
    staging.rename(failed)
    return failed


def _install(staging: Path, out: Path) -> None:
    """Move the executed notebooks and the PO report into the finished output folder."""
    for name in ("notebooks", "po-report"):
        source, target = staging / name, out / name
        if source.exists():
            shutil.rmtree(target, ignore_errors=True)
            source.rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(out.parent / f"{out.name}-failed-notebooks", ignore_errors=True)  # an earlier attempt's


def execute(
    notebook: Path, executed: Path, parameters: Mapping[str, Any], timeout: int, progress_bar: bool, cwd: Path
) -> None:
    """Run one notebook with papermill into ``executed``; ``BillingError`` naming the failing cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=dict(parameters),
            kernel_name=KERNEL,
            execution_timeout=timeout,
            progress_bar=progress_bar,
            cwd=str(cwd),
            log_output=False,
        )
    except PapermillExecutionError as exc:
        raise BillingError(
            f"{notebook.name} failed in cell In [{exc.exec_count}] (cell {exc.cell_index} of the "
            f"executed notebook: {_cell_text(exc.source)}): {exc.ename}: {exc.evalue}"
        ) from None
    except BillingError:
        raise
    except Exception as exc:  # no kernel, kernel died, a cell timed out
        raise BillingError(
            f"{notebook.name} could not be run: {type(exc).__name__}: {exc}".rstrip()
        ) from None


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables (which kernels and workers inherit) for the block, then put them back."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_batch(
    options: RunOptions,
    timeout: int = 1800,
    progress: Progress | None = None,
    parameters: Mapping[str, Any] | None = None,
    notebooks_dir: Path = locations.NOTEBOOK_DIR,
) -> Path:
    """Run both notebooks for the month; return the output folder (invoices, reports, ``notebooks/``).

    ``parameters`` adds notebook parameters (e.g. ``max_charts``) to the notebooks that declare them.
    On a failure raises ``BillingError`` naming the notebook, the cell and the executed notebook to open;
    nothing is invoiced and the output folder is left as it was.
    """
    say = progress or (lambda _msg: None)
    out = options.out_dir.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}-batch-{os.getpid()}"
    _remove_dead_stagings(out)
    shutil.rmtree(staging, ignore_errors=True)
    runs = plan(options, staging, parameters, notebooks_dir)
    (staging / "notebooks").mkdir(parents=True)
    try:
        snapshot_register(options.register_path, staging / REGISTER_SNAPSHOT)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # plan order: the PO report (it only reads) and last the workbook (it exports). On two cores the
    # report runs beside the workbook in a child process instead of before it.
    *reports, (workbook, workbook_params) = runs
    failures: list[tuple[Path, BillingError]] = []
    # the two notebooks already use both cores: each kernel reads the month in one process
    one_reader = {"BILLING_READ_PROCESSES": os.environ.get("BILLING_READ_PROCESSES") or "1"}
    try:
        with (
            _environment(one_reader),
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool,
        ):
            beside = [
                (
                    nb,
                    pool.submit(
                        execute, nb, staging / "notebooks" / nb.name, params, timeout, False, notebooks_dir
                    ),
                )
                for nb, params in reports
            ]
            say(
                f"running {workbook.name}"
                + (f" ({', '.join(nb.name for nb, _ in beside)} beside it)" if beside else "")
            )
            try:
                execute(
                    workbook,
                    staging / "notebooks" / workbook.name,
                    workbook_params,
                    timeout,
                    options.progress,
                    notebooks_dir,
                )
            except BillingError as exc:
                failures.append((workbook, exc))
            for nb, future in beside:
                try:
                    future.result()
                except BillingError as exc:
                    failures.insert(0, (nb, exc))
    except BaseException:
        if staging.exists():
            _keep_failed(staging, out)
        raise
    failed_names = {nb.name for nb, _ in failures}
    if workbook.name in failed_names:  # nothing was invoiced: run_invoice is atomic and never ran to the end
        failed = _keep_failed(staging, out)
        details = "; ".join(f"{exc} (open {failed / 'notebooks' / nb.name})" for nb, exc in failures)
        raise BillingError(f"{details}. Nothing was invoiced; the notebooks show the cell and its traceback")
    _install(staging, out)
    if not failures:
        disagree = report_disagreements(out)
        if disagree:
            raise BillingError(
                f"the PO report in {out / 'po-report'} disagrees with the run's po_burndown.csv: "
                + "; ".join(disagree[:5])
                + (f"; and {len(disagree) - 5} more" if len(disagree) > 5 else "")
                + ". The invoices were written; the report should not be sent"
            )
    if failures:  # the invoices are complete; a report beside them is not
        details = "; ".join(f"{exc} (open {out / 'notebooks' / nb.name})" for nb, exc in failures)
        raise BillingError(f"{details}. The invoices were written to {out}; only the report above failed")
    say(f"executed notebooks kept in {out / 'notebooks'}")
    return out


__all__ = ["BURNDOWN", "WORKBOOK", "check_parameters", "parse_parameters", "plan", "run_batch"]
