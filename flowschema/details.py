"""pydantic's error dicts, made small and JSON-safe, and shared where they repeat.

Every engine reports errors through here, so a row's errors have one shape whichever engine
found them: ``type``, ``loc`` (a tuple), ``msg``, ``input`` (None for ``missing``) and, when
pydantic gives one, ``ctx`` with values that are not JSON scalars turned into strings.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

__all__ = ["error_detail", "error_details", "exception_error"]

_JSON_SCALARS = (str, int, float, bool, type(None))


#: distinct error kinds remembered for sharing; beyond this many the memory starts over
_MAX_KINDS = 65_536
_kinds: dict[tuple, tuple] = {}


def _shared_kind(error_type: str, loc: tuple, msg: str, ctx: dict | None) -> tuple:
    """One ``(type, loc, msg, ctx)`` object set per distinct error kind, shared by every error of
    that kind: a million failing rows hold one copy of each message, not a million. Kinds are
    told apart by the ctx values' types too (``ge=0`` and ``ge=0.0`` are two kinds)."""
    if ctx is None:
        key: tuple = (error_type, loc, msg)
    else:
        values = tuple(ctx.values())
        key = (error_type, loc, msg, tuple(ctx), values, tuple(map(type, values)))
    try:
        kind = _kinds.get(key)
    except TypeError:  # an unhashable loc part or ctx value: nothing shared, nothing lost
        return error_type, tuple(loc), msg, _safe_ctx(ctx)
    if kind is None:
        if len(_kinds) >= _MAX_KINDS:
            _kinds.clear()
        kind = _kinds[key] = (error_type, tuple(loc), msg, _safe_ctx(ctx))
    return kind


def _safe_ctx(ctx: dict | None) -> dict | None:
    return None if ctx is None else {key: _json_safe(value) for key, value in ctx.items()}


def _json_safe(value: Any) -> Any:
    return value if isinstance(value, _JSON_SCALARS) else str(value)


def error_details(exc: ValidationError) -> tuple[dict, ...]:
    """pydantic's error dicts for one row, made small and JSON-safe.

    Keeps ``type``, ``loc``, ``msg``, ``input`` and ``ctx`` (when present, with values that
    are not JSON scalars turned into strings). A ``missing`` error's ``input`` is None rather
    than the whole row. Errors of one kind share their ``type``, ``loc``, ``msg`` and ``ctx``
    objects (treat them as read-only).
    """
    return tuple(map(error_detail, exc.errors(include_url=False)))


def exception_error(exc: Exception, row: dict) -> dict:
    return {
        "type": "exception",
        "loc": (),
        "msg": f"{type(exc).__name__}: {exc}",
        "input": row,
    }


def error_detail(error: dict, loc: tuple | None = None) -> dict:
    """One of pydantic's error dicts (from ``ValidationError.errors()``) in FlowSchema's shape,
    its ``loc`` replaced by ``loc`` when given. A new dict: making over pydantic's own in place
    leaves the parts it drops as holes among the kept errors, which costs twice the memory.

    >>> error_detail({"type": "missing", "loc": ("x",), "msg": "Field required", "input": {}})
    {'type': 'missing', 'loc': ('x',), 'msg': 'Field required', 'input': None}
    """
    error_type, loc, msg, ctx = _shared_kind(error["type"], error["loc"] if loc is None else loc, error["msg"],
                                             error.get("ctx"))
    detail = {"type": error_type, "loc": loc, "msg": msg, "input": None if error_type == "missing" else error["input"]}
    if ctx is not None:
        detail["ctx"] = ctx
    return detail
