"""How chunks and results travel between processes: msgpack bytes, optionally in an LZ4 frame.

**Values.** msgpack natively carries None, bool, int (64-bit), float (NaN, inf and -0.0
included), str, bytes, lists and dicts. Extension types carry the rest of what a normalised
cell can hold, each as a flat payload (nothing nests, so a value's depth costs no recursion):
tuples (which come back tuples), bytearrays, ints beyond 64 bits, datetimes and times (to the
microsecond, ``fold`` kept), dates, timedeltas, Decimals, UUIDs and pydantic's
``PydanticUndefined``. Types are matched exactly: a subclass (a ``pd.Timestamp``, a str Enum, a
namedtuple) is not taken for its base.

>>> import datetime as dt
>>> value = {"when": dt.datetime(2024, 5, 1, 12, 30), "loc": ("a", 1)}
>>> unpackb(packb(value)) == value
True

Between our own processes (``pickle_fallback=True``) anything else travels pickled with
cloudpickle, time zones included (a ``zoneinfo`` zone by its key, a fixed offset as the offset
and the name it was given, if any, any other zone object pickled once per message), so every
executor gives the sync executor's answer. **Files** (``flowschema.io``) never hold pickles:
there an Enum is stored as its ``value``, a subclass of a carried type as that type, a zone
without a name as its UTC offset at that instant, a pytz or dateutil zone by its IANA name (read
back as ``zoneinfo``), and any other object as its ``repr()`` string.

**Chunks** (``flowschema.chunk.Chunk``) travel column-oriented, so that turning cells into Python
values happens in the workers, in parallel: a msgpack message of the columns' layouts (a numpy
dtype, a unit and zone object, categories, a pandas dtype to rebuild, distinct values) and ONE
Arrow IPC stream of the chunk's typed columns (raw numpy values, tz-aware instants, categorical
codes, Arrow-backed and nullable columns, object columns of exactly ``str`` and None); only the
remaining columns (mixed objects, periods...) travel in the message as lists of values normalised
by the sender.

Decoding is bounded: a payload may not decompress beyond ``MAX_PAYLOAD_BYTES`` (checked while
decompressing), containers nest at most ``msgpack``'s 1,024 levels, an optional budget bounds the
memory the decoded objects may take (``unpackb(..., max_decoded_bytes=)``), Arrow buffers are
validated, offsets and sizes are checked, and a corrupt payload raises ``TransportError`` rather
than exhausting memory or the stack.
"""

from __future__ import annotations

import datetime as dt
import enum
import pickle
import struct
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import lz4.frame
import msgpack
import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic_core import PydanticUndefined

from flowschema.chunk import NUMPY_KINDS, Chunk, arrow_type_of, numpy_values, records_chunk
from flowschema.packed import PackedErrors
from flowschema.records import normalize_column
from flowschema.validation import ChunkResult, gc_paused

__all__ = [
    "COMPRESSIONS",
    "MAX_PAYLOAD_BYTES",
    "ArrowStream",
    "TransportError",
    "check_compression",
    "chunk_buffers",
    "chunk_message",
    "chunk_message_of",
    "decode_chunk",
    "decode_message",
    "decode_result",
    "encode_chunk",
    "encode_result",
    "pack_chunk",
    "packb",
    "replace_buffers",
    "unpackb",
    "written",
]

#: the values ``compression=`` takes
COMPRESSIONS = (None, "lz4")
#: the largest payload (after decompression) a decoder accepts
MAX_PAYLOAD_BYTES = 2**31

# Extension codes. Those of FlowSchema 0.1.0 (1-9, nested payloads) are no longer read.
(_TUPLE, _BYTEARRAY, _BIGINT, _DATETIME, _DATE, _TIME, _TIMEDELTA, _DECIMAL, _UUID, _UNDEFINED,
 _PICKLE) = range(16, 27)
