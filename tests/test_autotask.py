"""Autotask's own tables decide labour rates, what a contract covers, who is billed and in which currency.

Hand-worked months built from the public field lists of Autotask's REST entities (TimeEntries,
Roles ``hourlyRate``/``hourlyFactor``, ContractRates ``contractHourlyRate``, Contracts ``contractType`` /
``billToCompanyID``, Companies ``parentCompanyID`` / ``invoiceNonContractItemsToParentCompany`` /
``currencyID`` / ``countryID``, Currencies ``name`` / ``isInternalCurrency``, Countries ``countryCode``) and
the SOAP-era names (``Account``, ``TicketCost``, ``AllocationCode``, ``TicketCostID``, ``Billed``).
Every amount is worked out by hand in the comments.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from test_rules import held, month, prepared

from billing_lib.core.autotask import contract_type
from billing_lib.domain.records import AMOUNT_MISMATCH, INVALID_ROW, NEEDS_POSTING, NO_RATE, POSTED_ELSEWHERE

D = Decimal

CONTRACTS = """
    id,contractName,companyID,contractType
    30001,T&M,101,1
    30002,Managed services,101,7
    30003,Migration fixed price,101,3
    30004,Block hours 40 h,101,4
    30005,Retainer,101,6
    30006,Per ticket,101,8
    30007,T&M with own rates,101,1
    30008,Odd contract,101,5
"""
TICKETS = """
    id,ticketNumber,title,companyID,contractID
    901,T20261001.0001,t&m,101,30001
    902,T20261001.0002,managed,101,30002
    903,T20261001.0003,fixed,101,30003
    904,T20261001.0004,block,101,30004
    905,T20261001.0005,retainer,101,30005
    906,T20261001.0006,per ticket,101,30006
    907,T20261001.0007,own rates,101,30007
    908,T20261001.0008,odd,101,30008
