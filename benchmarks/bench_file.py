"""Validating a CSV bigger than memory should need: time and peak memory, per executor.

Generates a CSV of at least FLOWSCHEMA_BENCH_GB gigabytes (default 2) from the flights table,
then, each in a fresh process so that peak memory is its own:

* baseline: ``pd.read_csv`` of the whole file, then ``validate(executor="sync")`` in memory;
* ``validate_file`` on the rows engine, ``executor="sync"`` (what it did before the columnar
  engine);
* ``validate_file`` with ``executor="sync"``, ``"multiprocessing"`` (2 workers) and ``"ray"``
  (a local Ray with 2 CPUs), 100,000 rows read per batch, ``engine="auto"`` (columnar).

Peak resident memory comes from the OS: the process's own ``ru_maxrss`` and each worker's
``VmHWM`` in /proc, read just before the workers stop. Targets: the calling process under 1 GB,
each worker under 500 MB, and no slower than the baseline.
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

GIGABYTES = float(os.environ.get("FLOWSCHEMA_BENCH_GB", "2"))
SCENARIOS = ["in-memory", "sync-rows", "sync", "multiprocessing", "ray"]


def make_csv(path: Path, target_bytes: int) -> int:
    from flowschema.datasets import load_flights

    flights = load_flights()
    flights.to_csv(path, index=False)
    block = path.read_bytes().split(b"\n", 1)[1]  # the rows, without the header
    copies = 1
    with path.open("ab") as file:
        while path.stat().st_size < target_bytes:
            file.write(block)
            copies += 1
    return copies * len(flights)


def peak_mb_of(pids: list[int]) -> float:
    """The largest peak resident memory (VmHWM) among ``pids``, in MB."""
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    return max(peaks, default=0.0)


def ray_worker_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def run_scenario(scenario: str, path: str) -> dict:
    import pandas as pd

    import flowschema
    from flowschema.datasets import Flight

    started = time.perf_counter()
    worker_peak = 0.0
    if scenario == "in-memory":
        checked = pd.read_csv(path).flowschema.validate(Flight, progress=False)
        rows, invalid = len(checked), int((~checked[flowschema.VALID_COLUMN]).sum())
    elif scenario == "multiprocessing":
        from flowschema.executor.multiprocessing import MultiProcessingExecutor

        with MultiProcessingExecutor(Flight, max_workers=2) as executor:
            report = flowschema.validate_file(path, Flight, executor, progress=False)
            worker_peak = peak_mb_of(executor.worker_pids())
        rows, invalid = report.rows, report.invalid
    elif scenario == "ray":
        import ray

        from flowschema.executor.ray import RayExecutor

        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        started = time.perf_counter()  # Ray's start-up is not the file's cost
        report = flowschema.validate_file(path, Flight, RayExecutor(Flight), progress=False)
        worker_peak = peak_mb_of(ray_worker_pids())
        rows, invalid = report.rows, report.invalid
        ray.shutdown()
    else:
        executor, _, engine = scenario.partition("-")
        report = flowschema.validate_file(path, Flight, executor, progress=False, engine=engine or "auto")
        rows, invalid = report.rows, report.invalid
    return {"scenario": scenario, "seconds": time.perf_counter() - started, "rows": rows, "invalid": invalid,
            "caller_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_mb": worker_peak}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flights-big.csv"
        rows = make_csv(path, int(GIGABYTES * 1e9))
        size = path.stat().st_size / 1e9
        print(f"validate_file on a {size:.2f} GB CSV ({rows:,} rows), each run in a fresh process")
        results = []
        for scenario in SCENARIOS:
            output = subprocess.run([sys.executable, "-m", "benchmarks.bench_file", scenario, str(path)],
                                    capture_output=True, text=True, check=True)
            results.append(json.loads(output.stdout.strip().splitlines()[-1]))
        baseline, rows_engine = results[0]["seconds"], results[1]["seconds"]
        for result in results:
            workers = f"{result['worker_peak_mb']:7.0f} MB" if result["worker_peak_mb"] else "      -   "
            print(f"  {result['scenario']:<16} {result['seconds']:7.1f} s  {result['rows'] / result['seconds']:>9,.0f} "
                  f"rows/s  {baseline / result['seconds']:5.2f}x in-memory  {rows_engine / result['seconds']:5.2f}x "
                  f"rows engine   caller peak {result['caller_peak_mb']:7.0f} MB   worker peak {workers}")
        assert len({(result["rows"], result["invalid"]) for result in results}) == 1, "executors disagree"
        print("  targets: caller < 1,000 MB, each worker < 500 MB, no slower than in-memory")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(run_scenario(sys.argv[1], sys.argv[2])))
    else:
        main()
