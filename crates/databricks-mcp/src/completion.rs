//! `completion/complete`: values for every prompt argument and resource-template
//! parameter that names a workspace object, filtered by what the person typed, from the
//! short-lived name cache (`lookup.rs`).
//!
//! Matching is case-insensitive: values that start with the typed text come first, then
//! objects whose label (a job's, warehouse's, pipeline's or Genie space's name) contains
//! it. At most 100 values, with `total` and `hasMore`.

use std::collections::HashMap;

use rmcp::ErrorData as McpError;
use rmcp::model::{CompleteRequestParams, CompletionInfo, Reference};

use crate::context::CallContext;
use crate::lookup::{Kind, Named};
use crate::prompts;

/// What an argument completes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completes {
    Catalog,
    /// A schema of the `catalog` argument given before.
    Schema,
    /// A table of the `catalog` and `schema` arguments given before.
    Table,
    /// `catalog.schema.table`, completed one part at a time.
    FullTableName,
    Warehouse,
    Job,
    Run,
    Pipeline,
    /// A workspace path with its leading slash (prompt arguments).
    WorkspacePath,
    /// A workspace path without the leading slash (the `{+path}` of a URI).
    WorkspacePathInUri,
    GenieSpace,
    VectorIndex,
    Nothing,
}

/// The resource templates' parameters (see `resources::templates`).
fn template_parameter(template: &str, name: &str) -> Completes {
    match (template, name) {
        (_, "catalog") => Completes::Catalog,
        (_, "schema") => Completes::Schema,
        (_, "table") => Completes::Table,
        (_, "path") => Completes::WorkspacePathInUri,
        (_, "job_id") => Completes::Job,
        (_, "run_id") => Completes::Run,
        _ => Completes::Nothing,
    }
}

const MAX_VALUES: usize = CompletionInfo::MAX_VALUES;
/// Runs offered for completion: the most recent ones across jobs.
const RECENT_RUNS: u32 = 25;

pub async fn complete(
    ctx: &CallContext,
    request: &CompleteRequestParams,
) -> Result<CompletionInfo, McpError> {
    let argument = &request.argument;
    let completes = match &request.r#ref {
        Reference::Prompt(p) => {
            let prompt = prompts::find(&p.name).ok_or_else(|| {
                McpError::invalid_params(format!("unknown prompt {:?}", p.name), None)
            })?;
            prompt
                .arguments
                .iter()
                .find(|a| a.name == argument.name)
                .map(|a| a.completes)
                .ok_or_else(|| {
                    McpError::invalid_params(
                        format!("prompt {} has no argument {:?}", p.name, argument.name),
                        None,
                    )
                })?
        }
        Reference::Resource(r) => {
            let known = crate::resources::templates()
                .resource_templates
                .iter()
                .any(|t| t.uri_template == r.uri);
            if !known {
                return Err(McpError::invalid_params(
                    format!("unknown resource template {:?}", r.uri),
                    None,
                ));
            }
            template_parameter(&r.uri, &argument.name)
        }
        other => {
            return Err(McpError::invalid_params(
                format!(
                    "completion references of type {} are not supported",
                    other.reference_type()
                ),
                None,
            ));
        }
    };
    let context: HashMap<String, String> = request
        .context
        .as_ref()
        .and_then(|c| c.arguments.clone())
        .unwrap_or_default();
    let values = candidates(ctx, completes, argument.value.trim(), &context).await;
    Ok(limited(values))
}

fn limited(values: Vec<String>) -> CompletionInfo {
    let total = values.len();
    let mut info = CompletionInfo::default();
    info.values = values.into_iter().take(MAX_VALUES).collect();
    info.total = u32::try_from(total).ok();
    info.has_more = Some(total > MAX_VALUES);
    info
}

