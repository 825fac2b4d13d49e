"""What Autotask's own tables decide about a raw item: its rate, its contract's cover, who is billed.

- **Rate** of a raw time entry (SPEC 2): its own rate column, else the contract's rate for its role
  (ContractRates ``contractHourlyRate``), else the role's ``hourlyRate`` (Roles), else its work type's
  unit price when that is not 0. Work types usually carry ``unitPrice 0.0000``; ``hourlyFactor`` is not
  a rate.
- **Contract type** (``contractType``): Time & Materials (1) bills labour; Fixed Price (3) and Recurring
  Service (7) cover it (listed at 0.00); Block Hours (4), Retainer (6) and Per Ticket (8) draw it from a
  prepaid block whose balance is not in the exports: such entries wait for Autotask's posting.
- **Bill-to**: a contract's ``billToCompanyID`` (``rules.resolve_links``), else the item's company, or its
  parent when the company has ``invoiceNonContractItemsToParentCompany`` and the item has no contract.
- **Currency and country** of a company through the Currencies (``name`` is the ISO code) and Countries
  (``countryCode``) id tables.
- **Names instead of ids**: report exports name the organisation, ticket, resource or contract; a name
  is matched case-insensitively, and a name two records share is held, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from billing_lib.domain.money import DEFAULT_CURRENCY
from billing_lib.domain.schema import Tables

TIME_AND_MATERIALS, FIXED_PRICE, BLOCK_HOURS, RETAINER, RECURRING_SERVICE, PER_TICKET = 1, 3, 4, 6, 7, 8
COVERING = (FIXED_PRICE, RECURRING_SERVICE)
PREPAID = (BLOCK_HOURS, RETAINER, PER_TICKET)
CONTRACT_TYPE_NAMES = {
    TIME_AND_MATERIALS: "Time & Materials",
    FIXED_PRICE: "Fixed Price",
    BLOCK_HOURS: "Block Hours",
    RETAINER: "Retainer",
    RECURRING_SERVICE: "Recurring Service",
    PER_TICKET: "Per Ticket",
}
# how report exports and screens spell the types (compared after ``_name_key``)
_TYPE_WORDS = {
    "timeandmaterials": TIME_AND_MATERIALS, "timematerials": TIME_AND_MATERIALS, "tm": TIME_AND_MATERIALS,
    "fixedprice": FIXED_PRICE, "blockhours": BLOCK_HOURS, "blockhour": BLOCK_HOURS, "retainer": RETAINER,
    "recurringservice": RECURRING_SERVICE, "recurringservices": RECURRING_SERVICE, "perticket": PER_TICKET,
}  # fmt: skip
_NOT_LETTERS = re.compile(r"[\W_]+")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("str").fillna("")


def contract_type(value: str) -> int | None:
    """Autotask's contract type number of a cell (``7``, ``7.0`` or ``Recurring Service``); None if blank.

    Raises ValueError for a type it does not know."""
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"\d+(\.0+)?", text):
        number = int(float(text))
        if number in CONTRACT_TYPE_NAMES:
            return number
        raise ValueError(value)
    word = _NOT_LETTERS.sub("", text.replace("&", "and")).casefold()
    if word in _TYPE_WORDS:
        return _TYPE_WORDS[word]
    raise ValueError(value)


# --- labour: what it costs --------------------------------------------------------------------------


@dataclass
class Labour:
    """The outcome for the raw time entries of an items frame (boolean masks on its index)."""

    covered: pd.Series  # on a Fixed Price or Recurring Service contract: listed at 0.00
    needs_posting: pd.Series  # on a prepaid contract: wait for the posted BillingItems row
    no_rate: pd.Series  # billable, not covered, and no rate (or a rate of 0)
    messages: pd.Series  # why, for the rows held


def _decimal_map(table: pd.DataFrame, keys: list[str], value: str) -> dict[tuple[str, ...], Decimal]:
    if table.empty or value not in table:
        return {}
    out: dict[tuple[str, ...], Decimal] = {}
    for row in zip(*(_text(table[k]) for k in keys), table[value], strict=True):
        *key, rate = row
        if all(key) and rate is not None and not (isinstance(rate, float) and rate != rate):
            out.setdefault(tuple(key), rate)
    return out


def labour_rates(items: pd.DataFrame, inputs: Tables) -> tuple[pd.Series, pd.Series]:
    """The rate of each labour row by the cascade (own, contract for the role, role, non-zero work type)
    and where it came from; rows that are not labour keep their own rate."""
    contract_rates = _decimal_map(
        inputs.table("contract_rates"), ["contract_id", "role_id"], "contract_hourly_rate"
    )
    role_rates = _decimal_map(inputs.table("roles"), ["role_id"], "hourly_rate")
    code_prices = _decimal_map(inputs.table("billing_codes"), ["billing_code_id"], "unit_price")
    rates = (
        items["unit_price"].astype(object).where(items["unit_price"].notna(), None).to_numpy(object).copy()
    )
    source = np.where(pd.notna(rates), "own", "").astype(object)
    labour = (items["kind"] == "labour").to_numpy()
    role = _text(items["role_id"]).to_numpy(object) if "role_id" in items else np.full(len(items), "", object)
    need = np.flatnonzero(labour & pd.isna(rates))
    # the cascade depends on the contract, role and work type only: worked out once per combination
    combos = pd.DataFrame(
        {
            "contract": _text(items["contract_id"]).to_numpy(object)[need],
            "role": role[need],
            "code": _text(items["billing_code_id"]).to_numpy(object)[need],
        }
    )
    combo = combos.groupby(["contract", "role", "code"], sort=False).ngroup().to_numpy()
    firsts = np.unique(combo, return_index=True)[1] if len(combo) else np.zeros(0, dtype=np.intp)
    found_rate = np.full(len(firsts) + 1, None, dtype=object)
    found_source = np.full(len(firsts) + 1, "", dtype=object)
    for at, (contract, rol, code) in enumerate(combos.take(firsts).itertuples(index=False, name=None)):
        for where, rate in (
            ("contract", contract_rates.get((str(contract), rol))),
            ("role", role_rates.get((rol,))),
            ("work type", code_prices.get((str(code),)) or None),  # a work type's 0.0000 is no rate
        ):
            if rate is not None:
                found_rate[at], found_source[at] = rate, where
                break
    found = ~pd.isna(found_rate[combo])
    rates[need[found]] = found_rate[combo][found]
    source[need[found]] = found_source[combo][found]
    return pd.Series(rates, index=items.index, dtype=object), pd.Series(
        source, index=items.index, dtype=object
    )


def _no_rate_message(row: pd.Series, rate: object) -> str:
    if rate is not None:
        return f"rate 0 for billable labour on a contract that does not cover it ({row['_rate_source']} rate)"
    role = row.get("role_id", "") or "(none)"
    contract = row["contract_id"] or "(none)"
    return (
        f"no rate: no rate column, no contract rate for contract {contract} and role {role} (ContractRates), "
        f"no hourly rate for role {role} (Roles), and work type {row['billing_code_id'] or '(none)'} has no "
        "unit price above 0"
    )


def price_labour(items: pd.DataFrame, inputs: Tables, raw_time: pd.Series) -> Labour:
    """Set ``unit_price`` of labour by the cascade and decide what each raw time entry's contract does.

    ``raw_time``: the rows that are raw time entries (posted billing items already carry the outcome).
    Covered rows get rate and amount 0 (``supplied_amount`` 0).
    """
    rates, source = labour_rates(items, inputs)
    items["unit_price"] = rates
    items["_rate_source"] = source
    contracts = inputs.table("contracts")
    types: dict[str, str] = {}
    if not contracts.empty:
        types = dict(zip(_text(contracts["contract_id"]), _text(contracts["contract_type"]), strict=True))
    messages = pd.Series("", index=items.index, dtype="str")
    kinds: dict[str, int | str | None] = {}
    for contract in pd.unique(items.loc[raw_time, "contract_id"]):
        try:
            kinds[contract] = contract_type(types.get(contract, ""))
        except ValueError:
            kinds[contract] = types[contract]  # unknown: waits for posting, never billed as T&M
    kind = items["contract_id"].where(raw_time, "").map(kinds)
    covered = raw_time & kind.isin(COVERING)
    waiting = [k for k in set(kinds.values()) if k in PREPAID or isinstance(k, str)]  # each kind once
    waits = raw_time & kind.isin(waiting)
    said = {
        contract: f"labour on contract {contract} "
        f"({CONTRACT_TYPE_NAMES[k] if isinstance(k, int) else f'type {k!r}'}) is drawn from the contract's "
        "prepaid block, whose balance is not in the exports: bill it from Autotask's posted BillingItems"
        for contract, k in kinds.items()
        if k in PREPAID or isinstance(k, str)
    }
    messages[waits] = items.loc[waits, "contract_id"].map(said)
    zero_amount = pd.Series(Decimal(0), index=items.index, dtype=object)
    items["unit_price"] = items["unit_price"].where(~covered, zero_amount)
    items["supplied_amount"] = items["supplied_amount"].astype(object).where(~covered, zero_amount)
    has_amount = items["supplied_amount"].notna()
    rate = items["unit_price"]
    zero = pd.Series([r is not None and r == 0 for r in rate.to_numpy(object)], index=items.index, dtype=bool)
    no_rate = raw_time & ~covered & ~waits & ~has_amount & (rate.isna() | zero)
    for idx in items.index[no_rate]:
        messages[idx] = _no_rate_message(items.loc[idx], rate[idx])
    return Labour(covered, waits, no_rate, messages)


# --- who is billed, in which currency ----------------------------------------------------------------


def bill_to_parent(items: pd.DataFrame, companies: pd.DataFrame) -> pd.DataFrame:
    """Items with no contract of a company that invoices them to its parent go to the parent."""
    if companies.empty or "invoice_to_parent" not in companies or "parent_customer_id" not in companies:
        return items
    to_parent = companies[[v is True for v in companies["invoice_to_parent"]]]
    parents = dict(zip(_text(to_parent["customer_id"]), _text(to_parent["parent_customer_id"]), strict=True))
    parents = {child: parent for child, parent in parents.items() if child and parent}
    if not parents:
        return items
    move = (items["contract_id"] == "") & items["customer_id"].isin(list(parents))
    items.loc[move, "customer_id"] = items.loc[move, "customer_id"].map(parents)
    return items


def company_codes(companies: pd.DataFrame, inputs: Tables) -> tuple[pd.DataFrame, dict[str, str]]:
    """Companies with ``currency`` and ``country`` filled from ``currencyID`` / ``countryID``.

    Returns the companies and, per customer whose currency id cannot be read, why (its items are held:
    a currency is never guessed).
    """
    if companies.empty:
        return companies, {}
    companies = companies.copy()
    unknown: dict[str, str] = {}
    currencies = inputs.table("currencies")
    codes = dict(zip(_text(currencies["currency_id"]), _text(currencies["currency_code"]), strict=True))
    internal = [
        code
        for code, flag in zip(_text(currencies["currency_code"]), currencies["is_internal"], strict=True)
        if flag is True and code
    ]
    written = _text(companies["currency"]).tolist()
    ids = _text(companies["currency_id"])
    customer_ids = _text(companies["customer_id"]).tolist()
    for i, (own, currency_id) in enumerate(zip(written, ids.tolist(), strict=True)):
        if own or not currency_id:
            continue
        code = codes.get(currency_id, "")
        if code:
            written[i] = code.strip().upper()
        else:
            table = (
                "the Currencies table" if inputs.has("currencies") else "no Currencies table in the inputs"
            )
            unknown[customer_ids[i]] = (
                f"the customer's currencyID {currency_id} is not a currency code and is not in {table}"
            )
    currency = pd.Series(written, index=companies.index, dtype="str")
    if internal:  # a company without a currency bills in the provider's own (Autotask's internal) currency
        currency = currency.where((currency != "") | (ids != ""), internal[0].upper())
    companies["currency"] = currency.replace("", None)
    if inputs.has("countries"):
        countries = inputs.table("countries")
        by_id = dict(zip(_text(countries["country_id"]), _text(countries["country_code"]), strict=True))
        country = _text(companies["country"])
        from_id = _text(companies["country_id"]).map(by_id).fillna("")
        companies["country"] = country.where(country != "", from_id).replace("", None)
    return companies, unknown


def default_currency(inputs: Tables) -> str:
    """The provider's own currency (Currencies ``isInternalCurrency``), else the package default."""
    currencies = inputs.table("currencies")
    for code, flag in zip(_text(currencies["currency_code"]), currencies["is_internal"], strict=True):
        if flag is True and code:
            return code.upper()
    return DEFAULT_CURRENCY


