"""Worker processes die with the process that started them, however it ends (SIGKILL included).

A daemon thread in each worker, and in multiprocessing's fork server (which forks the workers),
checks twice a second that the starting process still runs: the same pid with the same start
time, so that a recycled pid is not taken for it, and not a zombie. When it is gone, the thread
ends its own process. Library code installs no signal handlers: this works inside any host.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["CHECK_SECONDS", "ProcessIdentity", "die_with", "identity", "is_running"]

#: how often a worker checks that its starting process still runs
CHECK_SECONDS = 0.5

ProcessIdentity = tuple[int, bytes]  # pid, start time in clock ticks since boot (b"" off Linux)


def _stat(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()
    except OSError:
        return None


def identity(pid: int) -> ProcessIdentity:
    """``pid`` with its start time, which tells it apart from a later process given the same pid."""
    fields = _stat(pid)
    return pid, fields[19] if fields else b""


def is_running(process: ProcessIdentity) -> bool:
    """Whether ``process`` still runs (a zombie, or another process with its pid, does not).

    >>> is_running(identity(os.getpid()))
    True
    """
    pid, started = process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    fields = _stat(pid)
    if fields is None:  # not on Linux: the pid answered, which is all we can tell
        return not started
    return fields[0] != b"Z" and fields[19] == started


def die_with(process: ProcessIdentity) -> None:
    """End this process (exit code 1) as soon as ``process`` no longer runs."""

    def watch() -> None:
        while is_running(process):
            time.sleep(CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="flowschema-lifeline", daemon=True).start()
