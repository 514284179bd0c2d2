"""flowschema.ray on a real two-node `ray start` cluster (test_ray.py's ``cluster``), connected
by its explicit address: datasets validated where they live, and validate_file of sets of files
read by the workers themselves. A worker killed mid-run, retries running out, unreadable files,
and the driver kept off the data path, measured in a subprocess."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel, Field

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN, RunError, WorkerCrashError
from flowschema.datasets import Flight, load_flights
from flowschema.executor.ray import connect_ray
from flowschema.io import table_to_frame
from tests.faulty import Faulty
from tests.oracle import assert_exactly_pydantic, expected_error_dicts, typed
from tests.processes import process_command, ray_processes
from tests.test_multiprocessing import wait_for
from tests.test_ray import cluster  # noqa: F401  (the module-scoped two-node cluster)
from tests.test_streaming import (
    Nullable,
    assert_set_report,
    concatenated_result,
    nullable_table,
    write_set,
)


@pytest.fixture(scope="module")
def connected(cluster):  # noqa: F811
    """This process connected to the cluster at its explicit address, presenting its token.

    Ray keeps the authentication mode and token it read in the process: they are read afresh
    for this cluster, and reset afterwards for the local Rays of later modules.
    """
    from ray._private.authentication_test_utils import reset_auth_token_state

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("RAY_AUTH_MODE", "token")
            reset_auth_token_state()
            connect_ray(cluster["address"])
            yield cluster
            flowschema.close()
    finally:
        reset_auth_token_state()


@pytest.fixture
def fsray(connected):
    import flowschema.ray

    return flowschema.ray


@pytest.fixture(scope="module")
def flights():
    return load_flights().iloc[:40_000]


def test_a_directory_of_20_parquet_files_is_read_by_the_workers(connected, flights, tmp_path):
    paths = write_set(flights, tmp_path / "in", ".parquet", files=20)  # 2,000 rows each, in 2 row groups
    out = tmp_path / "bad"
    report = flowschema.validate_file(tmp_path / "in", Flight, "ray", address=connected["address"], chunksize=1_000,
                                      invalid_out=out, progress=False)
    assert report.executor == "ray"
    assert_set_report(report, concatenated_result(paths, Flight), out)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad", "in"]


def test_a_set_of_csv_files_is_read_by_the_workers(connected, flights, tmp_path):
    paths = write_set(flights.iloc[:15_000], tmp_path / "in", ".csv", files=5)
    (tmp_path / "in" / "header-only.csv").write_text(",".join(flights.columns) + "\n")
    out = tmp_path / "bad"
    report = flowschema.validate_file([*paths, tmp_path / "in" / "header-only.csv"], Flight, "ray",
                                      address=connected["address"], chunksize=2_000, invalid_out=out, progress=False)
    assert_set_report(report, concatenated_result(paths, Flight), out)
    assert report.fields[0] == {"field": "year", "column": "year", "rule": "int = 2013"}


def test_a_dataset_validated_where_it_lives(fsray, flights, tmp_path):
    import ray

    paths = write_set(flights, tmp_path / "in", ".parquet", files=4)
    dataset = ray.data.read_parquet(str(tmp_path / "in"))
    dataset.context.execution_options.preserve_order = True
    checked = fsray.validate_dataset(dataset, Flight)
    assert checked.schema().base_schema.field(ERRORS_COLUMN).type == fsray.ERRORS_TYPE
    whole = concatenated_result(paths, Flight)
    frame = fsray.to_pandas(checked)
    assert frame[VALID_COLUMN].tolist() == whole[VALID_COLUMN].tolist()
    assert typed(frame[ERRORS_COLUMN].tolist()) == typed(whole[ERRORS_COLUMN].tolist())
    assert frame.attrs["flowschema"]["model"] == "Flight" and frame.flowschema.summary().equals(whole.flowschema.summary())

    report = fsray.summarize(checked)
    assert (report.rows, report.invalid, report.model) == (len(whole), int((~whole[VALID_COLUMN]).sum()), "Flight")
    pd.testing.assert_frame_equal(report.summary, whole.flowschema.summary())
    assert len(report.sample) == min(report.invalid, flowschema.streaming.SAMPLE_ROWS)
    assert not report.sample[VALID_COLUMN].any() and "dep_time" in report._repr_html_()

    with pytest.raises(ValueError, match="has no _fs_errors column: it is not a validation result"):
        fsray.summarize(dataset)

    from ray.data.expressions import col

    checked.filter(expr=~col("_fs_valid")).write_parquet(str(tmp_path / "failing"))  # the fixed Arrow type
    written = pq.read_table(tmp_path / "failing")
    assert written.schema.field(ERRORS_COLUMN).type == fsray.ERRORS_TYPE and len(written) == report.invalid
    failing = whole[~whole[VALID_COLUMN]]
    assert sorted(map(repr, fsray.errors_from_arrow(written.column(ERRORS_COLUMN)))) == sorted(
        map(repr, failing[ERRORS_COLUMN]))


class Exotic(BaseModel):
    when: dt.datetime
    amount: decimal.Decimal = Field(max_digits=4, decimal_places=2)
    tags: list[int]
    code: int = Field(ge=10)


def test_error_inputs_and_ctx_come_back_exactly(fsray):
    import ray

    table = pa.table({
        "when": pa.array(["2024-05-01T12:30:00+02:00", "not a date", None]),
        "amount": pa.array([decimal.Decimal("1.25"), decimal.Decimal("123.45"), None], pa.decimal128(6, 2)),
        "tags": pa.array([[1, 2], [3], None], pa.list_(pa.int64())),
        "code": pa.array([10, 3, None], pa.int64()),
        "extra": pa.array([{"a": 1.5}, {"a": None}, None], pa.struct([("a", pa.float64())])),
    })
    dataset = ray.data.from_arrow(table)
    dataset.context.execution_options.preserve_order = True
    frame = fsray.to_pandas(fsray.validate_dataset(dataset, Exotic))
    assert_exactly_pydantic(table_to_frame(table), Exotic, frame)
    back = fsray.errors_from_arrow(fsray.errors_to_arrow(frame[ERRORS_COLUMN].tolist()))
    assert typed(list(back)) == typed(frame[ERRORS_COLUMN].tolist())
    valid = table.slice(0, 1)  # coerced values, in columns Arrow can hold as pandas' coerce types them
    coerced = fsray.to_pandas(fsray.validate_dataset(ray.data.from_arrow(valid), Exotic, coerce=True))
    expected = table_to_frame(valid).flowschema.validate(Exotic, coerce=True)
    for name in ("when", "amount", "tags", "code"):  # Arrow gives lists back as numpy arrays
        assert plain(coerced[name]) == plain(expected[name]), name


def test_ints_with_nulls_reach_pydantic_as_ints_and_an_empty_dataset_comes_back_empty(fsray):
    import ray
    from ray.data.expressions import col

    table = nullable_table()
    dataset = ray.data.from_arrow(table)
    dataset.context.execution_options.preserve_order = True
    checked = fsray.validate_dataset(dataset, Nullable)
    frame = fsray.to_pandas(checked)
    expected = [expected_error_dicts(Nullable, row) for row in table.to_pylist()]
    assert typed([list(errors) for errors in frame[ERRORS_COLUMN]]) == typed(expected)
    assert frame[VALID_COLUMN].tolist() == [not errors for errors in expected] == [False, True, True, True]
    assert frame["bounded"].tolist()[0] == 2**53 + 1 and fsray.summarize(checked).invalid == 1

    for empty in (checked.filter(expr=col("strict") > 10), fsray.validate_dataset(ray.data.from_items([]), Nullable)):
        back = fsray.to_pandas(empty)
        assert len(back) == 0 and list(back.columns)[-2:] == [VALID_COLUMN, ERRORS_COLUMN]
        assert back.flowschema.summary().empty and back.attrs["flowschema"]["rows"] == 0
        assert fsray.summarize(empty).rows == 0
    with pytest.raises(ValueError, match="has no _fs_errors column: it is not a validation result"):
        fsray.to_pandas(dataset)  # not checked


def plain(column: pd.Series) -> list:
    return [value.tolist() if isinstance(value, np.ndarray) else value for value in column]


def faulty_files(folder, files: int = 4, rows: int = 150) -> list:
    folder.mkdir()
    paths = []
    for number in range(files):
        paths.append(folder / f"n{number}.csv")
        pd.DataFrame({"n": range(number * rows, (number + 1) * rows)}).to_csv(paths[-1], index=False)
    return paths


def test_a_worker_killed_mid_run_is_retried_and_no_row_is_lost_or_doubled(connected, tmp_path):
    paths = faulty_files(tmp_path / "in")
    context = {"started": str(tmp_path / "started"), "hold": str(tmp_path / "hold")}
    killed = []

    def kill_a_busy_worker():
        try:
            wait_for(context["started"], timeout=120)
            for pid in ray_processes():
                if b"_UnitReader" in process_command(pid):  # a task reading and validating our files
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
        finally:
            open(context["hold"], "w").close()  # every held row may go on: the retry validates again

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    out = tmp_path / "bad"
    report = flowschema.validate_file(paths, Faulty, "ray", address=connected["address"], chunksize=60,
                                      invalid_out=out, context=context, progress=False)
    killer.join()
    assert killed, "no busy Ray worker was found to kill"
    assert_set_report(report, concatenated_result(paths, Faulty), out)


def test_retries_running_out_name_the_file_and_rows_and_leave_nothing(connected, tmp_path):
    paths = faulty_files(tmp_path / "in", files=2)
    pd.DataFrame({"n": [1, 2, -1, 4]}).to_csv(tmp_path / "in" / "deadly.csv", index=False)
    with pytest.raises(RunError, match=r"WorkerCrashError: Ray could not validate .*deadly\.csv rows 0\.\.3 "
                                       r"\(0-based positions among its data rows\) against Faulty after 3 retries") as raised:
        flowschema.validate_file([*paths, tmp_path / "in" / "deadly.csv"], Faulty, "ray",
                                 address=connected["address"], invalid_out=tmp_path / "bad",
                                 context={"always_exit": True}, progress=False)
    assert isinstance(raised.value.__cause__, WorkerCrashError)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in"]  # no half directory


def test_a_dataset_whose_workers_keep_dying_names_its_file(fsray, tmp_path):
    import ray

    pd.DataFrame({"n": [1, 2, -1, 4]}).to_csv(tmp_path / "deadly.csv", index=False)
    dataset = ray.data.read_csv(str(tmp_path / "deadly.csv"), include_paths=True)
    checked = fsray.validate_dataset(dataset, Faulty, context={"always_exit": True})
    with pytest.raises(WorkerCrashError, match=r"^Ray could not validate a batch of [1-4] rows? of .*deadly\.csv against "
                                               r"Faulty after 3 retries.*executor='sync'$"):
        fsray.to_pandas(checked)


def test_unreadable_and_missing_files_are_named(connected, flights, tmp_path):
    address = connected["address"]
    paths = write_set(flights.iloc[:2_000], tmp_path / "in", ".parquet", files=2)
    with pytest.raises(FileNotFoundError, match="no such file: .*gone.parquet"):
        flowschema.validate_file([*paths, tmp_path / "gone.parquet"], Flight, "ray", address=address)
    (tmp_path / "in" / "text.parquet").write_text("a,b\n1,2\n")
    with pytest.raises(flowschema.DataFileError, match="text.parquet is not a Parquet file"):
        flowschema.validate_file(tmp_path / "in", Flight, "ray", address=address, progress=False)
    (tmp_path / "in" / "text.parquet").unlink()
    damaged = bytearray(paths[1].read_bytes())
    damaged[100:4_000] = os.urandom(3_900)  # the data pages; the footer still reads
    paths[1].write_bytes(bytes(damaged))
    with pytest.raises(RunError, match=r"DataFileError: .*part-01\.parquet cannot be read as Parquet: "):
        flowschema.validate_file(tmp_path / "in", Flight, "ray", address=address, progress=False)
    csv_folder = tmp_path / "csv"
    write_set(flights.iloc[:1_000], csv_folder, ".csv", files=2)
    (csv_folder / "broken.csv").write_text("year,month,year\n2013,1,2013\n")
    with pytest.raises(RunError, match="broken.csv has duplicate column names in its header"):
        flowschema.validate_file(str(csv_folder / "*.csv"), Flight, "ray", address=address, progress=False)


DRIVER = textwrap.dedent('''
    import json, sys
    import flowschema
    from flowschema.datasets import Flight

    address, files, warm_up, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    flowschema.validate_file([warm_up], Flight, "ray", address=address, progress=False)  # imports, connects

    def proc(name, key):  # /proc/self: ru_maxrss would include the parent's memory at fork
        with open(f"/proc/self/{name}") as lines:
            return next(int(line.split()[1]) for line in lines if line.startswith(key))

    before = proc("io", "rchar:")
    report = flowschema.validate_file(files, Flight, "ray", address=address, invalid_out=out, progress=False)
    print(json.dumps({"read": proc("io", "rchar:") - before, "rows": report.rows,
                      "peak_mb": proc("status", "VmHWM:") / 1024}))
''')


def test_the_driver_stays_off_the_data_path(connected, flights, tmp_path):
    paths = write_set(pd.concat([flights] * 2, ignore_index=True), tmp_path / "in", ".csv", files=8)
    copies = [tmp_path / "in" / f"copy{number}-{path.name}" for number in range(3) for path in paths]
    for path, copy in zip(paths * 3, copies):
        shutil.copyfile(path, copy)
    environment = {**os.environ, "RAY_AUTH_MODE": "token", "PYTHONPATH": os.getcwd()}
    runs = {}
    for scale, files in [(1, paths), (4, paths + copies)]:
        result = subprocess.run(
            [sys.executable, "-c", DRIVER, connected["address"], json.dumps([str(path) for path in files]),
             str(paths[0]), str(tmp_path / f"bad{scale}")], capture_output=True, text=True, timeout=300,
            env=environment, check=True)
        runs[scale] = json.loads(result.stdout.strip().splitlines()[-1])
        runs[scale]["input"] = sum(path.stat().st_size for path in files)
    assert runs[4]["rows"] == 4 * runs[1]["rows"] == 4 * 2 * len(flights)
    for run in runs.values():
        assert run["read"] < run["input"] / 50, runs  # counts and the sample only: no data
    assert abs(runs[4]["peak_mb"] - runs[1]["peak_mb"]) < 50, runs
