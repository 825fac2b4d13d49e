"""A realistic synthetic month of Autotask-shaped exports: ``write_sample(out_dir, scale)``.

One file per table, headed with the Autotask REST names (camelCase) that ``schema.py`` maps; the PO
reference table uses screen labels. ``scale`` is the number of billable rows (billing items + time
entries + charges, exactly). Generation is vectorised with a seeded ``numpy`` Generator and the
workbooks are written by xlsxwriter in ``constant_memory`` mode with fixed document dates and zip
times, so one seed always gives the same bytes.

Files: ``Companies``, ``Contracts``, ``Projects``, ``Tickets``, ``Tasks``, ``Resources``,
``BillingCodes``, ``BillingItems`` (two title rows and a blank row above the header, like an exported
report), ``TimeEntries``, ``ContractCharges``, ``TicketCharges``, ``ProjectCharges`` and
``po_reference`` (``.xlsx``, or ``.csv`` without title rows).

Raw time entries and charges are the unposted ones: nothing in them is also a billing item
(``BillingItems.timeEntryID`` points at posted entries, which are not in ``TimeEntries``).

Every case the business rules name is placed in the first rows of its file, at every scale
(dates are given as day numbers of the period; day 0 is the day before the period starts)::

    case                                   file              ids
    -------------------------------------  ----------------  ------------------------------------------
    real-world row 3.175 x 100 = 386.645   BillingItems      80000001 (totalAmount 0)
    credit (negative amount)               BillingItems      80000002 (labour adjustment, -187.50)
                                           ContractCharges   10000002 (returned docking station, -189)
    non-billable                           BillingItems      80000003 (nonBillable 1)
                                           TimeEntries       1000002 (isNonBillable true)
                                           ContractCharges   10000003 (isBillableToCompany false)
    already invoiced                       BillingItems      80000004 (invoiceID 41017)
    late (dated before the period)         BillingItems      80000005 (day -1)
                                           TimeEntries       1000004 (day 0), TicketCharges 20000004
    dated after the period's end           BillingItems      80000006 (1st of next month)
                                           TimeEntries       1000005 (1st of next month)
    formula-looking text                   BillingItems      80000007 =HYPERLINK(...), 80000008 +SUM(A1:A2),
                                                             80000009 @cmd
                                           TimeEntries       1000003 +SUM(A1:A2)
                                           ContractCharges   10000005 =HYPERLINK(...)
    items without any PO                   BillingItems      80000003, 80000010 (customer 101, contract 30004)
    requires_po customer, item without PO  BillingItems      80000011 (customer 102, contract 30006)
                                           TimeEntries       1000009
    several contracts share one PO         Contracts         30001 " po-4711 ", 30002 "PO-4711",
                                                             30003 "PO-4711 " (reference: "PO-4711")
    over budget (crosses 80 % and 100 %)   po_reference      CF-2026-118 at ~115 % (customer 104):
                                                             BillingItems 80000005, 80000016-80000021,
                                                             TimeEntries 1000010-1000011,
                                                             ContractCharges 10000004
    warning (~85 % used)                   po_reference      FE/2026/0815 (customer 105): 80000022-80000024
    expired PO                             po_reference      PO-2025-0099 (valid to the day before the
                                                             period; customer 106): 80000015
    unknown PO (not in the reference)      Contracts         30012 "PO-7777" (customer 107): 80000013
    PO of another customer (mismatch)      Contracts         30013 "PO-3300" (belongs to 105, used by 108):
                                                             80000014, TicketCharges 20000003
    charge with its own PO                 ContractCharges   10000001 "PO-4712" under contract " po-4711 "
                                           TicketCharges     20000002 "PO-4712" under a contract with no PO
    PO from the ticket / task / project    Tickets 100013 "PO-4712", Tasks 60003 "FE/2026/0816",
                                           Projects 50001 "PO-3300" (BillingItems 80000028-80000030)
    bad date text "31/13/2026"             TicketCharges     20000001 (datePurchased)
    hoursToBill blank, offset hours        TimeEntries       1000006 (2.00 worked, -0.25 offset)
    ISO date strings / Excel dates         TimeEntries       1000001, 1000004 and every 4th bulk row are
                                                             "YYYY-MM-DDT00:00:00Z" text; the rest dates
    internal PO number                     ContractCharges   10000006 "INT-26-00017"
    awkward customer name                  Companies         102 "Müller & Söhne GmbH / IT"
    GBP customer / tax 0 % customer        Companies         103 Harbour Retail Ltd / 108 Alpine Data AG
    consolidation method set               Companies         104 contract, 105 project
    shared billing group                   Companies         106 and 107 "ZORG-NL"

Raw time entries follow their contract's type: those on Recurring Service / Fixed Price contracts
(30001, 30005, 30006, 30011, 30012 and bulk ones) are covered and listed at 0.00; those on Block
Hours, Retainer and Per Ticket contracts (30003, 30004, 30009, 30014, e.g. TimeEntries 1000003 and
1000012) are held ``needs_posting``. BillingItems 80000001 (3.175 x 100 posted as 386.645) is flagged
``amount_mismatch``. ``write_sample(style=..., culture=...)`` writes the same month as PowerShell,
SOAP-era or report exports (``renderings.py``).

``billingItemType`` uses Autotask's picklist values 1 labour, 2 labour adjustment, 3 project
charge, 4 ticket charge, 5 contract charge. PO budgets are sized from this month's billable,
uninvoiced amounts (rounded half up to cents, counted only for the PO's own customer) so most POs
end 30-70 % used, FE/2026/0815 about 85 % and CF-2026-118 about 115 %.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from billing_lib.domain.errors import UsageError
from billing_lib.domain.period import EXCEL_EPOCH as _EXCEL_EPOCH
from billing_lib.sample import renderings

Row = dict[str, Any]

_CHUNK = 50_000  # rows converted to Python objects at a time while writing
_XLSX_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,  # "=HYPERLINK(...)" in a description stays text
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

# Share of the bulk (non-special) billable rows per file.
_SPLIT = {
    "BillingItems": 0.55, "TimeEntries": 0.30, "ContractCharges": 0.07, "TicketCharges": 0.06,
    "ProjectCharges": 0.02,
}  # fmt: skip

ENTITY_EUR = "Acme IT Services BV"
ENTITY_GBP = "Acme IT Services Ltd"

# (id, name, unit price, role id) - labour billing codes ("work types") and their weights in the bulk.
WORK_TYPES = (
    (29682801, "Remote support", 95, 29683001),
    (29682802, "On-site support", 125, 29683002),
    (29682803, "Senior engineer", 150, 29683003),
    (29682804, "Project management", 135, 29683004),
    (29682805, "After-hours emergency", 190, 29683002),
    (29682806, "Consultancy", 165, 29683005),
)
_WORK_WEIGHTS = (0.42, 0.25, 0.15, 0.08, 0.04, 0.06)
MATERIAL_CODES = (
    (29682901, "Hardware", None),
    (29682902, "Software licences", None),
    (29682903, "Travel", 0.23),
    (29682904, "Fixed fee", None),
    (29682905, "Recurring service", None),
    (29682906, "Credits and adjustments", None),
)
_HW, _SW, _TRAVEL, _FIXED, _RECURRING, _CREDIT = (m[0] for m in MATERIAL_CODES)

# (name, description, price in cents, cost in cents, material code, max quantity)
PRODUCTS = (
    ("Docking station USB-C", "USB-C dock with 100 W charging", 18900, 14200, _HW, 3),
    ('Monitor 24"', "24 inch IPS monitor, height adjustable", 21900, 16500, _HW, 4),
    ('Laptop 14" business', "14 inch business laptop, 16 GB, 512 GB SSD", 129900, 99000, _HW, 2),
    ("Microsoft 365 Business Premium", "Licence, one user, one month", 2060, 1850, _SW, 25),
    ("Endpoint protection", "Antivirus licence, one device, one year", 3900, 2500, _SW, 20),
    ("Backup storage 1 TB", "Cloud backup storage, one month", 4500, 2200, _RECURRING, 5),
    ("Travel", "Kilometres driven to site", 23, 19, _TRAVEL, 120),
    ("Call-out fee", "On-site call-out", 6500, 0, _FIXED, 1),
    ("Cat6 patch cable 2 m", "Patch cable, grey", 450, 180, _HW, 40),
    ("Managed firewall", "Managed firewall service, one month", 14500, 6000, _RECURRING, 1),
    ("Wi-Fi access point", "Ceiling access point incl. mounting", 34900, 26000, _HW, 6),
    ("Onboarding fixed fee", "New site onboarding, fixed price", 95000, 0, _FIXED, 1),
)

_SUMMARIES = (
    "Reset password and re-enrolled MFA",
    "Replaced faulty power supply",
    "Installed monthly updates",
    "Configured new mailbox and shared calendar",
    "Troubleshot VPN connection drops",
    "Reinstalled printer driver and cleared queue",
    "Moved user to new laptop, migrated profile",
    "Extended disk on file server",
    "Checked backup job failures and re-ran jobs",
    "Updated firewall rules for new supplier",
    "Replaced switch in comms room",
    "Investigated slow network on floor 2",
    "Set up new starter accounts",
    "Removed leaver accounts",
    "Renewed SSL certificate on web server",
    "Patched hypervisor hosts",
    "Call with customer about roadmap",
    "Documentation of network changes",
    "Restored deleted files from backup",
    "Configured Teams phone",
    "Tested UPS failover",
    "Repaired Outlook profile",
    "Installed line-of-business application update",
    "Replaced toner and cleaned printer",
    "Site survey for Wi-Fi coverage",
    "Imaged new workstations",
)
_TITLES = (
    "Printer offline",
    "Cannot log in",
    "Laptop very slow",
    "Outlook keeps asking for password",
    "VPN disconnects",
    "New starter",
    "Leaver",
    "Mailbox full",
    "Backup failed",
    "Wi-Fi weak in meeting room",
    "Server disk almost full",
    "Phone not ringing",
    "Software install request",
    "Shared drive missing",
    "Monitor flickers",
    "Certificate expiring",
    "Access request",
    "Firewall change",
    "Scanner not working",
    "Teams meeting issues",
)
_CREDITS = ("Credit: duplicate time entry", "Credit: goodwill", "Credit: travel not chargeable")
_TASKS = ("Design", "Procurement", "Installation", "Configuration", "Testing", "Cutover", "Documentation")
_PROJECTS = ("Office move", "Server replacement", "Network upgrade", "Microsoft 365 migration",
             "Wi-Fi refresh", "Laptop rollout", "Backup redesign", "Phone system replacement")  # fmt: skip
_CONTRACTS = {  # contractType -> name
    1: "Time & Materials", 3: "Fixed price project", 4: "Block hours", 6: "Retainer",
    7: "Managed services", 8: "Per-ticket support",
}  # fmt: skip
_FIRST = ("Anna", "Bas", "Chris", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Ivo", "Jana", "Kees", "Lena",
          "Mark", "Noor", "Olaf", "Pieter", "Rosa", "Sven", "Tess", "Uwe", "Vera", "Wim", "Yara", "Zoe",
          "Tom", "Sarah", "James", "Emily", "Lukas", "Marie")  # fmt: skip
_LAST = ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos",
         "Peters", "Hendriks", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Smith", "Jones",
         "Taylor", "Brown", "Wilson", "Claes", "Peeters", "Maes", "Jacobs", "Willems", "Dubois",
         "Lambert", "Martens")  # fmt: skip
_COST_CENTRES = ("Service Desk", "Field Services", "Projects", "Network Operations")
_OFFICES = ("Amsterdam", "Utrecht", "Eindhoven", "Düsseldorf", "Bristol")
_NAME_A = ("Aurora", "Beacon", "Cobalt", "Delta", "Eiken", "Fjord", "Granite", "Horizon", "Iris", "Jade",
           "Kompas", "Linde", "Meridian", "Nova", "Orion", "Polder", "Quarz", "Rivier", "Saffier", "Tulp",
           "Unity", "Vesta", "Waddenzee", "Zenit", "Atlas", "Brug", "Citadel", "Duin", "Eems", "Forum",
           "Gouden", "Haven", "Ijssel", "Juno", "Kade", "Lumen", "Maas", "Noorder", "Oost",
           "Parel")  # fmt: skip
_NAME_B = ("Logistics", "Dental Care", "Accountants", "Architects", "Foods", "Legal", "Engineering",
           "Retail", "Transport", "Healthcare", "Consulting", "Installations", "Bouw", "Media", "Pharma",
           "Finance", "Recruitment", "Hospitality", "Education", "Automotive", "Energy", "Print",
           "Insurance", "Real Estate", "Logistiek", "Techniek", "Zorg", "Services", "Trading",
           "Labs")  # fmt: skip
_NAME_C = ("", " Groep", " Holding")  # qualifiers once the 1200 pairs of the two lists are used up
# country -> (legal suffix, tax rate %, cities, streets)
_COUNTRIES = {
    "NL": ("BV", 21, ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen", "Zwolle"),
           ("Stationsweg", "Kerkstraat", "Industrieweg", "Havenstraat", "Dorpsstraat")),
    "BE": ("NV", 21, ("Antwerpen", "Gent", "Brussel", "Leuven", "Mechelen"),
           ("Kerkstraat", "Stationsstraat", "Nijverheidslaan", "Kouter")),
    "DE": ("GmbH", 19, ("Düsseldorf", "Köln", "Aachen", "Essen", "Münster"),
           ("Hauptstraße", "Bahnhofstraße", "Industriestraße", "Gartenweg")),
}  # fmt: skip
_COUNTRY_WEIGHTS = {"NL": 0.6, "BE": 0.2, "DE": 0.2}
_BULK_METHODS = ("customer", "contract", "po_number")

# --- the special cases (see the module docstring) ---------------------------------------------------
_FIXED_CUSTOMERS = (
    # id, name, country, city, postal code, address, currency, tax %, requires_po, method, group,
    # billing contact, buyer reference, payment terms
    (101, "Northwind Logistics BV", "NL", "Amsterdam", "1043 BW", "Kabelweg 57", "EUR", 21, "no", "", "",
     "Accounts Payable", "NW-AP-2026", "30 days"),
    (102, "Müller & Söhne GmbH / IT", "DE", "Düsseldorf", "40210", "Graf-Adolf-Straße 12", "EUR", 19, "yes",
     "", "", "Frau K. Müller", "MS-IT-2026", "14 days"),
    (103, "Harbour Retail Ltd", "GB", "Bristol", "BS1 4DJ", "12 Quay Street", "GBP", 20, "no", "", "",
     "Finance Team", "", "30 days"),
    (104, "Contoso Facilities NV", "BE", "Antwerpen", "2000", "Meir 24", "EUR", 21, "no", "contract", "",
     "Boekhouding", "CF-BOEKH", "30 days"),
    (105, "Fabrikam Engineering BV", "NL", "Eindhoven", "5611 AZ", "Vestdijk 9", "EUR", 21, "no", "project",
     "", "Crediteurenadministratie", "FE-CRED", "45 days"),
    (106, "Zorggroep Oost", "NL", "Enschede", "7511 JM", "Oldenzaalsestraat 3", "EUR", 21, "no", "",
     "ZORG-NL", "Financiële administratie", "ZG-OOST", "30 days"),
    (107, "Zorggroep West", "NL", "Leiden", "2311 EZ", "Breestraat 100", "EUR", 21, "no", "", "ZORG-NL",
     "Financiële administratie", "ZG-WEST", "30 days"),
    (108, "Alpine Data AG", "CH", "Zürich", "8001", "Bahnhofstrasse 20", "EUR", 0, "no", "", "",
     "Kreditoren", "ADA-KRED", "30 days"),
)  # fmt: skip
_FIXED_POS = (
    # number (reference spelling), owner, target share used, validity, with authorised hours, description
    ("PO-4711", 101, 0.55, "current", True, "Managed workplace and network support"),
    ("PO-4712", 101, 0.40, "current", False, "Hardware and office move"),
    ("4500012345", 102, 0.45, "current", True, "Rahmenbestellung IT-Service"),
    ("HR-PO-2026-014", 103, 0.35, "current", False, "Store IT support"),
    ("CF-2026-118", 104, 1.15, "current", False, "Facility network support"),
    ("CF-2026-119", 104, 0.60, "current", False, "Retainer"),
    ("FE/2026/0815", 105, 0.85, "current", False, "Workstation support"),
    ("PO-3300", 105, 0.65, "current", True, "Plant network upgrade"),
    ("FE/2026/0816", 105, 0.35, "current", False, "Cutover weekend"),
    ("PO-2025-0099", 106, 0.50, "expired", False, "Managed services, previous term"),
    ("PO-7777", 107, 0.0, "unknown", False, ""),
    ("ADA-2026-01", 108, 0.40, "current", False, "Datacentre support"),
)
_FIXED_CONTRACTS = (
    # id, customer, name, type, PO as typed on the contract
    (30001, 101, "Managed Workplace", 7, " po-4711 "),
    (30002, 101, "Network Time & Materials", 1, "PO-4711"),
    (30003, 101, "Block Hours (40 h)", 4, "PO-4711 "),
    (30004, 101, "Ad-hoc Support", 8, ""),
    (30005, 102, "Servicevertrag", 7, "4500012345"),
    (30006, 102, "Projekt Migration", 3, ""),
    (30007, 103, "Store IT Support", 1, "HR-PO-2026-014"),
    (30008, 104, "Facility Network Support", 1, "CF-2026-118"),
    (30009, 104, "Retainer", 6, "CF-2026-119"),
    (30010, 105, "Engineering Workstations T&M", 1, "FE/2026/0815"),
    (30011, 106, "Managed Services", 7, "PO-2025-0099"),
    (30012, 107, "Managed Services", 7, "PO-7777"),
    (30013, 108, "Datacentre Support", 1, "PO-3300"),
    (30014, 108, "Per-ticket Support", 8, "ADA-2026-01"),
)
_FIXED_PROJECTS = (  # id, customer, name, contract, PO
    (50001, 105, "Plant network upgrade", 30010, "PO-3300"),
    (50002, 101, "Office move", 30002, ""),
    (50003, 102, "M365-Migration", 30006, ""),
)
_FIXED_TASKS = (  # id, title, project, phase, PO
    (60001, "Design and survey", 50001, 70001, ""),
    (60002, "Cabling", 50001, 70002, ""),
    (60003, "Cutover weekend", 50001, 70002, "FE/2026/0816"),
    (60004, "Planning", 50002, None, ""),
    (60005, "Move and reconnect", 50002, None, ""),
    (60006, "Mailbox migration", 50003, None, ""),
)
_FIXED_TICKETS = (  # id, customer, contract, project, PO, title
    (100001, 101, 30002, None, "", "Core switch firmware upgrade"),
    (100002, 101, 30004, None, "", "New starter laptop setup"),
    (100003, 102, 30005, None, "", "VPN-Verbindung instabil"),
    (100004, 102, 30006, 50003, "", "Postfachmigration Vertrieb"),
    (100005, 103, 30007, None, "", "Till PC will not boot"),
    (100006, 104, 30008, None, "", "Wi-Fi outage building B"),
    (100007, 104, 30009, None, "", "Monthly patching"),
    (100008, 105, 30010, None, "", "CAD workstation slow"),
    (100009, 106, 30011, None, "", "Printer queue stuck"),
    (100010, 107, 30012, None, "", "Nurse station PC replacement"),
    (100011, 108, 30013, None, "", "Storage array alert"),
    (100012, 108, 30014, None, "", "User access request"),
    (100013, 101, 30003, None, "PO-4712", "Replace docking stations 3rd floor"),
    (100014, 101, 30003, None, "", "Firewall rule change"),
)
_HYPERLINK = '=HYPERLINK("http://x","click")'
_PLUS_SUM = "+SUM(A1:A2)"
_AT_CMD = "@cmd|' /C calc'!A0"
_BAD_DATE = "31/13/2026"

_BASE_BILLING_ITEM = 80_000_001
_BASE_TIME_ENTRY = 1_000_001
_BASE_POSTED_TIME_ENTRY = 5_000_001  # timeEntryID of posted labour: never an id in TimeEntries
_BASE_CHARGE = {"ContractCharges": 10_000_001, "TicketCharges": 20_000_001, "ProjectCharges": 30_000_001}
_BASE_CONTRACT, _BASE_PROJECT, _BASE_TASK, _BASE_TICKET = 30_001, 50_001, 60_001, 100_001
_BASE_RESOURCE = 29_684_001


# --- columns of the written files --------------------------------------------------------------------
COMPANY_COLUMNS = ("id", "companyName", "companyNumber", "currency", "tax_rate", "requires_po",
                   "consolidation_method", "billing_group", "billing_entity", "billing_contact",
                   "buyer_reference", "address", "city", "postal_code", "country",
                   "payment_terms", "taxID", "peppol_id", "vat_category", "vat_exemption_reason",
                   "email")  # fmt: skip
ENTITY_COLUMNS = ("id", "legal_name", "address", "city", "postal_code", "country", "tax_id",
                  "legal_id", "peppol_id", "iban", "bic", "email", "payment_terms")  # fmt: skip
# the sellers: a Belgian company for EUR customers, a UK one for GBP (what their e-invoices need)
_ENTITIES = (
    {"id": ENTITY_EUR, "legal_name": ENTITY_EUR, "address": "Meir 1", "city": "Antwerpen",
     "postal_code": "2000", "country": "BE", "tax_id": "BE0{n}", "legal_id": "0{n}", "peppol_id": "0208:0{n}",
     "iban": "BE71096123456769", "bic": "GKCCBEBB", "email": "billing@acme-it.example", "payment_terms": "30"},
    {"id": ENTITY_GBP, "legal_name": ENTITY_GBP, "address": "1 Temple Way", "city": "Bristol",
     "postal_code": "BS2 0BY", "country": "GB", "tax_id": "GB123456789", "legal_id": "08123456",
     "peppol_id": "9932:GB123456789", "iban": "GB33BUKB20201555555555", "bic": "BUKBGB22",
     "email": "billing@acme-it.example", "payment_terms": "30"},
)  # fmt: skip
CONTRACT_COLUMNS = ("id", "contractName", "contractNumber", "companyID", "contractType", "startDate",
                    "endDate", "purchaseOrderNumber")  # fmt: skip
PROJECT_COLUMNS = ("id", "projectName", "projectNumber", "companyID", "contractID", "purchaseOrderNumber")
TICKET_COLUMNS = ("id", "ticketNumber", "title", "companyID", "contractID", "projectID",
                  "purchaseOrderNumber", "location")  # fmt: skip
TASK_COLUMNS = ("id", "title", "projectID", "phaseID", "purchaseOrderNumber")
RESOURCE_COLUMNS = ("id", "firstName", "lastName", "costCentre", "location")
BILLING_CODE_COLUMNS = ("id", "name", "unitPrice", "billingCodeType")
BILLING_ITEM_COLUMNS = ("id", "itemDate", "companyID", "contractID", "projectID", "taskID", "ticketID",
                        "timeEntryID", "billingCodeID", "roleID", "resourceID", "billingItemType", "subType",
                        "itemName", "description", "quantity", "rate", "extendedPrice", "totalAmount",
                        "nonBillable", "purchaseOrderNumber", "invoiceID", "postedDate")  # fmt: skip
TIME_ENTRY_COLUMNS = ("id", "dateWorked", "hoursWorked", "offsetHours", "hoursToBill", "resourceID",
                      "roleID", "billingCodeID", "contractID", "ticketID", "taskID", "isNonBillable",
                      "showOnInvoice", "summaryNotes")  # fmt: skip
_CHARGE_COMMON = ("id", "name", "description", "datePurchased", "unitQuantity", "unitPrice", "unitCost",
                  "billableAmount", "extendedCost", "isBillableToCompany", "isBilled", "chargeType",
                  "billingCodeID", "purchaseOrderNumber", "internalPurchaseOrderNumber")  # fmt: skip
CHARGE_COLUMNS = {
    "ContractCharges": (*_CHARGE_COMMON, "contractID"),
    "TicketCharges": (*_CHARGE_COMMON, "ticketID"),
    "ProjectCharges": (*_CHARGE_COMMON, "projectID"),
}
PO_REFERENCE_COLUMNS = (
    "PO Number",
    "Customer ID",
    "Authorised Amount",
    "Authorised Hours",
    "Currency",
    "Valid From",
    "Valid To",
    "Description",
)


# --- dates -------------------------------------------------------------------------------------------
def _serial(d: date) -> int:
    """The Excel serial number of a date."""
    return (d - _EXCEL_EPOCH).days


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, 1)


@dataclass(frozen=True)
class _Period:
    start: date
    end: date

    @classmethod
    def parse(cls, period: str) -> _Period:
        m = re.fullmatch(r"(\d{4})-(\d{2})", period)
        if not m or not 1 <= int(m[2]) <= 12:
            raise UsageError(f"period must be YYYY-MM, got {period!r}")
        y, mo = int(m[1]), int(m[2])
        return cls(date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]))

    @property
    def days(self) -> int:
        return self.end.day

    @property
    def exported(self) -> datetime:
        """When the month's exports were taken: 06:00 on the first day after the period."""
        nxt = self.end + timedelta(days=1)
        return datetime(nxt.year, nxt.month, nxt.day, 6, 0)

    def day(self, n: int) -> int:
        """Excel serial of day ``n`` of the period (0 is the day before it starts)."""
        return _serial(self.start) + n - 1

    def iso(self, serial: int) -> str:
        return f"{_EXCEL_EPOCH + timedelta(days=serial):%Y-%m-%d}T00:00:00Z"


