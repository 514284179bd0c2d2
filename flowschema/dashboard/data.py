"""What the dashboard shows, computed once per annotated frame: counts, bars, pages of rows.

Everything is aggregated from the valid mask and the failing rows' errors only (the valid rows'
empty cells are never visited), into flat numpy arrays with one entry per error, so that
selecting a field or an error type is a vectorised filter and a page of rows is a slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowschema.annotate import ERRORS_COLUMN, original_columns
from flowschema.report import field_name, valid_mask

__all__ = ["PAGE_SIZE", "DashboardData", "FieldBar", "TypeCount"]

#: failing rows per page of the table
PAGE_SIZE = 20


@dataclass(frozen=True)
class TypeCount:
    """Errors of one pydantic error type within one field."""

    type: str
    count: int
    sample_msg: str


@dataclass(frozen=True)
class FieldBar:
    """One field's bar: its errors, the rows they hit, and its error types (largest first)."""

    field: str
    errors: int
    rows: int
    types: tuple[TypeCount, ...]


class DashboardData:
    """The aggregates of one annotated frame, and its failing rows page by page.

    >>> import flowschema, pandas as pd
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> data = DashboardData(pd.DataFrame({"x": [1, None, "a"]}, dtype=object).flowschema.validate(Point))
    >>> data.invalid, [(bar.field, bar.errors) for bar in data.bars]
    (2, [('x', 2)])
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        valid = valid_mask(frame)
        self.rows = len(valid)
        self.failed_positions = np.flatnonzero(~valid)
        self.invalid = len(self.failed_positions)
        self.metadata = dict(frame.attrs.get("flowschema", {}))
        self.columns = list(original_columns(frame.iloc[:0]).columns)
        cells = frame[ERRORS_COLUMN].to_numpy(dtype=object)[self.failed_positions]
        # One pass over the errors, each reduced to a kind: a (loc, type) pair seen before costs
        # one dict lookup; names, counts and samples are then computed per kind, not per error.
        kinds: dict[tuple, int] = {}
        samples: list[str] = []
        positions: list[int] = []
        kind_ids: list[int] = []
        for position, errors in zip(self.failed_positions.tolist(), cells.tolist()):
            positions.extend([position] * len(errors))
            for error in errors:
                key = (error["loc"], error["type"])
                kind = kinds.get(key)
                if kind is None:
                    kind = kinds[key] = len(kinds)
                    samples.append(error["msg"])
                kind_ids.append(kind)
        self.error_positions = np.asarray(positions, dtype=np.int64)
        error_kinds = np.asarray(kind_ids, dtype=np.int64)
        kind_fields, self.field_names = _codes([field_name(loc) for loc, _ in kinds])
        kind_types, self.type_names = _codes([error_type for _, error_type in kinds])
        self.field_codes = kind_fields[error_kinds]
        self.type_codes = kind_types[error_kinds]
        self.bars = self._bars(kinds, samples, np.bincount(error_kinds, minlength=len(kinds)))

    def _bars(self, kinds: dict[tuple, int], samples: list[str], kind_counts: np.ndarray) -> tuple[FieldBar, ...]:
        """Per field: errors, rows hit and counts by type with a sample message; largest first."""
        rows_hit = self._rows_per_field()
        types_of: dict[str, dict[str, list]] = {}
        for (loc, error_type), kind in kinds.items():
            entry = types_of.setdefault(field_name(loc), {}).setdefault(error_type, [0, samples[kind]])
            entry[0] += int(kind_counts[kind])
        bars = [
            FieldBar(name, sum(count for count, _ in by_type.values()), rows_hit[self.field_names.index(name)],
                     tuple(sorted((TypeCount(error_type, count, sample) for error_type, (count, sample)
                                   in by_type.items()), key=lambda item: (-item.count, item.type))))
            for name, by_type in types_of.items()
        ]
        return tuple(sorted(bars, key=lambda bar: (-bar.errors, bar.field)))

    def _rows_per_field(self) -> list[int]:
        """Distinct failing rows per field code (a row with two errors in a field counts once)."""
        pairs = _distinct(self.field_codes * max(self.rows, 1) + self.error_positions)
        return np.bincount(pairs // max(self.rows, 1), minlength=len(self.field_names)).tolist()

    def _repr_html_(self) -> str:
        """The static dashboard, where widgets cannot run (GitHub, nbviewer)."""
        from flowschema.dashboard.html import page_html

        return page_html(self)

    def bar(self, field_name: str) -> FieldBar:
        """The bar of one field (a ``KeyError`` naming it if the field has no errors)."""
        for bar in self.bars:
            if bar.field == field_name:
                return bar
        raise KeyError(f"no errors in field {field_name!r}")

    def matching_positions(self, field: str | None = None, error_type: str | None = None,
                           search: str = "") -> np.ndarray:
        """Positions of the failing rows with an error in ``field`` of ``error_type`` (None: any),
        whose values or messages contain ``search`` (case-insensitive)."""
        selected = np.ones(len(self.error_positions), dtype=bool)
        if field is not None:
            selected &= self.field_codes == _code_of(self.field_names, field)
        if error_type is not None:
            selected &= self.type_codes == _code_of(self.type_names, error_type)
        positions = _distinct(self.error_positions[selected])
        if search:
            needle = search.casefold()
            positions = np.asarray([position for position in positions.tolist()
                                    if needle in self._row_text(position)], dtype=np.int64)
        return positions

    def _row_text(self, position: int) -> str:
        values = " ".join(map(str, self.frame.iloc[position][self.columns].tolist()))
        messages = " ".join(error["msg"] for error in self.frame[ERRORS_COLUMN].iat[position])
        return f"{self.frame.index[position]} {values} {messages}".casefold()

    def page(self, positions: np.ndarray, page: int, page_size: int = PAGE_SIZE) -> pd.DataFrame:
        """One page of ``positions``: the index label, original values and errors of each row."""
        chosen = positions[page * page_size : (page + 1) * page_size]
        return self.frame.iloc[chosen]

    def pages(self, positions: np.ndarray, page_size: int = PAGE_SIZE) -> int:
        """How many pages ``positions`` fill (at least one, even when empty)."""
        return max(1, -(-len(positions) // page_size))


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

