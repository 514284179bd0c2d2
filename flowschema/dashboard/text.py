"""How a cell reads as text, computed a column at a time: the grid shows it, search matches it.

One function turns a column into Arrow strings (null where the value is missing), so that what
the grid shows and what search finds never disagree. Numbers and strings convert in C (Arrow
casts); only object columns go through ``str`` value by value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["column_text", "isolate", "may_contain", "missing_last_order", "shorten"]

#: the characters a column's text can hold, by dtype kind, and the words it can hold besides
#: (``inf``): a needle that fits neither cannot match, and the column is not even converted
_ALPHABETS = {
    "i": ("0123456789-", ()),
    "u": ("0123456789", ()),
    "f": ("0123456789.-+e", ("-inf",)),
    "b": ("", ("true", "false")),
    "M": ("0123456789-: .+", ()),
}


def column_text(values: pd.Series) -> pa.Array:
    """The values as Arrow strings, null where missing (None, NaN, NaT, ``pd.NA``).

    >>> column_text(pd.Series([1.5, None, 2.0])).to_pylist()
    ['1.5', None, '2']
    >>> column_text(pd.Series(["a", None, 3], dtype=object)).to_pylist()
    ['a', None, '3']
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = column_text(pd.Series(dtype.categories))
        codes = values.cat.codes.to_numpy()
        return pc.take(categories, pa.array(codes, mask=codes < 0))
    if dtype.kind in "iufb" or isinstance(dtype, (pd.StringDtype, pd.ArrowDtype)):
        try:
            array = pa.array(values.array, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = None
        if array is not None and pa.types.is_boolean(array.type):
            return pc.if_else(array, "True", "False")  # as Python writes them
        if array is not None and (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            return array
        if array is not None and (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
            return pc.cast(array, pa.string())
    if dtype.kind == "M" or isinstance(dtype, pd.DatetimeTZDtype):
        texts = values.astype(str).to_numpy(dtype=object)
        return pa.array(texts, mask=values.isna().to_numpy())
    cells = values.to_numpy(dtype=object)
    return pa.array([None if _is_missing(cell) else str(cell) for cell in cells.tolist()], type=pa.string())


def _is_missing(cell: object) -> bool:
    return cell is None or cell is pd.NA or cell is pd.NaT or (isinstance(cell, float) and cell != cell)


def may_contain(values: pd.Series, needle: str) -> bool:
    """False when no value of this column can read as text containing ``needle`` (lower case):
    ``"n4999"`` is never in a number, so a search skips numeric columns without converting them.

    >>> numbers = pd.Series([1.5])
    >>> may_contain(numbers, "n4999"), may_contain(numbers, "1.5"), may_contain(numbers, "inf")
    (False, True, True)
    """
    dtype = values.dtype
    if isinstance(dtype, (pd.CategoricalDtype, pd.ArrowDtype)) or dtype.kind not in _ALPHABETS:
        return True
    alphabet, words = _ALPHABETS[dtype.kind]
    return set(needle) <= set(alphabet) or any(needle in word for word in words)


def missing_last_order(values: pd.Series, descending: bool = False) -> np.ndarray:
    """The positions that sort ``values`` (stable), missing values last in both directions.

    Columns mixing types that cannot be compared (``1`` and ``"a"``) sort by their text.

    >>> missing_last_order(pd.Series([2, None, 1])).tolist()
    [2, 0, 1]
    """
    series = pd.Series(values.array, copy=False)
    try:
        ordered = series.sort_values(ascending=not descending, kind="stable", na_position="last")
    except TypeError:
        ordered = pd.Series(column_text(series), dtype="str").sort_values(
            ascending=not descending, kind="stable", na_position="last")
    return ordered.index.to_numpy(dtype=np.int64)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut.

    >>> shorten("abcdef", 4)
    'abc…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def isolate(text: str) -> str:
    """``text`` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: where no ``<bdi>`` can
    go (a tooltip, a button's label), a right-to-left override inside stays inside.

    >>> isolate("abc") == "\u2068abc\u2069"
    True
    """
    return f"\u2068{text}\u2069"
