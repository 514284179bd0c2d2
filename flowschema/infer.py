"""Draft a pydantic model from data, and write a model back out as Python source.

``infer_model(df)`` reads each column as validation will see it (``records.normalize_column``:
NaN -> None, numpy -> Python, ...) and keeps, per column, the first candidate type that
pydantic's own ``TypeAdapter`` accepts for every distinct value. The constraints (``ge``/``le``,
string lengths, a character pattern, the allowed values) come from the values that type
accepted, so validating the rows a model was inferred from gives no error.
``infer_model_from_file`` does the same over a CSV or Parquet file read in batches, with bounded
statistics per column. ``model_source(Model)`` writes a model's fields as importable source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import keyword
import math
import os
import re
import types
import typing
import unicodedata
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal, Optional, Union
from uuid import UUID

import pandas as pd
import pyarrow as pa
from pydantic import (
    BaseModel,
    Field,
    RootModel,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic.fields import FieldInfo

from flowschema.errors import DataFileError
from flowschema.records import normalize_column

__all__ = ["DISTINCT_CAP", "PATTERN_MAX_LENGTH", "infer_model", "infer_model_from_file", "model_source"]

#: distinct values kept per column (the Literal choices and distinct counts), at least ``categories``
DISTINCT_CAP = 10_000
#: strings longer than this get no character pattern
PATTERN_MAX_LENGTH = 32
#: values validated first, so that a wrong candidate type fails cheaply
_PROBE = 64
#: columns with these names hold an earlier validation's result; validation drops them too
_RESULT_PREFIX = "_fs_"

_NUMBERS = frozenset({bool, int, float})
_TEXT_CANDIDATES = (int, float, bool, dt.date, dt.datetime, dt.time, dt.timedelta, UUID, str)
#: the type a value is taken as (subclasses included); datetime before date, bool before int
_VALUE_TYPES = (bool, int, float, str, bytes, Decimal, dt.datetime, dt.date, dt.time, dt.timedelta, UUID,
                list, tuple, dict)
_ORDERED = frozenset({int, float, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta})
#: names the generated source uses: a field bound to one of them in a class body would shadow it
_SOURCE_NAMES = frozenset({"Any", "BaseModel", "Decimal", "Field", "Literal", "Optional", "UUID", "Union",
                           "datetime", "zoneinfo", "bool", "bytes", "dict", "float", "int", "list", "str",
                           "tuple"})


def infer_model(
    df: pd.DataFrame,
    name: str = "Record",
    *,
    categories: int = 20,
    ranges: bool = True,
    patterns: bool = True,
    sample: int | None = None,
) -> type[BaseModel]:
    """Draft a pydantic model that every row of ``df`` satisfies.

    Per column: the type (from the dtype, or for text the first of int, float, bool, date,
    datetime, time, timedelta, UUID that pydantic accepts for every value, else str; floats that
    are all whole numbers become int), ``Optional[...] = None`` where values are missing,
    ``Literal[...]`` for text with at most ``categories`` distinct values, with ``ranges`` the
    observed minimum and maximum (``ge``/``le``, string ``min_length``/``max_length``), with
    ``patterns`` a per-position character pattern for short text, and a description of what was
    seen. Columns whose names are not identifiers get a field name and an ``alias``. With
    ``sample``, a random sample of that many rows (seeded: the same model each time).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"code": ["AB1", "CD2", None], "n": [1.0, 2.0, None]})
    >>> Row = infer_model(frame, "Row", categories=1)
    >>> Row.model_fields["n"].annotation, Row.model_fields["n"].metadata
    (typing.Optional[int], [Ge(ge=1), Le(le=2)])
    >>> Row.model_fields["code"].metadata[-1].pattern
    '^[A-Z]{2}[0-9]$'
    """
    from flowschema.annotate import PANDAS, frame_kind  # the run's layer, above this one

    try:
        polars = frame_kind(df) is not PANDAS
    except TypeError:
        raise TypeError(f"infer_model takes a pandas or polars DataFrame, got {type(df).__name__}") from None
    _check_options(name, categories, ranges, patterns, sample)
    frame = _without_results(df) if not polars else df.drop([c for c in df.columns if c.startswith(_RESULT_PREFIX)])
    if not all(frame.shape):
        raise ValueError(f"cannot infer a model from an empty frame ({frame.shape[0]} rows, {frame.shape[1]} columns)")
    if sample is not None and sample < len(frame):
        frame = frame.sample(n=sample, seed=0) if polars else frame.sample(n=sample, random_state=0)
    stats = _FrameStats(pd.Index(frame.columns), categories, patterns)
    if polars:  # each column's distinct cells as df.row gives them (a NaN stays a float NaN)
        from flowschema.adapters.polars import distinct_cells

        stats.add_columns([distinct_cells(series) for series in frame.iter_columns()], len(frame))
    else:
        stats.add(frame)
    origin = f"a random sample of {len(frame):,} of {len(df):,} rows" if len(frame) < len(df) else f"{len(frame):,} rows"
    return stats.model(name, origin, ranges)


def infer_model_from_file(
    path: str | os.PathLike,
    name: str = "Record",
    *,
    categories: int = 20,
    ranges: bool = True,
    patterns: bool = True,
    sample: int | None = None,
    batch_rows: int = 100_000,
) -> type[BaseModel]:
    """Draft a model from a CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet file of any size.

    The file is read ``batch_rows`` rows at a time and each column's statistics are updated
    batch by batch (at most ``DISTINCT_CAP`` distinct values kept), so memory stays bounded.
    With ``sample``, only the first ``sample`` rows are read. Every row read satisfies the model.
    The other options are those of ``infer_model``. A file that cannot be read (malformed, not
    the format its name says, unreadable, or with no rows or no columns) raises a
    ``DataFileError`` naming it; a missing file a ``FileNotFoundError``.

    >>> import os, tempfile, pandas as pd
    >>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> pd.DataFrame({"x": [3, 1, 2]}).to_csv(path, index=False)
    >>> infer_model_from_file(path, "Point").model_fields["x"].metadata
    [Ge(ge=1), Le(le=3)]
    """
    from flowschema.streaming import read_batches

    _check_options(name, categories, ranges, patterns, sample)
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise ValueError(f"batch_rows must be a positive int, got {batch_rows!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        batches, _ = read_batches(path, min(batch_rows, sample or batch_rows))
        stats = _file_stats(_first_rows(batches, sample), categories, patterns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, pa.ArrowException, OSError) as exc:
        raise DataFileError(f"{path} cannot be read: {type(exc).__name__}: {str(exc).strip()}") from exc
    if stats is None or stats.rows == 0 or not stats.columns:
        raise DataFileError(f"cannot infer a model from {path}: it has no rows or no columns")
    origin = f"the first {stats.rows:,} rows of {path.name}" if sample else f"{stats.rows:,} rows of {path.name}"
    return stats.model(name, origin, ranges)


def _file_stats(batches: Iterable[pd.DataFrame], categories: int, patterns: bool) -> _FrameStats | None:
    """The statistics of a file's batches (None for a file without batches)."""
    stats = None
    for batch in batches:
        batch = _without_results(batch)
        if stats is None:
            stats = _FrameStats(batch.columns, categories, patterns)
        stats.add(batch)
    return stats


