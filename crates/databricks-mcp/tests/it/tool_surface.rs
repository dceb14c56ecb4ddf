//! The tool list is a public API: snapshot each tool (one file per tool, so a change
//! shows in the tool it concerns), check the rules every tool follows, and keep the
//! README's tool table generated from the registry.

use std::collections::BTreeSet;
use std::path::PathBuf;

use databricks_mcp::tools::{Registry, SurfaceOptions, ToolKind, ToolSelection};
use serde_json::Value;

fn tools_json(allow_writes: bool) -> Value {
    serde_json::to_value(Registry::full(SurfaceOptions { allow_writes }).list()).unwrap()
}

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots")
}

/// Name, title, description, input and output schemas and annotations of every tool:
/// `tool_<name>.snap` in read-only mode, `tool_<name>__writes.snap` for a tool that
/// differs (or only exists) with `--allow-writes`.
#[test]
fn tool_snapshots() {
    let read_only = tools_json(false);
    let mut expected = BTreeSet::new();
    for (writes, suffix) in [(false, ""), (true, "__writes")] {
        for tool in tools_json(writes).as_array().unwrap() {
            if writes && read_only.as_array().unwrap().contains(tool) {
                continue;
            }
            let name = format!("tool_{}{suffix}", tool["name"].as_str().unwrap());
            insta::with_settings!({sort_maps => true, prepend_module_to_snapshot => false}, {
                insta::assert_json_snapshot!(name.clone(), tool);
            });
            expected.insert(format!("{name}.snap"));
        }
    }
    // A tool that was removed or renamed must not leave its snapshot behind.
    let stale: Vec<String> = std::fs::read_dir(snapshot_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.starts_with("tool_") && f.ends_with(".snap"))
        .filter(|f| !expected.contains(f))
        .collect();
    assert!(stale.is_empty(), "stale tool snapshots: {stale:?}");
}

/// The first sentence of a description.
fn first_sentence(text: &str) -> &str {
    let mut from = 0;
    while let Some(i) = text[from..].find(". ") {
        let end = from + i + 1;
        if !text[..end].ends_with("e.g.") && !text[..end].ends_with("i.e.") {
            return &text[..end];
        }
        from = end;
    }
    text
}

/// How a kind reads in the README.
fn kind_text(kind: ToolKind) -> &'static str {
    match kind {
        ToolKind::ReadList => "read (list)",
        ToolKind::ReadGet => "read",
        ToolKind::ReadAsk => "read, not idempotent",
        ToolKind::Stop => "stops a running task",
        ToolKind::Action {
            destructive: true, ..
        } => "writes (destructive)",
        ToolKind::Action { .. } => "writes",
        ToolKind::Function { .. } => "function",
    }
}

/// The README's tool table, from the registry: signature, toolset, kind (and what
/// changes with `--allow-writes`), first sentence of the description.
fn readme_table() -> String {
    let read_only = Registry::full(SurfaceOptions {
        allow_writes: false,
    });
    let writes = Registry::full(SurfaceOptions { allow_writes: true });
    let mut out = String::from("| tool | toolset | kind | what it does |\n|---|---|---|---|\n");
    for def in writes.iter() {
        let kind = match read_only.get(def.name()) {
            Some(r) if r.kind == def.kind => kind_text(def.kind).to_string(),
            Some(r) => format!(
                "{}; with `--allow-writes`: {}",
                kind_text(r.kind),
                kind_text(def.kind)
            ),
            None => format!("{}, only with `--allow-writes`", kind_text(def.kind)),
        };
        let description = read_only
            .get(def.name())
            .unwrap_or(def)
            .tool
            .description
            .as_deref()
            .unwrap_or("")
            .to_string();
        out.push_str(&format!(
            "| `{}` | {} | {kind} | {} |\n",
            def.signature(),
            if def.toolset.on_by_default() {
                def.toolset.name().to_string()
            } else {
                format!("{} (opt-in)", def.toolset.name())
            },
            first_sentence(&description).replace('|', "\\|")
        ));
    }
    out
}

/// The default `tools/list` (compact JSON, what a client puts in the model's context)
/// stays within 22 KB (22,000 bytes) for its 27 read tools: about 800 bytes a tool.
#[test]
fn the_default_tool_list_is_at_most_22_kb() {
    let registry = Registry::full(SurfaceOptions::default()).select(&ToolSelection::default());
    let json = serde_json::to_string(&serde_json::json!({"tools": registry.list()})).unwrap();
    println!(
        "default tools/list: {} tools, {} bytes",
        registry.len(),
        json.len()
    );
    assert!(json.len() <= 22_000, "{} bytes", json.len());
}

/// README.md's table between `<!-- tools:begin -->` and `<!-- tools:end -->` is the
/// registry's; `UPDATE_README=1` rewrites it.
#[test]
fn readme_tool_table_is_generated() {
    const BEGIN: &str = "<!-- tools:begin -->\n";
    const END: &str = "<!-- tools:end -->";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("README.md lacks <!-- tools:begin -->")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("README.md lacks <!-- tools:end -->");
    let table = readme_table();
    if readme[start..end] == table {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "README.md's tool table is not the registry's; run with UPDATE_README=1 to rewrite it:\n{table}"
    );
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
    assert!(ToolSelection::parse(&[], &[]).unwrap().is_default());
    assert_eq!(
        ToolSelection::parse(&["all".to_string()], &[]).unwrap(),
        ToolSelection::all()
    );
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
                // An optional value is absent, never null; only an array element (a SQL
                // NULL cell) may be null, as an `anyOf` branch.
                for key in ["anyOf", "oneOf"] {
                    if let Some(Value::Array(alternatives)) = object.get(key) {
                        assert!(
                            at.ends_with(".items")
                                || alternatives
                                    .iter()
                                    .all(|a| a.get("type") != Some(&Value::from("null"))),
                            "{tool} {at}: {schema}"
                        );
                    }
                }
                assert!(
                    object.len() > usize::from(object.contains_key("description")),
                    "{tool} {at}: a schema that accepts anything: {schema}"
                );
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
