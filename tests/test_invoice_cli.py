"""``billing invoice --draft --no-excel``: SPEC section 5's CSV tables and manifest, reconciled to the cent.

A hand-written month goes through ``billing_lib.run.cli.main`` and through the installed ``billing``
command; the tables are read back as text and checked with ``Decimal`` (never floats).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from billing_lib.run.cli import main

INVOICE_HEAD = [
    "invoice_number",
    "customer_id",
    "customer_name",
    "method",
    "group_key",
    "po_number",
    "currency",
    "net_amount",
    "tax_amount",
    "total_amount",
    "line_count",
    "item_count",
]
ITEM_HEAD = ["invoice_number", "source_table", "item_id", "amount"]
EXCEPTION_HEAD = ["source_table", "item_id", "reason", "action", "message"]
TWO_PLACES = re.compile(r"^-?\d+\.\d{2}$")

# Acme (EUR, 20 %) takes the run's method (po_number): PO-7 from contract C1 and from B2's own " po-7 ",
# B3 without PO on the ordinary invoice. Globex (USD, 7.5 %) is billed by customer: one invoice with
# PO-8 and PO-9 whose credits outweigh the rest (a credit note). B5 has no valid date, B6 is not
# billable, B7 belongs to November, T1 has no rate.
MONTH = {
    "Companies": """
        id,companyName,taxRate,currency,consolidationMethod
        101,Acme,20,EUR,
        102,"Globex, Inc.",7.5,USD,customer
    """,
    "Contracts": """
        id,contractName,companyID,purchaseOrderNumber
        C1,Managed services,101,PO-7
        C2,Block hours,101,
        C3,Support,102,PO-8
        C4,Network,102,PO-9
    """,
    "BillingItems": """
        id,itemDate,companyID,contractID,extendedPrice,purchaseOrderNumber,nonBillable
        B1,2026-10-02,101,C1,1234.5,,
        B2,2026-10-03,101,C2,-100.004,po-7 ,
        B3,2026-10-04,101,,386.645,,
        B4,2026-10-05,102,C3,-80,,
        B5,2026-13-05,102,C3,10,,
        B6,2026-10-05,102,C3,10,,yes
        B7,2026-11-05,102,C3,10,,
        B8,2026-10-06,102,C4,50.00,,
        B9,2026-10-07,102,,20,,
    """,
    "TimeEntries": """
        id,dateWorked,companyID,contractID,hoursWorked
        T1,2026-10-08,101,C1,1.5
    """,
    "po_reference": """
        po_number,customer_id,authorised_amount,currency
        PO-7,101,1000,EUR
    """,
}

EXPECTED_INVOICES = {  # (customer, po_number) -> currency, net, tax, total, items
    ("101", "PO-7"): ("EUR", "1134.50", "226.90", "1361.40", {"B1", "B2"}),
    ("101", ""): ("EUR", "386.65", "77.33", "463.98", {"B3"}),
    ("102", "PO-8; PO-9"): ("USD", "-10.00", "-0.75", "-10.75", {"B4", "B8", "B9"}),
}


def write_inputs(folder: Path, tables: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A month of inputs; ``outputs/`` (and any register) kept under the test's own folder."""
    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "outputs"))
    return write_inputs(tmp_path / "inputs", MONTH)


def invoice_args(inputs: Path, out: Path, *extra: str) -> list[str]:
    return [
        "invoice",
        "--inputs",
        str(inputs),
        "--period",
        "2026-10",
        "--draft",
        "--out",
        str(out),
        "--no-excel",
        *extra,
    ]


