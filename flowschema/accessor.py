"""``df.flowschema``: the pandas accessor. Thin: every method delegates."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
from pydantic import BaseModel

from flowschema import io, report
from flowschema.annotate import validate_frame
from flowschema.executor import BaseExecutor
from flowschema.executor.base import check_count

__all__ = ["FlowSchemaAccessor"]


@pd.api.extensions.register_dataframe_accessor("flowschema")
class FlowSchemaAccessor:
    """Validate a frame against a pydantic model, and read the report of a validated frame."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def validate(
        self,
        model: type[BaseModel],
        executor: str | BaseExecutor = "sync",
        *,
        chunksize: int | None = None,
        engine: str = "auto",
        coerce: bool = False,
        strict: bool | None = None,
        context: Any = None,
        progress: bool | str = "auto",
        dashboard: Any = False,
        **executor_options: Any,
    ) -> pd.DataFrame:
        """Validate every row against ``model``; return a new, annotated frame.

        The result has the input's index and columns (values and dtypes unchanged) plus
        ``_fs_valid`` (bool) and ``_fs_errors`` (per row a tuple of pydantic error dicts).
        A row is valid iff ``model.model_validate(row_dict)`` succeeds, with cells normalised
        (NaN/NaT/NA -> None, numpy -> Python). The input frame is never modified.

        - ``executor``: ``"sync"`` (in process), ``"multiprocessing"``, ``"ray"``, or an executor
          instance (which ``validate`` never closes). Executors built by name are reused by
          later calls with the same name, model and options.
        - ``chunksize``: rows per chunk (None: automatic); ``**executor_options`` go to the
          executor's constructor, e.g. ``max_workers=4, compression="lz4"``.
        - ``coerce``: put the validated values (``"42"`` -> ``42``) in valid rows' model columns.
        - ``strict``, ``context``: passed to ``model_validate``.
        - ``progress``: ``"auto"`` (a bar from 100,000 rows), True or False.
        - ``dashboard``: True shows the dashboard widget at once, its counters and bars updating
          as chunks finish (in a notebook); a ``Dashboard`` widget given here is fed instead.

        >>> import flowschema, pandas as pd
        >>> from pydantic import BaseModel
        >>> class Point(BaseModel):
        ...     x: int
        >>> pd.DataFrame({"x": [1, None]}).flowschema.validate(Point)[flowschema.VALID_COLUMN].tolist()
        [True, False]
        """
        return validate_frame(
            self._frame,
            model,
            executor,
            chunksize=chunksize,
            engine=engine,
            coerce=coerce,
            strict=strict,
            context=context,
            progress=progress,
            dashboard=dashboard,
            **executor_options,
        )

    def errors(self) -> pd.DataFrame:
        """One row per error: ``row``, ``position``, ``field``, ``type``, ``msg``, ``input``."""
        return report.errors_table(self._frame)

    def summary(self) -> pd.DataFrame:
        """Errors per field: ``field``, ``errors``, ``rows``, then a count per error type."""
        return report.summary_table(self._frame)

    def valid_rows(self) -> pd.DataFrame:
        """The rows that passed, original columns only."""
        return report.valid_rows(self._frame)

    def invalid_rows(self, field: str | None = None, error_type: str | None = None) -> pd.DataFrame:
        """The rows that failed, original columns only; only those with an error in ``field``
        and/or of ``error_type`` when given."""
        return report.invalid_rows(self._frame, field, error_type)

    def dashboard(self):
        """An ipywidgets dashboard of this validation result: errors per field, failing rows."""
        from flowschema.dashboard.widget import Dashboard

        return Dashboard(self._frame)

    def to_html(self, path: str | os.PathLike, pages: int = 3) -> None:
        """Write the dashboard as one self-contained HTML file (no scripts, works offline)."""
        from flowschema.dashboard.data import DashboardData
        from flowschema.dashboard.html import page_html, write_document

        check_count("pages", pages)
        write_document(page_html(DashboardData(self._frame), pages), path)

    def assert_valid(self, max_errors: int = 10) -> pd.DataFrame:
        """Return the frame if every row passed, else raise ``flowschema.DataValidationError``."""
        check_count("max_errors", max_errors)
        return report.assert_valid(self._frame, max_errors)

    def to_parquet(self, path: str | os.PathLike, **kwargs: Any) -> None:
        """Save the annotated frame, errors included; load it with ``flowschema.read_parquet``."""
        io.to_parquet(self._frame, path, **kwargs)
