"""Hypothesis strategies for the differential tests: generated pydantic models and frames.

A model is a handful of fields, each of a drawn kind (int, float, str, bool, Literal, Enum,
Decimal, UUID, date, datetime, time, timedelta, bytes, list, dict, a nested model, Any), maybe
Optional, constrained, strict, aliased (``alias`` or ``AliasChoices``), with a field validator
that raises ValueError, AssertionError or another exception on some values, and maybe a model
validator; ``extra`` is drawn too. A frame has a column per field in a drawn dtype (numpy,
nullable, Arrow-backed, object, categorical, every Arrow temporal type, tz-aware in every zone
library), cells that pydantic accepts or rejects, missing and extra columns, odd labels and
indexes, and may be empty. In about half the draws a field's column is one made for any kind
(``ANY_COLUMN``: a ``str`` field fed an int64 column, a ``datetime`` field a list column), so
the mismatches real data brings are explored too, not only the columns that fit the field.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

import dateutil.tz
import numpy as np
import pandas as pd
import pyarrow as pa
import pytz
from hypothesis import strategies as st
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


class Tone(str, enum.Enum):
    """A str Enum: a file stores an input of this type as its value."""

    WARM = "warm"


class Sub(BaseModel):
    a: int
    b: Optional[str] = None


ZONES = [zoneinfo.ZoneInfo("Europe/Paris"), zoneinfo.ZoneInfo("UTC"), dateutil.tz.gettz("America/New_York"),
         pytz.timezone("Asia/Kolkata"), dt.timezone(dt.timedelta(hours=-3))]
MISSING = [None, float("nan"), np.nan, pd.NA, pd.NaT]

ints = st.integers(-10**6, 10**6)
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
texts = st.text(alphabet="ab1 -.Zé", max_size=6)
datetimes = st.datetimes(dt.datetime(1970, 1, 2), dt.datetime(2100, 1, 1))
anything = st.one_of(ints, floats, texts, st.booleans(), st.none())


@dataclass
class Kind:
    """One kind of field: its annotation, constraints it can take, and the columns that feed it."""

    annotation: Any
    constraints: list[dict] = field(default_factory=list)
    columns: list = field(default_factory=list)  # strategies of a column, given the row count


def _column(values: st.SearchStrategy, dtypes: list) -> Any:
    """A strategy: rows -> a Series of drawn values in one of ``dtypes`` (object if it will not fit)."""

    def build(rows: int) -> st.SearchStrategy:
        @st.composite
        def series(draw):
            cells = draw(st.lists(values, min_size=rows, max_size=rows))
            dtype = draw(st.sampled_from(dtypes))
            try:
                return pd.Series(cells, dtype=dtype) if dtype is not None else pd.Series(cells)
            except (TypeError, ValueError, OverflowError, pa.ArrowException):
                return pd.Series(cells, dtype=object)

        return series()

    return build


def _maybe(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(values, values, st.sampled_from(MISSING))


def _temporal(rows: int, kind: str) -> st.SearchStrategy:
    """datetime64 / timedelta64 columns: numpy, tz-aware in a drawn zone library, or Arrow."""

    @st.composite
    def series(draw):
        stamps = pd.to_datetime(draw(st.lists(st.one_of(datetimes, st.none()), min_size=rows, max_size=rows)))
        if kind == "timedelta":
            deltas = stamps - pd.Timestamp("2000-01-01")
            layout = draw(st.sampled_from(["numpy", "arrow-ns", "arrow-s", "object"]))
            if layout == "numpy":
                return pd.Series(deltas)
            if layout == "object":
                return pd.Series(list(deltas), dtype=object)
            unit = layout.removeprefix("arrow-")
            return pd.Series(deltas.floor(unit)).astype(pd.ArrowDtype(pa.duration(unit)))
        layout = draw(st.sampled_from(["numpy", "zoned", "arrow", "object", "date32", "time64"]))
        if layout == "numpy":
            return pd.Series(stamps)
        if layout == "zoned":
            return pd.Series(stamps.tz_localize(draw(st.sampled_from(ZONES)), ambiguous="NaT", nonexistent="NaT"))
        if layout == "arrow":
            unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
            zone = draw(st.sampled_from([None, "UTC", "Europe/Paris", "+05:30"]))
            series = pd.Series(stamps.floor(unit))
            if zone is not None:
                series = series.dt.tz_localize("UTC")
            return series.astype(pd.ArrowDtype(pa.timestamp(unit, tz=zone)))
        if layout == "date32":
            return pd.Series(pd.arrays.ArrowExtensionArray(pa.array([None if stamp is pd.NaT else stamp.date()
                                                                     for stamp in stamps], pa.date32())))
        if layout == "time64":
            return pd.Series(pd.arrays.ArrowExtensionArray(pa.array([None if stamp is pd.NaT else stamp.time()
                                                                     for stamp in stamps], pa.time64("us"))))
        return pd.Series([stamp if stamp is pd.NaT else stamp.to_pydatetime() for stamp in stamps], dtype=object)

    return series()


KINDS: dict[str, Kind] = {
    "int": Kind(int, [{"ge": -1000}, {"le": 100, "gt": -5}, {"multiple_of": 2}], [
        _column(ints, ["int64", "int32"]),
        _column(_maybe(ints), ["Int64", "float64", object, pd.ArrowDtype(pa.int64()), "category"]),
        _column(st.one_of(ints, floats, texts, st.booleans(), st.integers(), st.none()), [object]),
    ]),
    "float": Kind(float, [{"le": 1e6}, {"gt": 0, "allow_inf_nan": False}], [
        _column(floats, ["float64", "float32"]),
        _column(_maybe(floats), ["Float64", object, pd.ArrowDtype(pa.float64())]),
        _column(anything, [object]),
    ]),
    "str": Kind(str, [{"max_length": 3}, {"pattern": r"^[ab]+$"}, {"min_length": 1}], [
        _column(_maybe(texts), ["str", object, "string[python]", "category", pd.ArrowDtype(pa.string())]),
        _column(anything, [object]),
    ]),
    "bool": Kind(bool, [], [
        _column(st.booleans(), ["bool"]),
        _column(_maybe(st.booleans()), ["boolean", object, pd.ArrowDtype(pa.bool_())]),
        _column(st.one_of(st.sampled_from(["yes", "no", "maybe", 0, 1, 2, 1.0]), st.none()), [object]),
    ]),
    "literal": Kind(Literal["x", "y", 1], [], [
        _column(_maybe(st.sampled_from(["x", "y", "z", 1, 1.0, True])), [object, "category"]),
        _column(_maybe(st.sampled_from(["x", "y", "z"])), ["str", "category"]),
    ]),
    "enum": Kind(Shade, [], [
        _column(_maybe(st.sampled_from(["light", "dark", "dim", Shade.LIGHT, Tone.WARM])), [object, "category"]),
    ]),
    "decimal": Kind(decimal.Decimal, [{"max_digits": 4, "decimal_places": 2}, {"ge": 0}], [
        _column(_maybe(st.one_of(st.decimals(places=3, min_value=-1000, max_value=1000),
                                 st.just(decimal.Decimal("NaN")))), [object]),  # pandas cannot take sNaN
        _column(st.one_of(texts, floats, ints, st.none()), [object]),
        _column(_maybe(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-99, max_value=99)),
                [pd.ArrowDtype(pa.decimal128(6, 2))]),
    ]),
    "uuid": Kind(uuid.UUID, [], [
        _column(_maybe(st.one_of(st.uuids(), st.uuids().map(str), texts)), [object]),
    ]),
    "date": Kind(dt.date, [{"ge": dt.date(2000, 1, 1)}], [
        lambda rows: _temporal(rows, "datetime"),
        _column(_maybe(st.one_of(st.dates(), texts)), [object]),
    ]),
    "datetime": Kind(dt.datetime, [{"lt": dt.datetime(2050, 1, 1)}], [
        lambda rows: _temporal(rows, "datetime"),
        _column(_maybe(st.one_of(datetimes, st.just("2020-01-01T00:00:00+02:00"), texts, ints)), [object]),
    ]),
    "time": Kind(dt.time, [], [
        lambda rows: _temporal(rows, "datetime"),
        _column(_maybe(st.one_of(st.times(), texts)), [object]),
    ]),
    "timedelta": Kind(dt.timedelta, [{"ge": dt.timedelta(0)}], [
        lambda rows: _temporal(rows, "timedelta"),
        _column(_maybe(st.one_of(st.timedeltas(), ints, texts)), [object]),
    ]),
    "bytes": Kind(bytes, [{"max_length": 2}], [
        _column(_maybe(st.one_of(st.binary(max_size=3), st.binary(max_size=3).map(bytearray), texts)), [object]),
    ]),
    "list": Kind(list[int], [{"max_length": 2}], [
        _column(_maybe(st.one_of(st.lists(st.one_of(ints, floats, texts), max_size=3),
                                 st.lists(floats, max_size=3).map(np.array), ints)), [object]),
        _column(_maybe(st.lists(st.one_of(ints, st.none()), max_size=3)), [pd.ArrowDtype(pa.list_(pa.int64()))]),
    ]),
    "dict": Kind(dict[str, int], [], [
        _column(_maybe(st.dictionaries(st.sampled_from(["k", "l"]), st.one_of(ints, floats, texts), max_size=2)),
                [object]),
    ]),
    "nested": Kind(Sub, [], [
        _column(_maybe(st.one_of(st.fixed_dictionaries({"a": st.one_of(ints, texts, floats)},
                                                       optional={"b": st.one_of(texts, st.none(), ints)}),
                                 texts)), [object]),
        _column(_maybe(st.fixed_dictionaries({"a": ints, "b": st.one_of(texts, st.none())})),
                [pd.ArrowDtype(pa.struct([("a", pa.int64()), ("b", pa.string())]))]),
    ]),
    "any": Kind(Any, [], []),  # fed the columns of the other kinds
}

#: every kind's columns: a field draws its column from these in about half the draws
ANY_COLUMN: list = [column for kind in KINDS.values() for column in kind.columns]


def _check_value(value: Any) -> Any:
    """A field validator: a pure function of its value that raises on some values."""
    text = str(value)
    if text.endswith("7"):
        raise ValueError("ends in 7")
    if text.startswith("-9"):
        raise AssertionError("starts with -9")
    if text == "b":
        raise RuntimeError("b is not welcome")  # not wrapped by pydantic: an "exception" error
    return value


@dataclass
class FieldPlan:
    """How one generated field reads the frame: its name, the label(s) it is looked up by, and
    the column strategy that feeds it."""

    name: str
    kind: str
    labels: list
    column: Any


@st.composite
def models(draw) -> tuple[type[BaseModel], list[FieldPlan]]:
    """A generated model and, per field, how a frame may feed it."""
    count = draw(st.integers(1, 4))
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=count, max_size=count))
    definitions: dict[str, Any] = {}
    plans = []
    validators = {}
    for position, kind_name in enumerate(kinds):
        kind = KINDS[kind_name]
        name = f"f{position}"
        annotation = kind.annotation
        options: dict[str, Any] = {}
        if kind.constraints and draw(st.booleans()):
            options.update(draw(st.sampled_from(kind.constraints)))
        if kind_name not in ("literal", "enum", "nested", "any") and draw(st.integers(0, 4)) == 0:
            options["strict"] = True
        labels: list = [name]
        naming = draw(st.sampled_from(["name", "name", "alias", "choices"]))
        if naming == "alias":  # the name column is one pydantic does not read: it must stay as it is
            options["alias"] = labels[0] = f"F {position}"
            labels.append(name)
        elif naming == "choices":
            labels = [f"first{position}", name]
            options["validation_alias"] = AliasChoices(*labels)
        default = draw(st.sampled_from(["required", "none", "none", "factory"]))
        if default == "none":
            annotation = Optional[annotation]
            options["default"] = None
        elif default == "factory" and position > 0:  # a default computed from the fields before it
            options["default_factory"] = _first_field
        definitions[name] = (annotation, Field(**options))
        if draw(st.integers(0, 3)) == 0:
            validators[f"check_{name}"] = field_validator(name)(classmethod(lambda cls, value: _check_value(value)))
        fitting = kind.columns and draw(st.booleans())  # else a column of any kind: a mismatch, mostly
        plans.append(FieldPlan(name, kind_name, labels, draw(st.sampled_from(kind.columns if fitting else ANY_COLUMN))))
    extra = draw(st.sampled_from(["ignore", "forbid", "allow"]))
    whole = draw(st.sampled_from([None, None, None, None, "after", "before"]))  # mostly columnar-exact models
    if whole == "after":
        validators["whole"] = model_validator(mode="after")(_after)
    elif whole == "before":
        validators["whole"] = model_validator(mode="before")(classmethod(_before))
    model = create_model("Generated", __config__=ConfigDict(extra=extra), __validators__=validators, **definitions)
    return model, plans


def _first_field(data: dict) -> Any:
    """A ``default_factory`` that reads the validated data: pydantic reports
    ``default_factory_not_called`` (input ``PydanticUndefined``) when an earlier field failed."""
    return data["f0"]


def _after(self):
    if str(getattr(self, "f0", "")).startswith("a"):
        raise ValueError("f0 starts with a")
    return self


def _before(cls, data):
    if isinstance(data, dict) and data.get("f0") == 0:
        raise ValueError("f0 is zero")
    return data


ODD_LABELS = [pd.Timestamp("2024-01-01"), 3, ("t", 1), "extra col", None]


@st.composite
def frames(draw, plans: list[FieldPlan], max_rows: int = 8) -> pd.DataFrame:
    """A frame for ``plans``: a drawn column per field (under one of its labels, or missing),
    maybe extra columns with odd labels, an odd index, maybe no rows."""
    rows = draw(st.integers(0, max_rows))
    columns: dict = {}
    for plan in plans:
        if draw(st.integers(0, 6)) == 0:
            continue  # a missing column: the default, or pydantic's "missing" error
        label = draw(st.sampled_from(plan.labels))
        columns[label] = draw(plan.column(rows))
    for label in draw(st.lists(st.sampled_from(ODD_LABELS), max_size=2, unique_by=repr)):
        if label not in columns:
            columns[label] = pd.Series(draw(st.lists(anything, min_size=rows, max_size=rows)), dtype=object)
    frame = pd.DataFrame({key: value.reset_index(drop=True) for key, value in columns.items()}, index=range(rows))
    index = draw(st.sampled_from(["range", "duplicates", "strings", "multi"]))
    if index == "duplicates":
        frame.index = pd.Index(np.arange(rows) % 2)
    elif index == "strings":
        frame.index = pd.Index([f"r{position}" for position in range(rows)], name="id")
    elif index == "multi":
        frame.index = pd.MultiIndex.from_arrays([np.arange(rows) % 2, np.arange(rows)], names=["k", "n"])
    return frame


@st.composite
def models_and_frames(draw, max_rows: int = 8) -> tuple[type[BaseModel], pd.DataFrame]:
    model, plans = draw(models())
    return model, draw(frames(plans, max_rows))
