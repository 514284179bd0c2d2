"""HTML pieces of the dashboard, shared by the widget and the static, self-contained page.

Everything that comes from the data or the model (values, column names, index labels, field
names, messages) goes through ``esc``: a cell holding ``<img src=x onerror=alert(1)>`` shows
as text. Styles use JupyterLab's CSS variables, with fallbacks, so the dashboard follows light
and dark themes; the static page has no scripts and loads nothing from the network.
"""

from __future__ import annotations

import html
import os
from typing import Any

import numpy as np

from flowschema.annotate import ERRORS_COLUMN
from flowschema.dashboard.data import PAGE_SIZE, DashboardData, FieldBar
from flowschema.report import field_name

__all__ = ["STYLE", "bar_html", "esc", "header_html", "page_html", "table_html", "types_html", "write_document"]

STYLE = """
.fs-dash { font-family: var(--jp-ui-font-family, sans-serif); color: var(--jp-ui-font-color1, #222);
  font-size: var(--jp-ui-font-size1, 13px); }
.fs-dash h3, .fs-header h3 { margin: 4px 0; font-size: 1.2em; }
.fs-stats span { margin-right: 1.2em; }
.fs-invalid { color: var(--jp-error-color1, #c62828); font-weight: bold; }
.fs-valid { color: var(--jp-success-color1, #2e7d32); font-weight: bold; }
.fs-muted { color: var(--jp-ui-font-color2, #666); }
.fs-bar { display: flex; align-items: center; gap: 6px; min-height: 22px; }
.fs-bar .fs-bar { flex: 1; }
.fs-bar-track { flex: 1; min-width: 8em; max-width: 40em; background: var(--jp-layout-color2, #eee); height: 12px;
  border-radius: 2px; }
.fs-bar-fill { background: var(--jp-error-color1, #c62828); height: 12px; border-radius: 2px; }
.fs-bar-label { white-space: nowrap; min-width: 12em; }
.fs-table { border-collapse: collapse; font-size: var(--jp-code-font-size, 12px); }
.fs-table th, .fs-table td { border: 1px solid var(--jp-border-color2, #ddd); padding: 2px 6px;
  text-align: left; vertical-align: top; max-width: 24em; overflow-wrap: anywhere; }
.fs-table th { background: var(--jp-layout-color2, #f3f3f3); }
.fs-table td.fs-bad { background: var(--jp-error-color3, #ffcdd2); color: var(--jp-ui-font-color0, #000); }
.fs-types td { padding: 1px 8px 1px 0; }
"""


def esc(value: Any) -> str:
    """Text for HTML: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(value), quote=True)


def header_html(rows: int, invalid: int, metadata: dict, done: int | None = None) -> str:
    """The counters: rows, valid, invalid (with %), and the run's model, executor and speed."""
    share = f"{invalid / rows:.1%}" if rows else "0.0%"
    progress = f"<span class='fs-muted'>{done:,} of {rows:,} rows validated</span>" if done is not None else ""
    parts = [
        f"<span>rows <b>{rows:,}</b></span>",
        f"<span class='fs-valid'>valid {rows - invalid:,}</span>",
        f"<span class='fs-invalid'>invalid {invalid:,} ({share})</span>",
        progress,
    ]
    details = []
    if metadata.get("model"):
        details.append(f"model <b>{esc(metadata['model'])}</b>")
    if metadata.get("executor"):
        details.append(f"executor <b>{esc(metadata['executor'])}</b>")
    elapsed = metadata.get("elapsed_seconds")
    if elapsed is not None:
        speed = f", {metadata.get('rows', rows) / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        details.append(f"{elapsed:.2f} s{speed}")
    detail = f"<div class='fs-muted'>{' · '.join(details)}</div>" if details else ""
    return f"<div class='fs-header'><h3>FlowSchema validation</h3><div class='fs-stats'>{''.join(parts)}</div>{detail}</div>"


def bar_html(errors: int, rows_hit: int, total_rows: int, largest: int) -> str:
    """A horizontal bar: errors relative to the largest field's, with count and share of rows."""
    width = 100 * errors / largest if largest else 0
    share = f"{rows_hit / total_rows:.1%}" if total_rows else "0.0%"
    return (f"<div class='fs-bar'><div class='fs-bar-track'><div class='fs-bar-fill' style='width:{width:.1f}%'>"
            f"</div></div><span>{errors:,} errors, {rows_hit:,} rows ({share})</span></div>")


def types_html(bar: FieldBar) -> str:
    """The counts by error type of one field, each with a sample message."""
    rows = "".join(f"<tr><td><b>{esc(item.type)}</b></td><td>{item.count:,}</td>"
                   f"<td class='fs-muted'>{esc(item.sample_msg)}</td></tr>" for item in bar.types)
    return f"<table class='fs-types'>{rows}</table>"


def table_html(data: DashboardData, positions: np.ndarray, page: int, selected_field: str | None = None) -> str:
    """One page of failing rows: index label, original values (the failing cells highlighted),
    and the messages (only the selected field's when one is selected)."""
    shown = data.page(positions, page)
    header = "".join(f"<th>{esc(column)}</th>" for column in ["row", *data.columns, "errors"])
    body = []
    for label, (_, row) in zip(shown.index, shown.iterrows()):
        errors = row[ERRORS_COLUMN]
        bad = {str(error["loc"][0]) for error in errors if error["loc"]}
        cells = "".join(
            f"<td class='fs-bad'>{esc(row[column])}</td>" if str(column) in bad else f"<td>{esc(row[column])}</td>"
            for column in data.columns
        )
        messages = "<br>".join(f"<b>{esc(field_name(error['loc']))}</b>: {esc(error['msg'])}" for error in errors
                               if selected_field is None or field_name(error["loc"]) == selected_field)
        body.append(f"<tr><td>{esc(label)}</td>{cells}<td>{messages}</td></tr>")
    pages = data.pages(positions)
    caption = f"<div class='fs-muted'>{len(positions):,} failing rows · page {page + 1} of {pages}</div>"
    return f"{caption}<table class='fs-table'><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page_html(data: DashboardData, pages: int = 3) -> str:
    """The whole dashboard as one static view: header, bars, type counts, the first pages."""
    largest = data.bars[0].errors if data.bars else 0
    sections = [header_html(data.rows, data.invalid, data.metadata)]
    if data.bars:
        sections.append("<h3>Errors per field</h3>")
        for bar in data.bars:
            sections.append(f"<details><summary class='fs-bar'><span class='fs-bar-label'><b>{esc(bar.field)}</b>"
                            f"</span>{bar_html(bar.errors, bar.rows, data.rows, largest)}</summary>"
                            f"{types_html(bar)}</details>")
        positions = data.matching_positions()
        shown = min(pages, data.pages(positions))
        sections.append(f"<h3>Failing rows <span class='fs-muted'>({PAGE_SIZE} per page; the first {shown} "
                        f"of {data.pages(positions)} pages)</span></h3>")
        sections.extend(table_html(data, positions, page) for page in range(shown))
    else:
        sections.append("<p class='fs-valid'>Every row is valid.</p>")
    return f"<style>{STYLE}</style><div class='fs-dash'>{''.join(sections)}</div>"


def write_document(body: str, path: str | os.PathLike) -> None:
    """Write ``body`` as a self-contained HTML document: no scripts run, nothing is fetched."""
    document = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
                f"<title>FlowSchema validation</title></head><body>{body}</body></html>")
    with open(path, "w", encoding="utf-8") as file:
        file.write(document)
