"""How values travel as bytes: msgpack with extension types, so types survive the trip.

msgpack natively carries None, bool, int (64-bit), float (NaN, inf and -0.0 included), str,
bytes, lists and dicts. Extension types carry the rest of what a normalised cell can hold:
tuples (which come back tuples), ints beyond 64 bits, datetimes (naive or tz-aware, to the
microsecond, ``zoneinfo`` zones by name), dates, times, timedeltas, Decimals and UUIDs.

>>> import datetime as dt
>>> value = {"when": dt.datetime(2024, 5, 1, 12, 30), "loc": ("a", 1)}
>>> unpackb(packb(value)) == value
True
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgpack

__all__ = ["TransportError", "packb", "unpackb"]

_TUPLE, _BIGINT, _DATETIME, _DATE, _TIME, _TIMEDELTA, _DECIMAL, _UUID = range(1, 9)


class TransportError(ValueError):
    """A value could not be encoded, or a payload could not be decoded."""


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


def _default(value: Any) -> msgpack.ExtType:
    kind = type(value)
    if kind is tuple or isinstance(value, tuple):
        return msgpack.ExtType(_TUPLE, packb(list(value)))
    if isinstance(value, int):  # only ints msgpack cannot hold natively reach here
        return msgpack.ExtType(_BIGINT, str(int(value)).encode())
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
    for base in (str, bytes, float, list, dict):  # subclasses (a str Enum, an OrderedDict) travel as their base
        if isinstance(value, base):
            return base(value)
    raise TypeError(f"cannot encode a value of type {kind.__module__}.{kind.__qualname__}: {value!r:.80}")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _TUPLE:
        return tuple(unpackb(data))
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
    raise TransportError(f"unknown msgpack extension type {code}: the payload is corrupt or from another program")


def packb(value: Any) -> bytes:
    """Encode ``value`` to msgpack bytes; a value of an unsupported type raises TypeError."""
    return msgpack.packb(value, default=_default, use_bin_type=True, strict_types=True)


def unpackb(data: bytes) -> Any:
    """Decode bytes written by ``packb``; a corrupt payload raises ``TransportError``."""
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except TransportError:
        raise
    except Exception as exc:
        raise TransportError(f"corrupt msgpack payload ({type(exc).__name__}: {exc})") from None
