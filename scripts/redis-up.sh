#!/usr/bin/env bash
# Starts a local Redis on the port of $REDIS_URL unless one already answers there. Prints the pid file
# when it started one (so the caller can stop it), nothing when one was already running.
#
# A password in the URL (redis://:PASSWORD@127.0.0.1:6379/0) is required by the Redis started here. It
# goes into a config file only its owner can read, never onto a command line (`ps` shows argv to every
# user); redis-cli gets it through REDISCLI_AUTH (a process's environment is its owner's only).
set -euo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
rest=${url#redis://}; rest=${rest%%/*}
hostport=${rest##*@}
password=""
if [ "$hostport" != "$rest" ]; then userinfo=${rest%@*}; password=${userinfo#*:}; fi
host=${hostport%%:*}; port=${hostport##*:}
[ "$port" = "$hostport" ] && port=6379
cli() {
  if [ -n "$password" ]; then REDISCLI_AUTH="$password" redis-cli --no-auth-warning -h "$1" -p "$port" "${@:2}"
  else redis-cli -h "$1" -p "$port" "${@:2}"; fi
}
answer=$(cli "$host" ping 2>&1 || true)
if [ -n "$password" ] && [ "$(redis-cli -h "$host" -p "$port" ping 2>&1 || true)" = PONG ]; then
  echo "A Redis without a password already answers at $host:$port; REDIS_URL carries a password it" >&2
  echo "does not check. Stop that Redis (systemctl stop redis-server) or give REDIS_URL without one." >&2
  exit 1
fi
[ "$answer" = PONG ] && exit 0
case "$answer" in
  *NOAUTH*|*WRONGPASS*|*AUTH*)
    echo "A Redis answers at $host:$port but refuses the credentials of REDIS_URL (a password missing or wrong): $answer" >&2; exit 1 ;;
esac
case "$host" in 127.*|localhost) ;; *) echo "No Redis answers at $host:$port, and it is not local: start it there." >&2; exit 1 ;; esac
dir=$(mktemp -d /tmp/netdesigner-redis.XXXXXX)
umask 077
{
  echo "bind 127.0.0.1"
  echo "port $port"
  echo "save \"\""
  echo "appendonly no"
  echo "daemonize yes"
  echo "dir $dir"
  echo "pidfile $dir/redis.pid"
  echo "logfile $dir/redis.log"
  if [ -n "$password" ]; then echo "requirepass $password"; fi
} > "$dir/redis.conf"
redis-server "$dir/redis.conf" >/dev/null
for _ in $(seq 50); do [ "$(cli 127.0.0.1 ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(cli 127.0.0.1 ping 2>/dev/null)" = PONG ] || { echo "Redis did not start; see $dir/redis.log" >&2; exit 1; }
echo "$dir/redis.pid"
