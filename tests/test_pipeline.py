"""run_invoice end to end on the sample month: atomic final runs, re-runs, voids and concurrent runs."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from billing_lib import excel
from billing_lib.errors import BillingError
from billing_lib.pipeline import RunOptions, run_invoice
from billing_lib.register import Register


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
    return sorted(p.name for p in (tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []


def test_a_failure_after_some_workbooks_leaves_nothing_and_a_rerun_gets_the_same_numbers(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = excel._workbook_bytes
    calls = {"n": 0}

    def fail_on_the_fourth(*args: object) -> bytes:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full (injected)")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(excel, "_workbook_bytes", fail_on_the_fourth)
    with pytest.raises(OSError, match="injected"):
        run_invoice(options(sample_month, tmp_path))
    assert calls["n"] == 4  # three workbooks were written before the failure
    assert leftovers(tmp_path) == []  # no output folder, no temporary folder
    with Register(tmp_path / "register.sqlite") as register:
        assert register.invoices().empty and not register.invoiced_items()

    monkeypatch.setattr(excel, "_workbook_bytes", real)
    result = run_invoice(options(sample_month, tmp_path))
    clean = run_invoice(options(sample_month, tmp_path / "clean"))
    assert result.invoice_numbers == clean.invoice_numbers
    assert result.invoice_numbers[0] == "INV-202610-0001"
    assert len(result.invoice_numbers) == len(list((result.out_dir / "invoices").glob("*.xlsx")))


def test_an_interrupted_run_leaves_nothing(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*_args: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(excel, "_workbook_bytes", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_invoice(options(sample_month, tmp_path))
    assert leftovers(tmp_path) == []
    with Register(tmp_path / "register.sqlite") as register:
        assert register.invoices().empty


def test_a_rerun_of_a_finished_period_invoices_nothing_and_keeps_the_first_run(
    sample_month: Path, tmp_path: Path
) -> None:
    first = run_invoice(options(sample_month, tmp_path))
    first_invoices = invoices_csv(first.out_dir)
    second = run_invoice(options(sample_month, tmp_path))
    assert second.invoice_numbers == []
    assert invoices_csv(second.out_dir).empty
    assert second.manifest["counts"]["invoiced"] == 0  # type: ignore[index]
    [kept] = list((second.out_dir / "previous-runs").iterdir())
    pd.testing.assert_frame_equal(invoices_csv(kept), first_invoices)
    assert sorted(p.stem for p in (kept / "invoices").glob("*.xlsx")) == sorted(first.invoice_numbers)


def test_voiding_releases_the_items_for_the_next_number(sample_month: Path, tmp_path: Path) -> None:
    first = run_invoice(options(sample_month, tmp_path))
    voided = first.invoice_numbers[1]
    items = pd.read_csv(first.out_dir / "invoice_items.csv", dtype=str)
    released = set(items.loc[items["invoice_number"] == voided, "item_id"])
    with Register(tmp_path / "register.sqlite") as register:
        register.void(voided, "wrong PO on the customer's order")
    again = run_invoice(options(sample_month, tmp_path))
    next_number = f"INV-202610-{len(first.invoice_numbers) + 1:04d}"
    assert again.invoice_numbers == [next_number]  # gapless: the voided number is not reused
    again_items = pd.read_csv(again.out_dir / "invoice_items.csv", dtype=str)
    assert set(again_items["item_id"]) == released


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
            assert "already on issued invoices" in error and not (tmp_path / out).exists()
        elif not numbers:
            assert invoices_csv(tmp_path / out).empty
    winner = tmp_path / numbered[0][0]
    items = pd.read_csv(winner / "invoice_items.csv", dtype=str)
    with Register(tmp_path / "register.sqlite") as register:
        assert sorted(register.invoices()["invoice_number"]) == sorted(numbered[0][1])
        assert len(register.invoiced_items()) == len(items)
    assert numbered[0][1] == [f"INV-202610-{i:04d}" for i in range(1, len(numbered[0][1]) + 1)]


def test_a_register_that_fails_to_commit_after_the_swap_leaves_no_folder_that_looks_final(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing_lib import register as register_module
    from billing_lib.errors import RegisterError

    def finalise_then_fail(self: Register, invoice_set: object, number_format: str, write) -> None:  # type: ignore[no-untyped-def]
        write(invoice_set)  # the files are written and moved into place ...
        raise RegisterError("COMMIT failed (injected)")  # ... and then the register does not record them

    monkeypatch.setattr(register_module.Register, "finalise", finalise_then_fail)
    with pytest.raises(RegisterError, match="injected"):
        run_invoice(options(sample_month, tmp_path))
    names = leftovers(tmp_path)
    assert "2026-10" not in names  # nothing where the final invoices would be
    assert len(names) == 1 and names[0].startswith("2026-10.not-recorded-")
