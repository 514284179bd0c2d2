"""pydantic as the oracle: what ``Model.model_validate`` says of each row, computed independently.

The normaliser here is written the plain way, a cell at a time from ``DataFrame.iat``, so that
FlowSchema's column-at-a-time fast paths are checked against it rather than against themselves.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import types
import typing
import uuid
import zoneinfo

import numpy as np
import pandas as pd
from pydantic import AliasChoices, AliasPath, BaseModel, ValidationError
from pydantic_core import PydanticUndefined

import flowschema


def reference_value(value):
    """DESIGN.md's normalisation of one cell, written the slow and obvious way."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime(warn=False)
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime(warn=False)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [reference_value(item) for item in value]
    if isinstance(value, list):
        return [reference_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(reference_value(item) for item in value)
    if isinstance(value, dict):
        return {key: reference_value(item) for key, item in value.items()}
    if type(value).__module__.startswith("pyarrow"):
        return reference_value(value.as_py())
    return value


def reference_row(frame: pd.DataFrame, position: int) -> dict:
    return {name: reference_value(_cell(frame, position, column)) for column, name in enumerate(frame.columns)}


def _cell(frame: pd.DataFrame, position: int, column: int):
    """``frame.iat``; an Arrow cell pandas cannot box (a duration beyond its ``Timedelta``, such as
    ``timedelta.max`` in ``duration[s]``) is read from Arrow itself, as the README says it reads."""
    try:
        return frame.iat[position, column]
    except (OverflowError, ValueError):  # pandas' OutOfBoundsTimedelta is a ValueError
        array = frame.iloc[:, column].array
        if not isinstance(array.dtype, pd.ArrowDtype):
            raise
        return array.__arrow_array__()[position].as_py()


def expected_errors(model: type[BaseModel], row: dict, strict=None, context=None) -> list[tuple]:
    """``(loc, type, msg)`` of each error ``model_validate`` reports for ``row``; [] when valid."""
    try:
        model.model_validate(row, strict=strict, context=context)
    except ValidationError as exc:
        return [(tuple(error["loc"]), error["type"], error["msg"]) for error in exc.errors()]
    except Exception as exc:
        return [((), "exception", f"{type(exc).__name__}: {exc}")]
    return []


def assert_matches_pydantic(frame: pd.DataFrame, model, checked: pd.DataFrame, strict=None, context=None) -> None:
    """Row by row, ``checked`` says exactly what ``model_validate`` says of ``frame``'s rows."""
    assert len(checked) == len(frame)
    assert checked.index.equals(frame.index)
    valid = checked[flowschema.VALID_COLUMN].tolist()
    errors = checked[flowschema.ERRORS_COLUMN].tolist()
    for position in range(len(frame)):
        expected = expected_errors(model, reference_row(frame, position), strict, context)
        got = [(error["loc"], error["type"], error["msg"]) for error in errors[position]]
        assert got == expected, f"row {position}: {reference_row(frame, position)}"
        assert valid[position] == (not expected)


# -- exact comparison: every key of every error, with types ----------------------------------------

JSON_SCALARS = (str, int, float, bool, type(None))


def typed(value):
    """``value`` with every type spelled out, zones included: ``==`` alone would miss 1 vs True
    vs 1.0, a Timestamp vs a datetime, or a dateutil zone vs a fixed offset."""
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [typed(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", [(typed(key), typed(item)) for key, item in value.items()]]
    if isinstance(value, float) and math.isnan(value):
        return ["float", "nan"]
    if isinstance(value, decimal.Decimal):
        return ["Decimal", str(value)]  # keeps NaN, sign and exponent, which == would not compare
    if isinstance(value, (dt.datetime, dt.time)):
        zone = value.tzinfo
        return [type(value).__name__, value.isoformat(), type(zone).__name__, repr(zone), value.fold]
    return [type(value).__name__, value]


def expected_error_dicts(model: type[BaseModel], row: dict, strict=None, context=None) -> list[dict]:
    """The README's error dicts for ``row``: pydantic's ``type``, ``loc`` (a tuple), ``msg``,
    ``input`` (None for ``missing``) and ``ctx`` with values that are not JSON scalars as str;
    a non-pydantic exception as one ``exception`` error with the row as input."""
    try:
        model.model_validate(row, strict=strict, context=context)
    except ValidationError as exc:
        expected = []
        for error in exc.errors(include_url=False):
            detail = {"type": error["type"], "loc": tuple(error["loc"]), "msg": error["msg"],
                      "input": None if error["type"] == "missing" else error["input"]}
            if "ctx" in error:
                detail["ctx"] = {key: value if isinstance(value, JSON_SCALARS) else str(value)
                                 for key, value in error["ctx"].items()}
            expected.append(detail)
        return expected
    except Exception as exc:
        return [{"type": "exception", "loc": (), "msg": f"{type(exc).__name__}: {exc}", "input": row}]
    return []


def assert_exactly_pydantic(frame: pd.DataFrame, model, checked: pd.DataFrame, strict=None, context=None) -> None:
    """Every error of every row equals the README's error dicts, key by key and type by type."""
    assert len(checked) == len(frame) and checked.index.equals(frame.index)
    for position in range(len(frame)):
        row = reference_row(frame, position)
        expected = expected_error_dicts(model, row, strict, context)
        got = checked[flowschema.ERRORS_COLUMN].iat[position]
        assert typed(list(got)) == typed(expected), f"row {position}: {row!r}"
        assert checked[flowschema.VALID_COLUMN].iat[position] == (not expected)


# -- coerce=True, from the README's rules ----------------------------------------------------------


def read_column(model: type[BaseModel], name: str, columns) -> object:
    """The README's rule: a field reads the first present of its validation alias (each
    ``AliasChoices`` choice in order) when validating by alias, then its name when validating by
    name or when it has no alias; a path into a column (``AliasPath``) is not a column it reads."""
    info = model.model_fields[name]
    config = model.model_config
    alias = info.validation_alias if info.validation_alias is not None else info.alias
    by_name = config.get("validate_by_name") or config.get("populate_by_name")
    choices: list = []
    if alias is not None and config.get("validate_by_alias", True):
        options = alias.choices if isinstance(alias, AliasChoices) else [alias]
        choices += [option.path if isinstance(option, AliasPath) else [option] for option in options]
    if alias is None or by_name:
        choices.append([name])
    present = list(columns)
    for path in choices:
        if path[0] in present:
            return path[0] if len(path) == 1 else None
    return None


def expected_dtype_array(annotation, cells: list):
    """The README's table: the field type's dtype when every cell fits it, else object."""
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        optional = len(members) == 1
        annotation = members[0] if optional else None
    values = [cell for cell in cells if cell is not None]
    if optional or len(values) == len(cells):
        if annotation is int and all(type(v) is int and -(2**63) <= v < 2**63 for v in values):
            return pd.array(cells, dtype="Int64") if optional else np.array(cells, dtype="int64")
        if annotation is float and all(type(v) is float for v in values):
            return np.array([np.nan if cell is None else cell for cell in cells], dtype="float64")
        if annotation is bool and all(type(v) is bool for v in values):
            return pd.array(cells, dtype="boolean") if optional else np.array(cells, dtype=bool)
        if annotation is str and all(type(v) is str for v in values):
            return pd.array(cells, dtype="str")
        zones = {repr(one_zone(v.tzinfo)) for v in values if type(v) is dt.datetime}
        naive_folds = any(v.fold for v in values if type(v) is dt.datetime and v.tzinfo is None)
        if annotation is dt.datetime and all(type(v) is dt.datetime for v in values) and len(zones) <= 1 and \
                not naive_folds:
            zone = one_zone(values[0].tzinfo) if values else None
            moments = [pd.NaT if cell is None else pd.Timestamp(cell) for cell in cells]
            try:
                if zone is None:
                    return pd.array(moments, dtype="datetime64[us]")
                return pd.DatetimeIndex([pd.NaT if m is pd.NaT else m.tz_convert("UTC") for m in moments]).as_unit(
                    "us").tz_convert(zone).array
            except (TypeError, ValueError):
                pass
    array = np.empty(len(cells), dtype=object)
    array[:] = cells
    return array


def one_zone(tzinfo):
    """A zone as one object for all its offsets (pytz has one tzinfo per offset: CET, CEST)."""
    if tzinfo is not None and type(tzinfo).__module__.startswith("pytz"):
        import pytz

        return pytz.timezone(tzinfo.zone)
    return tzinfo


def expected_coerced_frame(frame: pd.DataFrame, model: type[BaseModel], strict=None) -> pd.DataFrame:
    """``frame`` with each field's column holding pydantic's value in valid rows and the
    normalised input in the others, in the dtype the README's table gives."""
    rows = [reference_row(frame, position) for position in range(len(frame))]
    dumps = []  # the README's rule: each field's validated value, getattr(instance, name), never a dump
    for row in rows:
        try:
            instance = model.model_validate(row, strict=strict)
        except Exception:
            dumps.append(None)
        else:
            dumps.append({name: getattr(instance, name) for name in model.model_fields})
    expected = frame.copy()
    for name in model.model_fields:
        label = read_column(model, name, frame.columns)
        if label is None:
            continue
        cells = [dump[name] if dump is not None else row[label] for row, dump in zip(rows, dumps)]
        array = expected_dtype_array(model.model_fields[name].annotation, cells)
        expected[label] = pd.Series(array, index=frame.index, dtype=array.dtype)  # no inference from objects
    return expected


# -- what a Parquet round trip keeps, from the README -------------------------------------------

CARRIED = (type(None), bool, int, float, str, bytes, bytearray, dt.datetime, dt.date, dt.time, dt.timedelta,
           decimal.Decimal, uuid.UUID)


def stored_form(value):
    """What the README says a Parquet file gives back for ``value``."""
    if value is PydanticUndefined:
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, enum.Enum):
        return stored_form(value.value)
    if type(value) in (list, tuple):
        return type(value)(stored_form(item) for item in value)
    if type(value) is dict:
        return {stored_form(key): stored_form(item) for key, item in value.items()}
    if type(value) in (dt.datetime, dt.time):
        return value.replace(tzinfo=stored_zone(value.tzinfo, value if type(value) is dt.datetime else None))
    if type(value) in CARRIED:
        return value
    for base in (dt.datetime, dt.date, dt.timedelta, tuple, list, dict, int, float, str, bytes, decimal.Decimal):
        if isinstance(value, base):  # a subclass: its base (a Timestamp: a datetime, nanoseconds dropped)
            if base is dt.datetime:
                return stored_form(pd.Timestamp(value).to_pydatetime(warn=False) if isinstance(value, pd.Timestamp)
                                   else dt.datetime(*value.timetuple()[:6], value.microsecond, value.tzinfo,
                                                    fold=value.fold))
            if base is dt.timedelta:
                return dt.timedelta(days=value.days, seconds=value.seconds, microseconds=value.microseconds)
            if base is dt.date:
                return dt.date(value.year, value.month, value.day)
            return stored_form(base(value))
    return repr(value)


def stored_zone(zone, moment):
    """zoneinfo zones and fixed offsets as they are; pytz and dateutil zones as the zoneinfo zone
    of the same name; any other zone as its UTC offset at that moment."""
    if zone is None or type(zone) in (zoneinfo.ZoneInfo, dt.timezone):
        return zone
    name = getattr(zone, "zone", None) or getattr(zone, "_filename", None)
    if isinstance(name, str):
        name = name.rpartition("zoneinfo/")[2]
        try:
            return zoneinfo.ZoneInfo(name)
        except (ValueError, OSError):
            pass
    offset = zone.utcoffset(moment)
    return dt.timezone(offset) if offset else dt.timezone.utc
