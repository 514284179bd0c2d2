"""The columnar engine: each model field's own pydantic validator over the column that feeds it.

A row is valid iff ``model_validate`` accepts it. When a model can be taken apart per field (no
validator sees the whole row), that is the same as: every field's validator accepts the row's
cell. So for each field the engine takes the field's core schema from
``Model.__pydantic_core_schema__``, builds it into a ``pydantic_core.SchemaValidator`` for a
list of values (with the model's config and definitions), and runs it over the distinct values
of the column that feeds the field — pydantic's own rules, called in bigger batches. The verdict
of each distinct value is mapped back to the rows through the column's codes. Rows that fail
any field are then validated whole by ``model_validate`` (they are few) for pydantic's exact
error tuples; that happens in ``flowschema.validation``.

Exact by construction, and only where it is: ``columnar_plan`` says per model and columns why
the engine cannot be used (a model validator, a ``default_factory`` reading other fields,
extra columns under ``extra="forbid"``...), and a field validator that reads ``info.data`` (the
other fields) is caught when it reads it: the run then goes on the rows engine. Distinct values
are told apart by type and value, exactly (``1``, ``1.0``, ``True`` and ``"1"`` are four
values; so are ``-0.0`` and ``0.0``). Field validators are assumed to be pure functions of
their value and ``info.context``: each runs once per distinct value, not once per row.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Hashable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator, core_schema

from flowschema.chunk import Chunk
from flowschema.details import error_detail
from flowschema.distinct import distinct_values
from flowschema.fields import ModelSchema, field_paths, model_schema
from flowschema.screens import Screen, screen_for
from flowschema.threads import in_threads

__all__ = [
    "ColumnVerdicts",
    "ColumnarPlan",
    "FieldRoute",
    "NotColumnar",
    "columnar_plan",
    "explain",
    "passing_rows",
]

_WRAPPER_REASONS = {
    "function-before": "a model_validator(mode='before') can change the whole row before the fields see it",
    "function-wrap": "a model_validator(mode='wrap') sees the whole row",
    "function-after": "a model_validator(mode='after') checks the whole instance",
    "function-plain": "a model_validator(mode='plain') replaces the model's own validation",
}
_FIELD_FUNCTIONS = ("function-before", "function-after", "function-wrap", "function-plain")


class NotColumnar(Exception):
    """The columnar engine cannot give ``model_validate``'s answer here; the message says why."""


@dataclass(frozen=True)
class FieldRoute:
    """How one field is checked: ``column`` (None if absent), ``route`` and ``why``.

    Routes: ``"distinct values"`` (the field validator over the column's distinct values),
    ``"default"`` (no column: the default applies), ``"missing"`` (no column and no default:
    every row fails), ``"rows"`` (the model runs on the rows engine).
    """

    field: str
    column: Hashable | None
    route: str
    why: str
    validator: SchemaValidator | None = None
    position: int | None = None
    loc: tuple = ()
    screen: Screen | None = None
    tripwire: _Tripwire | None = None


@dataclass(frozen=True)
class ColumnarPlan:
    """The per-field routes for one model and one set of columns, or the reason none fits."""

    model: type[BaseModel]
    routes: tuple[FieldRoute, ...]
    reason: str | None


def columnar_plan(model: type[BaseModel], columns: Sequence[Hashable]) -> ColumnarPlan:
    """How the columnar engine would validate ``model`` over a frame with these ``columns``.

    >>> from pydantic import BaseModel, Field
    >>> class Point(BaseModel):
    ...     x: int = Field(ge=0)
    >>> columnar_plan(Point, ["x"]).reason is None
    True
    """
    return _plan(model, tuple(columns))


