"""Validate files bigger than memory: CSV and Parquet read in batches, aggregated as they go.

``validate_file`` reads a batch of rows at a time, validates the batches as one stream through
``validate_iter`` (a bounded number of chunks in flight on any executor), and keeps only what a
report needs: the totals, the per-field and per-type counts, and a bounded sample of failing
rows. With ``invalid_out=`` every failing row is written out as it is found.

It also takes a set of files (a list, a directory of Parquet files, a glob). The driver reads
them in order on every executor but ``executor="ray"``, where the cluster's workers read and
validate their own files (``flowschema.ray``) and send back only a ``BatchOutcome`` per batch.
A set's ``invalid_out`` is a directory of Parquet parts.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from flowschema.annotate import (
    ERRORS_COLUMN,
    VALID_COLUMN,
    annotated_stream,
    original_columns,
)
from flowschema.errors import DataFileError, FlowSchemaError
from flowschema.executor import BaseExecutor
from flowschema.io import TOTALS_KEY, encoded_errors, table_to_frame
from flowschema.progress import RunListener, live_listener
from flowschema.report import field_name
from flowschema.validation import ChunkResult

__all__ = ["SAMPLE_ROWS", "BatchOutcome", "FileReport", "RunError", "error_kinds", "validate_file"]

#: failing rows kept in a report's sample
SAMPLE_ROWS = 1_000
#: the name of the index of rows read from a file: their 0-based position among the data rows
POSITION = "position"
#: the outer index level of rows read from a set of files: the file, as the report names it
FILE = "file"
#: the file in a set's ``invalid_out`` directory holding the run's totals (a Parquet schema file)
TOTALS_FILE = "_common_metadata"


class RunError(FlowSchemaError):
    """A file's validation stopped before its end; ``rows_done`` rows had been validated."""

    def __init__(self, message: str, rows_done: int) -> None:
        super().__init__(message)
        self.rows_done = rows_done


