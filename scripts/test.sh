#!/usr/bin/env bash
# README command 2: set up what is missing, start a Redis for the run, then lint, type-check and run
# every test (unit, root integration against the real kernel, browser). Redis is stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
# The test Redis gets a fresh password too (TEST_REDIS_URL, with or without one, is used as is).
REDIS_URL=${TEST_REDIS_URL:-redis://:$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')@127.0.0.1:6391/0}
export REDIS_URL
pidfile=$(scripts/redis-up.sh)
cleanup() { [ -n "$pidfile" ] && [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true; }
trap cleanup EXIT
trap "exit 130" INT TERM
echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy"
.venv/bin/mypy .
echo "==> tsc + vitest (frontend types and pure modules)"
(cd frontend && npx --no-install tsc --noEmit && npx --no-install vitest run --reporter=dot)
echo "==> pytest"
.venv/bin/pytest "$@"
