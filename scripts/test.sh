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
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
python -m pytest "$@"
