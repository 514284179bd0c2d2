"""The enumerated matrix of issue 18: every field kind x every column dtype x edge values.

``FIELDS`` holds one field per (kind, variant): each kind plain, constrained at its edges (bounds
as ints and as floats, ``multiple_of``, lengths, patterns), ``Optional`` and strict
(``Field(strict=True)``); a variant pydantic refuses to build is left out. ``COLUMNS`` builds,
per column dtype the library reads, one Series holding that dtype's edge values (a value the
dtype cannot hold is left out, never a test skip). ``BAD_COLUMNS`` holds the cells no Python
value can hold (issue 18, items 12 and 18).

A matrix frame feeds the one column to every field, a copy per field under the field's name, so
one wide model and one frame per dtype check every (field, dtype, value) cell at once
(``dtype_case``; ``COMPACT_FIELDS`` on the other executors, ``LENIENT_FIELDS`` for coerce).
``cell_differences`` and ``coerce_differences`` compare FlowSchema's answer with pydantic's, as
``tests/oracle.py`` computes it from its own normaliser, and name each differing cell.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

import dateutil.tz
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytz
from pydantic import UUID4, AwareDatetime, BaseModel, Field, NaiveDatetime, create_model

from flowschema import ERRORS_COLUMN, VALID_COLUMN
from tests.oracle import expected_coerced_frame, expected_error_dicts, reference_row, typed

# -- the field kinds ---------------------------------------------------------------------------------


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


class Level(enum.IntEnum):
    ONE = 1
    TWO = 2


class Tone(enum.StrEnum):
    WARM = "warm"
    COLD = "cold"


class Sub(BaseModel):
    a: int
    b: str | None = None


UTC = dt.UTC
F32_MAX = float(np.finfo(np.float32).max)

#: per kind: its annotation and its constrained variants (name -> Field options)
KINDS: dict[str, tuple[Any, dict[str, dict]]] = {
    "int": (int, {
        "ge_0": {"ge": 0}, "gt_0": {"gt": 0}, "le_0_1": {"le": 0.1}, "ge_m0_5": {"ge": -0.5}, "lt_0_5": {"lt": 0.5},
        "le_127": {"le": 127}, "ge_m128": {"ge": -128}, "le_255_float": {"le": 255.0},
        "le_2p53": {"le": 2**53}, "le_2p53_float": {"le": 2.0**53}, "ge_m2p53_float": {"ge": -(2.0**53)},
        "lt_2p53_float": {"lt": 2.0**53}, "le_int64_max": {"le": 2**63 - 1}, "ge_int64_min": {"ge": -(2**63)},
        "lt_2p63_float": {"lt": 2.0**63}, "le_2p64": {"le": 2**64}, "gt_m2p64": {"gt": -(2**64)},
        "multiple_of_2": {"multiple_of": 2}, "multiple_of_3": {"multiple_of": 3},
        "multiple_of_2p70": {"multiple_of": 2**70}, "multiple_of_2_float": {"multiple_of": 2.0},
    }),
    "float": (float, {
        "le_0_1": {"le": 0.1}, "lt_0_1": {"lt": 0.1}, "ge_0_1": {"ge": 0.1}, "gt_0": {"gt": 0}, "le_0": {"le": 0},
        "ge_0_float": {"ge": 0.0}, "le_2p53": {"le": 2**53}, "le_2p53_float": {"le": 2.0**53},
        "lt_2p53_plus_1": {"lt": 2**53 + 1}, "le_f32_max": {"le": F32_MAX}, "le_65504": {"le": 65504},
        "finite": {"allow_inf_nan": False}, "finite_ge_0": {"ge": 0, "allow_inf_nan": False},
        "multiple_of_0_5": {"multiple_of": 0.5}, "multiple_of_0_1": {"multiple_of": 0.1},
        "multiple_of_2p70": {"multiple_of": 2**70},
    }),
    "str": (str, {
        "min_1": {"min_length": 1}, "max_3": {"max_length": 3}, "max_0": {"max_length": 0},
        "pattern": {"pattern": r"^[ab]+$"}, "pattern_search": {"pattern": r"\d"},
    }),
    "bool": (bool, {}),
    "bytes": (bytes, {"max_2": {"max_length": 2}, "min_1": {"min_length": 1}}),
    "decimal": (Decimal, {
        "digits": {"max_digits": 4, "decimal_places": 2}, "ge_0": {"ge": 0}, "le_0_1_float": {"le": 0.1},
        "le_0_1": {"le": Decimal("0.1")}, "multiple_of_0_5": {"multiple_of": Decimal("0.5")},
        "inf_nan": {"allow_inf_nan": True},
    }),
    "uuid": (uuid.UUID, {}),
    "uuid4": (UUID4, {}),
    "date": (dt.date, {"ge_2000": {"ge": dt.date(2000, 1, 1)}, "lt_1970_01_02": {"lt": dt.date(1970, 1, 2)}}),
    "datetime": (dt.datetime, {
        "lt_2050": {"lt": dt.datetime(2050, 1, 1)}, "ge_2000": {"ge": dt.datetime(2000, 1, 1)},
        "gt_2000_utc": {"gt": dt.datetime(2000, 1, 1, tzinfo=UTC)},
    }),
    "naive_datetime": (NaiveDatetime, {"lt_2050": {"lt": dt.datetime(2050, 1, 1)}}),
    "aware_datetime": (AwareDatetime, {"lt_2050_utc": {"lt": dt.datetime(2050, 1, 1, tzinfo=UTC)}}),
    "time": (dt.time, {"ge_1h": {"ge": dt.time(1)}}),
    "timedelta": (dt.timedelta, {"ge_0": {"ge": dt.timedelta(0)}, "le_1d": {"le": dt.timedelta(days=1)}}),
    "literal": (Literal["x", "y", 1], {}),
    "literal_bool": (Literal[True], {}),
    "enum": (Shade, {}),
    "int_enum": (Level, {}),
    "str_enum": (Tone, {}),
    "list": (list[int], {"max_2": {"max_length": 2}, "min_1": {"min_length": 1}}),
    "dict": (dict[str, int], {"max_1": {"max_length": 1}}),
    "model": (Sub, {}),
    "any": (Any, {}),
}


def _variants(kinds: dict[str, tuple[Any, dict[str, dict]]]) -> dict[str, tuple[Any, dict]]:
    """Per kind: plain, each constraint, Optional (plain and with its first constraint) and
    strict, as (annotation, Field options)."""
    variants: dict[str, tuple[Any, dict]] = {}
    for kind, (annotation, constrained) in kinds.items():
        variants[kind] = (annotation, {})
        variants.update({f"{kind}__{name}": (annotation, options) for name, options in constrained.items()})
        variants[f"{kind}__optional"] = (annotation | None, {"default": None})
        for name, options in list(constrained.items())[:1]:
            variants[f"{kind}__optional_{name}"] = (annotation | None, {"default": None, **options})
        variants[f"{kind}__strict"] = (annotation, {"strict": True})
    return variants


def _lenient(annotation: Any, options: dict) -> tuple[Any, Any]:
    """The variant, or else any value as it is: every row is valid, so ``coerce=True`` writes
    every cell's validated value (the annotation is a union: its column is ``object``)."""
    inner = {key: value for key, value in options.items() if key != "default"}
    member = Annotated[annotation, Field(**inner)] if inner else annotation
    return member | Any, Field(union_mode="left_to_right", **({"default": None} if "default" in options else {}))


