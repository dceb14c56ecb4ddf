#!/usr/bin/env bash
# Regenerates crates/databricks-mcp/hot-code.order: the functions a session runs (start,
# initialize, tools/list, the read tools over stdio and HTTP), which the release build
# links first, so that the ~1,600 pages of code a session runs lie together instead of
# among 60 MB of text (each page fault maps its 64 KiB neighbourhood: README, Benchmarks).
# Needs: Linux x86_64, gcc, python3. Takes two release links of the binary (~12 min each here).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
gcc -shared -fPIC -O2 -o "$work/tracer.so" scripts/hot-code/tracer.c
cargo build --release -p databricks-emulator
# The same binary as `cargo build --release`, plus the linker's map of where each
# function landed.
# (Mangled names: the ordering file must name symbols as the linker sees them.)
cargo rustc --release -p databricks-mcp --bin databricks-mcp -- \
  -C "link-arg=-Wl,-Map=$work/map.txt" -C link-arg=-Wl,--no-demangle
python3 scripts/hot-code/exercise.py target/release/databricks-mcp \
  target/release/databricks-emulator "$work/tracer.so" "$work"
python3 scripts/hot-code/order.py "$work/map.txt" crates/databricks-mcp/hot-code.order \
  "$work"/stdio-1.pages "$work"/stdio-2.pages "$work"/http.pages
# Link again with the new order (build.rs reruns when the file changes).
cargo build --release -p databricks-mcp
