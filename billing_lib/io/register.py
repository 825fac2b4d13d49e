"""SPEC section 6: the invoice register, a SQLite file of issued invoices, credit notes and the items they took.

What it guarantees:
- numbers are gapless and unique per number format and period, taken inside one ``BEGIN IMMEDIATE``
  transaction that records every invoice, its items and the document needed to print it again; two
  runs on the same file are serialised (the second waits, then finds the first one's items taken);
- issued invoices are immutable: triggers refuse any UPDATE or DELETE of an invoice, its items, its
  void or its run, whoever asks (this program, a script, a SQLite browser);
- an item (its kind and id: ``ticket_charge:501``, whatever file it came from) is claimed by at most one
  invoice that is not voided; voiding records why, issues a credit note that references the invoice
  (its own number, its own document) and releases the claims, so the items can be invoiced again;
- each final run is recorded with the folder it writes to, and marked published once its files are in
  place: a run that committed but died before that is finished by the next one (``pending_runs``).

The file uses SQLite's default rollback journal rather than WAL: registers often live on shared
network folders, where WAL does not work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import string
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from billing_lib.core.consolidate import InvoiceSet, format_number, renumber
from billing_lib.domain.errors import RegisterError
from billing_lib.domain.period import Period
from billing_lib.domain.records import Invoice
from billing_lib.io.snapshot import credit_note_for, from_json, to_json

DEFAULT_FORMAT = "INV-{yyyy}{mm}-{seq:04d}"
CREDIT_NOTE_FORMAT = "CN-{yyyy}{mm}-{seq:04d}"
SCHEMA_VERSION = 2
_APPLICATION_ID = 0x42494C4C  # "BILL": marks the file as an invoice register

_TABLES_SQL = """
CREATE TABLE runs (
    run_id     TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('invoices', 'void', 'legacy')),
    period     TEXT NOT NULL,
    out_dir    TEXT NOT NULL,      -- the folder its files go to (resolved path)
    created_at TEXT NOT NULL
);
CREATE TABLE published (           -- a run whose files are in place; insert-only
    run_id       TEXT PRIMARY KEY REFERENCES runs (run_id),
    published_at TEXT NOT NULL
);
CREATE TABLE invoices (
    invoice_number TEXT PRIMARY KEY,
    doc_type       TEXT NOT NULL CHECK (doc_type IN ('invoice', 'credit_note')),
    credits        TEXT REFERENCES invoices (invoice_number),  -- a void's credit note: what it cancels
    number_scope   TEXT NOT NULL,      -- the number format with the period filled in: numbers count per scope
    seq            INTEGER NOT NULL,
    number_format  TEXT NOT NULL,
    period         TEXT NOT NULL,
    invoice_date   TEXT NOT NULL,
    customer_id    TEXT NOT NULL,
    customer_name  TEXT NOT NULL,
    currency       TEXT NOT NULL,
    billing_entity TEXT NOT NULL,
    net_minor      INTEGER NOT NULL,
    tax_minor      INTEGER NOT NULL,
    total_minor    INTEGER NOT NULL,
    po_number      TEXT NOT NULL,
    method         TEXT NOT NULL,
    group_key      TEXT NOT NULL,
    item_count     INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    run_id         TEXT NOT NULL REFERENCES runs (run_id),
    document       BLOB NOT NULL,      -- snapshot.to_json of the issued record, zlib-compressed ('' before v2)
    UNIQUE (number_scope, seq)
);
CREATE TABLE invoice_items (
    invoice_number TEXT NOT NULL REFERENCES invoices (invoice_number),
    item_key       TEXT NOT NULL,      -- the item's kind and id, e.g. ticket_charge:501
    source_key     TEXT NOT NULL,      -- a posted billing item's source row, e.g. time_entry:77 ('' if none)
    source_table   TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    po_key         TEXT NOT NULL,
    po_number      TEXT NOT NULL,
    amount_minor   INTEGER NOT NULL,
    quantity       TEXT NOT NULL,      -- exact decimal text
    kind           TEXT NOT NULL,
    item_date      TEXT,               -- YYYY-MM-DD
    PRIMARY KEY (invoice_number, item_key)
);
CREATE TABLE item_claims (         -- which invoice holds each item (and each posted item's source) now
    item_key       TEXT PRIMARY KEY,
    invoice_number TEXT NOT NULL REFERENCES invoices (invoice_number)
);
CREATE TABLE voids (
    invoice_number TEXT PRIMARY KEY REFERENCES invoices (invoice_number),
    voided_at      TEXT NOT NULL,
    reason         TEXT NOT NULL,
    credit_note    TEXT REFERENCES invoices (invoice_number)  -- NULL for voids recorded before credit notes
);
"""

_TRIGGERS_SQL = """
CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable: void them instead'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable: void them instead'); END;
CREATE TRIGGER invoice_items_no_update BEFORE UPDATE ON invoice_items
BEGIN SELECT RAISE(ABORT, 'the items of issued invoices are immutable'); END;
CREATE TRIGGER invoice_items_no_delete BEFORE DELETE ON invoice_items
BEGIN SELECT RAISE(ABORT, 'the items of issued invoices are immutable'); END;
CREATE TRIGGER voids_no_update BEFORE UPDATE ON voids
BEGIN SELECT RAISE(ABORT, 'voids are immutable'); END;
CREATE TRIGGER voids_no_delete BEFORE DELETE ON voids
BEGIN SELECT RAISE(ABORT, 'voids are immutable'); END;
CREATE TRIGGER runs_no_update BEFORE UPDATE ON runs
BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
CREATE TRIGGER published_no_change BEFORE UPDATE ON published
BEGIN SELECT RAISE(ABORT, 'published runs are immutable'); END;
CREATE TRIGGER published_no_delete BEFORE DELETE ON published
BEGIN SELECT RAISE(ABORT, 'published runs are immutable'); END;
CREATE TRIGGER item_claims_no_update BEFORE UPDATE ON item_claims
BEGIN SELECT RAISE(ABORT, 'an item''s invoice is changed only by voiding it'); END;
CREATE TRIGGER item_claims_release_by_void BEFORE DELETE ON item_claims
WHEN NOT EXISTS (SELECT 1 FROM voids WHERE voids.invoice_number = OLD.invoice_number)
BEGIN SELECT RAISE(ABORT, 'an item of an issued invoice is released only by voiding the invoice'); END;
"""

# registers written by version 1 (no documents, identity by file table, status updated in place)
_LEGACY_KINDS = {
    "time_entries": "time_entry",
    "ticket_charges": "ticket_charge",
    "contract_charges": "contract_charge",
    "project_charges": "project_charge",
    "expenses": "expense",
    "billing_items": "billing_item",
}
_MIGRATE_V1_SQL = f"""
ALTER TABLE invoices RENAME TO invoices_v1;
ALTER TABLE invoice_items RENAME TO invoice_items_v1;
ALTER TABLE voids RENAME TO voids_v1;
DROP INDEX IF EXISTS invoice_items_once;
{_TABLES_SQL}
INSERT INTO runs VALUES ('legacy-v1', 'legacy', '', '', '{dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}');
INSERT INTO published VALUES ('legacy-v1', '{dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}');
INSERT INTO invoices
    SELECT invoice_number, 'invoice', NULL, number_scope, seq, number_format, period, invoice_date, customer_id,
           customer_name, currency, billing_entity, net_minor, tax_minor, total_minor, po_number, method,
           group_key, item_count, created_at, 'legacy-v1', ''
    FROM invoices_v1;
