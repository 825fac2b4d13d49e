"""A worker process ends with the run that started it, even when the run is killed outright; work handed
to worker processes comes back whole, and a worker's error is raised in the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from billing_lib.io.children import run_in_workers

PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", CHILD])
    print(child.pid, flush=True)
    time.sleep(120)
    """
)
CHILD = textwrap.dedent(
    """
    import signal, time
    from billing_lib.io.children import die_with_parent
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # die_with_parent restores the default
    die_with_parent()
    print("ready", flush=True)
    time.sleep(120)
    """
)


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that nobody reaps in a container."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "Z" not in state.split()[1]


def test_a_worker_dies_when_its_run_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", f"CHILD = {CHILD!r}\n{PARENT}"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert parent.stdout.readline() == "ready\n"
        assert alive(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), "the worker outlived its run"
    finally:
        parent.kill()
        parent.wait()
        if "pid" in locals() and alive(pid):
            os.kill(pid, signal.SIGKILL)


def _square_in_worker(n: int) -> tuple[int, int]:
    if n < 0:
        raise ValueError(f"no square for {n}")
    return os.getpid(), n * n


def test_run_in_workers_hands_every_call_to_a_worker_and_gives_back_every_result() -> None:
    results: list[tuple[int, int]] = []
    done = run_in_workers(_square_in_worker, [(n,) for n in range(6)], 2, "squaring", results.append)
    assert done == set(range(6))
    assert sorted(square for _, square in results) == [0, 1, 4, 9, 16, 25]
    assert os.getpid() not in {pid for pid, _ in results}  # computed in the workers, not here


def test_a_workers_error_is_raised_in_the_run() -> None:
    with pytest.raises(ValueError, match="no square for -1"):
        run_in_workers(_square_in_worker, [(2,), (-1,)], 2, "squaring")