_PLAIN, _LZ4 = b"\x00", b"\x01"  # the first byte of every payload
_TIME_UNITS = ("s", "ms", "us", "ns")
_DATETIME_FIELDS = struct.Struct("<hBBBBBIB")  # year, month, day, hour, minute, second, microsecond, fold
_TIME_FIELDS = struct.Struct("<BBBIB")  # hour, minute, second, microsecond, fold
_TIMEDELTA_FIELDS = struct.Struct("<iii")  # days, seconds, microseconds
_DATE_FIELDS = struct.Struct("<i")  # proleptic ordinal
_ZONE_INDEX = struct.Struct("<I")
_OFFSET = struct.Struct("<q")  # microseconds east of UTC
# how a time zone follows a datetime's or time's fields: its tag byte, then its data
_NO_ZONE, _ZONE_KEY, _ZONE_OFFSET, _ZONE_PICKLED, _ZONE_SEEN, _ZONE_NAMED = b"n", b"k", b"o", b"p", b"s", b"f"
_MAX_DECODED_ESTIMATE_PER_EXT = 160  # bytes a decoded extension value may take, at most


class TransportError(ValueError):
    """A value could not be encoded, or a payload could not be decoded."""


def check_compression(compression: Any) -> str | None:
    """Return ``compression`` if it is one of ``COMPRESSIONS``, else raise a ValueError."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    return compression


# -- values: encoding ---------------------------------------------------------------------------


_WALKED = frozenset((list, dict, bytearray))  # types msgpack would pack natively but not exactly


def _exact(value: Any) -> Any:
    """``value`` with bytearrays inside lists and dicts made extensions (msgpack would pack them
    as bytes, and never asks ``default`` about them)."""
    kind = type(value)
    if kind is list:
        return [_exact(item) if type(item) in _WALKED else item for item in value]
    if kind is dict:
        return {(_exact(key) if type(key) in _WALKED else key): (_exact(item) if type(item) in _WALKED else item)
                for key, item in value.items()}
    if kind is bytearray:
        return msgpack.ExtType(_BYTEARRAY, bytes(value))
    return value


def _zone_name(tz: dt.tzinfo) -> str | None:
    """The IANA name of a pytz or dateutil zone, if it has one ``zoneinfo`` knows."""
    name = getattr(tz, "zone", None) or getattr(tz, "_filename", None)
    if not isinstance(name, str):
        return None
    name = name.rpartition("zoneinfo/")[2]
    try:
        ZoneInfo(name)
    except (ValueError, OSError):
        return None
    return name


class _Encoder:
    """Packs one message; remembers the zones it pickled, so each travels once."""

    def __init__(self, pickle_fallback: bool) -> None:
        self.pickle_fallback = pickle_fallback
        self.zones: dict[int, int] = {}  # id of a pickled zone -> its number in this message

    def pack(self, value: Any) -> bytes:
        return msgpack.packb(_exact(value), default=self.default, use_bin_type=True, strict_types=True)

    def zone(self, tz: dt.tzinfo | None, at: dt.datetime | None) -> bytes:
        if tz is None:
            return _NO_ZONE
        if type(tz) is ZoneInfo and tz.key:
            return _ZONE_KEY + tz.key.encode()
        if type(tz) is dt.timezone and len(tz.__getinitargs__()) == 2:  # a fixed offset with a name of its own
            offset, name = tz.__getinitargs__()
            return _ZONE_NAMED + _OFFSET.pack(offset // dt.timedelta(microseconds=1)) + name.encode()
        if type(tz) is dt.timezone or not self.pickle_fallback:
            name = None if type(tz) is dt.timezone else _zone_name(tz)
            if name is not None:
                return _ZONE_KEY + name.encode()
            offset = tz.utcoffset(at)
            return _NO_ZONE if offset is None else _ZONE_OFFSET + _OFFSET.pack(offset // dt.timedelta(microseconds=1))
        number = self.zones.get(id(tz))
        if number is not None:
            return _ZONE_SEEN + _ZONE_INDEX.pack(number)
        number = self.zones[id(tz)] = len(self.zones)
        import cloudpickle

        return _ZONE_PICKLED + _ZONE_INDEX.pack(number) + cloudpickle.dumps(tz)

    def default(self, value: Any) -> Any:
        """The extension (or packable value) that carries ``value``; msgpack asks only once."""
        ext = self.extension(value)
        if ext is not None:
            return ext
        if self.pickle_fallback:  # subclasses (a Timestamp, an Enum, an OrderedDict) and arbitrary objects
            import cloudpickle

            return msgpack.ExtType(_PICKLE, cloudpickle.dumps(value))
        stored = _for_files(value)
        ext = self.extension(stored)
        return _exact(stored) if ext is None else ext

    def extension(self, value: Any) -> Any:
        """The extension of a value of a carried type (a list for a tuple), else None."""
        kind = type(value)
        if kind is tuple:
            return [_TUPLE_MARK, *(_exact(item) if type(item) in _WALKED else item for item in value)]
        if kind is dt.datetime:
            fields = _DATETIME_FIELDS.pack(value.year, value.month, value.day, value.hour, value.minute,
                                           value.second, value.microsecond, value.fold)
            return msgpack.ExtType(_DATETIME, fields + self.zone(value.tzinfo, value))
        if kind is dt.date:
            return msgpack.ExtType(_DATE, _DATE_FIELDS.pack(value.toordinal()))
        if kind is dt.time:
            fields = _TIME_FIELDS.pack(value.hour, value.minute, value.second, value.microsecond, value.fold)
            return msgpack.ExtType(_TIME, fields + self.zone(value.tzinfo, None))
        if kind is dt.timedelta:
            return msgpack.ExtType(_TIMEDELTA, _TIMEDELTA_FIELDS.pack(value.days, value.seconds, value.microseconds))
        if kind is Decimal:
            return msgpack.ExtType(_DECIMAL, str(value).encode())
        if kind is UUID:
            return msgpack.ExtType(_UUID, value.bytes)
        if kind is int and not -(2**63) <= value < 2**64:
            return msgpack.ExtType(_BIGINT, str(value).encode())
        if value is PydanticUndefined:
            return msgpack.ExtType(_UNDEFINED, b"")
        return None


def _for_files(value: Any) -> Any:
    """What a file stores for a value of a type it cannot keep (files hold no pickles)."""
    if value is pd.NaT or value is pd.NA:  # as column labels in an error's row, say
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):  # a pd.Timestamp, or another subclass
        return dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                           value.microsecond, value.tzinfo, fold=value.fold)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return dt.time(value.hour, value.minute, value.second, value.microsecond, value.tzinfo, fold=value.fold)
    if isinstance(value, dt.timedelta):  # a pd.Timedelta: its nanoseconds are dropped
        return dt.timedelta(days=value.days, seconds=value.seconds, microseconds=value.microseconds)
    if isinstance(value, UUID):
        return UUID(int=value.int)
    for base in (int, float, str, bytes, tuple, list, dict, Decimal):
        if isinstance(value, base):
            return base(value)
    return repr(value)


_TUPLE_MARK = msgpack.ExtType(_TUPLE, b"")  # the first item of a list that stands for a tuple
_TUPLE_START = object()  # what that item decodes to


def packb(value: Any, pickle_fallback: bool = False) -> bytes:
    """Encode ``value`` to msgpack bytes.

    Values of types with no extension are pickled when ``pickle_fallback`` (for messages between
    our own processes), else stored as files store them (see the module's docstring).
    """
    return _Encoder(pickle_fallback).pack(value)


# -- values: decoding ---------------------------------------------------------------------------


class _Decoder:
    """Unpacks one message, charging an estimate of the decoded objects' size to a budget."""

    def __init__(self, allow_pickle: bool, budget: list[int] | None) -> None:
        self.allow_pickle = allow_pickle
        self.budget = budget  # [bytes left], shared by the cells of a column; None: unbounded
        self.zones: list[dt.tzinfo] = []

    def charge(self, size: int) -> None:
        self.budget[0] -= size
        if self.budget[0] < 0:
            raise TransportError("decoded values exceed the size limit")

    def unpack(self, data: bytes) -> Any:
        bounded = self.budget is not None
        if bounded:
            self.charge(2 * len(data) + 64)
        return msgpack.unpackb(data, ext_hook=self.ext_hook, list_hook=self.list_hook,
                               object_hook=self.object_hook if bounded else None, raw=False, strict_map_key=False)

    def list_hook(self, items: list) -> list | tuple:
        if self.budget is not None:
            self.charge(56 + 64 * len(items))
        if items and items[0] is _TUPLE_START:
            return tuple(items[1:])
        return items

    def object_hook(self, mapping: dict) -> dict:
        self.charge(232 + 128 * len(mapping))
        return mapping

    def zone(self, data: bytes) -> dt.tzinfo | None:
        tag, rest = data[:1], data[1:]
        if tag == _NO_ZONE and not rest:
            return None
        if tag == _ZONE_KEY:
            return ZoneInfo(rest.decode())
        if tag == _ZONE_OFFSET:
            (microseconds,) = _OFFSET.unpack(rest)
            return dt.timezone.utc if not microseconds else dt.timezone(dt.timedelta(microseconds=microseconds))
        if tag == _ZONE_NAMED:
            (microseconds,) = _OFFSET.unpack(rest[:_OFFSET.size])
            return dt.timezone(dt.timedelta(microseconds=microseconds), rest[_OFFSET.size:].decode())
        (number,) = _ZONE_INDEX.unpack(rest[:4])
        if tag == _ZONE_SEEN:
            return self.zones[number]
        if tag == _ZONE_PICKLED and self.allow_pickle and number == len(self.zones):
            self.zones.append(pickle.loads(rest[4:]))
            return self.zones[number]
        raise TransportError("bad time zone in payload")

    def ext_hook(self, code: int, data: bytes) -> Any:
        if self.budget is not None:
            self.charge(_MAX_DECODED_ESTIMATE_PER_EXT + len(data))
        try:
            return self._ext(code, data)
        except TransportError:
            raise
        except Exception as exc:
            raise TransportError(f"bad msgpack extension {code} ({type(exc).__name__}: {exc})") from None

    def _ext(self, code: int, data: bytes) -> Any:
        if code == _TUPLE and not data:
            return _TUPLE_START
        if code == _DATETIME:
            fields = _DATETIME_FIELDS.unpack(data[:_DATETIME_FIELDS.size])
            return dt.datetime(*fields[:7], fold=fields[7], tzinfo=self.zone(data[_DATETIME_FIELDS.size:]))
        if code == _DATE:
            return dt.date.fromordinal(_DATE_FIELDS.unpack(data)[0])
        if code == _TIME:
            fields = _TIME_FIELDS.unpack(data[:_TIME_FIELDS.size])
            return dt.time(*fields[:4], fold=fields[4], tzinfo=self.zone(data[_TIME_FIELDS.size:]))
        if code == _TIMEDELTA:
            days, seconds, microseconds = _TIMEDELTA_FIELDS.unpack(data)
            return dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)
        if code == _BYTEARRAY:
            return bytearray(data)
        if code == _BIGINT:
            if len(data) > 4300:  # Python's own limit on int(str) digits
                raise TransportError("integer too large")
            return int(data)
        if code == _DECIMAL:
            return Decimal(data.decode())
        if code == _UUID:
            return UUID(bytes=data)
        if code == _UNDEFINED and not data:
            return PydanticUndefined
        if code == _PICKLE and self.allow_pickle:
            return pickle.loads(data)
        raise TransportError(
            f"unexpected msgpack extension type {code}: the payload is corrupt, from another program or from "
            "an earlier FlowSchema version"
        )


