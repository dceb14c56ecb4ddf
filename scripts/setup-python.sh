#!/usr/bin/env bash
# Creates .venv at the repository's root with the Python clients the end-to-end tests
# drive (the official MCP SDK and the Databricks SDK), and .venv-mcp1 with the MCP SDK
# 1.x. The tests find them there; without them they fail rather than pass without running.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check \
  -r tests/python/requirements.txt -r tests/python/requirements-sdk.txt
.venv/bin/python -c "import mcp, databricks.sdk; print('python clients ready in .venv')"

# A second venv with the MCP SDK 1.x (tests/python/mcp_features_e2e_v1.py): the 1.x and
# 2.x SDKs are both the `mcp` package, so they cannot share one venv.
python3 -m venv .venv-mcp1
.venv-mcp1/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements-mcp1.txt
.venv-mcp1/bin/python -c "import importlib.metadata as m; print('python MCP SDK', m.version('mcp'), 'ready in .venv-mcp1')"
