"""Cells no Python value can hold, found before any row is validated.

A row goes to pydantic as Python values, so a cell that has none is bad input, like a bad
argument: a ``datetime64[s]`` of the year 10000 (``datetime`` stops at 9999), a ``timedelta64``
beyond 999,999,999 days, a 0-d numpy array, an Arrow struct with two fields of one name. Every
engine and executor would fail on it somewhere in the middle of a run; ``check_readable`` finds
it first, in the frame the caller gave, and raises one ``ValueError`` naming the column, the
row's label and the value.

Typed columns are checked with vectorised range tests; an object column only looks at the cells
that are not plain Python scalars, and a nested Arrow column only where its type can hold a
temporal value or a struct with repeated field names.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
import pyarrow as pa

from flowschema.records import normalize_value

__all__ = ["UnreadableCellError", "check_readable"]


class UnreadableCellError(ValueError):
    """A cell that no Python value can hold: pydantic cannot be given it."""


def check_readable(frame: pd.DataFrame) -> None:
    """Raise ``UnreadableCellError`` for the first cell of ``frame`` no Python value can hold.

    >>> check_readable(pd.DataFrame({"t": np.array(["2024-01-01", "10000-01-01"], dtype="datetime64[s]")}))
    Traceback (most recent call last):
    ...
    flowschema.readable.UnreadableCellError: column 't', row 1: np.datetime64('10000-01-01T00:00:00') out of the \