"""


def amounts(prep: object) -> dict[str, int]:
    items = prep.items  # type: ignore[attr-defined]
    return dict(zip(items["item_id"], items["amount_minor"].astype(int), strict=True))


def test_labour_rate_cascade_own_then_contract_role_then_role_then_non_zero_work_type(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            Contracts=CONTRACTS,
            Tickets=TICKETS,
            # hourlyFactor multiplies elsewhere in Autotask: it is not a rate and never priced here
            Roles="""
        id,name,hourlyRate,hourlyFactor,isActive
        11,Engineer,150.0000,1.5000,true
        12,Trainee,0.0000,1.0000,true
        13,Consultant,,2.0000,true
    """,
            ContractRates="""
        id,contractID,roleID,contractHourlyRate
        1,30007,11,120.0000
    """,
            BillingCodes="""
        id,name,description,unitPrice
        21,Remote support,Work type for remote work,0.0000
        22,Flat call-out,Work type with a flat price,95.0000
    """,
            TimeEntries="""
        id,dateWorked,ticketID,roleID,billingCodeID,hoursToBill,Rate
        1,2026-10-05,901,11,21,2.0000,
        2,2026-10-05,907,11,21,1.5000,
        3,2026-10-05,901,13,22,1.0000,
        4,2026-10-05,901,13,21,1.0000,
        5,2026-10-05,901,12,22,1.0000,
        6,2026-10-05,901,11,21,1.0000,99.0000
        7,2026-10-05,907,13,21,0.2500,
    """,
        )
    )
    assert amounts(prep) == {
        "1": 30000,  # role 11: 2 h x 150.00 (not x 1.5, the hourlyFactor)
        "2": 18000,  # contract 30007's own rate for role 11: 1.5 h x 120.00, before the role's 150.00
        "3": 9500,  # role 13 has no rate: the work type's 95.00
        "6": 9900,  # the row's own rate wins: 1 h x 99.00
    }
    # role 13 without a rate and a work type at 0.0000: never invoiced at 0.00
    assert "work type 21 has no unit price above 0" in held(prep, "4", NO_RATE).message
    # role 12's rate is 0 and the contract is T&M: a rate of 0 outside a covering contract is held
    assert "rate 0" in held(prep, "5", NO_RATE).message
    # contract 30007 has a rate for role 11 only; role 13 has none and work type 21 is 0.0000
    held(prep, "7", NO_RATE)
    assert list(prep.items["unit_price"]) == [D("150.0000"), D("120.0000"), D("95.0000"), D("99.0000")]


def test_each_contract_type_decides_what_labour_costs(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            Contracts=CONTRACTS,
            Tickets=TICKETS,
            Roles="""
        id,name,hourlyRate
        11,Engineer,150.0000
    """,
            TimeEntries="""
        id,dateWorked,ticketID,roleID,hoursWorked,offsetHours
        1,2026-10-06,901,11,2.0000,0.0000
        2,2026-10-06,902,11,3.0000,-0.5000
        3,2026-10-06,903,11,4.0000,0.0000
        4,2026-10-06,904,11,1.0000,0.0000
        5,2026-10-06,905,11,1.0000,0.0000
        6,2026-10-06,906,11,1.0000,0.0000
        7,2026-10-06,908,11,1.0000,0.0000
        8,2026-10-06,903,,1.0000,0.0000
    """,
        )
    )
    # T&M (1) bills: 2 h x 150.00; Recurring Service (7) and Fixed Price (3) cover the labour: listed at
    # 0.00 with their hours (2.5 and 4, counted in hours per PO), even with no rate to be found (entry 8)
    assert amounts(prep) == {"1": 30000, "2": 0, "3": 0, "8": 0}
    quantities = dict(zip(prep.items["item_id"], prep.items["quantity"], strict=True))
    assert quantities == {"1": D("2.0000"), "2": D("2.5000"), "3": D("4.0000"), "8": D("1.0000")}
    covered = prep.items[prep.items["item_id"] == "2"]["description"].iloc[0]
    assert covered.endswith("covered by the contract")
    # Block Hours (4), Retainer (6), Per Ticket (8) draw on a prepaid block not in the exports, and a type
    # this version does not know (5) is not treated as T&M either: all wait for the posted BillingItems
    for entry, name in (("4", "Block Hours"), ("5", "Retainer"), ("6", "Per Ticket")):
        assert f"({name})" in held(prep, entry, NEEDS_POSTING).message
    assert "BillingItems" in held(prep, "7", NEEDS_POSTING).message


def test_posted_billing_items_on_any_contract_keep_their_posted_amount(tmp_path: Path) -> None:
    # a posted row already carries Autotask's outcome (block hours drawn down, overage priced)
    prep = prepared(
        month(
            tmp_path,
            Contracts=CONTRACTS,
            BillingItems="""
        id,itemDate,companyID,contractID,timeEntryID,quantity,rate,extendedPrice
        1,2026-10-07,101,30004,5001,2.0000,135.0000,270.0000
        2,2026-10-07,101,30002,5002,1.0000,0.0000,0.0000
    """,
        )
    )
    assert amounts(prep) == {"1": 27000, "2": 0}
    assert prep.held.empty


@pytest.mark.parametrize(
    ("cell", "number"),
    [("1", 1), ("7.0", 7), ("Recurring Service", 7), ("Time & Materials", 1), ("Block Hours", 4), ("", None)],
)
def test_contract_types_by_number_or_by_name(cell: str, number: int | None) -> None:
    assert contract_type(cell) == number


def test_bill_to_contract_company_then_parent_for_items_without_a_contract(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            Companies="""
        id,companyName,parentCompanyID,invoiceNonContractItemsToParentCompany,currencyID
        200,Holding Inc,,false,3
        201,Branch North,200,true,1
        202,Branch South,200,false,1
    """,
            Currencies="""
        id,name,isInternalCurrency
        1,EUR,true
        3,USD,false
    """,
            Contracts="""
        id,contractName,companyID,billToCompanyID,contractType,purchaseOrderNumber
        40001,Branch North support,201,200,1,US-PO-77
        40002,Branch South support,202,,1,
    """,
            BillingItems="""
        id,itemDate,companyID,contractID,extendedPrice
        1,2026-10-08,201,40001,100.00
        2,2026-10-08,201,,40.00
        3,2026-10-08,202,,25.00
        4,2026-10-08,202,40002,10.00
    """,
            ContractCharges="""
        id,datePurchased,contractID,unitQuantity,unitPrice,billableAmount
        1,2026-10-08,40001,2.0000,30.0000,60.00
    """,
            po_reference="""
        PO Number,Customer ID,Authorised Amount,Currency
        US-PO-77,200,1000,USD
    """,
        )
    )
    customers = dict(
        zip(prep.items["item_id"] + prep.items["source_table"], prep.items["customer_id"], strict=True)
    )
    assert customers == {
        "1billing_items": "200",  # the contract's billToCompanyID: the parent receives the invoice
        "2billing_items": "200",  # no contract, and Branch North invoices such items to its parent
        "3billing_items": "202",  # Branch South does not
        "4billing_items": "202",
        "1contract_charges": "200",
    }
    currencies = dict(
        zip(prep.items["item_id"] + prep.items["source_table"], prep.items["currency"], strict=True)
    )
    # the customer's currency (USD through currencyID 3), so the USD PO is no currency mismatch
    assert (
        currencies["1billing_items"]
        == currencies["1contract_charges"]
        == currencies["2billing_items"]
        == "USD"
    )
    assert currencies["3billing_items"] == "EUR"
    assert [i.reason for i in prep.issues if i.action == "held"] == []


def test_currency_and_country_through_autotasks_id_tables(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            Companies="""
        id,companyName,currencyID,countryID
        101,Harbour Retail Ltd,2,225
        102,Northwind BV,,150
        103,Unknown Money AG,9,204
    """,
            Currencies="""
        id,name,description,isInternalCurrency
        1,EUR,Euro,true
        2,GBP,Pound sterling,false
    """,
            Countries="""
        id,countryCode,name
        150,NL,Netherlands
        225,GB,United Kingdom
    """,
            BillingItems="""
        id,itemDate,companyID,purchaseOrderNumber,extendedPrice
        1,2026-10-09,101,HR-1,120.00
        2,2026-10-09,102,,80.00
        3,2026-10-09,103,,50.00
    """,
            po_reference="""
        PO Number,Customer ID,Authorised Amount,Currency
        HR-1,101,500,GBP
    """,
        )
    )
    assert dict(zip(prep.items["item_id"], prep.items["currency"], strict=True)) == {
        "1": "GBP",  # currencyID 2 -> GBP: the GBP PO matches
        "2": "EUR",  # no currencyID: Autotask's internal currency
    }
    # currencyID 9 is in no Currencies row: the customer's currency is never guessed
    assert "currencyID 9" in held(prep, "3", INVALID_ROW).message
    countries = dict(zip(prep.companies["customer_id"], prep.companies["country"], strict=True))
    # countryID 204 is in no Countries row: no country (an e-invoice then names what it lacks)
    assert {k: v if isinstance(v, str) else None for k, v in countries.items()} == {
        "101": "GB",
        "102": "NL",
        "103": None,
    }


def test_report_rows_naming_organisations_tickets_and_resources(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            Organizations="""
        Organization ID,Organization Name
        101,Acme BV
        301,Twin Ltd
        302,Twin Ltd
    """,
            Tickets="""
        id,ticketNumber,companyID,contractID
        901,T20261001.0001,101,
    """,
            Resources="""
        id,firstName,lastName
        29684001,Anna,de Vries
    """,
            BillingItems="""
        Item ID,Item Date,Organization,Extended Price
        1,2026-10-12,Acme BV,100.00
        2,2026-10-12,TWIN LTD,50.00
        3,2026-10-12,Nobody Inc,25.00
    """,
            TimeEntries="""
        Time Entry ID,Date Worked,Ticket Number,Resource,Hours To Bill,Rate
        11,2026-10-12,T20261001.0001,Anna de Vries,2,80.00
    """,
            TicketCharges="""
        Charge ID,Purchase Date,Ticket Number,Unit Quantity,Unit Price,Billable Amount,Is Billable to Company
        21,2026-10-12,T20261001.0001,1,45.00,45.00,True
    """,
        )
    )
    assert sorted(
        zip(prep.items["source_table"], prep.items["item_id"], prep.items["customer_id"], strict=True)
    ) == [
        ("billing_items", "1", "101"),
        ("ticket_charges", "21", "101"),
        ("time_entries", "11", "101"),
    ]
    entry = prep.items[prep.items["item_id"] == "11"].iloc[0]
    assert (entry["resource_id"], entry["amount_minor"]) == ("29684001", 16000)
    assert "names 2 records (301, 302)" in held(prep, "2", INVALID_ROW).message
    assert "no organisation is called 'Nobody Inc'" in held(prep, "3", INVALID_ROW).message


def test_soap_names_a_billed_cost_is_posted_not_invoiced_and_its_posted_row_is_one_item(
    tmp_path: Path,
) -> None:
    prep = prepared(
        month(
            tmp_path,
            Account="""
        id,AccountName
        101,Acme BV
    """,
            AllocationCode="""
        id,name,description,department,unitPrice
        29682901,Hardware,Material code for resold hardware: long note,4,
    """,
            TicketCost="""
        id,datePurchased,AccountID,AllocationCodeID,unitQuantity,unitPrice,billableAmount,BillableToAccount,Billed
        7001,2026-10-13,101,29682901,1,189.00,189.00,True,True
        7002,2026-10-13,101,29682901,1,45.00,45.00,True,True
        7003,2026-10-13,101,29682901,2,10.00,20.00,True,False
    """,
            ContractCost="""
        id,datePurchased,AccountID,unitQuantity,unitPrice,billableAmount,Billed
        7001,2026-10-13,101,1,30.00,30.00,False
    """,
            BillingItems="""
        id,itemDate,AccountID,AllocationCodeID,TicketCostID,quantity,rate,extendedPrice
        8001,2026-10-14,101,29682901,7001,1,189.00,189.00
    """,
        )
    )
    # ticket cost 7001 is billed once, from its posted row 8001; contract cost 7001 is another item
    assert sorted(
        zip(prep.items["source_table"], prep.items["item_id"], prep.items["amount_minor"], strict=True)
    ) == [
        ("billing_items", "8001", 18900),
        ("contract_charges", "7001", 3000),
        ("ticket_charges", "7003", 2000),
    ]
    assert prep.skipped["posted_as_billing_item"] == 1
    assert prep.skipped["already_invoiced"] == 0
    assert "posted BillingItems row is not in the inputs" in held(prep, "7002", POSTED_ELSEWHERE).message
    # the material code's name is what the line shows; its department is an id, not a cost centre
    row = prep.items[prep.items["item_id"] == "8001"].iloc[0]
    assert (row["billing_code_name"], row["cost_centre"]) == ("Hardware", "")


def test_a_supplied_amount_that_is_not_quantity_times_rate_is_flagged(tmp_path: Path) -> None:
    prep = prepared(
        month(
            tmp_path,
            BillingItems="""
        id,itemDate,companyID,quantity,rate,extendedPrice
        1,2026-10-15,101,3.175,100,386.645
        2,2026-10-15,101,3.175,100,317.50
        3,2026-10-15,101,0.333,10,3.33
    """,
        )
    )
    flagged = [(i.item_id, i.reason, i.action) for i in prep.issues]
    # 3.175 x 100 = 317.50: 386.645 is 69.145 more (a block-hour factor): flagged, the supplied amount billed;
    # 0.333 x 10 = 3.33 exactly as supplied
    assert flagged == [("1", AMOUNT_MISMATCH, "flagged")]
    assert amounts(prep) == {"1": 38665, "2": 31750, "3": 333}
