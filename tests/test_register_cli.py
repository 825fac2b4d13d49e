"""``billing void``, ``billing reprint`` and ``billing register`` as a user runs them: sentences, never
tracebacks, and the documents on disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from billing_lib.run.cli import main


@pytest.fixture()
def issued(sample_month: Path, tmp_path: Path) -> Path:
    """A final run of the sample month into ``tmp_path/outputs`` (the default outputs folder)."""
    assert main(["invoice", "--inputs", str(sample_month), "--period", "2026-10"]) == 0
    return Path(os.environ["BILLING_OUTPUTS"])


def test_void_reprint_and_register_from_the_command_line(
    issued: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["void", "INV-202610-0001", "--reason", "wrong PO"]) == 0
    said = capsys.readouterr().out
    assert "INV-202610-0001 voided by credit note CN-202610-0001" in said
    assert (issued / "2026-10" / "invoices" / "CN-202610-0001.xlsx").exists()
    assert (issued / "2026-10" / "invoices" / "INV-202610-0001.xlsx").exists()  # the invoice stays

    assert main(["reprint", "INV-202610-0001"]) == 0
    copy = issued / "2026-10" / "reprints" / "INV-202610-0001.xlsx"
    assert copy.read_bytes() == (issued / "2026-10" / "invoices" / "INV-202610-0001.xlsx").read_bytes()
    assert main(["reprint", "INV-202610-0001"]) == 0  # the same reprint again is fine: identical

    capsys.readouterr()
    assert main(["register", "--period", "2026-10"]) == 0
    listing = capsys.readouterr().out
    assert "CN-202610-0001" in listing and "credits INV-202610-0001" in listing
    assert "voided" in listing and "wrong PO" in listing
    assert "credit note(s)" in listing
    assert main(["register", "--period", "2026-09"]) == 0
    assert "no invoices of 2026-09" in capsys.readouterr().out


def test_errors_are_sentences(issued: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["void", "INV-9", "--reason", "x"]) == 1
    assert "no invoice 'INV-9'" in capsys.readouterr().err
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    assert main(["void", "INV-202610-0001", "--reason", "x", "--register", str(damaged)]) == 1
    err = capsys.readouterr().err
    assert "not a readable SQLite database" in err and "internal error" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["register", "--register", str(tmp_path / "none.sqlite")])
    assert exit_.value.code == 2 and "no invoice register" in capsys.readouterr().err


def test_a_folder_that_cannot_be_written_is_a_sentence(sample_month: Path, tmp_path: Path, capsys) -> None:
    """A read-only folder for a user; as root (CI), a folder under /sys, where nobody may create one."""
    if os.geteuid() == 0:
        out = Path("/sys/billing-test-out")
    else:
        parent = tmp_path / "ro"
        parent.mkdir()
        parent.chmod(stat.S_IRUSR | stat.S_IXUSR)
        out = parent / "2026-10"
    try:
        code = main(["invoice", "--inputs", str(sample_month), "--period", "2026-10", "--out", str(out)])
    finally:
        if os.geteuid() != 0:
            (tmp_path / "ro").chmod(0o755)
    err = capsys.readouterr().err
    assert code == 1 and "permission denied" in err and "internal error" not in err
