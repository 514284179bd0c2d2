"""Validate files bigger than memory: CSV and Parquet read in batches, aggregated as they go.

``validate_file`` reads a batch of rows at a time, validates the batches as one stream through
``validate_iter`` (a bounded number of chunks in flight on any executor), and keeps only what a
report needs: the totals, the per-field and per-type counts, and a bounded sample of failing
rows. With ``invalid_out=`` every failing row is written out as it is found.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from flowschema.annotate import ERRORS_COLUMN, VALID_COLUMN, annotated_stream, original_columns
from flowschema.errors import DataFileError, FlowSchemaError
from flowschema.executor import BaseExecutor
from flowschema.io import TOTALS_KEY, encoded_errors, table_to_frame
from flowschema.progress import live_listener
from flowschema.report import summary_table

__all__ = ["SAMPLE_ROWS", "FileReport", "RunError", "validate_file"]

#: failing rows kept in a report's sample
SAMPLE_ROWS = 1_000
#: the name of the index of rows read from a file: their 0-based position among the data rows
POSITION = "position"


class RunError(FlowSchemaError):
    """A file's validation stopped before its end; ``rows_done`` rows had been validated."""

    def __init__(self, message: str, rows_done: int) -> None:
        super().__init__(message)
        self.rows_done = rows_done


@dataclass
class FileReport:
    """What validating a whole file found.

    ``summary`` has one row per field (``field``, ``errors``, ``rows`` and a count per error
    type) over all rows; ``sample`` holds the first ``SAMPLE_ROWS`` failing rows, annotated,
    indexed by their position in the file.
    """

    path: str
    model: str
    executor: str
    rows: int
    invalid: int
    summary: pd.DataFrame
    sample: pd.DataFrame
    elapsed_seconds: float
    invalid_out: str | None = None
    fields: list[dict] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return self.rows - self.invalid

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed_seconds if self.elapsed_seconds else 0.0

    def totals(self) -> dict:
        """The run's totals as ``attrs["flowschema"]`` of its sample: a dashboard of the sample
        shows the whole file's proportions (``subset`` says the frame holds only some rows)."""
        return {"model": self.model, "executor": self.executor, "source": self.path, "rows": self.rows,
                "invalid_rows": self.invalid, "elapsed_seconds": self.elapsed_seconds,
                "summary": self.summary.to_dict("records"), "fields": self.fields,
                "subset": "a sample of the failing rows"}

    @property
    def error_types(self) -> pd.Series:
        """Errors per pydantic error type over all rows, largest first."""
        counts = self.summary.drop(columns=["field", "errors", "rows"]).sum()
        return counts.sort_values(ascending=False, kind="stable").astype("int64")

    def dashboard(self):
        """The dashboard widget of the sample of failing rows."""
        from flowschema.dashboard.widget import Dashboard

        return Dashboard(self.sample)

    def _repr_html_(self) -> str:
        """The static dashboard of the failing-row sample, with the whole file's totals."""
        from flowschema.dashboard.data import DashboardData
        from flowschema.dashboard.html import page_html

        return page_html(DashboardData(self.sample), pages=1)

    def to_html(self, path: str | os.PathLike) -> None:
        """Write this report as one self-contained HTML file."""
        from flowschema.dashboard.html import write_document

        write_document(self._repr_html_(), path)

    def __repr__(self) -> str:
        share = f"{self.invalid / self.rows:.1%}" if self.rows else "0.0%"
        return (f"FileReport({self.path!r}: {self.rows:,} rows, {self.invalid:,} invalid ({share}), "
                f"{self.rows_per_second:,.0f} rows/s)")


