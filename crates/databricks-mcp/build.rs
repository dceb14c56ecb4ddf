//! Links the server as a position-dependent executable on Linux.
//!
//! A position-independent executable is relocated at load: the dynamic loader walks
//! `.rela.dyn` (millions of entries for DataFusion's vtables and tables) and writes every
//! page of `.data.rel.ro`, so ~10 MiB of the binary become resident before `main` even
//! with the local workspace never used. Linked at a fixed address, the linker resolves
//! those relocations itself and the pages stay on disk until touched: the default build
//! starts and sits as lean as the build without the local workspace (README, Benchmarks).
//! Shared libraries and the heap, stack and mmap areas stay randomized; only the
//! executable's own image loses ASLR.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // Opt out with DATABRICKS_MCP_PIE=1 (e.g. for a hardened distribution build).
    println!("cargo:rerun-if-env-changed=DATABRICKS_MCP_PIE");
    let keep_pie = std::env::var("DATABRICKS_MCP_PIE").is_ok_and(|v| v == "1");
    if os == "linux" && !keep_pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
