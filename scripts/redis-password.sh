#!/usr/bin/env bash
# Prints the password of `make run`'s Redis, kept in .redis-password beside .admin-password (mode 600),
# making one on the first run. Sourced by run.sh; `export REDIS_URL=redis://:$(scripts/redis-password.sh)@127.0.0.1:6379/0`
# lets `manage.py lab ...` in another shell reach the same Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
file=.redis-password
if [ ! -s "$file" ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file.tmp" && mv "$file.tmp" "$file")
fi
chmod 600 "$file"
cat "$file"
