# The template's own commands; `make` or `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
# Where `make demo` generates the default service.
DEMO_DIR ?= .demo
DEMO_PORT ?= 5000
# Extra pytest arguments, e.g. PYTEST_ARGS="-k hooks -x".
PYTEST_ARGS ?=
# Extra benchmark arguments, e.g. BENCH_ARGS="--no-container --rounds 5" (see benchmarks/run.py --help).
BENCH_ARGS ?=

.PHONY: help dev-env demo test lint bench bench-frameworks bench-microbatch clean

help: ## List every target with a one-line description
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-17s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

dev-env: $(VENV)/.installed ## Create .venv with cookiecutter, pytest-cookies and the linters

demo: dev-env ## Generate the default service into .demo/, run it locally and show a real prediction
	rm -rf $(DEMO_DIR)
	$(VENV)/bin/cookiecutter --no-input --output-dir $(DEMO_DIR) . port=$(DEMO_PORT)
	$(MAKE) -C $(DEMO_DIR)/iris-classifier install-serve
	@cd $(DEMO_DIR)/iris-classifier && HOST=127.0.0.1 PORT=$(DEMO_PORT) LOG_FORMAT=text .venv/bin/python start.py & \
	  server=$$!; trap 'kill $$server 2>/dev/null; wait $$server' EXIT; \
	  $(MAKE) --no-print-directory -C $(DEMO_DIR)/iris-classifier smoke PORT=$(DEMO_PORT) && \
	  echo "Serving $(DEMO_DIR)/iris-classifier on http://localhost:$(DEMO_PORT) (see its README); Ctrl-C to stop." && \
	  wait $$server

test: dev-env ## Run the whole test suite (bakes, hooks, the default service, containers)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: dev-env ## Lint the template's own Python: tests, hooks, benchmarks (baked projects are linted by the tests)
	$(VENV)/bin/ruff check tests hooks benchmarks
	$(VENV)/bin/ruff format --check tests hooks benchmarks

bench: dev-env ## Benchmark the default service vs. a bare WSGI limit and a naive Flask server (benchmarks/, needs wrk)
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing wrk (apt-get install wrk)"; \
	    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; \
	  else \
	    echo "make bench needs wrk, the HTTP load generator: sudo apt-get install wrk (macOS: brew install wrk)" >&2; exit 1; \
	  fi; }
	$(VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

bench-frameworks: dev-env ## Benchmark every model_framework in one interleaved run, images included (benchmarks/frameworks.py, needs wrk)
	$(VENV)/bin/python benchmarks/frameworks.py $(BENCH_ARGS)

bench-microbatch: dev-env ## Benchmark micro-batching off vs on with a heavy MLP (benchmarks/microbatch.py, needs wrk)
	$(VENV)/bin/python benchmarks/microbatch.py $(BENCH_ARGS)

clean: ## Remove .venv, .demo, .bench and caches
	rm -rf $(VENV) $(DEMO_DIR) .bench .pytest_cache .ruff_cache
