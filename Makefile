# The two commands of the README. Both create .venv and install into it when missing.
PROFILE ?= cpu
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: book test clean install-gpu gpu-check lab

book: $(STAMP)
	$(VENV)/bin/genbook build --profile $(PROFILE) -j $(JOBS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest

$(STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# A CUDA machine: the pinned torch as a CUDA build (requirements-gpu.txt), then the rest as usual.
install-gpu:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements-gpu.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# On any CUDA machine, in under 10 minutes: a few chapters at gpu, the many-models benchmark on CUDA.
gpu-check: $(STAMP)
	bash benchmarks/gpu_check.sh

# JupyterLab (pinned in requirements-lab.txt, with requirements.txt as constraints) over the studies; jupytext's
# extension pairs each .py with its .ipynb (pyproject.toml [tool.jupytext]). LAB_ARGS=--no-browser, say.
LAB_STAMP := $(VENV)/.lab-installed
lab: $(STAMP) $(LAB_STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/studies $(LAB_ARGS)

$(LAB_STAMP): requirements-lab.txt requirements.txt
	$(VENV)/bin/python -m pip install --quiet -r requirements-lab.txt -c requirements.txt
	touch $(LAB_STAMP)

clean:
	rm -rf .genbook book/_build book/chapters book/_toc.yml book/scoreboard.md