def test_invoice_writes_the_tables_and_manifest(isolated: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(invoice_args(isolated, out)) == 0
    assert "3 draft invoices for 2026-10" in capsys.readouterr().out

    head, invoices = read_csv(out / "invoices.csv")
    assert head[: len(INVOICE_HEAD)] == INVOICE_HEAD
    got = {
        (r["customer_id"], r["po_number"]): (
            r["currency"],
            r["net_amount"],
            r["tax_amount"],
            r["total_amount"],
        )
        for r in invoices
    }
    assert got == {k: v[:4] for k, v in EXPECTED_INVOICES.items()}
    assert {r["customer_name"] for r in invoices} == {"Acme", "Globex, Inc."}
    assert {r["method"] for r in invoices if r["customer_id"] == "102"} == {"customer"}
    assert all(r["invoice_number"].startswith("DRAFT-202610-") for r in invoices)

    item_head, items = read_csv(out / "invoice_items.csv")
    assert item_head[: len(ITEM_HEAD)] == ITEM_HEAD
    by_invoice = {r["invoice_number"]: (r["customer_id"], r["po_number"]) for r in invoices}
    members: dict[tuple[str, str], set[str]] = {}
    for row in items:
        members.setdefault(by_invoice[row["invoice_number"]], set()).add(row["item_id"])
    assert members == {k: v[4] for k, v in EXPECTED_INVOICES.items()}
    assert {r["item_id"]: r["amount"] for r in items} == {
        "B1": "1234.50",
        "B2": "-100.00",
        "B3": "386.65",
        "B4": "-80.00",
        "B8": "50.00",
        "B9": "20.00",
    }
    for row in invoices:  # line and item counts of each invoice
        assert int(row["item_count"]) == sum(1 for i in items if i["invoice_number"] == row["invoice_number"])
        assert 1 <= int(row["line_count"]) <= int(row["item_count"])

    exc_head, exceptions = read_csv(out / "exceptions.csv")
    assert exc_head[: len(EXCEPTION_HEAD)] == EXCEPTION_HEAD
    held = {(r["item_id"], r["reason"]) for r in exceptions if r["action"] == "held"}
    assert held == {("B5", "invalid_row"), ("T1", "no_rate")}
    flagged = {(r["item_id"], r["reason"]) for r in exceptions if r["action"] == "flagged"}
    assert {("B1", "over_budget"), ("B4", "unknown_po"), ("B8", "unknown_po")} <= flagged
    assert all(r["message"] for r in exceptions)
    assert any("BillingItems.csv, row 6" in r["message"] and "itemDate" in r["message"] for r in exceptions)

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = {f["file"]: f["sha256"] for f in manifest["inputs"]}
    assert files == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in isolated.iterdir()}
    assert manifest["parameters"]["period"] == "2026-10" and manifest["parameters"]["method"] == "po_number"
    assert manifest["parameters"]["draft"] is True
    counts = manifest["counts"]
    assert (counts["read"], counts["invoiced"], counts["held"]) == (10, 6, 2)
    assert counts["flagged"] == sum(1 for r in exceptions if r["action"] == "flagged")
    assert {k: v for k, v in counts["skipped"].items() if v} == {"non_billable": 1, "after_period": 1}
    assert manifest["totals"]["EUR"]["net"] == "1521.15" and manifest["totals"]["USD"]["total"] == "-10.75"
    assert manifest["totals"]["USD"]["held_items"] == "10.00"
    assert {"billing_lib", "pandas", "python"} <= set(manifest["versions"])


def reconcile(out: Path) -> None:
    """Every item once, invoices equal their items, totals equal the manifest, amounts as ``1234.50``."""
    _, invoices = read_csv(out / "invoices.csv")
    _, items = read_csv(out / "invoice_items.csv")
    _, exceptions = read_csv(out / "exceptions.csv")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))

    for row in invoices:
        for col in ("net_amount", "tax_amount", "total_amount"):
            assert TWO_PLACES.match(row[col]), (col, row[col])
        assert Decimal(row["net_amount"]) + Decimal(row["tax_amount"]) == Decimal(row["total_amount"])
        pos = row["po_number"].split("; ") if row["po_number"] else []
        assert pos == sorted(set(pos)) and all(p.strip() == p and p for p in pos)
    assert all(TWO_PLACES.match(r["amount"]) for r in items)

    invoiced = Counter((r["source_table"], r["item_id"]) for r in items)
    assert max(invoiced.values(), default=1) == 1  # no item on two invoices
    held = {(r["source_table"], r["item_id"]) for r in exceptions if r["action"] == "held"}
    assert not held & set(invoiced)
    counts = manifest["counts"]
    assert len(invoiced) == counts["invoiced"] and len(held) <= counts["held"]
    assert counts["invoiced"] + counts["held"] == counts["read"] - sum(counts["skipped"].values())

    net_of: Counter[str] = Counter()
    for row in items:
        net_of[row["invoice_number"]] += Decimal(row["amount"])  # type: ignore[assignment]
    per_currency: dict[str, dict[str, Decimal]] = {}
    for row in invoices:
        assert Decimal(row["net_amount"]) == net_of[row["invoice_number"]], row["invoice_number"]
        sums = per_currency.setdefault(row["currency"], Counter())  # type: ignore[arg-type]
        for col in ("net", "tax", "total"):
            sums[col] += Decimal(row[f"{col}_amount"])
    for currency, sums in per_currency.items():
        totals = manifest["totals"][currency]
        assert {k: Decimal(totals[k]) for k in sums} == sums
        assert Decimal(totals["invoiced_items"]) == sums["net"]


