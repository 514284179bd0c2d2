"""Screens: vectorised tests that vouch for the cells a field's own validator certainly accepts.

A screen only ever says "valid"; every cell it is not sure of goes through the field's pydantic
validator like any other value, so a screen can make a run faster but never change its answer.
It vouches only for the combinations of field kind, column family and constraint below, each
proven against ``model_validate`` by the exactness matrix (``tests/test_matrix.py``); any other
combination has no screen:

============  =====================================  ================================================
field kind    column families it reads               constraints it checks
============  =====================================  ================================================
``int``       integer; float (lax only: a whole      ``ge``/``gt``/``le``/``lt`` (as pydantic takes
              float of magnitude below 2**53)        them: whole numbers), ``multiple_of``
``float``     float (any width, read as float64)     ``ge``/``gt``/``le``/``lt`` (as float64),
                                                     ``allow_inf_nan``
``bool``      bool                                   none
``str``       Arrow string                           ``min_length``/``max_length`` (code points), and
                                                     no ``str_*`` transform in the config
``datetime``  datetime64 / Arrow timestamp           none
``Literal``   Arrow string                           its ``str`` values (a cell equal to one of them)
============  =====================================  ================================================

A numpy column of integers (into an ``int``) or floats (into a ``float``) whose least and
greatest values the screen vouches for is vouched for whole, without a comparison per cell (the
bounds are an interval; not with ``multiple_of``).

Each kind may be ``Optional`` (a missing cell is then valid) and strict. Integers are compared as
integers (never through float64), floats in float64 (a float32 ``0.1`` is ``0.10000000149...``,
as pydantic sees it).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["SCREENED_FAMILIES", "Screen", "column_family", "screen_for"]

_BOUNDS = ("ge", "gt", "le", "lt")
_COMPARE: dict[str, Callable] = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}
_SCREENED_KEYS = {
    "int": frozenset(("type", "strict", "metadata", "multiple_of", *_BOUNDS)),
    "float": frozenset(("type", "strict", "metadata", "allow_inf_nan", *_BOUNDS)),
    "bool": frozenset(("type", "strict", "metadata")),
    "str": frozenset(("type", "strict", "metadata", "min_length", "max_length")),
    "datetime": frozenset(("type", "strict", "metadata", "microseconds_precision")),  # precision: of parsed text
    "literal": frozenset(("type", "expected", "metadata")),
}
_STRING_CONFIG = ("str_strip_whitespace", "str_to_lower", "str_to_upper", "str_min_length", "str_max_length")
#: per field kind, the column families its screen reads ("float" for an int field: lax only)
SCREENED_FAMILIES = {
    "int": ("integer", "float"),
    "float": ("float",),
    "bool": ("bool",),
    "str": ("string",),
    "datetime": ("datetime",),
    "literal": ("string",),
}
#: the largest magnitude below which every float64 integer is exact
_EXACT_FLOAT_INTS = 2**53


@dataclass(frozen=True)
class Screen:
    """The screen of one field: its kind, its constraints (pydantic's own values), whether a
    missing cell is valid (``Optional``), whether the field is strict, and ``allow_inf_nan``."""

    kind: str
    bounds: tuple[tuple[str, int | float], ...]
    multiple_of: int | None
    lengths: tuple[int | None, int | None]
    nullable: bool
    strict_field: bool
    allow_inf_nan: bool
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """The screen in words, for ``flowschema.explain``."""
        parts = [f"{key} {value}" for key, value in self.bounds]
        if self.multiple_of is not None:
            parts.append(f"multiple_of {self.multiple_of}")
        parts += [f"{key} {value}" for key, value in zip(("min_length", "max_length"), self.lengths)
                  if value is not None]
        if self.choices:
            parts.append(f"one of {', '.join(map(repr, self.choices))}")
        return f"a vectorised screen ({', '.join([self.kind, *parts])})"

    def fits(self, column: Any, strict: bool | None = None) -> bool:
        """Whether the screen reads a column of this kind (a string column cannot vouch for ints)."""
        return self._reads(column_family(column), strict)

    def _reads(self, family: str | None, strict: bool | None) -> bool:
        if family not in SCREENED_FAMILIES[self.kind]:
            return False
        return not (family == "float" and self.kind == "int" and (strict or self.strict_field))  # a strict int

    def unsure(self, column: Any, strict: bool | None) -> np.ndarray | None:
        """Per row, whether the screen cannot vouch for the cell; None: no screen for this column."""
        family = column_family(column)
        if not self._reads(family, strict):
            return None
        if self._vouches_for_range(family, column):
            return np.zeros(len(column), dtype=bool)
        if family == "float":  # a null and a NaN alike: None to a row, and never sure as a value
            values = np.asarray(_as_float64(column), dtype=np.float64)
            sure = self._sure_whole_floats(values) if self.kind == "int" else self._sure_floats(values)
            return ~(sure | np.isnan(values)) if self.nullable else ~sure
        missing = _missing(column)
        if family == "integer":
            sure = self._sure_ints(_as_integers(column))
        elif family == "string":
            sure = self._sure_strings(column)
        else:  # bool into bool, datetime into datetime: any present value is valid
            sure = np.ones(len(missing), dtype=bool)
        return ~np.where(missing, self.nullable, sure)

    def _vouches_for_range(self, family: str, column: Any) -> bool:
        """Whether the screen vouches for a whole numpy column at once, by its least and greatest
        values: bounds make an interval, so every value between two it vouches for passes too.
        Integers into an int field and floats into a float field, without ``multiple_of`` (not an
        interval, nor is a float's wholeness); a float column holding NaN has NaN for both ends,
        which the screen does not vouch for (the cells then go one by one)."""
        if not isinstance(column, np.ndarray) or not len(column) or self.multiple_of is not None:
            return False
        if family == "integer":
            return bool(self._sure_ints(np.array([column.min(), column.max()], dtype=column.dtype)).all())
        if family == "float" and self.kind == "float":
            return bool(self._sure_floats(np.array([column.min(), column.max()], dtype=np.float64)).all())
        return False

    def _sure_ints(self, values: np.ndarray) -> np.ndarray:
        """Integers against integer bounds, compared exactly whatever their size."""
        sure = np.ones(len(values), dtype=bool)
        for key, bound in self.bounds:
            sure &= _compare_ints(values, _COMPARE[key], bound)
        if self.multiple_of is not None:  # pydantic takes only a positive multiple_of
            divisor = self.multiple_of
            if divisor <= np.iinfo(values.dtype).max:
                sure &= np.remainder(values, values.dtype.type(divisor)) == 0
            else:  # only 0 is surely a multiple of a divisor beyond the column's range
                sure &= values == 0
        return sure

    def _sure_whole_floats(self, values: np.ndarray) -> np.ndarray:
        """Floats into a lax int: a whole float of magnitude below 2**53 is that int, exactly; within
        that range a bound clipped to +-2**53, and a divisor clipped to 2**53, compare exactly. (NaN
        is not whole; between a lower and an upper bound inside +-2**53 every value is finite and
        below 2**53, so that is not tested again.)"""
        with np.errstate(invalid="ignore"):  # inf and NaN: not sure anyway
            sure = values == np.trunc(values)
            if not self._inside_exact_floats():
                sure &= np.isfinite(values) & (np.abs(values) < _EXACT_FLOAT_INTS)
            for key, bound in self.bounds:
                clipped = min(max(bound, -_EXACT_FLOAT_INTS), _EXACT_FLOAT_INTS)
                sure &= _COMPARE[key](values, float(clipped))
            if self.multiple_of is not None:
                sure &= np.fmod(values, float(min(self.multiple_of, _EXACT_FLOAT_INTS))) == 0
        return sure

    def _inside_exact_floats(self) -> bool:
        """Whether the bounds hold every value strictly between -2**53 and 2**53."""
        lower = [bound for key, bound in self.bounds if key in ("ge", "gt")]
        upper = [bound for key, bound in self.bounds if key in ("le", "lt")]
        return any(bound > -_EXACT_FLOAT_INTS for bound in lower) and any(bound < _EXACT_FLOAT_INTS for bound in upper)

    def _sure_floats(self, values: np.ndarray) -> np.ndarray:
        """Floats against float bounds, in float64 as pydantic compares them."""
        sure = ~np.isnan(values) if self.allow_inf_nan else np.isfinite(values)
        for key, bound in self.bounds:
            sure &= _COMPARE[key](values, float(bound))
        return sure

    def _sure_strings(self, column: Any) -> np.ndarray:
        """Arrow strings against ``min_length``/``max_length``, in code points as pydantic counts,
        or for a ``Literal``, equal to one of its ``str`` values (missing: False, masked by the caller)."""
        import pyarrow.compute as pc

        arrow = column.__arrow_array__()
        if self.kind == "literal":
            return pc.is_in(arrow, value_set=pa.array(self.choices, type=arrow.type)).to_numpy(zero_copy_only=False)
        lengths = pc.utf8_length(arrow).to_numpy()  # missing: NaN, masked by the caller
        low, high = self.lengths
        sure = lengths >= (low or 0)
        if high is not None:
            sure &= lengths <= high
        return sure


def screen_for(schema: dict, config: dict) -> Screen | None:
    """The screen of a field's core schema, if it is one a screen is proven exact for.

    >>> screen_for({"type": "int", "ge": 0}, {}).describe()
    'a vectorised screen (int, ge 0)'
    >>> screen_for({"type": "int", "ge": 0, "ref": "x"}, {}) is None
    True
    """
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
    choices = tuple(value for value in schema.get("expected", ()) if type(value) is str)  # a str Enum member: not one
    if kind == "literal" and not choices:
        return None
    numbers = {key: schema[key] for key in (*_BOUNDS, "multiple_of") if key in schema}
    if not all(type(value) in (int, float) for value in numbers.values()):
        return None  # a bound pydantic would not take as it is (a Decimal, a bool): no screen
    bounds = tuple((key, numbers[key]) for key in _BOUNDS if key in numbers)
    lengths = (schema.get("min_length"), schema.get("max_length"))
    strict_field = bool(schema.get("strict") or config.get("strict"))
    allow_inf_nan = schema.get("allow_inf_nan", config.get("allow_inf_nan", True))
    return Screen(kind, bounds, numbers.get("multiple_of"), lengths, nullable, strict_field, allow_inf_nan, choices)


def _compare_ints(values: np.ndarray, compare: Callable, bound: int) -> np.ndarray:
    """``compare(values, bound)`` exactly, for a bound of any size."""
    info = np.iinfo(values.dtype)
    if info.min <= bound <= info.max:
        return compare(values, values.dtype.type(bound))
    return np.full(len(values), bool(compare(info.min, bound)))  # every value lies on one side of it


# -- column families --------------------------------------------------------------------------------


def column_family(column: Any) -> str | None:
    """What a screen can read a column as: ``"integer"``, ``"float"``, ``"bool"``, ``"string"``
    (Arrow strings), ``"datetime"``, or None.

    >>> column_family(np.array([1, 2])), column_family(pd.array([1.5], dtype="Float64"))
    ('integer', 'float')
    """
    dtype = getattr(column, "dtype", None)
    if isinstance(column, np.ndarray):
        return _NUMPY_FAMILIES.get(dtype.kind)
    if isinstance(dtype, pd.ArrowDtype):
        arrow_type = dtype.pyarrow_dtype
        for family, predicate in _ARROW_FAMILIES:
            if predicate(arrow_type):
                return family
        return None
    if isinstance(column, (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)):
        return _NUMPY_FAMILIES[dtype.numpy_dtype.kind]
    if isinstance(dtype, pd.StringDtype):
        return "string" if dtype.storage == "pyarrow" else None
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime"
    return None


_NUMPY_FAMILIES = {"i": "integer", "u": "integer", "f": "float", "b": "bool", "M": "datetime"}
_ARROW_FAMILIES = (
    ("integer", pa.types.is_integer),
    ("float", pa.types.is_floating),
    ("bool", pa.types.is_boolean),
    ("string", lambda arrow_type: pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)),
    ("datetime", pa.types.is_timestamp),
)


def _missing(column: Any) -> np.ndarray:
    """Per row, whether a cell of a column that is not a float column is missing (None, NaT, ``pd.NA``)."""
    if isinstance(column, np.ndarray):
        return np.isnat(column) if column.dtype.kind == "M" else np.zeros(len(column), dtype=bool)
    return column.isna()


def _as_float64(column: Any) -> np.ndarray:
    """A float column's values as float64, missing as NaN."""
    if isinstance(column, np.ndarray):
        return column
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _as_integers(column: Any) -> np.ndarray:
    """An integer column as a numpy array (a masked or Arrow one as int64 or uint64, missing cells
    as 0: the caller masks them)."""
    if isinstance(column, np.ndarray):
        return column
    numpy_type = np.uint64 if np.dtype(column.dtype.numpy_dtype).kind == "u" else np.int64
    return column.to_numpy(dtype=numpy_type, na_value=numpy_type(0))