# --- master data -------------------------------------------------------------------------------------
def _po_key(po: str) -> str:
    return po.strip().casefold()


@dataclass
class _Master:
    """Customers, POs, contracts, projects, tasks, tickets, resources, with index arrays for sampling."""

    period: _Period
    customers: list[Row] = field(default_factory=list)
    pos: list[Row] = field(default_factory=list)
    contracts: list[Row] = field(default_factory=list)
    projects: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)
    tickets: list[Row] = field(default_factory=list)
    resources: list[Row] = field(default_factory=list)
    cust_ix: dict[int, int] = field(default_factory=dict)
    po_ix: dict[str, int] = field(default_factory=dict)
    contract_ix: dict[int, int] = field(default_factory=dict)
    project_ix: dict[int, int] = field(default_factory=dict)
    task_ix: dict[int, int] = field(default_factory=dict)
    ticket_ix: dict[int, int] = field(default_factory=dict)

    # -- building
    def add_po(self, number: str, owner: int, target: float, validity: str, hours: bool, text: str) -> int:
        self.po_ix[_po_key(number)] = len(self.pos)
        self.pos.append({"number": number, "owner": owner, "target": target, "validity": validity,
                         "hours": hours, "description": text})  # fmt: skip
        return len(self.pos) - 1

    def po_of(self, raw: str) -> int:
        return self.po_ix[_po_key(raw)] if raw.strip() else -1

    def add(self, kind: str, row: Row) -> None:
        rows: list[Row] = getattr(self, kind)
        index = {"customers": self.cust_ix, "contracts": self.contract_ix, "projects": self.project_ix,
                 "tasks": self.task_ix, "tickets": self.ticket_ix}[kind]  # fmt: skip
        index[row["id"]] = len(rows)
        rows.append(row)

    # -- the cascade, for one ticket, task, project or contract
    def contract_ctx(self, contract_id: int) -> Row:
        c = self.contracts[self.contract_ix[contract_id]]
        return {
            "companyID": c["companyID"],
            "contractID": contract_id,
            "projectID": None,
            "taskID": None,
            "ticketID": None,
            "_raw": c["purchaseOrderNumber"],
            "_cust": self.cust_ix[c["companyID"]],
        }

    def project_ctx(self, project_id: int) -> Row:
        p = self.projects[self.project_ix[project_id]]
        ctx = self.contract_ctx(p["contractID"]) | {"projectID": project_id}
        return _own_po(ctx, p["purchaseOrderNumber"])

    def task_ctx(self, task_id: int) -> Row:
        t = self.tasks[self.task_ix[task_id]]
        return _own_po(self.project_ctx(t["projectID"]) | {"taskID": task_id}, t["purchaseOrderNumber"])

    def ticket_ctx(self, ticket_id: int) -> Row:
        k = self.tickets[self.ticket_ix[ticket_id]]
        ctx = self.project_ctx(k["projectID"]) if k["projectID"] else self.contract_ctx(k["contractID"])
        return _own_po(ctx | {"ticketID": ticket_id, "contractID": k["contractID"]}, k["purchaseOrderNumber"])


