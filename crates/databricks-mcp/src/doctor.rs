//! `databricks-mcp doctor`: configuration, authentication, connectivity, warehouse.

use std::fmt::Write;

use databricks_client::{Config, DatabricksClient, EnvSource};

use crate::cli::CommonArgs;
use crate::startup;
use crate::warehouse;

/// Runs every check, writing a report; returns whether all passed.
pub async fn run(common: &CommonArgs, env: &dyn EnvSource, out: &mut String) -> bool {
    let mut ok = true;
    // The default warehouse, the client, and (local mode) the state keeping the local
    // workspace alive for the checks.
    let (default_warehouse, client, _state) = match startup::choose_backend(common, env) {
        startup::Backend::Remote => {
            let config = match Config::resolve(&startup::overrides(common), env) {
                Ok(c) => {
                    let _ = writeln!(out, "✓ configuration\n{}", indent(&c.describe()));
                    c
                }
                Err(e) => {
                    let _ = writeln!(out, "✗ configuration: {e}");
                    return false;
                }
            };
            match DatabricksClient::new(&config) {
                Ok(client) => (config.warehouse_id.clone(), client, None),
                Err(e) => {
                    let _ = writeln!(out, "✗ client: {e}");
                    return false;
                }
            }
        }
        startup::Backend::Local(dir) => {
            let _ = writeln!(
                out,
                "✓ configuration: no Databricks workspace configured; the embedded local workspace in {} is used",
                dir.display()
            );
            match startup::build_state(common, env).await {
                Ok(state) => (
                    state.settings.default_warehouse_id.clone(),
                    state.client.clone(),
                    Some(state),
                ),
                Err(e) => {
                    let _ = writeln!(out, "✗ local workspace: {e}");
                    return false;
                }
            }
        }
    };
    match client.current_user().await {
        Ok(me) => {
            let _ = writeln!(
                out,
                "✓ authentication ({}): signed in as {}",
                client.auth_type(),
                if me.user_name.is_empty() {
                    me.id
                } else {
                    me.user_name
                }
            );
        }
        Err(e) => {
            ok = false;
            let _ = writeln!(out, "✗ authentication / connectivity: {e}");
        }
    }
    match client.list_all_warehouses().await {
        Ok(list) => {
            let _ = writeln!(out, "✓ SQL warehouses: {} visible", list.len());
            match &default_warehouse {
                Some(id) => match list.iter().find(|w| &w.id == id) {
                    Some(w) => {
                        let _ = writeln!(
                            out,
                            "  default warehouse {id} ({}, {})",
                            w.name,
                            w.state.as_str()
                        );
                    }
                    None => {
                        ok = false;
                        let _ = writeln!(
                            out,
                            "✗ default warehouse {id} is not in the list: check --warehouse-id / DATABRICKS_WAREHOUSE_ID"
                        );
                    }
                },
                None => match warehouse::pick(&list) {
                    Some(w) => {
                        let _ = writeln!(
                            out,
                            "  no default set; automatic selection would use {} ({}, {})",
                            w.id,
                            w.name,
                            w.state.as_str()
                        );
                    }
                    None => {
                        ok = false;
                        let _ = writeln!(
                            out,
                            "✗ no usable SQL warehouse: run_sql_query will fail until one exists"
                        );
                    }
                },
            }
        }
        Err(e) => {
            ok = false;
            let _ = writeln!(out, "✗ SQL warehouses: {e}");
        }
    }
    let _ = writeln!(
        out,
        "  mode: {}",
        if common.allow_writes {
            "SQL writes ENABLED"
        } else {
            "read-only"
        }
    );
    ok
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
