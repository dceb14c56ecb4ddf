#!/usr/bin/env python3
"""An agent written for Databricks' managed MCP servers, run against databricks-mcp.

It uses the official Python MCP SDK the way the Databricks documentation's examples do:
streamable HTTP, a `ClientSession`, and `CallToolRequest`s whose `arguments` come from the
model and whose `_meta` is preset in the agent's code — `warehouse_id` for the Databricks
SQL server, the seven Vector Search keys for a Vector Search server. The server must be
wired to the Databricks emulator (crates/databricks-emulator); the Rust test
crates/databricks-mcp/tests/it/python_managed.rs runs this script and then checks, from
the emulator's request log, exactly which warehouse and query parameters reached the API.

    .venv/bin/python tests/python/managed_agent_e2e.py --base-url http://127.0.0.1:PORT \
        --token CLIENT_TOKEN --warehouse-id 0123456789abcdef

On success the last stdout line is `{"ok": true, ...}` and the exit status is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import traceback
from typing import Any

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolRequest, CallToolRequestParams, CallToolResult, TextContent

INDEX_TOOL = "main_catalog__docs__en_wiki_index"

# The Vector Search presets: what the agent's developer fixes, whatever the model asks.
VECTOR_SEARCH_META: dict[str, Any] = {
    "num_results": 3,
    "columns": "id,title,text",
    "columns_to_rerank": "title,text",
    "filters": '{"lang": "en", "updated_year >=": 2023}',
    "query_type": "HYBRID",
    "score_threshold": 0.5,
    "include_score": "true",
}


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.calls = 0

    def check(self, condition: bool, message: str) -> bool:
        if not condition:
            self.failures.append(message)
            print(f"FAIL: {message}", file=sys.stderr)
        return condition


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def call_tool(
    session: ClientSession, checks: Checks, name: str, arguments: dict[str, Any], meta: dict[str, Any] | None
) -> CallToolResult:
    """Exactly the managed-server examples' call: a CallToolRequest with name, arguments and _meta."""
    checks.calls += 1
    request = CallToolRequest(
        method="tools/call",
        params=CallToolRequestParams(name=name, arguments=arguments, _meta=meta),
    )
    return await session.send_request(request, CallToolResult)


async def with_session(base_url: str, path: str, token: str, body) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http:
        async with streamable_http_client(f"{base_url}{path}", http_client=http) as streams:
            read_stream, write_stream = streams[0], streams[1]
            async with ClientSession(read_stream, write_stream) as session:
                await session.initialize()
                await body(session)


async def run(args: argparse.Namespace, checks: Checks) -> None:
    async def sql(session: ClientSession) -> None:
        tools = {t.name for t in (await session.list_tools()).tools}
        checks.check(
            tools == {"execute_sql", "execute_sql_read_only", "poll_sql_result"},
            f"/api/2.0/mcp/sql lists {sorted(tools)}",
        )
        result = await call_tool(
            session,
            checks,
            "execute_sql_read_only",
            {"query": "SELECT * FROM main.sales.orders"},
            {"warehouse_id": args.warehouse_id},
        )
        if checks.check(not result.is_error, f"execute_sql_read_only failed: {text_of(result)}"):
            s = result.structured_content or {}
            checks.check(s.get("status", {}).get("state") == "SUCCEEDED", f"status: {s.get('status')}")
            checks.check(s.get("warehouse_id") == args.warehouse_id, f"warehouse_id: {s.get('warehouse_id')}")
            rows = (s.get("result") or {}).get("data_array") or []
            checks.check(len(rows) == 3, f"data_array has {len(rows)} rows")
            columns = [c["name"] for c in ((s.get("manifest") or {}).get("schema") or {}).get("columns", [])]
            checks.check(columns[:1] == ["order_id"], f"manifest columns {columns}")
            checks.check(text_of(result).startswith("order_id,"), "the text is a CSV table")

    async def vector_search(session: ClientSession) -> None:
        tools = {t.name for t in (await session.list_tools()).tools}
        checks.check(INDEX_TOOL in tools, f"vector-search route lists {sorted(tools)}")
        result = await call_tool(
            session, checks, INDEX_TOOL, {"query": "How do I rotate a personal access token?"}, VECTOR_SEARCH_META
        )
        if checks.check(not result.is_error, f"{INDEX_TOOL} failed: {text_of(result)}"):
            s = result.structured_content or {}
            checks.check(s.get("columns") == ["id", "title", "text", "score"], f"columns {s.get('columns')}")
            checks.check(s.get("result_count") == 3, f"result_count {s.get('result_count')}")
        bad = await call_tool(session, checks, INDEX_TOOL, {"query": "x"}, {"num_results": "several"})
        checks.check(bad.is_error is True, "an invalid _meta.num_results is an isError result")
        checks.check("_meta.num_results" in text_of(bad), f"the error names the key: {text_of(bad)}")

    await with_session(args.base_url, "/api/2.0/mcp/sql", args.token, sql)
    # The AI Search route (Vector Search's new name) serves the same tools and _meta keys.
    for prefix in ("vector-search", "ai-search"):
        await with_session(args.base_url, f"/api/2.0/mcp/{prefix}/main_catalog/docs", args.token, vector_search)


async def main_async(args: argparse.Namespace) -> int:
    checks = Checks()
    try:
        await run(args, checks)
    except BaseException as e:  # noqa: BLE001 - also ExceptionGroup from anyio task groups
        if isinstance(e, KeyboardInterrupt):
            raise
        checks.check(False, f"session failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    summary = {"ok": not checks.failures, "calls": checks.calls}
    if checks.failures:
        summary["failures"] = checks.failures
    print(json.dumps(summary), flush=True)
    return 0 if not checks.failures else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="a client bearer token the server accepts")
    parser.add_argument("--warehouse-id", required=True, help="the warehouse preset with _meta.warehouse_id")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
