"""Executors decide where chunks are validated; this module finds one by name.

Import paths are a published API: ``flowschema.executor.sync_fifo``,
``flowschema.executor.multiprocessing`` and ``flowschema.executor.ray``.
Executors built by name for ``df.flowschema.validate`` are kept and reused by later calls
with the same name, model and options (the ``MAX_SHARED_EXECUTORS`` most recently used: a
notebook that redefines its model in every cell run must not pile up worker pools), and closed
when the interpreter exits or ``flowschema.close()`` is called. A Ray that FlowSchema started
lives as long, whichever executor started it.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import sys
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from pydantic import BaseModel

from flowschema.executor.base import BaseExecutor

__all__ = [
    "EXECUTOR_NAMES",
    "MAX_SHARED_EXECUTORS",
    "BaseExecutor",
    "close",
    "close_shared",
    "executor_class",
    "shared_executor",
]

#: executor name -> (module, class), imported on first use (so Ray is imported only for "ray")
_EXECUTORS: dict[str, tuple[str, str]] = {
    "sync": ("flowschema.executor.sync_fifo", "SyncFifoExecutor"),
    "multiprocessing": ("flowschema.executor.multiprocessing", "MultiProcessingExecutor"),
    "ray": ("flowschema.executor.ray", "RayExecutor"),
}
EXECUTOR_NAMES = tuple(_EXECUTORS)

#: executors kept for reuse by name; the least recently used beyond this many are closed
MAX_SHARED_EXECUTORS = 4

_shared: OrderedDict[Hashable, BaseExecutor] = OrderedDict()


def executor_class(name: str) -> type[BaseExecutor]:
    """The executor class registered under ``name`` (``"sync"``, ``"multiprocessing"``, ``"ray"``)."""
    if name not in _EXECUTORS:
        raise ValueError(
            f"unknown executor {name!r}: use one of {', '.join(map(repr, EXECUTOR_NAMES))}, "
            "or pass an executor instance"
        )
    module_name, class_name = _EXECUTORS[name]
    return getattr(importlib.import_module(module_name), class_name)


def check_options(cls: type[BaseExecutor], options: dict[str, Any]) -> None:
    """Raise a TypeError naming any option ``cls`` does not take."""
    accepted = [name for name in inspect.signature(cls).parameters if name != "schema_model"]
    unknown = [name for name in options if name not in accepted]
    if unknown:
        raise TypeError(
            f"{cls.__name__} does not take the option(s) {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted)}"
        )


def shared_executor(name: str, model: type[BaseModel], options: dict[str, Any]) -> tuple[BaseExecutor, bool]:
    """Build (or reuse) the executor ``name`` for ``model`` with ``options``.

    Returns the executor and whether it is shared (kept for later calls). Options that cannot
    be hashed give a private executor the caller must close.
    """
    cls = executor_class(name)
    check_options(cls, options)
    key = (name, model, tuple(sorted(options.items())))
    try:
        executor = _shared.get(key)
    except TypeError:  # an unhashable option value: build one for this call only
        return cls(model, **options), False
    if executor is None:
        executor = _shared[key] = cls(model, **options)
        while len(_shared) > MAX_SHARED_EXECUTORS:
            _shared.popitem(last=False)[1].close()
    _shared.move_to_end(key)
    return executor, True


def close_shared(name: str | None = None) -> None:
    """Close the executors kept for reuse (only those called ``name``, when given)."""
    for key in [key for key in _shared if name is None or key[0] == name]:
        _shared.pop(key).close()


@atexit.register
def close() -> None:
    """Close every executor kept for reuse and end the Ray FlowSchema started in this process.

    Called at the interpreter's exit; call it yourself to free workers and Ray sooner (the next
    validation starts them again).
    """
    close_shared()
    ray_executor = sys.modules.get("flowschema.executor.ray")  # Ray is imported only if it was used
    if ray_executor is not None:
        ray_executor.shutdown_ray()
