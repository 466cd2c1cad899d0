# Beatplan: `make run` installs and starts the app on the demo; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9
LOCK := requirements.lock

.PHONY: install system-deps run test test-latest lock lint bench clean

# Packages come from the committed lock file (exact versions and hashes); `make lock` refreshes it.
$(STAMP): pyproject.toml $(LOCK)
	@bash scripts/system-deps.sh --runtime
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
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

# Refresh the lock file to the newest versions pyproject.toml allows; run `make test` before
# committing it.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --universal \
		--python-version 3.11 --quiet -o $(LOCK)

# The newest versions of everything, in a separate environment: an upgrade is a tested step.
test-latest: system-deps install
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet "uv==$(UV_VERSION)"
	.venv-latest/bin/uv pip install --quiet --python .venv-latest/bin/python --upgrade -e '.[test]'
	BEATPLAN_TEST_PG_URL="$${BEATPLAN_TEST_PG_URL:-$$(bash scripts/postgres.sh || true)}" \
		.venv-latest/bin/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .venv-latest .pytest_cache .ruff_cache static/vendor
