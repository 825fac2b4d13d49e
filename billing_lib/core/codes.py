"""Integer codes for columns of Python objects (text, Decimals): each cell's object identity, codes of
the distinct values that sort as the texts do, one int64 key for several columns, and orders of them.

A reader gives one object per distinct cell value and the lookups share them, so a column of
200,000 cells usually holds a few thousand objects: work done once per *object* (rounding,
multiplying, hashing a text) and then taken back to the cells is cheap. Equal objects that are
written differently (``Decimal("1.5")``, ``Decimal("1.50")``) are distinct objects and are simply
both worked out.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pandas as pd


def object_ids(values: np.ndarray) -> np.ndarray:
    """The identity of every element of an object array, as ``map(id, values)`` gives it, in one pass.

    An object array holds one pointer per element (CPython's ``id`` is that address): the pointers
    are read as integers straight from its buffer, with no Python call per element. ``values`` is
    referenced throughout, so every object stays alive.
    """
    values = np.ascontiguousarray(values, dtype=object)
    if not len(values):
        return np.zeros(0, dtype=np.intp)
    cells = (ctypes.c_ssize_t * len(values)).from_address(values.ctypes.data)
    return np.ctypeslib.as_array(cells).astype(np.intp)  # a copy: it outlives nothing


def first_positions(codes: np.ndarray, count: int) -> np.ndarray:
    """Where each of the ``count`` codes first occurs (every code occurs)."""
    first = np.full(count, len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.intp))
    return first


def distinct_objects(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct objects of an object array (by identity), and the first index of each."""
    codes, uniques = pd.factorize(object_ids(values))
    return codes, first_positions(codes, len(uniques))


# --- codes that sort as text, and keys of several columns ------------------------------------------
# Consolidation works on integer codes of the columns, never on 200,000 strings at a time: a column is
# factorised once (hashing each distinct *object* first, see ``factorize``), its few distinct values
# are ranked as text, and tuples of codes are combined into one int64 key per item.

SAMPLE = 8192  # how many objects ``factorize`` looks at to choose its route
KEY_LIMIT = 1 << 62  # combined keys stay below this (int64, with room for one more digit)


def mostly_distinct(ids: np.ndarray) -> bool:
    """Whether many elements are objects of their own, judging by an evenly spread sample.

    Hashing the identities first pays when most elements share their object with others: then the
    distinct objects are few. Where 30 % of the sample occurs once, they are not, and it would only add work.
    """
    sample = ids[:: max(len(ids) // SAMPLE, 1)]
    codes = pd.factorize(sample)[0]
    return int(np.count_nonzero(np.bincount(codes) == 1)) > 0.3 * len(sample)


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, use_na_sentinel=False)`` of an object array: the same codes and uniques.

    A column usually repeats a few objects (the reader and the lookups share them: one object per
    customer id, per billing code name): the object identities are then factorised as integers and
    only the distinct objects by value, which is several times faster than hashing every string.
    Where most objects are distinct, the values are factorised directly.
    """
    ids = object_ids(values)
    if mostly_distinct(ids):
        return factorize_values(values)
    id_codes, distinct = pd.factorize(ids)
    value_codes, uniques = factorize_values(values[first_positions(id_codes, len(distinct))])
    return value_codes[id_codes], uniques


def factorize_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, use_na_sentinel=False)``; without a pass looking for missing values unless
    there are some."""
    codes, uniques = pd.factorize(values)
    if len(codes) and codes.min() < 0:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, np.asarray(uniques, dtype=object)


def text_ranks(uniques: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    """A rank per unique value so that ranks sort as the values do as text (by code point).

    As a column is ranked: values numpy sorts as equal texts (``a`` and ``a\\x00``) keep the
    order of their first occurrence; ``codes`` (the items' codes) gives that order when ``uniques``
    is not already in it.
    """
    order = np.arange(len(uniques))
    if codes is not None:
        first = np.full(len(uniques), len(codes), dtype=np.int64)
        np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
        order = np.argsort(first, kind="stable")
    order = order[np.argsort(np.asarray(uniques[order], dtype=str), kind="stable")]
    ranks = np.empty(len(uniques), dtype=np.int64)
    ranks[order] = np.arange(len(uniques))
    return ranks


def text_codes(values: np.ndarray) -> np.ndarray:
    """Dense integer codes that sort as the values do as text (by code point, like ``sort_values``)."""
    codes, uniques = factorize(values)
    return text_ranks(uniques)[codes]


def subset_codes(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """``text_codes`` of ``values`` at ``rows`` (all when None), up to a renumbering that keeps their order.

    Only the rows' own values are ranked; should two of them be equal as numpy text (ordered by first
    occurrence in the whole column), the whole column is ranked instead.
    """
    if rows is None:
        return text_codes(values)
    codes, uniques = pd.factorize(values[rows], use_na_sentinel=False)
    texts = np.asarray(uniques, dtype=str)
    order = np.argsort(texts, kind="stable")
    if len(order) > 1 and (texts[order[1:]] == texts[order[:-1]]).any():
        return text_codes(values)[rows]
    ranks = np.empty(len(uniques), dtype=np.int64)
    ranks[order] = np.arange(len(uniques))
    return ranks[codes]


def distinct_tuples(parts: list[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the items' distinct tuples of codes (in order of first occurrence), and where each occurs first.

    ``parts`` are (codes, how many codes) per column; columns with one code are left out.
    """
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for codes, count in parts:
        if count <= 1:
            continue
        if size > KEY_LIMIT // count:  # the key would overflow: renumber the tuples so far densely
            key, seen = pd.factorize(key)
            size = max(len(seen), 1)
        key = key * count + codes
        size *= count
    codes, distinct = pd.factorize(key)
    return codes, first_positions(codes, len(distinct))


def order_of(keys: list[np.ndarray], count: int) -> np.ndarray:
    """The order of ``count`` rows by the columns ``keys`` (the first is the primary one).

    One sort of a single int64 key when the columns' ranges multiply to fit, else ``np.lexsort``.
    """
    if not keys:
        return np.arange(count)
    combined = np.zeros(count, dtype=np.int64)
    size = 1
    for key in keys:
        low, span = int(key.min(initial=0)), int(key.max(initial=0)) - int(key.min(initial=0)) + 1
        if size > KEY_LIMIT // span:
            return np.lexsort(keys[::-1])
        combined = combined * span + (key - low)
        size *= span
    return np.argsort(combined)  # the rows' keys are distinct: any sort gives the one order
