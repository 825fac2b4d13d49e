"""Who an invoice is from and to, as the documents a customer receives need them (SPEC section 2).

The seller comes from the billing entities table (one row there is every customer's entity), the
buyer from the companies table. ``PartyBook`` looks both up once per key; ``Parties`` is what the PDF
and UBL writers take, a small frozen record that ``asdict`` / ``Parties.from_dict`` turn into plain
data and back (the register can keep it beside an issued invoice to print it again).

``einvoice_gaps`` says what a valid Peppol BIS 3.0 document would still need from a seller and a
buyer (EN 16931 and Peppol rules: addresses and countries BR-08..BR-11, electronic addresses
PEPPOL-EN16931-R010/R020, VAT ids per category BR-S-02, BR-AE-02, BR-IC-02, ..., exemption reasons
BR-E-10, ...), so a run writes no XML that the rules would refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

import pandas as pd

# EN 16931 VAT category codes (UNTDID 5305 subset) and what they mean on paper
VAT_CATEGORIES = {
    "S": "Standard rate",
    "Z": "Zero rated",
    "E": "Exempt from VAT",
    "AE": "Reverse charge",
    "K": "Intra-Community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
}
# the exemption wording and VATEX code (CEF VATEX list) a 0 % category gets when the customer gives none
DEFAULT_EXEMPTION: dict[str, tuple[str, str]] = {
    "AE": ("Reverse charge: VAT to be accounted for by the customer", "VATEX-EU-AE"),
    "K": ("Intra-Community supply exempt from VAT (Art. 138 Directive 2006/112/EC)", "VATEX-EU-IC"),
    "G": ("Export outside the EU exempt from VAT (Art. 146 Directive 2006/112/EC)", "VATEX-EU-G"),
    "O": ("Not subject to VAT", "VATEX-EU-O"),
}
# categories whose rules need the buyer's VAT id as well as the seller's (BR-AE-02, BR-IC-02)
BUYER_VAT_NEEDED = frozenset({"AE", "K"})
ZERO_RATE_CATEGORIES = frozenset({"Z", "E", "AE", "K", "G", "O"})
DEFAULT_PAYMENT_DAYS = 30

_TERMS_DAYS = re.compile(r"^\s*(?:net\s*)?(\d{1,3})(?:[.,]0+)?\s*(?:days?)?\s*(?:net)?\s*$", re.IGNORECASE)
_PEPPOL_ID = re.compile(r"^(\d{4}):(\S+)$")
_VAT_PREFIX = re.compile(r"^[A-Z]{2}")


def terms_days(terms: str) -> int | None:
    """The days of payment terms that say a number of days (``30``, ``30 days net``, ``Net 14``), else None."""
    match = _TERMS_DAYS.match(terms or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class TradeParty:
    """A seller or buyer with the legal fields an invoice carries."""

    name: str
    street: str = ""
    additional_street: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    tax_id: str = ""  # VAT identifier with its country prefix (BE0123456789)
    legal_id: str = ""  # company registration number
    peppol_id: str = ""  # scheme:identifier, e.g. 0208:0123456789
    email: str = ""
    iban: str = ""
    bic: str = ""
    payment_terms: str = ""  # as written: "30", "30 days", "Net 14", or words
    vat_category: str = ""  # EN 16931 code; buyers only
    vat_exemption_reason: str = ""
    buyer_reference: str = ""

    @property
    def address_lines(self) -> tuple[str, ...]:
        town = " ".join(x for x in (self.postal_code, self.city) if x)
        return tuple(x for x in (self.street, self.additional_street, town, self.country) if x)

    @property
    def payment_days(self) -> int | None:
        """Days to pay when the terms say a number of days (``30``, ``30 days``, ``Net 14``), else None."""
        return terms_days(self.payment_terms)

    @property
    def endpoint(self) -> tuple[str, str] | None:
        """The Peppol electronic address as (EAS scheme, identifier), or None when not ``scheme:identifier``."""
        match = _PEPPOL_ID.match(self.peppol_id.strip())
        return (match.group(1), match.group(2)) if match else None


@dataclass(frozen=True, slots=True)
class Parties:
    seller: TradeParty
    buyer: TradeParty

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Parties:
        """The record ``dataclasses.asdict`` made of it."""
        names = {f.name for f in fields(TradeParty)}
        return cls(
            TradeParty(**{k: v for k, v in data["seller"].items() if k in names}),
            TradeParty(**{k: v for k, v in data["buyer"].items() if k in names}),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def vat_category(buyer: TradeParty, tax_rate: Decimal) -> str:
    """The buyer's VAT category: its own code, else S when it is charged VAT ('' when nothing says)."""
    code = buyer.vat_category.strip().upper()
    if code:
        return code
    return "S" if tax_rate > 0 else ""


def exemption(buyer: TradeParty, category: str) -> tuple[str, str]:
    """The exemption wording and VATEX code of a 0 % category (the customer's own text wins)."""
    text, code = DEFAULT_EXEMPTION.get(category, ("", ""))
    own = buyer.vat_exemption_reason.strip()
    return (own or text, code if not own or category in DEFAULT_EXEMPTION else "")


def payment_terms_text(parties: Parties) -> str:
    """The payment terms as the invoice prints them: the buyer's, else the seller's, else 30 days."""
    terms = parties.buyer.payment_terms or parties.seller.payment_terms
    days = due_days(parties)
    if not terms or _TERMS_DAYS.match(terms):
        return f"{days} days net" if days is not None else ""
    return terms


