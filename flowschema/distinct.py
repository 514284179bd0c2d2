"""The distinct values of a column, told apart exactly: the columnar engine validates each once.

Two cells share a distinct value only if pydantic cannot tell them apart: ``1``, ``1.0``,
``True`` and ``"1"`` are four values; so are ``-0.0`` and ``0.0`` (floats by their bits),
``Decimal("1.0")`` and ``Decimal("1.00")``, a ``str`` and a ``str`` Enum member of the same
text, and two datetimes at the same instant in zones that differ in any way pydantic could show
(``timezone(+1h, "CET")`` and ``timezone(+1h, "WAT")`` are equal, yet an error's ``input``
shows its own). Values with no exact key (lists, dicts, other objects) each stay their own.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Hashable
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
import pyarrow as pa

from flowschema.chunk import Coded
from flowschema.records import normalize_column

__all__ = ["distinct_values"]


def distinct_values(column: Any) -> tuple[np.ndarray, list]:
    """``codes`` and ``values`` such that the column's cell ``i``, normalised as a row would see
    it, is ``values[codes[i]]``; equal cells of different types or signs stay apart.

    >>> codes, values = distinct_values(np.array([3, 1, 3]))
    >>> codes.tolist(), values
    ([0, 1, 0], [3, 1])
    """
    if isinstance(column, list):
        return _distinct_objects(column)
    if isinstance(column, Coded):  # told apart by the frame already
        return column.codes, column.values
    dtype = column.dtype
    if isinstance(column, np.ndarray):
        if dtype.kind in "biu":
            codes, uniques = pd.factorize(column)
            return codes, uniques.tolist()
        if dtype.kind == "f":
            return _distinct_floats(column)
        if dtype.kind in "mM":
            return _with_missing(*pd.factorize(column))
        return _distinct_objects(normalize_column(column))
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(column.codes, dtype=np.int64)
        return _missing_last(codes, normalize_column(dtype.categories))
    if dtype.kind == "f":  # masked and Arrow floats (a dictionary of floats: pandas keeps the signs apart)
        return _distinct_floats(column.to_numpy(dtype=np.float64, na_value=np.nan))
    if _is_nested(dtype) or _holds_objects(dtype):
        return _distinct_objects(normalize_column(column))
    if _arrow_strings(dtype):
        return _distinct_arrow(column.__arrow_array__())
    try:
        return _with_missing(*pd.factorize(column))
    except (TypeError, NotImplementedError):
        return _distinct_objects(normalize_column(column))


def _holds_objects(dtype: Any) -> bool:
    """Whether a pandas extension array keeps Python objects as they are (``string[python]`` may
    hold a str subclass, which ``pd.factorize`` would merge with the plain str)."""
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "python"


def _is_nested(dtype: Any) -> bool:
    """Whether ``dtype`` is Arrow-backed with lists, structs or maps (in a dictionary too): values
    that are never merged, though pandas cannot factorize them today anyway."""
    if not isinstance(dtype, pd.ArrowDtype):
        return False
    arrow_type = dtype.pyarrow_dtype
    return pa.types.is_nested(arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type)


def _arrow_strings(dtype: Any) -> bool:
    """Whether a pandas column holds its strings in Arrow (``str``, ``string[pyarrow]``, an
    ``ArrowDtype`` string): their Python values are plain ``str``."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                                 or pa.types.is_large_string(dtype.pyarrow_dtype))


def _distinct_arrow(array: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Arrow strings by Arrow's own hash kernel, called directly (it releases the GIL, so
    columns can be deduplicated side by side in threads); one dictionary for every chunk."""
    if not len(array):
        return np.empty(0, dtype=np.int64), []
    encoded = array.dictionary_encode()
    values = encoded.chunk(0).dictionary.to_pylist()
    indices = pa.chunked_array([chunk.indices for chunk in encoded.chunks])
    if indices.null_count:
        values.append(None)
        indices = indices.fill_null(len(values) - 1)
    return indices.to_numpy().astype(np.int64, copy=False), values


def _with_missing(codes: np.ndarray, uniques: Any) -> tuple[np.ndarray, list]:
    """``pd.factorize``'s codes (-1 for missing) and uniques, normalised, None last."""
    return _missing_last(codes, normalize_column(uniques))


def _missing_last(codes: np.ndarray, values: list) -> tuple[np.ndarray, list]:
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values = [*values, None]
    return codes, values


def _distinct_floats(array: np.ndarray) -> tuple[np.ndarray, list]:
    """Floats told apart by their bits: -0.0 and 0.0 are two values (NaNs are all missing)."""
    array = np.ascontiguousarray(array, dtype=np.float64)
    codes, bits = pd.factorize(array.view(np.int64))
    return codes, normalize_column(bits.view(np.float64))


def _distinct_objects(values: list) -> tuple[np.ndarray, list]:
    """Python values deduplicated by an exact key; values with no exact key each stay their own."""
    index: dict[Any, int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    distinct: list = []
    for position, value in enumerate(values):
        key = exact_key(value)
        code = index.get(key)  # None for a value without a key: no key None is ever kept
        if code is None:
            code = len(distinct)
            distinct.append(value)
            if key is not None:
                index[key] = code
        codes[position] = code
    return codes, distinct


_KEYED_AS_THEY_ARE = frozenset((str, int, bool, bytes, dt.date, dt.timedelta, UUID, type(None)))


def exact_key(value: Any) -> Hashable | None:
    """A hashable key equal for two values only if pydantic cannot tell them apart, or None.

    >>> exact_key(1) == exact_key(True), exact_key(0.0) == exact_key(-0.0)
    (False, False)
    """
    kind = type(value)
    if kind in _KEYED_AS_THEY_ARE:
        return kind, value
    if kind is float:
        return kind, value, math.copysign(1.0, value)
    if kind is Decimal:
        return kind, str(value)
    if kind in (dt.datetime, dt.time):
        zone = _zone_key(value.tzinfo)
        return kind, value.replace(tzinfo=None), value.fold, zone
    if isinstance(value, enum.Enum):
        return kind, id(value)
    if kind is tuple:
        keys = tuple(map(exact_key, value))
        return None if None in keys else (kind, keys)
    return None


def _zone_key(zone: dt.tzinfo | None) -> Hashable:
    """A zone told apart from every zone that could show differently: a fixed offset by its
    offset and name (its repr), any other zone object by its identity."""
    if zone is None:
        return None
    if type(zone) is dt.timezone:
        return repr(zone)
    return id(zone)
