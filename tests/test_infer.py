"""Inference: a drafted model accepts every row it was drafted from (pydantic says so, with the
oracle's own normalisation), and ``model_source`` re-executes to the same model."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import os
import shutil
import subprocess
import sys
import uuid
import warnings
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
)

import flowschema
from flowschema import cli
from flowschema.datasets import load_flights, load_penguins
from flowschema.errors import DataFileError
from flowschema.infer import infer_model, infer_model_from_file, model_source
from tests.oracle import expected_errors, reference_row

REPO = Path(__file__).resolve().parents[1]
VALID = flowschema.VALID_COLUMN
TEXT_CANDIDATES = [int, float, bool, dt.date, dt.datetime, dt.time, dt.timedelta, uuid.UUID, str]


def rebuilt(model: type[BaseModel]) -> type[BaseModel]:
    """The model that executing ``model_source(model)`` defines."""
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(model_source(model), "<generated>", "exec", dont_inherit=True), namespace)  # noqa: S102
    return namespace[model.__name__]


def assert_every_row_valid(frame: pd.DataFrame, model: type[BaseModel]) -> None:
    """pydantic accepts every row (cells normalised by the oracle), and so does validate()."""
    for position in range(len(frame)):
        assert expected_errors(model, reference_row(frame, position)) == [], reference_row(frame, position)
    assert frame.flowschema.validate(model, progress=False)[VALID].all()


def assert_round_trips(model: type[BaseModel], frame: pd.DataFrame) -> None:
    """The source re-executes to the same schema and fields, and gives the same verdicts."""
    again = rebuilt(model)
    assert again.model_json_schema() == model.model_json_schema()
    assert list(again.model_fields) == list(model.model_fields)
    for name, info in model.model_fields.items():
        assert again.model_fields[name].annotation == info.annotation
        assert repr(again.model_fields[name].metadata) == repr(info.metadata)  # pattern metadata has no ==
    for position in range(len(frame)):
        row = reference_row(frame, position)
        assert expected_errors(again, row) == expected_errors(model, row)


def field_type(model: type[BaseModel], name: str) -> Any:
    """The field's annotation without its Optional."""
    annotation = model.model_fields[name].annotation
    arguments = [argument for argument in getattr(annotation, "__args__", ()) if argument is not type(None)]
    return arguments[0] if model.model_fields[name].default is None and len(arguments) == 1 else annotation


def constraints(model: type[BaseModel], name: str) -> dict:
    """The field's constraints as Field keywords: {"ge": 1, "pattern": "^...$", ...}."""
    found = {}
    for item in model.model_fields[name].metadata:
        found.update({field.name: getattr(item, field.name) for field in dataclasses.fields(item)}
                     if dataclasses.is_dataclass(item) else vars(item))
    return found


# --- real data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flights():
    return load_flights()


@pytest.fixture(scope="module")
def january(flights):
    return flights[flights["month"] == 1]


def test_penguins_round_trip():
    penguins = load_penguins()
    Penguin = infer_model(penguins, "Penguin")
    assert_every_row_valid(penguins, Penguin)
    assert_round_trips(Penguin, penguins)
    assert field_type(Penguin, "species") == Literal["Adelie", "Chinstrap", "Gentoo"]
    assert Penguin.model_fields["flipper_length_mm"].annotation == int | None  # float64 of whole numbers
    assert Penguin.model_fields["sex"].annotation == Literal["female", "male"] | None


def test_the_whole_flights_table_validates_against_its_own_model(flights):
    Flight = infer_model(flights, "Flight")
    checked = flights.flowschema.validate(Flight, progress=False)
    assert checked[VALID].all()
    positions = np.random.default_rng(0).choice(len(flights), 300, replace=False).tolist()
    assert_round_trips(Flight, flights.iloc[positions])
    assert field_type(Flight, "time_hour") is dt.datetime  # text that pydantic reads as datetimes
    assert constraints(Flight, "carrier") == {} and field_type(Flight, "carrier").__origin__ is Literal
    assert constraints(Flight, "dest")["pattern"] == "^[A-Z]{3}$"  # 105 destinations: over 20
    assert field_type(Flight, "dep_time") is int and constraints(Flight, "dep_time") == {"ge": 1, "le": 2400}