def _read_batches(path: Path, chunksize: int) -> tuple[Iterator[pd.DataFrame], bool]:
    """Batches of ``chunksize`` rows, each indexed by position in the file; and whether CSV."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            batches = (table_to_frame(batch) for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize))
        except pa.ArrowException as exc:
            raise DataFileError(f"{path} is not a Parquet file pyarrow can read: {exc}") from None
        is_csv = False
    elif suffix in (".csv", ".tsv", ".txt") or path.name.lower().endswith((".csv.gz", ".csv.zip", ".csv.bz2")):
        separator = "\t" if suffix == ".tsv" else ","
        _check_header(path, separator)
        batches = iter(pd.read_csv(path, chunksize=chunksize, sep=separator))
        is_csv = True
    else:
        raise ValueError(f"cannot tell the format of {path}: use a .csv (.csv.gz, .tsv) or .parquet file")

    def positioned() -> Iterator[pd.DataFrame]:
        start = 0
        for batch in batches:
            batch.index = pd.RangeIndex(start, start + len(batch), name=POSITION)
            start += len(batch)
            yield batch

    return positioned(), is_csv


def _check_header(path: Path, separator: str) -> None:
    """Refuse a CSV without a header, or whose header repeats a name: pandas would rename the
    second ``a`` to ``a.1``, a column no model field reads, and its bad values would pass."""
    try:
        header = pd.read_csv(path, sep=separator, header=None, nrows=1, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path} is empty: a CSV file needs at least a header line") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataFileError(f"{path} cannot be read as CSV: {exc}") from None
    names = header.iloc[0].tolist() if len(header) else []
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataFileError(f"{path} has duplicate column names in its header: {repeated}. Each column must have "
                            "its own name to build one dict per row; rename them in the file")


class _InvalidRowsWriter:
    """Appends failing rows to a temporary file, renamed to ``path`` only when all is written.

    Every way out that Python sees removes the temporary file (``abandon``); one left by a
    process that was killed outright is removed by the next run to the same ``path``.
    """

    def __init__(self, path: Path, text_columns: bool) -> None:
        self.path = path
        self.parquet = path.suffix.lower() in (".parquet", ".pq")
        if not self.parquet and path.suffix.lower() != ".csv":
            raise ValueError(f"invalid_out must end in .parquet or .csv, got {path}")
        if path.is_dir():
            raise ValueError(f"invalid_out is a directory: {path}; give a .parquet or .csv file name")
        _remove_stale_partials(path)
        self.temporary = path.with_name(f"{_PARTIAL_PREFIX}{path.name}.partial-{os.getpid()}")
        self.text_columns = text_columns  # CSV input: columns as the file's text, whatever each batch inferred
        self._writer: pq.ParquetWriter | None = None
        self._csv_started = False

    def write(self, annotated: pd.DataFrame) -> None:
        failing = annotated[~annotated[VALID_COLUMN].to_numpy(dtype=bool)]
        data = original_columns(failing)
        if self.text_columns:
            data = data.astype("string")
        if self.parquet:
            rows = data.assign(**{VALID_COLUMN: failing[VALID_COLUMN],
                                  ERRORS_COLUMN: pd.array(encoded_errors(failing), dtype=pd.ArrowDtype(pa.binary()))})
            self._write_table(pa.Table.from_pandas(rows, preserve_index=True))
        elif len(failing) or not self._csv_started:
            errors = [json.dumps(errors, default=str) for errors in failing[ERRORS_COLUMN]]
            data.assign(**{ERRORS_COLUMN: errors}).to_csv(self.temporary, mode="a" if self._csv_started else "w",
                                                          header=not self._csv_started)
            self._csv_started = True

    def _write_table(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.temporary, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def finish(self, totals: dict) -> None:
        """Close the file with the run's ``totals`` in its metadata, and give it its name."""
        if self.parquet:
            if self._writer is None:  # no rows at all: an empty file that still reads back
                empty = pd.DataFrame({VALID_COLUMN: pd.Series(dtype=bool),
                                      ERRORS_COLUMN: pd.Series(dtype=pd.ArrowDtype(pa.binary()))},
                                     index=pd.RangeIndex(0, name=POSITION))
                self._write_table(pa.Table.from_pandas(empty, preserve_index=True))
            self._writer.add_key_value_metadata({TOTALS_KEY: json.dumps({**totals, "subset": "the failing rows"})})
            writer, self._writer = self._writer, None
            writer.close()
        elif not self._csv_started:
            pd.DataFrame({ERRORS_COLUMN: []}, index=pd.RangeIndex(0, name=POSITION)).to_csv(self.temporary)
        os.replace(self.temporary, self.path)

    def abandon(self) -> None:
        """Remove the temporary file; a failure here never hides the error that led here."""
        writer, self._writer = self._writer, None
        with contextlib.suppress(Exception):
            if writer is not None:
                writer.close()
        with contextlib.suppress(OSError):
            self.temporary.unlink(missing_ok=True)


_PARTIAL_PREFIX = "."


def _remove_stale_partials(path: Path) -> None:
    """Remove temporary files to ``path`` left by processes that no longer run (killed outright)."""
    pattern = f"{_PARTIAL_PREFIX}{path.name}.partial-"
    with contextlib.suppress(OSError):
        for partial in path.parent.glob(f"{glob.escape(pattern)}*"):
            pid = partial.name[len(pattern):]
            if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
                partial.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _add_counts(total: pd.DataFrame | None, summary: pd.DataFrame) -> pd.DataFrame:
    if total is None:
        return summary.set_index("field")
    return total.add(summary.set_index("field"), fill_value=0)


