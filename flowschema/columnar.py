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
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator, core_schema

from flowschema.details import error_detail
from flowschema.fields import ModelSchema, field_paths, model_schema
from flowschema.records import ColumnChunk, column_array, normalize_column

__all__ = [
    "ColumnVerdicts",
    "ColumnarPlan",
    "FieldRoute",
    "NotColumnar",
    "columnar_plan",
    "distinct_values",
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
    loc: tuple = ()
    screen: Screen | None = None


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
        screen = screen_for(schema, taken.config)
        why = "the field's own pydantic validator, once per distinct value"
        if screen is not None:
            why = f"{screen.describe()}; the field's own validator on the other values"
        loc = (first[0],) if taken.config.get("loc_by_alias", True) else (name,)
        routes.append(FieldRoute(name, first[0], "screen" if screen else "distinct values", why,
                                 _list_validator(taken, name), positions[first[0]], loc, screen))
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


# -- screens -----------------------------------------------------------------------------------------

_BOUNDS = ("ge", "gt", "le", "lt")
_SCREENED_KEYS = {
    "int": frozenset(("type", "strict", "metadata", "multiple_of", *_BOUNDS)),
    "float": frozenset(("type", "strict", "metadata", "allow_inf_nan", *_BOUNDS)),
    "bool": frozenset(("type", "strict", "metadata")),
    "str": frozenset(("type", "strict", "metadata", "min_length", "max_length")),
    "datetime": frozenset(("type", "strict", "metadata", "microseconds_precision")),  # precision: of parsed text
}
_STRING_CONFIG = ("str_strip_whitespace", "str_to_lower", "str_to_upper", "str_min_length", "str_max_length")


@dataclass(frozen=True)
class Screen:
    """A vectorised test that is true only of cells the field's validator certainly accepts:
    numpy or Arrow arithmetic on a typed column against the plain bounds of an ``int``,
    ``float``, ``bool`` or ``str`` field (after its default and ``Optional``). Cells it is not
    sure of go through the validator as every other value does."""

    kind: str
    schema: dict
    nullable: bool
    strict_field: bool
    allow_inf_nan: bool

    def describe(self) -> str:
        bounds = ", ".join(f"{key} {self.schema[key]}" for key in (*_BOUNDS, "multiple_of", "min_length", "max_length")
                           if key in self.schema)
        return f"a vectorised screen ({self.kind}{', ' + bounds if bounds else ''})"

    def fits(self, column: Any) -> bool:
        """Whether the screen can read a column of this kind (a string column cannot vouch for ints)."""
        return self.unsure(column[:0], None) is not None

    def unsure(self, column: Any, strict: bool | None) -> np.ndarray | None:
        """Per row, whether the screen cannot vouch for the cell (None: no screen for this column)."""
        numbers = None if self.kind == "datetime" else _numbers(column)
        if numbers is not None:
            values, missing = numbers
            sure = self._sure_numbers(values, strict)
        elif self.kind == "str" and _is_arrow_string(column):
            sure, missing = self._sure_strings(column)
        elif self.kind == "datetime" and _is_datetime(column):  # any datetime is one, missing aside
            missing = np.asarray(pd.isna(column), dtype=bool)
            sure = ~missing
        else:
            return None
        if sure is None:
            return None
        return ~np.where(missing, self.nullable, sure)

    def _sure_numbers(self, values: np.ndarray, strict: bool | None) -> np.ndarray | None:
        kind = values.dtype.kind
        if self.kind == "bool":
            return np.ones(len(values), dtype=bool) if kind == "b" else None
        if kind == "b" or (kind == "f" and self.kind == "int" and (strict or self.strict_field)):
            return None  # bools as numbers, floats in strict ints: not vouched for
        if self.kind == "float" and kind != "f":
            return None
        if self.kind == "int" and kind == "f":  # lax: a whole float below 2**53 is that int
            with np.errstate(invalid="ignore"):
                sure = np.isfinite(values) & (values == np.trunc(values)) & (np.abs(values) < 2.0**53)
        elif kind == "f":
            sure = ~np.isnan(values) if self.allow_inf_nan else np.isfinite(values)
        else:
            sure = np.ones(len(values), dtype=bool)
        schema = self.schema
        with np.errstate(invalid="ignore"):
            for key, compare in (("ge", np.greater_equal), ("gt", np.greater), ("le", np.less_equal),
                                 ("lt", np.less)):
                if key in schema:
                    sure &= compare(values, schema[key])
            if "multiple_of" in schema:
                sure &= (values % schema["multiple_of"]) == 0
        return sure

    def _sure_strings(self, column: Any) -> tuple[np.ndarray, np.ndarray]:
        import pyarrow.compute as pc

        arrow = column.__arrow_array__()
        lengths = pc.utf8_length(arrow).to_numpy(zero_copy_only=False)
        missing = (np.asarray(pc.is_null(arrow).to_numpy(zero_copy_only=False), dtype=bool) if arrow.null_count
                   else np.zeros(len(arrow), dtype=bool))
        with np.errstate(invalid="ignore"):
            sure = np.ones(len(arrow), dtype=bool)
            if "min_length" in self.schema:
                sure &= lengths >= self.schema["min_length"]
            if "max_length" in self.schema:
                sure &= lengths <= self.schema["max_length"]
        return sure & ~missing, missing


def screen_for(schema: dict, config: dict) -> Screen | None:
    """The screen of a field's core schema, if it is one a screen is exact for."""
    nullable = False
    if schema.get("type") == "default":
        if schema.get("on_error", "raise") != "raise":
            return None
        schema = schema["schema"]
    if schema.get("type") == "nullable":
        nullable, schema = True, schema["schema"]
    kind = schema.get("type")
    if kind not in _SCREENED_KEYS or not schema.keys() <= _SCREENED_KEYS[kind]:
        return None
    if kind == "str" and any(config.get(key) for key in _STRING_CONFIG):
        return None
    if not all(isinstance(schema.get(key, 0), (int, float)) and not isinstance(schema.get(key, 0), bool)
               for key in (*_BOUNDS, "multiple_of")):
        return None
    strict_field = bool(schema.get("strict") or config.get("strict"))
    allow_inf_nan = schema.get("allow_inf_nan", config.get("allow_inf_nan", True))
    return Screen(kind, schema, nullable, strict_field, allow_inf_nan)


def _numbers(column: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A numeric column's values as a numpy array, and where it is missing; else None."""
    if isinstance(column, np.ndarray):
        if column.dtype.kind in "iub":
            return column, np.zeros(len(column), dtype=bool)
        if column.dtype.kind == "f":
            return column, np.isnan(column)
        return None
    dtype = getattr(column, "dtype", None)
    if isinstance(column, (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)) or (
            isinstance(dtype, pd.ArrowDtype) and (pa.types.is_integer(dtype.pyarrow_dtype)
                                                  or pa.types.is_floating(dtype.pyarrow_dtype)
                                                  or pa.types.is_boolean(dtype.pyarrow_dtype))):
        missing = np.asarray(column.isna(), dtype=bool)
        kind = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype.type).kind
        if kind == "f":
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            return values, missing | np.isnan(values)
        numpy_type = {"i": np.int64, "u": np.uint64}.get(kind, bool)
        return column.to_numpy(dtype=numpy_type, na_value=numpy_type(0)), missing
    return None


def _is_datetime(column: Any) -> bool:
    dtype = getattr(column, "dtype", None)
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_timestamp(dtype.pyarrow_dtype)
    return getattr(dtype, "kind", None) == "M"


def _is_arrow_string(column: Any) -> bool:
    dtype = getattr(column, "dtype", None)
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                                 or pa.types.is_large_string(dtype.pyarrow_dtype))


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


@dataclass
class FieldOutcome:
    """One field over one chunk: per row the code of its distinct value (None where every value
    passed), and per rejected code the field's errors (loc prefixed as ``model_validate`` does)
    or, in ``raised``, the codes whose validation raised something pydantic does not wrap."""

    codes: np.ndarray | None = None
    errors: dict[int, list[dict]] = field(default_factory=dict)
    raised: frozenset = frozenset()


@dataclass(frozen=True)
class ColumnVerdicts:
    """What the fields' validators said of a chunk's rows.

    ``passed``: rows every field accepts. ``rejected``: per field, per row, the code of the
    distinct value the field rejected (-1 where it accepted; None if it accepted every row): no
    validator sees more than its own field, so a failing row's errors are its fields' errors, in
    field order (``outcomes``). ``values``: per field read from a column, its validated value per
    row (when asked for).
    """

    passed: np.ndarray
    rejected: list[np.ndarray | None]
    outcomes: list[FieldOutcome]
    values: dict[str, list] | None

    def failures(self, rows: np.ndarray) -> np.ndarray:
        """The rejected codes of these rows, one column per field."""
        return np.column_stack([np.full(len(rows), -1, dtype=np.int64) if codes is None else codes[rows]
                                for codes in self.rejected]) if self.rejected else np.empty((len(rows), 0))


