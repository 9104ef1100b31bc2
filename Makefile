# The README's two commands are `make book` and `make test`; both create the
# virtual environment on first use.  Override TORCH_SPEC on a GPU machine, e.g.
#   make test TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu126"
PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
JOBS       ?= auto
BIN        := $(abspath $(VENV))/bin
STAMP      := $(VENV)/.installed

# nbgrader calls the `alembic` executable from PATH when it opens a gradebook.
export PATH := $(BIN):$(PATH)

.PHONY: help install test test-fast test-gpu lint book book-clean release check bench clean

help:
	@echo "make book      build the book into _build/html (creates $(VENV) if missing)"
	@echo "make test      lint and run the whole test suite (creates $(VENV) if missing)"
	@echo "make test-fast the suite without notebook/book execution"
	@echo "make test-gpu  the CUDA-parametrized tests and the grader check on CUDA"
	@echo "make release   regenerate assignments/ from solutions/ with nbgrader"
	@echo "make check     every solution scores 100, every released stub 0"
	@echo "make bench     run the benchmarks in bench/ (results in bench/results/)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(JOBS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -m "not slow"

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -n 1 -m cuda --device cuda
	$(BIN)/python -m autograder check --device cuda

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -W --keep-going

book-clean:
	rm -rf _build

release: $(STAMP)
	$(BIN)/python -m autograder release

check: $(STAMP)
	$(BIN)/python -m autograder check

bench: $(STAMP)
	for script in bench/bench_speed.py bench/bench_mutants.py bench/bench_book.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf _build .pytest_cache .ruff_cache
