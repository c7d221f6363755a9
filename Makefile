# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo
OUT    ?= out
# pytest workers: both cores by default
PYTEST_WORKERS ?= 2

.PHONY: help venv demo test lint typecheck pytest bench docs sample-data clean

help:
	@echo "make demo    - set up .venv, run the cooperative assessment on sample_data/, write $(OUT)/"
	@echo "make test    - set up .venv, run ruff, mypy and pytest (unit tests, doctests, notebooks)"
	@echo "make bench   - run the benchmarks (prints ratios against the usual tools)"
	@echo "make docs    - build the documentation into site/"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev,docs]"
	touch $@ $(DEMO_STAMP)

venv: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/agroforest-geo assess sample_data/parcels.gpkg \
		--cover sample_data/treecover2000.tif \
		--loss sample_data/lossyear.tif \
		--protected sample_data/protected_areas.gpkg \
		--plots sample_data/plots.gpkg \
		--trees sample_data/tree_inventory.gpkg \
		--output-dir $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy src/agroforest_geo

pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

sample-data: $(STAMP)
	$(PY) scripts/make_sample_data.py

clean:
	rm -rf $(OUT) site .pytest_cache .mypy_cache .ruff_cache
