"""Each model field's rule in a short readable form, for the reports: ``int, 0 ≤ x ≤ 2400``.

The text is read from the model's own declarations (annotations, ``Field`` constraints,
validators); it describes them, it never decides anything: pydantic does the validating.
"""

import enum
import types
import typing
from typing import Any, Literal, Union

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["MODEL_RULE_KEY", "field_rules"]

#: the key of the model's own checks (model validators) in ``field_rules``; the reports name
#: errors with an empty ``loc`` the same way
MODEL_RULE_KEY = "__model__"

_LOWER = {"gt": ">", "ge": "≥"}
_UPPER = {"lt": "<", "le": "≤"}
#: how a bound reads inside a range: ``0 ≤ x``, ``x < 250``
_RANGE = {"gt": "<", "ge": "≤", "lt": "<", "le": "≤"}


def field_rules(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> its rule as text, in the model's field order; then, when the model has
    model validators, ``"__model__"`` -> them.

    >>> from typing import Literal, Optional
    >>> from pydantic import BaseModel, Field, field_validator
    >>> class Flight(BaseModel):
    ...     dep_time: int = Field(ge=0, le=2400)
    ...     air_time: Optional[float] = Field(gt=0)
    ...     origin: Literal["EWR", "JFK", "LGA"]
    ...     carrier: str = Field(pattern=r"^[A-Z0-9]{2}$")
    ...     tailnum: str = Field(min_length=5, max_length=6)
    ...     @field_validator("carrier")
    ...     @classmethod
    ...     def check_code(cls, value):
    ...         return value
    >>> for name, rule in field_rules(Flight).items():
    ...     print(f"{name}: {rule}")
    dep_time: int, 0 ≤ x ≤ 2400
    air_time: float > 0, or missing
    origin: 'EWR' | 'JFK' | 'LGA'
    carrier: str matching ^[A-Z0-9]{2}$, then check_code()
    tailnum: str, 5 to 6 characters
    """
    decorators = model.__pydantic_decorators__
    rules = {}
    for name, field in model.model_fields.items():
        validators = [decorator for decorator in decorators.field_validators.values()
                      if name in decorator.info.fields or "*" in decorator.info.fields]
        named = [(decorator.info.mode, decorator.cls_var_name) for decorator in validators]
        rules[name] = _rule(field.annotation, field.metadata, named)
    model_checks = [decorator.cls_var_name for decorator in decorators.model_validators.values()]
    if model_checks:
        rules[MODEL_RULE_KEY] = ", then ".join(f"{check}()" for check in model_checks)
    return rules


def _rule(annotation: Any, metadata: list, validators: list[tuple[str, str]]) -> str:
    """The rule of one annotation with its constraints and its ``(mode, name)`` validators."""
    annotation, optional = _without_none(annotation)
    annotation, metadata = _unannotated(annotation, list(metadata))
    for item in metadata:  # validators given in Annotated[...]: AfterValidator(func) and friends
        func = getattr(item, "func", None)
        if callable(func) and type(item).__name__.endswith("Validator"):
            mode = type(item).__name__.removesuffix("Validator").lower()
            validators.append((mode, getattr(func, "__name__", "validator")))
    text = _type_text(annotation)
    for position, (clause, inline) in enumerate(_clauses(metadata, annotation)):
        text += f" {clause}" if inline and position == 0 else f", {clause}"
    if optional:
        text += ", or missing"
    for mode, name in validators:
        text = f"{name}(), then {text}" if mode == "before" else f"{text}, then {name}()"
    return text


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """``Optional[X]`` -> ``(X, True)``; anything else -> ``(annotation, False)``."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) < len(typing.get_args(annotation)):
            return (members[0] if len(members) == 1 else Union[tuple(members)]), True
    return annotation, False


def _unannotated(annotation: Any, metadata: list) -> tuple[Any, list]:
    """``Annotated[X, Field(gt=0), ...]`` -> ``(X, its constraints added to metadata)``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:
            metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, metadata


def _type_text(annotation: Any) -> str:
    """``int``; ``'a' | 'b'`` for a Literal or an Enum; ``Address`` for a model; ``list[int]``."""
    if typing.get_origin(annotation) is Literal:
        return " | ".join(repr(value) for value in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(repr(member.value) for member in annotation)
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return " | ".join(_type_text(member) for member in typing.get_args(annotation))
    if annotation is Any:
        return "any value"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _clauses(metadata: list, annotation: Any) -> list[tuple[str, bool]]:
    """The constraints as ``(text, inline)``: ``("> 0", True)`` reads ``float > 0``,
    ``("0 ≤ x ≤ 2400", False)`` reads ``int, 0 ≤ x ≤ 2400``."""
    bounds: dict[str, Any] = {}
    length: dict[str, int] = {}
    clauses: list[tuple[str, bool]] = []
    for item in metadata:
        for key in ("gt", "ge", "lt", "le"):
            if getattr(item, key, None) is not None:
                bounds[key] = getattr(item, key)
        if isinstance(item, annotated_types.MinLen):
            length["min"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            length["max"] = item.max_length
        elif isinstance(item, annotated_types.MultipleOf):
            clauses.append((f"multiple of {item.multiple_of}", False))
        elif getattr(item, "pattern", None) is not None:
            clauses.insert(0, (f"matching {item.pattern}", True))
        for key, words in (("max_digits", "at most {} digits"), ("decimal_places", "at most {} decimal places")):
            if getattr(item, key, None) is not None:
                clauses.append((words.format(getattr(item, key)), False))
    lower = next(((key, bounds[key]) for key in _LOWER if key in bounds), None)
    upper = next(((key, bounds[key]) for key in _UPPER if key in bounds), None)
    if lower and upper and lower[0] == "ge" and upper[0] == "le" and lower[1] == upper[1]:
        clauses.insert(0, (f"= {lower[1]}", True))
    elif lower and upper:
        clauses.insert(0, (f"{lower[1]} {_RANGE[lower[0]]} x {_RANGE[upper[0]]} {upper[1]}", False))
    elif lower or upper:
        key, value = lower or upper
        clauses.insert(0, (f"{(_LOWER | _UPPER)[key]} {value}", True))
    if length:
        clauses.append((_length_text(length, annotation), False))
    return clauses


def _length_text(length: dict[str, int], annotation: Any) -> str:
    def units(count: int) -> str:
        unit = "character" if annotation in (str, bytes) else "item"
        return f"{count} {unit}" + ("" if count == 1 else "s")

    low, high = length.get("min"), length.get("max")
    if low is not None and high is not None:
        return units(low) if low == high else f"{low} to {units(high)}"
    return f"at least {units(low)}" if high is None else f"at most {units(high)}"
