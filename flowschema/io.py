"""Save an annotated frame to Parquet and load it back, errors included, checked on the way in.

pandas' own ``to_parquet`` cannot store ``_fs_errors``: its error inputs mix types (a string in
one row, a float or a datetime in the next), which Arrow cannot put in one column. Here that
column travels as msgpack bytes (``flowschema.transport``: no pickles; what a round trip keeps
is listed in the README), null for valid rows; everything else, index and ``attrs`` included,
is stored by pandas as usual.

A file is data from outside: ``read_parquet`` decodes the errors within a size budget
(``MAX_ERRORS_BYTES``) and checks that what it read is a validation result (a bool
``_fs_valid``, well-formed errors exactly on the invalid rows, metadata that is JSON of the
right shape, totals that agree with the rows read), raising ``ResultFileError`` naming the first
row or key that is not.

Arrow becomes pandas here (``table_to_frame``) for every reader: files, ``invalid_out`` parts
and Ray Data batches. Ints and bools next to nulls stay ints and bools (pandas' own conversion
makes them floats and objects); the parts of a directory are read each with its own schema.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flowschema.annotate import ERRORS_COLUMN, VALID_COLUMN, original_columns
from flowschema.errors import ResultFileError
from flowschema.report import valid_mask
from flowschema.transport import TransportError, packb, unpackb

__all__ = ["MAX_ERRORS_BYTES", "MAX_METADATA_DEPTH", "TOTALS_KEY", "encoded_errors", "read_parquet", "table_to_frame",
           "to_parquet"]

#: the memory the decoded errors of one file may take, estimated while decoding
#: (``read_parquet(..., max_errors_bytes=)`` changes it for one call)
MAX_ERRORS_BYTES = 2**30
#: the Parquet key-value metadata key of a run's totals (``invalid_out`` files)
TOTALS_KEY = b"flowschema"
#: how deeply the JSON of a file's metadata may nest (FlowSchema's own nests 4 levels deep)
MAX_METADATA_DEPTH = 32
_ERROR_KEYS = frozenset(("type", "loc", "msg", "input", "ctx"))
_ATTR_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,), "executor": (str,), "engine": (str,), "source": (str,), "started": (str,),
    "subset": (str,), "elapsed_seconds": (numbers.Real,), "summary": (list,), "fields": (list,),
}
#: the run's counts in ``attrs["flowschema"]``, each a non-negative int
_COUNTS = ("rows", "invalid_rows")
#: pandas' nullable dtype for each Arrow int and bool type: what such a column with nulls becomes
_NULLABLE: dict[pa.DataType, Any] = {
    pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(), pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype(),
}
#: string and binary types of either offset width, read as one type when parts differ in width
_WIDE = {pa.string(): pa.large_string(), pa.binary(): pa.large_binary()}


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
    beyond 64 bits (it silently stores the whole column as nulls), numpy datetime64 or
    timedelta64 scalars mixed with numpy scalars of another dtype, and datetime64 arrays mixed
    with arrays of another dtype (both crash the process)."""
    for position in range(data.shape[1]):
        column = data.iloc[:, position]
        if column.dtype != object:
            continue
        cells = column.tolist()
        for row, cell in enumerate(cells):
            if type(cell) is int and not -(2**63) <= cell < 2**64:
                raise TypeError(f"{_cell_at(data, position, row)}: {cell} does not fit in 64 bits. Convert the column "
                                "first, e.g. with .astype(str)")
        mixed = _mixed_numpy_scalars(cells)
        if mixed is not None:
            row, dated, other = mixed
            raise TypeError(f"{_cell_at(data, position, row)}: it holds numpy {dated} and {other} scalars, which "
                            "pyarrow cannot convert (it would crash the process). Convert the column to one type "
                            "first, e.g. with pd.to_datetime or .astype(str)")
        dtypes = {cell.dtype for cell in cells if isinstance(cell, np.ndarray)}
        if len(dtypes) > 1 and any(dtype.kind in "mM" for dtype in dtypes):
            raise TypeError(
                f"column {data.columns[position]!r} holds numpy arrays of several dtypes "
                f"({', '.join(sorted(map(str, dtypes)))}), which Parquet (pyarrow) cannot store: convert them "
                "to one dtype, or to lists"
            )


