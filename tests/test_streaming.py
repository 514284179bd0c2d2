"""Data bigger than memory: validate_iter over a stream of frames, validate_file over CSV and
Parquet files read in batches, with the failing rows written out."""

from __future__ import annotations

import itertools
import json
from typing import Annotated

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel, Field, StrictBool, StrictInt, field_validator

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN, RunError, validate_file, validate_iter
from flowschema.datasets import Flight, load_flights
from tests.oracle import expected_error_dicts, reference_value, typed


class Item(BaseModel):
    sku: int
    price: float = Field(gt=0)
    label: str


def items(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sku": np.arange(rows),
        "price": np.where(rng.random(rows) < 0.2, -1.0, rng.random(rows) + 0.5),
        "label": np.where(rng.random(rows) < 0.1, None, "x"),
    })


@pytest.fixture(scope="module")
def flights():
    return load_flights().iloc[:30_000]


def test_concatenated_stream_equals_the_whole(executor):
    whole = items(500)
    parts = [whole.iloc[:120], whole.iloc[120:120], whole.iloc[120:377], whole.iloc[377:]]
    yielded = list(validate_iter(iter(parts), Item, executor, chunksize=50, progress=False))
    assert [len(frame) for frame in yielded] == [120, 0, 257, 123]
    for part, frame in zip(parts, yielded):
        assert frame.index.equals(part.index)
    together = pd.concat(yielded)
    expected = whole.flowschema.validate(Item, "sync")
    pd.testing.assert_series_equal(together[VALID_COLUMN], expected[VALID_COLUMN])
    assert together[ERRORS_COLUMN].tolist() == expected[ERRORS_COLUMN].tolist()


def test_validate_iter_is_lazy_and_checks_arguments_at_once():
    read = []

    def endless():
        for number in itertools.count():
            read.append(number)
            yield items(10, seed=number)

    stream = validate_iter(endless(), Item, progress=False)
    assert len(next(stream)) == 10 and len(next(stream)) == 10
    assert len(read) <= 3
    stream.close()
    with pytest.raises(TypeError, match="pydantic BaseModel subclass"):
        validate_iter([], dict)
    with pytest.raises(TypeError, match="expected a pandas or polars DataFrame, got str"):
        list(validate_iter([items(3), "not a frame"], Item, progress=False))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_in_batches_give_the_whole_frames_answer(flights, tmp_path, executor, suffix):
    path = tmp_path / f"flights{suffix}"
    flights.to_csv(path, index=False) if suffix == ".csv" else flights.to_parquet(path, index=False)
    out = tmp_path / "bad.parquet"
    report = validate_file(path, Flight, executor, chunksize=7_000, invalid_out=out, progress=False)
    whole = flights.flowschema.validate(Flight, "sync")
    assert (report.rows, report.invalid) == (len(flights), int((~whole[VALID_COLUMN]).sum()))
    pd.testing.assert_frame_equal(report.summary, whole.flowschema.summary())
    assert report.executor == executor and report.rows_per_second > 0
    bad = flowschema.read_parquet(out)
    failing = whole[~whole[VALID_COLUMN]]
    assert bad.index.tolist() == failing.index.tolist()  # positions in the file
    assert bad[ERRORS_COLUMN].tolist() == failing[ERRORS_COLUMN].tolist()
    pd.testing.assert_frame_equal(bad.flowschema.summary(), whole.flowschema.summary())
    assert len(report.sample) == min(len(failing), flowschema.streaming.SAMPLE_ROWS)
    assert set(tmp_path.iterdir()) == {path, out}  # no temporary file left behind


def test_invalid_out_as_csv_and_the_report_views(flights, tmp_path):
    path = tmp_path / "flights.csv"
    flights.to_csv(path, index=False)
    out = tmp_path / "bad.csv"
    report = validate_file(path, Flight, invalid_out=out, chunksize=10_000, progress=False)
    written = pd.read_csv(out, index_col="position")
    assert len(written) == report.invalid and ERRORS_COLUMN in written.columns
    assert "air_time" in report._repr_html_() and repr(report).startswith(f"FileReport('{path}': 30,000 rows")
    assert report.error_types.sum() == report.summary["errors"].sum()
    assert report.dashboard().data.invalid == len(report.sample)
    report.to_html(tmp_path / "report.html")
    assert ">Fields<" in (tmp_path / "report.html").read_text()  # the per-field table, with the file's totals


