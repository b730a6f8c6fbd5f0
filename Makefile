# drtiers: every target sets itself up first (idempotent; a no-op when nothing changed).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The pinned CDK CLI and Node.js 22 from node_modules come first, for the CLI and for jsii.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
TIER ?=
TIER_CONTEXT := $(if $(TIER),--context tier=$(TIER))
# Region pairs cfn-lint checks every tier in.
LINT_PAIRS := us-east-1:us-west-2 eu-west-1:eu-central-1
LINT_OUT := cdk.out.lint

.PHONY: help setup system-deps synth test lint check report typecheck pytest bench mutate fuzz clean

help:
	@echo "make synth [TIER=warm-standby]  synthesize one tier (or all four) into cdk.out/"
	@echo "make test                       cfn-lint, ruff, mypy and pytest"
	@echo "make lint                       cfn-lint over every tier in $(LINT_PAIRS)"
	@echo "make check                      cfn-lint, cdk-nag, Guard and drtiers-dr: one table"
	@echo "make report [TIER=pilot-light]  write the review reports into reports/"
	@echo "make bench [ARGS=--test]        time synth, check, report and simulate (first, again)"
	@echo "make mutate [ARGS=--min-rate 90] plant single defects; print the checks' kill rate"
	@echo "make fuzz [ARGS=--examples 300]  hand-written, then generated workloads through every gate (slow)"
	@echo "make setup                      .venv and node_modules from the pinned versions"

# drtiers' own bytecode, written whatever PYTHONDONTWRITEBYTECODE says (up to date: ~0.04 s):
# with it set, as on this project's machine, each of make test's ~35 Python processes that
# import drtiers compiled it again (~0.14 s of a core each).
setup: $(VENV)/.installed node_modules/.installed
	@$(PY) -m compileall -q drtiers

# Graphviz and Chromium, for the targets that draw the reports or open them (synth and check
# need neither: a machine without them, or without root, still synthesizes).
system-deps:
	@scripts/system-deps.sh

# uv installs the same pinned set as pip would, ~25 s where pip takes ~80 (decision 40)
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "drtiers needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
	$(PY) -m uv pip install --quiet --compile-bytecode --python $(PY) -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	cdk synth $(TIER_CONTEXT)

lint: setup
	rm -rf $(LINT_OUT)
	for pair in $(LINT_PAIRS); do \
	  cdk synth --quiet $(TIER_CONTEXT) --output $(LINT_OUT)/$${pair/:/_} \
	    --context primary_region=$${pair%%:*} --context recovery_region=$${pair##*:}; \
	done
	@# each template in its stack's region (drtiers.checks.gates.cfn_lint), not all in us-east-1
	$(PY) -c 'import sys; from pathlib import Path; from drtiers.checks import usable_cores; \
	  from drtiers.checks.gates import cfn_lint; \
	  found = [f for d in sys.argv[1:] for f in cfn_lint(Path(d), usable_cores())]; \
	  sys.stdout.write("".join(f + "\n" for f in found)); sys.exit(1 if found else 0)' $(LINT_OUT)/*
	@echo "cfn-lint: no findings in $$(ls $(LINT_OUT)/*/*.template.json | wc -l) templates"

check: setup
	$(PY) -m drtiers.checks.gates $(ARGS)

report: setup system-deps
	$(VENV)/bin/drtiers report $(if $(TIER),--tier $(TIER))

typecheck: setup
	ruff check drtiers tests app.py scripts
	ruff format --check drtiers tests app.py scripts
	mypy

# A worker per core; a file on one worker (its fixtures built once), the files in the order
# tests/conftest.py gives them (xdist would otherwise hand out those with most tests first).
pytest: setup system-deps
	pytest -n auto --dist loadfile --no-loadscope-reorder

# typecheck and pytest's workers side by side (mypy alone takes ~15 s of one core on a fresh
# clone: run one after the other, a core would wait); check last, reading what pytest's own run
# of it kept (decisions 38 and 40). pytest lints the other region pair and checks it with the
# DR rules (tests/test_recovery.py) from the synthesis its recovery test makes, instead of
# `make lint` synthesizing it again (decision 42).
test: setup system-deps
	$(MAKE) --no-print-directory -j2 --output-sync=target typecheck pytest
	$(MAKE) --no-print-directory check

bench: setup system-deps
	$(PY) scripts/bench.py $(ARGS)

mutate: setup
	$(PY) scripts/mutate.py $(ARGS)

fuzz: setup
	$(PY) scripts/fuzz.py $(ARGS)

clean:
	rm -rf cdk.out $(LINT_OUT) reports fuzz-out .pytest_cache .mypy_cache .ruff_cache