def _own_po(ctx: Row, raw: str) -> Row:
    return ctx | {"_raw": raw} if raw.strip() else ctx


def _customer_row(
    cid: int,
    name: str,
    country: str,
    city: str,
    postal: str,
    address: str,
    currency: str,
    tax: int,
    requires_po: str,
    method: str,
    group: str,
    contact: str,
    buyer: str,
    terms: str,
    weight: float,
) -> Row:
    return {
        "id": cid,
        "companyName": name,
        "companyNumber": f"C{cid:05d}",
        "currency": currency,
        "tax_rate": tax,
        "requires_po": requires_po,
        "consolidation_method": method,
        "billing_group": group,
        "billing_entity": ENTITY_GBP if currency == "GBP" else ENTITY_EUR,
        "billing_contact": contact,
        "buyer_reference": buyer,
        "address": address,
        "city": city,
        "postal_code": postal,
        "country": country,
        "payment_terms": terms,
        **_einvoice_fields(cid, country, tax),
        "_weight": weight,
    }


def _entity_row(entity: Row) -> Row:
    number = _be_enterprise_number(1)
    return {k: v.format(n=number) if isinstance(v, str) else v for k, v in entity.items()}


def _be_enterprise_number(seed: int) -> str:
    """A Belgian enterprise number (9 digits after the leading 0) with its mod-97 check digits."""
    base = 4_000_000 + seed % 5_000_000  # 7 digits
    return f"{base:07d}{97 - base % 97:02d}"


