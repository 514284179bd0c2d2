"""A tqdm progress bar counted in rows: a widget in notebooks, text in a terminal."""

from __future__ import annotations

from typing import Any

__all__ = ["PROGRESS_THRESHOLD", "check_progress", "progress_bar"]

#: with ``progress="auto"``, frames of at least this many rows show a bar
PROGRESS_THRESHOLD = 100_000


def check_progress(progress: Any) -> None:
    """Raise a ValueError unless ``progress`` is ``"auto"``, True or False."""
    if not (progress is True or progress is False or progress == "auto"):
        raise ValueError(f"progress must be 'auto', True or False, got {progress!r}")


def progress_bar(total: int | None, progress: bool | str, description: str):
    """A ``tqdm.auto`` bar over ``total`` rows (None: a stream of unknown length), shown as
    ``progress`` says.

    ``"auto"`` shows it for at least ``PROGRESS_THRESHOLD`` rows, and for streams.
    """
    from tqdm.auto import tqdm

    show = progress is True or (progress == "auto" and (total is None or total >= PROGRESS_THRESHOLD))
    return tqdm(total=total, unit="rows", unit_scale=True, desc=description, disable=not show)
