"""``flowschema.ray``: validate Ray Data datasets where they live; the driver sees counts only.
(This file is ``flowschema/ray_data.py``; ``import flowschema.ray`` gives this very module.)

    import ray, flowschema.ray as fsray
    from ray.data.expressions import col
    checked = fsray.validate_dataset(ray.data.read_parquet("flights/"), Flight)   # lazy
    report = fsray.summarize(checked)            # counted on the cluster, a sample of failing rows
    failing = fsray.to_pandas(checked.filter(expr=~col("_fs_valid")))

``validate_dataset`` adds two columns to every batch with ``map_batches``: ``_fs_valid`` (bool)
and ``_fs_errors``, whose Arrow type is fixed (``ERRORS_TYPE``: per row a list of errors, each
with ``type``, ``field``, ``loc``, ``msg``, and ``input`` and ``ctx`` as msgpack bytes written
by ``flowschema.transport`` in file mode, never pickles), so a checked dataset can be filtered,
written to Parquet and read back by any Arrow tool. ``to_pandas`` turns it back into pydantic's
error dicts. Each Ray task runs ``validate_frame`` on the sync executor: the chunk validation
every executor runs, with the columnar engine. The model travels by value once (a notebook's
model works) and each worker process unpickles it once.

Ray Data retries a task whose worker died without end. Here a small actor (the ledger) counts
each batch's attempts; after ``MAX_RETRIES`` retries the next attempt raises
``WorkerCrashError`` naming the batch's file and rows instead of validating again.

``validate_file`` of a set of files with ``executor="ray"`` is built on ``validate_dataset``
(``FileSetRun``): each task reads a whole CSV file or a Parquet file's row groups, validates,
writes its failing rows as a part of ``invalid_out``, and sends the driver a ``BatchOutcome``.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import logging
import pickle
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel

try:
    import ray  # ray.data is imported where it is used: imported early, it breaks Ray Client connections
except ModuleNotFoundError as _missing:
    if _missing.name != "ray":
        raise
    raise ImportError('flowschema.ray needs Ray Data: pip install "flowschema[ray]"') from None

from flowschema.annotate import (
    ERRORS_COLUMN,
    VALID_COLUMN,
    check_arguments,
    field_descriptions,
    validate_frame,
)
from flowschema.error_codec import ERRORS_TYPE, errors_from_arrow, errors_to_arrow, kinds_from_arrow
from flowschema.errors import DataFileError, FlowSchemaError, WorkerCrashError
from flowschema.executor.base import check_positive_int
from flowschema.executor.ray import (
    MAX_RETRIES,
    cached_model,
    connect_ray,
    pickled_model,
)
from flowschema.io import table_to_frame
from flowschema.progress import RunListener, progress_bar
from flowschema.streaming import (
    FILE,
    POSITION,
    SAMPLE_ROWS,
    BatchOutcome,
    FileReport,
    FileSet,
    InvalidParts,
    RunTotals,
    abandon_run,
    counted_chunk,
    failing_rows_table,
    file_format,
    part_name,
    read_batches,
    run_error,
    write_part,
)
from flowschema.threads import use_one_thread
from flowschema.validation import ValidationOptions

__all__ = ["ERRORS_TYPE", "FILE_COLUMN", "POSITION_COLUMN", "errors_from_arrow", "errors_to_arrow", "summarize",
           "to_pandas", "validate_dataset", "validate_files_on_workers"]

#: in datasets ``validate_file`` reads: the file each row comes from, and its 0-based position
#: among the file's data rows (a ``WorkerCrashError`` names both, as for any dataset having them)
FILE_COLUMN = "_fs_file"
POSITION_COLUMN = "_fs_position"
#: the Arrow field metadata key of ``_fs_errors`` holding the model's name, engine and fields
METADATA_KEY = b"flowschema"
#: the largest block (bytes) a file read on the workers is cut into: a task holds about this much
BLOCK_BYTES = 32 * 2**20
_LEDGER_NAME = "flowschema-ledger"


def _errors_array(batch: pa.Table | pd.DataFrame) -> pa.Array:
    if ERRORS_COLUMN not in _column_names(batch):
        raise ValueError(f"this dataset has no {ERRORS_COLUMN} column: it is not a validation result. Run "
                         "checked = flowschema.ray.validate_dataset(ds, Model) and pass `checked`")
    column = batch.column(ERRORS_COLUMN) if isinstance(batch, pa.Table) else pa.array(batch[ERRORS_COLUMN].array)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], ERRORS_TYPE)
    return column


def _valid_array(batch: pa.Table | pd.DataFrame) -> np.ndarray:
    if isinstance(batch, pa.Table):
        return batch.column(VALID_COLUMN).to_numpy().astype(bool)
    return batch[VALID_COLUMN].to_numpy(dtype=bool)


def _column_names(batch: pa.Table | pd.DataFrame) -> list:
    return batch.column_names if isinstance(batch, pa.Table) else list(batch.columns)


def _run_metadata(batch: pa.Table | pd.DataFrame) -> dict:
    """The model's name, engine and fields ``validate_dataset`` recorded on ``_fs_errors``."""
    if not isinstance(batch, pa.Table):
        return {}
    metadata = batch.schema.field(ERRORS_COLUMN).metadata or {}
    return json.loads(metadata[METADATA_KEY]) if METADATA_KEY in metadata else {}


