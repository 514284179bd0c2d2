"""The original streaming interface: executor.run(records), lazy, FIFO, one entry per record."""

from __future__ import annotations

import itertools
import uuid

import pytest

from flowschema.executor import executor_class
from tests.models import PEOPLE_ROWS, Person
from tests.oracle import expected_errors, reference_value


@pytest.fixture
def make_executor(executor):
    return executor_class(executor)


def test_run_yields_one_entry_per_record_in_order(make_executor):
    with make_executor(Person) as runner:
        entries = list(runner.run(iter(PEOPLE_ROWS)))
    assert [entry["position"] for entry in entries] == list(range(len(PEOPLE_ROWS)))
    for entry, record in zip(entries, PEOPLE_ROWS):
        assert set(entry) == {"id", "position", "status", "raw_data", "validated_data", "errors", "metadata"}
        assert uuid.UUID(entry["id"]).version == 4
        assert entry["raw_data"] is record and entry["metadata"] == {}
        row = {key: reference_value(value) for key, value in record.items()}
        expected = expected_errors(Person, row)
        assert [(error["loc"], error["type"], error["msg"]) for error in entry["errors"]] == expected
        if expected:
            assert entry["status"] == "failed" and entry["validated_data"] is None
        else:
            assert entry["status"] == "validated"
            assert entry["validated_data"] == Person.model_validate(row).model_dump()
    assert len({entry["id"] for entry in entries}) == len(entries)


def test_run_is_lazy_on_an_endless_stream(make_executor):
    consumed = []

    def endless():
        for number in itertools.count():
            consumed.append(number)
            yield {"name": "ann", "age": number % 200, "role": "user"}

    with make_executor(Person) as runner:
        first = list(itertools.islice(runner.run(endless()), 5))
        ahead = (runner.max_inflight + 1) * runner.run_chunksize
    assert [entry["status"] for entry in first] == ["validated"] * 5
    assert len(consumed) <= len(first) + ahead  # read only a bounded way ahead of what was consumed


def test_run_on_nothing_yields_nothing(make_executor):
    with make_executor(Person) as runner:
        assert list(runner.run([])) == []
