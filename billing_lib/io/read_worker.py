"""Reading a large month's files in two processes: the largest file here, the others in a worker process
(python-calamine holds the GIL while it parses, so threads would not help).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import pickle
import signal
import threading
from pathlib import Path

from billing_lib.io import locations
from billing_lib.io.children import die_with_parent
from billing_lib.io.file_tables import LoadedFile, load_file

# --- loading a folder ----------------------------------------------------------------------------

# A month this large (xlsx and csv bytes) reads its files in two processes: the largest file here,
# the others in a worker. python-calamine holds the GIL while it parses, so threads would not help.
PARALLEL_MIN_BYTES = 4_000_000


def _load_files(paths: list[Path]) -> list[LoadedFile]:
    return [load_file(p) for p in paths]


def _worker_load(paths: list[Path]) -> list[LoadedFile]:
    """What the second process runs (its own name, so a test can stand in for a worker that dies)."""
    return _load_files(paths)


def split_for_two(paths: list[Path], sizes: dict[Path, int]) -> tuple[list[Path], list[Path]]:
    """The files this process reads (the largest first) and those a worker reads, about evenly by size."""
    mine: list[Path] = []
    theirs: list[Path] = []
    load = [0, 0]
    for path in sorted(paths, key=lambda p: -sizes[p]):
        side = 0 if load[0] <= load[1] else 1
        (mine if side == 0 else theirs).append(path)
        load[side] += sizes[path]
    return mine, theirs


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def load_all(paths: list[Path], parallel: bool | None) -> list[LoadedFile]:
    """``load_file`` of every path, in order; large months in two processes."""
    sizes = {p: p.stat().st_size for p in paths if p.suffix.lower() in (".xlsx", ".xlsm", ".csv")}
    if parallel is None:
        parallel = locations.read_in_two_processes()
    if parallel is None:
        parallel = sum(sizes.values()) >= PARALLEL_MIN_BYTES and _cores() > 1
    if not parallel or len(sizes) < 2:
        return _load_files(paths)
    mine, theirs = split_for_two(list(sizes), sizes)
    results: dict[Path, LoadedFile] = {}
    worker = _Worker(theirs)
    try:
        results.update(zip(mine, _load_files(mine), strict=True))
        results.update(zip(theirs, worker.results(), strict=True))
    finally:
        worker.stop()  # at once, also when this process is interrupted (Ctrl-C) or fails
    return [results[p] if p in results else load_file(p) for p in paths]


class _Worker:
    """A second process that reads and types ``paths`` while this one reads the others."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        context = _worker_context()
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(paths, send), daemon=True, name="billing-reader"
        )
        # Ctrl-C is for this process: the worker starts with SIGINT blocked (it ignores it before
        # unblocking), so a Ctrl-C while it starts up is this process's, delivered when unblocked here
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._process.start()
        finally:
            send.close()  # this process only receives: the pipe ends when the worker's end closes
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            except KeyboardInterrupt:
                self.stop()
                raise

    def results(self) -> list[LoadedFile]:
        """What the worker read; its files are read here instead if it died (killed, out of memory)."""
        try:
            loaded: list[LoadedFile] = self._receive.recv()
        except (EOFError, OSError, pickle.PickleError):
            return _load_files(self.paths)
        return loaded

    def stop(self) -> None:
        self._receive.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _worker_main(paths: list[Path], send: multiprocessing.connection.Connection) -> None:
    """The worker: read, send, end. Ctrl-C is for the main process, which stops this one; any failure
    closes the pipe without a word (the main process reads the files itself and meets it there)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent while starting it
    die_with_parent()
    try:
        send.send(_worker_load(paths))
    except BaseException:  # reported by the main process, which reads the files again
        pass
    finally:
        send.close()


def _worker_context() -> multiprocessing.context.BaseContext:
    """fork (no second start-up) from a single-threaded process like the CLI; spawn from any other
    (a Jupyter kernel has threads, and forking a threaded process can deadlock the child)."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
