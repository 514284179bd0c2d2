"""Binder: repo2docker's dry run picks the Python buildpack and our install line, and the Binder
requirements, installed into a fresh virtual environment, run the quickstart notebook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_repo2docker_dry_run_uses_our_requirements():
    result = subprocess.run([str(Path(sys.executable).with_name("jupyter-repo2docker")), "--no-build", "--debug",
                             str(REPO)], capture_output=True, text=True, timeout=300, check=True)
    dockerfile = result.stdout + result.stderr
    # the Python buildpack: a base environment for the runtime.txt's Python, then pip on our file
    assert "Building conda environment for python=3.11" in dockerfile
    assert '${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "environment.yml" not in dockerfile and "install.R" not in dockerfile
    requirements = [line for line in (REPO / "binder" / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")]
    assert requirements == [".[demo,notebook,polars,compare]"]


def test_binder_requirements_run_the_quickstart_in_a_fresh_environment(tmp_path):
    venv = tmp_path / "binder-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"], cwd=REPO,
                   check=True, timeout=1200)
    result = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
         "--nbval-sanitize-with", "nbval_sanitize.cfg", "01_quickstart.ipynb"],
        cwd=REPO / "notebooks", capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout
