#!/usr/bin/env python3
"""End-to-end check of databricks-mcp with the official Python MCP SDK as the client.

The server must be wired to the Databricks emulator (crates/databricks-emulator), whose
fixture data the assertions below rely on. Run by crates/databricks-mcp/tests/it/python_sdk.rs;
by hand:

    .venv/bin/pip install -r tests/python/requirements.txt
    # stdio: the script spawns `<server-cmd> serve` with DATABRICKS_HOST/DATABRICKS_TOKEN
    DATABRICKS_HOST=http://127.0.0.1:PORT DATABRICKS_TOKEN=... \
        .venv/bin/python tests/python/mcp_client_e2e.py --transport stdio --mode auto \
        --server-cmd target/debug/databricks-mcp
    # http: against a running `databricks-mcp serve --transport http`
    .venv/bin/python tests/python/mcp_client_e2e.py --transport http --mode legacy \
        --url http://127.0.0.1:8000/mcp

On success the last stdout line is `{"ok": true, "calls": N, "protocol_version": ...}` and the
exit status is 0. On failure every failed check is printed to stderr, the last stdout line is
`{"ok": false, ...}` and the exit status is 1 (2 for bad command-line usage).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import traceback
from typing import Any

import mcp
from mcp import Client, MCPError, StdioServerParameters
from mcp.types import CallToolResult, TextContent

EXPECTED_TOOLS = {
    "run_sql_query",
    "get_sql_result",
    "list_warehouses",
    "list_catalogs",
    "list_schemas",
    "list_tables",
    "list_databases",
    "get_table_schema",
    "list_jobs",
    "get_job_runs",
    "list_clusters",
    "list_delta_pipelines",
    "list_notebooks",
}

# Fixture values of the Databricks emulator.
WAREHOUSE_ID = "abcdef0123456789"
META_WAREHOUSE_ID = "0123456789abcdef"
CATALOG = "main"
SCHEMA = "sales"
TABLE = "orders"
JOB_ID = 11223344
CLUSTER_ID = "0923-164208-meows279"
PIPELINE_NAME = "orders_dlt"

# Environment forwarded to a stdio server (the SDK passes only a safe default set).
FORWARDED_ENV = ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_FILE", "DATABRICKS_MCP_LOG")

CALL_TIMEOUT_SECONDS = 60.0


class Checks:
    """Collects failed checks so one run reports all of them."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.calls = 0

    def check(self, condition: bool, message: str) -> bool:
        if not condition:
            self.failures.append(message)
            print(f"FAIL: {message}", file=sys.stderr)
        return condition


def result_text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


async def call_ok(
    client: Client,
    checks: Checks,
    name: str,
    arguments: dict[str, Any],
    *,
    expect_in_text: str | None = None,
    meta: dict[str, Any] | None = None,
) -> CallToolResult | None:
    """Call a tool that must succeed: isError false and a non-empty text."""
    checks.calls += 1
    try:
        result = await client.call_tool(name, arguments, read_timeout_seconds=CALL_TIMEOUT_SECONDS, meta=meta)
    except Exception as e:  # noqa: BLE001 - any exception is a failed check, reported precisely
        checks.check(False, f"{name}({json.dumps(arguments)}) raised {type(e).__name__}: {e}")
        return None
    text = result_text(result)
    if not checks.check(
        not result.is_error, f"{name}({json.dumps(arguments)}) returned isError=true: {short(text)}"
    ):
        return result
    checks.check(bool(text.strip()), f"{name}({json.dumps(arguments)}) returned no text content")
    if expect_in_text is not None:
        checks.check(
            expect_in_text in text,
            f"{name}({json.dumps(arguments)}) text lacks {expect_in_text!r}: {short(text)}",
        )
    return result


