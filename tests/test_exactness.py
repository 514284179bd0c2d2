"""Exactly pydantic's answer, on every executor: the differences a differential test found, each
kept as a named regression test (issue 10), checked key by key and type by type."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import os
import subprocess
import sys
import textwrap
import zoneinfo
from typing import Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import pytz
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic_core import PydanticUndefined

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN
from tests.oracle import assert_exactly_pydantic, typed


class AnyCell(BaseModel):
    """Fails every cell that is not a str, so the error's ``input`` shows what pydantic was given."""

    t: str


def arrow_column(arrow_type: pa.DataType, values: list) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(values, type=arrow_type)))


MOMENT = dt.datetime(2020, 3, 29, 1, 30, 15, 123456)
ARROW_TEMPORAL = [
    *[(pa.timestamp(unit), MOMENT) for unit in ("s", "ms", "us", "ns")],
    *[(pa.timestamp(unit, tz=zone), MOMENT.replace(tzinfo=dt.timezone.utc))
      for unit in ("s", "ms", "us", "ns") for zone in ("UTC", "Europe/Paris", "+05:30")],
    (pa.date32(), dt.date(2020, 2, 29)),
    (pa.date64(), dt.date(2020, 2, 29)),
    (pa.time32("s"), dt.time(1, 2, 3)),
    (pa.time32("ms"), dt.time(1, 2, 3, 4000)),
    (pa.time64("us"), dt.time(1, 2, 3, 4)),
    (pa.time64("ns"), dt.time(1, 2, 3, 4)),
    *[(pa.duration(unit), dt.timedelta(days=1, seconds=2)) for unit in ("s", "ms", "us", "ns")],
    (pa.decimal128(10, 3), decimal.Decimal("1.250")),
    (pa.decimal256(40, 2), decimal.Decimal("-3.10")),
    (pa.dictionary(pa.int8(), pa.timestamp("ns")), MOMENT),
]


@pytest.mark.parametrize(("arrow_type", "value"), ARROW_TEMPORAL, ids=[str(item[0]) for item in ARROW_TEMPORAL])
def test_every_arrow_temporal_and_decimal_type_reaches_pydantic_as_python(executor, arrow_type, value):
    if pa.types.is_dictionary(arrow_type):
        column = pd.Series(pd.arrays.ArrowExtensionArray(pa.array([value, None]).dictionary_encode()))
    else:
        column = arrow_column(arrow_type, [value, None])
    frame = pd.DataFrame({"t": column})
    checked = frame.flowschema.validate(AnyCell, executor)
    assert_exactly_pydantic(frame, AnyCell, checked)
    given = checked[ERRORS_COLUMN].iat[0][0]["input"]
    assert type(given) in (dt.datetime, dt.date, dt.time, dt.timedelta, decimal.Decimal)  # never a pandas scalar


def test_coerce_writes_only_the_column_pydantic_read(executor):
    class Aliased(BaseModel):
        x: int = Field(0, alias="X")

    kept = pd.DataFrame({"x": ["keep me"]}).flowschema.validate(Aliased, executor, coerce=True)
    assert kept["x"].tolist() == ["keep me"]  # pydantic read "X", absent: the default, no column
    both = pd.DataFrame({"x": ["keep me"], "X": ["7"]}).flowschema.validate(Aliased, executor, coerce=True)
    assert both["x"].tolist() == ["keep me"] and both["X"].tolist() == [7]


def test_coerce_honours_validate_by_name_and_alias_choices(executor):
    class ByName(BaseModel):
        model_config = ConfigDict(validate_by_name=True, validate_by_alias=False)
        x: int = Field(alias="X")

    class Choices(BaseModel):
        y: int = Field(validation_alias=AliasChoices("why", "y"))

    frame = pd.DataFrame({"x": ["1"], "X": ["2"]}, dtype=object)
    checked = frame.flowschema.validate(ByName, executor, coerce=True)
    assert checked["x"].tolist() == [1] and checked["X"].tolist() == ["2"]
    frame = pd.DataFrame({"y": ["1"], "why": ["2"]}, dtype=object)
    checked = frame.flowschema.validate(Choices, executor, coerce=True)
    assert checked["why"].tolist() == [2] and checked["y"].tolist() == ["1"]


def test_bytearray_cells_stay_bytearrays_so_strict_mode_rejects_them(executor):
    class Blob(BaseModel):
        data: bytes

    frame = pd.DataFrame({"data": pd.Series([bytearray(b"ab"), b"cd", [bytearray(b"x")]], dtype=object)})
    checked = frame.flowschema.validate(Blob, executor, strict=True)
    assert checked[VALID_COLUMN].tolist() == [False, True, False]
    assert checked[ERRORS_COLUMN].iat[0][0]["type"] == "bytes_type"
    assert_exactly_pydantic(frame, Blob, checked, strict=True)


