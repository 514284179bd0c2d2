"""Validate a DataFrame and return it annotated: the spine of ``df.flowschema.validate``.

DataFrame -> column chunks -> executor (``validate_chunk`` wherever it runs) -> per-row
outcomes, reassembled in input order -> the input frame plus ``_fs_valid`` and ``_fs_errors``.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
import warnings
from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from flowschema.chunk import Chunk, frame_chunk, sliced
from flowschema.coerce import coerce_columns
from flowschema.columnar import columnar_plan
from flowschema.errors import EngineError, FlowSchemaError
from flowschema.executor import BaseExecutor, shared_executor
from flowschema.executor.base import check_chunksize, check_model
from flowschema.fields import read_columns
from flowschema.progress import RunListener, check_progress, live_listener, progress_bar
from flowschema.readable import check_readable
from flowschema.rules import field_rules
from flowschema.validation import ChunkResult, ValidationOptions, check_engine

__all__ = [
    "ANNOTATION_PREFIX",
    "ERRORS_COLUMN",
    "PANDAS",
    "VALID_COLUMN",
    "FrameKind",
    "annotated_stream",
    "checked_frame",
    "frame_kind",
    "planned_engine",
    "validate_frame",
    "validate_iter",
    "validate_one",
]

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
    engine: str = "auto",
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
    model, options = check_arguments(model, chunksize, engine, coerce, strict, context, progress)
    return validate_one(PANDAS, _checked_columns(frame), "DataFrame", model, options, executor, chunksize,
                        executor_options, progress, dashboard)


def validate_one(kind: FrameKind, data: Any, source: str, model: type[BaseModel], options: ValidationOptions,
                 executor: str | BaseExecutor, chunksize: int | None, executor_options: dict[str, Any],
                 progress: bool | str, dashboard: Any) -> Any:
    """One frame of ``kind`` (its own columns only, checked) validated: its annotated result."""
    planned_engine(model, kind.labels(data), options)  # engine="columnar" that cannot be exact: say so now
    listener = live_listener(dashboard)
    run = _Run(model, executor, chunksize, executor_options, options, progress, listener)
    (annotated,) = run.start(kind.height(data), source, kind.labels(data)).annotated_frames([(kind, data)])
    if listener is not None:
        listener.run_finished(kind.as_pandas(annotated))
    return annotated


def validate_iter(
    frames: Iterable[pd.DataFrame],
    model: type[BaseModel],
    executor: str | BaseExecutor = "sync",
    *,
    chunksize: int | None = None,
    engine: str = "auto",
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
    listener = live_listener(dashboard)
    stream = annotated_stream(frames, model, executor, listener=listener, chunksize=chunksize, engine=engine,
                              coerce=coerce,
                              strict=strict, context=context, progress=progress, **executor_options)

    def annotated() -> Iterator[pd.DataFrame]:
        yield from stream
        if listener is not None:
            listener.run_finished(None)

    return annotated()


def annotated_stream(
    frames: Iterable[pd.DataFrame],
    model: type[BaseModel],
    executor: str | BaseExecutor = "sync",
    *,
    source: str = "stream",
    listener: RunListener | None = None,
    chunksize: int | None = None,
    engine: str = "auto",
    coerce: bool = False,
    strict: bool | None = None,
    context: Any = None,
    progress: bool | str = "auto",
    **executor_options: Any,
) -> Iterator[pd.DataFrame]:
    """``validate_iter`` for callers that tell ``listener`` the run's end themselves
    (``validate_file`` ends it with its failing-row sample). Arguments are checked at once."""
    frames = _frame_iterator(frames)
    model, options = check_arguments(model, chunksize, engine, coerce, strict, context, progress)
    run = _Run(model, executor, chunksize, executor_options, options, progress, listener).start(None, source)
    return run.annotated_frames(map(checked_frame, frames))


def _frame_iterator(frames: Any) -> Iterator:
    if type(frames).__name__ == "LazyFrame" and type(frames).__module__.startswith("polars"):
        raise TypeError("validate_iter takes an iterable of DataFrames, not a polars LazyFrame: collect it "
                        "(df = lf.collect()) and validate it whole, or pass its slices (df.iter_slices(100_000))")
    if isinstance(frames, pd.DataFrame) or type(frames).__module__.startswith("polars"):
        raise TypeError("validate_iter takes an iterable of DataFrames; for one DataFrame use df.flowschema.validate")
    try:
        return iter(frames)
    except TypeError:
        raise TypeError(f"validate_iter takes an iterable of DataFrames, got {type(frames).__name__}") from None


class _Run:
    """One validation run: the executor it uses, its progress bar and listener, its metadata."""

    def __init__(self, model: type[BaseModel], executor: str | BaseExecutor, chunksize: int | None,
                 executor_options: dict[str, Any], options: ValidationOptions, progress: bool | str,
                 listener: RunListener | None) -> None:
        self.model, self.executor, self.chunksize = model, executor, chunksize
        self.executor_options, self.options, self.progress, self.listener = executor_options, options, progress, listener
        self.runner: BaseExecutor | None = None
        self.shared = False
        self.total_rows: int | None = None
        self.metadata: dict = {}

    def start(self, total_rows: int | None, source: str, columns: pd.Index | None = None) -> _Run:
        """Tell the listener, then build (or find) the executor: Ray may take seconds to start."""
        self.total_rows = total_rows
        self.metadata = {"source": source, "started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        if self.listener is not None:
            fields = field_descriptions(self.model, columns if columns is not None else pd.Index([]))
            self.listener.run_started(total_rows, {
                "model": self.model.__name__, "executor": getattr(self.executor, "name", self.executor),
                **self.metadata, "fields": fields,
            })
        try:
            self.runner, self.shared = _resolve_executor(self.executor, self.model, self.chunksize,
                                                         self.executor_options)
        except BaseException as exc:
            self._failed(exc)
            raise
        if self.listener is not None:
            self.listener.executor_ready(self.runner.name)
        return self

    def annotated_frames(self, frames: Iterable[tuple[FrameKind, Any]]) -> Iterator[Any]:
        """Each frame (with its kind) annotated, in order; the executor is closed at the end unless shared."""
        bar = progress_bar(self.total_rows, self.progress, f"validating {self.model.__name__}")
        try:
            yield from _annotated_frames(frames, self.model, self.runner, self.options, bar, self.listener,
                                         self.metadata)
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._failed(exc)
            raise
        finally:
            bar.close()
            if not self.shared:
                self.runner.close()

    def _failed(self, exc: BaseException) -> None:
        if self.listener is not None:
            self.listener.run_failed(exc)


def check_arguments(model: Any, chunksize: Any, engine: Any, coerce: Any, strict: Any, context: Any,
                    progress: Any) -> tuple[type[BaseModel], ValidationOptions]:
    """Every option of a run checked before any work (a clear TypeError or ValueError), and the
    options every executor's chunks carry."""
    model = check_model(model)
    check_chunksize(chunksize)
    check_progress(progress)
    if not isinstance(coerce, bool):
        raise TypeError(f"coerce must be True or False, got {coerce!r}")
    if strict not in (None, True, False) or isinstance(strict, int) and not isinstance(strict, bool):
        raise TypeError(f"strict must be None (the model's own setting), True or False, got {strict!r}")
    check_engine(engine)
    return model, ValidationOptions(strict=strict, context=context, want_values=coerce, engine=engine)


