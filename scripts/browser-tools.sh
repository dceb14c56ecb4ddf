#!/usr/bin/env bash
# The browser test of the result view (crates/databricks-mcp/tests/it/result_view.rs)
# drives the system's Chromium with Playwright. This installs `playwright-core` (the
# driver only: it downloads no browser) from the npm registry into a git-ignored
# directory ($DATABRICKS_MCP_BROWSER_TOOLS, default target/browser-tools), as
# scripts/conformance.sh installs its tools. Chromium itself is the Debian package:
# `apt-get install chromium` (.ci/run does both). Needs node >= 20 and npm on PATH.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${DATABRICKS_MCP_BROWSER_TOOLS:-$ROOT/target/browser-tools}
PLAYWRIGHT_VERSION=1.65.1

if grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$TOOLS/node_modules/playwright-core/package.json" 2>/dev/null; then
  echo "playwright-core $PLAYWRIGHT_VERSION is in $TOOLS"
else
  echo "installing playwright-core@$PLAYWRIGHT_VERSION into $TOOLS" >&2
  mkdir -p "$TOOLS"
  timeout 600 npm install --prefix "$TOOLS" --no-fund --no-audit --loglevel=error \
    "playwright-core@$PLAYWRIGHT_VERSION" >&2
fi
command -v chromium >/dev/null 2>&1 || echo "note: no chromium on PATH; install the Debian package: apt-get install chromium" >&2
