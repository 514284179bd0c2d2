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
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator, core_schema

from flowschema.fields import ModelSchema, field_paths, model_schema
from flowschema.records import ColumnChunk, normalize_column

__all__ = ["ColumnarPlan", "FieldRoute", "NotColumnar", "columnar_plan", "distinct_values", "explain", "passing_rows"]

_WRAPPER_REASONS = {
    "function-before": "a model_validator(mode='before') can change the whole row before the fields see it",
    "function-wrap": "a model_validator(mode='wrap') sees the whole row",
    "function-after": "a model_validator(mode='after') checks the whole instance",
    "function-plain": "a model_validator(mode='plain') replaces the model's own validation",
}
_FIELD_FUNCTIONS = ("function-before", "function-after", "function-wrap", "function-plain")
_NOT_DUMPED_AS_VALIDATED = ("model", "dataclass", "typed-dict", "definition-ref")


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


@dataclass(frozen=True)
class ColumnarPlan:
    """The per-field routes for one model and one set of columns, or the reason none fits."""

    model: type[BaseModel]
    routes: tuple[FieldRoute, ...]
    reason: str | None


def columnar_plan(model: type[BaseModel], columns: Sequence[Hashable], want_values: bool = False) -> ColumnarPlan:
    """How the columnar engine would validate ``model`` over a frame with these ``columns``.

    >>> from pydantic import BaseModel, Field
    >>> class Point(BaseModel):
    ...     x: int = Field(ge=0)
    >>> columnar_plan(Point, ["x"]).reason is None
    True
    """
    return _plan(model, tuple(columns), bool(want_values))


@lru_cache(maxsize=256)
def _plan(model: type[BaseModel], columns: tuple, want_values: bool) -> ColumnarPlan:
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
        if want_values and not _dumped_as_validated(schema):
            return _rows_plan(model, columns, f"coerce=True, and field {name!r} is dumped differently from its "
                                              "validated value (a nested model or a custom serializer)")
        read.add(first[0])
        routes.append(FieldRoute(name, first[0], "distinct values", "the field's own pydantic validator, once per "
                                 "distinct value", _list_validator(taken, name), positions[first[0]]))
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
    routes = []
    for name, paths in field_paths(model).items():
        first = next((path for path in paths if path[0] in positions), None)
        routes.append(FieldRoute(name, first[0] if first else None, "rows", reason))
    return ColumnarPlan(model, tuple(routes), reason)


def _dumped_as_validated(schema: Any) -> bool:
    """Whether ``model_dump()`` gives a field's validated value back as it is (no nested model,
    no custom serializer anywhere in its schema)."""
    if isinstance(schema, dict):
        if schema.get("type") in _NOT_DUMPED_AS_VALIDATED or "serialization" in schema:
            return False
        return all(_dumped_as_validated(value) for key, value in schema.items() if key not in ("metadata", "ref"))
    if isinstance(schema, list):
        return all(map(_dumped_as_validated, schema))
    return True


# -- field validators --------------------------------------------------------------------------


class _ReadsOtherFields(Exception):
    """A field validator read ``info.data``: it depends on the other fields of the row."""


class _FieldInfo:
    """What a field validator sees as ``info`` when run over a column: the field's name, the
    context and config as in ``model_validate``; reading ``data`` (the other fields) stops the
    columnar engine, which cannot give them."""

    __slots__ = ("_info", "field_name")

    def __init__(self, info: Any, field_name: str) -> None:
        self._info, self.field_name = info, field_name

    @property
    def data(self) -> Any:
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


def _guarded(function_schema: dict, kind: str, field_name: str) -> dict:
    """A with-info validator function wrapped so that its ``info`` is a ``_FieldInfo``."""
    user_function = function_schema["function"]
    if kind == "function-wrap":
        def call(value, handler, info):
            return user_function(value, handler, _FieldInfo(info, field_name))
    else:
        def call(value, info):
            return user_function(value, _FieldInfo(info, field_name))
    return {**function_schema, "function": call}


