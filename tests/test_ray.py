"""RayExecutor against a real two-node Ray cluster started here with `ray start` on loopback
ports: address="auto", an explicit "127.0.0.1:PORT", Ray Client ("ray://"), faults, Ctrl-C,
unreachable addresses and a missing token. The equality cases shared by every executor run on a
local Ray in the other modules (see conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import flowschema
from flowschema import WorkerCrashError
from flowschema.executor.ray import RayExecutor
from tests.faulty import Faulty
from tests.models import Person
from tests.processes import free_port, process_command, ray_processes, stop_ray_processes, wait_until_no_ray_processes
from tests.test_multiprocessing import FRAME, assert_same_result, validate_interrupted, wait_for

RAY = str(Path(sys.executable).with_name("ray"))


def start_node(command: list[str], env: dict, attempts: int = 2) -> None:
    """``ray start``, tried once more if it fails (on a loaded machine a daemon may miss its
    start-up deadline); a failure shows Ray's own output."""
    for attempt in range(1, attempts + 1):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
        if result.returncode == 0:
            return
        if attempt < attempts and command[2] == "--head":  # a half-started head: its processes, by pid
            stop_ray_processes()
    pytest.fail(f"`{' '.join(command[1:])}` failed {attempts} times; Ray said:\n{result.stdout[-3000:]}"
                f"\n{result.stderr[-3000:]}")


