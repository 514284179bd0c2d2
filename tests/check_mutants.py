"""After ``mutmut run`` (``make mutate``): the score, and every survivor not recorded as equivalent
in ``tests/test_screens.py`` (``EQUIVALENT_MUTANTS``). Exits 1 if there is one: kill it with a test."""

from __future__ import annotations

import subprocess
import sys

from tests.test_screens import EQUIVALENT_MUTANTS


def main() -> int:
    results = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True,
                             text=True, check=True).stdout
    statuses = dict(line.strip().rsplit(": ", 1) for line in results.splitlines() if ": " in line)
    survivors = sorted(name.removeprefix("flowschema.") for name, status in statuses.items() if status == "survived")
    killed = sum(status == "killed" for status in statuses.values())
    print(f"mutants: {len(statuses)}, killed: {killed}, survived: {len(survivors)} "
          f"(score {killed / max(len(statuses), 1):.1%})")
    unexplained = [name for name in survivors if name not in EQUIVALENT_MUTANTS]
    for name in unexplained:
        print(f"  not killed and not recorded as equivalent: {name}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
