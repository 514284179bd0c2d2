"""RayExecutor on a two-node Ray cluster, and what that gives on paper for 10 nodes x 8 cores.

A head node and a second node (one CPU each) started with ``ray start`` on loopback ports, in a
private Ray temp dir, with a token of the benchmark's own; a driver in a fresh process validates
the flights table repeated 10 times (3,367,760 rows, tz-aware ``time_hour``) with
``RayExecutor(address=...)``: warmed, median of 3. It measures rows/s per worker, the bytes the
driver puts in the object store per row, and the driver's CPU seconds per million rows (its main
thread over the whole call), then projects: 80 workers, the driver's one core, and a 10 Gbit/s
link each bound the rate; the smallest bound is the projection. Only the processes started here
are stopped (found by the private temp dir they keep files open in).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.processes import free_port, processes_holding, stop_processes

RAY = str(Path(sys.executable).with_name("ray"))
NODES, CORES, LINK_BYTES_PER_S = 10, 8, 10e9 / 8

DRIVER = """
import json, statistics, sys, time
import pandas as pd
import flowschema
from flowschema.datasets import Flight, load_flights
from flowschema.executor.ray import RayExecutor

import ray

put = {"bytes": 0}
ray_put = ray.put

def counted_put(value, **options):
    if type(value) is tuple:  # a chunk: its message and its buffers
        head, buffers = value
        put["bytes"] += len(head) + sum(buffer.nbytes for buffer in buffers)
    return ray_put(value, **options)

ray.put = counted_put
flights = load_flights()
flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True)
frame = pd.concat([flights] * 10, ignore_index=True)
executor = RayExecutor(Flight, address=sys.argv[1])
workers = executor.cluster_cpus()
frame.flowschema.validate(Flight, executor, progress=False)  # warm-up: every worker up
seconds, cpu = [], []
for _ in range(3):
    put["bytes"] = 0
    started, started_cpu = time.perf_counter(), time.thread_time()
    checked = frame.flowschema.validate(Flight, executor, progress=False)
    seconds.append(time.perf_counter() - started)
    cpu.append(time.thread_time() - started_cpu)
print(json.dumps({"rows": len(frame), "workers": workers, "seconds": statistics.median(seconds),
                  "bytes": put["bytes"], "cpu": statistics.median(cpu),
                  "invalid": int((~checked[flowschema.VALID_COLUMN]).sum())}))
"""


def main() -> None:
    temp_dir = tempfile.mkdtemp(prefix="fs-bench-ray-")
    env = {**os.environ, "RAY_TMPDIR": temp_dir, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    port = free_port()
    try:
        for command in ([RAY, "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
                         "--disable-usage-stats"],
                        [RAY, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1", "--disable-usage-stats"]):
            subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=True)
        result = subprocess.run([sys.executable, "-c", DRIVER, f"127.0.0.1:{port}"], env=env, capture_output=True,
                                text=True, timeout=1800, check=True)
    finally:
        stop_processes(lambda: processes_holding(temp_dir.rstrip("/") + "/"))
        shutil.rmtree(temp_dir, ignore_errors=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    rows, workers, seconds = found["rows"], found["workers"], found["seconds"]
    per_worker = rows / seconds / workers
    bytes_per_row = found["bytes"] / rows
    driver_cpu_per_row = found["cpu"] / rows
    print(f"RayExecutor on a two-node cluster ({workers} workers, one CPU each, loopback): flights x10, "
          f"{rows:,} rows, median of 3 after a warm-up")
    print(f"  {seconds:.3f} s, {rows / seconds:,.0f} rows/s, {per_worker:,.0f} rows/s per worker "
          f"(the nodes share this machine's 2 cores with the driver: a lower bound); {found['invalid']:,} invalid")
    print(f"  the driver puts {bytes_per_row:.0f} bytes per row in the object store and spends "
          f"{driver_cpu_per_row * 1e6:.3f} CPU s per million rows (packing chunks, decoding results, the rest)")
    bounds = {f"{NODES * CORES} workers at {per_worker:,.0f} rows/s": NODES * CORES * per_worker,
              "the driver's one core": 1 / driver_cpu_per_row,
              "a 10 Gbit/s link out of the driver's node": LINK_BYTES_PER_S / bytes_per_row}
    print(f"On paper, {NODES} nodes x {CORES} cores, one driver feeding them:")
    for what, rate in bounds.items():
        print(f"  {what:<45} {rate / 1e6:8.1f} M rows/s")
    print(f"  projection: {min(bounds.values()) / 1e6:.1f} M rows/s, bound by {min(bounds, key=bounds.get)}")


if __name__ == "__main__":
    main()
