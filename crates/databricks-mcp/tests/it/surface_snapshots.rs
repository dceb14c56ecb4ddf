//! The managed-compatible surfaces' tool names and schemas are a public API (agents are
//! written against them): snapshot each surface, computed from the emulator's workspace,
//! and check the rules every tool follows.

use databricks_emulator::Emulator;
use databricks_mcp::surfaces::Surface;
use databricks_mcp::{DatabricksMcp, Settings};
use serde_json::Value;

use crate::managed_surfaces::SPACE_ID;
use crate::support::{fast_options, state_for};

async fn surface_json(emulator: &Emulator, allow_writes: bool, surface: &Surface) -> Value {
    let settings = Settings {
        allow_writes,
        ..Settings::default()
    };
    let server = DatabricksMcp::new(state_for(emulator, settings, fast_options()));
    serde_json::to_value(server.tools_of(surface).await.unwrap()).unwrap()
}

fn surfaces() -> Vec<(&'static str, Surface)> {
    vec![
        ("surface_sql", Surface::Sql),
        (
            "surface_vector_search",
            Surface::parse_spec("vector-search:main_catalog.docs").unwrap(),
        ),
        (
            "surface_genie",
            Surface::parse_spec(&format!("genie:{SPACE_ID}")).unwrap(),
        ),
        (
            "surface_functions",
            Surface::parse_spec("functions:main.sales").unwrap(),
        ),
        ("surface_genie_one", Surface::GenieOne),
    ]
}

#[tokio::test]
async fn managed_surface_snapshots() {
    let emulator = Emulator::start().await;
    for (name, surface) in surfaces() {
        let tools = surface_json(&emulator, false, &surface).await;
        insta::with_settings!({sort_maps => true, prepend_module_to_snapshot => false}, {
            insta::assert_json_snapshot!(name, tools);
        });
    }
    let writes = surface_json(&emulator, true, &Surface::Sql).await;
    insta::with_settings!({sort_maps => true, prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("surface_sql_writes", writes);
    });
}

#[tokio::test]
async fn managed_tools_follow_the_rules() {
    let emulator = Emulator::start().await;
    for (label, surface) in surfaces() {
        for writes in [false, true] {
            let tools = surface_json(&emulator, writes, &surface).await;
            let tools = tools.as_array().unwrap();
            assert!(!tools.is_empty(), "{label}");
            let mut names = std::collections::HashSet::new();
            for t in tools {
                let name = t["name"].as_str().unwrap();
                assert!(names.insert(name.to_string()), "duplicate {name}");
                assert!(
                    name.len() <= 128
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
                    "{name}"
                );
                assert!(
                    t["description"].as_str().unwrap_or("").len() >= 40,
                    "{name} needs a description a model can act on"
                );
                // The display name is the tool's `title` (not repeated in the annotations).
                assert!(t["title"].is_string(), "{name} lacks a title");
                for hint in [
                    "readOnlyHint",
                    "destructiveHint",
                    "idempotentHint",
                    "openWorldHint",
                ] {
                    assert!(!t["annotations"][hint].is_null(), "{name} lacks {hint}");
                }
                let schema = &t["inputSchema"];
                assert_eq!(schema["type"], "object", "{name}");
                assert_eq!(
                    schema["additionalProperties"],
                    Value::Bool(false),
                    "{name} refuses unknown arguments"
                );
            }
        }
    }
}
