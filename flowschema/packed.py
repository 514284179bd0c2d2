"""A chunk's errors packed for the trip from a worker to the parent: each distinct error once.

The columnar engine knows its errors by distinct value: a field's rejected value has its errors,
and every row holding that value fails with them. A worker sends that structure as it is instead
of composing each failing row's error dicts and taking them apart again to send them: the
distinct errors (each its kind, ``(type, loc, msg, ctx)``, and its ``input``), then per failing
row how many errors it has and which distinct errors they are, as integer arrays built by numpy.
The parent makes each distinct error's dict once and each failing row's tuple of them with C-level
loops (``unpack``): the errors the sync executor gives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import setitem
from typing import Any

import numpy as np

__all__ = ["PackedErrors"]


@dataclass(frozen=True, slots=True)
class PackedErrors:
    """``kinds``: each distinct ``(type, loc, msg, ctx)`` (ctx None when pydantic gave none).
    ``error_kinds`` and ``error_inputs``: per distinct error, its kind and its input. ``offsets``:
    the failing rows (ascending offsets in the chunk); ``counts``: how many errors each has;
    ``errors``: the distinct error of each of their errors, row after row, in order."""

    kinds: list[tuple]
    error_kinds: np.ndarray
    error_inputs: list
    offsets: np.ndarray
    counts: np.ndarray
    errors: np.ndarray

    @classmethod
    def of_rows(cls, failed: dict[int, tuple[dict, ...]]) -> PackedErrors:
        """Errors already put together row by row (the rows engine's): each error its own."""
        table = _ErrorTable()
        return table.packed(*table.add_rows(failed))

    @classmethod
    def of_fields(cls, field_errors: Sequence[dict[int, tuple[dict, ...]]], offsets: np.ndarray, failures: np.ndarray,
                  whole: dict[int, tuple[dict, ...]]) -> PackedErrors:
        """The columnar engine's errors: ``field_errors[f][code]`` are the errors field ``f``
        gave its distinct value ``code``; ``failures[r, f]`` is the code row ``offsets[r]``
        failed field ``f`` with (-1: it passed). ``whole`` holds the rows validated whole, with
        their errors put together already."""
        table = _ErrorTable()
        firsts, numbers = [], []  # per field, by code: its first distinct error, and how many
        for number, errors_of in enumerate(field_errors):
            codes = failures[:, number]
            size = int(codes.max()) + 1 if len(codes) else 0
            first, many = np.zeros(max(size, 0), dtype=np.int64), np.zeros(max(size, 0), dtype=np.int64)
            for code, errors in errors_of.items():
                if code < size:
                    first[code], many[code] = len(table.error_kinds), len(errors)
                    table.add_all(errors)
            firsts.append(first)
            numbers.append(many)
        rows, fields = np.nonzero(failures >= 0)  # row after row, each row's fields in order
        base = np.cumsum([0, *map(len, firsts)])[:-1]
        where = base[fields] + failures[rows, fields]
        entry_first = np.concatenate(firsts)[where] if len(rows) else np.empty(0, dtype=np.int64)
        entry_count = np.concatenate(numbers)[where] if len(rows) else np.empty(0, dtype=np.int64)
        counts = np.bincount(rows, weights=entry_count, minlength=len(offsets)).astype(np.int64)
        errors = _runs(entry_first, entry_count)
        if not whole:
            return table.packed(offsets, counts, errors)
        whole_offsets, whole_counts, whole_errors = table.add_rows(whole)
        all_offsets = np.concatenate([offsets, whole_offsets])
        all_counts = np.concatenate([counts, whole_counts])
        all_errors = np.concatenate([errors, whole_errors])
        order = np.argsort(all_offsets, kind="stable")
        row_firsts = np.cumsum(all_counts) - all_counts
        return table.packed(all_offsets[order], all_counts[order], all_errors[_runs(row_firsts[order], all_counts[order])])

    def unpack(self) -> dict[int, tuple[dict, ...]]:
        """Each failing row's errors: one dict per distinct error (built in C), shared by the rows
        that failed with it, as the sync executor shares them."""
        templates = np.empty(len(self.kinds), dtype=object)
        templates[:] = [_template(*kind) for kind in self.kinds]
        distinct = list(map(dict.copy, templates[self.error_kinds]))
        deque(map(setitem, distinct, repeat("input"), self.error_inputs), maxlen=0)
        errors = list(map(distinct.__getitem__, self.errors.tolist()))
        ends = np.cumsum(self.counts).tolist()
        return {offset: tuple(errors[end - count:end])
                for offset, count, end in zip(self.offsets.tolist(), self.counts.tolist(), ends)}


def _template(error_type: str, loc: tuple, msg: str, ctx: dict | None) -> dict:
    template = {"type": error_type, "loc": loc, "msg": msg, "input": None}
    if ctx is not None:
        template["ctx"] = ctx
    return template


def _runs(firsts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``firsts[i], firsts[i] + 1, ..`` (``counts[i]`` numbers) for each ``i``, one after another."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) + np.repeat(firsts - (ends - counts), counts)


class _ErrorTable:
    """Distinct errors as they are added, and their kinds: errors of one kind share their
    ``loc``, ``msg`` and ``ctx`` objects (``flowschema.details``), so a kind is known by them."""

    def __init__(self) -> None:
        self.kind_ids: dict[tuple, int] = {}
        self.kinds: list[tuple] = []
        self.error_kinds: list[int] = []
        self.error_inputs: list[Any] = []

    def add_all(self, errors: Iterable[dict]) -> None:
        kind_ids, kinds = self.kind_ids, self.kinds
        for error in errors:
            ctx = error.get("ctx")
            key = (error["type"], id(error["loc"]), id(error["msg"]), id(ctx))
            kind = kind_ids.get(key)
            if kind is None:
                kind = kind_ids[key] = len(kinds)
                kinds.append((error["type"], error["loc"], error["msg"], ctx))
            self.error_kinds.append(kind)
            self.error_inputs.append(error["input"])

    def add_rows(self, failed: dict[int, tuple[dict, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add rows' errors put together already, each error its own: the rows' offsets, their
        error counts and their errors' numbers."""
        start = len(self.error_kinds)
        self.add_all(error for errors in failed.values() for error in errors)
        return (np.fromiter(failed, dtype=np.int64, count=len(failed)),
                np.fromiter(map(len, failed.values()), dtype=np.int64, count=len(failed)),
                np.arange(start, len(self.error_kinds), dtype=np.int64))

    def packed(self, offsets: np.ndarray, counts: np.ndarray, errors: np.ndarray) -> PackedErrors:
        return PackedErrors(self.kinds, np.array(self.error_kinds, dtype=np.int64), self.error_inputs,
                            offsets.astype(np.int64), counts.astype(np.int64), errors.astype(np.int64))