def test_a_month_model_flags_the_next_month_exactly_as_pydantic_does(flights, january):
    Flight = infer_model(january, "Flight", categories=100)
    assert_every_row_valid(january.iloc[::50], Flight)
    february = flights[flights["month"] == 2].iloc[::25]
    checked = february.flowschema.validate(Flight, progress=False)
    assert not checked[VALID].any()  # month is 2, January's model says 1
    for position in range(0, len(february), 7):
        row = reference_row(february, position)
        got = [(error["loc"], error["type"], error["msg"]) for error in checked["_fs_errors"].iloc[position]]
        assert got == expected_errors(Flight, row)
    assert_round_trips(Flight, february)


def test_a_sample_gives_a_model_the_sampled_rows_satisfy(flights):
    Flight = infer_model(flights, "Flight", sample=2_000)
    sampled = flights.sample(n=2_000, random_state=0)
    assert_every_row_valid(sampled.iloc[::4], Flight)
    assert sampled.flowschema.validate(Flight, progress=False)[VALID].all()
    assert "a random sample of 2,000 of 336,776 rows" in Flight.__doc__
    assert infer_model(flights, "Flight", sample=2_000).model_json_schema() == Flight.model_json_schema()


# --- generated frames of every dtype ---------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=6),
    st.text(alphabet="ABCXYZ0129", min_size=1, max_size=4),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, width=32).map(str),
    st.sampled_from(["true", "no", "yes", "0", "1", "nan", "inf", " 7", "1e3", "P1D", "12:30"]),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)).map(str),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)).map(dt.datetime.isoformat),
    st.uuids().map(str),
)
OBJECTS = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(), st.booleans(), TEXT, st.decimals(), st.dates(), st.datetimes(),
    st.times(), st.timedeltas(), st.uuids(), st.binary(max_size=3), st.lists(st.integers(), max_size=2),
)
STAMPS = st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2200, 1, 1))
ZONES = [None, "UTC", "America/New_York", "Asia/Kolkata"]
NAMES = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
    st.sampled_from(["dep time", "2019", "class", "a.b", "_x", "model_dump", "int", "Field", "copy", "schema",
                     "Literal", "x-y", "Ünïcode", "", " ", "a b", "a_b", "A B"]),
    st.text(max_size=5),
).filter(lambda name: not name.startswith("_fs_"))


def _maybe(draw, values: st.SearchStrategy, rows: int, missing: bool = True) -> list:
    return draw(st.lists(st.one_of(st.none(), values) if missing else values, min_size=rows, max_size=rows))


def _datetimes(draw, rows: int) -> pd.Series:
    stamps = pd.Series(pd.to_datetime(_maybe(draw, STAMPS, rows)), dtype="datetime64[ns]")
    zone = draw(st.sampled_from(ZONES))
    return stamps.dt.tz_localize(zoneinfo.ZoneInfo(zone), ambiguous="NaT", nonexistent="NaT") if zone else stamps