async def run_checks(client: Client, checks: Checks) -> None:
    # tools/list: every tool is present and annotated.
    listing = await client.list_tools(cache_mode="bypass")
    tools = {tool.name: tool for tool in listing.tools}
    while listing.next_cursor is not None:
        listing = await client.list_tools(cursor=listing.next_cursor, cache_mode="bypass")
        tools.update({tool.name: tool for tool in listing.tools})
    missing = EXPECTED_TOOLS - tools.keys()
    checks.check(not missing, f"tools/list lacks {sorted(missing)}; listed {sorted(tools)}")
    for name in sorted(EXPECTED_TOOLS & tools.keys()):
        tool = tools[name]
        ann = tool.annotations
        if not checks.check(ann is not None, f"tool {name} has no annotations"):
            continue
        assert ann is not None
        checks.check(ann.read_only_hint is True, f"tool {name}: readOnlyHint is {ann.read_only_hint!r}, want true")
        checks.check(
            ann.destructive_hint is False, f"tool {name}: destructiveHint is {ann.destructive_hint!r}, want false"
        )
        checks.check(ann.idempotent_hint is not None, f"tool {name}: idempotentHint is not set")
        checks.check(ann.open_world_hint is not None, f"tool {name}: openWorldHint is not set")
        checks.check(bool(ann.title or tool.title), f"tool {name}: no title")
        checks.check(bool(tool.description), f"tool {name}: no description")
        checks.check(tool.input_schema.get("type") == "object", f"tool {name}: inputSchema type is not object")

    # Every tool, with valid arguments.
    sql = await call_ok(
        client,
        checks,
        "run_sql_query",
        {"query": f"SELECT * FROM {CATALOG}.{SCHEMA}.{TABLE}", "warehouse_id": WAREHOUSE_ID, "max_rows": 5},
    )
    statement_id = None
    if sql is not None:
        structured = sql.structured_content
        if checks.check(
            isinstance(structured, dict) and isinstance(structured.get("statement_id"), str),
            f"run_sql_query structuredContent has no statement_id: {structured!r}",
        ):
            assert isinstance(structured, dict)
            statement_id = structured["statement_id"]
    if statement_id is not None:
        await call_ok(client, checks, "get_sql_result", {"statement_id": statement_id, "offset": 0, "limit": 5})
    else:
        checks.check(False, "get_sql_result not called: no statement_id from run_sql_query")

    await call_ok(client, checks, "list_warehouses", {}, expect_in_text=WAREHOUSE_ID)
    await call_ok(client, checks, "list_catalogs", {}, expect_in_text=CATALOG)
    await call_ok(client, checks, "list_schemas", {"catalog": CATALOG}, expect_in_text=SCHEMA)
    await call_ok(client, checks, "list_tables", {"catalog": CATALOG, "schema": SCHEMA}, expect_in_text=TABLE)
    await call_ok(client, checks, "list_databases", {}, expect_in_text=f"{CATALOG}.{SCHEMA}")
    await call_ok(
        client,
        checks,
        "get_table_schema",
        {"database_name": f"{CATALOG}.{SCHEMA}", "table_name": TABLE},
        expect_in_text="Primary key",
    )
    await call_ok(client, checks, "list_jobs", {"limit": 5}, expect_in_text=str(JOB_ID))
    await call_ok(client, checks, "get_job_runs", {"job_id": JOB_ID, "limit": 5})
    await call_ok(client, checks, "list_clusters", {}, expect_in_text=CLUSTER_ID)
    await call_ok(client, checks, "list_delta_pipelines", {}, expect_in_text=PIPELINE_NAME)
    await call_ok(client, checks, "list_notebooks", {})

    # Per-call _meta chooses the SQL warehouse. The emulator knows only its fixture
    # warehouses, so the result may be a tool error; what matters (checked by the Rust
    # test from the emulator's request log) is that the statement was sent to this id.
    checks.calls += 1
    try:
        meta_result = await client.call_tool(
            "run_sql_query",
            {"query": "SELECT 1"},
            read_timeout_seconds=CALL_TIMEOUT_SECONDS,
            meta={"warehouse_id": META_WAREHOUSE_ID},
        )
        checks.check(bool(result_text(meta_result).strip()), "run_sql_query with _meta returned no text")
    except Exception as e:  # noqa: BLE001
        checks.check(False, f"run_sql_query with _meta.warehouse_id raised {type(e).__name__}: {e}")

    # Bad arguments are a tool error (isError true), not a protocol error.
    checks.calls += 1
    try:
        bad = await client.call_tool(
            "get_job_runs", {"job_id": "not a number"}, read_timeout_seconds=CALL_TIMEOUT_SECONDS
        )
        checks.check(
            bad.is_error is True,
            f"get_job_runs with a non-numeric job_id: isError is {bad.is_error!r}, want true: {short(result_text(bad))}",
        )
        checks.check(bool(result_text(bad).strip()), "get_job_runs with bad arguments: the error has no text")
    except Exception as e:  # noqa: BLE001
        checks.check(False, f"get_job_runs with bad arguments raised {type(e).__name__}: {e} (want an isError result)")

    # An unknown tool is an MCP (JSON-RPC) error.
    checks.calls += 1
    try:
        unknown = await client.call_tool("no_such_tool", {}, read_timeout_seconds=CALL_TIMEOUT_SECONDS)
        checks.check(
            False,
            f"calling an unknown tool returned a result instead of raising MCPError: "
            f"isError={unknown.is_error!r} {short(result_text(unknown))}",
        )
    except MCPError as e:
        checks.check(bool(e.message), "the unknown-tool MCPError has no message")
    except Exception as e:  # noqa: BLE001
        checks.check(False, f"calling an unknown tool raised {type(e).__name__} (want MCPError): {e}")

    # The session still works after the errors.
    await call_ok(client, checks, "list_catalogs", {}, expect_in_text=CATALOG)


