"""The ipywidgets explorer of a validation: errors per field, drill into the failing rows.

Standard ipywidgets only (no front-end build), so it renders in JupyterLab, Notebook 7 and
Voila. The state lives in Python (``selected_field``, ``selected_type``, ``search``, ``page``);
the widgets only show it, so a test can drive the dashboard without a browser.
"""

from __future__ import annotations

import os

import ipywidgets as widgets
import numpy as np
import pandas as pd

from flowschema.dashboard.data import DashboardData
from flowschema.dashboard.html import STYLE, bar_html, esc, header_html, table_html, types_html
from flowschema.progress import RunListener
from flowschema.report import field_name, invalid_rows
from flowschema.validation import ChunkResult

__all__ = ["Dashboard"]

ALL_TYPES = "(all types)"


class Dashboard(widgets.VBox, RunListener):
    """One widget: header, per-field bars, error types, a paged table of failing rows, export.

    Built from an annotated frame (``checked.flowschema.dashboard()``), or empty and live
    (``validate(..., dashboard=True)``; ``total_rows=None`` for a stream of unknown length):
    ``chunk_done`` updates the counters and bars as chunks finish, ``load`` shows the final result.
    """

    def __init__(self, frame: pd.DataFrame | None = None, *, total_rows: int | None = 0,
                 metadata: dict | None = None) -> None:
        self.data: DashboardData | None = None
        self.selected_field: str | None = None
        self.selected_type: str | None = None
        self.search = ""
        self.page = 0
        self.positions = np.empty(0, dtype=np.int64)
        self._live_rows, self._live_done, self._live_invalid = total_rows, 0, 0
        self._live_fields: dict[str, int] = {}
        self._live_bars: dict[str, widgets.HTML] = {}
        self._live_metadata = metadata or {}

        self.header = widgets.HTML()
        self.bars = widgets.VBox()
        self.types = widgets.ToggleButtons(options=[ALL_TYPES], description="Error type:",
                                           style={"button_width": "auto"})
        self.types.observe(self._on_type, names="value")
        self.type_counts = widgets.HTML()
        self.search_box = widgets.Text(placeholder="search values and messages", description="Search:",
                                       continuous_update=False)
        self.search_box.observe(self._on_search, names="value")
        self.previous_button = widgets.Button(description="◀ previous", layout=widgets.Layout(width="auto"))
        self.next_button = widgets.Button(description="next ▶", layout=widgets.Layout(width="auto"))
        self.previous_button.on_click(lambda _: self.go_to_page(self.page - 1))
        self.next_button.on_click(lambda _: self.go_to_page(self.page + 1))
        self.table = widgets.HTML()
        self.csv_path = widgets.Text(value="flowschema_failing_rows.csv", description="CSV file:")
        self.save_button = widgets.Button(description="Save rows to CSV", icon="download",
                                          layout=widgets.Layout(width="auto"))
        self.save_button.on_click(lambda _: self.save_csv())
        self.code = widgets.HTML()
        self.status = widgets.HTML()
        super().__init__(children=[
            widgets.HTML(f"<style>{STYLE}</style>"),
            self.header,
            self.bars,
            self.types,
            self.type_counts,
            widgets.HBox([self.search_box, self.previous_button, self.next_button]),
            self.table,
            widgets.HBox([self.csv_path, self.save_button]),
            self.code,
            self.status,
        ])
        self.add_class("fs-dash")
        if frame is not None:
            self.load(frame)
        else:
            self._render_live()

    # -- live mode --------------------------------------------------------------------------

    def run_started(self, total_rows: int | None, metadata: dict) -> None:
        """A run begins (live mode): reset the counters."""
        self._live_rows, self._live_done, self._live_invalid = total_rows, 0, 0
        self._live_fields.clear()
        self._live_metadata = dict(metadata)
        self._render_live()

    def run_finished(self, frame: pd.DataFrame | None) -> None:
        """The run ended: show its result (a stream of unknown length keeps its live counts)."""
        if frame is not None:
            self.load(frame)

    def run_failed(self, error: BaseException) -> None:
        """The run stopped: say so."""
        self.status.value = f"<span class='fs-invalid'>The run stopped: {esc(type(error).__name__)}: {esc(error)}</span>"

    def chunk_done(self, result: ChunkResult) -> None:
        """Count one finished chunk (live mode): rows done, invalid rows, errors per field."""
        self._live_done += result.size
        self._live_invalid += len(result.failed)
        for errors in result.failed.values():
            for error in errors:
                name = field_name(error["loc"])
                self._live_fields[name] = self._live_fields.get(name, 0) + 1
        self._render_live()

    def _render_live(self) -> None:
        if self._live_rows is None:  # a stream: the rows so far
            self.header.value = header_html(self._live_done, self._live_invalid, self._live_metadata)
        else:
            self.header.value = header_html(self._live_rows, self._live_invalid, self._live_metadata, self._live_done)
        largest = max(self._live_fields.values(), default=0)
        ranked = sorted(self._live_fields.items(), key=lambda item: (-item[1], item[0]))
        for name, count in ranked:  # one HTML widget per field, updated in place chunk after chunk
            bar = self._live_bars.get(name)
            if bar is None:
                bar = self._live_bars[name] = widgets.HTML()
            bar.value = (f"<div class='fs-bar'><span class='fs-bar-label'><b>{esc(name)}</b></span>"
                         f"{bar_html(count, count, max(self._live_done, 1), largest)}</div>")
        self.bars.children = [self._live_bars[name] for name, _ in ranked]

    # -- the final view -----------------------------------------------------------------------

    def load(self, frame: pd.DataFrame) -> None:
        """Show the annotated ``frame``: everything is recomputed from it."""
        for row in self.bars.children:  # the live bars, or an earlier frame's: their models go too
            for widget in (*getattr(row, "children", ()), row):
                widget.close()
        self._live_bars.clear()
        self.data = DashboardData(frame)
        self.header.value = header_html(self.data.rows, self.data.invalid, self.data.metadata)
        largest = self.data.bars[0].errors if self.data.bars else 0
        rows = []
        for bar in self.data.bars:
            button = widgets.Button(description=bar.field, tooltip=f"show the rows failing on {bar.field}",
                                    layout=widgets.Layout(width="14em"))
            button.add_class("fs-field-button")
            button.on_click(lambda _, name=bar.field: self.select_field(name))
            rows.append(widgets.HBox([button, widgets.HTML(bar_html(bar.errors, bar.rows, self.data.rows, largest),
                                                           layout=widgets.Layout(flex="1"))]))
        self.bars.children = rows
        self.select_field(None)

    def select_field(self, name: str | None) -> None:
        """Select a field (None: all fields); the type filter is reset."""
        self.selected_field = name
        self.selected_type = None
        if name is None:
            self.types.options = [ALL_TYPES]
            self.type_counts.value = ""
        else:
            bar = self.data.bar(name)
            self.types.options = [ALL_TYPES, *(item.type for item in bar.types)]
            self.type_counts.value = f"<b>{esc(name)}</b>{types_html(bar)}"
        for row in self.bars.children:
            button = row.children[0]
            button.button_style = "danger" if button.description == name else ""
        self.types.value = ALL_TYPES
        self._refilter()

    def select_type(self, error_type: str | None) -> None:
        """Select an error type within the selected field (None: all types)."""
        if error_type is not None and error_type not in self.types.options:
            raise ValueError(f"no {error_type!r} errors here; the types are {list(self.types.options[1:])}")
        self.types.value = error_type or ALL_TYPES

    def _on_type(self, change) -> None:
        self.selected_type = None if change["new"] in (None, ALL_TYPES) else change["new"]
        self._refilter()

    def set_search(self, text: str) -> None:
        """Show only failing rows whose values or messages contain ``text``."""
        self.search_box.value = text

    def _on_search(self, change) -> None:
        self.search = change["new"]
        self._refilter()

    def _refilter(self) -> None:
        if self.data is None:
            return
        self.positions = self.data.matching_positions(self.selected_field, self.selected_type, self.search)
        self.page = 0
        self._render_table()
        arguments = [f"field={self.selected_field!r}"] if self.selected_field else []
        arguments += [f"error_type={self.selected_type!r}"] if self.selected_type else []
        line = f"checked.flowschema.invalid_rows({', '.join(arguments)})"
        note = " <span class='fs-muted'>(the search is not part of it)</span>" if self.search else ""
        self.code.value = f"The same rows as a DataFrame: <code>{esc(line)}</code>{note}"

    def go_to_page(self, page: int) -> None:
        """Show page ``page`` (0-based) of the failing rows, within bounds."""
        if self.data is None:
            return
        self.page = min(max(page, 0), self.data.pages(self.positions) - 1)
        self._render_table()

    def _render_table(self) -> None:
        self.table.value = table_html(self.data, self.positions, self.page, self.selected_field)
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self.data.pages(self.positions) - 1

    def save_csv(self, path: str | os.PathLike | None = None) -> str:
        """Write the selected field's and type's failing rows (original columns) to CSV."""
        path = os.fspath(path or self.csv_path.value)
        selected = invalid_rows(self.data.frame, field=self.selected_field, error_type=self.selected_type)
        selected.to_csv(path)
        self.status.value = f"Saved {len(selected):,} rows to <code>{esc(path)}</code>"
        return path

    def __repr__(self) -> str:
        if self.data is None:
            total = "" if self._live_rows is None else f" of {self._live_rows:,}"
            return f"FlowSchema dashboard (live): {self._live_done:,}{total} rows validated"
        data = self.data
        share = f"{data.invalid / data.rows:.1%}" if data.rows else "0.0%"
        top = ", ".join(f"{bar.field} {bar.errors:,}" for bar in data.bars[:3])
        return (f"FlowSchema dashboard: {data.rows:,} rows, {data.rows - data.invalid:,} valid, "
                f"{data.invalid:,} invalid ({share})" + (f"; most errors: {top}" if top else ""))
