# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
RUN_STAMP := $(VENV)/.run-stamp

.PHONY: run test test-tools lint bench services clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Running needs only the runtime dependencies; the tests' (browser driver, moto...) are larger.
$(RUN_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(RUN_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/steeple serve

test-tools:
	sh scripts/ensure-test-tools.sh

test: $(STAMP) test-tools
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/fanout.py --sockets 1000,5000
	$(PY) bench/joins.py --viewers 1000,5000

services:
	sh scripts/ensure-services.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