def _with_guards(schema: Any, field_name: str) -> Any:
    """A copy of a field's schema whose with-info validators get a ``_FieldInfo``; nested models
    keep theirs (pydantic gives them their own data)."""
    if isinstance(schema, list):
        return [_with_guards(item, field_name) for item in schema]
    if not isinstance(schema, dict) or schema.get("type") == "model":
        return schema
    copied = {key: _with_guards(value, field_name) if key != "metadata" else value for key, value in schema.items()}
    if copied.get("type") in _FIELD_FUNCTIONS and copied["function"].get("type") == "with-info":
        copied["function"] = _guarded(copied["function"], copied["type"], field_name)
    return copied


def _list_validator(taken: ModelSchema, name: str) -> SchemaValidator:
    """pydantic's validator for a list of values of field ``name``, with the model's config."""
    schema = core_schema.list_schema(_with_guards(taken.fields[name]["schema"], name))
    if taken.definitions:
        schema = core_schema.definitions_schema(schema, list(taken.definitions.values()))
    return SchemaValidator(schema, taken.config or None)


# -- distinct values -------------------------------------------------------------------------------


def distinct_values(column: Any) -> tuple[np.ndarray, list]:
    """``codes`` and ``values`` such that the column's cell ``i``, normalised as a row would see
    it, is ``values[codes[i]]``; equal cells of different types or signs stay apart.

    >>> codes, values = distinct_values(np.array([3, 1, 3]))
    >>> codes.tolist(), values
    ([0, 1, 0], [3, 1])
    """
    if isinstance(column, list):
        return _distinct_objects(column)
    dtype = column.dtype
    if isinstance(column, np.ndarray):
        if dtype.kind in "biu":
            codes, uniques = pd.factorize(column)
            return codes, uniques.tolist()
        if dtype.kind == "f":
            return _distinct_floats(column)
        if dtype.kind in "mM":
            return _with_missing(*pd.factorize(column))
        return _distinct_objects(normalize_column(column))
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(column.codes, dtype=np.int64)
        return _missing_last(codes, normalize_column(dtype.categories))
    if dtype.kind == "f" or _arrow_type_is(dtype, pa.types.is_floating):
        return _distinct_floats(column.to_numpy(dtype=np.float64, na_value=np.nan))
    if _arrow_type_is(dtype, pa.types.is_nested):
        return _distinct_objects(normalize_column(column))
    try:
        return _with_missing(*pd.factorize(column))
    except (TypeError, NotImplementedError):
        return _distinct_objects(normalize_column(column))


def _arrow_type_is(dtype: Any, predicate) -> bool:
    """Whether ``dtype`` is Arrow-backed with values (of a dictionary: its values) of that kind."""
    if not isinstance(dtype, pd.ArrowDtype):
        return False
    arrow_type = dtype.pyarrow_dtype
    return predicate(arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type)


def _with_missing(codes: np.ndarray, uniques: Any) -> tuple[np.ndarray, list]:
    """``pd.factorize``'s codes (-1 for missing) and uniques, normalised, None last."""
    return _missing_last(np.asarray(codes, dtype=np.int64), normalize_column(uniques))


def _missing_last(codes: np.ndarray, values: list) -> tuple[np.ndarray, list]:
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values = [*values, None]
    return codes, values


def _distinct_floats(array: np.ndarray) -> tuple[np.ndarray, list]:
    """Floats told apart by their bits: -0.0 and 0.0 are two values (NaNs are all missing)."""
    array = np.ascontiguousarray(array, dtype=np.float64)
    codes, bits = pd.factorize(array.view(np.int64))
    return codes, normalize_column(bits.view(np.float64))


