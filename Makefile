# Two commands on a fresh machine with only python3:  make run  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint typecheck pytest bench clean

# Reinstall whenever the project's dependencies change.
$(VENV)/.installed-run: pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { echo "Cannot create $(VENV): install the python3-venv package (apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# The demo district is loaded (idempotently) into ./var/ so the service has something to show; today's
# picture and a sign-in link for the demo's Phòng Nội vụ officer (the web console, http://127.0.0.1:8080)
# are printed before the service starts, as the README shows.
run: $(VENV)/.installed-run
	$(BIN)/reminder-service init --demo
	$(BIN)/reminder-service today
	$(BIN)/reminder-service web link noivu@songlam.example
	$(BIN)/reminder-service run

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
