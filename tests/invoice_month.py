"""The small, awkward month the Excel writer tests share (see tests/test_invoice_workbook.py)."""

from __future__ import annotations

import datetime as dt
import textwrap
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from billing_lib.core.consolidate import InvoiceSet, consolidate
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import prepare_items
from billing_lib.domain.period import Period
from billing_lib.io.inputs import load_inputs

GOLDEN = Path(__file__).parent / "golden"
INVOICE_DATE = dt.date(2026, 11, 3)

ITEMS = """
    id,itemDate,companyID,contractID,ticketID,resourceID,billingCodeID,billingCodeName,description,quantity,rate,extendedPrice,purchaseOrderNumber,invoiceID
    1,2026-10-03T00:00:00Z,101,501,9001,7,20,Remote support,"=HYPERLINK(""http://evil.example"",""click"")",3.175,100,386.645,PO-1001,0
    2,2026-10-04T00:00:00Z,101,501,9002,7,20,Remote support,Password reset,1.0000,100,100,PO-1001,0
    3,2026-10-05T00:00:00Z,101,502,,8,30,Hardware,+Laptop dock,2,150,300,PO/2002,0
    4,2026-10-06T00:00:00Z,102,503,,7,20,Remote support,-credit for outage,1,-50,-50,,0
    5,2026-10-07T00:00:00Z,103,504,,7,20,Remote support,@SUM(A1:A9),2,80,160,,0
    6,2026-10-08T00:00:00Z,104,505,,7,20,Remote support,Server patching,3,12000,36000,,0
"""
COMPANIES = """
    id,companyName,currencyCode,taxRate,billingEntity,address1,city,postalCode,country,billingContact
    101,Contoso Logistics GmbH,EUR,19,NL01,Hafenstraße 12,Hamburg,20457,Germany,Accounts Payable
    102,CON,EUR,0,NL01,,,,,
    103,"=cmd|' /C calc'!A0",EUR,21,NL01,,,,,
    104,東京システム株式会社,JPY,10,NL01,,,,,
"""
CONTRACTS = """
    id,contractName,companyID,purchaseOrderNumber
    501,Managed services,101,PO-1001
    502,Hardware,101,
    503,Support,102,
    504,Support,103,
    505,Support,104,
"""
PO_REFERENCE = """
    po_number,customer_id,authorised_amount,currency,valid_from,valid_to
    PO-1001,101,10000,EUR,2026-01-01,2026-12-31
    PO/2002,101,5000,EUR,2026-01-01,2026-12-31
"""
ENTITIES = """
    billing_entity,legal_name,address,tax_id,payment_terms
    NL01,Northwind IT Services B.V.,"Keizersgracht 100, 1015 AA Amsterdam",NL001234567B01,30 days net
"""


def invoice_set(folder: Path, method: str = "customer", **tables: str) -> InvoiceSet:
    """The consolidated month of the CSV text blocks (defaults: the awkward month above)."""
    files = {"BillingItems": ITEMS, "Companies": COMPANIES, "Contracts": CONTRACTS,
             "po_reference": PO_REFERENCE, "BillingEntities": ENTITIES} | tables  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, Period.parse("2026-10"))
    prep, _ = check_pos(prep, reference_table(inputs.table("po_budgets")))
    return consolidate(
        prep,
        method,
        invoice_date=INVOICE_DATE,
        billing_groups=inputs.table("billing_groups"),
        billing_entities=inputs.table("billing_entities"),
    )


def row_of(ws: Any, label: str) -> int:
    """The row whose cells include ``label`` (the default template's wording)."""
    for row in ws.iter_rows():
        if any(c.value == label for c in row):
            return row[0].row
    raise AssertionError(f"no cell {label!r} on sheet {ws.title}")


def as_decimal(value: float) -> Decimal:
    """A cell's float as the two-place decimal it shows."""
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return Decimal(repr(float(value))).quantize(Decimal("0.01"))


def snapshot(path: Path, invoice_date: dt.date) -> dict[str, dict[str, Any]]:
    """Every cell value per sheet, typed (``date:``/``number:`` prefixes), the invoice date blanked."""
    out: dict[str, dict[str, Any]] = {}
    for ws in openpyxl.load_workbook(path):
        cells: dict[str, Any] = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None:
                    continue
                if isinstance(v, dt.datetime):
                    cells[c.coordinate] = (
                        "date:<invoice date>" if v.date() == invoice_date else f"date:{v.date()}"
                    )
                elif isinstance(v, int | float):
                    cells[c.coordinate] = f"number:{v!r}"
                else:
                    cells[c.coordinate] = v.replace(invoice_date.isoformat(), "<invoice date>")
        out[ws.title] = cells
    return out


def png(width: int, height: int) -> bytes:
    """A plain grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
