#!/usr/bin/env bash
# Builds the release binaries and runs every benchmark; prints Markdown tables.
#
# Then the 22 TPC-H queries at SF1 on the local workspace beside DuckDB (the Python
# `duckdb` package, installed into target/bench-venv; the data is generated into
# target/tpch-sf1 on the first run). BENCH_TPCH=0 leaves them out; BENCH_DUCKDB_PYTHON
# names a Python that already has `duckdb`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each on its own: built together, cargo unifies their dependencies' features, and the
# server measured would not be the binary `cargo install --path crates/databricks-mcp`
# gives, the one `hot-code.order` is made for (`scripts/hot-code/order.sh`).
cargo build --release -p databricks-mcp
cargo build --release -p benchmarks
target/release/bench all --server target/release/databricks-mcp "$@"

if [ "${BENCH_TPCH:-1}" = 0 ]; then
  exit 0
fi
cargo build --release -p local-workspace --example tpch_bench
python="${BENCH_DUCKDB_PYTHON:-}"
if [ -z "$python" ]; then
  python=target/bench-venv/bin/python
  if ! "$python" -c 'import duckdb' 2>/dev/null; then
    python3 -m venv target/bench-venv
    "$python" -m pip install --quiet 'duckdb==2.0.1'
  fi
fi
echo
target/release/examples/tpch_bench target/tpch-sf1 --python "$python"
