"""What feeding fields columns of other kinds found (issue 18): each wrong answer, crash and unclear
error kept as a named regression test, on every executor, against ``model_validate`` key by key."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pydantic import (
    BaseModel,
    Field,
    InstanceOf,
    PlainSerializer,
    field_serializer,
    field_validator,
    model_serializer,
)

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN
from tests.oracle import assert_exactly_pydantic, expected_coerced_frame, typed


def check(frame: pd.DataFrame, model: type[BaseModel], executor: str, **options: Any) -> pd.DataFrame:
    """Both engines on ``executor`` give pydantic's answer, and the same frame."""
    columnar = frame.flowschema.validate(model, executor, engine="auto", **options)
    rows = frame.flowschema.validate(model, executor, engine="rows", **options)
    assert_exactly_pydantic(frame, model, columnar)
    assert_exactly_pydantic(frame, model, rows)
    return columnar


class Zip(BaseModel):
    zip: str


class MaybeZip(BaseModel):
    zip: Optional[str] = None


NUMERIC = {
    "int64": np.array([10115, 20095, 10115]),
    "uint8": np.array([1, 2, 1], dtype=np.uint8),
    "float64": np.array([10115.0, np.nan, 10115.0]),
    "Int64": pd.array([10115, None, 10115], dtype="Int64"),
    "int64[pyarrow]": pd.array([10115, None, 10115], dtype="int64[pyarrow]"),
    "bool": np.array([True, False, True]),
}


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("model", [Zip, MaybeZip])
def test_a_str_field_rejects_a_numeric_column(executor, dtype, model):
    frame = pd.DataFrame({"zip": NUMERIC[dtype]})
    checked = check(frame, model, executor)
    assert not checked[VALID_COLUMN].iat[0]
    assert [errors[0]["input"] for errors in checked[ERRORS_COLUMN] if errors][:1] == [frame["zip"].tolist()[0]]


class ZipAndCount(BaseModel):
    zip: str
    count: int


def test_rows_missing_a_column_keep_their_own_inputs(executor):
    frame = pd.DataFrame({"zip": np.array([10115, 20095, 10115, 30000])})  # no "count": every row misses it
    checked = check(frame, ZipAndCount, executor)
    assert [errors[0]["input"] for errors in checked[ERRORS_COLUMN]] == [10115, 20095, 10115, 30000]


def test_a_float32_cell_is_compared_as_the_float_pydantic_sees(executor):
    class Small(BaseModel):
        x: float = Field(le=0.1)

    frame = pd.DataFrame({"x": np.array([0.1, 0.05], dtype=np.float32)})
    assert check(frame, Small, executor)[VALID_COLUMN].tolist() == [False, True]  # float32(0.1) > 0.1


@pytest.mark.parametrize("bound", [2**53, 2.0**53])
def test_an_int_against_a_bound_beyond_float_precision_is_compared_as_an_int(executor, bound):
    class Large(BaseModel):
        x: int = Field(le=bound)

    frame = pd.DataFrame({"x": np.array([2**53 + 1, 2**53, -(2**63)])})
    assert check(frame, Large, executor)[VALID_COLUMN].tolist() == [False, True, True]


def test_a_multiple_of_beyond_int64_is_checked_not_overflowed(executor):
    class Huge(BaseModel):
        x: int = Field(multiple_of=2**70)

    frame = pd.DataFrame({"x": np.array([0, 1, 2**62])})
    assert check(frame, Huge, executor)[VALID_COLUMN].tolist() == [True, False, False]


class Ordered(BaseModel):
    lo: int
    hi: int

    @field_validator("hi")
    @classmethod
    def above_lo(cls, value, info):
        try:
            if value < info.data["lo"]:
                raise ValueError("hi is below lo")
        except Exception as exc:  # a careless validator that swallows whatever it did not expect
            if "below" in str(exc):
                raise
        return value


def test_a_validator_swallowing_the_info_data_signal_still_sends_the_model_to_rows(executor):
    frame = pd.DataFrame({"lo": [5, 1], "hi": [1, 2]})
    checked = check(frame, Ordered, executor)
    assert checked[VALID_COLUMN].tolist() == [False, True]
    assert checked.attrs["flowschema"]["engine"] == "rows"
    with pytest.raises(flowschema.EngineError, match="info.data"):
        frame.flowschema.validate(Ordered, executor, engine="columnar")


