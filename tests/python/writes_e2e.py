#!/usr/bin/env python3
"""Writes confirmed by the person, through the official Python MCP SDK, against the embedded
local workspace: the elicitation callback declines, cancels and accepts (2025-11-25 sessions
get `elicitation/create`, 2026-07-28 requests an `input_required` round); a client without
elicitation gets the one-time code; a read-only server neither lists nor runs write tools;
the audit log has a line per attempt. Every outcome is read back from the workspace.

Run by crates/databricks-mcp/tests/it/python_sdk.rs; by hand:

    .venv/bin/python tests/python/writes_e2e.py --transport stdio --mode auto \
        --server-cmd target/debug/databricks-mcp --local-dir /tmp/ws

The last stdout line is `{"ok": true, "checks": N, ...}` (exit 0), or failures (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import traceback
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.types import ElicitResult

TIMEOUT_SECONDS = 120.0
WRITE_TOOLS = {"run_job_now", "cancel_run", "stop_warehouse", "import_notebook", "upload_volume_file"}


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


def text_of(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") or "" for c in result.content)


class Person:
    """The elicitation callback: answers with `action`, and remembers what it was asked."""

    def __init__(self) -> None:
        self.action = "decline"
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.asked.append(getattr(params, "message", ""))
        content = {} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)


def server(args: argparse.Namespace, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=args.server_cmd,
        args=["serve", "--local", args.local_dir, "--local-scale-factor", "0.001", *extra],
        env={"HOME": os.environ.get("HOME", "/tmp")},
    )


async def warehouse_state(client: Client) -> tuple[str, str]:
    listed = await client.call_tool("list_warehouses", {})
    first = listed.structured_content["warehouses"][0]
    return first["id"], first["state"]


async def check_elicited(args: argparse.Namespace, audit: str, checks: Checks) -> None:
    person = Person()
    client = Client(
        server(args, "--allow-writes", "--audit-log", audit),
        mode=args.mode,
        read_timeout_seconds=TIMEOUT_SECONDS,
        elicitation_callback=person,
    )
    async with client:
        tools = {t.name for t in (await client.list_tools(cache_mode="bypass")).tools}
        checks.check(WRITE_TOOLS <= tools, f"write tools missing with --allow-writes: {WRITE_TOOLS - tools}")
        warehouse, before = await warehouse_state(client)
        checks.check(before == "RUNNING", f"the local warehouse should start RUNNING, is {before}")

        for action in ("decline", "cancel"):
            person.action = action
            result = await client.call_tool("stop_warehouse", {"warehouse_id": warehouse})
            text = text_of(result)
            checks.check(not result.is_error, f"{action}: a declined write is an answer, not an error: {text}")
            checks.check("Nothing was changed" in text, f"{action}: the answer says nothing changed: {text}")
            _, state = await warehouse_state(client)
            checks.check(state == "RUNNING", f"{action}: the warehouse must still run, is {state}")
        checks.check(
            len(person.asked) == 2 and all(warehouse in m and "Stop SQL warehouse" in m for m in person.asked),
            f"the person was asked the exact action and target: {person.asked}",
        )

        person.action = "accept"
        result = await client.call_tool("stop_warehouse", {"warehouse_id": warehouse})
        checks.check(not result.is_error, f"accepted stop failed: {text_of(result)}")
        _, state = await warehouse_state(client)
        checks.check(state in ("STOPPING", "STOPPED"), f"accepted: the warehouse stops, is {state}")
        result = await client.call_tool("start_warehouse", {"warehouse_id": warehouse})
        checks.check(not result.is_error, f"accepted start failed: {text_of(result)}")

        # An import is exported back byte for byte.
        source = "# Databricks notebook source\nprint('hello from the e2e test')\n"
        path = f"/Shared/e2e_{args.mode}_notebook"
        result = await client.call_tool(
            "import_notebook", {"path": path, "content": source, "language": "PYTHON"}
        )
        checks.check(not result.is_error, f"import failed: {text_of(result)}")
        exported = await client.call_tool("export_notebook", {"path": path})
        checks.check(
            not exported.is_error and exported.structured_content.get("source") == source,
            f"the export differs from the import: {exported.structured_content!r}",
        )

        # An upload is read back; a path outside /Volumes is refused, nothing written.
        file_path = f"/Volumes/main/default/files/{args.mode}_e2e.txt"
        result = await client.call_tool("upload_volume_file", {"path": file_path, "content": "a,b\n1,2\n"})
        checks.check(not result.is_error, f"upload failed: {text_of(result)}")
        read = await client.call_tool("read_volume_file", {"path": file_path})
        checks.check("1,2" in text_of(read), f"the upload reads back: {text_of(read)}")
        asked = len(person.asked)
        bad = await client.call_tool("upload_volume_file", {"path": "/etc/passwd", "content": "x"})
        checks.check(bad.is_error and "/Volumes" in text_of(bad), f"a path outside volumes is refused: {text_of(bad)}")
        checks.check(len(person.asked) == asked, "nobody is asked to confirm a refused call")

        # Binary content is not a notebook.
        bad = await client.call_tool(
            "import_notebook", {"path": "/Shared/e2e_binary", "content": "\u0000\u0001", "language": "PYTHON"}
        )
        checks.check(bad.is_error and "binary" in text_of(bad), f"binary import refused: {text_of(bad)}")


async def check_code(args: argparse.Namespace, audit: str, checks: Checks) -> None:
    """Without an elicitation callback the client declares no elicitation: the code flow."""
    client = Client(server(args, "--allow-writes", "--audit-log", audit), mode=args.mode, read_timeout_seconds=TIMEOUT_SECONDS)
    async with client:
        warehouse, before = await warehouse_state(client)
        first = await client.call_tool("stop_warehouse", {"warehouse_id": warehouse})
        text = text_of(first)
        match = re.search(r'confirmation_code: "([A-Z0-9-]+)"', text)
        checks.check(not first.is_error and match is not None, f"the first call answers a code: {text}")
        _, state = await warehouse_state(client)
        checks.check(state == before, f"nothing is done before the code comes back: {before} -> {state}")
        if not match:
            return
        code = match.group(1)
        other = await client.call_tool("start_warehouse", {"warehouse_id": warehouse, "confirmation_code": code})
        checks.check(other.is_error, f"a code does not confirm another tool: {text_of(other)}")
        # The code was used by that refused attempt: a new one is needed.
        again = await client.call_tool("stop_warehouse", {"warehouse_id": warehouse})
        code = re.search(r'confirmation_code: "([A-Z0-9-]+)"', text_of(again))
        checks.check(code is not None, f"a second code: {text_of(again)}")
        if code:
            done = await client.call_tool(
                "stop_warehouse", {"warehouse_id": warehouse, "confirmation_code": code.group(1)}
            )
            checks.check(not done.is_error and "stopping" in text_of(done), f"with the code it is done: {text_of(done)}")
            _, state = await warehouse_state(client)
            checks.check(state in ("STOPPING", "STOPPED"), f"the warehouse stops with the code: {state}")


async def check_read_only(args: argparse.Namespace, checks: Checks) -> None:
    client = Client(server(args), mode=args.mode, read_timeout_seconds=TIMEOUT_SECONDS, elicitation_callback=Person())
    async with client:
        tools = {t.name for t in (await client.list_tools(cache_mode="bypass")).tools}
        checks.check(not (WRITE_TOOLS & tools), f"a read-only server lists write tools: {WRITE_TOOLS & tools}")
        result = await client.call_tool("stop_warehouse", {"warehouse_id": "anything"})
        checks.check(
            result.is_error and "--allow-writes" in text_of(result),
            f"a write tool called by name names the flag: {text_of(result)}",
        )


async def main_async(args: argparse.Namespace) -> int:
    checks = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        audit = os.path.join(tmp, "audit.jsonl")
        try:
            await check_elicited(args, audit, checks)
            await check_code(args, audit, checks)
            await check_read_only(args, checks)
        except BaseException as e:  # noqa: BLE001 - also ExceptionGroup from anyio task groups
            if isinstance(e, KeyboardInterrupt):
                raise
            checks.check(False, f"session failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
        lines = []
        if os.path.exists(audit):
            with open(audit) as f:
                lines = [json.loads(line) for line in f if line.strip()]
        outcomes = [(line["tool"], line["confirmation"], line["result"]) for line in lines]
        for expected in [
            ("stop_warehouse", "declined", "not_done"),
            ("stop_warehouse", "cancelled", "not_done"),
            ("stop_warehouse", "accepted", "done"),
            ("import_notebook", "accepted", "done"),
            ("upload_volume_file", "accepted", "done"),
            ("upload_volume_file", "none", "failed"),
            ("stop_warehouse", "code_issued", "not_done"),
            ("start_warehouse", "code_refused", "failed"),
            ("stop_warehouse", "code_accepted", "done"),
        ]:
            checks.check(expected in outcomes, f"audit log lacks {expected}: {outcomes}")
        text = json.dumps(lines)
        checks.check("hello from the e2e test" not in text, "notebook content leaked into the audit log")
        checks.check(all(line.get("client") == "stdio" for line in lines), f"clients: {[l.get('client') for l in lines]}")
    print(json.dumps({"ok": not checks.failures, "checks": checks.count, "failures": checks.failures}), flush=True)
    return 1 if checks.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=["stdio"], required=True)
    parser.add_argument("--mode", choices=["legacy", "auto"], default="auto")
    parser.add_argument("--server-cmd", required=True, help="the databricks-mcp binary")
    parser.add_argument("--local-dir", required=True, help="the local workspace directory")
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
