"""The columnar engine: the same annotated frame as the row engine, on every executor; a clear
reason wherever it is not used; exact deduplication; validators run once per distinct value."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Literal, Optional

import numpy as np
import pandas as pd
import pytest
from pydantic import (
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationInfo,
    field_validator,
    model_validator,
)

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN, EngineError
from flowschema.chunk import frame_chunks
from flowschema.columnar import columnar_plan, passing_rows
from flowschema.datasets import Flight, Penguin, load_flights, load_penguins
from flowschema.threads import in_threads
from tests.models import PEOPLE_ROWS, Address, NeedsContext, Strict
from tests.oracle import assert_exactly_pydantic, typed


def assert_same_frames(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Identical annotated frames: values, dtypes, verdicts and every error key with its type."""
    pd.testing.assert_frame_equal(left.drop(columns=[ERRORS_COLUMN]), right.drop(columns=[ERRORS_COLUMN]))
    assert typed(list(left[ERRORS_COLUMN])) == typed(list(right[ERRORS_COLUMN]))


class Contact(BaseModel):
    """Person of tests.models without its model validator: every field on the columnar engine."""

    name: str = Field(min_length=2, max_length=20)
    age: int = Field(ge=0, le=130)
    email: Optional[str] = None
    role: Literal["admin", "user"]
    address: Optional[Address] = None
    joined: Optional[dt.datetime] = None

    @field_validator("name")
    @classmethod
    def no_digits(cls, value: str) -> str:
        if any(character.isdigit() for character in value):
            raise ValueError("name must not contain digits")
        return value.title()

    @field_validator("email")
    @classmethod
    def explodes_on_boom(cls, value: str | None) -> str | None:
        if value == "boom":
            raise RuntimeError("mail server exploded")  # not wrapped by pydantic: an "exception" error
        return value


class QuickstartPenguin(BaseModel):  # the README's quickstart model
    species: str
    bill_length_mm: float = Field(gt=0)
    sex: Literal["male", "female"]


class CheckedFlight(Flight):
    @field_validator("carrier")
    @classmethod
    def upper(cls, value: str) -> str:
        if not value.isupper():
            raise ValueError("carriers are upper case")
        return value


