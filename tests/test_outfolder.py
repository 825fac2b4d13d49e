"""Which folders a run may write and how its files get there: the target checks, the folder lock, and a
staged run published step by step (issued files only ever added; the earlier run's tables kept).

The same steps interrupted by a real kill are the crash scenarios of ``test_crash.py``.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from billing_lib.domain.errors import OutputError, UsageError
from billing_lib.io import outfolder
from billing_lib.io.outfolder import (
    MARKER,
    Stage,
    check_target,
    file_mode,
    locked,
    new_stage,
    os_errors,
    publish,
    register_of,
    stages,
    write_json,
)


def target(out: Path, *, draft: bool = False, period: str = "2026-10", inputs: Path | None = None,
           register: Path | None = None) -> None:  # fmt: skip
    check_target(out, draft=draft, period=period, inputs=inputs, register=register)


def marked(folder: Path, kind: str, period: str = "2026-10") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / MARKER, {"product": "billing workbook", "kind": kind, "period": period})
    return folder


def test_a_new_or_empty_folder_or_the_run_s_own_may_be_written(tmp_path: Path) -> None:
    target(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    target(tmp_path / "empty")
    target(marked(tmp_path / "final", "final"))
    target(marked(tmp_path / "draft", "draft"), draft=True)
    period = tmp_path / "2026-10"  # the period's folder holding only its own drafts so far
    marked(period / "drafts", "draft")
    target(period)


def test_a_folder_written_before_the_marker_is_known_by_its_manifest(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(
        json.dumps({"product": "billing workbook", "draft": True, "period": "2026-09"})
    )
    with pytest.raises(UsageError, match="holds the draft invoices of 2026-09, not 2026-10"):
        target(old)


@pytest.mark.parametrize(
    ("make", "draft", "message"),
    [
        (lambda t: marked(t / "o", "final", "2026-09"), False, "holds the final invoices of 2026-09, not 2026-10"),
        (lambda t: marked(t / "o", "final"), True, "holds issued invoices of 2026-10: drafts never go there"),
        (lambda t: marked(t / "o", "draft"), False, "holds drafts of 2026-10: issued invoices never go"),
        (lambda t: (marked(t / "o" / "2026-09", "final", "2026-09"), t / "o")[1], False, "holds the output folders of 2026-09"),
    ],
)  # fmt: skip
def test_another_run_s_folder_is_refused(tmp_path: Path, make, draft: bool, message: str) -> None:  # type: ignore[no-untyped-def]
    out = make(tmp_path)
    with pytest.raises(UsageError, match=message):
        target(tmp_path / "o", draft=draft)
    assert out.exists()


def test_inputs_register_files_and_foreign_folders_are_refused(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    with pytest.raises(UsageError, match="is the inputs folder"):
        target(inputs, inputs=inputs)
    with pytest.raises(UsageError, match="inside or around the inputs folder"):
        target(inputs / "out", inputs=inputs)
    with pytest.raises(UsageError, match="holds the invoice register"):
        target(tmp_path / "o", register=tmp_path / "o" / "register.sqlite")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        target(tmp_path / "file")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    for i in range(7):
        (foreign / f"thesis-{i}.docx").write_text("x")
    with pytest.raises(
        UsageError, match=r"files no billing run wrote \(thesis-0.docx, .*thesis-4.docx and 2 more\)"
    ):
        target(foreign)


def test_os_errors_become_sentences(tmp_path: Path) -> None:
    for code, text in (
        (errno.EACCES, "permission denied"),
        (errno.ENOSPC, "the disk is full"),
        (errno.EIO, "cannot write"),
    ):
        with pytest.raises(OutputError, match=text) as caught, os_errors("write", tmp_path):
            raise OSError(code, os.strerror(code), str(tmp_path / "x.csv"))
        assert str(tmp_path / "x.csv") in str(caught.value)


def test_write_json_leaves_no_temporary_file_and_files_follow_the_umask(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"n": 1})
    assert json.loads((tmp_path / "a.json").read_text()) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    old = os.umask(0o027)
    try:
        assert file_mode() == 0o640
    finally:
        os.umask(old)


def test_one_run_at_a_time_holds_the_folder(tmp_path: Path) -> None:
    with (
        locked(tmp_path),
        pytest.raises(OutputError, match="another run is writing"),
        locked(tmp_path, wait=0.3),
    ):
        pass
    with locked(tmp_path, wait=0):  # released
        pass


def stage_files(stage: Stage, names: dict[str, str]) -> None:
    for name, text in names.items():
        path = stage.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_final_run_adds_invoices_and_keeps_the_earlier_run_s_tables(tmp_path: Path) -> None:
    out, said = tmp_path / "2026-10", []
    first = new_stage(out, "r1", draft=False, period="2026-10", register=tmp_path / "reg.sqlite")
    assert register_of(first) == tmp_path / "reg.sqlite" and stages(out) == [first]
    stage_files(first, {"invoices/INV-1.pdf": "one", "invoices.csv": "v1", "manifest.json": "{}"})
    publish(first, said.append)
    assert (out / "invoices" / "INV-1.pdf").read_text() == "one" and (
        out / "invoices.csv"
    ).read_text() == "v1"
    assert stages(out) == [] and said == []
    second = new_stage(out, "r2", draft=False, period="2026-10", register=None)
    stage_files(second, {"invoices/INV-2.pdf": "two", "invoices.csv": "v2", "manifest.json": "{}"})
    publish(second, said.append)
    assert sorted(p.name for p in (out / "invoices").iterdir()) == ["INV-1.pdf", "INV-2.pdf"]
    assert (out / "invoices.csv").read_text() == "v2"
    (previous,) = (out / "previous-runs").iterdir()
    assert (previous / "invoices.csv").read_text() == "v1"
    assert said == [f"the earlier run's tables were kept in {previous}"]


def test_an_issued_file_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "2026-10"
    (out / "invoices").mkdir(parents=True)
    (out / "invoices" / "INV-1.pdf").write_text("issued")
    same = new_stage(out, "r1", draft=False, period="2026-10", register=None, tables=False)
    stage_files(same, {"invoices/INV-1.pdf": "issued"})  # moved already by a run that died: fine
    publish(same, print)
    other = new_stage(out, "r2", draft=False, period="2026-10", register=None, tables=False)
    stage_files(other, {"invoices/INV-1.pdf": "different"})
    with pytest.raises(OutputError, match="already exists and differs"):
        publish(other, print)
    assert (out / "invoices" / "INV-1.pdf").read_text() == "issued"


def test_a_draft_replaces_the_draft_before_it(tmp_path: Path) -> None:
    out = tmp_path / "drafts"
    for run, names in (
        ("d1", {"invoices/DRAFT-1.xlsx": "a", "invoices.csv": "v1"}),
        ("d2", {"invoices/DRAFT-9.xlsx": "b", "invoices.csv": "v2"}),
    ):
        stage = new_stage(out, run, draft=True, period="2026-10", register=None)
        stage_files(stage, names)
        publish(stage, print)
    assert [p.name for p in (out / "invoices").iterdir()] == ["DRAFT-9.xlsx"]
    assert (out / "invoices.csv").read_text() == "v2" and not (out / "previous-runs").exists()


def test_publishing_resumes_at_the_recorded_step(tmp_path: Path) -> None:
    """A run that died while placing its tables: the next publish places the rest and rotates nothing."""
    out = tmp_path / "2026-10"
    stage = new_stage(out, "r1", draft=False, period="2026-10", register=None)
    stage_files(stage, {"invoices.csv": "v1", "exceptions.csv": "e1"})
    (out / "invoices.csv").write_text("v0")  # placed neither by this run...
    stage.set_state(phase="placing")  # ...nor rotated away: the state says rotating was done
    os.rename(stage.path / "invoices.csv", out / "invoices.csv")
    (found,) = outfolder.stages(out)
    publish(found, print)
    assert (out / "invoices.csv").read_text() == "v1" and (out / "exceptions.csv").read_text() == "e1"
    assert not stage.path.exists() and not (out / "previous-runs").exists()
