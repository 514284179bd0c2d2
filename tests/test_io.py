"""Parquet round trips keep what the README says, and hostile files fail with one clear error."""

from __future__ import annotations

import datetime as dt
import decimal
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
from tests.oracle import typed


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
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]  # a segfault would be -11
    assert "column 'arrays' holds numpy arrays of several dtypes" in result.stdout


def write_result(path, valid, errors, attrs=None, valid_type=None):
    """A Parquet file shaped like a FlowSchema result, with whatever the test puts in it."""
    table = pa.table({VALID_COLUMN: pa.array(valid, valid_type), ERRORS_COLUMN: pa.array(errors, pa.binary())})
    if attrs is not None:
        table = table.replace_schema_metadata({b"PANDAS_ATTRS": __import__("json").dumps(attrs)})
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
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
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


def test_no_failing_rows_still_give_a_readable_file(tmp_path):
    pq.write_table(pa.table({"value": pa.array([], pa.int64())}), tmp_path / "empty.parquet")
    flowschema.validate_file(tmp_path / "empty.parquet", Anything, invalid_out=tmp_path / "bad.parquet", progress=False)
    assert len(flowschema.read_parquet(tmp_path / "bad.parquet")) == 0
    pd.DataFrame({"value": [1]}).to_csv(tmp_path / "good.csv", index=False)
    flowschema.validate_file(tmp_path / "good.csv", Anything, invalid_out=tmp_path / "bad.csv", progress=False)
    assert pd.read_csv(tmp_path / "bad.csv").empty
    assert np.array_equal(pd.read_csv(tmp_path / "bad.csv").columns, ["position", "value", ERRORS_COLUMN])
