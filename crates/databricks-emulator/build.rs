//! Embeds every file of `fixtures/` (but its `SOURCES.md`): `src/fixtures.rs` includes the
//! generated list, so a new fixture needs no code.

use std::fmt::Write as _;

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=fixtures");
    let dir = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name != "SOURCES.md")
        .collect();
    names.sort();
    let mut list = String::from("&[\n");
    for name in names {
        let _ = writeln!(
            list,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/fixtures/{name}\"))),"
        );
    }
    list.push(']');
    let out =
        std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("fixtures.rs");
    std::fs::write(out, list)
}