@dataclass
class FileReport:
    """What validating a whole file (or a set of files) found.

    ``summary`` has one row per field (``field``, ``errors``, ``rows`` and a count per error
    type) over all rows; ``sample`` holds the first ``SAMPLE_ROWS`` failing rows, annotated,
    indexed by their position in the file (by file and position for a set of files).
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


# -- what one batch found, and what a run keeps of it --------------------------------------------


@dataclass
class BatchOutcome:
    """What validating one batch found, as little as a report needs: a Ray worker sends this
    to the driver instead of the rows.

    ``kinds`` counts the failing rows per distinct combination of ``(field, error type)`` pairs
    (see ``error_kinds``); ``sample`` holds some of the failing rows, annotated (None: none sent);
    ``order`` places the batch in the run (rows of a smaller order come first); ``part`` names
    the ``invalid_out`` part its failing rows were written to.
    """

    rows: int
    invalid: int
    kinds: Counter
    sample: pd.DataFrame | None
    order: tuple
    part: str | None = None
    columns: tuple = ()


def error_kinds(errors: Iterable[tuple[dict, ...]]) -> Counter:
    """How many failing rows have each distinct combination of ``(field, error type)`` pairs:
    everything a per-field summary needs, in a few bytes whatever the number of rows.

    >>> error_kinds([({"loc": ("x",), "type": "int_parsing"},), ({"loc": ("x",), "type": "int_parsing"},)])
    Counter({(('x', 'int_parsing'),): 2})
    """
    return Counter(tuple((field_name(error["loc"]), error["type"]) for error in row) for row in errors)


def summary_of_kinds(kinds: Counter) -> pd.DataFrame:
    """The per-field summary (``field``, ``errors``, ``rows``, a count per error type; largest
    first) of the rows ``error_kinds`` counted: ``summary_table`` of those rows."""
    errors, rows, by_type = Counter(), Counter(), Counter()
    for kind, count in kinds.items():
        for name in dict.fromkeys(name for name, _ in kind):
            rows[name] += count
        for name, error_type in kind:
            errors[name] += count
            by_type[name, error_type] += count
    if not errors:
        return pd.DataFrame({"field": pd.Series(dtype=object), "errors": pd.Series(dtype="int64"),
                             "rows": pd.Series(dtype="int64")})
    table = pd.DataFrame({"errors": pd.Series(errors), "rows": pd.Series(rows)})
    table = table.join(pd.Series(by_type).unstack(fill_value=0)).fillna(0).astype("int64")
    table = table.rename_axis("field").reset_index()
    table["field"] = table["field"].astype(object)
    type_columns = sorted(column for column in table.columns if column not in ("field", "errors", "rows"))
    table = table[["field", "errors", "rows", *type_columns]]
    return table.sort_values(["errors", "field"], ascending=[False, True], kind="stable").reset_index(drop=True)


def annotated_outcome(annotated: pd.DataFrame, order: tuple) -> BatchOutcome:
    """The outcome of an annotated batch, keeping up to ``SAMPLE_ROWS`` failing rows."""
    failing = annotated[~annotated[VALID_COLUMN].to_numpy(dtype=bool)]
    return BatchOutcome(len(annotated), len(failing), error_kinds(failing[ERRORS_COLUMN]),
                        failing.iloc[:SAMPLE_ROWS] if len(failing) else None, order,
                        columns=tuple(original_columns(annotated).columns))


class RunTotals:
    """What the driver keeps of a run's batches: their counts, and the first ``SAMPLE_ROWS``
    failing rows in row order (batches may arrive in any order)."""

    def __init__(self) -> None:
        self.rows = self.invalid = 0
        self.kinds: Counter = Counter()
        self.columns: tuple | None = None
        self._samples: list[tuple[tuple, pd.DataFrame]] = []

    def add(self, outcome: BatchOutcome) -> None:
        self.rows += outcome.rows
        self.invalid += outcome.invalid
        self.kinds.update(outcome.kinds)
        if self.columns is None and outcome.columns:
            self.columns = outcome.columns
        if outcome.sample is not None and len(outcome.sample):
            self._samples.append((outcome.order, outcome.sample))
            self._samples.sort(key=lambda entry: entry[0])
            self._drop_unneeded_samples()

    def _drop_unneeded_samples(self) -> None:
        kept, rows = [], 0
        for entry in self._samples:
            if rows >= SAMPLE_ROWS:
                break
            kept.append(entry)
            rows += len(entry[1])
        self._samples = kept

    def sample(self) -> pd.DataFrame:
        """The first ``SAMPLE_ROWS`` failing rows, annotated."""
        if not self._samples:
            return pd.DataFrame({VALID_COLUMN: pd.Series(dtype=bool), ERRORS_COLUMN: pd.Series(dtype=object)})
        return pd.concat([frame for _, frame in self._samples]).iloc[:SAMPLE_ROWS]

    def report(self, source: str, model: str, executor: str, elapsed_seconds: float, invalid_out: Any,
               fields: list[dict]) -> FileReport:
        """The run's report; its sample carries the run's totals in ``attrs``."""
        sample = self.sample()
        report = FileReport(source, model, executor, self.rows, self.invalid, summary_of_kinds(self.kinds), sample,
                            elapsed_seconds, str(invalid_out) if invalid_out is not None else None, fields)
        sample.attrs["flowschema"] = report.totals()
        return report


def counted_chunk(outcome: BatchOutcome) -> ChunkResult:
    """What a live dashboard counts of an outcome, as a ``ChunkResult``: per failing row its
    errors' fields and types (messages and inputs stayed with the workers)."""
    failed: dict[int, tuple[dict, ...]] = {}
    for kind, count in outcome.kinds.items():
        errors = tuple({"type": error_type, "loc": (name,), "msg": "", "input": None} for name, error_type in kind)
        failed.update(dict.fromkeys(range(len(failed), len(failed) + count), errors))
    return ChunkResult(0, outcome.rows, failed)


# -- reading files -------------------------------------------------------------------------------