INSERT INTO invoice_items
    SELECT invoice_number,
           CASE source_table {" ".join(f"WHEN '{t}' THEN '{k}:'" for t, k in _LEGACY_KINDS.items())}
                ELSE 'charge:' END || item_id,
           '', source_table, item_id, po_key, po_number, amount_minor, quantity, kind, item_date
    FROM invoice_items_v1;
INSERT OR IGNORE INTO item_claims
    SELECT it.item_key, it.invoice_number FROM invoice_items AS it
    WHERE NOT EXISTS (SELECT 1 FROM voids_v1 AS v WHERE v.invoice_number = it.invoice_number);
INSERT INTO voids SELECT invoice_number, voided_at, reason, NULL FROM voids_v1;
DROP TABLE invoice_items_v1;
DROP TABLE voids_v1;
DROP TABLE invoices_v1;
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def number_scope(number_format: str, period: Period) -> str:
    """The number format with everything but ``{seq}`` filled in; sequence numbers count per scope.

    ``INV-{yyyy}{mm}-{seq:04d}`` counts per month, ``INV-{seq:06d}`` across all periods: whichever
    the format, the same scope never gives the same number twice.
    """
    values = {"yyyy": f"{period.year:04d}", "mm": f"{period.month:02d}", "period": period.label}
    out = []
    has_seq = False
    try:
        for literal, field, spec, conversion in string.Formatter().parse(number_format):
            out.append(literal.replace("{", "{{").replace("}", "}}"))
            if field is None:
                continue
            if field == "seq":
                has_seq = True
                out.append(
                    "{seq" + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                )
            elif field in values:
                value = values[field]
                out.append(format(value, spec or "").replace("{", "{{").replace("}", "}}"))
            else:
                raise RegisterError(
                    f"invoice number format {number_format!r}: unknown field {{{field}}} "
                    "(use {yyyy}, {mm}, {period} and {seq})"
                )
        format_number(number_format, period, 1)
    except (ValueError, IndexError, KeyError) as exc:
        raise RegisterError(f"invoice number format {number_format!r} is not valid: {exc}") from None
    if not has_seq:
        raise RegisterError(
            f"invoice number format {number_format!r} has no {{seq}}: every number would be the same"
        )
    return "".join(out)


