"""Parquet round trips keep what the README says, and hostile files fail with one clear error."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys
import textwrap
import uuid
import zoneinfo

import msgpack
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN, ResultFileError
from flowschema.transport import packb
from tests.oracle import reference_value, typed


class Anything(BaseModel):
    value: int


# What the README says a round trip keeps as it is: every input below comes back equal and of
# the same type, zone included.
KEPT = [None, True, 2**80, -0.0, float("inf"), "text", b"\x00bytes", bytearray(b"ba"), ("a", (1,)), [1, [2]],
        {"k": [None]}, dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))), dt.date(2024, 2, 29),
        dt.time(23, 59, 59, 999999), dt.timedelta(days=-1, microseconds=1), decimal.Decimal("-0.10"),
        uuid.UUID(int=42), PydanticUndefined]


def annotated_with_inputs(inputs: list) -> pd.DataFrame:
    """An annotated frame whose failing rows have these error inputs (as any validator might give)."""
    errors = [({"type": "int_type", "loc": ("value",), "msg": "Input should be a valid integer", "input": item},)
              for item in inputs]
    frame = pd.DataFrame({"n": range(len(inputs))})
    frame[VALID_COLUMN] = False
    frame[ERRORS_COLUMN] = pd.Series(errors, dtype=object)
    return frame


def test_a_round_trip_keeps_inputs_of_every_carried_type(tmp_path):
    frame = annotated_with_inputs(KEPT)
    frame.attrs["flowschema"] = {"model": "Anything", "rows": len(KEPT), "invalid_rows": len(KEPT)}
    frame.flowschema.to_parquet(tmp_path / "kept.parquet")
    back = flowschema.read_parquet(tmp_path / "kept.parquet")
    assert typed(list(back[ERRORS_COLUMN])) == typed(list(frame[ERRORS_COLUMN]))
    assert back.attrs == frame.attrs and back[VALID_COLUMN].dtype == bool


def test_a_round_trip_of_a_real_result_keeps_index_columns_and_errors(tmp_path):
    from flowschema.datasets import Penguin, load_penguins

    penguins = load_penguins()
    checked = penguins.set_axis(pd.Index(penguins.index * 10, name="key")).flowschema.validate(Penguin)
    checked.flowschema.to_parquet(tmp_path / "people.parquet")
    back = flowschema.read_parquet(tmp_path / "people.parquet")
    assert back.index.equals(checked.index) and list(back.columns) == list(checked.columns)
    assert typed(list(back[ERRORS_COLUMN])) == typed(list(checked[ERRORS_COLUMN]))
    assert back.flowschema.summary().equals(checked.flowschema.summary())


def test_nested_arrow_columns_round_trip_and_validate_file_reads_them(tmp_path):
    struct = pa.list_(pa.struct([("x", pa.int64())]))
    frame = pd.DataFrame({"value": [1, 2], "nested": pd.Series([[{"x": 1}], None], dtype=pd.ArrowDtype(struct))})
    frame.to_parquet(tmp_path / "nested.parquet")  # pandas cannot read this file back itself
    report = flowschema.validate_file(tmp_path / "nested.parquet", Anything, progress=False,
                                      invalid_out=tmp_path / "bad.parquet")
    assert (report.rows, report.invalid) == (2, 0)
    checked = frame.flowschema.validate(Anything)
    checked.flowschema.to_parquet(tmp_path / "checked.parquet")
    back = flowschema.read_parquet(tmp_path / "checked.parquet")
    assert back["nested"].tolist()[0] == [{"x": 1}]


def test_a_big_int_in_a_data_column_names_its_column_and_row(tmp_path):
    checked = pd.DataFrame({"value": pd.Series([1, 2**70], index=["a", "b"], dtype=object)}).flowschema.validate(
        Anything)
    with pytest.raises(TypeError, match=r"column 'value', row 'b' \(position 1\)"):
        checked.flowschema.to_parquet(tmp_path / "big.parquet")


def test_numpy_arrays_of_mixed_dtypes_are_refused_before_pyarrow_crashes(tmp_path):
    code = textwrap.dedent(f'''
        import numpy as np, pandas as pd
        import flowschema
        from tests.test_io import Anything
        cells = pd.Series([np.array(["2020-01-01"], dtype="datetime64[ns]"), np.array([1.5])], dtype=object)
        checked = pd.DataFrame({{"value": [1, 2], "arrays": cells}}).flowschema.validate(Anything)
        try:
            checked.flowschema.to_parquet({str(tmp_path / "mixed.parquet")!r})
        except TypeError as exc:
            print(exc)
    ''')
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]  # a segfault would be -11
    assert "column 'arrays' holds numpy arrays of several dtypes" in result.stdout


MIXED_SCALARS = textwrap.dedent('''
    import sys
    import numpy as np, pandas as pd
    import flowschema
    from tests.test_io import Anything
    cases = [[np.datetime64("2020-01-01", "ns"), np.int64(5)], [None, np.datetime64("NaT", "ns"), np.bool_(True)],
             [np.datetime64("2020-01-01", "s"), None, np.float32(1.5)], [np.timedelta64(5, "s"), np.uint8(1)],
             [np.datetime64("2020-01-01", "ns"), np.nan, np.float64("nan")]]  # NaN is a null pyarrow stores
    for number, cells in enumerate(cases):
        labels = [f"r{position}" for position in range(len(cells))]
        frame = pd.DataFrame({"value": range(len(cells)), "mixed": pd.Series(cells, labels, dtype=object)}, labels)
        try:
            frame.flowschema.validate(Anything).flowschema.to_parquet(f"{sys.argv[1]}/{number}.parquet")
            print("written")
        except TypeError as exc:
            print(exc)
''')


def test_numpy_datetimes_mixed_with_other_numpy_scalars_are_refused_before_pyarrow_crashes(tmp_path):
    """pyarrow crashes the process (SIGSEGV) on a datetime64 scalar followed by an int, bool or
    float32 scalar in an object column: refused naming the column and the row."""
    result = subprocess.run([sys.executable, "-c", MIXED_SCALARS, str(tmp_path)], check=False, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]  # a segfault would be -11
    refused = "Parquet cannot store column 'mixed', row '{}' (position {}): it holds numpy {} and {} scalars"
    expected = [refused.format("r1", 1, "datetime64[ns]", "int64"), refused.format("r2", 2, "datetime64[ns]", "bool"),
                refused.format("r2", 2, "datetime64[s]", "float32"), refused.format("r1", 1, "timedelta64[s]", "uint8"),
                "written"]
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected) and all(map(str.startswith, lines, expected)), lines
    back = flowschema.read_parquet(tmp_path / "4.parquet")
    assert back["mixed"].tolist()[0] == pd.Timestamp("2020-01-01") and back["mixed"].isna().tolist()[1:] == [True] * 2


def write_result(path, valid, errors, attrs=None, valid_type=None, metadata=None):
    """A Parquet file shaped like a FlowSchema result, with whatever the test puts in it
    (``metadata``: more key-value metadata, as raw bytes)."""
    table = pa.table({VALID_COLUMN: pa.array(valid, valid_type), ERRORS_COLUMN: pa.array(errors, pa.binary())})
    stored = dict(metadata or {})
    if attrs is not None:
        stored[b"PANDAS_ATTRS"] = json.dumps(attrs)
    if stored:
        table = table.replace_schema_metadata(stored)
    pq.write_table(table, path)
    return path


def nested_tuples(depth: int) -> bytes:
    payload = msgpack.packb([])
    for _ in range(depth):
        payload = msgpack.packb(msgpack.ExtType(1, payload))
    return payload


def test_a_hostile_errors_cell_is_a_clear_error_in_a_child_process(tmp_path):
    """The 714-byte cell of nested extensions that used to crash the interpreter."""
    path = write_result(tmp_path / "deep.parquet", [False], [nested_tuples(200)])
    code = f"import flowschema\ntry:\n    flowschema.read_parquet({str(path)!r})\nexcept Exception as exc:\n    print(type(exc).__name__, exc)"
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("ResultFileError"), result.stderr[-1500:]


def test_a_decompression_bomb_is_refused_within_the_limit(tmp_path):
    cell = packb(({"type": "t", "loc": (), "msg": "m", "input": [decimal.Decimal(1)] * 2000},))  # ~6 KB
    path = write_result(tmp_path / "bomb.parquet", [False] * 200, [cell] * 200)  # Parquet compresses repeats
    assert path.stat().st_size < 50_000
    with pytest.raises(ResultFileError, match="decode to more than 10,000,000 bytes"):
        flowschema.read_parquet(path, max_errors_bytes=10_000_000)


ERROR = packb(({"type": "t", "loc": ("a",), "msg": "m", "input": 1},))


@pytest.mark.parametrize(("valid", "errors", "valid_type", "attrs", "message"), [
    (["True", "False"], [None, ERROR], pa.string(), None, "stored as object, not bool|stored as str"),
    ([True], [ERROR], None, None, "row 0 .* is marked valid but has errors"),
    ([False], [None], None, None, "row 0 .* is marked invalid but has no errors"),
    ([False], [packb(5)], None, None, "not a non-empty tuple"),
    ([False], [packb(({"type": "t", "msg": "m", "input": 1},))], None, None, "not a dict with type, loc, msg"),
    ([False], [packb(({"type": 1, "loc": ("a",), "msg": "m", "input": 1},))], None, None, "wrong type"),
    ([False], [ERROR], None, {"flowschema": {"elapsed_seconds": "soon"}}, "elapsed_seconds.*not a Real"),
    ([False], [ERROR], None, {"flowschema": {"rows": True}}, r"\['rows'\] is True"),
])
def test_files_that_lie_are_refused_naming_the_row(tmp_path, valid, errors, valid_type, attrs, message):
    path = write_result(tmp_path / "lie.parquet", valid, errors, attrs, valid_type)
    with pytest.raises(ResultFileError, match=message):
        flowschema.read_parquet(path)


def test_an_invalid_out_file_carries_the_runs_totals(tmp_path):
    frame = pd.DataFrame({"value": ["1", "x", "3", "y"]})
    frame.to_csv(tmp_path / "rows.csv", index=False)
    report = flowschema.validate_file(tmp_path / "rows.csv", Anything, invalid_out=tmp_path / "bad.parquet",
                                      progress=False)
    back = flowschema.read_parquet(tmp_path / "bad.parquet")
    totals = back.attrs["flowschema"]
    assert (len(back), totals["rows"], totals["invalid_rows"]) == (2, 4, report.invalid)
    assert totals["subset"] == "the failing rows" and totals["model"] == "Anything"
    assert totals["summary"][0]["field"] == "value" and totals["fields"][0]["column"] == "value"


def test_an_invalid_out_directory_reads_back_with_the_runs_totals(tmp_path):
    for number in range(3):
        pd.DataFrame({"value": [str(number), "x"]}).to_csv(tmp_path / f"part{number}.csv", index=False)
    report = flowschema.validate_file(str(tmp_path / "part*.csv"), Anything, invalid_out=tmp_path / "bad",
                                      progress=False)
    back = flowschema.read_parquet(tmp_path / "bad")
    assert back.index.tolist() == [(str(tmp_path / f"part{number}.csv"), 1) for number in range(3)]
    assert (back.attrs["flowschema"]["rows"], back.attrs["flowschema"]["invalid_rows"]) == (6, report.invalid)
    assert back.flowschema.summary().equals(report.summary)


def test_an_invalid_out_directory_whose_parts_differ_keeps_every_column_and_value(tmp_path):
    """Each part is read with its own schema: a column only a later part has is kept, ints a
    part lacks stay ints, and a column whose types conflict holds each part's own values."""
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"value": ["x"], "b": ["text"]}), tmp_path / "in" / "1.parquet")
    pq.write_table(pa.table({"value": ["y"], "b": [2.5], "c": [2**53 + 1]}), tmp_path / "in" / "2.parquet")
    pq.write_table(pa.table({"c": pa.array([None, 3]), "value": ["z", "w"], "b": [None, 1.5]}),
                   tmp_path / "in" / "3.parquet")
    report = flowschema.validate_file(tmp_path / "in", Anything, invalid_out=tmp_path / "bad", progress=False)
    back = flowschema.read_parquet(tmp_path / "bad")
    assert list(back.columns) == ["value", "b", "c", VALID_COLUMN, ERRORS_COLUMN] and len(back) == report.invalid == 4
    parts = sorted((tmp_path / "bad").glob("part-*.parquet"))
    written = [row for part in parts for row in pq.read_table(part).to_pylist()]  # each part as it is
    for position, row in enumerate(written):
        assert typed({name: reference_value(back[name].iat[position]) for name in ("value", "b", "c")}) == typed(
            {name: row.get(name) for name in ("value", "b", "c")}), position
    assert back["c"].dtype == "Int64" and back["b"].dtype == object
    assert back.index.tolist() == [(row["file"], row["position"]) for row in written]
    assert back.flowschema.summary().equals(report.summary)