def _cell_at(data: pd.DataFrame, position: int, row: int) -> str:
    return f"Parquet cannot store column {data.columns[position]!r}, row {data.index[row]!r} (position {row})"


def _mixed_numpy_scalars(cells: list) -> tuple[int, np.dtype, np.dtype] | None:
    """The first row where numpy scalars so far mix a datetime64 or timedelta64 dtype with
    another dtype, and the two dtypes; None if they never do. A float NaN is a null to pyarrow.

    >>> _mixed_numpy_scalars([np.datetime64("2020-01-01", "s"), None, np.float64("nan"), np.int64(1)])
    (3, dtype('<M8[s]'), dtype('int64'))
    """
    seen: dict[np.dtype, None] = {}
    for row, cell in enumerate(cells):
        if not isinstance(cell, np.generic) or (isinstance(cell, float) and math.isnan(cell)):
            continue
        seen.setdefault(cell.dtype)
        dated = next((dtype for dtype in seen if dtype.kind in "mM"), None)
        if len(seen) > 1 and dated is not None:
            return row, dated, cell.dtype if cell.dtype != dated else next(iter(seen))
    return None


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
    """A pyarrow table or batch as a DataFrame, as pandas would read it, every value as it is.

    pandas makes an int column with nulls float64 (``2**53 + 1`` becomes ``2**53``, ``3``
    becomes ``3.0``) and a bool one object, and does the same to ints inside lists and structs:
    such columns come back in pandas' nullable dtypes (``Int64``, ``UInt64``, ``boolean``...),
    nested ones as ``ArrowDtype``; a column whose dtype pandas' metadata names keeps it. Nested
    Arrow columns that pandas wrote itself (``ArrowDtype`` lists and structs), whose dtype names
    it cannot read back, come back as ``ArrowDtype`` columns.

    >>> table_to_frame(pa.table({"n": [1, None, 2**53 + 1], "m": [1, 2, 3]})).dtypes.tolist()
    [Int64Dtype(), dtype('int64')]
    """
    try:
        frame = table.to_pandas()
    except TypeError:  # "data type 'list<...>[pyarrow]' not understood"
        frame = table.to_pandas(types_mapper=_nested_as_arrow)
    for position, values in _exact_columns(table, frame):
        frame.isetitem(position, values)
    return frame


def _nested_as_arrow(arrow_type: pa.DataType) -> pd.ArrowDtype | None:
    return pd.ArrowDtype(arrow_type) if pa.types.is_nested(arrow_type) else None


def _exact_columns(table: pa.Table | pa.RecordBatch, frame: pd.DataFrame) -> Iterator[tuple[int, Any]]:
    """The columns of ``frame`` that pandas made inexact (a numpy dtype for ints or bools with
    nulls, at any depth), each with its position and its values in a dtype that keeps them."""
    fields = _data_fields(table)
    if len(fields) != frame.shape[1]:  # metadata that does not describe the table: pandas' columns as they are
        return
    for position, (number, dtype) in enumerate(zip(fields, frame.dtypes.tolist())):
        if not isinstance(dtype, np.dtype):  # a dtype pandas' metadata names, or one that keeps the values
            continue
        column = table.column(number)
        if column.type in _NULLABLE and column.null_count:
            yield position, column.to_pandas(types_mapper=_NULLABLE.get).array
        elif pa.types.is_nested(column.type) and _holds_null_ints(column):
            yield position, column.to_pandas(types_mapper=_nested_as_arrow).array


def _data_fields(table: pa.Table | pa.RecordBatch) -> list[int]:
    """The numbers of the Arrow columns ``to_pandas`` makes the frame's columns, in order: all
    but the index columns pandas' metadata names."""
    index = _index_fields(table.schema)
    return [number for number, name in enumerate(table.schema.names) if name not in index]


def _index_fields(schema: pa.Schema) -> set[str]:
    """The Arrow columns pandas' metadata makes the index of."""
    return {name for name in (schema.pandas_metadata or {}).get("index_columns", ()) if isinstance(name, str)}


def _holds_null_ints(array: pa.Array | pa.ChunkedArray) -> bool:
    """Whether ``array`` holds an int or bool array with nulls, at any depth of lists and structs."""
    if isinstance(array, pa.ChunkedArray):
        return any(_holds_null_ints(chunk) for chunk in array.chunks)
    if array.type in _NULLABLE:
        return array.null_count > 0
    if pa.types.is_struct(array.type):
        return any(_holds_null_ints(array.field(number)) for number in range(array.type.num_fields))
    return hasattr(array, "values") and _holds_null_ints(array.values)  # lists, maps (lists of structs)


