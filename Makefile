# The two commands: `make run` (set up and start everything) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test setup vendor chromium bench clean

run: setup ## set up, migrate, seed demo data and start web, worker and scheduler
	$(PY) -m hospital.devtools.dev

test: setup chromium ## set up and run the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed node_modules/.installed vendor

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

vendor: node_modules/.installed
	$(PY) scripts/vendor.py

chromium: ## Debian's Chromium for the browser tests (Playwright's download does not work offline)
	bash scripts/ensure-chromium.sh

bench: setup ## run the benchmarks and record figures in docs/PERFORMANCE.md
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules hospital/static/vendor
