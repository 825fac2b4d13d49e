"""The whole month in-process: read, check, consolidate, burn-down, and write the outputs atomically.

``analyse`` does every calculation and writes nothing: the widgets and ``billing check`` use it.
``run_invoice`` writes the output folder: everything goes to a temporary folder first and is moved
into place only when complete; a final run's register transaction commits only after that, so a
failed or interrupted run leaves no invoices, consumes no numbers and marks no items.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from . import burndown as bdmod
from . import config
from .checklist import Checklist, build_checklist
from .consolidate import InvoiceSet, check_default_method, consolidate
from .errors import BillingError, OutputError, UsageError
from .inputs import load_inputs
from .models import Issue
from .money import format_minor
from .outputs import (
    exceptions_frame,
    for_spreadsheet,
    invoice_items_frame,
    invoice_lines_frame,
    invoices_frame,
    versions,
    write_csv,
    write_manifest,
)
from .period import Period
from .po import OVER_BUDGET_POLICIES, check_pos, reference_table
from .rules import Prepared, prepare_items

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    """The parameters of a run; the CLI, the notebooks and papermill all fill this in."""

    inputs: Path
    period: str = config.DEFAULT_PERIOD
    method: str = config.DEFAULT_METHOD
    force_method: bool = False
    out: Path | None = None
    draft: bool = False
    register: Path | None = None
    over_budget_policy: str = "flag"
    split_by_contact: bool = False
    number_format: str = config.DEFAULT_NUMBER_FORMAT
    template: Path | None = None
    excel: bool = True
    charts: bool = True
    progress: bool = False
    workers: int = 2
    invoice_date: dt.date | None = None

    def checked(self) -> RunOptions:
        Period.parse(self.period)
        check_default_method(self.method)
        if self.over_budget_policy not in OVER_BUDGET_POLICIES:
            raise UsageError(
                f"over_budget_policy must be one of {', '.join(OVER_BUDGET_POLICIES)}, "
                f"not {self.over_budget_policy!r}"
            )
        if "{seq" not in self.number_format:
            raise UsageError(f"invoice number format {self.number_format!r} has no {{seq}} field")
        return self

    @property
    def out_dir(self) -> Path:
        return Path(self.out) if self.out else config.default_out(self.period)

    @property
    def register_path(self) -> Path:
        return Path(self.register) if self.register else config.default_register()


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

    @property
    def issues(self) -> list[Issue]:
        return self.prep.issues + self.invoice_set.issues

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
        ]
    )


def read_register(path: Path) -> tuple[set[tuple[str, str]], pd.DataFrame]:
    """Items already invoiced and earlier amounts per PO; nothing when the register does not exist yet."""
    if not path.exists():
        return set(), _empty_previously()
    from .register import Register

    with Register(path) as register:
        return register.invoiced_items(), register.previously_invoiced()


def prepare(options: RunOptions, inputs: object | None = None) -> tuple[Prepared, pd.DataFrame, pd.DataFrame]:
    """Read and check the inputs: the prepared items, the PO reference table and earlier invoicing."""
    period = Period.parse(options.period)
    registered, previously = read_register(options.register_path)
    loaded = inputs if inputs is not None else load_inputs(options.inputs)
    prep = prepare_items(loaded, period, registered)  # type: ignore[arg-type]
    ref = reference_table(prep.inputs.table("po_budgets"))
    by_po = (
        {str(k): int(v) for k, v in previously.groupby("po_key")["amount_minor"].sum().items()}
        if len(previously)
        else {}
    )
    check_pos(prep, ref, by_po, options.over_budget_policy)
    return prep, ref, previously


def analyse(
    options: RunOptions, prepared: tuple[Prepared, pd.DataFrame, pd.DataFrame] | None = None
) -> Analysis:
    """Compute the month without writing anything (draft numbers)."""
    options = options.checked()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    prep, ref, previously = prepared or prepare(options)
    timings["read_and_check"] = time.perf_counter() - start
    start = time.perf_counter()
    invoice_set = consolidate_month(options, prep)
    timings["consolidate"] = time.perf_counter() - start
    return _finish_analysis(options, prep, ref, previously, invoice_set, timings)


def consolidate_month(options: RunOptions, prep: Prepared) -> InvoiceSet:
    """The invoices ``analyse`` makes of the prepared month under the options' method (draft numbers)."""
    return consolidate(
        prep,
        options.method,
        force=options.force_method,
        split_by_contact=options.split_by_contact,
        invoice_date=options.invoice_date,
    )


