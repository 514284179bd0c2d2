"""pydantic as the oracle: what ``Model.model_validate`` says of each row, computed independently.

The normaliser here is written the plain way, a cell at a time from ``DataFrame.iat``, so that
FlowSchema's column-at-a-time fast paths are checked against it rather than against themselves.
"""

from __future__ import annotations

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
