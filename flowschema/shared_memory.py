"""Chunks handed to local worker processes through POSIX shared memory: copied once, read in place.

The parent packs a chunk's buffers (numeric columns, tz-aware instants, categorical codes, the
Arrow stream of its Arrow-backed columns) into one shared memory segment and sends the worker a
small msgpack message naming the segment and where each buffer lies in it; the worker maps the
segment and reads the buffers where they are, without a copy. Everything else (object columns,
categories, zones) travels in the message as before.

A segment belongs to one run (``Segments``): packed into by one chunk at a time, it is handed back
when that chunk's result is in and filled again by a later chunk of the same run (allocating
fresh pages for every chunk and freeing them costs the parent several times the copy itself).
Every other path that drops a chunk (an early stop, Ctrl-C, a dead worker, an error) unlinks its
segment at once, and the end of the run unlinks the spare ones: nothing outlives the run. A new
segment's memory is reserved whole (``posix_fallocate``) before anything is written into it, so
that a full ``/dev/shm`` is an error to recover from (the chunk takes the pipe), never a SIGBUS;
the parent then copies the buffers in through its mapping (memcpy speed, several times
``pwrite``'s on a reused segment).

Segments are named ``fs_<pid>_<n>``: one whose creator is dead (a parent killed with SIGKILL) is
removed by the next executor started on the machine (``remove_stale_segments``), and meanwhile
by Python's resource tracker, which unlinks what a dead parent leaves registered. Workers attach
without registering (Python 3.11 and 3.12 register every attached segment, which would unlink it
twice). Where shared memory is missing or too small (Docker and Binder give ``/dev/shm`` 64 MB),
a chunk travels through the pipe instead.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory

from flowschema.chunk import Chunk
from flowschema.transport import (
    ArrowStream,
    chunk_buffers,
    chunk_message,
    chunk_message_of,
    decode_message,
    pack_chunk,
    replace_buffers,
)

__all__ = ["SHM_DIR", "Parcel", "Segments", "pack_for_worker", "received_chunk", "remove_stale_segments"]

#: where Linux keeps POSIX shared memory
SHM_DIR = "/dev/shm"
_PREFIX = "fs_"
_ALIGNMENT = 64  # each buffer starts on a cache line (and numpy's alignment)
_counter = itertools.count()


class Segments:
    """The shared memory segments of one run: ``take`` one for a chunk, ``give_back`` it when the
    chunk's worker is done with it (a later chunk reuses it), and ``close`` at the end of the run
    unlinks the spare ones. Used as a context manager, it closes itself."""

    def __init__(self) -> None:
        self._spare: list[SharedMemory] = []

    def take(self, size: int) -> SharedMemory | None:
        """A segment of at least ``size`` bytes: a spare one, else a new one (a spare too small
        for this chunk is unlinked, so that the spares stay as many as the chunks in flight);
        None when ``size`` is too small to be worth a segment, or when there is no shared memory."""
        if size < 4096:  # a few bytes travel faster in the message
            return None
        for position, segment in enumerate(self._spare):
            if segment.size >= size:
                return self._spare.pop(position)
        if self._spare:
            _unlink(self._spare.pop())
        try:  # room for the next chunks, whose strings may take a little more
            segment = SharedMemory(name=f"{_PREFIX}{os.getpid()}_{next(_counter)}", create=True, size=size + size // 4)
        except OSError:  # no /dev/shm, or no room for its name
            return None
        try:
            os.posix_fallocate(segment._fd, 0, segment.size)
        except OSError:  # no room for it: the pipe
            _unlink(segment)
            return None
        return segment

    def give_back(self, segment: SharedMemory) -> None:
        self._spare.append(segment)

    def close(self) -> None:
        """Unlink the spare segments."""
        spare, self._spare = self._spare, []
        for segment in spare:
            _unlink(segment)

    def __enter__(self) -> Segments:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _unlink(segment: SharedMemory) -> None:
    """Remove the segment's name, and unmap it unless something still views it (the mapping
    then goes with the last view)."""
    try:
        segment.close()
    except BufferError:
        pass
    try:
        segment.unlink()
    except FileNotFoundError:  # removed already (a stale-segment sweep raced us)
        pass


@dataclass
class Parcel:
    """A chunk as it travels: the payload sent to the worker, and the segment holding its
    buffers (None: the buffers are in the payload) with the run's ``Segments`` it came from."""

    payload: bytes
    segment: SharedMemory | None = None
    segments: Segments | None = None

    def release(self, reuse: bool = False) -> None:
        """Free the segment (once; later calls do nothing): hand it back to its run for a later
        chunk when ``reuse`` (the worker has answered: it reads the segment no more), else unlink it."""
        segment, self.segment = self.segment, None
        if segment is None:
            return
        if reuse and self.segments is not None:
            self.segments.give_back(segment)
        else:
            _unlink(segment)


