"""The dashboard at scale: 10 million rows with 1 million errors, and search over 1.5 million
failing rows.

A 100,000-row frame with 10% invalid rows is validated once and repeated 100 times; then
``dashboard()`` and ``to_html()`` are timed (best of 3). Target: under 2 seconds each.
Then a 5-million-row result with 1.5 million failing rows (a 50,000-row frame, 30% invalid,
repeated 100 times): a search is timed on a fresh dashboard, first a text that only a string
column can hold (``n4999``), then digits that numbers can hold too (their text is made once,
then kept), then the same digits again. Target: under 1 second.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

import flowschema  # noqa: F401  (registers df.flowschema)
from benchmarks._common import best_seconds
from flowschema.dashboard.widget import Dashboard


class Reading(BaseModel):
    sensor: str
    value: float = Field(ge=0)
    status: int = Field(lt=5)


def readings(rows: int, invalid_share: float, seed: int = 0) -> pd.DataFrame:
    """``rows`` sensor readings, about ``invalid_share`` of them failing ``Reading``."""
    rng = np.random.default_rng(seed)
    bad = rng.random(rows) < invalid_share
    return pd.DataFrame({
        "sensor": [f"n{number % 9_973}" for number in range(rows)],
        "value": np.where(bad & (rng.random(rows) < 0.6), -1.0, rng.random(rows) * 1_000),
        "status": np.where(bad, 9, 1),
    })


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    checked = pd.concat([readings(100_000, 0.10).flowschema.validate(Reading, progress=False)] * 100,
                        ignore_index=True)
    invalid = int((~checked[flowschema.VALID_COLUMN]).sum())
    errors = int(checked[flowschema.ERRORS_COLUMN].map(len).sum())
    print(f"dashboard on {len(checked):,} rows, {invalid:,} invalid rows, {errors:,} errors, best of 3")
    seconds = best_seconds(lambda: checked.flowschema.dashboard())
    print(f"  dashboard()  {seconds:6.2f} s   (target < 2 s)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        seconds = best_seconds(lambda: checked.flowschema.to_html(path))
        print(f"  to_html()    {seconds:6.2f} s   (target < 2 s), {path.stat().st_size / 1024:.0f} KiB")
    del checked

    checked = pd.concat([readings(50_000, 0.30, seed=1).flowschema.validate(Reading, progress=False)] * 100,
                        ignore_index=True)
    invalid = int((~checked[flowschema.VALID_COLUMN]).sum())
    print(f"search on {len(checked):,} rows, {invalid:,} failing rows (a fresh dashboard each time)")
    for needles in (["n4999"], ["4999"], ["4999", "4999"]):
        dashboard = Dashboard(checked)
        for needle in needles[:-1]:
            dashboard.set_search(needle)
        dashboard.set_search("")
        seconds = timed(lambda: dashboard.set_search(needles[-1]))
        state = "text kept from a first search" if len(needles) > 1 else "first search"
        print(f"  set_search({needles[-1]!r:8}) {seconds:6.2f} s   {len(dashboard.positions):>9,} rows ({state}; "
              "target < 1 s)")


if __name__ == "__main__":
    main()
