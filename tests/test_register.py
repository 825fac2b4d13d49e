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

from billing_lib.consolidate import InvoiceSet, consolidate
from billing_lib.errors import RegisterError
from billing_lib.inputs import load_inputs
from billing_lib.period import Period
from billing_lib.po import check_pos, reference_table
from billing_lib.register import DEFAULT_FORMAT, Register, number_scope
from billing_lib.rules import prepare_items

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
    check_pos(prep, reference_table(inputs.table("po_budgets")))
    return consolidate(prep, method, invoice_date=dt.date(2026, 11, 3))


def nothing(_s: InvoiceSet) -> None:
    return None


def items_of(s: InvoiceSet) -> set[tuple[str, str]]:
    return set(zip(s.items["source_table"], s.items["item_id"], strict=True))


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
            "SELECT COUNT(*) FROM (SELECT source_table, item_id FROM invoice_items WHERE voided = 0 "
            "GROUP BY source_table, item_id HAVING COUNT(*) > 1)"
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


def test_void_releases_the_items_and_is_recorded(tmp_path: Path) -> None:
    s = month(tmp_path / "in")
    with Register(tmp_path / "register.sqlite") as register:
        final = register.finalise(s, DEFAULT_FORMAT, nothing)
        target = "INV-202610-0001"
        released = set(zip(*(final.items.loc[final.items["invoice_number"] == target, c]
                              for c in ("source_table", "item_id")), strict=True))  # fmt: skip
        assert released and released <= register.invoiced_items()
        register.void(target, "wrong PO on the contract")
        assert register.invoiced_items() == items_of(final) - released
        assert target not in set(register.previously_invoiced()["invoice_number"])
        row = register.invoices().set_index("invoice_number").loc[target]
        assert row["status"] == "voided" and row["void_reason"] == "wrong PO on the contract"
        assert dt.datetime.fromisoformat(row["voided_at"]).date() == dt.datetime.now(dt.UTC).date()
        assert (register.invoices()["status"] == "issued").sum() == 2
        with pytest.raises(RegisterError, match="already voided"):
            register.void(target, "again")
        with pytest.raises(RegisterError, match="no invoice 'INV-999'"):
            register.void("INV-999", "typo")
        with pytest.raises(RegisterError, match="give a reason"):
            register.void("INV-202610-0002", "  ")
        # the released items can be invoiced again, under a new number: the voided one is not reused
        again = s.items[s.items["invoice_number"] == s.invoices["invoice_number"].iloc[0]]
        redo = InvoiceSet(s.period, s.invoices.iloc[:1], again, s.excluded, [], s.companies, s.entities,
                          s.invoice_date)  # fmt: skip
        assert list(register.finalise(redo, DEFAULT_FORMAT, nothing).invoices["invoice_number"]) == [
            "INV-202610-0004"]  # fmt: skip


def test_previously_invoiced_has_one_typed_row_per_item(tmp_path: Path) -> None:
    with Register(tmp_path / "register.sqlite") as register:
        empty = register.previously_invoiced()
        register.finalise(month(tmp_path / "in"), DEFAULT_FORMAT, nothing)
        frame = register.previously_invoiced()
    assert list(empty.columns) == list(frame.columns) == [
        "po_key", "po_number", "customer_id", "currency", "amount_minor", "quantity", "kind", "item_date",
        "period", "invoice_number"]  # fmt: skip
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
