"""``billing check``: exit 0 when nothing blocks, 1 when something does or an input is unusable,
2 on usage errors; a message and never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from billing_lib.run.cli import main
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import analyse

GOOD = {
    "BillingItems.csv": """
        id,itemDate,companyID,contractID,extendedPrice,purchaseOrderNumber,invoiceID
        5001,2026-10-03T00:00:00Z,101,701,386.6450, po-4711 ,0
        5002,2026-10-06T00:00:00Z,102,,25.0000,,0
        5003,2026-11-02T00:00:00Z,101,701,99.0000,PO-4711,0
    """,
    "Companies.csv": """
        id,companyName
        101,Acme Industrie GmbH
        102,Müller & Söhne KG
    """,
    "po_reference.csv": """
        po_number,customer_id,authorised_amount,currency,valid_from,valid_to
        PO-4711,101,1000.00,EUR,2026-01-01,2026-12-31
    """,
}

HELD = {
    **GOOD,
    "TimeEntries.csv": """
        id,dateWorked,companyID,hoursWorked,hourlyRate
        9101,2026-10-08,101,1.5,100
        9102,31/13/2026,101,1.5,100
        9103,2026-10-09,101,-2,100
    """,
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).strip("\n") + "\n", encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the default register and outputs inside the test's folder."""
    out = tmp_path / "outputs"
    monkeypatch.setenv("BILLING_OUTPUTS", str(out))
    monkeypatch.delenv("BILLING_DEBUG", raising=False)
    return out


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_good_month_exits_0_and_prints_the_checklist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--inputs", str(write(tmp_path / "in", GOOD)), "--period", "2026-10")
    assert code == 0, out + err
    assert out.startswith("Pre-invoice checklist for 2026-10\n")
    assert "Ready to invoice" in out
    assert "3 billable rows read" in out
    assert "2 items to invoice: 411.65 EUR" in out  # 386.645 -> 386.65, + 25.00; the November item waits
    assert "Traceback" not in out + err


def test_held_items_exit_1_and_are_never_invoiced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    folder = write(tmp_path / "in", HELD)
    code, out, err = run(capsys, "--inputs", str(folder), "--period", "2026-10")
    assert code == 1, out + err
    assert "NOT READY to invoice: 2 items held" in out
    assert "TimeEntries.csv, row 3, column dateWorked: '31/13/2026' is not a valid date" in out
    assert "TimeEntries.csv, row 4, column hoursWorked: negative hours (-2) on a time entry" in out
    assert "Traceback" not in out + err
    analysis = analyse(RunOptions(inputs=folder, period="2026-10", register=outputs / "register.sqlite"))
    invoiced = set(
        zip(analysis.invoice_set.items["source_table"], analysis.invoice_set.items["item_id"], strict=True)
    )
    assert invoiced == {("billing_items", "5001"), ("billing_items", "5002"), ("time_entries", "9101")}
    assert sorted(analysis.held["item_id"]) == ["9102", "9103"]


def test_missing_inputs_folder_is_an_input_error_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--inputs", str(tmp_path / "no-such-month"), "--period", "2026-10")
    assert code == 1
    assert err == f"billing: error: {tmp_path / 'no-such-month'}: the inputs folder does not exist\n"
    assert out == ""


@pytest.mark.parametrize("period", ["2026-13", "October", "2026-00", "26-10"])
def test_bad_period_is_a_usage_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str
) -> None:
    code, out, err = run(capsys, "--inputs", str(write(tmp_path / "in", GOOD)), "--period", period)
    assert code == 2
    assert err.startswith(f"billing: error: period {period!r} is not of the form YYYY-MM")
    assert "Traceback" not in out + err


def test_unknown_method_is_a_usage_error_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--inputs", str(write(tmp_path / "in", GOOD)), "--method", "by_colour")
    assert code == 2
    assert err.startswith("billing: error: ") and "by_colour" in err
    assert "Traceback" not in out + err


def test_unreadable_workbook_exit_1_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(tmp_path / "in", GOOD)
    (folder / "Tickets.xlsx").write_bytes(os.urandom(1024))
    code, out, err = run(capsys, "--inputs", str(folder), "--period", "2026-10")
    assert code == 1
    assert err.startswith("billing: error: Tickets.xlsx: cannot be read as an Excel workbook")
    assert "Traceback" not in out + err


def test_missing_required_column_exit_1_names_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(tmp_path / "in", {**GOOD, "BillingItems.csv": "id,companyID,extendedPrice\n1,101,10.00\n"})
    code, out, err = run(capsys, "--inputs", str(folder), "--period", "2026-10")
    assert code == 1
    assert out == ""
    assert err.startswith(
        "billing: error: BillingItems.csv: table billing_items is missing the required column(s) item_date"
    )


def test_missing_inputs_option_is_argparse_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check"])
    assert exit_.value.code == 2
    assert "--inputs" in capsys.readouterr().err


def _billing(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "billing_lib.run.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_as_a_real_process(tmp_path: Path, outputs: Path) -> None:
    env = {**os.environ, "BILLING_OUTPUTS": str(outputs), "PYTHONIOENCODING": "utf-8"}
    env.pop("BILLING_DEBUG", None)
    good = _billing("check", "--inputs", str(write(tmp_path / "good", GOOD)), "--period", "2026-10", env=env)
    assert good.returncode == 0, good.stderr
    assert "Pre-invoice checklist for 2026-10" in good.stdout and "Ready to invoice" in good.stdout
    held = _billing("check", "--inputs", str(write(tmp_path / "held", HELD)), "--period", "2026-10", env=env)
    assert held.returncode == 1
    assert "NOT READY" in held.stdout
    bad = _billing("check", "--inputs", str(tmp_path / "good"), "--period", "2026-13", env=env)
    assert bad.returncode == 2
    assert "billing: error: period '2026-13'" in bad.stderr
    assert "Traceback" not in good.stderr + held.stderr + bad.stdout + bad.stderr
