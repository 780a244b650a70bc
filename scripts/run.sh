#!/usr/bin/env bash
# README command 1: set up what is missing, then run Redis, the web server and the worker together.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  cat >&2 <<'TXT'
NetDesigner's worker builds labs in the kernel (network namespaces, veth, bridges, iptables), which
needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN). Run it as root:  sudo make run
TXT
  exit 1
fi
scripts/bootstrap.sh
port=${PORT:-8000}
PORT=$port .venv/bin/python manage.py bootstrap_demo
# Redis with a password by default: anyone who can reach an open Redis can stop the root worker, cancel
# its queue and send fake events to every viewer (README, "Redis"). An explicit REDIS_URL is used as is.
if [ -z "${REDIS_URL:-}" ]; then
  REDIS_URL="redis://:$(scripts/redis-password.sh)@127.0.0.1:6379/0"
fi
export REDIS_URL
pidfile=$(scripts/redis-up.sh)
cleanup() { [ -n "$pidfile" ] && [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true; }
trap cleanup EXIT
trap "exit 130" INT TERM
echo
echo "NetDesigner is starting at http://127.0.0.1:$port/   (Ctrl-C stops the web server, the worker and Redis)"
echo
PORT=$port .venv/bin/honcho -f Procfile start
