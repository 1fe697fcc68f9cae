# hople-gateway: `make demo` runs the gateway in a private Postfix on loopback with sample mail;
# `make test` runs the static checks (`make lint`) and then the whole bounded test suite. All
# install what they need first.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: deps lint test test-slow demo bench constraints clean

deps:
	@scripts/bootstrap.sh

# ruff (pyflakes, pycodestyle, bugbear, blind except, pyupgrade, isort) and mypy (strict on
# model/, policy/, inspect/ and pipeline.py); configured in pyproject.toml.
lint: deps
	@rc=0; $(PY) -m ruff check . || rc=1; $(PY) -m mypy || rc=1; exit $$rc

test: lint
	$(PY) -m pytest -m "not slow" -q

test-slow: deps
	$(PY) -m pytest -m slow -q

demo: deps
	$(PY) -m gateway.demo

bench: deps
	$(PY) -m bench

# The versions this venv was tested with, for scripts/bootstrap.sh (`pip install -c`).
constraints: deps
	scripts/freeze-constraints.sh

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
