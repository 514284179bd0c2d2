# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test test-shared fuzz mutate bench lab dashboard install-demo install-test install-notebook install-bench chromium clean

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
	  04_large_data.ipynb 05_from_data_to_model.ipynb 06_polars.ipynb

# The suite on a busy machine: two busy loops and a foreign `ray start` cluster run meanwhile.
test-shared: install-test chromium
	$(PY) tests/shared_machine.py

# The differential property test with many more examples, and the whole matrix (tests/test_matrix.py)
# on every executor. FLOWSCHEMA_FUZZ_SEED: the seed (a new one by default, printed first: set it to
# repeat a run); FLOWSCHEMA_FUZZ_SYNC, _MP, _RAY: examples per test on each executor (3000, 200, 50);
# FLOWSCHEMA_FUZZ_EXAMPLES, when set, is the count of every test.
fuzz: install-test
	@seed=$${FLOWSCHEMA_FUZZ_SEED:-$$(date +%s)}; echo "make fuzz: seed $$seed (FLOWSCHEMA_FUZZ_SEED=$$seed repeats it)"; \
	FLOWSCHEMA_FUZZ_SYNC=$${FLOWSCHEMA_FUZZ_SYNC:-3000} FLOWSCHEMA_FUZZ_MP=$${FLOWSCHEMA_FUZZ_MP:-200} \
	FLOWSCHEMA_FUZZ_RAY=$${FLOWSCHEMA_FUZZ_RAY:-50} FLOWSCHEMA_MATRIX_FULL=1 \
	$(PY) -m pytest -p no:cacheprovider --hypothesis-seed=$$seed tests/test_properties.py tests/test_matrix.py

# Mutation testing of the code that decides without pydantic (the screens and the dedup, see
# [tool.mutmut] in pyproject.toml) against the fast in-process killers, time-boxed to an hour;
# fails on a surviving mutant not recorded as equivalent in tests/test_screens.py.
mutate: install-test
	rm -rf mutants
	FLOWSCHEMA_EXECUTORS=sync timeout 3600 $(VENV)/bin/mutmut run --max-children 2 > mutants.log 2>&1 || \
	  { tail -c 2000 mutants.log; exit 1; }
	$(PY) -m tests.check_mutants

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
	$(PY) -m benchmarks.bench_executors
	$(PY) -m benchmarks.bench_polars
	$(PY) -m benchmarks.bench_multiprocessing
	$(PY) -m benchmarks.bench_ray
	$(PY) -m benchmarks.bench_ray_cluster
	$(PY) -m benchmarks.bench_dashboard
	$(PY) -m benchmarks.bench_file
	$(PY) -m benchmarks.bench_infer
	$(PY) -m benchmarks.bench_memory
	$(PY) -m benchmarks.bench_ray_data

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
