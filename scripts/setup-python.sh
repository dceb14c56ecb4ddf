#!/usr/bin/env bash
# Creates .venv at the repository's root with the Python clients the end-to-end tests
# drive (the official MCP SDK and the Databricks SDK). The tests find it there; without
# it they fail rather than pass without running.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check \
  -r tests/python/requirements.txt -r tests/python/requirements-sdk.txt
.venv/bin/python -c "import mcp, databricks.sdk; print('python clients ready in .venv')"
