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

# `make bench`: every benchmark at full size (about 10 minutes on a quiet 2-core machine);
# `make bench QUICK=1`: a short pass (smaller N, shorter phases, a 1,000-viewer spike).
ifdef QUICK
FANOUT_ARGS ?= --sockets 1000 --paced-seconds 5
JOINS_ARGS ?= --viewers 1000
SPIKE_ARGS ?= --viewers 1000 --seconds 20
POST_COST_ARGS ?= --posts 300
else
FANOUT_ARGS ?= --sockets 1000,5000
JOINS_ARGS ?= --viewers 1000,5000
SPIKE_ARGS ?= --viewers 5000 --seconds 60
POST_COST_ARGS ?= --posts 1000
endif

bench: $(STAMP)
	$(PY) bench/fanout.py $(FANOUT_ARGS)
	$(PY) bench/joins.py $(JOINS_ARGS)
	$(PY) bench/spike.py $(SPIKE_ARGS)
	$(PY) bench/post_cost.py $(POST_COST_ARGS)

services:
	sh scripts/ensure-services.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
