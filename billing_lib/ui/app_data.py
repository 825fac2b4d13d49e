"""What the analyst's app shows and keeps, as plain functions over frames and folders (no widgets).

The exceptions of a month as one table with customer names, amounts and a sentence per reason; the
filters every panel shares; the month's uploaded exports saved under ``outputs/inputs/<period>/``;
the periods the picker offers; the period's files as one zip; the register's invoices of a period.
``app`` puts widgets on these; ``tests/test_app.py`` tests them without a browser.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from billing_lib.core import adjustments as adj
from billing_lib.domain.errors import InputError
from billing_lib.domain.money import format_minor
from billing_lib.domain.period import Period
from billing_lib.domain.reasons import sentence
from billing_lib.domain.records import PO_CUSTOMER_MISMATCH
from billing_lib.io import locations
from billing_lib.io.filenames import check_contained, safe_filename
from billing_lib.run.pipeline import Analysis

ALL = ""  # a filter's "everything" value
UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv")

EXCEPTION_COLUMNS = ["Status", "Customer", "Item", "Date", "Description", "PO", "Amount", "Reason", "Where"]
NO_PO_TABLE = "No PO reference table was found: every PO is unknown."


def customer_names(analysis: Analysis) -> dict[str, str]:
    """Customer id -> name, from the companies table and the items."""
    names: dict[str, str] = {}
    for frame in (analysis.prep.held, analysis.prep.items, analysis.prep.companies):
        if {"customer_id", "customer_name"} <= set(frame.columns) and len(frame):
            pairs = frame[["customer_id", "customer_name"]].drop_duplicates("customer_id")
            for cid, name in zip(pairs["customer_id"], pairs["customer_name"], strict=True):
                if isinstance(name, str) and name:
                    names[str(cid)] = name
    return names


def _mismatch_sentence(po: str, owner: str, customer: str, names: dict[str, str]) -> str:
    return f"PO {po} belongs to {names.get(owner, owner)}, not to {names.get(customer, customer)}."


def exceptions_table(analysis: Analysis) -> pd.DataFrame:
    """Every held item and every flag of the month: one row each, in words, with the keys to act on it.

    Visible columns are ``EXCEPTION_COLUMNS``; ``source_table``, ``item_id``, ``customer_id``,
    ``po_filter``, ``reason`` and ``action`` stay for the filters and the actions.
    """
    names = customer_names(analysis)
    columns = [*EXCEPTION_COLUMNS, "source_table", "item_id", "customer_id", "po_filter", "reason", "action"]
    issues = pd.DataFrame(
        [(i.source_table, i.item_id, i.reason, i.action, i.file, i.row) for i in analysis.issues],
        columns=["source_table", "item_id", "reason", "action", "file", "row"],
    )
    if issues.empty:
        return pd.DataFrame(columns=columns)
    issues = issues.drop_duplicates(["source_table", "item_id", "reason"])
    issues = issues.assign(held=issues["action"] != "held").sort_values(
        ["held", "file", "row"], kind="stable"
    )
    fields = ["source_table", "item_id", "customer_id", "po_number", "po_key", "item_date", "description"]
    items = pd.concat(
        [
            analysis.prep.items[[*fields, "amount_minor", "currency"]],
            analysis.held[[*fields, "amount_minor", "currency"]],
        ],
        ignore_index=True,
    ).drop_duplicates(["source_table", "item_id"])
    rows = issues.merge(items, on=["source_table", "item_id"], how="left").reset_index(drop=True)
    found = rows["customer_id"].notna()
    cid = rows["customer_id"].fillna("").astype("str")
    po = rows["po_number"].fillna("").astype("str")
    reasons = rows["reason"].map(sentence)
    ref = analysis.ref
    mismatch = (rows["reason"] == PO_CUSTOMER_MISMATCH) & rows["po_key"].isin(ref.index)
    for at in rows.index[mismatch]:
        owner = str(ref.loc[str(rows.at[at, "po_key"]), "customer_id"])
        reasons.at[at] = _mismatch_sentence(po[at], owner, cid[at], names)
    dates = pd.to_datetime(rows["item_date"], errors="coerce")
    return pd.DataFrame(
        {
            "Status": rows["action"].map({"held": "Held"}).fillna("Flagged"),
            "Customer": cid.map(lambda c: names.get(c, c) or "—"),
            "Item": (rows["source_table"].str.replace("_", " ") + " " + rows["item_id"])
            .str.strip()
            .replace("", "—"),
            "Date": dates.dt.strftime("%Y-%m-%d").fillna(""),
            "Description": rows["description"].fillna("").astype("str"),
            "PO": po.replace("", "—"),
            "Amount": [
                format_minor(m, c, grouped=True, with_currency=True) if ok else ""
                for m, c, ok in zip(rows["amount_minor"], rows["currency"], found, strict=True)
            ],
            "Reason": reasons,
            "Where": [
                f"{f}, row {int(r)}" if pd.notna(r) else str(f)
                for f, r in zip(rows["file"], rows["row"], strict=True)
            ],
            "source_table": rows["source_table"],
            "item_id": rows["item_id"],
            "customer_id": cid,
            "po_filter": po,
            "reason": rows["reason"],
            "action": rows["action"],
        },
        columns=columns,
    )


def filter_exceptions(
    table: pd.DataFrame, customer: str = ALL, po: str = ALL, reason: str = ALL
) -> pd.DataFrame:
    keep = pd.Series(True, index=table.index)
    if customer != ALL:
        keep &= table["customer_id"] == customer
    if po != ALL:
        keep &= table["po_filter"] == po
    if reason != ALL:
        keep &= table["reason"] == reason
    return table[keep]


def reason_choices(table: pd.DataFrame) -> list[tuple[str, str]]:
    counts = table["reason"].value_counts()
    return [("Every reason", ALL), *((f"{sentence(str(r))} ({n:,})", str(r)) for r, n in counts.items())]


def filter_burndown(bd: pd.DataFrame, customer: str = ALL, po: str = ALL) -> pd.DataFrame:
    keep = pd.Series(True, index=bd.index)
    if customer != ALL:
        keep &= bd["customer_id"].astype("str") == customer
    if po != ALL:
        keep &= bd["po_number"].astype("str").map(lambda text: po in text.split("; "))
    return bd[keep]


# --- periods and inputs ---------------------------------------------------------------------------


def period_choices(today: dt.date | None = None, around: str = "", months: int = 24) -> list[str]:
    """The months the picker offers: the last ``months`` up to next month, newest first, plus ``around``."""
    today = today or dt.date.today()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    out = []
    for _ in range(months + 1):
        if month == 0:
            year, month = year - 1, 12
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
    if around and around not in out:
        out.append(around)
        out.sort(reverse=True)
    return out


def uploads_folder(period: str) -> Path:
    """Where the month's uploaded exports are kept: ``outputs/inputs/<period>/`` (never outside)."""
    Period.parse(period)
    return locations.notebook_outputs_root() / "inputs" / period


