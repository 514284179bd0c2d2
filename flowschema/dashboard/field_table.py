"""The per-field table: one row per model field, passed ones included, as pointblank's report
has one row per validation step.

A row names the field as ``errors()`` does (``dep_time``, ``address.zip``, ``__model__``), the
column it reads, its rule (``flowschema.rules``), and how many rows were checked, passed and
failed on it. Rows come in the model's field order; a field with errors inside it (``address.zip``)
gets one row per failing location; errors on names that are not model fields (extra columns
with ``extra="forbid"``) follow, and ``__model__`` (the model's own checks) comes last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowschema.report import MODEL_FIELD

__all__ = ["FieldFailures", "FieldRow", "TypeCount", "field_rows"]


@dataclass(frozen=True)
class TypeCount:
    """Errors of one pydantic error type within one field, with one of their messages."""

    type: str
    count: int
    sample_msg: str = ""


@dataclass
class FieldFailures:
    """What failed on one field: rows, errors, and errors per type (largest first)."""

    rows: int = 0
    errors: int = 0
    types: tuple[TypeCount, ...] = ()


@dataclass(frozen=True)
class FieldRow:
    """One row of the per-field table.

    ``name`` selects it (``errors()``'s ``field``); ``column`` is the column it reads (None:
    none, or not known); ``rule`` is empty when not known (no model fields in the frame's attrs).
    """

    name: str
    column: str | None
    rule: str
    checked: int
    failed: int
    errors: int = 0
    types: tuple[TypeCount, ...] = field(default=())

    @property
    def passed(self) -> int:
        return self.checked - self.failed

    @property
    def status(self) -> str:
        """``"pass"`` when no checked row failed on it, else ``"fail"``."""
        return "fail" if self.failed else "pass"


def field_rows(model_fields: list[dict], failures: dict[str, FieldFailures], checked: int,
               columns: set[str]) -> list[FieldRow]:
    """The table's rows from the model's fields (``attrs["flowschema"]["fields"]``: ``field``,
    ``column``, ``rule``), the failures per field name, the rows checked, and the frame's columns.

    >>> rows = field_rows([{"field": "x", "column": "x", "rule": "int"}, {"field": "y", "column": "y", "rule": "str"}],
    ...                   {"y": FieldFailures(rows=2, errors=2)}, 10, {"x", "y"})
    >>> [(row.name, row.passed, row.failed, row.status) for row in rows]
    [('x', 10, 0, 'pass'), ('y', 8, 2, 'fail')]
    """
    left = dict(failures)
    rows = []
    model_check = None
    for described in model_fields:
        name, column, rule = described["field"], described.get("column"), described.get("rule") or ""
        column = None if column is None else str(column)
        if name == MODEL_FIELD:
            model_check = rule
            continue
        mine = [key for key in left if _top(key) in (name, column)]
        mine.sort(key=lambda key: (key not in (name, column), key))
        for key in mine or [name]:
            found = left.pop(key, FieldFailures())
            rows.append(FieldRow(key, column, rule, checked, found.rows, found.errors, found.types))
    model_failures = left.pop(MODEL_FIELD, None)
    for key in sorted(left):
        found = left[key]
        column = _top(key) if _top(key) in columns else None
        rows.append(FieldRow(key, column, "", checked, found.rows, found.errors, found.types))
    if model_failures is not None or model_check is not None:
        found = model_failures or FieldFailures()
        rows.append(FieldRow(MODEL_FIELD, None, model_check or "", checked, found.rows, found.errors, found.types))
    return rows


def _top(name: str) -> str:
    """The top-level part of a dotted field name: ``"address.zip"`` -> ``"address"``."""
    return name.split(".", 1)[0]