def finish_analysis(
    options: RunOptions, prepared: tuple[Prepared, pd.DataFrame, pd.DataFrame], invoice_set: InvoiceSet
) -> Analysis:
    """``analyse`` of invoices already made by ``consolidate_month`` (the widgets show them before the burn-down)."""
    prep, ref, previously = prepared
    return _finish_analysis(options.checked(), prep, ref, previously, invoice_set, {})


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
    checklist = build_checklist(prep, bd, exposure)
    timings["burndown"] = time.perf_counter() - start
    return Analysis(options, prep, ref, previously, invoice_set, bd, series, exposure, checklist, timings)


# --- writing ---------------------------------------------------------------------------------------


@dataclass
class RunResult:
    out_dir: Path
    analysis: Analysis
    invoice_numbers: list[str]
    manifest: dict[str, object]


def reconcile(analysis: Analysis) -> dict[str, dict[str, str]]:
    """Prove every item read is invoiced once or held, and invoice totals equal their items, per currency.

    Raises ``OutputError`` (a bug, never user data) when they do not; returns the totals for the manifest.
    """
    invoices, items = analysis.invoice_set.invoices, analysis.invoice_set.items
    keys = list(zip(items["source_table"], items["item_id"], items["_row"], strict=True))
    if len(set(keys)) != len(keys):
        raise OutputError("internal check failed: an item is on two invoices")
    held = analysis.held
    held_keys = set(zip(held["source_table"], held["item_id"], held["_row"], strict=True))
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
    return {
        "product": "billing workbook",
        "period": opts.period,
        "draft": opts.draft,
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "inputs": [
            {"file": f.path.name, "sha256": f.sha256, "tables": list(f.tables)} for f in prep.inputs.files
        ],
        "ignored_inputs": prep.inputs.ignored,
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
    analysis: Analysis, folder: Path, started: dt.datetime, progress: Progress | None = None
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
    bd_csv = bdmod.to_csv_frame(analysis.burndown)
    exposure_csv = bdmod.exposure_csv_frame(analysis.exposure)
    write_csv(invoices, folder / "invoices.csv")
    write_csv(items, folder / "invoice_items.csv")
    write_csv(exceptions, folder / "exceptions.csv")
    write_csv(bd_csv, folder / "po_burndown.csv")
    write_csv(exposure_csv, folder / "exposure.csv")
    images: list[Path] = []
    if opts.charts:
        from .charts import write_charts

        say("drawing PO charts")
        # the invoice run draws the POs that need attention; the PO report notebook draws them all
        images = write_charts(
            analysis.burndown, analysis.series, folder / "charts", max_pos=20, at_risk_only=True
        )
    if opts.excel:
        from .excel import write_invoices, write_summary

        say("writing invoice workbooks")
        write_invoices(
            invoice_set,
            folder / "invoices",
            template=opts.template,
            workers=opts.workers,
            progress=opts.progress,
        )
        sheets = {
            # every source item is in invoice_items.csv; the workbook keeps to what a person filters
            "Invoices": invoices,
            "Lines": invoice_lines_frame(invoice_set.items),
            "Exceptions": exceptions,
            "PO burn-down": bd_csv,
            "Exposure": exposure_csv,
            "Charges per PO": bdmod.per_po_csv_frame(bdmod.charges_per_po(invoice_set.items)),
            "Hours per PO": bdmod.per_po_csv_frame(bdmod.hours_per_po(invoice_set.items)),
        }
        write_summary(
            folder / "summary.xlsx", {name: for_spreadsheet(f) for name, f in sheets.items()}, images[:1]
        )
    manifest = _manifest(analysis, totals, started)
    manifest["outputs"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    write_manifest(folder / "manifest.json", manifest)
    return manifest


def _swap_into_place(tmp: Path, out: Path, draft: bool) -> None:
    """Move the finished folder to ``out``; an earlier final run's folder is kept under ``previous-runs/``."""
    old: Path | None = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        was_final = (old / "manifest.json").exists() and '"draft": false' in (
            old / "manifest.json"
        ).read_text()
        if was_final:
            keep = out / "previous-runs"
            keep.mkdir(exist_ok=True)
            for earlier in (
                sorted((old / "previous-runs").glob("*")) if (old / "previous-runs").exists() else []
            ):
                earlier.rename(keep / earlier.name)
            stamp = dt.datetime.fromtimestamp((old / "manifest.json").stat().st_mtime).strftime(
                "%Y%m%dT%H%M%S"
            )
            old.rename(keep / f"run-{stamp}")
        else:
            shutil.rmtree(old, ignore_errors=True)


REGISTER_WAIT_SECONDS = 600.0


def _written_by(out: Path, started: dt.datetime) -> bool:
    manifest = out / "manifest.json"
    return (
        manifest.exists() and f'"started": "{started.isoformat(timespec="seconds")}"' in manifest.read_text()
    )


def run_invoice(
    options: RunOptions, progress: Progress | None = None, analysis: Analysis | None = None
) -> RunResult:
    """``billing invoice``: the whole pipeline; final runs number invoices in the register."""
    options = options.checked()
    started = dt.datetime.now()
    say = progress or (lambda _msg: None)
    out = options.out_dir.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if analysis is None:
        say(f"reading {options.inputs}")
        analysis = analyse(options)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    manifest: dict[str, object] = {}

    def write(invoice_set: InvoiceSet) -> None:
        nonlocal analysis, manifest
        assert analysis is not None
        if invoice_set is not analysis.invoice_set:
            analysis = _finish_analysis(
                options, analysis.prep, analysis.ref, analysis.previously, invoice_set, analysis.timings
            )
        start = time.perf_counter()
        manifest = write_outputs(analysis, tmp, started, say)
        analysis.timings["write"] = time.perf_counter() - start
        _swap_into_place(tmp, out, options.draft)

    try:
        if options.draft or analysis.invoice_set.invoices.empty:
            write(analysis.invoice_set)
        else:
            from .register import Register

            options.register_path.parent.mkdir(parents=True, exist_ok=True)
            # a final run waits its turn behind another one writing the same register
            with Register(options.register_path, timeout=REGISTER_WAIT_SECONDS) as register:
                register.finalise(analysis.invoice_set, options.number_format, write)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if not options.draft and not tmp.exists() and out.exists() and _written_by(out, started):
            # the files were moved into place but the register did not commit: they are not invoices
            aside = out.with_name(f"{out.name}.not-recorded-{started:%Y%m%dT%H%M%S}")
            out.rename(aside)
            say(f"the register did not record this run; its files were moved to {aside}")
        raise
    numbers = list(analysis.invoice_set.invoices["invoice_number"]) if analysis else []
    return RunResult(out, analysis, numbers, manifest)


def check(options: RunOptions) -> Checklist:
    """``billing check``: the pre-invoice checklist.

    It needs no invoices: whatever the method, every item that is not held is invoiced, so the
    burn-down and exposure count the prepared items directly (no consolidation, no chart series).
    """
    options = options.checked()
    prep, ref, previously = prepare(options)
    bd = bdmod.burndown(prep.items, ref, Period.parse(options.period), previously)
    return build_checklist(prep, bd, bdmod.exposure(prep.items, prep.held))


__all__ = ["Analysis", "BillingError", "RunOptions", "RunResult", "analyse", "check", "run_invoice"]