def _distinct_objects(values: list) -> tuple[np.ndarray, list]:
    """Python values deduplicated by an exact key; values with no exact key (lists, dicts, other
    objects) each stay their own."""
    index: dict[Any, int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    distinct: list = []
    for position, value in enumerate(values):
        key = _exact_key(value)
        try:
            code = None if key is None else index.get(key)
        except TypeError:  # a part of the key cannot be hashed (a dateutil zone): no deduplication
            key = code = None
        if code is None:
            code = len(distinct)
            distinct.append(value)
            if key is not None:
                index[key] = code
        codes[position] = code
    return codes, distinct


_KEYED_AS_THEY_ARE = frozenset((str, int, bool, bytes, dt.date, dt.timedelta, UUID, type(None)))


def _exact_key(value: Any) -> Hashable | None:
    """A key equal for two values only if pydantic cannot tell them apart, or None."""
    kind = type(value)
    if kind in _KEYED_AS_THEY_ARE:
        return kind, value
    if kind is float:
        return kind, value, math.copysign(1.0, value)
    if kind is Decimal:
        return kind, str(value)
    if kind in (dt.datetime, dt.time):
        try:
            return kind, value.replace(tzinfo=None), value.fold, value.tzinfo
        except TypeError:
            return None
    if isinstance(value, enum.Enum):
        return kind, id(value)
    if kind is tuple:
        keys = tuple(map(_exact_key, value))
        return None if None in keys else (kind, keys)
    return None


# -- running a plan ------------------------------------------------------------------------------


def passing_rows(plan: ColumnarPlan, chunk: ColumnChunk, strict: bool | None, context: Any,
                 want_values: bool) -> tuple[np.ndarray, dict[str, list] | None]:
    """Which rows of ``chunk`` every field's validator accepts, and (``want_values``) each
    field's validated value per row. Raises ``NotColumnar`` if a validator reads the other fields.
    """
    passed = np.ones(chunk.size, dtype=bool)
    values: dict[str, list] | None = {} if want_values else None
    for route in plan.routes:
        if route.route == "missing":
            passed[:] = False
        if route.validator is None:
            continue
        codes, distinct = distinct_values(chunk.columns[route.position])
        accepted, validated = _check_distinct(route, distinct, strict, context, want_values)
        passed &= accepted[codes]
        if want_values:
            values[route.field] = [validated[code] for code in codes.tolist()]
    return passed, values


def _check_distinct(route: FieldRoute, distinct: list, strict: bool | None, context: Any,
                    want_values: bool) -> tuple[np.ndarray, list | None]:
    """Per distinct value: whether the field's validator accepts it, and what it makes of it."""
    validate = route.validator.validate_python
    accepted = np.ones(len(distinct), dtype=bool)
    try:
        validated = validate(distinct, strict=strict, context=context)
        return accepted, validated
    except ValidationError as exc:
        rejected = {error["loc"][0] for error in exc.errors(include_url=False) if error["loc"]}
    except _ReadsOtherFields as exc:
        raise NotColumnar(f"a validator of field {exc} reads info.data (the other fields of the row)") from None
    except Exception:  # a validator raised something pydantic does not wrap: find the values, one by one
        rejected = set()
        for position, value in enumerate(distinct):
            try:
                validate([value], strict=strict, context=context)
            except _ReadsOtherFields as exc:
                raise NotColumnar(f"a validator of field {exc} reads info.data (the other fields of the row)") from None
            except Exception:
                rejected.add(position)
    accepted[list(rejected)] = False
    if not want_values or accepted.all():
        return accepted, None
    kept = np.flatnonzero(accepted).tolist()
    validated = [None] * len(distinct)
    for position, value in zip(kept, validate([distinct[position] for position in kept], strict=strict, context=context)):
        validated[position] = value
    return accepted, validated


def explain(model: type[BaseModel], df: pd.DataFrame | None = None) -> pd.DataFrame:
    """How ``engine="auto"`` validates ``model``: per field the column it reads, the route and why.

    Without ``df`` the columns are taken to be the fields' own names (or aliases).

    >>> from pydantic import BaseModel, Field
    >>> class Point(BaseModel):
    ...     x: int = Field(ge=0)
    >>> explain(Point)[["field", "column", "route"]].to_dict("records")
    [{'field': 'x', 'column': 'x', 'route': 'distinct values'}]
    """
    if df is not None:
        columns = list(df.columns)
    else:
        columns = [paths[0][0] for paths in field_paths(model).values()]
    plan = columnar_plan(model, columns)
    return pd.DataFrame([{"field": route.field, "column": route.column, "route": route.route, "why": route.why}
                         for route in plan.routes], columns=["field", "column", "route", "why"])
