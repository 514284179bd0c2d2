"""Validate a DataFrame and return it annotated: the spine of ``df.flowschema.validate``.

DataFrame -> column chunks -> executor (``validate_chunk`` wherever it runs) -> per-row
outcomes, reassembled in input order -> the input frame plus ``_fs_valid`` and ``_fs_errors``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from pydantic import AliasChoices, BaseModel

from flowschema.errors import FlowSchemaError
from flowschema.executor import BaseExecutor, shared_executor
from flowschema.executor.base import check_chunksize, check_model
from flowschema.progress import check_progress, progress_bar
from flowschema.records import ColumnChunk, frame_chunks
from flowschema.validation import ChunkResult, ValidationOptions

__all__ = ["ANNOTATION_PREFIX", "ERRORS_COLUMN", "VALID_COLUMN", "validate_frame", "validate_iter"]

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
    dashboard: Any = False,
    **executor_options: Any,
) -> pd.DataFrame:
    """Validate every row of ``frame`` against ``model``; return the annotated frame.

    This is ``frame.flowschema.validate(...)``; see its docstring.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    model, options = _check_arguments(model, chunksize, coerce, strict, context, progress)
    data = _checked_columns(frame)
    runner, shared = _resolve_executor(executor, model, chunksize, executor_options)
    bar = progress_bar(len(data), progress, f"validating {model.__name__}")
    live = _live_dashboard(dashboard, len(data), model, runner)
    try:
        (annotated,) = _annotated_frames([data], model, runner, options, bar, live)
    finally:
        bar.close()
        if not shared:
            runner.close()
    if live is not None:
        live.load(annotated)
    return annotated


def validate_iter(
    frames: Iterable[pd.DataFrame],
    model: type[BaseModel],
    executor: str | BaseExecutor = "sync",
    *,
    chunksize: int | None = None,
    coerce: bool = False,
    strict: bool | None = None,
    context: Any = None,
    progress: bool | str = "auto",
    dashboard: Any = False,
    **executor_options: Any,
) -> Iterator[pd.DataFrame]:
    """Validate a stream of frames lazily: one annotated frame per input frame, in order.

    Takes any iterable of DataFrames, such as ``pd.read_csv(path, chunksize=100_000)``; only
    a bounded number of chunks is in flight on any executor, so memory stays bounded however
    long the stream. Each yielded frame keeps its input's index; concatenating them equals
    validating the concatenated input. Arguments are checked at once; the options are those of
    ``df.flowschema.validate`` (``dashboard=True`` shows live counts over the whole stream).

    >>> import pandas as pd
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> frames = (pd.DataFrame({"x": [1, "a"]}, dtype=object), pd.DataFrame({"x": [2]}))
    >>> [checked[VALID_COLUMN].tolist() for checked in validate_iter(frames, Point)]
    [[True, False], [True]]
    """
    model, options = _check_arguments(model, chunksize, coerce, strict, context, progress)
    runner, shared = _resolve_executor(executor, model, chunksize, executor_options)

    live = _live_dashboard(dashboard, None, model, runner)

    def annotated() -> Iterator[pd.DataFrame]:
        bar = progress_bar(None, progress, f"validating {model.__name__}")
        try:
            yield from _annotated_frames(map(_checked_columns, frames), model, runner, options, bar, live)
        finally:
            bar.close()
            if not shared:
                runner.close()

    return annotated()


def _check_arguments(model: Any, chunksize: Any, coerce: Any, strict: Any, context: Any,
                     progress: Any) -> tuple[type[BaseModel], ValidationOptions]:
    model = check_model(model)
    check_chunksize(chunksize)
    check_progress(progress)
    if not isinstance(coerce, bool):
        raise TypeError(f"coerce must be True or False, got {coerce!r}")
    return model, ValidationOptions(strict=strict, context=context, want_values=coerce)


def _checked_columns(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    data = original_columns(frame)
    _check_unique_columns(data)
    return data


class _Assembly:
    """One frame's outcomes, filled in chunk by chunk; rows ``start ..`` of the whole stream."""

    def __init__(self, data: pd.DataFrame, start: int, coerce: bool) -> None:
        self.data, self.start, self.coerce = data, start, coerce
        rows = len(data)
        self.valid = np.ones(rows, dtype=bool)
        self.errors = np.empty(rows, dtype=object)
        self.errors.fill(())
        self.values: list[dict | None] = [None] * rows if coerce else []
        self.done = 0
        self.started = time.perf_counter()

    @property
    def complete(self) -> bool:
        return self.done == len(self.data)

    def add(self, result: ChunkResult) -> None:
        first = result.start - self.start
        for offset, row_errors in result.failed.items():
            self.valid[first + offset] = False
            self.errors[first + offset] = row_errors
        if self.coerce:
            self.values[first : first + result.size] = result.values
        self.done += result.size

    def annotated(self, model: type[BaseModel], runner: BaseExecutor) -> pd.DataFrame:
        annotated = self.data.copy(deep=False)
        if self.coerce:
            _coerce_columns(annotated, model, self.valid, self.values)
        annotated[VALID_COLUMN] = self.valid
        annotated[ERRORS_COLUMN] = self.errors
        annotated.attrs["flowschema"] = {
            "model": model.__name__,
            "executor": runner.name,
            "rows": len(self.valid),
            "invalid_rows": int(len(self.valid) - self.valid.sum()),
            "elapsed_seconds": time.perf_counter() - self.started,
        }
        return annotated


def _annotated_frames(frames: Iterable[pd.DataFrame], model: type[BaseModel], runner: BaseExecutor,
                      options: ValidationOptions, bar, live=None) -> Iterator[pd.DataFrame]:
    """Run ``frames`` through ``runner`` as one stream of chunks; yield each frame annotated as
    soon as all its rows are back. Chunks never span frames, and results come in order."""
    pending: deque[_Assembly] = deque()

    def chunks() -> Iterator[ColumnChunk]:
        start = 0
        for data in frames:
            pending.append(_Assembly(data, start, options.want_values))
            yield from frame_chunks(data, runner.chunksize_for(len(data)), start)
            start += len(data)

    due = 0
    for result in runner.map_chunks(chunks(), options):
        if result.start != due:
            raise FlowSchemaError(
                f"{runner!r} returned rows {result.start}..{result.start + result.size - 1} "
                f"when rows from {due} were due; no partial result is returned"
            )
        due += result.size
        while pending[0].complete:  # frames without rows
            yield pending.popleft().annotated(model, runner)
        pending[0].add(result)
        bar.update(result.size)
        if live is not None:
            live.chunk_done(result)
        if pending[0].complete:
            yield pending.popleft().annotated(model, runner)
    while pending:
        assembly = pending.popleft()
        if not assembly.complete:
            raise FlowSchemaError(
                f"{runner!r} returned {assembly.done} of {len(assembly.data)} rows of a frame; "
                "no partial result is returned"
            )
        yield assembly.annotated(model, runner)


def _live_dashboard(dashboard: Any, rows: int | None, model: type[BaseModel], runner: BaseExecutor):
    """The dashboard to feed chunks as they finish: None for ``False``, a new one displayed now
    for ``True``, or the ``Dashboard`` given (an app shows it where it wants)."""
    from flowschema.dashboard.widget import Dashboard

    if dashboard is False:
        return None
    if isinstance(dashboard, Dashboard):
        return dashboard
    if dashboard is not True:
        raise TypeError(f"dashboard must be True, False or a flowschema Dashboard widget, got {dashboard!r}")
    from IPython.display import display

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
