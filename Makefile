# Two commands do everything:  `make run-all` (regenerate FinalResults/) and `make test`.
# Both create the virtual environment .venv from requirements.txt when it is missing.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
SHARED  ?= ../shared/assets
# auto: the offline assets when $(SHARED) is there, else the online weights and data
PROFILE ?= auto
ifeq ($(PROFILE),auto)
  override PROFILE := $(if $(wildcard $(SHARED)/keras_home),offline,online)
endif
NOTEBOOKS   := $(sort $(wildcard notebooks/[0-9]*.ipynb))
EXECUTED    := FinalResults/notebooks
NBVAL_FLAGS := --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 3600
# what the notebooks read (they find ../shared/assets themselves; this honours SHARED=...)
export XAI_ASSETS := $(abspath $(SHARED))
export TF_CPP_MIN_LOG_LEVEL := 3
# notebooks skip their interactive (ipywidgets) cells in headless runs
export XAI_HEADLESS := 1

.DEFAULT_GOAL := help
.PHONY: help env test browser run-all check-results bench demo screenshot clean distclean

help:  ## list the targets
	@echo "make run-all        run every notebook (papermill), regenerate FinalResults/ and the"
	@echo "                    executed notebooks in $(EXECUTED)/ (PROFILE=auto|offline|online; now: $(PROFILE));"
	@echo "                    NOTEBOOKS=\"notebooks/03_mnist1d.ipynb ...\" runs only those"
	@echo "make test           ruff, pytest, then nbval re-executes $(EXECUTED)/ and compares the checked numbers"
	@echo "make check-results  run-all, then fail if anything under FinalResults/ changed (determinism)"
	@echo "make bench          timings against tf-keras-vis and xplique (own venv), the evaluation"
	@echo "                    engine's photos/s against its floor (bench/results.md), and the"
	@echo "                    README's performance section (tools/readme_tables.py)"
	@echo "make demo           the browser demo on http://127.0.0.1:8000/ (PORT=...); make screenshot"
	@echo "                    refreshes FinalResults/demo/demo.png from the browser test"
	@echo "make env            only create .venv"
	@echo "make clean          remove caches; make distclean also removes the virtual environments"

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $@

env: $(BIN)/.installed

test: env browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests -q -p no:cacheprovider
	@if [ -d "$(XAI_ASSETS)" ]; then \
	  out=$$(mktemp -d); cp -r FinalResults/. "$$out"/; \
	  echo "nbval: re-executing $(EXECUTED)/*.ipynb on a copy of FinalResults/ ($$out)"; \
	  XAI_OUTPUT_DIR=$$out TQDM_DISABLE=1 $(BIN)/python -m pytest $(NBVAL_FLAGS) -q \
	    -p no:cacheprovider $(EXECUTED); status=$$?; rm -rf "$$out"; exit $$status; \
	else echo "nbval skipped: the executed notebooks use the offline assets, not found at $(XAI_ASSETS)"; fi

# the browser test's Chromium (Debian's packages); without root or apt the test skips, naming them
browser:
	@command -v chromedriver > /dev/null && command -v chromium > /dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    echo "installing chromium and chromium-driver for the browser test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver > /dev/null) || echo "could not install them: the browser test will skip"; \
	  else echo "no chromium/chromium-driver and no root apt-get: the browser test will skip"; fi; }

demo: env
	$(BIN)/python -m xai demo --port $(or $(PORT),8000)

screenshot: env browser
	@mkdir -p FinalResults/demo
	XAI_DEMO_SCREENSHOT=$(abspath FinalResults/demo/demo.png) $(BIN)/python -m pytest -q \
	  -p no:cacheprovider tests/test_demo.py

run-all: env
	@if [ "$(PROFILE)" = offline ] && [ ! -d "$(XAI_ASSETS)/keras_home" ]; then \
	  echo "PROFILE=offline needs the offline assets at $(XAI_ASSETS) (or SHARED=...)" >&2; exit 1; fi
	@echo "profile: $(PROFILE)"
	@mkdir -p $(EXECUTED)
	@set -e; for nb in $(NOTEBOOKS); do \
	  out=$(EXECUTED)/$$(basename $$nb); echo "==> $$nb"; \
	  TQDM_DISABLE=1 $(BIN)/papermill "$$nb" "$$out" --cwd notebooks -p profile $(PROFILE) \
	    || { echo "FAILED: $$nb — see the failing cell in $$out" >&2; exit 1; }; \
	  $(BIN)/python tools/tidy_notebook.py "$$out"; \
	done
	@echo "Figures and tables regenerated in FinalResults/; executed notebooks in $(EXECUTED)/"

check-results: run-all
	@if [ -n "$$(git status --porcelain -- FinalResults)" ]; then \
	  git status --short -- FinalResults; \
	  echo "FinalResults/ changed: the committed results are not what the code produces now" >&2; \
	  exit 1; fi
	@echo "FinalResults/ unchanged: the committed results are what the code produces"

bench: env
	bash bench/setup.sh
	bench/.venv/bin/python bench/run.py
	$(VENV)/bin/python bench/memory.py
	bench/.venv/bin/python bench/cold.py
	$(VENV)/bin/python bench/engine.py
	$(VENV)/bin/python bench/ig_auto.py
	$(VENV)/bin/python tools/readme_tables.py

clean:
	rm -rf output .cache .pytest_cache
	find xai tests bench tools notebooks -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) bench/.venv
