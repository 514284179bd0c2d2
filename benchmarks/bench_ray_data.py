"""The driver off the data path: a set of CSV files validated where Ray's workers read them,
against today's driver-fed ``validate_file(executor="ray")`` of the same rows in one file.

Builds the flights table repeated to at least FLOWSCHEMA_BENCH_GB gigabytes (default 2), once
as one CSV and once split into files of one flights table each (336,776 rows, 33 MB), then
runs, each in a fresh process on a local Ray with 2 CPUs (Ray's start-up not timed):

* driver-fed: ``validate_file("big.csv", Flight, RayExecutor(Flight))``: the driver reads and
  encodes every batch and ships it to the workers;
* workers read: ``validate_file("flights/*.csv", Flight, "ray")``: each task reads a whole file;
* a bare driver running a tiny Ray Data job, for scale.

Each writes its failing rows (``invalid_out``). Reported: time and rows/s, the driver's peak
resident memory (``VmHWM``; ``ru_maxrss`` would count the parent's at fork), the bytes the
driver read during the run (``rchar`` of /proc/self/io: files, pipes and sockets), and the
workers' peak. Targets: the driver under 400 MB whatever the size, and reading only counts
and the sample.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIGABYTES = float(os.environ.get("FLOWSCHEMA_BENCH_GB", "2"))
SCENARIOS = ["bare", "driver-fed", "workers read"]


def make_inputs(folder: Path, target_bytes: int) -> tuple[Path, list[Path], int]:
    """One big CSV and the same rows as files of one flights table each; and the rows."""
    from flowschema.datasets import load_flights

    flights = load_flights()
    parts = folder / "flights"
    parts.mkdir()
    first = parts / "part-0000.csv"
    flights.to_csv(first, index=False)
    files = [first]
    while len(files) * first.stat().st_size < target_bytes:
        files.append(parts / f"part-{len(files):04d}.csv")
        shutil.copyfile(first, files[-1])
    big = folder / "big.csv"
    body = first.read_bytes().split(b"\n", 1)[1]
    with big.open("wb") as file:
        file.write(first.read_bytes())
        for _ in files[1:]:
            file.write(body)
    return big, files, len(files) * len(flights)


def _proc(pid: int | str, name: str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/{name}") as lines:
            return next(int(line.split()[1]) for line in lines if line.startswith(key))
    except (OSError, StopIteration):
        return 0


def worker_peak_mb() -> float:
    """The largest peak resident memory among this machine's Ray worker processes, in MB."""
    peaks = [_proc(entry.name, "status", "VmHWM:") for entry in Path("/proc").iterdir() if entry.name.isdigit()
             and _command(entry).startswith(b"ray::") and b"IDLE" not in _command(entry)[:12]]
    return max(peaks, default=0) / 1024


def _command(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def run_scenario(scenario: str, big: str, pattern: str, out: str) -> dict:
    import flowschema.ray
    import ray
    import ray.data

    import flowschema
    from flowschema.datasets import Flight
    from flowschema.executor.ray import RayExecutor

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    read_before, started = _proc("self", "io", "rchar:"), time.perf_counter()
    if scenario == "bare":
        rows = invalid = ray.data.range(10).map_batches(lambda batch: batch).count()
    elif scenario == "driver-fed":
        report = flowschema.validate_file(big, Flight, RayExecutor(Flight), invalid_out=out + ".parquet",
                                          progress=False)
        rows, invalid = report.rows, report.invalid
    else:
        report = flowschema.validate_file(pattern, Flight, "ray", invalid_out=out, progress=False)
        rows, invalid = report.rows, report.invalid
    result = {"scenario": scenario, "seconds": time.perf_counter() - started, "rows": rows, "invalid": invalid,
              "driver_read_mb": (_proc("self", "io", "rchar:") - read_before) / 2**20,
              "driver_peak_mb": _proc("self", "status", "VmHWM:") / 1024, "worker_peak_mb": worker_peak_mb()}
    ray.shutdown()
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        big, files, rows = make_inputs(Path(folder), int(GIGABYTES * 1e9))
        size = big.stat().st_size / 1e9
        print(f"{size:.2f} GB of CSV ({rows:,} rows): one file, and {len(files)} files of {files[0].stat().st_size / 1e6:.0f}"
              " MB; local Ray with 2 CPUs, each run in a fresh process")
        results = []
        for scenario in SCENARIOS:
            output = subprocess.run([sys.executable, "-m", "benchmarks.bench_ray_data", scenario, str(big),
                                     str(Path(folder) / "flights" / "*.csv"), str(Path(folder) / "bad")],
                                    capture_output=True, text=True, check=True)
            results.append(json.loads(output.stdout.strip().splitlines()[-1]))
        driver_fed = next(result["seconds"] for result in results if result["scenario"] == "driver-fed")
        for result in results:
            speed = (f"{result['rows'] / result['seconds']:>9,.0f} rows/s  {driver_fed / result['seconds']:5.2f}x"
                     if result["scenario"] != "bare" else " " * 24)
            print(f"  {result['scenario']:<13} {result['seconds']:7.1f} s {speed}   driver peak "
                  f"{result['driver_peak_mb']:5.0f} MB, read {result['driver_read_mb']:8.2f} MB   worker peak "
                  f"{result['worker_peak_mb']:5.0f} MB")
        assert len({(result["rows"], result["invalid"]) for result in results[1:]}) == 1, "the two ways disagree"
        print("  targets: driver peak < 400 MB whatever the size; the driver reads counts and the sample only")


if __name__ == "__main__":
    if len(sys.argv) == 5:
        print(json.dumps(run_scenario(*sys.argv[1:])))
    else:
        main()
