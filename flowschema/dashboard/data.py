"""What the dashboard shows, computed once per annotated frame: the per-field table, the
failing rows filtered by field, error type and search, sorted, a page at a time.

Everything is aggregated from the valid mask and the failing rows' errors only (the valid rows'
empty cells are never visited), into flat numpy arrays with one entry per error, so that
selecting a field or an error type is a vectorised filter and a page of rows is a slice. Search
matches messages once per distinct message and values a column at a time (Arrow kernels over
the failing rows' text, kept once computed).

A frame whose ``attrs["flowschema"]`` has a ``subset`` (a file's failing-row sample, or an
``invalid_out`` file) holds only some of a run's rows: its ``rows``, ``invalid_rows`` and
``summary`` there are the run's totals, and the per-field table shows those.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from flowschema.annotate import ERRORS_COLUMN, original_columns
from flowschema.dashboard.field_table import FieldFailures, FieldRow, TypeCount, field_rows
from flowschema.dashboard.text import column_text, may_contain, missing_last_order
from flowschema.report import field_name, valid_mask

__all__ = ["ERRORS_KEY", "PAGE_SIZE", "ROW_KEY", "DashboardData"]

#: failing rows per page of the grid
PAGE_SIZE = 20
#: sort keys of the grid's first two columns: the row (index label, in frame order) and its errors
ROW_KEY = ("flowschema", "row")
ERRORS_KEY = ("flowschema", "errors")


class DashboardData:
    """The aggregates of one annotated frame, and its failing rows page by page.

    >>> import flowschema, pandas as pd
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    ...     y: int = 0
    >>> data = DashboardData(pd.DataFrame({"x": [1, None, "a"], "y": 1}, dtype=object).flowschema.validate(Point))
    >>> data.invalid, [(row.name, row.failed, row.status) for row in data.fields]
    (2, [('x', 2, 'fail'), ('y', 0, 'pass')])
    >>> data.matching_positions(search="valid int").tolist()
    [1, 2]
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        valid = valid_mask(frame)
        #: rows and failing rows this frame holds (``total_rows``, ``total_invalid``: the run's)
        self.rows = len(valid)
        self.failed_positions = np.flatnonzero(~valid)
        self.invalid = len(self.failed_positions)
        self.metadata = dict(frame.attrs.get("flowschema", {}))
        self.columns = list(original_columns(frame.iloc[:0]).columns)
        self.subset: str | None = self.metadata.get("subset")
        self.total_rows = int(self.metadata.get("rows", self.rows)) if self.subset else self.rows
        self.total_invalid = int(self.metadata.get("invalid_rows", self.invalid)) if self.subset else self.invalid
        cells = frame[ERRORS_COLUMN].to_numpy(dtype=object)[self.failed_positions]
        # One pass over the errors, each reduced to a kind: a (loc, type, msg) triple seen before
        # costs one dict lookup; names and counts are then computed per kind, not per error.
        kinds: dict[tuple, int] = {}
        positions: list[int] = []
        kind_ids: list[int] = []
        for position, errors in zip(self.failed_positions.tolist(), cells.tolist()):
            positions.extend([position] * len(errors))
            for error in errors:
                key = (error["loc"], error["type"], error["msg"])
                kind = kinds.get(key)
                if kind is None:
                    kind = kinds[key] = len(kinds)
                kind_ids.append(kind)
        self.error_positions = np.asarray(positions, dtype=np.int64)
        self.error_kinds = np.asarray(kind_ids, dtype=np.int64)
        self.kind_locs = [loc for loc, _, _ in kinds]
        self._kind_messages = [message for _, _, message in kinds]
        self._folded_messages = [message.casefold() for message in self._kind_messages]
        kind_fields, self.field_names = _codes([field_name(loc) for loc in self.kind_locs])
        kind_types, self.type_names = _codes([error_type for _, error_type, _ in kinds])
        self.field_codes = kind_fields[self.error_kinds]
        self.type_codes = kind_types[self.error_kinds]
        self._kind_fields, self._kind_types = kind_fields, kind_types
        self._labels = _labels_by_text(self.columns)
        model_fields = self.metadata.get("fields") or []
        self._field_columns = {described["field"]: self._labels.get(str(described.get("column")))
                               for described in model_fields if described.get("column") is not None}
        self.fields: list[FieldRow] = field_rows(model_fields, self._failures(), self.total_rows, set(self._labels))
        self._texts: dict[Hashable, object] = {}

    # -- the per-field table ---------------------------------------------------------------------

    def _failures(self) -> dict[str, FieldFailures]:
        """Per field name: rows, errors and types, from the run's summary for a subset, else
        from this frame's errors."""
        samples: dict[tuple[str, str], str] = {}
        for loc, type_code, message in zip(self.kind_locs, self._kind_types.tolist(), self._kind_messages):
            samples.setdefault((field_name(loc), self.type_names[type_code]), message)
        if self.subset and self.metadata.get("summary") is not None:
            failures = {}
            for entry in self.metadata["summary"]:
                types = [TypeCount(key, int(count), samples.get((entry["field"], key), ""))
                         for key, count in entry.items() if key not in ("field", "errors", "rows") and count]
                failures[entry["field"]] = FieldFailures(int(entry["rows"]), int(entry["errors"]),
                                                         _largest_first(types))
            return failures
        rows_hit = self._rows_per(self.field_codes, len(self.field_names))
        errors = np.bincount(self.field_codes, minlength=len(self.field_names))
        by_type = np.bincount(self.field_codes * max(len(self.type_names), 1) + self.type_codes,
                              minlength=len(self.field_names) * max(len(self.type_names), 1))
        failures = {}
        for code, name in enumerate(self.field_names):
            types = [TypeCount(type_name, int(by_type[code * len(self.type_names) + type_code]),
                               samples.get((name, type_name), ""))
                     for type_code, type_name in enumerate(self.type_names)
                     if by_type[code * len(self.type_names) + type_code]]
            failures[name] = FieldFailures(int(rows_hit[code]), int(errors[code]), _largest_first(types))
        return failures

    def field(self, name: str) -> FieldRow:
        """The per-field row named ``name`` (a ``KeyError`` listing the names if there is none)."""
        for row in self.fields:
            if row.name == name:
                return row
        raise KeyError(f"no field {name!r} here; the fields are {[row.name for row in self.fields]}")

    def _rows_per(self, codes: np.ndarray, count: int) -> np.ndarray:
        """Distinct failing rows per code (a row with two errors of one code counts once)."""
        pairs = _distinct(codes * max(self.rows, 1) + self.error_positions)
        return np.bincount(pairs // max(self.rows, 1), minlength=count)

    def type_rows(self, field: str | None = None) -> list[tuple[str, int]]:
        """``(error type, failing rows of this frame)`` in ``field`` (None: in any field), most first."""
        chosen = self.field_codes == _code_of(self.field_names, field) if field is not None else slice(None)
        pairs = _distinct(self.type_codes[chosen] * max(self.rows, 1) + self.error_positions[chosen])
        counts = np.bincount(pairs // max(self.rows, 1), minlength=len(self.type_names))
        return sorted(((name, int(counts[code])) for code, name in enumerate(self.type_names) if counts[code]),
                      key=lambda item: (-item[1], item[0]))

    # -- the failing rows ------------------------------------------------------------------------

    def matching_positions(self, field: str | None = None, error_type: str | None = None,
                           search: str = "") -> np.ndarray:
        """Positions (sorted) of the failing rows with an error in ``field`` of ``error_type``
        (None: any), whose index label, values or messages contain ``search`` (any case)."""
        if field is None and error_type is None:
            return self.failed_positions[self._search_mask(search)] if search else self.failed_positions
        selected = np.ones(len(self.error_positions), dtype=bool)
        if field is not None:
            selected &= self.field_codes == _code_of(self.field_names, field)
        if error_type is not None:
            selected &= self.type_codes == _code_of(self.type_names, error_type)
        positions = _distinct(self.error_positions[selected])
        if search:
            found = self.failed_positions[self._search_mask(search)]
            positions = positions[np.isin(positions, found, assume_unique=True)]
        return positions

    def _search_mask(self, search: str) -> np.ndarray:
        """Which failing rows contain ``search`` in their index label, values or messages."""
        needle = search.casefold()
        mask = np.zeros(self.invalid, dtype=bool)
        kinds = [kind for kind, message in enumerate(self._folded_messages) if needle in message]
        if kinds:
            hits = self.error_positions[np.isin(self.error_kinds, kinds)]
            mask[np.searchsorted(self.failed_positions, hits)] = True
        for key in [ROW_KEY, *range(len(self.columns))]:
            values = self._failing_values(key)
            if not may_contain(values, needle):
                continue
            texts = self._texts.get(key)
            if texts is None:
                texts = self._texts[key] = column_text(values)
            mask |= pc.match_substring(texts, search, ignore_case=True).fill_null(False).to_numpy(
                zero_copy_only=False)
        return mask

    def _failing_values(self, key: Hashable) -> pd.Series:
        """The failing rows' index labels (``ROW_KEY``), or the values of the ``key``-th column."""
        if key == ROW_KEY:
            return pd.Series(self.frame.index[self.failed_positions])
        return self.frame[self.columns[key]].iloc[self.failed_positions]

    def ordered(self, positions: np.ndarray, key: Hashable = ROW_KEY, descending: bool = False) -> np.ndarray:
        """``positions`` sorted by ``key``: ``ROW_KEY`` (frame order), ``ERRORS_KEY`` (errors per
        row), or a column label (its values, missing last)."""
        if key == ROW_KEY:
            return positions[::-1] if descending else positions
        if key == ERRORS_KEY:
            counts = np.bincount(self.error_positions, minlength=self.rows)[positions]
            order = np.argsort(-counts if descending else counts, kind="stable")
        else:
            order = missing_last_order(self.frame[key].iloc[positions], descending)
        return positions[order]

    def selection_columns(self, field: str | None = None, error_type: str | None = None) -> list[Hashable]:
        """The columns a selection is about, in frame order: the column of ``field``, or those of
        the fields with ``error_type`` errors; none without a selection."""
        if field is None and error_type is None:
            return []
        chosen = np.ones(len(self.error_kinds), dtype=bool)
        if field is not None:
            chosen &= self.field_codes == _code_of(self.field_names, field)
        if error_type is not None:
            chosen &= self.type_codes == _code_of(self.type_names, error_type)
        columns = {self.column_of(self.kind_locs[kind]) for kind in np.unique(self.error_kinds[chosen]).tolist()}
        return [label for label in self.columns if label in columns]

    def column_of(self, loc: tuple) -> Hashable | None:
        """The frame column an error at ``loc`` is about (the model field's column, or a column of
        that name), or None (the model as a whole, a field with no column)."""
        if not loc:
            return None
        top = str(loc[0])
        if top in self._field_columns:
            return self._field_columns[top]
        return self._labels.get(top)

    def pages(self, positions: np.ndarray, page_size: int = PAGE_SIZE) -> int:
        """How many pages ``positions`` fill (at least one, even when empty)."""
        return max(1, -(-len(positions) // page_size))

    def _repr_html_(self) -> str:
        """The static dashboard, where widgets cannot run (GitHub, nbviewer)."""
        from flowschema.dashboard.html import page_html

        return page_html(self)


def _labels_by_text(columns: list[Hashable]) -> dict[str, Hashable]:
    """Column labels by their text (``str``, and ``repr`` as attrs store other labels)."""
    labels: dict[str, Hashable] = {}
    for label in columns:
        labels.setdefault(str(label), label)
        labels.setdefault(repr(label), label)
    return labels


def _largest_first(types: list[TypeCount]) -> tuple[TypeCount, ...]:
    return tuple(sorted(types, key=lambda item: (-item.count, item.type)))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique``'s hash-based path is several times slower here)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each value's index in the sorted distinct values, and those values."""
    names = sorted(set(values))
    lookup = {name: code for code, name in enumerate(names)}
    return np.asarray([lookup[value] for value in values], dtype=np.int64), names


def _code_of(names: list[str], name: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        return -1  # matches nothing
