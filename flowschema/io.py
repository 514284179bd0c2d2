"""Save an annotated frame to Parquet and load it back, errors included.

pandas' own ``to_parquet`` cannot store ``_fs_errors``: its error inputs mix types (a string in
one row, a float or a datetime in the next), which Arrow cannot put in one column. Here that
column travels as msgpack bytes (``flowschema.transport``: types survive the trip), null for
valid rows; everything else, index and ``attrs`` included, is stored by pandas as usual.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from flowschema.annotate import ERRORS_COLUMN
from flowschema.report import valid_mask
from flowschema.transport import packb, unpackb

__all__ = ["encoded_errors", "read_parquet", "to_parquet"]


def to_parquet(frame: pd.DataFrame, path: str | os.PathLike, **kwargs: Any) -> None:
    """Write an annotated frame to ``path`` as Parquet; read it back with ``read_parquet``.

    ``kwargs`` go to ``DataFrame.to_parquet``.
    """
    stored = frame.copy(deep=False)
    stored[ERRORS_COLUMN] = pd.array(encoded_errors(frame), dtype=pd.ArrowDtype(pa.binary()))
    try:
        stored.to_parquet(path, **kwargs)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise TypeError(
            f"Parquet cannot store this frame's data columns: {exc}. A column mixing types (such as "
            "str and int in one object column) must be converted first, e.g. with .astype(str)"
        ) from exc


def encoded_errors(frame: pd.DataFrame) -> np.ndarray:
    """The ``_fs_errors`` column as msgpack bytes per failing row (None for valid rows)."""
    cells = frame[ERRORS_COLUMN].to_numpy(dtype=object)
    encoded = np.full(len(frame), None, dtype=object)
    for position in np.flatnonzero(~valid_mask(frame)).tolist():
        try:
            encoded[position] = packb(cells[position])
        except TypeError as exc:
            raise TypeError(f"cannot save the errors of row {frame.index[position]!r}: {exc}") from None
    return encoded


def read_parquet(path: str | os.PathLike, **kwargs: Any) -> pd.DataFrame:
    """Read an annotated frame written by ``to_parquet``, with its errors decoded.

    ``checked.flowschema.to_parquet("checked.parquet")`` then
    ``flowschema.read_parquet("checked.parquet").flowschema.summary()`` gives the summary back.
    """
    frame = pd.read_parquet(path, **kwargs)
    if ERRORS_COLUMN in frame.columns:
        stored = frame[ERRORS_COLUMN].to_numpy(dtype=object, na_value=None)
        decoded = np.empty(len(frame), dtype=object)
        decoded.fill(())
        for position in np.flatnonzero(pd.notna(stored)).tolist():
            decoded[position] = unpackb(stored[position])
        frame[ERRORS_COLUMN] = decoded
    return frame