# --- names instead of ids ----------------------------------------------------------------------------


def _name_key(value: str) -> str:
    return " ".join(value.split()).casefold()


def _index(names: pd.Series, ids: pd.Series) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, ident in zip(_text(names).tolist(), _text(ids).tolist(), strict=True):
        if name and ident and ident not in out.setdefault(_name_key(name), []):
            out[_name_key(name)].append(ident)
    return out


def _resource_names(resources: pd.DataFrame) -> pd.Series:
    full = _text(resources["resource_name"])
    first_last = (_text(resources["first_name"]) + " " + _text(resources["last_name"])).str.strip()
    return full.where(full != "", first_last)


def ids_from_names(items: pd.DataFrame, inputs: Tables) -> pd.Series:
    """Fill the ids a report gave as names; the message of each row whose name matches two records.

    Companies by name, tickets by number, resources by full name, contracts by name (within the
    customer when it is known).
    """
    messages = pd.Series("", index=items.index, dtype="str")
    companies, tickets, resources = (inputs.table(t) for t in ("companies", "tickets", "resources"))
    lookups = (
        (
            "customer_id",
            "customer_name",
            "organisation",
            _index(companies["customer_name"], companies["customer_id"]),
        ),
        ("ticket_id", "ticket_number", "ticket", _index(tickets["ticket_number"], tickets["ticket_id"])),
        (
            "resource_id",
            "resource_name",
            "resource",
            _index(_resource_names(resources), resources["resource_id"]),
        ),
    )
    for id_col, name_col, word, index in lookups:
        if name_col not in items:
            continue
        _fill(items, messages, id_col, _text(items[name_col]), index, word)
    _contracts_by_name(items, inputs, messages)
    return messages


