"""Bad arguments fail at once, before any work, with a message that says what to do."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from pydantic import BaseModel

import flowschema
from flowschema.executor.sync_fifo import SyncFifoExecutor
from tests.models import Address, Person

FRAME = pd.DataFrame({"city": ["a"], "zip": ["12345"]})


@dataclasses.dataclass
class NotAModel:
    city: str


@pytest.mark.parametrize("model", [Address(city="a", zip="12345"), NotAModel, None, dict, "Address"])
def test_model_must_be_a_basemodel_subclass(model):
    with pytest.raises(TypeError, match="pydantic BaseModel subclass"):
        FRAME.flowschema.validate(model)
    with pytest.raises(TypeError, match="pydantic BaseModel subclass"):
        SyncFifoExecutor(model)


def test_model_instance_hint_names_the_class():
    with pytest.raises(TypeError, match="pass the class Address, not an instance"):
        FRAME.flowschema.validate(Address(city="a", zip="12345"))


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="expected a pandas DataFrame, got Series"):
        flowschema.validate_frame(FRAME["city"], Address)


def test_unknown_executor_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown executor 'dask'.*'sync', 'multiprocessing', 'ray'"):
        FRAME.flowschema.validate(Address, "dask")
    with pytest.raises(TypeError, match="executor must be a name"):
        FRAME.flowschema.validate(Address, 3)


@pytest.mark.parametrize("chunksize, error", [(0, ValueError), (-5, ValueError), (2.5, TypeError), ("10", TypeError),
                                              (True, TypeError)])
def test_bad_chunksize(chunksize, error):
    with pytest.raises(error, match="chunksize must be a positive int"):
        FRAME.flowschema.validate(Address, chunksize=chunksize)
    with pytest.raises(error, match="chunksize must be a positive int"):
        SyncFifoExecutor(Address, chunksize=chunksize)


def test_unknown_executor_option_is_named():
    with pytest.raises(TypeError, match="SyncFifoExecutor does not take the option\\(s\\) 'max_workers'"):
        FRAME.flowschema.validate(Address, "sync", max_workers=2)


def test_instance_rejects_options_and_other_models():
    executor = SyncFifoExecutor(Address)
    with pytest.raises(TypeError, match="'chunksize'.*configure the instance"):
        FRAME.flowschema.validate(Address, executor, chunksize=5)
    with pytest.raises(ValueError, match="validates Address, not Person"):
        FRAME.flowschema.validate(Person, executor)


def test_bad_progress_and_coerce():
    with pytest.raises(ValueError, match="progress must be 'auto', True or False"):
        FRAME.flowschema.validate(Address, progress="yes")
    with pytest.raises(TypeError, match="coerce must be True or False"):
        FRAME.flowschema.validate(Address, coerce="yes")
    with pytest.raises(TypeError, match="dashboard must be True, False or a flowschema Dashboard"):
        FRAME.flowschema.validate(Address, dashboard="yes")


def test_duplicate_column_names_are_refused():
    frame = pd.DataFrame([[1, 2]], columns=["city", "city"])
    with pytest.raises(ValueError, match="column names must be unique.*'city'"):
        frame.flowschema.validate(Address)


def test_ray_executor_without_ray_says_how_to_install_it():
    code = textwrap.dedent('''
        import sys
        sys.modules["ray"] = None  # as if Ray were not installed
        import pandas as pd, flowschema
        from tests.models import Address
        try:
            pd.DataFrame({"city": ["a"], "zip": ["12345"]}).flowschema.validate(Address, "ray")
        except ImportError as exc:
            print(exc)
    ''')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "flowschema[ray]"' in result.stdout


def test_report_on_a_frame_that_was_not_validated():
    with pytest.raises(ValueError, match="not a validation result"):
        FRAME.flowschema.errors()


def test_run_rejects_records_that_are_not_dicts():
    entries = SyncFifoExecutor(Address).run([{"city": "a", "zip": "12345"}, ["a", "12345"]])
    assert next(entries)["status"] == "validated"
    with pytest.raises(TypeError, match="record 1 is a list"):
        next(entries)


class Empty(BaseModel):
    pass
