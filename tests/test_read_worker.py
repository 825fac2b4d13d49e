"""read_worker: a large month is read in two processes with the same result as one."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from exports import write_xlsx
from input_files import SAMPLE, write_csv

from billing_lib.domain.errors import InputError
from billing_lib.io import inputs as inputs_mod
from billing_lib.io import read_worker
from billing_lib.io.inputs import load_inputs
from billing_lib.sample.synthetic import write_sample


def assert_same_inputs(a: inputs_mod.Inputs, b: inputs_mod.Inputs) -> None:
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    assert a.issues == b.issues
    assert (a.files, a.ignored, a.headings, a.sheet_headings) == (
        b.files,
        b.ignored,
        b.headings,
        b.sheet_headings,
    )


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_two_processes_read_the_sample_month_exactly_as_one(
    monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    monkeypatch.setattr(read_worker, "_worker_context", lambda: multiprocessing.get_context(start))
    one = load_inputs(SAMPLE, parallel=False)
    two = load_inputs(SAMPLE, parallel=True)
    assert_same_inputs(one, two)
    assert len(two.tables["billing_items"]) > 100 and two.issues  # the sample's bad rows are reported too


def test_the_worker_takes_the_smaller_files_and_the_split_is_even_by_size() -> None:
    sizes = {Path(n): s for n, s in (("a", 100), ("b", 60), ("c", 30), ("d", 20), ("e", 5))}
    mine, theirs = read_worker.split_for_two(list(sizes), sizes)
    assert mine[0] == Path("a") and set(mine) | set(theirs) == set(sizes) and not set(mine) & set(theirs)
    assert abs(sum(sizes[p] for p in mine) - sum(sizes[p] for p in theirs)) <= 20


def _worker_that_dies(paths: list[Path]) -> object:
    os._exit(3)


def test_a_worker_that_dies_is_replaced_by_reading_its_files_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_worker, "_worker_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(read_worker, "_worker_load", _worker_that_dies)
    assert_same_inputs(load_inputs(SAMPLE, parallel=False), load_inputs(SAMPLE, parallel=True))


@pytest.mark.parametrize("parallel", [False, True])
def test_whole_file_errors_come_in_the_same_order_from_two_processes(tmp_path: Path, parallel: bool) -> None:
    # a file that cannot be read wins over a sheet lacking a column, whichever process met them
    write_xlsx(tmp_path / "BillingItems.xlsx", {"Sheet1": "Item ID,Company ID,Billable Amount\n1,101,10.00"})
    write_csv(
        tmp_path / "TimeEntries.csv", "id,dateWorked,ticketID,hoursWorked\n" + "9,2026-10-01,7,1\n" * 400
    )
    (tmp_path / "Tickets.xlsx").write_bytes(os.urandom(2048))
    with pytest.raises(InputError, match=r"^Tickets\.xlsx: cannot be read as an Excel workbook"):
        load_inputs(tmp_path, parallel=parallel)
    (tmp_path / "Tickets.xlsx").unlink()
    with pytest.raises(
        InputError, match=r"^BillingItems\.xlsx, sheet Sheet1: table billing_items is missing"
    ):
        load_inputs(tmp_path, parallel=parallel)


@pytest.mark.parametrize(("setting", "two"), [("1", False), ("2", True), ("", True)])
def test_billing_read_processes_decides_whether_a_worker_starts(
    monkeypatch: pytest.MonkeyPatch, setting: str, two: bool
) -> None:
    class NoWorkers:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("a worker was started")

    monkeypatch.setattr(read_worker, "_Worker", NoWorkers)
    monkeypatch.setattr(read_worker, "PARALLEL_MIN_BYTES", 0)  # the sample counts as a large month
    monkeypatch.setattr(read_worker, "_cores", lambda: 2)
    monkeypatch.setenv("BILLING_READ_PROCESSES", setting)
    if two:
        with pytest.raises(RuntimeError, match="a worker was started"):
            load_inputs(SAMPLE)
    else:
        assert load_inputs(SAMPLE).tables


def test_ctrl_c_while_two_processes_read_stops_both_without_a_traceback(tmp_path: Path) -> None:
    # a month large enough to be read in two processes, interrupted while they read
    folder = tmp_path / "month"
    write_sample(folder, 40_000, period="2026-10")
    env = {**os.environ, "BILLING_READ_PROCESSES": "2"}
    billing = Path(sys.executable).parent / "billing"
    process = subprocess.Popen(
        [str(billing), "check", "--inputs", str(folder), "--register", str(tmp_path / "r.sqlite")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal would make it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # interrupt once both processes read (the worker exists): not during imports, whatever the machine's load
    import psutil

    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 60
    while not parent.children() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "the check ended before the worker was seen"
    time.sleep(0.2)  # both read now: the interrupt lands mid-read, not in the worker's start-up
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err.strip() == "billing: interrupted; nothing was written"
    assert "Traceback" not in err and out == ""
