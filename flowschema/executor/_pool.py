"""The in-flight loop every executor with workers runs: chunks packed and submitted ahead, results
taken in order, and every chunk's parcel (its shared memory) released on every path.

An executor gives four things: how a chunk is packed (``pack``: a ``Parcel``), how a payload is
sent to a worker (``submit``: a handle), how to wait for the oldest result (``wait``: its bytes,
or None to look again), and what to do when the loop ends by an exception (``stop``: cancel,
kill the workers). Only how a chunk travels and how a worker is reached differ between the
multiprocessing and Ray executors; the order, the bound on chunks in flight and the freeing of
what they hold are this one loop.
"""

from __future__ import annotations

import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from flowschema.chunk import Chunk
from flowschema.shared_memory import Parcel, received_chunk
from flowschema.threads import use_one_thread
from flowschema.transport import decode_result, encode_result
from flowschema.validation import ChunkResult, validate_chunk

__all__ = ["InFlight", "map_in_order", "validate_payload"]

#: the chunks submitted and not yet consumed, oldest first: each with its parcel and the handle of
#: its result (None while it could not be submitted: a broken pool)
InFlight = deque[tuple[Chunk, Parcel, Any]]


def map_in_order(chunks: Iterable[Chunk], limit: int, pack: Callable[[Chunk], Parcel],
                 submit: Callable[[bytes], Any], wait: Callable[[InFlight], bytes | None],
                 stop: Callable[[InFlight, BaseException], None]) -> Iterator[ChunkResult]:
    """Each chunk's result, in input order, with at most ``limit`` chunks in flight.

    ``wait(in_flight)`` returns the oldest chunk's result payload, or None to be asked again (it
    may resubmit what is in flight, as a recovering pool does); ``stop(in_flight, exc)`` runs
    when the loop ends by an exception, the consumer's early stop (``GeneratorExit``) included.
    """
    in_flight: InFlight = deque()
    source = iter(chunks)
    try:
        while True:
            _submit_ahead(in_flight, source, limit, pack, submit)
            if not in_flight:
                return
            payload = wait(in_flight)
            if payload is None:
                continue
            in_flight.popleft()[1].release(reuse=True)  # its worker has answered
            yield decode_result(payload)
    except BaseException as exc:
        stop(in_flight, exc)
        raise
    finally:  # every chunk still in flight frees its shared memory, whatever ended the loop
        for _, parcel, _ in in_flight:
            parcel.release()


def _submit_ahead(in_flight: InFlight, chunks: Iterator[Chunk], limit: int, pack: Callable[[Chunk], Parcel],
                  submit: Callable[[bytes], Any]) -> None:
    """Pack and submit chunks until ``limit`` are in flight or ``chunks`` runs out. A chunk
    whose ``submit`` raised (or returned None) stays in ``in_flight`` with the handle None, so
    that ``wait`` or ``stop`` can deal with it."""
    while len(in_flight) < limit:
        chunk = next(chunks, None)
        if chunk is None:
            return
        parcel = pack(chunk)
        in_flight.append((chunk, parcel, None))  # kept even if submitting fails (a broken pool)
        in_flight[-1] = (chunk, parcel, submit(parcel.payload))


def validate_payload(model: type[BaseModel], payload: bytes | tuple, options: bytes, compression: str | None) -> bytes:
    """What a worker does with one chunk: decode it (reading buffers in shared memory or the
    object store where they are), ``validate_chunk`` it, encode the result.

    ``options`` is a cloudpickled ``ValidationOptions`` (its ``context`` may come from a notebook).
    """
    use_one_thread()  # this worker's siblings fill the other cores
    with received_chunk(payload) as chunk:
        result = validate_chunk(model, chunk, pickle.loads(options), packed=True)
        del chunk  # its views into the segment go before the segment is closed
    return encode_result(result, compression)
