"""Runs the server through what a session does most (start, initialize, tools/list, the
read tools, over stdio and over HTTP) against the emulator, with the page-touch tracer
preloaded, and writes the touched pages of the binary (see order.sh)."""
import json, os, subprocess, sys, time, urllib.request

server, emulator, tracer, out_dir = sys.argv[1:5]

emu = subprocess.Popen([emulator], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
hello = json.loads(emu.stdout.readline())
base_env = {"PATH": os.environ.get("PATH", ""), "DATABRICKS_HOST": hello["base_url"],
            "DATABRICKS_TOKEN": hello["pat"], "DATABRICKS_MCP_LOG": "warn",
            "LD_PRELOAD": tracer, "TOUCH_TEXT_ONLY": "1"}

CALLS = [
    ("run_sql_query", {"query": "SELECT 1"}),
    ("run_sql_query", {"query": "SELECT * FROM samples.tpch.orders LIMIT 20"}),
    ("list_warehouses", {}), ("list_catalogs", {}), ("list_schemas", {"catalog": "samples"}),
    ("list_tables", {"catalog": "samples", "schema": "tpch"}),
    ("get_table_schema", {"table": "samples.tpch.orders"}),
    ("list_jobs", {}), ("list_clusters", {}), ("list_delta_pipelines", {}),
    ("get_query_history", {}), ("no_such_tool", {}),
]

def messages():
    yield {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "hot-code", "version": "0"}}}
    yield {"jsonrpc": "2.0", "method": "notifications/initialized"}
    yield {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    yield {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    for i, (name, args) in enumerate(CALLS):
        yield {"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
               "params": {"name": name, "arguments": args}}

def stdio(tag):
    env = dict(base_env, TOUCH_OUT=os.path.join(out_dir, f"{tag}.pages"))
    p = subprocess.Popen([server, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    for m in messages():
        p.stdin.write((json.dumps(m) + "\n").encode()); p.stdin.flush()
        if "id" in m:
            p.stdout.readline()
    p.stdin.close(); p.wait(30)

def http(tag):
    env = dict(base_env, TOUCH_OUT=os.path.join(out_dir, f"{tag}.pages"))
    p = subprocess.Popen([server, "serve", "--transport", "http", "--listen", "127.0.0.1:0"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env, text=True)
    url = None
    for line in p.stderr:
        if "http://127.0.0.1:" in line:
            url = "http://" + line.split("http://", 1)[1].split()[0].rstrip(".,")
            break
    assert url, "the HTTP server did not print its address"
    if not url.endswith("/mcp"):
        url = url.rstrip("/") + "/mcp"
    session = None
    for m in messages():
        headers = {"content-type": "application/json",
                   "accept": "application/json, text/event-stream"}
        if session:
            headers["mcp-session-id"] = session
        req = urllib.request.Request(url, json.dumps(m).encode(), headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            session = session or r.headers.get("mcp-session-id")
            r.read()
    p.send_signal(2); p.wait(30)

try:
    stdio("stdio-1"); stdio("stdio-2"); http("http")
finally:
    emu.stdin.close(); emu.wait(10)