@pytest.fixture(scope="module")
def cluster():
    """A head node and a second node, one CPU each, on loopback ports, in the suite's private Ray
    temp dir, requiring the suite's token (conftest.py); stopped afterwards (only its processes,
    by pid)."""
    wait_until_no_ray_processes("a Ray from an earlier test module is still running")
    port, client_port = free_port(), free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token"}  # the second node presents the token too
    head = [RAY, "start", "--head", f"--port={port}", f"--ray-client-server-port={client_port}", "--num-cpus=1",
            "--include-dashboard=false", "--disable-usage-stats"]
    try:
        start_node(head, env)
        start_node([RAY, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1", "--disable-usage-stats"], env)
        yield {"address": f"127.0.0.1:{port}", "client": f"ray://127.0.0.1:{client_port}",
               "token": os.environ["RAY_AUTH_TOKEN"]}
    finally:
        flowschema.close()
        stop_ray_processes()
    wait_until_no_ray_processes("Ray processes outlived the cluster")


@pytest.fixture
def with_token(cluster, monkeypatch):
    """This process presents the cluster's token, as an explicit address needs.

    Ray keeps the authentication mode it read first in the process (an earlier test's
    ``import ray`` read none): it is read afresh here, and again afterwards.
    """
    from ray._private.authentication_test_utils import reset_auth_token_state

    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    reset_auth_token_state()
    yield cluster
    flowschema.close()
    monkeypatch.undo()
    reset_auth_token_state()


@pytest.fixture(autouse=True)
def disconnect_after_each_test():
    """Each test connects as it says: the Ray connection FlowSchema made is ended after it."""
    yield
    flowschema.close()


def test_auto_without_a_cluster_says_so():  # runs before the cluster fixture starts one
    wait_until_no_ray_processes("a Ray from an earlier test module is still running")
    with pytest.raises(ConnectionError, match="could not connect to the Ray cluster running on this machine"):
        RayExecutor(Person, address="auto")


def check_people(executor: RayExecutor, people: pd.DataFrame) -> None:
    checked = people.flowschema.validate(Person, executor)
    expected = people.flowschema.validate(Person, "sync")
    assert_same_result(checked, expected)
    assert checked.attrs["flowschema"]["executor"] == "ray"


def test_auto_finds_the_two_node_cluster(cluster, people):
    import ray

    with RayExecutor(Person, address="auto", compression="lz4") as executor:
        assert len([node for node in ray.nodes() if node["Alive"]]) == 2
        assert executor.cluster_cpus() == 2
        check_people(executor, people)
    assert ray.is_initialized()  # closing an executor keeps the connection for the others
    flowschema.close()
    assert not ray.is_initialized()  # disconnected; the cluster itself keeps running
    assert ray_processes()


def test_explicit_address_with_a_token(with_token, people):
    with RayExecutor(Person, address=with_token["address"]) as executor:
        check_people(executor, people)


def test_ray_client(with_token, people):
    with RayExecutor(Person, address=with_token["client"], compression="lz4") as executor:
        check_people(executor, people)
        entries = list(executor.run(people.to_dict("records")))
        assert [entry["status"] for entry in entries] == ["validated"] + ["failed"] * 4


SERVER_FAILED = {  # the two ways Ray reports it, seen in CI
    "exited": "RuntimeError: Starting Ray client server failed. See ray_client_server_23000.err for detailed logs.",
    "zombie": ('  File ".../ray/util/client/server/proxier.py", line 396, in start_specific_server\n'
               "    cmd = psutil_proc.cmdline()\n"
               "psutil.ZombieProcess: PID still exists but it's a zombie (pid=2521)"),
}


@pytest.mark.parametrize("server_failed", list(SERVER_FAILED.values()), ids=list(SERVER_FAILED))
def test_a_ray_client_server_that_failed_to_start_is_tried_again(with_token, people, monkeypatch, server_failed):
    # Ray's proxier forks the server of each Ray Client connection from a multithreaded gRPC
    # process, and a few percent of those forks die (ray#63202): Ray then answers as below
    import ray

    from flowschema.executor import ray as ray_executor

    attempts = ray_executor.CLIENT_SERVER_ATTEMPTS
    real_init, calls = ray.init, []

    def init_failing(times: int, error: str):
        def init(*args, **kwargs):
            calls.append(kwargs["address"])
            if len(calls) <= times:
                raise ConnectionAbortedError(f"Initialization failure from server:\nTraceback (most recent call last):\n{error}")
            return real_init(*args, **kwargs)
        calls.clear()
        monkeypatch.setattr(ray, "init", init)

    init_failing(2, server_failed)  # the real server may fail too: attempts are left for it
    with RayExecutor(Person, address=with_token["client"]) as executor:
        check_people(executor, people)
    assert len(calls) >= 3 and set(calls) == {with_token["client"]}
    flowschema.close()

    init_failing(attempts, server_failed)  # the last attempt's failure is the caller's
    with pytest.raises(ConnectionError, match=f"(?s)at 'ray://.*failed to start .* {attempts} times"):
        RayExecutor(Person, address=with_token["client"])
    assert len(calls) == attempts

    init_failing(1, "Ray Client connection timed out")  # so is any other failure, at once
    with pytest.raises(ConnectionError, match="(?s)could not connect to the Ray cluster at 'ray://.*timed out"):
        RayExecutor(Person, address=with_token["client"])
    assert len(calls) == 1


def test_a_failed_ray_client_connection_leaves_the_process_able_to_connect(with_token, people):
    # Ray switches the process to client mode before a ray:// connection and left it on when the
    # connection failed: every later ray.init of the process then failed with a bare AssertionError
    not_a_client_server = f"ray://{with_token['address']}"  # the cluster's GCS port
    with pytest.raises(ConnectionError, match="could not connect to the Ray cluster at 'ray://"):
        RayExecutor(Person, address=not_a_client_server)
    with RayExecutor(Person, address="auto") as executor:
        check_people(executor, people)


def test_the_whole_flights_table_on_the_cluster(cluster):
    from flowschema.datasets import Flight, load_flights

    flights = load_flights().iloc[:60_000]
    with RayExecutor(Flight, address="auto", compression="lz4", max_inflight=4) as executor:
        assert_same_result(flights.flowschema.validate(Flight, executor), flights.flowschema.validate(Flight, "sync"))


def test_a_killed_worker_is_retried_and_no_row_is_lost(cluster, tmp_path):
    context = {"started": str(tmp_path / "started"), "delay": 0.005}
    frame = FRAME[FRAME["n"] != -1]
    killed = []

    def kill_a_worker():
        wait_for(context["started"])
        for pid in ray_processes():
            if process_command(pid).startswith(b"ray::_validate_in_ray_worker"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return

    with RayExecutor(Faulty, address="auto", chunksize=40) as executor:
        killer = threading.Thread(target=kill_a_worker)
        killer.start()
        checked = frame.flowschema.validate(Faulty, executor, context=context)
        killer.join()
    assert killed, "no busy Ray worker was found to kill"
    assert_same_result(checked, frame.flowschema.validate(Faulty, "sync"))


def test_retries_exhausted_fail_naming_the_rows(cluster):
    with RayExecutor(Faulty, address="auto", chunksize=50) as executor:
        with pytest.raises(WorkerCrashError, match=r"rows 200\.\.249 .* after 3 retries"):
            FRAME.flowschema.validate(Faulty, executor, context={"always_exit": True})
        assert_same_result(FRAME.iloc[:200].flowschema.validate(Faulty, executor), FRAME.iloc[:200].flowschema.validate(
            Faulty, "sync"))


def test_ctrl_c_cancels_the_tasks_and_the_executor_stays_usable(cluster, tmp_path):
    frame = FRAME[FRAME["n"] != -1]
    with RayExecutor(Faulty, address="auto", chunksize=10) as executor:
        validate_interrupted(frame, executor, tmp_path)
        small = frame.iloc[:30]
        assert_same_result(small.flowschema.validate(Faulty, executor), small.flowschema.validate(Faulty, "sync"))


def test_a_model_in_a_module_only_the_driver_has(cluster, tmp_path, monkeypatch):
    (tmp_path / "driver_only_models.py").write_text(textwrap.dedent('''
        from pydantic import BaseModel, Field

        class Parcel(BaseModel):
            weight_kg: float = Field(gt=0, le=30)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    from driver_only_models import Parcel

    frame = pd.DataFrame({"weight_kg": [1.0, 31.0, None]})
    with RayExecutor(Parcel, address="auto") as executor:
        checked = frame.flowschema.validate(Parcel, executor)
    assert checked[flowschema.VALID_COLUMN].tolist() == [True, False, False]


def test_a_model_defined_in_main_runs_on_the_cluster(cluster, tmp_path):
    script = tmp_path / "notebook_like.py"
    script.write_text(textwrap.dedent('''
        import pandas as pd
        from pydantic import BaseModel
        import flowschema

        class Reading(BaseModel):  # lives only in __main__, like a notebook cell's class
            value: int

        frame = pd.DataFrame({"value": [1, "x"]}, dtype=object)
        checked = frame.flowschema.validate(Reading, "ray", address="auto")
        print(checked["_fs_valid"].tolist())
    '''))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=True)
    assert result.stdout.strip() == "[True, False]"


def test_an_unreachable_address_fails_fast_naming_it():
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=r"nothing answers at Ray address '127\.0\.0\.1:1'"):
        RayExecutor(Person, address="127.0.0.1:1")
    with pytest.raises(ConnectionError, match=r"'ray://127\.0\.0\.1:1'"):
        RayExecutor(Person, address="ray://127.0.0.1:1")
    assert time.monotonic() - started < 30


def test_bad_addresses_and_options():
    with pytest.raises(ValueError, match="Ray address must be"):
        RayExecutor(Person, address="nowhere")
    with pytest.raises(TypeError, match="address must be"):
        RayExecutor(Person, address=6379)
    with pytest.raises(ValueError, match="max_inflight must be a positive int"):
        RayExecutor(Person, max_inflight=0)
    with pytest.raises(ValueError, match="compression must be one of"):
        RayExecutor(Person, compression="zstd")


def test_a_missing_token_gets_a_message_that_says_what_to_set(cluster):
    code = textwrap.dedent(f'''
        from flowschema.executor.ray import RayExecutor
        from tests.models import Person
        try:
            RayExecutor(Person, address="{cluster["address"]}")
        except ConnectionError as exc:
            print(exc)
    ''')
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAY_AUTH")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                            check=True)
    assert f"could not connect to the Ray cluster at '{cluster['address']}'" in result.stdout
    assert "set RAY_AUTH_MODE=token" in result.stdout and "~/.ray/auth_token" in result.stdout
