# The two commands of the README: `make demo` and `make test`. Both install what they need
# into .venv (pinned by constraints.txt) on first use.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: demo test lint install bench browser mutation mutation-fast

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sio demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)
	$(BIN)/mypy --strict src/sio

# The statement letters are printed to PDF in the tests with Debian's Chromium (no downloads).
browser:
	@command -v chromium >/dev/null || test -x /usr/bin/chromium || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: lint browser
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Mutation testing of the money core (docs/mutation-testing.md): mutmut mutates a copy of src/ under
# ./mutants (git-ignored) and runs the fast tests of [tool.mutmut] in pyproject.toml against each
# mutant, with few hypothesis examples (SIO_MUTATION=1). Prints every mutant that survived.
# MUTANTS='sio.money* sio.rules.uttrekk*' runs only those (on the mutants of the last run).
mutation: $(STAMP)
	$(if $(MUTANTS),,rm -rf mutants)
	SIO_MUTATION=1 $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

# The same mutants run the fast way (scripts/mutation_fast.py): a `git archive` copy of
# MUTATION_REV in MUTATION_COPY (outside the checkout), mutmut writes the mutants of
# MUTATION_FILES there once, then one niced Python process runs pytest.main on MUTATION_TESTS per
# mutant. Defaults: HEAD, ../sio-mutation, and [tool.mutmut]'s files and tests; MUTANTS= names or
# globs (all when empty); MUTATION_ARGS='--sync-tests --again' reruns them against the working
# tree's tests. Results in MUTATION_COPY/results.jsonl; prints the count and the survivors.
MUTATION_COPY ?= ../sio-mutation
MUTATION_REV ?= HEAD
mutation-fast: $(STAMP)
	nice -n 19 $(BIN)/python scripts/mutation_fast.py $(or $(MUTANTS),'*') \
		--copy $(MUTATION_COPY) --rev $(MUTATION_REV) $(MUTATION_ARGS) \
		$(if $(MUTATION_FILES),--files $(MUTATION_FILES)) $(if $(MUTATION_TESTS),--tests $(MUTATION_TESTS))