def pack_for_worker(chunk: Chunk, compression: str | None, segments: Segments) -> Parcel:
    """The chunk's buffers in a shared memory segment of the run's ``segments``, its message in
    the payload; the pipe instead (everything in the payload) when there is no room, when
    compression is asked for, or when the chunk has no buffers worth sharing."""
    message = chunk_message_of(chunk)
    buffers = chunk_buffers(message) if compression is None else []
    buffers = [buffer if isinstance(buffer, ArrowStream) else memoryview(buffer).cast("B") for buffer in buffers]
    spans = _spans([buffer.nbytes for buffer in buffers])
    segment = segments.take(spans[-1][0] + spans[-1][1] if spans else 0)
    if segment is None:
        return Parcel(pack_chunk(chunk, message, compression))
    parcel = Parcel(b"", segment, segments)
    for buffer, (position, length) in zip(buffers, spans):  # its pages exist: reserved when it was made
        if isinstance(buffer, ArrowStream):
            buffer.write_into(segment.buf[position:position + length])
        else:
            segment.buf[position:position + length] = buffer
    shared = {**replace_buffers(message, range(len(buffers))), "segment": segment.name, "spans": spans}
    parcel.payload = pack_chunk(chunk, shared, compression)
    return parcel


def _spans(sizes: list[int]) -> list[list[int]]:
    """Where each buffer goes in the segment: ``[offset, length]``, each on a cache line."""
    spans, position = [], 0
    for size in sizes:
        spans.append([position, size])
        position += -(-size // _ALIGNMENT) * _ALIGNMENT
    return spans


@contextmanager
def received_chunk(payload: bytes | tuple) -> Iterator[Chunk]:
    """The chunk a worker was sent: bytes (its buffers inline, or in a shared memory segment,
    read in place while the ``with`` block runs and closed afterwards: the parent unlinks it), or
    from Ray's object store a message and the buffers it refers to."""
    if isinstance(payload, tuple):
        head, buffers = payload
        yield decode_message(chunk_message(head), list(buffers))
        return
    message = chunk_message(payload)
    if "segment" not in message:
        yield decode_message(message)
        return
    segment = _attach(str(message["segment"]))
    try:
        spans = [segment.buf[start:start + length] for start, length in message["spans"]]
        yield decode_message(message, spans)
    finally:
        spans = None
        _close(segment)


def _attach(name: str) -> SharedMemory:
    """The segment ``name``, mapped without registering it with the resource tracker: it is the
    parent's to unlink."""
    if sys.version_info >= (3, 13):
        return SharedMemory(name, track=False)
    register = resource_tracker.register
    resource_tracker.register = lambda name, rtype: None  # a worker runs one chunk at a time
    try:
        return SharedMemory(name)
    finally:
        resource_tracker.register = register


_unclosed: list[SharedMemory] = []


def _close(segment: SharedMemory) -> None:
    """Unmap a segment; one still viewed by an object the validation kept is unmapped later."""
    for kept in [*_unclosed, segment]:
        try:
            kept.close()
        except BufferError:  # a view is still alive: try again after the next chunk
            if kept not in _unclosed:
                _unclosed.append(kept)
        else:
            if kept in _unclosed:
                _unclosed.remove(kept)


def remove_stale_segments() -> list[str]:
    """Remove the segments whose creating process is dead; return their names."""
    removed = []
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return removed
    for name in names:
        pid = name.removeprefix(_PREFIX).partition("_")[0]
        if not name.startswith(_PREFIX) or not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(SHM_DIR, name))
            removed.append(name)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: alive
        return True
    return True
