"""``BaseExecutor``: where chunks run. One method to implement, ``map_chunks``.

An executor only decides *where* ``validate_chunk`` runs. The accessor talks to it through
``map_chunks``; the original FlowSchema streaming interface, ``run``, is built on that same
method here, so every executor gets it for free.
"""

from __future__ import annotations

import math
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from flowschema.chunk import Chunk, record_chunks
from flowschema.validation import ChunkResult, ValidationOptions

__all__ = [
    "COLUMNAR_CHUNKSIZE",
    "BaseExecutor",
    "auto_chunksize",
    "check_chunksize",
    "check_count",
    "check_model",
    "check_positive_int",
    "check_timeout",
]

#: rows per chunk for executors that ship chunks to workers: a few tens of milliseconds of work
AUTO_CHUNKSIZE = 5_000
#: rows per chunk on the columnar engine: distinct values repeat more in bigger chunks, and a
#: chunk is still tens of milliseconds of work
COLUMNAR_CHUNKSIZE = 100_000



def check_model(model: Any) -> type[BaseModel]:
    """Return ``model`` if it is a pydantic ``BaseModel`` subclass, else raise a TypeError."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    if isinstance(model, BaseModel):
        hint = f"pass the class {type(model).__name__}, not an instance of it"
    else:
        hint = "define a class that inherits from pydantic.BaseModel and pass that class"
    raise TypeError(f"schema model must be a pydantic BaseModel subclass, got {model!r}: {hint}")


def check_positive_int(name: str, value: Any, none_means: str | None = None) -> int | None:
    """Return ``value`` if it is a positive int (or None, when ``none_means`` says what None
    does), else raise a TypeError or ValueError naming the parameter.

    >>> check_positive_int("chunksize", 0, "automatic")
    Traceback (most recent call last):
    ValueError: chunksize must be a positive int or None (automatic), got 0
    """
    if value is None and none_means is not None:
        return None
    expected = f"a positive int or None ({none_means})" if none_means else "a positive int"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be {expected}, got {value}")
    return value


def check_count(name: str, value: Any) -> int:
    """Return ``value`` if it is an int >= 0, else raise a TypeError or ValueError naming it.

    >>> check_count("pages", -1)
    Traceback (most recent call last):
    ValueError: pages must be an int >= 0, got -1
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value}")
    return value


def check_timeout(timeout: Any) -> float | None:
    """Return ``timeout`` (seconds per chunk) if it is None or a positive number, else raise.

    >>> check_timeout(0)
    Traceback (most recent call last):
    ValueError: timeout must be a positive number of seconds or None (no limit), got 0
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a positive number of seconds or None (no limit), got {timeout!r}")
    if not timeout > 0 or timeout == float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds or None (no limit), got {timeout}")
    return float(timeout)


def check_chunksize(chunksize: Any) -> int | None:
    """Return ``chunksize`` if it is None (automatic) or a positive int, else raise."""
    return check_positive_int("chunksize", chunksize, "automatic")


def auto_chunksize(rows: int, workers: int, largest: int = AUTO_CHUNKSIZE) -> int:
    """Rows per chunk for ``rows`` rows on ``workers`` workers: ``largest``, or fewer so that
    every worker gets about four chunks.

    >>> auto_chunksize(100, 2), auto_chunksize(10**7, 2)
    (13, 5000)
    """
    return max(1, min(largest, math.ceil(rows / (4 * workers))))


class BaseExecutor(ABC):
    """Runs ``validate_chunk`` over a stream of chunks for one schema model.

    Subclasses implement ``map_chunks``; ``close`` frees whatever they hold. Executors are
    context managers.
    """

    #: the name ``df.flowschema.validate(executor=...)`` knows this executor by
    name: str = ""
    #: rows per chunk when the caller gives no chunksize (a few thousand rows fit the CPU caches)
    default_chunksize: int = 2_000
    #: records per chunk in ``run()``
    run_chunksize: int = 1
    #: chunks read from the input but not yet yielded, at most
    max_inflight: int = 1
    #: whether ``validate_chunk`` runs in this process (user validators' garbage is then this
    #: process's to collect after each chunk); executors with workers say False
    in_process: bool = True

    def __init__(self, schema_model: type[BaseModel], chunksize: int | None = None) -> None:
        self.schema_model = check_model(schema_model)
        self.chunksize = check_chunksize(chunksize)

    @abstractmethod
    def map_chunks(self, chunks: Iterable[Chunk], options: ValidationOptions) -> Iterator[ChunkResult]:
        """Validate each chunk with ``validate_chunk`` and yield the results in input order.

        ``chunks`` may be endless: read it lazily, keeping only a bounded number in flight.
        """

    def chunksize_for(self, rows: int, columnar: bool = False) -> int:
        """The rows per chunk for a frame of ``rows`` rows (on the columnar engine: bigger)."""
        return self.chunksize or (COLUMNAR_CHUNKSIZE if columnar else self.default_chunksize)

    def run(self, records: Iterable[Mapping]) -> Iterator[dict]:
        """Validate records (dicts) lazily and yield one entry per record, in FIFO order.

        Each entry is a dict with ``id`` (a fresh UUID4 string), ``position`` (0-based),
        ``status`` (``"validated"`` or ``"failed"``), ``raw_data`` (the record),
        ``validated_data`` (the model's ``model_dump()`` or None), ``errors`` (pydantic's error
        dicts, empty when valid) and ``metadata`` (a dict).

        >>> from pydantic import BaseModel
        >>> from flowschema.executor.sync_fifo import SyncFifoExecutor
        >>> class Point(BaseModel):
        ...     x: int
        >>> [entry["status"] for entry in SyncFifoExecutor(Point).run([{"x": 1}, {"x": "a"}])]
        ['validated', 'failed']
        """
        in_flight: deque[Chunk] = deque()

        def chunks() -> Iterator[Chunk]:
            for chunk in record_chunks(records, self.chunksize or self.run_chunksize):
                in_flight.append(chunk)
                yield chunk

        for result in self.map_chunks(chunks(), ValidationOptions(want_values=True, dump_values=True)):
            chunk = in_flight.popleft()
            for offset, record in enumerate(chunk.records or ()):
                errors = result.failed.get(offset, ())
                yield {
                    "id": str(uuid.uuid4()),
                    "position": chunk.start + offset,
                    "status": "failed" if errors else "validated",
                    "raw_data": record,
                    "validated_data": result.values[offset],
                    "errors": errors,
                    "metadata": {},
                }

    def close(self) -> None:
        """Free the resources this executor holds (worker processes, a Ray it started)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.schema_model.__name__})"
