"""Bounded, clean and clear (issue 11): hostile payloads, killed parents, runaway validators,
files left behind and bad arguments. The crash and kill cases run in child processes, checked by
pid."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, field_validator

import flowschema
from flowschema import ChunkTimeoutError, DataFileError, WorkerCrashError
from flowschema.executor.lifeline import identity, is_running
from flowschema.executor.multiprocessing import MultiProcessingExecutor
from flowschema.transport import TransportError, decode_chunk, decode_result, packb
from tests.faulty import Faulty
from tests.oracle import assert_exactly_pydantic
from tests.test_multiprocessing import wait_for


class Anything(BaseModel):
    value: Any
    n: int


def test_a_tuple_nested_deeper_than_any_extension_travels_to_every_executor(executor):
    deep: Any = ()
    for _ in range(200):
        deep = (deep,)
    frame = pd.DataFrame({"value": pd.Series([deep, deep], dtype=object), "n": [1, "x"]})
    checked = frame.flowschema.validate(Anything, executor)
    assert_exactly_pydantic(frame, Anything, checked)


def result_message(start, size, offsets, counts, errors, values=None, error_kinds=(0,), inputs=None):
    kinds = [["t", ("a",), "m", None]]
    packed = [np.array(numbers, dtype="<i4").tobytes() for numbers in (offsets, counts, errors)]
    inputs = [None] * len(error_kinds) if inputs is None else inputs
    return b"\x00" + packb([start, size, kinds, np.array(error_kinds, dtype="<i4").tobytes(), inputs, *packed,
                             values, "rows"])


@pytest.mark.parametrize(("message", "match"), [
    (result_message(0, 3, [-1], [1], [0]), "row offset -1"),
    (result_message(0, 3, [99], [1], [0]), "row offset 99"),
    (result_message(0, 3, [1, 1], [1, 1], [0, 0]), "row offset 1"),
    (result_message(0, 3, [0], [0], []), "error count 0"),
    (result_message(0, 3, [0], [1], [0], error_kinds=[5]), "error kind out of range"),
    (result_message(0, 3, [0], [1], [5]), "error reference out of range"),
    (result_message(0, 3, [0], [1], [0], inputs=[]), "distinct errors and their inputs differ"),
    (result_message(-4, 3, [0], [1], [0]), "start is -4"),
    (result_message(0, 3, [0], [1], [0], values=[None]), "values do not match"),
    (result_message(0, 3, [0, 2], [1], [0]), "offsets and error counts differ"),
    (result_message(0, 3, [0], [2], [0]), "error counts do not add up"),
])
def test_worker_results_are_bounds_checked(message, match):
    with pytest.raises(TransportError, match=match):
        decode_result(message)


def test_a_chunk_that_claims_too_many_rows_is_refused():
    message = {"start": 0, "size": 10**12, "names": [], "columns": [], "arrow": None}
    with pytest.raises(TransportError, match="would exceed MAX_PAYLOAD_BYTES"):
        decode_chunk(b"\x00" + packb(message))


class Item(BaseModel):
    a: int
    b: str


def test_a_csv_with_duplicate_header_names_is_refused_from_its_raw_header(tmp_path):
    (tmp_path / "dup.csv").write_text("a,b,a\n1,x,notanint\n")
    with pytest.raises(DataFileError, match=r"duplicate column names in its header: \['a'\]"):
        flowschema.validate_file(tmp_path / "dup.csv", Item, progress=False)
    (tmp_path / "real.csv").write_text("a,b,a.1\n1,x,2\n")  # a real column may be named a.1
    assert flowschema.validate_file(tmp_path / "real.csv", Item, progress=False).invalid == 0
    result = cli("validate", str(tmp_path / "dup.csv"), "--model", "tests.test_reliability:Item")
    assert result.returncode == 3 and "duplicate column names" in result.stderr


def cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowschema", *args], capture_output=True, text=True, timeout=180,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": os.getcwd(), **env})


def test_a_model_module_that_exits_on_import_is_a_usage_error(tmp_path):
    (tmp_path / "exits.py").write_text("raise SystemExit(0)\n")
    pd.DataFrame({"a": [1], "b": ["x"]}).to_csv(tmp_path / "rows.csv", index=False)
    result = cli("validate", "rows.csv", "--model", "exits:Item", cwd=tmp_path)
    assert result.returncode == 2 and "cannot import module 'exits'" in result.stderr and "SystemExit" in result.stderr


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda frame: frame.flowschema.validate(Item, strict="yes"), TypeError, "strict must be None"),
    (lambda frame: flowschema.validate_iter(5, Item), TypeError, "takes an iterable of DataFrames, got int"),
    (lambda frame: frame.flowschema.validate(Item).flowschema.to_html("x.html", pages=-1), ValueError,
     "pages must be an int >= 0"),
    (lambda frame: frame.flowschema.validate(Item).flowschema.assert_valid(max_errors=-1), ValueError,
     "max_errors must be an int >= 0"),
    (lambda frame: frame.flowschema.validate(Item, "multiprocessing", timeout=0), ValueError,
     "timeout must be a positive number"),
])
def test_bad_arguments_fail_before_any_work(call, error, match):
    with pytest.raises(error, match=match):
        call(pd.DataFrame({"a": [1], "b": ["x"]}))


def test_bad_file_arguments(tmp_path, capsys):
    pd.DataFrame({"a": [1], "b": ["x"]}).to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(TypeError, match="invalid_out must be a path"):
        flowschema.validate_file(tmp_path / "rows.csv", Item, invalid_out=123)
    with pytest.raises(ValueError, match="is a directory"):
        flowschema.validate_file(tmp_path, Item)
    with pytest.raises(TypeError, match="dashboard must be True, False"):
        flowschema.validate_file(tmp_path / "rows.csv", Item, dashboard=1, progress=True)
    assert capsys.readouterr().err == ""  # no stray progress bar before the error
    (tmp_path / "text.parquet").write_text("a,b\n1,x\n")
    result = cli("validate", str(tmp_path / "text.parquet"), "--model", "tests.test_reliability:Item")
    assert result.returncode == 3 and "is not a Parquet file" in result.stderr
    result = cli("validate", str(tmp_path), "--model", "tests.test_reliability:Item")
    assert result.returncode == 2 and "is a directory" in result.stderr


# -- processes and files left behind ------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, grandchildren...), found through /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_bytes().rpartition(b")")[2].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def wait_until_gone(processes: list, timeout: float = 20) -> list:
    deadline = time.monotonic() + timeout
    while any(map(is_running, processes)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [process for process in processes if is_running(process)]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_a_killed_command_and_nothing_is_left_behind(tmp_path, sig):
    pd.DataFrame({"n": range(200)}).to_csv(tmp_path / "rows.csv", index=False)
    started, hold = tmp_path / "started", tmp_path / "hold"
    command = subprocess.Popen(
        [sys.executable, "-m", "flowschema", "validate", "rows.csv", "--model", "tests.faulty:Held", "--executor",
         "multiprocessing", "--workers", "2", "--chunksize", "50", "--invalid-out", "bad.parquet"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.getcwd(), "FLOWSCHEMA_TEST_STARTED": str(started),
                           "FLOWSCHEMA_TEST_HOLD": str(hold)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(str(started))
        spawned = [identity(pid) for pid in descendants(command.pid)]
        assert len(spawned) >= 3  # the fork server, two workers (and the resource tracker)
        command.send_signal(sig)
        _, stderr = command.communicate(timeout=60)
        assert wait_until_gone(spawned) == [], f"still running after {sig.name}: {spawned}"
        if sig == signal.SIGTERM:
            assert command.returncode == 3 and b"interrupted" in stderr
        assert not [path for path in tmp_path.iterdir() if ".partial-" in path.name]
    finally:
        hold.touch()
        command.kill()
    if sig == signal.SIGKILL:  # what a run killed mid-write leaves, the next run to the same target removes
        (tmp_path / f".bad.parquet.partial-{command.pid}").write_bytes(b"half a file")
        (tmp_path / f".bad.parquet.partial-{os.getpid()}x").write_bytes(b"not a pid: not ours to remove")
        flowschema.validate_file(tmp_path / "rows.csv", Faulty, invalid_out=tmp_path / "bad.parquet", progress=False)
        assert [path.name for path in tmp_path.iterdir() if ".partial-" in path.name] == [
            f".bad.parquet.partial-{os.getpid()}x"]


#: what a process on the small disk runs: validate_file writing its invalid rows to the disk, then
#: the RunError it raised and what the disk holds afterwards
ON_SMALL_DISK = """
import os, sys
import flowschema
from flowschema import RunError
from tests.faulty import Faulty