def _first_rows(batches: Iterable[pd.DataFrame], rows: int | None) -> Iterable[pd.DataFrame]:
    """The batches, cut after ``rows`` rows in all (None: every batch)."""
    left = rows
    for batch in batches:
        if left is not None:
            batch = batch.iloc[:left]
            left -= len(batch)
        yield batch
        if left == 0:
            return


def _check_options(name: Any, categories: Any, ranges: Any, patterns: Any, sample: Any) -> None:
    if not isinstance(name, str) or not _identifier(name):
        raise ValueError(f"name must be a valid Python class name, got {name!r}")
    if isinstance(categories, bool) or not isinstance(categories, int) or categories < 1:
        raise ValueError(f"categories (the most distinct values a Literal may list) must be an int >= 1, "
                         f"got {categories!r}")
    for option, value in (("ranges", ranges), ("patterns", patterns)):
        if not isinstance(value, bool):
            raise TypeError(f"{option} must be True or False, got {value!r}")
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int) or sample < 1):
        raise ValueError(f"sample must be None or a positive int (a number of rows), got {sample!r}")


def _without_results(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the columns of an earlier validation (as validation drops them)."""
    for column in frame.columns:
        if not isinstance(column, str):
            raise TypeError(f"column names must be strings for a pydantic model to read them; column {column!r} "
                            f"is a {type(column).__name__}: rename the columns, e.g. df.columns = "
                            f"df.columns.astype(str)")
    if frame.columns.has_duplicates:
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise ValueError(f"column names must be unique; duplicated: {duplicated}")
    results = [column for column in frame.columns if column.startswith(_RESULT_PREFIX)]
    return frame.drop(columns=results) if results else frame


# --- per-column statistics ------------------------------------------------------------------


@cache
def _list_adapter(kind: type) -> TypeAdapter:
    return TypeAdapter(list[kind])


def _value_type(kind: type) -> type | None:
    """The type values of ``kind`` are taken as, None for a type inference does not know."""
    return next((known for known in _VALUE_TYPES if issubclass(kind, known)), None)


def _candidates(value_types: frozenset) -> tuple[type, ...]:
    """Candidate types for values of these types, in order of preference."""
    if None in value_types:
        return ()
    if value_types <= {bool}:
        return (bool,)
    if value_types <= {bool, int}:
        return (int,)
    if value_types <= _NUMBERS:
        return (int, float)
    if value_types <= _NUMBERS | {str}:
        return _TEXT_CANDIDATES
    return tuple(value_types) if len(value_types) == 1 else ()


def _checked(value_types: frozenset) -> tuple[type, ...]:
    """Candidates to check on every batch: those of the values' whole family (numbers, text),
    so that a batch bringing a new type (an int column turning float) finds them checked."""
    if value_types <= _NUMBERS:
        return (bool, int, float)
    return _candidates(value_types)


class _Verdict:
    """One candidate type that accepted every value so far, and the range of what it made of them."""

    def __init__(self, kind: type) -> None:
        self.kind = kind
        self.ordered = kind in _ORDERED
        self.low: Any = None
        self.high: Any = None

    def accepts(self, values: list) -> bool:
        """Validate ``values`` with ``TypeAdapter(list[kind])``; widen the range when accepted."""
        adapter = _list_adapter(self.kind)
        try:
            if len(values) > _PROBE:
                adapter.validate_python(values[:_PROBE])
            validated = adapter.validate_python(values)
        except ValidationError:
            return False
        if self.ordered and validated:
            self._widen(validated)
        return True

    def _widen(self, validated: list) -> None:
        try:
            if any(isinstance(value, (float, Decimal)) and not math.isfinite(value) for value in validated):
                raise ValueError("no finite range")
            bounds = validated if self.low is None else [*validated, self.low, self.high]
            self.low, self.high = min(bounds), max(bounds)
        except (TypeError, ValueError, ArithmeticError):  # NaN or infinity, naive with aware datetimes
            self.ordered = False


class _TextShape:
    """Lengths of text values and, per position, the characters seen there."""

    def __init__(self) -> None:
        self.min_length: int | None = None
        self.max_length = 0
        self.positions: list[set[str]] | None = []  # None: no simple pattern fits

    def add(self, texts: list[str], patterns: bool) -> None:
        if not texts:
            return
        lengths = list(map(len, texts))
        shortest, longest = min(lengths), max(lengths)
        self.min_length = shortest if self.min_length is None else min(self.min_length, shortest)
        self.max_length = max(self.max_length, longest)
        if not patterns or self.max_length > PATTERN_MAX_LENGTH:
            self.positions = None
        if self.positions is None:
            return
        for position in range(longest):
            if position == len(self.positions):
                self.positions.append(set())
            self.positions[position].update(text[position] for text in texts if len(text) > position)
            if _character_class(self.positions[position], optional=False) is None:
                self.positions = None
                return

    def pattern(self) -> str | None:
        """``^...$``: per run of positions one character class and a count (or None)."""
        if not self.positions:
            return None
        runs: list[list] = []  # [class, first position, last position + 1]
        for position, characters in enumerate(self.positions):
            character_class = _character_class(characters, optional=position >= self.min_length)
            if runs and runs[-1][0] == character_class:
                runs[-1][2] = position + 1
            else:
                runs.append([character_class, position, position + 1])
        return "^" + "".join(character_class + _count(max(0, min(stop, self.min_length) - start), stop - start)
                             for character_class, start, stop in runs) + "$"


_CHARACTER_GROUPS = (("A-Z", "A", "Z"), ("a-z", "a", "z"), ("0-9", "0", "9"))
_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def _character_class(characters: set[str], optional: bool) -> str | None:
    """``[A-Za-z0-9]``-style groups, or the one character every value has at a position that
    every value reaches; None when other characters are mixed in."""
    groups = {next((name for name, first, last in _CHARACTER_GROUPS if first <= character <= last), None)
              for character in characters}
    if len(characters) == 1 and (not optional or None in groups):
        (character,) = characters
        return "\\" + character if character in _REGEX_SPECIAL else character
    if None in groups:
        return None
    return "[" + "".join(name for name, _, _ in _CHARACTER_GROUPS if name in groups) + "]"


def _count(least: int, most: int) -> str:
    if least == most:
        return "" if most == 1 else f"{{{most}}}"
    return "?" if (least, most) == (0, 1) else f"{{{least},{most}}}"


class _ColumnStats:
    """What one column held, updated batch by batch with its distinct values."""

    def __init__(self, categories: int, patterns: bool) -> None:
        self.patterns = patterns
        self.cap = max(DISTINCT_CAP, categories)
        self.rows = self.missing = self.batches = 0
        self.value_types: frozenset = frozenset()
        self.distinct: dict | None = {}  # (type, value) -> value, None once over the cap
        self.verdicts: dict[type, _Verdict] = {}
        self.rejected: set[type] = set()
        self.text = _TextShape()

    def add(self, distinct: dict, rows: int, missing: int) -> None:
        """Take a batch's distinct non-missing values (keyed by type and value) and counts."""
        self.rows += rows
        self.missing += missing
        values = list(distinct.values())
        self.value_types |= {_value_type(kind) for kind, _ in distinct}
        for kind in _checked(self.value_types):
            if kind not in self.verdicts and kind not in self.rejected:
                self._start(kind)
        for kind, verdict in list(self.verdicts.items()):
            if not verdict.accepts(values):
                del self.verdicts[kind]
                self.rejected.add(kind)
        if str in self.verdicts:
            self.text.add(values, self.patterns)
        self._keep(distinct)
        self.batches += 1

    def _start(self, kind: type) -> None:
        """Check a new candidate against the earlier batches' values, if they were all kept."""
        if self.batches and self.distinct is None:
            self.rejected.add(kind)
            return
        verdict = _Verdict(kind)
        earlier = list(self.distinct.values()) if self.batches else []
        if verdict.accepts(earlier):
            self.verdicts[kind] = verdict
            if kind is str:
                self.text.add(earlier, self.patterns)
        else:
            self.rejected.add(kind)

    def _keep(self, distinct: dict) -> None:
        if self.distinct is not None:
            self.distinct.update(distinct)
            if len(self.distinct) > self.cap:
                self.distinct = None

    def field(self, categories: int, ranges: bool) -> tuple[Any, dict]:
        """The field's annotation and its ``Field`` arguments."""
        verdict = next((self.verdicts[kind] for kind in _candidates(self.value_types) if kind in self.verdicts),
                       None)
        constraints: dict[str, Any] = {}
        if not self.value_types:
            annotation = Any
        elif verdict is None:
            annotation = self._union_or_any()
        elif verdict.kind is str and self.distinct is not None and len(self.distinct) <= categories:
            annotation = Literal[tuple(sorted(self.distinct.values()))]
        else:
            annotation = verdict.kind
            constraints = self._constraints(verdict, ranges)
        arguments = {"default": None} if self.missing else {}
        return (Optional[annotation] if self.missing else annotation), {  # noqa: UP045 (written as Optional)
            **arguments, **constraints, "description": self._description(verdict, annotation)}

    def _union_or_any(self) -> Any:
        """Mixed types: the union of the values' own types if it accepts every value kept, else Any."""
        if None in self.value_types or self.distinct is None:
            return Any
        union = Union[tuple(kind for kind in _VALUE_TYPES if kind in self.value_types)]  # noqa: UP007
        return union if _Verdict(union).accepts(list(self.distinct.values())) else Any

    def _constraints(self, verdict: _Verdict, ranges: bool) -> dict[str, Any]:
        constraints: dict[str, Any] = {}
        if ranges and verdict.ordered and verdict.low is not None and _renderable_bound(verdict.low):
            constraints.update(ge=_utc(verdict.low), le=_utc(verdict.high))
        if verdict.kind is str:
            if ranges and self.text.min_length:
                constraints["min_length"] = self.text.min_length
            if ranges and self.text.min_length is not None:
                constraints["max_length"] = self.text.max_length
            pattern = self.text.pattern()
            if pattern is not None:
                constraints["pattern"] = pattern
        return constraints

    def _description(self, verdict: _Verdict | None, annotation: Any) -> str:
        if not self.value_types:
            return f"no values: all {self.rows:,} missing"
        distinct = (f"over {self.cap:,}" if self.distinct is None else f"{len(self.distinct):,}")
        parts = [f"{distinct} distinct value{'s' if distinct != '1' else ''}", _missing_text(self.missing, self.rows)]
        if verdict is not None and verdict.ordered and verdict.low is not None:
            low, high = _utc(verdict.low), _utc(verdict.high)
            parts.append(f"always {low}" if low == high else f"from {low} to {high}")
        elif annotation is str and self.text.min_length is not None:
            shortest, longest = self.text.min_length, self.text.max_length
            parts.append(f"length {shortest}" if shortest == longest else f"length {shortest} to {longest}")
        return ", ".join(parts)


def _missing_text(missing: int, rows: int) -> str:
    if not missing:
        return "none missing"
    share = missing / rows
    return f"{missing:,} missing ({'<0.1%' if share < 0.001 else f'{share:.1%}'})"


def _utc(value: Any) -> Any:
    """Aware datetimes in UTC (the same instant, with a time zone that source can spell)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def _renderable_bound(value: Any) -> bool:
    return not (isinstance(value, dt.time) and value.tzinfo is not None)


def _distinct(values: list) -> dict:
    """The distinct non-missing values, keyed by (type, value): 1, 1.0 and True stay apart."""
    try:
        distinct = dict(zip(zip(map(type, values), values), values))
    except TypeError:  # unhashable values (lists, dicts): told apart by their repr
        distinct = {}
        for value in values:
            try:
                distinct.setdefault((type(value), value), value)
            except TypeError:
                distinct.setdefault((type(value), repr(value)), value)
    distinct.pop((type(None), None), None)
    return distinct


def _column_values(column: pd.Series) -> tuple[list, int]:
    """A column's values as validation sees them (distinct ones, or all), and its missing count."""
    nested = isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_nested(column.dtype.pyarrow_dtype)
    if column.dtype == object or nested:  # pandas merges 1, 1.0 and True; lists have no unique()
        values = normalize_column(column)
        return values, values.count(None)
    values = normalize_column(column.unique())
    missing = int(column.isna().sum())
    if not missing and None in values:  # NaN that pandas does not call missing (Arrow floats)
        missing = normalize_column(column).count(None)
    return values, missing


class _FrameStats:
    """Column statistics of a frame, or of a file's batches."""

    def __init__(self, columns: pd.Index, categories: int, patterns: bool) -> None:
        self.categories = categories
        self.columns = {column: _ColumnStats(categories, patterns) for column in columns}
        self.rows = 0

    def add(self, frame: pd.DataFrame) -> None:
        if list(frame.columns) != list(self.columns):
            raise ValueError(f"every batch must have the same columns: {list(self.columns)}, then {list(frame.columns)}")
        self.add_columns([_column_values(frame.iloc[:, position]) for position in range(len(self.columns))],
                         len(frame))

    def add_columns(self, columns: list[tuple[list, int]], rows: int) -> None:
        """Take a batch's columns, each as its distinct non-missing values and missing count."""
        self.rows += rows
        for stats, (values, missing) in zip(self.columns.values(), columns, strict=True):
            stats.add(_distinct(values), rows, missing)

    def model(self, name: str, origin: str, ranges: bool) -> type[BaseModel]:
        fields = {}
        for (column, stats), field_name in zip(self.columns.items(), _field_names(list(self.columns))):
            annotation, arguments = stats.field(self.categories, ranges)
            if field_name != column:
                arguments["alias"] = column
            fields[field_name] = (annotation, Field(**arguments))
        return create_model(name, __doc__=f"Drafted by flowschema.infer_model from {origin}.", **fields)


def _field_names(columns: list[str]) -> list[str]:
    """A valid, distinct field name per column: the column's own name when it can be one."""
    names = [column if _usable(column) else None for column in columns]
    taken = {name for name in names if name is not None}
    for position, column in enumerate(columns):
        if names[position] is None:
            names[position] = _free_name(_cleaned(column), taken)
            taken.add(names[position])
    return names


def _identifier(name: Any) -> bool:
    """Whether source can spell ``name`` as it is: exactly a str (a subclass's own methods could
    say anything), an identifier as Python reads it (NFKC-normalised), and no keyword."""
    return (type(name) is str and str.isidentifier(name) and unicodedata.normalize("NFKC", name) == name
            and not keyword.iskeyword(name))


def _usable(name: str) -> bool:
    """Whether ``name`` can be a field's name: no private attribute, no clash with BaseModel
    or with a name the generated source uses."""
    return (_identifier(name) and not name.startswith("_") and not hasattr(BaseModel, name)
            and not name.startswith(("model_dump", "model_validate")) and name not in _SOURCE_NAMES)


def _cleaned(column: str) -> str:
    """Lower case, and "_" for every run of characters an identifier cannot hold."""
    text = unicodedata.normalize("NFKC", column.lower())
    cleaned = re.sub("_+", "_", "".join(character if f"_{character}".isidentifier() else "_"
                                        for character in text)).strip("_") or "column"
    return cleaned if cleaned.isidentifier() else f"column_{cleaned}"


def _free_name(name: str, taken: set[str]) -> str:
    if not _usable(name):
        name = f"{name}_" if _usable(f"{name}_") else f"field_{name}"
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


# --- model_source ---------------------------------------------------------------------------

LINE_LENGTH = 88
_INDENT = "    "
#: the Field keywords that become metadata, and that model_source writes back
_FIELD_CONSTRAINTS = frozenset({"gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern",
                                "strict", "allow_inf_nan", "max_digits", "decimal_places", "union_mode",
                                "coerce_numbers_to_str", "fail_fast"})
_TYPE_NAMES = {int: "int", float: "float", bool: "bool", str: "str", bytes: "bytes", list: "list",
               tuple: "tuple", dict: "dict", Decimal: "Decimal", UUID: "UUID", dt.date: "datetime.date",
               dt.datetime: "datetime.datetime", dt.time: "datetime.time", dt.timedelta: "datetime.timedelta"}
_IMPORTS = {"Decimal": "from decimal import Decimal", "UUID": "from uuid import UUID", "datetime": "import datetime",
            "zoneinfo": "import zoneinfo"}


class _Source:
    """The pieces of a module being written: imports, Literal aliases, the class body."""

    def __init__(self, reserved: set[str]) -> None:
        self.modules: set[str] = set()  # keys of _IMPORTS
        self.typing: set[str] = set()
        self.literals: dict[tuple[str, ...], str] = {}  # the values' source -> the alias's name
        self.reserved = reserved

    def type_name(self, annotation: Any, field: str) -> str:
        """Source for a field's type, adding the imports it needs."""
        if annotation is Any:
            self.typing.add("Any")
            return "Any"
        if annotation is None or annotation is type(None):
            return "None"
        if annotation in _TYPE_NAMES:
            name = _TYPE_NAMES[annotation]
            module = name.split(".")[0]
            if module in _IMPORTS:
                self.modules.add(module)
            return name
        origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is Literal:
            return self._literal(arguments, field)
        if origin in (Union, types.UnionType):
            return self._union(arguments, field)
        if origin in (list, tuple, dict) and arguments:
            inner = ", ".join("..." if argument is Ellipsis else self.type_name(argument, field)
                              for argument in arguments)
            return f"{origin.__name__}[{inner}]"
        raise TypeError(f"model_source cannot write the type {annotation!r} of field {field!r}")

    def _union(self, arguments: tuple, field: str) -> str:
        others = [argument for argument in arguments if argument is not type(None)]
        if len(others) == 1:
            inner = self.type_name(others[0], field)
        else:
            self.typing.add("Union")
            inner = f"Union[{', '.join(self.type_name(argument, field) for argument in others)}]"
        if len(others) == len(arguments):
            return inner
        self.typing.add("Optional")
        return f"Optional[{inner}]"

    def _literal(self, values: tuple, field: str) -> str:
        """A name for ``Literal[values]``, defined before the class (one value a line if long)."""
        for value in values:
            if value is not None and type(value) not in (str, int, bool):
                raise TypeError(f"model_source cannot write the Literal value {value!r} of field {field!r}")
        self.typing.add("Literal")
        key = tuple(self.value(value, field) for value in values)
        if key not in self.literals:
            base = "".join(part[:1].upper() + part[1:] for part in field.split("_"))
            base = base if _identifier(base) else "Values"
            alias, number = base, 2
            while alias in self.reserved or alias in self.literals.values():
                alias, number = f"{base}{number}", number + 1
            self.literals[key] = alias
        return self.literals[key]

    def value(self, value: Any, field: str) -> str:
        """Source for a constant: a default, a bound, a Literal value. Only values of exactly the
        types below are written, by those types' own repr: a subclass's repr could be any code."""
        kind = type(value)
        if value is None or kind in (bool, int):
            return repr(value)
        if kind is float:
            return repr(value) if math.isfinite(value) else f'float("{value}")'
        if kind is str:
            return _string(value)
        if kind is Decimal:
            self.modules.add("Decimal")
            return f"Decimal({_string(str(value))})"
        if kind is UUID:
            self.modules.add("UUID")
            return f"UUID({_string(str(value))})"
        if kind in (dt.date, dt.datetime, dt.time, dt.timedelta):
            return self._temporal(value, field)
        raise TypeError(f"model_source cannot write the value of field {field!r}: a {kind.__name__} (only None, "
                        f"bool, int, float, str, Decimal, UUID, date, datetime, time and timedelta, of exactly "
                        f"those types)")

    def _temporal(self, value: dt.date | dt.time | dt.timedelta, field: str) -> str:
        self.modules.add("datetime")
        zone = getattr(value, "tzinfo", None)
        if zone is None or type(zone) is dt.timezone:
            return repr(value)
        if isinstance(zone, zoneinfo.ZoneInfo) and zone.key:
            self.modules.add("zoneinfo")
            key = _text(zone.key, f"the time zone of field {field!r}")
            return f"{repr(value.replace(tzinfo=None))[:-1]}, tzinfo=zoneinfo.ZoneInfo({key}))"
        raise TypeError(f"model_source cannot write the time zone of {value!r} (field {field!r})")

    def module(self, class_lines: list[str], uses_field: bool) -> str:
        """The whole module: imports (sorted as isort does), the Literal aliases, the class."""
        imports = [_IMPORTS[name] for name in self.modules]
        if self.typing:
            imports.append(f"from typing import {', '.join(sorted(self.typing))}")
        standard = sorted(line for line in imports if line.startswith("import "))
        standard += sorted(line for line in imports if line.startswith("from "))
        blocks = ["\n".join(standard)] if standard else []
        blocks.append(f"from pydantic import {'BaseModel, Field' if uses_field else 'BaseModel'}")
        if self.literals:
            blocks.append("\n".join(_assignment(alias, values) for values, alias in self.literals.items()))
        return "\n\n".join(blocks) + "\n\n\n" + "\n".join(class_lines) + "\n"


def _string(text: str) -> str:
    """A string literal, in double quotes where that needs no escapes (as black writes them)."""
    literal = str.__repr__(text)
    return f'"{literal[1:-1]}"' if literal[0] == "'" and '"' not in text else literal


def _text(text: Any, what: str) -> str:
    """``text`` as a string literal; a ``TypeError`` naming ``what`` unless it is exactly a str
    (an object's or a subclass's own repr or format could be any code)."""
    if type(text) is not str:
        raise TypeError(f"model_source cannot write {what}: a {type(text).__name__}, not a str")
    return _string(text)


def _checked_name(name: Any, what: str, of: str = "") -> str:
    """``name``, to be written as it is; a ``ValueError`` naming it unless it is an identifier."""
    if not _identifier(name):
        shown = str.__repr__(name) if isinstance(name, str) else f"of type {type(name).__name__}"
        raise ValueError(f"model_source cannot write {what} {shown}{of}: a name in source must be a Python "
                         f"identifier and no keyword")
    return name


def _assignment(alias: str, values: tuple[str, ...]) -> str:
    """``Alias = Literal[...]``, one value a line when it does not fit on one."""
    line = f"{alias} = Literal[{', '.join(values)}]"
    if len(line) <= LINE_LENGTH:
        return line
    return "\n".join([f"{alias} = Literal[", *(f"{_INDENT}{value}," for value in values), "]"])


def _field_lines(name: str, annotation: str, arguments: list[str]) -> list[str]:
    """``name: annotation = Field(...)`` laid out as black lays it out."""
    head = f"{_INDENT}{name}: {annotation}"
    if not arguments:
        return [head]
    if arguments == ["default=None"]:
        return [f"{head} = None"]
    line = f"{head} = Field({', '.join(arguments)})"
    if len(line) <= LINE_LENGTH:
        return [line]
    body = f"{_INDENT * 2}{', '.join(arguments)}"
    if len(body) <= LINE_LENGTH:
        return [f"{head} = Field(", body, f"{_INDENT})"]
    return [f"{head} = Field(", *(f"{_INDENT * 2}{argument}," for argument in arguments), f"{_INDENT})"]


def _field_arguments(name: str, info: FieldInfo, source: _Source) -> list[str]:
    if info.default_factory is not None:
        raise ValueError(f"model_source cannot write the default_factory of field {name!r}")
    arguments = [] if info.is_required() else [f"default={source.value(info.default, name)}"]
    if info.alias is not None:
        arguments.append(f"alias={_text(info.alias, f'the text of field {name!r}')}")
    for item in info.metadata:
        arguments += [f"{key}={source.value(value, name)}" for key, value in _constraint_items(item, name)]
    if info.description is not None:
        arguments.append(f"description={_text(info.description, f'the text of field {name!r}')}")
    return arguments


def _constraint_items(item: Any, field: str) -> list[tuple[str, Any]]:
    """The ``Field`` keywords that put ``item`` (a ``Ge``, ``MaxLen``, a pattern...) in metadata."""
    if type(item).__name__ == "_PydanticGeneralMetadata":  # pattern, max_digits, ...
        items = list(vars(item).items())
    elif dataclasses.is_dataclass(item) and type(item).__module__ in ("annotated_types", "pydantic.types"):
        items = [(attribute.name, getattr(item, attribute.name)) for attribute in dataclasses.fields(item)]
    else:
        items = [("", None)]
    if all(type(key) is str and key in _FIELD_CONSTRAINTS for key, _ in items):  # keys are written as they are
        return items
    raise TypeError(f"model_source cannot write the constraint {item!r} of field {field!r}")


def model_source(model: type[BaseModel]) -> str:
    """Python source of a module defining ``model``: imports, ``Literal`` aliases, the class.

    Works for the models ``infer_model`` drafts, and for hand-written ones made only of fields
    (plain types, ``Optional``/``Union``/``Literal``, constraints, defaults, aliases and
    descriptions). Executing the source gives a model with the same fields, the same
    ``model_json_schema()`` and so the same verdicts; anything else (validators, config,
    methods, other field settings) raises a ``TypeError`` or ``ValueError`` naming it.

    >>> from pydantic import BaseModel, Field
    >>> class Point(BaseModel):
    ...     x: int = Field(ge=0, description="across")
    >>> print(model_source(Point))
    from pydantic import BaseModel, Field
    <BLANKLINE>
    <BLANKLINE>
    class Point(BaseModel):
        x: int = Field(ge=0, description="across")
    <BLANKLINE>
    """
    _check_fields_only(model)
    class_name = _checked_name(model.__name__, "a model named")
    for name in model.model_fields:
        _checked_name(name, "the field named", f" of {class_name}")
    source = _Source(reserved=set(model.model_fields) | {class_name} | _SOURCE_NAMES)
    lines = [f"class {class_name}(BaseModel):"]
    if model.__doc__:
        lines += [f"{_INDENT}{_docstring(model.__doc__, class_name)}", ""]
    uses_field = False
    for name, info in model.model_fields.items():
        arguments = _field_arguments(name, info, source)
        uses_field |= arguments not in ([], ["default=None"])
        lines += _field_lines(name, source.type_name(info.annotation, name), arguments)
    if len(lines) == 1:
        lines.append(f"{_INDENT}pass")
    text = source.module(lines, uses_field)
    _check_faithful(model, text)
    return text


def _docstring(doc: Any, class_name: str) -> str:
    """A triple-quoted docstring where the text allows it (printable, so no line break that the
    parser would read back as a newline), else an escaped string literal."""
    literal = _text(doc, f"the docstring of {class_name}")
    plain = doc.isprintable() and '"' not in doc and "\\" not in doc and doc == doc.strip()
    return f'"""{doc}"""' if plain else literal


def _check_fields_only(model: Any) -> None:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"model_source takes a pydantic BaseModel subclass, got {model!r}")
    if issubclass(model, RootModel):
        raise TypeError(f"model_source cannot write {model.__name__}: a RootModel")
    decorators = model.__pydantic_decorators__
    used = [kind for kind in ("validators", "field_validators", "root_validators", "field_serializers",
                              "model_serializers", "model_validators", "computed_fields") if getattr(decorators, kind)]
    if used:
        raise ValueError(f"model_source cannot write {model.__name__}: it has {', '.join(used)} "
                         f"(only fields can be written as source)")
    if model.model_config:
        raise ValueError(f"model_source cannot write {model.__name__}: it sets model_config {dict(model.model_config)}")
    if model.__private_attributes__:
        raise ValueError(f"model_source cannot write {model.__name__}: it has private attributes")
    for cls in model.__mro__[: model.__mro__.index(BaseModel)]:
        methods = [name for name, value in vars(cls).items()
                   if not name.startswith("__") and (callable(value) or isinstance(value, (property, classmethod,
                                                                                           staticmethod)))]
        if methods:
            raise ValueError(f"model_source cannot write {model.__name__}: {cls.__name__} defines {methods}")


