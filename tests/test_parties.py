"""Seller and buyer as the customer's documents need them: looked up from the tables (CSV text here),
VAT category, exemption wording, payment terms and due date, and what an e-invoice would still need."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from decimal import Decimal

import pandas as pd
import pytest

from billing_lib.domain.parties import (
    Parties,
    PartyBook,
    TradeParty,
    due_date,
    einvoice_gaps,
    exemption,
    payment_terms_text,
    terms_days,
    vat_category,
)

ENTITIES = """\
billing_entity,legal_name,address,city,postal_code,country,tax_id,legal_id,peppol_id,iban,bic,payment_terms
BE01,Acme IT Services BV,Meir 1,Antwerpen,2000,be,BE 0400 000 185,0400000185,0208:0400000185,BE71 0961 2345 6769,GKCCBEBB,30
"""
COMPANIES = """\
customer_id,customer_name,address,address2,city,postal_code,country,tax_id,peppol_id,vat_category,vat_exemption_reason,buyer_reference,payment_terms
201,Contoso NV,Kouter 5,Bus 2,Gent,9000,BE,BE0400000284,0208:0400000284,,,CT-AP,
204,Müller GmbH,Hauptstraße 1,,Köln,50667,DE,DE123456789,9930:DE123456789,ae,,,Net 14
205,Words Ltd,1 Main St,,Leeds,LS1,GB,GB123456789,9932:GB123456789,S,,,end of month
"""


def table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(textwrap.dedent(text)), dtype=str, keep_default_na=False)


@pytest.fixture()
def book() -> PartyBook:
    return PartyBook(table(COMPANIES), table(ENTITIES))


def test_the_seller_comes_from_the_billing_entities_table(book: PartyBook) -> None:
    seller = book.seller("BE01")
    assert (seller.name, seller.country, seller.tax_id, seller.iban) == (
        "Acme IT Services BV", "BE", "BE0400000185", "BE71096123456769",
    )  # fmt: skip
    assert seller.endpoint == ("0208", "0400000185")
    assert book.seller("OTHER") == seller  # one entity is everyone's


def test_the_buyer_comes_from_the_companies_table(book: PartyBook) -> None:
    buyer = book.buyer("201")
    assert buyer.address_lines == ("Kouter 5", "Bus 2", "9000 Gent", "BE")
    assert (buyer.buyer_reference, buyer.vat_category) == ("CT-AP", "")
    assert book.buyer("204").vat_category == "AE"
    unknown = book.buyer("999", "Somebody")
    assert unknown == TradeParty(name="Somebody")
    assert book.parties("201", "BE01") is book.parties("201", "BE01")  # looked up once


@pytest.mark.parametrize(
    ("terms", "days"),
    [("30", 30), ("30 days", 30), ("30 days net", 30), ("Net 14", 14), ("14.0", 14), ("", None), ("end of month", None)],
)  # fmt: skip
def test_terms_days(terms: str, days: int | None) -> None:
    assert terms_days(terms) == days


def test_payment_terms_and_due_date(book: PartyBook) -> None:
    invoice_date = dt.date(2026, 11, 2)
    contoso = book.parties("201", "BE01")  # none of its own: the seller's 30
    assert (payment_terms_text(contoso), due_date(invoice_date, contoso)) == (
        "30 days net",
        dt.date(2026, 12, 2),
    )
    muller = book.parties("204", "BE01")
    assert (payment_terms_text(muller), due_date(invoice_date, muller)) == (
        "14 days net",
        dt.date(2026, 11, 16),
    )
    words = book.parties("205", "BE01")  # words: printed as written, no due date guessed
    assert (payment_terms_text(words), due_date(invoice_date, words)) == ("end of month", None)
    nobody = Parties(TradeParty("S"), TradeParty("B"))
    assert (payment_terms_text(nobody), due_date(invoice_date, nobody)) == (
        "30 days net",
        dt.date(2026, 12, 2),
    )


def test_vat_category_and_exemption() -> None:
    plain = TradeParty("B")
    assert (vat_category(plain, Decimal(21)), vat_category(plain, Decimal(0))) == ("S", "")
    assert vat_category(TradeParty("B", vat_category=" k "), Decimal(0)) == "K"
    assert exemption(plain, "AE") == (
        "Reverse charge: VAT to be accounted for by the customer",
        "VATEX-EU-AE",
    )
    own = TradeParty("B", vat_exemption_reason="Medical care")
    assert exemption(own, "E") == ("Medical care", "")
    assert exemption(own, "O") == ("Medical care", "VATEX-EU-O")
    assert exemption(plain, "S") == ("", "")


def test_einvoice_gaps(book: PartyBook) -> None:
    assert einvoice_gaps(book.parties("201", "BE01"), Decimal(21)) == []
    assert einvoice_gaps(book.parties("204", "BE01"), Decimal(0)) == []
    assert einvoice_gaps(book.parties("204", "BE01"), Decimal(19)) == [
        "buyer tax_rate (category AE needs 0 %, not 19 %)"
    ]
    bare = Parties(
        book.seller("BE01"), TradeParty("B", country="Belgium", peppol_id="0208-1", vat_category="AE")
    )
    assert einvoice_gaps(bare, Decimal(0)) == [
        "buyer address", "buyer city", "buyer country (ISO 3166 code, not 'Belgium')",
        "buyer peppol_id ('0208-1' is not scheme:identifier)", "buyer tax_id",
    ]  # fmt: skip
    odd = Parties(
        book.seller("BE01"),
        TradeParty("B", "s", "", "c", "1", "NL", "123", vat_category="X", peppol_id="0106:1"),
    )
    assert einvoice_gaps(odd, Decimal(0)) == ["buyer vat_category ('X' is not one of S, Z, E, AE, K, G, O)"]


def test_parties_round_trip_through_plain_data(book: PartyBook) -> None:
    parties = book.parties("204", "BE01")
    data = parties.as_dict()
    assert data["buyer"]["name"] == "Müller GmbH"
    assert Parties.from_dict(data) == parties
    data["buyer"]["retired_field"] = "x"  # a record kept by an older version: unknown fields are ignored
    assert Parties.from_dict(data) == parties
