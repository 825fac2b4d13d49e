"""The ``billing`` console command (SPEC section 7). User errors print a message, never a traceback.

Exit codes: 0 done (for ``check``: nothing blocks invoicing), 1 something blocks or failed, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from billing_lib.domain.errors import BillingError
from billing_lib.io import locations
from billing_lib.run import options  # light: the pipeline (pandas and all) is imported lazily


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing", description="Month-end billing from PSA exports")
    sub = parser.add_subparsers(dest="command", required=True)
    # the flags of check, invoice and batch that set the run's options come from RunOptions
    check = sub.add_parser(options.CHECK, help="load and validate; print the pre-invoice checklist")
    options.add_flags(check, options.CHECK)
    invoice = sub.add_parser(options.INVOICE, help="the whole pipeline in-process")
    options.add_flags(invoice, options.INVOICE)
    batch = sub.add_parser(options.BATCH, help="run the notebooks headless with papermill")
    options.add_flags(batch, options.BATCH)
    batch.add_argument("--timeout", type=int, default=1800, help="per-cell execution timeout in seconds")
    batch.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a notebook parameter for the notebooks that declare it, e.g. -p max_charts=20 "
        "-p compare_with=contract (values that read as JSON, like 20 or true, are taken as such)",
    )
    sample = sub.add_parser("sample", help="write a realistic synthetic month of inputs")
    sample.add_argument("--out", required=True, type=Path)
    sample.add_argument("--scale", type=int, default=400, help="number of billable items")
    sample.add_argument("--period", default=options.DEFAULT_PERIOD)
    sample.add_argument("--seed", type=int, default=2026)
    sample.add_argument(
        "--format", choices=("xlsx", "csv"), default="xlsx", help="file format of --style rest"
    )
    sample.add_argument(
        "--style",
        choices=("rest", "powershell51", "powershell7", "soap", "report"),
        default="rest",
        help="how the exports are written: REST names (default), Windows PowerShell 5.1 or PowerShell 7 "
        "Export-Csv, SOAP-era names, or report workbooks with screen labels and names",
    )
    sample.add_argument(
        "--culture", choices=("en-US", "de-DE"), default="en-US", help="PowerShell's culture (dates, numbers)"
    )
    accounting = sub.add_parser(
        "accounting",
        help="write a period's QuickBooks and Xero import files (the invoices and credit notes not exported yet)",
    )
    accounting.add_argument("--period", required=True, help="billing period YYYY-MM")
    accounting.add_argument(
        "--again",
        action="store_true",
        help="export every document of the period again, already exported or not",
    )
    accounting.add_argument(
        "--inputs",
        type=Path,
        help="a folder or file with an accounting_map table to use instead of the recorded one",
    )
    accounting.add_argument(
        "--register", type=Path, help="invoice register (default outputs/register.sqlite)"
    )
    accounting.add_argument(
        "--out", type=Path, help="new folder (default outputs/accounting/<period>/export-<time>/)"
    )
    void = sub.add_parser(
        "void", help="void an issued invoice: issue its credit note and release its items for re-invoicing"
    )
    void.add_argument("invoice_number")
    void.add_argument("--reason", required=True)
    void.add_argument("--register", type=Path)
    void.add_argument("--template", type=Path, help="invoice layout workbook (default data/templates/)")
    reprint = sub.add_parser("reprint", help="write an issued invoice's or credit note's documents again")
    reprint.add_argument("invoice_number")
    reprint.add_argument(
        "--out", type=Path, help="folder for the reprint (default outputs/<period>/reprints/)"
    )
    reprint.add_argument("--register", type=Path)
    reprint.add_argument("--template", type=Path, help="invoice layout workbook (default data/templates/)")
    register = sub.add_parser("register", help="list the issued invoices and credit notes, with totals")
    register.add_argument("--period", help="only this period (YYYY-MM)")
    register.add_argument("--register", type=Path)
    return parser


def _say(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def cmd_check(args: argparse.Namespace) -> int:
    from billing_lib.run.pipeline import check
    from billing_lib.ui.checklist_text import render_text

    checklist = check(options.from_args(options.CHECK, args))
    print(render_text(checklist))
    return 1 if checklist.blocking else 0


def cmd_invoice(args: argparse.Namespace) -> int:
    from billing_lib.run.pipeline import run_invoice

    start = time.perf_counter()
    result = run_invoice(options.from_args(options.INVOICE, args), progress=_say)
    counts = result.manifest.get("counts", {})
    assert isinstance(counts, dict)
    kind = "draft" if args.draft else "final"
    print(
        f"{len(result.invoice_numbers)} {kind} invoices for {args.period} in {result.out_dir} "
        f"({counts.get('invoiced', 0)} items invoiced, {counts.get('held', 0)} held, "
        f"{counts.get('flagged', 0)} flags; {time.perf_counter() - start:.1f} s)"
    )
    for currency, total in dict(result.manifest.get("totals", {})).items():  # type: ignore[call-overload]
        print(
            f"  {currency}: net {total['net']}, tax {total['tax']}, total {total['total']}, held {total['held_items']}"
        )
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from billing_lib.run.batch import parse_parameters, run_batch

    parameters = parse_parameters(args.parameter)
    result = run_batch(
        options.from_args(options.BATCH, args), timeout=args.timeout, progress=_say, parameters=parameters
    )
    print(f"batch for {args.period} done: outputs and executed notebooks in {result}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from billing_lib.sample.synthetic import write_sample

    if args.scale < 1:
        raise SystemExit(_usage("--scale must be at least 1"))
    counts = write_sample(
        args.out,
        args.scale,
        period=args.period,
        seed=args.seed,
        fmt=args.format,
        style=args.style,
        culture=args.culture,
    )
    print(
        f"sample month {args.period} written to {args.out}: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return 0


def _register_path(args: argparse.Namespace) -> Path:
    path = Path(args.register or locations.default_register())
    if not path.exists():
        raise SystemExit(_usage(f"no invoice register at {path}"))
    return path


def cmd_void(args: argparse.Namespace) -> int:
    from billing_lib.run.pipeline import void_invoice

    credit, folder = void_invoice(
        args.invoice_number, args.reason, _register_path(args), template=args.template, progress=_say
    )
    print(
        f"{args.invoice_number} voided by credit note {credit.invoice_number} ({credit.currency} "
        f"{credit.total}) in {folder}; its items can be invoiced again"
    )
    return _export_after_void(args, credit.period)


def _export_after_void(args: argparse.Namespace, period: str) -> int:
    """The credit note to the ledgers: the period's documents not exported yet, in their import files."""
    from billing_lib.io.accounting_ledger import export_period

    result = export_period(_register_path(args), period)
    if result.files:
        print(f"its QuickBooks and Xero import files: {result.folder} ({', '.join(result.names)})")
    return 0


