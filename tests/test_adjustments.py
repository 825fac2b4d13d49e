"""The analyst's adjustments (adjustments.csv beside the inputs): applied by every run, listed in the manifest,
never silently ignored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from billing_lib.core import adjustments as adj
from billing_lib.core.checklist import build_checklist
from billing_lib.domain.errors import InputError
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import check, prepare, run_invoice


@pytest.fixture()
def month(sample_month: Path, tmp_path: Path) -> Path:
    """A writable copy of the sample month (the adjustments file goes beside the inputs)."""
    return Path(shutil.copytree(sample_month, tmp_path / "inputs"))


def options(month: Path, tmp_path: Path, draft: bool = True) -> RunOptions:
    return RunOptions(
        inputs=month,
        period="2026-10",
        out=tmp_path / "out",
        register=tmp_path / "register.sqlite",
        draft=draft,
    )


def held(month: Path, tmp_path: Path) -> dict[tuple[str, str], str]:
    prep = prepare(options(month, tmp_path))[0]
    return dict(
        zip(
            zip(prep.held["source_table"], prep.held["item_id"], strict=True),
            prep.held["reason"],
            strict=True,
        )
    )


def test_a_po_given_to_an_item_that_needs_one_invoices_it(month: Path, tmp_path: Path) -> None:
    before = held(month, tmp_path)
    item = next(k for k, r in before.items() if r == "missing_po")
    prep, ref, _ = prepare(options(month, tmp_path))
    customer = prep.held.loc[prep.held["item_id"] == item[1], "customer_id"].iloc[0]
    po = str(ref.loc[ref["customer_id"] == customer, "po_number"].iloc[0])
    adj.add(adj.path_beside(month), adj.Adjustment(*item, adj.SET_PO, po, note="PO from the buyer's mail"))
    prep = prepare(options(month, tmp_path))[0]
    row = prep.items[(prep.items["source_table"] == item[0]) & (prep.items["item_id"] == item[1])]
    assert list(row["po_number"]) == [po]
    assert item not in set(zip(prep.held["source_table"], prep.held["item_id"], strict=True))
    assert [a.outcome for a in prep.adjustments] == [adj.APPLIED]


def test_release_and_leave_out_change_what_is_invoiced_and_the_manifest_lists_them(
    month: Path, tmp_path: Path
) -> None:
    before = held(month, tmp_path)
    mismatched = [k for k, r in before.items() if r == "po_customer_mismatch"]
    path = adj.path_beside(month)
    adj.add(path, adj.Adjustment(*mismatched[0], adj.RELEASE, note="PO shared by the group, agreed"))
    adj.add(path, adj.Adjustment(*mismatched[1], adj.LEAVE_OUT, note="billed by hand"))
    result = run_invoice(options(month, tmp_path))
    invoiced = set(
        zip(
            result.analysis.invoice_set.items["source_table"],
            result.analysis.invoice_set.items["item_id"],
            strict=True,
        )
    )
    assert mismatched[0] in invoiced
    assert mismatched[1] not in invoiced
    assert mismatched[1] not in set(
        zip(result.analysis.held["source_table"], result.analysis.held["item_id"], strict=True)
    )
    assert result.analysis.prep.skipped[adj.LEFT_OUT] == 1
    manifest = json.loads((result.out_dir / "manifest.json").read_text())
    rows = manifest["adjustments"]["rows"]
    assert [(r["item_id"], r["action"], r["outcome"], r["note"]) for r in rows] == [
        (mismatched[0][1], "release", "applied", "PO shared by the group, agreed"),
        (mismatched[1][1], "leave_out", "applied", "billed by hand"),
    ]
    assert manifest["counts"]["skipped"]["left_out"] == 1
    # the released item's hold is now a flag that says who decided
    messages = [i.message for i in result.analysis.issues if i.item_id == mismatched[0][1]]
    assert messages and all("released by the analyst: PO shared by the group" in m for m in messages)


def test_the_check_applies_them_too(month: Path, tmp_path: Path) -> None:
    before = check(options(month, tmp_path))
    item = next(k for k, r in held(month, tmp_path).items() if r == "po_customer_mismatch")
    adj.add(adj.path_beside(month), adj.Adjustment(*item, adj.LEAVE_OUT, note="not ours"))
    after = check(options(month, tmp_path))
    assert after.held == before.held - 1


def test_an_adjustment_for_an_unknown_item_is_reported(month: Path, tmp_path: Path) -> None:
    adj.path_beside(month).write_text(
        "source_table,item_id,action,value,note,who,when\n"
        "billing_items,99999999,release,,typo in the id,ana,2026-11-02T10:00:00\n"
    )
    prep, ref, _ = prepare(options(month, tmp_path))
    flags = [i for i in prep.issues if i.reason == adj.ADJUSTMENT]
    assert [f.message for f in flags] == [
        "adjustments.csv, row 2: no held item 99999999 in billing_items; the adjustment was not applied"
    ]
    assert [a.outcome for a in prep.adjustments] == [adj.NOT_FOUND]
    import billing_lib.core.burndown as bd

    checklist = build_checklist(
        prep, bd.burndown(prep.items, ref, prep.period, _), bd.exposure(prep.items, prep.held)
    )
    assert checklist.flagged_by_reason and dict(checklist.flagged_by_reason)[adj.ADJUSTMENT] == 1


def test_an_item_held_for_broken_data_cannot_be_released(month: Path, tmp_path: Path) -> None:
    item = next(k for k, r in held(month, tmp_path).items() if r == "invalid_row")
    adj.add(adj.path_beside(month), adj.Adjustment(*item, adj.RELEASE, note="please"))
    prep = prepare(options(month, tmp_path))[0]
    assert item in set(zip(prep.held["source_table"], prep.held["item_id"], strict=True))
    assert [a.outcome for a in prep.adjustments] == [adj.NOT_RELEASABLE]
    assert any("which a release cannot fix" in i.message for i in prep.issues if i.reason == adj.ADJUSTMENT)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("billing_items,1,delete,,x", "adjustments.csv, row 2, column action: the action is one of"),
        ("billing_items,1,set_po,,x", "adjustments.csv, row 2, column value: set_po needs the PO number"),
        (",1,release,,x", "adjustments.csv, row 2, column source_table: every adjustment names its item"),
    ],
)
def test_a_malformed_row_stops_the_run_with_its_place(
    month: Path, tmp_path: Path, line: str, message: str
) -> None:
    adj.path_beside(month).write_text("source_table,item_id,action,value,note\n" + line + "\n")
    with pytest.raises(InputError, match=message):
        prepare(options(month, tmp_path))


def test_notes_are_written_as_text_not_formulas(tmp_path: Path) -> None:
    path = tmp_path / adj.FILE_NAME
    adj.add(path, adj.Adjustment("billing_items", "1", adj.LEAVE_OUT, note="=HYPERLINK(1)"))
    assert "'=HYPERLINK(1)" in path.read_text()
    assert adj.read(path)[0].note == "=HYPERLINK(1)"
    with pytest.raises(InputError, match="needs a note"):
        adj.add(path, adj.Adjustment("billing_items", "2", adj.RELEASE, note=" "))


def test_the_file_is_not_read_as_an_input_table(month: Path, tmp_path: Path) -> None:
    adj.add(adj.path_beside(month), adj.Adjustment("billing_items", "1", adj.LEAVE_OUT, note="x"))
    result = run_invoice(options(month, tmp_path))
    assert adj.FILE_NAME not in result.manifest["ignored_inputs"]  # type: ignore[operator]


def test_applying_adjustments_makes_a_new_month_and_leaves_the_one_given_alone(tmp_path: Path) -> None:
    import io
    from collections import Counter

    import pandas as pd

    from billing_lib.core.rules import Prepared
    from billing_lib.domain.period import Period

    items = pd.read_csv(io.StringIO(
        "source_table,item_id,po_number,po_key,po_source\n"
        "charges,1,,,\n"
        "charges,2,PO-2,po-2,item\n"
    ), dtype=str, keep_default_na=False)  # fmt: skip
    held = pd.DataFrame({"source_table": ["charges"], "item_id": ["3"], "reason": ["missing_po"]})
    given = Prepared(Period.parse("2026-10"), items, held, [], Counter(), 3, None)  # type: ignore[arg-type]
    path = tmp_path / adj.FILE_NAME
    decisions = [
        adj.Adjustment("charges", "1", adj.SET_PO, "PO-9", note="mail"),
        adj.Adjustment("charges", "2", adj.LEAVE_OUT, note="not ours"),
        adj.Adjustment("charges", "3", adj.RELEASE, note="agreed"),
    ]
    before, decided = adj.apply_before_checks(given, decisions, set(), path)
    assert before.items[["item_id", "po_number", "po_key", "po_source"]].values.tolist() == [
        ["1", "PO-9", "po-9", "adjustment"]
    ]
    assert before.skipped[adj.LEFT_OUT] == 1
    after, done = adj.apply_after_checks(before, decided, path)
    assert after.items["item_id"].tolist() == ["1", "3"] and after.held.empty
    assert [a.outcome for a in done] == [adj.APPLIED] * 3 and after.adjustments == done
    # the months given are as they were
    assert given.items["po_number"].tolist() == ["", "PO-2"] and given.skipped == Counter()
    assert given.held["item_id"].tolist() == ["3"] and before.held["item_id"].tolist() == ["3"]
