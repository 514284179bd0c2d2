"""HTML pieces of the dashboard, shared by the widget and the static, self-contained page.

Everything that comes from the data or the model (values, column names, index labels, field
names, rules, messages) goes through ``esc`` inside a ``<bdi>`` (a right-to-left override in a
value cannot reverse the text after it), cut to a bounded length: a cell holding
``<img src=x onerror=alert(1)>`` shows as text, a million-character value as forty characters
and an ellipsis. The root carries ``tex2jax_ignore mathjax_ignore``, so MathJax leaves ``$x$``
in values alone. Static HTML has inline styles only: no scripts, nothing fetched.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from typing import Any

import numpy as np

from flowschema.dashboard.data import PAGE_SIZE, ROW_KEY, DashboardData
from flowschema.dashboard.field_table import FieldRow
from flowschema.dashboard.grid import GridPage, grid_page
from flowschema.dashboard.style import STYLE, Look
from flowschema.dashboard.text import shorten

__all__ = [
    "FIELD_COLUMNS", "ROOT_CLASSES", "STYLE", "bdi", "caption_html", "counted", "esc", "field_cells_html",
    "fields_head_html", "fields_table_html", "grid_html", "header_html", "page_html", "percent", "sort_mark",
    "subset_note", "table_html", "types_html", "write_document",
]

#: the root element's classes: our look, and "MathJax, do not typeset in here"
ROOT_CLASSES = ("fs-dash", "tex2jax_ignore", "mathjax_ignore")
#: the per-field table's columns: key, header, width in pixels (the widget aligns rows with them)
FIELD_COLUMNS = (("field", "field", 170), ("status", "status", 70), ("column", "column", 130), ("rule", "rule", 240),
                 ("checked", "checked", 90), ("passed", "passed", 130), ("failed", "failed", 130),
                 ("bar", "", 80))
#: characters shown of a name, a rule or a message
NAME_CHARS, RULE_CHARS, MESSAGE_CHARS = 48, 80, 200


def esc(value: Any) -> str:
    """Text for HTML: ``<``, ``>``, ``&`` and quotes escaped.

    >>> esc("<b>")
    '&lt;b&gt;'
    """
    return html.escape(str(value), quote=True)


def bdi(value: Any, limit: int = NAME_CHARS) -> str:
    """A data string, isolated, escaped and cut to ``limit`` characters.

    >>> bdi("<x>")
    '<bdi>&lt;x&gt;</bdi>'
    """
    return f"<bdi>{esc(shorten(str(value), limit))}</bdi>"


def percent(part: int, whole: int) -> str:
    """``part`` as a share of ``whole``: ``3.2%``; never rounded to 0% or 100% when it is not.

    >>> percent(1, 3), percent(1, 100_000), percent(0, 5), percent(5, 5)
    ('33.3%', '<0.1%', '0%', '100%')
    """
    if not whole or part in (0, whole):
        return "0%" if not part else "100%"
    share = part / whole
    return "<0.1%" if share < 0.001 else ">99.9%" if share > 0.999 else f"{share:.1%}"


def counted(count: int, noun: str) -> str:
    """``1 failing row``, ``2 failing rows``.

    >>> counted(1, "row"), counted(1_000, "row")
    ('1 row', '1,000 rows')
    """
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def header_html(rows: int | None, invalid: int, metadata: dict, done: int | None = None, *, state: str = "",
                fields: tuple[int, int] | None = None, note: str = "", inline: bool = True) -> str:
    """The counters and the run's details.

    Final: ``rows``, valid, ``invalid``. During a run (``done`` given): ``done`` of ``rows``
    validated (``rows`` None: the total is not known), valid so far (``done - invalid``) and
    invalid, and the ``state`` line (``Starting ray…``). ``fields``: (fields, failing fields).
    """
    look = Look(inline)
    checked = rows if done is None else done
    cards = []
    if done is None:
        cards.append(("rows", f"{rows:,}", ""))
    else:
        cards.append(("validated", f"{done:,} of {rows:,}" if rows is not None else f"{done:,} of ?", ""))
    cards.append(("valid", f"{checked - invalid:,} · {percent(checked - invalid, checked)}", "fs-card-valid"))
    cards.append(("invalid", f"{invalid:,} · {percent(invalid, checked)}", "fs-card-invalid"))
    if fields is not None:
        cards.append(("fields", f"{fields[0]:,} · {fields[1]:,} failing", ""))
    card_html = "".join(
        f"<div{look('fs-card', *([kind] if kind else []))}><div{look('fs-card-label')}>{label}</div>"
        f"<div{look('fs-card-value', 'fs-num')}>{value}</div></div>" for label, value, kind in cards)
    details = [f"{name} {bdi(metadata[key])}" for name, key in
               (("model", "model"), ("executor", "executor"), ("engine", "engine"), ("source", "source"))
               if metadata.get(key)]
    elapsed = metadata.get("elapsed_seconds")
    if elapsed is not None:
        speed = f", {metadata.get('rows', checked) / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        details.append(f"{elapsed:.2f} s{speed}")
    if metadata.get("started"):
        details.append(f"started {bdi(_when(metadata['started']))}")
    parts = [f"<div{look('fs-title')}>FlowSchema validation</div>", f"<div{look('fs-cards')}>{card_html}</div>"]
    if details:
        parts.append(f"<div{look('fs-details')}>{' · '.join(details)}</div>")
    if state:
        parts.append(f"<div{look('fs-state')}>{state}</div>")
    if note:
        parts.append(f"<div{look('fs-note')}>{note}</div>")
    return f"<div{look('fs-header')}>{''.join(parts)}</div>"


def _when(started: Any) -> str:
    """An ISO timestamp as ``2026-11-29 17:20:05 +01:00``."""
    try:
        moment = dt.datetime.fromisoformat(str(started))
    except ValueError:
        return str(started)
    return moment.strftime("%Y-%m-%d %H:%M:%S %z").strip().replace("+0000", "UTC")


def _field_cell(row: FieldRow, key: str, look: Look) -> tuple[str, str, str]:
    """(classes, content, tooltip) of one cell of a per-field row."""
    muted_dash = f"<span{look('fs-muted')}>—</span>"
    if key == "field":
        return "fs-field-name", bdi(row.name), row.name
    if key == "status":
        return "", f"<span{look('fs-dot', f'fs-dot-{row.status}')}></span>{row.status}", ""
    if key == "column":
        return "", bdi(row.column) if row.column is not None else muted_dash, row.column or "reads no column"
    if key == "rule":
        return "", bdi(row.rule, RULE_CHARS) if row.rule else muted_dash, row.rule
    if key == "checked":
        return "fs-num", f"{row.checked:,}", ""
    if key in ("passed", "failed"):
        count = row.passed if key == "passed" else row.failed
        return "fs-num", f"{count:,} · {percent(count, row.checked)}", ""
    width = 100 * row.failed / row.checked if row.checked else 0
    fill = f"<span{look('fs-bar-fill', style=f'width: max({width:.2f}%, {2 if row.failed else 0}px);')}></span>"
    return "", f"<span{look('fs-bar')}>{fill}</span>", f"{percent(row.failed, row.checked)} of the rows fail"


def fields_head_html(inline: bool = False) -> str:
    """The per-field table's header as a row of fixed-width cells (the widget's rows align with it)."""
    look = Look(inline)
    return "".join(f"<span{look('fs-cell', style=f'width: {width}px;')}>{title}</span>"
                   for _, title, width in FIELD_COLUMNS)


def field_cells_html(row: FieldRow, inline: bool = False, skip_name: bool = True) -> str:
    """One per-field row as fixed-width cells (without the name: the widget's button shows it)."""
    look = Look(inline)
    cells = []
    for key, _, width in FIELD_COLUMNS[1 if skip_name else 0:]:
        classes, content, tip = _field_cell(row, key, look)
        title = f' title="{esc(shorten(tip, MESSAGE_CHARS))}"' if tip else ""
        cells.append(f"<span{look('fs-cell', *classes.split(), style=f'width: {width}px;')}{title}>{content}</span>")
    return "".join(cells)


def fields_table_html(rows: list[FieldRow], inline: bool = True) -> str:
    """The per-field table as an HTML table (the static page)."""
    look = Look(inline)
    head = "".join(f"<th{look('fs-th')}>{title}</th>" for _, title, _ in FIELD_COLUMNS)
    body = []
    for row in rows:
        cells = []
        for key, _, _ in FIELD_COLUMNS:
            classes, content, tip = _field_cell(row, key, look)
            title = f' title="{esc(shorten(tip, MESSAGE_CHARS))}"' if tip else ""
            cells.append(f"<td{look('fs-td', *classes.split())}{title}>{content}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table{look('fs-table')}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def types_html(rows: list[FieldRow], inline: bool = True) -> str:
    """Per failing field, a disclosure (its marker visible) of its error types, with counts and
    one message each."""
    look = Look(inline)
    blocks = []
    for row in rows:
        if not row.failed:
            continue
        lines = "".join(f"<tr><td{look('fs-td', 'fs-field-name')}>{bdi(item.type)}</td>"
                        f"<td{look('fs-td', 'fs-num')}>{item.count:,}</td>"
                        f"<td{look('fs-td')}>{bdi(item.sample_msg, MESSAGE_CHARS)}</td></tr>" for item in row.types)
        blocks.append(f"<details><summary{look('fs-summary')}><b>{bdi(row.name)}</b>: "
                      f"{counted(row.failed, 'failing row')}, {counted(len(row.types), 'error type')}</summary>"
                      f"<table{look('fs-table')}>{lines}</table></details>")
    return "".join(blocks)


def grid_html(page: GridPage, inline: bool = True, head: bool = True, sort: tuple[Any, bool] | None = None) -> str:
    """One page of the grid as a fixed-layout table (its header row only with ``head``: the
    widget draws the header as buttons). ``sort``: (column key, descending) marks a header."""
    look = Look(inline)
    # the widget fixes each column's width (its header buttons align with them); static HTML lets
    # the browser fit them to values already cut in Python
    total = f"width: {sum(column.width for column in page.columns)}px;" if not inline else ""
    columns = "".join(f'<col style="width: {column.width}px;">' for column in page.columns) if not inline else ""
    header = ""
    if head:
        header = "<thead><tr>" + "".join(
            f"<th{look('fs-gh')} title=\"{esc(column.title)}\">{bdi(column.title)}{sort_mark(column.key, sort)}</th>"
            for column in page.columns) + "</tr></thead>"
    body = []
    for row in page.rows:
        cells = []
        for cell in row:
            missing = f"<span{look('fs-missing')}>missing</span>"
            content = missing if cell.text is None else bdi(cell.text, len(cell.text))  # cut already
            tip = f' title="{esc(cell.tip)}"' if cell.tip else ""
            cells.append(f"<td{look('fs-gc', *(['fs-bad'] if cell.bad else []))}{tip}>{content}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not page.rows:
        body.append(f"<tr><td{look('fs-gc', 'fs-muted')} colspan=\"{len(page.columns)}\">"
                    "No failing rows match.</td></tr>")
    return (f"<table{look('fs-grid', style=total)}><colgroup>{columns}</colgroup>{header}"
            f"<tbody>{''.join(body)}</tbody></table>")


def sort_mark(key: Any, sort: tuple[Any, bool] | None) -> str:
    """`` ▲`` / `` ▼`` after the header of the column the grid is sorted by (none for the rows'
    own order)."""
    if sort is None or sort[0] != key or sort == (ROW_KEY, False):
        return ""
    return " ▼" if sort[1] else " ▲"


def caption_html(data: DashboardData, page: GridPage, filters: str = "", inline: bool = True) -> str:
    """What the grid shows: how many failing rows match, which page; for a subset, of what."""
    look = Look(inline)
    held = f" of the {data.invalid:,} this frame holds ({esc(data.subset)})" \
        if data.subset and data.invalid < data.total_invalid else ""
    return (f"<div{look('fs-caption')}>{counted(page.count, 'failing row')}{held}{filters} · page {page.page + 1} "
            f"of {page.pages} · {page.page_size} per page</div>")


def table_html(data: DashboardData, positions: np.ndarray, page: int, selected_field: str | None = None,
               page_size: int = PAGE_SIZE) -> str:
    """One page of failing rows with its caption (static), the selected field's columns first."""
    shown = grid_page(data, positions, page, data.selection_columns(selected_field), page_size)
    return caption_html(data, shown) + f"<div{Look(True)(style='overflow-x: auto;')}>{grid_html(shown)}</div>"


def subset_note(data: DashboardData) -> str:
    """For a frame holding some of a run's rows: what it holds, and that the counts are the run's."""
    if not data.subset:
        return ""
    if data.invalid == data.total_invalid:
        return (f"This frame holds the run's {counted(data.total_invalid, 'failing row')}, not its valid ones: "
                "the counts above and per field are the whole run's.")
    return (f"This frame holds {data.invalid:,} of the run's {counted(data.total_invalid, 'failing row')} "
            f"({esc(data.subset)}): the counts above and per field are the whole run's; the grid shows the rows held.")


def page_html(data: DashboardData, pages: int = 3, page_size: int = PAGE_SIZE) -> str:
    """The whole dashboard as one static view: header, per-field table, error types, and the
    first ``pages`` pages (of ``page_size`` rows) of failing rows."""
    look = Look(True)
    failing_fields = sum(1 for row in data.fields if row.failed)
    sections = [header_html(data.total_rows, data.total_invalid, data.metadata,
                            fields=(len(data.fields), failing_fields), note=subset_note(data))]
    if data.fields:
        sections.append(f"<div{look('fs-h')}>Fields</div>{fields_table_html(data.fields)}")
        if not data.metadata.get("fields"):
            sections.append(f"<div{look('fs-caption')}>Only the fields with errors are listed: this frame does not "
                            "say which model fields were checked.</div>")
    if data.invalid:
        sections.append(f"<div{look('fs-h')}>Error types</div>{types_html(data.fields)}")
        positions = data.matching_positions()
        shown = min(pages, data.pages(positions, page_size))
        sections.append(f"<div{look('fs-h')}>Failing rows</div>")
        sections.extend(table_html(data, positions, page, page_size=page_size) for page in range(shown))
    elif not data.total_invalid:
        sections.append("<p>Every row is valid.</p>")
    return f"<div{look(*ROOT_CLASSES)}>{''.join(sections)}</div>"


def write_document(body: str, path: str | os.PathLike) -> None:
    """Write ``body`` as a self-contained HTML document: no scripts run, nothing is fetched."""
    document = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
                f"<title>FlowSchema validation</title></head><body>{body}</body></html>")
    with open(path, "w", encoding="utf-8") as file:
        file.write(document)

