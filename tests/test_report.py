"""The report read from an annotated frame: errors(), summary(), valid/invalid rows,
assert_valid(), and the Parquet round trip."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import flowschema
from flowschema import ERRORS_COLUMN, VALID_COLUMN
from tests.models import Person


def _parquet_friendly(checked):
    """The annotated people, with the data columns (mixed object columns) as strings."""
    return checked.astype({name: str for name in checked.columns if not name.startswith("_fs_")})


@pytest.fixture
def checked(people):
    return people.set_axis(pd.Index(["p", "q", "r", "s", "t"], name="who")).flowschema.validate(Person)


def test_errors_table_has_one_row_per_error(checked):
    table = checked.flowschema.errors()
    assert list(table.columns) == ["row", "position", "field", "type", "msg", "input"]
    per_row = checked[ERRORS_COLUMN].map(len)
    assert len(table) == per_row.sum()
    assert table["row"].value_counts().to_dict() == per_row[per_row > 0].to_dict()
    first = table.iloc[0]
    error = checked[ERRORS_COLUMN].iloc[1][0]
    assert (first["row"], first["position"], first["type"], first["msg"]) == ("q", 1, error["type"], error["msg"])
    assert set(table.loc[table["position"] == 2, "field"]) == {"__model__"}  # the RuntimeError
    assert "address.city" not in set(table["field"])  # row 2 stopped at its exception
    assert "address.zip" in set(table["field"])  # row 4's address has no zip


def test_summary_counts_errors_and_rows_per_field(checked):
    summary = checked.flowschema.summary()
    table = checked.flowschema.errors()
    assert list(summary.columns[:3]) == ["field", "errors", "rows"]
    assert summary["errors"].is_monotonic_decreasing
    for row in summary.itertuples(index=False):
        of_field = table[table["field"] == row.field]
        assert row.errors == len(of_field) and row.rows == of_field["position"].nunique()
        for error_type, count in of_field["type"].value_counts().items():
            assert getattr(row, error_type) == count
    assert summary["errors"].sum() == len(table)


def test_reports_on_a_valid_frame(people):
    valid = people.iloc[:1].flowschema.validate(Person)
    assert valid.flowschema.errors().empty
    summary = valid.flowschema.summary()
    assert summary.empty and list(summary.columns) == ["field", "errors", "rows"]
    assert valid.flowschema.assert_valid() is valid


def test_valid_and_invalid_rows_keep_original_columns(checked, people):
    assert list(checked.flowschema.valid_rows().index) == ["p"]
    invalid = checked.flowschema.invalid_rows()
    assert list(invalid.index) == ["q", "r", "s", "t"] and list(invalid.columns) == list(people.columns)


def test_reports_work_after_filtering_and_concatenating(checked):
    part = pd.concat([checked.iloc[3:], checked.iloc[:2]])
    assert list(part.flowschema.errors()["row"].unique()) == ["s", "t", "q"]
    assert part.flowschema.summary()["errors"].sum() == part[ERRORS_COLUMN].map(len).sum()


def test_assert_valid_raises_with_counts_and_first_errors(checked):
    with pytest.raises(flowschema.DataValidationError) as raised:
        checked.flowschema.assert_valid(max_errors=2)
    message = str(raised.value)
    assert message.startswith("4 of 5 rows failed validation against Person.")
    assert "First 2 of" in message and "row 'q'" in message
    assert raised.value.errors.equals(checked.flowschema.errors())
    assert isinstance(raised.value, ValueError)


def test_parquet_round_trip_keeps_errors_index_and_attrs(checked, tmp_path):
    stored = _parquet_friendly(checked)
    path = tmp_path / "checked.parquet"
    stored.flowschema.to_parquet(path)
    loaded = flowschema.read_parquet(path)
    assert loaded.index.equals(stored.index) and loaded.index.name == "who"
    assert loaded[ERRORS_COLUMN].tolist() == stored[ERRORS_COLUMN].tolist()
    assert loaded[VALID_COLUMN].tolist() == stored[VALID_COLUMN].tolist()
    assert loaded.attrs["flowschema"]["model"] == "Person"
    pd.testing.assert_frame_equal(loaded.flowschema.summary(), stored.flowschema.summary())


def test_plain_to_parquet_cannot_store_errors_which_is_why_ours_exists(checked, tmp_path):
    stored = _parquet_friendly(checked)
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)):
        stored.to_parquet(tmp_path / "plain.parquet")


def test_parquet_of_mixed_data_columns_says_what_to_do(checked, tmp_path):
    with pytest.raises(TypeError, match="astype\\(str\\)"):
        checked.flowschema.to_parquet(tmp_path / "mixed.parquet")
