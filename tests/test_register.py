"""SPEC section 6: the invoice register — gapless unique numbers, nothing consumed by a failed run,
no item billed twice (not even by two runs at once), voids recorded, and clear errors for a
corrupt, foreign or locked file.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from billing_lib.core.consolidate import InvoiceSet, consolidate
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import prepare_items
from billing_lib.domain.errors import RegisterError
from billing_lib.domain.period import Period
from billing_lib.io.inputs import load_inputs
from billing_lib.io.register import DEFAULT_FORMAT, Register, number_scope

COMPANIES = """
    id,companyName,currencyCode,taxRate
    101,Contoso Logistics GmbH,EUR,19
    102,Fabrikam B.V.,EUR,21
"""
CONTRACTS = """
    id,contractName,companyID,purchaseOrderNumber
    501,Managed services,101,PO-1001
    502,Hardware,101,PO-2002
    503,Support,102,
"""
OCTOBER = """
    id,itemDate,companyID,contractID,description,quantity,rate,extendedPrice,invoiceID
    1,2026-10-03,101,501,VPN outage,3.175,100,386.645,0
    2,2026-10-04,101,502,Docking station,2,150,300,0
    3,2026-10-05,102,503,Password reset,1,100,100,0
    4,2026-10-06,102,503,Onsite visit,-1,50,-50,0
"""
LATE_OCTOBER = """
    id,itemDate,companyID,contractID,description,quantity,rate,extendedPrice,invoiceID
    11,2026-10-28,101,501,Firewall rules,1,100,100,0
    12,2026-10-29,102,503,New laptop set-up,2,100,200,0
"""
NOVEMBER = """
    id,itemDate,companyID,contractID,description,quantity,rate,extendedPrice,invoiceID
    21,2026-11-02,101,501,Backup restore,1,100,100,0
"""


def month(
    folder: Path, items: str = OCTOBER, period: str = "2026-10", method: str = "po_number"
) -> InvoiceSet:
    """The consolidated month of a BillingItems CSV block (customers and contracts above)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("BillingItems", items), ("Companies", COMPANIES), ("Contracts", CONTRACTS)):
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, Period.parse(period))
    prep, _ = check_pos(prep, reference_table(inputs.table("po_budgets")))
    return consolidate(
        prep,
        method,
        invoice_date=dt.date(2026, 11, 3),
        billing_groups=inputs.table("billing_groups"),
        billing_entities=inputs.table("billing_entities"),
    )


def nothing(_s: InvoiceSet) -> None:
    return None


def items_of(s: InvoiceSet) -> set[str]:
    """The register's identity of each item: its kind and id."""
    return set(s.items["item_key"])


def test_numbers_are_gapless_across_runs_and_restart_per_period(tmp_path: Path) -> None:
    october, late, november = (month(tmp_path / n, t, p) for n, t, p in
                               (("oct", OCTOBER, "2026-10"), ("late", LATE_OCTOBER, "2026-10"),
                                ("nov", NOVEMBER, "2026-11")))  # fmt: skip
    assert len(october.invoices) == 3
    with Register(tmp_path / "register.sqlite") as register:
        first = register.finalise(october, DEFAULT_FORMAT, nothing)
        second = register.finalise(late, DEFAULT_FORMAT, nothing)
        third = register.finalise(november, DEFAULT_FORMAT, nothing)
        numbers = list(first.invoices["invoice_number"]) + list(second.invoices["invoice_number"])
        assert numbers == [f"INV-202610-{i:04d}" for i in range(1, 6)]
        assert list(third.invoices["invoice_number"]) == ["INV-202611-0001"]
        assert set(first.items["invoice_number"]) == set(
            first.invoices["invoice_number"]
        )  # items renumbered too
        assert list(register.invoices()["invoice_number"]) == [*numbers, "INV-202611-0001"]
        assert register.invoiced_items() == items_of(october) | items_of(late) | items_of(november)