def due_days(parties: Parties) -> int | None:
    for party in (parties.buyer, parties.seller):
        if party.payment_terms:
            return party.payment_days
    return DEFAULT_PAYMENT_DAYS


def due_date(invoice_date: dt.date, parties: Parties) -> dt.date | None:
    days = due_days(parties)
    return None if days is None else invoice_date + dt.timedelta(days=days)


def einvoice_gaps(parties: Parties, tax_rate: Decimal) -> list[str]:
    """What the seller and buyer still need for a valid Peppol BIS 3.0 document, as field names."""
    seller, buyer = parties.seller, parties.buyer
    category = vat_category(buyer, tax_rate)
    gaps: list[str] = []
    for who, party in (("seller", seller), ("buyer", buyer)):
        for name in ("street", "city", "country"):
            if not getattr(party, name).strip():
                gaps.append(f"{who} {'address' if name == 'street' else name}")
        if party.country and not re.fullmatch(r"[A-Z]{2}", party.country):
            gaps.append(f"{who} country (ISO 3166 code, not {party.country!r})")
        if party.endpoint is None:
            gaps.append(
                f"{who} peppol_id"
                + (f" ({party.peppol_id!r} is not scheme:identifier)" if party.peppol_id else "")
            )
    if not category:
        gaps.append("buyer vat_category (the tax rate is 0)")
    elif category not in VAT_CATEGORIES:
        gaps.append(f"buyer vat_category ({category!r} is not one of {', '.join(VAT_CATEGORIES)})")
    elif category == "S" and tax_rate <= 0:
        gaps.append("buyer tax_rate (category S needs a rate above 0)")
    elif category in ZERO_RATE_CATEGORIES and tax_rate != 0:
        gaps.append(f"buyer tax_rate (category {category} needs 0 %, not {tax_rate} %)")
    if category and category != "O":
        gaps += _vat_id_gaps("seller", seller)
        if category in BUYER_VAT_NEEDED:
            gaps += _vat_id_gaps("buyer", buyer)
    if category == "E" and not buyer.vat_exemption_reason.strip():
        gaps.append("buyer vat_exemption_reason (category E)")
    return gaps


def _vat_id_gaps(who: str, party: TradeParty) -> list[str]:
    tax_id = party.tax_id.strip()
    if not tax_id:
        return [f"{who} tax_id"]
    if not _VAT_PREFIX.match(tax_id):  # BR-CO-09: a VAT identifier starts with its country code
        return [f"{who} tax_id ({tax_id!r} has no country prefix)"]
    return []


# --- looking parties up in the input tables -------------------------------------------------------------


def _text(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value).strip()


def _country(value: str) -> str:
    return value.strip().upper() if len(value.strip()) == 2 else value.strip()


def _contact(row: dict[str, Any]) -> dict[str, str]:
    """The fields a seller's and a buyer's row share: address, country, VAT id, Peppol id, e-mail."""
    return {
        "street": _text(row, "address"),
        "additional_street": _text(row, "address2"),
        "city": _text(row, "city"),
        "postal_code": _text(row, "postal_code"),
        "country": _country(_text(row, "country")),
        "tax_id": _text(row, "tax_id").replace(" ", ""),
        "peppol_id": _text(row, "peppol_id"),
        "email": _text(row, "email"),
    }


class PartyBook:
    """Sellers from the billing entities table and buyers from the companies table, looked up once each."""

    def __init__(self, companies: pd.DataFrame, entities: pd.DataFrame) -> None:
        self._companies = _rows_by(companies, "customer_id")
        self._entities = _rows_by(entities, "billing_entity")
        self._only_entity = next(iter(self._entities.values())) if len(self._entities) == 1 else None
        self._cache: dict[tuple[str, str, str], Parties] = {}

    def seller(self, billing_entity: str) -> TradeParty:
        row = self._entities.get(billing_entity) or self._only_entity
        if row is None:
            return TradeParty(name=billing_entity)
        return TradeParty(
            name=_text(row, "legal_name") or _text(row, "billing_entity") or billing_entity,
            **_contact(row),
            legal_id=_text(row, "legal_id"),
            iban=_text(row, "iban").replace(" ", ""),
            bic=_text(row, "bic").replace(" ", ""),
            payment_terms=_text(row, "payment_terms"),
        )

    def buyer(self, customer_id: str, fallback_name: str = "") -> TradeParty:
        row = self._companies.get(customer_id)
        if row is None:
            return TradeParty(name=fallback_name or customer_id)
        return TradeParty(
            name=_text(row, "customer_name") or fallback_name or customer_id,
            **_contact(row),
            payment_terms=_text(row, "payment_terms"),
            vat_category=_text(row, "vat_category").upper(),
            vat_exemption_reason=_text(row, "vat_exemption_reason"),
            buyer_reference=_text(row, "buyer_reference"),
        )

    def parties(self, customer_id: str, billing_entity: str, customer_name: str = "") -> Parties:
        key = (customer_id, billing_entity, customer_name)
        if key not in self._cache:
            self._cache[key] = Parties(self.seller(billing_entity), self.buyer(customer_id, customer_name))
        return self._cache[key]

    def rows(self, customer_id: str) -> dict[str, Any] | None:
        return self._companies.get(customer_id)


def _rows_by(table: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    if table is None or table.empty or key not in table:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for record in table.to_dict("records"):
        row = {str(name): value for name, value in record.items()}
        k = _text(row, key)
        if k:
            out.setdefault(k, row)
    return out