/// The values for `typed`. A listing that fails (no permission, workspace down) offers
/// nothing rather than an error: completion is a convenience.
async fn candidates(
    ctx: &CallContext,
    completes: Completes,
    typed: &str,
    context: &HashMap<String, String>,
) -> Vec<String> {
    let names = |kind: Kind, parent: String| async move {
        match ctx
            .state
            .lookup
            .names(&ctx.state.client, kind, &parent)
            .await
        {
            Ok(names) => names,
            Err(e) => {
                tracing::debug!(?kind, %parent, "completion listing failed: {e}");
                Default::default()
            }
        }
    };
    let given = |name: &str| {
        context
            .get(name)
            .map(|v| v.trim().trim_matches('`').to_string())
    };
    match completes {
        Completes::Nothing => Vec::new(),
        Completes::Catalog => matching(&names(Kind::Catalogs, String::new()).await, typed),
        Completes::Schema => match given("catalog") {
            Some(catalog) => matching(&names(Kind::Schemas, catalog).await, typed),
            None => Vec::new(),
        },
        Completes::Table => match (given("catalog"), given("schema")) {
            (Some(c), Some(s)) => matching(&names(Kind::Tables, format!("{c}.{s}")).await, typed),
            _ => Vec::new(),
        },
        Completes::FullTableName => {
            let parts: Vec<&str> = typed.split('.').collect();
            match parts.as_slice() {
                [catalog, schema, table] => {
                    let found = names(Kind::Tables, format!("{catalog}.{schema}")).await;
                    prefixed(&format!("{catalog}.{schema}."), matching(&found, table))
                }
                [catalog, schema] => {
                    let found = names(Kind::Schemas, (*catalog).to_string()).await;
                    prefixed(&format!("{catalog}."), matching(&found, schema))
                }
                _ => matching(&names(Kind::Catalogs, String::new()).await, typed),
            }
        }
        Completes::Warehouse => matching(&names(Kind::Warehouses, String::new()).await, typed),
        Completes::Job => matching(&names(Kind::Jobs, String::new()).await, typed),
        Completes::Run => recent_runs(ctx, given("job_id"), typed).await,
        Completes::Pipeline => matching(&names(Kind::Pipelines, String::new()).await, typed),
        Completes::GenieSpace => matching(&names(Kind::GenieSpaces, String::new()).await, typed),
        Completes::VectorIndex => matching(&names(Kind::VectorIndexes, String::new()).await, typed),
        Completes::WorkspacePath | Completes::WorkspacePathInUri => {
            let with_slash = format!("/{}", typed.trim_start_matches('/'));
            let folder = match with_slash.rfind('/') {
                Some(0) | None => "/".to_string(),
                Some(i) => with_slash.get(..i).unwrap_or("/").to_string(),
            };
            let found = names(Kind::Workspace, folder).await;
            let paths: Vec<String> = found
                .iter()
                .filter(|n| starts_with_ignore_case(&n.value, &with_slash))
                .map(|n| {
                    let path = if n.is_folder {
                        format!("{}/", n.value)
                    } else {
                        n.value.clone()
                    };
                    if completes == Completes::WorkspacePathInUri {
                        path.trim_start_matches('/').to_string()
                    } else {
                        path
                    }
                })
                .collect();
            paths
        }
    }
}

/// The most recent runs (of `job_id` when given), as run ids.
async fn recent_runs(ctx: &CallContext, job_id: Option<String>, typed: &str) -> Vec<String> {
    let job_id = job_id.and_then(|j| j.parse::<i64>().ok());
    match ctx.state.client.list_runs(job_id, RECENT_RUNS, None).await {
        Ok(page) => {
            let runs: Vec<Named> = page
                .items
                .into_iter()
                .map(|r| Named {
                    value: r.run_id.to_string(),
                    label: r.run_name,
                    is_folder: false,
                })
                .collect();
            matching(&runs, typed)
        }
        Err(e) => {
            tracing::debug!("completion of run ids failed: {e}");
            Vec::new()
        }
    }
}

fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Values starting with `typed`, then those whose label contains it.
fn matching(names: &[Named], typed: &str) -> Vec<String> {
    let typed = typed.trim_matches('`');
    let lower = typed.to_lowercase();
    let mut first: Vec<String> = Vec::new();
    let mut then: Vec<String> = Vec::new();
    for n in names {
        if starts_with_ignore_case(&n.value, typed) {
            first.push(n.value.clone());
        } else if !lower.is_empty()
            && n.label
                .as_deref()
                .is_some_and(|l| l.to_lowercase().contains(&lower))
        {
            then.push(n.value.clone());
        }
    }
    first.sort();
    first.extend(then);
    first
}

fn prefixed(prefix: &str, values: Vec<String>) -> Vec<String> {
    values.into_iter().map(|v| format!("{prefix}{v}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(value: &str, label: Option<&str>) -> Named {
        Named {
            value: value.into(),
            label: label.map(String::from),
            is_folder: false,
        }
    }

    #[test]
    fn prefix_first_then_label() {
        let names = [
            named("17", Some("nightly orders")),
            named("42", Some("ingest")),
            named("4", Some("orders backfill")),
        ];
        assert_eq!(matching(&names, "4"), vec!["4", "42"]);
        assert_eq!(matching(&names, "ORDERS"), vec!["17", "4"]);
        assert_eq!(matching(&names, ""), vec!["17", "4", "42"]);
    }

    #[test]
    fn at_most_a_hundred_with_has_more() {
        let info = limited((0..150).map(|i| i.to_string()).collect());
        assert_eq!(info.values.len(), 100);
        assert_eq!(info.total, Some(150));
        assert_eq!(info.has_more, Some(true));
    }

    #[test]
    fn prefix_match_is_char_safe() {
        assert!(!starts_with_ignore_case("ü", "u"));
        assert!(starts_with_ignore_case("Nation", "na"));
    }
}
