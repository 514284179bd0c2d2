"""Cell normalisation: every dtype gives the plain Python values pydantic expects."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
import zoneinfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowschema.chunk import frame_chunks, record_chunks
from flowschema.records import normalize_column, normalize_value
from tests.oracle import reference_value

PARIS = zoneinfo.ZoneInfo("Europe/Paris")

COLUMNS = {
    "int64": pd.Series([1, -2, 3]),
    "float64": pd.Series([1.5, np.nan, -0.0]),
    "float32": pd.Series([1.5, np.nan, 2.0], dtype="float32"),
    "bool": pd.Series([True, False, True]),
    "uint8": pd.Series([0, 255, 1], dtype="uint8"),
    "Int64": pd.Series([1, None, 3], dtype="Int64"),
    "Float64": pd.Series([1.5, None, 2.5], dtype="Float64"),
    "boolean": pd.Series([True, None, False], dtype="boolean"),
    "str": pd.Series(["a", None, "é😀"], dtype="str"),
    "string_python": pd.Series(["a", None, "c"], dtype="string[python]"),
    "string_pyarrow": pd.Series(["a", None, "c"], dtype="string[pyarrow]"),
    "object_mixed": pd.Series([1, "a", None], dtype=object),
    "object_nan": pd.Series([np.nan, pd.NA, pd.NaT], dtype=object),
    "object_numpy": pd.Series([np.int64(4), np.float32(0.5), np.bool_(True)], dtype=object),
    "object_arrays": pd.Series([np.array([1, 2]), np.array([np.nan, 1.0]), np.array(["x"])], dtype=object),
    "object_nested": pd.Series([{"a": np.int64(1), "b": [np.nan]}, (1, np.float64(2.5)), []], dtype=object),
    "object_timestamps": pd.Series([pd.Timestamp("2024-01-01", tz="UTC"), pd.Timedelta("1h"),
                                    np.datetime64("2024-01-02T03:04")], dtype=object),
    "category": pd.Series(["x", None, "y"], dtype="category"),
    "category_int": pd.Series([1, 2, None], dtype="category"),
    "datetime": pd.Series(pd.to_datetime(["2024-01-01 10:00:00.123456", None, "2024-03-01 00:00:00.000000"])),
    "datetime_tz": pd.Series(pd.to_datetime(["2024-01-01 10:00", None, "2024-07-01 12:30"])).dt.tz_localize(PARIS),
    "timedelta": pd.Series(pd.to_timedelta(["1s", None, "2 days"])),
    "arrow_int": pd.Series([1, None, 3], dtype=pd.ArrowDtype(pa.int64())),
    "arrow_float": pd.Series([1.0, None, float("nan")], dtype=pd.ArrowDtype(pa.float64())),
    "arrow_list": pd.Series([[1, 2], None, []], dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
    "arrow_list_nan": pd.Series([[1.0, float("nan")], None, [None]], dtype=pd.ArrowDtype(pa.list_(pa.float64()))),
    "arrow_struct": pd.Series([{"a": 1}, None, {"a": None}], dtype=pd.ArrowDtype(pa.struct([("a", pa.int64())]))),
    "arrow_timestamp_tz": pd.Series([dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), None, None],
                                    dtype=pd.ArrowDtype(pa.timestamp("us", tz="UTC"))),
    "arrow_decimal": pd.Series([decimal.Decimal("1.10"), None, decimal.Decimal("-3")],
                               dtype=pd.ArrowDtype(pa.decimal128(5, 2))),
    "arrow_date": pd.Series([dt.date(2024, 1, 1), None, dt.date(1970, 1, 1)], dtype=pd.ArrowDtype(pa.date32())),
    "period": pd.Series(pd.period_range("2024-01", periods=3, freq="M")),
}


def plain(value):
    """Compare values by type as well as value (1 == 1.0 == True would hide a wrong type)."""
    if isinstance(value, list):
        return ["list", [plain(item) for item in value]]
    if isinstance(value, tuple):
        return ["tuple", [plain(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", {key: plain(item) for key, item in value.items()}]
    return [type(value).__name__, value]


@pytest.mark.parametrize("name", COLUMNS)
def test_column_fast_path_equals_cell_by_cell_reference(name):
    column = COLUMNS[name]
    expected = [reference_value(column.iat[position]) for position in range(len(column))]
    assert plain(normalize_column(column)) == plain(expected)
    assert plain(normalize_column(column.array[1:])) == plain(expected[1:])


def test_specific_normalisations():
    assert normalize_column(COLUMNS["float64"]) == [1.5, None, -0.0]
    assert normalize_column(COLUMNS["datetime_tz"])[0] == dt.datetime(2024, 1, 1, 10, tzinfo=PARIS)
    assert normalize_column(COLUMNS["datetime_tz"])[0].tzinfo is not None
    assert normalize_column(COLUMNS["timedelta"]) == [dt.timedelta(seconds=1), None, dt.timedelta(days=2)]
    assert normalize_column(COLUMNS["arrow_struct"]) == [{"a": 1}, None, {"a": None}]
    assert normalize_column(COLUMNS["object_nested"])[1] == (1, 2.5)
    assert normalize_column(COLUMNS["arrow_float"]) == [1.0, None, None]
    assert normalize_column(COLUMNS["arrow_list_nan"]) == [[1.0, None], None, [None]]
    assert normalize_value(np.array([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    for kept in (b"x", dt.date(2024, 1, 1), dt.time(1, 2), decimal.Decimal("1.5"), uuid.uuid4()):
        assert normalize_value(kept) is kept


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(), st.integers(-(2**70), 2**70), st.text(max_size=5),
                          st.booleans(), st.datetimes()), max_size=8))
def test_object_columns_normalise_like_the_reference(values):
    column = pd.Series(values, dtype=object)
    expected = [reference_value(value) for value in values]
    assert plain(normalize_column(column)) == plain(expected)


def test_frame_chunks_cover_every_row_once():
    frame = pd.DataFrame({"a": range(10), "b": list("abcdefghij")})
    chunks = list(frame_chunks(frame, 3))
    assert [(chunk.start, chunk.size) for chunk in chunks] == [(0, 3), (3, 3), (6, 3), (9, 1)]
    rows = [row for chunk in chunks for row in chunk.rows()]
    assert rows == [{"a": a, "b": b} for a, b in zip(range(10), "abcdefghij")]


def test_record_chunks_are_lazy():
    def endless():
        number = 0
        while True:
            yield {"n": number}
            number += 1

    chunks = record_chunks(endless(), 4)
    assert [chunk.start for chunk in (next(chunks), next(chunks))] == [0, 4]
