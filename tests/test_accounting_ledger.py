"""The export ledger in the register: a final run writes the accounting files mapped and neutralised, each
document is exported once across runs, voids and ``--again``, and a failing export issues nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import textwrap
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from accounting_files import cents, read_quickbooks, read_rows, read_xero

from billing_lib.io.accounting_ledger import export_period, read_map
from billing_lib.io.register import Register
from billing_lib.run.cli import main
from billing_lib.run.pipeline import void_invoice

COMPANIES = """
    id,companyName,taxRate,currency,address,city,postalCode,country,paymentTerms,address2,email
    101,"=HYPERLINK(""http://evil.example""),Acme",21,EUR,Kerkstraat 1,Amsterdam,1017 GA,NL,30 days,Floor 2,ap@acme.example
    102,"Smith, Jones & ""Partners"" Ltd",20,GBP,1 High St,London,EC1A 1BB,GB,14 days,,
    103,Globex,0,USD,,,,US,,,
"""


CONTRACTS = '''
    id,purchaseOrderNumber,contractName,companyID
    C1,PO-7,Managed services,101
    C2,"PO 8, phase ""2""",Support,102
    C3,,Hardware,103
'''


# 101: a line of three 0.333 h items whose rounded amounts (3 x 31.64) are not 0.999 h x 95 (94.91);
# 103 (USD) credits more than it bills: a credit note.
OCTOBER = """
    id,itemDate,companyID,contractID,billingCodeName,description,quantity,rate,extendedPrice
    B1,2026-10-02,101,C1,Remote support,Mailbox restore,0.333,95,31.635
    B2,2026-10-03,101,C1,Remote support,VPN fix,0.333,95,31.635
    B3,2026-10-04,101,C1,Remote support,Printer,0.333,95,31.635
    B4,2026-10-05,101,C1,Hardware,"Laptop 14"", silver",2,649.5,1299
    B5,2026-10-06,102,C2,,=cmd|' /C calc'!A0,1.5,95,142.5
    B6,2026-10-07,102,C2,Consultancy,"Review, ""phase 2"" notes",3,165,495
    B7,2026-10-08,103,C3,Hardware,Returned switch,-1,200,-200
    B8,2026-10-09,103,C3,Hardware,Cable,2,12.25,24.5
"""


LATE_OCTOBER = """
    id,itemDate,companyID,contractID,billingCodeName,description,quantity,rate,extendedPrice
    B9,2026-10-29,102,C2,Remote support,Backup check,1,95,95
"""


ACCOUNTING_MAP = """
    type,autotask,quickbooks,xero,ledger_name,account_code
    customer,101,,,"=Acme, Inc.",
    customer,"Smith, Jones & ""Partners"" Ltd",,"Smith Jones Partners (UK)",,
    billing_code,Remote support,"Services:Remote support",REMOTE,,4000
    tax,S 21,21.0% S,21% (VAT on Income),,
    tax,0,No VAT,No VAT,,
    setting,date_format,,,YYYY-MM-DD,
"""


def write_inputs(folder: Path, items: str = OCTOBER, amap: str | None = ACCOUNTING_MAP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {"Companies": COMPANIES, "Contracts": CONTRACTS, "BillingItems": items}
    if amap is not None:
        tables["accounting_map"] = amap
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


def invoices_csv(out: Path) -> dict[str, tuple[str, int, int]]:
    _, rows = read_rows(out / "invoices.csv")
    return {
        r["invoice_number"]: (r["currency"], cents(r["net_amount"]), cents(r["tax_amount"])) for r in rows
    }


def final(inputs: Path, out: Path, register: Path, *extra: str) -> None:
    args = ["invoice", "--inputs", str(inputs), "--period", "2026-10", "--out", str(out)]
    assert main([*args, "--register", str(register), "--no-excel", *extra]) == 0


def credit_note_of(register: Path, invoice: str) -> str:
    with sqlite3.connect(register) as db:
        return str(
            db.execute("SELECT credit_note FROM voids WHERE invoice_number = ?", (invoice,)).fetchone()[0]
        )


def ledger_rows(register: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(register) as db:
        return db.execute(
            "SELECT document_number, ledger, again FROM accounting_exported ORDER BY document_number, ledger, again"
        ).fetchall()


def test_a_final_run_writes_the_accounting_files_mapped_and_neutralised(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    out, register = tmp_path / "out", tmp_path / "register.sqlite"
    final(inputs, out, register)
    folder = out / "accounting"
    assert sorted(p.name for p in folder.iterdir()) == [
        "quickbooks_credit_notes.csv", "quickbooks_invoices.csv", "quickbooks_invoices_2.csv", "xero_invoices.csv",
    ]  # fmt: skip
    issued = invoices_csv(out)
    quickbooks, xero = read_quickbooks(folder), read_xero(folder)
    assert {k: v[:3] for k, v in quickbooks.items()} == issued
    assert {k: v[:3] for k, v in xero.items()} == issued
    assert len({v[3] for v in quickbooks.values()}) == 3  # EUR and GBP invoices, the USD credit note

    _, rows = read_rows(folder / "xero_invoices.csv")
    by_customer = defaultdict(list)
    for r in rows:
        by_customer[r["ContactName"]].append(r)
    # mapped by id (the shared ledger name), by name (Xero's own), and the default: the Autotask name
    assert set(by_customer) == {"'=Acme, Inc.", "Smith Jones Partners (UK)", "Globex"}
    acme = by_customer["'=Acme, Inc."]
    assert {r["InvoiceDate"] for r in acme} == {dt.date.today().isoformat()}  # the map's date_format
    assert acme[0]["DueDate"] == (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert acme[0]["Reference"] == "PO-7" and acme[0]["POCity"] == "Amsterdam"
    assert (acme[0]["POAddressLine2"], acme[0]["EmailAddress"]) == ("Floor 2", "ap@acme.example")
    remote = [r for r in acme if r["Description"] == "Remote support"]
    assert [(r["Quantity"], r["UnitAmount"], r["InventoryItemCode"], r["AccountCode"]) for r in remote] == [
        ("1", "94.92", "REMOTE", "4000")  # 3 x 31.64 is not 0.999 h x 95: written as one at the amount
    ]
    assert {r["TaxType"] for r in acme} == {"21% (VAT on Income)"}
    smith = by_customer["Smith Jones Partners (UK)"]
    assert smith[0]["Reference"] == 'PO 8, phase "2"'  # commas and quotes kept
    assert "'=cmd|' /C calc'!A0" in {r["Description"] for r in smith}  # a formula is text
    assert {r["TaxType"] for r in smith} == {"20% (VAT on Income)"}  # unmapped rate: the stated default
    assert {r["AccountCode"] for r in smith if "Consultancy" in r["Description"]} == {"200"}

    _, qbo = read_rows(folder / "quickbooks_invoices_2.csv")
    assert {r["Customer"] for r in qbo} == {'Smith, Jones & "Partners" Ltd'}  # QuickBooks: no name mapped
    assert {r["Terms"] for r in qbo} == {
        ""
    }  # 14 days is not one of QuickBooks' standard terms: the due date says it
    assert {r["DueDate"] for r in qbo} == {(dt.date.today() + dt.timedelta(days=14)).isoformat()}
    assert {r["Memo"] for r in qbo} == {'PO PO 8, phase "2"'}
    _, credit = read_rows(folder / "quickbooks_credit_notes.csv")
    assert {r["Customer"] for r in credit} == {"Globex"} and {r["ItemTaxCode"] for r in credit} == {"No VAT"}
    assert sorted(r["ItemAmount"] for r in credit) == ["-24.50", "200.00"]
    raw = (folder / "xero_invoices.csv").read_text(encoding="utf-8")
    assert not raw.startswith("\ufeff") and "\n=" not in raw and ",=" not in raw
    assert ledger_rows(register) == sorted(
        (n, ledger, 0) for n in issued for ledger in ("quickbooks", "xero")
    )


def test_a_draft_run_writes_no_accounting_files_and_records_nothing(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    out, register = tmp_path / "out", tmp_path / "register.sqlite"
    final(inputs, out, register, "--draft")
    assert not (out / "accounting").exists()
    assert not register.exists()


def test_each_document_is_exported_once_across_runs_voids_and_again(tmp_path: Path, capsys) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    register = tmp_path / "register.sqlite"
    final(inputs, tmp_path / "run1", register)
    first = set(invoices_csv(tmp_path / "run1"))
    capsys.readouterr()

    # nothing new: the command says so and writes nothing
    assert (
        main(
            ["accounting", "--period", "2026-10", "--register", str(register), "--out", str(tmp_path / "a1")]
        )
        == 0
    )
    assert "nothing to export" in capsys.readouterr().out and not (tmp_path / "a1").exists()

    # a second final run with late items: its accounting files hold only its own new invoice
    write_inputs(inputs, OCTOBER + textwrap.dedent(LATE_OCTOBER).split("\n", 2)[2])
    final(inputs, tmp_path / "run2", register)
    second = set(invoices_csv(tmp_path / "run2"))
    assert len(second) == 1 and not second & first
    assert set(read_quickbooks(tmp_path / "run2" / "accounting")) == second
    assert set(read_xero(tmp_path / "run2" / "accounting")) == second

    # a void issues a credit note of its own number, and exports it at once (the invoice's lines negated)
    voided = sorted(first)[0]
    capsys.readouterr()
    assert main(["void", voided, "--reason", "wrong PO", "--register", str(register)]) == 0
    said = capsys.readouterr().out
    credit_note = credit_note_of(register, voided)
    folder = Path(re.search(r"import files: (\S+) \(", said).group(1))  # type: ignore[union-attr]
    assert set(read_quickbooks(folder)) == {credit_note}
    mask = os.umask(0o022)
    os.umask(mask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~mask  # the user's umask, not mkdtemp's 0700
    xero = read_xero(folder)
    issued = invoices_csv(tmp_path / "run1")[voided]
    assert xero[credit_note][:3] == (issued[0], -issued[1], -issued[2])
    _, rows = read_rows(folder / "xero_invoices.csv")  # the invoice's quantities at negated prices
    assert {r["Quantity"] for r in rows} > {"2"} and all(r["UnitAmount"].startswith("-") for r in rows)
    assert {r["Reference"] for r in rows} == {"PO-7"}
    _, rows = read_rows(folder / "quickbooks_credit_notes.csv")
    assert {r["Memo"] for r in rows} == {f"Credit note for {voided} (voided: wrong PO); PO PO-7"}
    assert (
        main(
            ["accounting", "--period", "2026-10", "--register", str(register), "--out", str(tmp_path / "a3")]
        )
        == 0
    )
    assert not (tmp_path / "a3").exists()

    # --again writes the whole period again on purpose, recorded as a re-export
    capsys.readouterr()
    args = [
        "accounting",
        "--period",
        "2026-10",
        "--register",
        str(register),
        "--again",
        "--out",
        str(tmp_path / "a4"),
    ]
    assert main(args) == 0
    assert "(again)" in capsys.readouterr().out
    everything = first | second | {credit_note}
    assert set(read_xero(tmp_path / "a4")) == everything
    rows = ledger_rows(register)
    firsts = [(n, ledger) for n, ledger, again in rows if not again]
    assert sorted(firsts) == sorted((n, ledger) for n in everything for ledger in ("quickbooks", "xero"))
    assert sorted((n, ledger) for n, ledger, again in rows if again) == sorted(firsts)
    with sqlite3.connect(register) as db, pytest.raises(sqlite3.IntegrityError):  # exactly once, by the index
        db.execute("INSERT INTO accounting_exported VALUES (?, ?, 'invoice', 'xero', 1, 0)", (voided, voided))

    # the refusal to write into a folder that holds something
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    assert main([*args[:-1], str(tmp_path / "busy")]) == 2
    assert "not empty" in capsys.readouterr().err


def test_the_next_final_run_carries_a_credit_note_not_exported_yet(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    register = tmp_path / "register.sqlite"
    final(inputs, tmp_path / "run1", register)
    voided = sorted(invoices_csv(tmp_path / "run1"))[0]
    void_invoice(voided, "re-invoice", register)  # as the app voids: no export of its own
    final(inputs, tmp_path / "run2", register)  # re-invoices the released items
    new = set(invoices_csv(tmp_path / "run2"))
    assert set(read_xero(tmp_path / "run2" / "accounting")) == new | {credit_note_of(register, voided)}


def test_a_void_recorded_before_credit_notes_is_exported_as_the_invoice_negated(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    register = tmp_path / "register.sqlite"
    final(inputs, tmp_path / "run1", register)
    voided = sorted(invoices_csv(tmp_path / "run1"))[0]
    with sqlite3.connect(register) as db:  # as a version 1 register's void, migrated: no credit note
        db.execute("INSERT INTO voids VALUES (?, '2026-11-02T10:00:00+00:00', 'legacy', NULL)", (voided,))
    result = export_period(register, "2026-10", tmp_path / "legacy")
    assert [d.number for f in result.files for d in f.documents if f.ledger == "xero"] == [f"{voided}-CN"]
    issued = invoices_csv(tmp_path / "run1")[voided]
    assert read_xero(tmp_path / "legacy")[f"{voided}-CN"][:3] == (issued[0], -issued[1], -issued[2])
    _, rows = read_rows(tmp_path / "legacy" / "quickbooks_credit_notes.csv")
    assert {r["CreditNoteDate"] for r in rows} == {"2026-11-02"}


def test_a_register_from_before_the_hand_off_gains_its_tables(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "inputs", amap=None)
    register = tmp_path / "register.sqlite"
    final(inputs, tmp_path / "run1", register)
    issued = invoices_csv(tmp_path / "run1")
    with sqlite3.connect(register) as db:  # as a register written before this module
        for table in ("accounting_exported", "accounting_files", "accounting_lines", "accounting_documents",
                      "accounting_maps"):  # fmt: skip
            db.execute(f"DROP TABLE {table}")
    result = export_period(register, "2026-10", tmp_path / "again", quickbooks_limit=1)
    assert result.documents == len(issued)
    assert {k: v[:3] for k, v in read_xero(tmp_path / "again").items()} == issued
    assert {k: v[:3] for k, v in read_quickbooks(tmp_path / "again", limit=1).items()} == issued


def test_a_failing_export_issues_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    register = tmp_path / "register.sqlite"

    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise OSError("disk full")

    monkeypatch.setattr("billing_lib.io.accounting_ledger.write_files", broken)
    args = ["invoice", "--inputs", str(inputs), "--period", "2026-10", "--out", str(tmp_path / "out")]
    assert main([*args, "--register", str(register), "--no-excel"]) == 1
    assert "disk full" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "out").iterdir()] == [".billing-folder"]  # no file of the run
    with Register(register) as reg:
        assert reg.invoices().empty


def test_check_lists_what_the_map_leaves_to_the_defaults(tmp_path: Path, capsys) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    main(["check", "--inputs", str(inputs), "--period", "2026-10"])
    text = capsys.readouterr().out
    section = text[text.index("Accounting hand-off") : text.index("Problems")]
    assert (
        "1 customer would be created in QuickBooks and Xero unless one of exactly that name exists: Globex"
        in section
    )
    assert "3 billing codes would be created as products/services" in section
    assert "Charges, Consultancy, Hardware" in section  # B5 has no billing code: the default item
    assert "S 20 -> QuickBooks '20.0% S', Xero '20% (VAT on Income)'" in section
    assert "S 21" not in section  # mapped


def test_a_map_is_read_alone_from_a_folder_or_file(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    amap = read_map(inputs)
    assert amap.given and amap.settings == {"date_format": "YYYY-MM-DD"}
    assert read_map(inputs / "accounting_map.csv").customers == amap.customers


def test_a_final_month_of_250_invoices_splits_its_quickbooks_files(tmp_path: Path) -> None:
    companies = ["id,companyName,taxRate,currency"] + [
        f"{900 + i},Customer {i:03d},21,EUR" for i in range(250)
    ]
    items = ["id,itemDate,companyID,description,quantity,rate,extendedPrice"] + [
        f"X{i},2026-10-{1 + i % 28:02d},{900 + i},Support,1,{100 + i},{100 + i}" for i in range(250)
    ]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "Companies.csv").write_text("\n".join(companies) + "\n", encoding="utf-8")
    (inputs / "BillingItems.csv").write_text("\n".join(items) + "\n", encoding="utf-8")
    final(inputs, tmp_path / "out", tmp_path / "register.sqlite")
    folder = tmp_path / "out" / "accounting"
    assert sorted(p.name for p in folder.iterdir()) == [
        "quickbooks_invoices.csv", "quickbooks_invoices_2.csv", "quickbooks_invoices_3.csv", "xero_invoices.csv",
    ]  # fmt: skip
    quickbooks = read_quickbooks(folder)
    assert sorted(Counter(v[3] for v in quickbooks.values()).values()) == [50, 100, 100]
    issued = invoices_csv(tmp_path / "out")
    assert len(issued) == 250
    assert {k: v[:3] for k, v in quickbooks.items()} == issued
    assert {k: v[:3] for k, v in read_xero(folder).items()} == issued
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "accounting/quickbooks_invoices_3.csv" in manifest["outputs"]


def test_again_repeats_the_files_as_issued_or_with_a_corrected_map(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "inputs")
    register = tmp_path / "register.sqlite"
    final(inputs, tmp_path / "run1", register)
    args = ["accounting", "--period", "2026-10", "--register", str(register), "--again"]
    assert main([*args, "--out", str(tmp_path / "same")]) == 0
    for name in ("xero_invoices.csv", "quickbooks_invoices.csv", "quickbooks_credit_notes.csv"):
        assert read_rows(tmp_path / "same" / name) == read_rows(tmp_path / "run1" / "accounting" / name)

    corrected = tmp_path / "corrected"
    write_inputs(corrected, amap=ACCOUNTING_MAP + "    customer,103,Globex Corporation,,,\n")
    assert (
        main([*args, "--inputs", str(corrected / "accounting_map.csv"), "--out", str(tmp_path / "fixed")])
        == 0
    )
    _, rows = read_rows(tmp_path / "fixed" / "quickbooks_credit_notes.csv")
    assert {r["Customer"] for r in rows} == {"Globex Corporation"}
    assert main([*args, "--inputs", str(tmp_path / "nowhere")]) == 2
