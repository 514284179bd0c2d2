"""pydantic as the oracle: what ``Model.model_validate`` says of each row, computed independently.

The normaliser here is written the plain way, a cell at a time from ``DataFrame.iat``, so that
FlowSchema's column-at-a-time fast paths are checked against it rather than against themselves.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

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
    return {name: reference_value(frame.iat[position, column]) for column, name in enumerate(frame.columns)}


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