def cmd_reprint(args: argparse.Namespace) -> int:
    from billing_lib.run.pipeline import reprint

    for path in reprint(args.invoice_number, _register_path(args), args.out, args.template):
        print(f"{args.invoice_number} printed again: {path}")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    from billing_lib.domain.period import Period
    from billing_lib.io.register import Register
    from billing_lib.ui.registry_view import render_register

    if args.period:
        Period.parse(args.period)
    with Register(_register_path(args)) as register:
        frame = register.invoices(args.period)
    print(render_register(frame, args.period))
    return 0


def cmd_accounting(args: argparse.Namespace) -> int:
    from billing_lib.io.accounting_ledger import export_period, read_map

    amap = read_map(args.inputs) if args.inputs else None
    result = export_period(_register_path(args), args.period, args.out, again=args.again, amap=amap)
    if not result.files:
        print(
            f"nothing to export for {args.period}: every invoice and credit note is already in an export file"
        )
        return 0
    kind = "again" if args.again else "not exported before"
    print(f"{result.documents} invoices and credit notes of {args.period} ({kind}) in {result.folder}:")
    for export in result.files:
        print(f"  {export.name}: {len(export.documents)} documents, {export.rows} lines")
    return 0


def _usage(message: str) -> int:
    print(f"billing: error: {message}", file=sys.stderr)
    return 2


COMMANDS = {
    "check": cmd_check,
    "invoice": cmd_invoice,
    "batch": cmd_batch,
    "sample": cmd_sample,
    "accounting": cmd_accounting,
    "void": cmd_void,
    "reprint": cmd_reprint,
    "register": cmd_register,
}


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM ends a run like Ctrl-C: what it started is stopped and what it staged is removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return COMMANDS[args.command](args)
    except BillingError as exc:
        print(f"billing: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a file or folder problem the code did not name itself: still a sentence
        where = f" {exc.filename}" if exc.filename else ""
        print(
            f"billing: error: cannot use{where}: {exc.strerror or exc}; nothing was issued", file=sys.stderr
        )
        return 1
    except sqlite3.Error as exc:
        print(
            f"billing: error: the invoice register could not be used: {exc}; nothing was issued",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("billing: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not the user's doing: say so plainly, traceback only on request
        if os.environ.get("BILLING_DEBUG"):
            raise
        print(
            f"billing: internal error ({type(exc).__name__}: {exc}); nothing was written. "
            "Run again with BILLING_DEBUG=1 for the details and report them.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
