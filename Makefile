# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test bench install-demo install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install-demo: $(PY)
	$(PIP) install --quiet -e ".[demo]"

install-test: $(PY)
	$(PIP) install --quiet -e ".[test]"

demo: install-demo
	$(PY) -m flowschema demo

test: install-test
	$(PY) -m pytest

bench: install-test
	$(PY) -m benchmarks.bench_sync
	$(PY) -m benchmarks.bench_multiprocessing
	$(PY) -m benchmarks.bench_ray

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
