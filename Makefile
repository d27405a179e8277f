# Two commands do everything:  `make run-all` (regenerate FinalResults/) and `make test`.
# Both create the virtual environment .venv from requirements.txt when it is missing.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
PROFILE ?= online
OUT     ?= output
SHARED  ?= ../shared/assets
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

# The offline profile reads ImageNet weights from a local Keras cache: a *copy* of
# $(SHARED)/keras_home (Keras writes keras.json into its home), unless KERAS_HOME is set.
ifeq ($(PROFILE),offline)
  KERAS_HOME ?= $(CURDIR)/.cache/keras_home
  export KERAS_HOME
endif

.PHONY: all env test run-all bench clean distclean

all: run-all

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $@

env: $(BIN)/.installed

.cache/keras_home:
	@if [ -d "$(SHARED)/keras_home" ]; then mkdir -p $@ && cp -r $(SHARED)/keras_home/. $@/; \
	 else echo "offline profile: no Keras cache at $(SHARED)/keras_home; set KERAS_HOME to a folder whose models/ holds the weights" >&2; exit 1; fi

test: env
	$(BIN)/python -m pytest tests -q -p no:cacheprovider

run-all: env $(if $(filter offline,$(PROFILE)),.cache/keras_home)
	@mkdir -p $(OUT)
	@set -e; for nb in $(NOTEBOOKS); do \
	  echo "==> $$nb (profile=$(PROFILE))"; \
	  $(BIN)/papermill "$$nb" "$(OUT)/$$(basename $$nb)" --cwd notebooks \
	    -p profile $(PROFILE) -p output_dir "$(CURDIR)/FinalResults" \
	    || { echo "FAILED: $$nb — see the failing cell in $(OUT)/$$(basename $$nb)" >&2; exit 1; }; \
	done
	@echo "Figures and tables regenerated in FinalResults/; executed notebooks in $(OUT)/"

bench: env
	bash bench/setup.sh
	bench/.venv/bin/python bench/run.py

clean:
	rm -rf $(OUT) .cache .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) bench/.venv
