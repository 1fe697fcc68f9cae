# hople-gateway: `make demo` runs the gateway in a private Postfix on loopback with sample mail;
# `make test` runs the whole bounded test suite. Both install what they need first.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: deps test test-slow demo bench clean

deps:
	@scripts/bootstrap.sh

test: deps
	$(PY) -m pytest -m "not slow" -q

test-slow: deps
	$(PY) -m pytest -m slow -q

demo: deps
	$(PY) -m gateway.demo

bench: deps
	$(PY) -m bench

clean:
	rm -rf .venv .pytest_cache
