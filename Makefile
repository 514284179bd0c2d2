# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test test-shared fuzz bench lab dashboard install-demo install-test install-notebook install-bench chromium clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install-demo: $(PY)
	$(PIP) install --quiet -e ".[demo]"

install-test: $(PY)
	$(PIP) install --quiet -e ".[test]"

install-bench: $(PY)
	$(PIP) install --quiet -e ".[test,bench]"

install-notebook: $(PY)
	$(PIP) install --quiet -e ".[demo,notebook]"

demo: install-demo
	$(PY) -m flowschema demo

# The browser tests drive Debian's chromium (playwright cannot download browsers here).
chromium:
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; }

# The test suite, then the notebooks through nbval (cells marked NBVAL_CHECK_OUTPUT must print
# what they printed when committed).
test: install-test chromium
	$(PY) -m pytest
	cd notebooks && ../$(PY) -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
	  --nbval-sanitize-with nbval_sanitize.cfg 01_quickstart.ipynb 02_executors.ipynb 03_exploring_errors.ipynb \
	  04_large_data.ipynb 05_from_data_to_model.ipynb

# The suite on a busy machine: two busy loops and a foreign `ray start` cluster run meanwhile.
test-shared: install-test chromium
	$(PY) tests/shared_machine.py

# The differential property test with many more examples (FLOWSCHEMA_FUZZ_EXAMPLES per test).
fuzz: install-test
	FLOWSCHEMA_FUZZ_EXAMPLES=$${FLOWSCHEMA_FUZZ_EXAMPLES:-3000} $(PY) -m pytest -p no:cacheprovider tests/test_properties.py

# JupyterLab on the notebooks, and the dashboard app served by Voila (both on localhost).
lab: install-notebook
	$(PY) -m jupyterlab --notebook-dir=notebooks --ip=127.0.0.1

dashboard: install-notebook
	cd notebooks && ../$(PY) -m voila app.ipynb --Voila.ip=127.0.0.1

# Every benchmark, each printing its ratios against the baselines it names (FLOWSCHEMA_BENCH_GB=0.5
# runs the file benchmarks on 0.5 GB instead of 2 GB).
bench: install-bench
	$(PY) -m benchmarks.bench_columnar
	$(PY) -m benchmarks.bench_sync
	$(PY) -m benchmarks.bench_multiprocessing
	$(PY) -m benchmarks.bench_ray
	$(PY) -m benchmarks.bench_dashboard
	$(PY) -m benchmarks.bench_file
	$(PY) -m benchmarks.bench_infer
	$(PY) -m benchmarks.bench_memory
	$(PY) -m benchmarks.bench_ray_data

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
