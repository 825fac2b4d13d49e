"""The whole month in-process: read, check, consolidate, burn-down, and write the outputs atomically.

``analyse`` does every calculation and writes nothing: the widgets and ``billing check`` use it.
``run_invoice`` writes the output folder: everything goes to a temporary folder first and is moved
into place only when complete; a final run's register transaction commits only after that, so a
failed or interrupted run leaves no invoices, consumes no numbers and marks no items.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from billing_lib.core import adjustments as adjmod
from billing_lib.core import burndown as bdmod
from billing_lib.core.checklist import Checklist, build_checklist
from billing_lib.core.consolidate import InvoiceSet, consolidate
from billing_lib.core.po import check_pos, reference_problems, reference_table
from billing_lib.core.rules import Prepared, prepare_items
from billing_lib.domain.errors import BillingError, OutputError, UsageError
from billing_lib.domain.money import format_minor
from billing_lib.domain.period import Period
from billing_lib.domain.records import Invoice, Issue
from billing_lib.io import burndown_csv, faults, locations, outfolder
from billing_lib.io.customer_documents import customer_einvoice_issues, einvoice_issues
from billing_lib.io.filenames import safe_filename
from billing_lib.io.inputs import Inputs, load_inputs
from billing_lib.io.outputs import (
    exceptions_frame,
    for_spreadsheet,
    invoice_items_frame,
    invoice_lines_frame,
    invoices_frame,
    versions,
    write_csv,
    write_manifest,
)
from billing_lib.run.options import RunOptions

Progress = Callable[[str], None]


@dataclass
class Analysis:
    """Everything a run computes before it writes: the widgets and ``billing check`` stop here."""

    options: RunOptions
    prep: Prepared
    ref: pd.DataFrame
    previously: pd.DataFrame
    invoice_set: InvoiceSet
    burndown: pd.DataFrame
    series: pd.DataFrame
    exposure: pd.DataFrame
    checklist: Checklist
    timings: dict[str, float] = field(default_factory=dict)
    einvoice_issues: list[Issue] = field(default_factory=list)

    @property
    def issues(self) -> list[Issue]:
        return self.prep.issues + self.invoice_set.issues + self.einvoice_issues

    @property
    def held(self) -> pd.DataFrame:
        return pd.concat([self.prep.held, self.invoice_set.excluded], ignore_index=True)


def _empty_previously() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "po_key",
            "po_number",
            "customer_id",
            "currency",
            "amount_minor",
            "quantity",
            "kind",
            "item_date",
            "period",
            "invoice_number",
            "source_table",
            "item_id",
        ]
    )


def read_register(path: Path) -> tuple[set[str], pd.DataFrame]:
    """Items already invoiced and earlier amounts per PO; nothing when the register does not exist yet."""
    if not path.exists():
        return set(), _empty_previously()
    from billing_lib.io.register import Register

    with Register(path) as register:
        return register.invoiced_items(), register.previously_invoiced()


def prepare(options: RunOptions, inputs: object | None = None) -> tuple[Prepared, pd.DataFrame, pd.DataFrame]:
    """Read and check the inputs: the prepared items, the PO reference table and earlier invoicing."""
    period = Period.parse(options.period)
    registered, previously = read_register(options.register_path)
    loaded: Inputs = inputs if inputs is not None else load_inputs(options.inputs)  # type: ignore[assignment]
    prep = prepare_items(loaded, period, registered)
    prep.issues += reference_problems(loaded.table("po_budgets"), loaded.heading)
    # the analyst's decisions (adjustments.csv beside the inputs): a PO or a leave-out before the checks
    adjustments_path = adjmod.path_beside(options.inputs)
    prep, decided = adjmod.apply_before_checks(
        prep, adjmod.read(adjustments_path), registered, adjustments_path
    )
    ref = reference_table(loaded.table("po_budgets"))
    by_po = (
        {str(k): int(v) for k, v in previously.groupby("po_key")["amount_minor"].sum().items()}
        if len(previously)
        else {}
    )
    prep, ref = check_pos(
        prep, ref, by_po, options.over_budget_policy, has_reference=loaded.has("po_budgets")
    )
    prep, _ = adjmod.apply_after_checks(prep, decided, adjustments_path)  # releases of held items
    return prep, ref, previously


def analyse(
    options: RunOptions, prepared: tuple[Prepared, pd.DataFrame, pd.DataFrame] | None = None
) -> Analysis:
    """Compute the month without writing anything (draft numbers)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    prep, ref, previously = prepared or prepare(options)
    timings["read_and_check"] = time.perf_counter() - start
    start = time.perf_counter()
    invoice_set = consolidate_month(options, prep)
    timings["consolidate"] = time.perf_counter() - start
    return _finish_analysis(options, prep, ref, previously, invoice_set, timings)


