"""polars DataFrames: ``df.flowschema`` on a polars frame, registered by ``import flowschema``
when polars is importable.

**What a row is.** Exactly what ``df.row(i, named=True)`` gives, the oracle of the tests: null is
None, NaN stays a float NaN (polars keeps the two apart), temporal types are ``datetime`` (with
its zone) / ``date`` / ``time`` / ``timedelta``, ``Decimal`` stays ``Decimal``, ``List``/``Array``
/``Struct`` are lists and dicts, ``Categorical``/``Enum`` their strings, ``Object`` cells as they
are. So ``pl.from_pandas(df)``, which turns NaN into null, may get other verdicts than a polars
frame holding NaN.

**How it is read.** Float columns without NaN, and integer and boolean columns without null, go
into the chunk as numpy arrays (a null float as NaN, which the engine reads as None); other
integer and boolean columns, and string columns, as Arrow arrays (the engine screens and
deduplicates them as it does numpy and Arrow-backed pandas columns, whose cells are the same
Python values); datetime columns in microseconds or milliseconds (naive, or in a named zone) as
pandas datetime columns of the same instants, whose Python values pandas makes as polars does
(but for instants near the edge of Python's datetimes); other temporal columns as their
distinct values, made Python values by polars, and per row a code (Arrow tells the values
apart); every other column as the Python values ``Series.to_list()`` gives, which the engines
take as they are.

**The result** is the input frame plus ``_fs_valid`` (Boolean), ``_fs_errors`` (``pl.Object``: per
row the tuple of pydantic's error dicts the pandas path gives, empty when valid) and ``_fs_run``
(``pl.Object``: the run's facts, the dict a pandas result keeps in ``attrs["flowschema"]``, the
same object on every row of a run). polars frames carry no metadata, so the facts travel as a
column: they survive ``filter``, ``head``, ``sort`` and ``concat``, and the report reads them there.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from flowschema import io, report
from flowschema.annotate import (
    ANNOTATION_PREFIX,
    ERRORS_COLUMN,
    VALID_COLUMN,
    FrameKind,
    check_arguments,
    original_columns,
    validate_one,
)
from flowschema.chunk import Chunk, chunk_of_layouts, layout_of
from flowschema.coerce import base_type, coerced_array
from flowschema.executor import BaseExecutor
from flowschema.executor.base import check_count
from flowschema.fields import read_columns
from flowschema.records import plain_arrow_type
from flowschema.threads import in_threads

__all__ = ["POLARS", "RUN_COLUMN", "FlowSchemaNamespace", "RunFacts", "distinct_cells", "validate_polars"]

#: object column of a polars result: the run's facts (one object per run, on each of its rows)
RUN_COLUMN = "_fs_run"
#: polars types read as numpy arrays when they hold no null (their Python values are numpy's own)
_READ_AS_NUMPY = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Boolean"}
#: polars types read as Arrow arrays otherwise (their Python values are Arrow's own)
_READ_AS_ARROW = {*_READ_AS_NUMPY, "String"}


def _column(series: pl.Series) -> tuple[tuple, pa.ChunkedArray | None]:
    """A polars column's layout in a chunk, and its Arrow array when it is read as one."""
    name = str(series.dtype)
    if series.dtype.is_float() and not series.is_nan().any():
        # a null float is NaN in numpy, which the engine reads as None, as df.row gives it (the
        # column holds no NaN of its own); filled by Arrow, which releases the GIL
        return layout_of(pc.fill_null(series.to_arrow(), float("nan")).to_numpy(zero_copy_only=False))
    if name in _READ_AS_NUMPY and not series.null_count():  # numpy's own values, a view where polars allows
        return layout_of(series.to_numpy())
    if name in _READ_AS_ARROW:
        arrow = series.to_arrow(compat_level=pl.CompatLevel.newest())  # a view: cast by pyarrow, without the GIL
        arrow = arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])
        plain = plain_arrow_type(arrow.type)  # a string view as a large string
        return ("arrow", None), arrow if plain == arrow.type else arrow.cast(plain)
    if isinstance(series.dtype, pl.Datetime) and series.dtype.time_unit in ("us", "ms"):
        instants = _instants(series)
        if instants is not None:
            return instants
    if series.dtype.is_temporal():
        coded = _coded(series)
        if coded is not None:
            return coded
    return ("py", series.to_list()), None