def unpackb(data: bytes, allow_pickle: bool = False, max_decoded_bytes: int | list[int] | None = None) -> Any:
    """Decode bytes written by ``packb``; a corrupt payload raises ``TransportError``.

    Pickled values are refused unless ``allow_pickle`` (only for messages from our own processes).
    ``max_decoded_bytes`` bounds an estimate of the memory the decoded objects take (a one-item
    list is a budget shared by several calls, decremented as they go).
    """
    budget = [max_decoded_bytes] if isinstance(max_decoded_bytes, int) else max_decoded_bytes
    try:
        return _Decoder(allow_pickle, budget).unpack(data)
    except TransportError:
        raise
    except msgpack.StackError:
        raise TransportError("corrupt msgpack payload: values nested deeper than 1,024 levels") from None
    except Exception as exc:
        raise TransportError(f"corrupt msgpack payload ({type(exc).__name__}: {exc})") from None


# -- framing ------------------------------------------------------------------------------------


def _frame(message: bytes, compression: str | None) -> bytes:
    if compression == "lz4":
        return _LZ4 + lz4.frame.compress(message)
    return _PLAIN + message


_LZ4_STEP = 64 * 2**20  # bytes decompressed per step, so the limit is checked as it grows


def _unframe(payload: bytes) -> memoryview | bytearray:
    """The message inside ``payload``; an LZ4 frame is decompressed a step at a time and
    abandoned as soon as it grows beyond ``MAX_PAYLOAD_BYTES``."""
    view = memoryview(payload)
    header, body = bytes(view[:1]), view[1:]
    if header == _PLAIN:
        if len(body) > MAX_PAYLOAD_BYTES:
            raise TransportError(f"payload larger than MAX_PAYLOAD_BYTES ({MAX_PAYLOAD_BYTES:,} bytes)")
        return body
    if header != _LZ4:
        raise TransportError("not a FlowSchema payload (unknown header byte)")
    decompressor = lz4.frame.LZ4FrameDecompressor()
    message = bytearray()
    pending = body
    try:
        while not decompressor.eof:
            step = decompressor.decompress(pending, max_length=_LZ4_STEP)
            pending = b""
            message += step
            if len(message) > MAX_PAYLOAD_BYTES:
                raise TransportError(f"payload decompresses beyond MAX_PAYLOAD_BYTES ({MAX_PAYLOAD_BYTES:,} bytes)")
            if not step and decompressor.needs_input:
                raise TransportError("truncated LZ4 frame")
    except RuntimeError as exc:
        raise TransportError(f"corrupt LZ4 frame: {exc}") from None
    return message