def consolidate_month(options: RunOptions, prep: Prepared, today: dt.date | None = None) -> InvoiceSet:
    """The invoices ``analyse`` makes of the prepared month under the options' method (draft numbers),
    dated the options' invoice date, else ``today`` (the clock is read here, in the shell, not in the core)."""
    return consolidate(
        prep,
        options.method,
        billing_groups=prep.inputs.table("billing_groups"),
        billing_entities=prep.inputs.table("billing_entities"),
        force=options.force_method,
        split_by_contact=options.split_by_contact,
        invoice_date=options.invoice_date or today or dt.date.today(),
    )


def finish_analysis(
    options: RunOptions, prepared: tuple[Prepared, pd.DataFrame, pd.DataFrame], invoice_set: InvoiceSet
) -> Analysis:
    """``analyse`` of invoices already made by ``consolidate_month`` (the widgets show them before the burn-down)."""
    prep, ref, previously = prepared
    return _finish_analysis(options, prep, ref, previously, invoice_set, {})


def _finish_analysis(
    options: RunOptions,
    prep: Prepared,
    ref: pd.DataFrame,
    previously: pd.DataFrame,
    invoice_set: InvoiceSet,
    timings: dict[str, float],
) -> Analysis:
    start = time.perf_counter()
    period = Period.parse(options.period)
    bd = bdmod.burndown(invoice_set.items, ref, period, previously)
    series = bdmod.burn_series(invoice_set.items, ref, previously, period=period, table=bd)
    held = pd.concat([prep.held, invoice_set.excluded], ignore_index=True)
    exposure = bdmod.exposure(invoice_set.items, held)
    einvoice = einvoice_issues(invoice_set) if options.documents else []
    checklist = build_checklist(prep, bd, exposure, einvoice)
    timings["burndown"] = time.perf_counter() - start
    return Analysis(
        options, prep, ref, previously, invoice_set, bd, series, exposure, checklist, timings, einvoice
    )


# --- writing ---------------------------------------------------------------------------------------


@dataclass
class RunResult:
    out_dir: Path
    analysis: Analysis
    invoice_numbers: list[str]
    manifest: dict[str, object]


def _row_keys(items: pd.DataFrame) -> list[tuple[str, str, int]]:
    """Where each item was read (file, sheet, row): one row of the inputs is one item."""
    sheets = [s if isinstance(s, str) else "" for s in items["_sheet"]]
    return list(zip(items["_file"].astype("str"), sheets, items["_row"].astype("int64"), strict=True))


def reconcile(analysis: Analysis) -> dict[str, dict[str, str]]:
    """Prove every item read is invoiced once or held, and invoice totals equal their items, per currency.

    Raises ``OutputError`` (a bug, never user data) when they do not; returns the totals for the manifest.
    """
    invoices, items = analysis.invoice_set.invoices, analysis.invoice_set.items
    keys = _row_keys(items)
    if len(set(keys)) != len(keys):
        raise OutputError("internal check failed: an item is on two invoices")
    held = analysis.held
    held_keys = set(_row_keys(held))
    if held_keys & set(keys):
        raise OutputError("internal check failed: an item is both invoiced and held")
    totals: dict[str, dict[str, str]] = {}
    for currency in sorted(set(invoices["currency"]) | set(held["currency"].dropna())):
        inv = invoices[invoices["currency"] == currency]
        its = items[items["currency"] == currency]
        net, lines = int(inv["net_minor"].sum()), int(its["amount_minor"].sum())
        if net != lines:
            raise OutputError(f"internal check failed: {currency} invoice nets {net} != items {lines}")
        held_minor = int(held.loc[held["currency"] == currency, "amount_minor"].sum())
        totals[str(currency)] = {
            "net": format_minor(net, currency),
            "tax": format_minor(int(inv["tax_minor"].sum()), currency),
            "total": format_minor(int(inv["total_minor"].sum()), currency),
            "invoiced_items": format_minor(lines, currency),
            "held_items": format_minor(held_minor, currency),
        }
    return totals