class Doubled(BaseModel):
    x: list[int]

    @model_serializer
    def dump(self):
        return {"x": [value * 100 for value in self.x]}


class Hidden(BaseModel):
    x: int = Field(exclude=True)
    y: str = Field(serialization_alias="Y")


@pytest.mark.parametrize("model", [Doubled, Hidden])
def test_coerce_writes_validated_values_never_the_dump(executor, model):
    frame = pd.DataFrame({"x": pd.Series([[1, 2], [3]] if model is Doubled else ["1", "2"], dtype=object),
                          **({} if model is Doubled else {"y": ["a", "b"]})})
    for engine in ("auto", "rows"):
        coerced = frame.flowschema.validate(model, executor, engine=engine, coerce=True)
        expected = expected_coerced_frame(frame, model)
        assert typed(coerced["x"].tolist()) == typed(expected["x"].tolist())
    assert coerced["x"].tolist() == ([[1, 2], [3]] if model is Doubled else [1, 2])


def test_coerce_with_serialize_by_alias_in_the_config_writes_the_columns(executor):
    class ByAlias(BaseModel):
        model_config = {"serialize_by_alias": True}
        x: int = Field(serialization_alias="X")

    frame = pd.DataFrame({"x": ["1", "2"]})
    for engine in ("auto", "rows"):
        assert frame.flowschema.validate(ByAlias, executor, engine=engine, coerce=True)["x"].tolist() == [1, 2]


class Zoned(BaseModel):
    when: int  # fails every datetime, so its error's input shows the zone pydantic was given


def test_equal_fixed_offsets_with_different_names_keep_their_names(executor):
    cet, wat = dt.timezone(dt.timedelta(hours=1), "CET"), dt.timezone(dt.timedelta(hours=1), "WAT")
    moment = dt.datetime(2024, 1, 1, 12)
    frame = pd.DataFrame({"when": pd.Series([moment.replace(tzinfo=cet), moment.replace(tzinfo=wat)], dtype=object)})
    checked = check(frame, Zoned, executor)
    assert [errors[0]["input"].tzname() for errors in checked[ERRORS_COLUMN]] == ["CET", "WAT"]


class Listed(BaseModel):
    items: list[int]
    sub: Optional[dict[str, int]] = None


def test_coerced_rows_never_share_one_mutable_value(executor):
    frame = pd.DataFrame({"items": pd.Series([[1], [1], [1]], dtype=object),
                          "sub": pd.Series([{"a": 1}, {"a": 1}, None], dtype=object)})
    coerced = frame.flowschema.validate(Listed, executor, coerce=True)
    items, subs = coerced["items"].tolist(), coerced["sub"].tolist()
    items[0].append(2)
    subs[0]["b"] = 2
    assert items[1:] == [[1], [1]] and subs[1] == {"a": 1}
    assert len({id(item) for item in items}) == 3


class Amount(BaseModel):
    value: Annotated[int, PlainSerializer(lambda value: str(value))]


class Tagged(BaseModel):
    value: int

    @field_serializer("value")
    def as_text(self, value):
        return f"#{value}"


class Plain(BaseModel):
    value: int

    @field_validator("value", mode="plain")
    @classmethod
    def anything_odd(cls, value):
        if value % 2 == 0:
            raise ValueError("even")
        return value


class Instance(BaseModel):
    value: InstanceOf[int]


@pytest.mark.parametrize("model", [Amount, Tagged, Plain, Instance])
def test_serializers_and_plain_validators_run_on_the_columnar_engine(executor, model):
    frame = pd.DataFrame({"value": pd.Series([1, 2, "3"], dtype=object)})
    checked = check(frame, model, executor)
    assert checked.attrs["flowschema"]["engine"] == "columnar"
    assert flowschema.explain(model, frame)["route"].tolist() == ["distinct values"]