# -- chunks -------------------------------------------------------------------------------------


def _wire_layout(position: int, layout: tuple, typed: dict[str, pa.ChunkedArray]) -> list:
    """A column's layout as a message holds it: Python values normalised, categories as values,
    and an object column of ``str`` and None added to ``typed`` as Arrow strings."""
    kind = layout[0]
    if kind == "numpy":
        return ["numpy", layout[1].str]
    if kind == "tz":
        return ["tz", layout[1], layout[2]]
    if kind == "cat":
        categories = layout[1]
        return ["cat", normalize_column(categories.categories) if isinstance(categories, pd.CategoricalDtype)
                else categories]
    if kind == "arrow":
        return ["arrow", _dtype_token(layout[1])]
    if kind == "str":
        return ["str"]
    if kind == "coded":
        return ["coded", layout[1]]
    values = layout[1]
    if _only_strings(values):
        typed[str(position)] = pa.chunked_array([pa.array(values, pa.large_string())])
        return ["str"]
    return ["py", normalize_column(values)]


def _only_strings(values: Any) -> bool:
    """Whether a column holds exactly ``str`` and None (no subclass, no NaN): Arrow strings keep it."""
    if isinstance(values, np.ndarray) and values.dtype == object or isinstance(values, list):
        return len(values) > 0 and set(map(type, values)) <= _STRING_TYPES
    return False


