VENV ?= .venv
# The daemon's port for `make run` and `make replay` (config.example.yaml says 8321).
PORT ?= 8321
PY := $(VENV)/bin/python
# One stamp per set of extras, so each target installs only what it uses and repeated runs are quick.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install provision run replay test lint bench dashboards clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The daemon on the example config, which keeps its history in SQLite.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $(RUN_STAMP)

# Tests, lint, benchmarks and dashboard generation; PostgreSQL's driver for the storage tests.
$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,postgres,dashboards]"
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

# PostgreSQL's server binaries and Prometheus for the tests (installed when run as root, else named).
provision:
	scripts/provision.sh

run: $(RUN_STAMP)
	$(VENV)/bin/driftwatch config validate -c config.example.yaml
	$(VENV)/bin/driftwatch run -c config.example.yaml --port $(PORT)

replay: $(RUN_STAMP)
	$(VENV)/bin/driftwatch replay -c config.example.yaml --url http://127.0.0.1:$(PORT)

# One worker per core, each test file on one worker (its daemons and clusters stay together): about 6 min on 2.
test: provision $(DEV_STAMP)
	$(VENV)/bin/pytest -q -n auto --dist loadfile

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

bench: $(DEV_STAMP)
	$(PY) benchmarks/bench_check.py
	$(PY) benchmarks/bench_ingest.py
	$(PY) benchmarks/bench_report.py

dashboards: $(DEV_STAMP)
	$(PY) -m driftwatch.dashboards

clean:
	rm -rf $(VENV) data .pytest_cache
