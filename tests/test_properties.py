"""The differential property test: generated models and frames, FlowSchema against an oracle
written from the README's rules (``tests/oracle.py``), on every executor.

Compared: the whole annotated frame (valid flags, every error key with its type, ``input`` and
``ctx`` included), the coerced columns and their dtypes, the Parquet round trip and
``validate_iter`` over pieces. ``make test`` runs a bounded number of examples; ``make fuzz``
runs many more: ``FLOWSCHEMA_FUZZ_SYNC``, ``FLOWSCHEMA_FUZZ_MP`` and ``FLOWSCHEMA_FUZZ_RAY``
examples per test on each executor (the sync count for the sync-only tests), or
``FLOWSCHEMA_FUZZ_EXAMPLES`` for every test when set; ``FLOWSCHEMA_FUZZ_SEED`` is its seed
(``--hypothesis-seed``).
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN
from tests.oracle import (
    assert_exactly_pydantic,
    expected_coerced_frame,
    reference_value,
    stored_form,
    typed,
)
from tests.strategies import models_and_frames

FUZZ = int(os.environ.get("FLOWSCHEMA_FUZZ_EXAMPLES") or 0)  # when set, the count of every test
FUZZ_VARIABLES = {"sync": "FLOWSCHEMA_FUZZ_SYNC", "multiprocessing": "FLOWSCHEMA_FUZZ_MP", "ray": "FLOWSCHEMA_FUZZ_RAY"}


def examples(executor: str, default: int) -> int:
    """The number of examples of a test on ``executor``: ``FLOWSCHEMA_FUZZ_EXAMPLES``, else the
    executor's own variable, else ``default`` (what ``make test`` runs)."""
    return FUZZ or int(os.environ.get(FUZZ_VARIABLES[executor]) or default)


def run_for(executor: str, model, frame: pd.DataFrame, **options) -> pd.DataFrame:
    return frame.flowschema.validate(model, executor, progress=False, **options)


def check_everything(executor: str, data) -> None:
    model, frame = data.draw(models_and_frames())
    strict = data.draw(st.sampled_from([None, None, True]))
    chunksize = data.draw(st.sampled_from([None, 1, 3]))
    engine = data.draw(st.sampled_from(["auto", "columnar", "rows"]))
    try:
        checked = run_for(executor, model, frame, strict=strict, chunksize=chunksize, engine=engine)
    except flowschema.EngineError:  # columnar asked where it is not exact: auto must have said rows
        assert engine == "columnar"
        assert run_for(executor, model, frame.iloc[:0]).attrs["flowschema"]["engine"] == "rows"
        engine = "auto"
        checked = run_for(executor, model, frame, strict=strict, chunksize=chunksize)
    assert_exactly_pydantic(frame, model, checked, strict=strict)
    pd.testing.assert_frame_equal(checked.drop(columns=[VALID_COLUMN, ERRORS_COLUMN]), frame, check_column_type=False)

    try:
        coerced = run_for(executor, model, frame, strict=strict, coerce=True, engine=engine)
    except flowschema.EngineError:
        coerced = run_for(executor, model, frame, strict=strict, coerce=True)
    expected = expected_coerced_frame(frame, model, strict=strict)
    assert coerced.columns[:-2].equals(expected.columns)
    for position, label in enumerate(expected.columns):
        assert coerced.iloc[:, position].dtype == expected.iloc[:, position].dtype, label
        assert typed(coerced.iloc[:, position].tolist()) == typed(expected.iloc[:, position].tolist()), label


SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]


def differential_test(executor: str, count: int):
    """The differential test on one executor, with its own number of examples."""

    @settings(max_examples=examples(executor, count), deadline=None, suppress_health_check=SLOW)
    @given(data=st.data())
    def test(data):
        check_everything(executor, data)

    return test


test_sync_matches_the_oracle = differential_test("sync", 150)
test_multiprocessing_matches_the_oracle = differential_test("multiprocessing", 25)
test_ray_matches_the_oracle = pytest.mark.usefixtures("local_ray")(differential_test("ray", 20))


@settings(max_examples=examples("sync", 60), deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_a_parquet_round_trip_keeps_what_the_readme_says(tmp_path_factory, data):
    model, frame = data.draw(models_and_frames())
    checked = run_for("sync", model, frame)
    path = tmp_path_factory.mktemp("round") / "checked.parquet"
    try:
        checked.flowschema.to_parquet(path)
    except TypeError as exc:  # a data column Parquet cannot hold (mixed object cells): said clearly
        assert "Parquet cannot store" in str(exc) or "numpy arrays of several dtypes" in str(exc)
        return
    back = flowschema.read_parquet(path)
    assert back[VALID_COLUMN].tolist() == checked[VALID_COLUMN].tolist()
    assert typed([stored_form(errors) for errors in checked[ERRORS_COLUMN]]) == typed(list(back[ERRORS_COLUMN]))


@settings(max_examples=examples("sync", 60), deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_pieces_of_a_stream_equal_the_whole(data):
    model, frame = data.draw(models_and_frames(max_rows=10))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(frame)), max_size=3)))
    pieces = [frame.iloc[start:stop] for start, stop in zip([0, *cuts], [*cuts, len(frame)])]
    whole = run_for("sync", model, frame, coerce=True)
    streamed = list(flowschema.validate_iter(pieces, model, coerce=True, progress=False))
    assert [len(piece) for piece in streamed] == [len(piece) for piece in pieces]
    joined = pd.concat(streamed) if streamed else whole.iloc[:0]
    assert joined[VALID_COLUMN].tolist() == whole[VALID_COLUMN].tolist()
    assert typed(list(joined[ERRORS_COLUMN])) == typed(list(whole[ERRORS_COLUMN]))
    for position, label in enumerate(frame.columns):  # values equal cell by cell, missing as missing
        assert typed(_cells(joined.iloc[:, position])) == typed(_cells(whole.iloc[:, position])), label


def _cells(column: pd.Series) -> list:
    """The column's values as the README normalises them: a piece's dtype may differ from the
    whole's (a Timestamp in a datetime64 piece, a datetime in an object one), its values may not."""
    return [reference_value(column.iat[position]) for position in range(len(column))]
