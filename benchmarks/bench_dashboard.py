"""The dashboard at scale: 10 million rows with 1 million errors.

A 100,000-row frame with 10% invalid rows is validated once and repeated 100 times; then
``dashboard()`` and ``to_html()`` are timed (best of 3). Target: under 2 seconds each.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

import flowschema  # noqa: F401  (registers df.flowschema)
from benchmarks._common import best_seconds


class Reading(BaseModel):
    sensor: str
    value: float = Field(ge=0)
    status: int = Field(lt=5)


def main() -> None:
    rng = np.random.default_rng(0)
    rows = 100_000
    frame = pd.DataFrame({
        "sensor": [f"s{number % 97}" for number in range(rows)],
        "value": np.where(rng.random(rows) < 0.06, -1.0, rng.random(rows)),
        "status": np.where(rng.random(rows) < 0.05, 9, 1),
    })
    checked = pd.concat([frame.flowschema.validate(Reading, progress=False)] * 100, ignore_index=True)
    invalid = int((~checked[flowschema.VALID_COLUMN]).sum())
    errors = int(checked[flowschema.ERRORS_COLUMN].map(len).sum())
    print(f"dashboard on {len(checked):,} rows, {invalid:,} invalid rows, {errors:,} errors, best of 3")
    seconds = best_seconds(lambda: checked.flowschema.dashboard())
    print(f"  dashboard()  {seconds:6.2f} s   (target < 2 s)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        seconds = best_seconds(lambda: checked.flowschema.to_html(path))
        print(f"  to_html()    {seconds:6.2f} s   (target < 2 s), {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