_PARQUET_SUFFIXES = (".parquet", ".pq")
_GLOB_CHARACTERS = "*?["


def file_format(path: Path) -> str:
    """``"parquet"``, ``"csv"`` or ``"tsv"``, from the file's name."""
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".tsv":
        return "tsv"
    if suffix in (".csv", ".txt") or path.name.lower().endswith((".csv.gz", ".csv.zip", ".csv.bz2")):
        return "csv"
    raise ValueError(f"cannot tell the format of {path}: use a .csv (.csv.gz, .tsv) or .parquet file")


def read_batches(path: Path, chunksize: int, name: str | None = None) -> tuple[Iterator[pd.DataFrame], bool]:
    """Batches of ``chunksize`` rows, each indexed by position in the file; and whether CSV.
    Errors name the file as ``name`` (its path by default)."""
    name = str(path) if name is None else name
    kind = file_format(path)
    if kind == "parquet":
        try:
            batches = (table_to_frame(batch) for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize))
        except pa.ArrowException as exc:
            raise DataFileError(f"{name} is not a Parquet file pyarrow can read: {exc}") from None
    else:
        separator = "\t" if kind == "tsv" else ","
        _check_header(path, separator, name)
        batches = iter(pd.read_csv(path, chunksize=chunksize, sep=separator))

    def positioned() -> Iterator[pd.DataFrame]:
        start = 0
        try:
            for batch in batches:
                batch.index = pd.RangeIndex(start, start + len(batch), name=POSITION)
                start += len(batch)
                yield batch
        except pd.errors.ParserError as exc:
            raise DataFileError(f"{name}: {exc}") from None

    return positioned(), kind != "parquet"


def _check_header(path: Path, separator: str, name: str) -> None:
    """Refuse a CSV without a header, or whose header repeats a name: pandas would rename the
    second ``a`` to ``a.1``, a column no model field reads, and its bad values would pass."""
    try:
        header = pd.read_csv(path, sep=separator, header=None, nrows=1, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{name} is empty: a CSV file needs at least a header line") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataFileError(f"{name} cannot be read as CSV: {exc}") from None
    names = header.iloc[0].tolist() if len(header) else []
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataFileError(f"{name} has duplicate column names in its header: {repeated}. Each column must have "
                            "its own name to build one dict per row; rename them in the file")


@dataclass(frozen=True)
class FileSet:
    """The files of one ``validate_file`` call, in order: their absolute paths (workers may
    run in another directory), the names the report gives them, and what the whole set is."""

    paths: tuple[Path, ...]
    labels: tuple[str, ...]
    source: str

    @property
    def text(self) -> bool:
        """Whether the files are CSV (their columns are written out as text)."""
        return file_format(self.paths[0]) != "parquet"


def file_set(path: Any) -> FileSet | None:
    """The set of files ``path`` names (a list, a directory of Parquet files, a glob), or None
    for a single file; a missing file is a ``FileNotFoundError`` naming it."""
    if isinstance(path, (list, tuple)):
        return _checked_set([_given_file(item) for item in path], f"{len(path)} files")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"validate_file takes a path, a list of paths, a directory or a glob, got {path!r}")
    given = Path(path)
    if given.is_dir():
        return _checked_set(_directory_files(given), str(given))
    if given.is_file():
        return None
    if any(character in str(path) for character in _GLOB_CHARACTERS):
        matches = [Path(match) for match in sorted(glob.glob(str(path), recursive=True)) if Path(match).is_file()]
        if not matches:
            raise FileNotFoundError(f"no file matches {str(path)!r}")
        return _checked_set(matches, str(path))
    raise FileNotFoundError(f"no such file: {given}")


def _given_file(item: Any) -> Path:
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"a list given to validate_file must hold paths, got {item!r}")
    path = Path(item)
    if path.is_dir():
        raise ValueError(f"{path} is a directory: a list given to validate_file must hold files")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