def test_a_format_without_period_counts_across_periods(tmp_path: Path) -> None:
    with Register(tmp_path / "register.sqlite") as register:
        a = register.finalise(month(tmp_path / "oct"), "F{seq:05d}", nothing)
        b = register.finalise(month(tmp_path / "nov", NOVEMBER, "2026-11"), "F{seq:05d}", nothing)
    assert list(a.invoices["invoice_number"]) + list(b.invoices["invoice_number"]) == [
        "F00001", "F00002", "F00003", "F00004"]  # fmt: skip
    assert number_scope("INV-{yyyy}{mm}-{seq:04d}", Period.parse("2026-10")) == "INV-202610-{seq:04d}"
    with pytest.raises(RegisterError, match=r"has no \{seq\}"):
        number_scope("INV-{yyyy}{mm}", Period.parse("2026-10"))
    with pytest.raises(RegisterError, match=r"unknown field \{customer\}"):
        number_scope("{customer}-{seq}", Period.parse("2026-10"))


def test_write_sees_the_final_numbers_and_the_commit_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    seen: list[list[str]] = []

    def write(final: InvoiceSet) -> None:
        seen.append(list(final.invoices["invoice_number"]))
        with Register(path, timeout=0.2) as other:  # not committed yet: another reader sees nothing
            assert other.invoiced_items() == set()

    with Register(path) as register:
        final = register.finalise(month(tmp_path / "in"), DEFAULT_FORMAT, write)
        assert seen == [list(final.invoices["invoice_number"])]
        assert len(register.invoiced_items()) == 4


