"""`SELECT 1` per call through an official Python MCP client, as agents built on it feel it.

Run by `bench select1` (crates/benchmarks/src/select1.rs), once per server and client
version: spawns the server over stdio, calls one tool `--calls` times in a row after a
warm-up, and prints the per-call median and p90 in milliseconds as one JSON line. Works
with the 2.x SDK (`mcp.Client`) and the 1.x SDK (`ClientSession`); both re-validate
every `structuredContent` against the tool's `outputSchema`, which is part of what is
measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

import mcp
from mcp import StdioServerParameters


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--command", required=True)
    p.add_argument("--arg", action="append", default=[], help="server argument (repeat)")
    p.add_argument("--env", action="append", default=[], help="NAME to forward to the server (repeat)")
    p.add_argument("--tool", required=True)
    p.add_argument("--arguments", default="{}", help="tool arguments, JSON")
    p.add_argument("--calls", type=int, default=200)
    return p.parse_args()


def summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": times[min(len(times) - 1, round(0.9 * (len(times) - 1)))] * 1000,
        "calls": len(times),
    }


async def run_v2(params: StdioServerParameters, tool: str, arguments: dict, calls: int) -> dict:
    async with mcp.Client(params) as client:
        await client.list_tools()
        times = []
        for i in range(calls + 5):
            started = time.perf_counter()
            result = await client.call_tool(tool, arguments)
            elapsed = time.perf_counter() - started
            if result.is_error:
                raise SystemExit(f"{tool} failed: {result}")
            if i >= 5:
                times.append(elapsed)
    return summary(times)


async def run_v1(params: StdioServerParameters, tool: str, arguments: dict, calls: int) -> dict:
    from mcp import ClientSession
    from mcp.client.stdio import stdio_client

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            times = []
            for i in range(calls + 5):
                started = time.perf_counter()
                result = await session.call_tool(tool, arguments)
                elapsed = time.perf_counter() - started
                if result.isError:
                    raise SystemExit(f"{tool} failed: {result}")
                if i >= 5:
                    times.append(elapsed)
    return summary(times)


def main() -> None:
    args = parse()
    env = {name: os.environ[name] for name in args.env if name in os.environ}
    env["PATH"] = os.environ.get("PATH", "")
    params = StdioServerParameters(command=args.command, args=args.arg, env=env)
    arguments = json.loads(args.arguments)
    runner = run_v2 if hasattr(mcp, "Client") else run_v1
    result = asyncio.run(runner(params, args.tool, arguments, args.calls))
    from importlib.metadata import version

    result["sdk"] = version("mcp")
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
