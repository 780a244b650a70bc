#!/usr/bin/env bash
# Installs whatever is missing, and nothing that is already there: apt packages, the virtualenv with
# the pinned Python packages, the frontend build. A second run with nothing changed takes a second.
# usage: scripts/bootstrap.sh [--test]     (--test adds what the test suite needs: chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# 1. System packages (Debian).
pkgs=(iproute2 iptables iputils-ping redis-server procps)
[ "$want_test" = 1 ] && pkgs+=(chromium tcpdump)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing system packages: ${missing[*]}. Run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  say "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. The virtualenv, reinstalled only when pyproject.toml changes.
PY=${PYTHON:-python3}
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  say "Installing Python packages into .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# 3. The frontend: npm ci when the lock changes, a build when a source is newer than the build.
if [ -f frontend/package.json ]; then
  if ! command -v npm >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
    echo "Building the canvas needs Node.js 20 or newer with npm (found: $(node --version 2>/dev/null || echo none))." >&2
    echo "Install Node.js 20+ (with npm), then run this command again." >&2
    exit 1
  fi
  lockstamp=frontend/node_modules/.installed-$(cat frontend/package.json frontend/package-lock.json 2>/dev/null | sha1sum | cut -c1-12)
  if [ ! -f "$lockstamp" ]; then
    say "Installing frontend packages"
    (cd frontend && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
    rm -f frontend/node_modules/.installed-*
    touch "$lockstamp"
  fi
  if [ ! -f frontend/dist/.vite/manifest.json ] || [ -n "$(find frontend/src frontend/index.html frontend/vite.config.* frontend/package.json -newer frontend/dist/.vite/manifest.json 2>/dev/null | head -1)" ]; then
    say "Building the canvas"
    (cd frontend && npm run --silent build)
  fi
fi

# 4. The database.
mkdir -p static_build
.venv/bin/python manage.py migrate --noinput -v 0
