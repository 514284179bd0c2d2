"""How chunks and results travel between processes: msgpack bytes, optionally in an LZ4 frame.

**Values.** msgpack natively carries None, bool, int (64-bit), float (NaN, inf and -0.0
included), str, bytes, lists and dicts. Extension types carry the rest of what a normalised
cell can hold: tuples (which come back tuples), ints beyond 64 bits, datetimes (naive or
tz-aware, to the microsecond, ``zoneinfo`` zones by name), dates, times, timedeltas, Decimals and
UUIDs.

>>> import datetime as dt
>>> value = {"when": dt.datetime(2024, 5, 1, 12, 30), "loc": ("a", 1)}
>>> unpackb(packb(value)) == value
True

**Chunks** travel column-oriented, so that turning cells into Python values happens in the
workers, in parallel: numpy columns as typed buffers (dtype + raw bytes), Arrow-backed and
nullable columns (``str``, ``Int64``, ``boolean``, ``ArrowDtype``...) as one Arrow IPC stream,
categoricals as codes plus their categories, and only the remaining columns (object, tz-aware
datetimes, periods...) as msgpack lists of values normalised by the sender.

Between our own processes, a value msgpack cannot carry (an arbitrary object in an object
column, an Enum in a ``model_dump()``) travels pickled with cloudpickle, so every executor gives
the sync executor's answer. Files (``flowschema.io``) never accept pickles.

Decoding is bounded: a payload may not decompress beyond ``MAX_PAYLOAD_BYTES``, msgpack's own
limits follow the payload's size, Arrow buffers are validated, and a corrupt payload raises
``TransportError`` rather than exhausting memory.
"""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import lz4.frame
import msgpack
import numpy as np
import pandas as pd
import pyarrow as pa

from flowschema.records import ColumnChunk, RecordChunk, normalize_column
from flowschema.validation import ChunkResult

__all__ = [
    "COMPRESSIONS",
    "MAX_PAYLOAD_BYTES",
    "TransportError",
    "check_compression",
    "decode_chunk",
    "decode_result",
    "encode_chunk",
    "encode_result",
    "packb",
    "unpackb",
]

#: the values ``compression=`` takes
COMPRESSIONS = (None, "lz4")
#: the largest payload (after decompression) a decoder accepts
MAX_PAYLOAD_BYTES = 2**31

_TUPLE, _BIGINT, _DATETIME, _DATE, _TIME, _TIMEDELTA, _DECIMAL, _UUID, _PICKLE = range(1, 10)
_PLAIN, _LZ4 = b"\x00", b"\x01"  # the first byte of every payload
_NUMPY_KINDS = "biufcmM"  # dtypes whose raw bytes may be sent and received


class TransportError(ValueError):
    """A value could not be encoded, or a payload could not be decoded."""


