# Two commands set everything up on a fresh machine:
#   make demo   creates .venv, installs cfp-engine and computes an example product
#   make test   creates the same .venv with the test tools and runs the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench clean demo-label

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

# The readable label of the PET bottle (HTML and Markdown, English and Japanese), and a
# screenshot of the Japanese one when the Debian package chromium is installed.
LABEL_FACTS := --company-name "Example Beverages K.K." --company-id urn:example:company:1 \
	--product-id urn:example:product:pet-bottle-500ml --reference-period 2025-01-01:2025-12-31
demo-label: $(STAMP)
	mkdir -p out
	for lang in en ja; do \
	  for fmt in html md; do \
	    $(BIN)/cfp label examples/pet-bottle.yaml --format $$fmt --lang $$lang $(LABEL_FACTS) \
	      -o out/pet-bottle-label.$$lang.$$fmt || exit 1; \
	  done; \
	done
	if command -v chromium >/dev/null 2>&1; then \
	  profile=$$(mktemp -d) && \
	  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	    --disable-component-update --disable-sync --no-first-run --user-data-dir=$$profile \
	    --screenshot=$(CURDIR)/out/pet-bottle-label.ja.png --window-size=900,1400 \
	    file://$(CURDIR)/out/pet-bottle-label.ja.html 2>/dev/null; \
	  status=$$?; rm -rf $$profile; exit $$status; \
	else \
	  echo "chromium not installed: no screenshot (apt-get install chromium fonts-noto-cjk)"; \
	fi
