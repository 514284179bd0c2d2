"""``MultiProcessingExecutor``: validate chunks on all the cores of this machine.

Chunks travel to a pool of worker processes as msgpack (optionally LZ4-compressed) bytes and
results come back the same way. Workers start with ``forkserver`` (``spawn`` where that does not
exist), never plain ``fork``, so threads in the parent (a notebook kernel has several) are safe.
The model travels by value with cloudpickle, so a model defined in a notebook cell or in
``__main__`` works. The pool is kept across calls until ``close()``.

Like any program using worker processes, a script must create the executor under
``if __name__ == "__main__":``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import cloudpickle
from pydantic import BaseModel

from flowschema.errors import ChunkTimeoutError, WorkerCrashError
from flowschema.executor._pool import InFlight, map_in_order, validate_payload
from flowschema.executor.base import (
    AUTO_CHUNKSIZE,
    COLUMNAR_CHUNKSIZE,
    BaseExecutor,
    Chunk,
    auto_chunksize,
    check_positive_int,
    check_timeout,
)
from flowschema.executor.lifeline import ProcessIdentity, die_with, identity
from flowschema.shared_memory import Segments, pack_for_worker, remove_stale_segments
from flowschema.transport import check_compression
from flowschema.validation import ChunkResult, ValidationOptions

__all__ = ["MultiProcessingExecutor", "MultiprocessingExecutor", "WorkerCrashError", "available_cpus"]

#: how often a chunk whose worker died is tried again, on a fresh pool, before the call fails
MAX_RETRIES = 2


def available_cpus() -> int:
    """The CPUs this process may really use: its CPU affinity, capped by a cgroup v2 CPU quota.

    Containers and Binder often show the machine's cores but allow far fewer.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as limits:
            quota, period = limits.read().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus


# -- the worker side ----------------------------------------------------------------------------

_worker_model: type[BaseModel] | None = None


def _start_worker(pickled_model: bytes, parent: ProcessIdentity) -> None:
    global _worker_model
    # Ctrl-C is the parent's to handle (it stops the workers itself). Jupyter interrupts a kernel's
    # whole process group, which would otherwise kill idle workers and break the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(parent)  # killed parent, dead worker: nothing is left running
    _worker_model = cloudpickle.loads(pickled_model)


def _validate_payload(payload: bytes, options: bytes, compression: str | None) -> bytes:
    return validate_payload(_worker_model, payload, options, compression)


