"""Memory per error: 5 million rows, 30% invalid with one error each.

Measured as the issue asks: the process's resident memory before and after ``validate``
(the result kept alive), divided by the number of errors. Each run happens in a fresh
subprocess so that earlier allocations do not hide later ones. Target: at most 320 bytes per
error (763 B before errors of one kind shared their strings, loc and ctx).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROWS = int(os.environ.get("FLOWSCHEMA_BENCH_MEMORY_ROWS", 5_000_000))

CHILD = """
import gc, json, sys
import numpy as np, pandas as pd
from pydantic import BaseModel, Field
import flowschema

class Reading(BaseModel):
    sensor: str
    value: float = Field(ge=0)

rows, engine = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
values = rng.random(rows) * 1_000
values[rng.random(rows) < 0.3] *= -1  # 30% invalid, one error each, every input its own float
frame = pd.DataFrame({"sensor": pd.Series([f"s{i % 1000}" for i in range(rows)]), "value": values})
gc.collect()
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))
before = rss()
checked = frame.flowschema.validate(Reading, progress=False, engine=engine)
gc.collect()
after = rss()
errors = int((~checked[flowschema.VALID_COLUMN]).sum())
print(json.dumps({"errors": errors, "bytes": after - before, "input_bytes": int(frame.memory_usage(deep=True).sum())}))
"""


def measure(engine: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(ROWS), engine], capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def main() -> None:
    print(f"Memory per error: {ROWS:,} rows, 30% invalid, one error each (RSS after - before validate)")
    for engine in ("columnar", "rows"):
        found = measure(engine)
        per_error = found["bytes"] / found["errors"]
        print(f"  {engine:<10} {found['errors']:>10,} errors  {found['bytes'] / 2**20:8.1f} MB  "
              f"{per_error:6.0f} B per error (target <= 320)  result/input {found['bytes'] / found['input_bytes']:.1f}x")


if __name__ == "__main__":
    main()
