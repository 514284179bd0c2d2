# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test bench install-demo install-test chromium clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install-demo: $(PY)
	$(PIP) install --quiet -e ".[demo]"

install-test: $(PY)
	$(PIP) install --quiet -e ".[test]"

demo: install-demo
	$(PY) -m flowschema demo

# The browser tests drive Debian's chromium (playwright cannot download browsers here).
chromium:
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; }

test: install-test chromium
	$(PY) -m pytest

bench: install-test
	$(PY) -m benchmarks.bench_sync
	$(PY) -m benchmarks.bench_multiprocessing
	$(PY) -m benchmarks.bench_ray
	$(PY) -m benchmarks.bench_dashboard
	$(PY) -m benchmarks.bench_file

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
