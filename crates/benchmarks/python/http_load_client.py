"""The HTTP load of `bench http-load` through the official Python MCP SDK (2.x): C clients,
each its own `mcp.Client` over streamable HTTP with its own bearer token, make N
`tools/call`s one after the other, all clients at once. The SDK validates every result
against the tool's `outputSchema`, which is part of what is measured.

`bench` runs the clients in several processes (agents are processes of their own; one
Python process is bound to one core): each prints `ready` once its clients are connected
and have made one call, waits for a line on stdin, runs the load and prints one JSON line
with its per-call latencies (seconds) and errors. `bench` starts the clock when it
writes that line to every process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client


async def one_client(
    url: str, token: str, tool: str, calls: int, latencies: list[float], ready: asyncio.Barrier, go: asyncio.Event
) -> int:
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http:
        async with mcp.Client(streamable_http_client(url, http_client=http)) as client:
            # Connected and warmed (tools listed, one call) before the clock starts, as
            # the raw clients of `bench http-load` are.
            await client.list_tools()
            await client.call_tool(tool, {})
            await ready.wait()
            await go.wait()
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool(tool, {})
                latencies.append(time.perf_counter() - started)
                errors += bool(result.is_error)
    return errors


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--tokens", required=True, help="comma-separated, one per client")
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--tool", default="list_clusters")
    args = p.parse_args()
    tokens = args.tokens.split(",")
    latencies: list[float] = []
    ready = asyncio.Barrier(len(tokens) + 1)
    go = asyncio.Event()
    clients = asyncio.gather(*(one_client(args.url, t, args.tool, args.calls, latencies, ready, go) for t in tokens))
    await ready.wait()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    go.set()
    errors = await clients
    print(json.dumps({"latencies_s": latencies, "errors": sum(errors)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
