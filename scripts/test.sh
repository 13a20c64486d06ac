#!/usr/bin/env bash
# Quick start, command 2: install, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The browser tests load rendered reports in Debian's headless Chromium.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium for the browser tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "error: the browser tests need Chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
# The service's reliability tests start a throwaway PostgreSQL cluster of their own
# (initdb and pg_ctl from Debian's postgresql; no server is left running).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing postgresql for the service's tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "warning: PostgreSQL is missing (sudo apt-get install postgresql); its tests will skip" >&2
  fi
fi
# The accessibility test injects axe-core (npm, pinned by tests/browser/package-lock.json).
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: the accessibility test needs axe-core from npm, and npm is missing:" >&2
    echo "       install Node.js and npm (e.g. sudo apt-get install npm), then run this again." >&2
    exit 1
  fi
  echo "== installing axe-core for the accessibility test"
  npm ci --prefix tests/browser --no-audit --no-fund
fi
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
# the 20 slowest tests, so a test that grows slow shows in every run
python -m pytest --durations=20 "$@"