#: numpy's NaT as int64: where a null instant goes
_NAT = np.iinfo(np.int64).min
#: per unit, the instants a day inside Python's datetimes (years 1 to 9999) in any zone
_SAFE_INSTANTS = {unit: (int(np.datetime64("0001-01-02", unit).astype(np.int64)),
                         int(np.datetime64("9999-12-30", unit).astype(np.int64))) for unit in ("ms", "us")}


def _instants(series: pl.Series) -> tuple[tuple, pa.Array] | None:
    """A datetime column in microseconds or milliseconds, naive or in a named zone, as a pandas
    datetime column of the same instants (a view of polars' own integers): pandas makes each the
    Python value polars makes (the wall time, ``fold`` in a repeated hour, the same ``ZoneInfo``),
    and the datetime screen reads it without a Python value per row. None for a zone that is no
    ``ZoneInfo`` key, and for instants within a day of what a Python datetime can hold (years 1
    to 9999), which only polars' own conversion turns into what ``df.row`` gives (or raises)."""
    unit, zone = series.dtype.time_unit, series.dtype.time_zone
    physical = series.to_physical()
    if physical.null_count() < len(physical) and not _SAFE_INSTANTS[unit][0] <= physical.min() <= physical.max() \
            <= _SAFE_INSTANTS[unit][1]:
        return None
    instants = physical.fill_null(_NAT).to_numpy().view(f"M8[{unit}]")
    if zone is None:
        return layout_of(instants)
    try:
        tzinfo = ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return layout_of(pd.DatetimeIndex(instants).tz_localize("UTC").tz_convert(tzinfo).array)


def _coded(series: pl.Series) -> tuple[tuple, pa.ChunkedArray] | None:
    """A temporal column as its distinct values (turned into Python values by polars itself, as
    ``df.row`` turns them) and per row the code of its value: Arrow tells the values apart by
    their bits, so no Python value is made, or hashed, per row. None if the distinct values do not
    come back from Arrow as the column's own type."""
    encoded = series.rechunk().to_arrow().dictionary_encode()
    distinct = pl.Series(encoded.dictionary)
    if distinct.dtype != series.dtype:
        return None
    values = distinct.to_list()
    codes = pc.fill_null(encoded.indices, len(values)).cast(pa.int64())
    if encoded.null_count:
        values.append(None)
    return ("coded", values), pa.chunked_array([codes])


def distinct_cells(series: pl.Series) -> tuple[list, int]:
    """A column's distinct non-null cells as ``df.row`` gives them (a NaN is a float NaN), by
    polars' own ``unique`` (every cell of an Object column, which has none), and its null count."""
    present = series.drop_nulls()
    return (present.to_list() if series.dtype == pl.Object else present.unique().to_list()), series.null_count()


class RunFacts(dict):
    """A run's facts as a polars result's ``_fs_run`` holds them: the dict a pandas result keeps
    in ``attrs["flowschema"]``, shown in one short line where a frame is printed."""

    def __repr__(self) -> str:
        return f"<run of {self.get('model')} on {self.get('executor')}: {self.get('rows')} rows>"


class _PolarsFrames(FrameKind):
    def checked(self, frame: pl.DataFrame) -> pl.DataFrame:
        return _original(frame)  # polars' column names are unique, and every cell is a Python value

    def labels(self, frame: pl.DataFrame) -> pd.Index:
        return pd.Index(frame.columns)

    def height(self, frame: pl.DataFrame) -> int:
        return frame.height

    def whole(self, frame: pl.DataFrame, offset: int = 0) -> Chunk:
        if frame.width and max(frame.n_chunks("all")) > 1:  # (pl.concat's) pieces: made one by polars, in parallel
            frame = frame.rechunk()
        columns = list(in_threads(_column, frame.get_columns()))  # Arrow's conversions release the GIL
        return chunk_of_layouts(offset, tuple(frame.columns), columns, frame.height)

    def annotated(self, frame: pl.DataFrame, valid: np.ndarray, errors: np.ndarray, values: list | None,
                  model: type[BaseModel], facts: dict) -> pl.DataFrame:
        if values is not None:
            frame = _coerced(frame, model, valid, values)
        return frame.with_columns(
            pl.Series(VALID_COLUMN, valid, dtype=pl.Boolean),
            pl.Series(ERRORS_COLUMN, errors, dtype=pl.Object),
            pl.lit(RunFacts(facts), dtype=pl.Object).alias(RUN_COLUMN),  # one object, no list of them
        )

    def as_pandas(self, annotated: pl.DataFrame) -> pd.DataFrame:
        valid, errors, facts = _annotations(annotated)
        frame = _original(annotated).to_pandas(use_pyarrow_extension_array=True)  # nulls and NaN apart
        frame[VALID_COLUMN] = valid
        frame[ERRORS_COLUMN] = pd.Series(errors, index=frame.index, dtype=object)
        frame.attrs["flowschema"] = dict(facts)
        return frame

    def from_pandas(self, annotated: pd.DataFrame) -> pl.DataFrame:
        """A pandas result (``read_parquet``'s) as a polars one: a float column pandas holds in
        numpy has NaN for missing (null here); an Arrow-backed one keeps NaN and null apart."""
        data = original_columns(annotated).reset_index(drop=True)
        frame = pl.DataFrame([pl.from_pandas(data[name], nan_to_null=isinstance(data[name].dtype, np.dtype))
                              .alias(str(name)) for name in data.columns])
        if VALID_COLUMN not in annotated.columns:  # a file of data only
            return frame
        return self.annotated(frame, report.valid_mask(annotated), annotated[ERRORS_COLUMN].to_numpy(dtype=object),
                              None, None, annotated.attrs.get("flowschema", {}))


