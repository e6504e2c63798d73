# make test : set up everything on a fresh machine (system packages, virtualenv, platform) and run every test
# make demo : bring the platform up and show kubricks working on it
# make mutation : how many deliberate faults in the pure builders the unit tests catch (slow; not in make test)
# make bench : the operator under load beside its references (spark-submit, a bare API client), printed
# make bench-api : what each request of a job costs the API server and etcd, kubricks' requests beside a bare client's
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
TESTENV := hack/testenv
# Every test target runs inside the platform's environment (KUBECONFIG, DOCKER_HOST, registry, PATH).
WITH_PLATFORM := eval "$$($(TESTENV) env)" &&
PYTEST_ARGS ?=
# Every shell script of the project: hack/'s entry points and libraries, and the images' scripts.
SHELL_SCRIPTS := $(shell git ls-files hack images | xargs grep -lE '^\#!/usr/bin/env bash|^\#!/bin/(ba)?sh|shellcheck shell=')

.PHONY: help crds deps venv platform platform-down test test-unit test-integration test-e2e lint mutation demo bench bench-api clean

help:
	@sed -n 's/^# make /make /p' Makefile

deps:
	hack/install-deps

$(VENV_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV_STAMP)

platform: deps
	$(TESTENV) up

platform-down:
	$(TESTENV) down

test: deps venv lint platform
	$(WITH_PLATFORM) $(VENV)/bin/pytest $(PYTEST_ARGS) tests

test-unit: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests/unit

test-integration test-e2e: test-%: deps venv platform
	$(WITH_PLATFORM) $(VENV)/bin/pytest $(PYTEST_ARGS) tests/$*

crds: venv
	hack/generate-crds

lint: venv
	$(VENV)/bin/ruff check operator tests bench
	$(VENV)/bin/ruff format --check operator tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/shellcheck $(SHELL_SCRIPTS)

MUTATION_DIR := build/mutation

mutation: venv
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	cp -r operator $(MUTATION_DIR)/src
	cp -r tests examples images crds charts hack $(MUTATION_DIR)/
	cp hack/mutation/pyproject.toml $(MUTATION_DIR)/
	cd $(MUTATION_DIR) && $(CURDIR)/$(VENV)/bin/mutmut run --max-children "$$(nproc)" >/dev/null
	cd $(MUTATION_DIR) && $(CURDIR)/$(VENV)/bin/mutmut export-cicd-stats >/dev/null
	$(VENV)/bin/python hack/mutation-score $(MUTATION_DIR)/mutants/mutmut-cicd-stats.json
	cd $(MUTATION_DIR) && $(CURDIR)/$(VENV)/bin/mutmut results

demo: deps venv platform
	$(WITH_PLATFORM) hack/demo

# The operator under load beside its references (bench/operator_load.py); BENCH_ARGS=--help says what to vary.
bench: deps venv platform
	$(WITH_PLATFORM) $(VENV)/bin/python -m bench.operator_load $(BENCH_ARGS)

# What each request of a job costs the API server and etcd (bench/api_costs.py): why the storm's ratio is what it is.
bench-api: deps venv platform
	$(WITH_PLATFORM) $(VENV)/bin/python -m bench.api_costs $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build
