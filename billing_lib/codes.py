"""Integer codes for columns of Python objects: the identity of each cell's object, and where each
distinct object first occurs.

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
