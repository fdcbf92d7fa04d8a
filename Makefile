# Mailmoat: `make run` starts the embedded gateway, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv

.PHONY: run test lint fmt bench chaos migrate sync train-detector eval

$(VENV)/.synced: pyproject.toml uv.lock libs/common/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

sync: $(VENV)/.synced

run: sync
	$(VENV)/bin/mailmoat dev

test: sync
	$(VENV)/bin/pytest -n 2

lint: sync
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

fmt: sync
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: sync
	$(VENV)/bin/python -m benchmarks.run --output BENCHMARKS.md

chaos: sync
	$(VENV)/bin/python -m reliability.run --output RELIABILITY.md

migrate: sync
	$(VENV)/bin/mailmoat migrate

train-detector: sync
	$(VENV)/bin/python -m training.train

eval: sync
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(VENV)/bin/python -m training.evaluate --output EVALUATION.md --backend $(or $(BACKEND),offline)