def test_chunks_whose_inferred_dtypes_differ_still_write_invalid_out(tmp_path):
    path = tmp_path / "drifting.csv"
    rows = ["sku,price,label"] + [f"{n},1.5,a" for n in range(50)] + ["oops,-2,b", "51,abc,c", "52,2.5,"]
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "bad.parquet"
    report = validate_file(path, Item, chunksize=10, invalid_out=out, progress=False)
    assert report.invalid == 3
    bad = flowschema.read_parquet(out)
    assert bad.index.tolist() == [50, 51, 52] and bad["sku"].tolist() == ["oops", "51", "52"]
    assert [error["type"] for error in bad[ERRORS_COLUMN].iloc[0]] == ["int_parsing", "greater_than"]


def test_a_malformed_csv_line_stops_the_run_naming_it_and_leaves_no_file(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("sku,price,label\n1,2.0,a\n2,3.0,b,extra\n3,4.0,c\n")
    out = tmp_path / "bad.parquet"
    with pytest.raises(RunError, match=r"stopped after 0 rows: .*line 3") as raised:
        validate_file(path, Item, invalid_out=out, progress=False)
    assert raised.value.rows_done == 0
    assert sorted(item.name for item in tmp_path.iterdir()) == ["ragged.csv"]


def test_empty_header_only_and_missing_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty: a CSV file needs at least a header line"):
        validate_file(empty, Item)
    header = tmp_path / "header.csv"
    header.write_text("sku,price,label\n")
    report = validate_file(header, Item, progress=False)
    assert (report.rows, report.invalid, len(report.summary)) == (0, 0, 0)
    with pytest.raises(FileNotFoundError, match="no such file"):
        validate_file(tmp_path / "nope.csv", Item)
    with pytest.raises(ValueError, match="cannot tell the format"):
        validate_file(header.rename(tmp_path / "data.xlsx"), Item)
    with pytest.raises(ValueError, match="chunksize \\(rows read per batch\\)"):
        validate_file(tmp_path / "data.xlsx", Item, chunksize=0)


class Nullable(BaseModel):
    """Ints and bools next to nulls, where a float in an int's place gives another answer."""

    strict: StrictInt | None
    bounded: int | None = Field(le=2**53)
    unsigned: StrictInt | None
    flag: StrictBool | None
    listed: list[Annotated[int, Field(le=2**53)] | None] | None
    nested: dict[str, StrictInt | None] | None


def nullable_table() -> pa.Table:
    """Arrow ints and bools with nulls, at the top level and inside lists and structs."""
    return pa.table({
        "strict": pa.array([1, None, 3, None], pa.int64()),
        "bounded": pa.array([2**53 + 1, None, 2**53, 7], pa.int64()),
        "unsigned": pa.array([2**64 - 1, None, 5, 0], pa.uint64()),
        "flag": pa.array([True, None, False, None]),
        "listed": pa.array([[1, None, 2**53 + 1], None, [], [2**53]], pa.list_(pa.int64())),
        "nested": pa.array([{"a": 2**53 + 1}, {"a": None}, None, {"a": 1}], pa.struct([("a", pa.int64())])),
    })


def test_parquet_ints_and_bools_with_nulls_reach_pydantic_as_ints_and_bools(tmp_path, executor):
    """Read as pandas would, ints next to nulls become floats: 3.0 fails StrictInt and
    2**53 + 1 becomes 2**53, which passes le=2**53. Each row must get model_validate's answer on
    the Arrow rows."""
    table = nullable_table()
    pq.write_table(table, tmp_path / "nullable.parquet")
    report = validate_file(tmp_path / "nullable.parquet", Nullable, executor, chunksize=3,
                           invalid_out=tmp_path / "bad.parquet", progress=False)
    rows = table.to_pylist()
    expected = [expected_error_dicts(Nullable, row) for row in rows]
    assert [position for position, errors in enumerate(expected) if errors] == [0] == report.sample.index.tolist()
    assert typed(list(report.sample[ERRORS_COLUMN].iat[0])) == typed(expected[0])
    assert [error["loc"] for error in expected[0]] == [("bounded",), ("listed", 2)]
    whole = pd.read_parquet(tmp_path / "nullable.parquet", dtype_backend="pyarrow").flowschema.validate(Nullable)
    pd.testing.assert_frame_equal(report.summary, whole.flowschema.summary())
    bad = flowschema.read_parquet(tmp_path / "bad.parquet")
    assert typed({name: reference_value(bad[name].iat[0]) for name in table.column_names}) == typed(rows[0])


class Interrupting(BaseModel):
    sku: int

    @field_validator("sku")
    @classmethod
    def stop_at(cls, value: int) -> int:
        if value == 150:
            raise KeyboardInterrupt  # as if Ctrl-C came in the middle of the run
        return value


def test_an_interrupted_run_leaves_no_partial_invalid_out(tmp_path):
    path = tmp_path / "items.csv"
    items(300).to_csv(path, index=False)
    out = tmp_path / "bad.parquet"
    with pytest.raises(KeyboardInterrupt):
        validate_file(path, Interrupting, chunksize=40, invalid_out=out, progress=False)
    assert sorted(item.name for item in tmp_path.iterdir()) == ["items.csv"]


def test_a_live_dashboard_counts_the_whole_file(tmp_path, monkeypatch):
    from flowschema.dashboard.widget import Dashboard

    path = tmp_path / "items.csv"
    items(250).to_csv(path, index=False)
    live = Dashboard(total_rows=None)
    report = validate_file(path, Item, chunksize=60, dashboard=live, progress=False)
    assert live._live_done == report.rows == 250 and live._live_invalid == report.invalid
    assert live.data.frame is report.sample  # it ends as the explorer of the failing-row sample
    assert report.sample.attrs["flowschema"]["rows"] == 250  # ... which carries the whole file's totals
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    validate_file(path, Item, dashboard=True, progress=False)
    assert len(shown) == 1 and shown[0]._live_done == 250


# -- sets of files -------------------------------------------------------------------------------


def write_set(frame: pd.DataFrame, folder, suffix: str, files: int = 4) -> list:
    """``frame`` cut into ``files`` files; Parquet ones with several row groups."""
    folder.mkdir()
    bounds = np.linspace(0, len(frame), files + 1).astype(int)
    paths = []
    for number, (start, stop) in enumerate(itertools.pairwise(bounds)):
        path = folder / f"part-{number:02d}{suffix}"  # listed in name order
        piece = frame.iloc[start:stop]
        if suffix == ".csv":
            piece.to_csv(path, index=False)
        else:
            piece.to_parquet(path, index=False, row_group_size=1_300)
        paths.append(path)
    return paths


def concatenated_result(paths: list, model) -> pd.DataFrame:
    """``validate`` of the files concatenated, indexed by file and position in the file."""
    frames = [pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path) for path in paths]
    return pd.concat(frames, keys=[str(path) for path in paths], names=["file", "position"]).flowschema.validate(
        model, "sync")