def _manifest(
    analysis: Analysis, totals: dict[str, dict[str, str]], started: dt.datetime
) -> dict[str, object]:
    opts = analysis.options
    prep = analysis.prep
    flagged = [i for i in analysis.issues if i.action == "flagged"]
    params = {k: (str(v) if isinstance(v, Path | dt.date) else v) for k, v in asdict(opts).items()}
    inputs = prep.inputs
    assert isinstance(
        inputs, Inputs
    )  # the run reads its month with ``load_inputs``; the core sees ``Tables``
    return {
        "product": "billing workbook",
        "period": opts.period,
        "draft": opts.draft,
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "inputs": [{"file": f.path.name, "sha256": f.sha256, "tables": list(f.tables)} for f in inputs.files],
        "ignored_inputs": inputs.ignored,
        "adjustments": adjmod.manifest_entry(adjmod.path_beside(opts.inputs), prep.adjustments),
        "parameters": params,
        "counts": {
            "read": prep.read,
            "invoiced": len(analysis.invoice_set.items),
            "held": len(analysis.held),
            "flagged": len(flagged),
            "skipped": dict(prep.skipped),
            "invoices": len(analysis.invoice_set.invoices),
            "credit_notes": int((analysis.invoice_set.invoices["total_minor"] < 0).sum()),
            "held_by_reason": analysis.held["reason"].value_counts().to_dict() if len(analysis.held) else {},
            "flagged_by_reason": pd.Series([i.reason for i in flagged]).value_counts().to_dict()
            if flagged
            else {},
        },
        "totals": totals,
        "checklist": analysis.checklist.as_dict(),
        "timings_seconds": {k: round(v, 3) for k, v in analysis.timings.items()},
        "versions": versions(),
    }


def write_outputs(
    analysis: Analysis,
    folder: Path,
    started: dt.datetime,
    progress: Progress | None = None,
    run_id: str = "",
    documents: dict[str, str] | None = None,
) -> dict:
    """Every output file of the run into ``folder`` (a temporary folder the caller moves into place)."""
    say = progress or (lambda _msg: None)
    opts = analysis.options
    invoice_set = analysis.invoice_set
    totals = reconcile(analysis)
    say(f"writing tables for {len(invoice_set.invoices)} invoices")
    invoices = invoices_frame(invoice_set.invoices)
    items = invoice_items_frame(invoice_set.items)
    exceptions = exceptions_frame(analysis.issues, analysis.held)
    bd_csv = burndown_csv.to_csv_frame(analysis.burndown)
    exposure_csv = burndown_csv.exposure_csv_frame(analysis.exposure)
    write_csv(invoices, folder / "invoices.csv")
    write_csv(items, folder / "invoice_items.csv")
    write_csv(exceptions, folder / "exceptions.csv")
    write_csv(bd_csv, folder / "po_burndown.csv")
    write_csv(exposure_csv, folder / "exposure.csv")
    images: list[Path] = []
    if opts.charts:
        from billing_lib.io.charts import write_charts

        say("drawing PO charts")
        # the invoice run draws the POs that need attention; the PO report notebook draws them all
        images = write_charts(
            analysis.burndown, analysis.series, folder / "charts", max_pos=20, at_risk_only=True
        )
    if opts.excel:
        from billing_lib.io.invoice_files import write_invoices
        from billing_lib.io.summary_workbook import write_summary

        say("writing invoice workbooks")
        write_invoices(
            invoice_set,
            folder / "invoices",
            template=opts.template,
            workers=opts.workers,
            progress=opts.progress,
            documents=documents,
            draft=opts.draft,
        )
        sheets = {
            # every source item is in invoice_items.csv; the workbook keeps to what a person filters
            "Invoices": invoices,
            "Lines": invoice_lines_frame(invoice_set.items),
            "Exceptions": exceptions,
            "PO burn-down": bd_csv,
            "Exposure": exposure_csv,
            "Charges per PO": burndown_csv.per_po_csv_frame(bdmod.charges_per_po(invoice_set.items)),
            "Hours per PO": burndown_csv.per_po_csv_frame(bdmod.hours_per_po(invoice_set.items)),
        }
        write_summary(
            folder / "summary.xlsx", {name: for_spreadsheet(f) for name, f in sheets.items()}, images[:1]
        )
    if opts.documents:
        from billing_lib.io.customer_documents import DocumentOptions, write_documents

        say("writing invoice PDFs and e-invoices")
        written = write_documents(
            invoice_set,
            folder / "invoices",
            DocumentOptions(draft=opts.draft, paper=opts.paper, template_dir=opts.pdf_template),
            workers=opts.workers,
        )
        say(f"{written['pdf']} PDFs, {written['xml']} e-invoices ({len(written['without_xml'])} incomplete)")
    manifest = _manifest(analysis, totals, started)
    manifest["run_id"] = run_id
    manifest["outputs"] = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != outfolder.RUN_FILE
    )
    write_manifest(folder / "manifest.json", manifest)
    return manifest