def _fields(lenient: bool = False) -> dict[str, tuple[Any, Any]]:
    """``create_model`` definitions of every variant; one pydantic refuses is left out."""
    fields = {}
    for name, (annotation, options) in _variants(KINDS).items():
        definition = _lenient(annotation, options) if lenient else (annotation, Field(**options))
        try:
            create_model("Probe", value=definition)
        except Exception:  # noqa: BLE001, S112  (strict on a Literal or Any, a float multiple_of on an int)
            continue
        fields[name] = definition
    return fields


FIELDS = _fields()
#: on the multiprocessing and Ray executors: each kind plain and Optional (what travels to the
#: workers and back depends on the column's dtype, not on the field's constraints)
COMPACT_FIELDS = {name: definition for name, definition in FIELDS.items() if "__" not in name or
                  name.endswith("__optional")}
#: for coerce=True: each variant, or else any value as it is (``_lenient``)
LENIENT_FIELDS = _fields(lenient=True)
MODELS = {"wide": FIELDS, "compact": COMPACT_FIELDS, "lenient": LENIENT_FIELDS,
          "compact_lenient": {name: LENIENT_FIELDS[name] for name in COMPACT_FIELDS if name in LENIENT_FIELDS}}


@cache
def matrix_model(name: str = "wide") -> type[BaseModel]:
    """One model with a field per variant of ``MODELS[name]``, each reading the column of its
    own name."""
    return create_model(f"Matrix_{name}", **MODELS[name])


# -- edge values -------------------------------------------------------------------------------------

