PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: set up and run meshctl on the bundled demo mesh
demo: $(STAMP)
	@$(BIN)/meshctl analyze testdata/demo/ || echo "meshctl exited with $$?: it found the mistakes planted in the demo (testdata/demo/README.md lists them)"

## test: set up and run the whole test suite (on every core; pass PYTEST_ARGS=-n0 for one process)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run

docs: $(STAMP)
	$(BIN)/python -m meshctl.docsgen

clean:
	rm -rf $(VENV) build dist *.egg-info