# -- the parent side ----------------------------------------------------------------------------


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The fork server forks the workers; it must die with this process too (if it is not running
    # yet: one started by someone else keeps its own preload list).
    context.set_forkserver_preload(["__main__", "flowschema.executor.forkserver_preload"])
    return context


class MultiProcessingExecutor(BaseExecutor):
    """Validate on a pool of worker processes, results in input order.

    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> with MultiProcessingExecutor(Point, max_workers=2, compression="lz4") as executor:
    ...     [entry["status"] for entry in executor.run([{"x": 1}, {"x": "a"}])]
    ['validated', 'failed']

    - ``max_workers``: worker processes; None uses ``available_cpus()``.
    - ``chunksize``: rows per chunk; None picks one (``auto_chunksize``: 5,000 rows on the rows
      engine, 100,000 on the columnar one, fewer for small frames so every worker gets work).
    - ``compression``: ``"lz4"`` or None, for chunks and results alike.
    - ``timeout``: seconds one chunk may take (None: no limit). A chunk still running then
      stops the call with ``ChunkTimeoutError`` naming its rows; the workers are restarted.
    """

    name = "multiprocessing"
    in_process = False
    run_chunksize = 100

    def __init__(
        self,
        schema_model: type[BaseModel],
        max_workers: int | None = None,
        chunksize: int | None = None,
        compression: str | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(schema_model, chunksize)
        self.max_workers = check_positive_int("max_workers", max_workers, "all usable CPUs") or available_cpus()
        self.compression = check_compression(compression)
        self.timeout = check_timeout(timeout)
        self._pickled_model = cloudpickle.dumps(self.schema_model)
        self._pool: ProcessPoolExecutor | None = None
        self._workers: dict[int, multiprocessing.process.BaseProcess] = {}  # of the current pool, by pid

    @property
    def max_inflight(self) -> int:
        """Chunks submitted but not yet consumed: enough to keep every worker busy, and bounded."""
        return 2 * self.max_workers

    def chunksize_for(self, rows: int, columnar: bool = False) -> int:
        largest = COLUMNAR_CHUNKSIZE if columnar else AUTO_CHUNKSIZE
        return self.chunksize or auto_chunksize(rows, self.max_workers, largest)

    def worker_pids(self) -> list[int]:
        """The process ids of the live worker processes (none before the first call)."""
        return [pid for pid, process in self._workers.items() if process.is_alive()]

    def start(self) -> MultiProcessingExecutor:
        """Start the worker processes now rather than on the first call (to time start-up apart)."""
        pool = self._ensure_pool()
        for future in [pool.submit(os.getpid) for _ in range(self.max_workers)]:
            future.result()
        self._workers.update(pool._processes)
        return self

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            remove_stale_segments()  # of earlier parents killed before they could free them
            self._pool = ProcessPoolExecutor(
                self.max_workers, mp_context=_context(), initializer=_start_worker,
                initargs=(self._pickled_model, identity(os.getpid())),
            )
        return self._pool

    def _submit(self, payload: bytes, options: bytes) -> Future:
        pool = self._ensure_pool()
        try:
            return pool.submit(_validate_payload, payload, options, self.compression)
        finally:  # the pool starts workers as it needs them, and forgets them once it is broken
            self._workers.update(getattr(pool, "_processes", None) or {})

    def map_chunks(self, chunks: Iterable[Chunk], options: ValidationOptions) -> Iterator[ChunkResult]:
        pickled_options = cloudpickle.dumps(options)  # a context object from a notebook cell travels by value

        def submit(payload: bytes) -> Future | None:
            try:
                return self._submit(payload, pickled_options)
            except BrokenProcessPool:  # a worker died: found submitting (None), recovered by wait
                return None

        def wait(in_flight: InFlight) -> bytes | None:
            chunk, _, future = in_flight[0]
            try:  # results come in order: the oldest chunk has been running at least since it became the oldest
                if future is None:
                    raise BrokenProcessPool("found broken while submitting")
                return future.result(timeout=self.timeout)
            except BrokenProcessPool:  # a worker died: found waiting for a result, or submitting
                self._recover(in_flight, pickled_options)
                return None
            except TimeoutError:
                raise ChunkTimeoutError(
                    f"validating rows {chunk.start}..{chunk.start + chunk.size - 1} (0-based positions) against "
                    f"{self.schema_model.__name__} took more than timeout={self.timeout} s; the workers were "
                    "stopped and no partial result is returned. A validator that hangs on these rows is the "
                    "usual cause: try them with executor='sync' and Ctrl-C to see where it is"
                ) from None

        def stop(in_flight: InFlight, exc: BaseException) -> None:
            if isinstance(exc, GeneratorExit):  # the consumer stopped early: drop what was not started
                for _, _, future in in_flight:
                    if future is not None:
                        future.cancel()
            else:  # Ctrl-C, a timeout or an error: no worker may outlive the call
                self._kill_pool()

        with Segments() as segments:  # reused chunk after chunk; the spare ones unlinked when the run ends
            yield from map_in_order(chunks, self.max_inflight,
                                    lambda chunk: pack_for_worker(chunk, self.compression, segments), submit, wait, stop)

    def _recover(self, in_flight: InFlight, options: bytes) -> None:
        """A worker died: retry the chunks in flight one at a time on fresh pools.

        Retrying alone pins the death on the chunk that causes it; that chunk gets ``MAX_RETRIES``
        more tries, or none if the kernel killed its worker (SIGKILL is what running out of
        memory looks like, and each try costs the machine as much), then the call fails naming
        its rows and how the worker died. The others go on normally.
        """
        self._kill_pool(broken=True)
        for position, (chunk, parcel, _) in enumerate(in_flight):
            deaths: list[int | None] = []
            while True:
                try:
                    future = self._submit(parcel.payload, options)
                    future.result()
                    break
                except BrokenProcessPool:
                    deaths.append(self._kill_pool(broken=True))
                if deaths[-1] == -signal.SIGKILL or len(deaths) > MAX_RETRIES:
                    raise WorkerCrashError(
                        f"a worker process died {len(deaths)} times validating rows {chunk.start}.."
                        f"{chunk.start + chunk.size - 1} (0-based positions) against {self.schema_model.__name__} "
                        f"({_how_it_died(deaths[-1])}); no partial result is returned. A validator that crashes "
                        "the interpreter or exhausts memory on these rows is the usual cause: try them with "
                        "executor='sync'"
                    )
            in_flight[position] = (chunk, parcel, future)

    def _kill_pool(self, broken: bool = False) -> int | None:
        """Kill the workers; return how one that had died already ended: its exit code, negative
        for the signal that killed it (the pool itself ends the others with SIGTERM when one dies,
        so SIGKILL, then any other code, tells the most), or None.

        A ``broken`` pool is ending its workers itself: it is left to finish (reading a worker's
        exit status at the same time as the pool's own thread garbles it) before any is read.
        """
        pool, self._pool = self._pool, None
        if pool is None:
            return None
        processes = list(self._workers.values())
        self._workers.clear()
        if not broken:
            for process in processes:
                if process.is_alive():
                    process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join()
        if not broken:
            return None
        died = [process.exitcode for process in processes]
        telling = sorted(died, key=lambda code: (code != -signal.SIGKILL, code == -signal.SIGTERM))
        return telling[0] if telling else None

    def close(self) -> None:
        """Stop the worker processes. The executor starts new ones if it is used again."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._workers.clear()

    def __repr__(self) -> str:
        return (f"MultiProcessingExecutor({self.schema_model.__name__}, max_workers={self.max_workers}, "
                f"chunksize={self.chunksize}, compression={self.compression!r}, timeout={self.timeout})")


def _how_it_died(exit_code: int | None) -> str:
    if exit_code is None:
        return "it vanished"
    if exit_code == -signal.SIGKILL:
        return "killed by SIGKILL: possibly out of memory, see the README on bounding worker memory"
    if exit_code < 0:
        return f"killed by {signal.Signals(-exit_code).name}"
    return f"it exited with code {exit_code}"


#: the spelling the original FlowSchema documentation uses in its table
MultiprocessingExecutor = MultiProcessingExecutor
