"""What a model's fields read, from pydantic's own core schema: where each field looks for its
value in a row, and the schema that validates it.

pydantic-core looks a field up by its validation alias (each ``AliasChoices`` path in order) when
validating by alias, then by its name when validating by name (``validate_by_name`` /
``populate_by_name``); a field with no alias is looked up by name. Reading the core schema, not
re-deriving these rules, keeps FlowSchema's answer to "which column feeds this field" pydantic's.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

__all__ = ["ModelSchema", "field_paths", "model_schema", "read_columns"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ModelSchema:
    """A model's core schema, taken apart.

    ``fields`` is the ``model-fields`` schema's field map; ``config`` the model's core config;
    ``wrappers`` the kinds of function schemas around the fields (``"function-before"`` for a
    ``model_validator(mode="before")``, ``"function-after"`` for ``mode="after"``...), outermost
    first; ``definitions`` the shared definitions by reference.
    """

    fields: dict[str, dict]
    config: dict
    wrappers: tuple[str, ...] = ()
    definitions: dict[str, dict] = field(default_factory=dict)
    root: bool = False
    extras_schema: dict | None = None


def model_schema(model: type[BaseModel]) -> ModelSchema:
    """Take ``model``'s core schema apart (see ``ModelSchema``).

    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> model_schema(Point).fields["x"]["schema"]
    {'type': 'int'}
    """
    schema = model.__pydantic_core_schema__
    definitions: dict[str, dict] = {}
    wrappers: list[str] = []
    config: dict = {}
    root = False
    while True:
        kind = schema["type"]
        if kind == "definitions":
            definitions.update((definition["ref"], definition) for definition in schema["definitions"])
            schema = schema["schema"]
        elif kind == "definition-ref":
            schema = definitions[schema["schema_ref"]]
        elif kind == "model":
            config = schema.get("config", {})
            root = bool(schema.get("root_model"))
            schema = schema["schema"]
        elif kind.startswith("function-") and "schema" in schema:
            wrappers.append(kind)
            schema = schema["schema"]
        elif kind == "model-fields":
            return ModelSchema(schema["fields"], config, tuple(wrappers), definitions, root,
                               schema.get("extras_schema"))
        else:  # a RootModel's root, or a schema FlowSchema does not take apart
            return ModelSchema({}, config, (*wrappers, kind), definitions, True)


def field_paths(model: type[BaseModel]) -> dict[str, tuple[Path, ...]]:
    """Per field, the paths pydantic looks it up by, in the order it tries them.

    A path of one key reads a column; a longer one reads inside a column's value
    (``AliasPath("point", 0)``).

    >>> from pydantic import BaseModel, Field
    >>> class Row(BaseModel):
    ...     x: int = Field(alias="X")
    ...     y: int
    >>> field_paths(Row)
    {'x': (('X',),), 'y': (('y',),)}
    """
    taken = model_schema(model)
    by_alias = taken.config.get("validate_by_alias", True)
    by_name = taken.config.get("validate_by_name", False)
    paths = {}
    for name, schema in taken.fields.items():
        alias = schema.get("validation_alias")
        found: list[Path] = []
        if alias is not None and by_alias:  # "X", one path ["point", 0], or choices [["x"], ["point", 0]]
            if isinstance(alias, str):
                found.append((alias,))
            elif alias and isinstance(alias[0], list):
                found += [tuple(path) for path in alias]
            else:
                found.append(tuple(alias))
        if alias is None or by_name:
            found.append((name,))
        paths[name] = tuple(dict.fromkeys(found))
    return paths


def read_columns(model: type[BaseModel], columns: Iterable[Hashable]) -> dict[str, Any]:
    """Per field, the column pydantic reads its value from in every row of a frame with these
    ``columns``, or None: no such column (its default applies, or it is missing), or a value
    found inside a column (a longer ``AliasPath``), which is not the column's own value.

    >>> from pydantic import BaseModel, Field
    >>> class Row(BaseModel):
    ...     x: int = Field(0, alias="X")
    >>> read_columns(Row, ["x"]), read_columns(Row, ["X", "x"])
    ({'x': None}, {'x': 'X'})
    """
    present = set(columns)
    read = {}
    for name, paths in field_paths(model).items():
        first = next((path for path in paths if path[0] in present), None)
        read[name] = first[0] if first is not None and len(first) == 1 else None
    return read
