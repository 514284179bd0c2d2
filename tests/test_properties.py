"""Property tests: random frames of many dtypes, checked row by row against model_validate."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Literal, Optional

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from tests.oracle import assert_matches_pydantic


class Mixed(BaseModel):
    i: int = Field(ge=-1000)
    f: Optional[float] = Field(default=None, le=1e6)
    s: str = Field(max_length=4)
    b: Optional[bool] = None
    c: Literal["x", "y"]
    t: Optional[dt.datetime] = None
    o: int | str


ROWS = st.integers(0, 12)
TIMEZONES = [None, "UTC", "America/New_York"]


def _column(draw, values, dtypes):
    return pd.Series(values, dtype=draw(st.sampled_from(dtypes)))


@st.composite
def mixed_frames(draw):
    rows = draw(ROWS)
    ints = draw(st.lists(st.integers(-2000, 2000), min_size=rows, max_size=rows))
    maybe = lambda strategy: draw(st.lists(st.one_of(st.none(), strategy), min_size=rows, max_size=rows))  # noqa: E731
    columns = {
        "i": _column(draw, ints, ["int64", "Int64", object, "float64"]),
        "f": _column(draw, maybe(st.floats(allow_nan=True, allow_infinity=True)), ["float64", "Float64", object]),
        "s": _column(draw, maybe(st.text(max_size=6)), ["str", object, "string[python]"]),
        "b": _column(draw, maybe(st.booleans()), ["boolean", object]),
        "c": _column(draw, maybe(st.sampled_from(["x", "y", "z"])), ["category", "str", object]),
        "o": pd.Series(maybe(st.one_of(st.integers(), st.text(max_size=3), st.floats(), st.booleans())), dtype=object),
    }
    if draw(st.booleans()):
        dropped = draw(st.sampled_from(sorted(columns)))
        del columns[dropped]  # a missing column is a missing field
    stamps = pd.to_datetime(draw(st.lists(st.one_of(st.none(), st.datetimes(dt.datetime(1990, 1, 1),
                                                                            dt.datetime(2090, 1, 1))),
                                          min_size=rows, max_size=rows)))
    zone = draw(st.sampled_from(TIMEZONES))
    columns["t"] = pd.Series(stamps.tz_localize(zoneinfo.ZoneInfo(zone), ambiguous="NaT", nonexistent="NaT")
                             if zone else stamps)
    if draw(st.booleans()):
        columns["extra"] = pd.Series(np.arange(rows) * 0.5)  # ignored by a model that allows extras
    frame = pd.DataFrame(columns)
    return frame.set_axis(draw(st.sampled_from([pd.RangeIndex(rows), pd.Index(np.arange(rows) % 3)])))


# ``executor`` only names the executor: nothing in it needs resetting between examples
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frame=mixed_frames(), chunksize=st.integers(1, 5))
def test_random_frames_match_pydantic(executor, frame, chunksize):
    checked = frame.flowschema.validate(Mixed, executor, chunksize=chunksize, progress=False)
    assert_matches_pydantic(frame, Mixed, checked)


@settings(max_examples=40, deadline=None)
@given(frame=mixed_frames())
def test_random_frames_match_pydantic_in_strict_mode(frame):
    checked = frame.flowschema.validate(Mixed, strict=True, progress=False)
    assert_matches_pydantic(frame, Mixed, checked, strict=True)
