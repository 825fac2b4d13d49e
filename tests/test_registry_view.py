"""``billing register``'s table: one line per invoice or credit note, then what stands per currency."""

from __future__ import annotations

import io
import textwrap

import pandas as pd

from billing_lib.ui.registry_view import render_register

# the columns Register.invoices gives (those the table shows)
INVOICES = """\
invoice_number,invoice_date,doc_type,credits,customer_id,customer_name,currency,net_minor,tax_minor,total_minor,status,voided_at,void_reason,credit_note
INV-202610-0001,2026-11-02,invoice,,101,Acme Ltd,EUR,100000,21000,121000,voided,2026-11-05T10:00:00,wrong PO,CN-202611-0001
INV-202610-0002,2026-11-02,invoice,,102,A customer whose name is far too long for the column,EUR,5050,1061,6111,issued,,,
INV-202610-0003,2026-11-02,invoice,,103,,JPY,1200,0,1200,issued,,,
CN-202611-0001,2026-11-05,credit_note,INV-202610-0001,101,Acme Ltd,EUR,-100000,-21000,-121000,issued,,,
"""


def frame(text: str) -> pd.DataFrame:
    out = pd.read_csv(io.StringIO(textwrap.dedent(text)), dtype=str, keep_default_na=False)
    for column in ("net_minor", "tax_minor", "total_minor"):
        out[column] = out[column].astype("int64")
    return out


def test_one_line_per_document_then_the_totals_per_currency() -> None:
    lines = render_register(frame(INVOICES), "2026-10").splitlines()
    assert lines[0].split() == ["number", "date", "type", "customer", "cur", "net", "tax", "total", "status"]
    voided, long_name, yen, credit = lines[1:5]
    assert voided.startswith("INV-202610-0001    2026-11-02 invoice     Acme Ltd")
    assert voided.endswith("1210.00  voided 2026-11-05 by CN-202611-0001: wrong PO")
    assert voided.split()[6:9] == ["1000.00", "210.00", "1210.00"]
    assert "A customer whose name is far" in long_name and "too long" not in long_name  # cut at 28
    assert long_name.split()[-4:] == ["50.50", "10.61", "61.11", "issued"]
    assert " 103 " in yen and yen.split()[-4:] == [
        "1200",
        "0",
        "1200",
        "issued",
    ]  # no name: the id; no decimals
    assert credit.split()[2:4] == ["credit", "note"] and credit.endswith("credits INV-202610-0001")
    assert lines[5] == ""
    assert lines[6:] == [
        "EUR: 2 invoice(s), 1 credit note(s); net 50.50, tax 10.61, total 61.11 (credit notes included)",
        "JPY: 1 invoice(s), 0 credit note(s); net 1200, tax 0, total 1200 (credit notes included)",
    ]


def test_an_empty_register_says_so() -> None:
    empty = frame(INVOICES).iloc[0:0]
    assert render_register(empty, "2026-10") == "no invoices of 2026-10 in the register"
    assert render_register(empty) == "no invoices in the register"
