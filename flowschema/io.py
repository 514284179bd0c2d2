"""Save an annotated frame to Parquet and load it back, errors included, checked on the way in.

pandas' own ``to_parquet`` cannot store ``_fs_errors``: its error inputs mix types (a string in
one row, a float or a datetime in the next), which Arrow cannot put in one column. Here that
column travels as msgpack bytes (``flowschema.transport``: no pickles; what a round trip keeps
is listed in the README), null for valid rows; everything else, index and ``attrs`` included,
is stored by pandas as usual.

A file is data from outside: ``read_parquet`` decodes the errors within a size budget
(``MAX_ERRORS_BYTES``) and checks that what it read is a validation result (a bool
``_fs_valid``, well-formed errors exactly on the invalid rows, ``attrs`` of the right types),
raising ``ResultFileError`` naming the first row or key that is not.
"""

from __future__ import annotations

import json
import numbers
import os
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flowschema.annotate import ERRORS_COLUMN, VALID_COLUMN, original_columns
from flowschema.errors import ResultFileError
from flowschema.report import valid_mask
from flowschema.transport import TransportError, packb, unpackb

__all__ = ["MAX_ERRORS_BYTES", "TOTALS_KEY", "encoded_errors", "read_parquet", "table_to_frame", "to_parquet"]

#: the memory the decoded errors of one file may take, estimated while decoding
#: (``read_parquet(..., max_errors_bytes=)`` changes it for one call)
MAX_ERRORS_BYTES = 2**30
#: the Parquet key-value metadata key of a run's totals (``invalid_out`` files)
TOTALS_KEY = b"flowschema"
_ERROR_KEYS = frozenset(("type", "loc", "msg", "input", "ctx"))
_ATTR_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,), "executor": (str,), "engine": (str,), "source": (str,), "started": (str,),
    "subset": (str,), "rows": (int,), "invalid_rows": (int,), "elapsed_seconds": (numbers.Real,),
    "summary": (list,), "fields": (list,),
}


def to_parquet(frame: pd.DataFrame, path: str | os.PathLike, **kwargs: Any) -> None:
    """Write an annotated frame to ``path`` as Parquet; read it back with ``read_parquet``.

    ``kwargs`` go to ``DataFrame.to_parquet``. A data column Parquet cannot hold raises a
    ``TypeError`` naming the column and row.
    """
    data = original_columns(frame)
    _refuse_what_pyarrow_mishandles(data)
    stored = frame.copy(deep=False)
    stored[ERRORS_COLUMN] = pd.array(encoded_errors(frame), dtype=pd.ArrowDtype(pa.binary()))
    try:
        stored.to_parquet(path, **kwargs)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as exc:
        raise TypeError(_unstorable(data, exc)) from exc


def _refuse_what_pyarrow_mishandles(data: pd.DataFrame) -> None:
    """Refuse, naming column and row, what pyarrow would get wrong in an object column: ints
    beyond 64 bits (it silently stores the whole column as nulls) and datetime64 arrays mixed
    with arrays of another dtype (it crashes the process)."""
    for position in range(data.shape[1]):
        column = data.iloc[:, position]
        if column.dtype != object:
            continue
        cells = column.tolist()
        for row, cell in enumerate(cells):
            if type(cell) is int and not -(2**63) <= cell < 2**64:
                raise TypeError(f"Parquet cannot store column {data.columns[position]!r}, row {data.index[row]!r} "
                                f"(position {row}): {cell} does not fit in 64 bits. Convert the column first, "
                                "e.g. with .astype(str)")
        dtypes = {cell.dtype for cell in cells if isinstance(cell, np.ndarray)}
        if len(dtypes) > 1 and any(dtype.kind in "mM" for dtype in dtypes):
            raise TypeError(
                f"column {data.columns[position]!r} holds numpy arrays of several dtypes "
                f"({', '.join(sorted(map(str, dtypes)))}), which Parquet (pyarrow) cannot store: convert them "
                "to one dtype, or to lists"
            )


def _unstorable(data: pd.DataFrame, exc: Exception) -> str:
    """Name the column and row of the first value Parquet cannot store."""
    for position in range(data.shape[1]):
        column = data.iloc[:, position]
        try:
            pa.array(column, from_pandas=True)
            continue
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            pass
        for row, cell in enumerate(column.tolist()):
            try:
                pa.array([cell], from_pandas=True)
            except (pa.ArrowException, OverflowError, TypeError, ValueError) as cell_exc:
                return (f"Parquet cannot store column {data.columns[position]!r}, row {data.index[row]!r} "
                        f"(position {row}): {cell!r:.80} ({type(cell_exc).__name__}: {cell_exc}). Convert the "
                        "column first, e.g. with .astype(str)")
        return (f"Parquet cannot store column {data.columns[position]!r}: its values mix types ({exc}). "
                "Convert it first, e.g. with .astype(str)")
    return f"Parquet cannot store this frame's data columns: {exc}"


def encoded_errors(frame: pd.DataFrame) -> np.ndarray:
    """The ``_fs_errors`` column as msgpack bytes per failing row (None for valid rows)."""
    cells = frame[ERRORS_COLUMN].to_numpy(dtype=object)
    encoded = np.full(len(frame), None, dtype=object)
    for position in np.flatnonzero(~valid_mask(frame)).tolist():
        encoded[position] = packb(cells[position])
    return encoded


