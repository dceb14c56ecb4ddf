#!/usr/bin/env python3
"""An agent written for Databricks' Genie One MCP server, run against databricks-mcp.

It uses the official Python MCP SDK the way the Genie One documentation describes the
flow: streamable HTTP to `/api/2.0/mcp/genie`, `genie_ask` with the SQL warehouse preset
in `_meta.warehouse_id` by the agent's code (never by the model), then
`genie_poll_response` — each poll only after the previous one returned — until the status
is `completed`, `incomplete` or `failed`, `genie_get_query_result` for a query's rows, a
follow-up in the same conversation, and `genie_cancel_response`. Bad calls must come back
as tool errors that say what to do. The server must be wired to the Databricks emulator
(crates/databricks-emulator); the Rust test crates/databricks-mcp/tests/it/python_genie_one.rs
runs this script and then checks, from the emulator's request log, exactly what reached
the Genie One API.

    .venv/bin/python tests/python/genie_one_agent_e2e.py --base-url http://127.0.0.1:PORT \
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

TOOLS = ["genie_ask", "genie_poll_response", "genie_get_query_result", "genie_cancel_response"]
TERMINAL = {"completed", "incomplete", "failed"}
QUESTION = "What were total sales last month by region?"
FOLLOW_UP = "And how does that compare to the month before?"
SLOW = "A slow question: revenue by product over ten years"
UNKNOWN_CONVERSATION = "0123456789abcdef0123456789abcdef"


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


class Agent:
    """The agent's tool calls: the model supplies `arguments`, the code presets `_meta`."""

    def __init__(self, session: ClientSession, checks: Checks, warehouse_id: str) -> None:
        self.session = session
        self.checks = checks
        self.meta = {"warehouse_id": warehouse_id}

    async def call(self, name: str, arguments: dict[str, Any], meta: dict[str, Any] | None = None) -> CallToolResult:
        self.checks.calls += 1
        request = CallToolRequest(
            method="tools/call",
            params=CallToolRequestParams(name=name, arguments=arguments, _meta=meta),
        )
        return await self.session.send_request(request, CallToolResult)

    async def ask(self, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.call("genie_ask", arguments, self.meta)
        self.checks.check(not result.is_error, f"genie_ask failed: {text_of(result)}")
        return result.structured_content or {}

    async def wait(self, turn: dict[str, Any]) -> dict[str, Any]:
        """Polls, one call after the other, until the turn ends."""
        ids = {"conversation_id": turn.get("conversation_id"), "response_id": turn.get("response_id")}
        for _ in range(30):
            result = await self.call("genie_poll_response", ids)
            if not self.checks.check(not result.is_error, f"genie_poll_response failed: {text_of(result)}"):
                return {}
            state = result.structured_content or {}
            if state.get("status") in TERMINAL:
                return state
            self.checks.check(
                bool(state.get("narration_instruction")), f"an in-progress poll says what to tell the user: {state}"
            )
        self.checks.check(False, f"the turn never ended: {turn}")
        return {}


async def run(args: argparse.Namespace, checks: Checks, summary: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {args.token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http:
        async with streamable_http_client(f"{args.base_url}/api/2.0/mcp/genie", http_client=http) as streams:
            read_stream, write_stream = streams[0], streams[1]
            async with ClientSession(read_stream, write_stream) as session:
                init = await session.initialize()
                checks.check("genie_poll_response" in (init.instructions or ""), "the instructions explain the flow")
                tools = [t.name for t in (await session.list_tools()).tools]
                checks.check(tools == TOOLS, f"/api/2.0/mcp/genie lists {tools}")
                agent = Agent(session, checks, args.warehouse_id)

                # Ask, poll to the answer, read the query's rows.
                asked = await agent.ask({"question": QUESTION})
                checks.check(asked.get("status") == "in_progress", f"genie_ask answers in_progress: {asked}")
                checks.check(asked.get("warehouse_id") == args.warehouse_id, f"the preset warehouse: {asked}")
                summary["conversation_id"] = asked.get("conversation_id")
                summary["response_id"] = asked.get("response_id")
                done = await agent.wait(asked)
                checks.check(done.get("status") == "completed", f"the answer: {done}")
                checks.check("EMEA" in (done.get("final_answer") or ""), f"final_answer: {done.get('final_answer')}")
                checks.check(len(done.get("progress_steps") or []) >= 1, "progress steps")
                items = done.get("query_items") or []
                if checks.check(len(items) == 1 and items[0].get("sql"), f"query_items: {items}"):
                    result = await agent.call(
                        "genie_get_query_result",
                        {
                            "conversation_id": done["conversation_id"],
                            "response_id": done["response_id"],
                            "item_id": items[0]["item_id"],
                        },
                    )
                    if checks.check(not result.is_error, f"genie_get_query_result: {text_of(result)}"):
                        rows = result.structured_content or {}
                        names = [c.get("name") for c in rows.get("columns", [])]
                        checks.check(names == ["region", "total_sales"], f"columns {names}")
                        checks.check(rows.get("rows", [[None]])[0] == ["EMEA", 1203456.78], f"rows {rows.get('rows')}")
                        checks.check(rows.get("total_row_count") == 4, f"total_row_count {rows.get('total_row_count')}")

                # A follow-up in the same conversation.
                follow = await agent.ask({"question": FOLLOW_UP, "conversation_id": asked.get("conversation_id")})
                checks.check(
                    follow.get("conversation_id") == asked.get("conversation_id"), f"the follow-up's conversation: {follow}"
                )
                checks.check(follow.get("response_id") != asked.get("response_id"), "a new response")
                summary["follow_up_response_id"] = follow.get("response_id")
                checks.check((await agent.wait(follow)).get("status") == "completed", "the follow-up is answered")

                # A question taking too long, cancelled.
                slow = await agent.ask({"question": SLOW})
                summary["slow"] = {"conversation_id": slow.get("conversation_id"), "response_id": slow.get("response_id")}
                cancelled = await agent.call(
                    "genie_cancel_response",
                    {"conversation_id": slow.get("conversation_id"), "response_id": slow.get("response_id")},
                )
                if checks.check(not cancelled.is_error, f"genie_cancel_response: {text_of(cancelled)}"):
                    state = cancelled.structured_content or {}
                    checks.check(state.get("status") == "incomplete", f"cancelled: {state}")
                    checks.check(state.get("incomplete_reason") == "cancelled", f"why: {state}")

                # Bad calls: tool errors that say what to do.
                bad = await agent.call(
                    "genie_ask", {"question": "Anything?", "conversation_id": UNKNOWN_CONVERSATION}, agent.meta
                )
                checks.check(bad.is_error is True, "an unknown conversation is an isError result")
                checks.check(UNKNOWN_CONVERSATION in text_of(bad), f"it names the conversation: {text_of(bad)}")
                bad = await agent.call("genie_ask", {}, agent.meta)
                checks.check(bad.is_error is True, "a missing question is an isError result")
                checks.check("question" in text_of(bad), f"it names the argument: {text_of(bad)}")
                bad = await agent.call("genie_poll_response", {"conversation_id": asked.get("conversation_id")})
                checks.check(bad.is_error is True and "response_id" in text_of(bad), f"missing response_id: {text_of(bad)}")
                bad = await agent.call("genie_ask", {"question": "x"}, {"warehouse_id": 7})
                checks.check(bad.is_error is True, "a bad _meta.warehouse_id is an isError result")
                checks.check("_meta.warehouse_id" in text_of(bad), f"it names the key: {text_of(bad)}")


async def main_async(args: argparse.Namespace) -> int:
    checks = Checks()
    summary: dict[str, Any] = {}
    try:
        await run(args, checks, summary)
    except BaseException as e:  # noqa: BLE001 - also ExceptionGroup from anyio task groups
        if isinstance(e, KeyboardInterrupt):
            raise
        checks.check(False, f"session failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    summary.update({"ok": not checks.failures, "calls": checks.calls})
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
