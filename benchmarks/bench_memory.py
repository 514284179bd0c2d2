"""Memory per error, and the columnar engine's worst case, both engines side by side.

1. 5 million rows, 30% invalid with one error each. Measured as the process's resident memory
   before and after ``validate`` (the result kept alive), divided by the number of errors.
   Target: at most 320 bytes per error (763 B before errors of one kind shared their strings,
   loc and ctx).
2. The worst case for the columnar engine: 1 million rows, every row failing with a value of its
   own, so that no distinct value repeats and every error is built. Median of 5 runs, each after
   a warm-up. Target (issue 18): the default engine at most 1.2x the rows engine's time, and at
   most 320 bytes per error.

Each run happens in a fresh subprocess so that earlier allocations do not hide later ones.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

ROWS = int(os.environ.get("FLOWSCHEMA_BENCH_MEMORY_ROWS", 5_000_000))
WORST_ROWS = int(os.environ.get("FLOWSCHEMA_BENCH_WORST_ROWS", 1_000_000))
RUNS = 5

CHILD = """
import gc, json, sys, time
import numpy as np, pandas as pd
from pydantic import BaseModel, Field
import flowschema

class Reading(BaseModel):
    sensor: str
    value: float = Field(ge=0)

rows, engine, share = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
rng = np.random.default_rng(0)
values = rng.random(rows) * 1_000 + 1
values[rng.random(rows) < share] *= -1  # invalid, one error each, every input its own float
frame = pd.DataFrame({"sensor": pd.Series([f"s{i % 1000}" for i in range(rows)]), "value": values})
frame.iloc[:1000].flowschema.validate(Reading, progress=False, engine=engine)  # warm-up
gc.collect()
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))
before = rss()
started = time.perf_counter()
checked = frame.flowschema.validate(Reading, progress=False, engine=engine)
seconds = time.perf_counter() - started
gc.collect()
after = rss()
errors = int((~checked[flowschema.VALID_COLUMN]).sum())
print(json.dumps({"errors": errors, "bytes": after - before, "seconds": seconds,
                  "input_bytes": int(frame.memory_usage(deep=True).sum())}))
"""


def measure(rows: int, engine: str, share: float) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(rows), engine, str(share)], capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    print(f"1. Memory per error: {ROWS:,} rows, 30% invalid, one error each (RSS after - before validate)")
    for engine in ("columnar", "rows"):
        found = measure(ROWS, engine, 0.3)
        per_error, growth = found["bytes"] / found["errors"], found["bytes"] / found["input_bytes"]
        print(f"  {engine:<10} {found['errors']:>10,} errors  {found['bytes'] / 2**20:8.1f} MB  "
              f"{per_error:6.0f} B per error (target <= 320)  result/input {growth:.1f}x")
    print(f"\n2. The columnar engine's worst case: {WORST_ROWS:,} rows, every row failing with its own value "
          f"(median of {RUNS})")
    medians = {}
    for engine in ("auto", "rows"):
        runs = [measure(WORST_ROWS, engine, 1.0) for _ in range(RUNS)]
        medians[engine] = statistics.median(run["seconds"] for run in runs)
        per_error = statistics.median(run["bytes"] / run["errors"] for run in runs)
        print(f"  engine={engine!r:<9} {medians[engine]:7.2f} s  {per_error:6.0f} B per error (target <= 320)")
    print(f"  auto / rows: {medians['auto'] / medians['rows']:.2f}x the rows engine's time (target <= 1.2x)")


if __name__ == "__main__":
    main()
