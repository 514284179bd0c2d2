"""Finding the Ray processes running on this machine, to check that none are left behind."""

from __future__ import annotations

import time
from pathlib import Path


def ray_processes() -> list[int]:
    """Pids of the Ray daemons and workers running on this machine."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"raylet" in command or b"gcs_server" in command or command.startswith(b"ray::"):
                pids.append(int(entry.name))
    return pids


def wait_until_no_ray_processes(message: str, timeout: float = 30) -> None:
    """Give Ray up to ``timeout`` seconds to stop, then fail with ``message`` if it has not."""
    deadline = time.monotonic() + timeout
    while ray_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ray_processes(), message