ZONES = {
    "dateutil": "dateutil/Europe/Paris",
    "pytz": pytz.timezone("Europe/Paris"),
    "zoneinfo": zoneinfo.ZoneInfo("Europe/Paris"),
    "fixed": dt.timezone(dt.timedelta(hours=-3)),
}


class NotAStamp(BaseModel):
    """Fails every datetime: its error's ``input`` is the datetime pydantic was given."""

    when: int


@pytest.mark.parametrize("zone", ZONES.values(), ids=ZONES.keys())
def test_time_zones_of_every_library_travel_as_they_are(executor, zone):
    class Stamp(BaseModel):
        when: dt.datetime
        label: int

    frame = pd.DataFrame({"when": pd.date_range("2020-03-28", periods=3, tz=zone), "label": [1, "x", 3]})
    checked = frame.flowschema.validate(Stamp, executor, coerce=True)
    assert_exactly_pydantic(frame, Stamp, checked)
    wrong = frame.flowschema.validate(NotAStamp, executor)
    assert_exactly_pydantic(frame, NotAStamp, wrong)
    assert typed(wrong[ERRORS_COLUMN].iat[1][0]["input"]) == typed(frame["when"].iat[1].to_pydatetime())
    sync = frame.flowschema.validate(Stamp, "sync", coerce=True)
    assert checked["when"].dtype == sync["when"].dtype and checked["when"].dtype.kind == "M"  # one zone: datetime64
    assert typed(checked["when"].tolist()) == typed(sync["when"].tolist())


def test_pydantic_zone_objects_travel_as_they_are(executor):
    class Stamp(BaseModel):
        when: dt.datetime
        label: int

    parsed = Stamp.model_validate({"when": "2020-01-01T00:00:00+02:00", "label": 1}).when  # pydantic's TzInfo
    frame = pd.DataFrame({"when": pd.Series([parsed, parsed], dtype=object), "label": [1, "x"]})
    assert_exactly_pydantic(frame, Stamp, frame.flowschema.validate(Stamp, executor, coerce=True))
    wrong = frame.flowschema.validate(NotAStamp, executor)
    assert_exactly_pydantic(frame, NotAStamp, wrong)
    assert type(wrong[ERRORS_COLUMN].iat[0][0]["input"].tzinfo) is type(parsed.tzinfo)


def test_column_labels_travel_exactly(executor):
    class Nothing(BaseModel):
        model_config = ConfigDict(extra="forbid")

    frame = pd.DataFrame({pd.Timestamp("2024-01-01"): [1], np.int64(3): [2], ("a", 1): [3]})
    checked = frame.flowschema.validate(Nothing, executor)
    assert_exactly_pydantic(frame, Nothing, checked)
    assert checked[ERRORS_COLUMN].iat[0][0]["loc"] == ("Timestamp('2024-01-01 00:00:00')",)


class Color(str, enum.Enum):
    blue = "blue"


def test_parquet_stores_an_enum_input_as_its_value(tmp_path, executor):
    class Strict(BaseModel):
        color: int

    frame = pd.DataFrame({"color": pd.Series([Color.blue], dtype=object)})
    checked = frame.flowschema.validate(Strict, executor)
    assert checked[ERRORS_COLUMN].iat[0][0]["input"] is Color.blue
    checked.flowschema.to_parquet(tmp_path / "checked.parquet")
    assert flowschema.read_parquet(tmp_path / "checked.parquet")[ERRORS_COLUMN].iat[0][0]["input"] == "blue"


class Doubled(BaseModel):
    a: int
    b: int = Field(default_factory=lambda data: data["a"] * 2)


def test_every_pydantic_error_is_storable_even_default_factory_not_called(tmp_path, executor):
    frame = pd.DataFrame({"a": ["1", "x"]})
    checked = frame.flowschema.validate(Doubled, executor)
    assert [error["type"] for error in checked[ERRORS_COLUMN].iat[1]] == ["int_parsing", "default_factory_not_called"]
    assert checked[ERRORS_COLUMN].iat[1][1]["input"] is PydanticUndefined
    checked.flowschema.to_parquet(tmp_path / "checked.parquet")
    back = flowschema.read_parquet(tmp_path / "checked.parquet")
    assert typed(list(back[ERRORS_COLUMN])) == typed(list(checked[ERRORS_COLUMN]))
    frame.to_csv(tmp_path / "rows.csv", index=False)
    report = flowschema.validate_file(tmp_path / "rows.csv", Doubled, executor, invalid_out=tmp_path / "bad.parquet",
                                      progress=False)
    assert report.invalid == 1 and (tmp_path / "bad.parquet").exists()


