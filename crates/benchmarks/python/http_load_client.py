"""The HTTP load of `bench http-load` through the official Python MCP SDK (2.x): C clients,
each its own `mcp.Client` over streamable HTTP with its own bearer token, make N
`tools/call`s one after the other, all clients at once. Prints the wall time and the
per-call latencies' median and p99 (ms) as one JSON line. The clock starts when every
client is connected and has made one call. The SDK validates every result
against the tool's `outputSchema`, which is part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client


async def one_client(
    url: str, token: str, tool: str, calls: int, latencies: list[float], ready: asyncio.Barrier
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
    clients = asyncio.gather(*(one_client(args.url, t, args.tool, args.calls, latencies, ready) for t in tokens))
    await ready.wait()
    started = time.perf_counter()
    errors = await clients
    wall = time.perf_counter() - started
    latencies.sort()
    print(json.dumps({
        "wall_s": wall,
        "calls": len(latencies),
        "errors": sum(errors),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))] * 1000,
    }))


if __name__ == "__main__":
    asyncio.run(main())
