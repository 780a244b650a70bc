#!/usr/bin/env bash
# Starts a local Redis on the port of $REDIS_URL unless one already answers there. Prints the pid file
# when it started one (so the caller can stop it), nothing when one was already running.
set -euo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${url#redis://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
host=${hostport%%:*}; port=${hostport##*:}
[ "$port" = "$hostport" ] && port=6379
if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
  exit 0
fi
case "$host" in 127.*|localhost) ;; *) echo "No Redis answers at $url, and it is not local: start it there." >&2; exit 1 ;; esac
dir=$(mktemp -d /tmp/netdesigner-redis.XXXXXX)
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
  --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null || { echo "Redis did not start; see $dir/redis.log" >&2; exit 1; }
echo "$dir/redis.pid"
