"""The public surface, pinned: what `import flowschema` offers, and the executors' import paths."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import flowschema
import flowschema.streaming


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


def test_the_file_streaming_layer_does_not_import_the_ray_layer():
    """``flowschema.ray`` builds on ``flowschema.streaming``, never the other way round: streaming
    reaches the workers-read run by name, only when a set of files goes to Ray."""
    tree = ast.parse(Path(flowschema.streaming.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and (name == "ray" or name.startswith(("ray.", "flowschema.ray")))}
    code = ("import sys, flowschema.streaming; "
            "print(sorted(m for m in ('ray', 'flowschema.ray', 'flowschema.ray_data') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_no_two_modules_share_a_name_and_flowschema_ray_keeps_its_public_path():
    """Issue 19's layout: ``flowschema/ray.py`` beside ``flowschema/executor/ray.py`` read alike in
    every traceback; the Ray Data module is ``ray_data.py`` and ``flowschema.ray`` is that module."""
    package = Path(flowschema.__file__).parent
    names = [path.name for path in package.rglob("*.py") if path.name != "__init__.py"]
    assert sorted(name for name in names if names.count(name) > 1) == []
    code = ("import sys, flowschema.ray as public, flowschema.ray_data as module; from flowschema.ray import "
            "validate_dataset; print(public is module is sys.modules['flowschema.ray'], validate_dataset.__module__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "flowschema.ray_data"]


def test_polars_is_not_imported_by_flowschema_and_gets_the_namespace_whenever_it_is():
    code = ("import sys, flowschema; print('polars' in sys.modules); import polars as pl; "
            "print(hasattr(pl.DataFrame(), 'flowschema'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
    code = "import polars as pl, flowschema; print(hasattr(pl.DataFrame(), 'flowschema'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True"]
    # a library probing what is installed finds polars without importing it: the import later counts
    code = ("import importlib.util, sys, flowschema; print(importlib.util.find_spec('polars') is not None, "
            "'polars' in sys.modules); import polars as pl; print(hasattr(pl.DataFrame(), 'flowschema'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "False", "True"]
