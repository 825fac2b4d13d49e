"""Dump everything a month's runs produce in a canonical text form, to prove a refactor changed nothing.

    .venv/bin/python benchmarks/sameness.py --inputs data/sample --period 2026-10 --dump /tmp/before
    ... change the code ...
    .venv/bin/python benchmarks/sameness.py --inputs data/sample --period 2026-10 --dump /tmp/after
    diff -r /tmp/before /tmp/after      # empty: same invoices, items, issues and outputs

What is dumped, per run:
- `billing check`'s output;
- a final `billing invoice` into a fresh register: every output file (workbooks cell by cell, CSVs,
  PDFs as text, UBL XML, charts by their size, the manifest without run ids and clock times) and the
  register's invoices and items;
- one `--no-excel` draft per consolidation method (`--method M --force-method`): its CSV tables.

Run ids, clock times and the temporary folder's path are blanked; everything else must match.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

METHODS = (
    "po_number",
    "contract/job",
    "customer",
    "project",
    "project_activity",
    "cost_centre",
    "workplace",
    "timesheet",
    "timesheet_and_expense",
)
BILLING = str(Path(sys.executable).with_name("billing"))
_VOLATILE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"  # clock times
    r"|run-[0-9A-Za-z_.:-]+"  # run ids and previous-runs folders
    r"|\b\d+(\.\d+)? s\b"  # durations printed
)


def _clean(text: str, tmp: Path) -> str:
    return _VOLATILE.sub("<volatile>", text.replace(str(tmp), "<tmp>"))


def _run(args: list[str], tmp: Path) -> str:
    done = subprocess.run([BILLING, *args], capture_output=True, text=True, check=False)
    return _clean(f"rc {done.returncode}\n{done.stdout}\n--- stderr\n{done.stderr}", tmp)


def _xlsx_text(path: Path) -> str:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    out = []
    for name in book.sheet_names:
        out.append(f"## {name}")
        for row in book.get_sheet_by_name(name).to_python():
            out.append("\t".join(repr(cell) for cell in row))
    return "\n".join(out)


def _file_text(path: Path, tmp: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_text(path)
    if suffix == ".pdf":
        done = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=False
        )
        return done.stdout
    if suffix == ".png":
        return f"png {path.stat().st_size > 0}"
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):  # the manifest: which run and how long each step took vary
            data.pop("timings_seconds", None)
            data.pop("run_id", None)
        return _clean(json.dumps(data, indent=1, sort_keys=True, default=str), tmp)
    return _clean(path.read_text(encoding="utf-8", errors="replace"), tmp)


def _dump_folder(folder: Path, into: Path, tmp: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or ".partial-" in str(path) or "previous-runs" in path.parts:
            continue
        rel = path.relative_to(folder)
        target = into / (str(rel).replace("/", "__") + ".txt")
        target.write_text(_file_text(path, tmp), encoding="utf-8")


def _dump_register(register: Path, into: Path) -> None:
    con = sqlite3.connect(register)
    lines = []
    for row in con.execute(
        "SELECT invoice_number, doc_type, seq, period, invoice_date, customer_id, customer_name, currency,"
        " billing_entity, net_minor, tax_minor, total_minor, po_number, method, group_key, item_count"
        " FROM invoices ORDER BY invoice_number"
    ):
        lines.append("\t".join(map(str, row)))
    for row in con.execute(
        "SELECT invoice_number, item_key, source_key, source_table, item_id, po_key, po_number, amount_minor,"
        " quantity, kind, item_date FROM invoice_items ORDER BY invoice_number, item_key"
    ):
        lines.append("\t".join(map(str, row)))
    con.close()
    (into / "register.txt").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--period", required=True)
    parser.add_argument("--dump", required=True, type=Path, help="folder to write the canonical dump to")
    parser.add_argument("--methods", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--documents", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    dump: Path = args.dump
    shutil.rmtree(dump, ignore_errors=True)
    dump.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="sameness-") as scratch:
        tmp = Path(scratch)
        common = ["--inputs", args.inputs, "--period", args.period]
        print("check", flush=True)
        (dump / "check.txt").write_text(
            _run(["check", *common, "--register", str(tmp / "check.sqlite")], tmp), encoding="utf-8"
        )
        print("invoice (final)", flush=True)
        extra = [] if args.documents else ["--no-documents"]
        out = tmp / "final"
        log = _run(
            ["invoice", *common, "--register", str(tmp / "reg.sqlite"), "--out", str(out), *extra], tmp
        )
        (dump / "final").mkdir()
        (dump / "final" / "stdout.txt").write_text(log, encoding="utf-8")
        _dump_folder(out, dump / "final", tmp)
        _dump_register(tmp / "reg.sqlite", dump / "final")
        for method in METHODS if args.methods else ():
            print(f"draft --method {method}", flush=True)
            name = method.replace("/", "_")
            out = tmp / f"m-{name}"
            log = _run(
                ["invoice", *common, "--register", str(tmp / f"reg-{name}.sqlite"), "--out", str(out),
                 "--draft", "--no-excel", "--method", method, "--force-method"],
                tmp,
            )  # fmt: skip
            (dump / name).mkdir()
            (dump / name / "stdout.txt").write_text(log, encoding="utf-8")
            _dump_folder(out, dump / name, tmp)
    print(f"dumped to {dump}")


if __name__ == "__main__":
    main()
