"""`python -m flowschema demo` validates the real flights table and prints its summary."""

from __future__ import annotations

import subprocess
import sys


def test_demo_prints_the_flights_summary():
    result = subprocess.run([sys.executable, "-m", "flowschema", "demo"], capture_output=True, text=True, check=True,
                            timeout=300)
    out = result.stdout
    assert "Validated 336,776 flights against Flight with executor='sync'" in out
    assert "rows/s" in out and "Errors per field:" in out
    assert "dep_time" in out and "tailnum" in out


def test_unknown_command_fails():
    result = subprocess.run([sys.executable, "-m", "flowschema", "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice" in result.stderr
