# recpipe — every common action. `make demo` and `make test` install what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.recpipe-setup
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export PYTHONUNBUFFERED := 1

DEMO_DIR ?= demo
DEMO_USERS ?= 3000
DEMO_ITEMS ?= 2000
DEMO_DAYS ?= 15
DEMO_START ?= 2026-11-01
# The week the weekly DAG trains for, and the night after it (candidates from the new champion, and the
# first ranker samples, labelled by that day's events on the candidates published the night before).
DEMO_END ?= 2026-11-14
DEMO_NEXT ?= 2026-11-15
DEMO_DEFECT_RATE ?= 0.02

.PHONY: setup demo tune test test-fast bench lint clean clean-demo airflow-db

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v java >/dev/null || { echo "Java 17 is required (java not found on PATH)"; exit 1; }
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: recpipe needs Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/recpipe fetch-jars
	$(MAKE) --no-print-directory airflow-db
	touch $(STAMP)

airflow-db:
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || { cat $(AIRFLOW_HOME)/db-migrate.log; exit 1; }

demo: setup clean-demo
	@echo "== simulate $(DEMO_DAYS) days, $(DEMO_USERS) users, defect rate $(DEMO_DEFECT_RATE)"
	$(BIN)/recpipe simulate --users $(DEMO_USERS) --items $(DEMO_ITEMS) --days $(DEMO_DAYS) \
	    --start $(DEMO_START) --defect-rate $(DEMO_DEFECT_RATE) --out $(DEMO_DIR)/landing
	@echo "== recpipe_nightly through Airflow, $(DEMO_START) .. $(DEMO_END)"
	@set -o pipefail; $(BIN)/recpipe airflow-test recpipe_nightly --ds $(DEMO_START) --end $(DEMO_END) \
	    --lake $(DEMO_DIR)/lake --landing $(DEMO_DIR)/landing --reports $(DEMO_DIR)/reports 2>&1 | tee $(DEMO_DIR).log \
	    | grep --line-buffered -E '^\[[0-9]+/[0-9]+\]|recpipe.pipeline|Traceback|Error' \
	    || { echo "recpipe_nightly failed; last lines of $(DEMO_DIR).log:"; tail -40 $(DEMO_DIR).log; exit 1; }
	@echo "== recpipe_weekly through Airflow, week ending $(DEMO_END)"
	@set -o pipefail; $(BIN)/recpipe airflow-test recpipe_weekly --ds $(DEMO_END) \
	    --lake $(DEMO_DIR)/lake --landing $(DEMO_DIR)/landing --reports $(DEMO_DIR)/reports 2>&1 | tee -a $(DEMO_DIR).log \
	    | grep --line-buffered -E '^\[[0-9]+/[0-9]+\]|recpipe.pipeline|Traceback|Error' \
	    || { echo "recpipe_weekly failed; last lines of $(DEMO_DIR).log:"; tail -40 $(DEMO_DIR).log; exit 1; }
	@echo "== recpipe_nightly through Airflow, $(DEMO_NEXT): the first night with a champion"
	@set -o pipefail; $(BIN)/recpipe airflow-test recpipe_nightly --ds $(DEMO_NEXT) \
	    --lake $(DEMO_DIR)/lake --landing $(DEMO_DIR)/landing --reports $(DEMO_DIR)/reports 2>&1 | tee -a $(DEMO_DIR).log \
	    | grep --line-buffered -E '^\[[0-9]+/[0-9]+\]|recpipe.pipeline|Traceback|Error' \
	    || { echo "recpipe_nightly failed; last lines of $(DEMO_DIR).log:"; tail -40 $(DEMO_DIR).log; exit 1; }
	@echo "== summary"
	$(BIN)/recpipe summary --lake $(DEMO_DIR)/lake
	@echo "== user model vs the simulator's ground truth"
	$(BIN)/recpipe truth-check --model --ds $(DEMO_END) --lake $(DEMO_DIR)/lake --landing $(DEMO_DIR)/landing
	@echo "== run reports (open in a browser): $(DEMO_DIR)/reports/index.html"
	@echo "== Great Expectations Data Docs: $(DEMO_DIR)/reports/gx/uncommitted/data_docs/local_site/index.html"

tune: setup
	$(BIN)/recpipe tune --ds $(DEMO_END) --lake $(DEMO_DIR)/lake --landing $(DEMO_DIR)/landing

clean-demo:
	rm -rf $(DEMO_DIR) $(DEMO_DIR).log

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python -m bench.run_bench
	$(BIN)/python -m bench.bench_nightly
	$(BIN)/python -m bench.bench_als
	$(BIN)/python -m bench.bench_candidates

clean: clean-demo
	rm -rf lake landing reports bench_out .pytest_cache spark-warehouse
