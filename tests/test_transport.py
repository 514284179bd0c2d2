"""msgpack values round-trip with their types."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowschema.transport import TransportError, packb, unpackb

ZONES = [None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=-3, minutes=-30)), zoneinfo.ZoneInfo("Asia/Tokyo")]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**100), 2**100),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.datetimes(timezones=st.sampled_from(ZONES)),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=False),
    st.uuids(),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), children, max_size=4),
    ),
    max_leaves=12,
)


def typed(value):
    """The value with every type spelled out, tz included: == alone would miss 1 vs True vs 1.0."""
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [typed(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", [(typed(key), typed(item)) for key, item in value.items()]]
    if isinstance(value, (dt.datetime, dt.time)):
        return [type(value).__name__, value, value.tzinfo, value.fold]
    return [type(value).__name__, value]


@settings(max_examples=300, deadline=None)
@given(values)
def test_round_trip_keeps_types_and_values(value):
    assert typed(unpackb(packb(value))) == typed(value)


def test_special_floats():
    nan, inf, negative_zero = unpackb(packb([math.nan, math.inf, -0.0]))
    assert math.isnan(nan) and inf == math.inf and math.copysign(1, negative_zero) == -1


def test_specific_values():
    for value in [2**64, -(2**63) - 1, decimal.Decimal("-1.250"), uuid.UUID(int=7), ("a", ("b",)),
                  dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("America/New_York"))]:
        assert typed(unpackb(packb(value))) == typed(value)


def test_unknown_type_is_a_clear_error():
    with pytest.raises(TypeError, match="cannot encode a value of type builtins.object"):
        packb({"cell": object()})


@pytest.mark.parametrize("payload", [b"\xc1", packb(list(range(10)))[:-3], b"\xd4\x63\x00"])
def test_corrupt_payloads_raise_transport_error(payload):
    with pytest.raises(TransportError):
        unpackb(payload)