source, disk = sys.argv[1:]
try:
    flowschema.validate_file(source, Faulty, invalid_out=os.path.join(disk, "bad.parquet"), chunksize=2_000,
                             progress=False)
except RunError as exc:
    print(f"RunError: {exc}")
print("left on the disk:", sorted(os.listdir(disk)))
"""


def validate_onto_a_small_disk(tmp_path: Path, rows: pd.DataFrame, read_only: bool = False) -> str:
    """What ``ON_SMALL_DISK`` prints, run with a 256 KiB tmpfs mounted for it alone: in a private
    user and mount namespace (``unshare``), so no root is needed and the mount ends with the
    process. Without user namespaces this fails; it never skips."""
    rows.to_csv(tmp_path / "rows.csv", index=False)
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = 'mount -t tmpfs -o size=256k tmpfs "$1"' + (' && mount -o remount,ro "$1"' if read_only else "")
    shell = f'{mount} && exec "$2" -c "$3" "$4" "$1"'
    command = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", shell,
               "sh", str(disk), sys.executable, ON_SMALL_DISK, str(tmp_path / "rows.csv")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                          cwd=Path(__file__).parents[1])
    assert done.returncode == 0, f"the run on the small disk failed (it needs user namespaces):\n{done.stderr}"
    return done.stdout


def run_error(printed: str) -> str:
    """The RunError line of what ``ON_SMALL_DISK`` printed; the check fails when it raised none."""
    return next(line for line in printed.splitlines() if line.startswith("RunError: "))


def test_a_full_disk_keeps_the_original_error_and_leaves_no_partial_file(tmp_path):
    rows = pd.DataFrame({"n": [f"not a number {i:06d}" for i in range(20_000)]})
    printed = validate_onto_a_small_disk(tmp_path, rows)
    assert "No space left on device" in run_error(printed)
    assert "left on the disk: []" in printed


def test_a_read_only_target_keeps_the_original_error(tmp_path):
    printed = validate_onto_a_small_disk(tmp_path, pd.DataFrame({"n": ["x", 1]}), read_only=True)
    assert "Read-only file system" in run_error(printed)


# -- runaway validators --------------------------------------------------------------------------


def test_a_chunk_over_its_timeout_stops_the_call_naming_its_rows_and_the_executor_stays_usable(tmp_path):
    frame = pd.DataFrame({"n": range(1, 61)})
    context = {"started": str(tmp_path / "started"), "hold": str(tmp_path / "never")}
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=20, timeout=0.5) as executor:
        with pytest.raises(ChunkTimeoutError, match=r"rows 0\.\.19 .* took more than timeout=0.5 s"):
            frame.flowschema.validate(Faulty, executor, context=context)
        assert executor.worker_pids() == []  # the stuck workers were stopped
        checked = frame.flowschema.validate(Faulty, executor)
        assert checked[flowschema.VALID_COLUMN].sum() == 52


class Hungry(BaseModel):
    n: int

    @field_validator("n")
    @classmethod
    def count_and_die(cls, value: int, info) -> int:
        if value == 13:
            marker = Path(info.context["tries"])
            with marker.open("a") as tries:
                tries.write("x")
            os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's OOM killer does
        return value


def test_a_worker_killed_by_sigkill_is_retried_once_and_the_error_says_so(tmp_path):
    tries = tmp_path / "tries"
    with MultiProcessingExecutor(Hungry, max_workers=2, chunksize=10) as executor:
        with pytest.raises(WorkerCrashError, match=r"rows 10\.\.19 .*killed by SIGKILL: possibly out of memory"):
            pd.DataFrame({"n": range(40)}).flowschema.validate(Hungry, executor, context={"tries": str(tries)})
    assert tries.read_text() == "xx"  # the first death, one retry alone to pin it on this chunk: no more


def test_a_ray_task_over_its_timeout_is_cancelled_and_the_executor_stays_usable(local_ray, tmp_path):
    from flowschema.executor.ray import RayExecutor

    frame = pd.DataFrame({"n": range(1, 41)})
    context = {"started": str(tmp_path / "started"), "hold": str(tmp_path / "never")}
    with RayExecutor(Faulty, chunksize=20, timeout=1) as executor:
        with pytest.raises(ChunkTimeoutError, match=r"rows 0\.\.19 .* took more than timeout=1.0 s"):
            frame.flowschema.validate(Faulty, executor, context=context)
        executor.timeout = None  # Ray restarts the cancelled workers: no clock on their start-up here
        assert frame.flowschema.validate(Faulty, executor)[flowschema.VALID_COLUMN].sum() == 35


def test_a_test_session_leaves_no_ray_temp_dir_behind():
    """A pytest session that starts a local Ray removes its private Ray temp dir at the end (it
    used to leave 4-5 MB behind in the system temp dir on every run)."""
    parent = tempfile.mkdtemp(prefix="fsp", dir="/tmp")  # short: Ray's socket paths are limited
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "tests/test_exactness.py::test_column_labels_travel_exactly"],
            capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "FLOWSCHEMA_TEST_TMP": parent, "FLOWSCHEMA_EXECUTORS": "sync,ray"})
        assert result.returncode == 0, result.stdout[-3000:]
        assert "2 passed" in result.stdout
        assert os.listdir(parent) == []
    finally:
        shutil.rmtree(parent, ignore_errors=True)