_STRING_TYPES = {str, type(None)}


def _dtype_token(dtype: Any) -> Any:
    """The pandas dtype an ``arrow`` column is rebuilt as, as a message holds it."""
    if isinstance(dtype, pd.StringDtype):
        return ["string", dtype.storage, dtype.na_value is np.nan]
    return None if dtype is None else dtype.name  # Int64, Float32, boolean...


def _dtype_of_token(token: Any) -> Any:
    if token is None:
        return None
    if isinstance(token, list) and len(token) == 3 and token[0] == "string" and token[1] in ("pyarrow", "python"):
        return pd.StringDtype(token[1], na_value=np.nan if token[2] else pd.NA)
    if isinstance(token, str) and token in _MASKED_DTYPES:
        return pd.api.types.pandas_dtype(token)
    raise TransportError(f"bad column dtype {token!r} in payload")


_MASKED_DTYPES = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64",
                  "boolean"}


def chunk_buffers(message: dict) -> list:
    """The buffers of a chunk message: the Arrow stream of its typed columns, if it has any (an
    ``ArrowStream`` not written yet, in a message from ``chunk_message_of``)."""
    return [message["arrow"]] if message.get("arrow") is not None else []


def replace_buffers(message: dict, references: list) -> dict:
    """``message`` with its buffers (in ``chunk_buffers``' order) replaced by ``references``."""
    if message.get("arrow") is None:  # records, or no typed column: no buffers
        return message
    (reference,) = references
    return {**message, "arrow": reference}


