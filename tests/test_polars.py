"""polars frames (issue 20): ``df.flowschema`` on a polars DataFrame gives, row by row, what
``Model.model_validate(df.row(i, named=True))`` gives, on both engines and every executor, for
columns of every polars type fed to fields of their own kind and of other kinds."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import zoneinfo
from typing import Literal

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

import flowschema
from flowschema.adapters.polars import POLARS, RUN_COLUMN
from tests.oracle import expected_error_dicts, typed
from tests.matrix_cases import COLUMNS, MODELS, matrix_model
from tests.strategies import models_and_frames
from tests.test_properties import examples

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ROWS = 12


class Colour(enum.Enum):
    RED = "red"


def _cycle(values: list) -> list:
    return [values[i % len(values)] for i in range(ROWS)]


FRAME = pl.DataFrame(
    {
        "i64": _cycle([1, None, -5, 2**62, 0, 7]),
        "i8": pl.Series(_cycle([1, -128, None, 127]), dtype=pl.Int8),
        "count": pl.Series(_cycle([3, -1, 2**40, 0]), dtype=pl.Int64),
        "ok": pl.Series(_cycle([True, False]), dtype=pl.Boolean),
        "u64": pl.Series(_cycle([0, 2**64 - 1, None, 3]), dtype=pl.UInt64),
        "f64": _cycle([1.5, float("nan"), None, -0.0, float("inf"), 3.0]),
        "f64_plain": _cycle([1.5, None, -0.0, 2.0]),
        "f32": pl.Series(_cycle([0.1, None, 2.5]), dtype=pl.Float32),
        "flag": _cycle([True, False, None]),
        "text": _cycle(["a", "", None, "ünï", "12", "2024-01-02"]),
        "when": _cycle([dt.datetime(2024, 3, 31, 1, 30, tzinfo=PARIS), None,
                        dt.datetime(1999, 12, 31, 23, 59, tzinfo=PARIS)]),
        "naive_ns": pl.Series(_cycle([dt.datetime(2024, 1, 1, 12), None]), dtype=pl.Datetime("ns")),
        "day": _cycle([dt.date(2024, 2, 29), None, dt.date(1, 1, 1)]),
        "clock": _cycle([dt.time(23, 59, 59, 999999), None]),
        "span": _cycle([dt.timedelta(days=-1, seconds=5), None, dt.timedelta(0)]),
        "money": pl.Series(_cycle([decimal.Decimal("1.50"), None, decimal.Decimal("-0.01")]), dtype=pl.Decimal(10, 2)),
        "ints": _cycle([[1, 2], None, [], [None, 3]]),
        "pair": pl.Series(_cycle([[1, 2], [3, 4], None]), dtype=pl.Array(pl.Int64, 2)),
        "point": _cycle([{"x": 1, "y": "a"}, None, {"x": None, "y": "b"}]),
        "cat": pl.Series(_cycle(["lo", "hi", None]), dtype=pl.Categorical),
        "level": pl.Series(_cycle(["red", "green", None]), dtype=pl.Enum(["red", "green"])),
        "blob": _cycle([b"\x00\xff", None, b""]),
        "thing": pl.Series(_cycle(["red", Colour.RED, None, (1, 2)]), dtype=pl.Object),
    },
    strict=False,
)


class Fitting(BaseModel):
    """Each field the kind of its column, with constraints, Optional where the column has nulls."""

    i64: int | None = Field(ge=-10)
    i8: int | None = Field(le=100)
    count: int = Field(ge=0, lt=2**40)
    ok: bool
    u64: int | None
    f64: float | None = Field(ge=0)
    f64_plain: float | None = Field(gt=-1)
    f32: float | None = Field(lt=1)
    flag: bool
    text: str | None = Field(min_length=1)
    when: dt.datetime | None
    naive_ns: dt.datetime | None
    day: dt.date | None
    clock: dt.time | None
    span: dt.timedelta | None
    money: decimal.Decimal | None = Field(ge=0)
    ints: list[int] | None
    pair: tuple[int, int] | None
    point: dict | None
    cat: Literal["lo", "hi"] | None
    level: Colour | None
    blob: bytes | None
    thing: Colour | None


class Mismatched(BaseModel):
    """Each field fed a column of another kind: what real data brings."""

    i64: str
    i8: float | None = Field(gt=0)
    count: bool
    ok: str
    u64: bool | None
    f64: int | None
    f64_plain: str | None
    f32: int
    flag: int | None
    text: int | None
    when: dt.date | None
    naive_ns: str | None
    day: dt.datetime | None
    clock: str | None
    span: float | None
    money: float | None
    ints: dict | None
    pair: list[str] | None
    point: list | None
    cat: int | None
    level: bool | None
    blob: str | None
    thing: str | None


def assert_untouched(checked: pl.DataFrame, frame: pl.DataFrame) -> None:
    """The input's columns are in the result as they were (an Object column's very objects)."""
    assert checked.columns == [*frame.columns, flowschema.VALID_COLUMN, flowschema.ERRORS_COLUMN, RUN_COLUMN]
    for name in frame.columns:
        if frame[name].dtype == pl.Object:
            assert all(a is b for a, b in zip(checked[name].to_list(), frame[name].to_list(), strict=True))
        else:
            assert checked[name].equals(frame[name]), name


def oracle(model: type[BaseModel], frame: pl.DataFrame) -> list[list]:
    """Per row, pydantic's error dicts for ``df.row(i, named=True)``, every type spelled out."""
    return [typed(expected_error_dicts(model, frame.row(position, named=True))) for position in range(frame.height)]