def _directory_files(folder: Path) -> list[Path]:
    """A directory's data files, read as a Parquet data set: names starting with ``.`` or
    ``_`` (``_SUCCESS``, ``_common_metadata``) are not data, as for pyarrow and Ray Data."""
    entries = sorted(entry for entry in folder.iterdir() if not entry.name.startswith((".", "_")))
    others = [entry.name for entry in entries if not (entry.is_file() and entry.suffix.lower() in _PARQUET_SUFFIXES)]
    if others or not entries:
        holds = f"it holds {', '.join(others[:3])}{' …' if len(others) > 3 else ''}" if others else "it holds none"
        raise ValueError(f"{folder} is a directory: it is read as a set of .parquet files, and {holds}. For CSV "
                         f"files give a glob such as '{folder / '*.csv'}' or a list of paths")
    return entries


def _checked_set(paths: list[Path], source: str) -> FileSet:
    if not paths:
        raise ValueError("validate_file was given an empty list of files")
    formats = {path: file_format(path) != "parquet" for path in paths}
    if len(set(formats.values())) > 1:
        text = next(path for path, is_text in formats.items() if is_text)
        parquet = next(path for path, is_text in formats.items() if not is_text)
        raise ValueError(f"a set of files must be all CSV or all Parquet: {text} is CSV, {parquet} is Parquet")
    absolute = tuple(path.resolve() for path in paths)
    repeated = sorted({str(path) for path in absolute if absolute.count(path) > 1})
    if repeated:
        raise ValueError(f"a set of files names the same file twice: {repeated[0]}")
    return FileSet(absolute, tuple(str(path) for path in paths), source)


def check_files(files: FileSet) -> None:
    """Open every file of the set before any work: a CSV without a proper header or a file
    that is not Parquet is a ``DataFileError`` naming it."""
    for path, label in zip(files.paths, files.labels):
        kind = file_format(path)
        if kind == "parquet":
            try:
                pq.read_metadata(path)
            except (pa.ArrowException, OSError) as exc:
                raise DataFileError(f"{label} is not a Parquet file pyarrow can read: {exc}") from None
        else:
            _check_header(path, "\t" if kind == "tsv" else ",", label)


def _set_batches(files: FileSet, chunksize: int) -> Iterator[pd.DataFrame]:
    """The set's batches in order, each indexed by file and position in the file."""
    for path, label in zip(files.paths, files.labels):
        batches, _ = read_batches(path, chunksize, label)
        for batch in batches:
            batch.index = pd.MultiIndex.from_arrays([np.full(len(batch), label, dtype=object), batch.index],
                                                    names=[FILE, POSITION])
            yield batch


# -- writing the failing rows --------------------------------------------------------------------


def failing_rows_table(failing: pd.DataFrame, text_columns: bool) -> pa.Table:
    """Annotated failing rows as ``invalid_out`` stores them: the data columns (as text for a
    CSV), ``_fs_valid``, and ``_fs_errors`` as msgpack bytes; the index kept."""
    data = original_columns(failing)
    if text_columns:  # CSV input: columns as the file's text, whatever each batch inferred
        data = data.astype("string")
    rows = data.assign(**{VALID_COLUMN: failing[VALID_COLUMN],
                          ERRORS_COLUMN: pd.array(encoded_errors(failing), dtype=pd.ArrowDtype(pa.binary()))})
    return pa.Table.from_pandas(rows, preserve_index=True)


def _empty_result(index: pd.Index) -> pa.Table:
    """No failing rows at all: a table that still reads back as a validation result."""
    empty = pd.DataFrame({VALID_COLUMN: pd.Series(dtype=bool),
                          ERRORS_COLUMN: pd.Series(dtype=pd.ArrowDtype(pa.binary()))}, index=index)
    return pa.Table.from_pandas(empty, preserve_index=True)


