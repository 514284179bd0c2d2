"""Shared fixtures. ``executor`` runs a test once per executor: every executor must give the
answer the sync executor (and pydantic) gives. Ray runs for real: one local Ray per test module
that needs it, shut down when the module is done. Ray missing is an error, never a skip."""

from __future__ import annotations

import pandas as pd
import pytest

import flowschema  # noqa: F401  (registers df.flowschema)
from flowschema.executor import close_shared
from tests.processes import wait_until_no_ray_processes

EXECUTORS = ["sync", "multiprocessing", "ray"]


@pytest.fixture(scope="session", autouse=True)
def no_ray_left_behind():
    """After the whole suite, no Ray process may still be running."""
    yield
    close_shared()
    wait_until_no_ray_processes("Ray processes outlived the test suite")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs for this module; RayExecutor(address=None) finds and uses it."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    close_shared("ray")
    ray.shutdown()


@pytest.fixture(params=EXECUTORS)
def executor(request) -> str:
    """The name of each executor in turn."""
    if request.param == "ray":
        request.getfixturevalue("local_ray")
    return request.param


@pytest.fixture
def people():
    from tests.models import PEOPLE_ROWS

    return pd.DataFrame(PEOPLE_ROWS)