def make_client(args: argparse.Namespace) -> Client:
    if args.transport == "stdio":
        env = {key: os.environ[key] for key in FORWARDED_ENV if key in os.environ}
        server: StdioServerParameters | str = StdioServerParameters(
            command=args.server_cmd, args=["serve"], env=env
        )
    else:
        server = args.url
    return Client(server, mode=args.mode, read_timeout_seconds=CALL_TIMEOUT_SECONDS)


async def main_async(args: argparse.Namespace) -> int:
    checks = Checks()
    protocol_version = None
    try:
        async with make_client(args) as client:
            protocol_version = client.protocol_version
            expected_era = {"legacy": "2025-11-25", "auto": "2026-07-28"}[args.mode]
            checks.check(
                protocol_version == expected_era,
                f"negotiated protocol version {protocol_version!r}, want {expected_era!r} for mode={args.mode}",
            )
            info = client.server_info
            checks.check(
                info is not None and info.name == "databricks-mcp",
                f"serverInfo is {info!r}, want name 'databricks-mcp'",
            )
            await run_checks(client, checks)
    except BaseException as e:  # noqa: BLE001 - also ExceptionGroup from anyio task groups
        if isinstance(e, KeyboardInterrupt):
            raise
        checks.check(False, f"session failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    summary: dict[str, Any] = {
        "ok": not checks.failures,
        "calls": checks.calls,
        "protocol_version": protocol_version,
        "transport": args.transport,
        "mode": args.mode,
        "mcp_sdk": mcp_version(),
    }
    if checks.failures:
        summary["failures"] = checks.failures
    print(json.dumps(summary), flush=True)
    if checks.failures:
        print(f"{len(checks.failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


def mcp_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("mcp")
    except Exception:  # noqa: BLE001
        return getattr(mcp, "__version__", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=["stdio", "http"], required=True)
    parser.add_argument("--mode", choices=["legacy", "auto"], default="auto")
    parser.add_argument("--server-cmd", help="path to the databricks-mcp binary (stdio)")
    parser.add_argument("--url", help="the server's MCP endpoint, e.g. http://127.0.0.1:8000/mcp (http)")
    args = parser.parse_args()
    if args.transport == "stdio" and not args.server_cmd:
        parser.error("--transport stdio needs --server-cmd")
    if args.transport == "http" and not args.url:
        parser.error("--transport http needs --url")
    if args.transport == "stdio":
        for key in ("DATABRICKS_HOST", "DATABRICKS_TOKEN"):
            if key not in os.environ:
                parser.error(f"--transport stdio needs {key} in the environment")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
