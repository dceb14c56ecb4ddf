"""A reference server for `bench select1`: the Databricks MCP server as the common guides
write it, with the official Python SDK's FastMCP (1.x): one `execute_sql` tool that
submits the statement (INLINE, JSON_ARRAY, one request) and returns the rows. It is not
part of the product; it is what our per-call cost is compared with, through the same
client, against the same emulator, in the same run.
"""

from __future__ import annotations

import os

import httpx
from mcp.server.fastmcp import FastMCP

HOST = os.environ["DATABRICKS_HOST"].rstrip("/")
TOKEN = os.environ["DATABRICKS_TOKEN"]
WAREHOUSE = os.environ.get("DATABRICKS_WAREHOUSE_ID", "")

server = FastMCP("guide-style-databricks")
http = httpx.Client(base_url=HOST, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


@server.tool()
def execute_sql(query: str) -> list[list[str | None]]:
    """Run a SQL query on the Databricks SQL warehouse and return its rows."""
    r = http.post(
        "/api/2.0/sql/statements",
        json={"statement": query, "warehouse_id": WAREHOUSE, "wait_timeout": "30s"},
    )
    r.raise_for_status()
    body = r.json()
    state = body.get("status", {}).get("state")
    if state != "SUCCEEDED":
        raise RuntimeError(f"statement {state}: {body.get('status')}")
    return body.get("result", {}).get("data_array", [])


if __name__ == "__main__":
    server.run()