#: polars DataFrames
POLARS = _PolarsFrames()

#: the polars type of a coerced column whose cells all fit the field's type (``flowschema.coerce``)
_COERCED_TYPES = {int: pl.Int64, float: pl.Float64, bool: pl.Boolean, str: pl.String}


def _coerced(frame: pl.DataFrame, model: type[BaseModel], valid: np.ndarray, values: list) -> pl.DataFrame:
    """``coerce=True``: each valid row's validated values in the columns pydantic read, with the
    pandas table's dtype rule (``flowschema.coerce``) in polars types; ``pl.Object`` otherwise."""
    positions = np.flatnonzero(valid).tolist()
    columns = []
    for name, column in read_columns(model, pd.Index(frame.columns)).items():
        if column is None:  # filled by its default, or read from inside another column
            continue
        cells = frame.get_column(column).to_list()
        for position in positions:
            cells[position] = values[position][name]
        columns.append(_coerced_series(column, model.model_fields[name].annotation, cells))
    return frame.with_columns(columns)


def _coerced_series(column: str, annotation: Any, cells: list) -> pl.Series:
    fits = coerced_array(annotation, cells).dtype != object
    kind = base_type(annotation)[0]
    if fits and kind in _COERCED_TYPES:
        return pl.Series(column, cells, dtype=_COERCED_TYPES[kind])
    if fits and kind is dt.datetime:  # naive, or all in one zone
        series = pl.Series(column, cells)
        if series.dtype == pl.Datetime or series.dtype.base_type() == pl.Datetime:
            return series
    return pl.Series(column, cells, dtype=pl.Object)


def validate_polars(
    frame: pl.DataFrame,
    model: type[BaseModel],
    executor: str | BaseExecutor = "sync",
    *,
    chunksize: int | None = None,
    engine: str = "auto",
    coerce: bool = False,
    strict: bool | None = None,
    context: Any = None,
    progress: bool | str = "auto",
    dashboard: Any = False,
    **executor_options: Any,
) -> pl.DataFrame:
    """Validate every row of a polars ``frame`` against ``model``; see ``FlowSchemaNamespace.validate``."""
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"expected a polars DataFrame, got {type(frame).__name__}")
    model, options = check_arguments(model, chunksize, engine, coerce, strict, context, progress)
    return validate_one(POLARS, POLARS.checked(frame), "polars DataFrame", model, options, executor, chunksize,
                        executor_options, progress, dashboard)


