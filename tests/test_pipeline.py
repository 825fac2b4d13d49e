"""run_invoice end to end: atomic final runs, safe output folders, re-runs, drafts, voids, reprints, concurrent runs."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from billing_lib.domain.errors import BillingError, RegisterError, UsageError
from billing_lib.io import invoice_files
from billing_lib.io.register import Register
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import reprint, run_invoice, void_invoice


def options(month: Path, tmp_path: Path, **kw: object) -> RunOptions:
    return RunOptions(
        inputs=month,
        period="2026-10",
        out=tmp_path / "out" / "2026-10",
        register=tmp_path / "register.sqlite",
        **kw,
    )  # type: ignore[arg-type]


def invoices_csv(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "invoices.csv", dtype=str, keep_default_na=False)


def leftovers(tmp_path: Path) -> list[str]:
    """Everything a run left in the output area besides a finished period folder's own files."""
    out = tmp_path / "out"
    if not out.exists():
        return []
    return sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if ".partial-" in str(p) or ".tmp" in p.name
    )


def issued_files(folder: Path) -> list[str]:
    return sorted(p.stem for p in (folder / "invoices").glob("*.xlsx"))


def test_a_failure_after_some_workbooks_leaves_nothing_and_a_rerun_gets_the_same_numbers(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = invoice_files.workbook_bytes
    calls = {"n": 0}

    def fail_on_the_fourth(*args: object) -> bytes:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full (injected)")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(invoice_files, "workbook_bytes", fail_on_the_fourth)
    with pytest.raises(BillingError, match="injected"):
        run_invoice(options(sample_month, tmp_path))
    assert calls["n"] == 4  # three workbooks were written before the failure
    assert leftovers(tmp_path) == []  # no staging folder, no temporary file
    assert not (tmp_path / "out" / "2026-10" / "invoices").exists()
    with Register(tmp_path / "register.sqlite") as register:
        assert register.invoices().empty and not register.invoiced_items()

    monkeypatch.setattr(invoice_files, "workbook_bytes", real)
    result = run_invoice(options(sample_month, tmp_path))
    clean = run_invoice(options(sample_month, tmp_path / "clean"))
    assert result.invoice_numbers == clean.invoice_numbers
    assert result.invoice_numbers[0] == "INV-202610-0001"
    assert issued_files(result.out_dir) == sorted(result.invoice_numbers)


def test_an_interrupted_run_leaves_nothing(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*_args: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(invoice_files, "workbook_bytes", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_invoice(options(sample_month, tmp_path))
    assert leftovers(tmp_path) == []
    with Register(tmp_path / "register.sqlite") as register:
        assert register.invoices().empty


def test_a_rerun_of_a_finished_period_invoices_nothing_and_keeps_every_issued_file(
    sample_month: Path, tmp_path: Path
) -> None:
    first = run_invoice(options(sample_month, tmp_path))
    first_invoices = invoices_csv(first.out_dir)
    files = {p.name: p.read_bytes() for p in (first.out_dir / "invoices").iterdir()}
    second = run_invoice(options(sample_month, tmp_path))
    assert second.invoice_numbers == []
    assert invoices_csv(second.out_dir).empty
    assert second.manifest["counts"]["invoiced"] == 0  # type: ignore[index]
    [kept] = list((second.out_dir / "previous-runs").iterdir())
    pd.testing.assert_frame_equal(invoices_csv(kept), first_invoices)
    # the issued invoices stay where they were issued, byte for byte
    assert {p.name: p.read_bytes() for p in (second.out_dir / "invoices").iterdir()} == files
    assert issued_files(second.out_dir) == sorted(first.invoice_numbers)


def test_finals_drafts_and_finals_again_never_lose_an_issued_invoice(
    sample_month: Path, tmp_path: Path
) -> None:
    """The sequence that emptied the folder before: final x3, a draft, a final."""
    period = tmp_path / "out" / "2026-10"
    first = run_invoice(options(sample_month, tmp_path))
    files = {p.name: p.read_bytes() for p in (period / "invoices").iterdir()}
    workbooks = [name for name in files if name.endswith(".xlsx")]
    assert len(workbooks) == len(first.invoice_numbers) > 0  # each with its PDF (and XML where complete)
    for _ in range(2):
        run_invoice(options(sample_month, tmp_path))
    draft = run_invoice(
        RunOptions(
            inputs=sample_month,
            period="2026-10",
            draft=True,
            register=tmp_path / "register.sqlite",
            out=period / "drafts",
        )
    )
    assert draft.out_dir == period / "drafts" and draft.invoice_numbers == []  # all invoiced already
    run_invoice(options(sample_month, tmp_path))
    assert {p.name: p.read_bytes() for p in (period / "invoices").iterdir()} == files
    assert len(list((period / "previous-runs").iterdir())) == 3  # the tables of each final run replaced
    assert leftovers(tmp_path) == []


def test_a_draft_goes_to_the_drafts_folder_by_default(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "outputs"))
    draft = run_invoice(RunOptions(inputs=sample_month, period="2026-10", draft=True))
    assert draft.out_dir == (tmp_path / "outputs" / "2026-10" / "drafts").resolve()
    assert draft.invoice_numbers and all(n.startswith("DRAFT-") for n in draft.invoice_numbers)
    final = run_invoice(RunOptions(inputs=sample_month, period="2026-10"))
    assert final.out_dir == (tmp_path / "outputs" / "2026-10").resolve()
    assert issued_files(final.out_dir) == sorted(final.invoice_numbers)
    again = run_invoice(RunOptions(inputs=sample_month, period="2026-10", draft=True))
    assert again.invoice_numbers == [] and issued_files(final.out_dir) == sorted(final.invoice_numbers)


@pytest.mark.parametrize("draft", [False, True])
def test_out_on_the_inputs_or_the_register_folder_is_refused_and_deletes_nothing(
    sample_month: Path, tmp_path: Path, draft: bool
) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(sample_month, inputs)
    before = sorted(p.name for p in inputs.iterdir())
    outputs = tmp_path / "outputs"
    run_invoice(RunOptions(inputs=inputs, period="2026-10", out=outputs / "2026-10",
                           register=outputs / "register.sqlite"))  # fmt: skip
    issued = issued_files(outputs / "2026-10")
    for out, why in ((inputs, "inputs folder"), (outputs, "register"), (inputs / "sub", "inputs")):
        with pytest.raises(UsageError, match=why):
            run_invoice(RunOptions(inputs=inputs, period="2026-10", out=out, draft=draft,
                                   register=outputs / "register.sqlite"))  # fmt: skip
    assert sorted(p.name for p in inputs.iterdir()) == before
    assert (outputs / "register.sqlite").exists() and issued_files(outputs / "2026-10") == issued
    # a folder above the periods' folders, and another period's folder
    with pytest.raises(UsageError, match="output folders of 2026-10"):
        run_invoice(RunOptions(inputs=inputs, period="2026-10", out=outputs, draft=draft,
                               register=tmp_path / "elsewhere.sqlite"))  # fmt: skip
    with pytest.raises(UsageError, match="not 2026-11"):
        run_invoice(RunOptions(inputs=inputs, period="2026-11", out=outputs / "2026-10", draft=draft,
                               register=outputs / "register.sqlite"))  # fmt: skip
    # a folder of somebody else's files
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="no billing run wrote"):
        run_invoice(RunOptions(inputs=inputs, period="2026-10", out=foreign, draft=draft,
                               register=outputs / "register.sqlite"))  # fmt: skip
    assert (foreign / "notes.txt").read_text() == "mine"


def test_a_draft_is_refused_where_issued_invoices_are(sample_month: Path, tmp_path: Path) -> None:
    first = run_invoice(options(sample_month, tmp_path))
    with pytest.raises(UsageError, match="holds issued invoices"):
        run_invoice(options(sample_month, tmp_path, draft=True))
    assert issued_files(first.out_dir) == sorted(first.invoice_numbers)


def test_files_are_readable_by_the_group(sample_month: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        result = run_invoice(options(sample_month, tmp_path))
    finally:
        os.umask(old)
    modes = {p.relative_to(result.out_dir): stat.S_IMODE(p.stat().st_mode) for p in result.out_dir.rglob("*")}
    assert modes and all(mode & 0o040 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}


def test_voiding_issues_a_credit_note_beside_the_invoice_and_releases_the_items(
    sample_month: Path, tmp_path: Path
) -> None:
    first = run_invoice(options(sample_month, tmp_path))
    voided = first.invoice_numbers[1]
    items = pd.read_csv(first.out_dir / "invoice_items.csv", dtype=str)
    released = set(items.loc[items["invoice_number"] == voided, "item_id"])
    credit, folder = void_invoice(voided, "wrong PO on the customer's order", tmp_path / "register.sqlite")
    assert folder == first.out_dir / "invoices"
    assert (folder / f"{credit.invoice_number}.xlsx").exists() and (folder / f"{voided}.xlsx").exists()
    again = run_invoice(options(sample_month, tmp_path))
    next_number = f"INV-202610-{len(first.invoice_numbers) + 1:04d}"
    assert again.invoice_numbers == [next_number]  # gapless: the voided number is not reused
    again_items = pd.read_csv(again.out_dir / "invoice_items.csv", dtype=str)
    assert set(again_items["item_id"]) == released
    assert leftovers(tmp_path) == []


def test_reprint_writes_the_same_workbook_again(sample_month: Path, tmp_path: Path) -> None:
    first = run_invoice(options(sample_month, tmp_path))
    number = first.invoice_numbers[0]
    original = first.out_dir / "invoices" / f"{number}.xlsx"
    copies = reprint(number, tmp_path / "register.sqlite", tmp_path / "reprints")
    # the workbook, the PDF and the e-invoice, each identical to the first print
    assert sorted(p.suffix for p in copies) == [".pdf", ".xlsx", ".xml"]
    for copy in copies:
        assert copy.read_bytes() == original.with_suffix(copy.suffix).read_bytes()
    credit, folder = void_invoice(number, "test", tmp_path / "register.sqlite")
    notes = reprint(credit.invoice_number, tmp_path / "register.sqlite", tmp_path / "reprints")
    assert sorted(p.suffix for p in notes) == [".pdf", ".xlsx", ".xml"]
    for cn in notes:
        assert cn.read_bytes() == (folder / cn.name).read_bytes()
    with pytest.raises(RegisterError, match="no invoice 'INV-1'"):
        reprint("INV-1", tmp_path / "register.sqlite", tmp_path / "reprints")


def test_a_renamed_charges_file_does_not_bill_a_charge_again(tmp_path: Path) -> None:
    """A ticket charge is one item in TicketCharges.csv and in charges.csv (its kind and id)."""
    month = tmp_path / "in"
    month.mkdir()
    (month / "Companies.csv").write_text("id,companyName\n101,Contoso\n")
    (month / "Tickets.csv").write_text("id,companyID,title\n7,101,Printer\n")
    charge = "id,ticketID,datePurchased,name,unitQuantity,unitPrice\n501,7,2026-10-05,Toner,1,80\n"
    (month / "TicketCharges.csv").write_text(charge)
    first = run_invoice(options(month, tmp_path))
    assert len(first.invoice_numbers) == 1
    (month / "TicketCharges.csv").rename(month / "charges.csv")
    again = run_invoice(options(month, tmp_path))
    assert again.invoice_numbers == [] and again.manifest["counts"]["skipped"]["already_invoiced"] == 1  # type: ignore[index]


def test_a_second_download_of_a_file_is_read_once_and_reported(sample_month: Path, tmp_path: Path) -> None:
    month = tmp_path / "in"
    shutil.copytree(sample_month, month)
    shutil.copy(month / "BillingItems.xlsx", month / "BillingItems (1).xlsx")
    with_copy = run_invoice(options(month, tmp_path, draft=True))
    clean = run_invoice(options(sample_month, tmp_path / "clean", draft=True))
    assert with_copy.invoice_numbers == clean.invoice_numbers
    pd.testing.assert_frame_equal(invoices_csv(with_copy.out_dir), invoices_csv(clean.out_dir))
    copies = [i for i in with_copy.analysis.issues if i.reason == "copy_of_another_file"]
    assert [c.file for c in copies] == ["BillingItems (1).xlsx"] and "BillingItems.xlsx" in copies[0].message


def _final_run(month: Path, tmp_path: Path, out: str, queue: multiprocessing.Queue) -> None:
    opts = RunOptions(
        inputs=month, period="2026-10", out=tmp_path / out, register=tmp_path / "register.sqlite"
    )
    try:
        queue.put((out, run_invoice(opts).invoice_numbers, ""))
    except BillingError as exc:
        queue.put((out, [], str(exc)))


def test_two_final_runs_at_once_bill_every_item_once(sample_month: Path, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()
    runs = [ctx.Process(target=_final_run, args=(sample_month, tmp_path, f"run-{i}", queue)) for i in (1, 2)]
    for run in runs:
        run.start()
    results = [queue.get(timeout=240) for _ in runs]
    for run in runs:
        run.join(timeout=60)
    numbered = [r for r in results if r[1]]
    # whichever finalised second either was refused (it read the month before the first committed)
    # or found everything already invoiced: never a second invoice for an item, never a reused number
    assert len(numbered) == 1
    for out, numbers, error in results:
        if error:
            assert "already on issued invoices" in error
            assert not list((tmp_path / out).glob("invoices/*")) and not list(
                (tmp_path / out).glob(".partial-*")
            )
        elif not numbers:
            assert invoices_csv(tmp_path / out).empty
    winner = tmp_path / numbered[0][0]
    items = pd.read_csv(winner / "invoice_items.csv", dtype=str)
    with Register(tmp_path / "register.sqlite") as register:
        assert sorted(register.invoices()["invoice_number"]) == sorted(numbered[0][1])
        assert len(register.previously_invoiced()) == len(items)  # one standing record per item
    assert numbered[0][1] == [f"INV-202610-{i:04d}" for i in range(1, len(numbered[0][1]) + 1)]


def test_a_register_that_fails_to_commit_leaves_nothing_that_looks_issued(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing_lib.io import register as register_module

    real = register_module.Register.finalise

    def finalise_then_fail(self: Register, invoice_set: object, number_format: str, write, **kw):  # type: ignore[no-untyped-def]
        def write_then_fail(final: object) -> None:
            write(final)  # every file is written ...
            raise RegisterError("COMMIT failed (injected)")  # ... and then the register does not record them

        return real(self, invoice_set, number_format, write_then_fail, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(register_module.Register, "finalise", finalise_then_fail)
    with pytest.raises(RegisterError, match="injected"):
        run_invoice(options(sample_month, tmp_path))
    assert leftovers(tmp_path) == [] and not (tmp_path / "out" / "2026-10" / "invoices").exists()
    with Register(tmp_path / "register.sqlite") as register:
        assert register.invoices().empty


def test_a_posted_billing_item_is_the_time_entry_it_was_posted_from(tmp_path: Path) -> None:
    """October invoices raw time entry 77; November's export has its posted row (timeEntryID 77)."""
    month = tmp_path / "in"
    month.mkdir()
    (month / "Companies.csv").write_text("id,companyName\n101,Contoso\n")
    (month / "Tickets.csv").write_text("id,companyID,title\n7,101,Printer\n")
    (month / "TimeEntries.csv").write_text(
        "id,ticketID,dateWorked,hoursToBill,hourlyRate\n77,7,2026-10-05,2,100\n"
    )
    first = run_invoice(options(month, tmp_path))
    assert len(first.invoice_numbers) == 1
    (month / "TimeEntries.csv").unlink()
    (month / "BillingItems.csv").write_text(
        "id,itemDate,companyID,ticketID,timeEntryID,quantity,rate,extendedPrice,invoiceID\n"
        "9001,2026-10-05,101,7,77,2,100,200,0\n"
    )
    again = run_invoice(options(month, tmp_path))
    assert again.invoice_numbers == [] and again.manifest["counts"]["skipped"]["already_invoiced"] == 1  # type: ignore[index]
