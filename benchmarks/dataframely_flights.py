"""dataframely's schema for ``flowschema.datasets.Flight``, pinned for dataframely 3.1.2: one rule per
pydantic constraint, nullability exactly where the field is Optional (nowhere), floats allowed to
be inf and NaN as pydantic's ``float`` is; the columns pydantic reads as ints from whole floats
(``dep_time``, ``arr_time``) are float columns with the same bounds. Used by
``benchmarks/bench_polars.py`` and notebook 06.
"""

from __future__ import annotations

import dataframely as dy

__all__ = ["FlightSchema"]


class FlightSchema(dy.Schema):
    year = dy.Int64(min=2013, max=2013)
    month = dy.Int64(min=1, max=12)
    day = dy.Int64(min=1, max=31)
    dep_time = dy.Float64(min=0, max=2400)
    sched_dep_time = dy.Int64(min=0, max=2359)
    dep_delay = dy.Float64(allow_inf=True, allow_nan=True)
    arr_time = dy.Float64(min=0, max=2400)
    sched_arr_time = dy.Int64(min=0, max=2400)
    arr_delay = dy.Float64(allow_inf=True, allow_nan=True)
    carrier = dy.String(regex=r"^[A-Z0-9]{2}$")
    flight = dy.Int64(min_exclusive=0)
    tailnum = dy.String(regex=r"^N[0-9A-Z]{1,5}$")
    origin = dy.String(regex=r"^(EWR|JFK|LGA)$")
    dest = dy.String(min_length=3, max_length=3)
    air_time = dy.Float64(min_exclusive=0, allow_inf=True)
    distance = dy.Int64(min_exclusive=0, max=5000)
    hour = dy.Int64(min=0, max=23)
    minute = dy.Int64(min=0, max=59)
    time_hour = dy.Datetime(time_zone="UTC")
