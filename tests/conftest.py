"""Shared fixtures. ``executor`` runs a test once per executor: every executor must give the
answer the sync executor (and pydantic) gives."""

from __future__ import annotations

import pandas as pd
import pytest

import flowschema  # noqa: F401  (registers df.flowschema)

EXECUTORS = ["sync", "multiprocessing"]


@pytest.fixture(params=EXECUTORS)
def executor(request) -> str:
    """The name of each executor in turn."""
    return request.param


@pytest.fixture
def people():
    from tests.models import PEOPLE_ROWS

    return pd.DataFrame(PEOPLE_ROWS)
