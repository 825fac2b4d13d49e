"""Named crash points: each one is reached by a final run, and ``BILLING_FAULT`` kills the process there.

The crash scenarios themselves (a real run killed at each point) are in ``test_crash.py``.
"""

from __future__ import annotations

import ast
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import billing_lib
from billing_lib.io import faults
from billing_lib.io.faults import POINTS


def named_points() -> list[str]:
    """Every ``faults.point("...")`` call in the package, by the name it passes."""
    names = []
    for path in Path(billing_lib.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "point"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "faults"
            ):
                (arg,) = node.args
                assert isinstance(arg, ast.Constant)
                names.append(arg.value)
    return names


def test_every_point_is_placed_once_in_the_code() -> None:
    assert len(set(POINTS)) == len(POINTS)
    assert sorted(named_points()) == sorted(POINTS)


def test_without_the_variable_a_point_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BILLING_FAULT", raising=False)
    for name in POINTS:
        faults.point(name)
    monkeypatch.setenv("BILLING_FAULT", "staged")
    faults.point("committed")  # another point: still alive


def test_the_named_point_kills_the_process_at_once() -> None:
    code = "from billing_lib.io import faults; print('before', flush=True); faults.point('placed'); print('after')"
    done = subprocess.run(
        [sys.executable, "-c", code], env={"BILLING_FAULT": "placed", "PATH": ""}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == "before\n"