class _InvalidRowsWriter:
    """Appends failing rows to a temporary file, renamed to ``path`` only when all is written.

    Every way out that Python sees removes the temporary file (``abandon``); one left by a
    process that was killed outright is removed by the next run to the same ``path``.
    """

    def __init__(self, path: Path, text_columns: bool) -> None:
        self.path = path
        self.parquet = path.suffix.lower() in _PARQUET_SUFFIXES
        if not self.parquet and path.suffix.lower() != ".csv":
            raise ValueError(f"invalid_out must end in .parquet or .csv, got {path}")
        if path.is_dir():
            raise ValueError(f"invalid_out is a directory: {path}; give a .parquet or .csv file name")
        _remove_stale_partials(path)
        self.temporary = _partial_name(path)
        self.text_columns = text_columns
        self._writer: pq.ParquetWriter | None = None
        self._csv_started = False

    def write(self, annotated: pd.DataFrame) -> None:
        failing = annotated[~annotated[VALID_COLUMN].to_numpy(dtype=bool)]
        if self.parquet:
            self._write_table(failing_rows_table(failing, self.text_columns))
        elif len(failing) or not self._csv_started:
            data = original_columns(failing)
            if self.text_columns:
                data = data.astype("string")
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
            if self._writer is None:
                self._write_table(_empty_result(pd.RangeIndex(0, name=POSITION)))
            self._writer.add_key_value_metadata({TOTALS_KEY: _totals_json(totals)})
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


def part_name(file_number: int, first_position: int) -> str:
    """The name of the part holding the failing rows of a batch: parts sort in row order.

    >>> part_name(3, 200_000)
    'part-00003-000000200000.parquet'
    """
    return f"part-{file_number:05d}-{first_position:012d}.parquet"


def write_part(folder: str | os.PathLike, name: str, table: pa.Table) -> None:
    """Write one part into ``folder`` under a temporary name, then give it its name: a worker
    killed while writing leaves no part, only a temporary file the run removes."""
    final = Path(folder) / name
    if not final.parent.is_dir():
        raise FlowSchemaError(f"cannot write {name}: the folder {final.parent} does not exist on this node. With "
                              "executor='ray', invalid_out must be on storage every node of the cluster shares")
    temporary = final.with_name(f".{name}.partial-{os.getpid()}")
    pq.write_table(table, temporary)
    os.replace(temporary, final)


class InvalidParts:
    """``invalid_out`` of a set of files: a directory of Parquet parts, one per batch with
    failing rows (``part_name``: by file number and first position, so they sort in row order),
    and ``_common_metadata`` holding the run's totals in its key-value metadata.

    Parts go to a temporary sibling directory, renamed to ``path`` only when the run succeeds
    (an earlier result at ``path`` is replaced); every exit path Python sees removes it.
    """

    def __init__(self, path: Path, labels: tuple[str, ...], text_columns: bool) -> None:
        if path.suffix.lower() == ".csv" or (path.exists() and not path.is_dir()):
            raise ValueError(f"invalid_out {path} is a file name: for a set of files invalid_out is a directory "
                             "of Parquet parts; give a directory name")
        if path.is_dir() and not _written_here(path):
            raise ValueError(f"invalid_out {path} is a directory holding files FlowSchema did not write: give a "
                             "new directory, or an earlier run's invalid_out to replace it")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"the folder of invalid_out does not exist: {path.parent}")
        _remove_stale_partials(path)
        self.path = path
        self.temporary = _partial_name(path)
        shutil.rmtree(self.temporary, ignore_errors=True)
        self.temporary.mkdir()
        self.numbers = {label: number for number, label in enumerate(labels)}
        self.text_columns = text_columns
        self.parts: set[str] = set()

    def write(self, annotated: pd.DataFrame) -> None:
        """Write the failing rows of a batch read by the driver (indexed by file and position)."""
        failing = annotated[~annotated[VALID_COLUMN].to_numpy(dtype=bool)]
        if len(failing):
            label, first = annotated.index[0]
            name = part_name(self.numbers[label], first)
            write_part(self.temporary, name, failing_rows_table(failing, self.text_columns))
            self.parts.add(name)

    def add(self, name: str | None) -> None:
        """Count a part a worker wrote (None: its batch had no failing rows)."""
        if name is not None:
            self.parts.add(name)

    def finish(self, totals: dict) -> None:
        """Keep exactly the parts of the run, write its totals, and give the directory its name."""
        present = {entry.name for entry in self.temporary.iterdir()}
        missing = sorted(self.parts - present)
        if missing:
            raise FlowSchemaError(f"{len(missing)} parts written by the workers are not in {self.temporary} (such as "
                                  f"{missing[0]}): with executor='ray', invalid_out must be on storage every node "
                                  "of the cluster shares")
        for stray in present - self.parts:  # from attempts whose worker died
            (self.temporary / stray).unlink()
        if not self.parts:
            empty = _empty_result(pd.MultiIndex.from_arrays([pd.Series(dtype=object), pd.Series(dtype="int64")],
                                                            names=[FILE, POSITION]))
            write_part(self.temporary, part_name(0, 0), empty)
        schema = pq.read_schema(self.temporary / min(self.parts or {part_name(0, 0)}))
        pq.write_metadata(schema.with_metadata({**(schema.metadata or {}), TOTALS_KEY: _totals_json(totals)}),
                          self.temporary / TOTALS_FILE)
        if self.path.exists():
            earlier = self.path.with_name(f".{self.path.name}.replaced-{os.getpid()}")
            os.rename(self.path, earlier)
            os.rename(self.temporary, self.path)
            shutil.rmtree(earlier, ignore_errors=True)
        else:
            os.rename(self.temporary, self.path)

    def abandon(self) -> None:
        """Remove the temporary directory; a failure here never hides the error that led here."""
        shutil.rmtree(self.temporary, ignore_errors=True)