CASES = {
    "people": (lambda: pd.DataFrame(PEOPLE_ROWS), Contact),
    "strict": (lambda: pd.DataFrame({"id": [1, "x", 3], "Label": ["a", "b", None]}, dtype=object), Strict),
    "context": (lambda: pd.DataFrame({"value": ["5", 50, 500]}, dtype=object), NeedsContext),
    "penguins": (load_penguins, Penguin),
    "quickstart": (lambda: load_penguins()[["species", "bill_length_mm", "sex"]], QuickstartPenguin),
    "flights": (lambda: load_flights().iloc[::40], Flight),
    "checked flights": (lambda: load_flights().iloc[::40], CheckedFlight),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("coerce", [False, True])
def test_columnar_equals_rows_on_every_executor(executor, case, coerce):
    load, model = CASES[case]
    frame = load()
    auto = frame.flowschema.validate(model, executor, coerce=coerce, context={"limit": 60})
    rows = frame.flowschema.validate(model, "sync", engine="rows", coerce=coerce, context={"limit": 60})
    assert auto.attrs["flowschema"]["engine"] == "columnar"  # coerce writes validated values: nested models too
    assert_same_frames(auto, rows)
    assert_exactly_pydantic(frame, model, auto, context={"limit": 60})


@pytest.mark.parametrize("model", [Flight, Penguin, QuickstartPenguin, CheckedFlight])
def test_auto_chooses_columnar_for_the_shipped_and_quickstart_models(model):
    frame = load_flights().iloc[:500] if issubclass(model, Flight) else load_penguins()
    checked = frame.flowschema.validate(model)
    assert checked.attrs["flowschema"]["engine"] == "columnar"
    assert set(flowschema.explain(model, frame)["route"]) <= {"screen", "distinct values"}


def test_the_whole_flights_table_on_the_columnar_engine_matches_pydantic():
    flights = load_flights()
    checked = flights.flowschema.validate(Flight, progress=False)
    sample = np.random.default_rng(0).choice(len(flights), 3_000, replace=False)
    failing = np.flatnonzero(~checked[VALID_COLUMN].to_numpy())[:1_000]
    rows = np.union1d(sample, failing)
    assert_exactly_pydantic(flights.iloc[rows], Flight, checked.iloc[rows])
    assert checked.attrs["flowschema"]["engine"] == "columnar" and int((~checked[VALID_COLUMN]).sum()) == 9_434


class Before(BaseModel):
    x: int

    @model_validator(mode="before")
    @classmethod
    def passthrough(cls, data):
        return data


class Wrapped(BaseModel):
    x: int

    @model_validator(mode="wrap")
    @classmethod
    def around(cls, data, handler):
        return handler(data)


class After(BaseModel):
    x: int

    @model_validator(mode="after")
    def check(self):
        return self


class PostInit(BaseModel):
    x: int

    def model_post_init(self, context) -> None:
        pass


class CustomInit(BaseModel):
    x: int

    def __init__(self, **data):
        super().__init__(**data)


class Root(RootModel[dict]):
    pass


class FactoryFromData(BaseModel):
    x: int
    y: int = Field(default_factory=lambda data: data["x"])


class ValidatedDefault(BaseModel):
    model_config = ConfigDict(validate_default=True)
    x: int
    y: int = 0


class FromPath(BaseModel):
    x: int = Field(validation_alias=AliasPath("point", 0))


class Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: int


class Allow(BaseModel):
    model_config = ConfigDict(extra="allow")
    x: int


class ReadsOtherFields(BaseModel):
    low: int
    high: int

    @field_validator("high")
    @classmethod
    def above_low(cls, value: int, info: ValidationInfo) -> int:
        if value < info.data.get("low", 0):
            raise ValueError("high is below low")
        return value


FALLBACKS = [
    (Before, {"x": [1]}, False, "model_validator(mode='before')"),
    (Wrapped, {"x": [1]}, False, "model_validator(mode='wrap')"),
    (After, {"x": [1]}, False, "model_validator(mode='after')"),
    (PostInit, {"x": [1]}, False, "model_post_init"),
    (CustomInit, {"x": [1]}, False, "custom __init__"),
    (Root, {"x": [1]}, False, "RootModel"),
    (FactoryFromData, {"x": [1]}, False, "default_factory reads the other fields"),
    (ValidatedDefault, {"x": [1]}, False, "validate_default"),
    (FromPath, {"point": [[1]]}, False, "AliasPath"),
    (Forbid, {"x": [1], "other": [2]}, False, "extra='forbid'"),
    (Allow, {"x": [1], "other": [2]}, False, "extra='allow'"),
]


@pytest.mark.parametrize(("model", "columns", "coerce", "reason"), FALLBACKS, ids=[case[0].__name__ for case in FALLBACKS])
def test_every_reason_to_fall_back_is_named(model, columns, coerce, reason):
    frame = pd.DataFrame(columns)
    checked = frame.flowschema.validate(model, coerce=coerce)
    assert checked.attrs["flowschema"]["engine"] == "rows"
    assert_exactly_pydantic(frame, model, checked)
    if not coerce:
        assert all(reason in why for why in flowschema.explain(model, frame)["why"])
        assert set(flowschema.explain(model, frame)["route"]) == {"rows"}
    with pytest.raises(EngineError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        frame.flowschema.validate(model, engine="columnar", coerce=coerce)


def test_a_validator_reading_info_data_is_caught_when_it_reads_it(executor):
    frame = pd.DataFrame({"low": [1, 5, 2], "high": [3, 4, 9]})
    checked = frame.flowschema.validate(ReadsOtherFields, executor)
    assert checked.attrs["flowschema"]["engine"] == "rows"  # planned columnar, it read info.data: rows
    assert_exactly_pydantic(frame, ReadsOtherFields, checked)
    with pytest.raises(EngineError, match="reads info.data"):
        frame.flowschema.validate(ReadsOtherFields, executor, engine="columnar")


class Counted(BaseModel):
    code: str

    @field_validator("code")
    @classmethod
    def count(cls, value: str, info: ValidationInfo) -> str:
        info.context["calls"].append((value, info.field_name))
        return value


def test_validators_run_once_per_distinct_value_on_the_columnar_engine():
    frame = pd.DataFrame({"code": ["a", "b", "a", "a", "b"]})
    calls: list = []
    frame.flowschema.validate(Counted, engine="rows", context={"calls": calls})
    assert len(calls) == 5
    calls.clear()
    frame.flowschema.validate(Counted, engine="columnar", context={"calls": calls})
    assert sorted(calls) == [("a", "code"), ("b", "code")]  # the field's name and the context, as in a model


class Picky(BaseModel):
    value: object

    @field_validator("value")
    @classmethod
    def exact(cls, value: object) -> object:
        text = repr(value)
        if text in ("1.0", "True", "'1'", "-0.0", "Decimal('1.00')"):
            raise ValueError(f"not {text}")
        return value


def test_deduplication_tells_apart_equal_values_of_other_types_and_signs(executor):
    cells = [1, 1.0, True, "1", 0.0, -0.0, decimal.Decimal("1.0"), decimal.Decimal("1.00"), 1, 0.0]
    frame = pd.DataFrame({"value": pd.Series(cells, dtype=object)})
    checked = frame.flowschema.validate(Picky, executor, engine="columnar")
    assert checked[VALID_COLUMN].tolist() == [True, False, False, False, True, False, True, False, True, True]
    assert_exactly_pydantic(frame, Picky, checked)
    floats = pd.DataFrame({"value": [0.0, -0.0, 1.5]})  # a float64 column: told apart by their bits
    assert floats.flowschema.validate(Picky, executor)[VALID_COLUMN].tolist() == [True, False, True]


def test_rows_failing_with_one_value_share_its_error_dicts(executor):
    """Errors are made once per distinct rejected value and put together once per combination:
    the rows of a chunk holding a value share its error dicts (a reference per row, on every
    executor), with pydantic's values."""
    frame = pd.DataFrame({"name": ["x", "x", "Ann", "x"], "age": [-1, -1, -1, 5], "role": ["user"] * 4})
    checked = frame.flowschema.validate(Contact, executor, engine="columnar", chunksize=4)
    assert_exactly_pydantic(frame, Contact, checked)
    errors = checked[ERRORS_COLUMN].tolist()
    assert [[error["loc"] for error in row] for row in errors] == [[("name",), ("age",)], [("name",), ("age",)],
                                                                   [("age",)], [("name",)]]
    name_x, age_minus_one = errors[0]
    assert errors[1][0] is name_x and errors[3][0] is name_x
    assert errors[1][1] is age_minus_one and errors[2][0] is age_minus_one


def test_explain_without_a_frame_and_with_missing_columns():
    table = flowschema.explain(Contact)
    assert list(table.columns) == ["field", "column", "route", "why"]
    assert table.set_index("field")["route"].to_dict() == {
        "name": "distinct values", "age": "screen", "email": "distinct values", "role": "screen",
        "address": "distinct values", "joined": "screen"}
    partial = flowschema.explain(Contact, pd.DataFrame({"name": ["x"]}))
    routes = partial.set_index("field")["route"].to_dict()
    assert routes["age"] == "missing" and routes["email"] == "default"


def test_column_work_in_threads_keeps_the_order_and_raises_what_a_column_raised():
    assert list(in_threads(lambda number: number * 2, range(50))) == list(range(0, 100, 2))

    def fails_on_seven(number: int) -> int:
        if number == 7:
            raise ValueError("column 7")
        return number

    with pytest.raises(ValueError, match="column 7"):
        list(in_threads(fails_on_seven, range(10)))


def test_a_chunk_gets_the_same_verdicts_in_threads_as_in_one():
    """The columns of a chunk screened and deduplicated in threads or one after another: the
    same rejected rows, codes and errors, field by field (flights: five fields fail)."""
    flights = load_flights().head(30_000)
    chunk = next(frame_chunks(flights, len(flights)))
    plan = columnar_plan(Flight, chunk.names)
    alone, threaded = (passing_rows(plan, chunk, None, None, False, threaded) for threaded in (False, True))
    assert alone.passed.tolist() == threaded.passed.tolist()
    for one, other in zip(alone.rejected, threaded.rejected):
        assert (one is None) == (other is None)
        if one is not None:
            assert one[0].tolist() == other[0].tolist() and one[1].tolist() == other[1].tolist()
    assert [outcome.errors for outcome in alone.outcomes] == [outcome.errors for outcome in threaded.outcomes]
    assert sum(one is not None for one in alone.rejected) >= 5