def _checked_columns(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    return PANDAS.checked(frame)


def frame_kind(frame: Any) -> FrameKind:
    """The kind of ``frame``: pandas, or polars (with the polars extra); else a TypeError."""
    if isinstance(frame, pd.DataFrame):
        return PANDAS
    if type(frame).__name__ == "DataFrame" and type(frame).__module__.startswith("polars"):
        from flowschema.adapters.polars import POLARS

        return POLARS
    raise TypeError(f"expected a pandas or polars DataFrame, got {type(frame).__name__}")


def checked_frame(frame: Any) -> tuple[FrameKind, Any]:
    """A frame's kind, and its own columns (``_fs_`` ones dropped), checked for validation."""
    kind = frame_kind(frame)
    return kind, kind.checked(frame)


class FrameKind:
    """What a kind of frame (pandas, polars) needs from a run: its column labels and height, its
    rows as chunks, and the result built from the verdicts. The run itself knows no frame kind."""

    def checked(self, frame: Any) -> Any:
        """The frame's own columns (its ``_fs_`` ones dropped), refused with a clear error if a
        row could not be validated (duplicate names, cells no Python value holds)."""
        raise NotImplementedError

    def labels(self, frame: Any) -> pd.Index:
        raise NotImplementedError

    def height(self, frame: Any) -> int:
        raise NotImplementedError

    def whole(self, frame: Any, offset: int = 0) -> Chunk:
        """The frame's rows as one chunk, numbered from ``offset``, as the engine reads them."""
        raise NotImplementedError

    def chunks(self, frame: Any, chunksize: int, offset: int) -> Iterator[Chunk]:
        """The frame's rows in chunks of at most ``chunksize`` (slices of ``whole``: no copy)."""
        return sliced(self.whole(frame, offset), chunksize)

    def annotated(self, frame: Any, valid: np.ndarray, errors: np.ndarray, values: list | None,
                  model: type[BaseModel], facts: dict) -> Any:
        """``frame`` with ``_fs_valid`` and ``_fs_errors`` (and with ``values``, when ``coerce=True``
        asked for them, the validated values in the columns read), the run's ``facts`` attached."""
        raise NotImplementedError

    def as_pandas(self, annotated: Any) -> pd.DataFrame:
        """An annotated result as the pandas frame the dashboard reads (facts in ``attrs``)."""
        raise NotImplementedError


class _PandasFrames(FrameKind):
    def checked(self, frame: pd.DataFrame) -> pd.DataFrame:
        data = original_columns(frame)
        _check_unique_columns(data)
        check_readable(data)
        return data

    def labels(self, frame: pd.DataFrame) -> pd.Index:
        return frame.columns

    def height(self, frame: pd.DataFrame) -> int:
        return len(frame)

    def whole(self, frame: pd.DataFrame, offset: int = 0) -> Chunk:
        return frame_chunk(frame, offset)

    def annotated(self, frame: pd.DataFrame, valid: np.ndarray, errors: np.ndarray, values: list | None,
                  model: type[BaseModel], facts: dict) -> pd.DataFrame:
        annotated = frame.copy(deep=False)
        if values is not None:
            coerce_columns(annotated, model, valid, values)
        levels = [""] * (annotated.columns.nlevels - 1)  # MultiIndex columns: ("_fs_valid", "")
        with warnings.catch_warnings():  # a frame built column by column is "fragmented": the caller's, not ours
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            for name, column in ((VALID_COLUMN, valid), (ERRORS_COLUMN, errors)):  # ours: not copied
                annotated[(name, *levels) if levels else name] = pd.Series(column, index=annotated.index, copy=False)
        annotated.attrs["flowschema"] = facts
        return annotated

    def as_pandas(self, annotated: pd.DataFrame) -> pd.DataFrame:
        return annotated


#: pandas DataFrames
PANDAS = _PandasFrames()


class _Assembly:
    """One frame's outcomes, filled in chunk by chunk; rows ``start ..`` of the whole stream."""

    def __init__(self, data: Any, kind: FrameKind, start: int, coerce: bool, engine: str) -> None:
        self.data, self.kind, self.start, self.coerce, self.planned_engine = data, kind, start, coerce, engine
        self.engines: set[str] = set()
        rows = kind.height(data)
        self.valid = np.ones(rows, dtype=bool)
        self.errors = np.empty(rows, dtype=object)
        self.errors.fill(())
        self.values: list[dict | None] = [None] * rows if coerce else []
        self.done = 0
        self.started = time.perf_counter()

    @property
    def complete(self) -> bool:
        return self.done == len(self.valid)

    def add(self, result: ChunkResult) -> None:
        first = result.start - self.start
        if result.failed:
            positions = first + np.fromiter(result.failed, dtype=np.int64, count=len(result.failed))
            self.valid[positions] = False
            self.errors[positions] = np.fromiter(result.failed.values(), dtype=object, count=len(result.failed))
        if self.coerce:
            self.values[first : first + result.size] = result.values
        self.engines.add(result.engine)  # "rows" on a columnar plan: a validator read info.data
        self.done += result.size

    def annotated(self, model: type[BaseModel], runner: BaseExecutor, metadata: dict) -> Any:
        facts = {
            "model": model.__name__,
            "executor": runner.name,
            "rows": len(self.valid),
            "invalid_rows": int(len(self.valid) - self.valid.sum()),
            "elapsed_seconds": time.perf_counter() - self.started,
            "engine": "+".join(sorted(self.engines)) or self.planned_engine,
            **metadata,
            "fields": field_descriptions(model, self.kind.labels(self.data)),
        }
        return self.kind.annotated(self.data, self.valid, self.errors, self.values if self.coerce else None, model,
                                   facts)


def _annotated_frames(frames: Iterable[tuple[FrameKind, Any]], model: type[BaseModel], runner: BaseExecutor,
                      options: ValidationOptions, bar, listener: RunListener | None,
                      metadata: dict) -> Iterator[Any]:
    """Run ``frames`` through ``runner`` as one stream of chunks; yield each frame annotated as
    soon as all its rows are back. Chunks never span frames, and results come in order."""
    pending: deque[_Assembly] = deque()

    def chunks() -> Iterator[Chunk]:
        start = 0
        for kind, data in frames:
            engine = planned_engine(model, kind.labels(data), options)
            height = kind.height(data)
            pending.append(_Assembly(data, kind, start, options.want_values, engine))
            yield from kind.chunks(data, runner.chunksize_for(height, engine == "columnar"), start)
            start += height

    due = 0
    with _CollectorPause(active=not runner.in_process) as collector:
        for result in runner.map_chunks(chunks(), options):
            if result.start != due:
                raise FlowSchemaError(
                    f"{runner!r} returned rows {result.start}..{result.start + result.size - 1} "
                    f"when rows from {due} were due; no partial result is returned"
                )
            due += result.size
            while pending[0].complete:  # frames without rows
                yield from collector.resumed(pending.popleft().annotated(model, runner, metadata))
            pending[0].add(result)
            bar.update(result.size)
            if listener is not None:
                listener.chunk_done(result)
            if pending[0].complete:
                yield from collector.resumed(pending.popleft().annotated(model, runner, metadata))
    while pending:
        assembly = pending.popleft()
        if not assembly.complete:
            raise FlowSchemaError(
                f"{runner!r} returned {assembly.done} of {len(assembly.valid)} rows of a frame; "
                "no partial result is returned"
            )
        yield assembly.annotated(model, runner, metadata)


class _CollectorPause:
    """Pause the cyclic garbage collector (when ``active``) while the results of workers elsewhere
    are gathered, from the first chunk until a frame is complete; ``resumed`` yields a frame to
    the caller with the collector as the caller had it. Each result adds thousands of error
    dicts: re-enabling the collector after every chunk starts full collections over the whole
    heap again and again. Runs that validate in this process leave it alone (``validate_chunk``
    pauses it per chunk), so that the garbage of user validators is collected as it goes."""

    def __init__(self, active: bool) -> None:
        self.active = active and gc.isenabled()  # a caller who disabled it keeps it disabled

    def __enter__(self) -> _CollectorPause:
        if self.active:
            gc.disable()
        return self

    def resumed(self, frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
        if self.active:
            gc.enable()
        try:
            yield frame
        finally:
            if self.active:
                gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.active:
            gc.enable()


def original_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without FlowSchema's own ``_fs_`` columns (a new frame; data not copied)."""
    ours = [name for name in frame.columns if _is_annotation(name)]
    return frame.drop(columns=ours) if ours else frame.copy(deep=False)


def _is_annotation(name: Hashable) -> bool:
    """``"_fs_valid"``, or ``("_fs_valid", "")`` in a frame with MultiIndex columns."""
    if isinstance(name, tuple) and name:
        name, *rest = name
        if any(level != "" for level in rest):
            return False
    return isinstance(name, str) and name.startswith(ANNOTATION_PREFIX)


def planned_engine(model: type[BaseModel], columns: pd.Index, options: ValidationOptions) -> str:
    """The engine a frame with these columns runs on: ``"rows"`` when asked, or when the
    columnar engine would not be exact (then ``engine="columnar"`` is an ``EngineError``)."""
    if options.engine == "rows":
        return "rows"
    reason = columnar_plan(model, tuple(columns)).reason
    if reason is None:
        return "columnar"
    if options.engine == "columnar":
        raise EngineError(f"engine='columnar' cannot give model_validate's answer for {model.__name__}: {reason}. "
                          "Use engine='auto' (or 'rows'); flowschema.explain(model, df) shows each field's route")
    return "rows"


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


def field_descriptions(model: type[BaseModel], columns: pd.Index) -> list[dict]:
    """Per model field, in order: its name, the column it reads (None: none, its default
    applies or it is missing) and its rule as text, for the reports."""
    reads = read_columns(model, columns)
    return [{"field": name, "column": _json_label(reads.get(name)), "rule": rule}
            for name, rule in field_rules(model).items()]


def _json_label(label: Hashable) -> str | int | None:
    """A column label as attrs can keep it through Parquet (JSON): str and int as they are."""
    return label if label is None or type(label) in (str, int) else repr(label)
