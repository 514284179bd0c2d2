"""Cells -> plain Python values, and a frame's columns as the engine reads them (``column_array``).

pydantic validates Python objects, not numpy scalars or pandas sentinels, so each cell is
normalised before it reaches ``model_validate``:

* NaN, NaT, ``pd.NA`` and None become None;
* numpy scalars become Python scalars; Timestamps become datetimes (tz kept);
  Timedeltas become timedeltas;
* numpy arrays and Arrow list/struct values become lists/dicts, recursively.

Normalisation works a column at a time (``normalize_column``): numeric columns go through
``ndarray.tolist()``, Arrow-backed columns through ``to_pylist()``, categoricals through their
categories, and only object columns pay a per-cell call to ``normalize_value``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["column_array", "normalize_column", "normalize_value", "plain_arrow_type"]


def normalize_value(value: Any) -> Any:
    """Turn one cell into the plain Python value pydantic is given.

    >>> normalize_value(float("nan")) is None
    True
    >>> normalize_value(np.int64(3)), normalize_value(np.array([1.5, np.nan]))
    (3, [1.5, None])
    """
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        return None if value != value else value
    convert = _CONVERTERS.get(kind)
    if convert is not None:
        return convert(value)
    return _normalize_other(value)


def _normalize_float(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _normalize_sequence(value: list | tuple) -> list | tuple:
    items = [normalize_value(item) for item in value]
    return tuple(items) if isinstance(value, tuple) else items


def _normalize_mapping(value: Mapping) -> dict:
    return {key: normalize_value(item) for key, item in value.items()}


def _normalize_timestamp(value: pd.Timestamp) -> dt.datetime:
    return value.to_pydatetime(warn=False)  # NaT is not a Timestamp: it never reaches here


def _normalize_ndarray(value: np.ndarray) -> list:
    if value.ndim == 0:
        raise ValueError("a 0-d numpy array is a scalar in an array, neither a value nor a list")
    if value.ndim > 1:
        return [_normalize_ndarray(row) for row in value]
    return normalize_column(value)


def _normalize_other(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        return _normalize_float(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime(warn=False)
    if isinstance(value, np.timedelta64):
        return None if np.isnat(value) else pd.Timedelta(value).to_pytimedelta()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return _normalize_timestamp(value)
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, np.ndarray):
        return _normalize_ndarray(value)
    if isinstance(value, (list, tuple)):
        return _normalize_sequence(value)
    if isinstance(value, Mapping):
        return _normalize_mapping(value)
    as_py = getattr(value, "as_py", None)  # a pyarrow scalar
    if as_py is not None and type(value).__module__.startswith("pyarrow"):
        return normalize_value(as_py())
    return value


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    np.float64: _normalize_float,
    np.float32: _normalize_float,
    np.int64: int,
    np.int32: int,
    np.bool_: bool,
    list: _normalize_sequence,
    tuple: _normalize_sequence,
    dict: _normalize_mapping,
    pd.Timestamp: _normalize_timestamp,
    np.ndarray: _normalize_ndarray,
}
_CONVERTERS.update(
    dict.fromkeys((bytes, dt.datetime, dt.date, dt.time, dt.timedelta, Decimal, UUID), lambda value: value)
)


def _nan_to_none(values: list, array: np.ndarray) -> list:
    """Put None where ``array`` holds NaN (floats only; other kinds have no NaN)."""
    return _with_missing(values, np.isnan(array)) if array.dtype.kind in "fc" else values


def _with_missing(values: list, missing: np.ndarray) -> list:
    """Put None in ``values`` where ``missing`` is True."""
    for position in np.flatnonzero(missing).tolist():
        values[position] = None
    return values


def normalize_column(column: Any) -> list:
    """Normalise a whole column (a pandas array, Series or ndarray) to a list of Python values.

    A list is taken as already normalised (the sender of a chunk did it).

    >>> normalize_column(pd.array([1, None], dtype="Int64"))
    [1, None]
    """
    if isinstance(column, list):
        return column
    array = column.array if isinstance(column, (pd.Series, pd.Index)) else column
    dtype = array.dtype
    if isinstance(array, np.ndarray):
        kind = dtype.kind
        if kind in "biufcUS":
            return _nan_to_none(array.tolist(), array)
        if kind == "O":
            return [normalize_value(value) for value in array.tolist()]
        array = pd.array(array)  # datetime64 / timedelta64 ndarrays: use pandas' conversions
        dtype = array.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = normalize_column(dtype.categories)
        lookup = np.empty(len(categories) + 1, dtype=object)
        lookup[:-1] = categories  # code -1 (missing) indexes the trailing None
        lookup[-1] = None
        return lookup[array.codes].tolist()
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "python":  # may hold a str subclass: keep it
        return [normalize_value(value) for value in array.to_numpy(dtype=object, na_value=None).tolist()]
    if isinstance(dtype, (pd.ArrowDtype, pd.StringDtype)) or isinstance(array, _MASKED_ARRAYS):
        arrow = array.__arrow_array__()
        values = arrow.to_pylist()
        if pa.types.is_floating(arrow.type):  # Arrow keeps NaN apart from null
            return [None if value != value else value for value in values]
        if _holds_pandas_scalars_or_nan(arrow.type):
            return [normalize_value(value) for value in values]
        return values
    if dtype.kind == "M":
        return _with_missing(array.to_pydatetime().tolist(), array.isna())
    if dtype.kind == "m":
        return _with_missing(array.to_pytimedelta().tolist(), array.isna())
    if isinstance(array, pd.arrays.NumpyExtensionArray):
        return normalize_column(array.to_numpy())
    return [normalize_value(value) for value in array.to_numpy(dtype=object, na_value=None).tolist()]


def _holds_pandas_scalars_or_nan(arrow_type: pa.DataType) -> bool:
    """Whether ``to_pylist()`` of this Arrow type may give pandas scalars (nanosecond timestamps
    and durations come back as Timestamp / Timedelta) or NaN inside lists and structs."""
    if pa.types.is_dictionary(arrow_type):
        return _holds_pandas_scalars_or_nan(arrow_type.value_type)
    if pa.types.is_timestamp(arrow_type) or pa.types.is_duration(arrow_type):
        return arrow_type.unit == "ns"
    return pa.types.is_nested(arrow_type)


_MASKED_ARRAYS = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)


def column_array(column: pd.Series) -> Any:
    """The column's values, as a plain ndarray when numpy holds them (slicing one is ~100x
    cheaper than slicing a pandas array), else as its pandas array; Arrow view and run-end
    encoded types (which Arrow's ``take`` cannot read) as the plain types of the same values."""
    array = column.array
    if isinstance(array, (pd.arrays.NumpyExtensionArray, pd.arrays.TimedeltaArray)) or (
        isinstance(array, pd.arrays.DatetimeArray) and array.tz is None
    ):
        return array.to_numpy()
    if isinstance(array.dtype, pd.ArrowDtype):
        arrow_type = array.dtype.pyarrow_dtype
        plain = plain_arrow_type(arrow_type)
        if plain != arrow_type:
            return pd.arrays.ArrowExtensionArray(_cast(array.__arrow_array__(), plain))
    return array


def plain_arrow_type(arrow_type: pa.DataType) -> pa.DataType:
    """``arrow_type`` with every view type replaced by its large type and every run-end encoded
    type by its values' type: the same values, in types every Arrow kernel reads.

    >>> plain_arrow_type(pa.list_(pa.string_view()))
    ListType(list<item: large_string>)
    """
    if pa.types.is_string_view(arrow_type):
        return pa.large_string()
    if pa.types.is_binary_view(arrow_type):
        return pa.large_binary()
    if pa.types.is_run_end_encoded(arrow_type):
        return plain_arrow_type(arrow_type.value_type)
    if pa.types.is_list_view(arrow_type) or pa.types.is_large_list_view(arrow_type):
        return pa.large_list(_plain_field(arrow_type.value_field))
    if pa.types.is_list(arrow_type):
        return pa.list_(_plain_field(arrow_type.value_field))
    if pa.types.is_large_list(arrow_type):
        return pa.large_list(_plain_field(arrow_type.value_field))
    if pa.types.is_fixed_size_list(arrow_type):
        return pa.list_(_plain_field(arrow_type.value_field), arrow_type.list_size)
    if pa.types.is_map(arrow_type):
        return pa.map_(_plain_field(arrow_type.key_field), _plain_field(arrow_type.item_field))
    if pa.types.is_struct(arrow_type):
        return pa.struct([_plain_field(arrow_type.field(index)) for index in range(arrow_type.num_fields)])
    if pa.types.is_dictionary(arrow_type):
        return pa.dictionary(arrow_type.index_type, plain_arrow_type(arrow_type.value_type))
    return arrow_type


def _plain_field(arrow_field: pa.Field) -> pa.Field:
    return arrow_field.with_type(plain_arrow_type(arrow_field.type))


def _cast(arrow: pa.ChunkedArray | pa.Array, plain: pa.DataType) -> pa.ChunkedArray:
    """``arrow`` as the same values of type ``plain``; a run-end encoded array is decoded first."""
    import pyarrow.compute as pc

    if isinstance(arrow, pa.ChunkedArray):
        return pa.chunked_array([_cast(chunk, plain).combine_chunks() for chunk in arrow.chunks], type=plain)
    if pa.types.is_run_end_encoded(arrow.type):
        arrow = pc.run_end_decode(arrow)
    if not _holds_list_view(arrow.type):  # Arrow 26 casts a list view to wrong lists: rebuild those
        try:
            return pa.chunked_array([arrow.cast(plain)])
        except pa.ArrowNotImplementedError:  # a cast Arrow has no kernel for (a view inside a map...)
            pass
    return pa.chunked_array([pa.array(arrow.to_pylist(), type=plain)])


def _holds_list_view(arrow_type: pa.DataType) -> bool:
    if pa.types.is_list_view(arrow_type) or pa.types.is_large_list_view(arrow_type):
        return True
    if pa.types.is_dictionary(arrow_type):
        return _holds_list_view(arrow_type.value_type)
    return any(_holds_list_view(arrow_type.field(index).type) for index in range(arrow_type.num_fields))
