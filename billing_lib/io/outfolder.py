"""SPEC section 5: which folders a run may write, and how its files get there.

A run never writes where it could destroy something:
- ``check_target`` refuses an output folder that holds the inputs, the register, another period's
  invoices, drafts where issued invoices are (or the reverse), or files no billing run wrote;
- a folder a run writes carries a marker (``.billing-folder``: kind and period) so later runs know it;
- every file is first written to a staging folder inside it (``.partial-<run id>/``), then moved into
  place by ``publish``, one step at a time with the step recorded, so that a run that dies anywhere is
  finished or undone by the next one (``recover``);
- issued invoice files (``invoices/``) are only ever added, never replaced, moved or removed; the
  earlier run's tables move to ``previous-runs/``; a draft run replaces only the earlier draft's files;
- files and folders are created with the user's umask (readable by the group on a shared folder).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_lib.domain.errors import OutputError, UsageError
from billing_lib.io import faults

MARKER = ".billing-folder"
STAGE_PREFIX = ".partial-"
RUN_FILE = "run.json"
INVOICES = "invoices"
PREVIOUS = "previous-runs"
# what stays when a final run replaces the run before it: issued documents, history, drafts, reprints
KEPT = frozenset({INVOICES, PREVIOUS, "drafts", "reprints", MARKER})
# what a run writes at the top of its folder besides invoices/ (the batch adds notebooks/ and po-report/)
RUN_FILES = frozenset(
    {"invoices.csv", "invoice_items.csv", "exceptions.csv", "po_burndown.csv", "exposure.csv", "summary.xlsx",
     "manifest.json", "charts", "notebooks", "po-report", "accounting"}
)  # fmt: skip
LOCK_WAIT_SECONDS = 600.0

Say = Callable[[str], None]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The permissions a new file gets under the user's umask (``0644`` under the usual ``022``)."""
    return 0o666 & ~_umask()


def make_readable(path: Path) -> None:
    """Give a file made by ``mkstemp`` (0600) the permissions of any other new file of the user."""
    with contextlib.suppress(OSError):
        os.chmod(path, file_mode())


def _os_error(exc: OSError, doing: str, path: Path) -> OutputError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(
            f"cannot {doing} {path}: permission denied ({reason}); check the folder's permissions"
        )
    if exc.errno == errno.ENOSPC:
        return OutputError(f"cannot {doing} {path}: the disk is full")
    return OutputError(f"cannot {doing} {path}: {reason}")


