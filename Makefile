# The two commands of the README: `make book` builds the book, `make test` runs the tests.
# Each sets itself up: without an active virtual environment it creates .venv and installs the
# pinned set (constraints.txt) with mirbook in editable mode. Re-installs only when
# pyproject.toml or constraints.txt change.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

ifdef VIRTUAL_ENV
ENV_DIR := $(VIRTUAL_ENV)
else
ENV_DIR := $(CURDIR)/.venv
endif
PY := $(ENV_DIR)/bin/python
STAMP := $(ENV_DIR)/.mirbook-installed
PYTHON_FOR_VENV ?= python3

.PHONY: test book env unit notebooks book-check benchmarks comparison budgets paper-preset strip clean mutation

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@if [ ! -x "$(PY)" ]; then echo "Creating virtual environment in $(ENV_DIR)"; $(PYTHON_FOR_VENV) -m venv "$(ENV_DIR)"; fi
	"$(PY)" -m pip install --quiet --upgrade "pip>=24"
	"$(PY)" -m pip install --quiet -c constraints.txt -e ".[book,test,world]"
	@# tinysoundfont: the independent SoundFont player tests/test_out_of_world.py compares notes with;
	@# without its pyaudio (live playback only, never imported; no Linux wheel to install).
	"$(PY)" -m pip install --quiet --no-deps -c constraints.txt tinysoundfont
	@touch "$(STAMP)"

# Unit tests and every notebook under book/ (nbval runs each cell; a failed assert fails),
# then a warnings-as-errors build of the book without re-executing the notebooks.
test: env
	"$(PY)" -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 tests book
	$(MAKE) --no-print-directory book-check

# Package tests without tests/integration (building and installing the wheel, a chapter run twice).
unit: env
	"$(PY)" -m pytest tests --ignore=tests/integration

notebooks: env
	"$(PY)" -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 book

book-check: env
	rm -rf _build/check && mkdir -p _build/check
	"$(PY)" -c "import yaml; c = yaml.safe_load(open('_config.yml')); c['execute']['execute_notebooks'] = 'off'; yaml.safe_dump(c, open('_build/check/_config.yml', 'w'))"
	"$(ENV_DIR)/bin/jupyter-book" build . --builder html -W --keep-going --path-output _build/check \
		--config _build/check/_config.yml
	@test -f _build/check/_build/html/index.html

# Builds the book, executing every notebook (cached in .jupyter_cache): _build/html/index.html.
book: env
	"$(ENV_DIR)/bin/jupyter-book" build . -W --keep-going
	@echo "Open _build/html/index.html"

benchmarks: env
	"$(PY)" benchmarks/representations.py

# Runs every model chapter with seeds 0 to 4 (one to two hours on 2 CPU cores) and updates
# mirbook/results/model_comparison.json (package data), which book/models/comparison.ipynb reads.
comparison: env
	"$(PY)" benchmarks/model_comparison.py

# Trains the three taggers at three parameter budgets with 3 seeds each (half an hour to an hour on
# 2 CPU cores) and updates mirbook/results/tagger_budgets.json, read by "Comparing the six models".
budgets: env
	"$(PY)" benchmarks/tagger_budgets.py

# Trains the deep chroma paper preset with its authors' released recipe on the chapter's songs (tens of
# minutes on one CPU core) and updates mirbook/results/paper_preset.json, read by "Comparing the six models".
paper-preset: env
	"$(PY)" benchmarks/paper_preset.py

# Mutation testing (not part of `make test` or CI): mutmut (the `mutation` extra, installed here)
# mutates mirbook/ in mutants/ (git-ignored), runs against each mutant the tests that reach it and
# writes benchmarks/results/mutation.md and mutation.json. Hours on 2 cores for the whole package;
# narrow it with MODULES="mirbook.vocab mirbook.data.cache", use more workers with JOBS=16.
JOBS ?= 1
MODULES ?=
MUTATION_STAMP := $(ENV_DIR)/.mirbook-mutation-installed

# The tool alone, at the version constraints.txt pins (the `mutation` extra's range); offline, point
# pip at a folder of wheels: PIP_NO_INDEX=1 PIP_FIND_LINKS=wheels make mutation.
$(MUTATION_STAMP): $(STAMP)
	"$(PY)" -m pip install --quiet -c constraints.txt mutmut
	@touch "$(MUTATION_STAMP)"

mutation: $(MUTATION_STAMP)
	"$(PY)" tools/mutation.py --jobs $(JOBS) $(MODULES)

# Removes outputs and execution counts from every notebook (the policy tests/test_notebooks.py checks).
strip: env
	"$(PY)" tools/strip_notebooks.py

clean:
	rm -rf _build .jupyter_cache .pytest_cache mutants