def validate_file(
    path: str | os.PathLike,
    model: type[BaseModel],
    executor: str | BaseExecutor = "sync",
    *,
    chunksize: int = 100_000,
    invalid_out: str | os.PathLike | None = None,
    **options: Any,
) -> FileReport:
    """Validate a CSV or Parquet file of any size, ``chunksize`` rows at a time; return a report.

    ``options`` are those of ``df.flowschema.validate`` (``strict``, ``context``, ``progress``,
    ``dashboard=True`` for live counts and bars over the whole file, and the executor's options
    such as ``max_workers`` or ``address``; the rows per task are ``task_chunksize``). With ``invalid_out`` (``.parquet`` or ``.csv``) every failing row is
    written there with its position in the file and its errors; the file appears only when the
    run completes. A malformed CSV line stops the run with a ``RunError`` naming the line.

    >>> import flowschema, pandas as pd, tempfile, os
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"x": [1, None, 3]}).to_csv(os.path.join(folder, "points.csv"), index=False)
    >>> report = flowschema.validate_file(os.path.join(folder, "points.csv"), Point, progress=False)
    >>> report.rows, report.invalid
    (3, 1)
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory: give a .csv or .parquet file")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"chunksize (rows read per batch) must be a positive int, got {chunksize!r}")
    if invalid_out is not None and not isinstance(invalid_out, (str, os.PathLike)):
        raise TypeError(f"invalid_out must be a path to a .parquet or .csv file, or None, got {invalid_out!r}")
    if "chunksize" in options:
        raise TypeError("validate_file's chunksize is the rows read per batch; give the rows per task as task_chunksize")
    listener = live_listener(options.pop("dashboard", False))
    batches, is_csv = _read_batches(path, chunksize)
    writer = _InvalidRowsWriter(Path(invalid_out), text_columns=is_csv) if invalid_out is not None else None
    annotated_frames = annotated_stream(batches, model, executor, source=str(path), listener=listener,
                                        chunksize=options.pop("task_chunksize", None), **options)
    started = time.perf_counter()
    rows = invalid = 0
    counts: pd.DataFrame | None = None
    samples: list[pd.DataFrame] = []
    sampled = 0
    executor_name = getattr(executor, "name", executor)
    fields: list[dict] = []
    try:
        for annotated in annotated_frames:
            executor_name = annotated.attrs["flowschema"]["executor"]
            fields = annotated.attrs["flowschema"]["fields"]
            failing = ~annotated[VALID_COLUMN].to_numpy(dtype=bool)
            rows += len(annotated)
            invalid += int(failing.sum())
            if failing.any():
                counts = _add_counts(counts, summary_table(annotated))
                if sampled < SAMPLE_ROWS:
                    samples.append(annotated[failing].iloc[: SAMPLE_ROWS - sampled])
                    sampled += len(samples[-1])
            if writer is not None:
                writer.write(annotated)
        summary = _summary(counts)
        sample = pd.concat(samples) if samples else pd.DataFrame(
            {VALID_COLUMN: pd.Series(dtype=bool), ERRORS_COLUMN: pd.Series(dtype=object)})
        report = FileReport(str(path), model.__name__, str(executor_name), rows, invalid, summary, sample,
                            time.perf_counter() - started, str(invalid_out) if invalid_out is not None else None,
                            fields)
        sample.attrs["flowschema"] = report.totals()
        if writer is not None:
            writer.finish(report.totals())
    except BaseException as exc:
        annotated_frames.close()
        if writer is not None:
            writer.abandon()
        if listener is not None:
            listener.run_failed(exc)
        if not isinstance(exc, Exception):  # Ctrl-C: no half file, and the interrupt as it is
            raise
        raise RunError(f"validating {path} stopped after {rows:,} rows: {type(exc).__name__}: {exc}", rows) from exc
    if listener is not None:
        listener.run_finished(sample)
    return report


def _summary(counts: pd.DataFrame | None) -> pd.DataFrame:
    if counts is None:
        return pd.DataFrame({"field": pd.Series(dtype=object), "errors": pd.Series(dtype="int64"),
                             "rows": pd.Series(dtype="int64")})
    counts = counts.fillna(0).astype("int64").reset_index()
    counts["field"] = counts["field"].astype(object)
    type_columns = sorted(column for column in counts.columns if column not in ("field", "errors", "rows"))
    counts = counts[["field", "errors", "rows", *type_columns]]
    return counts.sort_values(["errors", "field"], ascending=[False, True], kind="stable").reset_index(drop=True)