def table_to_frame(table: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """A pyarrow table or batch as a DataFrame, as pandas would read it; nested Arrow columns
    that pandas wrote itself (``ArrowDtype`` lists and structs), whose dtype names it cannot read
    back, come back as ``ArrowDtype`` columns."""
    try:
        return table.to_pandas()
    except TypeError:  # "data type 'list<...>[pyarrow]' not understood"
        return table.to_pandas(types_mapper=_nested_as_arrow)


def _nested_as_arrow(arrow_type: pa.DataType) -> pd.ArrowDtype | None:
    return pd.ArrowDtype(arrow_type) if pa.types.is_nested(arrow_type) else None


def read_parquet(path: str | os.PathLike, *, max_errors_bytes: int | None = None, **kwargs: Any) -> pd.DataFrame:
    """Read an annotated frame written by ``to_parquet`` (or an ``invalid_out`` file), errors
    decoded and checked; ``kwargs`` go to ``pyarrow.parquet.read_table`` (``columns=``...).

    ``checked.flowschema.to_parquet("checked.parquet")`` then
    ``flowschema.read_parquet("checked.parquet").flowschema.summary()`` gives the summary back.
    ``max_errors_bytes`` (default ``MAX_ERRORS_BYTES``) bounds the memory the decoded errors may
    take; a file that is not a validation result raises ``ResultFileError``. ``path`` may be the
    ``invalid_out`` directory of a set of files: its parts are read in row order, with the run's
    totals.
    """
    budget = MAX_ERRORS_BYTES if max_errors_bytes is None else max_errors_bytes
    table = pq.read_table(path, **kwargs)
    frame = table_to_frame(table)
    metadata = table.schema.metadata or {}
    if b"PANDAS_ATTRS" in metadata:
        frame.attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    totals = pq.read_metadata(_totals_file(path)).metadata or {}
    if TOTALS_KEY in totals:
        frame.attrs["flowschema"] = json.loads(totals[TOTALS_KEY])
    if ERRORS_COLUMN in frame.columns or VALID_COLUMN in frame.columns:
        _check_attrs(frame.attrs, path)
        frame[ERRORS_COLUMN] = _decoded_errors(frame, budget, path)
    return frame


def _totals_file(path: str | os.PathLike) -> str | os.PathLike:
    """A directory of parts (a set's invalid_out) keeps its run's totals in _common_metadata."""
    return os.path.join(path, "_common_metadata") if os.path.isdir(path) else path


def _decoded_errors(frame: pd.DataFrame, budget: int, path: Any) -> np.ndarray:
    """The errors column decoded and checked against the valid column, row by row."""
    for name in (VALID_COLUMN, ERRORS_COLUMN):
        if name not in frame.columns:
            raise ResultFileError(f"{path}: has no {name} column; it was not written by FlowSchema")
    if frame[VALID_COLUMN].dtype != bool:
        raise ResultFileError(f"{path}: {VALID_COLUMN} is stored as {frame[VALID_COLUMN].dtype}, not bool")
    valid = frame[VALID_COLUMN].to_numpy(dtype=bool)
    stored = frame[ERRORS_COLUMN].to_numpy(dtype=object, na_value=None)
    decoded = np.empty(len(frame), dtype=object)
    decoded.fill(())
    shared_budget = [budget]
    for position, cell in enumerate(stored.tolist()):
        if cell is None:
            if not valid[position]:
                raise ResultFileError(_row(frame, position, path, "is marked invalid but has no errors"))
            continue
        if valid[position]:
            raise ResultFileError(_row(frame, position, path, "is marked valid but has errors"))
        if not isinstance(cell, bytes):
            raise ResultFileError(_row(frame, position, path, f"has errors stored as {type(cell).__name__}, not bytes"))
        try:
            errors = unpackb(cell, max_decoded_bytes=shared_budget)
        except TransportError as exc:
            if shared_budget[0] < 0:
                raise ResultFileError(
                    f"{path}: its errors decode to more than {budget:,} bytes (at row {frame.index[position]!r}); "
                    "if you trust the file, raise the limit: read_parquet(path, max_errors_bytes=...)"
                ) from None
            raise ResultFileError(_row(frame, position, path, f"has corrupt errors ({exc})")) from None
        problem = _error_tuple_problem(errors)
        if problem:
            raise ResultFileError(_row(frame, position, path, problem))
        decoded[position] = errors
    return decoded


def _row(frame: pd.DataFrame, position: int, path: Any, problem: str) -> str:
    return f"{path}: row {frame.index[position]!r} (position {position}) {problem}; the file was not written by " \
           "FlowSchema, or was altered"


def _error_tuple_problem(errors: Any) -> str | None:
    """What makes ``errors`` not a non-empty tuple of pydantic error dicts, or None."""
    if type(errors) is not tuple or not errors:
        return f"has errors that are not a non-empty tuple ({type(errors).__name__})"
    for error in errors:
        if type(error) is not dict or not {"type", "loc", "msg", "input"} <= error.keys() <= _ERROR_KEYS:
            return "has an error that is not a dict with type, loc, msg and input"
        if not (type(error["type"]) is str and type(error["msg"]) is str and type(error["loc"]) is tuple
                and all(type(part) in (str, int) for part in error["loc"])):
            return "has an error whose type, msg or loc has the wrong type"
        if "ctx" in error and type(error["ctx"]) is not dict:
            return "has an error whose ctx is not a dict"
    return None


def _check_attrs(attrs: dict, path: Any) -> None:
    run = attrs.get("flowschema")
    if run is None:
        return
    if type(run) is not dict:
        raise ResultFileError(f"{path}: attrs['flowschema'] is a {type(run).__name__}, not a dict")
    for key, kinds in _ATTR_TYPES.items():
        value = run.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise ResultFileError(f"{path}: attrs['flowschema'][{key!r}] is {value!r:.60}, not a {kinds[0].__name__}")
    for key in ("summary", "fields"):
        if any(type(item) is not dict for item in run.get(key) or ()):
            raise ResultFileError(f"{path}: attrs['flowschema'][{key!r}] holds something other than dicts")
