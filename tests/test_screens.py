"""The screens and the dedup, cell by cell against pydantic: what ``make mutate`` kills mutants with.

For every field kind a screen exists for, each constraint at its edges, plain, Optional and
strict, over a column of every family with edge values: a cell the screen vouches for is one
``model_validate`` accepts (sound), and where the README's screen table says the screen is exact
it vouches for exactly the cells pydantic accepts (so a screen made lazier is caught too). The
screen declines the columns it cannot read. ``distinct_values`` keeps apart every two cells
pydantic could tell apart, and merges the ones it cannot.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import zoneinfo
from typing import Any, Literal, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from flowschema.columnar import columnar_plan
from flowschema.distinct import distinct_values, exact_key
from flowschema.records import column_array
from flowschema.screens import SCREENED_FAMILIES, column_family, screen_for
from tests.oracle import reference_value

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # a numpy warning would reach the user

INT64 = np.iinfo(np.int64)
FLOAT_EDGES = [0.0, -0.0, 0.1, -0.1, 1.0, 1.5, 3.0, -3.0, 2.0**53, 2.0**53 + 2, -(2.0**53), 1e308, 5e-324,
               float("nan"), float("inf"), float("-inf")]

COLUMNS: dict[str, Any] = {
    "int8": np.array([-128, 127, 0, 3, -1], dtype=np.int8),
    "int64": np.array([INT64.min, INT64.max, 2**53 + 1, 2**53, 0, 1, -1, 3, 6, -6]),
    "uint8": np.array([0, 255, 3], dtype=np.uint8),
    "uint64": np.array([2**64 - 1, 2**63, 0, 3], dtype=np.uint64),
    "Int64": pd.array([None, 0, -1, 3, INT64.max], dtype="Int64"),
    "UInt64": pd.array([None, 2**64 - 1, 3], dtype="UInt64"),
    "int64[pyarrow]": pd.array([None, INT64.min, 0, 3, 2**53 + 1], dtype="int64[pyarrow]"),
    "float16": np.array([0.1, -0.0, 3.0, np.nan, np.inf, 65504.0], dtype=np.float16),
    "float32": np.array([0.1, -0.0, 3.0, np.nan, -np.inf, 2.0**53, 1.5], dtype=np.float32),
    "float64": np.array(FLOAT_EDGES),
    "Float64": pd.array([None, 0.1, -0.0, 3.0, 2.0**53 + 2], dtype="Float64"),
    "Float32": pd.array([None, 0.1, 3.0], dtype="Float32"),
    "float[pyarrow]": pd.array([None, 0.1, -0.0, 3.0], dtype="float[pyarrow]"),
    "double[pyarrow]": pd.Series(pd.arrays.ArrowExtensionArray(pa.array([None, float("nan"), 0.1, 3.0, -6.0]))).array,
    "bool": np.array([True, False]),
    "boolean": pd.array([True, None, False], dtype="boolean"),
    "bool[pyarrow]": pd.array([True, None, False], dtype="bool[pyarrow]"),
    "str": pd.array(["", "a", "abc", "abcd", "é", None], dtype="str"),
    "string[pyarrow]": pd.array(["", "ab", None, "日本語"], dtype="string[pyarrow]"),
    "large_string": pd.Series(pd.arrays.ArrowExtensionArray(pa.array(["", "abcd", None], pa.large_string()))).array,
    "string[python]": pd.array(["", "ab", None], dtype="string[python]"),
    "datetime64[ns]": np.array(["2024-01-01", "NaT", "1970-01-01"], dtype="datetime64[ns]"),
    "datetime64[s]": np.array(["0001-01-01", "9999-12-31T23:59:59"], dtype="datetime64[s]"),
    "datetime64[us, Europe/Paris]": pd.array(pd.DatetimeIndex(["2024-03-31 01:30", None]).as_unit("us")
                                             .tz_localize("Europe/Paris")),
    "timestamp[ms][pyarrow]": pd.array(pd.DatetimeIndex(["2024-01-01", None]).as_unit("ms"))
    .astype("timestamp[ms][pyarrow]"),
    "timedelta64[ns]": np.array([1, 2], dtype="timedelta64[ns]"),
    "object ints": np.array([1, 2], dtype=object),
    "category": pd.Categorical([1, 2]),
}
EXPECTED_FAMILY = {
    "int8": "integer", "int64": "integer", "uint8": "integer", "uint64": "integer", "Int64": "integer",
    "UInt64": "integer", "int64[pyarrow]": "integer", "float16": "float", "float32": "float", "float64": "float",
    "Float64": "float", "Float32": "float", "float[pyarrow]": "float", "double[pyarrow]": "float", "bool": "bool", "boolean": "bool", "bool[pyarrow]": "bool",
    "str": "string", "string[pyarrow]": "string", "large_string": "string", "datetime64[ns]": "datetime",
    "datetime64[s]": "datetime", "datetime64[us, Europe/Paris]": "datetime", "timestamp[ms][pyarrow]": "datetime",
}

CONSTRAINTS: dict[type, list[dict]] = {
    int: [{}, {"ge": 0}, {"gt": 0}, {"le": 2**53}, {"le": 2.0**53}, {"lt": -1}, {"ge": -(2**63), "le": 2**63 - 1},
          {"le": 2**64}, {"ge": -(2**70)}, {"gt": 2**64}, {"lt": -(2**64)}, {"ge": 2**63 - 1}, {"ge": 2**64 - 1},
          {"multiple_of": 3}, {"multiple_of": 2**70}, {"multiple_of": 2**53 + 1}, {"multiple_of": 2**63 - 1},
          {"multiple_of": 2.0}, {"ge": 0, "le": 3, "multiple_of": 3}, {"le": -1, "multiple_of": 2**70}],
    float: [{}, {"ge": 0}, {"gt": 0}, {"le": 0.1}, {"lt": 3}, {"le": 2**53 + 1}, {"ge": -0.0},
            {"allow_inf_nan": False}, {"le": 1e308}, {"gt": -1, "lt": 1}],
    str: [{}, {"min_length": 1}, {"max_length": 3}, {"min_length": 2, "max_length": 2}],
    bool: [{}],
    dt.datetime: [{}],
    Literal["a", "ab", "é", 1]: [{}],  # its str values screened, the int left to pydantic
    Literal["", "abcd", "日本語", "zz"]: [{}],
}


def _models() -> list[tuple[str, type[BaseModel]]]:
    models = []
    for annotation, constraints in CONSTRAINTS.items():
        for constraint in constraints:
            for optional in (False, True):
                for strict_field in (False, True):
                    literal = getattr(annotation, "__origin__", None) is Literal  # strict only by the config
                    options = {**constraint, **({"strict": True} if strict_field and not literal else {})}
                    config = ConfigDict(strict=True) if strict_field and literal else None
                    field_type = Optional[annotation] if optional else annotation
                    default = None if optional else ...
                    model = create_model("M", __config__=config, x=(field_type, Field(default, **options)))
                    name = f"{'Optional[' if optional else ''}{annotation.__name__}{']' if optional else ''}" \
                           f"{constraint}{' strict' if strict_field else ''}"
                    models.append((name, model))
    return models


MODELS = _models()


def accepted(model: type[BaseModel], column: Any, strict: bool | None) -> np.ndarray:
    """Per cell, whether ``model_validate`` accepts it (the cell normalised as the oracle does)."""
    series = pd.Series(column)
    verdicts = []
    for position in range(len(series)):
        try:
            model.model_validate({"x": reference_value(series.iat[position])}, strict=strict)
        except ValidationError:
            verdicts.append(False)
        else:
            verdicts.append(True)
    return np.array(verdicts, dtype=bool)


def _judged(kind: str, family: str, values: Any) -> np.ndarray:
    """The cells where the README's screen table says the screen vouches for exactly what pydantic
    accepts: all, but for a lax int fed floats the cells below 2**53 (pydantic takes whole floats
    beyond it too; the screen leaves those to pydantic)."""
    cells = pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan) if family == "float" else None
    if kind == "int" and family == "float":
        return ~(np.abs(cells) >= 2.0**53)
    return np.ones(len(values), dtype=bool)


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[name for name, _ in MODELS])
def test_a_screen_vouches_only_for_what_pydantic_accepts(name, model):
    (route,) = columnar_plan(model, ["x"]).routes
    screen = route.screen
    assert screen is not None, f"{name}: the README's table has a screen for it"
    for dtype, values in COLUMNS.items():
        column = column_array(pd.Series(values))
        family = column_family(column)
        assert family == EXPECTED_FAMILY.get(dtype), dtype
        for strict in (None, True):
            unsure = screen.unsure(column, strict)
            lax_float = screen.kind == "int" and family == "float" and not (strict or screen.strict_field)
            reads = family in SCREENED_FAMILIES[screen.kind] and (family != "float" or screen.kind != "int"
                                                                  or lax_float)
            assert (unsure is not None) == reads, f"{name} x {dtype} strict={strict}: reads the column"
            assert screen.fits(column, strict) == reads
            if unsure is None:
                continue
            ok = accepted(model, values, strict)
            assert not (~unsure & ~ok).any(), f"{name} x {dtype} strict={strict}: vouched for a rejected cell " \
                                              f"{pd.Series(values)[~unsure & ~ok].tolist()}"
            judged = _judged(screen.kind, family, values)
            assert (unsure == ~ok)[judged].all(), f"{name} x {dtype} strict={strict}: left accepted cells " \
                                                  f"{pd.Series(values)[unsure & ok & judged].tolist()} to the validator"


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[name for name, _ in MODELS])
def test_a_screen_vouching_for_a_whole_column_by_its_range_says_what_it_says_cell_by_cell(name, model):
    """A numpy column whose least and greatest values a screen vouches for is vouched for at once:
    each cell alone, each two neighbours in order, and the column without its non-finite values
    get the verdicts the cell-by-cell screen gives them inside the whole column (proven above)."""
    (route,) = columnar_plan(model, ["x"]).routes
    for values in COLUMNS.values():
        if not isinstance(values, np.ndarray):
            continue
        for strict in (None, True):
            cell_by_cell = route.screen.unsure(values, strict)
            if cell_by_cell is None:
                continue
            order = np.argsort(values, kind="stable")
            finite = np.flatnonzero(np.isfinite(values)) if values.dtype.kind == "f" else np.arange(len(values))
            parts = [[row] for row in range(len(values))] + [order[i:i + 2] for i in range(len(values) - 1)]
            for rows in [*parts, finite]:
                rows = np.asarray(rows, dtype=np.int64)
                got = route.screen.unsure(values[rows], strict)
                assert got.tolist() == cell_by_cell[rows].tolist(), f"{name} x {values[rows]} strict={strict}"


@pytest.mark.parametrize("dtype", ["int64", "uint8", "float64"])
def test_a_screen_of_an_empty_column_is_unsure_of_nothing(dtype):
    model = create_model("M", x=(float if dtype == "float64" else int, Field(ge=0, le=9)))
    (route,) = columnar_plan(model, ["x"]).routes
    assert route.screen.unsure(np.array([], dtype=dtype), None).tolist() == []


def test_whole_floats_below_2_53_are_vouched_for_as_ints():
    model = create_model("M", x=(int, Field(ge=-3, multiple_of=3)))
    (route,) = columnar_plan(model, ["x"]).routes
    unsure = route.screen.unsure(np.array([3.0, -3.0, 0.0, -0.0, 2.0**53 - 1, 1.5, 6.0, -6.0]), None)
    assert unsure.tolist() == [False, False, False, False, True, True, False, True]  # (2**53 - 1) % 3 == 1


@pytest.mark.parametrize("config", [ConfigDict(strict=True), ConfigDict(allow_inf_nan=False)],
                         ids=["strict", "allow_inf_nan=False"])
@pytest.mark.parametrize("annotation", [int, float])
def test_the_models_config_reaches_the_screen(config, annotation):
    model = create_model("M", __config__=config, x=(annotation, ...))
    screen = columnar_plan(model, ["x"]).routes[0].screen
    values = np.array([1.0, np.inf, 2.5])
    unsure = screen.unsure(values, None)
    if annotation is int and config.get("strict"):
        assert unsure is None  # a strict int takes no float
    else:
        assert unsure.tolist() == (~accepted(model, values, None)).tolist()


def test_a_schema_holding_every_key_a_screen_reads_has_one():
    assert screen_for({"type": "bool", "strict": True, "metadata": {}}, {}) is not None
    assert screen_for({"type": "int", "strict": True, "metadata": {}, "multiple_of": 2, "ge": 0, "gt": -1, "le": 9,
                       "lt": 10}, {}) is not None
    assert screen_for({"type": "literal", "expected": ["a", 1], "metadata": {}}, {}).choices == ("a",)


RAW = {  # arrays as a caller may hold them, before column_array
    "a list": ([1, 2], None),
    "string[python]": (pd.array(["a"], dtype="string[python]"), None),
    "string[pyarrow]": (pd.array(["a"], dtype="string[pyarrow]"), "string"),
    "datetime64[ns, UTC]": (pd.array(pd.DatetimeIndex(["2024-01-01"], tz="UTC")), "datetime"),
    "timedelta64[ns]": (pd.array(pd.to_timedelta([1], unit="s")), None),
    "UInt8": (pd.array([1], dtype="UInt8"), "integer"),
    "duration[pyarrow]": (pd.array([1], dtype="duration[s][pyarrow]"), None),
}


@pytest.mark.parametrize("case", RAW)
def test_column_family_of_arrays_as_given(case):
    column, family = RAW[case]
    assert column_family(column) == family


class Shade(str, enum.Enum):
    LIGHT = "a"  # equal to the str "a", yet pydantic may answer differently for it: no screen


UNSCREENED = [
    ("a pattern", str, {"pattern": "^a"}),
    ("a Decimal bound", float, {"le": decimal.Decimal("0.1")}),
    ("a float multiple_of", float, {"multiple_of": 0.5}),
    ("a union", int | str, {}),
    ("a Literal without a str", Literal[1, True], {}),
    ("a Literal of a str Enum member", Literal[Shade.LIGHT], {}),
]


@pytest.mark.parametrize(("why", "annotation", "options"), UNSCREENED, ids=[case[0] for case in UNSCREENED])
def test_no_screen_where_none_is_proven(why, annotation, options):
    model = create_model("M", x=(annotation, Field(**options)))
    assert columnar_plan(model, ["x"]).routes[0].screen is None


@pytest.mark.parametrize("setting", ["str_strip_whitespace", "str_to_lower", "str_to_upper", "str_min_length",
                                     "str_max_length"])
def test_a_string_transform_in_the_config_turns_the_str_screen_off(setting):
    config = ConfigDict(**{setting: 1 if setting.endswith("length") else True})
    model = create_model("M", __config__=config, x=(str, ...))
    assert columnar_plan(model, ["x"]).routes[0].screen is None


def test_a_default_that_swallows_errors_has_no_screen():
    schema = {"type": "default", "schema": {"type": "int", "ge": 0}, "on_error": "default", "default": 0}
    assert screen_for(schema, {}) is None
    assert screen_for({**schema, "on_error": "raise"}, {}) is not None


def test_the_screen_describes_its_constraints():
    model = create_model("M", x=(Optional[int], Field(None, ge=0, lt=10, multiple_of=2)))
    assert columnar_plan(model, ["x"]).routes[0].screen.describe() == \
        "a vectorised screen (int, ge 0, lt 10, multiple_of 2)"
    text = create_model("T", x=(str, Field(min_length=1, max_length=3)))
    assert columnar_plan(text, ["x"]).routes[0].screen.describe() == \
        "a vectorised screen (str, min_length 1, max_length 3)"
    choice = create_model("C", x=(Literal["EWR", "JFK", 1], ...))
    assert columnar_plan(choice, ["x"]).routes[0].screen.describe() == "a vectorised screen (literal, one of 'EWR', 'JFK')"


# -- distinct values ----------------------------------------------------------------------------------


class Color(str, enum.Enum):
    BLUE = "blue"


class Level(enum.IntEnum):
    ONE = 1
    TWO = 2


CET, WAT = dt.timezone(dt.timedelta(hours=1), "CET"), dt.timezone(dt.timedelta(hours=1), "WAT")
MOMENT = dt.datetime(2024, 1, 1, 12)
APART = [  # each pair: two values pydantic can tell apart
    (1, True), (1, 1.0), (0, False), (0.0, -0.0), ("1", 1), (decimal.Decimal("1.0"), decimal.Decimal("1.00")),
    ("blue", Color.BLUE), (1, Level.ONE), (MOMENT.replace(tzinfo=CET), MOMENT.replace(tzinfo=WAT)),
    (MOMENT.replace(tzinfo=CET), MOMENT.replace(tzinfo=dt.timezone(dt.timedelta(hours=1)))),
    (MOMENT, MOMENT.replace(fold=1)), (MOMENT, MOMENT.replace(tzinfo=dt.timezone.utc)),
    (dt.time(1), dt.time(1, tzinfo=dt.timezone.utc)), (dt.date(2024, 1, 1), MOMENT), (b"a", "a"), ((1,), (True,)),
    (dt.timedelta(0), 0), (Level.ONE, Level.TWO),
    (MOMENT.replace(tzinfo=zoneinfo.ZoneInfo("Europe/Paris")), MOMENT.replace(tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))),
]
TOGETHER = [  # each pair: two values pydantic cannot tell apart
    (1, 1), ("a", "a"), (2.5, 2.5), (decimal.Decimal("1.0"), decimal.Decimal("1.0")), (Color.BLUE, Color.BLUE),
    (MOMENT.replace(tzinfo=CET), MOMENT.replace(tzinfo=dt.timezone(dt.timedelta(hours=1), "CET"))),
    ((1, "a"), (1, "a")), (None, None), (dt.date(2024, 1, 1), dt.date(2024, 1, 1)),
]


@pytest.mark.parametrize(("first", "second"), APART, ids=[repr(pair) for pair in APART])
def test_values_pydantic_can_tell_apart_stay_apart(first, second):
    codes, values = distinct_values([first, second, first])
    assert codes.tolist() == [0, 1, 0] and values[0] is first and values[1] is second
    assert exact_key(first) != exact_key(second)


@pytest.mark.parametrize(("first", "second"), TOGETHER, ids=[repr(pair) for pair in TOGETHER])
def test_values_pydantic_cannot_tell_apart_are_validated_once(first, second):
    codes, _ = distinct_values([first, second])
    assert codes.tolist() == [0, 0]


def test_values_without_an_exact_key_each_stay_their_own():
    items = [[1], [1], {"a": 1}, {"a": 1}, (1, [1]), (1, [1]), object()]
    codes, values = distinct_values(items)
    assert codes.tolist() == list(range(len(items))) and all(v is item for v, item in zip(values, items))


TYPED = {
    "ints": (np.array([3, 1, 3]), [0, 1, 0], [3, 1]),
    "floats by their bits": (np.array([0.0, -0.0, np.nan, 0.0]), [0, 1, 2, 0], [0.0, -0.0, None]),
    "float32": (np.array([0.1, 0.1], dtype=np.float32), [0, 0], [float(np.float32(0.1))]),
    "Float64 signs": (pd.array([0.0, -0.0, None], dtype="Float64"), [0, 1, 2], [0.0, -0.0, None]),
    "Arrow float signs": (pd.array([0.0, -0.0, None], dtype="double[pyarrow]"), [0, 1, 2], [0.0, -0.0, None]),
    "dictionary of floats": (pd.Series(pd.arrays.ArrowExtensionArray(pa.array([0.0, -0.0, 0.0]).dictionary_encode()))
                             .array, [0, 1, 0], [0.0, -0.0]),
    "32,768 categories and a missing cell": (pd.Categorical([*range(2**15), None]), [*range(2**15 + 1)],
                                             [*range(2**15), None]),
    "unhashable values pandas cannot factorize": (pd.arrays.SparseArray([[1], [1], None], dtype=object), [0, 1, 2],
                                                  [[1], [1], None]),
    "Int64 with NA": (pd.array([1, None, 1], dtype="Int64"), [0, 1, 0], [1, None]),
    "Float64 with NA": (pd.array([1.5, None, 1.5], dtype="Float64"), [0, 1, 0], [1.5, None]),
    "categories": (pd.Categorical(["b", None, "a", "b"]), [1, 2, 0, 1], ["a", "b", None]),
    "Arrow strings": (pd.array(["x", None, "x"], dtype="string[pyarrow]"), [0, 1, 0], ["x", None]),
    "Arrow strings in two chunks": (pd.arrays.ArrowExtensionArray(pa.chunked_array([["b", None], ["a", "b"]])),
                                    [0, 2, 1, 0], ["b", "a", None]),
    "large Arrow strings": (pd.array(["", "x", ""], dtype=pd.ArrowDtype(pa.large_string())), [0, 1, 0], ["", "x"]),
    "no Arrow strings": (pd.array([], dtype="str"), [], []),
    "str subclass in string[python]": (pd.array(["blue", Color.BLUE, None], dtype="string[python]"), [0, 1, 2],
                                       ["blue", Color.BLUE, None]),
    "datetimes": (np.array(["2024-01-01", "NaT", "2024-01-01"], dtype="datetime64[s]"), [0, 1, 0],
                  [dt.datetime(2024, 1, 1), None]),
    "Arrow lists": (pd.array([[1], [1], None], dtype=pd.ArrowDtype(pa.list_(pa.int64()))), [0, 1, 2],
                    [[1], [1], None]),
    "objects": (np.array([1, True, 1.0, "1", None], dtype=object), [0, 1, 2, 3, 4], [1, True, 1.0, "1", None]),
}


@pytest.mark.parametrize("case", TYPED)
def test_distinct_values_of_every_column_kind(case):
    column, codes, values = TYPED[case]
    found_codes, found_values = distinct_values(column)
    assert found_codes.dtype.kind == "i" and found_codes.tolist() == codes
    assert [(type(value), value) if value == value else "nan" for value in found_values] == \
           [(type(value), value) if value == value else "nan" for value in values]


# -- what `make mutate` leaves alive -------------------------------------------------------------------
#: The mutants of flowschema/screens.py and flowschema/distinct.py that no test can kill, each with why
#: it gives the same answer (mutmut 3.8.1, 608 mutants, 546 killed, these 62 equivalent). A mutant
#: surviving `make mutate` that is not listed here is a hole in the tests: kill it with a new test.
EQUIVALENT_MUTANTS = {
    **dict.fromkeys(
        ["distinct.x_distinct_values__mutmut_4", "distinct.x_distinct_values__mutmut_5",
         "distinct.x_distinct_values__mutmut_9", "distinct.x_distinct_values__mutmut_10",
         "distinct.x_distinct_values__mutmut_13", "distinct.x_distinct_values__mutmut_14",
         "distinct.x_distinct_values__mutmut_15", "distinct.x_distinct_values__mutmut_38",
         "distinct.x_distinct_values__mutmut_42", "distinct.x_distinct_values__mutmut_44",
         "distinct.x__is_nested__mutmut_2", "distinct.x__is_nested__mutmut_5",
         "distinct.x__arrow_strings__mutmut_1", "distinct.x__arrow_strings__mutmut_2",
         "distinct.x__arrow_strings__mutmut_3", "distinct.x__arrow_strings__mutmut_5"],
        "a fast path turned off (a numpy kind test made false, pd.factorize given None, nested made True or "
        "False, Arrow strings not recognised): the column takes the general path (pd.factorize, which runs Arrow's "
        "own kernel for Arrow strings, or exact keys), which gives the same codes and values, more slowly"),
    **dict.fromkeys(
        ["distinct.x__distinct_arrow__mutmut_18", "distinct.x__distinct_arrow__mutmut_20",
         "distinct.x__distinct_arrow__mutmut_21"],
        "the codes copied or not when made int64: the same codes"),
    **dict.fromkeys(
        [*(f"screens.xǁScreenǁ_vouches_for_range__mutmut_{number}" for number in (8, 9, 10, 17, 18, 19, 21, 22, 23, 25)),
         "screens.xǁScreenǁunsure__mutmut_8", "screens.xǁScreenǁunsure__mutmut_9"],
        "the whole-column range turned off (a family or kind test made false, None for the column or its ends): "
        "every cell goes through the cell-by-cell screen, which gives the same verdicts (proven against it)"),
    **dict.fromkeys(
        ["screens.xǁScreenǁ_vouches_for_range__mutmut_13", "screens.xǁScreenǁ_vouches_for_range__mutmut_15"],
        "the ends' array without its dtype: numpy keeps the dtype of the column's own scalars"),
    **dict.fromkeys(
        ["screens.xǁScreenǁ_sure_strings__mutmut_11", "screens.xǁScreenǁ_sure_strings__mutmut_13"],
        "a Literal's values as Arrow strings of another width: is_in casts them to the column's type"),
    "screens.xǁScreenǁ_sure_strings__mutmut_5": "zero_copy_only=None is false, as False is",
    **dict.fromkeys(
        [f"screens.xǁScreenǁ_inside_exact_floats__mutmut_{number}" for number in (3, 4, 5, 6, 9, 10, 11, 12, 16)],
        "a bound not recognised as one: the finite and 2**53 tests run anyway, with the same verdicts"),
    **dict.fromkeys(
        ["screens.xǁScreenǁ_inside_exact_floats__mutmut_15", "screens.xǁScreenǁ_inside_exact_floats__mutmut_18"],
        "a bound of exactly -2**53 or 2**53 taken as inside: the one more float it lets through, 2**53 or -2**53 "
        "at that bound, is that int exactly, and pydantic accepts it"),
    **dict.fromkeys(
        ["distinct.x_distinct_values__mutmut_21", "distinct.x_distinct_values__mutmut_23"],
        "categorical codes kept in their own int width: np.where widens them for the missing code"),
    **dict.fromkeys(
        ["distinct.x_distinct_values__mutmut_33", "distinct.x_distinct_values__mutmut_34",
         "distinct.x_distinct_values__mutmut_35", "distinct.x_distinct_values__mutmut_36",
         "screens.x__as_float64__mutmut_1", "screens.x__as_float64__mutmut_2", "screens.x__as_float64__mutmut_3",
         "screens.x__as_float64__mutmut_4"],
        "to_numpy's dtype or na_value dropped: on pandas 3 a float column gives float NaN for missing by itself "
        "and the caller casts to float64 (pandas 2.2 needs both arguments)"),
    "distinct.x__distinct_floats__mutmut_10": "pandas gives the uniques of an int64 view of floats back as floats",
    "distinct.x_exact_key__mutmut_9": "copysign(2.0, x) keeps -0.0 and 0.0 apart as copysign(1.0, x) does",
    **dict.fromkeys(
        ["screens.x__missing__mutmut_8", "screens.x__missing__mutmut_10"],
        "float zeros instead of bool zeros: np.where reads 0.0 as False"),
    "screens.x__as_integers__mutmut_13": "a missing integer cell read as 1 instead of 0: missing cells are masked",
}