REGISTER_WAIT_SECONDS = 600.0


def _new_run_id(started: dt.datetime) -> str:
    return f"{started:%Y%m%dT%H%M%S}-{os.getpid()}-{secrets.token_hex(3)}"


def write_documents(records: list[Invoice], folder: Path, template: Path | None = None) -> list[Path]:
    """Each invoice's or credit note's documents in ``folder``, as the run wrote them: the workbook, and
    for a record that carries its parties the PDF and (where it can be valid) the UBL e-invoice."""
    from billing_lib.io.customer_documents import write_invoice_documents
    from billing_lib.io.filenames import output_path
    from billing_lib.io.invoice_workbook import write_invoice_workbook

    with outfolder.os_errors("create the invoice folder", folder):
        folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for record in records:
        if record.parties is None:  # issued before records kept their parties: the workbook alone
            path = output_path(folder, record.invoice_number)
            write_invoice_workbook(record, path, template)
            paths.append(path)
            continue
        written = write_invoice_documents(record, record.parties, folder, workbook_template=template)
        paths += [p for p in written.values() if p is not None]
    return paths


def _write_one(record: Invoice, folder: Path, template: Path | None) -> None:
    write_documents([record], folder, template)


def _is_recorded(register_path: Path | None, run_id: str) -> bool:
    if register_path is None or not register_path.exists():
        return False
    from billing_lib.io.register import Register

    with Register(register_path) as register:
        return register.is_recorded(run_id)


def recover(out: Path, say: Progress) -> None:
    """Finish or undo what runs that died left in ``out`` (call with the folder locked).

    A staging folder whose run the register recorded holds issued invoices: they are put in place.
    Any other (a run that died before issuing, an unfinished draft) is removed. Each is reported.
    """
    for stage in outfolder.stages(out):
        phase = stage.state().get("phase", "writing")
        if stage.draft:
            keep = phase not in ("writing", "staged")
        else:
            keep = _is_recorded(outfolder.register_of(stage), stage.run_id)
        if not keep:
            outfolder.discard(stage)
            say(
                f"removed the unfinished files of an interrupted run ({stage.run_id}); nothing of it was issued"
            )
            continue
        register_path = outfolder.register_of(stage)  # read before publishing removes the stage
        outfolder.publish(stage, say)
        if not stage.draft and register_path is not None:
            from billing_lib.io.register import Register

            with Register(register_path, timeout=REGISTER_WAIT_SECONDS) as register:
                register.mark_published(stage.run_id)
        say(
            f"an interrupted run ({stage.run_id}) had issued and recorded its invoices: its files are now in {out}"
        )