def _written_here(folder: Path) -> bool:
    """Whether a directory is empty or holds only what ``InvalidParts`` writes."""
    return all(entry.name == TOTALS_FILE or (entry.name.startswith("part-") and entry.suffix == ".parquet")
               for entry in folder.iterdir())


def _totals_json(totals: dict) -> str:
    return json.dumps({**totals, "subset": "the failing rows"})


_PARTIAL_PREFIX = "."


def _partial_name(path: Path) -> Path:
    return path.with_name(f"{_PARTIAL_PREFIX}{path.name}.partial-{os.getpid()}")


def _remove_stale_partials(path: Path) -> None:
    """Remove temporary files (or directories) to ``path`` left by processes that no longer
    run (killed outright)."""
    pattern = f"{_PARTIAL_PREFIX}{path.name}.partial-"
    with contextlib.suppress(OSError):
        for partial in path.parent.glob(f"{glob.escape(pattern)}*"):
            pid = partial.name[len(pattern):]
            if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
                if partial.is_dir():
                    shutil.rmtree(partial, ignore_errors=True)
                else:
                    partial.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


# -- validate_file -------------------------------------------------------------------------------


#: where the cluster's workers read a set of files themselves (imported when asked for: Ray)
_WORKERS_READ = ("flowschema.ray_data", "validate_files_on_workers")


