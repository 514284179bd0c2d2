"""Models whose validators misbehave on purpose, importable by worker processes.

The ``context`` dict steers them: ``exit_marker`` makes the first validation of a row with
``n == -1`` kill its process (``os._exit``) and leave the marker file, so a retry succeeds;
``always_exit`` kills on every try; ``started`` tells the test that work has begun, and
``hold`` (a path) makes every row wait until that file exists, so a test can interrupt a run
that is certainly still going, however slow or busy the machine.
"""

from __future__ import annotations

import os
import pathlib
import time

from pydantic import BaseModel, ValidationInfo, field_validator


class Faulty(BaseModel):
    n: int

    @field_validator("n")
    @classmethod
    def misbehave(cls, value: int, info: ValidationInfo) -> int:
        context = info.context or {}
        if value == -1 and context.get("always_exit"):
            os._exit(3)
        marker = context.get("exit_marker")
        if value == -1 and marker and not os.path.exists(marker):
            pathlib.Path(marker).touch()
            os._exit(3)
        if context.get("started"):
            pathlib.Path(context["started"]).touch()
        if context.get("delay"):
            time.sleep(context["delay"])
        if context.get("hold"):
            deadline = time.monotonic() + 120  # never hang a test run for good
            while not os.path.exists(context["hold"]) and time.monotonic() < deadline:
                time.sleep(0.005)
        if value % 7 == 0:
            raise ValueError("multiples of seven are unlucky")
        return value


class Held(BaseModel):
    """For runs driven from outside (the command line): every row waits, while the file named by
    ``FLOWSCHEMA_TEST_HOLD`` does not exist, after touching ``FLOWSCHEMA_TEST_STARTED``."""

    n: int

    @field_validator("n")
    @classmethod
    def hold(cls, value: int) -> int:
        started, hold = os.environ.get("FLOWSCHEMA_TEST_STARTED"), os.environ.get("FLOWSCHEMA_TEST_HOLD")
        if started:
            pathlib.Path(started).touch()
        deadline = time.monotonic() + 120
        while hold and not os.path.exists(hold) and time.monotonic() < deadline:
            time.sleep(0.01)
        return value