def finish_pending(
    register_path: Path, template: Path | None, say: Progress, held: Path | None = None
) -> None:
    """Runs the register recorded whose files never all reached their folder: write what is missing.

    The register keeps every issued document, so a run that died after committing (and whose staging
    folder is gone) is finished from there; nothing already in place is touched. ``held``: a folder
    this process has locked already (its leftovers were just recovered).
    """
    if not register_path.exists():
        return
    from billing_lib.io.register import Register

    with Register(register_path, timeout=REGISTER_WAIT_SECONDS) as register:
        pending = register.pending_runs()
    for run in pending:
        if str(run.out_dir) in ("", "."):
            continue
        out = run.out_dir.resolve()
        with outfolder.os_errors("finish the interrupted run in", out):
            out.mkdir(parents=True, exist_ok=True)
        with contextlib.nullcontext() if out == held else outfolder.locked(out):
            if out != held:
                recover(out, say)
            with Register(register_path, timeout=REGISTER_WAIT_SECONDS) as register:
                if run.run_id not in {r.run_id for r in register.pending_runs()}:
                    continue
                records = register.run_documents(run.run_id)
                folder = out / outfolder.INVOICES
                missing = [
                    r for r in records if not (folder / f"{safe_filename(r.invoice_number)}.xlsx").exists()
                ]
                if missing:
                    write_documents(missing, folder, template)
                    say(
                        f"an interrupted run ({run.run_id}) had recorded {len(missing)} document(s) without their "
                        f"files: written again from the register into {folder}"
                    )
                else:
                    say(
                        f"an interrupted run ({run.run_id}) had put all its files in place; it is now marked finished"
                    )
                register.mark_published(run.run_id)


def run_invoice(
    options: RunOptions, progress: Progress | None = None, analysis: Analysis | None = None
) -> RunResult:
    """``billing invoice``: the whole pipeline; final runs number invoices in the register.

    Order of events, each safe to die in: the output folder is checked and locked, what earlier runs
    left half-done is finished or removed, the month is read, every file is written to a staging
    folder, the register commits (a final run), and the files are moved into place.
    """
    started = dt.datetime.now()
    say = progress or (lambda _msg: None)
    out = options.out_dir.resolve()
    outfolder.check_target(
        out, draft=options.draft, period=options.period, inputs=options.inputs, register=options.register_path
    )
    with outfolder.os_errors("create the output folder", out):
        out.mkdir(parents=True, exist_ok=True)
    with outfolder.locked(out):
        recover(out, say)
        if not options.draft:
            finish_pending(options.register_path, options.template, say, held=out)
        if analysis is None:
            say(f"reading {options.inputs}")
            analysis = analyse(options)
        run_id = _new_run_id(started)
        stage = outfolder.new_stage(
            out, run_id, draft=options.draft, period=options.period, register=options.register_path
        )
        manifest: dict[str, object] = {}
        recorded = False
        ledger: sqlite3.Connection | None = None  # a final run's register, for the accounting hand-off

        def write(invoice_set: InvoiceSet) -> dict[str, str] | None:
            """Every file of the run into the stage; the documents the workbook writer made on the way."""
            nonlocal analysis, manifest
            assert analysis is not None
            if invoice_set is not analysis.invoice_set:
                analysis = _finish_analysis(
                    options, analysis.prep, analysis.ref, analysis.previously, invoice_set, analysis.timings
                )
            start = time.perf_counter()
            documents: dict[str, str] = {}
            with outfolder.os_errors("write the run's files in", stage.path):
                if ledger is not None and ledger.in_transaction:
                    # inside the transaction that issues the invoices: recorded with them or not at all
                    from billing_lib.io.accounting_ledger import write_final

                    say("writing the accounting hand-off")
                    write_final(
                        ledger,
                        invoice_set,
                        analysis.prep.inputs,
                        stage.path / "accounting",
                        out / "accounting",
                    )
                manifest = write_outputs(analysis, stage.path, started, say, run_id, documents)
                stage.set_state(phase="staged")
            analysis.timings["write"] = time.perf_counter() - start
            faults.point("staged")
            return documents if options.excel else None

        try:
            if options.draft or analysis.invoice_set.invoices.empty:
                write(analysis.invoice_set)
            else:
                from billing_lib.io.register import Register

                with outfolder.os_errors("create the register's folder", options.register_path.parent):
                    options.register_path.parent.mkdir(parents=True, exist_ok=True)
                # a final run waits its turn behind another one writing the same register
                with Register(options.register_path, timeout=REGISTER_WAIT_SECONDS) as register:
                    ledger = register.connection
                    register.finalise(
                        analysis.invoice_set, options.number_format, write, run_id=run_id, out_dir=out
                    )
                recorded = True
                faults.point("committed")
        except BaseException:
            outfolder.discard(stage)
            raise
        try:
            outfolder.publish(stage, say)
        except OutputError as exc:
            if not recorded:
                raise
            raise OutputError(
                f"the invoices were issued and recorded, but putting their files in place failed: {exc}. "
                f"They are kept in {stage.path}; the next run into {out} puts them in place"
            ) from exc
        faults.point("placed")
        if recorded:
            from billing_lib.io.register import Register

            with Register(options.register_path, timeout=REGISTER_WAIT_SECONDS) as register:
                register.mark_published(run_id)
    numbers = list(analysis.invoice_set.invoices["invoice_number"]) if analysis else []
    return RunResult(out, analysis, numbers, manifest)