def check_compression(compression: Any) -> str | None:
    """Return ``compression`` if it is one of ``COMPRESSIONS``, else raise a ValueError."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    return compression


# -- values -------------------------------------------------------------------------------------


def _encode_tz(tz: dt.tzinfo | None, at: dt.datetime | None) -> Any:
    if tz is None:
        return None
    if isinstance(tz, ZoneInfo) and tz.key:
        return tz.key
    offset = tz.utcoffset(at)
    if offset is None:
        return None
    return [offset.days * 86400 + offset.seconds, offset.microseconds]


def _decode_tz(encoded: Any) -> dt.tzinfo | None:
    if encoded is None:
        return None
    if isinstance(encoded, str):
        return ZoneInfo(encoded)
    seconds, microseconds = encoded
    offset = dt.timedelta(seconds=seconds, microseconds=microseconds)
    return dt.timezone.utc if not offset else dt.timezone(offset)


def _ext(value: Any, pickle_fallback: bool) -> Any:
    """The msgpack extension (or plain value) that carries ``value``."""
    if isinstance(value, tuple):
        return msgpack.ExtType(_TUPLE, packb(list(value), pickle_fallback))
    if isinstance(value, dt.datetime):
        fields = [value.year, value.month, value.day, value.hour, value.minute, value.second,
                  value.microsecond, value.fold, _encode_tz(value.tzinfo, value)]
        return msgpack.ExtType(_DATETIME, packb(fields))
    if isinstance(value, dt.date):
        return msgpack.ExtType(_DATE, packb(value.toordinal()))
    if isinstance(value, dt.time):
        fields = [value.hour, value.minute, value.second, value.microsecond, value.fold, _encode_tz(value.tzinfo, None)]
        return msgpack.ExtType(_TIME, packb(fields))
    if isinstance(value, dt.timedelta):
        return msgpack.ExtType(_TIMEDELTA, packb([value.days, value.seconds, value.microseconds]))
    if isinstance(value, Decimal):
        return msgpack.ExtType(_DECIMAL, str(value).encode())
    if isinstance(value, UUID):
        return msgpack.ExtType(_UUID, value.bytes)
    if type(value) is int:  # only ints beyond 64 bits reach here
        return msgpack.ExtType(_BIGINT, str(value).encode())
    if pickle_fallback:  # subclasses (an Enum, an OrderedDict) and arbitrary objects
        import cloudpickle

        return msgpack.ExtType(_PICKLE, cloudpickle.dumps(value))
    for base in (str, bytes, int, float, list, dict):  # subclasses (a str Enum) travel as their base
        if isinstance(value, base):
            return base(value)
    kind = type(value)
    raise TypeError(f"cannot encode a value of type {kind.__module__}.{kind.__qualname__}: {value!r:.80}")


def _default_plain(value: Any) -> Any:
    return _ext(value, False)


def _default_pickling(value: Any) -> Any:
    return _ext(value, True)


def _ext_hook(code: int, data: bytes, allow_pickle: bool) -> Any:
    if code == _TUPLE:
        return tuple(unpackb(data, allow_pickle))
    if code == _BIGINT:
        return int(data)
    if code == _DATETIME:
        *parts, fold, tz = unpackb(data)
        return dt.datetime(*parts, fold=fold, tzinfo=_decode_tz(tz))
    if code == _DATE:
        return dt.date.fromordinal(unpackb(data))
    if code == _TIME:
        *parts, fold, tz = unpackb(data)
        return dt.time(*parts, fold=fold, tzinfo=_decode_tz(tz))
    if code == _TIMEDELTA:
        days, seconds, microseconds = unpackb(data)
        return dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if code == _DECIMAL:
        return Decimal(data.decode())
    if code == _UUID:
        return UUID(bytes=data)
    if code == _PICKLE and allow_pickle:
        return pickle.loads(data)
    raise TransportError(f"unexpected msgpack extension type {code}: the payload is corrupt or from another program")


def _plain_hook(code: int, data: bytes) -> Any:
    return _ext_hook(code, data, False)


def _pickling_hook(code: int, data: bytes) -> Any:
    return _ext_hook(code, data, True)


def packb(value: Any, pickle_fallback: bool = False) -> bytes:
    """Encode ``value`` to msgpack bytes.

    A value of a type not listed above raises TypeError, unless ``pickle_fallback`` (for
    messages between our own processes) lets it travel pickled.
    """
    default = _default_pickling if pickle_fallback else _default_plain
    return msgpack.packb(value, default=default, use_bin_type=True, strict_types=True)


def unpackb(data: bytes, allow_pickle: bool = False) -> Any:
    """Decode bytes written by ``packb``; a corrupt payload raises ``TransportError``.

    Pickled values are refused unless ``allow_pickle`` (only for messages from our own processes).
    """
    try:
        return msgpack.unpackb(data, ext_hook=_pickling_hook if allow_pickle else _plain_hook, raw=False,
                               strict_map_key=False)
    except TransportError:
        raise
    except Exception as exc:
        raise TransportError(f"corrupt msgpack payload ({type(exc).__name__}: {exc})") from None


# -- framing ------------------------------------------------------------------------------------


def _frame(message: bytes, compression: str | None) -> bytes:
    if compression == "lz4":
        return _LZ4 + lz4.frame.compress(message)
    return _PLAIN + message


def _unframe(payload: bytes) -> bytes:
    header, body = payload[:1], payload[1:]
    if header == _PLAIN:
        message = body
    elif header == _LZ4:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        try:
            message = decompressor.decompress(body, max_length=MAX_PAYLOAD_BYTES + 1)
        except RuntimeError as exc:
            raise TransportError(f"corrupt LZ4 frame: {exc}") from None
        if len(message) > MAX_PAYLOAD_BYTES:
            raise TransportError(f"payload decompresses beyond MAX_PAYLOAD_BYTES ({MAX_PAYLOAD_BYTES:,} bytes)")
        if not decompressor.eof:
            raise TransportError("truncated LZ4 frame")
    else:
        raise TransportError("not a FlowSchema payload (unknown header byte)")
    if len(message) > MAX_PAYLOAD_BYTES:
        raise TransportError(f"payload larger than MAX_PAYLOAD_BYTES ({MAX_PAYLOAD_BYTES:,} bytes)")
    return message


# -- chunks -------------------------------------------------------------------------------------


def _encode_column(array: Any, arrow_columns: list[pa.ChunkedArray]) -> list:
    """One column's message; Arrow-backed columns are appended to ``arrow_columns``."""
    dtype = array.dtype
    if isinstance(array, np.ndarray) and dtype.kind in _NUMPY_KINDS:
        return ["np", dtype.str, np.ascontiguousarray(array).tobytes()]
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(array.codes)
        return ["cat", codes.dtype.str, codes.tobytes(), normalize_column(dtype.categories)]
    if isinstance(dtype, (pd.ArrowDtype, pd.StringDtype)) or isinstance(
        array, (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)
    ):
        arrow = array.__arrow_array__()
        arrow_columns.append(arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow]))
        return ["arrow", len(arrow_columns) - 1]
    return ["py", normalize_column(array)]