def got(checked: pl.DataFrame) -> list[list]:
    return [typed(list(errors)) for errors in checked[flowschema.ERRORS_COLUMN].to_list()]


@pytest.mark.parametrize("engine", ["auto", "rows"])
@pytest.mark.parametrize("model", [Fitting, Mismatched], ids=lambda model: model.__name__)
def test_every_polars_type_gets_pydantics_answer_for_each_row(executor, model, engine):
    checked = FRAME.flowschema.validate(model, executor, engine=engine, chunksize=5)
    expected = oracle(model, FRAME)
    assert got(checked) == expected
    assert checked[flowschema.VALID_COLUMN].to_list() == [not errors[1] for errors in expected]
    assert_untouched(checked, FRAME)
    assert checked[flowschema.VALID_COLUMN].dtype == pl.Boolean and checked[flowschema.ERRORS_COLUMN].dtype == pl.Object


def test_the_columnar_engine_reads_numbers_and_strings_as_arrow_and_agrees_with_the_rows_engine():
    model = Fitting
    auto = FRAME.flowschema.validate(model)
    assert auto[RUN_COLUMN][0]["engine"] == "columnar"
    assert got(auto) == got(FRAME.flowschema.validate(model, engine="rows"))


def test_each_polars_type_is_read_the_cheapest_exact_way():
    (chunk,) = POLARS.chunks(FRAME, ROWS, 0)
    kinds = {name: layout[0] for name, layout in zip(chunk.names, chunk.layouts)}
    assert {name for name, kind in kinds.items() if kind == "numpy"} == {"count", "ok", "f64_plain", "f32"}
    assert {name for name, kind in kinds.items() if kind == "arrow"} == {"i64", "i8", "u64", "flag", "text"}
    assert {name for name, kind in kinds.items() if kind == "tz"} == {"when"}  # a pandas datetime column's layout
    assert {name for name, kind in kinds.items() if kind == "coded"} == {"naive_ns", "day", "clock", "span"}
    assert kinds["f64"] == "py"  # it holds NaN: a value, not a null


def test_nan_is_a_value_in_polars_and_missing_in_pandas():
    """polars keeps NaN apart from null (``df.row`` gives NaN); ``pl.from_pandas`` turns NaN into null."""

    class Reading(BaseModel):
        value: float | None = Field(ge=0)

    frame = pl.DataFrame({"value": [float("nan"), None, 1.0]})
    assert frame.flowschema.validate(Reading)[flowschema.VALID_COLUMN].to_list() == [False, True, True]
    as_pandas = frame.to_pandas()
    assert as_pandas.flowschema.validate(Reading)[flowschema.VALID_COLUMN].tolist() == [True, True, True]
    assert pl.from_pandas(as_pandas).flowschema.validate(Reading)[flowschema.VALID_COLUMN].to_list() == [True] * 3


