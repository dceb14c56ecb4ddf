//! Small fixture-served endpoints: current user, query history, DBFS (read-only).

use databricks_api::backend::{Answer, Identity};
use databricks_api::iam::CurrentUser;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::util::{R, Req, bad_param, not_found, ok};

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

/// GET /api/2.0/sql/history/queries
pub(crate) fn query_history(req: &Req) -> R {
    if let Some(n) = req.q_i64("max_results")?
        && !(0..1000).contains(&n)
    {
        return Err(bad_param(format!(
            "max_results must be less than 1000, got {n}."
        )));
    }
    let mut v = fixture_json("query_history_list.json");
    if req.q("page_token").is_some_and(|t| !t.is_empty()) {
        // Second page: empty and final.
        v = json!({ "has_next_page": false });
    } else if let Some(ids) = Some(req.q_all("filter_by.statement_ids")).filter(|i| !i.is_empty()) {
        let res: Vec<Value> = crate::util::items(&v, "res")
            .into_iter()
            .filter(|q| {
                ids.contains(
                    &q.get("query_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )
            })
            .collect();
        v = json!({ "res": res, "has_next_page": false });
    }
    ok(v)
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
