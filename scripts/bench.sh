#!/usr/bin/env bash
# Builds the release binaries and runs every benchmark; prints Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p databricks-mcp -p benchmarks
exec target/release/bench all --server target/release/databricks-mcp "$@"
