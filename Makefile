.PHONY: run test setup lint bench
run:   ## set up what is missing and run web + worker + Redis at http://127.0.0.1:8000/
	scripts/run.sh
test:  ## set up what is missing and run every test (lint, types, unit, kernel, browser)
	scripts/test.sh
setup:
	scripts/bootstrap.sh --test
lint:
	.venv/bin/ruff check . && .venv/bin/mypy .
