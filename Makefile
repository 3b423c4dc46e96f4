# The only commands a newcomer needs: `make demo` and `make test`.
# Both create .venv with python3 and install what they need; nothing else is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO   := manifests/examples/daily-etl.yaml
PYTEST_ARGS ?=

.PHONY: demo test lint bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/psr-engine validate $(DEMO)
	$(BIN)/psr-engine plan $(DEMO)
	$(BIN)/psr-engine apply $(DEMO)
	$(BIN)/psr-engine status last --state-dir $(dir $(DEMO)).psr

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/ruff check engine tests benchmarks
	$(BIN)/ruff format --check engine tests benchmarks

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/plan_bench.py --quick
	$(BIN)/python benchmarks/exec_bench.py --quick --history
	$(BIN)/python benchmarks/spawn_bench.py
	$(BIN)/python benchmarks/secrets_bench.py

clean:
	rm -rf $(VENV) .pytest_cache build dist