def test_the_report_reads_a_polars_result_after_filter_head_sort_and_concat():
    checked = FRAME.flowschema.validate(Fitting)
    errors = checked.flowschema.errors()
    assert errors.columns == ["row", "field", "type", "msg", "input"]
    expected_rows = [position for position, errors_of in enumerate(oracle(Fitting, FRAME)) for _ in errors_of[1]]
    assert errors["row"].to_list() == expected_rows
    assert errors["input"].dtype == pl.Object
    summary = checked.flowschema.summary()
    assert summary["errors"].sum() == errors.height and set(summary["field"]) == set(errors["field"])
    invalid = checked.flowschema.invalid_rows()
    assert invalid.columns == FRAME.columns
    assert invalid.height + checked.flowschema.valid_rows().height == FRAME.height
    money = checked.flowschema.invalid_rows(field="money", error_type="greater_than_equal")
    assert money["money"].to_list() == [decimal.Decimal("-0.01")] * money.height and money.height > 0
    for view in (checked.filter(~pl.col(flowschema.VALID_COLUMN)), checked.head(3),
                 checked.sort("i8", nulls_last=True), pl.concat([checked, checked])):
        assert view.flowschema.errors().height == sum(len(cell) for cell in view[flowschema.ERRORS_COLUMN].to_list())
        assert view[RUN_COLUMN][0]["model"] == "Fitting"
    with pytest.raises(flowschema.DataValidationError, match="rows failed validation against Fitting"):
        checked.flowschema.assert_valid()
    passing = checked.filter(pl.col(flowschema.VALID_COLUMN))
    assert passing.flowschema.assert_valid() is passing


def test_the_dashboard_and_html_report_read_a_polars_result(tmp_path):
    checked = FRAME.flowschema.validate(Fitting)
    path = tmp_path / "report.html"
    checked.flowschema.to_html(path)
    page = path.read_text()
    assert "Fitting" in page and "money" in page
    board = checked.flowschema.dashboard()
    assert board is not None


def test_bad_calls_say_what_to_do():
    with pytest.raises(ValueError, match="not a validation result"):
        FRAME.flowschema.errors()
    with pytest.raises(ValueError, match="engine must be one of"):
        FRAME.flowschema.validate(Fitting, engine="fast")


def test_a_result_validated_again_drops_its_own_columns_first():
    checked = FRAME.flowschema.validate(Fitting)
    again = checked.flowschema.validate(Fitting)
    assert again.columns == checked.columns and got(again) == got(checked)


def test_an_empty_polars_frame():
    checked = FRAME.head(0).flowschema.validate(Fitting)
    assert checked.height == 0 and checked.flowschema.errors().height == 0
    assert checked.flowschema.summary().height == 0


def test_polars_and_pandas_agree_where_their_rows_agree():
    """Without NaN and with types both read alike, the two frame kinds give the same errors."""
    frame = FRAME.select("i64", "i8", "u64", "f64_plain", "flag", "text", "when", "day", "money")

    class Plain(BaseModel):
        i64: int | None = Field(ge=-10)
        i8: int | None = Field(le=100)
        u64: int | None
        f64_plain: float | None = Field(gt=-1)
        flag: bool
        text: str | None = Field(min_length=1)
        when: dt.datetime | None
        day: dt.date | None
        money: decimal.Decimal | None = Field(ge=0)

    from_polars = got(frame.flowschema.validate(Plain))
    from_pandas = [typed(list(errors)) for errors in
                   frame.to_pandas(use_pyarrow_extension_array=True).flowschema.validate(Plain)[
                       flowschema.ERRORS_COLUMN]]
    assert from_polars == from_pandas
    assert any(from_polars)


def test_a_polars_result_saved_and_read_back_is_the_same_result(tmp_path):
    frame = FRAME.select("i64", "count", "f64", "f64_plain", "text", "when", "day", "money", "ints", "point")

    class Saved(BaseModel):
        i64: int | None = Field(ge=-10)
        count: int = Field(ge=0)
        f64: float | None = Field(ge=0)
        f64_plain: float | None
        text: str | None = Field(min_length=1)
        when: dt.datetime | None
        day: dt.date | None
        money: decimal.Decimal | None = Field(ge=0)
        ints: list[int] | None
        point: dict | None

    checked = frame.flowschema.validate(Saved)
    path = tmp_path / "checked.parquet"
    checked.flowschema.to_parquet(path)
    back = flowschema.read_parquet(path, kind="polars")
    assert_untouched(back, frame)  # NaN and null apart, ints with nulls as ints, zones kept
    assert got(back) == got(checked)
    assert back[RUN_COLUMN][0]["model"] == "Saved" and back[RUN_COLUMN][0]["rows"] == ROWS
    assert back.flowschema.summary().equals(checked.flowschema.summary())
    as_pandas = flowschema.read_parquet(path)
    assert as_pandas.flowschema.summary().to_dict("list") == checked.flowschema.summary().to_dict(as_series=False)
    with pytest.raises(ValueError, match="kind must be 'pandas' or 'polars'"):
        flowschema.read_parquet(path, kind="arrow")


