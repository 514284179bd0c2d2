"""``make test-shared``: the whole suite on a machine that is busy with someone else's work.

Starts a foreign Ray cluster with ``ray start --head`` in Ray's default temp dir (where
``address="auto"`` would find it), then two busy loops, runs ``make test``, then stops exactly what it
started (the busy loops by pid, the cluster's processes by the session dir they hold open) and
exits with ``make test``'s code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: its path is tests/
from tests.processes import free_port, processes_holding, stop_processes  # noqa: E402

RAY = str(Path(sys.executable).with_name("ray"))


def start_foreign_ray(attempts: int = 3) -> str:
    """A one-node cluster in Ray's default temp dir; returns its session dir. The machine may be
    busy (someone else's work): the raylet is given Ray's own timeout for slow machines to wait for
    its agents, a start that failed is stopped and tried again, and a failure shows Ray's own
    output."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAY_")}
    env["RAY_agent_register_timeout_ms"] = "180000"  # the raylet's wait for its metrics agent
    temp = Path(tempfile.gettempdir()) / "ray"
    for _ in range(attempts):
        before = set(temp.glob("session_2*")) if temp.exists() else set()
        result = subprocess.run([RAY, "start", "--head", f"--port={free_port()}", "--num-cpus=1",
                                 "--include-dashboard=false", "--disable-usage-stats"],
                                capture_output=True, text=True, env=env, timeout=300, check=False)
        sessions = set(temp.glob("session_2*")) - before
        if result.returncode == 0 and len(sessions) == 1:
            return str(sessions.pop()) + "/"
        for session in sessions:  # what the failed start left running, by the session dir it holds
            stop_processes(lambda session=session: processes_holding(str(session) + "/"))
    raise SystemExit(f"test-shared: `ray start --head` failed {attempts} times; Ray said:\n"
                     f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def main() -> int:
    session = start_foreign_ray()  # before the busy loops: a raylet has 30 s to register, whatever the load
    busy = [subprocess.Popen(["sh", "-c", "yes > /dev/null"], start_new_session=True) for _ in range(2)]
    try:
        print(f"test-shared: two busy loops and a foreign Ray cluster ({session}) are running", flush=True)
        return subprocess.run(["make", "test"], check=False).returncode
    finally:
        for loop in busy:
            os.killpg(loop.pid, signal.SIGKILL)
        stop_processes(lambda: processes_holding(session))


if __name__ == "__main__":
    sys.exit(main())