@dataclass(frozen=True)
class Run:
    """A recorded run: the folder its files go to, and whether they are in place yet."""

    run_id: str
    kind: str
    period: str
    out_dir: Path
    published: bool


class Register:
    """The invoice register at ``path`` (created when new). Use as a context manager."""

    def __init__(self, path: Path, *, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout
        if not self.path.parent.is_dir():
            raise RegisterError(
                f"cannot open the invoice register {self.path}: its folder {self.path.parent} does not exist"
            )
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise RegisterError(f"cannot open the invoice register {self.path}: {exc}") from exc
        try:
            with self._guard("opening it"):
                self._db.execute("PRAGMA foreign_keys = ON")
                # keep a final run's changes in memory until COMMIT, so other runs can read meanwhile
                self._db.execute("PRAGMA cache_spill = OFF")
            self._ensure_schema()
        except BaseException:
            self._db.close()
            raise

    # --- plumbing ---------------------------------------------------------------------------------

    def _error(self, exc: sqlite3.Error, doing: str) -> RegisterError:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return RegisterError(
                f"the invoice register {self.path} is locked by another run or program (waited "
                f"{self.timeout:g} s while {doing}); try again when it has finished"
            )
        if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
            return RegisterError(
                f"the invoice register {self.path} is not a readable SQLite database ({text}) while {doing}; "
                "restore it from a backup or point --register at the right file"
            )
        if isinstance(exc, sqlite3.OperationalError) and "readonly" in text.replace("-", "").replace(" ", ""):
            return RegisterError(
                f"the invoice register {self.path} cannot be written (read-only file or folder) while {doing}; "
                "check its permissions"
            )
        if isinstance(exc, sqlite3.OperationalError) and "unable to open" in text:
            return RegisterError(
                f"the invoice register {self.path} cannot be opened ({text}) while {doing}; "
                "check that its folder exists and can be written"
            )
        return RegisterError(f"invoice register {self.path}: {text} while {doing}")

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc, doing) from exc

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back when anything (even an interrupt) goes wrong."""
        with self._guard(doing):
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:
                # if even this fails the connection is going away, and SQLite rolls back on its own
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise
        with self._guard(f"committing after {doing}"):
            self._db.execute("COMMIT")

    def _ensure_schema(self) -> None:
        with self._guard("reading its version"):
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            app = self._db.execute("PRAGMA application_id").fetchone()[0]
        if version == SCHEMA_VERSION and app == _APPLICATION_ID:
            return
        if version in (0, 1):
            with self._transaction("creating its tables") as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]  # another run may have just made it
                app = db.execute("PRAGMA application_id").fetchone()[0]
                if version == 0:
                    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                    if tables:
                        raise RegisterError(
                            f"{self.path} is a SQLite database but not an invoice register "
                            f"(it has tables {', '.join(sorted(tables))})"
                        )
                    script = _TABLES_SQL
                elif version == 1 and app == _APPLICATION_ID:
                    script = _MIGRATE_V1_SQL
                else:
                    script = ""
                if script:
                    for statement in _statements(script + _TRIGGERS_SQL):  # not executescript: it commits
                        db.execute(statement)
                    db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    return
            with self._guard("reading its version"):
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                app = self._db.execute("PRAGMA application_id").fetchone()[0]
        if app != _APPLICATION_ID:
            raise RegisterError(f"{self.path} is a SQLite database but not an invoice register")
        if version != SCHEMA_VERSION:
            raise RegisterError(
                f"the invoice register {self.path} has schema version {version}; this program knows version "
                f"{SCHEMA_VERSION} (it was written by a newer or unknown version of the billing tools)"
            )

    def close(self) -> None:
        self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection, for modules that keep tables of their own in the register (``accounting_ledger``)."""
        return self._db

    def __enter__(self) -> Register:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- reading ----------------------------------------------------------------------------------

    def invoiced_items(self) -> set[str]:
        """The item keys (``kind:id``) of every item on an invoice that is not voided."""
        with self._guard("reading invoiced items"):
            rows = self._db.execute("SELECT item_key FROM item_claims").fetchall()
        return {str(r[0]) for r in rows}

    def previously_invoiced(self) -> pd.DataFrame:
        """One row per registered item on an invoice that is not voided (for the PO burn-down).

        Columns: ``po_key, po_number, customer_id, currency, amount_minor`` (int64), ``quantity``
        (decimal text), ``kind``, ``item_date`` (datetime64), ``period, invoice_number, source_table, item_id``.
        """
        query = """
            SELECT it.po_key, it.po_number, inv.customer_id, inv.currency, it.amount_minor, it.quantity,
                   it.kind, it.item_date, inv.period, it.invoice_number, it.source_table, it.item_id
            FROM item_claims AS c
            JOIN invoice_items AS it ON it.invoice_number = c.invoice_number AND it.item_key = c.item_key
            JOIN invoices AS inv ON inv.invoice_number = c.invoice_number
            ORDER BY it.rowid
        """
        with self._guard("reading earlier invoicing"):
            rows = self._db.execute(query).fetchall()
        columns = ["po_key", "po_number", "customer_id", "currency", "amount_minor", "quantity", "kind",
                   "item_date", "period", "invoice_number", "source_table", "item_id"]  # fmt: skip
        frame = pd.DataFrame(rows, columns=columns)
        for col in columns:
            if col not in ("amount_minor", "item_date"):
                frame[col] = frame[col].astype("str")
        frame["amount_minor"] = frame["amount_minor"].astype("int64")
        frame["item_date"] = pd.to_datetime(frame["item_date"], errors="coerce").astype("datetime64[ns]")
        return frame

    def invoices(self, period: str | None = None) -> pd.DataFrame:
        """Invoices and credit notes (of ``period``, or all) with ``doc_type``, ``credits``, ``status``
        (issued / voided), ``voided_at``, ``void_reason`` and ``credit_note``, in the order issued."""
        query = """
            SELECT inv.invoice_number, inv.doc_type, inv.credits, inv.period, inv.seq, inv.number_format,
                   inv.invoice_date, inv.customer_id, inv.customer_name, inv.currency, inv.billing_entity,
                   inv.net_minor, inv.tax_minor, inv.total_minor, inv.po_number, inv.method, inv.group_key,
                   inv.item_count, inv.created_at, inv.run_id,
                   CASE WHEN v.invoice_number IS NULL THEN 'issued' ELSE 'voided' END AS status,
                   v.voided_at, v.reason AS void_reason, v.credit_note
            FROM invoices AS inv LEFT JOIN voids AS v USING (invoice_number)
            WHERE ? IS NULL OR inv.period = ?
            ORDER BY inv.rowid
        """
        with self._guard("reading invoices"):
            cursor = self._db.execute(query, (period, period))
            rows = cursor.fetchall()
            columns = [d[0] for d in cursor.description]
        frame = pd.DataFrame(rows, columns=columns)
        for col in ("seq", "net_minor", "tax_minor", "total_minor", "item_count"):
            frame[col] = frame[col].astype("int64")
        for col in ("credits", "voided_at", "void_reason", "credit_note"):
            frame[col] = frame[col].fillna("").astype("str")
        return frame

    def document(self, invoice_number: str) -> Invoice:
        """The issued invoice or credit note as it was printed (``RegisterError`` when unknown)."""
        with self._guard(f"reading {invoice_number}"):
            row = self._db.execute(
                "SELECT document FROM invoices WHERE invoice_number = ?", (invoice_number,)
            ).fetchone()
        if row is None:
            raise RegisterError(f"there is no invoice {invoice_number!r} in the register {self.path}")
        if not row[0]:
            raise RegisterError(
                f"{invoice_number} was issued before the register kept documents (register version 1): "
                "it cannot be printed again from the register"
            )
        return from_json(_unpack(row[0]))

    def run_of(self, invoice_number: str) -> Run:
        """The run that issued an invoice or credit note."""
        with self._guard(f"reading the run of {invoice_number}"):
            row = self._db.execute(
                """SELECT r.run_id, r.kind, r.period, r.out_dir, p.run_id IS NOT NULL
                   FROM invoices AS i JOIN runs AS r USING (run_id) LEFT JOIN published AS p USING (run_id)
                   WHERE i.invoice_number = ?""",
                (invoice_number,),
            ).fetchone()
        if row is None:
            raise RegisterError(f"there is no invoice {invoice_number!r} in the register {self.path}")
        return Run(str(row[0]), str(row[1]), str(row[2]), Path(str(row[3])), bool(row[4]))

    def pending_runs(self) -> list[Run]:
        """Runs that committed but whose files were not all put in place (the process died in between)."""
        with self._guard("reading unfinished runs"):
            rows = self._db.execute(
                """SELECT r.run_id, r.kind, r.period, r.out_dir FROM runs AS r
                   WHERE NOT EXISTS (SELECT 1 FROM published AS p WHERE p.run_id = r.run_id)
                   ORDER BY r.rowid"""
            ).fetchall()
        return [Run(str(a), str(b), str(c), Path(str(d)), False) for a, b, c, d in rows]

    def run_documents(self, run_id: str) -> list[Invoice]:
        """The invoices and credit notes a run issued, as printed."""
        with self._guard(f"reading the documents of run {run_id}"):
            rows = self._db.execute(
                "SELECT document FROM invoices WHERE run_id = ? AND length(document) > 0 ORDER BY rowid",
                (run_id,),
            ).fetchall()
        return [from_json(_unpack(r[0])) for r in rows]

    def is_recorded(self, run_id: str) -> bool:
        with self._guard(f"looking up run {run_id}"):
            return self._db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None

    # --- writing ----------------------------------------------------------------------------------

    def mark_published(self, run_id: str) -> None:
        """Record that a run's files are all in place."""
        with self._transaction(f"marking run {run_id} done") as db:
            db.execute("INSERT OR IGNORE INTO published VALUES (?, ?)", (run_id, _now()))

    def finalise(
        self,
        invoice_set: InvoiceSet,
        number_format: str = DEFAULT_FORMAT,
        write: Callable[[InvoiceSet], dict[str, str] | None] = lambda _s: None,
        *,
        run_id: str = "",
        out_dir: Path | None = None,
    ) -> InvoiceSet:
        """Give the set its final numbers, record it with each invoice's document, and call ``write``
        with the renumbered set.

        All inside one ``BEGIN IMMEDIATE`` transaction (a concurrent run on the same file waits up to
        ``timeout``): numbers continue after the highest ever issued in the format's scope (voided
        invoices keep theirs); ``RegisterError`` and nothing recorded if any item is already on an
        invoice that is not voided. If ``write`` raises (or the run is interrupted) everything is
        rolled back: no number consumed, no item marked. Otherwise the transaction commits and the
        renumbered set is returned. The run (``run_id``, writing to ``out_dir``) is recorded too and
        stays pending until ``mark_published``. ``write`` may return each invoice's document
        (``snapshot.to_json``, made while writing the workbooks); those it does not are made here.
        """
        scope = number_scope(number_format, invoice_set.period)
        heads = invoice_set.invoices
        items = invoice_set.items
        run_id = run_id or f"run-{dt.datetime.now():%Y%m%dT%H%M%S%f}"
        with self._transaction("numbering invoices") as db:
            with self._guard("checking for items already invoiced"):
                self._refuse_taken(db, items)
                last = db.execute(
                    "SELECT MAX(seq) FROM invoices WHERE number_scope = ?", (scope,)
                ).fetchone()[0]
            start = int(last or 0) + 1
            numbers = [format_number(number_format, invoice_set.period, start + i) for i in range(len(heads))]
            final = renumber(invoice_set, numbers)
            documents = write(final) or {}
            if len(documents) < len(numbers):
                documents.update((r.invoice_number, to_json(r)) for r in final.records())
            with self._guard("recording invoices"):
                db.execute(
                    "INSERT INTO runs VALUES (?, 'invoices', ?, ?, ?)",
                    (run_id, invoice_set.period.label, str(out_dir or ""), _now()),
                )
                self._insert(db, final, documents, number_format, scope, start, run_id)
        return final

    def _refuse_taken(self, db: sqlite3.Connection, items: pd.DataFrame) -> None:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS candidate (item_key TEXT)")
        db.execute("DELETE FROM temp.candidate")
        keys = item_keys_of(items) + [k for k in _texts(items, "source_key") if k]
        db.executemany("INSERT INTO temp.candidate VALUES (?)", ((k,) for k in keys))
        taken = db.execute(
            """
            SELECT DISTINCT c.item_key, cl.invoice_number
            FROM temp.candidate AS c JOIN item_claims AS cl ON cl.item_key = c.item_key
            ORDER BY cl.invoice_number, c.item_key
            """
        ).fetchall()
        db.execute("DELETE FROM temp.candidate")
        if taken:
            examples = "; ".join(f"{k} on {n}" for k, n in taken[:5])
            more = f" and {len(taken) - 5} more" if len(taken) > 5 else ""
            raise RegisterError(
                f"{len(taken)} item(s) of this run are already on issued invoices in {self.path} "
                f"({examples}{more}): another run finalised them first. Nothing was numbered or recorded; "
                "re-run to invoice what is left."
            )

    def _insert(
        self,
        db: sqlite3.Connection,
        final: InvoiceSet,
        documents: dict[str, str],
        number_format: str,
        scope: str,
        start: int,
        run_id: str,
    ) -> None:
        heads = final.invoices
        now = _now()
        invoice_date = final.invoice_date.isoformat()
        period = final.period.label
        by_number = {number: _pack(text) for number, text in documents.items()}
        db.executemany(
            """
            INSERT INTO invoices (invoice_number, doc_type, credits, number_scope, seq, number_format, period,
                                  invoice_date, customer_id, customer_name, currency, billing_entity, net_minor,
                                  tax_minor, total_minor, po_number, method, group_key, item_count, created_at,
                                  run_id, document)
            VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                (str(h["invoice_number"]), "credit_note" if int(h["total_minor"]) < 0 else "invoice",
                 scope, start + i, number_format, period, invoice_date,
                 str(h["customer_id"]), _text(h.get("customer_name")), str(h["currency"]),
                 _text(h.get("billing_entity")), int(h["net_minor"]), int(h["tax_minor"]),
                 int(h["total_minor"]),
                 _text(h.get("po_number")), _text(h.get("method")), _text(h.get("group_key")),
                 int(h["item_count"]), now, run_id, by_number[str(h["invoice_number"])])
                for i, (_, h) in enumerate(heads.iterrows())
            ),
        )  # fmt: skip
        items = final.items
        dates = pd.to_datetime(items["item_date"], errors="coerce").dt.strftime("%Y-%m-%d").tolist()
        days = [d if isinstance(d, str) else None for d in dates]
        amounts = items["amount_minor"].astype("int64").tolist()
        numbers = _texts(items, "invoice_number")
        keys = item_keys_of(items)
        sources = _texts(items, "source_key")
        db.executemany(
            """
            INSERT INTO invoice_items (invoice_number, item_key, source_key, source_table, item_id, po_key,
                                       po_number, amount_minor, quantity, kind, item_date)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            zip(
                numbers, keys, sources, _texts(items, "source_table"), _texts(items, "item_id"),
                _texts(items, "po_key"), _texts(items, "po_number"), amounts, _texts(items, "quantity"),
                _texts(items, "kind"), days, strict=True,
            ),
        )  # fmt: skip
        db.executemany("INSERT INTO item_claims VALUES (?, ?)", zip(keys, numbers, strict=True))
        # the rows posted items came from: claimed once (two posted rows of one time entry both bill)
        db.executemany(
            "INSERT OR IGNORE INTO item_claims VALUES (?, ?)",
            ((k, n) for k, n in zip(sources, numbers, strict=True) if k),
        )

    def void(
        self,
        invoice_number: str,
        reason: str,
        *,
        today: dt.date,
        credit_note_format: str = CREDIT_NOTE_FORMAT,
        run_id: str = "",
        out_dir: Path | None = None,
        write: Callable[[Invoice], None] = lambda _cn: None,
    ) -> Invoice:
        """Void an issued invoice: issue the credit note that cancels it (next number of
        ``credit_note_format`` in the invoice's period), record the void with ``reason`` and the time,
        release its items, and call ``write`` with the credit note before committing. The invoice keeps
        its number and record. ``RegisterError`` if unknown, a credit note, or already voided."""
        if not str(reason).strip():
            raise RegisterError(f"voiding {invoice_number}: give a reason (it is recorded with the void)")
        run_id = run_id or f"void-{dt.datetime.now():%Y%m%dT%H%M%S%f}"
        with self._transaction(f"voiding {invoice_number}") as db:
            row = db.execute(
                "SELECT doc_type, period, document, run_id FROM invoices WHERE invoice_number = ?",
                (invoice_number,),
            ).fetchone()
            if row is None:
                raise RegisterError(f"there is no invoice {invoice_number!r} in the register {self.path}")
            doc_type, period, issuing_run = str(row[0]), str(row[1]), str(row[3])
            document = _unpack(row[2])
            if doc_type != "invoice":
                raise RegisterError(f"{invoice_number} is a credit note; credit notes are not voided")
            voided = db.execute(
                "SELECT voided_at, credit_note FROM voids WHERE invoice_number = ?", (invoice_number,)
            ).fetchone()
            if voided is not None:
                by = f" by credit note {voided[1]}" if voided[1] else ""
                raise RegisterError(f"invoice {invoice_number} was already voided on {voided[0]}{by}")
            if not document:
                raise RegisterError(
                    f"{invoice_number} was issued before the register kept documents: it cannot be "
                    "credited automatically; issue the credit note by hand"
                )
            original = from_json(document)
            the_period = Period.parse(period)
            scope = number_scope(credit_note_format, the_period)
            last = db.execute("SELECT MAX(seq) FROM invoices WHERE number_scope = ?", (scope,)).fetchone()[0]
            seq = int(last or 0) + 1
            number = format_number(credit_note_format, the_period, seq)
            credit = credit_note_for(original, number, today)
            if out_dir is None:
                out_row = db.execute("SELECT out_dir FROM runs WHERE run_id = ?", (issuing_run,)).fetchone()
                out_dir = Path(str(out_row[0])) if out_row and out_row[0] else Path()
            now = _now()
            with self._guard(f"recording the credit note for {invoice_number}"):
                db.execute(
                    "INSERT INTO runs VALUES (?, 'void', ?, ?, ?)", (run_id, period, str(out_dir), now)
                )
                db.execute(
                    """
                    INSERT INTO invoices (invoice_number, doc_type, credits, number_scope, seq, number_format,
                                          period, invoice_date, customer_id, customer_name, currency,
                                          billing_entity, net_minor, tax_minor, total_minor, po_number, method,
                                          group_key, item_count, created_at, run_id, document)
                    SELECT ?, 'credit_note', invoice_number, ?, ?, ?, period, ?, customer_id, customer_name,
                           currency, billing_entity, -net_minor, -tax_minor, -total_minor, po_number, method,
                           group_key, item_count, ?, ?, ?
                    FROM invoices WHERE invoice_number = ?
                    """,
                    (number, scope, seq, credit_note_format, today.isoformat(), now, run_id, _pack(to_json(credit)),
                     invoice_number),
                )  # fmt: skip
                db.execute(
                    """
                    INSERT INTO invoice_items
                    SELECT ?, item_key, source_key, source_table, item_id, po_key, po_number, -amount_minor,
                           quantity, kind, item_date
                    FROM invoice_items WHERE invoice_number = ?
                    """,
                    (number, invoice_number),
                )
                db.execute(
                    "INSERT INTO voids VALUES (?, ?, ?, ?)",
                    (invoice_number, now, str(reason).strip(), number),
                )
                db.execute("DELETE FROM item_claims WHERE invoice_number = ?", (invoice_number,))
            write(credit)
        return credit


def item_keys_of(items: pd.DataFrame) -> list[str]:
    """Each item's identity in the register: ``item_key`` where the frame has it, else table and id."""
    if "item_key" in items:
        keys = _texts(items, "item_key")
        if all(keys):
            return keys
    tables, ids = _texts(items, "source_table"), _texts(items, "item_id")
    return [f"{_LEGACY_KINDS.get(t, 'charge')}:{i}" for t, i in zip(tables, ids, strict=True)]


def _pack(document: str) -> bytes:
    """A document as the register stores it: JSON compressed (a month's documents shrink about tenfold)."""
    return zlib.compress(document.encode("utf-8"), 1)


def _unpack(stored: bytes | str | None) -> str:
    """The JSON text of a stored document ('' for invoices issued before documents were kept)."""
    if not stored:
        return ""
    return zlib.decompress(stored).decode("utf-8") if isinstance(stored, bytes) else str(stored)


def _statements(script: str) -> Iterator[str]:
    """The complete SQL statements of a script, one at a time."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value)


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    """A column as plain Python text ('' where missing); lists, as iterating a pandas column is slow."""
    if column not in frame:
        return [""] * len(frame)
    return [_text(v) for v in frame[column].tolist()]
