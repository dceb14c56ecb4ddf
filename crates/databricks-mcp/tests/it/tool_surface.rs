//! The tool list is a public API: snapshot it, and check the rules every tool follows.

use databricks_mcp::tools::{Registry, SurfaceOptions};
use serde_json::Value;

fn tools_json(allow_writes: bool) -> Value {
    serde_json::to_value(Registry::full(SurfaceOptions { allow_writes }).list()).unwrap()
}

#[test]
fn tool_list_snapshot() {
    insta::with_settings!({sort_maps => true, prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("tools_read_only", tools_json(false));
    });
}

#[test]
fn run_sql_query_annotations_follow_the_mode() {
    let hints = |writes: bool| {
        let tools = tools_json(writes);
        let t = tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "run_sql_query")
            .unwrap()
            .clone();
        t["annotations"].clone()
    };
    assert_eq!(hints(false)["readOnlyHint"], true);
    assert_eq!(hints(false)["destructiveHint"], false);
    assert_eq!(hints(true)["readOnlyHint"], false);
    assert_eq!(hints(true)["destructiveHint"], true);
}

#[test]
fn every_tool_follows_the_rules() {
    for writes in [false, true] {
        let tools = tools_json(writes);
        let mut names = std::collections::HashSet::new();
        for t in tools.as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            assert!(names.insert(name.to_string()), "duplicate tool {name}");
            assert!(
                name.len() <= 128
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
                "{name}"
            );
            let desc = t["description"].as_str().unwrap_or("");
            assert!(
                desc.len() >= 40,
                "{name} needs a description that tells a model when to use it"
            );
            for hint in [
                "readOnlyHint",
                "destructiveHint",
                "idempotentHint",
                "openWorldHint",
                "title",
            ] {
                assert!(!t["annotations"][hint].is_null(), "{name} lacks {hint}");
            }
            let schema = &t["inputSchema"];
            assert_eq!(schema["type"], "object", "{name}");
            for combinator in ["oneOf", "anyOf", "allOf"] {
                assert!(
                    schema.get(combinator).is_none(),
                    "{name} has a top-level {combinator}"
                );
            }
        }
    }
}

#[test]
fn the_guide_tools_exist_with_their_argument_names() {
    let tools = tools_json(false);
    let find = |n: &str| {
        tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .cloned()
            .unwrap()
    };
    let props = |n: &str| find(n)["inputSchema"]["properties"].clone();
    assert!(props("run_sql_query").get("query").is_some());
    assert!(props("run_sql_query").get("warehouse_id").is_some());
    assert!(props("get_table_schema").get("database_name").is_some());
    assert!(props("get_table_schema").get("table_name").is_some());
    assert!(props("list_jobs").get("limit").is_some());
    assert!(props("get_job_runs").get("job_id").is_some());
    assert!(props("get_job_runs").get("limit").is_some());
    assert!(props("list_notebooks").get("path").is_some());
    for n in [
        "list_databases",
        "list_clusters",
        "list_delta_pipelines",
        "list_catalogs",
        "list_schemas",
        "list_tables",
        "list_warehouses",
    ] {
        find(n);
    }
}

/// `--toolsets` / `--tools`: the operator serves a subset; the server's instructions name
/// only the tools served; an unknown name is an error that lists the valid ones.
#[tokio::test]
async fn the_operator_selects_toolsets_and_tools() {
    use databricks_mcp::Settings;
    use databricks_mcp::tools::{SelectionError, ToolSelection};

    let selection =
        ToolSelection::parse(&["sql, catalog".to_string()], &["list_jobs".to_string()]).unwrap();
    let settings = Settings {
        tools: selection,
        ..Settings::default()
    };
    let h = crate::support::Harness::start_with(Default::default(), settings).await;
    let tools = h.client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"run_sql_query") && names.contains(&"list_catalogs"),
        "{names:?}"
    );
    assert!(names.contains(&"list_jobs"), "{names:?}");
    assert!(
        !names.contains(&"get_job_runs") && !names.contains(&"list_clusters"),
        "{names:?}"
    );
    let instructions = h.client.peer_info().unwrap().instructions.clone().unwrap();
    assert!(
        instructions.contains("sql (") && instructions.contains("list_jobs"),
        "{instructions}"
    );
    assert!(!instructions.contains("list_clusters"), "{instructions}");
    // A tool that is not served is unknown.
    let call = h
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("list_clusters"))
        .await;
    assert!(call.is_err(), "{call:?}");

    assert!(matches!(
        ToolSelection::parse(&["sqll".to_string()], &[]),
        Err(SelectionError::UnknownToolset(..))
    ));
    let err = ToolSelection::parse(&[], &["nope".to_string()]).unwrap_err();
    assert!(err.to_string().contains("nope"));
    assert!(ToolSelection::parse(&[], &[]).unwrap().is_everything());
}

/// Schemas every client accepts: no `null` in a type array, no `{"type": "null"}`
/// alternative, no bare boolean element schema (MCP Inspector `--strict`, single-type
/// dialects); `additionalProperties: false` stays.
#[test]
fn schemas_are_portable() {
    fn check(tool: &str, at: &str, schema: &Value) {
        match schema {
            Value::Object(object) => {
                if let Some(Value::Array(types)) = object.get("type") {
                    assert!(
                        !types.contains(&Value::from("null")),
                        "{tool} {at}: {schema}"
                    );
                }
                for key in ["anyOf", "oneOf"] {
                    if let Some(Value::Array(alternatives)) = object.get(key) {
                        assert!(
                            alternatives
                                .iter()
                                .all(|a| a.get("type") != Some(&Value::from("null"))),
                            "{tool} {at}: {schema}"
                        );
                    }
                }
                for (key, child) in object {
                    if matches!(key.as_str(), "items" | "not") {
                        assert!(
                            !child.is_boolean(),
                            "{tool} {at}.{key}: bare boolean schema"
                        );
                    }
                    check(tool, &format!("{at}.{key}"), child);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| check(tool, at, i)),
            _ => {}
        }
    }
    for writes in [false, true] {
        for tool in tools_json(writes).as_array().unwrap() {
            let name = tool["name"].as_str().unwrap();
            check(name, "inputSchema", &tool["inputSchema"]);
            if let Some(output) = tool.get("outputSchema") {
                check(name, "outputSchema", output);
            }
        }
    }
}
