# Force of CNN: every target sets up its own virtual environment first.
#   make run    execute the whole course (full mode) and refresh results/ and the README table
#   make test   lint, unit tests and the notebooks in fast mode under nbval
#   make lab    open JupyterLab on notebooks/
#   make bench  measure training speed of every backend
#   make levers measure each speed lever the notebooks teach, lever off against on

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit notebooks lab bench levers readme clean

# Re-installs only when the requirements or the package description change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.course run

test: lint unit notebooks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest --cov=shared --cov=tools --cov-report=term-missing:skip-covered tests

notebooks: $(STAMP)
	FORCE_CNN_FAST=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		--sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

bench: $(STAMP)
	$(BIN)/python -m tools.bench

levers: $(STAMP)
	$(BIN)/python -m tools.levers

readme: $(STAMP)
	$(BIN)/python -m tools.course readme

clean:
	rm -rf build .pytest_cache .ruff_cache .coverage
