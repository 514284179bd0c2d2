"""The exceptions FlowSchema raises of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ChunkTimeoutError", "DataFileError", "DataValidationError", "EngineError", "FlowSchemaError",
           "ResultFileError", "WorkerCrashError"]


class FlowSchemaError(Exception):
    """Base class of FlowSchema's own errors."""


class DataValidationError(FlowSchemaError, ValueError):
    """Raised by ``assert_valid()`` when rows failed; ``errors`` and ``summary`` hold the report."""

    def __init__(self, message: str, errors: pd.DataFrame, summary: pd.DataFrame) -> None:
        super().__init__(message)
        self.errors = errors
        self.summary = summary


class WorkerCrashError(FlowSchemaError):
    """Workers kept dying (or a cluster lost them) while validating some rows; none are returned."""


class ResultFileError(FlowSchemaError, ValueError):
    """A file read back as a validation result (``flowschema.read_parquet``) is not one FlowSchema
    wrote: a wrong column type, malformed or oversized errors, inconsistent verdicts or attrs."""


class ChunkTimeoutError(FlowSchemaError, TimeoutError):
    """A chunk took longer than the executor's ``timeout``; the call stopped, naming its rows."""


class DataFileError(FlowSchemaError, ValueError):
    """A data file's content cannot be read as a table: empty, duplicate column names in its
    header, or not the format its name says."""


class EngineError(FlowSchemaError, ValueError):
    """``engine="columnar"`` was asked for a model (or frame) it cannot validate exactly; the
    message names what prevents it. ``engine="auto"`` falls back to rows instead."""
