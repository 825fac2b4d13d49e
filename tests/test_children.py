"""A worker process ends with the run that started it, even when the run is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

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
