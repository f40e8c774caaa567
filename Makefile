# Jingzhun: `make run` sets everything up and serves the demo; `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_WORKERS ?= 2

.PHONY: run test setup migrate demo lint format mypy-baseline mutate-access messages bench bench-import bench-regions bench-audit check-deploy clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Jingzhun needs Python 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) load_demo

run: demo
	@echo ""
	@echo "  精准 Jingzhun: http://$(HOST):$(PORT)/"
	@echo "  演示账号 (密码 jingzhun-demo): national admin county township village helper leader auditor"
	@echo ""
	$(MANAGE) run_huey --workers 2 --worker-type thread & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(MANAGE) runserver --insecure $(HOST):$(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/mypy_baseline.py
	$(MANAGE) makemigrations --check --dry-run >/dev/null || (echo "Model changes without migrations" && exit 1)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# Take out one scope or role check of the views at a time and see which test notices (slow; not in make test).
mutate-access: setup
	$(BIN)/python scripts/mutate_access.py $(ARGS)

# After fixing type errors: drop them from the baseline (it may only shrink).
mypy-baseline: setup
	$(BIN)/python scripts/mypy_baseline.py --shrink

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: setup
	$(MANAGE) makemessages -l en --ignore='.venv/*' --ignore='bench/*'
	$(MANAGE) compilemessages -l en --ignore='.venv/*'

check-deploy: setup
	PRODUCTION=1 DEBUG=0 HTTPS=1 BEHIND_PROXY=1 SECRET_KEY=$$($(BIN)/python -c 'import secrets;print(secrets.token_urlsafe(64))') \
	  ALLOWED_HOSTS=fupin.example.gov.cn $(MANAGE) check --deploy --fail-level WARNING

bench-regions: setup
	$(BIN)/python bench/regions_bench.py

# 操作日志 at scale: `make bench-audit ARGS="--entries 1000000"` (default 200,000; DATABASE_URL for PostgreSQL).
bench-audit: setup
	$(BIN)/python bench/audit_bench.py $(ARGS)

# ARGS passes options through, e.g. `make bench-import ARGS="--households 2000"`.
bench-import: setup
	$(BIN)/python bench/import_bench.py $(ARGS)

bench: bench-regions bench-import

clean:
	rm -rf $(VENV) var staticfiles
