# dlclaims: `make all` runs every analysis and writes the report; `make test` runs the tests.
# Both create the virtual environment on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# One target per analysis: analyses/foo_bar.py (or the folder analyses/foo_bar/) -> `make foo-bar`.
ANALYSES := $(sort $(subst _,-,$(basename $(notdir $(wildcard analyses/[a-z]*.py))) \
                               $(notdir $(patsubst %/__init__.py,%,$(wildcard analyses/[a-z]*/__init__.py)))))
RUN_ARGS ?=

.PHONY: all setup browser analyses report check test test-slow bench clean help $(ANALYSES)

all: analyses report  ## run every analysis at default fidelity, then write results/README.md

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
	@echo "analyses: $(ANALYSES)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,dask]'
	touch $@

setup: $(STAMP)  ## create .venv and install dlclaims with its dev extras

$(ANALYSES): $(STAMP)
	$(BIN)/dlclaims run $@ $(RUN_ARGS)

analyses: $(STAMP)  ## run every analysis as one job (RUN_ARGS=--quick for a smoke pass into results-scratch/)
	$(BIN)/dlclaims run --all $(RUN_ARGS)

report: $(STAMP)  ## regenerate results/README.md and results/report.html from the tables
	$(BIN)/dlclaims report --html

check: $(STAMP)  ## regenerate every table and compare with the committed baseline
	$(BIN)/dlclaims check

# Debian's chromium for the HTML report's browser test; where it cannot be installed (not root,
# no apt, no network) the test is skipped and says so.
browser:  ## install Chromium for the HTML report's browser test, where this machine allows it
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { timeout 300 apt-get install -y -q chromium >/dev/null 2>&1 || \
	      { timeout 120 apt-get update -q >/dev/null 2>&1 && timeout 300 apt-get install -y -q chromium >/dev/null 2>&1; }; } && \
	    echo "installed chromium for the HTML report's browser test"; } || \
	  echo "no chromium on this machine: the HTML report's browser test will be skipped"

test: $(STAMP) browser  ## the default test suite (no slow tests, no benchmarks), on two processes
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-slow: $(STAMP)  ## the slow tests only
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)  ## speed targets, measured with pytest-benchmark
	$(BIN)/python -m pytest -q -s -m bench --benchmark-enable --benchmark-columns=min,mean,max,rounds

clean:  ## remove the venv and caches (results/ is kept: it is the committed baseline)
	rm -rf $(VENV) build lib/*.egg-info .pytest_cache .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