TOTALS = {"rows": 4, "invalid_rows": 2, "subset": "the failing rows"}


@pytest.mark.parametrize(("totals", "message"), [
    ({**TOTALS, "invalid_rows": 0}, "holds 2 failing rows, but its totals say invalid_rows=0"),
    ({**TOTALS, "invalid_rows": 3}, "holds 2 failing rows, but its totals say invalid_rows=3"),
    ({**TOTALS, "rows": 1, "invalid_rows": 1}, "holds 2 failing rows, but its totals say invalid_rows=1"),
    ({**TOTALS, "rows": -5, "invalid_rows": -7}, r"\['rows'\] is -5, not a count \(a non-negative int\)"),
    ({**TOTALS, "invalid_rows": 5}, "invalid_rows=5 is more than rows=4"),
    ({**TOTALS, "subset": "a sample of the failing rows", "invalid_rows": 1}, "holds 2 failing rows, but .*=1"),
    ({**TOTALS, "elapsed_seconds": -1.0}, r"\['elapsed_seconds'\] is -1.0, not a non-negative number"),
    ({**TOTALS, "summary": [{"x": 1}]}, r"\['summary'\]\[0\] has no 'field'"),
    ({**TOTALS, "summary": [{"field": "a", "errors": 1, "rows": "3"}]}, r"\['summary'\]\[0\]\['rows'\] is '3'"),
    ({**TOTALS, "summary": [{"field": "a", "errors": 3, "rows": 3, "int_type": 3}]},
     r"\['summary'\]\[0\] counts 3 rows with errors in 'a', more than invalid_rows=2"),
    ({**TOTALS, "summary": [{"field": "a", "errors": 2, "rows": 1, "int_type": 1}]},
     r"\['summary'\]\[0\] counts 2 errors of 'a' but 1 by type"),
    ({**TOTALS, "fields": [{"x": 1}]}, r"\['fields'\]\[0\] has no 'field'"),
    ({**TOTALS, "fields": [{"field": "a", "column": ["a"], "rule": "int"}]}, r"\['fields'\]\[0\]\['column'\] is \['a'\]"),
])
def test_totals_that_contradict_the_file_are_refused(tmp_path, totals, message):
    path = write_result(tmp_path / "lie.parquet", [False, False], [ERROR, ERROR],
                        metadata={flowschema.io.TOTALS_KEY: json.dumps(totals)})
    with pytest.raises(ResultFileError, match=message):
        flowschema.read_parquet(path)


