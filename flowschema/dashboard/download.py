"""A CSV download that happens in the browser: a link holding the file as a ``data:`` URL.

Standard widgets cannot hand the browser a file, but an HTML widget can show a link with the
``download`` attribute whose address is the file itself: clicking it saves the file on the
user's machine (JupyterLab, Notebook 7 and Voila alike), nothing is written on the server and
nothing is fetched. The file travels inside the widget's state, so it is capped.
"""

from __future__ import annotations

import base64

import pandas as pd

from flowschema.dashboard.html import esc

__all__ = ["DOWNLOAD_LIMIT", "csv_link"]

#: the largest CSV offered as a download, in bytes (it travels in the widget's state)
DOWNLOAD_LIMIT = 25 * 1024 * 1024


def csv_link(rows: pd.DataFrame, filename: str, limit: int = DOWNLOAD_LIMIT) -> str:
    """A link that downloads ``rows`` as ``filename`` (CSV, with the index), or a sentence
    saying why not (more than ``limit`` bytes).

    >>> csv_link(pd.DataFrame({"x": [1]}), "rows.csv")[:36]
    '<a class="fs-download" download="row'
    """
    data = rows.to_csv().encode("utf-8")
    if len(data) > limit:
        return (f"{len(rows):,} rows make {len(data) / 1e6:,.0f} MB of CSV, more than the {limit / 1e6:,.0f} MB a "
                "browser download takes here: narrow the selection (a field, an error type, a search).")
    address = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    size = f"{len(data) / 1024:,.0f} KB" if len(data) >= 1024 else f"{len(data)} bytes"
    return (f'<a class="fs-download" download="{esc(filename)}" href="{address}">⬇ {esc(filename)}</a> '
            f"({len(rows):,} rows, {size})")
