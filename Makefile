# Two commands set everything up on a fresh machine:
#   make demo   creates .venv, installs cfp-engine and computes an example product
#   make test   creates the same .venv with the test tools and runs the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/cfp data status
	$(BIN)/cfp calc examples/pet-bottle.yaml
	$(BIN)/cfp calc examples/pet-bottle.yaml --variant rpet-100

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/calc_startup.py
	$(BIN)/python benchmarks/sweep_speed.py

clean:
	rm -rf $(VENV) build dist
