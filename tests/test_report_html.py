"""The month as HTML (``ui.report_html``), from small frames written next to the assertions."""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd

from billing_lib.ui import report_html

BURNDOWN = """po_number,customer_id,currency,authorised_minor,previously_invoiced_minor,this_period_minor,consumed_minor,remaining_minor,percent_used,status,valid_to,projected_exhaustion_date
PO-OK,C1,EUR,100000,10000,10000,20000,80000,20.0,ok,2026-12-31,
PO-OVER,C2,EUR,100000,60000,50000,110000,-10000,110.0,exceeded,2026-12-31,
PO-<X>,C1,GBP,50000,0,42000,42000,8000,84.0,warning,2026-12-31,2026-11-15
"""


def burndown() -> pd.DataFrame:
    bd = pd.read_csv(io.StringIO(BURNDOWN), dtype=str, keep_default_na=False)
    for column in [c for c in bd if c.endswith("_minor")]:
        bd[column] = bd[column].astype("int64")
    bd["percent_used"] = bd["percent_used"].map(Decimal)
    bd["projected_exhaustion_date"] = bd["projected_exhaustion_date"].map(lambda text: text or None)
    return bd


def test_the_burndown_shows_the_pos_at_risk_first_with_names_and_escaped_numbers() -> None:
    page = report_html.burndown_html(burndown(), names={"C1": "Acme & Co"})
    assert page.index("PO-OVER") < page.index("PO-&lt;X&gt;") < page.index("PO-OK")
    assert "Acme &amp; Co" in page and "C2" in page  # a customer without a name shows its id
    assert "-100.00" in page and "110.0 %" in page and "2026-11-15" in page


def test_status_counts_name_every_status() -> None:
    line = report_html.status_counts_html(burndown())
    assert line.startswith("<p>3 POs: ")
    assert "exceeded</span> 1" in line and "expired</span> 0" in line


def test_the_invoices_table_lists_each_invoice_with_its_totals() -> None:
    invoices = pd.DataFrame(
        {"invoice_number": ["DRAFT-1"], "customer_name": ["Tom <T>"], "po_number": ["PO-1; PO-2"],
         "method": ["po_number"], "item_count": [1234], "currency": ["EUR"], "net_minor": [100000],
         "tax_minor": [19000], "total_minor": [119000]}
    )  # fmt: skip
    table = report_html.invoices_html(invoices)
    assert "Tom &lt;T&gt;" in table and "1,234" in table and "1,190.00" in table
    assert report_html.invoice_labels(invoices) == ["DRAFT-1 · Tom <T> · PO-1; PO-2 · 1,190.00 EUR"]


def test_exposure_without_rows_says_every_item_has_a_po() -> None:
    assert report_html.exposure_html(pd.DataFrame()) == "<p>Every billable item carries a PO.</p>"


def test_count_and_checklist() -> None:
    assert "<b>3</b> of 10 draft invoices · Contract (job)" in report_html.count_html(3, 10, True, "contract")
    assert report_html.checklist_html("a < b") == '<pre class="billing-checklist">a &lt; b</pre>'