def void_invoice(
    number: str,
    reason: str,
    register_path: Path,
    *,
    today: dt.date | None = None,
    template: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Invoice, Path]:
    """``billing void``: issue the credit note that cancels ``number``, release its items, and write the
    credit note's documents beside the invoice (its run's ``invoices/`` folder). Returns the credit note
    and its folder."""
    from billing_lib.io.register import Register

    say = progress or (lambda _msg: None)
    if not register_path.exists():
        raise UsageError(f"no invoice register at {register_path}")
    with Register(register_path, timeout=REGISTER_WAIT_SECONDS) as register:
        run = register.run_of(number)
        out = run.out_dir if str(run.out_dir) not in ("", ".") else locations.default_out(run.period)
    with outfolder.os_errors("open the invoice's folder", out):
        out.mkdir(parents=True, exist_ok=True)
    with outfolder.locked(out):
        recover(out, say)
        run_id = f"void-{_new_run_id(dt.datetime.now())}"
        stage = outfolder.new_stage(
            out, run_id, draft=False, period=run.period, register=register_path, tables=False
        )
        try:
            with Register(register_path, timeout=REGISTER_WAIT_SECONDS) as register:
                credit = register.void(
                    number,
                    reason,
                    today=today or dt.date.today(),
                    run_id=run_id,
                    out_dir=out,
                    write=lambda cn: _write_one(cn, stage.path / outfolder.INVOICES, template),
                )
        except BaseException:
            outfolder.discard(stage)
            raise
        outfolder.publish(stage, say)
        with Register(register_path, timeout=REGISTER_WAIT_SECONDS) as register:
            register.mark_published(run_id)
    return credit, out / outfolder.INVOICES


def reprint(
    number: str, register_path: Path, out: Path | None = None, template: Path | None = None
) -> list[Path]:
    """``billing reprint``: an issued invoice's or credit note's documents written again from the register,
    into ``out`` (default ``outputs/<period>/reprints/``). An existing file is never overwritten."""
    from billing_lib.io.register import Register

    if not register_path.exists():
        raise UsageError(f"no invoice register at {register_path}")
    with Register(register_path) as register:
        record = register.document(number)
        run = register.run_of(number)
    folder = (out or locations.default_out(run.period) / "reprints").resolve()
    with outfolder.os_errors("create the reprint folder", folder):
        folder.mkdir(parents=True, exist_ok=True)
    with outfolder.locked(folder):
        scratch = Path(tempfile.mkdtemp(prefix=outfolder.STAGE_PREFIX + "reprint-", dir=folder))
        try:
            written = write_documents([record], scratch, template)
            placed = []
            for path in written:
                target = folder / path.name
                with outfolder.os_errors("write the reprint", target):
                    outfolder.make_readable(path)
                    if target.exists() and target.read_bytes() != path.read_bytes():
                        raise OutputError(
                            f"{target} exists and differs from this reprint; nothing was overwritten"
                        )
                    if not target.exists():
                        os.link(path, target)
                placed.append(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return placed


def check(options: RunOptions) -> Checklist:
    """``billing check``: the pre-invoice checklist.

    It needs no invoices: whatever the method, every item that is not held is invoiced, so the
    burn-down and exposure count the prepared items directly (no consolidation, no chart series).
    """
    prep, ref, previously = prepare(options)
    bd = bdmod.burndown(prep.items, ref, Period.parse(options.period), previously)
    einvoice = (
        customer_einvoice_issues(prep.items, prep.companies, prep.inputs.table("billing_entities"))
        if options.documents
        else []
    )
    return build_checklist(prep, bd, bdmod.exposure(prep.items, prep.held), einvoice)


__all__ = [
    "Analysis", "BillingError", "RunResult", "analyse", "check", "reprint", "run_invoice", "void_invoice",
]  # fmt: skip
