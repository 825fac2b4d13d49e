"""The export ledger of the accounting hand-off, kept in the invoice register (SPEC section 5).

Every issued invoice and credit note goes into exactly one QuickBooks and one Xero import file across all
runs: a final run writes its own invoices (and any document of its period not exported yet, such as the
credit note of a void) under ``accounting/`` and records them in the same transaction that issues the
invoices; ``billing accounting --period P`` writes the period's documents not exported yet, or with
``--again`` all of them, on purpose (recorded as a re-export, never as a second first export).

The tables live in their own block, created on first use (``CREATE TABLE IF NOT EXISTS``), so registers
written before this module gain them and ``register.py`` keeps its own schema. Besides the ledger they
keep what the import files need and the register does not (due date, terms, VAT category, the customer's
contact details, the invoice lines, the ``accounting_map`` used), so a period can be exported again
exactly as it was issued.

Voids: the register issues a credit note of its own number for a void (a row of ``invoices`` that
``credits`` the invoice); it is exported with the lines of the invoice it cancels, negated (the invoice's
quantities at negated prices). ``billing void`` exports it at once; otherwise the next final run of the
period or ``billing accounting`` does. A void recorded before the register issued credit notes (a
version 1 register) is exported as ``<invoice number>-CN``, dated the day of the void.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from billing_lib.core.accounting import (
    DEFAULT_TERMS_DAYS,
    LEDGERS,
    QUICKBOOKS_LIMIT,
    XERO_LIMIT,
    AccountingMap,
    Contact,
    ExportFile,
    LedgerDocument,
    LedgerLine,
    terms_days,
    vat_category_of,
    write_files,
)
from billing_lib.domain.errors import RegisterError, UsageError
from billing_lib.domain.period import Period
from billing_lib.domain.records import LINE_KEY
from billing_lib.domain.text import cell_text
from billing_lib.io import locations

if TYPE_CHECKING:  # the pipeline's types, imported lazily at run time
    from billing_lib.core.consolidate import InvoiceSet
    from billing_lib.domain.schema import Tables

# foreign keys to ``invoices`` are checked at COMMIT: a final run writes (and records) its accounting files
# inside ``Register.finalise``'s ``write``, before the register inserts the invoices themselves
SCHEMA = """
CREATE TABLE IF NOT EXISTS accounting_maps (
    map_id     INTEGER PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE,
    rows_json  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounting_documents (
    invoice_number TEXT PRIMARY KEY REFERENCES invoices (invoice_number) DEFERRABLE INITIALLY DEFERRED,
    due_date       TEXT NOT NULL,      -- YYYY-MM-DD
    terms_days     INTEGER NOT NULL,
    tax_rate       TEXT NOT NULL,      -- exact decimal text, percent
    vat_category   TEXT NOT NULL,
    email          TEXT NOT NULL,
    address        TEXT NOT NULL,
    address2       TEXT NOT NULL,
    city           TEXT NOT NULL,
    postal_code    TEXT NOT NULL,
    country        TEXT NOT NULL,
    map_id         INTEGER REFERENCES accounting_maps (map_id)
);
CREATE TABLE IF NOT EXISTS accounting_lines (
    invoice_number  TEXT NOT NULL REFERENCES invoices (invoice_number) DEFERRABLE INITIALLY DEFERRED,
    line_no         INTEGER NOT NULL,
    description     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    billing_code_id TEXT NOT NULL,
    billing_code    TEXT NOT NULL,
    po_number       TEXT NOT NULL,
    quantity        TEXT NOT NULL,     -- exact decimal text
    unit_price      TEXT,              -- exact decimal text; NULL when the items had none
    amount_minor    INTEGER NOT NULL,
    service_date    TEXT,              -- YYYY-MM-DD
    PRIMARY KEY (invoice_number, line_no)
);
CREATE TABLE IF NOT EXISTS accounting_files (
    file_id    INTEGER PRIMARY KEY,
    ledger     TEXT NOT NULL CHECK (ledger IN ('quickbooks', 'xero')),
    path       TEXT NOT NULL,          -- where the run put it
    period     TEXT NOT NULL,
    again      INTEGER NOT NULL,       -- 1: a deliberate re-export (billing accounting --again)
    written_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounting_exported (
    document_number TEXT NOT NULL,     -- as in the file: the invoice number, or the credit note's
    source_invoice  TEXT NOT NULL,     -- the invoice it is or credits
    document_type   TEXT NOT NULL CHECK (document_type IN ('invoice', 'credit_note')),
    ledger          TEXT NOT NULL,
    file_id         INTEGER NOT NULL REFERENCES accounting_files (file_id),
    again           INTEGER NOT NULL
);
-- a document's first export is in exactly one file per ledger
CREATE UNIQUE INDEX IF NOT EXISTS accounting_exported_once
    ON accounting_exported (ledger, document_number) WHERE again = 0;
"""


def ensure_tables(db: sqlite3.Connection) -> None:
    """Create the accounting tables in a register that lacks them (inside the caller's transaction)."""
    pending = ""
    for line in SCHEMA.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            db.execute(pending)
            pending = ""


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: tuple[ExportFile, ...]
    documents: int
    again: bool

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]


# --- the documents of a final run ----------------------------------------------------------------------


def _dec(value: object) -> Decimal:
    if value is None or value != value:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _decimal_sum(values: pd.Series) -> Decimal:
    return sum(map(_dec, values), Decimal(0))


def _lines_of(items: pd.DataFrame) -> dict[str, list[LedgerLine]]:
    """Every invoice's lines at once: its items of one PO, kind, billing code and unit price together,
    described as the invoice workbook describes them."""
    keys = LINE_KEY
    grouped = items.groupby(keys, sort=False, dropna=False)
    agg = grouped.agg(
        date=("item_date", "max"),
        count=("item_id", "size"),
        minor=("amount_minor", "sum"),
        text=("description", "first"),
        price=("unit_price", "first"),
        code_id=("billing_code_id", "first"),
    ).reset_index()
    quantities = list(grouped["quantity"].agg(_decimal_sum))
    out: dict[str, list[LedgerLine]] = {}
    columns = ("invoice_number", "po_number", "kind", "billing_code_name", "date", "count", "minor", "text",
               "price", "code_id")  # fmt: skip
    for i, (number, po, kind, code, date, count, minor, text, price, code_id) in enumerate(
        zip(*(agg[c].tolist() for c in columns), strict=True)
    ):
        code, text, kind = cell_text(code), cell_text(text), cell_text(kind)
        label = code or ("Labour" if kind == "labour" else "Charges")
        if count == 1 and text:
            label = f"{label}: {text}" if code else text
        out.setdefault(str(number), []).append(
            LedgerLine(
                description=label,
                kind=kind,
                billing_code_id=cell_text(code_id),
                billing_code=code,
                po_number=cell_text(po),
                quantity=quantities[i],
                unit_price=None if price is None or price != price else _dec(price),
                amount_minor=int(minor),
                service_date=None if pd.isna(date) else date.date(),
            )
        )
    return out


def _lookup(table: pd.DataFrame, key_col: str) -> dict[str, dict[str, object]]:
    if table.empty or key_col not in table:
        return {}
    rows = table.drop_duplicates(key_col)
    return {str(row[key_col]): {str(k): v for k, v in row.items()} for row in rows.to_dict("records")}


def run_documents(
    invoice_set: InvoiceSet, companies: pd.DataFrame, entities: pd.DataFrame
) -> list[LedgerDocument]:
    """The documents of a final run's (renumbered) ``InvoiceSet``."""
    customers = _lookup(companies, "customer_id")
    sellers = _lookup(entities, "billing_entity")
    only_seller = next(iter(sellers.values())) if len(sellers) == 1 else {}
    lines = _lines_of(invoice_set.items)
    issued = invoice_set.invoice_date
    out = []
    for head in invoice_set.invoices.to_dict("records"):
        number, currency = str(head["invoice_number"]), str(head["currency"])
        customer = customers.get(str(head["customer_id"]), {})
        seller = sellers.get(cell_text(head.get("billing_entity")), only_seller)
        days = terms_days(customer.get("payment_terms"))
        days = days if days is not None else terms_days(seller.get("payment_terms"))
        days = days if days is not None else DEFAULT_TERMS_DAYS
        rate = _dec(head.get("tax_rate"))
        out.append(
            LedgerDocument(
                number=number,
                source_invoice=number,
                period=invoice_set.period.label,
                customer_id=str(head["customer_id"]),
                customer_name=cell_text(head.get("customer_name"))
                or cell_text(customer.get("customer_name")),
                issue_date=issued,
                due_date=issued + dt.timedelta(days=days),
                terms_days=days,
                currency=currency,
                po_numbers=tuple(p for p in cell_text(head.get("po_number")).split("; ") if p),
                tax_rate=rate,
                vat_category=vat_category_of(head.get("vat_category", customer.get("vat_category")), rate),
                net_minor=int(head["net_minor"]),
                tax_minor=int(head["tax_minor"]),
                lines=tuple(lines.get(number, ())),
                contact=Contact(
                    *(
                        cell_text(customer.get(c))
                        for c in ("email", "address", "address2", "city", "postal_code", "country")
                    )
                ),
            )
        )
    return out


def _store_map(db: sqlite3.Connection, amap: AccountingMap) -> int | None:
    if not amap.given:
        return None
    text = json.dumps(amap.rows, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    db.execute("INSERT OR IGNORE INTO accounting_maps (sha256, rows_json) VALUES (?, ?)", (digest, text))
    return int(db.execute("SELECT map_id FROM accounting_maps WHERE sha256 = ?", (digest,)).fetchone()[0])


def _record_documents(
    db: sqlite3.Connection, documents: Sequence[LedgerDocument], map_id: int | None
) -> None:
    db.executemany(
        """
        INSERT INTO accounting_documents (invoice_number, due_date, terms_days, tax_rate, vat_category, email,
                                          address, address2, city, postal_code, country, map_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            (d.number, d.due_date.isoformat(), d.terms_days, str(d.tax_rate), d.vat_category, d.contact.email,
             d.contact.address, d.contact.address2, d.contact.city, d.contact.postal_code, d.contact.country,
             map_id)
            for d in documents
        ),
    )  # fmt: skip
    db.executemany(
        """
        INSERT INTO accounting_lines (invoice_number, line_no, description, kind, billing_code_id, billing_code,
                                      po_number, quantity, unit_price, amount_minor, service_date)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            (d.number, i, ln.description, ln.kind, ln.billing_code_id, ln.billing_code, ln.po_number,
             str(ln.quantity), None if ln.unit_price is None else str(ln.unit_price), ln.amount_minor,
             None if ln.service_date is None else ln.service_date.isoformat())
            for d in documents
            for i, ln in enumerate(d.lines, start=1)
        ),
    )  # fmt: skip


# --- the documents of a period, from the register -------------------------------------------------------


def _date(text: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _stored_lines(db: sqlite3.Connection, number: str) -> list[LedgerLine]:
    rows = db.execute(
        """
        SELECT description, kind, billing_code_id, billing_code, po_number, quantity, unit_price, amount_minor,
               service_date
        FROM accounting_lines WHERE invoice_number = ? ORDER BY line_no
        """,
        (number,),
    ).fetchall()
    return [
        LedgerLine(r[0], r[1], r[2], r[3], r[4], Decimal(r[5]), None if r[6] is None else Decimal(r[6]), int(r[7]),
                   _date(r[8]))
        for r in rows
    ]  # fmt: skip


def _item_lines(db: sqlite3.Connection, number: str) -> list[LedgerLine]:
    """Lines made from the register's items, for invoices issued before the accounting tables existed."""
    rows = db.execute(
        """
        SELECT po_number, kind, quantity, amount_minor, item_date FROM invoice_items
        WHERE invoice_number = ? ORDER BY rowid
        """,
        (number,),
    ).fetchall()
    groups: dict[tuple[str, str], list[tuple[str, int, str | None]]] = {}
    for po, kind, quantity, minor, day in rows:
        groups.setdefault((str(po), str(kind)), []).append((quantity, int(minor), day))
    lines = []
    for (po, kind), members in groups.items():
        try:
            quantity = sum((Decimal(q) for q, _, _ in members), Decimal(0))
        except InvalidOperation:
            quantity = Decimal(1)
        days = [d for d in (_date(m[2]) for m in members) if d is not None]
        label = "Labour" if kind == "labour" else "Charges"
        lines.append(
            LedgerLine(
                label,
                kind,
                "",
                "",
                po,
                quantity,
                None,
                sum(m[1] for m in members),
                max(days) if days else None,
            )
        )
    return lines


_PERIOD_QUERY = """
    SELECT inv.invoice_number, inv.doc_type, inv.credits, inv.period, inv.invoice_date, inv.customer_id,
           inv.customer_name, inv.currency, inv.net_minor, inv.tax_minor, inv.po_number,
           d.due_date, d.terms_days, d.tax_rate, d.vat_category, d.email, d.address, d.address2, d.city, d.postal_code,
           d.country, d.map_id, v.reason
    FROM invoices AS inv
    LEFT JOIN accounting_documents AS d USING (invoice_number)
    LEFT JOIN voids AS v ON v.credit_note = inv.invoice_number
    WHERE inv.period = ?
    ORDER BY inv.rowid
"""


def _negated(lines: Sequence[LedgerLine]) -> tuple[LedgerLine, ...]:
    """A credit note's lines: the invoice's quantities at negated prices (the ledgers' credit lines)."""
    return tuple(
        replace(
            ln, unit_price=None if ln.unit_price is None else -ln.unit_price, amount_minor=-ln.amount_minor
        )
        for ln in lines
    )


def _credit_note_of(
    original: LedgerDocument, number: str, day: dt.date, net: int, tax: int, why: str
) -> LedgerDocument:
    """The credit note that cancels ``original``: its lines negated, dated ``day``, due at once."""
    return replace(
        original,
        number=number,
        source_invoice=original.number,
        issue_date=day,
        due_date=day,
        terms_days=0,
        net_minor=net,
        tax_minor=tax,
        lines=_negated(original.lines),
        memo=f"Credit note for {original.number}" + (f" (voided: {why})" if why else ""),
    )


def _issued_documents(db: sqlite3.Connection, period: str) -> list[tuple[LedgerDocument, int | None]]:
    """Every invoice and credit note issued for the period (voided invoices too: they were issued), with the
    id of the map it was issued under. A void's credit note has the lines of the invoice it cancels, negated."""
    out: list[tuple[LedgerDocument, int | None]] = []
    invoices: dict[str, tuple[LedgerDocument, int | None]] = {}
    for row in db.execute(_PERIOD_QUERY, (period,)).fetchall():
        (number, doc_type, credits, period_, issued, cid, name, currency, net, tax, po, due, days, rate, category,
         email, address, address2, city, postal, country, map_id, reason) = row  # fmt: skip
        issue_date = _date(issued) or dt.date.today()
        if doc_type == "credit_note" and credits in invoices:
            original, original_map = invoices[credits]
            credit = _credit_note_of(original, number, issue_date, int(net), int(tax), reason or "")
            out.append((credit, original_map))
            continue
        if rate is None:  # not issued by a final run of this version: the rate follows from the amounts
            rate = (Decimal(tax) * 100 / Decimal(net)).quantize(Decimal("0.01")) if net else Decimal(0)
        lines = _stored_lines(db, number) or _item_lines(db, number)
        if sum(ln.amount_minor for ln in lines) != int(net):  # nothing that adds up recorded: one line
            lines = [LedgerLine(f"Invoice {number}", "", "", "", "", Decimal(1), None, int(net), issue_date)]
        days = int(days) if days is not None else DEFAULT_TERMS_DAYS
        document = LedgerDocument(
            number=number,
            source_invoice=str(credits or number),
            period=period_,
            customer_id=cid,
            customer_name=name,
            issue_date=issue_date,
            due_date=_date(due) or issue_date + dt.timedelta(days=days),
            terms_days=days,
            currency=currency,
            po_numbers=tuple(p for p in str(po).split("; ") if p),
            tax_rate=Decimal(rate),
            vat_category=category if category is not None else vat_category_of(None, Decimal(rate)),
            net_minor=int(net),
            tax_minor=int(tax),
            lines=tuple(lines),
            contact=Contact(*(v or "" for v in (email, address, address2, city, postal, country))),
        )
        invoices[number] = (document, map_id)
        out.append((document, map_id))
    return out


def _interim_void_credit_notes(
    db: sqlite3.Connection, issued: Sequence[tuple[LedgerDocument, int | None]]
) -> list[tuple[LedgerDocument, int | None]]:
    """The credit note of each invoice among ``issued`` voided before the register issued credit notes
    (version 1 registers): exported as ``<invoice number>-CN``, dated the day of the void, the invoice negated."""
    by_number = {d.number: (d, m) for d, m in issued}
    voids = db.execute(
        "SELECT invoice_number, voided_at, reason FROM voids WHERE credit_note IS NULL ORDER BY voided_at"
    ).fetchall()
    out = []
    for number, voided_at, reason in voids:
        if number not in by_number:
            continue
        original, map_id = by_number[number]
        day = _date(voided_at) or dt.date.today()
        credit = _credit_note_of(
            original, f"{number}-CN", day, -original.net_minor, -original.tax_minor, reason
        )
        out.append((credit, map_id))
    return out


def period_documents(db: sqlite3.Connection, period: str) -> list[tuple[LedgerDocument, int | None]]:
    """Every invoice and credit note of the period, with the id of the ``accounting_map`` it was issued under."""
    issued = _issued_documents(db, period)
    return issued + _interim_void_credit_notes(db, issued)


def _exported(db: sqlite3.Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {ledger: set() for ledger in LEDGERS}
    for ledger, number in db.execute(
        "SELECT ledger, document_number FROM accounting_exported WHERE again = 0"
    ):
        out.setdefault(str(ledger), set()).add(str(number))
    return out


def _map_of(db: sqlite3.Connection, map_id: int | None) -> AccountingMap:
    if map_id is None:
        return AccountingMap()
    row = db.execute("SELECT rows_json FROM accounting_maps WHERE map_id = ?", (map_id,)).fetchone()
    return AccountingMap.from_rows(json.loads(row[0])) if row else AccountingMap()


def _record_files(
    db: sqlite3.Connection, files: Sequence[ExportFile], folder: Path, period: str, again: bool
) -> None:
    exported = _exported(db)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for export in files:
        cursor = db.execute(
            "INSERT INTO accounting_files (ledger, path, period, again, written_at) VALUES (?, ?, ?, ?, ?)",
            (export.ledger, str(folder / export.name), period, int(again), now),
        )
        db.executemany(
            """
            INSERT INTO accounting_exported (document_number, source_invoice, document_type, ledger, file_id, again)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            (
                (d.number, d.source_invoice, d.document_type, export.ledger, cursor.lastrowid,
                 int(again or d.number in exported[export.ledger]))
                for d in export.documents
            ),
        )  # fmt: skip


# --- the two ways in -----------------------------------------------------------------------------------


def write_final(
    db: sqlite3.Connection,
    invoice_set: InvoiceSet,
    inputs: Tables,
    folder: Path,
    recorded_folder: Path,
    *,
    quickbooks_limit: int = QUICKBOOKS_LIMIT,
    xero_limit: int = XERO_LIMIT,
) -> list[ExportFile]:
    """A final run's accounting files: its invoices, and its period's documents not exported yet.

    Called inside the register transaction that issues the invoices (``Register.finalise``'s ``write``):
    the files go to ``folder`` (the run's temporary folder) and are recorded as in ``recorded_folder``
    (where the run moves them); if anything fails, the transaction rolls back and nothing is recorded.
    """
    try:
        return _write_final(db, invoice_set, inputs, folder, recorded_folder, quickbooks_limit, xero_limit)
    except sqlite3.Error as exc:
        raise RegisterError(f"the invoice register could not record the accounting files ({exc})") from exc


def _write_final(
    db: sqlite3.Connection,
    invoice_set: InvoiceSet,
    inputs: Tables,
    folder: Path,
    recorded_folder: Path,
    quickbooks_limit: int,
    xero_limit: int,
) -> list[ExportFile]:
    ensure_tables(db)
    amap = AccountingMap.from_frame(inputs.table("accounting_map"))
    documents = run_documents(invoice_set, inputs.table("companies"), inputs.table("billing_entities"))
    _record_documents(db, documents, _store_map(db, amap))
    if not documents:
        return []
    period = documents[0].period
    exported = _exported(db)
    own = {d.number for d in documents}
    pending = [
        d
        for d, _ in period_documents(db, period)
        if d.number not in own and any(d.number not in exported[ledger] for ledger in LEDGERS)
    ]
    files = write_files(
        [*documents, *pending], amap, folder, quickbooks_limit=quickbooks_limit, xero_limit=xero_limit
    )
    _record_files(db, files, recorded_folder, period, again=False)
    return files


@contextmanager
def _immediate(db: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise RegisterError(
            f"the invoice register {path} is locked by another run ({exc}); try again"
        ) from exc
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_folder(period: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    return locations.outputs_root() / "accounting" / period / f"export-{stamp}"


def export_period(
    register_path: Path,
    period: str,
    out: Path | None = None,
    *,
    again: bool = False,
    amap: AccountingMap | None = None,
    quickbooks_limit: int = QUICKBOOKS_LIMIT,
    xero_limit: int = XERO_LIMIT,
) -> ExportResult:
    """``billing accounting``: the period's documents not exported yet (``again``: all of them) into ``out``.

    ``amap`` replaces the ``accounting_map`` the documents were issued under. The files are written to a
    temporary folder, recorded, moved to ``out`` and only then committed: a failure leaves neither files
    nor records. Nothing to export writes nothing.
    """
    Period.parse(period)
    from billing_lib.io.register import Register

    if not Path(register_path).exists():
        raise UsageError(f"no invoice register at {register_path}")
    folder = Path(out) if out is not None else default_folder(period)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"refusing to write the accounting files into {folder}: it exists and is not empty")
    with Register(Path(register_path)) as register:
        db = register.connection
        moved = False
        try:
            with _immediate(db, register.path):
                ensure_tables(db)
                documents = period_documents(db, period)
                exported = _exported(db)
                if not again:
                    documents = [
                        (d, m) for d, m in documents if any(d.number not in exported[x] for x in LEDGERS)
                    ]
                if not documents:
                    return ExportResult(folder, (), 0, again)
                chosen = amap or _map_of(db, max((m for _, m in documents if m is not None), default=None))
                folder.parent.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
                try:
                    files = write_files([d for d, _ in documents], chosen, tmp, quickbooks_limit=quickbooks_limit,
                                        xero_limit=xero_limit)  # fmt: skip
                    _record_files(db, files, folder, period, again)
                    if folder.exists():
                        folder.rmdir()  # empty (checked above)
                    tmp.chmod(
                        0o777 & ~_umask()
                    )  # mkdtemp's folder is the owner's alone; the group reads it too
                    tmp.rename(folder)
                    moved = True
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        except BaseException as exc:
            if moved:  # the register did not commit: the files are not exported
                shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, sqlite3.Error):
                raise RegisterError(
                    f"invoice register {register.path}: {exc} while exporting {period}"
                ) from exc
            raise
    return ExportResult(folder, tuple(files), len(documents), again)


def read_map(path: Path) -> AccountingMap:
    """The ``accounting_map`` table of a folder of inputs (or of one file), read alone.

    Files named for the table are read first; only when there is none are the folder's workbooks searched
    for a sheet of that name (a month's large files are not read for nothing).
    """
    from billing_lib.domain import schema
    from billing_lib.io.cell_types import type_sheet
    from billing_lib.io.raw_sheets import RawSheet, read_csv, read_xlsx

    spec = schema.ACCOUNTING_MAP
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.iterdir() if p.is_file() and p.name[:1] not in ".~")
    )
    named = [p for p in files if schema.table_for(p.stem) is spec]
    sheets: list[RawSheet] = []
    for file in named or [p for p in files if p.suffix.lower() in (".xlsx", ".xlsm")]:
        if file.suffix.lower() == ".csv":
            sheets.append(read_csv(file))
        elif file.suffix.lower() in (".xlsx", ".xlsm"):
            found = read_xlsx(file)
            sheets += [
                s
                for i, s in enumerate(found)
                if schema.table_for(s.sheet) is spec or (i == 0 and file in named)
            ]
    if not sheets:
        raise UsageError(f"{path}: no accounting_map table (a file or sheet named accounting_map)")
    frames = [type_sheet(raw, spec, [])[0] for raw in sheets]
    return AccountingMap.from_frame(pd.concat(frames, ignore_index=True))