def test_the_hand_written_month_reconciles(isolated: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(invoice_args(isolated, out)) == 0
    reconcile(out)


def test_the_sample_month_reconciles(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_OUTPUTS", str(tmp_path / "outputs"))
    out = tmp_path / "out"
    assert main(invoice_args(sample_month, out)) == 0
    reconcile(out)


def test_the_installed_command_writes_the_same_tables(isolated: Path, tmp_path: Path) -> None:
    assert main(invoice_args(isolated, tmp_path / "in-process")) == 0
    billing = Path(sys.executable).with_name("billing")
    env = {**os.environ, "BILLING_OUTPUTS": str(tmp_path / "outputs")}
    command = [str(billing), *invoice_args(isolated, tmp_path / "command")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "3 draft invoices for 2026-10" in done.stdout
    assert "Traceback" not in done.stderr
    for name in ("invoices.csv", "invoice_items.csv", "exceptions.csv"):
        assert (tmp_path / "command" / name).read_text() == (tmp_path / "in-process" / name).read_text(), name
    reconcile(tmp_path / "command")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "buyer_reference"], "buyer_reference cannot be the run's default"),
        (["--method", "weekly"], "unknown consolidation method 'weekly'; use one of po_number, contract"),
        (["--period", "2026-13"], "is not of the form YYYY-MM"),
    ],
)
def test_usage_errors_exit_2_with_a_message_and_write_nothing(
    isolated, tmp_path, capsys, args, message
) -> None:
    out = tmp_path / "out"
    assert main([*invoice_args(isolated, out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_job_is_accepted_as_contract(isolated: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main([*invoice_args(isolated, out), "--method", "job", "--force-method"]) == 0
    _, invoices = read_csv(out / "invoices.csv")
    assert {r["method"] for r in invoices} == {"contract"}
    assert sorted(r["group_key"] for r in invoices) == ["", "", "C1", "C2", "C3", "C4"]
    reconcile(out)


def test_a_timesheet_run_lists_the_charges_it_leaves_for_another_run(isolated: Path, tmp_path: Path) -> None:
    # every billing item here is a charge (no time entry id) and T1 has no rate: nothing to invoice
    out = tmp_path / "out"
    assert main([*invoice_args(isolated, out), "--method", "timesheet", "--force-method"]) == 0
    _, invoices = read_csv(out / "invoices.csv")
    assert invoices == []
    _, exceptions = read_csv(out / "exceptions.csv")
    held = {r["item_id"]: r["reason"] for r in exceptions if r["action"] == "held"}
    assert held == {
        "B1": "not_in_timesheet_run",
        "B2": "not_in_timesheet_run",
        "B3": "not_in_timesheet_run",
        "B4": "not_in_timesheet_run",
        "B8": "not_in_timesheet_run",
        "B9": "not_in_timesheet_run",
        "B5": "invalid_row",
        "T1": "no_rate",
    }
    assert {r["amount"] for r in exceptions if r["item_id"] == "B3"} == {"386.65"}
    reconcile(out)