def read_parquet(path: str | os.PathLike, *, kind: str = "pandas", max_errors_bytes: int | None = None,
                 **kwargs: Any) -> Any:
    """Read an annotated frame written by ``to_parquet`` (or an ``invalid_out`` file), errors
    decoded and checked; ``kwargs`` go to ``pyarrow.parquet.read_table`` (``columns=``...).

    ``checked.flowschema.to_parquet("checked.parquet")`` then
    ``flowschema.read_parquet("checked.parquet").flowschema.summary()`` gives the summary back.
    ``max_errors_bytes`` (default ``MAX_ERRORS_BYTES``) bounds the memory the decoded errors may
    take; a file that is not a validation result raises ``ResultFileError``. ``path`` may be the
    ``invalid_out`` directory of a set of files: its parts are read in row order, each with its
    own schema, with the run's totals. ``kind="polars"`` gives a polars result (as
    ``df.flowschema.validate`` gives for a polars frame: its facts in ``_fs_run``).
    """
    if kind not in ("pandas", "polars"):
        raise ValueError(f"kind must be 'pandas' or 'polars', got {kind!r}")
    budget = MAX_ERRORS_BYTES if max_errors_bytes is None else max_errors_bytes
    frame, metadata = _read_frame(path, kwargs)
    if b"PANDAS_ATTRS" in metadata:
        frame.attrs = _metadata_json(metadata, b"PANDAS_ATTRS", path)
    totals = pq.read_metadata(_totals_file(path)).metadata or {}
    if TOTALS_KEY in totals:
        frame.attrs["flowschema"] = _metadata_json(totals, TOTALS_KEY, path)
    if ERRORS_COLUMN in frame.columns or VALID_COLUMN in frame.columns:
        _check_attrs(frame.attrs, path)
        frame[ERRORS_COLUMN] = _decoded_errors(frame, budget, path)
        _check_counts(frame, path, every_failing_row=TOTALS_KEY in totals and kwargs.get("filters") is None)
    if kind == "polars":
        from flowschema.adapters.polars import POLARS

        return POLARS.from_pandas(frame)
    return frame


def _totals_file(path: str | os.PathLike) -> str | os.PathLike:
    """A directory of parts (a set's invalid_out) keeps its run's totals in _common_metadata."""
    return os.path.join(path, "_common_metadata") if os.path.isdir(path) else path


def _read_frame(path: str | os.PathLike, kwargs: dict) -> tuple[pd.DataFrame, dict]:
    """The frame of a file, or of a directory's parts (each read with its own schema), and
    the key-value metadata of the file (of the first part)."""
    parts = _part_files(path)
    if not parts:
        table = pq.read_table(path, **kwargs)
        return _frame(table, path), table.schema.metadata or {}
    tables = [_read_part(part, kwargs) for part in parts]
    return _parts_frame(tables, path), tables[0].schema.metadata or {}


def _part_files(path: str | os.PathLike) -> list[str]:
    """A directory's data files in name order (names starting with ``.`` or ``_``, such as
    ``_common_metadata``, are not data, as for pyarrow); none for a file."""
    if not os.path.isdir(path):
        return []
    return sorted(entry.path for entry in os.scandir(path) if not entry.name.startswith((".", "_")))


def _read_part(path: str, kwargs: dict) -> pa.Table:
    """One part of a directory; of the ``columns`` asked for, those it has."""
    if kwargs.get("columns") is None:
        return pq.read_table(path, **kwargs)
    names = set(pq.read_schema(path).names)
    return pq.read_table(path, **{**kwargs, "columns": [name for name in kwargs["columns"] if name in names]})


def _frame(table: pa.Table, path: Any) -> pd.DataFrame:
    """``table_to_frame`` of a file's table; pandas' metadata that does not describe it is a
    ``ResultFileError``."""
    if b"pandas" not in (table.schema.metadata or {}):
        return table_to_frame(table)
    _metadata_json(table.schema.metadata, b"pandas", path)
    try:
        return table_to_frame(table)
    except (LookupError, TypeError, ValueError, AttributeError) as exc:
        raise ResultFileError(f"{path}: its metadata 'pandas' does not describe its columns ({type(exc).__name__}: "
                              f"{exc!s:.200})") from None


