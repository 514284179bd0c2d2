"""The enumerated matrix of issue 18: every field kind x every column dtype x edge values.

Each cell (a field variant, a column dtype, an edge value) must get pydantic's answer, error by
error and type by type, as ``tests/oracle.py`` computes it from its own normaliser: on the
columnar engine and on the rows engine, with and without ``strict=True``, and with
``coerce=True`` against the README's table (``expected_coerced_frame``). One wide model holds
every field variant (``tests/matrix_cases.py``) and one frame per dtype feeds every field the
dtype's column, so the whole matrix is a few calls per dtype.

``make test`` runs the whole matrix on the sync executor. On multiprocessing and Ray one compact
model (each kind plain and Optional: one pool per executor) reads every dtype, a dtype group's
frames streamed through one ``validate_iter`` per run. ``FLOWSCHEMA_MATRIX_FULL=1`` (``make
fuzz``) runs the whole matrix on every executor. A failure lists every differing cell, one line
each.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel, field_validator

import flowschema
from tests.conftest import EXECUTORS
from tests.matrix_cases import (
    BAD_COLUMNS,
    COLUMNS,
    FIELDS,
    GROUPS,
    MatrixCase,
    Sub,
    cell_differences,
    coerce_differences,
    dtype_case,
)
from tests.oracle import assert_exactly_pydantic

FULL = os.environ.get("FLOWSCHEMA_MATRIX_FULL") == "1"

#: the runs of the matrix per model (``tests/matrix_cases.MODELS``) over each dtype's frame: the
#: columnar engine with and without strict=True (in chunks of 7 rows: distinct values per chunk,
#: Arrow slices) and the rows engine (its answer differs from pydantic's only by how it reads the
#: cells, whatever ``strict``); coerce=True with the compact model (every row fails some field:
#: invalid rows keep their input, in the README's dtypes) and with the lenient one (every row is
#: valid: every cell gets its validated value) on both engines. FLOWSCHEMA_MATRIX_FULL=1 adds the
#: rest.
MATRIX_RUNS = {
    "wide": [{"engine": "columnar"}, {"engine": "columnar", "strict": True, "chunksize": 7}, {"engine": "rows"}],
    "compact": [{"engine": "auto", "coerce": True}],
    "lenient": [{"engine": "auto", "coerce": True}, {"engine": "rows", "coerce": True}],
}
if FULL:
    MATRIX_RUNS["wide"] += [{"engine": "rows", "strict": True}, {"engine": "auto", "coerce": True},
                            {"engine": "rows", "coerce": True}]
    MATRIX_RUNS["lenient"] += [{"engine": "auto", "coerce": True, "strict": True}]
#: on the other executors, with the compact models: what travels differs with the dtype (and the
#: slice of it a chunk holds), the engine does not
GROUP_RUNS = {"compact": [{"engine": "columnar", "chunksize": 5}],
              "compact_lenient": [{"engine": "auto", "coerce": True}]}


def _how(options: dict) -> str:
    return " ".join(f"{key}={value}" for key, value in options.items())


def _differences(case: MatrixCase, checked: pd.DataFrame, options: dict) -> list[str]:
    checked.attrs = {}  # each column taken from the result would deep-copy them (a dict per field)
    differences = coerce_differences if options.get("coerce") else cell_differences
    return differences(case, checked, options.get("strict"), _how(options))


def _runs(executor: str, case: MatrixCase, runs: list[dict]) -> list[str]:
    """Each run's differing cells; a run that raises is retried column by column to name the
    cells that make it raise, and checked with those columns all None (not left out: a row
    missing a column is validated whole, which would hide the other fields' differences)."""
    lines = []
    for options in runs:
        run_case = case
        try:
            checked = case.frame.flowschema.validate(case.model, executor, progress=False, **options)
        except Exception as exc:  # noqa: BLE001  (a crash is a finding: name its cells)
            crashing = _crashing_columns(executor, case, options)
            lines += [f"{_how(options)}: {label} x {case.dtype_of[label]}: raised {error}"
                      for label, error in crashing.items()]
            if not crashing:
                lines.append(f"{_how(options)}: {set(case.dtype_of.values())} raised {type(exc).__name__}: {exc}")
                continue
            run_case = MatrixCase(case.model, case.frame.assign(**dict.fromkeys(crashing, None)), case.dtype_of)
            checked = run_case.frame.flowschema.validate(case.model, executor, progress=False, **options)
        found = _differences(run_case, checked, options)
        if options is runs[0] and not found:  # the oracle's own check too, once per frame
            assert_exactly_pydantic(run_case.frame, run_case.model, checked, strict=options.get("strict"))
        lines += found
    return lines


def _crashing_columns(executor: str, case: MatrixCase, options: dict) -> dict:
    """The columns that make a run raise on their own, with what they raised."""
    crashing = {}
    for label in case.frame.columns:
        try:
            case.frame[[label]].flowschema.validate(case.model, executor, progress=False, **options)
        except Exception as exc:  # noqa: BLE001
            crashing[label] = f"{type(exc).__name__}: {str(exc)[:160]}"
    return crashing


@pytest.mark.parametrize("executor", EXECUTORS if FULL else ["sync"], indirect=True)
@pytest.mark.parametrize("dtype_id", list(COLUMNS))
def test_every_field_kind_fed_this_dtype_gets_pydantics_answer(executor, dtype_id):
    """Every field variant reads the dtype's column: each cell's errors, verdict and coerced
    value are pydantic's."""
    lines = [line for model, runs in MATRIX_RUNS.items() for line in _runs(executor, dtype_case(dtype_id, model), runs)]
    assert not lines, f"{len(lines)} cells differ from pydantic:\n" + "\n".join(lines)


@pytest.mark.parametrize("executor", [name for name in EXECUTORS if name != "sync"], indirect=True)
@pytest.mark.parametrize("group", list(GROUPS))
def test_every_dtype_travels_to_the_workers_and_back_exactly(executor, group):
    """The two compact models serve every group (two pools per executor, reused); a group's
    frames, one per dtype, go through one ``validate_iter`` per run. A run that raises is taken
    frame by frame."""
    lines = []
    for model, runs in GROUP_RUNS.items():
        cases = [dtype_case(dtype_id, model) for dtype_id in GROUPS[group]]
        for options in runs:
            try:
                results = list(flowschema.validate_iter([case.frame for case in cases], cases[0].model, executor,
                                                        progress=False, **options))
            except Exception:  # noqa: BLE001
                lines += [line for case in cases for line in _runs(executor, case, [options])]
                continue
            lines += [line for case, checked in zip(cases, results) for line in _differences(case, checked, options)]
    assert not lines, f"{len(lines)} cells differ from pydantic:\n" + "\n".join(lines)


# -- cells no Python value can hold --------------------------------------------------------------------

validated: list = []


class Holder(BaseModel):
    """One model for every bad cell (one pool per executor): ``n`` counts the values its
    validator sees (none may be seen: the bad cell is refused before any row is validated);
    ``anything`` and one typed field (``BadCell.field``, a type a screen could take the cell for)
    read the bad column."""

    n: int
    anything: Any = None
    at: dt.datetime | None = None
    span: dt.timedelta | None = None
    day: dt.date | None = None
    number: int | None = None
    sub: Sub | None = None

    @field_validator("n")
    @classmethod
    def count(cls, value):
        validated.append(value)
        return value


@pytest.mark.parametrize("bad_id", list(BAD_COLUMNS))
def test_cells_no_python_value_can_hold_are_refused_naming_column_row_and_value(executor, bad_id):
    """Issue 18 (items 12 and 18): every engine raises the same ValueError, naming the column,
    the row label and the value, before any row is validated."""
    bad = BAD_COLUMNS[bad_id]
    column = bad.column().array
    frame = pd.DataFrame({"n": [1, 2], bad.field: column, "anything": column}, index=["good", "bad row"])
    messages = {}
    for engine in ("columnar", "rows", "auto"):
        validated.clear()
        with pytest.raises(ValueError) as raised:
            frame.flowschema.validate(Holder, executor, engine=engine, progress=False)
        message = str(raised.value)
        assert "bad row" in message and any(shown in message for shown in bad.shown), f"{engine}: {message}"
        assert repr(bad.field) in message or "'anything'" in message, f"{engine}: {message}"
        if executor == "sync":
            assert validated == [], f"{engine}: rows were validated before the bad cell was refused"
        messages[engine] = message
    assert len(set(messages.values())) == 1, messages


def test_the_matrix_covers_every_kind_and_dtype_the_issue_names():
    """The matrix is enumerated, not sampled: a kind or dtype dropped from it fails here."""
    kinds = {name.split("__")[0] for name in FIELDS}
    assert kinds >= {"int", "float", "str", "bool", "bytes", "decimal", "uuid", "date", "datetime", "naive_datetime",
                     "aware_datetime", "time", "timedelta", "literal", "enum", "int_enum", "str_enum", "list", "dict",
                     "model", "any"}
    assert all(f"{kind}__optional" in FIELDS for kind in kinds)
    assert {"int__le_2p53", "int__le_2p53_float", "float__le_0_1", "int__multiple_of_2p70", "str__pattern",
            "str__max_3", "int__strict"} <= set(FIELDS)
    for expected in ("numpy-int8", "numpy-uint64", "numpy-float16", "numpy-bool", "datetime64[s]", "timedelta64[ns]",
                     "datetime64[ns, Paris]", "object-mixed", "category-str", "Int64", "Float64", "boolean", "str",
                     "string[python]", "string[pyarrow]", "str[python]", "arrow-string_view", "arrow-binary_view",
                     "arrow-large_string", "arrow-large_binary", "arrow-timestamp[ns, tz=Europe/Paris]",
                     "arrow-date64[ms]", "arrow-time32[s]", "arrow-duration[s]", "arrow-decimal256(40, 2)",
                     "arrow-large_list<int64>", "arrow-struct<a,b>", "arrow-dictionary<int8,string>",
                     "arrow-run_end_encoded<int64>"):
        assert expected in COLUMNS, expected
