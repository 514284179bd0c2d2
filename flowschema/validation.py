"""``validate_chunk``: the one pure function every executor runs.

It takes a model class and a chunk of rows, validates each row with the model's own
pydantic validator, and returns a small ``ChunkResult``: the offsets and errors of the rows
that failed, and the validated values only when the caller asked for them.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from flowschema.columnar import NotColumnar, columnar_plan, passing_rows
from flowschema.errors import EngineError
from flowschema.records import ColumnChunk, RecordChunk


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while a chunk is validated.

    Rows and their results are acyclic, but allocating hundreds of thousands of them triggers
    full collections that walk the caller's whole heap (slow in a notebook holding big
    frames). Garbage cycles a user validator makes are collected after the chunk.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["ENGINES", "ChunkResult", "ValidationOptions", "check_engine", "error_details", "validate_chunk"]

_JSON_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """Per-call settings passed through an executor to ``validate_chunk``.

    ``strict`` and ``context`` go to ``model_validate``; ``want_values`` asks for each valid
    row's ``model_dump()``.
    """

    strict: bool | None = None
    context: Any = None
    want_values: bool = False
    engine: str = "auto"


#: the values ``engine=`` takes: "auto" (columnar where exact, else rows), "columnar", "rows"
ENGINES = ("auto", "columnar", "rows")


def check_engine(engine: Any) -> str:
    """Return ``engine`` if it is one of ``ENGINES``, else raise a ValueError."""
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
    return engine


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What validating one chunk produced.

    ``failed`` maps the offset (within the chunk) of each failing row to its errors, in order;
    ``values`` holds, when values were asked for, one dict per row (None for failed rows): its
    ``model_dump()`` (from the columnar engine: the validated value of every field read from a
    column); else None. ``engine`` says which engine produced it.
    """

    start: int
    size: int
    failed: dict[int, tuple[dict, ...]]
    values: list[dict | None] | None = None
    engine: str = "rows"


def validate_chunk(
    model: type[BaseModel], chunk: ColumnChunk | RecordChunk, options: ValidationOptions = ValidationOptions()
) -> ChunkResult:
    """Validate every row of ``chunk`` against ``model``.

    A row is valid iff ``model.model_validate(row)`` succeeds. A non-pydantic exception raised
    by a user validator fails that row (error type ``"exception"``) instead of the chunk.
    ``options.engine`` picks how: ``"columnar"`` (each field's validator over its column, then
    ``model_validate`` on the failing rows only), ``"rows"`` (``model_validate`` on every row), or
    ``"auto"``: columnar where that is exact, else rows.

    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> result = validate_chunk(Point, RecordChunk(0, ({"x": 1}, {"x": "a"})))
    >>> list(result.failed), result.failed[1][0]["type"]
    ([1], 'int_parsing')
    """
    if options.engine != "rows" and isinstance(chunk, ColumnChunk):
        plan = columnar_plan(model, chunk.names, options.want_values)
        reason = plan.reason
        if reason is None:
            try:
                return _validate_columns(model, plan, chunk, options)
            except NotColumnar as exc:
                reason = str(exc)
        if options.engine == "columnar":
            raise EngineError(f"engine='columnar' cannot give model_validate's answer for {model.__name__}: "
                              f"{reason}. Use engine='auto' (or 'rows')")
    return _validate_rows(model, chunk.rows(), chunk.start, chunk.size, options)


def _validate_columns(model: type[BaseModel], plan, chunk: ColumnChunk, options: ValidationOptions) -> ChunkResult:
    """The columnar engine: fields over columns, then the failing rows whole for their errors."""
    with _gc_paused():
        passed, field_values = passing_rows(plan, chunk, options.strict, options.context, options.want_values)
        failing = np.flatnonzero(~passed)
        checked = _validate_rows(model, chunk.rows_at(failing), chunk.start, chunk.size, options, failing.tolist())
    values = None
    if options.want_values:
        names = list(field_values)
        columns = list(field_values.values())
        values = [dict(zip(names, row_values)) for row_values in zip(*columns)] if names else [{}] * chunk.size
        for offset, dumped in zip(failing.tolist(), checked.values):  # a row the fields failed, the model kept
            values[offset] = dumped
    return ChunkResult(chunk.start, chunk.size, checked.failed, values, "columnar")


def _validate_rows(model: type[BaseModel], rows: list[dict], start: int, size: int, options: ValidationOptions,
                   offsets: list[int] | None = None) -> ChunkResult:
    """``model_validate`` on each row; ``offsets`` says which rows of the chunk they are (all of
    them, in order, when None). ``values`` holds one per row given."""
    validate = model.__pydantic_validator__.validate_python
    strict, context = options.strict, options.context
    want_values = options.want_values
    failed: dict[int, tuple[dict, ...]] = {}
    values: list[dict | None] | None = [] if want_values else None
    with _gc_paused():
        for position, row in enumerate(rows):
            offset = position if offsets is None else offsets[position]
            try:
                instance = validate(row, strict=strict, context=context)
            except ValidationError as exc:
                failed[offset] = error_details(exc)
            except Exception as exc:  # a user validator raised something pydantic does not wrap
                failed[offset] = (_exception_error(exc, row),)
            else:
                if want_values:
                    values.append(instance.model_dump())
                continue
            if want_values:
                values.append(None)
    return ChunkResult(start, size, failed, values, "rows")


#: distinct error kinds remembered for sharing; beyond this many the memory starts over
_MAX_KINDS = 65_536
_kinds: dict[tuple, tuple] = {}


def _shared_kind(error_type: str, loc: list, msg: str, ctx: dict | None) -> tuple:
    """One ``(type, loc, msg, ctx)`` object set per distinct error kind, shared by every error of
    that kind: a million failing rows hold one copy of each message, not a million."""
    ctx_items = None if ctx is None else tuple((key, _json_safe(value)) for key, value in ctx.items())
    key = (error_type, tuple(loc), msg, ctx_items)
    try:
        kind = _kinds.get(key)
    except TypeError:  # an unhashable loc part: nothing shared, nothing lost
        return key[0], key[1], msg, None if ctx_items is None else dict(ctx_items)
    if kind is None:
        if len(_kinds) >= _MAX_KINDS:
            _kinds.clear()
        kind = _kinds[key] = (key[0], key[1], msg, None if ctx_items is None else dict(ctx_items))
    return kind


def _json_safe(value: Any) -> Any:
    return value if isinstance(value, _JSON_SCALARS) else str(value)


def error_details(exc: ValidationError) -> tuple[dict, ...]:
    """pydantic's error dicts for one row, made small and JSON-safe.

    Keeps ``type``, ``loc``, ``msg``, ``input`` and ``ctx`` (when present, with values that
    are not JSON scalars turned into strings). A ``missing`` error's ``input`` is None rather
    than the whole row. Errors of one kind share their ``type``, ``loc``, ``msg`` and ``ctx``
    objects (treat them as read-only).
    """
    details = []
    for error in exc.errors(include_url=False):
        error_type, loc, msg, ctx = _shared_kind(error["type"], error["loc"], error["msg"], error.get("ctx"))
        detail = {"type": error_type, "loc": loc, "msg": msg, "input": None if error_type == "missing" else error["input"]}
        if ctx is not None:
            detail["ctx"] = ctx
        details.append(detail)
    return tuple(details)


def _exception_error(exc: Exception, row: dict) -> dict:
    return {
        "type": "exception",
        "loc": (),
        "msg": f"{type(exc).__name__}: {exc}",
        "input": row,
    }
