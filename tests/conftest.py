"""Shared fixtures. ``executor`` runs a test once per executor: every executor must give the
answer the sync executor (and pydantic) gives. Ray runs for real: one local Ray per test module
that needs it, shut down when the module is done. Ray missing is an error, never a skip.

Every Ray of the suite lives in a private temp dir (``RAY_TMPDIR``, set here before anything
imports Ray), so ``address="auto"`` finds only the suite's own clusters and the checks for
leftover processes count only the suite's: a Ray someone else runs on the machine is left alone.
Every Ray of the suite presents one token of the suite's own (``RAY_AUTH_TOKEN``): since Ray
2.60 a local ``ray.init()`` turns token authentication on and would otherwise write a token to
``~/.ray/auth_token``, and a process keeps the token it read first.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import tempfile

import pandas as pd
import pytest

# A suite started as a background job (`make test &`, a CI runner) inherits SIGINT ignored, and Python
# then installs no Ctrl-C handler: the Ctrl-C tests would wait forever. Ctrl-C acts as in a terminal,
# here and (exec resets a handled signal to its default) in every process the tests start.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# short: socket paths are limited; FLOWSCHEMA_TEST_TMP lets a test run a session inside a dir of its own
os.environ["RAY_TMPDIR"] = tempfile.mkdtemp(prefix="fs", dir=os.environ.get("FLOWSCHEMA_TEST_TMP", "/tmp"))
# also when no test runs (--collect-only, everything deselected): the session fixture below never starts then
atexit.register(shutil.rmtree, os.environ["RAY_TMPDIR"], ignore_errors=True)
os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(16)
# A raylet waits 30 s for its metrics agent by default; at load 8 the agent took 31 s (make test-shared)
os.environ.setdefault("RAY_agent_register_timeout_ms", "180000")

import flowschema  # noqa: E402  (registers df.flowschema)
from tests.processes import stop_ray_processes, wait_until_no_ray_processes  # noqa: E402

#: every executor; ``make mutate`` sets FLOWSCHEMA_EXECUTORS=sync for its fast in-process killers
EXECUTORS = os.environ.get("FLOWSCHEMA_EXECUTORS", "sync,multiprocessing,ray").split(",")


#: modules that connect to a `ray start` cluster: run after every module that starts a local Ray
CLUSTER_MODULES = ("test_ray.py", "test_ray_data.py")


def pytest_collection_modifyitems(items):
    """Run the cluster modules last. Ray starts a local Ray's daemons with a Python ``preexec_fn``
    after fork; in a process where an earlier Ray Data job and cluster connection left gRPC threads
    behind, that forked child can hang before it execs (seen once in CI: "Timed out waiting for
    file .../gcs_server_port", after "skipping fork() handlers"). The cluster modules start no
    local Ray, so nothing forks such a child after them."""
    items.sort(key=lambda item: item.path.name in CLUSTER_MODULES)  # stable: each group keeps its order


@pytest.fixture(scope="session", autouse=True)
def columns_in_threads():
    """The columnar engine screens and deduplicates a chunk's columns in threads from 2 rows on (a
    real run: from ``THREADED_ROWS``), so that every exactness test of the sync executor proves
    the threaded path big frames take; in one thread it is the same function called in order."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("flowschema.columnar.THREADED_ROWS", 2)
        yield


@pytest.fixture(scope="session", autouse=True)
def no_ray_left_behind():
    """After the whole suite, no Ray process the suite started may still be running, and its
    private Ray temp dir (4-5 MB of logs and sockets per run) is removed."""
    yield
    flowschema.close()
    try:
        wait_until_no_ray_processes("Ray processes outlived the test suite")
    finally:
        stop_ray_processes()
        shutil.rmtree(os.environ["RAY_TMPDIR"], ignore_errors=True)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs for this module; RayExecutor(address=None) finds and uses it.

    Started a second time if the first start fails: Ray waits a hard-coded 30 s for its raylet to
    register, which a loaded machine can miss ("The current node timed out during startup"), and
    a half-started Ray is stopped first, so that it cannot fail every later module's Ray tests."""
    import ray

    for attempt in (1, 2):
        try:
            ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            break
        except Exception:
            ray.shutdown()
            stop_ray_processes()
            if attempt == 2:
                raise
    yield ray
    flowschema.close()
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
