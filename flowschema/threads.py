"""Column work side by side in threads: reading a frame's columns and screening and deduplicating
a chunk's columns is done by numpy, pandas, pyarrow and polars kernels that release the GIL, so
the columns of a frame can use every core of the process. pydantic's validators never run here:
they run in the calling thread, in field order.

One pool per process, made at first use; a forked child starts without it. Worker processes of
the multiprocessing and Ray executors ask for one thread (their siblings fill the cores).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["column_threads", "in_threads"]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def column_threads() -> int:
    """The threads column work uses in this process: its CPUs, at most 4.

    >>> 1 <= column_threads() <= 4
    True
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, cpus))


def in_threads(function: Callable[[_Item], _Result], items: Iterable[_Item], threads: int | None = None) -> list[_Result]:
    """``[function(item) for item in items]``, in order, in up to ``threads`` threads (default
    ``column_threads()``; 1: in this thread). An exception of ``function`` is raised here.

    >>> in_threads(abs, [-1, 2, -3], threads=2)
    [1, 2, 3]
    """
    items = list(items)
    threads = column_threads() if threads is None else threads
    if threads < 2 or len(items) < 2:
        return list(map(function, items))
    return list(_shared_pool(threads).map(function, items))


def _shared_pool(threads: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(threads, column_threads()), thread_name_prefix="flowschema-columns")
        return _pool


def _forget_pool() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # a forked child has neither the threads nor the lock's owner


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