def test_a_failing_write_consumes_no_numbers_and_marks_no_items(tmp_path: Path) -> None:
    s = month(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()

    def write_then_fail(final: InvoiceSet) -> None:
        for number in final.invoices["invoice_number"][:2]:
            (out / f"{number}.xlsx").write_bytes(b"half a run")
        raise OSError("disk full")

    with Register(tmp_path / "register.sqlite") as register:
        with pytest.raises(OSError, match="disk full"):
            register.finalise(s, DEFAULT_FORMAT, write_then_fail)
        assert register.invoices().empty and register.invoiced_items() == set()
        assert register.previously_invoiced().empty
        final = register.finalise(s, DEFAULT_FORMAT, nothing)
    assert list(final.invoices["invoice_number"]) == ["INV-202610-0001", "INV-202610-0002", "INV-202610-0003"]


def test_an_interrupted_write_rolls_back_too(tmp_path: Path) -> None:
    def interrupted(_final: InvoiceSet) -> None:
        raise KeyboardInterrupt

    with Register(tmp_path / "register.sqlite") as register:
        with pytest.raises(KeyboardInterrupt):
            register.finalise(month(tmp_path / "in"), DEFAULT_FORMAT, interrupted)
        assert register.invoices().empty


def test_finalising_the_same_items_again_is_refused(tmp_path: Path) -> None:
    s = month(tmp_path / "in")
    called = []
    with Register(tmp_path / "register.sqlite") as register:
        register.finalise(s, DEFAULT_FORMAT, nothing)
        before = register.invoices()
        with pytest.raises(RegisterError, match=r"4 item\(s\) .* already on issued invoices .*re-run"):
            register.finalise(s, DEFAULT_FORMAT, called.append)
        pd.testing.assert_frame_equal(register.invoices(), before)
    assert called == []


def _finalise_in_process(path: str, s: InvoiceSet, barrier: Any, results: Any) -> None:
    """A second billing run: wait for the other, then finalise with a slow write."""

    def slow_write(final: InvoiceSet) -> None:
        time.sleep(0.5)  # the other run tries to start while this one holds the register

    try:
        with Register(Path(path), timeout=30) as register:
            barrier.wait()
            final = register.finalise(s, DEFAULT_FORMAT, slow_write)
        results.put(("ok", list(final.invoices["invoice_number"])))
    except RegisterError as exc:
        results.put(("refused", str(exc)))


def _run_two(path: Path, a: InvoiceSet, b: InvoiceSet) -> list[tuple[str, Any]]:
    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    barrier, results = ctx.Barrier(2), ctx.Queue()
    runs = [ctx.Process(target=_finalise_in_process, args=(str(path), s, barrier, results)) for s in (a, b)]
    for run in runs:
        run.start()
    out = [results.get(timeout=60) for _ in runs]
    for run in runs:
        run.join(timeout=60)
        assert run.exitcode == 0
    return out


def _items_on_two_invoices(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT COUNT(*) FROM (SELECT it.item_key FROM invoice_items AS it JOIN invoices AS i "
            "USING (invoice_number) WHERE i.doc_type = 'invoice' AND NOT EXISTS "
            "(SELECT 1 FROM voids AS v WHERE v.invoice_number = i.invoice_number) "
            "GROUP BY it.item_key HAVING COUNT(*) > 1)"
        ).fetchone()[0]


def test_two_concurrent_runs_get_distinct_gapless_numbers(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    Register(path).close()
    a, b = month(tmp_path / "a"), month(tmp_path / "b", LATE_OCTOBER)
    results = _run_two(path, a, b)
    assert [kind for kind, _ in results] == ["ok", "ok"]
    numbers = [n for _, got in results for n in got]
    assert sorted(numbers) == [f"INV-202610-{i:04d}" for i in range(1, 6)]  # distinct, no gap
    with Register(path) as register:
        assert register.invoiced_items() == items_of(a) | items_of(b)
    assert _items_on_two_invoices(path) == 0


def test_two_concurrent_runs_of_the_same_items_bill_them_once(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    Register(path).close()
    s = month(tmp_path / "in")
    results = sorted(_run_two(path, s, s))
    assert [kind for kind, _ in results] == ["ok", "refused"]
    assert "already on issued invoices" in results[1][1] and "re-run" in results[1][1]
    assert results[0][1] == ["INV-202610-0001", "INV-202610-0002", "INV-202610-0003"]
    with Register(path) as register:
        assert len(register.invoices()) == 3
    assert _items_on_two_invoices(path) == 0


def test_void_releases_the_items_issues_a_credit_note_and_is_recorded(tmp_path: Path) -> None:
    s = month(tmp_path / "in")
    written = []
    with Register(tmp_path / "register.sqlite") as register:
        final = register.finalise(s, DEFAULT_FORMAT, nothing)
        target = "INV-202610-0001"
        released = set(final.items.loc[final.items["invoice_number"] == target, "item_key"])
        assert released and released <= register.invoiced_items()
        original = register.document(target)
        credit = register.void(
            target, "wrong PO on the contract", today=dt.date(2026, 11, 20), write=written.append
        )
        assert written == [credit]
        assert credit.invoice_number == "CN-202610-0001" and credit.credits == target
        assert credit.total == -original.total and credit.net == -original.net and credit.is_credit_note
        assert [x.amount for x in credit.lines] == [-x.amount for x in original.lines]
        assert register.document("CN-202610-0001") == credit  # kept to print it again
        assert register.invoiced_items() == items_of(final) - released
        assert target not in set(register.previously_invoiced()["invoice_number"])
        frame = register.invoices().set_index("invoice_number")
        row = frame.loc[target]
        assert row["status"] == "voided" and row["void_reason"] == "wrong PO on the contract"
        assert row["credit_note"] == "CN-202610-0001"
        assert frame.loc["CN-202610-0001", "doc_type"] == "credit_note"
        assert frame.loc["CN-202610-0001", "total_minor"] == -frame.loc[target, "total_minor"]
        assert dt.datetime.fromisoformat(row["voided_at"]).date() == dt.datetime.now(dt.UTC).date()
        assert (register.invoices()["status"] == "issued").sum() == 3  # two invoices and the credit note
        with pytest.raises(RegisterError, match="already voided"):
            register.void(target, "again", today=dt.date(2026, 11, 20))
        with pytest.raises(RegisterError, match="is a credit note"):
            register.void("CN-202610-0001", "undo", today=dt.date(2026, 11, 20))
        with pytest.raises(RegisterError, match="no invoice 'INV-999'"):
            register.void("INV-999", "typo", today=dt.date(2026, 11, 20))
        with pytest.raises(RegisterError, match="give a reason"):
            register.void("INV-202610-0002", "  ", today=dt.date(2026, 11, 20))
        # the released items can be invoiced again, under a new number: the voided one is not reused
        again = s.items[s.items["invoice_number"] == s.invoices["invoice_number"].iloc[0]]
        redo = InvoiceSet(s.period, s.invoices.iloc[:1], again, s.excluded, s.companies, s.entities,
                          s.invoice_date)  # fmt: skip
        assert list(register.finalise(redo, DEFAULT_FORMAT, nothing).invoices["invoice_number"]) == [
            "INV-202610-0004"]  # fmt: skip


def test_a_failed_void_issues_no_credit_note_and_releases_nothing(tmp_path: Path) -> None:
    with Register(tmp_path / "register.sqlite") as register:
        final = register.finalise(month(tmp_path / "in"), DEFAULT_FORMAT, nothing)

        def fail(_credit: object) -> None:
            raise OSError("disk full (injected)")

        with pytest.raises(OSError, match="injected"):
            register.void("INV-202610-0001", "wrong PO", today=dt.date(2026, 11, 20), write=fail)
        assert register.invoiced_items() == items_of(final)
        assert set(register.invoices()["status"]) == {"issued"} and len(register.invoices()) == 3


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoices SET total_minor = 0",
        "DELETE FROM invoices",
        "UPDATE invoice_items SET amount_minor = 1",
        "DELETE FROM invoice_items",
        "DELETE FROM item_claims",
        "UPDATE item_claims SET invoice_number = 'X'",
        "DELETE FROM runs",
        "DELETE FROM voids",
    ],
)
def test_issued_invoices_are_immutable_whoever_asks(tmp_path: Path, statement: str) -> None:
    """SQLite triggers refuse changes from any program, not only from this one."""
    path = tmp_path / "register.sqlite"
    with Register(path) as register:
        register.finalise(month(tmp_path / "in"), DEFAULT_FORMAT, nothing)
        register.void("INV-202610-0002", "test", today=dt.date(2026, 11, 20))
        before = register.invoices()
    with (
        sqlite3.connect(path) as db,
        pytest.raises(sqlite3.IntegrityError, match=r"immutable|released only|changed only"),
    ):
        db.execute(statement)
    with Register(path) as register:
        pd.testing.assert_frame_equal(register.invoices(), before)


def test_a_version_1_register_is_migrated_with_its_invoices_claims_and_voids(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    v1 = textwrap.dedent(
        """
        CREATE TABLE invoices (invoice_number TEXT PRIMARY KEY, number_scope TEXT NOT NULL, seq INTEGER NOT NULL,
            number_format TEXT NOT NULL, period TEXT NOT NULL, invoice_date TEXT NOT NULL, customer_id TEXT NOT NULL,
            customer_name TEXT NOT NULL, currency TEXT NOT NULL, billing_entity TEXT NOT NULL,
            net_minor INTEGER NOT NULL, tax_minor INTEGER NOT NULL, total_minor INTEGER NOT NULL,
            po_number TEXT NOT NULL, method TEXT NOT NULL, group_key TEXT NOT NULL, item_count INTEGER NOT NULL,
            created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'issued', UNIQUE (number_scope, seq));
        CREATE TABLE invoice_items (invoice_number TEXT NOT NULL, source_table TEXT NOT NULL, item_id TEXT NOT NULL,
            po_key TEXT NOT NULL, po_number TEXT NOT NULL, amount_minor INTEGER NOT NULL, quantity TEXT NOT NULL,
            kind TEXT NOT NULL, item_date TEXT, voided INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (invoice_number, source_table, item_id));
        CREATE UNIQUE INDEX invoice_items_once ON invoice_items (source_table, item_id) WHERE voided = 0;
        CREATE TABLE voids (invoice_number TEXT PRIMARY KEY, voided_at TEXT NOT NULL, reason TEXT NOT NULL);
        INSERT INTO invoices VALUES ('INV-202609-0001', 'INV-202609-{seq:04d}', 1, 'INV-{yyyy}{mm}-{seq:04d}',
            '2026-09', '2026-10-01', '101', 'Contoso', 'EUR', '', 10000, 1900, 11900, 'PO-1', 'po_number', 'PO-1',
            2, '2026-10-01T00:00:00+00:00', 'issued');
        INSERT INTO invoices VALUES ('INV-202609-0002', 'INV-202609-{seq:04d}', 2, 'INV-{yyyy}{mm}-{seq:04d}',
            '2026-09', '2026-10-01', '102', 'Fabrikam', 'EUR', '', 500, 0, 500, '', 'po_number', '',
            1, '2026-10-01T00:00:00+00:00', 'voided');
        INSERT INTO invoice_items VALUES ('INV-202609-0001', 'ticket_charges', '501', 'po-1', 'PO-1', 5000, '1',
            'charge', '2026-09-03', 0);
        INSERT INTO invoice_items VALUES ('INV-202609-0001', 'time_entries', '77', 'po-1', 'PO-1', 5000, '1',
            'labour', '2026-09-04', 0);
        INSERT INTO invoice_items VALUES ('INV-202609-0002', 'billing_items', '9', '', '', 500, '1',
            'charge', '2026-09-05', 1);
        INSERT INTO voids VALUES ('INV-202609-0002', '2026-10-02T00:00:00+00:00', 'typo');
        PRAGMA application_id = 1112099916;
        PRAGMA user_version = 1;
        """
    )
    with sqlite3.connect(path) as db:
        db.executescript(v1)
    with Register(path) as register:
        assert register.invoiced_items() == {"ticket_charge:501", "time_entry:77"}
        frame = register.invoices().set_index("invoice_number")
        assert frame.loc["INV-202609-0002", "status"] == "voided"
        assert frame.loc["INV-202609-0001", "total_minor"] == 11900
        with pytest.raises(RegisterError, match="before the register kept documents"):
            register.document("INV-202609-0001")
        assert int(register.previously_invoiced()["amount_minor"].sum()) == 10000
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM invoices")


def test_previously_invoiced_has_one_typed_row_per_item(tmp_path: Path) -> None:
    with Register(tmp_path / "register.sqlite") as register:
        empty = register.previously_invoiced()
        register.finalise(month(tmp_path / "in"), DEFAULT_FORMAT, nothing)
        frame = register.previously_invoiced()
    assert list(empty.columns) == list(frame.columns) == [
        "po_key", "po_number", "customer_id", "currency", "amount_minor", "quantity", "kind", "item_date",
        "period", "invoice_number", "source_table", "item_id"]  # fmt: skip
    assert frame["amount_minor"].dtype == "int64" and sorted(frame["amount_minor"]) == [
        -5000,
        10000,
        30000,
        38665,
    ]
    first = frame.sort_values("amount_minor").iloc[-1]
    assert (first["po_key"], first["po_number"], first["quantity"], first["customer_id"]) == (
        "po-1001",
        "PO-1001",
        "3.175",
        "101",
    )
    assert first["item_date"] == pd.Timestamp("2026-10-03") and first["period"] == "2026-10"


def test_a_corrupt_register_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    path.write_bytes(b"\x00garbage, not a database\xff" * 200)
    with pytest.raises(RegisterError, match="not a readable SQLite database") as info:
        Register(path)
    assert str(path) in str(info.value)


def test_a_foreign_or_newer_database_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE customers (id TEXT)")
    with pytest.raises(RegisterError, match="not an invoice register"):
        Register(foreign)
    newer = tmp_path / "newer.sqlite"
    Register(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(RegisterError, match="schema version 99") as info:
        Register(newer)
    assert str(newer) in str(info.value)


def test_a_locked_register_is_a_clear_error_within_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    Register(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(RegisterError, match="locked") as info:
            Register(path, timeout=0.3)
        assert time.monotonic() - started < 5
        assert str(path) in str(info.value)
        holder.execute("ROLLBACK")
        holder.execute("BEGIN IMMEDIATE")  # another run is writing: reading works, numbering waits
        with Register(path, timeout=0.3) as register:
            assert register.invoiced_items() == set()
            with pytest.raises(RegisterError, match="locked"):
                register.finalise(month(tmp_path / "in"), DEFAULT_FORMAT, nothing)
    finally:
        holder.close()
    with Register(path) as register:
        assert register.invoices().empty


def test_a_register_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RegisterError, match="cannot open the invoice register"):
        Register(tmp_path / "no" / "such" / "register.sqlite")
