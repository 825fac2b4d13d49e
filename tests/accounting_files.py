"""Reading QuickBooks Online and Xero import files back with the importers' rules (the template's
headings, starred columns filled, one document's lines together, plain numbers, the file limits).
"""

from __future__ import annotations

import csv
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from billing_lib.core.accounting import (
    QUICKBOOKS_CREDIT_NOTE_COLUMNS,
    QUICKBOOKS_CREDIT_NOTE_REQUIRED,
    QUICKBOOKS_INVOICE_COLUMNS,
    QUICKBOOKS_REQUIRED,
    XERO_COLUMNS,
    XERO_REQUIRED,
)


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def cents(text: str) -> int:
    assert re.fullmatch(r"-?\d+(\.\d+)?", text), f"{text!r} is not a plain number"
    return int((Decimal(text) * 100).to_integral_value())


def _documents_of(
    path: Path, number: str, required: list[str], limit: int
) -> dict[str, list[dict[str, str]]]:
    """A file's rows by document, checking the importer's basic rules on the way."""
    _, rows = read_rows(path)
    documents: dict[str, list[dict[str, str]]] = {}
    last = None
    for row in rows:
        for column in required:
            assert row[column] != "", f"{path.name}: required {column} empty in {row}"
        key = row[number]
        assert key == last or key not in documents, f"{path.name}: the lines of {key} are not together"
        documents.setdefault(key, []).append(row)
        last = key
    assert 0 < len(documents) <= limit
    return documents


def read_quickbooks(folder: Path, limit: int = 100) -> dict[str, tuple[str, int, int, str]]:
    """number -> currency, net and tax in cents as issued (credit notes negative), file name."""
    out: dict[str, tuple[str, int, int, str]] = {}
    for stem, columns, number, sign, needed in (
        ("quickbooks_invoices", QUICKBOOKS_INVOICE_COLUMNS, "InvoiceNo", 1, QUICKBOOKS_REQUIRED),
        (
            "quickbooks_credit_notes",
            QUICKBOOKS_CREDIT_NOTE_COLUMNS,
            "CreditNoteNo",
            -1,
            QUICKBOOKS_CREDIT_NOTE_REQUIRED,
        ),
    ):
        for path in sorted(folder.glob(f"{stem}*.csv")):
            head, _ = read_rows(path)
            assert head == list(columns)
            required = [c for c in head if c in needed]
            assert len(required) == len(needed)
            documents = _documents_of(path, number, required, limit)
            assert len({r["Currency"] for rows in documents.values() for r in rows}) == 1, "currencies mixed"
            for key, rows in documents.items():
                for r in rows:  # QuickBooks computes quantity x rate: it must give the amount
                    exact = Decimal(r["ItemQuantity"]) * Decimal(r["ItemRate"])
                    assert cents(r["ItemAmount"]) == int((exact * 100).quantize(Decimal(1), ROUND_HALF_UP))
                assert key not in out, f"{key} in two QuickBooks files"
                net = sum(cents(r["ItemAmount"]) for r in rows)
                tax = sum(cents(r["ItemTaxAmount"]) for r in rows)
                assert net >= 0, f"{key}: a QuickBooks invoice or credit note totals below zero"
                out[key] = (rows[0]["Currency"], sign * net, sign * tax, path.name)
    return out


def read_xero(folder: Path, limit: int = 500) -> dict[str, tuple[str, int, int, str]]:
    out: dict[str, tuple[str, int, int, str]] = {}
    for path in sorted(folder.glob("xero_invoices*.csv")):
        head, _ = read_rows(path)
        assert head == list(XERO_COLUMNS)
        required = [c for c in head if c in XERO_REQUIRED]
        assert len(required) == len(XERO_REQUIRED)
        for key, rows in _documents_of(path, "InvoiceNumber", required, limit).items():
            assert key not in out, f"{key} in two Xero files"
            # Xero's line amount: quantity x unit amount, rounded to the cent
            net = sum(
                int(
                    (Decimal(r["Quantity"]) * Decimal(r["UnitAmount"]) * 100).quantize(
                        Decimal(1), ROUND_HALF_UP
                    )
                )
                for r in rows
            )
            tax = sum(cents(r["TaxAmount"]) for r in rows)
            out[key] = (rows[0]["Currency"], net, tax, path.name)
    return out