# -- the ledger: attempts per batch, and the sample's rows ---------------------------------------


class _Ledger:
    """A small actor the tasks of a run report to: how often each batch was attempted (Ray
    Data would retry a batch whose worker dies forever), and how many failing rows each batch
    may send for the sample. Two or three calls per batch of tens of thousands of rows."""

    def __init__(self) -> None:
        self._attempts: dict[tuple, int] = {}
        self._failing: dict[str, list[tuple[Any, int]]] = {}  # per run: (order, failing rows), sorted

    def attempt(self, key: tuple) -> int:
        """Count one more attempt of a batch; return how many there were."""
        self._attempts[key] = self._attempts.get(key, 0) + 1
        return self._attempts[key]

    def done(self, key: tuple) -> None:
        self._attempts.pop(key, None)

    def sample_quota(self, run: str, order: tuple | None, failing: int) -> int:
        """How many of a batch's ``failing`` rows the sample may still need: ``SAMPLE_ROWS``
        minus the failing rows of the batches before it (by ``order``; None: in arrival order).
        Only the first batches are added up, so a call costs little however long the run."""
        counted = self._failing.setdefault(run, [])
        order = (len(counted),) if order is None else order
        before = 0
        for key, rows in counted:
            if key >= order or before >= SAMPLE_ROWS:
                break
            before += rows
        bisect.insort(counted, (order, failing))
        return max(0, min(failing, SAMPLE_ROWS - before))

    def forget(self, run: str) -> None:
        self._failing.pop(run, None)
        for key in [key for key in self._attempts if key[0] == run]:
            del self._attempts[key]


#: this driver's ledger: (the connection to Ray it belongs to, its handle). Held here, because
#: Ray ends an actor nothing refers to, even a named one, and a run's datasets may be gone when
#: the next run starts
_ledger_of_driver: list = [None, None]


def _ledger():
    """This driver's ledger actor, started on first use (again after reconnecting to Ray)."""
    context = ray.get_runtime_context()
    driver = (context.get_node_id(), context.get_job_id())  # a new cluster starts its job ids again
    if _ledger_of_driver[0] != driver:
        actor = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(_Ledger)
        _ledger_of_driver[:] = [driver, actor.options(name=_LEDGER_NAME, get_if_exists=True).remote()]
    return _ledger_of_driver[1]


# -- validate_dataset ----------------------------------------------------------------------------

#: (task id, batches it has validated so far) in this worker process: retries of a task keep its id
_task_batches: list = [None, 0]


