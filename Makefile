# The two commands of the README: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all

.PHONY: run test test-fast lint lock rulegraph clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -c requirements.lock -e ".[dev,slurm,kubernetes]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --workflow-profile profiles/default

test: lint
	$(BIN)/python -m pytest -q

# The unit tests without the end-to-end, SLURM and slow ones: under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not slurm and not slow"

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy iam

# After changing dependencies in pyproject.toml: .venv/bin/pip install -U -e ".[dev,slurm,kubernetes]",
# run the tests, then `make lock`.
lock: $(STAMP)
	(head -2 requirements.lock; $(BIN)/pip freeze --exclude-editable) > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock

rulegraph: $(STAMP)
	$(BIN)/snakemake --rulegraph | dot -Tsvg > docs/rulegraph.svg.tmp && mv docs/rulegraph.svg.tmp docs/rulegraph.svg

clean:
	rm -rf results .snakemake
