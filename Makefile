# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
# torch is installed first and pinned through constraints.txt for every later install, so nothing pulls another build.
# Other machines: pick the torch build for your hardware, e.g. `make demo TORCH="torch==2.13.0 --index-url <CUDA index>"`
# (the constraint `torch==2.13.0` accepts any local build of 2.13.0, CUDA or CPU).
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: demo test test-slow mutants venv export clean-nbs check readme docs labs bench

$(STAMP): settings.ini setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/igds demo

# `make test` skips what loads a real model (marker `slow`, and the notebook cells flagged `slow`); `make test-slow`
# runs only those (they need the models in the cache or the network).
test: $(STAMP)
	$(BIN)/python -m pytest tests -q -p no:cacheprovider --timeout 1200 -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest tests -q -p no:cacheprovider --timeout 3600 -m slow

# Wrong implementations planted one at a time in igds/*.py (restored afterwards); each must make its tests fail.
mutants: $(STAMP)
	$(BIN)/python tests/mutants.py

export: $(STAMP)
	$(BIN)/nbdev_export

clean-nbs: $(STAMP)
	$(BIN)/nbdev_clean

# README.md is generated from nbs/index.ipynb (nbdev_readme needs Quarto, which cannot be installed offline).
readme: $(STAMP)
	$(BIN)/python docs/readme.py

# The drift checks of .ci/run: exporting and cleaning must leave tracked files unchanged.
check: $(STAMP)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(MAKE) --no-print-directory readme
	@if [ -n "$$(git status --porcelain --untracked-files=no -- igds nbs README.md)" ]; then \
	  echo "nbdev_export, nbdev_clean or the README build changed tracked files: run 'make export clean-nbs readme' and commit"; \
	  git status --short -- igds nbs README.md; git diff --stat -- igds nbs README.md; exit 1; fi

# The docs site, offline and without Quarto (docs/build.py: nbdev's processing + MkDocs) into _docs/; open
# _docs/index.html. `make docs DOCS_ARGS=--no-execute` skips running the notebooks' examples. Users with Quarto can
# still run `nbdev_docs`.
.PHONY: docs-check chromium
DOCS_ARGS ?=
docs: $(STAMP)
	$(BIN)/python docs/build.py $(DOCS_ARGS)

# Headless Chromium (Debian's chromium + chromium-driver, installed when missing) checks the built site.
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

docs-check: $(STAMP) chromium
	$(BIN)/python -m pytest tests/test_docs.py -q -s -p no:cacheprovider

# The course labs in full (the embedded model, solutions filled in): executed copies and timings under runs/labs/.
# `make labs LABS_ARGS="--lab 01"` runs one; LABS_ARGS="--student" runs them as handed out (exercises left blank).
LABS_ARGS ?=
# The benchmarks, run by hand (each prints ratios measured side by side in one run; minutes each on 2 cores).
# DATA: a folder in the layout of ../shared/data (default: the samples in data/).
bench: $(STAMP)
	$(BIN)/python bench/forward.py
	$(BIN)/python bench/filtering.py $(if $(DATA),--data-dir $(DATA))
	$(BIN)/python bench/generation.py $(if $(DATA),--data-dir $(DATA))
	$(BIN)/python bench/scoring.py $(if $(DATA),--data-dir $(DATA))

labs: $(STAMP)
	$(BIN)/python docs/run_labs.py $(LABS_ARGS)
