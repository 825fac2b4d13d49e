"""Crash safety by fault injection: the real ``billing`` command killed (SIGKILL) at every named point of a
final run, and at random instants, then the state on disk and in the register checked, before and after
the next run.

The guarantee (SPEC sections 5 and 6): at any instant, nothing that is not recorded in the register looks
issued; after the next run, every issued invoice and credit note has its file, no file exists that the
register does not know, no staging folder is left, and no item is on two standing invoices.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from billing_lib.io.faults import POINTS
from billing_lib.io.register import Register
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import run_invoice, void_invoice

BILLING = [sys.executable, "-m", "billing_lib.run.cli"]


def billing(*argv: str, fault: str = "", cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BILLING_FAULT": fault, "BILLING_OUTPUTS": str(cwd / "outputs")}
    return subprocess.run([*BILLING, *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def invoice(month: Path, tmp: Path, fault: str = "") -> subprocess.CompletedProcess[str]:
    return billing(
        "invoice", "--inputs", str(month), "--period", "2026-10", "--out", str(tmp / "out"),
        "--register", str(tmp / "register.sqlite"), fault=fault, cwd=tmp,
    )  # fmt: skip


def registered(tmp: Path) -> set[str]:
    with Register(tmp / "register.sqlite") as register:
        return set(register.invoices()["invoice_number"])


def files(tmp: Path) -> set[str]:
    folder = tmp / "out" / "invoices"
    return {p.stem for p in folder.glob("*.xlsx")} if folder.exists() else set()


def stages(tmp: Path) -> list[Path]:
    return sorted((tmp / "out").glob(".partial-*"))


def items_on_two_standing_invoices(tmp: Path) -> int:
    with sqlite3.connect(tmp / "register.sqlite") as db:
        return db.execute(
            """SELECT COUNT(*) FROM (SELECT it.item_key FROM invoice_items AS it JOIN invoices AS i
               USING (invoice_number) WHERE i.doc_type = 'invoice' AND NOT EXISTS
               (SELECT 1 FROM voids AS v WHERE v.invoice_number = i.invoice_number)
               GROUP BY it.item_key HAVING COUNT(*) > 1)"""
        ).fetchone()[0]


def assert_consistent(tmp: Path) -> None:
    """What must hold after a run that follows a crash."""
    assert files(tmp) == registered(tmp)
    assert stages(tmp) == []
    assert items_on_two_standing_invoices(tmp) == 0
    manifest = json.loads((tmp / "out" / "manifest.json").read_text())
    assert manifest["draft"] is False


@pytest.fixture(scope="module")
def issued_template(sample_month: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A period issued once, then one invoice voided: the next final run has exactly one invoice to issue."""
    tmp = tmp_path_factory.mktemp("issued")
    opts = RunOptions(
        inputs=sample_month, period="2026-10", out=tmp / "out", register=tmp / "register.sqlite"
    )
    run_invoice(opts)
    void_invoice("INV-202610-0002", "wrong PO", tmp / "register.sqlite")
    return tmp


@pytest.fixture()
def issued_once(issued_template: Path, tmp_path: Path) -> tuple[Path, set[str]]:
    """A copy of ``issued_template`` of this test's own (the register's run folders point at the copy)."""
    shutil.copytree(issued_template, tmp_path, dirs_exist_ok=True)
    with sqlite3.connect(tmp_path / "register.sqlite") as db:  # runs record their folder: make it this copy's
        db.execute("DROP TRIGGER runs_no_update")
        db.execute("UPDATE runs SET out_dir = replace(out_dir, ?, ?)", (str(issued_template), str(tmp_path)))
    assert files(tmp_path) == registered(tmp_path) and "CN-202610-0001" in files(tmp_path)
    return tmp_path, registered(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_any_point_is_issued_and_recorded_or_untouched(
    sample_month: Path, issued_once: tuple[Path, set[str]], point: str
) -> None:
    tmp, before = issued_once
    contents = {p.name: p.read_bytes() for p in (tmp / "out" / "invoices").iterdir()}
    killed = invoice(sample_month, tmp, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # at the instant of the crash: nothing looks issued that the register does not know
    assert files(tmp) <= registered(tmp)
    # ... and nothing issued before was touched
    assert {n: (tmp / "out" / "invoices" / n).read_bytes() for n in contents} == contents
    committed = point not in ("staged",)
    assert registered(tmp) == (before | {"INV-202610-0013"} if committed else before), point

    after = invoice(sample_month, tmp)
    assert after.returncode == 0, after.stderr
    assert "interrupted run" in after.stderr  # the next run says what it found and did
    assert_consistent(tmp)
    # whichever side of the commit it died on, the released items end up on exactly one new invoice
    assert registered(tmp) == before | {"INV-202610-0013"}
    with Register(tmp / "register.sqlite") as register:
        assert not register.pending_runs()


@pytest.mark.slow
def test_runs_killed_at_random_instants_never_leave_a_half_issued_month(
    sample_month: Path, issued_once: tuple[Path, set[str]]
) -> None:
    tmp, before = issued_once
    rng = random.Random(2026)
    for _ in range(4):
        env = {**os.environ, "BILLING_OUTPUTS": str(tmp / "outputs")}
        proc = subprocess.Popen(
            [*BILLING, "invoice", "--inputs", str(sample_month), "--period", "2026-10", "--out", str(tmp / "out"),
             "--register", str(tmp / "register.sqlite")],
            env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert files(tmp) <= registered(tmp)
        assert items_on_two_standing_invoices(tmp) == 0
    final = invoice(sample_month, tmp)
    assert final.returncode == 0, final.stderr
    assert_consistent(tmp)
    assert registered(tmp) == before | {"INV-202610-0013"}


@pytest.mark.slow
def test_sigterm_stops_the_run_and_its_reading_worker(sample_month: Path, tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    env = {**os.environ, "BILLING_READ_PROCESSES": "2", "BILLING_OUTPUTS": str(tmp_path / "outputs")}
    proc = subprocess.Popen(
        [*BILLING, "invoice", "--inputs", str(sample_month), "--period", "2026-10", "--out", str(tmp_path / "out"),
         "--register", str(tmp_path / "register.sqlite")],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 30
    children: list = []
    while time.monotonic() < deadline and not children and proc.poll() is None:
        children = parent.children(recursive=True)
        time.sleep(0.01)
    assert children, "the run read the month without a second process"
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"workers still running after SIGTERM: {alive}"
    assert not list((tmp_path / "out").glob(".partial-*"))
