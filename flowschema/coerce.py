"""``coerce=True``: put the validated values in the columns pydantic read, with a dtype chosen
from the model field's type.

Valid rows get the value pydantic produced (``model_dump()``), invalid rows keep their input
(normalised: missing is None). A column gets its field type's dtype when every cell fits it,
else ``object``:

==================  ================================  ==================================
field type          dtype                             every cell must be
==================  ================================  ==================================
``int``             ``int64``                         an int within int64
``Optional[int]``   ``Int64``                         such an int, or missing
``float``           ``float64``                       a float (missing allowed if Optional)
``bool``            ``bool``                          a bool
``Optional[bool]``  ``boolean``                       a bool, or missing
``str``             ``str``                           a str (missing allowed if Optional)
``datetime``        ``datetime64[us]`` (with its      datetimes all naive (fold 0), or all
                    zone)                             in one zone (missing allowed if Optional)
anything else       ``object``
==================  ================================  ==================================

The dtype depends only on the field and the cells, so the pieces of a stream coerce to the same
values as the whole, cell by cell; a piece's dtype may differ (one holding an invalid ``"abc"``
is ``object``).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from flowschema.fields import read_columns
from flowschema.records import normalize_column

__all__ = ["base_type", "coerce_columns", "coerced_array"]

_INT64 = (-(2**63), 2**63 - 1)
_STR_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else "string"


def coerce_columns(frame: pd.DataFrame, model: type[BaseModel], valid: np.ndarray, values: list) -> None:
    """Put each valid row's validated values in the columns pydantic read (in place)."""
    positions = np.flatnonzero(valid).tolist()
    for name, column in read_columns(model, frame.columns).items():
        if column is None:  # the field was filled by its default, or read from inside another column
            continue
        cells = normalize_column(frame[column])
        for position in positions:
            cells[position] = values[position][name]
        array = coerced_array(model.model_fields[name].annotation, cells)
        # with its dtype given, pandas keeps an object column of timedeltas as it is
        frame[column] = pd.Series(array, index=frame.index, dtype=array.dtype, copy=False)


def coerced_array(annotation: Any, cells: list) -> Any:
    """``cells`` as the array the field type ``annotation`` asks for, or ``object``.

    >>> from typing import Optional
    >>> coerced_array(Optional[int], [1, None]).dtype, coerced_array(int, [1, "a"]).dtype
    (Int64Dtype(), dtype('O'))
    """
    kind, optional = base_type(annotation)
    present = [cell for cell in cells if cell is not None]
    if optional or len(present) == len(cells):
        if kind is int and all(type(cell) is int and _INT64[0] <= cell <= _INT64[1] for cell in present):
            return pd.array(cells, dtype="Int64") if optional else np.array(cells, dtype=np.int64)
        if kind is float and all(type(cell) is float for cell in present):
            return np.array([np.nan if cell is None else cell for cell in cells], dtype=np.float64)
        if kind is bool and all(type(cell) is bool for cell in present):
            return pd.array(cells, dtype="boolean") if optional else np.array(cells, dtype=bool)
        if kind is str and all(type(cell) is str for cell in present):
            return pd.array(cells, dtype=_STR_DTYPE)
        if kind is dt.datetime and all(type(cell) is dt.datetime for cell in present):
            array = _datetime_array(cells, present)
            if array is not None:
                return array
    array = np.empty(len(cells), dtype=object)
    array[:] = cells
    return array


def base_type(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``Optional[...]`` / ``X | None`` / ``Annotated[...]``, and whether None is allowed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return base_type(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1 and len(members) < len(typing.get_args(annotation)):
            return base_type(members[0])[0], True
        return None, False
    return annotation, False


def _zone(cell: dt.datetime) -> Any:
    """The zone of a datetime, as one object for all its instants: pytz gives each offset its
    own tzinfo (CET, CEST), which are one zone."""
    tzinfo = cell.tzinfo
    if tzinfo is not None and type(tzinfo).__module__.startswith("pytz"):
        import pytz

        return pytz.timezone(tzinfo.zone)
    return tzinfo


def _datetime_array(cells: list, present: list) -> Any:
    """``datetime64[us]`` (naive) or ``datetime64[us, zone]`` when every datetime is naive or all
    are in one zone (equal zones may be distinct objects, one per chunk from a worker), else None."""
    zone = _zone(present[0]) if present else None
    if any(_zone(cell) != zone for cell in present):
        return None
    if zone is None:
        if any(cell.fold for cell in present):  # datetime64 has no fold: keep the datetimes as they are
            return None
        return pd.array([pd.NaT if cell is None else cell for cell in cells], dtype="datetime64[us]")
    try:
        instants = pd.to_datetime([pd.NaT if cell is None else cell.astimezone(dt.timezone.utc) for cell in cells],
                                  utc=True).as_unit("us")
        return instants.tz_convert(zone).array
    except (TypeError, ValueError):  # a zone pandas cannot hold
        return None