def test_validate_iter_takes_polars_frames_and_says_what_to_do_with_a_lazy_frame(executor):
    parts = list(FRAME.iter_slices(5))
    checked = list(flowschema.validate_iter(parts, Fitting, executor))
    assert [part.height for part in checked] == [5, 5, 2]
    assert got(pl.concat(checked)) == oracle(Fitting, FRAME)
    mixed = list(flowschema.validate_iter([FRAME.head(2), FRAME.head(2).to_pandas()], Fitting))
    assert isinstance(mixed[0], pl.DataFrame) and not isinstance(mixed[1], pl.DataFrame)
    with pytest.raises(TypeError, match="not a polars LazyFrame: collect it"):
        flowschema.validate_iter(FRAME.lazy(), Fitting)
    with pytest.raises(TypeError, match="for one DataFrame use df.flowschema.validate"):
        flowschema.validate_iter(FRAME, Fitting)
    with pytest.raises(TypeError, match="expected a pandas or polars DataFrame, got dict"):
        list(flowschema.validate_iter([{"i64": 1}], Fitting))


@settings(max_examples=examples("sync", 60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_models_and_polars_frames_get_pydantics_answer(data):
    """The property test's models and frames (fields fed columns of every kind), as polars frames."""
    model, frame = data.draw(models_and_frames())
    try:
        as_polars = pl.from_pandas(frame)
    except Exception:  # a column polars cannot hold (mixed objects...): not a polars frame
        assume(False)
    engine = data.draw(st.sampled_from(["auto", "rows"]))
    chunksize = data.draw(st.sampled_from([None, 1, 3]))
    checked = as_polars.flowschema.validate(model, engine=engine, chunksize=chunksize, progress=False)
    assert got(checked) == oracle(model, as_polars)


def test_explain_reads_a_polars_frame_as_the_engine_does():
    routes = dict(zip(*flowschema.explain(Fitting, FRAME)[["field", "route"]].to_dict("list").values()))
    assert routes["count"] == "screen" and routes["i64"] == "screen"  # numpy and Arrow ints: screened
    assert routes["f64"] == "distinct values"  # it holds NaN: Python values, no screen reads them
    assert routes["when"] == "screen"  # a datetime column in a zone: read as pandas reads one, screened
    assert routes["naive_ns"] == "distinct values"  # its distinct values and codes: validated once per value
    assert flowschema.explain(Fitting, FRAME.head(0).drop("when", "naive_ns"))["route"].eq("screen").sum() == 10


def test_infer_model_drafts_a_model_every_row_of_a_polars_frame_satisfies():
    """Each column's distinct cells as df.row gives them: the drafted model accepts every row of the
    many-types frame (a NaN is a float there: no range), of flights, and of a result's own columns."""
    from flowschema.datasets import load_flights

    drafted = flowschema.infer_model(FRAME, "Drafted")
    assert FRAME.flowschema.validate(drafted)[flowschema.VALID_COLUMN].all()
    fields = drafted.model_fields
    assert fields["f64"].annotation == float | None and not fields["f64"].metadata  # NaN: no range
    assert fields["i8"].metadata and fields["i8"].description.endswith("from -128 to 127")
    assert fields["cat"].annotation == Literal["hi", "lo"] | None
    flights = pl.from_pandas(load_flights().iloc[:20_000])
    model = flowschema.infer_model(flights, "Flight")
    checked = flights.flowschema.validate(model)
    assert checked[flowschema.VALID_COLUMN].all()
    again = flowschema.infer_model(checked, "Flight")  # the result's _fs_ columns are not data
    assert list(again.model_fields) == flights.columns
    sampled = flowschema.infer_model(flights, "Flight", sample=500)
    assert "random sample of 500 of 20,000 rows" in sampled.__doc__
    assert flowschema.infer_model(flights, "Flight", sample=500).model_json_schema() == sampled.model_json_schema()
    with pytest.raises(ValueError, match=r"empty frame \(0 rows, 3 columns\)"):
        flowschema.infer_model(flights.head(0).select("year", "month", "day"))


def test_coerce_puts_validated_values_in_polars_types(executor):
    """The pandas table's rule in polars types: a column gets its field type's polars type when
    every cell fits it (valid rows their validated value, invalid rows their input), else Object."""

    class Coerced(BaseModel):
        n: int | None
        x: float
        flag: bool
        word: str
        when: dt.datetime
        code: int

    frame = pl.DataFrame({
        "n": ["1", None, "3"], "x": [1, 2, 3], "flag": ["yes", "no", "true"], "word": ["a", "b", "c"],
        "when": ["2024-01-01T00:00:00+01:00", "2024-06-01T12:00:00+01:00", "2024-01-02T00:00:00+01:00"],
        "code": ["7", "8", "9"],
    })
    checked = frame.flowschema.validate(Coerced, executor, coerce=True)
    assert checked[flowschema.VALID_COLUMN].all()
    assert checked.schema["n"] == pl.Int64 and checked["n"].to_list() == [1, None, 3]
    assert checked.schema["x"] == pl.Float64 and checked["x"].to_list() == [1.0, 2.0, 3.0]
    assert checked.schema["flag"] == pl.Boolean and checked["flag"].to_list() == [True, False, True]
    assert checked.schema["word"] == pl.String and checked.schema["code"] == pl.Int64
    assert checked.schema["when"].base_type() == pl.Datetime
    assert checked["when"].to_list() == [Coerced.model_validate(frame.row(i, named=True)).when for i in range(3)]
    failing = frame.with_columns(pl.Series("code", ["7", "x", "9"]))
    checked = failing.flowschema.validate(Coerced, executor, coerce=True)
    assert checked[flowschema.VALID_COLUMN].to_list() == [True, False, True]
    assert checked.schema["code"] == pl.Object and checked["code"].to_list() == [7, "x", 9]  # "x" stays itself
    assert checked.schema["x"] == pl.Object and checked["x"].to_list() == [1.0, 2, 3.0]  # an input int: no Float64


def object_column(values: list) -> pl.Series:
    """An Object column of exactly these values: polars reads a list by its first value (an Enum
    fails) and checks a numpy array against its first item's type (a str then an int fails)."""
    try:
        return pl.Series("", values, dtype=pl.Object)
    except (TypeError, AttributeError):
        return pl.Series("", np.array(values, dtype=object), dtype=pl.Object)


@pytest.mark.parametrize("dtype_id", list(COLUMNS))
def test_the_matrix_columns_as_polars_columns_get_pydantics_answer(dtype_id):
    """The exactness matrix (every field kind fed every dtype's edge values), each dtype's column
    as ``pl.from_pandas`` makes it (an Object column where no polars type holds the values), with
    the wide model, on both engines."""
    values = COLUMNS[dtype_id]().reset_index(drop=True)
    try:
        column = pl.from_pandas(values)
    except (Exception, pl.exceptions.PanicException):  # no polars type holds them (decimal256 panics):
        column = object_column(values.tolist())
    model = matrix_model("wide")
    frame = pl.DataFrame([column.alias(name) for name in MODELS["wide"]])
    expected = oracle(model, frame)
    for engine in ("auto", "rows"):
        checked = frame.flowschema.validate(model, engine=engine, chunksize=7)
        differing = [position for position, (a, b) in enumerate(zip(got(checked), expected, strict=True)) if a != b]
        assert not differing, f"{dtype_id} ({column.dtype}), engine={engine}: rows {differing} differ"


@pytest.mark.parametrize("column", [
    pl.Series([dt.datetime(9999, 12, 31, 20)], dtype=pl.Datetime("us")) + dt.timedelta(hours=10),
    pl.Series([dt.datetime(9999, 12, 31, 20)], dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
    .dt.convert_time_zone("Asia/Tokyo"),
    pl.Series([dt.datetime(1, 1, 1, 1)], dtype=pl.Datetime("ms")).dt.replace_time_zone("UTC")
    .dt.convert_time_zone("America/New_York"),
], ids=["naive year 10000", "year 10000 in Tokyo", "year 0 in New York"])
def test_a_datetime_no_python_value_holds_is_refused_on_both_engines_as_df_row_refuses_it(column):
    """Such instants are read by polars' own conversion, not as pandas datetimes: no screen vouches
    for them, and both engines raise what ``df.row`` raises."""
    frame = pl.DataFrame({"when": column, "x": [1]})
    with pytest.raises((ValueError, OverflowError)) as by_row:
        frame.row(0, named=True)

    class Stamp(BaseModel):
        when: dt.datetime | None = None

    for engine in ("auto", "rows"):
        with pytest.raises(type(by_row.value)):
            frame.flowschema.validate(Stamp, engine=engine)