class _BatchValidator:
    """What each Ray task does with a batch: count the attempt, validate, append the columns."""

    def __init__(self, model: type[BaseModel], options: ValidationOptions) -> None:
        connect_ray(None)  # a no-op when Ray runs here, as it does once a dataset exists
        self.model_bytes, self.model_name, self.options = pickled_model(model), model.__name__, options
        self.ledger, self.run = _ledger(), uuid.uuid4().hex

    def __call__(self, batch: pa.Table | pd.DataFrame) -> pa.Table | pd.DataFrame:
        if not len(batch):
            return _validated(batch, cached_model(self.model_bytes), self.options)
        key = self._attempt_key(batch)
        attempts = ray.get(self.ledger.attempt.remote(key))
        if attempts > 1 + MAX_RETRIES:
            raise WorkerCrashError(
                f"Ray could not validate {_rows_described(batch)} against {self.model_name} after {MAX_RETRIES} "
                "retries: the worker process died each time (killed by the system, possibly out of memory, or a "
                "validator that ends the process); no partial result is returned. Try these rows with "
                "executor='sync'"
            )
        checked = _validated(batch, cached_model(self.model_bytes), self.options)
        self.ledger.done.remote(key)
        return checked

    def _attempt_key(self, batch: pa.Table | pd.DataFrame) -> tuple:
        """The same for every attempt of a batch: its file and first row when known, else its
        task and place in the task."""
        if FILE_COLUMN in _column_names(batch) and POSITION_COLUMN in _column_names(batch):
            return (self.run, _value(batch, FILE_COLUMN), _value(batch, POSITION_COLUMN))
        task = ray.get_runtime_context().get_task_id()
        if _task_batches[0] != task:
            _task_batches[:] = [task, 0]
        _task_batches[1] += 1
        return (self.run, task, _task_batches[1])


def _value(batch: pa.Table | pd.DataFrame, name: str, last: bool = False) -> Any:
    """The first (or last) value of a column, as a Python value."""
    at = len(batch) - 1 if last else 0
    if isinstance(batch, pa.Table):
        return batch.column(name)[at].as_py()
    value = batch[name].iloc[at]
    return value.item() if isinstance(value, np.generic) else value


def _rows_described(batch: pa.Table | pd.DataFrame) -> str:
    """The rows of a batch, as a person finds them: file and positions when known."""
    names, rows = _column_names(batch), f"{len(batch):,} row{'' if len(batch) == 1 else 's'}"
    if FILE_COLUMN in names and POSITION_COLUMN in names:
        first, last = _value(batch, FILE_COLUMN), _value(batch, FILE_COLUMN, last=True)
        start, end = _value(batch, POSITION_COLUMN), _value(batch, POSITION_COLUMN, last=True)
        if first == last:
            return f"{first} rows {start}..{end} (0-based positions among its data rows)"
        return f"{rows} from {first} row {start} to {last} row {end}"
    if "path" in names:  # ray.data.read_*(..., include_paths=True)
        paths = pc.unique(batch.column("path")).to_pylist() if isinstance(batch, pa.Table) else list(
            batch["path"].unique())
        return f"a batch of {rows} of {', '.join(map(str, paths[:3]))}"
    return f"a batch of {rows} (read the dataset with include_paths=True to have its file named here)"


