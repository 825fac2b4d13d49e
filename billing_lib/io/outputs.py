"""The CSV tables and manifest of SPEC section 5, as frames and as files."""

from __future__ import annotations

import csv
import json
import platform
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from billing_lib import __version__
from billing_lib.domain.money import format_minor_series
from billing_lib.domain.records import ISSUE_COLUMNS, LINE_KEY, READ_REASONS, Issue
from billing_lib.domain.text import csv_safe

INVOICE_COLUMNS = (
    "invoice_number", "customer_id", "customer_name", "method", "group_key", "po_number", "currency",
    "net_amount", "tax_amount", "total_amount", "line_count", "item_count", "billing_entity", "tax_rate",
    "document_type",
)  # fmt: skip
INVOICE_ITEM_COLUMNS = (
    "invoice_number",
    "source_table",
    "item_id",
    "amount",
    "currency",
    "po_number",
    "item_date",
    "customer_id",
    "kind",
    "description",
)


def invoices_frame(invoices: pd.DataFrame) -> pd.DataFrame:
    out = invoices.copy()
    for name in ("net", "tax", "total"):
        out[f"{name}_amount"] = format_minor_series(out[f"{name}_minor"], out["currency"])
    out["tax_rate"] = out["tax_rate"].map(str)
    out["document_type"] = ["credit_note" if t < 0 else "invoice" for t in out["total_minor"]]
    return out.reindex(columns=list(INVOICE_COLUMNS))


def invoice_items_frame(items: pd.DataFrame) -> pd.DataFrame:
    out = items.copy()
    out["amount"] = format_minor_series(out["amount_minor"], out["currency"])
    out["item_date"] = out["item_date"].dt.strftime("%Y-%m-%d")
    return out.reindex(columns=list(INVOICE_ITEM_COLUMNS))


def invoice_lines_frame(items: pd.DataFrame) -> pd.DataFrame:
    """Invoice lines as the workbooks show them: items of one PO, kind, billing code and unit price together."""
    keys = LINE_KEY
    grouped = (
        items.groupby(keys, sort=False, dropna=False)
        .agg(
            date=("item_date", "max"),
            items=("item_id", "size"),
            amount_minor=("amount_minor", "sum"),
            currency=("currency", "first"),
        )
        .reset_index()
    )
    grouped["amount"] = format_minor_series(grouped["amount_minor"], grouped["currency"])
    grouped["date"] = grouped["date"].dt.strftime("%Y-%m-%d")
    return grouped.rename(
        columns={"unit_price_text": "unit_price", "billing_code_name": "billing_code"}
    ).drop(columns=["amount_minor"])


def exceptions_frame(issues: Iterable[Issue], held: pd.DataFrame) -> pd.DataFrame:
    """One row per held item (its problems joined) and one per flag; held items first."""
    rows = [i.as_row() for i in issues]
    frame = pd.DataFrame(rows, columns=list(ISSUE_COLUMNS)).astype({"row": "str"})
    if frame.empty:
        frame["amount"] = pd.Series(dtype="str")
        return frame
    held_part = frame[frame["action"] == "held"]
    # a held item with several problems is one exception row: the reason that held it, every message
    merged = (
        held_part.groupby(["source_table", "item_id", "file", "sheet", "row"], sort=False, dropna=False)
        .agg(
            reason=("reason", "first"),
            action=("action", "first"),
            message=("message", " | ".join),
            column=("column", lambda s: "; ".join(x for x in dict.fromkeys(s) if x)),
            value=("value", lambda s: "; ".join(x for x in dict.fromkeys(s) if x)),
        )
        .reset_index()
    )
    flagged = frame[frame["action"] != "held"]
    out = pd.concat([merged, flagged], ignore_index=True).reindex(columns=list(ISSUE_COLUMNS))
    if not held.empty:
        amounts = held.assign(amount=format_minor_series(held["amount_minor"], held["currency"]))
        # a row held because a cell cannot be read was never priced: no amount rather than 0.00
        unpriced = held["reason"].isin(READ_REASONS) & (held["amount_minor"] == 0)
        amounts.loc[unpriced, "amount"] = ""
        amounts = amounts.drop_duplicates(["source_table", "item_id", "_row"])
        lookup = {
            (s, i, str(r)): a
            for s, i, r, a in zip(
                amounts["source_table"], amounts["item_id"], amounts["_row"], amounts["amount"], strict=True
            )
        }
        out["amount"] = [
            lookup.get((s, i, r), "") if a == "held" else ""
            for s, i, r, a in zip(out["source_table"], out["item_id"], out["row"], out["action"], strict=True)
        ]
    else:
        out["amount"] = ""
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV (no index); every text cell that looks like a formula is neutralised for spreadsheets
    (ids and codes too: an item id ``=2+2`` or a currency ``=EUR`` comes from the inputs like any text)."""
    safe = frame.copy()
    for column in safe.columns:
        if len(safe) and not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = csv_safe(safe[column])
    safe.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")


_MONEY_COLUMNS = (
    "net_amount",
    "tax_amount",
    "total_amount",
    "amount",
    "authorised_amount",
    "previously_invoiced",
    "this_period",
    "consumed",
    "remaining",
    "percent_used",
    "held_amount",
    "hours",
    "authorised_hours",
    "hours_consumed",
    "hours_previously",
    "hours_this_period",
    "hours_remaining",
    "hours_percent_used",
    "monthly_amount",
    "month_consumed",
    "month_remaining",
    "month_percent_used",
    "tax_rate",
)
_DATE_COLUMNS = ("item_date", "date", "projected_exhaustion_date")


def for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table with amounts as numbers and dates as dates, for ``summary.xlsx`` (a view, not a sum)."""
    out = frame.copy()
    for column in out.columns:
        if column in _MONEY_COLUMNS:
            out[column] = pd.to_numeric(out[column].replace("", None), errors="coerce")
        elif column in _DATE_COLUMNS:
            out[column] = pd.to_datetime(out[column].replace("", None), errors="coerce")
    return out


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"billing_lib": __version__, "python": platform.python_version()}
    for dist in ("pandas", "python-calamine", "openpyxl", "xlsxwriter", "matplotlib", "papermill"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def write_manifest(path: Path, manifest: dict[str, object]) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