range of a Python datetime (years 1 to 9999); fix or drop the cell before validating
    """
    for number, label in enumerate(frame.columns):
        found = _first_unreadable(frame.iloc[:, number].array)
        if found is not None:
            position, shown, reason = found
            raise UnreadableCellError(f"column {label!r}, row {frame.index[position]!r}: {shown} {reason}; "
                                      "fix or drop the cell before validating")


_Found = tuple[int, str, str]  # the cell's position, the cell as shown, why it has no Python value


def _first_unreadable(array: Any) -> _Found | None:
    """The first cell of a pandas array no Python value can hold: (position, value, why)."""
    dtype = array.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        found = _first_unreadable(dtype.categories.array)
        if found is None:
            return None
        position = int(np.flatnonzero(np.asarray(array.codes) == found[0])[0])  # the first row using it
        return position, found[1], found[2]
    if isinstance(dtype, pd.ArrowDtype):
        return _first_unreadable_arrow(array.__arrow_array__())
    if isinstance(array, pd.arrays.DatetimeArray):
        if array.unit not in _DATETIME_RANGE:  # nanoseconds: always within
            return None
        if array.tz is not None:  # the local times the datetimes show count, at most a day from their instants
            if not _near_the_edges(array.tz_convert(None).to_numpy()):  # in UTC: no value converted
                return None
            array = array.tz_localize(None)
        return _first_outside(array.to_numpy(), _DATETIME_RANGE, "out of the range of a Python datetime "
                                                                 "(years 1 to 9999)")
    if isinstance(array, pd.arrays.TimedeltaArray):
        return _first_outside(array.to_numpy(), _TIMEDELTA_RANGE, "out of the range of a Python timedelta "
                                                                  "(999,999,999 days)")
    if isinstance(array, pd.arrays.NumpyExtensionArray) and dtype.kind == "O" and not isinstance(dtype, pd.StringDtype):
        return _first_unconvertible(array.to_numpy())  # an object column (a str column's cells are all str)
    return None


def _first_outside(values: np.ndarray, bounds: dict, reason: str) -> _Found | None:
    """The first value of a datetime64 / timedelta64 array outside ``bounds`` (per unit)."""
    unit = np.datetime_data(values.dtype)[0]
    if unit not in bounds:  # nanoseconds: always within
        return None
    low, high = bounds[unit]
    numbers = values.view(np.int64)
    outside = ((numbers < low) | (numbers > high)) & ~np.isnat(values)
    if not outside.any():
        return None
    position = int(np.argmax(outside))
    return position, repr(values[position]), reason


def _near_the_edges(instants: np.ndarray) -> bool:
    """Whether a datetime64 value lies within a day of the range of a Python datetime, or outside."""
    unit = np.datetime_data(instants.dtype)[0]
    low, high = _DATETIME_RANGE[unit]
    day = 86_400 * _PER_SECOND[unit]
    numbers = instants.view(np.int64)
    return bool((((numbers < low + day) | (numbers > high - day)) & ~np.isnat(instants)).any())


_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000}  # ticks of a datetime64 unit per second


def _range_in(unit: str, low: int, high: int, per_second: int) -> tuple[int, int]:
    scale = _PER_SECOND[unit]
    return -((-low * scale) // per_second), high * scale // per_second  # inside, rounded inwards


_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECONDS = 1_000_000
_FIRST = (dt.datetime.min - _EPOCH) // dt.timedelta(microseconds=1)
_LAST = (dt.datetime.max - _EPOCH) // dt.timedelta(microseconds=1)
_LONGEST = dt.timedelta.max // dt.timedelta(microseconds=1)
_DATETIME_RANGE = {unit: _range_in(unit, _FIRST, _LAST, _MICROSECONDS) for unit in ("s", "ms", "us")}
_TIMEDELTA_RANGE = {unit: _range_in(unit, -_LONGEST, _LONGEST, _MICROSECONDS) for unit in ("s", "ms", "us")}
_DATE_DAYS = ((dt.date.min - _EPOCH.date()).days, (dt.date.max - _EPOCH.date()).days)


# -- Arrow --------------------------------------------------------------------------------------------


def _first_unreadable_arrow(arrow: pa.ChunkedArray | pa.Array) -> _Found | None:
    arrow = arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow
    arrow_type = arrow.type
    if pa.types.is_timestamp(arrow_type) and arrow_type.unit != "ns":
        import pyarrow.compute as pc

        wall = pc.local_timestamp(arrow) if arrow_type.tz is not None else arrow
        return _first_outside_arrow(arrow, wall.cast(pa.int64()), _DATETIME_RANGE[arrow_type.unit],
                                    "out of the range of a Python datetime (years 1 to 9999)")
    if pa.types.is_duration(arrow_type) and arrow_type.unit != "ns":
        return _first_outside_arrow(arrow, arrow.cast(pa.int64()), _TIMEDELTA_RANGE[arrow_type.unit],
                                    "out of the range of a Python timedelta (999,999,999 days)")
    if pa.types.is_date32(arrow_type):
        return _first_outside_arrow(arrow, arrow.cast(pa.int32()).cast(pa.int64()), _DATE_DAYS,
                                    "out of the range of a Python date (years 1 to 9999)")
    if pa.types.is_date64(arrow_type):
        days = (_DATE_DAYS[0] * 86_400_000, (_DATE_DAYS[1] + 1) * 86_400_000 - 1)
        return _first_outside_arrow(arrow, arrow.cast(pa.int64()), days,
                                    "out of the range of a Python date (years 1 to 9999)")
    if _may_hold_unreadable(arrow_type):  # nested: find the row by converting the column
        try:
            arrow.to_pylist()
        except (ValueError, OverflowError, TypeError):
            return _first_unconvertible_arrow(arrow)
    return None


def _first_outside_arrow(arrow: pa.Array, numbers: pa.Array, bounds: tuple[int, int], reason: str) -> _Found | None:
    values = numbers.to_numpy(zero_copy_only=False)
    present = ~np.asarray(numbers.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    with np.errstate(invalid="ignore"):
        outside = present & ((values < bounds[0]) | (values > bounds[1]))
    if not outside.any():
        return None
    position = int(np.argmax(outside))
    return position, f"{arrow.type} value {values[position]} (since 1970-01-01)", reason


def _may_hold_unreadable(arrow_type: pa.DataType) -> bool:
    """Whether a nested Arrow type holds a temporal type or a struct with repeated field names."""
    if pa.types.is_struct(arrow_type):
        names = [arrow_type.field(index).name for index in range(arrow_type.num_fields)]
        if len(set(names)) < len(names):
            return True
    if pa.types.is_dictionary(arrow_type):
        return _may_hold_unreadable(arrow_type.value_type) or pa.types.is_temporal(arrow_type.value_type)
    return any(pa.types.is_temporal(child) or _may_hold_unreadable(child)
               for child in (arrow_type.field(index).type for index in range(arrow_type.num_fields)))


def _first_unconvertible_arrow(arrow: pa.Array) -> _Found | None:
    for position in range(len(arrow)):
        try:
            arrow[position].as_py()
        except (ValueError, OverflowError, TypeError) as exc:
            return position, _arrow_text(arrow, position), f"cannot be a Python value ({exc})"
    return None


def _arrow_text(arrow: pa.Array, position: int) -> str:
    """The cell as Arrow shows it (a scalar's repr may itself fail on a value out of range)."""
    try:
        return repr(arrow[position])
    except (ValueError, OverflowError, TypeError):
        return f"the {arrow.type} value {' '.join(arrow.slice(position, 1).to_string().split())}"


# -- object columns ------------------------------------------------------------------------------------

_PLAIN = frozenset((type(None), str, int, float, bool, bytes, Decimal, UUID, dt.datetime, dt.date, dt.time,
                    dt.timedelta))


def _first_unconvertible(values: np.ndarray) -> _Found | None:
    """The first cell of an object column whose normalisation fails (only cells that are not
    plain Python scalars are tried)."""
    cells = values.tolist()
    if set(map(type, cells)) <= _PLAIN:
        return None
    for position, value in enumerate(cells):
        if type(value) in _PLAIN:
            continue
        try:
            normalize_value(value)
        except (ValueError, OverflowError, TypeError) as exc:
            return position, repr(value), f"cannot be a Python value ({type(exc).__name__}: {exc})"
    return None
