"""Data bigger than memory: validate_iter over a stream of frames, validate_file over CSV and
Parquet files read in batches, with the failing rows written out."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field, field_validator

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN, RunError, validate_file, validate_iter
from flowschema.datasets import Flight, load_flights


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
    with pytest.raises(TypeError, match="expected a pandas DataFrame"):
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
