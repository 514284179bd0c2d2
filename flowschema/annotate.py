"""Validate a DataFrame and return it annotated: the spine of ``df.flowschema.validate``.

DataFrame -> column chunks -> executor (``validate_chunk`` wherever it runs) -> per-row
outcomes, reassembled in input order -> the input frame plus ``_fs_valid`` and ``_fs_errors``.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import AliasChoices, BaseModel

from flowschema.errors import FlowSchemaError
from flowschema.executor import BaseExecutor, shared_executor
from flowschema.executor.base import check_chunksize, check_model
from flowschema.progress import check_progress, progress_bar
from flowschema.records import frame_chunks
from flowschema.validation import ValidationOptions

__all__ = ["ANNOTATION_PREFIX", "ERRORS_COLUMN", "VALID_COLUMN", "validate_frame"]

#: bool column: True where the row passed ``model_validate``
VALID_COLUMN = "_fs_valid"
#: object column: per row a tuple of pydantic error dicts (the shared empty tuple when valid)
ERRORS_COLUMN = "_fs_errors"
#: columns whose name starts with this are FlowSchema's own and are dropped before validating
ANNOTATION_PREFIX = "_fs_"


def validate_frame(
    frame: pd.DataFrame,
    model: type[BaseModel],
    executor: str | BaseExecutor = "sync",
    *,
    chunksize: int | None = None,
    coerce: bool = False,
    strict: bool | None = None,
    context: Any = None,
    progress: bool | str = "auto",
    dashboard: bool = False,
    **executor_options: Any,
) -> pd.DataFrame:
    """Validate every row of ``frame`` against ``model``; return the annotated frame.

    This is ``frame.flowschema.validate(...)``; see its docstring.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    model = check_model(model)
    chunksize = check_chunksize(chunksize)
    check_progress(progress)
    for name, flag in (("coerce", coerce), ("dashboard", dashboard)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    data = original_columns(frame)
    _check_unique_columns(data)
    runner, shared = _resolve_executor(executor, model, chunksize, executor_options)
    options = ValidationOptions(strict=strict, context=context, want_values=coerce)

    rows = len(data)
    valid = np.ones(rows, dtype=bool)
    errors = np.empty(rows, dtype=object)
    errors.fill(())
    values: list[dict | None] = [None] * rows if coerce else []
    started = time.perf_counter()
    bar = progress_bar(rows, progress, f"validating {model.__name__}")
    live = _show_live_dashboard(rows, model, runner) if dashboard else None
    done = 0
    try:
        for result in runner.map_chunks(frame_chunks(data, runner.chunksize_for(rows)), options):
            if result.start != done:
                raise FlowSchemaError(
                    f"{runner!r} returned rows {result.start}..{result.start + result.size - 1} "
                    f"when rows from {done} were due; no partial result is returned"
                )
            for offset, row_errors in result.failed.items():
                valid[result.start + offset] = False
                errors[result.start + offset] = row_errors
            if coerce:
                values[result.start : result.start + result.size] = result.values
            done += result.size
            bar.update(result.size)
            if live is not None:
                live.chunk_done(result)
    finally:
        bar.close()
        if not shared:
            runner.close()
    if done != rows:
        raise FlowSchemaError(f"{runner!r} returned {done} of {rows} rows; no partial result is returned")
    elapsed = time.perf_counter() - started

    annotated = data.copy(deep=False)
    if coerce:
        _coerce_columns(annotated, model, valid, values)
    annotated[VALID_COLUMN] = valid
    annotated[ERRORS_COLUMN] = errors
    annotated.attrs["flowschema"] = {
        "model": model.__name__,
        "executor": runner.name,
        "rows": rows,
        "invalid_rows": int(rows - valid.sum()),
        "elapsed_seconds": elapsed,
    }
    if live is not None:
        live.load(annotated)
    return annotated


def _show_live_dashboard(rows: int, model: type[BaseModel], runner: BaseExecutor):
    """Display an empty dashboard now; the caller feeds it chunks as they finish."""
    from IPython.display import display

    from flowschema.dashboard.widget import Dashboard

    live = Dashboard(total_rows=rows, metadata={"model": model.__name__, "executor": runner.name})
    display(live)
    return live


def original_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without FlowSchema's own ``_fs_`` columns (a new frame; data not copied)."""
    ours = [name for name in frame.columns if isinstance(name, str) and name.startswith(ANNOTATION_PREFIX)]
    return frame.drop(columns=ours) if ours else frame.copy(deep=False)


def _check_unique_columns(frame: pd.DataFrame) -> None:
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(
            f"column names must be unique to build one dict per row; duplicated: {duplicated}. "
            "Rename them first, e.g. df.columns = [...]"
        )


def _resolve_executor(
    executor: str | BaseExecutor, model: type[BaseModel], chunksize: int | None, options: dict[str, Any]
) -> tuple[BaseExecutor, bool]:
    if isinstance(executor, BaseExecutor):
        if executor.schema_model is not model:
            raise ValueError(
                f"the executor validates {executor.schema_model.__name__}, not {model.__name__}: "
                f"build it with {type(executor).__name__}({model.__name__}) or pass executor='{executor.name}'"
            )
        given = list(options) + (["chunksize"] if chunksize is not None else [])
        if given:
            raise TypeError(
                f"options {', '.join(map(repr, given))} cannot be combined with an executor instance: "
                "configure the instance instead"
            )
        return executor, True
    if not isinstance(executor, str):
        raise TypeError(f"executor must be a name such as 'sync' or an executor instance, got {executor!r}")
    if chunksize is not None:
        options = {"chunksize": chunksize, **options}
    return shared_executor(executor, model, options)


def _field_columns(model: type[BaseModel], columns: pd.Index) -> dict[str, Hashable]:
    """Map each model field to the frame column that feeds it (by alias, then by name)."""
    present = set(columns)
    mapping = {}
    for name, field in model.model_fields.items():
        candidates = [field.alias, name]
        if isinstance(field.validation_alias, str):
            candidates.insert(0, field.validation_alias)
        elif isinstance(field.validation_alias, AliasChoices):
            candidates[:0] = [choice for choice in field.validation_alias.choices if isinstance(choice, str)]
        column = next((candidate for candidate in candidates if candidate in present), None)
        if column is not None:
            mapping[name] = column
    return mapping


def _coerce_columns(frame: pd.DataFrame, model: type[BaseModel], valid: np.ndarray, values: list) -> None:
    """Put each valid row's validated values in the model's columns, then infer their dtypes."""
    positions = np.flatnonzero(valid).tolist()
    for field, column in _field_columns(model, frame.columns).items():
        cells = frame[column].to_numpy(dtype=object, copy=True)
        for position in positions:
            cells[position] = values[position][field]
        frame[column] = pd.Series(cells, dtype=object).infer_objects().array