def _parts_frame(tables: list[pa.Table], path: Any) -> pd.DataFrame:
    """Parts read each with its own schema, as one frame: a column a part lacks is null in its
    rows, string (binary) columns of either offset width are one, and a column whose types
    conflict holds each part's own values, as that part reads them (object)."""
    types: dict[str, set[pa.DataType]] = {}
    for table in tables:
        for field in table.schema:
            types.setdefault(field.name, set()).update(() if pa.types.is_null(field.type) else (field.type,))
    common = {name: _common_type(kinds) for name, kinds in types.items()}
    conflicting = [name for name, kind in common.items() if kind is None]
    index = _index_fields(tables[0].schema)
    if index.intersection(conflicting):
        raise ResultFileError(f"{path}: its parts store the index column {min(index.intersection(conflicting))!r} as "
                              "different types; they were not written by one FlowSchema run")
    unified = [_unified(table, common, conflicting) for table in tables]
    ours = [name for name in (VALID_COLUMN, ERRORS_COLUMN) if name in types]
    together = pa.concat_tables(unified, promote_options="default").select(
        [name for name in types if name not in ours] + ours)  # every part's columns, the verdicts last
    frame = _frame(together, path)
    positions = {together.schema.names[number]: position for position, number in enumerate(_data_fields(together))}
    for name in conflicting:
        frame.isetitem(positions[name], np.concatenate([_own_values(table, name, path) for table in tables]))
    return frame


def _common_type(kinds: set[pa.DataType]) -> pa.DataType | None:
    """The one type of a column's values in every part (pa.null(): no values), or None."""
    if len(kinds) <= 1:
        return next(iter(kinds), pa.null())
    widened = {_WIDE.get(kind, kind) for kind in kinds}
    return widened.pop() if len(widened) == 1 else None


def _unified(table: pa.Table, common: dict[str, pa.DataType | None], conflicting: list[str]) -> pa.Table:
    """A part with each column of its common type, conflicting columns as nulls (filled later)."""
    for number, field in enumerate(table.schema):
        if field.name in conflicting:
            table = table.set_column(number, field.name, pa.nulls(len(table)))
        elif not pa.types.is_null(field.type) and field.type != common[field.name]:
            table = table.set_column(number, field.name, table.column(number).cast(common[field.name]))
    return table


def _own_values(table: pa.Table, name: str, path: Any) -> np.ndarray:
    """A column of one part as that part reads it, as objects (None where the part lacks it)."""
    if name not in table.schema.names:
        return np.full(len(table), None, dtype=object)
    return _frame(table.select([name]), path).iloc[:, 0].to_numpy(dtype=object)


def _metadata_json(metadata: dict, key: bytes, path: Any) -> Any:
    """The JSON value of a metadata key (a dict for FlowSchema's and pandas' keys); anything
    else is a ``ResultFileError`` naming the key."""
    name = key.decode()
    try:
        value = json.loads(metadata[key])
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ResultFileError(f"{path}: its metadata {name!r} is not JSON ({type(exc).__name__})") from None
    if type(value) is not dict:
        raise ResultFileError(f"{path}: its metadata {name!r} is a {type(value).__name__}, not a dict")
    if _nesting(value) > MAX_METADATA_DEPTH:
        raise ResultFileError(f"{path}: its metadata {name!r} is nested more than {MAX_METADATA_DEPTH} levels deep")
    return value