@lru_cache(maxsize=256)
def _plan(model: type[BaseModel], columns: tuple) -> ColumnarPlan:
    taken = model_schema(model)
    reason = _model_reason(model, taken)
    if reason is not None:
        return _rows_plan(model, columns, reason)
    positions = {name: position for position, name in enumerate(columns)}
    read = set()
    routes = []
    for name, paths in field_paths(model).items():
        schema = taken.fields[name]["schema"]
        first = next((path for path in paths if path[0] in positions), None)
        if first is not None and len(first) > 1:
            return _rows_plan(model, columns, f"field {name!r} reads a value inside column {first[0]!r} (AliasPath)")
        if first is None:
            route = _absent_route(name, schema, taken)
            if isinstance(route, str):
                return _rows_plan(model, columns, route)
            routes.append(route)
            continue
        read.add(first[0])
        screen = screen_for(schema, taken.config)
        why = "the field's own pydantic validator, once per distinct value"
        if screen is not None:
            why = f"{screen.describe()}; the field's own validator on the other values"
        loc = (first[0],) if taken.config.get("loc_by_alias", True) else (name,)
        validator, tripwire = _list_validator(taken, name)
        routes.append(FieldRoute(name, first[0], "screen" if screen else "distinct values", why, validator,
                                 positions[first[0]], loc, screen, tripwire))
    extra = [column for column in columns if column not in read]
    extra_mode = taken.config.get("extra_fields_behavior", "ignore")
    if extra and extra_mode != "ignore":
        return _rows_plan(model, columns, f"extra={extra_mode!r} and the frame has columns no field reads "
                                          f"({', '.join(map(repr, extra[:3]))}{'...' if len(extra) > 3 else ''})")
    return ColumnarPlan(model, tuple(routes), None)


def _model_reason(model: type[BaseModel], taken: ModelSchema) -> str | None:
    """Why ``model`` as a whole cannot be taken apart per field, or None."""
    if taken.root:
        return "a RootModel (or a model whose core schema is not a set of fields)"
    for wrapper in taken.wrappers:
        return _WRAPPER_REASONS.get(wrapper, f"a {wrapper} schema around the model")
    model_core = _model_core_schema(model)
    if model_core.get("post_init"):
        return "model_post_init runs on the whole instance"
    if model_core.get("custom_init"):
        return "a custom __init__ sees the whole row"
    if taken.extras_schema is not None:
        return "extra values are validated (__pydantic_extra__ has a type)"
    return None


def _model_core_schema(model: type[BaseModel]) -> dict:
    schema = model.__pydantic_core_schema__
    definitions = {item["ref"]: item for item in schema.get("definitions", ())} if schema["type"] == "definitions" else {}
    while schema["type"] in ("definitions", "definition-ref") or schema["type"].startswith("function-"):
        schema = definitions[schema["schema_ref"]] if schema["type"] == "definition-ref" else schema["schema"]
    return schema


def _absent_route(name: str, schema: dict, taken: ModelSchema) -> FieldRoute | str:
    """The route of a field with no column, or why the model must run on rows."""
    if schema.get("type") != "default":
        return FieldRoute(name, None, "missing", "no column feeds it and it has no default: every row fails")
    if schema.get("default_factory_takes_data"):
        return f"field {name!r} has no column and its default_factory reads the other fields"
    if schema.get("validate_default") or taken.config.get("validate_default"):
        return f"field {name!r} has no column and its default is validated (validate_default)"
    return FieldRoute(name, None, "default", "no column feeds it: its default applies, as in model_validate")


def _rows_plan(model: type[BaseModel], columns: tuple, reason: str) -> ColumnarPlan:
    positions = {name: position for position, name in enumerate(columns)}
    paths = field_paths(model)
    routes = []
    for name in model.model_fields:  # a RootModel's "root" too
        first = next((path for path in paths.get(name, ()) if path[0] in positions), None)
        routes.append(FieldRoute(name, first[0] if first else None, "rows", reason))
    return ColumnarPlan(model, tuple(routes), reason)


# -- field validators --------------------------------------------------------------------------


class _ReadsOtherFields(BaseException):
    """A field validator read ``info.data``: it depends on the other fields of the row. A
    ``BaseException``, so that a validator's own ``except Exception`` does not swallow it."""


class _Tripwire:
    """Set when a field validator reads ``info.data``, whatever the validator then does with the
    exception it got (an ``except BaseException`` could swallow it): checked after every call."""

    __slots__ = ("tripped",)

    def __init__(self) -> None:
        self.tripped: str | None = None


class _FieldInfo:
    """What a field validator sees as ``info`` when run over a column: the field's name, the
    context and config as in ``model_validate``; reading ``data`` (the other fields) stops the
    columnar engine, which cannot give them."""

    __slots__ = ("_info", "_tripwire", "field_name")

    def __init__(self, info: Any, field_name: str, tripwire: _Tripwire) -> None:
        self._info, self.field_name, self._tripwire = info, field_name, tripwire

    @property
    def data(self) -> Any:
        self._tripwire.tripped = self.field_name
        raise _ReadsOtherFields(self.field_name)

    @property
    def context(self) -> Any:
        return self._info.context

    @property
    def config(self) -> Any:
        return self._info.config

    @property
    def mode(self) -> str:
        return self._info.mode