def _original(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without FlowSchema's own ``_fs_`` columns."""
    return frame.drop([name for name in frame.columns if name.startswith(ANNOTATION_PREFIX)])


def _annotations(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, dict]:
    """A result's verdicts, errors and run facts (those of its first row's run; none when empty)."""
    missing = [name for name in (VALID_COLUMN, ERRORS_COLUMN) if name not in frame.columns]
    if missing:
        raise ValueError(f"this frame has no {' or '.join(missing)} column: it is not a validation result. "
                         "Run checked = df.flowschema.validate(Model) and call this on `checked`")
    valid = frame.get_column(VALID_COLUMN).to_numpy().astype(bool)
    errors = np.empty(frame.height, dtype=object)
    errors[:] = frame.get_column(ERRORS_COLUMN).to_list()
    runs = frame.get_column(RUN_COLUMN) if RUN_COLUMN in frame.columns else None
    facts = runs[0] if runs is not None and len(runs) else {}
    return valid, errors, facts


def _verdicts(frame: pl.DataFrame) -> pd.DataFrame:
    """A result's ``_fs_valid`` and ``_fs_errors`` as a pandas frame indexed by position, its
    facts in ``attrs``: what ``flowschema.report`` reads."""
    valid, errors, facts = _annotations(frame)
    verdicts = pd.DataFrame({VALID_COLUMN: valid, ERRORS_COLUMN: pd.Series(errors, dtype=object)})
    verdicts.attrs["flowschema"] = facts
    return verdicts


@pl.api.register_dataframe_namespace("flowschema")
class FlowSchemaNamespace:
    """``df.flowschema`` on a polars DataFrame: the pandas accessor's API, polars frames out.
    Report rows are numbered by their 0-based position (polars has no index)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def validate(
        self,
        model: type[BaseModel],
        executor: str | BaseExecutor = "sync",
        *,
        chunksize: int | None = None,
        engine: str = "auto",
        coerce: bool = False,
        strict: bool | None = None,
        context: Any = None,
        progress: bool | str = "auto",
        dashboard: Any = False,
        **executor_options: Any,
    ) -> pl.DataFrame:
        """Validate every row against ``model``: the frame plus ``_fs_valid``, ``_fs_errors`` and
        ``_fs_run``. A row is valid iff ``model.model_validate(df.row(i, named=True))`` succeeds.
        The options are those of the pandas accessor; ``coerce=True`` puts the validated values in
        the columns read, in the polars type of the field's type (``Int64``, ``Float64``,
        ``Boolean``, ``String``, ``Datetime``) where every cell fits it, else ``Object``.

        >>> import flowschema, polars as pl
        >>> from pydantic import BaseModel
        >>> class Point(BaseModel):
        ...     x: int
        >>> pl.DataFrame({"x": [1, None]}).flowschema.validate(Point)["_fs_valid"].to_list()
        [True, False]
        """
        return validate_polars(self._frame, model, executor, chunksize=chunksize, engine=engine, coerce=coerce,
                               strict=strict, context=context, progress=progress, dashboard=dashboard,
                               **executor_options)

    def errors(self) -> pl.DataFrame:
        """One row per error: ``row`` (the 0-based position), ``field``, ``type``, ``msg``, ``input``."""
        table = report.errors_table(_verdicts(self._frame))
        return pl.DataFrame({
            "row": pl.Series(table["position"].to_numpy(), dtype=pl.Int64),
            "field": pl.Series(table["field"].tolist(), dtype=pl.String),
            "type": pl.Series(table["type"].tolist(), dtype=pl.String),
            "msg": pl.Series(table["msg"].tolist(), dtype=pl.String),
            "input": pl.Series(table["input"].tolist(), dtype=pl.Object),
        })

    def summary(self) -> pl.DataFrame:
        """Errors per field: ``field``, ``errors``, ``rows``, then a count per error type."""
        return pl.from_pandas(report.summary_table(_verdicts(self._frame)))

    def valid_rows(self) -> pl.DataFrame:
        """The rows that passed, original columns only."""
        valid, _, _ = _annotations(self._frame)
        return _original(self._frame.filter(pl.Series(valid)))

    def invalid_rows(self, field: str | None = None, error_type: str | None = None) -> pl.DataFrame:
        """The rows that failed, original columns only; only those with an error in ``field``
        and/or of ``error_type`` when given."""
        positions = report.invalid_rows(_verdicts(self._frame), field, error_type).index.to_numpy()
        return _original(self._frame[positions])

    def assert_valid(self, max_errors: int = 10) -> pl.DataFrame:
        """Return the frame if every row passed, else raise ``flowschema.DataValidationError``."""
        check_count("max_errors", max_errors)
        report.assert_valid(_verdicts(self._frame), max_errors)
        return self._frame

    def dashboard(self):
        """The ipywidgets dashboard of this validation result (read from its pandas form)."""
        from flowschema.dashboard.widget import Dashboard

        return Dashboard(POLARS.as_pandas(self._frame))

    def to_parquet(self, path: str | os.PathLike, **kwargs: Any) -> None:
        """Save the result, errors and run facts included, in the file format of pandas results;
        ``flowschema.read_parquet(path, kind="polars")`` reads it back as a polars result."""
        io.to_parquet(POLARS.as_pandas(self._frame), path, **kwargs)

    def to_html(self, path: str | os.PathLike, pages: int = 3) -> None:
        """Write the dashboard as one self-contained HTML file (no scripts, works offline)."""
        from flowschema.dashboard.data import DashboardData
        from flowschema.dashboard.html import page_html, write_document

        check_count("pages", pages)
        write_document(page_html(DashboardData(POLARS.as_pandas(self._frame)), pages), path)