def _gln(seed: int) -> str:
    """A 13-digit GLN (GS1 check digit) for a Peppol 0088 address."""
    body = f"76{seed:010d}"[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _einvoice_fields(cid: int, country: str, tax: int) -> Row:
    """VAT id, Peppol id and VAT category of a customer: what its e-invoices need (SPEC section 2).

    Harbour Retail (103) has neither VAT id nor Peppol id: its invoices show ``einvoice_incomplete``.
    Alpine Data (108, Switzerland, 0 %) is outside the scope of EU VAT: category O with its wording.
    """
    email = f"ap{cid}@customer.example"
    if cid == 103:
        return {"taxID": "", "peppol_id": "", "vat_category": "", "vat_exemption_reason": "", "email": email}
    if country == "CH":
        return {"taxID": f"CHE{cid:09d}", "peppol_id": f"0088:{_gln(cid)}", "vat_category": "O",
                "vat_exemption_reason": "Services to a customer outside the EU: not subject to VAT",
                "email": email}  # fmt: skip
    vat = {"BE": f"BE0{_be_enterprise_number(cid)}", "NL": f"NL{cid:09d}B01", "DE": f"DE{cid:09d}"}.get(
        country, f"{country}{cid:09d}"
    )
    peppol = {"BE": f"0208:0{_be_enterprise_number(cid)}", "NL": f"9944:{vat}", "DE": f"9930:{vat}"}.get(
        country, f"0088:{_gln(cid)}"
    )
    return {"taxID": vat, "peppol_id": peppol, "vat_category": "S" if tax else "",
            "vat_exemption_reason": "", "email": email}  # fmt: skip


def _contract_row(
    m: _Master, cid: int, cust: int, name: str, ctype: int, raw_po: str, start_back: int, term: int
) -> Row:
    start = _add_months(m.period.start, -start_back)
    end = _add_months(start, term) - timedelta(days=1)
    return {
        "id": cid,
        "contractName": name,
        "contractNumber": f"CN-{cid}",
        "companyID": cust,
        "contractType": ctype,
        "startDate": _serial(start),
        "endDate": _serial(end),
        "purchaseOrderNumber": raw_po,
    }


def _build_fixed(m: _Master) -> None:
    for spec in _FIXED_CUSTOMERS:
        m.add("customers", _customer_row(*spec, weight=3.0))
    for number, owner, target, validity, hours, text in _FIXED_POS:
        m.add_po(number, owner, target, validity, hours, text)
    for cid, cust, name, ctype, raw in _FIXED_CONTRACTS:
        m.add("contracts", _contract_row(m, cid, cust, name, ctype, raw, 9, 24))
    for pid, cust, name, contract, raw in _FIXED_PROJECTS:
        m.add(
            "projects",
            {
                "id": pid,
                "projectName": name,
                "projectNumber": f"P{m.period.start.year}-{pid}",
                "companyID": cust,
                "contractID": contract,
                "purchaseOrderNumber": raw,
            },
        )
    for tid, title, project, phase, raw in _FIXED_TASKS:
        m.add(
            "tasks",
            {"id": tid, "title": title, "projectID": project, "phaseID": phase, "purchaseOrderNumber": raw},
        )
    for kid, cust, contract, k_project, raw, title in _FIXED_TICKETS:
        city = m.customers[m.cust_ix[cust]]["city"]
        m.add(
            "tickets",
            {
                "id": kid,
                "ticketNumber": f"T{m.period.start:%Y%m}01.{kid % 10000:04d}",
                "title": title,
                "companyID": cust,
                "contractID": contract,
                "projectID": k_project,
                "purchaseOrderNumber": raw,
                "location": f"{city} - main office",
            },
        )


def _build_bulk(m: _Master, rng: np.random.Generator, scale: int) -> None:
    """Customers beyond the special ones, with their POs, contracts, projects, tasks and tickets."""
    n_extra = min(max(scale // 500, 8), 2000) - len(_FIXED_CUSTOMERS)
    pairs = rng.permutation(len(_NAME_A) * len(_NAME_B))
    for i in range(n_extra):
        name = (int(pairs[i % len(pairs)]), i // len(pairs))  # a name pair, then a qualifier once used up
        customer = _bulk_customer(m, rng, 101 + len(m.customers), name)
        pos = _bulk_pos(m, rng, customer)
        first = len(m.contracts)
        for _ in range(int(rng.integers(2, 6))):
            raw = ""
            if customer["requires_po"] == "yes" or rng.random() < 0.8:
                raw = _variant(rng, m.pos[pos[int(rng.integers(len(pos)))]]["number"])
            ctype = int(rng.choice([1, 1, 3, 4, 6, 7, 7, 8]))
            cid = _BASE_CONTRACT + len(m.contracts)
            m.add("contracts", _contract_row(m, cid, customer["id"], _CONTRACTS[ctype], ctype, raw,
                                             int(rng.integers(1, 21)), 24))  # fmt: skip
        if rng.random() < 0.35:
            for _ in range(int(rng.integers(1, 3))):
                contract = m.contracts[first + int(rng.integers(len(m.contracts) - first))]
                _bulk_project(m, rng, customer, contract)
    _bulk_tickets(m, rng, max(scale // 25, 40) - len(_FIXED_TICKETS))
    _resources(m, rng, min(max(scale // 1000, 12), 400))


def _bulk_customer(m: _Master, rng: np.random.Generator, cid: int, name: tuple[int, int]) -> Row:
    a, b = divmod(name[0], len(_NAME_B))
    c = name[1]
    country = str(rng.choice(list(_COUNTRY_WEIGHTS), p=list(_COUNTRY_WEIGHTS.values())))
    suffix, tax, cities, streets = _COUNTRIES[country]
    letters = "ABCDEHJKLMNPRSTVXZ"
    postal = {
        "NL": f"{rng.integers(1000, 9999)} {letters[rng.integers(18)]}{letters[rng.integers(18)]}",
        "BE": f"{rng.integers(1000, 9999)}",
        "DE": f"{rng.integers(10000, 99999)}",
    }[country]
    contact = "Accounts Payable"
    if rng.random() < 0.4:
        contact = f"{_FIRST[rng.integers(len(_FIRST))][0]}. {_LAST[rng.integers(len(_LAST))]}"
    row = _customer_row(
        cid, f"{_NAME_A[a]} {_NAME_B[b]}{_NAME_C[c]} {suffix}", country, str(rng.choice(cities)), postal,
        f"{rng.choice(streets)} {rng.integers(1, 200)}", "EUR", tax,
        "yes" if rng.random() < 0.10 else "no",
        str(rng.choice(_BULK_METHODS)) if rng.random() < 0.05 else "", "", contact,
        f"BR-{cid}" if rng.random() < 0.1 else f"AP-{cid}", "30 days" if rng.random() < 0.8 else "14 days",
        weight=float(rng.lognormal(0.0, 0.9)),
    )  # fmt: skip
    m.add("customers", row)
    return row


def _bulk_pos(m: _Master, rng: np.random.Generator, customer: Row) -> list[int]:
    """One to three POs of a customer, numbered in one of the styles customers use."""
    style = int(rng.integers(0, 4))
    initials = "".join(word[0] for word in customer["companyName"].split()[:3]).upper()
    out = []
    for _ in range(int(rng.integers(1, 4))):
        seq = 10_000 + len(m.pos)
        number = (f"PO-{m.period.start.year}-{seq:05d}", f"4500{seq:06d}", f"{initials}-PO-{seq}",
                  f"PO{seq:06d}")[style]  # fmt: skip
        target = float(rng.uniform(0.30, 0.70))
        out.append(
            m.add_po(number, customer["id"], target, "current", bool(rng.random() < 0.1), "Framework order")
        )
    return out


def _bulk_project(m: _Master, rng: np.random.Generator, customer: Row, contract: Row) -> None:
    """A project on one of the customer's contracts, a third with its own PO, and its tasks."""
    pid = _BASE_PROJECT + len(m.projects)
    raw = ""
    if rng.random() < 0.3:
        raw = f"PO-{m.period.start.year}-{10_000 + len(m.pos):05d}"
        m.add_po(raw, customer["id"], float(rng.uniform(0.30, 0.70)), "current", False, "Project order")
    m.add("projects", {"id": pid, "projectName": str(rng.choice(_PROJECTS)),
                       "projectNumber": f"P{m.period.start.year}-{pid}", "companyID": customer["id"],
                       "contractID": contract["id"], "purchaseOrderNumber": raw})  # fmt: skip
    for phase in range(int(rng.integers(3, 7))):
        m.add("tasks", {"id": _BASE_TASK + len(m.tasks), "title": _TASKS[phase % len(_TASKS)],
                        "projectID": pid, "phaseID": pid * 10 + phase // 2 if phase % 3 else None,
                        "purchaseOrderNumber": ""})  # fmt: skip


def _variant(rng: np.random.Generator, po: str) -> str:
    """A PO as a person might type it on a contract: mostly as is, sometimes cased or padded differently."""
    r = rng.random()
    return po.lower() if r < 0.03 else f" {po} " if r < 0.06 else po


def _bulk_tickets(m: _Master, rng: np.random.Generator, n: int) -> None:
    if n <= 0:
        return
    n_cust = len(m.customers)
    weights = np.array([c["_weight"] for c in m.customers])
    # every customer has a ticket; the rest follow customer size
    cust = np.concatenate(
        [np.arange(n_cust), rng.choice(n_cust, size=max(n - n_cust, 0), p=weights / weights.sum())]
    )[:n]
    contracts_of = _group_index([m.cust_ix[c["companyID"]] for c in m.contracts], n_cust)
    projects_of = _group_index([m.cust_ix[p["companyID"]] for p in m.projects], n_cust)
    pos_of = _group_index([m.cust_ix[p["owner"]] for p in m.pos], n_cust)
    contract = _pick(rng, contracts_of, cust)
    has_project = (projects_of[1][cust] > 0) & (rng.random(n) < 0.05)
    project = np.where(has_project, _pick(rng, projects_of, cust, allow_empty=True), -1)
    own_po = (pos_of[1][cust] > 0) & (rng.random(n) < 0.08)
    po = np.where(own_po, _pick(rng, pos_of, cust, allow_empty=True), -1)
    opened = rng.integers(-45, m.period.days, size=n)
    titles = rng.integers(len(_TITLES), size=n)
    for i in range(n):
        kid = _BASE_TICKET + len(_FIXED_TICKETS) + i
        c = m.customers[int(cust[i])]
        day = m.period.start + timedelta(days=int(opened[i]))
        m.add(
            "tickets",
            {
                "id": kid,
                "ticketNumber": f"T{day:%Y%m%d}.{kid % 10000:04d}",
                "title": _TITLES[titles[i]],
                "companyID": c["id"],
                "contractID": m.contracts[int(contract[i])]["id"],
                "projectID": m.projects[int(project[i])]["id"] if project[i] >= 0 else None,
                "purchaseOrderNumber": m.pos[int(po[i])]["number"] if po[i] >= 0 else "",
                "location": f"{c['city']} - {'main office' if i % 3 else 'site'}",
            },
        )


def _resources(m: _Master, rng: np.random.Generator, n: int) -> None:
    pairs = rng.permutation(len(_FIRST) * len(_LAST))
    for i in range(n):
        f, last = divmod(int(pairs[i % len(pairs)]), len(_LAST))
        m.resources.append(
            {
                "id": _BASE_RESOURCE + i,
                "firstName": _FIRST[f],
                "lastName": _LAST[last],
                "costCentre": _COST_CENTRES[i % len(_COST_CENTRES)],
                "location": _OFFICES[int(rng.integers(len(_OFFICES)))],
            }
        )


def _group_index(
    owner: Sequence[int] | np.ndarray,
    n_groups: int,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, count, order): members of group g are ``order[start[g]:start[g] + count[g]]``.

    ``mask`` leaves members out (their index never comes back from ``_pick``).
    """
    owner_arr = np.asarray(owner, dtype=np.int64)
    members = np.arange(len(owner_arr)) if mask is None else np.flatnonzero(mask)
    order = members[np.argsort(owner_arr[members], kind="stable")]
    count = np.bincount(owner_arr[members], minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return start, count, order


def _pick(
    rng: np.random.Generator,
    groups: tuple[np.ndarray, np.ndarray, np.ndarray],
    owner: np.ndarray,
    *,
    allow_empty: bool = False,
) -> np.ndarray:
    """One random member of each owner's group (index into the members' list); -1 where it has none."""
    start, count, order = groups
    c = count[owner]
    if not allow_empty and (c == 0).any():
        raise AssertionError("an owner without members")
    k = start[owner] + (rng.random(len(owner)) * np.maximum(c, 1)).astype(np.int64)
    return np.where(c > 0, order[np.minimum(k, len(order) - 1)] if len(order) else -1, -1)


# --- per-row context arrays of the things labour and charges hang off ------------------------------
@dataclass
class _Ctx:
    """Column arrays of a set of parents (tickets, tasks, projects or contracts) after the PO cascade."""

    company: np.ndarray
    contract: np.ndarray
    project: np.ndarray  # object (None where there is none)
    task: np.ndarray  # object
    ticket: np.ndarray  # object
    raw_po: np.ndarray  # object: the effective PO as typed where it came from
    po: np.ndarray  # int index into pos, -1 for none
    cust: np.ndarray  # int index into customers
    label: np.ndarray  # object: item name for labour on it

    @classmethod
    def of(cls, m: _Master, rows: list[Row], labels: list[str]) -> _Ctx:
        def col(k: str, kind: type = object) -> np.ndarray:
            a: np.ndarray = np.empty(len(rows), dtype=kind)
            a[:] = [r[k] for r in rows]
            return a

        return cls(
            col("companyID", np.int64),
            col("contractID", np.int64),
            col("projectID"),
            col("taskID"),
            col("ticketID"),
            col("_raw"),
            np.array([m.po_of(r["_raw"]) for r in rows], dtype=np.int64),
            col("_cust", np.int64),
            _obj(labels),
        )


def _obj(values: Sequence[Any]) -> np.ndarray:
    a = np.empty(len(values), dtype=object)
    a[:] = list(values)
    return a


def _labour_parents(m: _Master) -> _Ctx:
    """Tickets, then tasks: what labour is booked on."""
    rows = [m.ticket_ctx(k["id"]) for k in m.tickets] + [m.task_ctx(t["id"]) for t in m.tasks]
    project_name = {p["id"]: p["projectName"] for p in m.projects}
    labels = [f"{k['ticketNumber']} - {k['title']}" for k in m.tickets] + [
        f"{project_name[t['projectID']]}: {t['title']}" for t in m.tasks
    ]
    return _Ctx.of(m, rows, labels)


# --- billable rows: the special ones --------------------------------------------------------------
def _cents(amount: float | Decimal) -> int:
    return int(Decimal(str(amount)).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _usage(
    m: _Master, ctx: Row, serial: int, cents: int, quarters: int, billable: bool, *, po_raw: str | None = None
) -> Row:
    """The private fields the budget sizing reads: PO index, customer, amount, hours, counted or not."""
    raw = ctx["_raw"] if po_raw is None else po_raw
    po = m.po_of(raw)
    counted = billable and serial <= _serial(m.period.end)
    return {"_po": po, "_cust": ctx["_cust"], "_cents": cents, "_q": quarters, "_counted": counted}


def _fixed_billing_items(m: _Master) -> list[Row]:
    p = m.period
    month = f"{p.start:%B %Y}"
    after = _serial(p.end) + 1
    rows: list[Row] = []
    code = {w[0]: w for w in WORK_TYPES}

    def labour(
        ctx: Row,
        day: int,
        hours: float,
        code_id: int,
        text: str,
        *,
        rate: float | None = None,
        ext: float | None = None,
        item_type: int = 1,
        **over: Any,
    ) -> None:
        rate = code[code_id][2] if rate is None else rate
        ext = round(hours * rate, 2) if ext is None else ext
        row = {
            "itemDate": p.day(day),
            "billingCodeID": code_id,
            "roleID": code[code_id][3],
            "resourceID": _BASE_RESOURCE + len(rows) % 12,
            "billingItemType": item_type,
            "itemName": _label(m, ctx),
            "description": text,
            "quantity": hours,
            "rate": rate,
            "timeEntryID": _BASE_POSTED_TIME_ENTRY + len(rows) if item_type == 1 else None,
        } | over
        add(ctx, row, ext)

    def charge(
        ctx: Row, day: int, qty: float, price: float, name: str, item_type: int, code_id: int, **over: Any
    ) -> None:
        row = {
            "itemDate": p.day(day),
            "billingCodeID": code_id,
            "billingItemType": item_type,
            "itemName": name,
            "description": name,
            "quantity": qty,
            "rate": price,
        } | over
        add(ctx, row, round(qty * price, 2))

    def add(ctx: Row, row: Row, ext: float) -> None:
        row = {k: ctx[k] for k in ("companyID", "contractID", "projectID", "taskID", "ticketID")} | row
        row.setdefault("extendedPrice", ext)
        row.setdefault("totalAmount", row["extendedPrice"])
        row.setdefault("nonBillable", 0)
        row.setdefault("invoiceID", 0)
        row.setdefault("purchaseOrderNumber", ctx["_raw"])
        row["id"] = _BASE_BILLING_ITEM + len(rows)
        row["postedDate"] = min(row["itemDate"] + 1, _serial(p.end) + 1)
        billable = row["nonBillable"] == 0 and row["invoiceID"] == 0
        quarters = round(row["quantity"] * 4) if row["billingItemType"] in (1, 2) else 0
        rows.append(
            row
            | _usage(
                m,
                ctx,
                row["itemDate"],
                _cents(row["extendedPrice"]),
                quarters,
                billable,
                po_raw=row["purchaseOrderNumber"],
            )
        )

    t, task, c, pr = m.ticket_ctx, m.task_ctx, m.contract_ctx, m.project_ctx
    labour(
        t(100001),
        6,
        3.175,
        29682801,
        "Core switch firmware upgrade (block-hour rate)",
        rate=100,
        ext=386.645,
        totalAmount=0,
    )  # 80000001
    labour(t(100001), 9, -1.5, 29682802, "Credit: duplicate call-out", item_type=2)  # 80000002
    labour(t(100002), 3, 0.5, 29682801, "Goodwill: laptop re-imaged after our mistake", nonBillable=1)  # 03
    charge(c(30002), 1, 1, 950, "Network assessment - fixed fee", 5, _FIXED, invoiceID=41017)  # 04
    labour(t(100006), -1, 2, 29682802, "Emergency visit, access points rebooted")  # 05: late
    charge(
        c(30001),
        1,
        25,
        45,
        f"Managed Workplace - {_add_months(p.start, 1):%B %Y}",
        5,
        _RECURRING,
        itemDate=after,
    )  # 06: after the period
    labour(t(100005), 8, 1, 29682801, _HYPERLINK)  # 07
    labour(t(100007), 12, 1.5, 29682801, _PLUS_SUM)  # 08
    labour(t(100008), 14, 2, 29682803, _AT_CMD)  # 09
    labour(t(100002), 15, 1.5, 29682801, "Installed software for new starter")  # 10: no PO
    labour(t(100004), 16, 4, 29682803, "Migrationsplanung Vertrieb")  # 11: requires_po, no PO
    labour(t(100003), 5, 3, 29682802, "VPN-Gateway neu konfiguriert")  # 12
    labour(t(100010), 20, 2, 29682802, "Replaced PC at nurse station")  # 13: unknown PO
    labour(t(100011), 21, 3, 29682803, "Replaced failed disk in storage array")  # 14: mismatch
    labour(t(100009), 19, 1, 29682801, "Cleared print queue")  # 15: expired PO
    for day in (2, 7, 13, 19, 23, 28):  # 16-21: CF-2026-118 goes over budget during the month
        labour(t(100006), day, 6, 29682802, "Wi-Fi survey and access point replacement")
    for day in (5, 15, 26):  # 22-24: FE/2026/0815 ends near 85 %
        labour(t(100008), day, 4, 29682803, "CAD workstation tuning")
    labour(t(100014), 10, 2, 29682802, "Firewall rules for new branch")  # 25: contract 30003, PO-4711
    charge(c(30001), 1, 25, 45, f"Managed Workplace - {month}", 5, _RECURRING)  # 26: contract 30001
    labour(t(100005), 22, 2, 29682802, "Till PC replaced")  # 27: GBP
    labour(task(60001), 6, 6, 29682804, "Site survey and network design")  # 28: project PO
    labour(task(60003), 24, 8, 29682803, "Cutover of core network")  # 29: task PO
    labour(t(100013), 9, 1, 29682801, "Docking stations swapped")  # 30: ticket PO
    labour(t(100012), 11, 0.75, 29682801, "Granted access to share")  # 31: tax 0 %
    charge(c(30009), 1, 1, 2500, f"Retainer - {month}", 5, _RECURRING)  # 32
    charge(pr(50002), 17, 1, 480, "Removal van hire", 3, _FIXED)  # 33
    charge(t(100003), 5, 2, 189, "Docking station USB-C", 4, _HW)  # 34
    return rows


def _label(m: _Master, ctx: Row) -> str:
    if ctx["ticketID"]:
        k = m.tickets[m.ticket_ix[ctx["ticketID"]]]
        return f"{k['ticketNumber']} - {k['title']}"
    t = m.tasks[m.task_ix[ctx["taskID"]]]
    return f"{m.projects[m.project_ix[t['projectID']]]['projectName']}: {t['title']}"


def _fixed_time_entries(m: _Master) -> list[Row]:
    p = m.period
    code = {w[0]: w for w in WORK_TYPES}
    rows: list[Row] = []

    def entry(
        ctx: Row,
        day: int | None,
        hours: float,
        code_id: int,
        notes: str,
        *,
        offset: float = 0.0,
        to_bill: float | str | None = "auto",
        non_billable: bool = False,
        iso: bool = False,
    ) -> None:
        serial = p.day(day) if day is not None else _serial(p.end) + 1
        bill = hours + offset if to_bill == "auto" else to_bill
        quarters = round((hours + offset if bill is None else float(bill)) * 4)
        row = {
            "id": _BASE_TIME_ENTRY + len(rows),
            "dateWorked": p.iso(serial) if iso else serial,
            "hoursWorked": hours,
            "offsetHours": offset,
            "hoursToBill": bill,
            "resourceID": _BASE_RESOURCE + (len(rows) * 5) % 12,
            "roleID": code[code_id][3],
            "billingCodeID": code_id,
            "contractID": ctx["contractID"],
            "ticketID": ctx["ticketID"],
            "taskID": ctx["taskID"],
            "isNonBillable": non_billable,
            "showOnInvoice": not non_billable,
            "summaryNotes": notes,
        }
        rows.append(
            row | _usage(m, ctx, serial, quarters * code[code_id][2] * 25, quarters, not non_billable)
        )

    t, task = m.ticket_ctx, m.task_ctx
    entry(t(100001), 27, 2, 29682801, "Checked switch logs after upgrade", iso=True)  # 1000001
    entry(t(100002), 27, 1, 29682801, "Internal: documentation update", non_billable=True)  # 02
    entry(t(100007), 28, 0.5, 29682801, _PLUS_SUM)  # 03
    entry(t(100009), 0, 1.5, 29682801, "Printer driver rolled out", iso=True)  # 04: late
    entry(t(100001), None, 1, 29682801, "Night maintenance after month end")  # 05: after the period
    entry(t(100003), 22, 2, 29682802, "VPN-Tunnel überwacht", offset=-0.25, to_bill=None)  # 06
    entry(task(60002), 23, 4, 29682802, "Cabling floor 1")  # 07: PO from the project
    entry(task(60003), 25, 6, 29682803, "Cutover preparation")  # 08: PO from the task
    entry(t(100004), 23, 3, 29682803, "Postfächer migriert")  # 09: requires_po, no PO
    entry(t(100006), 27, 5, 29682802, "Access points building B replaced")  # 10: over budget
    entry(t(100006), 28, 5, 29682802, "Wi-Fi coverage measured")  # 11
    entry(t(100013), 21, 1.5, 29682801, "Docking stations tested")  # 12: ticket PO
    return rows


def _fixed_charges(m: _Master) -> dict[str, list[Row]]:
    p = m.period
    out: dict[str, list[Row]] = {name: [] for name in _BASE_CHARGE}

    def charge(
        file: str,
        ctx: Row,
        day: int,
        qty: float,
        price: float,
        cost: float,
        name: str,
        code_id: int,
        *,
        text: str | None = None,
        date_text: str | None = None,
        billable: bool = True,
        po: str = "",
        internal_po: str = "",
    ) -> None:
        rows = out[file]
        parent = {
            "ContractCharges": "contractID",
            "TicketCharges": "ticketID",
            "ProjectCharges": "projectID",
        }[file]
        amount = round(qty * price, 2)
        row = {
            "id": _BASE_CHARGE[file] + len(rows),
            "name": name,
            "description": text or name,
            "datePurchased": date_text or p.day(day),
            "unitQuantity": qty,
            "unitPrice": price,
            "unitCost": cost,
            "billableAmount": amount,
            "extendedCost": round(qty * cost, 2),
            "isBillableToCompany": billable,
            "isBilled": False,
            "chargeType": 1,
            "billingCodeID": code_id,
            "purchaseOrderNumber": po,
            "internalPurchaseOrderNumber": internal_po,
            parent: ctx[parent],
        }
        ok = billable and date_text is None
        rows.append(row | _usage(m, ctx, p.day(day), _cents(amount), 0, ok, po_raw=po or ctx["_raw"]))

    c, t, pr = m.contract_ctx, m.ticket_ctx, m.project_ctx
    charge(
        "ContractCharges", c(30001), 4, 2, 189, 142, "Docking station USB-C", _HW, po="PO-4712"
    )  # 10000001
    charge("ContractCharges", c(30002), 18, -1, 189, 142, "Credit: returned docking station", _CREDIT)  # 02
    charge("ContractCharges", c(30002), 8, 1, 450, 300, "Loan laptop (internal)", _HW, billable=False)  # 03
    charge("ContractCharges", c(30008), 16, 1, 1290, 990, "Switch 24-port PoE", _HW)  # 04: over budget
    charge("ContractCharges", c(30010), 13, 3, 21.5, 12, "USB headset", _HW, text=_HYPERLINK)  # 05
    charge(
        "ContractCharges", c(30005), 2, 40, 33.9, 31.2, "Microsoft 365 E3", _SW, internal_po="INT-26-00017"
    )  # 06
    charge(
        "TicketCharges", t(100005), 8, 1, 249, 180, "Till receipt printer", _HW, date_text=_BAD_DATE
    )  # 20000001
    charge("TicketCharges", t(100002), 3, 1, 1299, 990, 'Laptop 14" business', _HW, po="PO-4712")  # 02
    charge("TicketCharges", t(100011), 21, 2, 139, 95, "SSD 1 TB", _HW)  # 03: mismatch
    charge("TicketCharges", t(100009), -4, 3, 89, 61, "Toner cartridge", _HW)  # 04: late
    charge("ProjectCharges", pr(50001), 12, 12, 18.5, 7.5, "Fibre patch cables", _HW)  # 30000001
    charge("ProjectCharges", pr(50002), 17, 1, 480, 400, "Removal van hire", _FIXED)  # 02
    return out


def fixed_row_count() -> int:
    """How many special rows every sample carries: the smallest allowed ``scale``."""
    m = _Master(_Period.parse("2026-10"))
    _build_fixed(m)
    charges = _fixed_charges(m)
    return len(_fixed_billing_items(m)) + len(_fixed_time_entries(m)) + sum(map(len, charges.values()))


# --- billable rows: the bulk, vectorised --------------------------------------------------------------
@dataclass
class _Bulk:
    """Column arrays of generated rows plus the private usage arrays the budget sizing reads."""

    columns: dict[str, np.ndarray | Any]
    n: int
    po: np.ndarray
    cust: np.ndarray
    cents: np.ndarray
    quarters: np.ndarray
    counted: np.ndarray


@dataclass
class _Sampler:
    m: _Master
    rng: np.random.Generator
    labour: _Ctx
    labour_groups: tuple[np.ndarray, np.ndarray, np.ndarray]
    cust_p: np.ndarray

    @classmethod
    def of(cls, m: _Master, rng: np.random.Generator) -> _Sampler:
        labour = _labour_parents(m)
        w = np.array([c["_weight"] for c in m.customers])
        groups = _group_index(labour.cust, len(m.customers), _po_ok(m, labour))
        return cls(m, rng, labour, groups, w / w.sum())

    def days(self, n: int, late_share: float = 0.015) -> np.ndarray:
        """Excel serials: weekdays of the period mostly, a few days before it (late)."""
        p = self.m.period
        offsets = np.arange(p.days)
        weekday = (np.array([p.start.weekday()]) + offsets) % 7
        w = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.08, 0.04))
        day = self.rng.choice(offsets, size=n, p=w / w.sum()) + 1
        late = self.rng.random(n) < late_share
        day = np.where(late, -self.rng.integers(0, 10, size=n), day)
        return p.day(0) + day

    def labour_rows(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(parent index into self.labour, work type index, quarter hours) for ``n`` labour rows."""
        cust = self.rng.choice(len(self.m.customers), size=n, p=self.cust_p)
        parent = _pick(self.rng, self.labour_groups, cust)
        work = self.rng.choice(len(WORK_TYPES), size=n, p=_WORK_WEIGHTS)
        quarters = np.clip(np.rint(self.rng.gamma(2.0, 3.0, size=n)), 1, 40).astype(np.int64)
        return parent, work, quarters

    def resources(self, n: int) -> np.ndarray:
        return _BASE_RESOURCE + self.rng.integers(0, len(self.m.resources), size=n)


_WORK_ID = np.array([w[0] for w in WORK_TYPES])
_WORK_RATE = np.array([w[2] for w in WORK_TYPES], dtype=np.int64)
_WORK_ROLE = np.array([w[3] for w in WORK_TYPES])
_PROD_PRICE = np.array([p[2] for p in PRODUCTS], dtype=np.int64)
_PROD_COST = np.array([p[3] for p in PRODUCTS], dtype=np.int64)
_PROD_CODE = np.array([p[4] for p in PRODUCTS])
_PROD_QMAX = np.array([p[5] for p in PRODUCTS])
_PROD_NAME = _obj([p[0] for p in PRODUCTS])
_PROD_TEXT = _obj([p[1] for p in PRODUCTS])
_SUMMARY = _obj(_SUMMARIES)


def _none_where(values: np.ndarray, blank: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[blank] = None
    return out


def _po_ok(m: _Master, ctx: _Ctx) -> np.ndarray:
    """Parents the bulk may book on: with a PO, or of a customer that does not require one.

    Items without a PO for a ``requires_po`` customer are special cases (kept to the fixed rows).
    """
    requires = np.array([c["requires_po"] == "yes" for c in m.customers])
    return ~requires[ctx.cust] | (ctx.po >= 0)


def _charge_parents(m: _Master, file: str) -> _Ctx:
    """Contracts, tickets or projects (what the charges of ``file`` hang off) after the PO cascade."""
    if file == "ContractCharges":
        rows = [m.contract_ctx(c["id"]) for c in m.contracts]
    elif file == "TicketCharges":
        rows = [m.ticket_ctx(k["id"]) for k in m.tickets]
    else:
        rows = [m.project_ctx(p["id"]) for p in m.projects]
    return _Ctx.of(m, rows, [""] * len(rows))


def _bulk_billing_items(s: _Sampler, n: int) -> _Bulk:
    rng, m, ctx = s.rng, s.m, s.labour
    # every row starts from a labour parent (ticket or task); charges hang off its ticket, its
    # contract or a project of the same customer
    parent, work, quarters = s.labour_rows(n)
    cust = ctx.cust[parent]
    contracts = _charge_parents(m, "ContractCharges")
    projects = _charge_parents(m, "ProjectCharges")
    pix = _pick(
        rng, _group_index(projects.cust, len(m.customers), _po_ok(m, projects)), cust, allow_empty=True
    )
    contract_ix = ctx.contract[parent] - _BASE_CONTRACT  # contract ids are consecutive from the base
    # 0 labour, 1 labour adjustment, 2 project charge, 3 ticket charge, 4 contract charge
    kind = rng.choice(5, size=n, p=[0.72, 0.01, 0.04, 0.09, 0.14])
    kind = np.where((kind == 3) & (parent >= len(m.tickets)), 4, kind)  # no ticket: a contract charge
    kind = np.where((kind == 2) & (pix < 0), 4, kind)  # no project: a contract charge
    kind = np.where((kind == 4) & ~_po_ok(m, contracts)[contract_ix], 0, kind)  # PO required: labour
    is_labour = kind <= 1
    quarters = np.where(kind == 1, -np.minimum(quarters, 8), quarters)
    company = ctx.company[parent]
    contract = ctx.contract[parent].copy()
    project = ctx.project[parent].copy()
    task = ctx.task[parent].copy()
    ticket = ctx.ticket[parent].copy()
    raw_po = ctx.raw_po[parent].copy()
    po = ctx.po[parent].copy()
    sel = kind == 4
    project[sel] = task[sel] = ticket[sel] = None
    raw_po[sel] = contracts.raw_po[contract_ix[sel]]
    po[sel] = contracts.po[contract_ix[sel]]
    sel = kind == 2
    contract[sel] = projects.contract[pix[sel]]
    project[sel] = projects.project[pix[sel]]
    task[sel] = ticket[sel] = None
    raw_po[sel] = projects.raw_po[pix[sel]]
    po[sel] = projects.po[pix[sel]]
    product = rng.integers(0, len(PRODUCTS), size=n)
    qty = (rng.random(n) * _PROD_QMAX[product]).astype(np.int64) + 1
    rate_cents = np.where(is_labour, _WORK_RATE[work] * 100, _PROD_PRICE[product])
    cents = np.where(is_labour, quarters * _WORK_RATE[work] * 25, qty * _PROD_PRICE[product])
    quantity = np.where(is_labour, quarters / 4, qty.astype(float))
    item_type = np.select([kind == 0, kind == 1, kind == 2, kind == 3], [1, 2, 3, 4], 5)
    dates = s.days(n)
    invoiced = rng.random(n) < 0.03
    non_billable = (rng.random(n) < 0.02) & ~invoiced
    invoice = np.where(invoiced, rng.integers(41000, 41060, size=n), 0)
    invoice_col = _none_where(invoice, (rng.random(n) < 0.1) & ~invoiced)  # null = not invoiced too
    item_name = np.where(is_labour, ctx.label[parent], _PROD_NAME[product])
    summary = _SUMMARY[rng.integers(0, len(_SUMMARY), size=n)]
    credit = _obj(_CREDITS)[rng.integers(0, len(_CREDITS), size=n)]
    description = np.where(kind == 0, summary, np.where(kind == 1, credit, _PROD_TEXT[product]))
    first_te = _BASE_POSTED_TIME_ENTRY + 1000
    columns = {
        "itemDate": dates,
        "companyID": company,
        "contractID": contract,
        "projectID": project,
        "taskID": task,
        "ticketID": ticket,
        "timeEntryID": _none_where(first_te + np.arange(n), kind != 0),
        "billingCodeID": np.where(is_labour, _WORK_ID[work], _PROD_CODE[product]),
        "roleID": _none_where(_WORK_ROLE[work], ~is_labour),
        "resourceID": _none_where(s.resources(n), ~is_labour),
        "billingItemType": item_type,
        "itemName": item_name,
        "description": description,
        "quantity": quantity,
        "rate": rate_cents / 100,
        "extendedPrice": cents / 100,
        "totalAmount": cents / 100,
        "nonBillable": non_billable.astype(np.int64),
        "purchaseOrderNumber": raw_po,
        "invoiceID": invoice_col,
        "postedDate": np.minimum(dates + rng.integers(0, 4, size=n), _serial(m.period.end) + 1),
    }
    counted = ~invoiced & ~non_billable
    return _Bulk(columns, n, po, cust, cents, np.where(is_labour, quarters, 0), counted)


def _bulk_time_entries(s: _Sampler, n: int) -> _Bulk:
    rng, p = s.rng, s.m.period
    parent, work, quarters = s.labour_rows(n)
    ctx = s.labour
    offset_q = np.select([rng.random(n) < 0.03, rng.random(n) < 0.03], [-1, 1], 0)
    bill_q = np.maximum(quarters + offset_q, 1)
    to_bill = _none_where(bill_q / 4, (offset_q == 0) & (bill_q == quarters) & (rng.random(n) < 0.02))
    non_billable = rng.random(n) < 0.04
    dates = s.days(n)
    index = np.arange(n)
    iso = _obj([p.iso(d) for d in range(int(dates.min()), int(dates.max()) + 1)])
    date_col = dates.astype(object)
    every_fourth = index % 4 == 0
    date_col[every_fourth] = iso[dates[every_fourth] - int(dates.min())]
    columns = {
        "dateWorked": date_col,
        "hoursWorked": quarters / 4,
        "offsetHours": offset_q / 4,
        "hoursToBill": to_bill,
        "resourceID": s.resources(n),
        "roleID": _WORK_ROLE[work],
        "billingCodeID": _WORK_ID[work],
        "contractID": ctx.contract[parent],
        "ticketID": ctx.ticket[parent],
        "taskID": ctx.task[parent],
        "isNonBillable": non_billable,
        "showOnInvoice": ~non_billable,
        "summaryNotes": _SUMMARY[rng.integers(0, len(_SUMMARY), size=n)],
    }
    return _Bulk(
        columns, n, ctx.po[parent], ctx.cust[parent], bill_q * _WORK_RATE[work] * 25, bill_q, ~non_billable
    )


def _bulk_charges(s: _Sampler, file: str, n: int) -> _Bulk:
    rng, m = s.rng, s.m
    ctx = _charge_parents(m, file)
    groups = _group_index(ctx.cust, len(m.customers), _po_ok(m, ctx))
    w = s.cust_p * (groups[1] > 0)
    cust = rng.choice(len(m.customers), size=n, p=w / w.sum())
    parent = _pick(rng, groups, cust)
    product = rng.integers(0, len(PRODUCTS), size=n)
    qty = (rng.random(n) * _PROD_QMAX[product]).astype(np.int64) + 1
    qty = np.where(rng.random(n) < 0.005, -np.minimum(qty, 2), qty)  # returns: credits
    cents = qty * _PROD_PRICE[product]
    billable = rng.random(n) >= 0.03
    # a charge may carry its own PO: another PO of the same customer
    pos_of = _group_index([m.cust_ix.get(po["owner"], 0) for po in m.pos], len(m.customers))
    own = (rng.random(n) < (0.10 if file == "ContractCharges" else 0.05)) & (pos_of[1][cust] > 0)
    own_po = _pick(rng, pos_of, cust, allow_empty=True)
    numbers = _obj([po["number"] for po in m.pos])
    po_col = np.where(own, numbers[np.maximum(own_po, 0)], "").astype(object)
    internal = rng.random(n) < 0.2
    internal_col = np.where(
        internal,
        _obj([f"INT-{m.period.start:%y}-{i:05d}" for i in range(1000)])[rng.integers(0, 1000, size=n)],
        "",
    ).astype(object)
    parent_col = {"ContractCharges": ctx.contract, "TicketCharges": ctx.ticket, "ProjectCharges": ctx.project}
    columns = {
        "name": _PROD_NAME[product],
        "description": _PROD_TEXT[product],
        "datePurchased": s.days(n),
        "unitQuantity": qty.astype(float),
        "unitPrice": _PROD_PRICE[product] / 100,
        "unitCost": _PROD_COST[product] / 100,
        "billableAmount": cents / 100,
        "extendedCost": qty * _PROD_COST[product] / 100,
        "isBillableToCompany": billable,
        "isBilled": False,
        "chargeType": 1,
        "billingCodeID": _PROD_CODE[product],
        "purchaseOrderNumber": po_col,
        "internalPurchaseOrderNumber": internal_col,
        CHARGE_COLUMNS[file][-1]: parent_col[file][parent],
    }
    effective = np.where(own, own_po, ctx.po[parent])
    return _Bulk(columns, n, effective, cust, cents, np.zeros(n, dtype=np.int64), billable)


# --- tables and budgets -------------------------------------------------------------------------------
@dataclass
class _Table:
    file: str
    columns: tuple[str, ...]
    data: list[np.ndarray]  # object arrays, one per column
    dates: frozenset[str] = frozenset()
    bools: frozenset[str] = frozenset()
    title: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.data[0]) if self.data else 0

    def chunks(self, size: int = _CHUNK) -> Iterator[list[tuple[Any, ...]]]:
        for i in range(0, self.n, size):
            yield list(zip(*(col[i : i + size].tolist() for col in self.data), strict=True))


def _table(
    file: str, columns: Sequence[str], fixed: Sequence[Row], bulk: _Bulk | None = None, **kw: Any
) -> _Table:
    data = []
    for name in columns:
        head = _obj([r.get(name) for r in fixed])
        if bulk is None or bulk.n == 0:
            data.append(head)
            continue
        value = bulk.columns.get(name)
        if isinstance(value, np.ndarray):
            tail = value.astype(object) if value.dtype != object else value
        else:
            tail = np.full(bulk.n, value, dtype=object)
        data.append(np.concatenate([head, tail]))
    return _Table(file, tuple(columns), data, **kw)


def _usage_arrays(fixed: Sequence[Row], bulk: _Bulk | None) -> tuple[np.ndarray, ...]:
    cols = [
        np.array([r[k] for r in fixed], dtype=t)
        for k, t in (
            ("_po", np.int64),
            ("_cust", np.int64),
            ("_cents", np.int64),
            ("_q", np.int64),
            ("_counted", bool),
        )
    ]
    if bulk is not None and bulk.n:
        extra = (bulk.po, bulk.cust, bulk.cents, bulk.quarters, bulk.counted)
        cols = [np.concatenate([a, np.asarray(b, dtype=a.dtype)]) for a, b in zip(cols, extra, strict=True)]
    return tuple(cols)


def _nice(amount: float) -> int:
    """A budget figure a person would sign off: rounded to 10, 100 or 1000."""
    step = 10 if amount < 10_000 else 100 if amount < 250_000 else 1000
    return int(max(step, round(amount / step) * step))


def _po_reference(m: _Master, usage: Sequence[tuple[np.ndarray, ...]], rng: np.random.Generator) -> list[Row]:
    """The PO budget table, each PO sized so this month uses its target share of the authorised amount."""
    po, cust, cents, quarters, counted = (np.concatenate(parts) for parts in zip(*usage, strict=True))
    owner_ix = np.array([m.cust_ix.get(p["owner"], -1) for p in m.pos])
    own = counted & (po >= 0)
    own[own] = owner_ix[po[own]] == cust[own]  # a mismatched PO's items are held, not consumed
    spent = np.bincount(po[own], weights=cents[own], minlength=len(m.pos)) / 100
    hours = np.bincount(po[own], weights=quarters[own], minlength=len(m.pos)) / 4
    rows = []
    for i, p in enumerate(m.pos):
        if p["validity"] == "unknown":
            continue
        owner = m.customers[m.cust_ix[p["owner"]]]
        back = 9 if i < len(_FIXED_POS) else int(rng.integers(3, 10))
        start = _add_months(m.period.start, -back)
        if p["validity"] == "expired":
            start = _add_months(m.period.start, -12)
        end = _add_months(start, 12) - timedelta(days=1)
        amount = _nice(spent[i] / p["target"]) if spent[i] > 0 else _nice(float(rng.uniform(5000, 20000)))
        auth_hours = (
            int(max(5, round(hours[i] / p["target"] / 5) * 5)) if p["hours"] and hours[i] > 0 else None
        )
        rows.append(
            {
                "PO Number": p["number"],
                "Customer ID": p["owner"],
                "Authorised Amount": amount,
                "Authorised Hours": auth_hours,
                "Currency": owner["currency"],
                "Valid From": _serial(start),
                "Valid To": _serial(end),
                "Description": p["description"],
            }
        )
    return rows


def _number(bulk: _Bulk | None, first: int) -> None:
    """Give the generated rows their ids, following on from the special rows of the same file."""
    if bulk is not None:
        bulk.columns["id"] = first + np.arange(bulk.n)


def _tables(m: _Master, rng: np.random.Generator, scale: int) -> list[_Table]:
    fixed_bi = _fixed_billing_items(m)
    fixed_te = _fixed_time_entries(m)
    fixed_ch = _fixed_charges(m)
    bulk_n = scale - len(fixed_bi) - len(fixed_te) - sum(map(len, fixed_ch.values()))
    sizes = {k: int(bulk_n * v) for k, v in _SPLIT.items()}
    sizes["BillingItems"] += bulk_n - sum(sizes.values())
    s = _Sampler.of(m, rng)
    bi = _bulk_billing_items(s, sizes["BillingItems"]) if sizes["BillingItems"] else None
    te = _bulk_time_entries(s, sizes["TimeEntries"]) if sizes["TimeEntries"] else None
    charges = {f: _bulk_charges(s, f, sizes[f]) if sizes[f] else None for f in _BASE_CHARGE}
    _number(bi, _BASE_BILLING_ITEM + len(fixed_bi))
    _number(te, _BASE_TIME_ENTRY + len(fixed_te))
    for f, bulk in charges.items():
        _number(bulk, _BASE_CHARGE[f] + len(fixed_ch[f]))
    usage = [_usage_arrays(fixed_bi, bi), _usage_arrays(fixed_te, te)]
    usage += [_usage_arrays(fixed_ch[f], charges[f]) for f in _BASE_CHARGE]
    p = m.period
    title = ("Autotask — Billing Items export", f"Generated {p.exported:%Y-%m-%d %H:%M}")
    codes = [
        {"id": w[0], "name": w[1], "unitPrice": w[2], "billingCodeType": "work type"} for w in WORK_TYPES
    ]
    codes += [
        {"id": c[0], "name": c[1], "unitPrice": c[2], "billingCodeType": "material code"}
        for c in MATERIAL_CODES
    ]
    return [
        _table("Companies", COMPANY_COLUMNS, m.customers),
        _table("BillingEntities", ENTITY_COLUMNS, [_entity_row(e) for e in _ENTITIES]),
        _table("Contracts", CONTRACT_COLUMNS, m.contracts, dates=frozenset({"startDate", "endDate"})),
        _table("Projects", PROJECT_COLUMNS, m.projects),
        _table("Tickets", TICKET_COLUMNS, m.tickets),
        _table("Tasks", TASK_COLUMNS, m.tasks),
        _table("Resources", RESOURCE_COLUMNS, m.resources),
        _table("BillingCodes", BILLING_CODE_COLUMNS, codes),
        _table(
            "BillingItems",
            BILLING_ITEM_COLUMNS,
            fixed_bi,
            bi,
            dates=frozenset({"itemDate", "postedDate"}),
            title=title,
        ),
        _table(
            "TimeEntries",
            TIME_ENTRY_COLUMNS,
            fixed_te,
            te,
            dates=frozenset({"dateWorked"}),
            bools=frozenset({"isNonBillable", "showOnInvoice"}),
        ),
        *(
            _table(
                f,
                CHARGE_COLUMNS[f],
                fixed_ch[f],
                charges[f],
                dates=frozenset({"datePurchased"}),
                bools=frozenset({"isBillableToCompany", "isBilled"}),
            )
            for f in _BASE_CHARGE
        ),
        _table(
            "po_reference",
            PO_REFERENCE_COLUMNS,
            _po_reference(m, usage, rng),
            dates=frozenset({"Valid From", "Valid To"}),
        ),
    ]


# --- writers -------------------------------------------------------------------------------------------
def _write_xlsx(path: Path, table: _Table, created: datetime) -> None:
    wb = xlsxwriter.Workbook(str(path), _XLSX_OPTIONS)
    wb.set_properties({"title": table.file, "author": "Autotask", "created": created})
    ws = wb.add_worksheet(table.file[:31])
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    head_fmt = wb.add_format({"bold": True})
    for i, name in enumerate(table.columns):
        ws.set_column(i, i, max(10, min(len(name) + 3, 40)))
    r = 0
    for line in table.title:
        ws.write_string(r, 0, line)
        r += 1
    r += 1 if table.title else 0  # the blank row under the report title
    ws.write_row(r, 0, table.columns, head_fmt)
    r += 1
    segments = _segments(table, date_fmt)
    write_row = ws.write_row
    for chunk in table.chunks():
        if len(segments) == 1:
            for row in chunk:
                write_row(r, 0, row)
                r += 1
            continue
        for row in chunk:
            for start, stop, fmt in segments:
                write_row(r, start, row[start:stop], fmt)
            r += 1
    wb.close()


def _segments(table: _Table, date_fmt: Any) -> list[tuple[int, int, Any]]:
    """Runs of columns sharing a cell format: (start, stop, format or None)."""
    out: list[tuple[int, int, Any]] = []
    for i, name in enumerate(table.columns):
        fmt = date_fmt if name in table.dates else None
        if out and out[-1][2] is fmt:
            out[-1] = (out[-1][0], i + 1, fmt)
        else:
            out.append((i, i + 1, fmt))
    return out


def _write_csv(path: Path, table: _Table) -> None:
    iso: dict[int, str] = {}

    def as_date(v: Any) -> Any:
        if type(v) is int:
            if v not in iso:
                iso[v] = f"{_EXCEL_EPOCH + timedelta(days=v):%Y-%m-%d}"
            return iso[v]
        return v

    def as_bool(v: Any) -> Any:
        return ("true" if v else "false") if type(v) is bool else v

    convert: list[Callable[[Any], Any] | None] = [
        as_date if c in table.dates else as_bool if c in table.bools else None for c in table.columns
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(table.columns)
        for chunk in table.chunks():
            if any(convert):
                cols = [list(col) for col in zip(*chunk, strict=True)]
                cols = [list(map(f, col)) if f else col for f, col in zip(convert, cols, strict=True)]
                chunk = list(zip(*cols, strict=True))
            w.writerows(chunk)


def write_sample(
    out_dir: Path,
    scale: int = 400,
    *,
    period: str = "2026-10",
    seed: int = 2026,
    fmt: str = "xlsx",
    style: str = "rest",
    culture: str = "en-US",
) -> dict[str, int]:
    """Write a synthetic month of Autotask exports into ``out_dir``; the data row count of each file.

    ``scale`` is the total number of billing items, time entries and charges (at least
    ``fixed_row_count()``). The same arguments always write the same bytes. ``style`` and ``culture``
    choose the rendering (``renderings.py``): every rendering of one month gives the same invoices.
    """
    renderings.check(style, culture)
    if fmt not in ("xlsx", "csv"):
        raise UsageError(f"fmt must be 'xlsx' or 'csv', got {fmt!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)):
        raise UsageError(f"scale must be a whole number, got {scale!r}")
    scale = int(scale)
    if scale < fixed_row_count():
        raise UsageError(f"scale must be at least {fixed_row_count()} (the special cases), got {scale}")
    p = _Period.parse(period)
    rng = np.random.default_rng(seed)
    m = _Master(p)
    _build_fixed(m)
    _build_bulk(m, rng, scale)
    tables = _tables(m, rng, scale)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if style != "rest":
        rendered = [renderings.Table(t.file, t.columns, t.data, t.dates, t.bools, t.title) for t in tables]
        return renderings.write(out_dir, rendered, style, culture, p.exported, WORK_TYPES)
    counts: dict[str, int] = {}
    for table in tables:
        path = out_dir / f"{table.file}.{fmt}"
        if fmt == "xlsx":
            _write_xlsx(path, table, p.exported)
        else:
            _write_csv(path, table)
        counts[path.name] = table.n
    return counts
