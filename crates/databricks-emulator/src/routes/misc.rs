//! Small fixture-served endpoints: current user, query history, DBFS (read-only).

use databricks_api::backend::{Answer, Identity, QueryHistory};
use databricks_api::history::{QueryFilter, QueryInfo};
use databricks_api::iam::CurrentUser;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::util::{R, Req, not_found, ok};

/// GET /api/2.0/preview/scim/v2/Me
/// The caller of `scim_me.json`: the [`Identity`] backend the shared server routes to.
pub(crate) struct FixtureIdentity;

impl Identity for FixtureIdentity {
    fn current_user(&self) -> Answer<'_, CurrentUser> {
        Box::pin(async {
            crate::util::fixture_model(crate::fixtures::fixture_json("scim_me.json"))
        })
    }
}

/// The queries of `query_history_list.json`: the [`QueryHistory`] backend (the shared
/// server filters and pages them).
pub(crate) struct FixtureHistory;

impl QueryHistory for FixtureHistory {
    fn queries<'a>(&'a self, _filter: &'a QueryFilter) -> Answer<'a, Vec<QueryInfo>> {
        Box::pin(async {
            crate::util::items(&fixture_json("query_history_list.json"), "res")
                .into_iter()
                .map(crate::util::fixture_model)
                .collect()
        })
    }
}

/// GET /api/2.0/dbfs/{list,get-status,read}
pub(crate) fn dbfs(req: &Req, op: &str) -> Option<R> {
    Some((|| {
        let path = req.q_req("path")?;
        match op {
            "list" => {
                let v = fixture_json("dbfs_list.json");
                if path.trim_end_matches('/') == "/tmp" {
                    return ok(v);
                }
                if path == "/tmp/dir" {
                    return ok(json!({}));
                }
                Err(not_found(format!(
                    "No file or directory exists on path {path}."
                )))
            }
            "get-status" => {
                let listed = crate::util::items(&fixture_json("dbfs_list.json"), "files");
                if path == "/tmp" {
                    return ok(
                        json!({"path": "/tmp", "is_dir": true, "file_size": 0, "modification_time": 1_709_000_000_000_i64}),
                    );
                }
                listed
                    .into_iter()
                    .find(|f| f.get("path").and_then(Value::as_str) == Some(path))
                    .map_or_else(
                        || {
                            Err(not_found(format!(
                                "No file or directory exists on path {path}."
                            )))
                        },
                        ok,
                    )
            }
            "read" => {
                if path != "/tmp/a.txt" {
                    return Err(not_found(format!(
                        "No file or directory exists on path {path}."
                    )));
                }
                let mut v = fixture_json("dbfs_read.json");
                if req.q_i64("offset")?.unwrap_or(0) > 0 {
                    v = json!({ "bytes_read": 0 });
                }
                ok(v)
            }
            _ => Err(crate::util::endpoint_not_found(&req.method, &req.raw_path)),
        }
    })())
}