def test_the_library_keeps_its_ray_whichever_executor_started_it(tmp_path):
    """The fifth model used to evict the executor that started Ray, which shut Ray down under the
    others: a notebook redefining its model cell after cell. Run in a fresh process, where
    FlowSchema starts Ray itself."""
    script = tmp_path / "six_models.py"
    script.write_text(textwrap.dedent('''
        import pandas as pd
        from pydantic import create_model
        import flowschema
        from tests.processes import ray_processes

        frame = pd.DataFrame({"x": [1, "a"]}, dtype=object)
        for i in range(6):
            model = create_model(f"Model{i}", x=(int, ...))
            checked = frame.flowschema.validate(model, "ray")
            print(checked["_fs_valid"].tolist(), len(ray_processes()) > 0)
        flowschema.close()
        import ray
        print(ray.is_initialized())
    '''))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                            cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:7] == ["[True, False] True"] * 6 + ["False"]
    assert "Ray has not been started" not in result.stderr


class Measured(BaseModel):
    n: int
    m: Optional[int] = None
    when: Optional[dt.datetime] = None


def test_coerced_pieces_equal_the_whole_cell_by_cell(executor):
    frame = pd.DataFrame({"n": ["1", "2", "abc", "4"], "m": [5.0, np.nan, 6.0, np.nan], "when": [pd.NaT] * 4})
    whole = frame.flowschema.validate(Measured, executor, coerce=True)
    pieces = list(flowschema.validate_iter([frame.iloc[:2], frame.iloc[2:]], Measured, executor, coerce=True))
    assert [str(piece["n"].dtype) for piece in pieces] == ["int64", "object"]  # the "abc" piece keeps its input
    assert [str(piece["m"].dtype) for piece in pieces] == ["Int64", "object"]  # the invalid row keeps 6.0
    assert all(str(piece["when"].dtype) == "datetime64[us]" for piece in pieces)  # all NaT, Optional[datetime]
    joined = pd.concat(pieces)
    for label in frame.columns:
        assert typed([None if pd.isna(cell) else cell for cell in joined[label].astype(object)]) == typed(
            [None if pd.isna(cell) else cell for cell in whole[label].astype(object)])
    empty = frame.iloc[:0].flowschema.validate(Measured, executor, coerce=True)
    assert [str(empty[label].dtype) for label in frame.columns] == ["int64", "Int64", "datetime64[us]"]


def test_an_earlier_result_with_multiindex_columns_is_dropped(executor):
    frame = pd.DataFrame({("n", ""): [1, "x"]}, dtype=object)
    once = frame.flowschema.validate(Measured, executor)
    assert list(once.columns) == [("n", ""), ("_fs_valid", ""), ("_fs_errors", "")]
    twice = once.flowschema.validate(Measured, executor)
    assert list(twice.columns) == list(once.columns)
    assert_exactly_pydantic(frame, Measured, twice)


def test_normalisation_edge_cases_follow_the_readme(executor):
    class Loose(BaseModel):
        items: list[Optional[float]]
        ratio: decimal.Decimal
        day: dt.datetime

    frame = pd.DataFrame({
        "items": pd.Series([[1.0, float("nan"), {"k": np.nan}], [np.float64("nan")]], dtype=object),
        "ratio": pd.Series([decimal.Decimal("NaN"), decimal.Decimal("1.5")], dtype=object),
        "day": pd.Series([np.datetime64("2024-01-02", "D"), np.datetime64("2024-01-03T04:05", "m")], dtype=object),
    })
    checked = frame.flowschema.validate(Loose, executor, coerce=True)
    assert_exactly_pydantic(frame, Loose, checked)
    in_list, not_finite = checked[ERRORS_COLUMN].iat[0]
    assert in_list["input"] == {"k": None}  # NaN inside a list, inside a dict: None
    assert not_finite["type"] == "finite_number" and not_finite["input"].is_nan()  # Decimal("NaN") as it is
    assert checked[VALID_COLUMN].tolist() == [False, True]
    assert checked["items"].tolist()[1] == [None]
    assert checked["day"].tolist()[1] == dt.datetime(2024, 1, 3, 4, 5)  # np.datetime64: a datetime