def read_parts(folder) -> pd.DataFrame:
    return pd.concat([flowschema.read_parquet(part) for part in sorted(folder.glob("part-*.parquet"))])


def assert_set_report(report, whole: pd.DataFrame, out) -> None:
    """The report and the parts of ``out`` say what ``validate`` says of the whole set."""
    failing = whole[~whole[VALID_COLUMN]]
    assert (report.rows, report.invalid) == (len(whole), len(failing))
    pd.testing.assert_frame_equal(report.summary, whole.flowschema.summary())
    sample = failing.iloc[: flowschema.streaming.SAMPLE_ROWS]
    assert report.sample.index.tolist() == sample.index.tolist()
    assert list(report.sample.index.names) == ["file", "position"]
    assert report.sample[ERRORS_COLUMN].tolist() == sample[ERRORS_COLUMN].tolist()
    pd.testing.assert_frame_equal(report.sample.drop(columns=ERRORS_COLUMN), sample.drop(columns=ERRORS_COLUMN),
                                  check_dtype=False, check_index_type=False, check_column_type=False)
    bad = read_parts(out)  # every failing row once, in file then row order
    assert bad.index.tolist() == failing.index.tolist()
    assert bad[ERRORS_COLUMN].tolist() == failing[ERRORS_COLUMN].tolist()
    totals = json.loads(pq.read_metadata(out / "_common_metadata").metadata[b"flowschema"])
    assert (totals["rows"], totals["invalid_rows"], totals["subset"]) == (len(whole), len(failing), "the failing rows")
    assert totals["summary"] == report.summary.to_dict("records")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_set_of_files_gives_the_concatenated_frames_answer(flights, tmp_path, executor, suffix):
    paths = write_set(flights.iloc[:12_000], tmp_path / "in", suffix)
    given = str(tmp_path / "in" / "*.csv") if suffix == ".csv" else tmp_path / "in"  # a glob, a directory
    out = tmp_path / "bad"
    report = validate_file(given, Flight, executor, chunksize=2_000, invalid_out=out, progress=False)
    assert report.path == str(given) and report.executor == executor
    assert_set_report(report, concatenated_result(paths, Flight), out)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad", "in"]  # no temporary directory left


