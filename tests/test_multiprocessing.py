"""MultiProcessingExecutor with real worker processes: faults, Ctrl-C, models from __main__,
parameters. The equality cases it shares with every executor live in the other test modules."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import flowschema
from flowschema.executor.multiprocessing import (
    MultiProcessingExecutor,
    MultiprocessingExecutor,
    WorkerCrashError,
    available_cpus,
)
from tests.faulty import Faulty

FRAME = pd.DataFrame({"n": list(range(200)) + [-1] + list(range(200, 400))})


def sync_result(context=None):
    return FRAME.flowschema.validate(Faulty, "sync", context=context)


def assert_same_result(checked, expected):
    pd.testing.assert_series_equal(checked[flowschema.VALID_COLUMN], expected[flowschema.VALID_COLUMN])
    assert checked[flowschema.ERRORS_COLUMN].tolist() == expected[flowschema.ERRORS_COLUMN].tolist()


def wait_for(path, timeout=300):
    """Wait until ``path`` exists: for something that will happen, however loaded the machine (a
    pool's first chunk took over 30 s under make test-shared with other work running)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def validate_interrupted(frame, executor, tmp_path) -> None:
    """Validate ``frame`` and press Ctrl-C (SIGINT to the main thread) once the first row started.

    Every row waits for a file that appears only after the interrupt, so the run is certainly
    still going when Ctrl-C comes, however slow the machine.
    """
    context = {"started": str(tmp_path / "started"), "hold": str(tmp_path / "release")}
    main = threading.main_thread().ident

    def interrupt_when_started():
        try:
            wait_for(context["started"])
        except AssertionError:  # never started: let the rows finish (the test fails) rather than hang
            Path(context["hold"]).touch()
            raise
        signal.pthread_kill(main, signal.SIGINT)

    # Ctrl-C as in a terminal, whatever handler an earlier test's library left in this process
    # (under make test-shared the main thread took the SIGINT and raised nothing, for 20 minutes)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupter = threading.Thread(target=interrupt_when_started)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            frame.flowschema.validate(Faulty, executor, context=context)
    finally:
        interrupter.join()
        Path(context["hold"]).touch()  # lets anything that survived the interrupt finish
        signal.signal(signal.SIGINT, previous)


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead too
        return stat.read().split()[2] != "Z"


def test_alias_and_available_cpus():
    assert MultiprocessingExecutor is MultiProcessingExecutor
    assert 1 <= available_cpus() <= os.cpu_count()
    with MultiProcessingExecutor(Faulty) as executor:
        assert executor.max_workers == available_cpus()


def test_workers_are_reused_across_calls_and_closed():
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=50) as executor:
        FRAME.flowschema.validate(Faulty, executor)
        pids = executor.worker_pids()
        assert len(pids) == 2
        FRAME.flowschema.validate(Faulty, executor)
        assert executor.worker_pids() == pids
    assert not any(is_running(pid) for pid in pids)


def test_a_worker_that_exits_mid_run_is_retried(tmp_path):
    context = {"exit_marker": str(tmp_path / "exited")}
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=20) as executor:
        checked = FRAME.flowschema.validate(Faulty, executor, context=context)
        assert os.path.exists(context["exit_marker"])  # a worker really died
        assert_same_result(checked, sync_result({"exit_marker": context["exit_marker"]}))
        assert len(checked) == len(FRAME)


def test_a_chunk_that_always_kills_its_worker_fails_naming_its_rows():
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=20) as executor:
        with pytest.raises(WorkerCrashError, match=r"died 3 times validating rows 200\.\.219"):
            FRAME.flowschema.validate(Faulty, executor, context={"always_exit": True})
        assert_same_result(FRAME.iloc[:200].flowschema.validate(Faulty, executor), sync_result().iloc[:200])


def test_a_worker_killed_from_outside_loses_no_rows(tmp_path):
    context = {"started": str(tmp_path / "started"), "delay": 0.002}
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=20) as executor:
        executor.start()
        victim = executor.worker_pids()[0]

        def kill_when_started():
            wait_for(context["started"])
            os.kill(victim, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_started)
        killer.start()
        frame = FRAME[FRAME["n"] != -1]
        checked = frame.flowschema.validate(Faulty, executor, context=context)
        killer.join()
        assert not is_running(victim) and victim not in executor.worker_pids()
        assert_same_result(checked, frame.flowschema.validate(Faulty, "sync"))


def test_ctrl_c_stops_the_workers_and_the_executor_stays_usable(tmp_path):
    frame = FRAME[FRAME["n"] != -1]
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=10) as executor:
        executor.start()
        pids = executor.worker_pids()
        validate_interrupted(frame, executor, tmp_path)
        assert not any(is_running(pid) for pid in pids)
        assert executor.worker_pids() == []
        assert_same_result(frame.flowschema.validate(Faulty, executor), frame.flowschema.validate(Faulty, "sync"))


def test_a_model_defined_in_main_works(tmp_path):
    script = tmp_path / "interactive.py"
    script.write_text(textwrap.dedent('''
        import json
        import pandas as pd
        from pydantic import BaseModel, field_validator
        import flowschema

        class Reading(BaseModel):  # lives only in __main__, like a notebook cell's class
            sensor: str
            value: float

            @field_validator("value")
            @classmethod
            def in_range(cls, value):
                if not 0 <= value <= 100:
                    raise ValueError("out of range")
                return value

        if __name__ == "__main__":
            frame = pd.DataFrame({"sensor": ["a", "b", None], "value": [1.5, 250.0, 3.0]})
            checked = frame.flowschema.validate(Reading, "multiprocessing", max_workers=2, compression="lz4")
            print(json.dumps([checked["_fs_valid"].tolist(),
                              [[e["type"] for e in errors] for errors in checked["_fs_errors"]]]))
    '''))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout) == [[True, False, False], [[], ["value_error"], ["string_type"]]]


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"max_workers": 0}, ValueError, "max_workers must be a positive int"),
        ({"max_workers": 1.5}, TypeError, "max_workers must be a positive int"),
        ({"chunksize": -1}, ValueError, "chunksize must be a positive int"),
        ({"compression": "zstd"}, ValueError, r"compression must be one of \(None, 'lz4'\), got 'zstd'"),
    ],
)
def test_bad_parameters_name_themselves(options, error, message):
    with pytest.raises(error, match=message):
        MultiProcessingExecutor(Faulty, **options)
    with pytest.raises(error, match=message):
        FRAME.flowschema.validate(Faulty, "multiprocessing", **options)


def test_automatic_chunksize_gives_every_worker_work():
    executor = MultiProcessingExecutor(Faulty, max_workers=2)
    assert executor.chunksize_for(100) == 13
    assert executor.chunksize_for(10**7) == 5_000
    assert MultiProcessingExecutor(Faulty, chunksize=1).chunksize_for(10**7) == 1


def test_chunksize_one_still_works():
    frame = FRAME.iloc[:30]
    checked = frame.flowschema.validate(Faulty, "multiprocessing", chunksize=1)
    assert_same_result(checked, frame.flowschema.validate(Faulty, "sync"))


def test_run_reads_lazily_with_a_bounded_number_in_flight():
    read = []

    def records():
        for number in range(100_000):
            read.append(number)
            yield {"n": number}

    with MultiProcessingExecutor(Faulty, max_workers=2) as executor:
        entries = executor.run(records())
        first = [next(entries) for _ in range(3)]
        assert [entry["position"] for entry in first] == [0, 1, 2]
        assert len(read) <= executor.max_inflight * executor.run_chunksize + executor.run_chunksize
        entries.close()
