"""The ``billing`` command: every failure is one sentence on stderr with exit code 1 or 2, never a traceback;
the options that shape the documents (``--paper``, ``--no-documents``) and ``void`` / ``reprint``.

Each command's own scenarios are in ``test_cli_check.py``, ``test_invoice_cli.py`` and ``test_register_cli.py``.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from einvoice_data import NS, failures, page_size, pdf_text
from lxml import etree

from billing_lib.domain.errors import InputError, RegisterError, UsageError
from billing_lib.io.register import Register
from billing_lib.run import cli
from billing_lib.run.cli import main


def failing(exc: BaseException) -> Callable[[argparse.Namespace], int]:
    def command(_args: argparse.Namespace) -> int:
        raise exc

    return command


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (UsageError("period '2026-13' is not of the form YYYY-MM"), 2, "billing: error: period '2026-13' is not"),
        (InputError("items.csv is empty"), 1, "billing: error: items.csv is empty"),
        (RegisterError("the register is locked"), 1, "billing: error: the register is locked"),
        (OSError(errno.EACCES, "Permission denied", "/srv/out"), 1,
         "billing: error: cannot use /srv/out: Permission denied; nothing was issued"),
        (sqlite3.DatabaseError("file is not a database"), 1,
         "billing: error: the invoice register could not be used: file is not a database; nothing was issued"),
        (KeyboardInterrupt(), 130, "billing: interrupted; nothing was written"),
        (ZeroDivisionError("division by zero"), 1,
         "billing: internal error (ZeroDivisionError: division by zero); nothing was written. Run again with "
         "BILLING_DEBUG=1"),
    ],
)  # fmt: skip
def test_every_failure_is_a_sentence_and_an_exit_code(
    exc: BaseException,
    code: int,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("BILLING_DEBUG", raising=False)
    monkeypatch.setitem(cli.COMMANDS, "register", failing(exc))
    assert main(["register"]) == code
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and "Traceback" not in captured.err
    assert captured.out == ""


def test_billing_debug_shows_the_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_DEBUG", "1")
    monkeypatch.setitem(cli.COMMANDS, "register", failing(ZeroDivisionError("division by zero")))
    with pytest.raises(ZeroDivisionError):
        main(["register"])


def test_sigterm_stops_a_command_like_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def terminated(_args: argparse.Namespace) -> int:
        signal.raise_signal(signal.SIGTERM)
        return 0

    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setitem(cli.COMMANDS, "register", terminated)
    try:
        assert main(["register"]) == 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "interrupted; nothing was written" in capsys.readouterr().err


def test_argparse_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    assert caught.value.code == 2 and "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    assert set(cli.COMMANDS) <= set(
        capsys.readouterr().out.replace(",", " ").replace("{", " ").replace("}", " ").split()
    )


def test_a_missing_register_is_a_usage_error_and_an_empty_one_lists_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "register.sqlite"
    with pytest.raises(SystemExit) as caught:
        main(["register", "--register", str(path)])
    assert caught.value.code == 2
    assert capsys.readouterr().err == f"billing: error: no invoice register at {path}\n"
    with Register(path):
        pass
    assert main(["register", "--register", str(path), "--period", "2026-10"]) == 0
    assert capsys.readouterr().out == "no invoices of 2026-10 in the register\n"


def test_cli_paper_and_no_documents(sample_month: Path, tmp_path: Path) -> None:
    from billing_lib.run.cli import main

    common = ["invoice", "--inputs", str(sample_month), "--period", "2026-10", "--draft"]
    assert main([*common, "--out", str(tmp_path / "none"), "--no-documents"]) == 0
    folder = tmp_path / "none" / "invoices"
    assert list(folder.glob("*.xlsx")) and not list(folder.glob("*.pdf")) and not list(folder.glob("*.xml"))
    assert main([*common, "--out", str(tmp_path / "letter"), "--paper", "letter"]) == 0
    pdfs = sorted((tmp_path / "letter" / "invoices").glob("*.pdf"))
    assert pdfs and page_size(pdfs[0].read_bytes(), tmp_path).startswith("612 x 792")
    assert "DRAFT" in pdf_text(pdfs[0].read_bytes(), tmp_path)


def test_void_and_reprint_write_the_pdf_and_e_invoice(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register keeps each record with its parties: a void's credit note and a reprint get the three
    documents, the reprint identical to the first print, the credit note referencing the invoice."""
    from billing_lib.run.cli import main

    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "outputs"))
    assert main(["invoice", "--inputs", str(sample_month), "--period", "2026-10"]) == 0
    folder = tmp_path / "outputs" / "2026-10" / "invoices"
    assert main(["void", "INV-202610-0001", "--reason", "wrong PO"]) == 0
    credit = folder / "CN-202610-0001.xml"
    assert (folder / "CN-202610-0001.pdf").exists() and credit.exists()
    assert failures(credit.read_bytes()) == []
    doc = etree.fromstring(credit.read_bytes())
    assert etree.QName(doc).localname == "CreditNote"
    assert (
        doc.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS)
        == "INV-202610-0001"
    )
    assert "Credits invoice INV-202610-0001" in pdf_text(
        (folder / "CN-202610-0001.pdf").read_bytes(), tmp_path
    )
    assert main(["reprint", "INV-202610-0001"]) == 0
    reprints = tmp_path / "outputs" / "2026-10" / "reprints"
    for suffix in (".xlsx", ".pdf", ".xml"):
        assert (reprints / f"INV-202610-0001{suffix}").read_bytes() == (
            folder / f"INV-202610-0001{suffix}"
        ).read_bytes()
