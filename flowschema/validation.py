"""``validate_chunk``: the one pure function every executor runs.

It takes a model class and a chunk of rows, validates each row with the model's own
pydantic validator, and returns a small ``ChunkResult``: the offsets and errors of the rows
that failed, and the validated values only when the caller asked for them.
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from flowschema.chunk import Chunk
from flowschema.columnar import NotColumnar, columnar_plan, passing_rows
from flowschema.details import error_details, exception_error
from flowschema.errors import EngineError
from flowschema.packed import PackedErrors


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a chunk is validated (or its result decoded).

    Rows, errors and their results are acyclic, but allocating hundreds of thousands of them
    triggers full collections that walk the caller's whole heap (slow in a notebook holding big
    frames). Garbage cycles a user validator makes are collected after the chunk.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["ENGINES", "ChunkResult", "ValidationOptions", "check_engine", "gc_paused", "validate_chunk"]



@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """Per-call settings passed through an executor to ``validate_chunk``.

    ``strict`` and ``context`` go to ``model_validate``; ``want_values`` asks for each valid
    row's validated field values (what ``getattr(instance, name)`` holds: ``coerce=True``), or
    with ``dump_values`` its ``model_dump()`` (``executor.run()``'s ``validated_data``).
    """

    strict: bool | None = None
    context: Any = None
    want_values: bool = False
    engine: str = "auto"
    dump_values: bool = False


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
    validated field values (from the columnar engine: those of the fields read from a column),
    or its ``model_dump()`` when ``dump_values`` asked for it; else None. ``engine`` says which
    engine produced it. ``packed``: the columnar engine's errors as a worker sends them, when
    ``validate_chunk`` was asked for them so (``failed`` is then empty).
    """

    start: int
    size: int
    failed: dict[int, tuple[dict, ...]]
    values: list[dict | None] | None = None
    engine: str = "rows"
    packed: PackedErrors | None = None


def validate_chunk(
    model: type[BaseModel], chunk: Chunk, options: ValidationOptions = ValidationOptions(),
    packed: bool = False,
) -> ChunkResult:
    """Validate every row of ``chunk`` against ``model``.

    A row is valid iff ``model.model_validate(row)`` succeeds. A non-pydantic exception raised
    by a user validator fails that row (error type ``"exception"``) instead of the chunk.
    ``options.engine`` picks how: ``"columnar"`` (each field's validator over its column, then
    ``model_validate`` on the failing rows only), ``"rows"`` (``model_validate`` on every row), or
    ``"auto"``: columnar where that is exact, else rows. ``packed`` (for a worker sending the
    result on): the columnar engine's errors as ``PackedErrors``, not put together row by row.

    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> from flowschema.chunk import records_chunk
    >>> result = validate_chunk(Point, records_chunk(0, ({"x": 1}, {"x": "a"})))
    >>> list(result.failed), result.failed[1][0]["type"]
    ([1], 'int_parsing')
    """
    if options.engine != "rows" and not options.dump_values and chunk.records is None:
        plan = columnar_plan(model, chunk.names)
        reason = plan.reason
        if reason is None:
            try:
                with gc_paused():
                    return _validate_columns(model, plan, chunk, options, packed)
            except NotColumnar as exc:
                reason = str(exc)
        if options.engine == "columnar":
            raise EngineError(f"engine='columnar' cannot give model_validate's answer for {model.__name__}: "
                              f"{reason}. Use engine='auto' (or 'rows')")
    return _validate_rows(model, chunk.rows(), chunk.start, chunk.size, options)


def _validate_columns(model: type[BaseModel], plan, chunk: Chunk, options: ValidationOptions,
                      packed: bool) -> ChunkResult:
    """The columnar engine: each field's validator over its column, then each failing row's
    errors, exactly as ``model_validate`` gives them.

    No validator sees more than its own field, so a failing row's errors are its fields' errors
    in field order, each ``loc`` prefixed with the column the field read: they are put together
    from the errors each distinct value got (rows failing alike share them). Rows missing a
    required column are validated whole once per group of rows failing alike; rows whose value
    made a validator raise something pydantic does not wrap (their error holds the whole row) are
    validated whole one by one.
    """
    verdicts = passing_rows(plan, chunk, options.strict, options.context, options.want_values)
    failing, failures = verdicts.failures()
    whole, grouped = _rows_validated_whole(plan, verdicts, failures)
    composed = ~(whole | grouped)
    one_by_one = failing[whole].tolist()
    alone = _validate_rows(model, chunk.rows_at(failing[whole]), chunk.start, chunk.size, options, one_by_one)
    validated_whole = {**_errors_by_group(model, chunk, options, failing[grouped], failures[grouped]), **alone.failed}
    if packed:
        errors = PackedErrors.of_fields([outcome.errors for outcome in verdicts.outcomes], failing[composed],
                                        failures[composed], validated_whole)
        failed, failed_offsets = {}, errors.offsets.tolist()
    else:
        errors = None
        failed = _composed_errors(verdicts, failing[composed], failures[composed])
        if validated_whole:  # the composed rows are in order already
            failed = dict(sorted({**failed, **validated_whole}.items()))
        failed_offsets = list(failed)
    values = None
    if options.want_values:
        names = list(verdicts.values)
        columns = list(verdicts.values.values())
        values = [dict(zip(names, row_values)) for row_values in zip(*columns)] if names else [{}] * chunk.size
        for offset in failed_offsets:
            values[offset] = None
        for offset, dumped in zip(one_by_one, alone.values):  # a row the fields failed, the model kept
            values[offset] = dumped
    return ChunkResult(chunk.start, chunk.size, failed, values, "columnar", errors)


def _rows_validated_whole(plan, verdicts, failures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Among the failing rows: those whose value made a validator raise (validated whole, one by
    one), and those missing a required column (validated whole, once per group)."""
    whole = np.zeros(len(failures), dtype=bool)
    grouped = np.zeros(len(failures), dtype=bool)
    for number, (route, outcome) in enumerate(zip(plan.routes, verdicts.outcomes)):
        codes = failures[:, number]
        if route.route == "missing":
            grouped |= codes >= 0
        elif outcome.raised:
            whole |= np.isin(codes, list(outcome.raised))
    return whole, grouped & ~whole


def _composed_errors(verdicts, offsets: np.ndarray, failures: np.ndarray) -> dict[int, tuple[dict, ...]]:
    """Each row's errors from its fields' errors, in field order: the tuple is put together once
    per combination of rejected values and shared by the rows failing with it (a reference per
    row, whatever the number of its errors)."""
    if not len(offsets):
        return {}
    first, group_of = _combinations(failures)
    outcomes = verdicts.outcomes
    composed = [tuple(error for outcome, code in zip(outcomes, combination) if code >= 0
                      for error in outcome.errors[code]) for combination in failures[first].tolist()]
    return dict(zip(offsets.tolist(), map(composed.__getitem__, group_of.tolist())))


def _combinations(failures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``failures`` (per row and field the rejected code, -1 for none): the
    first row holding each, and per row the number of its combination. Each row is read as one
    number (its codes as digits, each field's base one more than its largest code plus one) where
    that fits in 62 bits, which sorts far faster than rows of codes do.

    >>> failures = np.array([[0, -1], [5, 2], [0, -1], [2**40, 2**40], [5, 2]])
    >>> _combinations(failures[:3])[1].tolist()  # small codes: one number per row
    [0, 1, 0]
    >>> _combinations(failures)[1].tolist()  # codes of 2**40 in two fields: rows of codes
    [0, 1, 0, 2, 1]
    """
    bases = [int(largest) + 2 for largest in failures.max(axis=0, initial=-1)]
    if math.prod(bases) < 2**62:
        weights = np.array([math.prod(bases[:position]) for position in range(len(bases))], dtype=np.int64)
        _, first, group_of = np.unique((failures + 1) @ weights, return_index=True, return_inverse=True)
    else:
        _, first, group_of = np.unique(failures, axis=0, return_index=True, return_inverse=True)
    return first, group_of.reshape(-1)


def _errors_by_group(model: type[BaseModel], chunk: Chunk, options: ValidationOptions, offsets: np.ndarray,
                     failures: np.ndarray) -> dict[int, tuple[dict, ...]]:
    """``model_validate`` once per group of rows failing alike, its errors shared by the group's rows."""
    if not len(offsets):
        return {}
    first, group_of = _combinations(failures)
    representatives = offsets[first]
    checked = _validate_rows(model, chunk.rows_at(representatives), chunk.start, chunk.size, options,
                             representatives.tolist())
    errors_of = [checked.failed[int(offset)] for offset in representatives]
    return dict(zip(offsets.tolist(), map(errors_of.__getitem__, group_of.tolist())))


def _validate_rows(model: type[BaseModel], rows: list[dict], start: int, size: int, options: ValidationOptions,
                   offsets: list[int] | None = None) -> ChunkResult:
    """``model_validate`` on each row; ``offsets`` says which rows of the chunk they are (all of
    them, in order, when None). ``values`` holds one per row given."""
    validate = model.__pydantic_validator__.validate_python
    strict, context = options.strict, options.context
    want_values, dump = options.want_values, options.dump_values
    failed: dict[int, tuple[dict, ...]] = {}
    values: list[dict | None] | None = [] if want_values else None
    with gc_paused():
        for position, row in enumerate(rows):
            offset = position if offsets is None else offsets[position]
            try:
                instance = validate(row, strict=strict, context=context)
            except ValidationError as exc:
                failed[offset] = error_details(exc)
            except Exception as exc:  # a user validator raised something pydantic does not wrap
                failed[offset] = (exception_error(exc, row),)
            else:
                if want_values:
                    values.append(instance.model_dump() if dump else instance.__dict__)
                continue
            if want_values:
                values.append(None)
    return ChunkResult(start, size, failed, values, "rows")
