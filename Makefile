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

# `make bench`: every benchmark at full size, RUNS times each (3: a figure is a median
# and its spread; about 45 minutes on a quiet 2-core machine), then the medians;
# `make bench QUICK=1`: one short pass (smaller N, shorter phases, a 1,000-viewer spike).
# The cluster benchmark needs PostgreSQL and Redis (`make services`).
ifdef QUICK
RUNS ?= 1
FANOUT_ARGS ?= --sockets 1000 --paced-seconds 5
JOINS_ARGS ?= --viewers 1000
SPIKE_ARGS ?= --viewers 1000 --seconds 20
POST_COST_ARGS ?= --posts 300
CROWD_ARGS ?= --sockets 5000 --singles 5 --burst 200
CLUSTER_ARGS ?= --nodes 1,2 --sockets 1000 --messages 100
else
RUNS ?= 3
FANOUT_ARGS ?= --sockets 1000,5000
JOINS_ARGS ?= --viewers 1000,5000
SPIKE_ARGS ?= --viewers 5000 --seconds 60
POST_COST_ARGS ?= --posts 1000
CROWD_ARGS ?= --sockets 20000
CLUSTER_ARGS ?= --nodes 1,2,3
endif
BENCH_STAMP := bench/results/.since-$(shell date +%s)

bench: $(STAMP)
	mkdir -p bench/results && touch $(BENCH_STAMP)
	for run in $$(seq $(RUNS)); do \
	  $(PY) bench/fanout.py $(FANOUT_ARGS) && \
	  $(PY) bench/joins.py $(JOINS_ARGS) && \
	  $(PY) bench/spike.py $(SPIKE_ARGS) && \
	  $(PY) bench/crowd.py $(CROWD_ARGS) && \
	  $(PY) bench/cluster.py $(CLUSTER_ARGS) || exit 1; \
	done
	$(PY) bench/post_cost.py $(POST_COST_ARGS) --runs $(RUNS)
	$(PY) bench/medians.py $$(find bench/results -name '*.json' -newer $(BENCH_STAMP) \
	  \( -name 'fanout-*' -o -name 'spike-*' -o -name 'crowd-*' -o -name 'cluster-*' \))

services:
	sh scripts/ensure-services.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
