#!/usr/bin/env bash
# Quick start, command 1: install, then build everything from the bundled sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
lscb-nb generate --project .
lscb-nb run --project . "$@"
