# Mailmoat: `make run` starts the embedded gateway, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv

.PHONY: run test lint fmt bench chaos migrate sync train-detector eval sdk-models

$(VENV)/.synced: pyproject.toml uv.lock libs/common/pyproject.toml sdk/python/pyproject.toml \
		$(wildcard services/*/pyproject.toml)
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

# The SDK's pydantic models, made from the API's OpenAPI document (a test checks they match it).
SDK_MODELS ?= sdk/python/src/mailmoat_sdk/models.py
sdk-models: sync
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT \
	&& $(VENV)/bin/mailmoat openapi > "$$scratch/openapi.json" \
	&& $(VENV)/bin/datamodel-codegen --input "$$scratch/openapi.json" --input-file-type openapi \
		--output-model-type pydantic_v2.BaseModel --target-python-version 3.11 \
		--use-standard-collections --use-union-operator --use-schema-description \
		--use-field-description --field-constraints --use-double-quotes --enum-field-as-literal all \
		--formatters ruff-format --disable-timestamp \
		--custom-file-header '"""Models of the Mailmoat API, generated from its OpenAPI document by `make sdk-models`: do not edit."""' \
		--output "$$scratch/models.py" \
	&& $(VENV)/bin/ruff check --quiet --fix --config pyproject.toml --extend-ignore E501 "$$scratch/models.py" \
	&& $(VENV)/bin/ruff format --quiet --config pyproject.toml "$$scratch/models.py" \
	&& cp "$$scratch/models.py" $(SDK_MODELS)