VIEWS = {
    "string_view": pa.array(["a", None, "a", "bc"], type=pa.string_view()),
    "binary_view": pa.array([b"a", None, b"a", b"bc"], type=pa.binary_view()),
    "run-end int": pc.run_end_encode(pa.array([1, 1, None, 7])),
    "run-end string": pc.run_end_encode(pa.array(["a", "a", None, "bc"])),
    "list of string_view": pa.array([["a"], None, ["a"], []], type=pa.list_(pa.string_view())),
    "list_view": pa.array([[1], None, [1], [2, 3]], type=pa.list_view(pa.int64())),
}


class Loose(BaseModel):
    value: Any


class Short(BaseModel):
    value: Optional[str] = Field(None, max_length=1)


@pytest.mark.parametrize("name", VIEWS)
@pytest.mark.parametrize("model", [Loose, Short])
def test_arrow_view_and_run_end_encoded_columns_validate(executor, name, model):
    frame = pd.DataFrame({"value": pd.Series(pd.arrays.ArrowExtensionArray(VIEWS[name]))})
    check(frame, model, executor)


UNREADABLE = {
    "datetime64[s] year 10000": (np.array(["2024-01-01", "10000-01-01"], dtype="datetime64[s]"), "10000-01-01"),
    "datetime64[ms] year -1": (np.array(["2024-01-01", "-0001-01-01"], dtype="datetime64[ms]"), "-001-01-01"),
    "timedelta64[s] 1e17": (np.array([1, 10**17], dtype="timedelta64[s]"), "100000000000000000"),
    "a 0-d array": (pd.Series([1, np.array(5)], dtype=object), "array(5)"),
    "a 0-d array in a list": (pd.Series([[1], [np.array(5.5)]], dtype=object), "array(5.5)"),
    "an object timedelta64 1e17": (pd.Series([None, np.timedelta64(10**17, "s")], dtype=object), "1000000000"),
    "struct with duplicate names": (pd.arrays.ArrowExtensionArray(pa.StructArray.from_arrays(
        [pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"], mask=pa.array([True, False]))), "[('a', 2), ('a', 4)]"),
    "Arrow date32 beyond 9999": (pd.arrays.ArrowExtensionArray(pa.array([0, 10**7], type=pa.date32())), "10000000"),
    "tz-aware local time in 10000": (pd.Series(np.array(["2024-01-01", "9999-12-31T20:00"], dtype="datetime64[s]"))
                                     .dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo"), "10000-01-01T05:00"),
}


class Anything(BaseModel):
    when: Any


@pytest.mark.parametrize("case", UNREADABLE)
@pytest.mark.parametrize("engine", ["auto", "rows"])
def test_a_cell_no_python_value_can_hold_is_named_before_any_row_is_validated(executor, case, engine):
    values, shown = UNREADABLE[case]
    frame = pd.DataFrame({"when": pd.Series(values).set_axis(["first", "second"])})
    with pytest.raises(ValueError, match=r"column 'when', row 'second': ") as caught:
        frame.flowschema.validate(Anything, executor, engine=engine)
    assert shown in str(caught.value) and "fix or drop the cell" in str(caught.value)


def test_tz_aware_instants_near_the_edges_whose_local_times_python_holds_are_read():
    """An instant within a day of year 10000 whose local time lies inside the range is a Python
    datetime: only the local time counts."""
    instants = pd.Series(np.array(["2024-01-01", "9999-12-31T20:00"], dtype="datetime64[s]")).dt.tz_localize("UTC")
    frame = pd.DataFrame({"when": instants.dt.tz_convert("America/New_York")})
    assert isinstance(frame["when"].array, pd.arrays.DatetimeArray)
    for engine in ("auto", "rows"):
        checked = frame.flowschema.validate(Anything, engine=engine)
        assert checked[flowschema.VALID_COLUMN].all()


class Color(str, enum.Enum):
    BLUE = "blue"


class Colored(BaseModel):
    color: int
    size: int


def test_coerce_keeps_an_invalid_rows_str_enum_member_in_a_python_string_column(executor):
    frame = pd.DataFrame({"color": pd.array([Color.BLUE, "x"], dtype="string[python]"), "size": ["1", "a"]})
    for engine in ("auto", "rows"):
        coerced = frame.flowschema.validate(Colored, executor, engine=engine, coerce=True)
        assert type(coerced["color"].iat[0]) is Color
        assert typed(coerced["color"].tolist()) == typed(expected_coerced_frame(frame, Colored)["color"].tolist())
    check(frame, Colored, executor)