NEXT = math.nextafter
INF = float("inf")
INTS = [0, 1, -1, 2, 3, 127, 128, -128, -129, 255, 256, 32767, -32768, 65535, 2**31 - 1, -(2**31), 2**32 - 1,
        2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1]
BIG_INTS = [2**64, 2**70, 3 * 2**70, -(2**63) - 1]
FLOATS = [0.0, -0.0, 0.1, NEXT(0.1, 1), NEXT(0.1, 0), float(np.float32(0.1)), 0.5, -0.5, 1.0, 1.5, 2.0, 3.0, 127.0,
          255.0, 2.0**53 - 1, 2.0**53, NEXT(2.0**53, INF), -(2.0**53), NEXT(2.0**63, 0), 2.0**63, -(2.0**63), 2.0**64,
          2.0**70, 65504.0, F32_MAX, NEXT(F32_MAX, INF), 1e308, 5e-324, float("nan"), INF, -INF]
STRS = ["", "a", "ab", "abc", "abcd", "é", "x", "y", "z", "1", "0", "-1", "1.0", "0.1", "1e3", "9007199254740993",
        "true", "yes", "light", "warm", "ONE", "b", " a ", "2020-01-01", "2020-01-01T00:00:00",
        "2020-01-01T00:00:00+02:00", "01:02:03", "P1D", "6c1e0c1a-5b1f-4a0b-8b1a-2f3e4d5c6b7a", "[1, 2]", '{"a": 1}']
BYTES = [b"", b"a", b"ab", b"abc", b"\xff", b"1", b"light"]
DECIMALS = [Decimal(0), Decimal("-0"), Decimal("0.1"), Decimal("0.10"), Decimal.from_float(0.1), Decimal("0.5"),
            Decimal("1.00"), Decimal("12.34"), Decimal("123.45"), Decimal("99.999"), Decimal("1E+2"),
            Decimal(2**53 + 1), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")]
UUIDS = [uuid.UUID(int=0), uuid.UUID("6c1e0c1a-5b1f-4a0b-8b1a-2f3e4d5c6b7a"),
         uuid.UUID("a8098c1a-f86e-11da-bd1a-00112444be1e")]
DATES = [dt.date(1, 1, 1), dt.date(1970, 1, 1), dt.date(1970, 1, 2), dt.date(1999, 12, 31), dt.date(2000, 1, 1),
         dt.date(2020, 2, 29), dt.date(9999, 12, 31)]
NAIVE = [dt.datetime(1970, 1, 1), dt.datetime(1999, 12, 31, 23, 59, 59, 999999), dt.datetime(2000, 1, 1),
         dt.datetime(2000, 1, 1, 0, 0, 0, 1), dt.datetime(2020, 3, 29, 1, 30, 15, 123456),
         dt.datetime(2049, 12, 31, 23, 59, 59, 999999), dt.datetime(2050, 1, 1), dt.datetime(1, 1, 1),
         dt.datetime(9999, 12, 31, 23, 59, 59, 999999)]
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
AWARE = [dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
         dt.datetime(2020, 10, 25, 2, 30, tzinfo=PARIS), dt.datetime(2020, 10, 25, 2, 30, fold=1, tzinfo=PARIS),
         pytz.timezone("Europe/Paris").localize(dt.datetime(2020, 7, 1)),
         dt.datetime(2020, 7, 1, tzinfo=dateutil.tz.gettz("America/New_York")),
         dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
         dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1), "CET")),
         dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1), "WAT")),
         dt.datetime(2049, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), dt.datetime(2050, 1, 1, tzinfo=UTC)]
TIMES = [dt.time(0), dt.time(0, 59, 59, 999999), dt.time(1), dt.time(12, 30, 0, 1), dt.time(23, 59, 59, 999999),
         dt.time(1, tzinfo=UTC), dt.time(2, 30, fold=1)]
TIMEDELTAS = [dt.timedelta(0), dt.timedelta(microseconds=-1), dt.timedelta(microseconds=1), dt.timedelta(seconds=1),
              dt.timedelta(days=1), dt.timedelta(days=1, microseconds=1), dt.timedelta(days=-1), dt.timedelta.max,
              dt.timedelta.min]
ENUMS = [Shade.LIGHT, Level.ONE, Tone.WARM, "light", "warm", "dark", 1, 2, 1.0, True]
LISTS = [[], [1], [1, 2], [1, 2], [1, 2, 3], [1, "2"], [1.0], [1.5], [True], [None], (1, 2), np.array([1, 2]),
         np.array([1.5, np.nan]), frozenset({1})]
