"""Chunks through shared memory (issue 19): the same answer as the sync executor, the pipe where
shared memory is missing, and no segment left behind on any path that drops a chunk."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field

import flowschema
from flowschema import shared_memory
from flowschema.executor.multiprocessing import MultiProcessingExecutor
from tests.faulty import Faulty
from tests.oracle import typed
from tests.test_multiprocessing import validate_interrupted, wait_for

ROWS = 20_000


class Reading(BaseModel):
    n: int = Field(ge=0)
    value: float = Field(le=900)
    label: str = Field(max_length=3)
    at: Any


def readings(rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "n": np.arange(rows) - 5,
        "value": rng.random(rows) * 1000,
        "label": pd.array([f"l{i % 2000}" for i in range(rows)], dtype="str"),
        "at": pd.Series(pd.date_range("2024-01-01", periods=rows, freq="s", tz="Europe/Paris")),
        "code": pd.Categorical([f"c{i % 5}" for i in range(rows)]),
    })


def our_segments(pid: int | None = None) -> list[str]:
    """The segments of this process (or of ``pid``) in /dev/shm."""
    prefix = f"fs_{pid or os.getpid()}_"
    return sorted(name for name in os.listdir(shared_memory.SHM_DIR) if name.startswith(prefix))


@pytest.fixture
def parcels(monkeypatch):
    """Every parcel the parent packs, recorded."""
    packed = []
    pack = shared_memory.pack_for_worker

    def recording(chunk, compression, segments):
        parcel = pack(chunk, compression, segments)
        packed.append(parcel.segment is not None)
        return parcel

    monkeypatch.setattr("flowschema.executor.multiprocessing.pack_for_worker", recording)
    return packed


@pytest.fixture(scope="module")
def pool():
    with MultiProcessingExecutor(Reading, max_workers=2, chunksize=3_000) as executor:
        yield executor


def test_chunks_travel_in_shared_memory_and_give_the_sync_answer(pool, parcels):
    frame = readings()
    checked = frame.flowschema.validate(Reading, pool)
    expected = frame.flowschema.validate(Reading)
    assert checked[flowschema.VALID_COLUMN].equals(expected[flowschema.VALID_COLUMN])
    assert typed(list(checked[flowschema.ERRORS_COLUMN])) == typed(list(expected[flowschema.ERRORS_COLUMN]))
    assert parcels and all(parcels)  # every chunk went through shared memory
    assert our_segments() == []


def test_a_run_reuses_its_segments_chunk_after_chunk(pool, monkeypatch):
    """A chunk's segment is filled again by a later chunk once its worker has answered: a run
    creates about as many segments as it has chunks in flight, not one per chunk."""
    names = []
    pack = shared_memory.pack_for_worker

    def recording(chunk, compression, segments):
        parcel = pack(chunk, compression, segments)
        names.append(parcel.segment.name)
        return parcel

    monkeypatch.setattr("flowschema.executor.multiprocessing.pack_for_worker", recording)
    frame = readings(3 * ROWS)
    checked = frame.flowschema.validate(Reading, pool)
    assert typed(list(checked[flowschema.ERRORS_COLUMN])) == \
        typed(list(frame.flowschema.validate(Reading)[flowschema.ERRORS_COLUMN]))
    assert len(names) == -(-3 * ROWS // 3_000)
    assert len(set(names)) <= pool.max_inflight + 1 < len(names)
    assert our_segments() == []  # the spare ones went with the run


@pytest.mark.parametrize("caller_enabled", [True, False])
def test_the_collector_is_paused_while_a_frame_comes_back_and_the_caller_keeps_theirs(pool, caller_enabled):
    """Thousands of error dicts per result: no collection over the parent's heap while a frame's
    results come in; between frames, and after, the collector is as the caller had it."""
    collections = []

    def record(phase, info):
        collections.append(phase)

    list(flowschema.validate_iter([readings(100)], Reading, pool, progress=False))  # imports done
    was_enabled = gc.isenabled()
    gc.callbacks.append(record)
    try:
        if not caller_enabled:
            gc.disable()
        stream = flowschema.validate_iter((readings() for _ in range(2)), Reading, pool, progress=False)
        first = next(stream)
        during_first = len(collections)
        assert gc.isenabled() is caller_enabled
        rest = list(stream)
        assert gc.isenabled() is caller_enabled
    finally:
        gc.callbacks.remove(record)
        if was_enabled:
            gc.enable()
    assert during_first == 0
    assert (~first[flowschema.VALID_COLUMN]).sum() > 10_000 and len(rest) == 1


def test_without_shared_memory_chunks_take_the_pipe(pool, parcels, monkeypatch):
    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shared_memory, "SharedMemory", no_room)
    frame = readings()
    checked = frame.flowschema.validate(Reading, pool)
    assert checked[flowschema.VALID_COLUMN].equals(frame.flowschema.validate(Reading)[flowschema.VALID_COLUMN])
    assert parcels and not any(parcels)


def test_no_room_to_reserve_a_segment_takes_the_pipe(pool, parcels, monkeypatch):
    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shared_memory.os, "posix_fallocate", full)
    frame = readings()
    checked = frame.flowschema.validate(Reading, pool)
    assert checked[flowschema.VALID_COLUMN].equals(frame.flowschema.validate(Reading)[flowschema.VALID_COLUMN])
    assert parcels and not any(parcels)
    assert our_segments() == []


def test_compression_takes_the_pipe():
    frame = readings(5_000)
    with MultiProcessingExecutor(Reading, max_workers=2, compression="lz4") as executor:
        checked = frame.flowschema.validate(Reading, executor)
    assert checked[flowschema.VALID_COLUMN].equals(frame.flowschema.validate(Reading)[flowschema.VALID_COLUMN])


def test_a_consumer_stopping_early_frees_the_segments_in_flight(pool):
    frames = (readings() for _ in range(5))
    stream = flowschema.validate_iter(frames, Reading, pool)
    next(stream)
    assert our_segments()  # the next chunks are in flight, in shared memory
    stream.close()
    assert our_segments() == []


def test_ctrl_c_frees_the_segments(tmp_path, parcels):
    frame = pd.DataFrame({"n": np.arange(30_000), "pad": np.zeros(30_000)})
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=5_000) as executor:
        validate_interrupted(frame, executor, tmp_path)
    assert any(parcels)
    assert our_segments() == []


def test_a_dead_worker_is_retried_from_the_same_segment_and_nothing_leaks(tmp_path, parcels):
    frame = pd.DataFrame({"n": [*range(10_000), -1, *range(10_000)], "pad": np.zeros(20_001)})
    context = {"exit_marker": str(tmp_path / "exited")}
    with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=4_000) as executor:
        checked = frame.flowschema.validate(Faulty, executor, context=context)
    assert (tmp_path / "exited").exists() and any(parcels)
    expected = frame.flowschema.validate(Faulty, context=context)
    assert checked[flowschema.VALID_COLUMN].equals(expected[flowschema.VALID_COLUMN])
    assert our_segments() == []


def test_a_parent_killed_with_sigkill_leaves_no_segment_for_long(tmp_path):
    """The killed parent's segments go: Python's resource tracker unlinks them, or the next
    executor started on the machine does."""
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(f'''
        import numpy as np, pandas as pd
        import flowschema
        from flowschema.executor.multiprocessing import MultiProcessingExecutor
        from tests.faulty import Faulty

        if __name__ == "__main__":
            frame = pd.DataFrame({{"n": np.arange(40_000), "pad": np.zeros(40_000)}})
            with MultiProcessingExecutor(Faulty, max_workers=2, chunksize=5_000) as executor:
                frame.iloc[:10].flowschema.validate(Faulty, executor)  # a clean run first
                print("clean", flush=True)
                frame.flowschema.validate(Faulty, executor, context={{"started": {str(tmp_path / "started")!r},
                                                                       "hold": {str(tmp_path / "never")!r}}})
    '''))
    child = subprocess.Popen([sys.executable, str(script)], cwd=os.getcwd(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        wait_for(str(tmp_path / "started"), timeout=120)
        assert our_segments(child.pid)  # its chunks are in shared memory
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    shared_memory.remove_stale_segments()
    assert our_segments(child.pid) == []


def test_a_run_says_nothing_about_leaked_shared_memory(tmp_path):
    script = tmp_path / "clean.py"
    script.write_text(textwrap.dedent('''
        import numpy as np, pandas as pd
        import flowschema
        from tests.test_shared_memory import Reading, readings

        if __name__ == "__main__":
            frame = readings()
            checked = frame.flowschema.validate(Reading, "multiprocessing", max_workers=2, chunksize=3_000)
            print(int(checked["_fs_valid"].sum()))
            flowschema.close()
    '''))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False,
                            cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "leaked" not in result.stderr and "resource_tracker" not in result.stderr, result.stderr[-2000:]


def test_stale_segments_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    stale = Path(shared_memory.SHM_DIR) / f"fs_{dead}_0"
    live = Path(shared_memory.SHM_DIR) / f"fs_{os.getpid()}_999999"
    stale.write_bytes(b"x")
    live.write_bytes(b"x")
    try:
        assert f"fs_{dead}_0" in shared_memory.remove_stale_segments()
        assert not stale.exists() and live.exists()
    finally:
        live.unlink()
        stale.unlink(missing_ok=True)


def test_a_ray_chunk_goes_to_the_object_store_once_its_buffers_as_arrays(local_ray):
    from flowschema.chunk import frame_chunks
    from flowschema.executor.ray import RayExecutor

    frame = readings(5_000)
    executor = RayExecutor(Reading)
    chunk = next(frame_chunks(frame, 5_000))
    parcel = executor._pack(chunk)
    head, buffers = local_ray.get(parcel.payload)
    assert isinstance(head, bytes) and len(head) < 5_000  # the values: none here but the categories
    assert sum(buffer.nbytes for buffer in buffers) >= 5_000 * (8 + 8 + 8)
    checked = frame.flowschema.validate(Reading, executor)
    assert checked[flowschema.VALID_COLUMN].equals(frame.flowschema.validate(Reading)[flowschema.VALID_COLUMN])
    executor.close()