def test_totals_that_hold_are_read_and_a_frame_without_subset_is_counted_as_it_is(tmp_path):
    summary = [{"field": "a", "errors": 2, "rows": 2, "t": 2}]
    path = write_result(tmp_path / "ok.parquet", [False, False], [ERROR, ERROR],
                        metadata={flowschema.io.TOTALS_KEY: json.dumps({**TOTALS, "summary": summary})})
    assert flowschema.read_parquet(path).attrs["flowschema"]["summary"] == summary
    assert len(flowschema.read_parquet(path, filters=[(VALID_COLUMN, "==", True)])) == 0  # rows left out: not matched
    # a whole frame filtered, or concatenated, before it was saved keeps the run's counts: it is counted as it is
    checked = pd.DataFrame({"value": ["1", "x", "3"]}).flowschema.validate(Anything)
    pd.concat([checked, checked]).flowschema.to_parquet(tmp_path / "twice.parquet")
    assert flowschema.read_parquet(tmp_path / "twice.parquet").attrs["flowschema"]["rows"] == 3
    # some of a run's failing rows, saved again: fewer than the run's, never more
    pd.DataFrame({"value": ["1", "x", "y"]}).to_csv(tmp_path / "rows.csv", index=False)
    flowschema.validate_file(tmp_path / "rows.csv", Anything, invalid_out=tmp_path / "bad.parquet", progress=False)
    failing = flowschema.read_parquet(tmp_path / "bad.parquet")
    failing.iloc[:1].flowschema.to_parquet(tmp_path / "fewer.parquet")
    assert len(flowschema.read_parquet(tmp_path / "fewer.parquet")) == 1
    pd.concat([failing, failing]).flowschema.to_parquet(tmp_path / "more.parquet")
    with pytest.raises(ResultFileError, match="holds 4 failing rows, but its totals say invalid_rows=2"):
        flowschema.read_parquet(tmp_path / "more.parquet")


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(("key", "value", "message"), [
    (b"flowschema", b"{nope", "metadata 'flowschema' is not JSON"),
    (b"flowschema", b"\xff\xfe", "metadata 'flowschema' is not JSON"),
    (b"flowschema", DEEP, "metadata 'flowschema' is not JSON|metadata 'flowschema' is nested more than"),
    (b"flowschema", b'"text"', "metadata 'flowschema' is a str, not a dict"),
    (b"PANDAS_ATTRS", DEEP, "metadata 'PANDAS_ATTRS' is not JSON|metadata 'PANDAS_ATTRS' is nested more than"),
    (b"PANDAS_ATTRS", b'{"x": ' + b"[" * 500 + b"]" * 500 + b"}", "metadata 'PANDAS_ATTRS' is nested more than"),
    (b"PANDAS_ATTRS", b"[1]", "metadata 'PANDAS_ATTRS' is a list, not a dict"),
    (b"pandas", b"{nope", "metadata 'pandas' is not JSON"),
    (b"pandas", b'{"index_columns": 5}', "metadata 'pandas' does not describe its columns"),
])
def test_malformed_metadata_is_a_result_file_error_naming_the_key(tmp_path, key, value, message):
    path = write_result(tmp_path / "odd.parquet", [False, False], [ERROR, ERROR], metadata={key: value})
    with pytest.raises(ResultFileError, match=message):
        flowschema.read_parquet(path)


def test_no_failing_rows_still_give_a_readable_file(tmp_path):
    pq.write_table(pa.table({"value": pa.array([], pa.int64())}), tmp_path / "empty.parquet")
    flowschema.validate_file(tmp_path / "empty.parquet", Anything, invalid_out=tmp_path / "bad.parquet", progress=False)
    assert len(flowschema.read_parquet(tmp_path / "bad.parquet")) == 0
    pd.DataFrame({"value": [1]}).to_csv(tmp_path / "good.csv", index=False)
    flowschema.validate_file(tmp_path / "good.csv", Anything, invalid_out=tmp_path / "bad.csv", progress=False)
    assert pd.read_csv(tmp_path / "bad.csv").empty
    assert np.array_equal(pd.read_csv(tmp_path / "bad.csv").columns, ["position", "value", ERRORS_COLUMN])