def test_a_list_of_files_in_its_order_and_an_earlier_result_replaced(tmp_path):
    paths = write_set(items(900), tmp_path / "in", ".csv", files=3)[::-1]
    (tmp_path / "in" / "header-only.csv").write_text("sku,price,label\n")
    paths.insert(1, tmp_path / "in" / "header-only.csv")
    out = tmp_path / "bad"
    first = validate_file(paths, Item, chunksize=100, invalid_out=out, progress=False)
    assert first.path == "4 files"
    assert_set_report(first, concatenated_result([path for path in paths if "header" not in path.name], Item), out)
    report = validate_file(paths[:1], Item, invalid_out=out, progress=False)  # replaces the earlier result
    assert len(read_parts(out)) == report.invalid < first.invalid
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad", "in"]


def test_no_failing_rows_in_a_set_still_give_a_readable_directory(tmp_path):
    paths = write_set(pd.DataFrame({"sku": range(10), "price": 1.0, "label": "x"}), tmp_path / "in", ".parquet", 2)
    validate_file(paths, Item, invalid_out=tmp_path / "bad", progress=False)
    bad = read_parts(tmp_path / "bad")
    assert len(bad) == 0 and list(bad.index.names) == ["file", "position"]


def test_what_a_set_of_files_refuses(tmp_path):
    folder = tmp_path / "in"
    paths = write_set(items(40), folder, ".csv", files=2)
    with pytest.raises(ValueError, match="is a directory: it is read as a set of .parquet files, and it holds "
                                         "part-00.csv, part-01.csv. For CSV files give a glob"):
        validate_file(folder, Item)
    items(5).to_parquet(folder / "more.parquet")
    with pytest.raises(ValueError, match="all CSV or all Parquet"):
        validate_file([paths[0], folder / "more.parquet"], Item)
    with pytest.raises(ValueError, match="an empty list"):
        validate_file([], Item)
    with pytest.raises(FileNotFoundError, match="no such file: .*gone.csv"):
        validate_file([paths[0], folder / "gone.csv"], Item)
    with pytest.raises(FileNotFoundError, match="no file matches"):
        validate_file(str(folder / "*.tsv"), Item)
    with pytest.raises(ValueError, match="names the same file twice"):
        validate_file([paths[0], paths[0]], Item)
    (tmp_path / "taken.parquet").write_bytes(b"")
    for out, message in [(tmp_path / "taken.parquet", "is a file name"), (tmp_path / "bad.csv", "is a file name"),
                         (folder, "holding files FlowSchema did not write")]:
        with pytest.raises(ValueError, match=message):
            validate_file(paths, Item, invalid_out=out, progress=False)
    (folder / "broken.csv").write_text("sku,price,sku\n1,2,3\n")
    with pytest.raises(flowschema.DataFileError, match="broken.csv has duplicate column names"):
        validate_file(str(folder / "*.csv"), Item, progress=False)


def test_an_interrupted_set_leaves_no_directory(tmp_path):
    paths = write_set(items(300), tmp_path / "in", ".csv", files=2)
    with pytest.raises(KeyboardInterrupt):
        validate_file(paths, Interrupting, chunksize=40, invalid_out=tmp_path / "bad", progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in"]


def test_a_live_dashboard_counts_a_set_read_by_ray_workers(local_ray, tmp_path):
    from flowschema.dashboard.widget import Dashboard

    paths = write_set(items(400), tmp_path / "in", ".parquet", files=3)
    live = Dashboard(total_rows=None)
    report = validate_file(paths, Item, "ray", chunksize=50, dashboard=live, progress=False)
    assert (live._live_done, live._live_invalid) == (report.rows, report.invalid) == (400, report.invalid)
    assert {name: failures.rows for name, failures in live._live_fields.items()} == dict(
        zip(report.summary["field"], report.summary["rows"]))
    assert live.data.frame.index.tolist() == report.sample.index.tolist()  # (file, position), as tuples
    assert "part-00.parquet" in report._repr_html_()
    with pytest.raises(TypeError, match="'compression' do not apply when the Ray workers read the files"):
        validate_file(paths, Item, "ray", compression="lz4")