def _nesting(value: Any) -> int:
    """How many levels of lists and dicts ``value`` has (counted without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


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
    """``attrs["flowschema"]``, when there, has the keys of a run, each of its type and range."""
    run = attrs.get("flowschema")
    if run is None:
        return
    if type(run) is not dict:
        raise ResultFileError(f"{path}: attrs['flowschema'] is a {type(run).__name__}, not a dict")
    for key, kinds in _ATTR_TYPES.items():
        value = run.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise ResultFileError(f"{path}: attrs['flowschema'][{key!r}] is {value!r:.60}, not a {kinds[0].__name__}")
    for key in _COUNTS:
        if run.get(key) is not None and not _is_count(run[key]):
            raise ResultFileError(f"{path}: attrs['flowschema'][{key!r}] is {run[key]!r:.60}, not a count (a "
                                  "non-negative int)")
    elapsed = run.get("elapsed_seconds")
    if elapsed is not None and not (math.isfinite(elapsed) and elapsed >= 0):
        raise ResultFileError(f"{path}: attrs['flowschema']['elapsed_seconds'] is {elapsed!r}, not a non-negative "
                              "number")
    if run.get("rows") is not None and (run.get("invalid_rows") or 0) > run["rows"]:
        raise ResultFileError(f"{path}: attrs['flowschema'] says invalid_rows={run['invalid_rows']} is more than "
                              f"rows={run['rows']}")
    for key in ("summary", "fields"):
        if any(type(item) is not dict for item in run.get(key) or ()):
            raise ResultFileError(f"{path}: attrs['flowschema'][{key!r}] holds something other than dicts")
    for number, entry in enumerate(run.get("summary") or ()):
        _check_summary_entry(entry, run.get("invalid_rows"), f"{path}: attrs['flowschema']['summary'][{number}]")
    for number, entry in enumerate(run.get("fields") or ()):
        _check_field_entry(entry, f"{path}: attrs['flowschema']['fields'][{number}]")


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _check_summary_entry(entry: dict, invalid_rows: int | None, where: str) -> None:
    """One row of the per-field summary: ``field``, then ``errors``, ``rows`` and a count per
    error type, which add up."""
    if type(entry.get("field")) is not str:
        raise ResultFileError(f"{where} has no 'field' (a str)")
    for key in ("errors", "rows"):
        if key not in entry:
            raise ResultFileError(f"{where} has no {key!r}")
    for key, count in entry.items():
        if key != "field" and not _is_count(count):
            raise ResultFileError(f"{where}[{key!r}] is {count!r:.60}, not a count (a non-negative int)")
    field, rows, errors = entry["field"], entry["rows"], entry["errors"]
    if invalid_rows is not None and rows > invalid_rows:
        raise ResultFileError(f"{where} counts {rows} rows with errors in {field!r}, more than "
                              f"invalid_rows={invalid_rows}")
    by_type = sum(count for key, count in entry.items() if key not in ("field", "errors", "rows"))
    if errors != by_type or rows > errors:
        raise ResultFileError(f"{where} counts {errors} errors of {field!r} but {by_type} by type, in {rows} rows")


def _check_field_entry(entry: dict, where: str) -> None:
    """One model field: ``field``, the ``column`` it reads (a label or None), its ``rule``."""
    if type(entry.get("field")) is not str:
        raise ResultFileError(f"{where} has no 'field' (a str)")
    if type(entry.get("column")) not in (str, int, type(None)):
        raise ResultFileError(f"{where}['column'] is {entry['column']!r:.60}, not a column label (str, int or None)")
    if type(entry.get("rule")) not in (str, type(None)):
        raise ResultFileError(f"{where}['rule'] is {entry['rule']!r:.60}, not a str")


def _check_counts(frame: pd.DataFrame, path: Any, every_failing_row: bool) -> None:
    """A frame holding a subset of a run's rows (``subset`` in its attrs: a sample, failing
    rows) has its counts shown as the run's: they must agree with the rows read. An
    ``invalid_out`` file (its totals in the file's metadata, read whole) holds every failing row
    of the run. A whole frame is counted as it is, whatever its attrs say: it may have been
    filtered or concatenated before it was saved."""
    run = frame.attrs.get("flowschema") or {}
    if not (run.get("subset") or every_failing_row):
        return
    failing = int((~frame[VALID_COLUMN].to_numpy(dtype=bool)).sum())
    rows, invalid_rows = run.get("rows"), run.get("invalid_rows")
    if invalid_rows is not None and (failing > invalid_rows or (every_failing_row and failing != invalid_rows)):
        raise ResultFileError(f"{path}: holds {failing} failing rows, but its totals say invalid_rows={invalid_rows}; "
                              "the file was not written by FlowSchema, or was altered")
    if rows is not None and len(frame) - failing > rows - (invalid_rows or 0):
        raise ResultFileError(f"{path}: holds {len(frame) - failing} valid rows, but its totals say rows={rows} "
                              f"with invalid_rows={invalid_rows}; the file was not written by FlowSchema, or was "
                              "altered")
