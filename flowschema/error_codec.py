"""The Arrow form of ``_fs_errors``: one fixed type for files, Ray Data and every other place a
result leaves the process, importable without Ray.

Per row a list of errors, each a struct of pydantic's ``type``, the report's ``field`` (``loc``
joined by ``.``), ``loc``, ``msg``, and ``input`` and ``ctx`` as msgpack bytes of FlowSchema's
codec (``flowschema.transport``: no pickles; an Enum as its value, an object as its ``repr``, a
zone without a name as its offset). Reading it back gives the error dicts ``validate`` gives,
with those values as files keep them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from flowschema.report import field_name
from flowschema.transport import packb, unpackb

__all__ = ["ERRORS_TYPE", "ERROR_TYPE", "errors_from_arrow", "errors_to_arrow", "kinds_from_arrow"]

#: one error: pydantic's ``type``, ``loc`` joined as the report's ``field``, ``loc`` (msgpack of
#: the tuple), ``msg``, ``input`` (msgpack) and ``ctx`` (msgpack; null when pydantic gives none)
ERROR_TYPE = pa.struct([("type", pa.string()), ("field", pa.string()), ("loc", pa.binary()), ("msg", pa.string()),
                        ("input", pa.binary()), ("ctx", pa.binary())])
#: the Arrow type of ``_fs_errors`` in a checked dataset: per row its errors (empty when valid)
ERRORS_TYPE = pa.list_(ERROR_TYPE)
_EMPTY: tuple = ()
_UNKNOWN = object()


def errors_to_arrow(errors: Sequence[tuple[dict, ...]]) -> pa.ListArray:
    """Per row a tuple of pydantic error dicts (empty when valid) as an ``ERRORS_TYPE`` array.

    >>> array = errors_to_arrow([(), ({"type": "missing", "loc": ("x",), "msg": "Field required", "input": None},)])
    >>> errors_from_arrow(array)[1][0]["loc"], array.type == ERRORS_TYPE
    (('x',), True)
    """
    lengths = np.fromiter(map(len, errors), dtype=np.int32, count=len(errors))
    offsets = np.zeros(len(errors) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    columns: dict[str, list] = {name: [] for name in ERROR_TYPE.names}
    packed = _Packed()
    for position in np.flatnonzero(lengths).tolist():
        for error in errors[position]:
            loc_bytes, field = packed.loc(error["loc"])
            columns["type"].append(error["type"])
            columns["field"].append(field)
            columns["loc"].append(loc_bytes)
            columns["msg"].append(error["msg"])
            columns["input"].append(packed.input(error["input"]))
            columns["ctx"].append(packed.ctx(error["ctx"]) if "ctx" in error else None)
    values = pa.StructArray.from_arrays([pa.array(columns[item.name], item.type) for item in ERROR_TYPE],
                                        fields=list(ERROR_TYPE))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=ERRORS_TYPE)


#: values whose msgpack bytes (and decoded objects) may be shared: immutable, told apart by type
_SHAREABLE = (type(None), bool, int, str)


class _Packed:
    """msgpack bytes of error parts, each distinct one packed once: errors of one kind share
    their ``loc`` and ``ctx`` objects, and many inputs repeat (None, a code, a word)."""

    def __init__(self) -> None:
        self._locs: dict[Any, tuple[bytes, str]] = {}
        self._inputs: dict[tuple, bytes] = {}
        self._ctxs: dict[int, tuple[dict, bytes]] = {}

    def loc(self, loc: tuple) -> tuple[bytes, str]:
        """The packed ``loc`` and the report's field name for it."""
        try:
            known = self._locs.get(loc)
        except TypeError:  # an unhashable loc part: nothing shared
            return packb(loc), field_name(loc)
        if known is None:
            known = self._locs[loc] = (packb(loc), field_name(loc))
        return known

    def input(self, value: Any) -> bytes:
        if type(value) not in _SHAREABLE:
            return packb(value)
        key = (type(value), value)
        known = self._inputs.get(key)
        if known is None:
            known = self._inputs[key] = packb(value)
        return known

    def ctx(self, ctx: dict) -> bytes:
        known = self._ctxs.get(id(ctx))
        if known is None:
            known = self._ctxs[id(ctx)] = (ctx, packb(ctx))  # the dict kept: its id stays its own
        return known[1]


def errors_from_arrow(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An ``ERRORS_TYPE`` array back as an object array of tuples of pydantic's error dicts,
    exactly as ``validate`` gives them (``()`` where a row has none). Errors of one kind share
    their ``type``, ``loc``, ``msg`` and ``ctx`` objects."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], ERRORS_TYPE)
    decoded = np.empty(len(array), dtype=object)
    decoded.fill(_EMPTY)
    offsets = array.offsets.to_numpy()
    offsets = offsets - offsets[0]
    flat = array.flatten()
    fields = {name: flat.field(name).to_pylist() for name in ("type", "loc", "msg", "input", "ctx")}
    kinds: dict[tuple, tuple] = {}
    inputs: dict[bytes, Any] = {}
    for row in np.flatnonzero(np.diff(offsets)).tolist():
        row_errors = []
        for at in range(offsets[row], offsets[row + 1]):
            key = (fields["type"][at], fields["loc"][at], fields["msg"][at], fields["ctx"][at])
            kind = kinds.get(key)
            if kind is None:
                ctx = None if key[3] is None else unpackb(key[3])
                kind = kinds[key] = (key[0], unpackb(key[1]), key[2], ctx)
            raw = fields["input"][at]
            value = inputs.get(raw, _UNKNOWN)
            if value is _UNKNOWN:
                value = unpackb(raw)
                if type(value) in _SHAREABLE:
                    inputs[raw] = value
            error = {"type": kind[0], "loc": kind[1], "msg": kind[2], "input": value}
            if kind[3] is not None:
                error["ctx"] = kind[3]
            row_errors.append(error)
        decoded[row] = tuple(row_errors)
    return decoded


def kinds_from_arrow(array: pa.Array) -> Counter:
    """``error_kinds`` of the rows of an ``ERRORS_TYPE`` array, read from its ``field`` and
    ``type`` alone (no input is decoded)."""
    offsets = array.offsets.to_numpy()
    offsets = offsets - offsets[0]
    flat = array.flatten()
    pairs = list(zip(flat.field("field").to_pylist(), flat.field("type").to_pylist()))
    return Counter(tuple(pairs[offsets[row]:offsets[row + 1]]) for row in range(len(array)))