def validate_file(
    path: str | os.PathLike | list,
    model: type[BaseModel],
    executor: str | BaseExecutor = "sync",
    *,
    chunksize: int = 100_000,
    invalid_out: str | os.PathLike | None = None,
    **options: Any,
) -> FileReport:
    """Validate a CSV or Parquet file of any size, ``chunksize`` rows at a time; return a report.

    ``path`` may also name a set of files, validated as one run: a list of paths, a directory
    of Parquet files, or a glob (``"flights/*.csv"``). The driver reads a set in order, but
    with ``executor="ray"`` the cluster's workers read and validate their own files and the
    driver receives only counts and the sample (``address=`` says which cluster).

    ``options`` are those of ``df.flowschema.validate`` (``strict``, ``context``, ``engine``,
    ``progress``, ``dashboard=True`` for live counts and bars over the whole run, and the
    executor's options such as ``max_workers`` or ``address``; the rows per task are
    ``task_chunksize``). With ``invalid_out`` (``.parquet`` or ``.csv``) every failing row is
    written there with its position in the file and its errors; the file appears only when the
    run completes. For a set of files ``invalid_out`` is a directory of Parquet parts, which
    likewise appears only when the run completes. A malformed CSV line stops the run with a
    ``RunError`` naming the file and line.

    >>> import flowschema, pandas as pd, tempfile, os
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"x": [1, None, 3]}).to_csv(os.path.join(folder, "points.csv"), index=False)
    >>> report = flowschema.validate_file(os.path.join(folder, "points.csv"), Point, progress=False)
    >>> report.rows, report.invalid
    (3, 1)
    >>> pd.DataFrame({"x": ["4", "x"]}).to_csv(os.path.join(folder, "more.csv"), index=False)
    >>> report = flowschema.validate_file(os.path.join(folder, "*.csv"), Point, progress=False)
    >>> report.rows, report.invalid, list(report.sample.index.names)
    (5, 2, ['file', 'position'])
    """
    files = file_set(path)
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"chunksize (rows read per batch) must be a positive int, got {chunksize!r}")
    if invalid_out is not None and not isinstance(invalid_out, (str, os.PathLike)):
        raise TypeError(f"invalid_out must be a path to a .parquet or .csv file, or None, got {invalid_out!r}")
    if "chunksize" in options:
        raise TypeError("validate_file's chunksize is the rows read per batch; give the rows per task as task_chunksize")
    listener = live_listener(options.pop("dashboard", False))
    if files is not None and executor == "ray":  # the cluster's workers read the files themselves
        module_name, function_name = _WORKERS_READ
        return getattr(importlib.import_module(module_name), function_name)(files, model, chunksize, invalid_out,
                                                                           listener, options)
    if files is None:
        source = str(Path(path))
        batches, text = read_batches(Path(path), chunksize)
        writer = _InvalidRowsWriter(Path(invalid_out), text) if invalid_out is not None else None
    else:
        check_files(files)
        source, batches = files.source, _set_batches(files, chunksize)
        writer = InvalidParts(Path(invalid_out), files.labels, files.text) if invalid_out is not None else None
    annotated_frames = annotated_stream(batches, model, executor, source=source, listener=listener,
                                        chunksize=options.pop("task_chunksize", None), **options)
    return _driver_run(annotated_frames, source, model, getattr(executor, "name", executor), writer, invalid_out,
                       listener)


def _driver_run(annotated_frames: Iterator[pd.DataFrame], source: str, model: type[BaseModel], executor_name: str,
                writer: _InvalidRowsWriter | InvalidParts | None, invalid_out: Any,
                listener: RunListener | None) -> FileReport:
    """Validate what the driver reads: count each annotated batch, write its failing rows."""
    started = time.perf_counter()
    totals = RunTotals()
    fields: list[dict] = []
    try:
        for number, annotated in enumerate(annotated_frames):
            executor_name = annotated.attrs["flowschema"]["executor"]
            fields = annotated.attrs["flowschema"]["fields"]
            totals.add(annotated_outcome(annotated, (number,)))
            if writer is not None:
                writer.write(annotated)
        report = totals.report(source, model.__name__, str(executor_name), time.perf_counter() - started,
                               invalid_out, fields)
        if writer is not None:
            writer.finish(report.totals())
    except BaseException as exc:
        annotated_frames.close()
        abandon_run(exc, writer, listener)
        if not isinstance(exc, Exception):  # Ctrl-C: no half file, and the interrupt as it is
            raise
        raise run_error(exc, source, totals.rows) from exc
    if listener is not None:
        listener.run_finished(report.sample)
    return report


def abandon_run(exc: BaseException, writer: _InvalidRowsWriter | InvalidParts | None,
              listener: RunListener | None) -> None:
    """A run stopped: leave nothing half written, and tell the listener."""
    if writer is not None:
        writer.abandon()
    if listener is not None:
        listener.run_failed(exc)


def run_error(exc: Exception, source: str, rows: int) -> RunError:
    return RunError(f"validating {source} stopped after {rows:,} rows: {type(exc).__name__}: {exc}", rows)
