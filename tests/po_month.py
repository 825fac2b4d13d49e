"""A small month for the PO tracking report (coverage, alerts, burn-down, drill-down, charts), as CSV text.

The report is "PO Number Tracking: Hours and Charges Booked Per Purchase Order" (Proxuma's Power BI
report for Autotask, ``shared/reference/po-tracking-report.txt``): its coverage summary, charges by
category, PO numbers across four objects, charges against one PO, and recommendations. The test files
of ``coverage``, ``alerts``, ``burndown``, ``checklist``, ``charts``, ``drilldown`` and ``po_report``
assert on it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import Analysis, analyse, prepare

COMPANIES = """\
id,companyName,requiresPO
101,Acme Ltd,no
102,Beta GmbH,yes
103,Cobalt BV,no
104,Delta Ltd,no
"""
CONTRACTS = """\
id,contractName,companyID,purchaseOrderNumber
C1,Acme support,101,PO-C
C2,Cobalt support,103,
"""
PROJECTS = """\
id,projectName,companyID,purchaseOrderNumber
P1,Acme move,101,PO-P
P2,Cobalt site,103,
P3,Beta rollout,102,
"""
TASKS = """\
id,title,projectID,purchaseOrderNumber
T1,Cabling,P1,PO-T
T2,Survey,P2,
"""
TICKETS = """\
id,title,companyID,purchaseOrderNumber
K1,Printer,103,
K2,Server,101,
"""
REFERENCE = """\
PO Number,Customer ID,Authorised Amount,Authorised Hours,Monthly Amount,Valid From,Valid To
PO-A,101,1000.00,10,,2026-01-01,2026-12-31
PO-C,101,2000.00,,500.00,2026-01-01,2026-12-31
PO-T,101,1000.00,,,2026-01-01,2026-12-31
PO-P,101,1000.00,,,2026-01-01,2026-12-31
PO-B,102,100.00,,,2026-01-01,2026-12-31
PO-X,103,5000.00,,,2026-01-01,2026-12-31
"""
# a1 a2: labour on PO-A (own PO); c1 c2: PO-C from contract C1; t1: PO-T from task T1; p1: PO-P from
# project P1; n1 x1 x2 y1: no PO; b1: held (Beta requires a PO); z1: PO-A of another customer (held)
ITEMS = """\
id,itemDate,companyID,timeEntryID,quantity,extendedPrice,purchaseOrderNumber,internalPurchaseOrderNumber,billingCodeName,contractID,projectID,taskID,ticketID
a1,2026-10-03,101,te1,4,400.00,PO-A,INT-1,Remote support,,,,
a2,2026-10-17,101,te2,5,500.00,PO-A,,Remote support,,,,
c1,2026-10-05,101,,1,300.00,,,Hardware,C1,,,
c2,2026-10-20,101,,1,250.00,,,Hardware,C1,,,
t1,2026-10-08,101,,1,100.00,,,Consulting,,P1,T1,
p1,2026-10-09,101,,1,50.00,,,Consulting,,P1,,
n1,2026-10-10,101,,1,200.00,,,Hardware,,,,
b1,2026-10-11,102,,1,80.00,,,Consulting,,,,
b2,2026-10-12,102,,1,120.00,PO-B,,Consulting,,,,
x1,2026-10-13,103,te3,2,240.00,,,Remote support,,,,K1
x2,2026-10-14,103,,1,60.00,,,Hardware,,,,
z1,2026-10-15,103,,1,70.00,PO-A,,Hardware,,,,
y1,2026-10-16,104,,1,40.00,,,Hardware,,,,
"""
# what earlier invoices in the register took (Register.previously_invoiced's columns)
EARLIER = [
    ("po-a", "PO-A", "101", 20000, "2", "labour", "2026-09-15", "2026-09", "INV-202609-0001"),
    ("po-c", "PO-C", "101", 10000, "1", "charge", "2026-10-02", "2026-10", "INV-202610-0001"),
    ("po-t", "PO-T", "101", 95000, "1", "charge", "2026-08-20", "2026-08", "INV-202608-0001"),
    ("po-p", "PO-P", "101", 92000, "1", "charge", "2026-08-21", "2026-08", "INV-202608-0001"),
]


def write_month(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "BillingItems": ITEMS,
        "Companies": COMPANIES,
        "Contracts": CONTRACTS,
        "Projects": PROJECTS,
        "Tasks": TASKS,
        "Tickets": TICKETS,
        "po_reference": REFERENCE,
    }
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def earlier_frame() -> pd.DataFrame:
    columns = ["po_key", "po_number", "customer_id", "amount_minor", "quantity", "kind", "item_date", "period",
               "invoice_number"]  # fmt: skip
    frame = pd.DataFrame(EARLIER, columns=columns).assign(currency="EUR")
    frame["item_date"] = pd.to_datetime(frame["item_date"])
    return frame


def analysed_month(tmp_path: Path) -> Analysis:
    """The month analysed as a draft, with ``EARLIER`` as what the register invoiced before."""
    options = RunOptions(
        inputs=write_month(tmp_path / "in"), period="2026-10", draft=True, register=tmp_path / "none.sqlite"
    )
    prep, ref, _ = prepare(options)
    return analyse(options, prepared=(prep, ref, earlier_frame()))
