VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run replay test lint bench dashboards clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the project definition changes, so repeated runs are quick.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/driftwatch config validate -c config.example.yaml
	$(VENV)/bin/driftwatch run -c config.example.yaml

replay: $(STAMP)
	$(VENV)/bin/driftwatch replay -c config.example.yaml

test: $(STAMP)
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/bench_check.py
	$(PY) benchmarks/bench_ingest.py

dashboards: $(STAMP)
	$(PY) -m driftwatch.dashboards

clean:
	rm -rf $(VENV) data .pytest_cache
