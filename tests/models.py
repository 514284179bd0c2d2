"""Models the tests validate against: constraints, Optional, Literal, Enum, nested models,
validators (including ones that raise non-pydantic exceptions), extra="forbid", aliases."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    city: str = Field(min_length=1)
    zip: str = Field(pattern=r"^\d{5}$")


class Person(BaseModel):
    name: str = Field(min_length=2, max_length=20)
    age: int = Field(ge=0, le=130)
    email: Optional[str] = None
    role: Literal["admin", "user"]
    color: Color = Color.RED
    address: Optional[Address] = None
    joined: Optional[dt.datetime] = None

    @field_validator("name")
    @classmethod
    def no_digits(cls, value: str) -> str:
        if any(character.isdigit() for character in value):
            raise ValueError("name must not contain digits")
        return value.title()

    @field_validator("email")
    @classmethod
    def explodes_on_boom(cls, value: str | None) -> str | None:
        if value == "boom":
            raise RuntimeError("mail server exploded")  # not a ValueError: pydantic does not wrap it
        return value

    @model_validator(mode="after")
    def admins_are_adults(self) -> Person:
        if self.role == "admin" and self.age < 18:
            raise ValueError("admins must be adults")
        return self


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    label: str = Field(alias="Label")


class NeedsContext(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def below_limit(cls, value: int, info: ValidationInfo) -> int:
        limit = (info.context or {}).get("limit", 100)
        if value > limit:
            raise ValueError(f"value above the limit {limit}")
        return value


PEOPLE_ROWS = [
    {"name": "ada", "age": 36, "email": "ada@example.org", "role": "admin", "color": "red",
     "address": {"city": "London", "zip": "12345"}, "joined": "2020-01-02T03:04:05"},
    {"name": "b0b", "age": 17, "email": None, "role": "admin", "color": "blue", "address": None, "joined": None},
    {"name": "cy", "age": -1, "email": "boom", "role": "guest", "color": "green",
     "address": {"city": "", "zip": "1"}, "joined": "not a date"},
    {"name": "x", "age": "41", "email": float("nan"), "role": "user", "color": None, "address": float("nan"),
     "joined": None},
    {"name": None, "age": None, "email": None, "role": None, "color": "red", "address": {"city": "Paris"},
     "joined": dt.datetime(2021, 5, 6)},
]
