"""One page of the failing-row grid, as data: its columns (widths included) and its cells.

The page is computed on the Python side from positions already filtered and sorted over all
failing rows; the browser only ever gets these ``PAGE_SIZE`` rows. Columns: the row's index
label, the fields it fails on, then the selection's columns, then the others in frame
order. A failing cell carries pydantic's messages as its tooltip; values are cut to
``CELL_CHARS`` characters, so a million-character value costs a few bytes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowschema.annotate import ERRORS_COLUMN
from flowschema.dashboard.data import ERRORS_KEY, PAGE_SIZE, ROW_KEY, DashboardData
from flowschema.dashboard.text import column_text, isolate, shorten
from flowschema.report import field_name

__all__ = ["CELL_CHARS", "GridCell", "GridColumn", "GridPage", "grid_page"]

#: characters of a value shown in a cell (an ellipsis marks a cut)
CELL_CHARS = 40
#: characters of a tooltip
TIP_CHARS = 400
#: a column's width in pixels: from its longest value on the page and its header (bold, with room
#: for a sort mark), each counted up to ``MAX_CHARS`` and ``TITLE_CHARS`` characters
PX_PER_CHAR, PX_PER_TITLE_CHAR, PX_PADDING, PX_TITLE_PADDING = 8, 9, 20, 34
MIN_CHARS, MAX_CHARS, TITLE_CHARS = 4, 30, 14


@dataclass(frozen=True)
class GridColumn:
    """A column of the grid: what it sorts by, its header text, its width in pixels."""

    key: Hashable
    title: str
    width: int


@dataclass(frozen=True)
class GridCell:
    """A cell: its text (None: a missing value), whether it failed, and its tooltip."""

    text: str | None
    bad: bool = False
    tip: str = ""


@dataclass(frozen=True)
class GridPage:
    """One page of the grid: columns, rows of cells, and where the page stands."""

    columns: tuple[GridColumn, ...]
    rows: tuple[tuple[GridCell, ...], ...]
    count: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE


def grid_page(data: DashboardData, positions: np.ndarray, page: int, first: Sequence[Hashable] = (),
              page_size: int = PAGE_SIZE) -> GridPage:
    """Page ``page`` of the rows at ``positions`` (already filtered and sorted), with the columns
    ``first`` before the others."""
    pages = data.pages(positions, page_size)
    page = min(max(page, 0), pages - 1)
    chosen = positions[page * page_size: (page + 1) * page_size]
    rows = data.frame.iloc[chosen]
    labels = [*first, *(label for label in data.columns if label not in first)]
    errors = rows[ERRORS_COLUMN].tolist()
    grid: list[list[GridCell]] = [[] for _ in range(len(chosen))]
    titles = ["row", "errors", *(str(label) for label in labels)]
    texts = [_texts(pd.Series(rows.index.to_flat_index()))]  # a MultiIndex: its tuples
    texts.append([", ".join(isolate(name) for name in dict.fromkeys(field_name(error["loc"]) for error in row))
                  for row in errors])
    texts += [_texts(rows[label]) for label in labels]
    for number, row_errors in enumerate(errors):
        on_column: dict[Hashable, list[str]] = {}
        lines = []
        for error in row_errors:
            lines.append(f"{isolate(field_name(error['loc']))}: {isolate(error['msg'])}")
            on_column.setdefault(data.column_of(error["loc"]), []).append(lines[-1])
        grid[number].append(_cell(texts[0][number]))
        # the errors cell fails where an error has no column of its own (the model as a whole)
        grid[number].append(GridCell(texts[1][number], None in on_column, shorten("\n".join(lines), TIP_CHARS)))
        for label, column_texts in zip(labels, texts[2:]):
            grid[number].append(_cell(column_texts[number], "\n".join(on_column.get(label, ()))))
    columns = tuple(
        GridColumn(key, shorten(title, MAX_CHARS), _width(title, column_texts))
        for key, title, column_texts in zip([ROW_KEY, ERRORS_KEY, *labels], titles, texts)
    )
    return GridPage(columns, tuple(tuple(row) for row in grid), len(positions), page, pages, page_size)


def _texts(values: pd.Series) -> list[str | None]:
    return column_text(values).to_pylist()


def _cell(text: str | None, messages: str = "") -> GridCell:
    """A value's cell: failing when it has ``messages`` (its tooltip); a cut value's tooltip is
    the longer text."""
    if messages:
        return GridCell(None if text is None else shorten(text, CELL_CHARS), True, shorten(messages, TIP_CHARS))
    if text is not None and len(text) > CELL_CHARS:
        return GridCell(shorten(text, CELL_CHARS), False, shorten(text, TIP_CHARS))
    return GridCell(text)


def _width(title: str, texts: list[str | None]) -> int:
    """Pixels for a column: its longest text on this page (``missing`` for a missing value), and
    its header."""
    longest = max([MIN_CHARS, *(len("missing") if text is None else len(text) for text in texts)])
    return max(PX_PADDING + PX_PER_CHAR * min(longest, MAX_CHARS),
               PX_TITLE_PADDING + PX_PER_TITLE_CHAR * min(len(title), TITLE_CHARS))
