"""FlowSchema: validate pandas DataFrames row by row against a pydantic v2 model.

>>> import flowschema, pandas as pd
>>> from pydantic import BaseModel
>>> class User(BaseModel):
...     name: str
...     age: int
>>> checked = pd.DataFrame({"name": ["ada", "bob"], "age": [36, None]}).flowschema.validate(User)
>>> checked[flowschema.VALID_COLUMN].tolist()
[True, False]

Importing this package registers the ``df.flowschema`` accessor (on polars frames too, when
polars is installed).
"""

from flowschema import _aliases, _compat
from flowschema import accessor as _accessor  # noqa: F401  (registers df.flowschema)
from flowschema.annotate import (
    ERRORS_COLUMN,
    VALID_COLUMN,
    validate_frame,
    validate_iter,
)
from flowschema.columnar import explain
from flowschema.errors import (
    ChunkTimeoutError,
    DataFileError,
    DataValidationError,
    EngineError,
    FlowSchemaError,
    ResultFileError,
    WorkerCrashError,
)
from flowschema.executor import EXECUTOR_NAMES, close
from flowschema.executor.base import BaseExecutor
from flowschema.executor.sync_fifo import SyncFifoExecutor
from flowschema.infer import infer_model, model_source
from flowschema.io import read_parquet
from flowschema.progress import PROGRESS_THRESHOLD
from flowschema.streaming import FileReport, RunError, validate_file

__version__ = "0.1.0"

_aliases.install()  # ``import flowschema.ray`` (the module is flowschema/ray_data.py)



def _register_polars(_module: object) -> None:
    from flowschema.adapters import polars  # noqa: F401  (registers df.flowschema on polars frames)


_compat.when_imported("polars", _register_polars)  # the optional extra flowschema[polars]

__all__ = [
    "ERRORS_COLUMN",
    "EXECUTOR_NAMES",
    "PROGRESS_THRESHOLD",
    "VALID_COLUMN",
    "BaseExecutor",
    "ChunkTimeoutError",
    "DataFileError",
    "DataValidationError",
    "EngineError",
    "FileReport",
    "FlowSchemaError",
    "ResultFileError",
    "RunError",
    "SyncFifoExecutor",
    "WorkerCrashError",
    "__version__",
    "close",
    "explain",
    "infer_model",
    "model_source",
    "read_parquet",
    "validate_file",
    "validate_frame",
    "validate_iter",
]