def passing_rows(plan: ColumnarPlan, chunk: ColumnChunk, strict: bool | None, context: Any,
                 want_values: bool) -> ColumnVerdicts:
    """Run each field's validator over its column's distinct values (after a screen, where one
    is exact); see ``ColumnVerdicts``. Raises ``NotColumnar`` if a validator reads the other
    fields."""
    passed = np.ones(chunk.size, dtype=bool)
    rejected_by_field: list[np.ndarray | None] = []
    values: dict[str, list] | None = {} if want_values else None
    outcomes = []
    for route in plan.routes:
        outcome = FieldOutcome()
        outcomes.append(outcome)
        rejected_by_field.append(None)
        if route.route == "missing":  # every row misses it, in the same way
            rejected_by_field[-1] = np.zeros(chunk.size, dtype=np.int64)
            passed[:] = False
        if route.validator is None:
            continue
        column = chunk.columns[route.position]
        unsure = None if want_values or route.screen is None else route.screen.unsure(column, strict)
        if unsure is not None:  # the screen accepted the other rows, exactly as the validator would
            rows = np.flatnonzero(unsure)
            if not len(rows):
                continue
            column = _take(column, rows)
        codes, distinct = distinct_values(column)
        accepted, validated = _check_distinct(route, distinct, strict, context, want_values, outcome)
        if not accepted.all():
            rejected = np.where(accepted[codes], -1, codes)
            if unsure is not None:
                rejected, rows_rejected = np.full(chunk.size, -1, dtype=np.int64), rejected
                rejected[rows] = rows_rejected
            rejected_by_field[-1] = rejected
            passed &= rejected < 0
        outcome.codes = codes
        if want_values:
            values[route.field] = [validated[code] for code in codes.tolist()]
    return ColumnVerdicts(passed, rejected_by_field, outcomes, values)


def _take(column: Any, rows: np.ndarray) -> Any:
    if isinstance(column, list):
        return [column[row] for row in rows.tolist()]
    return column[rows] if isinstance(column, np.ndarray) else column.take(rows)


def _check_distinct(route: FieldRoute, distinct: list, strict: bool | None, context: Any, want_values: bool,
                    outcome: FieldOutcome) -> tuple[np.ndarray, list | None]:
    """Per distinct value: whether the field's validator accepts it, and what it makes of it;
    the errors of the values it rejects go to ``outcome``."""
    validate = route.validator.validate_python
    accepted = np.ones(len(distinct), dtype=bool)
    try:
        validated = validate(distinct, strict=strict, context=context)
        return accepted, validated
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            position, *inner = error["loc"]
            outcome.errors.setdefault(position, []).append(error_detail(error, (*route.loc, *inner)))
    except _ReadsOtherFields as exc:
        raise NotColumnar(f"a validator of field {exc} reads info.data (the other fields of the row)") from None
    except Exception:  # a validator raised something pydantic does not wrap: find the values, one by one
        raised = set()
        for position, value in enumerate(distinct):
            try:
                validate([value], strict=strict, context=context)
            except _ReadsOtherFields as exc:
                raise NotColumnar(f"a validator of field {exc} reads info.data (the other fields of the row)") from None
            except ValidationError as exc:
                outcome.errors[position] = [error_detail(error, (*route.loc, *error["loc"][1:]))
                                            for error in exc.errors(include_url=False)]
            except Exception:
                raised.add(position)
        outcome.raised = frozenset(raised)
    accepted[[*outcome.errors, *outcome.raised]] = False
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
    [{'field': 'x', 'column': 'x', 'route': 'screen'}]
    """
    if df is not None:
        columns = list(df.columns)
    else:
        columns = [paths[0][0] for paths in field_paths(model).values()]
    plan = columnar_plan(model, columns)
    rows = []
    for route in plan.routes:
        name, why = route.route, route.why
        if name == "screen" and df is not None and not route.screen.fits(column_array(df.iloc[:, route.position])):
            name, why = "distinct values", "the field's own pydantic validator, once per distinct value"
        rows.append({"field": route.field, "column": route.column, "route": name, "why": why})
    return pd.DataFrame(rows, columns=["field", "column", "route", "why"])