def _guarded(function_schema: dict, kind: str, field_name: str, tripwire: _Tripwire) -> dict:
    """A with-info validator function wrapped so that its ``info`` is a ``_FieldInfo``."""
    user_function = function_schema["function"]
    if kind == "function-wrap":
        def call(value, handler, info):
            return user_function(value, handler, _FieldInfo(info, field_name, tripwire))
    else:
        def call(value, info):
            return user_function(value, _FieldInfo(info, field_name, tripwire))
    return {**function_schema, "function": call}


def _with_guards(schema: Any, field_name: str, tripwire: _Tripwire) -> Any:
    """A copy of a field's schema whose with-info validators get a ``_FieldInfo``; nested models
    keep theirs (pydantic gives them their own data), and serializers play no part."""
    if isinstance(schema, list):
        return [_with_guards(item, field_name, tripwire) for item in schema]
    if not isinstance(schema, dict) or schema.get("type") == "model":
        return schema
    copied = {key: value if key in _NOT_VALIDATION else _with_guards(value, field_name, tripwire)
              for key, value in schema.items()}
    function = copied.get("function")
    if copied.get("type") in _FIELD_FUNCTIONS and isinstance(function, dict) and function.get("type") == "with-info":
        copied["function"] = _guarded(function, copied["type"], field_name, tripwire)
    return copied


_NOT_VALIDATION = ("metadata", "serialization")


def _list_validator(taken: ModelSchema, name: str) -> tuple[SchemaValidator, _Tripwire]:
    """pydantic's validator for a list of values of field ``name``, with the model's config, and
    the tripwire its validators set when they read ``info.data``."""
    tripwire = _Tripwire()
    schema = core_schema.list_schema(_with_guards(taken.fields[name]["schema"], name, tripwire))
    if taken.definitions:
        schema = core_schema.definitions_schema(schema, list(taken.definitions.values()))
    return SchemaValidator(schema, taken.config or None), tripwire


# -- running a plan ------------------------------------------------------------------------------


@dataclass
class FieldOutcome:
    """One field over one chunk: per rejected code the field's errors (loc prefixed as
    ``model_validate`` does) or, in ``raised``, the codes whose validation raised something
    pydantic does not wrap."""

    errors: dict[int, tuple[dict, ...]] = field(default_factory=dict)
    raised: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class ColumnVerdicts:
    """What the fields' validators said of a chunk's rows.

    ``passed``: rows every field accepts. ``rejected``: per field, the rows it rejected
    (ascending) and the code of the distinct value each held (None if it accepted every row): no
    validator sees more than its own field, so a failing row's errors are its fields' errors, in
    field order (``outcomes``). ``values``: per field read from a column, its validated value per
    row (when asked for).
    """

    passed: np.ndarray
    rejected: list[tuple[np.ndarray, np.ndarray] | None]
    outcomes: list[FieldOutcome]
    values: dict[str, list] | None

    def failures(self) -> tuple[np.ndarray, np.ndarray]:
        """The failing rows (ascending), and per failing row and field the code of the value the
        field rejected (-1 where it accepted)."""
        failing = np.flatnonzero(~self.passed)
        table = np.full((len(failing), len(self.rejected)), -1, dtype=np.int64)
        for number, rejected in enumerate(self.rejected):
            if rejected is not None:
                rows, codes = rejected
                table[np.searchsorted(failing, rows), number] = codes
        return failing, table