def _validated(batch: pa.Table | pd.DataFrame, model: type[BaseModel], options: ValidationOptions
               ) -> pa.Table | pd.DataFrame:
    """``batch`` with ``_fs_valid`` and ``_fs_errors`` (replacing earlier ones), the model's
    name, engine and fields recorded on ``_fs_errors``. An Arrow batch keeps its data as it is
    (coerced values aside); pandas becomes Arrow here, as Ray Data would make it (a column of
    mixed types aside, which Ray Data stores its own way)."""
    use_one_thread()  # a Ray task: the other tasks fill the other cores
    arrow = isinstance(batch, pa.Table)
    frame = table_to_frame(batch) if arrow else batch
    annotated = validate_frame(frame, model, "sync", engine=options.engine, coerce=options.want_values,
                               strict=options.strict, context=options.context, progress=False)
    valid = annotated[VALID_COLUMN].to_numpy(dtype=bool)
    errors = errors_to_arrow(annotated[ERRORS_COLUMN].to_numpy(dtype=object))
    earlier = [name for name in (VALID_COLUMN, ERRORS_COLUMN) if name in _column_names(batch)]
    if arrow and not options.want_values:
        table = batch.drop_columns(earlier)
    else:
        checked = frame.drop(columns=earlier)
        for name in annotated.columns.drop([VALID_COLUMN, ERRORS_COLUMN]) if options.want_values else ():
            checked[name] = annotated[name]
        try:
            table = pa.Table.from_pandas(checked, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            checked[VALID_COLUMN] = valid
            checked[ERRORS_COLUMN] = pd.arrays.ArrowExtensionArray(errors)
            return checked
    run = annotated.attrs["flowschema"]
    errors_field = pa.field(ERRORS_COLUMN, ERRORS_TYPE, metadata={
        METADATA_KEY: json.dumps({key: run[key] for key in ("model", "engine", "fields")})})
    return table.append_column(pa.field(VALID_COLUMN, pa.bool_()), pa.array(valid)).append_column(errors_field, errors)


def _check_dataset(ds: Any) -> None:
    import ray.data

    if not isinstance(ds, ray.data.Dataset):
        raise TypeError(f"expected a ray.data.Dataset, got {type(ds).__name__}; for a DataFrame use "
                        "df.flowschema.validate(Model, executor='ray')")


def validate_dataset(ds: ray.data.Dataset, model: type[BaseModel], *, engine: str = "auto", coerce: bool = False,
                     strict: bool | None = None, context: Any = None, batch_size: int | None = None
                     ) -> ray.data.Dataset:
    """A lazy dataset: ``ds``'s columns plus ``_fs_valid`` (bool) and ``_fs_errors`` (``ERRORS_TYPE``).

    Rows are validated where the dataset lives, on the cluster's workers, exactly as
    ``df.flowschema.validate`` validates them (the same chunk validation; ``engine``,
    ``coerce``, ``strict`` and ``context`` mean the same). ``batch_size`` is the rows per Ray
    task (None: each block as it is). Columns named ``_fs_...`` are not validated; earlier
    ``_fs_valid``/``_fs_errors`` are replaced. Bring it back with ``to_pandas`` or count it
    with ``summarize``; write it as it is with ``checked.write_parquet(...)``.

    >>> import ray, flowschema.ray as fsray                                # doctest: +SKIP
    >>> from ray.data.expressions import col                               # doctest: +SKIP
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> checked = fsray.validate_dataset(ray.data.from_items([{"x": 1}, {"x": "a"}]), Point)  # doctest: +SKIP
    >>> checked.filter(expr=~col("_fs_valid")).count()                     # doctest: +SKIP
    1
    """
    _check_dataset(ds)
    model, options = check_arguments(model, None, engine, coerce, strict, context, False)
    check_positive_int("batch_size", batch_size, "each block as it is")
    return ds.map_batches(_BatchValidator(model, options), batch_format=None, batch_size=batch_size)


# -- bringing a checked dataset back -------------------------------------------------------------


@contextlib.contextmanager
def _original_exceptions(ds: ray.data.Dataset) -> Iterator[None]:
    """While ``ds`` runs here, a worker's exception reaches us as itself (Ray Data otherwise
    wraps it in a ``UserCodeException`` carrying only its text), and a ``FlowSchemaError`` of a
    worker is raised as it is."""
    context = ds.context
    before = context.raise_original_map_exception
    context.raise_original_map_exception = True
    try:
        yield
    except ray.exceptions.RayError as exc:
        cause = _worker_exception(exc)
        if isinstance(cause, FlowSchemaError):
            raise cause from None
        raise
    finally:
        context.raise_original_map_exception = before


@contextlib.contextmanager
def _ray_data_quiet() -> Iterator[None]:
    """Keep Ray Data's log lines (execution plans, progress, the errors we raise ourselves) out
    of the caller's notebook or terminal while our own run executes."""
    logger = logging.getLogger("ray.data")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _worker_exception(exc: BaseException) -> BaseException:
    """The exception a worker raised, from inside Ray's wrappers; one of ours without the
    advice Ray Data appends to every message (about retrying it, which does not apply)."""
    while isinstance(exc, ray.exceptions.RayTaskError) and exc.cause is not None and exc.cause is not exc:
        exc = exc.cause
    if isinstance(exc, FlowSchemaError) and exc.args and isinstance(exc.args[0], str):
        exc.args = (exc.args[0].split(_RAY_DATA_ADVICE)[0], *exc.args[1:])
    return exc


#: how the text Ray Data appends to the message of an exception raised in a map task begins
_RAY_DATA_ADVICE = "\nFailed to apply UDF transform after"


def _decoded(batch: pa.Table) -> pd.DataFrame:
    errors = errors_from_arrow(_errors_array(batch))
    frame = table_to_frame(batch.drop_columns([ERRORS_COLUMN]))
    frame[ERRORS_COLUMN] = errors
    return frame


def _empty_checked(checked: ray.data.Dataset) -> pa.Table:
    """No rows of a checked dataset: its columns when Ray knows them as Arrow, else ours alone
    (a dataset of no blocks has no schema)."""
    schema = checked.schema()
    if schema is not None and isinstance(schema.base_schema, pa.Schema):
        return schema.base_schema.empty_table()
    return pa.table({VALID_COLUMN: pa.array([], pa.bool_()), ERRORS_COLUMN: pa.array([], ERRORS_TYPE)})


def to_pandas(checked: ray.data.Dataset) -> pd.DataFrame:
    """A checked dataset as an annotated DataFrame, errors decoded: what ``validate`` returns
    for the same rows (``report``, ``dashboard()`` and ``to_parquet`` work on it). Like
    ``Dataset.to_pandas`` it brings every row here: filter first (``_fs_valid == False``).
    Rows come in the dataset's order (Ray Data keeps the input's order only with
    ``DataContext.get_current().execution_options.preserve_order = True``).
    """
    _check_dataset(checked)
    frames, run = [], {}
    with _ray_data_quiet(), _original_exceptions(checked):
        for batch in checked.iter_batches(batch_format="pyarrow", batch_size=None):
            frames.append(_decoded(batch))
            run = run or _run_metadata(batch)
        if not frames:
            empty = _empty_checked(checked)
            frames, run = [_decoded(empty)], _run_metadata(empty)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    valid = frame[VALID_COLUMN].to_numpy(dtype=bool)
    frame.attrs["flowschema"] = {"model": run.get("model", ""), "executor": "ray", "engine": run.get("engine", ""),
                                 "rows": len(frame), "invalid_rows": int((~valid).sum()),
                                 "fields": run.get("fields", [])}
    return frame


class _BatchSummary:
    """What each Ray task sends ``summarize`` of a batch: a ``BatchOutcome``, its sample rows
    limited by the ledger so that the driver receives about ``SAMPLE_ROWS`` in all."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.run = uuid.uuid4().hex

    def __call__(self, batch: pa.Table | pd.DataFrame) -> pd.DataFrame:
        errors_column = _errors_array(batch)
        failing = np.flatnonzero(~_valid_array(batch))
        errors = errors_column.take(failing)
        quota = ray.get(self.ledger.sample_quota.remote(self.run, None, len(failing))) if len(failing) else 0
        sample = _annotated_rows(batch, failing[:quota], errors_from_arrow(errors[:quota])) if quota else None
        outcome = BatchOutcome(len(batch), len(failing), kinds_from_arrow(errors), sample, (),
                               columns=tuple(_data_columns(batch)))
        return pd.DataFrame({"outcome": [pickle.dumps((outcome, _run_metadata(batch)))]})


def _data_columns(batch: pa.Table | pd.DataFrame) -> list:
    return [name for name in _column_names(batch) if not (isinstance(name, str) and name.startswith("_fs_"))]


def _annotated_rows(batch: pa.Table | pd.DataFrame, rows: np.ndarray, errors: np.ndarray) -> pd.DataFrame:
    """Some rows of a checked batch, annotated, indexed by file and position when it has them."""
    ours = [name for name in (VALID_COLUMN, ERRORS_COLUMN) if name in _column_names(batch)]
    if isinstance(batch, pa.Table):
        frame = table_to_frame(batch.take(rows).drop_columns(ours))
    else:
        frame = batch.iloc[rows].drop(columns=ours)
    if FILE_COLUMN in frame.columns and POSITION_COLUMN in frame.columns:
        frame.index = pd.MultiIndex.from_arrays([frame[FILE_COLUMN].astype(object).to_numpy(),
                                                 frame[POSITION_COLUMN].to_numpy(dtype="int64")],
                                                names=[FILE, POSITION])
        frame = frame.drop(columns=[FILE_COLUMN, POSITION_COLUMN])
    else:
        frame = frame.reset_index(drop=True)
    frame[VALID_COLUMN] = np.zeros(len(frame), dtype=bool)
    frame[ERRORS_COLUMN] = errors
    return frame


def summarize(checked: ray.data.Dataset) -> FileReport:
    """Count a checked dataset on the cluster: rows, invalid rows, errors per field and per
    type, and a sample of up to ``SAMPLE_ROWS`` failing rows; the rows stay where they are.

    Returns the report ``validate_file`` returns (``summary``, ``error_types``, ``sample``,
    ``dashboard()``, ``to_html()``). Each Ray task counts its batch; this process adds up one
    small record per batch.
    """
    _check_dataset(checked)
    ledger = _ledger()
    counter = _BatchSummary(ledger)
    started = time.perf_counter()
    totals, run = RunTotals(), {}
    try:
        with _ray_data_quiet(), _original_exceptions(checked):
            for frame in checked.map_batches(counter, batch_format=None, batch_size=None).iter_batches(
                    batch_format="pandas", batch_size=None):
                for blob in frame["outcome"]:
                    outcome, metadata = pickle.loads(blob)
                    totals.add(outcome)
                    run = run or metadata
    finally:
        ledger.forget.remote(counter.run)
    report = totals.report(f"Ray dataset {checked.name or ''}".strip(), run.get("model", ""), "ray",
                           time.perf_counter() - started, None, run.get("fields", []))
    if not isinstance(report.sample.index, pd.MultiIndex):
        report.sample.index = pd.RangeIndex(len(report.sample), name="row")
    return report


# -- validate_file on the workers ----------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """What one Ray task reads: a whole CSV file, or row groups of a Parquet file."""

    number: int
    path: str
    label: str
    row_groups: tuple[int, ...] | None
    first: int


def _units(files: FileSet, chunksize: int) -> tuple[list[_Unit], list[int | None]]:
    """The tasks' work, and each file's rows when its footer says (Parquet). Row groups are
    grouped until they hold ``chunksize`` rows; only Parquet footers are read here."""
    units, expected = [], []
    for number, (path, label) in enumerate(zip(files.paths, files.labels)):
        if file_format(path) != "parquet":
            units.append(_Unit(number, str(path), label, None, 0))
            expected.append(None)
            continue
        try:
            metadata = pq.read_metadata(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataFileError(f"{label} is not a Parquet file pyarrow can read: {exc}") from None
        groups, first, rows = [], 0, 0
        for group in range(metadata.num_row_groups):
            groups.append(group)
            rows += metadata.row_group(group).num_rows
            if rows >= chunksize or group == metadata.num_row_groups - 1:
                units.append(_Unit(number, str(path), label, tuple(groups), first))
                groups, first, rows = [], first + rows, 0
        expected.append(metadata.num_rows)
    return units, expected


class _UnitReader:
    """Read each unit of a Ray task in batches of ``chunksize`` rows, marked with their file
    and positions."""

    def __init__(self, units: list[_Unit], chunksize: int) -> None:
        self.units, self.chunksize = units, chunksize

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table | pd.DataFrame]:
        for number in batch.column("unit").to_pylist():
            yield from _read_unit(self.units[number], self.chunksize)


def _read_unit(unit: _Unit, chunksize: int) -> Iterator[pa.Table | pd.DataFrame]:
    if unit.row_groups is None:
        batches, _ = read_batches(Path(unit.path), chunksize, unit.label)
        for frame in batches:
            positions = frame.index.to_numpy()
            frame = frame.reset_index(drop=True)
            frame[FILE_COLUMN] = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [unit.label])
            frame[POSITION_COLUMN] = positions
            yield frame
        return
    start = unit.first
    try:
        for record_batch in pq.ParquetFile(unit.path).iter_batches(batch_size=chunksize, row_groups=unit.row_groups):
            table = pa.Table.from_batches([record_batch])
            files = pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(table), dtype=np.int32)), [unit.label])
            table = table.append_column(FILE_COLUMN, files)
            yield table.append_column(POSITION_COLUMN, pa.array(np.arange(start, start + len(table))))
            start += len(table)
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(f"{unit.label} cannot be read as Parquet: {exc}") from None


class _BatchFinisher:
    """What each Ray task does with a checked batch of files: write its failing rows as
    ``invalid_out`` parts and send the driver one ``BatchOutcome`` per file it holds rows of."""

    def __init__(self, labels: tuple[str, ...], text_columns: bool, parts: str | None, ledger: Any, run: str) -> None:
        self.numbers = {label: number for number, label in enumerate(labels)}
        self.text_columns, self.parts, self.ledger, self.run = text_columns, parts, ledger, run

    def __call__(self, batch: pa.Table | pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"outcome": [pickle.dumps(self._outcome(piece)) for piece in _file_pieces(batch)]})

    def _outcome(self, piece: pa.Table | pd.DataFrame) -> BatchOutcome:
        number, first = self.numbers[_value(piece, FILE_COLUMN)], _value(piece, POSITION_COLUMN)
        failing = np.flatnonzero(~_valid_array(piece))
        errors = _errors_array(piece).take(failing)
        quota = ray.get(self.ledger.sample_quota.remote(self.run, (number, first), len(failing))) if len(failing) else 0
        kept = failing if self.parts is not None else failing[:quota]  # only these rows are decoded
        rows = _annotated_rows(piece, kept, errors_from_arrow(errors[:len(kept)]))
        part = None
        if self.parts is not None and len(failing):
            part = part_name(number, first)
            write_part(self.parts, part, failing_rows_table(rows, self.text_columns))
        return BatchOutcome(len(piece), len(failing), kinds_from_arrow(errors), rows.iloc[:quota] if quota else None,
                            (number, first), part, tuple(_data_columns(piece)))


def _file_pieces(batch: pa.Table | pd.DataFrame) -> list[pa.Table | pd.DataFrame]:
    """A batch cut where its rows change file or skip positions: usually the batch itself."""
    if not len(batch):
        return []
    first_file, last_file = _value(batch, FILE_COLUMN), _value(batch, FILE_COLUMN, last=True)
    if first_file == last_file and _value(batch, POSITION_COLUMN, last=True) - _value(batch, POSITION_COLUMN) == len(
            batch) - 1:
        return [batch]
    if isinstance(batch, pa.Table):
        files = np.asarray(batch.column(FILE_COLUMN).to_pylist(), dtype=object)
        positions = batch.column(POSITION_COLUMN).to_numpy()
    else:
        files, positions = batch[FILE_COLUMN].to_numpy(dtype=object), batch[POSITION_COLUMN].to_numpy()
    cuts = np.flatnonzero((files[1:] != files[:-1]) | (positions[1:] != positions[:-1] + 1)) + 1
    bounds = [0, *cuts.tolist(), len(batch)]
    if isinstance(batch, pa.Table):
        return [batch.slice(start, stop - start) for start, stop in itertools.pairwise(bounds)]
    return [batch.iloc[start:stop] for start, stop in itertools.pairwise(bounds)]


class FileSetRun:
    """``validate_file`` of a set of files, read and validated by the Ray cluster's workers.

    Building it connects to Ray (``address`` as for ``RayExecutor``) and reads the Parquet
    footers to plan the tasks (``total_rows`` is known for Parquet, None for CSV); ``outcomes``
    runs the tasks and yields what each batch found, then checks that every row came back once.
    """

    def __init__(self, files: FileSet, model: type[BaseModel], chunksize: int, options: ValidationOptions,
                 address: str | None) -> None:
        connect_ray(address)
        self.files, self.model, self.chunksize, self.options = files, model, chunksize, options
        self.units, self.expected_rows = _units(files, chunksize)
        known = [rows for rows in self.expected_rows if rows is not None]
        self.total_rows = sum(known) if len(known) == len(self.expected_rows) else None

    def _dataset(self, parts: Path | None, ledger: Any, run: str) -> ray.data.Dataset:
        import ray.data

        units = ray.data.from_items([{"unit": number} for number in range(len(self.units))],
                                    override_num_blocks=max(1, len(self.units)))
        context = units.context  # a copy of the current one, shared by the datasets built from it
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.raise_original_map_exception = True
        context.batch_to_block_arrow_format = False  # CSV batches stay pandas: no round trip through Arrow
        context.target_max_block_size = BLOCK_BYTES
        read = units.map_batches(_UnitReader(self.units, self.chunksize), batch_format="pyarrow", batch_size=None)
        options = self.options
        checked = validate_dataset(read, self.model, engine=options.engine, coerce=options.want_values,
                                   strict=options.strict, context=options.context)
        finisher = _BatchFinisher(self.files.labels, self.files.text, None if parts is None else str(parts), ledger,
                                  run)
        return checked.map_batches(finisher, batch_format=None, batch_size=None)

    def outcomes(self, parts: Path | None) -> Iterator[BatchOutcome]:
        """What each batch found, as the workers finish them; failing rows go to ``parts``."""
        if not self.units:
            return
        ledger, run = _ledger(), uuid.uuid4().hex
        received: dict[tuple, int] = {}
        try:
            with _ray_data_quiet():
                for frame in self._dataset(parts, ledger, run).iter_batches(batch_format="pandas", batch_size=None):
                    for blob in frame["outcome"]:
                        outcome = pickle.loads(blob)
                        if outcome.order not in received:  # a retried task may send a batch again
                            received[outcome.order] = outcome.rows
                            yield outcome
        except ray.exceptions.RayError as exc:
            raise _worker_exception(exc) from None
        finally:
            ledger.forget.remote(run)
        self._check_every_row_once(received)

    def _check_every_row_once(self, received: dict[tuple, int]) -> None:
        """Each file's batches must cover its rows from 0 without gap or overlap (and all of
        them, when its footer says how many)."""
        covered = dict.fromkeys(range(len(self.files.paths)), 0)
        for (number, first), rows in sorted(received.items()):
            if first != covered[number]:
                raise FlowSchemaError(f"the Ray workers returned rows of {self.files.labels[number]} from {first} when "
                                      f"rows from {covered[number]} were due; no report is returned")
            covered[number] += rows
        for number, rows in covered.items():
            expected = self.expected_rows[number]
            if expected is not None and rows != expected:
                raise FlowSchemaError(f"the Ray workers returned {rows:,} of the {expected:,} rows of "
                                      f"{self.files.labels[number]}; no report is returned")


#: the options ``validate_file(..., executor="ray")`` takes for a set of files read by the workers
_WORKER_READ_OPTIONS = ("address", "engine", "coerce", "strict", "context", "progress")


def validate_files_on_workers(files: FileSet, model: type[BaseModel], chunksize: int, invalid_out: Any,
                              listener: RunListener | None, options: dict[str, Any]) -> FileReport:
    """``validate_file`` of a set of files with ``executor="ray"``: the Ray cluster's workers read
    and validate them where they are (``FileSetRun``); the driver counts and writes the parts."""
    unknown = [name for name in options if name not in _WORKER_READ_OPTIONS]
    if unknown:
        raise TypeError(f"option(s) {', '.join(map(repr, unknown))} do not apply when the Ray workers read the files "
                        f"themselves; validate_file then takes {', '.join(_WORKER_READ_OPTIONS)}")
    progress = options.pop("progress", "auto")
    model, validation = check_arguments(model, None, options.pop("engine", "auto"), options.pop("coerce", False),
                                         options.pop("strict", None), options.pop("context", None), progress)
    if listener is not None:
        listener.run_started(None, {"model": model.__name__, "executor": "ray", "source": files.source,
                                    "fields": field_descriptions(model, pd.Index([]))})
    try:
        run = FileSetRun(files, model, chunksize, validation, options.pop("address", None))
        parts = InvalidParts(Path(invalid_out), files.labels, files.text) if invalid_out is not None else None
    except BaseException as exc:
        if listener is not None:
            listener.run_failed(exc)
        raise
    if listener is not None:
        listener.executor_ready("ray")
    totals = RunTotals()
    started = time.perf_counter()
    bar = progress_bar(run.total_rows, progress, f"validating {model.__name__}")
    try:
        for outcome in run.outcomes(parts.temporary if parts is not None else None):
            totals.add(outcome)
            bar.update(outcome.rows)
            if parts is not None:
                parts.add(outcome.part)
            if listener is not None:
                listener.chunk_done(counted_chunk(outcome))
        report = totals.report(files.source, model.__name__, "ray", time.perf_counter() - started, invalid_out,
                               field_descriptions(model, pd.Index(totals.columns or ())))
        if parts is not None:
            parts.finish(report.totals())
    except BaseException as exc:
        abandon_run(exc, parts, listener)
        if not isinstance(exc, Exception):
            raise
        raise run_error(exc, files.source, totals.rows) from exc
    finally:
        bar.close()
    if listener is not None:
        listener.run_finished(report.sample)
    return report