def _arrow_stream(arrays: list[pa.ChunkedArray]) -> bytes | None:
    if not arrays:
        return None
    table = pa.Table.from_arrays(arrays, names=[str(position) for position in range(len(arrays))])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _read_arrow_stream(data: bytes) -> list[pa.ChunkedArray]:
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        table.validate(full=True)
    except pa.ArrowException as exc:
        raise TransportError(f"corrupt Arrow stream: {exc}") from None
    return table.columns


def _numpy_buffer(dtype_str: str, data: bytes, size: int) -> np.ndarray:
    try:
        dtype = np.dtype(dtype_str)
    except TypeError:
        raise TransportError(f"bad dtype {dtype_str!r} in payload") from None
    if dtype.kind not in _NUMPY_KINDS or len(data) != size * dtype.itemsize:
        raise TransportError(f"bad numeric column ({dtype_str}, {len(data)} bytes for {size} rows)")
    return np.frombuffer(data, dtype=dtype)


def _decode_column(message: list, size: int, arrow_columns: list[pa.ChunkedArray]) -> Any:
    kind = message[0]
    if kind == "np":
        return _numpy_buffer(message[1], message[2], size)
    if kind == "py" and len(message[1]) == size:
        return message[1]
    if kind == "cat":
        codes = _numpy_buffer(message[1], message[2], size)
        lookup = np.empty(len(message[3]) + 1, dtype=object)
        lookup[:-1] = message[3]  # code -1 (missing) indexes the trailing None
        if codes.size and (codes.min() < -1 or codes.max() >= len(message[3])):
            raise TransportError("categorical codes out of range")
        return lookup[codes].tolist()
    if kind == "arrow" and len(arrow_columns[message[1]]) == size:
        return pd.arrays.ArrowExtensionArray(arrow_columns[message[1]])
    raise TransportError(f"bad column message of kind {kind!r}")


def _encode_values(chunk: ColumnChunk | RecordChunk, compression: str | None, message: dict) -> bytes:
    try:
        return _frame(packb(message, pickle_fallback=True), compression)
    except Exception as exc:
        raise TransportError(_unencodable(chunk, message, exc)) from exc


def _unencodable(chunk: ColumnChunk | RecordChunk, message: dict, exc: Exception) -> str:
    """Name the column and row of the first value that cannot travel."""
    if isinstance(chunk, ColumnChunk):
        for name, column in zip(chunk.names, message["columns"]):
            for offset, value in enumerate(column[1] if column[0] == "py" else ()):
                try:
                    packb(value, pickle_fallback=True)
                except Exception as value_exc:
                    return (f"column {name!r}, row at position {chunk.start + offset}: this value cannot be sent to a worker "
                            f"({value_exc}); convert the column (e.g. .astype(str)) or use executor='sync'")
    return f"rows at positions {chunk.start}..{chunk.start + chunk.size - 1} cannot be sent to a worker: {exc}"


