"""Worker processes end with the run that started them, however it ends (Ctrl-C, SIGTERM, SIGKILL)."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a worker: ask Linux to send SIGTERM when the parent dies; end at once if it already has.

    Without this, a worker of a run killed by SIGTERM or SIGKILL is adopted by init and keeps reading
    (holding the run's files open) for minutes. Elsewhere than Linux this does nothing.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getppid() != parent or parent == 1:  # the parent died before prctl took effect
        os._exit(1)


def pool_context() -> Any:
    """fork where the platform has it: workers start at once and scripts need no ``__main__`` guard;
    elsewhere (macOS, Windows) the platform default, spawn."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)


def run_in_workers(
    function: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    workers: int,
    what: str,
    on_result: Callable[[Any], None] = lambda _result: None,
) -> set[int]:
    """``function(*args)`` for every ``args`` of ``calls`` in worker processes that end with this one;
    ``on_result`` gets each result as it comes. The indexes of the calls done: all of them, unless the
    pool broke (a warning names ``what``; the caller does the rest itself). A worker's error is raised."""
    done: set[int] = set()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=die_with_parent)
    try:
        futures = {pool.submit(function, *args): i for i, args in enumerate(calls)}
        for future in as_completed(futures):
            on_result(future.result())
            done.add(futures[future])
    except BrokenProcessPool:
        warnings.warn(f"the {what} processes stopped; writing the rest in this process", stacklevel=4)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done