def _fill(
    items: pd.DataFrame,
    messages: pd.Series,
    id_col: str,
    names: pd.Series,
    index: dict[str, list[str]],
    word: str,
    keys: pd.Series | None = None,
) -> None:
    need = (items[id_col] == "") & (names != "")
    if not need.any():
        return
    keyed = keys[need] if keys is not None else names[need].map(_name_key)
    for idx, key in zip(keyed.index.tolist(), keyed.tolist(), strict=True):
        found = index.get(key, [])
        if len(found) == 1:
            items.at[idx, id_col] = found[0]
        elif len(found) > 1 and not messages.at[idx]:
            messages.at[idx] = (
                f"the {word} {names.at[idx]!r} names {len(found)} records ({', '.join(found[:5])}): "
                "held, not guessed"
            )


def _contracts_by_name(items: pd.DataFrame, inputs: Tables, messages: pd.Series) -> None:
    contracts = inputs.table("contracts")
    if "contract_name" not in items or contracts.empty:
        return
    names = _text(items["contract_name"])
    if not (names != "").any():
        return
    customer = _text(contracts["customer_id"])
    scoped = _index(customer + "\x00" + _text(contracts["contract_name"]), contracts["contract_id"])
    anywhere = _index(contracts["contract_name"], contracts["contract_id"])
    need = (items["contract_id"] == "") & (names != "")
    if not need.any():
        return
    named = names[need].map(_name_key)
    keys = (items.loc[need, "customer_id"] + "\x00" + named).where(
        items.loc[need, "customer_id"] != "", named
    )
    keys = keys.reindex(items.index, fill_value="")
    index = {**anywhere, **{k: v for k, v in scoped.items()}}
    _fill(items, messages, "contract_id", names, index, "contract", keys)
