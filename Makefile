# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SOURCES := pyproject.toml $(shell find wallrenderer controller shaders layouts -type f -not -path '*/__pycache__/*' 2>/dev/null)
DEMO_OUT ?= wall-output
# Sources for the demo instead of the simulator: make demo DEMO_SOURCES='simulator?backfill=10800 bluesky?brands=acme'
DEMO_SOURCES ?=

.PHONY: demo test bench lint clean

# With a display: one window per panel, until Ctrl-C. Without: headless PNGs after a few seconds.
demo: $(VENV)/.installed
	@PYTHON=$(PYTHON) scripts/system-packages.sh demo
	$(BIN)/wallrenderer demo --out-dir $(DEMO_OUT) $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--headless --seconds 4) \
		$(foreach spec,$(DEMO_SOURCES),--source '$(spec)')

test: $(VENV)/.installed-test
	@PYTHON=$(PYTHON) scripts/system-packages.sh test
	$(BIN)/ruff check .
	$(BIN)/pytest

# The test extra brings OpenCV (the calibrate extra) for benchmarks/calibrate.py and
# Playwright for benchmarks/tablet.py, which drives Debian's chromium.
bench: $(VENV)/.installed-test
	@PYTHON=$(PYTHON) scripts/system-packages.sh test
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/switch.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/calibrate.py
	$(BIN)/python benchmarks/tablet.py
	$(BIN)/python benchmarks/bluesky.py
	$(BIN)/python benchmarks/tour.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# System packages first: on a fresh Debian even `python3 -m venv` needs one.
$(VENV)/bin/python:
	@PYTHON=$(PYTHON) scripts/system-packages.sh demo
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# A real (non-editable) install, so the tests prove shaders and layouts ship in the wheel.
$(VENV)/.installed: $(VENV)/bin/python $(SOURCES)
	$(BIN)/pip install -q .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) $(DEMO_OUT) build dist .pytest_cache
