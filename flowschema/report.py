"""Reports read from an annotated frame: the errors table, the per-field summary, the verdict.

Everything here is computed from the ``_fs_valid`` and ``_fs_errors`` columns alone, so it
works on a filtered, concatenated or reloaded frame as well as on a fresh result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowschema.annotate import ERRORS_COLUMN, VALID_COLUMN, original_columns
from flowschema.errors import DataValidationError

__all__ = ["MODEL_FIELD", "assert_valid", "errors_table", "field_name", "invalid_rows", "summary_table", "valid_rows"]

#: the ``field`` of an error whose ``loc`` is empty (raised by the model as a whole)
MODEL_FIELD = "__model__"
ERRORS_TABLE_COLUMNS = ["row", "position", "field", "type", "msg", "input"]


def field_name(loc: tuple) -> str:
    """The dotted field name of an error location: ``("address", "zip")`` -> ``"address.zip"``."""
    return ".".join(map(str, loc)) if loc else MODEL_FIELD


def valid_mask(frame: pd.DataFrame) -> np.ndarray:
    """The ``_fs_valid`` column as a bool ndarray; a clear error if ``frame`` is not annotated."""
    missing = [name for name in (VALID_COLUMN, ERRORS_COLUMN) if name not in frame.columns]
    if missing:
        raise ValueError(
            f"this frame has no {' or '.join(missing)} column: it is not a validation result. "
            "Run checked = df.flowschema.validate(Model) and call this on `checked`"
        )
    return frame[VALID_COLUMN].to_numpy(dtype=bool)


def errors_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per error: ``row`` (index label), ``position``, ``field``, ``type``, ``msg``, ``input``.

    >>> import flowschema, pandas as pd
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> checked = pd.DataFrame({"x": [1, "a"]}, dtype=object).flowschema.validate(Point)
    >>> errors_table(checked)[["row", "field", "type"]].to_dict("records")
    [{'row': 1, 'field': 'x', 'type': 'int_parsing'}]
    """
    failed = np.flatnonzero(~valid_mask(frame)).tolist()
    cells = frame[ERRORS_COLUMN].to_numpy(dtype=object)
    labels = frame.index
    columns: dict[str, list] = {name: [] for name in ERRORS_TABLE_COLUMNS}
    for position in failed:
        label = labels[position]
        for error in cells[position]:
            columns["row"].append(label)
            columns["position"].append(position)
            columns["field"].append(field_name(error["loc"]))
            columns["type"].append(error["type"])
            columns["msg"].append(error["msg"])
            columns["input"].append(error["input"])
    table = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    table["position"] = table["position"].astype("int64")
    return table


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per field: ``field``, ``errors``, ``rows`` (rows affected), then a count per error type.

    Sorted by ``errors``, largest first.
    """
    table = errors_table(frame)
    by_type = pd.crosstab(table["field"], table["type"]) if len(table) else pd.DataFrame()
    summary = pd.DataFrame(
        {
            "errors": table.groupby("field").size(),
            "rows": table.groupby("field")["position"].nunique(),
        }
    ).join(by_type)
    summary = summary.rename_axis("field").reset_index()
    summary["field"] = summary["field"].astype(object)
    summary = summary.sort_values(["errors", "field"], ascending=[False, True], kind="stable")
    return summary.reset_index(drop=True).astype({name: "int64" for name in summary.columns if name != "field"})


def valid_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that passed, with the original columns only."""
    return original_columns(frame[valid_mask(frame)])


def invalid_rows(frame: pd.DataFrame, field: str | None = None, error_type: str | None = None) -> pd.DataFrame:
    """The rows that failed, with the original columns only.

    ``field`` (as in ``errors()``, e.g. ``"address.zip"``) and ``error_type`` (pydantic's
    ``type``) keep only the rows with such an error.
    """
    failed = ~valid_mask(frame)
    if field is not None or error_type is not None:
        cells = frame[ERRORS_COLUMN].to_numpy(dtype=object)
        for position in np.flatnonzero(failed).tolist():
            failed[position] = any(
                (field is None or field_name(error["loc"]) == field) and (error_type is None or error["type"] == error_type)
                for error in cells[position]
            )
    return original_columns(frame[failed])


def assert_valid(frame: pd.DataFrame, max_errors: int = 10) -> pd.DataFrame:
    """Return ``frame`` if every row passed, else raise ``DataValidationError``.

    The message lists the per-field counts and the first ``max_errors`` errors; the exception
    carries the full ``errors`` table and the ``summary``.
    """
    valid = valid_mask(frame)
    if valid.all():
        return frame
    errors = errors_table(frame)
    summary = summary_table(frame)
    model = frame.attrs.get("flowschema", {}).get("model")
    against = f" against {model}" if model else ""
    lines = [f"{int((~valid).sum())} of {len(valid)} rows failed validation{against}.", "Errors per field:"]
    lines += [f"  {row.field}: {row.errors} in {row.rows} rows" for row in summary.itertuples()]
    lines.append(f"First {min(max_errors, len(errors))} of {len(errors)} errors:")
    for error in errors.head(max_errors).itertuples():
        lines.append(f"  row {error.row!r}, {error.field}: {error.msg} [{error.type}; input: {error.input!r:.60}]")
    raise DataValidationError("\n".join(lines), errors, summary)
