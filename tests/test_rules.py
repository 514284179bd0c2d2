"""The rule of each model field as the reports write it: read from the model's declarations."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Annotated, Literal, Optional

import pytest
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, field_validator, model_validator

from flowschema.rules import field_rules
from tests.models import Color, Person


def _positive(value):
    return value


class Declared(BaseModel):
    dep_time: int = Field(ge=0, le=2400)
    air_time: Optional[float] = Field(gt=0)
    origin: Literal["EWR", "JFK", "LGA"]
    carrier: str = Field(pattern=r"^[A-Z0-9]{2}$")
    tailnum: str = Field(min_length=5, max_length=6)
    code: str

    @field_validator("code")
    @classmethod
    def check_code(cls, value: str) -> str:
        return value


@pytest.mark.parametrize("field, rule", [
    ("dep_time", "int, 0 ≤ x ≤ 2400"),
    ("air_time", "float > 0, or missing"),
    ("origin", "'EWR' | 'JFK' | 'LGA'"),
    ("carrier", "str matching ^[A-Z0-9]{2}$"),
    ("tailnum", "str, 5 to 6 characters"),
    ("code", "str, then check_code()"),
])
def test_the_rules_the_issue_lists(field, rule):
    assert field_rules(Declared)[field] == rule


class More(BaseModel):
    year: int = Field(ge=2013, le=2013)
    flipper: int = Field(gt=150, lt=250)
    short: str = Field(max_length=3)
    long: str = Field(min_length=3)
    exactly: str = Field(min_length=3, max_length=3)
    tags: list[int] = Field(min_length=1)
    step: float = Field(multiple_of=0.5, ge=0)
    price: decimal.Decimal = Field(max_digits=5, decimal_places=2)
    color: Color
    when: dt.datetime
    either: int | str
    checked_after: Annotated[int, AfterValidator(_positive)]
    checked_before: Annotated[int, BeforeValidator(_positive)]
    nested: Optional[Annotated[int, Field(gt=0)]] = None

    @model_validator(mode="after")
    def consistent(self):
        return self


def test_other_declarations_read_as_short_sentences():
    assert field_rules(More) == {
        "year": "int = 2013",
        "flipper": "int, 150 < x < 250",
        "short": "str, at most 3 characters",
        "long": "str, at least 3 characters",
        "exactly": "str, 3 characters",
        "tags": "list[int], at least 1 item",
        "step": "float ≥ 0, multiple of 0.5",
        "price": "Decimal, at most 5 digits, at most 2 decimal places",
        "color": "'red' | 'green'",
        "when": "datetime",
        "either": "int | str",
        "checked_after": "int, then _positive()",
        "checked_before": "_positive(), then int",
        "nested": "int > 0, or missing",
        "__model__": "consistent()",
    }


def test_rules_follow_the_models_field_order_and_name_its_checks():
    rules = field_rules(Person)
    assert list(rules) == [*Person.model_fields, "__model__"]
    assert rules["name"] == "str, 2 to 20 characters, then no_digits()"
    assert rules["__model__"] == "admins_are_adults()"
