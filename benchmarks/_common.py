"""Shared helpers for the benchmarks: best-of-N timing and a rows/s line."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_seconds(run: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` wall-clock timings of ``run()``."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def report(label: str, rows: int, seconds: float, baseline: float | None = None) -> None:
    """Print one result line: seconds, rows/s, and the speed-up over ``baseline`` seconds."""
    ratio = f"  {baseline / seconds:5.2f}x" if baseline else ""
    print(f"  {label:<44} {seconds:7.3f} s  {rows / seconds:>11,.0f} rows/s{ratio}")
