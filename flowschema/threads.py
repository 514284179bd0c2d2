"""Column work side by side in threads: reading a frame's columns and screening and deduplicating
a chunk's columns is done by numpy, pandas, pyarrow and polars kernels that release the GIL, so
the columns of a frame can use every core of the process. pydantic's validators never run here:
they run in the calling thread, in field order. (Deduplicating a column of Python objects reads
them: a user object's ``items()`` or iteration may then run in a pool thread.)

One pool per process, made at first use; a forked child starts without it. Worker processes of
the multiprocessing and Ray executors, and Ray Data's tasks, use one thread (``use_one_thread``):
their siblings fill the cores.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["column_threads", "in_threads", "use_one_thread"]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_one_thread = False


def column_threads() -> int:
    """The threads column work uses in this process: its CPUs, at most 4 (1 after ``use_one_thread``).

    >>> 1 <= column_threads() <= 4
    True
    """
    if _one_thread:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, cpus))


def use_one_thread() -> None:
    """From now on, column work in this process runs in the calling thread: a worker process that
    shares the machine's cores with its siblings."""
    global _one_thread
    _one_thread = True


def in_threads(function: Callable[[_Item], _Result], items: Iterable[_Item], threaded: bool = True
               ) -> Iterator[_Result]:
    """``function(item)`` for each item, in order, lazily: in the process's pool (``column_threads()``
    threads), a few items ahead of the caller, so that only a few results are held at once; in the
    calling thread when ``threaded`` is false or the process uses one thread. An exception of
    ``function`` is raised where its result is asked for; a caller that stops early waits for the
    items under way, so nothing runs on after it.

    >>> list(in_threads(abs, [-1, 2, -3]))
    [1, 2, 3]
    """
    threads = column_threads() if threaded else 1
    if threads < 2:
        yield from map(function, items)
        return
    pool = _shared_pool(threads)
    waiting = iter(items)
    pending: deque[Future] = deque(pool.submit(function, item) for _, item in zip(range(2 * threads), waiting))
    try:
        while pending:
            done = pending.popleft()
            for item in waiting:  # keep the pool busy: one more for the one taken
                pending.append(pool.submit(function, item))
                break
            yield done.result()
    finally:
        for future in pending:
            if not future.cancel():
                future.exception()  # waits; an error of a result nobody asked for is not raised


def _shared_pool(threads: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(threads, thread_name_prefix="flowschema-columns")
        return _pool


def _forget_pool() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # a forked child has neither the threads nor the lock's owner


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