def _check_faithful(model: type[BaseModel], text: str) -> None:
    """Execute ``text`` and compare its model with ``model``, field by field and schema."""
    namespace: dict[str, Any] = {"__name__": f"flowschema_source_{model.__name__}"}
    try:
        exec(compile(text, f"<model_source of {model.__name__}>", "exec", dont_inherit=True), namespace)  # noqa: S102
    except Exception as exc:
        raise ValueError(f"model_source cannot write {model.__name__}: its source fails to run "
                         f"({type(exc).__name__}: {exc})") from exc
    rebuilt = namespace[model.__name__]
    for name, info in model.model_fields.items():
        if not _same_field(info, rebuilt.model_fields.get(name)):
            raise ValueError(f"model_source cannot write field {name!r} of {model.__name__} faithfully: "
                             f"{info!r} (only types, defaults, aliases, constraints and descriptions)")
    if rebuilt.model_json_schema() != model.model_json_schema():
        raise ValueError(f"model_source cannot write {model.__name__} faithfully: its JSON schema differs")


def _same_field(info: FieldInfo, other: FieldInfo | None) -> bool:
    if other is None or info.annotation != other.annotation:
        return False
    settings = [(key, repr(value)) for key, value in info.__repr_args__() if key != "annotation"]
    return settings == [(key, repr(value)) for key, value in other.__repr_args__() if key != "annotation"]
