"""msgpack values round-trip with their types."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
import zoneinfo

import dateutil.tz
import pandas as pd
import pytest
import pytz
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticUndefined

from flowschema.transport import TransportError, packb, unpackb

ZONES = [None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=-3, minutes=-30)), zoneinfo.ZoneInfo("Asia/Tokyo")]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**100), 2**100),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.datetimes(timezones=st.sampled_from(ZONES)),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=False),
    st.uuids(),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), children, max_size=4),
    ),
    max_leaves=12,
)


def typed(value):
    """The value with every type spelled out, tz included: == alone would miss 1 vs True vs 1.0."""
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [typed(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", [(typed(key), typed(item)) for key, item in value.items()]]
    if isinstance(value, (dt.datetime, dt.time)):
        return [type(value).__name__, value, value.tzinfo, value.fold]
    return [type(value).__name__, value]


@settings(max_examples=300, deadline=None)
@given(values)
def test_round_trip_keeps_types_and_values(value):
    assert typed(unpackb(packb(value))) == typed(value)


def test_special_floats():
    nan, inf, negative_zero = unpackb(packb([math.nan, math.inf, -0.0]))
    assert math.isnan(nan) and inf == math.inf and math.copysign(1, negative_zero) == -1


def test_specific_values():
    for value in [2**64, -(2**63) - 1, decimal.Decimal("-1.250"), uuid.UUID(int=7), ("a", ("b",)),
                  dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("America/New_York"))]:
        assert typed(unpackb(packb(value))) == typed(value)


class Color(str, enum.Enum):
    blue = "blue"


class Point(tuple):
    pass


@pytest.mark.parametrize(("value", "stored"), [
    (Color.blue, "blue"),  # an Enum: its value
    (pd.Timestamp("2024-01-02 03:04:05.123456789"), dt.datetime(2024, 1, 2, 3, 4, 5, 123456)),
    (pd.Timedelta("1 days 00:00:00.000001"), dt.timedelta(days=1, microseconds=1)),
    (Point((1, 2)), (1, 2)),  # a subclass: its base
    (bytearray(b"ab"), bytearray(b"ab")),
    (PydanticUndefined, PydanticUndefined),
    (pd.NaT, None),
    (object, repr(object)),  # anything else: its repr
])
def test_files_store_what_they_cannot_keep_as_documented(value, stored):
    assert typed(unpackb(packb(value))) == typed(stored)
    assert typed(unpackb(packb(value, pickle_fallback=True), allow_pickle=True)) == typed(value)  # between processes


@pytest.mark.parametrize("zone", [dateutil.tz.gettz("Europe/Paris"), pytz.timezone("Europe/Paris")])
def test_named_zones_of_other_libraries_are_stored_by_name_and_travel_as_they_are(zone):
    moment = pd.Timestamp("2020-03-29 12:00").tz_localize(zone).to_pydatetime()
    assert unpackb(packb(moment)).tzinfo == zoneinfo.ZoneInfo("Europe/Paris")
    assert unpackb(packb(moment)) == moment
    twice = unpackb(packb([moment, moment], pickle_fallback=True), allow_pickle=True)
    assert [type(value.tzinfo) for value in twice] == [type(zone)] * 2 and twice[0] == moment
    assert twice[0].tzinfo is twice[1].tzinfo  # pickled once per message


def test_tuples_nested_deeper_than_the_stack_travel_and_hostile_nesting_is_refused():
    deep = ()
    for _ in range(900):
        deep = (deep,)
    assert unpackb(packb(deep)) == deep
    with pytest.raises(TransportError, match="nested deeper"):
        unpackb(b"\x91" * 5000 + b"\xc0")


@pytest.mark.parametrize("payload", [b"\xc1", packb(list(range(10)))[:-3], b"\xd4\x63\x00"])
def test_corrupt_payloads_raise_transport_error(payload):
    with pytest.raises(TransportError):
        unpackb(payload)


# -- chunks and results -------------------------------------------------------------------------

import enum  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
from hypothesis import HealthCheck  # noqa: E402

import flowschema.transport as transport  # noqa: E402
from flowschema.chunk import chunk_of_arrays, frame_chunks, records_chunk  # noqa: E402
from flowschema.records import column_array  # noqa: E402
from flowschema.transport import (  # noqa: E402
    check_compression,
    decode_chunk,
    decode_result,
    encode_chunk,
    encode_result,
)
from flowschema.validation import ChunkResult, validate_chunk  # noqa: E402
from tests.test_records import COLUMNS, plain  # noqa: E402

ALL_DTYPES = pd.DataFrame(COLUMNS)


@pytest.mark.parametrize("compression", [None, "lz4"])
@pytest.mark.parametrize("chunksize", [1, 2, 3])
def test_every_dtype_round_trips_to_the_same_rows(compression, chunksize):
    for chunk in frame_chunks(ALL_DTYPES, chunksize):
        decoded = decode_chunk(encode_chunk(chunk, compression))
        assert (decoded.start, decoded.size, decoded.names) == (chunk.start, chunk.size, chunk.names)
        assert plain(decoded.rows()) == plain(chunk.rows())


def test_numeric_and_arrow_columns_travel_as_buffers_not_values():
    frame = pd.DataFrame({"i": [1, 2], "f": [0.5, None], "s": pd.array(["a", None], dtype="string[pyarrow]"),
                          "m": pd.array([1, None], dtype="Int64"), "o": pd.Series([{"a": 1}, None], dtype=object),
                          "t": pd.Series(["a", None], dtype=object), "e": pd.Series([Mood.HAPPY, "a"], dtype=object)})
    chunk = next(frame_chunks(frame, 10))
    message = unpackb(transport._unframe(encode_chunk(chunk)), allow_pickle=True)
    assert [column[0] for column in message["columns"]] == ["numpy", "numpy", "arrow", "arrow", "py", "str", "py"]
    assert pa.ipc.open_stream(message["arrow"]).read_all().column_names == ["0", "1", "2", "3", "5"]
    decoded = decode_chunk(encode_chunk(chunk))
    typed_columns = [0, 1, 2, 3, 5]  # read back as the very arrays the sender held (the objects as objects)
    assert [type(decoded.columns[i]) for i in typed_columns] == [type(chunk.columns[i]) for i in typed_columns]
    assert [decoded.columns[i].dtype for i in typed_columns] == [chunk.columns[i].dtype for i in typed_columns]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.one_of(st.none(), st.floats()),
                          st.one_of(st.none(), st.text())), max_size=20),
       st.sampled_from([None, "lz4"]))
def test_random_frames_round_trip(rows, compression):
    frame = pd.DataFrame(rows, columns=["i", "f", "s"]).astype({"s": "str"})
    for chunk in frame_chunks(frame, 7):
        assert plain(decode_chunk(encode_chunk(chunk, compression)).rows()) == plain(chunk.rows())


class Mood(enum.Enum):
    HAPPY = "happy"


def test_results_round_trip_with_errors_and_values():
    errors = ({"type": "missing", "loc": ("a",), "msg": "Field required", "input": None},
              {"type": "greater_than", "loc": ("b", 0), "msg": "Input should be greater than 0", "input": -1,
               "ctx": {"gt": 0}})
    result = ChunkResult(10, 3, {0: errors, 2: errors[:1]}, [None, {"mood": Mood.HAPPY}, None])
    for compression in (None, "lz4"):
        decoded = decode_result(encode_result(result, compression))
        assert decoded == result
        assert decoded.values[1]["mood"] is Mood.HAPPY  # an Enum travels pickled between our processes


def test_record_chunks_travel_normalised():
    chunk = records_chunk(5, ({"a": np.int64(1), "b": float("nan")}, {"a": (1, 2)}))
    decoded = decode_chunk(encode_chunk(chunk, "lz4"))
    assert decoded.start == 5 and decoded.rows() == [{"a": 1, "b": None}, {"a": (1, 2)}]


def test_an_object_that_cannot_travel_names_its_column_and_row():
    frame = pd.DataFrame({"ok": [1, 2, 3], "bad": pd.Series([1, 2, threading.Lock()], dtype=object)})
    chunk = next(frame_chunks(frame.iloc[1:], 10))
    with pytest.raises(TransportError, match="column 'bad', row at position 1: this value cannot be sent to a worker"):
        encode_chunk(chunk)


def test_arbitrary_objects_travel_pickled_between_processes_but_never_in_files():
    frame = pd.DataFrame({"period": pd.Series([pd.Period("2024-01", "M")], dtype=object)})
    chunk = next(frame_chunks(frame, 10))
    assert decode_chunk(encode_chunk(chunk)).rows() == chunk.rows()
    assert unpackb(packb(pd.Period("2024-01", "M"))) == "Period('2024-01', 'M')"  # a file keeps its repr
    with pytest.raises(TransportError, match="unexpected msgpack extension type 26"):
        unpackb(packb(Mood.HAPPY, pickle_fallback=True))


@pytest.mark.parametrize("compression", [None, "lz4"])
def test_truncated_and_corrupted_chunks_raise_transport_error(compression):
    payload = encode_chunk(next(frame_chunks(ALL_DTYPES, 3)), compression)
    for broken in (payload[: len(payload) // 2], payload[:1], b"", b"\x07" + payload[1:],
                   payload[:1] + bytes(reversed(payload[1:]))):
        with pytest.raises(TransportError):
            decode_chunk(broken)


def test_a_payload_cannot_decompress_beyond_the_cap(monkeypatch):
    payload = encode_chunk(chunk_of_arrays(0, ("z",), (np.zeros(100_000),)), "lz4")
    assert len(payload) < 10_000
    monkeypatch.setattr(transport, "MAX_PAYLOAD_BYTES", 100_000)
    with pytest.raises(TransportError, match="decompresses beyond MAX_PAYLOAD_BYTES"):
        decode_chunk(payload)


def test_hostile_columns_are_refused():
    def forged(column, arrow=None):
        stream = None
        if arrow is not None:
            sink = pa.BufferOutputStream()
            table = pa.table({"0": arrow})
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            stream = sink.getvalue().to_pybytes()
        message = {"start": 0, "size": 2, "names": ["x"], "columns": [column], "arrow": stream}
        return b"\x00" + packb(message)

    with pytest.raises(TransportError, match="bad numeric column"):
        decode_chunk(forged(["numpy", "|O"], pa.array([0, 0], pa.uint64())))  # object pointers from the wire: never
    with pytest.raises(TransportError, match="bad numeric column"):
        decode_chunk(forged(["numpy", "<i8"], pa.array([0, 0], pa.int8())))
    with pytest.raises(TransportError, match="bad column message"):
        decode_chunk(forged(["numpy", "<i8"], pa.array([0, 0, 0], pa.int64())))  # not the chunk's size
    with pytest.raises(TransportError, match="categorical codes out of range"):
        decode_chunk(forged(["cat", ["a"]], pa.array([5, 0], pa.int8())))
    with pytest.raises(TransportError, match="coded column's codes out of range"):
        decode_chunk(forged(["coded", ["a"]], pa.array([0, 1])))
    with pytest.raises(TransportError, match="bad column dtype"):
        decode_chunk(forged(["arrow", "object"], pa.array([0, 0])))
    with pytest.raises(TransportError, match="bad column message"):
        decode_chunk(forged(["py", [1]]))
    with pytest.raises(TransportError, match="bad column message"):
        decode_chunk(forged(["tz", "ns", "Europe/Paris"], pa.array([0, 0])))  # a zone is a tzinfo, not a name


def test_check_compression():
    assert check_compression("lz4") == "lz4" and check_compression(None) is None
    with pytest.raises(ValueError, match="compression must be one of"):
        check_compression("zstd")


def test_a_tz_aware_column_travels_as_its_instants_and_zone_once():
    """Issue 19: the zone travels once per column, not once per cell (20 s for a million cells)."""
    zones = (zoneinfo.ZoneInfo("Europe/Paris"), pytz.timezone("Asia/Kolkata"), dt.timezone(dt.timedelta(hours=1), "CET"))
    for zone in zones:
        for unit in ("s", "ms", "us", "ns"):
            stamps = pd.Series(pd.to_datetime(["2024-03-31 00:30", None, "2024-10-27 02:30"]).as_unit(unit))
            column = column_array(stamps.dt.tz_localize("UTC").dt.tz_convert(zone))
            chunk = chunk_of_arrays(0, ("t",), (column,))
            assert typed(decode_chunk(encode_chunk(chunk)).rows()) == typed(chunk.rows())
    many = column_array(pd.Series(pd.date_range("2013-01-01", periods=10_000, freq="min", tz="Europe/Paris")))
    assert len(encode_chunk(chunk_of_arrays(0, ("t",), (many,)))) < 10_000 * 8 + 1_000


class Sensor(BaseModel):
    reading: int = Field(ge=0)
    label: str = Field(max_length=2)
    tags: list[int]
    probe: int  # not a column of the frame below: those rows are validated whole, once per group

    @field_validator("label")
    @classmethod
    def not_boom(cls, value: str) -> str:
        if value == "b!":
            raise RuntimeError("boom")  # not wrapped by pydantic: the row is validated whole, alone
        return value


@pytest.mark.parametrize("with_probe", [True, False])
def test_a_worker_sends_the_columnar_engines_errors_packed_and_the_parent_gets_the_same(with_probe):
    """Packed (each distinct error once, rows referring to them) and decoded, the errors are the
    ones the sync executor puts together: in order, inputs kept, one dict per distinct error
    (rows validated whole have their own)."""
    rows = 500
    frame = pd.DataFrame({
        "reading": [i % 7 - 2 for i in range(rows)],
        "label": pd.array([["ok", "long", "b!", "x", None][i % 5] for i in range(rows)], dtype="str"),
        "tags": pd.Series([[(1,), ("a",), (2, "b"), "no"][i % 4] for i in range(rows)], dtype=object),
        **({"probe": [i if i % 3 else "p" for i in range(rows)]} if with_probe else {}),
    })
    chunk = next(frame_chunks(frame, rows))
    composed = validate_chunk(Sensor, chunk)
    packed = validate_chunk(Sensor, chunk, packed=True)
    assert composed.engine == packed.engine == "columnar" and packed.failed == {}
    if with_probe:  # rows failing with one value share its errors (rows validated whole have their own)
        assert packed.packed.counts.sum() > 5 * packed.packed.error_kinds.size
    decoded = decode_result(encode_result(packed))
    assert list(decoded.failed) == list(composed.failed)
    assert typed(list(decoded.failed.values())) == typed(list(composed.failed.values()))
    every_error = [error for errors in decoded.failed.values() for error in errors]
    assert len({id(error) for error in every_error}) == len(packed.packed.error_kinds)
    assert any(error["type"] == "exception" for error in every_error)
    assert any(error["loc"] == ("probe",) for error in every_error)
