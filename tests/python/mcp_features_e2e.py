#!/usr/bin/env python3
"""Resources, prompts, completions and logging of databricks-mcp through the official Python
MCP SDK, against the embedded local workspace (no Databricks account); and the MCP Apps link
of the SQL tools to the result view, on the full and the managed SQL surface.

Run by crates/databricks-mcp/tests/it/python_sdk.rs; by hand:

    # stdio: the script spawns `<server-cmd> serve --local DIR --local-scale-factor 0.001`
    .venv/bin/python tests/python/mcp_features_e2e.py --transport stdio --mode auto \
        --server-cmd target/debug/databricks-mcp --local-dir /tmp/ws
    # http: against a running `databricks-mcp serve --transport http --local DIR`
    .venv/bin/python tests/python/mcp_features_e2e.py --transport http --mode legacy \
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
from typing import Any

from mcp import Client, MCPError, StdioServerParameters
from mcp.types import PromptReference, ResourceTemplateReference

TABLE_TEMPLATE = "databricks://tables/{catalog}/{schema}/{table}"
# The result view (MCP Apps, extension io.modelcontextprotocol/ui) and the tools linking it.
VIEW_URI = "ui://databricks-mcp/result-view"
VIEW_MIME = "text/html;profile=mcp-app"
VIEW_TOOLS = {"run_sql_query", "get_sql_result"}
MANAGED_VIEW_TOOLS = {"execute_sql", "execute_sql_read_only", "poll_sql_result"}
PROMPTS = {"explore_table", "diagnose_job_run", "optimize_query", "data_quality_report", "pipeline_health"}
TIMEOUT_SECONDS = 120.0


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


async def run_checks(client: Client, mode: str, checks: Checks) -> None:
    caps = client.server_capabilities
    for name in ("tools", "resources", "prompts", "completions", "logging"):
        checks.check(getattr(caps, name, None) is not None, f"capability {name} is missing: {caps!r}")

    templates = await client.list_resource_templates(cache_mode="bypass")
    uris = [t.uri_template for t in templates.resource_templates]
    checks.check(TABLE_TEMPLATE in uris, f"{TABLE_TEMPLATE} not among the templates {uris}")

    # The first read waits while samples.tpch is generated (503 + Retry-After, retried).
    read = await client.read_resource("databricks://tables/samples/tpch/nation", cache_mode="bypass")
    text = texts(read.contents)
    checks.check("n_nationkey" in text, f"the nation table resource lacks n_nationkey: {text[:400]}")
    checks.check(
        all(getattr(c, "mime_type", None) for c in read.contents), "a resource content has no mimeType"
    )

    resources = await client.list_resources(cache_mode="bypass")
    listed = [r.uri for r in resources.resources]
    checks.check(
        "databricks://schemas/samples/tpch" in listed, f"resources/list lacks the samples.tpch schema: {listed}"
    )

    try:
        await client.read_resource("databricks://tables/samples/tpch/no_such_table", cache_mode="bypass")
        checks.check(False, "reading a missing table returned contents instead of an error")
    except MCPError as e:
        want = -32602 if mode == "auto" else -32002
        checks.check(e.code == want, f"missing table: error code {e.code}, want {want} ({e.message})")

    prompts = await client.list_prompts(cache_mode="bypass")
    names = {p.name for p in prompts.prompts}
    checks.check(PROMPTS <= names, f"prompts/list lacks {sorted(PROMPTS - names)}")

    prompt = await client.get_prompt("explore_table", {"table": "samples.tpch.nation"})
    body = json.dumps([m.model_dump(mode="json") for m in prompt.messages])
    checks.check("samples.tpch.nation" in body, "explore_table does not mention the table")
    checks.check("n_nationkey" in body, "explore_table does not embed the table's metadata")

    done = await client.complete(
        PromptReference(type="ref/prompt", name="explore_table"), {"name": "table", "value": "samples.tpch.na"}
    )
    checks.check(
        "samples.tpch.nation" in done.completion.values,
        f"explore_table.table completion of samples.tpch.na: {done.completion.values}",
    )
    done = await client.complete(
        ResourceTemplateReference(type="ref/resource", uri=TABLE_TEMPLATE),
        {"name": "schema", "value": "tp"},
        context_arguments={"catalog": "samples"},
    )
    checks.check("tpch" in done.completion.values, f"schema completion of tp in samples: {done.completion.values}")

    if mode == "legacy":
        await client.set_logging_level("info")
        checks.check(True, "logging/setLevel")

    # The session still works.
    tools = await client.list_tools(cache_mode="bypass")
    checks.check(any(t.name == "run_sql_query" for t in tools.tools), "tools/list lacks run_sql_query")

    await app_checks(client, checks, VIEW_TOOLS, "/mcp")
    listed = {r.uri: r for r in resources.resources}
    entry = listed.get(VIEW_URI)
    if checks.check(entry is not None, f"resources/list lacks {VIEW_URI}: {sorted(listed)}"):
        checks.check(entry.mime_type == VIEW_MIME, f"the view is listed as {entry.mime_type}")
        checks.check(
            ((entry.meta or {}).get("ui") or {}).get("csp") is not None, f"the view's entry has no _meta.ui.csp: {entry.meta}"
        )


async def app_checks(client: Client, checks: Checks, linked: set[str], route: str) -> None:
    """The MCP Apps link: the SQL tools' `_meta.ui.resourceUri`, and the view it names read
    with resources/read as a host reads it."""
    tools = await client.list_tools(cache_mode="bypass")
    for tool in tools.tools:
        if tool.name not in linked:
            continue
        meta = tool.meta or {}
        checks.check(
            (meta.get("ui") or {}).get("resourceUri") == VIEW_URI,
            f"{route}: {tool.name} has no _meta.ui.resourceUri {VIEW_URI}: {meta}",
        )
        checks.check(meta.get("ui/resourceUri") == VIEW_URI, f"{route}: {tool.name} lacks the flat ui/resourceUri: {meta}")
    names = {t.name for t in tools.tools}
    checks.check(linked <= names, f"{route}: tools/list lacks {sorted(linked - names)}")
    checks.check(getattr(client.server_capabilities, "resources", None) is not None, f"{route}: no resources capability")
    read = await client.read_resource(VIEW_URI, cache_mode="bypass")
    if checks.check(len(read.contents) == 1, f"{route}: the view has {len(read.contents)} contents"):
        content = read.contents[0]
        checks.check(content.mime_type == VIEW_MIME, f"{route}: the view's mimeType is {content.mime_type}")
        html = getattr(content, "text", "") or ""
        checks.check(html.startswith("<!DOCTYPE html>"), f"{route}: the view is not an HTML document: {html[:80]!r}")
        checks.check(
            "Content-Security-Policy" in html and "default-src 'none'" in html,
            f"{route}: the view declares no strict CSP in its HTML",
        )
        csp = ((content.meta or {}).get("ui") or {}).get("csp")
        checks.check(
            isinstance(csp, dict) and all(v == [] for v in csp.values()) and "connectDomains" in csp,
            f"{route}: _meta.ui.csp allows no origin: {csp}",
        )


def make_client(args: argparse.Namespace, surface: str | None = None) -> Client:
    """A client of the full surface, or of a managed one (`--surface` over stdio, its route
    over HTTP)."""
    if args.transport == "stdio":
        extra = ["--surface", surface] if surface else []
        server: StdioServerParameters | str = StdioServerParameters(
            command=args.server_cmd,
            args=["serve", *extra, "--local", args.local_dir, "--local-scale-factor", "0.001"],
            env={},
        )
    elif surface == "sql":
        server = args.url.removesuffix("/mcp") + "/api/2.0/mcp/sql"
    else:
        server = args.url
    # On 2026-07-28 the log level travels in each request's _meta.
    log_level = "info" if args.mode == "auto" else None
    return Client(server, mode=args.mode, read_timeout_seconds=TIMEOUT_SECONDS, log_level=log_level)


async def main_async(args: argparse.Namespace) -> int:
    checks = Checks()
    protocol_version = None
    try:
        async with make_client(args) as client:
            protocol_version = client.protocol_version
            await run_checks(client, args.mode, checks)
        # The managed SQL surface links its tools to the same view and serves it.
        async with make_client(args, "sql") as client:
            await app_checks(client, checks, MANAGED_VIEW_TOOLS, "the managed SQL surface")
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
    parser.add_argument("--mode", choices=["legacy", "auto"], default="auto")
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