@contextlib.contextmanager
def os_errors(doing: str, path: Path) -> Iterator[None]:
    """Turn an ``OSError`` into an ``OutputError`` sentence naming what was being done and where."""
    try:
        yield
    except OSError as exc:
        raise _os_error(exc, doing, Path(exc.filename) if exc.filename else path) from exc


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that the file is complete or absent (temporary file, fsync, rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --- which folder a run may write --------------------------------------------------------------------


def _owner(folder: Path) -> dict[str, Any] | None:
    """What a folder is (``{"kind": "final"|"draft", "period": ...}``) if a billing run wrote it."""
    marker = _read_json(folder / MARKER)
    if marker is not None:
        return marker
    manifest = _read_json(folder / "manifest.json")  # folders written before the marker existed
    if manifest is not None and manifest.get("product") == "billing workbook":
        return {
            "kind": "draft" if manifest.get("draft") else "final",
            "period": str(manifest.get("period", "")),
        }
    return None


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _listing(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def check_target(out: Path, *, draft: bool, period: str, inputs: Path | None, register: Path | None) -> None:
    """``UsageError`` (a sentence saying why and what to do) unless a run may write to ``out``."""
    out = out.resolve()
    kind = "draft" if draft else "final"
    if inputs is not None:
        src = Path(inputs).resolve()
        if _within(out, src) or _within(src, out):
            raise UsageError(
                f"--out {out} is {'the inputs folder' if out == src else 'inside or around the inputs folder'} "
                f"{src}: a run never writes among its inputs; choose another output folder"
            )
    if register is not None and _within(Path(register).resolve(), out):
        raise UsageError(
            f"--out {out} holds the invoice register {Path(register).resolve()}: a run's folder must not; "
            f"use outputs/<period>/ (the default) or another empty folder"
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if not out.exists():
        return
    owner = _owner(out)
    entries = [e.name for e in out.iterdir() if not e.name.startswith(STAGE_PREFIX)]
    if owner is None:
        # a period folder that so far holds only its drafts (or reprints) is the period's own folder
        own = [
            e
            for e in entries
            if e in ("drafts", "reprints") and (_owner(out / e) or {}).get("period") == period
        ]
        if len(own) == len(entries):
            return
        periods = sorted({str(o.get("period")) for e in out.iterdir() if e.is_dir() and (o := _owner(e))})
        if periods:
            raise UsageError(
                f"--out {out} holds the output folders of {', '.join(periods)}: a run writes its own "
                f"period's folder (default outputs/{period}/), never the folder above it"
            )
        raise UsageError(
            f"--out {out} holds files no billing run wrote ({_listing(entries)}); a run only writes to an empty "
            "folder or one it wrote before: choose another folder"
        )
    if str(owner.get("period")) != period:
        raise UsageError(
            f"--out {out} holds the {owner.get('kind')} invoices of {owner.get('period')}, not {period}: "
            f"choose the folder of {period} (default outputs/{period}/)"
        )
    if owner.get("kind") != kind:
        if draft:
            raise UsageError(
                f"--out {out} holds issued invoices of {period}: drafts never go there; "
                f"leave out --out (drafts go to outputs/{period}/drafts/) or choose another folder"
            )
        raise UsageError(
            f"--out {out} holds drafts of {period}: issued invoices never go to a drafts folder; "
            f"leave out --out (final invoices go to outputs/{period}/) or choose another folder"
        )


# --- the folder lock -----------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(folder: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (one run at a time writes it); waits up to ``wait`` seconds."""
    with os_errors("open the output folder", folder):
        fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutputError(
                        f"another run is writing {folder} (waited {wait:g} s); try again when it has finished"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


# --- staging, publishing, recovering ------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """A run's staging folder inside its output folder."""

    path: Path
    out: Path
    run_id: str
    draft: bool
    tables: bool = True  # False: a stage of documents only (a void's credit note), no run tables

    @property
    def run_file(self) -> Path:
        return self.path / RUN_FILE

    def state(self) -> dict[str, Any]:
        return _read_json(self.run_file) or {}

    def set_state(self, **changes: Any) -> None:
        write_json(self.run_file, {**self.state(), **changes})


def new_stage(
    out: Path, run_id: str, *, draft: bool, period: str, register: Path | None, tables: bool = True
) -> Stage:
    """Create ``out`` (marked as this kind and period) and the run's staging folder in it."""
    with os_errors("create the output folder", out):
        out.mkdir(parents=True, exist_ok=True)
        if not (out / MARKER).exists():
            write_json(out / MARKER, {"product": "billing workbook", "kind": "draft" if draft else "final",
                                      "period": period})  # fmt: skip
        path = out / f"{STAGE_PREFIX}{run_id}"
        path.mkdir()
    stage = Stage(path, out, run_id, draft, tables)
    with os_errors("write the run's state in", path):
        write_json(stage.run_file, {"run_id": run_id, "draft": draft, "period": period, "tables": tables,
                                    "register": str(register) if register else "", "phase": "writing"})  # fmt: skip
    return stage


def discard(stage: Stage) -> None:
    """Remove a staging folder that will not be published (its run failed before issuing anything)."""
    shutil.rmtree(stage.path, ignore_errors=True)


def _move_no_replace(src: Path, dst: Path) -> None:
    """Move a file to ``dst`` unless something is already there: an issued file is never replaced."""
    if dst.exists():
        if dst.is_file() and src.is_file() and dst.read_bytes() == src.read_bytes():
            src.unlink()  # already moved by the run that died (the same file)
            return
        raise OutputError(
            f"{dst} already exists and differs from the file this run issued under that name: the register "
            "and the folder disagree (was the register replaced?). Nothing was overwritten"
        )
    try:
        os.link(src, dst)  # fails if dst appeared meanwhile: never replaces
        src.unlink()
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        os.rename(src, dst)  # a file system without hard links; the folder lock keeps others out


def _previous_name(out: Path) -> str:
    """A new folder name under ``previous-runs/`` for the run whose tables are at the top of ``out``."""
    manifest = _read_json(out / "manifest.json") or {}
    started = str(manifest.get("started", "")) or dt.datetime.now().isoformat(timespec="seconds")
    stamp = started.replace("-", "").replace(":", "")[:15]
    name, n = f"run-{stamp}", 1
    while (out / PREVIOUS / name).exists():
        n += 1
        name = f"run-{stamp}-{n}"
    return name


def _old_run_entries(out: Path) -> list[Path]:
    """The earlier run's files at the top of ``out`` (tables, charts, notebooks…; never invoices/)."""
    entries = [e for e in out.iterdir() if e.name in RUN_FILES]
    # the manifest last: while it is there, the earlier run's files are not all moved yet
    return sorted(entries, key=lambda e: e.name == "manifest.json")


def publish(stage: Stage, say: Say) -> None:
    """Move a staged run's files into place, each step recorded in the stage so a crash can resume it."""
    out = stage.out
    state = stage.state()
    phase = state.get("phase", "staged")
    with os_errors("put the run's files in place in", out):
        if phase in ("writing", "staged"):
            if not stage.draft:
                (out / INVOICES).mkdir(exist_ok=True)
                for i, src in enumerate(
                    sorted((stage.path / INVOICES).glob("*")) if (stage.path / INVOICES).exists() else []
                ):
                    _move_no_replace(src, out / INVOICES / src.name)
                    if i == 0:
                        faults.point("invoice-moved")
            if not stage.tables:
                stage.set_state(phase="placed")
                shutil.rmtree(stage.path)
                return
            target = "" if stage.draft else f"{PREVIOUS}/{_previous_name(out)}"
            stage.set_state(phase="rotating", rotate_to=target)
            state = stage.state()
            phase = "rotating"
        if phase == "rotating":
            target = str(state.get("rotate_to", ""))
            old = _old_run_entries(out) + (
                [out / INVOICES] if stage.draft and (out / INVOICES).exists() else []
            )
            for n, entry in enumerate(old):
                if not target:  # a draft replaces the draft before it
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                else:
                    dest = out / target
                    dest.mkdir(parents=True, exist_ok=True)
                    entry.rename(dest / entry.name)
                if n == 0:
                    faults.point("rotating")
            if old and target:
                say(f"the earlier run's tables were kept in {out / target}")
            stage.set_state(phase="placing")
            phase = "placing"
        if phase == "placing":
            entries = sorted(
                (e for e in stage.path.iterdir() if e.name != RUN_FILE and not e.name.endswith(".tmp")),
                key=lambda e: e.name == "manifest.json",
            )
            for n, entry in enumerate(entries):
                if stage.draft or entry.name != INVOICES:
                    entry.rename(out / entry.name)
                if n == 0:
                    faults.point("placing")
            stage.set_state(phase="placed")
        shutil.rmtree(stage.path)


def stages(out: Path) -> list[Stage]:
    """The staging folders runs left in ``out`` (a run that is still going holds the folder's lock)."""
    if not out.is_dir():
        return []
    found = []
    for path in sorted(out.glob(f"{STAGE_PREFIX}*")):
        state = _read_json(path / RUN_FILE) or {}
        run_id = str(state.get("run_id") or path.name[len(STAGE_PREFIX) :])
        found.append(
            Stage(path, out, run_id, bool(state.get("draft", False)), bool(state.get("tables", True)))
        )
    return found


def register_of(stage: Stage) -> Path | None:
    text = str(stage.state().get("register", ""))
    return Path(text) if text else None
