#!/usr/bin/env bash
# Quick start, command 2: install, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
python -m pytest "$@"
