#!/usr/bin/env python3
"""Resources, prompts, completions and logging of databricks-mcp through the official Python
MCP SDK 1.x (tests/python/requirements-mcp1.txt, in .venv-mcp1), against the embedded local
workspace (no Databricks account). The checks of mcp_features_e2e.py (the SDK 2.x), written
against the 1.x API: `ClientSession` over `stdio_client` or `streamable_http_client`. The 1.x
SDK only speaks the initialize handshake, so there is no `--mode`.

Run by crates/databricks-mcp/tests/it/python_sdk.rs; by hand:

    # stdio: the script spawns `<server-cmd> serve --local DIR --local-scale-factor 0.001`
    .venv-mcp1/bin/python tests/python/mcp_features_e2e_v1.py --transport stdio \
        --server-cmd target/debug/databricks-mcp --local-dir /tmp/ws
    # http: against a running `databricks-mcp serve --transport http --local DIR`
    .venv-mcp1/bin/python tests/python/mcp_features_e2e_v1.py --transport http \
        --url http://127.0.0.1:8000/mcp

On success the last stdout line is `{"ok": true, "checks": N, "protocol_version": ...}` and the
exit status is 0; on failure each failed check is printed to stderr and the status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import traceback
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
from mcp import ClientSession, McpError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import PaginatedRequestParams, PromptReference, ResourceTemplateReference
from pydantic import AnyUrl

TABLE_TEMPLATE = "databricks://tables/{catalog}/{schema}/{table}"
PROMPTS = {"explore_table", "diagnose_job_run", "optimize_query", "data_quality_report", "pipeline_health"}
TIMEOUT_SECONDS = 120.0
# resources/not_found of the 2025-11-25 specification.
RESOURCE_NOT_FOUND = -32002
MAX_PAGES = 50


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.count = 0

    def check(self, condition: bool, message: str) -> bool:
        self.count += 1
        if not condition:
            self.failures.append(message)
            print(f"FAIL: {message}", file=sys.stderr)
        return condition


def texts(contents: Any) -> str:
    return "\n".join(getattr(c, "text", "") or "" for c in contents)


async def all_pages(list_page: Any, items: str) -> list[Any]:
    """Every item of a paginated list request (`list_page(params=...)`), following nextCursor."""
    found: list[Any] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = await list_page(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        found.extend(getattr(page, items))
        cursor = page.nextCursor
        if not cursor:
            break
    return found


async def run_checks(session: ClientSession, checks: Checks) -> None:
    caps = session.get_server_capabilities()
    for name in ("tools", "resources", "prompts", "completions", "logging"):
        checks.check(getattr(caps, name, None) is not None, f"capability {name} is missing: {caps!r}")

    templates = await all_pages(session.list_resource_templates, "resourceTemplates")
    uris = [t.uriTemplate for t in templates]
    checks.check(TABLE_TEMPLATE in uris, f"{TABLE_TEMPLATE} not among the templates {uris}")

    # The first read waits while samples.tpch is generated (503 + Retry-After, retried).
    read = await session.read_resource(AnyUrl("databricks://tables/samples/tpch/nation"))
    text = texts(read.contents)
    checks.check("n_nationkey" in text, f"the nation table resource lacks n_nationkey: {text[:400]}")
    checks.check(all(getattr(c, "mimeType", None) for c in read.contents), "a resource content has no mimeType")

    resources = await all_pages(session.list_resources, "resources")
    listed = [str(r.uri) for r in resources]
    checks.check(
        "databricks://schemas/samples/tpch" in listed, f"resources/list lacks the samples.tpch schema: {listed}"
    )

    try:
        await session.read_resource(AnyUrl("databricks://tables/samples/tpch/no_such_table"))
        checks.check(False, "reading a missing table returned contents instead of an error")
    except McpError as e:
        checks.check(
            e.error.code == RESOURCE_NOT_FOUND,
            f"missing table: error code {e.error.code}, want {RESOURCE_NOT_FOUND} ({e.error.message})",
        )

    prompts = await all_pages(session.list_prompts, "prompts")
    names = {p.name for p in prompts}
    checks.check(PROMPTS <= names, f"prompts/list lacks {sorted(PROMPTS - names)}")

    prompt = await session.get_prompt("explore_table", {"table": "samples.tpch.nation"})
    body = json.dumps([m.model_dump(mode="json") for m in prompt.messages])
    checks.check("samples.tpch.nation" in body, "explore_table does not mention the table")
    checks.check("n_nationkey" in body, "explore_table does not embed the table's metadata")

    done = await session.complete(
        PromptReference(type="ref/prompt", name="explore_table"), {"name": "table", "value": "samples.tpch.na"}
    )
    checks.check(
        "samples.tpch.nation" in done.completion.values,
        f"explore_table.table completion of samples.tpch.na: {done.completion.values}",
    )
    done = await session.complete(
        ResourceTemplateReference(type="ref/resource", uri=TABLE_TEMPLATE),
        {"name": "schema", "value": "tp"},
        context_arguments={"catalog": "samples"},
    )
    checks.check("tpch" in done.completion.values, f"schema completion of tp in samples: {done.completion.values}")

    await session.set_logging_level("info")
    checks.check(True, "logging/setLevel")

    # The session still works.
    tools = await all_pages(session.list_tools, "tools")
    checks.check(any(t.name == "run_sql_query" for t in tools), "tools/list lacks run_sql_query")


async def open_session(args: argparse.Namespace, stack: AsyncExitStack) -> ClientSession:
    if args.transport == "stdio":
        # env={}: the SDK's default environment only (HOME, PATH, ...), no DATABRICKS_*.
        server = StdioServerParameters(
            command=args.server_cmd,
            args=["serve", "--local", args.local_dir, "--local-scale-factor", "0.001"],
            env={},
        )
        read, write = await stack.enter_async_context(stdio_client(server))
    else:
        http = await stack.enter_async_context(
            httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=TIMEOUT_SECONDS), follow_redirects=True)
        )
        read, write, _ = await stack.enter_async_context(streamable_http_client(args.url, http_client=http))
    return await stack.enter_async_context(
        ClientSession(read, write, read_timeout_seconds=timedelta(seconds=TIMEOUT_SECONDS))
    )


async def main_async(args: argparse.Namespace) -> int:
    checks = Checks()
    protocol_version = None
    try:
        async with AsyncExitStack() as stack:
            session = await open_session(args, stack)
            init = await session.initialize()
            protocol_version = str(init.protocolVersion)
            await run_checks(session, checks)
    except BaseException as e:  # noqa: BLE001 - also ExceptionGroup from anyio task groups
        if isinstance(e, KeyboardInterrupt):
            raise
        checks.check(False, f"session failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    print(
        json.dumps(
            {
                "ok": not checks.failures,
                "checks": checks.count,
                "protocol_version": protocol_version,
                "failures": checks.failures,
            }
        ),
        flush=True,
    )
    return 1 if checks.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=["stdio", "http"], required=True)
    parser.add_argument("--server-cmd", help="the databricks-mcp binary (stdio)")
    parser.add_argument("--local-dir", help="the local workspace directory (stdio)")
    parser.add_argument("--url", help="the server's MCP endpoint (http)")
    args = parser.parse_args()
    if args.transport == "stdio" and not (args.server_cmd and args.local_dir):
        parser.error("--transport stdio needs --server-cmd and --local-dir")
    if args.transport == "http" and not args.url:
        parser.error("--transport http needs --url")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
