"""df.flowschema.validate: pydantic's answer for every row, nothing lost, the input untouched."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import BaseModel

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN
from tests.models import Address, NeedsContext, Person, Strict
from tests.oracle import assert_matches_pydantic


@pytest.mark.parametrize("chunksize", [None, 1, 2, 1000])
def test_people_match_pydantic(people, executor, chunksize):
    checked = people.flowschema.validate(Person, executor, chunksize=chunksize)
    assert_matches_pydantic(people, Person, checked)
    assert checked[VALID_COLUMN].tolist() == [True, False, False, False, False]


def test_result_keeps_input_columns_values_and_dtypes(people, executor):
    before = people.copy(deep=True)
    checked = people.flowschema.validate(Person, executor)
    pd.testing.assert_frame_equal(people, before)  # the input is never modified
    assert list(checked.columns) == [*people.columns, VALID_COLUMN, ERRORS_COLUMN]
    pd.testing.assert_frame_equal(checked[list(people.columns)], people)
    assert checked[VALID_COLUMN].dtype == bool


def test_error_details_have_pydantic_keys(people, executor):
    errors = people.flowschema.validate(Person, executor)[ERRORS_COLUMN]
    assert errors.iloc[0] == ()
    twice = pd.concat([people.iloc[:1]] * 3).flowschema.validate(Person, executor)[ERRORS_COLUMN]
    assert len({id(cell) for cell in twice}) == 1  # valid rows share the one empty tuple
    for row_errors in errors:
        assert isinstance(row_errors, tuple)
        for error in row_errors:
            assert set(error) <= {"type", "loc", "msg", "input", "ctx"}
            assert isinstance(error["loc"], tuple)
    missing = [error for error in errors.iloc[4] if error["type"] == "missing"]
    assert missing and all(error["input"] is None for error in missing)
    short = next(error for error in errors.iloc[3] if error["type"] == "string_too_short")
    assert short["ctx"] == {"min_length": 2} and short["input"] == "x"
    digits = next(error for error in errors.iloc[1] if error["type"] == "value_error")
    assert digits["ctx"] == {"error": "name must not contain digits"}  # the exception, as a string


def test_non_pydantic_exception_fails_only_that_row(people, executor):
    checked = people.flowschema.validate(Person, executor, chunksize=1)
    (error,) = checked[ERRORS_COLUMN].iloc[2]
    assert error["type"] == "exception" and error["loc"] == ()
    assert error["msg"] == "RuntimeError: mail server exploded"


def test_model_validator_error_has_empty_loc(executor):
    frame = pd.DataFrame([{"name": "dee", "age": 17, "role": "admin"}])
    checked = frame.flowschema.validate(Person, executor)
    (error,) = checked[ERRORS_COLUMN].iloc[0]
    assert error["loc"] == () and error["type"] == "value_error"
    assert error["msg"] == "Value error, admins must be adults"
    assert checked.flowschema.errors()["field"].tolist() == ["__model__"]


@pytest.mark.parametrize(
    "index",
    [
        pd.Index([7, 7, 3, 3, 1]),
        pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1), ("a", 1), ("c", 9)], names=["k", "n"]),
        pd.Index(["e", "d", "c", "b", "a"], name="letters"),
        pd.date_range("2024-01-01", periods=5, tz="UTC"),
    ],
    ids=["duplicates", "multiindex", "named", "datetime"],
)
def test_index_is_kept(people, executor, index):
    frame = people.set_axis(index)
    checked = frame.flowschema.validate(Person, executor, chunksize=2)
    assert checked.index.equals(index) and checked.index.names == index.names
    assert_matches_pydantic(frame, Person, checked)


def test_non_string_column_names_reach_pydantic(executor):
    class Loose(BaseModel):
        a: int

    frame = pd.DataFrame({"a": [1, 2], 0: ["x", "y"], ("t", 1): [1.5, None]})
    checked = frame.flowschema.validate(Loose, executor)
    assert checked[VALID_COLUMN].all()
    assert list(checked.columns[:3]) == ["a", 0, ("t", 1)]
    assert_matches_pydantic(frame, Loose, checked)


def test_extra_forbid_reports_extra_columns_and_aliases_work(executor):
    frame = pd.DataFrame({"id": [1, "x"], "Label": ["a", "b"], "extra": [None, 1]})
    checked = frame.flowschema.validate(Strict, executor)
    assert_matches_pydantic(frame, Strict, checked)
    assert {error["type"] for error in checked[ERRORS_COLUMN].iloc[1]} == {"int_parsing", "extra_forbidden"}


def test_strict_and_context_reach_model_validate(executor):
    frame = pd.DataFrame({"value": ["5", 50, 500]}, dtype=object)
    lax = frame.flowschema.validate(NeedsContext, executor, context={"limit": 60})
    assert lax[VALID_COLUMN].tolist() == [True, True, False]
    assert_matches_pydantic(frame, NeedsContext, lax, context={"limit": 60})
    strict = frame.flowschema.validate(NeedsContext, executor, strict=True)
    assert strict[VALID_COLUMN].tolist() == [False, True, False]
    assert_matches_pydantic(frame, NeedsContext, strict, strict=True)


def test_validating_an_annotated_frame_again_drops_old_annotations(people, executor):
    once = people.flowschema.validate(Person, executor)
    twice = once.flowschema.validate(Person, executor)
    assert list(twice.columns) == list(once.columns)
    assert twice[VALID_COLUMN].tolist() == once[VALID_COLUMN].tolist()


def test_coerce_puts_validated_values_in_valid_rows(executor):
    class Typed(BaseModel):
        n: int
        when: dt.datetime
        note: str

    frame = pd.DataFrame({"n": ["42", "7", "x"], "when": ["2024-01-02", "2024-03-04T05:06", "2024-01-01"],
                          "note": ["a", "b", "c"]}, dtype=object)
    checked = frame.flowschema.validate(Typed, executor, coerce=True)
    assert checked[VALID_COLUMN].tolist() == [True, True, False]
    assert checked["n"].tolist() == [42, 7, "x"]  # the failing row keeps its input
    assert checked["when"].tolist()[:2] == [dt.datetime(2024, 1, 2), dt.datetime(2024, 3, 4, 5, 6)]
    all_valid = frame.iloc[:2].flowschema.validate(Typed, executor, coerce=True)
    assert all_valid["n"].dtype == np.int64
    assert all_valid["when"].dtype.kind == "M"
    assert frame["n"].tolist() == ["42", "7", "x"]  # the input is untouched


def test_coerce_fills_columns_found_by_alias(executor):
    frame = pd.DataFrame({"id": ["1", "2"], "Label": ["a", "b"]}, dtype=object)
    checked = frame.flowschema.validate(Strict, executor, coerce=True)
    assert checked["id"].tolist() == [1, 2] and checked["id"].dtype == np.int64


def test_run_metadata_in_attrs(people, executor):
    meta = people.flowschema.validate(Person, executor).attrs["flowschema"]
    assert meta["model"] == "Person" and meta["executor"] == executor
    assert meta["rows"] == 5 and meta["invalid_rows"] == 4 and meta["elapsed_seconds"] >= 0


def test_empty_frames(executor):
    empty = pd.DataFrame({"city": pd.Series([], dtype=str), "zip": pd.Series([], dtype=str)})
    checked = empty.flowschema.validate(Address, executor)
    assert len(checked) == 0 and list(checked.columns) == ["city", "zip", VALID_COLUMN, ERRORS_COLUMN]
    no_columns = pd.DataFrame(index=range(3)).flowschema.validate(Address, executor)
    assert no_columns[VALID_COLUMN].tolist() == [False] * 3
    assert [error["type"] for error in no_columns[ERRORS_COLUMN].iloc[0]] == ["missing", "missing"]


def test_arrow_nested_values_become_lists_and_dicts(executor):
    class Nested(BaseModel):
        tags: list[int]
        address: Address

    struct = pa.struct([("city", pa.string()), ("zip", pa.string())])
    frame = pd.DataFrame(
        {
            "tags": pd.Series([[1, 2], None, [3, None]], dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
            "address": pd.Series([{"city": "A", "zip": "12345"}, {"city": "B", "zip": "1"}, None],
                                 dtype=pd.ArrowDtype(struct)),
        }
    )
    checked = frame.flowschema.validate(Nested, executor)
    assert checked[VALID_COLUMN].tolist() == [True, False, False]
    assert_matches_pydantic(frame, Nested, checked)


def test_shared_executor_is_reused_by_name():
    frame = pd.DataFrame({"city": ["a"], "zip": ["12345"]})
    from flowschema.executor import _shared

    frame.flowschema.validate(Address, "sync", chunksize=3)
    built = dict(_shared)
    frame.flowschema.validate(Address, "sync", chunksize=3)
    assert dict(_shared) == built
    assert any(key[:2] == ("sync", Address) for key in built)


def test_executor_instance_is_used_and_not_closed():
    closed = []

    class Recording(flowschema.SyncFifoExecutor):
        def close(self):
            closed.append(True)

    frame = pd.DataFrame({"city": ["a"], "zip": ["12345"]})
    with Recording(Address, chunksize=1) as instance:
        checked = frame.flowschema.validate(Address, instance)
        assert checked.attrs["flowschema"]["executor"] == "sync" and not closed
    assert closed == [True]
