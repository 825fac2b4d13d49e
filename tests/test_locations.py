"""Where things live: the project's folders, and ``outputs/`` and the inputs moved by the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_lib.io import locations


def test_the_project_folders_exist() -> None:
    assert (locations.PACKAGE_DIR / "__init__.py").is_file()
    assert (
        locations.PACKAGE_DIR.name == "billing_lib" and locations.PACKAGE_DIR.parent == locations.PROJECT_ROOT
    )
    assert (locations.PROJECT_ROOT / "pyproject.toml").is_file()
    for folder in (locations.SAMPLE_DIR, locations.TEMPLATE_DIR, locations.NOTEBOOK_DIR):
        assert folder.is_dir(), folder


def test_outputs_follow_billing_outputs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "o"))
    assert locations.outputs_root() == tmp_path / "o"
    assert locations.default_out("2026-10") == tmp_path / "o" / "2026-10"
    assert locations.default_register() == tmp_path / "o" / "register.sqlite"
    assert locations.notebook_outputs_root() == tmp_path / "o"


def test_without_the_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BILLING_OUTPUTS", raising=False)
    monkeypatch.delenv("BILLING_INPUTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert locations.outputs_root() == tmp_path.resolve() / "outputs"  # the working directory's
    assert locations.notebook_outputs_root() == locations.PROJECT_ROOT / "outputs"  # the project's
    assert locations.notebook_inputs() == locations.SAMPLE_DIR
    monkeypatch.setenv("BILLING_INPUTS", str(tmp_path / "month"))
    assert locations.notebook_inputs() == tmp_path / "month"


@pytest.mark.parametrize(
    ("value", "expected"), [("1", False), ("2", True), (" 2 ", True), ("", None), ("3", None)]
)
def test_read_processes(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool | None) -> None:
    monkeypatch.setenv("BILLING_READ_PROCESSES", value)
    assert locations.read_in_two_processes() is expected