def passing_rows(plan: ColumnarPlan, chunk: Chunk, strict: bool | None, context: Any,
                 want_values: bool, threaded: bool = True) -> ColumnVerdicts:
    """Run each field's validator over its column's distinct values (after a screen, where one
    is exact); see ``ColumnVerdicts``. Raises ``NotColumnar`` if a validator reads the other
    fields. The columns are screened and deduplicated a few ahead, in the threads of
    ``flowschema.threads`` (unless ``threaded`` is false or the chunk is small); the validators run
    in this thread, in field order."""
    passed = np.ones(chunk.size, dtype=bool)
    rejected_by_field: list[tuple[np.ndarray, np.ndarray] | None] = []
    values: dict[str, list] | None = {} if want_values else None
    outcomes = []
    read = [route for route in plan.routes if route.validator is not None]
    with closing(in_threads(lambda route: _distinct_cells(route, chunk.columns[route.position], strict, want_values),
                            read, threaded and chunk.size >= THREADED_ROWS)) as prepared:
        for route in plan.routes:
            outcome = FieldOutcome()
            outcomes.append(outcome)
            rejected_by_field.append(None)
            if route.route == "missing":  # every row misses it, in the same way
                rejected_by_field[-1] = (np.arange(chunk.size), np.zeros(chunk.size, dtype=np.int64))
                passed[:] = False
            if route.validator is None:
                continue
            rows, codes, distinct = next(prepared)  # in field order, as ``read``
            if not distinct:  # the screen vouched for every row
                continue
            accepted, validated = _check_distinct(route, distinct, strict, context, want_values, outcome)
            if not accepted.all():
                taken = np.flatnonzero(~accepted[codes])  # of the rows read (the screened ones, if screened)
                rejected = taken if rows is None else rows[taken]
                rejected_by_field[-1] = (rejected, codes[taken])
                passed[rejected] = False
            if want_values:
                values[route.field] = _row_values(route, distinct, validated, codes, strict, context)
    return ColumnVerdicts(passed, rejected_by_field, outcomes, values)


#: rows from which a chunk's columns are screened and deduplicated in threads
THREADED_ROWS = 50_000


def _distinct_cells(route: FieldRoute, column: Any, strict: bool | None,
                    want_values: bool) -> tuple[np.ndarray | None, np.ndarray, list]:
    """The rows the field's screen is not sure of (None: every row), and their cells' codes and
    distinct values (none when the screen vouched for every row)."""
    unsure = None if want_values or route.screen is None else route.screen.unsure(column, strict)
    rows = None
    if unsure is not None:  # the screen accepted the other rows, exactly as the validator would
        if not unsure.any():  # (cheaper than flatnonzero() on a column it vouched for whole)
            return _NO_ROWS, _NO_ROWS, []
        rows = np.flatnonzero(unsure)
        column = _take(column, rows)
    return (rows, *distinct_values(column))


_NO_ROWS = np.empty(0, dtype=np.int64)


def _take(column: Any, rows: np.ndarray) -> Any:
    if isinstance(column, list):
        return [column[row] for row in rows.tolist()]
    return column[rows] if isinstance(column, np.ndarray) else column.take(rows)


#: distinct values per call of a field's validator: a failing batch's error dicts from pydantic
#: are freed before the next batch is built, so the errors kept stay packed in memory
VALIDATOR_BATCH = 4096


def _check_distinct(route: FieldRoute, distinct: list, strict: bool | None, context: Any, want_values: bool,
                    outcome: FieldOutcome) -> tuple[np.ndarray, list | None]:
    """Per distinct value: whether the field's validator accepts it, and what it makes of it
    (when asked for; None for the values it rejects); the errors of the values it rejects, and
    the values whose validation raised something pydantic does not wrap, go to ``outcome``."""
    validate = _watched(route, route.validator.validate_python)
    validated: list | None = [] if want_values else None
    for start in range(0, len(distinct), VALIDATOR_BATCH):
        batch = distinct[start:start + VALIDATOR_BATCH]
        values = _check_batch(route, validate, batch, start, strict, context, outcome)
        if want_values:
            validated += values if values is not None else _accepted_values(validate, batch, start, strict, context,
                                                                            outcome)
    accepted = np.ones(len(distinct), dtype=bool)
    accepted[[*outcome.errors, *outcome.raised]] = False
    return accepted, validated


def _check_batch(route: FieldRoute, validate: Callable, batch: list, start: int, strict: bool | None, context: Any,
                 outcome: FieldOutcome) -> list | None:
    """Validate ``batch`` (distinct values ``start ..``): the validated values if all pass, else
    None, with the rejected values' errors (or their raising) in ``outcome``."""
    try:
        return validate(batch, strict=strict, context=context)
    except ValidationError as exc:
        _keep_errors(route, exc, start, outcome)
    except NotColumnar:
        raise
    except Exception:  # a validator raised something pydantic does not wrap: find the values, one by one
        for position, value in enumerate(batch, start):
            try:
                validate([value], strict=strict, context=context)
            except ValidationError as exc:
                _keep_errors(route, exc, position, outcome)
            except NotColumnar:
                raise
            except Exception:
                outcome.raised.add(position)
    return None


