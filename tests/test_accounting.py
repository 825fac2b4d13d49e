"""SPEC section 5's accounting hand-off: QuickBooks Online and Xero import files, each document exported once.

The files are read back with the importers' rules (billing_lib/core/accounting.py cites them): the template's
headings, every starred column filled, one document's lines together, plain numbers, quantity x rate
giving each line's amount, at most 100 (QuickBooks) / 500 (Xero) documents a file, one currency a
QuickBooks file, and per document the lines adding up to the invoice's net and tax as ``invoices.csv``
states them.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from accounting_files import read_quickbooks, read_rows, read_xero
from hypothesis import given
from hypothesis import strategies as st

from billing_lib.core import accounting
from billing_lib.core.accounting import (
    AccountingMap,
    LedgerDocument,
    LedgerLine,
    line_tax,
    quantity_and_rate,
    write_files,
)


def document(
    number: str, amounts: list[int], *, currency: str = "EUR", rate: str = "21", tax: int | None = None
) -> LedgerDocument:
    net = sum(amounts)
    tax_minor = (
        tax
        if tax is not None
        else int((Decimal(net) * Decimal(rate) / 100).quantize(Decimal(1), ROUND_HALF_UP))
    )
    lines = tuple(
        LedgerLine(
            f"line {i}", "labour", "", "Remote support", "PO-1", Decimal(1), None, a, dt.date(2026, 10, 5)
        )
        for i, a in enumerate(amounts)
    )
    return LedgerDocument(number, number, "2026-10", "101", f"Customer {number}", dt.date(2026, 10, 31),
                          dt.date(2026, 11, 30), 30, currency, ("PO-1",), Decimal(rate), "S", net, tax_minor, lines)  # fmt: skip


@given(
    st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=30),
    st.sampled_from(["21", "7.5", "0", "19.6"]),
)
def test_line_tax_adds_up_to_the_invoice_tax_and_each_line_is_within_a_cent(
    amounts: list[int], rate: str
) -> None:
    doc = document("INV-1", amounts, rate=rate)
    taxes = line_tax(doc)
    assert sum(taxes) == doc.tax_minor
    if doc.net_minor:
        for amount, tax in zip(amounts, taxes, strict=True):
            assert abs(Decimal(tax) - Decimal(doc.tax_minor) * amount / doc.net_minor) < 1


def test_quantity_and_rate_are_written_only_when_they_give_the_amount() -> None:
    def line(quantity: str, price: str | None, minor: int) -> LedgerLine:
        return LedgerLine(
            "",
            "labour",
            "",
            "",
            "",
            Decimal(quantity),
            None if price is None else Decimal(price),
            minor,
            None,
        )

    assert quantity_and_rate(line("1.50", "95.00", 14250), "EUR") == ("1.5", "95", "142.50")
    # three items of 0.333 h rounded one by one: 94.92, not 0.999 x 95 = 94.91
    assert quantity_and_rate(line("0.999", "95", 9492), "EUR") == ("1", "94.92", "94.92")
    assert quantity_and_rate(line("0.123456", "10", 123), "EUR") == ("1", "1.23", "1.23")  # too many places
    assert quantity_and_rate(line("2", None, 5000), "EUR") == ("1", "50.00", "50.00")
    assert quantity_and_rate(line("-1", "200", -20000), "USD", sign=-1) == ("-1", "-200", "200.00")
    assert quantity_and_rate(line("3", "1000", 3000), "JPY") == ("3", "1000", "3000")


def test_the_map_reads_customers_codes_taxes_and_settings_and_names_its_problems() -> None:
    amap = AccountingMap.from_rows(
        [
            {"map_type": "Customer", "autotask": "101", "ledger_name": "Acme Ltd"},
            {
                "map_type": "customer",
                "autotask": "Globex",
                "quickbooks": "Globex Corp",
                "xero": "Globex (USD)",
            },
            {
                "map_type": "billing code",
                "autotask": "Remote Support",
                "quickbooks": "Remote",
                "account_code": "4000",
            },
            {"map_type": "billing_code", "autotask": "Hardware", "ledger_name": "Hardware sales"},
            {"map_type": "VAT", "autotask": "21%", "quickbooks": "21% S"},
            {"map_type": "tax", "autotask": "Z", "xero": "Zero Rated Income"},
            {"map_type": "setting", "autotask": "date format", "ledger_name": "mm/dd/yyyy"},
            {"map_type": "setting", "autotask": "account code", "ledger_name": "4100"},
            {"map_type": "colour", "autotask": "x"},
            {"map_type": "customer", "autotask": "101", "ledger_name": "Someone else"},
            {"map_type": "tax", "autotask": "standard"},
        ]
    )
    assert amap.customer("101", "whatever") == accounting.Target("Acme Ltd", "Acme Ltd", "")
    assert amap.customer("999", "GLOBEX ") == accounting.Target("Globex Corp", "Globex (USD)", "")
    assert amap.customer("999", "Initech") is None
    assert amap.billing_code("", "remote support") == accounting.Target("Remote", "", "4000")
    assert amap.billing_code("77", "Hardware").xero == ""  # an item code is never the shared name
    assert amap.tax("S", Decimal("21.0")).quickbooks == "21% S"  # by rate alone
    assert amap.tax("Z", Decimal(0)).xero == "Zero Rated Income"
    assert amap.tax("S", Decimal(20)) is None
    assert amap.date_format == "%m/%d/%Y" and amap.account_code == "4100"
    assert len(amap.problems) == 3
    assert any("colour" in p for p in amap.problems) and any("mapped twice" in p for p in amap.problems)


def test_files_keep_to_the_importers_limits_with_the_real_defaults() -> None:
    assert (accounting.QUICKBOOKS_LIMIT, accounting.XERO_LIMIT) == (100, 500)


def test_a_month_of_250_invoices_is_three_quickbooks_files_and_one_xero_file(tmp_path: Path) -> None:
    docs = [document(f"INV-202610-{i:04d}", [10000 + i, -i]) for i in range(1, 251)]
    files = write_files(docs, AccountingMap(), tmp_path)
    assert [(f.name, len(f.documents)) for f in files] == [
        ("quickbooks_invoices.csv", 100),
        ("quickbooks_invoices_2.csv", 100),
        ("quickbooks_invoices_3.csv", 50),
        ("xero_invoices.csv", 250),
    ]
    expected = {d.number: (d.currency, d.net_minor, d.tax_minor) for d in docs}
    assert {k: v[:3] for k, v in read_quickbooks(tmp_path).items()} == expected
    assert {k: v[:3] for k, v in read_xero(tmp_path).items()} == expected


def test_lower_limits_split_by_document_never_inside_one_and_quickbooks_by_currency(tmp_path: Path) -> None:
    docs = [document(f"E{i}", [500, 700, 900]) for i in range(5)]
    docs += [document(f"U{i}", [1000], currency="USD", rate="0") for i in range(2)]
    docs.append(document("C1", [-1000, 300]))  # a credit note
    files = write_files(docs, AccountingMap(), tmp_path, quickbooks_limit=2, xero_limit=3)
    assert [(f.name, [d.number for d in f.documents]) for f in files] == [
        ("quickbooks_invoices.csv", ["E0", "E1"]),
        ("quickbooks_invoices_2.csv", ["E2", "E3"]),
        ("quickbooks_invoices_3.csv", ["E4"]),
        ("quickbooks_invoices_4.csv", ["U0", "U1"]),
        ("quickbooks_credit_notes.csv", ["C1"]),
        ("xero_invoices.csv", ["C1", "E0", "E1"]),
        ("xero_invoices_2.csv", ["E2", "E3", "E4"]),
        ("xero_invoices_3.csv", ["U0", "U1"]),
    ]
    expected = {d.number: (d.currency, d.net_minor, d.tax_minor) for d in docs}
    assert {k: v[:3] for k, v in read_quickbooks(tmp_path, limit=2).items()} == expected
    assert {k: v[:3] for k, v in read_xero(tmp_path, limit=3).items()} == expected
    _, credit = read_rows(tmp_path / "quickbooks_credit_notes.csv")
    assert [r["ItemAmount"] for r in credit] == ["10.00", "-3.00"]  # QuickBooks: a credit note's own sign
    _, xero = read_rows(tmp_path / "xero_invoices.csv")
    assert [r["UnitAmount"] for r in xero if r["InvoiceNumber"] == "C1"] == ["-10.00", "3.00"]