COLUMN_KINDS = {
    "int": lambda draw, rows: pd.Series(
        _maybe(draw, st.integers(0, 127), rows, missing=False), dtype=draw(st.sampled_from(["int8", "int64", "uint64"]))),
    "big int": lambda draw, rows: pd.Series(_maybe(draw, st.integers(-(2**63), 2**63 - 1), rows, missing=False)),
    "float": lambda draw, rows: pd.Series(
        _maybe(draw, st.one_of(st.integers(-10**6, 10**6).map(float), st.floats(width=32)), rows),
        dtype=draw(st.sampled_from(["float64", "float32"]))),
    "bool": lambda draw, rows: pd.Series(_maybe(draw, st.booleans(), rows, missing=False), dtype=bool),
    "nullable": lambda draw, rows: draw(st.sampled_from([
        lambda: pd.Series(_maybe(draw, st.integers(-(2**40), 2**40), rows), dtype="Int64"),
        lambda: pd.Series(_maybe(draw, st.floats(allow_nan=False), rows), dtype="Float64"),
        lambda: pd.Series(_maybe(draw, st.booleans(), rows), dtype="boolean"),
        lambda: pd.Series(_maybe(draw, st.integers(-5, 5), rows), dtype=pd.ArrowDtype(pa.int64())),
        lambda: pd.Series(_maybe(draw, st.lists(st.integers(-5, 5), max_size=2), rows),
                          dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
    ]))(),
    "text": lambda draw, rows: pd.Series(
        _maybe(draw, TEXT, rows), dtype=draw(st.sampled_from(["str", object, "string[python]", "category"]))),
    "object": lambda draw, rows: pd.Series(_maybe(draw, OBJECTS, rows), dtype=object),
    "datetime": _datetimes,
    "timedelta": lambda draw, rows: pd.Series(pd.to_timedelta(_maybe(draw, st.timedeltas(
        dt.timedelta(days=-999), dt.timedelta(days=999)), rows)), dtype="timedelta64[ns]"),
}


@st.composite
def frames(draw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A frame, and another frame with the same columns (drawn alike) to compare verdicts on."""
    rows = draw(st.integers(1, 8))
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    kinds = [draw(st.sampled_from(sorted(COLUMN_KINDS))) for _ in names]

    def frame_of(length: int) -> pd.DataFrame:
        return pd.DataFrame({name: COLUMN_KINDS[kind](draw, length) for name, kind in zip(names, kinds)})

    return frame_of(rows), frame_of(draw(st.integers(1, 8)))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=frames(), categories=st.integers(1, 5), ranges=st.booleans(), patterns=st.booleans())
def test_generated_frames_validate_against_their_model_and_the_source_round_trips(frames, categories, ranges,
                                                                                   patterns):
    frame, other = frames
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no field shadowing a BaseModel attribute, no protected name
        model = infer_model(frame, "Drafted", categories=categories, ranges=ranges, patterns=patterns)
    assert [name if info.alias is None else info.alias for name, info in model.model_fields.items()] == list(frame.columns)
    assert_every_row_valid(frame, model)
    assert_round_trips(model, other)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=8), dtype=st.sampled_from(["str", object]))
def test_text_gets_the_first_candidate_type_pydantic_accepts_for_every_value(values, dtype):
    model = infer_model(pd.DataFrame({"x": pd.Series(values, dtype=dtype)}), categories=1)
    present = [value for value in values if value is not None]
    if not present:
        assert model.model_fields["x"].annotation == Any | None
        return
    accepted = [kind for kind in TEXT_CANDIDATES if _accepts(kind, present)]
    chosen = field_type(model, "x")
    if len(set(present)) == 1 and accepted[0] is str:
        assert chosen == Literal[present[0]]
    else:
        assert chosen is accepted[0]


def _accepts(kind: type, values: list) -> bool:
    try:
        TypeAdapter(list[kind]).validate_python(values)
    except ValidationError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(st.text(alphabet="AZaz09-._ N", min_size=0, max_size=7), min_size=2, max_size=12, unique=True))
def test_patterns_accept_every_value_and_are_no_alternation(texts):
    model = infer_model(pd.DataFrame({"code": texts}), categories=1)
    pattern = constraints(model, "code").get("pattern")
    if pattern is not None:
        assert "|" not in pattern and pattern.startswith("^") and pattern.endswith("$")
        adapter = TypeAdapter(Annotated[str, Field(pattern=pattern)])
        for text in texts:
            adapter.validate_python(text)


@pytest.mark.parametrize("texts, pattern", [
    (["AA", "9E", "B6"], "^[A-Z0-9]{2}$"),
    (["N10156", "N725MQ", "N3ALAA", "N1"], "^N[0-9][A-Z0-9]{0,4}$"),
    (["ab-1", "cd-22"], "^[a-z]{2}-[0-9]{1,2}$"),
    (["a b", "a.b"], None),  # a space and a dot at one position: no simple class
])
def test_pattern_examples(texts, pattern):
    model = infer_model(pd.DataFrame({"code": texts}), categories=1)
    assert constraints(model, "code").get("pattern") == pattern


def test_options_switch_ranges_patterns_and_literals_off():
    frame = pd.DataFrame({"n": [1, 5], "code": ["AB", "CD"], "when": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    assert constraints(infer_model(frame, categories=1), "n") == {"ge": 1, "le": 5}
    assert constraints(infer_model(frame, categories=1), "code") == {"min_length": 2, "max_length": 2,
                                                                        "pattern": "^[A-Z]{2}$"}
    plain = infer_model(frame, categories=1, ranges=False, patterns=False)
    assert all(not info.metadata for info in plain.model_fields.values())
    assert field_type(infer_model(frame), "code") == Literal["AB", "CD"]
    later = pd.DataFrame({"n": [6], "code": ["ABC"], "when": pd.to_datetime(["2021-01-01"])})
    errors = later.flowschema.validate(infer_model(frame, categories=1))["_fs_errors"].iloc[0]
    assert [error["loc"] for error in errors] == [("n",), ("code",), ("when",)]
    assert later.flowschema.validate(plain)[VALID].all()


def test_column_names_that_are_not_identifiers_become_fields_with_aliases():
    columns = ["dep time", "dep_time", "2019", "class", "a.b", "_x", "model_dump", "int", "Field", "copy", "", "é t"]
    frame = pd.DataFrame({name: [position] for position, name in enumerate(columns)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = infer_model(frame)
    fields = {name if info.alias is None else info.alias: name for name, info in model.model_fields.items()}
    assert fields == {"dep time": "dep_time_2", "dep_time": "dep_time", "2019": "column_2019", "class": "class_",
                      "a.b": "a_b", "_x": "x", "model_dump": "field_model_dump", "int": "int_", "Field": "field",
                      "copy": "copy_", "": "column", "é t": "é_t"}
    assert_every_row_valid(frame, model)
    assert_round_trips(model, frame)


def test_columns_of_an_earlier_result_are_left_out():
    checked = pd.DataFrame({"x": [1, 2]}).flowschema.validate(create_model("X", x=(int, ...)))
    assert list(infer_model(checked).model_fields) == ["x"]


def test_an_inferred_model_travels_to_worker_processes():
    penguins = load_penguins()
    Penguin = infer_model(penguins, "Penguin", sample=100)
    checked = penguins.flowschema.validate(Penguin, "multiprocessing", max_workers=1, progress=False)
    sync = penguins.flowschema.validate(Penguin, progress=False)
    assert checked["_fs_errors"].tolist() == sync["_fs_errors"].tolist() and not sync[VALID].all()


@pytest.mark.parametrize("call, error, message", [
    (lambda: infer_model([1, 2]), TypeError, "takes a pandas or polars DataFrame, got list"),
    (lambda: infer_model(pd.DataFrame()), ValueError, "empty frame (0 rows, 0 columns)"),
    (lambda: infer_model(pd.DataFrame({"x": []})), ValueError, "empty frame (0 rows, 1 columns)"),
    (lambda: infer_model(pd.DataFrame({"x": [1]}), categories=0), ValueError, "categories"),
    (lambda: infer_model(pd.DataFrame({"x": [1]}), categories=2.5), ValueError, "must be an int >= 1, got 2.5"),
    (lambda: infer_model(pd.DataFrame({"x": [1]}), sample=0), ValueError, "sample must be None or a positive int"),
    (lambda: infer_model(pd.DataFrame({"x": [1]}), sample=True), ValueError, "sample must be None or a positive"),
    (lambda: infer_model(pd.DataFrame({"x": [1]}), name="1st"), ValueError, "valid Python class name, got '1st'"),
    (lambda: infer_model(pd.DataFrame({"x": [1]}), name="class"), ValueError, "valid Python class name"),
    (lambda: infer_model(pd.DataFrame({"x": [1]}), ranges="yes"), TypeError, "ranges must be True or False"),
    (lambda: infer_model(pd.DataFrame([[1, 2]])), TypeError, "column names must be strings"),
    (lambda: infer_model(pd.DataFrame([[1, 2]], columns=["a", "a"])), ValueError, "duplicated: ['a']"),
])
def test_bad_arguments_fail_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=None) as raised:
        call()
    assert message in str(raised.value)


# --- model_source ------------------------------------------------------------------------------


class Handwritten(BaseModel):
    """A model written by hand."""

    code: Literal["a", "b", 3] = "a"
    amount: decimal.Decimal | None = Field(default=None, ge=decimal.Decimal("0.10"), max_digits=6)
    when: dt.datetime = Field(ge=dt.datetime(2020, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")))
    day: dt.date | None = Field(None, le=dt.date(2030, 1, 1), alias="Day of week")
    either: int | str | None = None
    key: uuid.UUID = Field(default=uuid.UUID(int=1), description='a "quoted" text')
    tags: list[str] = Field(min_length=1)
    ratio: float = Field(gt=0, lt=1, allow_inf_nan=False, multiple_of=0.25)
    anything: Any = None


def test_model_source_writes_hand_written_models_too():
    source = model_source(Handwritten)
    again = rebuilt(Handwritten)
    assert again.model_json_schema() == Handwritten.model_json_schema()
    assert "Code = Literal[\"a\", \"b\", 3]" in source and "import zoneinfo" in source
    row = {"when": "2020-01-01T00:30:00+01:00", "tags": [], "ratio": 0.3, "amount": "0.01", "Day of week": "2031-01-01"}
    assert expected_errors(again, row) == expected_errors(Handwritten, row) != []


def test_model_source_is_formatted_and_stable(january):
    Flight = infer_model(january, "Flight", categories=100)
    source = model_source(Flight)
    assert source == model_source(rebuilt(Flight))
    assert source.startswith("import datetime\nfrom typing import Literal, Optional\n\nfrom pydantic import")
    assert "Dest = Literal[\n    \"ALB\",\n    \"ATL\",\n" in source  # 94 destinations: one a line
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff is not None, "ruff (a test dependency) is not installed: pip install -e '.[test]'"
    check = subprocess.run([ruff, "format", "--check", "--diff", "--isolated", "-"], input=source,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout


class WithValidator(BaseModel):
    x: int

    @field_validator("x")
    @classmethod
    def positive(cls, value: int) -> int:
        return value


class Nested(BaseModel):
    inner: Handwritten


class WithMethod(BaseModel):
    x: int

    def double(self) -> int:
        return 2 * self.x


@pytest.mark.parametrize("model, error, message", [
    (int, TypeError, "takes a pydantic BaseModel subclass"),
    (WithValidator, ValueError, "it has field_validators"),
    (Nested, TypeError, "cannot write the type"),
    (WithMethod, ValueError, "WithMethod defines ['double']"),
    (create_model("Configured", x=(int, ...), __config__=ConfigDict(extra="forbid")), ValueError, "model_config"),
    (create_model("Titled", x=(int, Field(title="X!"))), ValueError, "cannot write field 'x'"),
    (create_model("Factory", x=(list, Field(default_factory=list))), ValueError, "default_factory"),
    (create_model("Odd", x=(int | Annotated[str, "note"], ...)), TypeError, "cannot write the type"),
])
def test_model_source_refuses_what_it_cannot_write(model, error, message):
    with pytest.raises(error) as raised:
        model_source(model)
    assert message in str(raised.value)


# --- model_source writes names as checked identifiers and text as string literals ------------------


def code_writing(marker: Path) -> str:
    """A Python statement that, if it ever runs, creates ``marker``."""
    return f"open({str(marker)!r}, 'w').write('ran')"


class LyingName(str):
    """A model or field name whose own methods say it is a fine identifier."""

    def isidentifier(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "'Fine'"


@pytest.mark.parametrize("make_name", [
    lambda code: f"X(BaseModel):\n    pass\n{code}\nclass Y",
    lambda code: f"X(BaseModel): pass\n{code}\nclass Y",
    lambda code: LyingName(f"X(BaseModel):\n    pass\n{code}\nclass Y"),
    lambda code: "class",
    lambda code: "1st",
    lambda code: "",
])
def test_model_source_refuses_a_model_name_that_is_not_an_identifier(tmp_path, make_name):
    """Issue 18, case 14: a model's name (a JSON schema's title, say) is never spliced into code."""
    marker = tmp_path / "ran"
    name = make_name(code_writing(marker))
    model = create_model(name, x=(int, ...))
    with pytest.raises(ValueError, match="model_source cannot write a model named") as raised:
        model_source(model)
    assert str.__repr__(name) in str(raised.value)
    assert not marker.exists()


@pytest.mark.parametrize("make_name", [
    lambda code: f"x: int = 0\n    {code}\n    y",
    lambda code: f"x = {code}\n    y",
    lambda code: LyingName(f"x = {code}\n    y"),
    lambda code: "class",
    lambda code: "None",
    lambda code: "a b",
    lambda code: "1x",
])
def test_model_source_refuses_a_field_name_that_is_not_an_identifier(tmp_path, make_name):
    """Issue 18, case 14: a field's name is never spliced into code either."""
    marker = tmp_path / "ran"
    name = make_name(code_writing(marker))
    model = create_model("Model", **{name: (int, ...)})
    with pytest.raises(ValueError, match="model_source cannot write the field named") as raised:
        model_source(model)
    assert str.__repr__(name) in str(raised.value)
    assert not marker.exists()


def test_text_from_a_model_goes_into_the_source_as_string_literals(tmp_path):
    """Issue 18, case 14: descriptions, aliases, defaults, Literal values, patterns and the
    docstring that try to close their quotes are written escaped, and read back the same."""
    marker = tmp_path / "ran"
    code = code_writing(marker)
    texts = [f'"); {code} #', f"'); {code} #", f'"""\n{code}\n"""', f"'''\r{code}\r'''", f"\\\n{code}"]
    model = create_model(
        "Quoted", __doc__=f'""" {code}\r"""',
        described=(int, Field(description=texts[0])),
        aliased=(int, Field(alias=texts[1])),
        defaulted=(str, Field(default=texts[2])),
        chosen=(Literal[tuple(texts)], ...),
        patterned=(str, Field(pattern=r"""^["'\\]+\)\s*;$""")),
    )
    again = rebuilt(model)
    assert again.model_json_schema() == model.model_json_schema()
    assert again.__doc__ == model.__doc__ and again.model_fields["chosen"].annotation == Literal[tuple(texts)]
    assert not marker.exists()


class CodeAsRepr:
    """An object whose repr, str and format are all Python code."""

    code = ""

    def __repr__(self) -> str:
        return self.code

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return self.code


class CodeFloat(CodeAsRepr, float):
    """A float whose repr and format are Python code."""


class CodeStr(CodeAsRepr, str):
    """A str whose repr and format are Python code."""


@pytest.mark.parametrize("build, message", [
    (lambda: create_model("M", x=(float, Field(default=CodeFloat(1.0)))), "the value of field 'x': a CodeFloat"),
    (lambda: create_model("M", x=(str, Field(default=CodeStr("a")))), "the value of field 'x': a CodeStr"),
    (lambda: create_model("M", x=(int, Field(ge=CodeFloat(2.0)))), "the value of field 'x': a CodeFloat"),
    (lambda: create_model("M", x=(int, Field(description=CodeAsRepr()))), "the text of field 'x': a CodeAsRepr"),
    (lambda: create_model("M", x=(int, Field(alias=CodeStr("a")))), "the text of field 'x': a CodeStr"),
    (lambda: create_model("M", __doc__=CodeAsRepr(), x=(int, ...)), "the docstring of M: a CodeAsRepr"),
    (lambda: create_model("M", __doc__=CodeStr("doc"), x=(int, ...)), "the docstring of M: a CodeStr"),
])
def test_values_whose_own_repr_is_code_are_refused(tmp_path, monkeypatch, build, message):
    """Issue 18, case 14: values are written by their exact type's repr; a subclass (whose
    repr could be anything) or an object where text belongs is refused, and nothing runs."""
    marker = tmp_path / "ran"
    for kind in (CodeAsRepr, CodeFloat, CodeStr):
        monkeypatch.setattr(kind, "code", code_writing(marker))
    with pytest.raises(TypeError) as raised:
        model_source(build())
    assert message in str(raised.value)
    assert not marker.exists()


@pytest.mark.parametrize("doc", ["drafted from cr\rname.csv", "a\x0bb", "a\x0cb", "tab\there", "a\u2028b", "a\x85b",
                                 'ends with a quote"', " padded ", "a\r\nb"])
def test_a_docstring_with_line_breaks_or_control_characters_round_trips(doc):
    """Issue 18, case 19: a file name holding a carriage return made the docstring, written
    between triple quotes, come back with a newline ("its JSON schema differs")."""
    model = create_model("Doc", __doc__=doc, x=(int, ...))
    assert rebuilt(model).__doc__ == doc


# --- files and the command line ------------------------------------------------------------------


@pytest.fixture(scope="module")
def january_files(january, tmp_path_factory):
    folder = tmp_path_factory.mktemp("january")
    january.to_csv(folder / "january.csv", index=False)
    january.to_parquet(folder / "january.parquet", index=False)
    return folder


@pytest.mark.parametrize("file_name", ["january.csv", "january.parquet"])
def test_a_file_read_in_batches_gives_the_model_of_the_whole_file(january_files, file_name):
    path = january_files / file_name
    batched = infer_model_from_file(path, "Flight", batch_rows=1_000, categories=30)
    whole = pd.read_csv(path) if file_name.endswith(".csv") else pd.read_parquet(path)
    assert batched.model_json_schema()["properties"] == infer_model(whole, "Flight",
                                                                    categories=30).model_json_schema()["properties"]
    assert flowschema.validate_file(path, batched, chunksize=1_000, progress=False).invalid == 0


def test_batches_that_change_type_or_overflow_the_distinct_values_still_validate(tmp_path, monkeypatch):
    monkeypatch.setattr("flowschema.infer.DISTINCT_CAP", 10)
    frame = pd.DataFrame({
        "few": [str(number % 4) for number in range(40)] + ["x"] + [None] * 9,  # ints, then text
        "many": [str(number) for number in range(40)] + ["1.5", "x"] + [None] * 8,
        "when": [f"2020-01-{day:02d}" for day in range(1, 26)] * 2,
    })
    frame.to_csv(tmp_path / "drift.csv", index=False)
    model = infer_model_from_file(tmp_path / "drift.csv", batch_rows=7, categories=2)
    assert flowschema.validate_file(tmp_path / "drift.csv", model, chunksize=7, progress=False).invalid == 0
    assert model.model_fields["few"].annotation == int | str | None  # checked against the kept values
    assert model.model_fields["many"].annotation == Any | None  # too many values kept to check a union
    assert model.model_fields["when"].description.startswith("over 10 distinct values")
    assert constraints(model, "when") == {"ge": dt.date(2020, 1, 1), "le": dt.date(2020, 1, 25)}
    head = infer_model_from_file(tmp_path / "drift.csv", sample=10)
    assert "the first 10 rows of drift.csv" in head.__doc__
    assert constraints(head, "many") == {"ge": 0, "le": 9}


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_writes_a_model_that_validate_then_uses(january_files, monkeypatch, capsys):
    code, out, _ = run_cli("infer", str(january_files / "january.csv"), "--name", "Flight", capsys=capsys)
    assert code == 0 and out.startswith("import datetime")
    (january_files / "flight_model.py").write_text(out)
    monkeypatch.chdir(january_files)
    code, out, _ = run_cli("validate", "january.parquet", "--model", "flight_model:Flight", capsys=capsys)
    assert code == 0 and "invalid: 0" in out


def test_cli_options(january_files, capsys):
    path = str(january_files / "january.parquet")
    _, out, _ = run_cli("infer", path, "--no-ranges", "--no-patterns", "--categories", "2", "--sample", "100",
                        capsys=capsys)
    assert "ge=" not in out and "pattern=" not in out and "Literal" not in out and "first 100 rows" in out


@pytest.mark.parametrize("args, exit_code, message", [
    (["infer", "nope.csv"], 2, "no such file: nope.csv"),
    (["infer", "january.csv", "--categories", "0"], 2, "categories"),
    (["infer", "january.csv", "--sample", "-1"], 2, "sample must be None or a positive int"),
    (["infer", "notes.txt.json"], 2, "cannot tell the format"),
    (["infer", "empty.csv"], 3, "empty.csv is empty: a CSV file needs at least a header line"),
    (["infer", "header.csv"], 3, "cannot infer a model from header.csv: it has no rows or no columns"),
    (["infer", "broken.parquet"], 3, "broken.parquet is not a Parquet file"),
])
def test_cli_usage_errors_exit_2_and_unreadable_input_3(january_files, monkeypatch, capsys, args, exit_code, message):
    """The exit-code table of every command (tests/test_cli.py has all of it): 2 usage, 3 data."""
    monkeypatch.chdir(january_files)
    (january_files / "empty.csv").write_text("")
    (january_files / "header.csv").write_text("a,b\n")
    (january_files / "notes.txt.json").write_text("{}")
    (january_files / "broken.parquet").write_bytes(b"not parquet")
    code, out, err = run_cli(*args, capsys=capsys)
    assert code == exit_code and out == ""
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("make_file, said", [
    (lambda path: path.write_text("a,b\n"), "it has no rows or no columns"),
    (lambda path: path.write_text('a,b\n"1,2\n3,4\n'), "EOF inside string starting at row 1"),
    (lambda path: path.write_bytes("a,b\n1,2\n3,é\n".encode("latin-1")), "can't decode byte 0xe9"),
    (lambda path: path.write_text(""), "is empty"),
])
def test_a_file_that_cannot_be_read_is_a_data_file_error_naming_it(tmp_path, make_file, said):
    """Issue 18, case 19: whatever pandas or pyarrow raise, infer_model_from_file names the file."""
    path = tmp_path / "data.csv"
    make_file(path)
    with pytest.raises(DataFileError) as raised:
        infer_model_from_file(path)
    assert str(path) in str(raised.value) and said in str(raised.value)


def test_the_flowschema_command_runs_infer(january_files):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "flowschema", "infer", "january.csv", "--sample", "500"],
                            cwd=january_files, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "class Record(BaseModel):" in result.stdout
