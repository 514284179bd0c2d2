"""The public surface, pinned: what `import flowschema` offers, and the executors' import paths."""

from __future__ import annotations

import importlib
import subprocess
import sys

import flowschema


def test_public_names():
    assert sorted(flowschema.__all__) == sorted(
        [
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
            "SyncFifoExecutor",
            "WorkerCrashError",
            "__version__",
            "close",
            "explain",
            "infer_model",
            "model_source",
            "RunError",
            "read_parquet",
            "validate_frame",
            "validate_file",
            "validate_iter",
        ]
    )
    for name in flowschema.__all__:
        assert hasattr(flowschema, name)
    assert (flowschema.VALID_COLUMN, flowschema.ERRORS_COLUMN) == ("_fs_valid", "_fs_errors")


def test_executor_import_paths():
    module = importlib.import_module("flowschema.executor.sync_fifo")
    assert module.SyncFifoExecutor is flowschema.SyncFifoExecutor
    from flowschema.executor.base import BaseExecutor

    assert issubclass(module.SyncFifoExecutor, BaseExecutor)


def test_importing_registers_the_accessor_and_needs_no_ray():
    code = "import sys, pandas as pd, flowschema; pd.DataFrame().flowschema; print('ray' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
