# Force of CNN: every target sets up its own virtual environment first.
#   make run    execute the whole course (full mode); replace the course's record and README tables
#   make test   lint, the tests (all but the slow ones) and the notebooks in fast mode under nbval
#   make unit   the unit tests only: no kernel, no browser, nothing slow
#   make slow-test  the slow tests: several processes, a second environment, the runner
#   make lab    open JupyterLab on notebooks/
#   make bench  measure training speed of every backend
#   make levers measure each speed lever the notebooks teach, lever off against on
#   make ablation  the post's recipe against the course's, one change at a time (ten runs)
#   make profile  where a training step's time goes, by each framework's own profiler
#   make seed-run  notebook 03 in full mode with seed 1: the run-to-run noise notebook 07 asks about
#   make bf16-run  notebook 03 in full mode with bfloat16 autocast (skipped where it is emulated)
#   make measure  all of the above on one machine in one go: bench, levers, profile, ablation,
#                 seed-run, bf16-run, run
#   make colab-check  every notebook alone, as Colab runs it, in a replica of Colab's runtime
#   make site   the course as a website in build/site, from the committed notebooks
#   make site-test  that website in headless Chromium: every page, link, image and button

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit pytest notebooks lab bench levers profile ablation seed-run bf16-run measure readme clean \
	colab-check site site-test slow-test

# Re-installs only when the requirements or the package description change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.course run

test: lint pytest notebooks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each test run has a time limit (coreutils' timeout), so that a hang fails instead of stalling.
# The unit tests proper: no kernel, no browser, nothing slow (a minute or so).
unit: $(STAMP)
	MPLBACKEND=Agg timeout 600 $(BIN)/python -m pytest -m "not slow and not kernel and not browser" \
		-p no:cacheprovider tests

# Every test but the slow ones: the unit tests, and those that start Jupyter kernels or a browser
# (every exercise's solution run through its check, among them), with coverage.
pytest: $(STAMP)
	MPLBACKEND=Agg timeout 900 $(BIN)/python -m pytest -m "not slow" -p no:cacheprovider \
		--cov=shared --cov=tools --cov-report=term-missing:skip-covered tests

notebooks: $(STAMP)
	FORCE_CNN_FAST=1 timeout 1500 $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=600 --sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks

# The tests marked slow: several processes (notebook 09's engines), a second environment, the
# runner, the bench and notebooks 01-02 on other Keras backends. Not part of `make test`.
slow-test: $(STAMP)
	MPLBACKEND=Agg timeout 2700 $(BIN)/python -m pytest -m slow -p no:cacheprovider tests

# Jupyter refuses to start as root (as in many containers) unless it is told it may.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

# A shell's MPLBACKEND (Agg on many servers) would reach every kernel and hide every figure:
# it is unset for JupyterLab, whose kernels then draw inline. LAB_ARGS passes more options.
lab: $(STAMP)
	$(if $(LAB_FLAGS),@echo "Running as root: starting JupyterLab with --allow-root.")
	$(if $(MPLBACKEND),@echo "MPLBACKEND=$(MPLBACKEND) is unset for JupyterLab: figures show inline.")
	env -u MPLBACKEND $(BIN)/jupyter lab $(strip $(LAB_FLAGS) $(LAB_ARGS)) notebooks

bench: $(STAMP)
	$(BIN)/python -m tools.bench

levers: $(STAMP)
	$(BIN)/python -m tools.levers

ablation: $(STAMP)
	$(BIN)/python -m tools.ablation

profile: $(STAMP)
	$(BIN)/python -m tools.profile

seed-run: $(STAMP)
	$(BIN)/python -m tools.course rerun 03 1 shared/course-results/seed-1

bf16-run: $(STAMP)
	$(BIN)/python -m tools.course rerun 03 42 shared/course-results/bf16 --bf16

# Everything the course measures, on one machine, in the order notebook 07 reads it: the files it
# shows first, then every notebook in full mode (which replaces the record and the README tables).
measure: bench levers profile ablation seed-run bf16-run run

readme: $(STAMP)
	$(BIN)/python -m tools.course readme

# Colab's runtime, replicated: Python 3.13 and the versions in tests/colab/runtime.txt. The
# venv is rebuilt only when that file changes; downloaded wheels are kept in COLAB_WHEELS and
# reused (pip's own cache does not keep them on every machine).
COLAB_VENV   := .venv-colab
COLAB_STAMP  := $(COLAB_VENV)/.installed
COLAB_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13))
COLAB_WHEELS ?= $(HOME)/.cache/force-of-cnn/colab-wheels

$(COLAB_STAMP): tests/colab/runtime.txt tests/colab/colab-constraints.txt
	@test -n "$(COLAB_PYTHON)" || { echo "No Python 3.13 found: set COLAB_PYTHON=/path/to/python3.13."; exit 1; }
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip download --quiet --dest $(COLAB_WHEELS) -r tests/colab/runtime.txt
	$(COLAB_VENV)/bin/python -m pip install --quiet --no-index --find-links $(COLAB_WHEELS) \
		-r tests/colab/runtime.txt
	echo "Colab's runtime, replicated from tests/colab/runtime.txt" > $(COLAB_VENV)/colab-replica
	touch $(COLAB_STAMP)

colab-check: $(COLAB_STAMP)
	$(COLAB_VENV)/bin/python -m tools.colab_check

# The website's packages (requirements-site.txt) go into the same venv, through their own stamp;
# requirements.txt is passed as constraints so that they never change the course's pins.
SITE_STAMP := $(VENV)/.site-installed

$(SITE_STAMP): $(STAMP) requirements-site.txt
	$(BIN)/python -m pip install --quiet -r requirements-site.txt -c requirements.txt
	touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(BIN)/python -m tools.site

# Fails, rather than skips, when Chromium is missing (Debian: apt-get install chromium).
site-test: site
	FORCE_CNN_SITE_DIR=build/site FORCE_CNN_SITE_REQUIRED=1 \
		$(BIN)/python -m pytest -p no:cacheprovider tests/test_site.py

clean:
	rm -rf build .pytest_cache .ruff_cache .coverage
