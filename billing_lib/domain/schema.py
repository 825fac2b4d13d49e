"""One declared schema per input table: which files/sheets it comes from, its columns, their types.

Names are compared after ``key()``: case-folded with spaces, underscores and hyphens removed, so
``purchaseOrderNumber``, ``purchase_order_number`` and ``Purchase Order Number`` are one column.
Every column has a canonical snake_case name (what the rest of the package uses) and the Autotask
REST, reporting and screen-label spellings it is known by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from billing_lib.domain.records import Issue

Kind = Literal["id", "text", "date", "decimal", "bool"]

_SEPARATORS = re.compile(r"[\s_\-]+")


def key(name: object) -> str:
    """The comparison key of a table, sheet or column name."""
    return _SEPARATORS.sub("", str(name)).casefold()


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(key(a) for a in (self.name, *self.aliases)))


@dataclass(frozen=True)
class TableSpec:
    name: str
    names: tuple[str, ...]  # file / sheet names, any spelling
    columns: tuple[Column, ...]
    # columns of which at least one must be present (e.g. an amount or a quantity)
    one_of: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(key(n) for n in (self.name, *self.names)))

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def alias_map(self) -> dict[str, str]:
        """Comparison key -> canonical column name (first declaration wins)."""
        out: dict[str, str] = {}
        for col in self.columns:
            for k in col.keys:
                out.setdefault(k, col.name)
        return out


def C(name: str, kind: Kind, *aliases: str, required: bool = False) -> Column:
    return Column(name, kind, aliases, required)


# Columns shared by the three billable tables.
_PO = C("po_number", "text", "purchaseOrderNumber", "Purchase Order Number", "PO Number", "PO", "customer_po")
_INTERNAL_PO = C(
    "internal_po_number",
    "text",
    "internalPurchaseOrderNumber",
    "internal_po_number",
    "Internal Purchase Order Number",
    "internalPONumber",
)
_LINKS = (
    C(
        "customer_id",
        "id",
        "companyID",
        "company_id",
        "accountID",
        "AccountID",
        "clientID",
        "customerID",
        "Company ID",
        "Account ID",
        "Organization ID",
    ),
    C(
        "customer_name",
        "text",
        "companyName",
        "company_name",
        "accountName",
        "Customer",
        "Company",
        "Account",
        "Client",
        "Organization",
        "Organization Name",
        "Account Name",
        "Company Name",
    ),
    C("contract_id", "id", "contractID", "Contract ID", "jobID", "job_id"),
    C("contract_name", "text", "contractName", "Contract Name", "Contract"),  # reports name the contract
    C("project_id", "id", "projectID", "Project ID"),
    C("task_id", "id", "taskID", "Task ID", "activityID"),
    C("ticket_id", "id", "ticketID", "Ticket ID"),
    C("ticket_number", "text", "ticketNumber", "Ticket Number", "Ticket"),  # reports name the ticket
    C("resource_id", "id", "resourceID", "Resource ID", "employeeID"),
    C("resource_name", "text", "resourceName", "Resource Name", "Resource", "Worked By"),
    C(
        "billing_code_id",
        "id",
        "billingCodeID",
        "allocationCodeID",
        "workTypeID",
        "materialCodeID",
        "Billing Code ID",
        "Allocation Code ID",
    ),
    C(
        "billing_code_name",
        "text",
        "billingCodeName",
        "billing_code",
        "workType",
        "Work Type",
        "materialCode",
        "material_code_name",
        "Material Code",
        "Allocation Code",
        "Billing Code",
    ),
    C("role_id", "id", "roleID"),
    C("invoice_id", "id", "invoiceID", "Invoice ID"),
    C("invoice_number", "text", "invoiceNumber", "Invoice Number", "Invoice No"),
    # Autotask's currencyID is a numeric id, not an ISO code: deliberately not an alias of currency
    C("currency", "text", "currencyCode", "Currency Code"),
    C(
        "cost_centre",
        "text",
        "costCentre",
        "costCenter",
        "cost_center",
        "Cost Centre",
        "Cost Center",
        "department",
    ),
    C("workplace", "text", "workplaceName", "site", "location", "Work Location", "siteName"),
    C("billing_contact", "text", "billingContact", "billing_contact_name", "billToContact"),
    C("buyer_reference", "text", "buyerReference", "Buyer Ref", "customer_reference"),
    C(
        "non_billable",
        "bool",
        "nonBillable",
        "isNonBillable",
        "Non Billable",
        "Non-Billable",
        "is_non_billable",
    ),
    C(
        "billable_to_company",
        "bool",
        "isBillableToCompany",
        "BillableToAccount",
        "billable_to_account",
        "Billable To Company",
        "Billable",
        "billableToAccount",
    ),
)

BILLING_ITEMS = TableSpec(
    "billing_items",
    ("BillingItems", "items", "billing_items", "Billing Items", "posted_items"),
    (
        C("item_id", "id", "id", "billingItemID", "billing_item_id", "Item ID", required=True),
        C("item_date", "date", "itemDate", "Item Date", "date", "postedDate_item", required=True),
        *_LINKS,
        C("time_entry_id", "id", "timeEntryID"),
        # the posted row's link to its charge: REST names, then the SOAP API's (charges were "costs")
        C("contract_charge_id", "id", "contractChargeID", "ContractCostID"),
        C("ticket_charge_id", "id", "ticketChargeID", "TicketCostID"),
        C("project_charge_id", "id", "projectChargeID", "ProjectCostID"),
        C("expense_item_id", "id", "expenseItemID"),
        C("item_type", "text", "billingItemType", "Billing Item Type", "type"),
        C("sub_type", "text", "subType"),
        C("item_name", "text", "itemName", "Item Name", "name"),
        C("description", "text", "Description", "summaryNotes", "notes"),
        C("quantity", "decimal", "Quantity", "hoursToBill", "units", "qty"),
        C("rate", "decimal", "unitPrice", "Unit Price", "Rate", "price"),
        C(
            "amount",
            "decimal",
            "extendedPrice",
            "Extended Price",
            "billableAmount",
            "billable_amount",
            "Billable Amount",
            "Amount",
        ),
        _PO,
        _INTERNAL_PO,
    ),
    one_of=(("amount", "quantity"),),
)

TIME_ENTRIES = TableSpec(
    "time_entries",
    ("TimeEntries", "time_entries", "Time Entries", "timesheets", "labour", "labor"),
    (
        C("item_id", "id", "id", "timeEntryID", "time_entry_id", "Time Entry ID", required=True),
        C("item_date", "date", "dateWorked", "Date Worked", "date", "workDate", required=True),
        *_LINKS,
        C("hours_worked", "decimal", "hoursWorked", "Hours Worked", "hours"),
        C("offset_hours", "decimal", "offsetHours", "Offset Hours"),
        C("hours_to_bill", "decimal", "hoursToBill", "Hours To Bill", "billableHours", "billable_hours"),
        C("rate", "decimal", "hourlyRate", "billingRate", "Rate", "unitPrice"),
        C(
            "amount",
            "decimal",
            "billableAmount",
            "billable_amount",
            "Billable Amount",
            "extendedPrice",
            "Amount",
        ),
        C("description", "text", "summaryNotes", "Summary Notes", "Description", "notes"),
        C("start_date_time", "text", "startDateTime"),
        C("time_entry_type", "text", "timeEntryType"),
    ),
    one_of=(("hours_to_bill", "hours_worked", "amount"),),
)

CHARGES = TableSpec(
    "charges",
    (
        "charges",
        "ContractCharges",
        "TicketCharges",
        "ProjectCharges",
        "expenses",
        "ExpenseItems",
        "contract_charges",
        "ticket_charges",
        "project_charges",
        "costs",
        # the SOAP API's names of the three charge entities
        "TicketCost",
        "ContractCost",
        "ProjectCost",
        "TicketCosts",
        "ContractCosts",
        "ProjectCosts",
    ),
    (
        C("item_id", "id", "id", "chargeID", "charge_id", "expenseItemID", "Charge ID", required=True),
        C(
            "item_date",
            "date",
            "datePurchased",
            "Date Purchased",
            "Purchase Date",
            "date",
            "expenseDate",
            "itemDate",
            required=True,
        ),
        *_LINKS,
        C("item_name", "text", "name", "Name", "chargeName"),
        C("description", "text", "Description", "notes"),
        C("quantity", "decimal", "unitQuantity", "Unit Quantity", "Quantity", "qty"),
        C("rate", "decimal", "unitPrice", "Unit Price", "price"),
        C(
            "amount",
            "decimal",
            "billableAmount",
            "billable_amount",
            "Billable Amount",
            "extendedPrice",
            "expenseAmount",
            "Amount",
        ),
        C("is_billed", "bool", "isBilled", "Billed"),
        C("charge_type", "text", "chargeType", "Charge Type"),
        _PO,
        _INTERNAL_PO,
    ),
    one_of=(("amount", "quantity"),),
)

CONTRACTS = TableSpec(
    "contracts",
    ("Contracts", "contracts", "jobs"),
    (
        C("contract_id", "id", "id", "contractID", "Contract ID", required=True),
        C("contract_name", "text", "contractName", "Contract Name", "name"),
        C("contract_number", "text", "contractNumber"),
        C("customer_id", "id", "companyID", "company_id", "accountID", "Company ID", "Organization ID"),
        C("bill_to_customer_id", "id", "billToCompanyID", "bill_to_company_id", "billToAccountID"),
        C("contract_type", "text", "contractType", "Contract Type"),
        C("overage_billing_rate", "decimal", "overageBillingRate"),
        C("start_date", "date", "startDate"),
        C("end_date", "date", "endDate"),
        _PO,
        C("billing_contact", "text", "billingContact"),
        C("workplace", "text", "site", "location"),
        C("buyer_reference", "text", "buyerReference"),
    ),
)

PROJECTS = TableSpec(
    "projects",
    ("Projects", "projects"),
    (
        C("project_id", "id", "id", "projectID", "Project ID", required=True),
        C("project_name", "text", "projectName", "Project Name", "name"),
        C("project_number", "text", "projectNumber"),
        C("customer_id", "id", "companyID", "company_id", "accountID"),
        C("contract_id", "id", "contractID"),
        _PO,
    ),
)

TICKETS = TableSpec(
    "tickets",
    ("Tickets", "tickets"),
    (
        C("ticket_id", "id", "id", "ticketID", "Ticket ID", required=True),
        C("ticket_number", "text", "ticketNumber"),
        C("title", "text", "Title", "name"),
        C("customer_id", "id", "companyID", "company_id", "accountID"),
        C("contract_id", "id", "contractID"),
        C("project_id", "id", "projectID"),
        C("workplace", "text", "site", "location", "companyLocation"),
        _PO,
    ),
)

TASKS = TableSpec(
    "tasks",
    ("Tasks", "tasks", "activities"),
    (
        C("task_id", "id", "id", "taskID", "Task ID", required=True),
        C("title", "text", "Title", "name", "activity"),
        C("project_id", "id", "projectID"),
        C("phase_id", "id", "phaseID"),
        _PO,
    ),
)

COMPANIES = TableSpec(
    "companies",
    # "Account" is the SOAP API's entity, "Organizations" the current UI's word (Directory > Organizations)
    (
        "Companies",
        "companies",
        "customers",
        "accounts",
        "clients",
        "Account",
        "Organizations",
        "Organization",
    ),
    (
        C(
            "customer_id",
            "id",
            "id",
            "companyID",
            "company_id",
            "customerID",
            "accountID",
            "Organization ID",
            required=True,
        ),
        C(
            "customer_name",
            "text",
            "companyName",
            "company_name",
            "name",
            "customerName",
            "accountName",
            "Organization Name",
            "Organization",
            "Account Name",
            "Company Name",
        ),
        C("company_number", "text", "companyNumber"),
        C("currency", "text", "currencyCode"),
        # Autotask ids, read through the Currencies / Countries tables (``autotask.py``)
        C("currency_id", "id", "currencyID"),
        C("country_id", "id", "countryID"),
        C("parent_customer_id", "id", "parentCompanyID", "parentAccountID", "Parent Organization ID"),
        C("invoice_to_parent", "bool", "invoiceNonContractItemsToParentCompany"),
        C("tax_rate", "decimal", "taxRate", "Tax Rate", "tax_percent", "vat_rate"),
        C("requires_po", "bool", "requiresPO", "Requires PO", "po_required", "require_po"),
        C("consolidation_method", "text", "consolidationMethod", "invoice_consolidation_method"),
        C("billing_group", "text", "billingGroup"),
        C("billing_entity", "text", "billingEntity", "entity"),
        C("billing_contact", "text", "billingContact"),
        C("buyer_reference", "text", "buyerReference"),
        C("address", "text", "address1", "Address", "billing_address", "street", "address_1"),
        C("address2", "text", "address_2", "Address 2", "additional_address"),
        C("city", "text", "City"),
        C("postal_code", "text", "postalCode", "zip", "zip_code", "postcode"),
        C("country", "text", "Country", "countryCode", "country_code"),
        C("payment_terms", "text", "paymentTerms", "terms", "payment_terms_days"),
        # what a customer's e-invoice needs (SPEC section 2): Autotask's taxID is the customer's VAT number
        C("tax_id", "text", "taxID", "vat_id", "vat_number", "vatNumber", "VAT Number", "Tax ID"),
        C("peppol_id", "text", "peppolID", "Peppol ID", "endpoint_id", "peppol_participant_id"),
        C("vat_category", "text", "vatCategory", "tax_category", "VAT Category"),
        C("vat_exemption_reason", "text", "vatExemptionReason", "exemption_reason", "VAT Exemption Reason"),
        C("email", "text", "Email", "billing_email", "invoice_email"),
    ),
)

RESOURCES = TableSpec(
    "resources",
    ("Resources", "resources", "employees"),
    (
        C("resource_id", "id", "id", "resourceID", required=True),
        C("first_name", "text", "firstName"),
        C("last_name", "text", "lastName"),
        C("resource_name", "text", "name", "resourceName", "userName"),
        C("cost_centre", "text", "costCentre", "costCenter", "cost_center", "department"),
        C("workplace", "text", "location", "site", "office"),
    ),
)

BILLING_CODES = TableSpec(
    "billing_codes",
    (
        "BillingCodes",
        "billing_codes",
        "allocation_codes",
        "AllocationCodes",
        "AllocationCode",
        "work_types",
        "material_codes",
    ),
    (
        C("billing_code_id", "id", "id", "billingCodeID", "allocationCodeID", required=True),
        # ``name`` is what invoices show; ``description`` is a longer note, never the line's name
        C("billing_code_name", "text", "name", "billingCodeName"),
        C("billing_code_description", "text", "description"),
        C("unit_price", "decimal", "unitPrice", "Unit Price", "rate", "hourlyRate"),
        C("billing_code_type", "text", "billingCodeType", "useType", "type"),
        C("cost_centre", "text", "costCentre", "costCenter"),
        C("department_id", "id", "department", "departmentID"),  # an id, not a cost centre name
    ),
)

PO_BUDGETS = TableSpec(
    "po_budgets",
    ("po_budgets", "po_reference", "PO Budgets", "purchase_orders_reference", "po_reference_table"),
    (
        C(
            "po_number",
            "text",
            "purchaseOrderNumber",
            "PO Number",
            "PO",
            "purchase_order_number",
            required=True,
        ),
        C("customer_id", "id", "company_id", "companyID", "accountID", "Customer ID"),
        C(
            "authorised_amount",
            "decimal",
            "authorized_amount",
            "Authorised Amount",
            "Authorized Amount",
            "amount",
            "budget",
            required=True,
        ),
        C("authorised_hours", "decimal", "authorized_hours", "Authorised Hours", "hours"),
        # a PO that authorises an amount per month (a monthly managed-services PO): its monthly budget
        C(
            "monthly_amount",
            "decimal",
            "monthly_authorised_amount",
            "monthly_authorized_amount",
            "monthly_budget",
            "Monthly Amount",
            "Monthly Budget",
        ),
        C("currency", "text", "currencyCode"),
        C("valid_from", "date", "validFrom", "start_date", "Valid From"),
        C("valid_to", "date", "validTo", "end_date", "expiry_date", "Valid To", "expires"),
        C("description", "text", "Description", "name"),
    ),
)

BILLING_GROUPS = TableSpec(
    "billing_groups",
    ("billing_groups", "BillingGroups"),
    (
        C("billing_group", "text", "id", "name", "billingGroup", required=True),
        C("consolidation_method", "text", "consolidationMethod"),
    ),
)

BILLING_ENTITIES = TableSpec(
    "billing_entities",
    ("billing_entities", "BillingEntities", "entities"),
    (
        C("billing_entity", "text", "id", "name", "entity", "billingEntity", required=True),
        C("consolidation_method", "text", "consolidationMethod"),
        C("legal_name", "text", "legalName", "company_name"),
        C("address", "text", "Address", "address1", "street"),
        C("address2", "text", "address_2", "Address 2"),
        C("city", "text", "City"),
        C("postal_code", "text", "postalCode", "zip", "postcode"),
        C("country", "text", "Country", "countryCode", "country_code"),
        C("tax_id", "text", "vat_number", "taxID", "vat_id", "VAT Number"),
        C("legal_id", "text", "legalID", "company_registration", "registration_number", "company_number"),
        C("peppol_id", "text", "peppolID", "Peppol ID", "endpoint_id"),
        C("iban", "text", "IBAN", "account_number"),
        C("bic", "text", "BIC", "swift", "swift_code"),
        C("email", "text", "Email"),
        C("payment_terms", "text", "paymentTerms", "terms", "payment_terms_days"),
        C("bank_details", "text", "bank"),
    ),
)

# Autotask's rate tables: a role's hourly rate, and a contract's own rate for a role. ``hourlyFactor``
# multiplies a rate elsewhere in Autotask: it is not a rate, so it is its own column, never read as one.
ROLES = TableSpec(
    "roles",
    ("Roles", "roles"),
    (
        C("role_id", "id", "id", "roleID", "Role ID", required=True),
        C("role_name", "text", "name", "Role", "Role Name"),
        C("hourly_rate", "decimal", "hourlyRate", "Hourly Rate"),
        C("hourly_factor", "decimal", "hourlyFactor"),
        C("is_active", "bool", "isActive"),
    ),
)

CONTRACT_RATES = TableSpec(
    "contract_rates",
    ("ContractRates", "contract_rates", "ContractRoles"),
    (
        C("contract_id", "id", "contractID", "Contract ID", required=True),
        C("role_id", "id", "roleID", "Role ID", required=True),
        C("contract_hourly_rate", "decimal", "contractHourlyRate", "Contract Hourly Rate", "rate"),
        C("contract_rate_id", "id", "id"),
    ),
)

# Autotask's id tables: a company's currencyID and countryID are numbers read through these.
CURRENCIES = TableSpec(
    "currencies",
    ("Currencies", "currencies", "Currency"),
    (
        C("currency_id", "id", "id", "currencyID", required=True),
        C("currency_code", "text", "name", "currencyCode", "Currency Code"),
        C("is_internal", "bool", "isInternalCurrency"),
    ),
)

COUNTRIES = TableSpec(
    "countries",
    ("Countries", "countries", "Country"),
    (
        C("country_id", "id", "id", "countryID", required=True),
        C("country_code", "text", "countryCode", "Country Code"),
        C("country_name", "text", "name", "displayName"),
    ),
)

# The accounting hand-off (SPEC section 5, billing_lib/core/accounting.py): one row maps one Autotask value to
# the ledger's. ``map_type`` is customer, billing_code, tax or setting; ``autotask`` the company id or name,
# billing code id or name, VAT category and/or rate (``S 21``, ``21``, ``Z``) or setting name.
ACCOUNTING_MAP = TableSpec(
    "accounting_map",
    ("accounting_map", "AccountingMap", "ledger_map", "accounting_mapping", "accounting_maps"),
    (
        C("map_type", "text", "type", "kind", "map", "what", required=True),
        C(
            "autotask",
            "id",
            "autotask_value",
            "autotask_name",
            "autotask_id",
            "source",
            "from",
            "key",
            required=True,
        ),
        C("quickbooks", "text", "qbo", "quickbooks_name", "quickbooks_online", "quickbooks_value"),
        C("xero", "text", "xero_name", "xero_value", "xero_code"),
        C("ledger_name", "text", "ledger", "ledger_value", "both", "to", "value"),
        C("account_code", "text", "AccountCode", "account", "sales_account", "income_account", "gl_account"),
    ),
)

TABLES: tuple[TableSpec, ...] = (
    BILLING_ITEMS, TIME_ENTRIES, CHARGES, CONTRACTS, PROJECTS, TICKETS, TASKS, COMPANIES, RESOURCES,
    BILLING_CODES, PO_BUDGETS, BILLING_GROUPS, BILLING_ENTITIES, ROLES, CONTRACT_RATES, CURRENCIES, COUNTRIES,
    ACCOUNTING_MAP,
)  # fmt: skip
BILLABLE_TABLES = ("billing_items", "time_entries", "charges")
SPECS: dict[str, TableSpec] = {t.name: t for t in TABLES}


# what exports and browsers append to a name: a period or date, a copy number ("(1)"), "_final"
_NAME_SUFFIX = re.compile(r"([\d().\[\]]+|final|export|copy)+$")


def table_for(name: str) -> TableSpec | None:
    """The table a file or sheet name stands for, or None.

    ``BillingItems_2026-10`` and ``TimeEntries (1)`` count as their table: a trailing period, date
    or copy number is ignored when the name itself does not match.
    """
    k = key(name)
    for candidate in dict.fromkeys((k, _NAME_SUFFIX.sub("", k))):
        for spec in TABLES:
            if candidate in spec.keys:
                return spec
    return None


def source_table_name(name: str, spec: TableSpec) -> str:
    """The ``source_table`` label of a file/sheet: charges keep their kind (``ticket_charges``)."""
    if spec.name != "charges":
        return spec.name
    k = key(name)
    k = k if table_for(k) is spec and k in spec.keys else _NAME_SUFFIX.sub("", k)
    for label in ("contract_charges", "ticket_charges", "project_charges"):
        if k in (key(label), key(label).replace("charges", "cost"), key(label).replace("charges", "costs")):
            return label
    if k in (key("expenses"), key("ExpenseItems")):
        return "expenses"
    return "charges"


class Tables(Protocol):
    """What the core reads of a month's inputs: a frame per table (``SPECS`` columns), the problems the
    reader found, and the heading the user wrote for a column. ``io.inputs.Inputs`` is one; a test may
    build its own from frames. The core never opens a file."""

    @property
    def issues(self) -> Sequence[Issue]: ...

    def table(self, name: str) -> pd.DataFrame:
        """The table's frame; an empty frame with its columns when the month has none."""
        ...

    def has(self, name: str) -> bool:
        """Whether the month supplied the table."""
        ...

    def heading(self, table: str, file: str, sheet: str, column: str, default: str = "") -> str:
        """The heading the user wrote for a canonical column in that file and sheet."""
        ...