DICTS = [{}, {"k": 1}, {"k": "1"}, {"k": 1.5}, {1: 2}, {"a": 1}, {"a": 1}, {"a": 1, "b": "x"}, {"a": "x"},
         {"a": 1, "b": None}, {"a": 1, "b": 2}, {"a": np.int64(1), "b": np.nan}]
NUMPY_SCALARS = [np.int64(5), np.int8(-1), np.uint64(2**64 - 1), np.float32(0.1), np.float16(0.5), np.float64(-0.0),
                 np.bool_(True), np.datetime64("2020-01-01"), np.datetime64("2020-01-01T00:00:00.000000001", "ns"),
                 np.timedelta64(1, "D"), np.str_("a"), np.bytes_(b"a"), np.float64("nan"), np.datetime64("NaT")]
PANDAS_SCALARS = [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-01 00:00:00.000000001"),
                  pd.Timestamp(dt.datetime(2020, 10, 25, 2, 30), tz="Europe/Paris", fold=1), pd.Timedelta(1, "ns"),
                  pd.Timedelta("1D"), pd.NaT, pd.NA]
MIXED = [1, 1.0, "1", True, b"1", bytearray(b"1"), Decimal(1), None, [1], {"a": 1}, dt.datetime(2020, 1, 1),
         dt.date(2020, 1, 1), dt.time(1), dt.timedelta(1), uuid.UUID(int=1), Shade.LIGHT, np.int64(1), float("nan")]

DATETIME_TEXTS = ["1970-01-01", "1999-12-31T23:59:59.999999999", "2000-01-01", "2000-01-01T00:00:00.000001",
                  "2000-01-01T00:00:00.000000001", "2020-03-29T01:30:15.123456789", "2020-10-25T00:30",
                  "2020-10-25T01:30", "2049-12-31T23:59:59.999999", "2050-01-01", "1677-09-22", "2262-04-11",
                  "0001-01-01", "9999-12-31T23:59:59.999999", "NaT"]
UNITS = ("s", "ms", "us", "ns")


# -- columns, one per dtype -------------------------------------------------------------------------


def _unique(values: list) -> list:
    """Values without repeats, told apart by type and by repr (so -0.0 and 0.0 stay apart)."""
    seen, kept = set(), []
    for value in values:
        key = (type(value), repr(value))
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


def _numpy(values: list, dtype: str) -> pd.Series:
    """A numpy column of the values it holds exactly (floats: as the dtype rounds them)."""
    kind = np.dtype(dtype).kind
    kept = []
    for value in values:
        if kind in "iu" and not (isinstance(value, int) and np.iinfo(dtype).min <= value <= np.iinfo(dtype).max):
            continue
        with np.errstate(over="ignore"):  # a float beyond the dtype's range is inf in it
            kept.append(np.array([value]).astype(dtype)[0] if kind == "f" else value)
    return pd.Series(np.array(_unique(kept), dtype=dtype))


def _arrow(values: list, arrow_type: pa.DataType) -> pd.Series:
    """An Arrow-backed column of the values pyarrow takes in ``arrow_type`` (the others left out)."""
    kept = []
    for value in values:
        try:  # and has a Python value (not a local time past 9999: that is a bad cell)
            pa.array([value], type=arrow_type).to_pylist()
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            continue
        kept.append(value)
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(kept, type=arrow_type)))


def _rounded(values: list, dtype: type) -> pa.Array:
    """An Arrow array of the floats as ``dtype`` rounds them, each once, and a null."""
    with np.errstate(over="ignore"):
        rounded = np.array([*_unique([dtype(value) for value in values]), 0], dtype=dtype)
    return pa.array(rounded, mask=np.arange(len(rounded)) == len(rounded) - 1)


def _datetimes(unit: str) -> np.ndarray:
    """``DATETIME_TEXTS`` as datetime64 of ``unit`` (truncated), without the ones it cannot hold."""
    stamps = []
    for text in DATETIME_TEXTS:
        if text != "NaT" and unit == "ns" and not "1677-09-22" <= text < "2262-04-12":
            continue  # numpy would wrap around silently
        stamps.append(np.datetime64(text).astype(f"datetime64[{unit}]"))
    return np.array(_unique(stamps), dtype=f"datetime64[{unit}]")


def _timedeltas(unit: str) -> np.ndarray:
    """``TIMEDELTAS`` (and NaT) as timedelta64 of ``unit``, without the ones it cannot hold."""
    per_unit = {"s": 10**6, "ms": 10**3, "us": 1}
    counts = []
    for delta in TIMEDELTAS:
        micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
        count = micros * 1000 if unit == "ns" else micros // per_unit[unit]
        if -(2**63) < count < 2**63:
            counts.append(count)
    return np.array([*_unique(counts), np.timedelta64("NaT")], dtype=f"timedelta64[{unit}]")


