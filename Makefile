# Two entry points for users (see README "Quick start"):
#   make conformance   run the conformance suite against the bundled reference implementation
#   make test          run every test, lint, type check, traceability and the strict site build
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: conformance test venv lint typecheck docs vectors clean e2e bench eval-perf eval-mutation fuzz eval-attacks eval-load

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

venv: $(STAMP)

conformance: $(STAMP)
	$(BIN)/aip-conformance run --report reports

lint: $(STAMP)
	$(BIN)/ruff check reference conformance tests fuzz eval
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir build/site

e2e: $(STAMP)
	$(BIN)/python -m examples.e2e

bench: $(STAMP)
	$(BIN)/python bench/bench_mcp.py

eval-attacks: $(STAMP)
	$(BIN)/python -m eval.attacks --out eval/results --seed 1 --per-category 20

eval-load: $(STAMP)
	$(BIN)/python -m eval.load --out eval/results

# Evaluation (issue 7); none of these is part of `make test`.
EVAL_STAMP := $(VENV)/.installed-eval
$(EVAL_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,docs,eval,fuzz]'
	touch $(EVAL_STAMP)

eval-perf: $(EVAL_STAMP)
	$(BIN)/python -m eval.perf

eval-mutation: $(EVAL_STAMP)
	$(BIN)/python -m eval.mutation.run

FUZZ_MINUTES ?= 2
fuzz: $(EVAL_STAMP)
	for t in $$($(BIN)/python fuzz/run.py --list | cut -d' ' -f1); do \
		$(BIN)/python fuzz/run.py $$t --minutes $(FUZZ_MINUTES) || exit 1; done

vectors: $(STAMP)
	$(BIN)/aip-conformance vectors generate

test: $(STAMP)
	$(BIN)/ruff check reference conformance tests fuzz eval
	$(BIN)/mypy
	$(BIN)/aip-conformance requirements --quiet
	$(BIN)/aip-conformance vectors check
	$(BIN)/aip-conformance vectors verify
	$(BIN)/mkdocs build --strict --quiet --site-dir build/site
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) build reports .mypy_cache .ruff_cache
