# Beatplan: `make run` installs and starts the app on the demo; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps run test lint bench clean

$(STAMP): pyproject.toml
	@bash scripts/system-deps.sh --runtime
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)
	@$(BIN)/python scripts/fetch_vendor.py

# Debian packages the browser and PDF tests need (chromium, chromium-driver, poppler-utils).
system-deps:
	@bash scripts/system-deps.sh

run: install
	$(BIN)/beatplan demo --if-empty
	$(BIN)/streamlit run app.py --browser.gatherUsageStats false

# The store tests also run against PostgreSQL: scripts/postgres.sh installs Debian's server when
# missing, starts a private cluster on 127.0.0.1 and prints its URL (a URL already in
# BEATPLAN_TEST_PG_URL wins). Without one they skip, except in CI, where they fail.
test: system-deps install
	BEATPLAN_TEST_PG_URL="$${BEATPLAN_TEST_PG_URL:-$$(bash scripts/postgres.sh || true)}" \
		$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache static/vendor
