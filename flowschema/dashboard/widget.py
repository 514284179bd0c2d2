"""The ipywidgets explorer of a validation: the per-field table, then the failing rows.

Standard ipywidgets only (no front-end build), so it renders in JupyterLab, Notebook 7 and
Voila. The state lives in Python (``selected_field``, ``selected_type``, ``search``, ``sort``,
``page``); the widgets only show it, so a test can drive the dashboard without a browser.
Filtering, sorting and paging run over all failing rows in Python; the browser gets one page.

Live (``validate(..., dashboard=True)``), it is a ``RunListener``: the header says what the run
is doing (``Starting ray…``, ``20 of 60 rows``), counts rows done, valid and invalid so far, and
lists the failing fields; everything that needs the full result stays disabled until it is there.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
import pandas as pd

from flowschema.annotate import original_columns
from flowschema.dashboard.data import ROW_KEY, DashboardData
from flowschema.dashboard.download import csv_link
from flowschema.dashboard.field_table import FieldFailures, field_rows
from flowschema.dashboard.grid import grid_page
from flowschema.dashboard.html import (
    FIELD_COLUMNS,
    ROOT_CLASSES,
    STYLE,
    caption_html,
    counted,
    esc,
    field_cells_html,
    fields_head_html,
    grid_html,
    header_html,
    page_html,
    percent,
    sort_mark,
    subset_note,
)
from flowschema.dashboard.style import Look
from flowschema.dashboard.text import isolate
from flowschema.progress import RunListener
from flowschema.report import field_name
from flowschema.validation import ChunkResult

__all__ = ["ALL_TYPES", "CSV_NAME", "FALLBACK_ROWS", "Dashboard"]

#: the error-type menu's first entry
ALL_TYPES = "all error types"
#: the name of the downloaded CSV file
CSV_NAME = "flowschema_failing_rows.csv"
#: failing rows in the static fallback a notebook keeps (inline styles make each row weigh)
FALLBACK_ROWS = 10


class Dashboard(widgets.VBox, RunListener):
    """One widget: header, per-field table, filters, a sortable paged grid of failing rows, export.

    Built from an annotated frame (``checked.flowschema.dashboard()``), or empty and live
    (``validate(..., dashboard=True)``; ``total_rows=None`` for a stream of unknown length).
    ``code_hints=False`` (the app) speaks of buttons instead of code.
    """

    def __init__(self, frame: pd.DataFrame | None = None, *, total_rows: int | None = 0,
                 metadata: dict | None = None, code_hints: bool = True) -> None:
        self.data: DashboardData | None = None
        self.selected_field: str | None = None
        self.selected_type: str | None = None
        self.search = ""
        self.sort: tuple[Hashable, bool] = (ROW_KEY, False)
        self.page = 0
        self.positions = np.empty(0, dtype=np.int64)
        self.code_hints = code_hints
        self._live_rows, self._live_done, self._live_invalid = total_rows, 0, 0
        self._live_fields: dict[str, FieldFailures] = {}
        self._live_metadata = dict(metadata or {})
        self._state = ""
        self._field_rows: dict[str, tuple[widgets.HBox, widgets.Button, widgets.HTML]] = {}
        self._head_keys: list[Hashable] = []
        self._displays: list = []
        self._quiet = False
        # the many row and header widgets share their layout and style models: a notebook saved
        # with widget state keeps one copy of each, not one per widget
        self._shared = {"layout": widgets.Layout(), "button": widgets.ButtonStyle(),
                        "html": widgets.widget_string.HTMLStyle(),
                        "field": widgets.Layout(width=f"{FIELD_COLUMNS[0][2]}px")}

        self.header = widgets.HTML()
        self.status = widgets.HTML()
        self.field_list = widgets.VBox([self._html(fields_head_html(), "fs-field-head")])
        self.field_list.add_class("fs-scroll")
        self.all_fields_button = widgets.Button(description="All fields", icon="list",
                                                tooltip="show the failing rows of every field, of every type")
        self.all_fields_button.on_click(lambda _: self.reset())
        self.types = widgets.Dropdown(options=[(ALL_TYPES, "")], description="Error type:",
                                      layout=widgets.Layout(width="22em"))
        self.types.observe(self._on_type, names="value")
        self.search_box = widgets.Text(placeholder="values, index labels, messages", description="Search:",
                                       continuous_update=False)
        self.search_box.observe(self._on_search, names="value")
        self.caption = widgets.HTML()
        self.grid_head = widgets.HBox()
        self.grid_head.add_class("fs-grid-head")
        self.grid_body = self._html("", "fs-grid-body")
        grid = widgets.VBox([self.grid_head, self.grid_body])
        grid.add_class("fs-scroll")
        self.previous_button = widgets.Button(description="◀ previous", layout=widgets.Layout(width="auto"))
        self.next_button = widgets.Button(description="next ▶", layout=widgets.Layout(width="auto"))
        self.previous_button.on_click(lambda _: self.go_to_page(self.page - 1))
        self.next_button.on_click(lambda _: self.go_to_page(self.page + 1))
        self.page_label = widgets.HTML()
        self.save_button = widgets.Button(description="Save rows to CSV", icon="download",
                                          tooltip="prepare the rows the grid shows (every page) for download",
                                          layout=widgets.Layout(width="auto"))
        self.save_button.on_click(lambda _: self.prepare_download())
        self.download = widgets.HTML()
        self.hint = widgets.HTML()
        self._controls = [self.all_fields_button, self.types, self.search_box, self.previous_button,
                          self.next_button, self.save_button]
        super().__init__(children=[
            widgets.HTML(f"<style>{STYLE}</style>"),
            self.header,
            self.status,
            self.field_list,
            widgets.HBox([self.all_fields_button, self.types, self.search_box]),
            self.caption,
            grid,
            widgets.HBox([self.previous_button, self.page_label, self.next_button]),
            widgets.HBox([self.save_button, self.download]),
            self.hint,
        ])
        for name in ROOT_CLASSES:
            self.add_class(name)
        if frame is not None:
            self.load(frame)
        else:
            self._render_live()

    # -- live mode --------------------------------------------------------------------------

    def run_started(self, total_rows: int | None, metadata: dict) -> None:
        """A run begins (live mode): reset the counters; say the executor is starting."""
        self._live_rows, self._live_done, self._live_invalid = total_rows, 0, 0
        self._live_fields.clear()
        self._live_metadata = dict(metadata)
        self._state = f"Starting {esc(metadata.get('executor') or 'the executor')}…"
        self.status.value = ""
        self._render_live()

    def executor_ready(self, executor: str) -> None:
        """The executor is up: rows follow."""
        self._state = "Validating…"
        self._render_live()

    def chunk_done(self, result: ChunkResult) -> None:
        """Count one finished chunk (live mode): rows done, invalid rows, failing rows per field."""
        self._live_done += result.size
        self._live_invalid += len(result.failed)
        for errors in result.failed.values():
            for name in dict.fromkeys(field_name(error["loc"]) for error in errors):
                failures = self._live_fields.setdefault(name, FieldFailures())
                failures.rows += 1
            for error in errors:
                self._live_fields[field_name(error["loc"])].errors += 1
        self._state = "Validating…"
        self._render_live()

    def run_finished(self, frame: pd.DataFrame | None) -> None:
        """The run ended: explore its result (for a file, its failing-row sample with the file's
        totals); a stream keeps no rows, so its dashboard ends with the counts."""
        if frame is not None:
            self.load(frame)
            return
        self._live_rows = self._live_done
        self._state = ("Finished. A stream keeps no rows: explore each frame it yielded with "
                       "<code>.flowschema.dashboard()</code>." if self.code_hints else "Finished.")
        self._render_live()
        self._update_displays()

    def run_failed(self, error: BaseException) -> None:
        """The run stopped: say so, with the exception's type and message."""
        self._state = ""
        self._render_live()
        self.status.value = (f"<div class='fs-failure'>The run stopped after {self._live_done:,} rows: "
                             f"<b>{esc(type(error).__name__)}</b>: {esc(error)}</div>")
        self._update_displays()

    def _render_live(self) -> None:
        total, done = self._live_rows, self._live_done
        state = self._state
        if state == "Validating…":
            state = (f"Validating: {done:,} of {total:,} rows ({percent(done, total)})" if total is not None
                     else f"Validating: {done:,} rows so far (the total is not known)")
        self.header.value = header_html(total, self._live_invalid, self._live_metadata, done, state=state,
                                        inline=False)
        model_fields = self._live_metadata.get("fields") or []
        rows = field_rows(model_fields, self._live_fields, done, set())
        for row in rows:  # one row of widgets per field, updated in place chunk after chunk
            if row.name not in self._field_rows:
                self._field_rows[row.name] = self._field_row(row.name)
            box, button, cells = self._field_rows[row.name]
            button.disabled = True
            cells.value = field_cells_html(row)
        self.field_list.children = [self.field_list.children[0], *(self._field_rows[row.name][0] for row in rows)]
        for control in self._controls:
            control.disabled = True
        self.caption.value = "<div class='fs-caption'>The failing rows can be explored when the run ends.</div>"
        self.grid_head.children, self.grid_body.value, self.page_label.value = [], "", ""
        self.download.value = self.hint.value = ""

    def _field_row(self, name: str) -> tuple[widgets.HBox, widgets.Button, widgets.HTML]:
        button = widgets.Button(description=isolate(name), tooltip=f"show the rows failing on {isolate(name)}",
                                layout=self._shared["field"], style=self._shared["button"])
        button.add_class("fs-field-button")
        button.on_click(lambda _: self.select_field(name))
        cells = self._html("", "fs-field-cells")
        box = widgets.HBox([button, cells], layout=self._shared["layout"])
        box.add_class("fs-field-row")
        return box, button, cells

    # -- the final view -----------------------------------------------------------------------

    def load(self, frame: pd.DataFrame) -> None:
        """Show the annotated ``frame``: everything is recomputed from it."""
        for box, button, cells in self._field_rows.values():  # the live rows, or an earlier frame's
            for widget in (button, cells, box):
                widget.close()
        self._field_rows.clear()
        self.data = data = DashboardData(frame)
        self._metadata = {**self._live_metadata, **data.metadata}
        failing = sum(1 for row in data.fields if row.failed)
        self.header.value = header_html(data.total_rows, data.total_invalid, self._metadata,
                                        fields=(len(data.fields), failing), note=subset_note(data), inline=False)
        if not data.metadata.get("fields"):
            self.status.value = ("<div class='fs-caption'>Only the fields with errors are listed: this frame does "
                                 "not say which model fields were checked.</div>")
        for row in data.fields:
            self._field_rows[row.name] = box, button, cells = self._field_row(row.name)
            cells.value = field_cells_html(row)
        self.field_list.children = [self.field_list.children[0], *(box for box, _, _ in self._field_rows.values())]
        for control in self._controls:
            control.disabled = False
        self.reset()
        self._update_displays()

    def reset(self) -> None:
        """All fields, all error types, no search, frame order."""
        self._require_data()
        self.selected_field, self.selected_type, self.search, self.sort = None, None, "", (ROW_KEY, False)
        with self._quietly():
            self.search_box.value = ""
        self._offer_types()
        self._refilter()

    @contextmanager
    def _quietly(self):
        """Set controls' values without their observers refiltering (the caller does it once)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _require_data(self) -> None:
        if self.data is None:
            raise RuntimeError("the run has not finished: the failing rows can be explored when it ends")

    def select_field(self, name: str | None) -> None:
        """Select a field by its name in the per-field table (None: all fields); an error type
        selected before stays selected if the field has errors of that type."""
        self._require_data()
        if name is not None:
            self.data.field(name)  # a KeyError naming the fields if there is no such field
        self.selected_field = name
        self._offer_types()
        self._refilter()

    def select_type(self, error_type: str | None) -> None:
        """Select an error type, within the selected field or across all fields (None: all types)."""
        self._require_data()
        offered = [value for _, value in self.types.options[1:]]
        if error_type is not None and error_type not in offered:
            raise ValueError(f"no {error_type!r} errors here; the types are {offered}")
        self.types.value = error_type or ""

    def _offer_types(self) -> None:
        options = [(ALL_TYPES, "")] + [(f"{isolate(name)} · {counted(rows, 'row')}", name)
                                         for name, rows in self.data.type_rows(self.selected_field)]
        kept = self.selected_type if self.selected_type in [value for _, value in options] else None
        with self._quietly():
            self.types.options = options
            self.types.value = kept or ""
        self.selected_type = kept
        for name, (box, _, _) in self._field_rows.items():
            _set_class(box, "fs-selected", name == self.selected_field)

    def _on_type(self, change) -> None:
        if not self._quiet:
            self.selected_type = change["new"] or None
            self._refilter()

    def set_search(self, text: str) -> None:
        """Show only failing rows whose index label, values or messages contain ``text`` (any case)."""
        self.search_box.value = text

    def _on_search(self, change) -> None:
        if not self._quiet:
            self.search = change["new"]
            self._refilter()

    def sort_by(self, key: Hashable) -> None:
        """Sort the failing rows by a grid column (``ROW_KEY``: frame order); again: reverse it."""
        self._require_data()
        self.sort = (key, not self.sort[1] if self.sort[0] == key else False)
        self._reorder()

    def _refilter(self) -> None:
        if self.data is None:
            return
        self._matching = self.data.matching_positions(self.selected_field, self.selected_type, self.search)
        self._reorder()

    def _reorder(self) -> None:
        self.positions = self.data.ordered(self._matching, *self.sort)
        self.page = 0
        self._render_grid()
        self.download.value = ""
        self.hint.value = self._hint()

    def go_to_page(self, page: int) -> None:
        """Show page ``page`` (0-based) of the failing rows, within bounds."""
        if self.data is None:
            return
        self.page = min(max(page, 0), self.data.pages(self.positions) - 1)
        self._render_grid()

    def _render_grid(self) -> None:
        data = self.data
        first = data.selection_columns(self.selected_field, self.selected_type)
        page = grid_page(data, self.positions, self.page, first)
        buttons = list(self.grid_head.children)  # kept from page to page, relabelled
        buttons += [self._head_button(number) for number in range(len(buttons), len(page.columns))]
        for button, column in zip(buttons, page.columns, strict=False):
            button.description = isolate(column.title) + sort_mark(column.key, self.sort)
            button.tooltip = f"sort by {isolate(column.title)}"
            button.layout.width = f"{column.width}px"
        self._head_keys = [column.key for column in page.columns]
        self.grid_head.children = buttons[: len(page.columns)]
        self.grid_body.value = grid_html(page, inline=False, head=False)
        filters = "".join(f" · {label} <bdi>{esc(value)}</bdi>" for label, value in
                          (("field", self.selected_field), ("type", self.selected_type),
                           ("search", self.search or None)) if value is not None)
        if self.sort != (ROW_KEY, False):
            title = next(column.title for column in page.columns if column.key == self.sort[0])
            filters += f" · sorted by <bdi>{esc(title)}</bdi>, {'descending' if self.sort[1] else 'ascending'}"
        self.caption.value = caption_html(data, page, filters, inline=False)
        self.page_label.value = f"<div class='fs-caption'>page {page.page + 1} of {page.pages}</div>"
        self.previous_button.disabled = page.page == 0
        self.next_button.disabled = page.page >= page.pages - 1

    def _head_button(self, number: int) -> widgets.Button:
        """The header button of the grid's ``number``-th column: a click sorts by that column."""
        button = widgets.Button(style=self._shared["button"])
        button.on_click(lambda _: self.sort_by(self._head_keys[number]))
        return button

    def _hint(self) -> str:
        if not self.code_hints:
            return ("<div class='fs-caption'>Click a field or a column header; <b>Save rows to CSV</b> gives every "
                    "row of the selection, not only this page, as a file in your browser.</div>")
        arguments = [f"field={self.selected_field!r}"] if self.selected_field else []
        arguments += [f"error_type={self.selected_type!r}"] if self.selected_type else []
        line = f"checked.flowschema.invalid_rows({', '.join(arguments)})"
        note = " (the search is not part of it)" if self.search else ""
        return f"<div class='fs-caption'>The same rows as a DataFrame: <code>{esc(line)}</code>{note}</div>"

    def selected_rows(self) -> pd.DataFrame:
        """The rows the grid shows, every page, in its order: their original columns."""
        self._require_data()
        return original_columns(self.data.frame.iloc[self.positions])

    def prepare_download(self) -> None:
        """Offer the selected rows as a CSV file the browser downloads (a link next to the button)."""
        self.download.value = csv_link(self.selected_rows(), CSV_NAME)

    def save_csv(self, path: str | os.PathLike) -> str:
        """Write the selected rows (every page; original columns) to a CSV file at ``path``."""
        path = os.fspath(path)
        self.selected_rows().to_csv(path)
        self.status.value = (f"<div class='fs-caption'>Saved {counted(len(self.positions), 'row')} to "
                             f"<code>{esc(path)}</code></div>")
        return path

    # -- where widgets cannot run --------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs) -> dict | None:
        """The widget, and the static dashboard as ``text/html`` for where widgets cannot run
        (a notebook saved without widget state, GitHub, nbconvert)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/html"] = self._static_html()
        return bundle

    def _ipython_display_(self) -> None:
        """Display with a display id, so that a live dashboard's static fallback is replaced
        by the final one when the run ends."""
        from IPython.display import display

        self._displays.append(display(self._repr_mimebundle_(), raw=True, display_id=True))

    def _update_displays(self) -> None:
        bundle = self._repr_mimebundle_()
        for handle in self._displays:
            handle.update(bundle, raw=True)

    def _static_html(self) -> str:
        if self.data is not None:
            return page_html(self.data, pages=1, page_size=FALLBACK_ROWS)
        header = header_html(self._live_rows, self._live_invalid, self._live_metadata, self._live_done)
        return f"<div{Look(True)(*ROOT_CLASSES)}>{header}<p>A live dashboard: the run had not ended.</p></div>"

    def _html(self, value: str, css_class: str) -> widgets.HTML:
        widget = widgets.HTML(value, layout=self._shared["layout"], style=self._shared["html"])
        widget.add_class(css_class)
        return widget

    def __repr__(self) -> str:
        if self.data is None:
            total = "" if self._live_rows is None else f" of {self._live_rows:,}"
            return f"FlowSchema dashboard (live): {self._live_done:,}{total} rows validated"
        data = self.data
        top = ", ".join(f"{row.name} {row.failed:,}" for row in sorted(data.fields, key=lambda row: -row.failed)[:3]
                        if row.failed)
        return (f"FlowSchema dashboard: {data.total_rows:,} rows, {data.total_rows - data.total_invalid:,} valid, "
                f"{data.total_invalid:,} invalid ({percent(data.total_invalid, data.total_rows)})"
                + (f"; most failing rows: {top}" if top else ""))


def _set_class(widget: widgets.DOMWidget, css_class: str, on: bool) -> None:
    if on and css_class not in widget._dom_classes:
        widget.add_class(css_class)
    elif not on and css_class in widget._dom_classes:
        widget.remove_class(css_class)
