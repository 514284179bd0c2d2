"""How a run reports its progress: a tqdm bar counted in rows, and listeners told of each step.

``annotate`` calls a ``RunListener`` as a run goes (started, executor ready, each chunk done,
finished or failed); the live dashboard is one such listener, an app can bring its own. Nothing
here imports the dashboard: ``dashboard=True`` finds it by name, as executors are found.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from flowschema.validation import ChunkResult

__all__ = ["LIVE_VIEW", "PROGRESS_THRESHOLD", "RunListener", "check_progress", "live_listener", "progress_bar"]

#: with ``progress="auto"``, frames of at least this many rows show a bar
PROGRESS_THRESHOLD = 100_000
#: the listener ``dashboard=True`` builds: module and class, imported on first use
LIVE_VIEW = ("flowschema.dashboard.widget", "Dashboard")


class RunListener:
    """Told about one validation run as it goes; override the steps you care about.

    The order is ``run_started`` (before the executor starts: Ray may take seconds),
    ``executor_ready``, ``chunk_done`` per chunk, then ``run_finished`` or ``run_failed``.
    """

    def run_started(self, total_rows: int | None, metadata: dict) -> None:
        """A run begins: ``total_rows`` (None for a stream of unknown length) and the run's
        ``metadata`` (``model``, ``executor``, ``source``, ``started``)."""

    def executor_ready(self, executor: str) -> None:
        """The executor has started (a local Ray is up, a pool exists); chunks follow."""

    def chunk_done(self, result: ChunkResult) -> None:
        """One chunk's result, in input order."""

    def run_finished(self, frame: pd.DataFrame | None) -> None:
        """The run ended: the annotated frame (for a file, its failing-row sample, whose
        ``attrs["flowschema"]`` carry the whole run's totals), or None for a stream."""

    def run_failed(self, error: BaseException) -> None:
        """The run stopped with ``error`` (Ctrl-C included) before its end."""


def live_listener(dashboard: Any) -> RunListener | None:
    """The listener ``dashboard=`` asks for: None for False, a new live dashboard displayed now
    for True, or the ``RunListener`` given (an app shows its own dashboard where it wants)."""
    if dashboard is False:
        return None
    if isinstance(dashboard, RunListener):
        return dashboard
    if dashboard is not True:
        raise TypeError(f"dashboard must be True, False or a flowschema Dashboard widget, got {dashboard!r}")
    module_name, class_name = LIVE_VIEW
    view = getattr(importlib.import_module(module_name), class_name)()
    from IPython.display import display

    display(view)
    return view


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