def save_uploads(files: Iterable[tuple[str, bytes]], period: str) -> Path:
    """Save uploaded exports (name, content) into the period's uploads folder; the folder.

    Names are made safe (``paths.safe_filename``) and must end in .xlsx, .xlsm or .csv; a file of
    the same name replaces the earlier upload. ``InputError`` (a sentence) otherwise.
    """
    folder = uploads_folder(period)
    saved = 0
    for name, content in files:
        stem, suffix = os.path.splitext(os.path.basename(str(name)))
        if suffix.lower() not in UPLOAD_SUFFIXES:
            raise InputError(
                f"{name} is not an export this app reads: upload .xlsx or .csv files "
                "(Autotask exports, the companies table, the PO reference table)"
            )
        if not content:
            raise InputError(f"{name} is empty: export it again and upload it once more")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (safe_filename(stem) + suffix.lower())
        check_contained(target, folder)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, target)
        saved += 1
    if not saved:
        raise InputError("no file was chosen: pick the month's exports first")
    return folder


def check_inputs_folder(text: str) -> Path:
    """A folder the server can read, or an ``InputError`` that says what is wrong with it."""
    if not text.strip():
        raise InputError("Type the folder that holds the month's exports.")
    folder = Path(text.strip()).expanduser()
    if not folder.is_absolute():
        folder = locations.PROJECT_ROOT / folder
    if not folder.exists():
        raise InputError(f"The folder {folder} does not exist on the server.")
    if not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder: choose the folder that holds the exports.")
    exports = [p for p in folder.iterdir() if p.suffix.lower() in UPLOAD_SUFFIXES and p.name != adj.FILE_NAME]
    if not exports:
        raise InputError(f"The folder {folder} holds no .xlsx or .csv export.")
    return folder.resolve()


# --- taking the results away ---------------------------------------------------------------------


def period_zip(out_dir: Path, period: str) -> Path:
    """The period's output files (and its adjustments) as one zip inside the outputs folder.

    Written to ``outputs/downloads/<period>.zip`` through a temporary file; earlier downloads are
    not zipped again.
    """
    if not out_dir.is_dir():
        raise InputError(f"Nothing to download for {period} yet: export or issue the invoices first.")
    downloads = out_dir.parent / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    target = downloads / f"{safe_filename(period)}.zip"
    fd, tmp = tempfile.mkstemp(prefix=".zip-", dir=downloads)
    os.close(fd)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
            if not any(part.startswith(".") for part in path.relative_to(out_dir).parts):
                archive.write(path, f"{period}/{path.relative_to(out_dir)}")
    os.replace(tmp, target)
    return target


def register_invoices(register_path: Path, period: str) -> pd.DataFrame:
    """The register's invoices and credit notes of the period, in the order issued, in words; empty when none.

    Columns: ``invoice_number``, ``document`` (Invoice / Credit note), ``invoice_date``,
    ``customer_name``, ``po_number``, ``total`` (``1,234.50 EUR``), ``status`` (a sentence), ``voided``.
    """
    columns = [
        "invoice_number",
        "document",
        "invoice_date",
        "customer_name",
        "po_number",
        "total",
        "status",
        "voided",
        "customer_id",
    ]
    if not register_path.exists():
        return pd.DataFrame(columns=columns)
    from billing_lib.io.register import Register

    with Register(register_path) as register:
        frame = register.invoices(period)
    rows = []
    for r in frame.to_dict("records"):
        if r["credits"]:
            status = f"cancels {r['credits']}"
        elif r["status"] == "voided":
            status = (
                f"void since {str(r['voided_at'])[:10]} ({r['void_reason']}), credit note {r['credit_note']}"
            )
        else:
            status = "issued"
        rows.append(
            {
                "invoice_number": str(r["invoice_number"]),
                "document": "Credit note" if r["doc_type"] == "credit_note" else "Invoice",
                "invoice_date": str(r["invoice_date"]),
                "customer_name": str(r["customer_name"] or r["customer_id"]),
                "po_number": str(r["po_number"] or "") or "—",
                "total": format_minor(r["total_minor"], r["currency"], grouped=True, with_currency=True),
                "status": status,
                "voided": r["status"] == "voided",
                "customer_id": str(r["customer_id"]),
            }
        )
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "EXCEPTION_COLUMNS",
    "NO_PO_TABLE",
    "exceptions_table",
    "filter_exceptions",
    "period_choices",
    "period_zip",
    "register_invoices",
    "save_uploads",
    "sentence",
]