def _zoned(unit: str, zone: Any) -> pd.Series:
    """Naive edge instants, read as UTC, shown in ``zone`` (the two 02:30 of Paris' autumn night)."""
    instants = pd.Series(_datetimes(unit))
    inside = (instants >= pd.Timestamp("0001-01-02")) & (instants < pd.Timestamp("9999-12-31"))  # room for an offset
    return instants[inside | instants.isna()].dt.tz_localize("UTC").dt.tz_convert(zone).reset_index(drop=True)


def _objects(values: list) -> pd.Series:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return pd.Series(array, dtype=object)


def _arrow_from(array: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


ZONES = {"UTC": "UTC", "Paris": PARIS, "pytz-Paris": pytz.timezone("Europe/Paris"),
         "dateutil-NY": dateutil.tz.gettz("America/New_York"), "-03:00": dt.timezone(dt.timedelta(hours=-3)),
         "CET-fixed": dt.timezone(dt.timedelta(hours=1), "CET")}
ARROW_ZONES = (None, "UTC", "Europe/Paris", "+05:30")
STR_DTYPES = {"str": "str", "str[python]": pd.StringDtype("python", na_value=np.nan),
              "string[python]": "string[python]", "string[pyarrow]": "string[pyarrow]"}
NULLABLE = {"Int64": (INTS, "Int64"), "Int8": (INTS, "Int8"), "UInt64": (INTS, "UInt64"),
            "Float64": (FLOATS, "Float64"), "Float32": (FLOATS, "Float32"), "boolean": ([True, False], "boolean")}


def _nullable(values: list, dtype: str) -> pd.Series:
    kept = []
    with np.errstate(over="ignore"):  # a float beyond Float32's range is inf in it
        for value in values:
            try:
                pd.array([value], dtype=dtype)
            except (TypeError, ValueError, OverflowError):
                continue
            kept.append(value)
        return pd.Series(pd.array([*_unique(kept), None], dtype=dtype))


def _columns() -> dict[str, Callable[[], pd.Series]]:
    """Per dtype id, a function building its column."""
    columns: dict[str, Callable[[], pd.Series]] = {}
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        columns[f"numpy-{dtype}"] = lambda dtype=dtype: _numpy(INTS, dtype)
    for dtype in ("float16", "float32", "float64"):
        columns[f"numpy-{dtype}"] = lambda dtype=dtype: _numpy([*FLOATS, *INTS], dtype)
    columns["numpy-bool"] = lambda: pd.Series([True, False])
    for unit in UNITS:
        columns[f"datetime64[{unit}]"] = lambda unit=unit: pd.Series(_datetimes(unit))
        columns[f"timedelta64[{unit}]"] = lambda unit=unit: pd.Series(_timedeltas(unit))
        for name in ("UTC", "Paris"):
            columns[f"datetime64[{unit}, {name}]"] = lambda unit=unit, name=name: _zoned(unit, ZONES[name])
    for name in ("pytz-Paris", "dateutil-NY", "-03:00", "CET-fixed"):
        columns[f"datetime64[us, {name}]"] = lambda name=name: _zoned("us", ZONES[name])
    for name, values in {"int": [*INTS, *BIG_INTS, None], "float": [*FLOATS, None], "str": [*STRS, None],
                         "bool": [True, False, None], "bytes": [*BYTES, bytearray(b"ab"), None],
                         "decimal": [*DECIMALS, None], "uuid": [*UUIDS, None], "date": [*DATES, None],
                         "datetime": [*NAIVE, dt.datetime(2020, 10, 25, 2, 30, fold=1), None],
                         "aware-datetime": [*AWARE, None], "time": [*TIMES, None],
                         "timedelta": [*TIMEDELTAS, None], "enum": [*ENUMS, None], "list": [*LISTS, None],
                         "dict": [*DICTS, None], "numpy-scalars": NUMPY_SCALARS, "pandas-scalars": PANDAS_SCALARS,
                         "mixed": MIXED}.items():
        columns[f"object-{name}"] = lambda values=values: _objects(values)
    columns["category-str"] = lambda: pd.Series(pd.Categorical(["x", "y", "x", None, "light", "1", ""]))
    columns["category-int"] = lambda: pd.Series(pd.Categorical([1, 2, 1, None, 2**53 + 1, -(2**63)]))
    columns["category-float"] = lambda: pd.Series(pd.Categorical([0.1, -0.0, 0.0, 1.0, 2.0**53, np.nan]))
    columns["category-datetime"] = lambda: pd.Series(pd.Categorical(pd.to_datetime(["2000-01-01", "2050-01-01", None])))
    columns["category-mixed"] = lambda: pd.Series(pd.Categorical(["x", 1, 1.5, None], categories=["x", 1, 1.5]))
    for name, (values, dtype) in NULLABLE.items():
        columns[name] = lambda values=values, dtype=dtype: _nullable(values, dtype)
    for name, dtype in STR_DTYPES.items():
        columns[name] = lambda dtype=dtype: pd.Series([*STRS, Tone.WARM, None], dtype=dtype)  # python storage keeps
        # the str Enum member as it is
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        columns[f"arrow-{name}"] = lambda name=name: _arrow([*INTS, None], getattr(pa, name)())
    columns["arrow-float16"] = lambda: _arrow_from(_rounded(FLOATS, np.float16))
    columns["arrow-float32"] = lambda: _arrow_from(_rounded(FLOATS, np.float32))
    columns["arrow-float64"] = lambda: _arrow([*FLOATS, None], pa.float64())
    columns["arrow-bool"] = lambda: _arrow([True, False, None], pa.bool_())
    for name in ("string", "large_string", "string_view"):
        columns[f"arrow-{name}"] = lambda name=name: _arrow([*STRS, None], getattr(pa, name)())
    for name in ("binary", "large_binary", "binary_view"):
        columns[f"arrow-{name}"] = lambda name=name: _arrow([*BYTES, None], getattr(pa, name)())
    for unit in UNITS:
        for zone in ARROW_ZONES:
            arrow_type = pa.timestamp(unit, tz=zone)
            columns[f"arrow-{arrow_type}"] = lambda arrow_type=arrow_type: _arrow([*NAIVE, None], arrow_type)
        columns[f"arrow-duration[{unit}]"] = lambda unit=unit: _arrow([*TIMEDELTAS, None], pa.duration(unit))
    for arrow_type in (pa.date32(), pa.date64()):
        columns[f"arrow-{arrow_type}"] = lambda arrow_type=arrow_type: _arrow([*DATES, None], arrow_type)
    for arrow_type in (pa.time32("s"), pa.time32("ms"), pa.time64("us"), pa.time64("ns")):
        columns[f"arrow-{arrow_type}"] = lambda arrow_type=arrow_type: _arrow(
            [time for time in TIMES if time.tzinfo is None] + [None], arrow_type)
    for arrow_type in (pa.decimal128(38, 10), pa.decimal256(40, 2)):
        columns[f"arrow-{arrow_type}"] = lambda arrow_type=arrow_type: _arrow([*DECIMALS, None], arrow_type)
    int_lists = [[], [1], [1, 2], [1, 2], [1, 2, 3], [None], [2**63 - 1], None]
    columns["arrow-list<int64>"] = lambda: _arrow(int_lists, pa.list_(pa.int64()))
    columns["arrow-large_list<int64>"] = lambda: _arrow(int_lists, pa.large_list(pa.int64()))
    columns["arrow-list<double>"] = lambda: _arrow([[1.0], [1.5], [float("nan")], [], None], pa.list_(pa.float64()))
    columns["arrow-struct<a,b>"] = lambda: _arrow([{"a": 1, "b": "x"}, {"a": 1, "b": "x"}, {"a": None, "b": None},
                                                   {"a": 2**53 + 1, "b": "y"}, None],
                                                  pa.struct([("a", pa.int64()), ("b", pa.string())]))
    columns["arrow-dictionary<int8,string>"] = lambda: _arrow_from(pa.array(["x", "y", "x", None, "", "1"]
                                                                            ).dictionary_encode())
    columns["arrow-dictionary<int32,int64>"] = lambda: _arrow_from(pa.array([1, 2**53 + 1, 1, None]
                                                                            ).dictionary_encode())
    columns["arrow-run_end_encoded<int64>"] = lambda: _arrow_from(pc.run_end_encode(pa.array([1, 1, 2, None, 2**53])))
    columns["arrow-run_end_encoded<string>"] = lambda: _arrow_from(pc.run_end_encode(pa.array(["x", "x", "", None])))
    return columns


COLUMNS = _columns()


# -- cells no Python value can hold -------------------------------------------------------------------


@dataclass(frozen=True)
class BadCell:
    """A column whose second row holds a value no Python value can hold; ``shown`` the ways an
    error message may show that value (one must be in it), ``field`` the field of
    ``tests/test_matrix.Holder`` of a type a screen could take it for."""

    column: Callable[[], pd.Series]
    shown: tuple[str, ...]
    field: str


def _typed(values: list, dtype: str) -> Callable[[], pd.Series]:
    return lambda: pd.Series(np.array(values, dtype=dtype))


def _local_past_9999(zone: Any) -> Callable[[], pd.Series]:
    """9999-12-31T23:00Z: a valid instant whose local time in ``zone`` is in the year 10000."""
    return lambda: _typed(["2020-01-01", "9999-12-31T23:00"], "datetime64[s]")().dt.tz_localize("UTC").dt.tz_convert(
        zone)


YEAR_10000 = ("10000", "253402300800")  # as a date, or as Arrow's seconds since 1970
LOCAL_10000 = ("10000", "9999-12-31", "253402297200", "253402317000")  # local 10000-01-01T04:30 in +05:30
BAD_COLUMNS = {
    "datetime64[s] year 10000": BadCell(_typed(["2020-01-01", "10000-01-01"], "datetime64[s]"), YEAR_10000, "at"),
    "datetime64[s] year -1": BadCell(_typed(["2020-01-01", "-0001-01-01"], "datetime64[s]"), ("-001", "-1"), "at"),
    "datetime64[ms, UTC] year 10000": BadCell(lambda: _typed(["2020-01-01", "10000-01-01"], "datetime64[ms]")(
        ).dt.tz_localize("UTC"), YEAR_10000, "at"),
    "datetime64[s, +05:30] local year 10000": BadCell(_local_past_9999(dt.timezone(dt.timedelta(hours=5.5))),
                                                      LOCAL_10000, "at"),
    "timedelta64[s] 1e17 s": BadCell(_typed([1, 10**17], "timedelta64[s]"), ("100000000000000000",), "span"),
    "arrow timestamp[s] year 10000": BadCell(lambda: _arrow_from(pa.array([0, 253402300800], pa.timestamp("s"))),
                                             YEAR_10000, "at"),
    "arrow timestamp[s, tz=+05:30] local year 10000": BadCell(lambda: _arrow_from(pa.array(
        [0, 253402297200], pa.timestamp("s", tz="+05:30"))), LOCAL_10000, "at"),
    "arrow duration[s] 1e17 s": BadCell(lambda: _arrow_from(pa.array([1, 10**17], pa.duration("s"))),
                                        ("100000000000000000",), "span"),
    "arrow date32 year 10000": BadCell(lambda: _arrow_from(pa.array([0, 2932897], pa.date32())), ("2932897", "10000"),
                                       "day"),
    "object 0-d ndarray": BadCell(lambda: _objects([1, np.array(5)]), ("array(5)",), "number"),
    "arrow struct with duplicate field names": BadCell(lambda: _arrow_from(pa.StructArray.from_arrays(
        [pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"], mask=pa.array([True, False]))), ("'a'", "a: int64"),
        "sub"),
}


# -- a case: one model over one dtype's frame --------------------------------------------------------


@dataclass
class MatrixCase:
    """One wide model over one frame (a copy of the dtype's column per field), with pydantic's
    answer per row (and the coerced frame) computed once per ``strict``."""

    model: type[BaseModel]
    frame: pd.DataFrame
    dtype_of: dict  # column label -> dtype id
    rows: list[dict] = field(init=False)
    _expected: dict = field(init=False, default_factory=dict)
    _coerced: dict = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = [reference_row(self.frame, position) for position in range(len(self.frame))]

    def expected(self, strict: bool | None) -> list[tuple[list[dict], list]]:
        """Per row, pydantic's error dicts and their ``typed`` form."""
        if strict not in self._expected:
            errors = [expected_error_dicts(self.model, row, strict) for row in self.rows]
            self._expected[strict] = [(one, typed(one)) for one in errors]
        return self._expected[strict]

    def coerced(self, strict: bool | None) -> pd.DataFrame:
        if strict not in self._coerced:
            self._coerced[strict] = expected_coerced_frame(self.frame, self.model, strict=strict)
        return self._coerced[strict]


@cache
def dtype_case(dtype_id: str, model: str = "wide") -> MatrixCase:
    """``matrix_model(model)`` over one dtype's frame: the dtype's column under every field's
    name. Kept, so every executor compares with one oracle run."""
    fields = MODELS[model]
    column = COLUMNS[dtype_id]().reset_index(drop=True)
    return MatrixCase(matrix_model(model), pd.DataFrame(dict.fromkeys(fields, column)), dict.fromkeys(fields, dtype_id))


def dtype_group(dtype_id: str) -> str:
    """The group a dtype is run in on the multiprocessing and Ray executors."""
    if dtype_id.startswith("arrow-"):
        arrow = dtype_id.removeprefix("arrow-")
        if arrow.startswith(("timestamp", "duration", "date", "time", "decimal")):
            return "arrow-temporal"
        if arrow.startswith(("list", "large_list", "struct", "dictionary", "run_end")):
            return "arrow-nested"
        return "arrow-scalar"
    if dtype_id.startswith(("datetime64", "timedelta64")):
        return "numpy-temporal"
    if dtype_id.startswith(("object-", "category-")):
        return dtype_id.split("-")[0]
    if dtype_id.startswith("numpy-"):
        return "numpy"
    return "nullable-and-strings"


GROUPS = {group: [dtype_id for dtype_id in COLUMNS if dtype_group(dtype_id) == group]
          for group in dict.fromkeys(map(dtype_group, COLUMNS))}


# -- differences, named by cell --------------------------------------------------------------------


def _brief(errors: list[dict]) -> str:
    return "[" + ", ".join(f"{error['type']}{list(error['loc'][1:]) or ''} input={type(error['input']).__name__}:"
                           f"{_short(error['input'])}{' ctx=' + repr(error['ctx']) if 'ctx' in error else ''}"
                           for error in errors) + "]" if errors else "valid"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def cell_differences(case: MatrixCase, checked: pd.DataFrame, strict: bool | None, how: str) -> list[str]:
    """One line per (field, dtype, value) cell where ``checked`` differs from pydantic's answer:
    its errors (every key, with types) or its verdict; ``how`` says which run it was."""
    assert len(checked) == len(case.frame) and checked.index.equals(case.frame.index)
    lines = []
    verdicts, errors = checked[VALID_COLUMN].tolist(), checked[ERRORS_COLUMN].tolist()
    for position, (row, (expected, expected_typed)) in enumerate(zip(case.rows, case.expected(strict))):
        got, valid = list(errors[position]), verdicts[position]
        if valid == (not expected) and typed(got) == expected_typed:
            continue
        by_column_expected, by_column_got = _by_column(expected), _by_column(got)
        differing = [label for label in dict.fromkeys([*by_column_expected, *by_column_got])
                     if typed(by_column_expected.get(label, [])) != typed(by_column_got.get(label, []))]
        for label in differing:
            lines.append(f"{how}: {label} x {case.dtype_of.get(label, '?')} x {_short(row.get(label))}: "
                         f"pydantic {_brief(by_column_expected.get(label, []))}, "
                         f"got {_brief(by_column_got.get(label, []))}")
        if not differing:
            lines.append(f"{how}: row {position}: errors in another order, or valid={valid} with "
                         f"{len(got)} errors")
    return lines


def _by_column(errors: list[dict]) -> dict:
    grouped: dict = {}
    for error in errors:
        grouped.setdefault(error["loc"][0] if error["loc"] else (), []).append(error)
    return grouped


_PLAIN = frozenset((str, int, bool, bytes, type(None)))  # == of two of one such type is typed()'s equality


def coerce_differences(case: MatrixCase, coerced: pd.DataFrame, strict: bool | None, how: str) -> list[str]:
    """One line per column whose coerced dtype differs from the README's table, per cell whose
    coerced value differs from the oracle's (``expected_coerced_frame``), and per mutable cell
    that is one object with another row's (appending to one row's list would change the other)."""
    expected = case.coerced(strict)
    assert coerced.columns[:-2].equals(expected.columns)
    lines = []
    for position, label in enumerate(expected.columns):
        want, have = expected.iloc[:, position], coerced.iloc[:, position]
        where = f"{how}: {label} x {case.dtype_of.get(label, '?')}"
        if want.dtype != have.dtype:
            lines.append(f"{where}: dtype {have.dtype}, the README's table says {want.dtype}")
        owners: dict[int, int] = {}
        for row, (one, other) in enumerate(zip(want.tolist(), have.tolist())):
            plain_and_equal = type(one) is type(other) and type(one) in _PLAIN and one == other
            if not plain_and_equal and typed([one]) != typed([other]):
                lines.append(f"{where} x {_short(case.rows[row].get(label))}: coerced to "
                             f"{type(other).__name__}:{_short(other)}, expected {type(one).__name__}:{_short(one)}")
            if isinstance(other, (list, dict, set, BaseModel)) and owners.setdefault(id(other), row) != row:
                lines.append(f"{where} x {_short(case.rows[row].get(label))}: shared with row {owners[id(other)]}")
    return lines