class ArrowStream:
    """The Arrow IPC stream of a chunk's typed columns, measured but not written yet:
    ``write_into`` writes it straight into memory given (a shared memory segment: the one copy of
    its buffers), ``written`` into a buffer of its own. Its size is measured with a mock stream
    (which copies nothing) so that the stream is written once into memory of the right size: a
    growing output stream reallocates and copies as it goes, several times the writing itself."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        measured = pa.MockOutputStream()
        self._write(measured)
        self.nbytes = measured.size()

    def write_into(self, target: memoryview) -> None:
        """Write the stream into ``target`` (writable, ``nbytes`` long)."""
        self._write(pa.FixedSizeBufferWriter(pa.py_buffer(target)))

    def written(self) -> memoryview:
        """The stream in a buffer of its own (for the pipe and Ray's object store)."""
        buffer = pa.allocate_buffer(self.nbytes)
        self._write(pa.FixedSizeBufferWriter(buffer))
        return memoryview(buffer)

    def _write(self, sink: pa.NativeFile) -> None:
        with pa.ipc.new_stream(sink, self.table.schema) as writer:
            writer.write_table(self.table)


def written(buffer: Any) -> Any:
    """A buffer of ``chunk_buffers``, an ``ArrowStream`` written into memory of its own."""
    return buffer.written() if isinstance(buffer, ArrowStream) else buffer


def _read_arrow_stream(data: bytes | memoryview | np.ndarray) -> pa.Table:
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        table.validate(full=True)
    except pa.ArrowException as exc:
        raise TransportError(f"corrupt Arrow stream: {exc}") from None
    return table


def _received_layout(message: list, column: pa.ChunkedArray | None, size: int) -> tuple:
    """A column's layout from a message, checked against its Arrow column (None: not in the stream)."""
    kind = message[0]
    if kind == "py" and column is None and type(message[1]) is list and len(message[1]) == size:
        return "py", message[1]
    if column is None or len(column) != size:
        raise TransportError(f"bad column message of kind {kind!r}")
    if kind == "numpy":
        dtype = _numpy_dtype(message[1])
        if column.type != arrow_type_of(dtype):
            raise TransportError(f"bad numeric column ({message[1]} held as {column.type})")
        return "numpy", dtype
    if kind == "tz" and message[1] in _TIME_UNITS and isinstance(message[2], dt.tzinfo) and column.type == pa.int64():
        return "tz", message[1], message[2]
    if kind == "cat" and type(message[1]) is list and pa.types.is_signed_integer(column.type):
        codes = numpy_values(column, column.type.to_pandas_dtype())
        if codes.size and (codes.min() < -1 or codes.max() >= len(message[1])):
            raise TransportError("categorical codes out of range")
        return "cat", message[1]
    if kind == "arrow":
        return "arrow", _dtype_of_token(message[1])
    if kind == "coded" and type(message[1]) is list and column.type == pa.int64():
        codes = numpy_values(column, np.dtype("<i8"))
        if codes.size and (codes.min() < 0 or codes.max() >= len(message[1])):
            raise TransportError("coded column's codes out of range")
        return "coded", message[1]
    if kind == "str" and column.type in (pa.string(), pa.large_string()):
        return ("str",)
    raise TransportError(f"bad column message of kind {kind!r}")


def _numpy_dtype(dtype_str: Any) -> np.dtype:
    try:
        dtype = np.dtype(dtype_str)
    except TypeError:
        raise TransportError(f"bad dtype {dtype_str!r} in payload") from None
    if dtype.kind not in NUMPY_KINDS:
        raise TransportError(f"bad numeric column ({dtype_str})")
    return dtype


def _encode_values(chunk: Chunk, compression: str | None, message: dict) -> bytes:
    try:
        return _frame(packb(message, pickle_fallback=True), compression)
    except Exception as exc:
        raise TransportError(_unencodable(chunk, message, exc)) from exc


def _unencodable(chunk: Chunk, message: dict, exc: Exception) -> str:
    """Name the column and row of the first value that cannot travel."""
    if chunk.records is None:
        for name, column in zip(chunk.names, message["columns"]):
            for offset, value in enumerate(column[1] if column[0] == "py" else ()):
                try:
                    packb(value, pickle_fallback=True)
                except Exception as value_exc:
                    return (f"column {name!r}, row at position {chunk.start + offset}: this value cannot be sent to "
                            f"a worker ({value_exc}); convert the column (e.g. .astype(str)) or use executor='sync'")
    return f"rows at positions {chunk.start}..{chunk.start + chunk.size - 1} cannot be sent to a worker: {exc}"


def encode_chunk(chunk: Chunk, compression: str | None = None) -> bytes:
    """Encode a chunk of rows to bytes for a worker; ``decode_chunk`` reverses it.

    >>> from flowschema.chunk import chunk_of_arrays
    >>> chunk = chunk_of_arrays(0, ("a",), (pd.array([1, 2]),))
    >>> decode_chunk(encode_chunk(chunk, "lz4")).rows()
    [{'a': 1}, {'a': 2}]
    """
    return pack_chunk(chunk, chunk_message_of(chunk), compression)


def chunk_message_of(chunk: Chunk) -> dict:
    """The message of a chunk: its layouts, and the Arrow stream of its typed columns (an
    ``ArrowStream`` viewing the chunk's own memory until it is written)."""
    if chunk.records is not None:
        return {"start": chunk.start, "records": chunk.rows()}
    typed = dict(zip(chunk.table.column_names, chunk.table.columns))
    layouts = [_wire_layout(position, layout, typed) for position, layout in enumerate(chunk.layouts)]
    table = pa.Table.from_arrays(list(typed.values()), names=list(typed)) if typed else None
    return {"start": chunk.start, "size": chunk.size, "names": list(chunk.names), "columns": layouts,
            "arrow": ArrowStream(table) if table is not None else None}


def pack_chunk(chunk: Chunk, message: dict, compression: str | None) -> bytes:
    """A chunk message as bytes (its buffers copied in, unless replaced by references)."""
    if isinstance(message.get("arrow"), ArrowStream):
        message = {**message, "arrow": message["arrow"].written()}
    return _encode_values(chunk, compression, message)


def chunk_message(payload: bytes) -> dict:
    """The message inside a chunk's payload, its buffers inline or as references."""
    message = unpackb(_unframe(payload), allow_pickle=True)
    if type(message) is not dict:
        raise TransportError("malformed chunk message (not a map)")
    return message


def _span(spans: list[memoryview], reference: Any) -> memoryview:
    if type(reference) is not int or not 0 <= reference < len(spans):
        raise TransportError(f"malformed chunk message (buffer reference {reference!r})")
    return spans[reference]


def decode_chunk(payload: bytes) -> Chunk:
    """Decode bytes written by ``encode_chunk``."""
    return decode_message(chunk_message(payload))


def decode_message(message: dict, spans: list[memoryview] | None = None) -> Chunk:
    """The chunk a message describes; a message whose buffers were placed elsewhere (shared
    memory) names them by their index in ``spans``."""
    if spans is not None:
        message = replace_buffers(message, [_span(spans, reference) for reference in chunk_buffers(message)])
    try:
        if "records" in message:
            return records_chunk(_count(message["start"], "start"), message["records"])
        size = _count(message["size"], "size")
        names, column_messages = tuple(message["names"]), message["columns"]
        if len(names) != len(column_messages):
            raise TransportError("malformed chunk message (names and columns differ in number)")
        if size * (_ROW_BYTES + _CELL_BYTES * len(names)) > MAX_PAYLOAD_BYTES:
            raise TransportError(f"a chunk of {size:,} rows would exceed MAX_PAYLOAD_BYTES as rows")
        table = _read_arrow_stream(message["arrow"]) if message["arrow"] is not None else pa.table({})
        typed = dict(zip(table.column_names, table.columns))
        layouts = tuple(_received_layout(column, typed.pop(str(position), None), size)
                        for position, column in enumerate(column_messages))
        if typed:
            raise TransportError(f"malformed chunk message (Arrow columns {sorted(typed)} of no column)")
        return Chunk(_count(message["start"], "start"), size, names, layouts, table)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        if isinstance(exc, TransportError):
            raise
        raise TransportError(f"malformed chunk message ({type(exc).__name__}: {exc})") from None


_ROW_BYTES, _CELL_BYTES = 64, 64  # what a row dict and one of its cells take, about


def _first_bad_row(offsets: np.ndarray, counts: np.ndarray, size: int) -> int | None:
    """The first failing row whose offset is out of order or range, or whose error count is not
    positive; None if all are good."""
    previous = np.concatenate(([-1], offsets[:-1]))
    bad = (offsets <= previous) | (offsets >= size) | (counts < 1)
    return int(np.argmax(bad)) if bad.any() else None


def _count(value: Any, what: str) -> int:
    """``value`` if it is a non-negative int, else a ``TransportError`` naming ``what``."""
    if type(value) is not int or value < 0:
        raise TransportError(f"malformed message: {what} is {value!r}, not a count")
    return value


# -- results ------------------------------------------------------------------------------------


def encode_result(result: ChunkResult, compression: str | None = None) -> bytes:
    """Encode what validating a chunk produced: small unless validated values were asked for.

    Errors travel packed (``PackedErrors``): each distinct error once, its kind ``(type, loc,
    msg, ctx)`` once per kind, then the failing rows' offsets, their error counts and which
    distinct errors they have, as packed int32 arrays. Rows failing the same way (a column of
    missing values) cost a few bytes each, and the parent rebuilds the error dicts with C-level
    loops.
    """
    packed = result.packed or PackedErrors.of_rows(result.failed)
    kinds = [[error_type, loc, msg, None if ctx is None else dict(ctx)] for error_type, loc, msg, ctx in packed.kinds]
    message = [result.start, result.size, kinds, _int32s(packed.error_kinds), packed.error_inputs,
               _int32s(packed.offsets), _int32s(packed.counts), _int32s(packed.errors), result.values, result.engine]
    return _frame(packb(message, pickle_fallback=True), compression)


def _int32s(numbers: np.ndarray) -> bytes:
    return numbers.astype("<i4").tobytes()


def _kind(error_type: Any, loc: Any, msg: Any, ctx: Any) -> tuple:
    if type(loc) is not tuple:
        raise TransportError("malformed result message (an error's loc is not a tuple)")
    return error_type, loc, msg, ctx


def _int32_array(data: Any, what: str) -> np.ndarray:
    if type(data) is not bytes or len(data) % 4:
        raise TransportError(f"malformed result message ({what} is not a packed int32 array)")
    return np.frombuffer(data, dtype="<i4")


def _in_range(numbers: np.ndarray, bound: int, what: str) -> None:
    if len(numbers) and not (0 <= numbers.min() and numbers.max() < bound):
        raise TransportError(f"malformed result message ({what} out of range)")


def decode_result(payload: bytes) -> ChunkResult:
    """Decode bytes written by ``encode_result``; offsets, counts, references and sizes are checked."""
    try:
        start, size, kinds, error_kinds, error_inputs, offsets, counts, errors, values, engine = unpackb(
            _unframe(payload), allow_pickle=True
        )
        _count(start, "start")
        _count(size, "size")
        kinds = [_kind(*kind) for kind in kinds]
        error_kinds, errors = _int32_array(error_kinds, "kinds"), _int32_array(errors, "errors")
        offsets, counts = _int32_array(offsets, "offsets"), _int32_array(counts, "counts")
        if len(offsets) != len(counts):
            raise TransportError("malformed result message (offsets and error counts differ in number)")
        if type(error_inputs) is not list or len(error_inputs) != len(error_kinds):
            raise TransportError("malformed result message (distinct errors and their inputs differ in number)")
        _in_range(error_kinds, len(kinds), "an error kind")
        _in_range(errors, len(error_kinds), "an error reference")
        bad = _first_bad_row(offsets, counts, size)
        if bad is not None:
            raise TransportError(f"malformed result message (row offset {offsets[bad]} or error count {counts[bad]} "
                                 f"out of range for a chunk of {size} rows)")
        if int(counts.sum()) != len(errors):
            raise TransportError("malformed result message (error counts do not add up)")
        with gc_paused():  # a collection would walk the whole heap of the parent, frame included
            failed = PackedErrors(kinds, error_kinds, error_inputs, offsets, counts, errors).unpack()
        if values is not None and (type(values) is not list or len(values) != size):
            raise TransportError("malformed result message (values do not match the rows)")
        if engine not in ("columnar", "rows"):
            raise TransportError(f"malformed result message (engine {engine!r})")
        return ChunkResult(start, size, failed, values, engine)
    except (TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, TransportError):
            raise
        raise TransportError(f"malformed result message ({type(exc).__name__}: {exc})") from None