def encode_chunk(chunk: ColumnChunk | RecordChunk, compression: str | None = None) -> bytes:
    """Encode a chunk of rows to bytes for a worker; ``decode_chunk`` reverses it.

    >>> chunk = ColumnChunk(0, 2, ("a",), (pd.array([1, 2]),))
    >>> decode_chunk(encode_chunk(chunk, "lz4")).rows()
    [{'a': 1}, {'a': 2}]
    """
    if isinstance(chunk, RecordChunk):
        message = {"start": chunk.start, "records": chunk.rows()}
        return _encode_values(chunk, compression, message)
    arrow_columns: list[pa.ChunkedArray] = []
    columns = [_encode_column(column, arrow_columns) for column in chunk.columns]
    message = {"start": chunk.start, "size": chunk.size, "names": list(chunk.names), "columns": columns,
               "arrow": _arrow_stream(arrow_columns)}
    return _encode_values(chunk, compression, message)


def decode_chunk(payload: bytes) -> ColumnChunk | RecordChunk:
    """Decode bytes written by ``encode_chunk``."""
    message = unpackb(_unframe(payload), allow_pickle=True)
    try:
        if "records" in message:
            return RecordChunk(message["start"], tuple(message["records"]))
        size = message["size"]
        arrow_columns = _read_arrow_stream(message["arrow"]) if message["arrow"] is not None else []
        columns = tuple(_decode_column(column, size, arrow_columns) for column in message["columns"])
        return ColumnChunk(message["start"], size, tuple(message["names"]), columns)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        if isinstance(exc, TransportError):
            raise
        raise TransportError(f"malformed chunk message ({type(exc).__name__}: {exc})") from None


# -- results ------------------------------------------------------------------------------------


def encode_result(result: ChunkResult, compression: str | None = None) -> bytes:
    """Encode what validating a chunk produced: small unless validated values were asked for.

    Errors travel flat: each distinct ``(type, loc, msg, ctx)`` once, then per error the index
    of its kind and its input. Rows failing the same way (a column of missing values) cost a few
    bytes each, and decoding is several times faster than a msgpack map per error.
    """
    kinds: dict[tuple, int] = {}
    offsets, counts, kind_ids, inputs = [], [], [], []
    for offset, errors in result.failed.items():
        offsets.append(offset)
        counts.append(len(errors))
        for error in errors:
            ctx = error.get("ctx")
            key = (error["type"], error["loc"], error["msg"], None if ctx is None else tuple(ctx.items()))
            kind_ids.append(kinds.setdefault(key, len(kinds)))
            inputs.append(error["input"])
    kind_list = [[error_type, list(loc), msg, None if ctx is None else dict(ctx)]
                 for error_type, loc, msg, ctx in kinds]
    message = [result.start, result.size, kind_list, offsets, counts, kind_ids, inputs, result.values]
    return _frame(packb(message, pickle_fallback=True), compression)


def _error_template(error_type: str, loc: list, msg: str, ctx: dict | None) -> dict:
    template = {"type": error_type, "loc": tuple(loc), "msg": msg, "input": None}
    if ctx is not None:
        template["ctx"] = ctx
    return template


def decode_result(payload: bytes) -> ChunkResult:
    """Decode bytes written by ``encode_result``."""
    try:
        start, size, kind_list, offsets, counts, kind_ids, inputs, values = unpackb(
            _unframe(payload), allow_pickle=True
        )
        templates = [_error_template(*kind) for kind in kind_list]
        errors = [dict(templates[kind_id], input=value) for kind_id, value in zip(kind_ids, inputs, strict=True)]
        failed = {}
        end = 0
        for offset, count in zip(offsets, counts, strict=True):
            failed[offset] = tuple(errors[end : end + count])
            end += count
        if end != len(errors):
            raise ValueError("error counts do not add up")
        return ChunkResult(start, size, failed, values)
    except (TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, TransportError):
            raise
        raise TransportError(f"malformed result message ({type(exc).__name__}: {exc})") from None