def _keep_errors(route: FieldRoute, exc: ValidationError, start: int, outcome: FieldOutcome) -> None:
    """The errors of a list validated from distinct value ``start``, by distinct value, each
    ``loc`` starting with the field's own (as ``model_validate`` builds it)."""
    prefix, errors = route.loc, outcome.errors
    for error in exc.errors(include_url=False):
        loc = error["loc"]  # (position in the list, *inside the value)
        detail = error_detail(error, prefix if len(loc) == 1 else (*prefix, *loc[1:]))
        position = start + loc[0]
        found = errors.get(position)
        errors[position] = (detail,) if found is None else (*found, detail)


def _accepted_values(validate: Callable, batch: list, start: int, strict: bool | None, context: Any,
                     outcome: FieldOutcome) -> list:
    """The validated values of a batch that failed in part (None for each rejected value)."""
    rejected = {*outcome.errors, *outcome.raised}
    kept = [position for position in range(start, start + len(batch)) if position not in rejected]
    values: list = [None] * len(batch)
    for position, value in zip(kept, validate([batch[position - start] for position in kept], strict=strict,
                                              context=context)):
        values[position - start] = value
    return values


def _watched(route: FieldRoute, validate: Callable) -> Callable:
    """``validate``, raising ``NotColumnar`` if one of the field's validators read ``info.data``
    during the call, whatever it did with the exception it got."""
    tripwire = route.tripwire

    def call(values: list, **options: Any) -> list:
        tripwire.tripped = None
        try:
            return validate(values, **options)
        except _ReadsOtherFields:
            pass  # it tripped the wire: raised below
        finally:
            if tripwire.tripped is not None:
                raise NotColumnar(f"a validator of field {tripwire.tripped} reads info.data "
                                  "(the other fields of the row)") from None

    return call


def _row_values(route: FieldRoute, distinct: list, validated: list, codes: np.ndarray, strict: bool | None,
                context: Any) -> list:
    """Each row's validated value (None where rejected). A value that could be changed in place
    (a list, a dict, a model) is validated anew for each row holding it, so that no two rows
    share one object, as ``model_validate`` gives them."""
    values = [validated[code] for code in codes.tolist()]
    shared = [code for code, value in enumerate(validated) if not _immutable(value)]
    if shared:
        rows = np.flatnonzero(np.isin(codes, shared))
        fresh = _watched(route, route.validator.validate_python)(
            [distinct[code] for code in codes[rows].tolist()], strict=strict, context=context)
        for row, value in zip(rows.tolist(), fresh):
            values[row] = value
    return values


_IMMUTABLE = frozenset((type(None), bool, int, float, complex, str, bytes, Decimal, UUID, dt.date, dt.datetime,
                        dt.time, dt.timedelta, re.Pattern))


def _immutable(value: Any) -> bool:
    """Whether ``value`` cannot be changed in place (so rows may share it)."""
    kind = type(value)
    if kind in _IMMUTABLE or isinstance(value, enum.Enum):
        return True
    return kind in (tuple, frozenset) and all(map(_immutable, value))


def _engine_columns(df: Any) -> Callable[[int], Any]:
    """How to get the column at a position of ``df`` (a pandas or polars frame) as the engine
    reads it: its kind of frame lays its columns out as a run does (a polars float column holding
    NaN, for one, is read as Python values, which no screen reads)."""
    if df is None:
        return lambda position: None
    from flowschema.annotate import frame_kind  # the run's layer, above the engine's

    kind = frame_kind(df)
    whole = kind.whole(df)
    return lambda position: whole.columns[position]


def explain(model: type[BaseModel], df: Any = None) -> pd.DataFrame:
    """How ``engine="auto"`` validates ``model``: per field the column it reads, the route and why.

    Without ``df`` (a pandas or polars frame) the columns are taken to be the fields' own names
    (or aliases).

    >>> from pydantic import BaseModel, Field
    >>> class Point(BaseModel):
    ...     x: int = Field(ge=0)
    >>> explain(Point)[["field", "column", "route"]].to_dict("records")
    [{'field': 'x', 'column': 'x', 'route': 'screen'}]
    """
    read = _engine_columns(df)
    if df is not None:
        columns = list(df.columns)
    else:
        columns = [paths[0][0] for paths in field_paths(model).values()]
    plan = columnar_plan(model, columns)
    rows = []
    for route in plan.routes:
        name, why = route.route, route.why
        if name == "screen" and df is not None and not route.screen.fits(read(route.position)):
            name, why = "distinct values", "the field's own pydantic validator, once per distinct value"
        rows.append({"field": route.field, "column": route.column, "route": name, "why": why})
    return pd.DataFrame(rows, columns=["field", "column", "route", "why"])
