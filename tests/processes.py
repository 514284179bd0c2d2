"""Processes found by the files they hold open, and free loopback ports: for the tests,
``tests/shared_machine.py`` and the benchmarks that start a Ray cluster.

``conftest.py`` points ``RAY_TMPDIR`` at a fresh directory before anything starts Ray, so every
Ray of the suite (a local ``ray.init``, a ``ray start`` cluster, subprocesses) keeps files open
under it. A Ray someone else runs on the machine never does, so it is never counted or stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_holding(prefix: str) -> list[int]:
    """Pids of the live processes (this one aside) with a file open under ``prefix``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if any(os.readlink(link).startswith(prefix) for link in (entry / "fd").iterdir()):
                pids.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return pids


def stop_processes(find: Callable[[], list[int]], grace: float = 10) -> None:
    """Stop the processes ``find`` names: SIGTERM, up to ``grace`` seconds, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in find():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while find() and time.monotonic() < deadline:
            time.sleep(0.2)


def ray_temp_dir() -> str:
    """The suite's private Ray temp dir (set by conftest.py)."""
    return os.environ["RAY_TMPDIR"]


def ray_processes() -> list[int]:
    """Pids of the live processes holding files open in the suite's Ray temp dir."""
    return processes_holding(ray_temp_dir().rstrip("/") + "/")


def process_command(pid: int) -> bytes:
    """The command line of ``pid`` (empty if it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def wait_until_no_ray_processes(message: str, timeout: float = 30) -> None:
    """Give the suite's Ray up to ``timeout`` seconds to stop, then fail with ``message``."""
    deadline = time.monotonic() + timeout
    while ray_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ray_processes(), f"{message}: {ray_processes()}"


def stop_ray_processes(grace: float = 10) -> None:
    """Stop the suite's Ray processes (never another Ray on the machine): SIGTERM, then SIGKILL."""
    stop_processes(ray_processes, grace)
