"""SPEC section 6: the invoice register, a SQLite file of issued invoice numbers and the items they took.

Final runs take their numbers here, gapless and unique per number format and period, inside one
``BEGIN IMMEDIATE`` transaction that also records every item and is committed only after the
run's outputs are in place: a failed or interrupted run consumes no numbers and marks no items, and
two runs on the same file are serialised (the second waits, then finds the first one's items taken).
Voiding an invoice keeps its record and number, records when and why, and releases its items.

The file uses SQLite's default rollback journal rather than WAL: registers often live on shared
network folders, where WAL does not work.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from .consolidate import InvoiceSet, format_number, renumber
from .errors import RegisterError
from .period import Period

DEFAULT_FORMAT = "INV-{yyyy}{mm}-{seq:04d}"
SCHEMA_VERSION = 1
_APPLICATION_ID = 0x42494C4C  # "BILL": marks the file as an invoice register

_SCHEMA = """
CREATE TABLE invoices (
    invoice_number TEXT PRIMARY KEY,
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
    status         TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'voided')),
    UNIQUE (number_scope, seq)
);
CREATE TABLE invoice_items (
    invoice_number TEXT NOT NULL REFERENCES invoices (invoice_number),
    source_table   TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    po_key         TEXT NOT NULL,
    po_number      TEXT NOT NULL,
    amount_minor   INTEGER NOT NULL,
    quantity       TEXT NOT NULL,      -- exact decimal text
    kind           TEXT NOT NULL,
    item_date      TEXT,               -- YYYY-MM-DD
    voided         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (invoice_number, source_table, item_id)
);
-- an item is on at most one invoice that is not voided
CREATE UNIQUE INDEX invoice_items_once ON invoice_items (source_table, item_id) WHERE voided = 0;
CREATE TABLE voids (
    invoice_number TEXT PRIMARY KEY REFERENCES invoices (invoice_number),
    voided_at      TEXT NOT NULL,
    reason         TEXT NOT NULL
);
"""
_TABLES = {"invoices", "invoice_items", "voids"}


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


class Register:
    """The invoice register at ``path`` (created when new). Use as a context manager."""

    def __init__(self, path: Path, *, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise RegisterError(f"cannot open the invoice register {self.path}: {exc}") from exc
        try:
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
        if version == 0:
            with self._transaction("creating its tables") as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]  # another run may have just made it
                if version == 0:
                    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                    if tables:
                        raise RegisterError(
                            f"{self.path} is a SQLite database but not an invoice register "
                            f"(it has tables {', '.join(sorted(tables))})"
                        )
                    for statement in _statements(_SCHEMA):  # not executescript: it would commit first
                        db.execute(statement)
                    db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    return
            with self._guard("reading its version"):
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

    def __enter__(self) -> Register:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- reading ----------------------------------------------------------------------------------

    def invoiced_items(self) -> set[tuple[str, str]]:
        """``(source_table, item_id)`` of every item on an invoice that is not voided."""
        with self._guard("reading invoiced items"):
            rows = self._db.execute(
                "SELECT source_table, item_id FROM invoice_items WHERE voided = 0"
            ).fetchall()
        return {(str(t), str(i)) for t, i in rows}

    def previously_invoiced(self) -> pd.DataFrame:
        """One row per registered item on an invoice that is not voided (for the PO burn-down).

        Columns: ``po_key, po_number, customer_id, currency, amount_minor`` (int64), ``quantity``
        (decimal text), ``kind``, ``item_date`` (datetime64), ``period, invoice_number``.
        """
        query = """
            SELECT it.po_key, it.po_number, inv.customer_id, inv.currency, it.amount_minor, it.quantity,
                   it.kind, it.item_date, inv.period, it.invoice_number
            FROM invoice_items AS it JOIN invoices AS inv USING (invoice_number)
            WHERE it.voided = 0
            ORDER BY it.rowid
        """
        with self._guard("reading earlier invoicing"):
            rows = self._db.execute(query).fetchall()
        columns = ["po_key", "po_number", "customer_id", "currency", "amount_minor", "quantity", "kind",
                   "item_date", "period", "invoice_number"]  # fmt: skip
        frame = pd.DataFrame(rows, columns=columns)
        for col in columns:
            if col not in ("amount_minor", "item_date"):
                frame[col] = frame[col].astype("str")
        frame["amount_minor"] = frame["amount_minor"].astype("int64")
        frame["item_date"] = pd.to_datetime(frame["item_date"], errors="coerce").astype("datetime64[ns]")
        return frame

    def invoices(self) -> pd.DataFrame:
        """All invoices with ``status`` (issued / voided), ``voided_at`` and ``void_reason``."""
        query = """
            SELECT inv.invoice_number, inv.period, inv.seq, inv.number_format, inv.invoice_date,
                   inv.customer_id, inv.customer_name, inv.currency, inv.billing_entity, inv.net_minor,
                   inv.tax_minor, inv.total_minor, inv.po_number, inv.method, inv.group_key, inv.item_count,
                   inv.created_at,
                   inv.status, v.voided_at, v.reason AS void_reason
            FROM invoices AS inv LEFT JOIN voids AS v USING (invoice_number)
            ORDER BY inv.created_at, inv.number_scope, inv.seq
        """
        with self._guard("reading invoices"):
            cursor = self._db.execute(query)
            rows = cursor.fetchall()
            columns = [d[0] for d in cursor.description]
        frame = pd.DataFrame(rows, columns=columns)
        for col in ("seq", "net_minor", "tax_minor", "total_minor", "item_count"):
            frame[col] = frame[col].astype("int64")
        for col in ("voided_at", "void_reason"):
            frame[col] = frame[col].fillna("").astype("str")
        return frame

    # --- writing ----------------------------------------------------------------------------------

    def finalise(
        self,
        invoice_set: InvoiceSet,
        number_format: str = DEFAULT_FORMAT,
        write: Callable[[InvoiceSet], None] = lambda _s: None,
    ) -> InvoiceSet:
        """Give the set its final numbers, record it, and call ``write`` with the renumbered set.

        All inside one ``BEGIN IMMEDIATE`` transaction (a concurrent run on the same file waits up to
        ``timeout``): numbers continue after the highest ever issued in the format's scope (voided
        invoices keep theirs); ``RegisterError`` and nothing recorded if any item is already on an
        invoice that is not voided. If ``write`` raises (or the run is interrupted) everything is
        rolled back: no number consumed, no item marked. Otherwise the transaction commits and the
        renumbered set is returned.
        """
        scope = number_scope(number_format, invoice_set.period)
        heads = invoice_set.invoices
        items = invoice_set.items
        with self._transaction("numbering invoices") as db:
            with self._guard("checking for items already invoiced"):
                self._refuse_taken(db, items)
                last = db.execute(
                    "SELECT MAX(seq) FROM invoices WHERE number_scope = ?", (scope,)
                ).fetchone()[0]
            start = int(last or 0) + 1
            numbers = [format_number(number_format, invoice_set.period, start + i) for i in range(len(heads))]
            final = renumber(invoice_set, numbers)
            with self._guard("recording invoices"):
                self._insert(db, final, number_format, scope, start)
            write(final)
        return final

    def _refuse_taken(self, db: sqlite3.Connection, items: pd.DataFrame) -> None:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS candidate (source_table TEXT, item_id TEXT)")
        db.execute("DELETE FROM temp.candidate")
        db.executemany(
            "INSERT INTO temp.candidate VALUES (?, ?)",
            zip(_texts(items, "source_table"), _texts(items, "item_id"), strict=True),
        )
        taken = db.execute(
            """
            SELECT c.source_table, c.item_id, it.invoice_number
            FROM temp.candidate AS c
            JOIN invoice_items AS it
              ON it.source_table = c.source_table AND it.item_id = c.item_id AND it.voided = 0
            ORDER BY it.invoice_number, c.source_table, c.item_id
            """
        ).fetchall()
        db.execute("DELETE FROM temp.candidate")
        if taken:
            examples = "; ".join(f"{t} {i} on {n}" for t, i, n in taken[:5])
            more = f" and {len(taken) - 5} more" if len(taken) > 5 else ""
            raise RegisterError(
                f"{len(taken)} item(s) of this run are already on issued invoices in {self.path} "
                f"({examples}{more}): another run finalised them first. Nothing was numbered or recorded; "
                "re-run to invoice what is left."
            )

    def _insert(
        self, db: sqlite3.Connection, final: InvoiceSet, number_format: str, scope: str, start: int
    ) -> None:
        heads = final.invoices
        now = _now()
        invoice_date = final.invoice_date.isoformat()
        period = final.period.label
        db.executemany(
            """
            INSERT INTO invoices (invoice_number, number_scope, seq, number_format, period, invoice_date,
                                  customer_id, customer_name, currency, billing_entity, net_minor, tax_minor,
                                  total_minor, po_number, method, group_key, item_count, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                (str(h["invoice_number"]), scope, start + i, number_format, period, invoice_date,
                 str(h["customer_id"]), _text(h.get("customer_name")), str(h["currency"]),
                 _text(h.get("billing_entity")), int(h["net_minor"]), int(h["tax_minor"]),
                 int(h["total_minor"]),
                 _text(h.get("po_number")), _text(h.get("method")), _text(h.get("group_key")),
                 int(h["item_count"]), now)
                for i, (_, h) in enumerate(heads.iterrows())
            ),
        )  # fmt: skip
        items = final.items
        dates = pd.to_datetime(items["item_date"], errors="coerce").dt.strftime("%Y-%m-%d").tolist()
        days = [d if isinstance(d, str) else None for d in dates]
        amounts = items["amount_minor"].astype("int64").tolist()
        db.executemany(
            """
            INSERT INTO invoice_items (invoice_number, source_table, item_id, po_key, po_number, amount_minor,
                                       quantity, kind, item_date)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            zip(
                _texts(items, "invoice_number"), _texts(items, "source_table"), _texts(items, "item_id"),
                _texts(items, "po_key"), _texts(items, "po_number"), amounts, _texts(items, "quantity"),
                _texts(items, "kind"), days, strict=True,
            ),
        )  # fmt: skip

    def void(self, invoice_number: str, reason: str) -> None:
        """Void an issued invoice: it keeps its number and record, the void is recorded with ``reason`` and
        the time, and its items may be invoiced again. ``RegisterError`` if unknown or already voided."""
        if not str(reason).strip():
            raise RegisterError(f"voiding {invoice_number}: give a reason (it is recorded with the void)")
        with self._transaction(f"voiding {invoice_number}") as db:
            row = db.execute(
                "SELECT status FROM invoices WHERE invoice_number = ?", (invoice_number,)
            ).fetchone()
            if row is None:
                raise RegisterError(f"there is no invoice {invoice_number!r} in the register {self.path}")
            if row[0] == "voided":
                voided_at = db.execute(
                    "SELECT voided_at FROM voids WHERE invoice_number = ?", (invoice_number,)
                ).fetchone()
                when = f" on {voided_at[0]}" if voided_at else ""
                raise RegisterError(f"invoice {invoice_number} was already voided{when}")
            db.execute("UPDATE invoices SET status = 'voided' WHERE invoice_number = ?", (invoice_number,))
            db.execute("UPDATE invoice_items SET voided = 1 WHERE invoice_number = ?", (invoice_number,))
            db.execute(
                "INSERT INTO voids (invoice_number, voided_at, reason) VALUES (?, ?, ?)",
                (invoice_number, _now(), str(reason).strip()),
            )


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
