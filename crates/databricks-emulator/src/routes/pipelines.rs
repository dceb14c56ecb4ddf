//! Pipelines (Lakeflow Declarative / DLT) API 2.0 — REFERENCE §6. Starting an update makes
//! the pipeline RUNNING; the update advances CREATED → INITIALIZING → RUNNING → COMPLETED as
//! it is read with `GET …/updates/{update_id}`; `stop` cancels it.

use std::collections::HashMap;

use axum::response::Response;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::server::Shared;
use crate::util::{
    R, Req, bad_param, decode_token, empty, encode_token, error, items, lock, not_found, now_ms,
    ok, parse_rfc3339_ms, rfc3339_ms, set,
};

pub(crate) struct Pipelines {
    statuses: Vec<Value>,
    /// pipeline_id → UpdateInfo list, newest first.
    updates: HashMap<String, Vec<Value>>,
    next: u64,
}

const STEPS: [&str; 4] = ["CREATED", "INITIALIZING", "RUNNING", "COMPLETED"];

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn terminal(state: &str) -> bool {
    matches!(state, "COMPLETED" | "FAILED" | "CANCELED")
}

impl Pipelines {
    pub fn new() -> Pipelines {
        let statuses = items(&fixture_json("pipelines_list.json"), "statuses");
        let detailed = fixture_json("pipelines_get_update.json");
        let mut updates = HashMap::new();
        for p in &statuses {
            let pid = s(p, "pipeline_id").to_string();
            let mut list: Vec<Value> = items(p, "latest_updates")
                .iter()
                .map(|u| {
                    json!({
                        "pipeline_id": pid,
                        "update_id": s(u, "update_id"),
                        "state": s(u, "state"),
                        "cause": "JOB_TASK",
                        "creation_time": parse_rfc3339_ms(s(u, "creation_time")).unwrap_or_default(),
                        "full_refresh": false,
                        "validate_only": false,
                    })
                })
                .collect();
            if let Some(u) = detailed
                .get("update")
                .filter(|u| s(u, "pipeline_id") == pid)
            {
                // The fixture's RUNNING update exists but is not among latest_updates; keep
                // it reachable by id, after the listed ones (it is older in this story).
                let mut u = u.clone();
                set(&mut u, "state", json!("COMPLETED"));
                list.push(u);
            }
            updates.insert(pid, list);
        }
        Pipelines {
            statuses,
            updates,
            next: 1,
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.statuses.iter().position(|p| s(p, "pipeline_id") == id)
    }

    /// `latest_updates` (RFC 3339 times) from the update list.
    fn refresh_latest(&mut self, i: usize) {
        let pid = s(&self.statuses[i], "pipeline_id").to_string();
        let latest: Vec<Value> = self
            .updates
            .get(&pid)
            .map(|u| {
                u.iter()
                    .take(5)
                    .map(|u| {
                        json!({
                            "update_id": s(u, "update_id"),
                            "state": s(u, "state"),
                            "creation_time": rfc3339_ms(u.get("creation_time").and_then(Value::as_i64).unwrap_or_default()),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        set(&mut self.statuses[i], "latest_updates", json!(latest));
    }
}

pub(crate) fn route(st: &Shared, req: &Req, m: &str, rest: &[&str]) -> Option<R> {
    Some(match (m, rest) {
        ("GET", []) => list(st, req),
        ("GET", [id]) => get(st, id),
        ("GET", [id, "updates"]) => list_updates(st, req, id),
        ("POST", [id, "updates"]) => start_update(st, req, id),
        ("GET", [id, "updates", uid]) => get_update(st, id, uid),
        ("POST", [id, "stop"]) => stop(st, id),
        ("GET", [id, "events"]) => events(st, req, id),
        _ => return None,
    })
}

fn unknown(id: &str) -> Response {
    not_found(format!("The specified pipeline {id} was not found."))
}

fn max_results(req: &Req, default: usize, max: usize) -> Result<usize, Response> {
    match req.q_i64("max_results")? {
        None | Some(0) => Ok(default),
        Some(n) if n < 0 || n as usize > max => Err(bad_param(format!(
            "max_results must be between 1 and {max}, got {n}."
        ))),
        Some(n) => Ok(n as usize),
    }
}

fn paged(key: &str, all: &[Value], offset: usize, size: usize, prev: bool) -> Value {
    let (page, next) = crate::util::page(all, offset, size);
    let mut out = json!({});
    if !page.is_empty() {
        set(&mut out, key, Value::Array(page));
    }
    if let Some(n) = next {
        set(&mut out, "next_page_token", json!(encode_token(key, n)));
    }
    if prev && offset > 0 {
        set(
            &mut out,
            "prev_page_token",
            json!(encode_token(key, offset.saturating_sub(size))),
        );
    }
    out
}

/// `name LIKE '<pattern>'` / `notebook='<path>'` filters (composite filters unsupported).
fn filter_matches(filter: &str, p: &Value) -> Result<bool, Response> {
    let f = filter.trim();
    let quoted = |rest: &str| -> Option<String> {
        let rest = rest.trim();
        rest.strip_prefix('\'')?
            .strip_suffix('\'')
            .map(str::to_string)
    };
    let lower = f.to_ascii_lowercase();
    if lower.starts_with("name") {
        let rest = f[4..].trim_start();
        if rest.len() >= 4
            && rest[..4].eq_ignore_ascii_case("like")
            && let Some(pat) = quoted(&rest[4..])
        {
            return Ok(crate::util::like(&pat, s(p, "name")));
        }
    } else if lower.starts_with("notebook")
        && let Some(path) = f[8..].trim_start().strip_prefix('=').and_then(quoted)
    {
        let libs = p.pointer("/spec/libraries").cloned().unwrap_or(json!([]));
        return Ok(libs.to_string().contains(&path));
    }
    Err(bad_param(format!("Invalid filter: {filter}")))
}

fn list(st: &Shared, req: &Req) -> R {
    let size = max_results(req, 25, 100)?;
    let offset = decode_token("statuses", req.q("page_token"))?;
    let p = lock(&st.pipelines);
    let mut all = Vec::new();
    for status in &p.statuses {
        let keep = match req.q("filter").filter(|f| !f.trim().is_empty()) {
            Some(f) => filter_matches(f, &detail(&p, status))?,
            None => true,
        };
        if keep {
            all.push(status.clone());
        }
    }
    ok(paged("statuses", &all, offset, size, false))
}

/// The GetPipelineResponse of a pipeline.
fn detail(p: &Pipelines, status: &Value) -> Value {
    let id = s(status, "pipeline_id");
    let fixture = fixture_json("pipelines_get.json");
    let mut v = if s(&fixture, "pipeline_id") == id {
        fixture
    } else {
        let mut v = status.clone();
        set(&mut v, "last_modified", json!(1_709_000_000_000_i64));
        set(
            &mut v,
            "spec",
            json!({
                "id": id,
                "name": s(status, "name"),
                "catalog": "main",
                "schema": "events",
                "continuous": true,
                "development": false,
                "serverless": true,
                "channel": "CURRENT",
                "edition": "ADVANCED",
                "libraries": [{"notebook": {"path": format!("/Workspace/Users/alice@example.com/dlt/{}", s(status, "name"))}}],
            }),
        );
        v
    };
    for k in ["state", "health", "latest_updates", "cluster_id"] {
        match status.get(k) {
            Some(x) => set(&mut v, k, x.clone()),
            None => crate::util::remove(&mut v, k),
        }
    }
    let _ = p;
    v
}

fn get(st: &Shared, id: &str) -> R {
    let p = lock(&st.pipelines);
    let i = p.position(id).ok_or_else(|| unknown(id))?;
    ok(detail(&p, &p.statuses[i]))
}

fn list_updates(st: &Shared, req: &Req, id: &str) -> R {
    let size = max_results(req, 25, 100)?;
    let offset = decode_token("updates", req.q("page_token"))?;
    let p = lock(&st.pipelines);
    p.position(id).ok_or_else(|| unknown(id))?;
    let mut all = p.updates.get(id).cloned().unwrap_or_default();
    if let Some(until) = req.q("until_update_id")
        && let Some(k) = all.iter().position(|u| s(u, "update_id") == until)
    {
        all.truncate(k + 1);
    }
    ok(paged("updates", &all, offset, size, true))
}

fn start_update(st: &Shared, req: &Req, id: &str) -> R {
    let mut p = lock(&st.pipelines);
    let i = p.position(id).ok_or_else(|| unknown(id))?;
    if let Some(active) = p
        .updates
        .get(id)
        .and_then(|u| u.first())
        .filter(|u| !terminal(s(u, "state")))
    {
        return Err(error(
            409,
            "RESOURCE_CONFLICT",
            format!(
                "An active update {} already exists for pipeline {id}.",
                s(active, "update_id")
            ),
        ));
    }
    let n = p.next;
    p.next += 1;
    let update_id = crate::util::uuid_like(0x5000_0000 + n);
    let b = |k: &str| req.json.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut update = json!({
        "pipeline_id": id,
        "update_id": update_id,
        "state": STEPS[0],
        "cause": req.b_str("cause").unwrap_or("API_CALL"),
        "creation_time": now_ms(),
        "full_refresh": b("full_refresh"),
        "validate_only": b("validate_only"),
        "mode": "DEFAULT",
    });
    for k in ["refresh_selection", "full_refresh_selection"] {
        if let Some(x) = req
            .json
            .get(k)
            .filter(|x| x.as_array().is_some_and(|a| !a.is_empty()))
        {
            set(&mut update, k, x.clone());
        }
    }
    p.updates
        .entry(id.to_string())
        .or_default()
        .insert(0, update);
    set(&mut p.statuses[i], "state", json!("RUNNING"));
    p.refresh_latest(i);
    let mut out = fixture_json("pipelines_start_update.json");
    set(&mut out, "update_id", json!(update_id));
    ok(out)
}

fn get_update(st: &Shared, id: &str, uid: &str) -> R {
    let mut p = lock(&st.pipelines);
    let i = p.position(id).ok_or_else(|| unknown(id))?;
    let list = p.updates.get_mut(id).ok_or_else(|| unknown(id))?;
    let u = list
        .iter_mut()
        .find(|u| s(u, "update_id") == uid)
        .ok_or_else(|| not_found(format!("The specified update {uid} was not found.")))?;
    let current = u.clone();
    // Advance one step per read.
    if let Some(k) = STEPS.iter().position(|x| *x == s(u, "state"))
        && k + 1 < STEPS.len()
    {
        set(u, "state", json!(STEPS[k + 1]));
        let done = k + 2 == STEPS.len();
        if done {
            set(&mut p.statuses[i], "state", json!("IDLE"));
        }
        p.refresh_latest(i);
    }
    ok(json!({ "update": current }))
}

fn stop(st: &Shared, id: &str) -> R {
    let mut p = lock(&st.pipelines);
    let i = p.position(id).ok_or_else(|| unknown(id))?;
    if let Some(u) = p.updates.get_mut(id).and_then(|u| u.first_mut())
        && !terminal(s(u, "state"))
    {
        set(u, "state", json!("CANCELED"));
    }
    set(&mut p.statuses[i], "state", json!("IDLE"));
    p.refresh_latest(i);
    empty()
}

/// Synthesised event log: a few events per update, newest first.
fn event_log(p: &Pipelines, id: &str) -> Vec<Value> {
    let name = p
        .position(id)
        .map(|i| s(&p.statuses[i], "name").to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut seq = 1000_u64;
    let updates = p.updates.get(id).cloned().unwrap_or_default();
    for u in updates.iter().rev() {
        let uid = s(u, "update_id");
        let t0 = u
            .get("creation_time")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        let state = s(u, "state");
        let mut ev = |dt: i64,
                      level: &str,
                      event_type: &str,
                      message: String,
                      error: Option<Value>| {
            seq += 1;
            let mut e = json!({
                "id": crate::util::uuid_like(seq ^ 0xE7E7),
                "sequence": {"control_plane_seq_no": seq},
                "origin": {"pipeline_id": id, "pipeline_name": name, "update_id": uid, "cloud": "AWS", "region": "us-west-2"},
                "timestamp": rfc3339_ms(t0 + dt),
                "message": message,
                "level": level,
                "maturity_level": "STABLE",
                "event_type": event_type,
            });
            if let Some(err) = error {
                set(&mut e, "error", err);
            }
            out.push(e);
        };
        ev(
            0,
            "INFO",
            "create_update",
            format!("Update {} started by API call.", &uid[..uid.len().min(6)]),
            None,
        );
        ev(
            1000,
            "INFO",
            "update_progress",
            format!("Update {} is INITIALIZING.", &uid[..uid.len().min(6)]),
            None,
        );
        if matches!(state, "RUNNING" | "COMPLETED" | "FAILED" | "STOPPING") {
            ev(
                5000,
                "INFO",
                "update_progress",
                format!("Update {} is RUNNING.", &uid[..uid.len().min(6)]),
                None,
            );
            ev(
                6000,
                "INFO",
                "flow_progress",
                "Flow 'orders_silver' is RUNNING.".to_string(),
                None,
            );
        }
        match state {
            "COMPLETED" => {
                ev(
                    60_000,
                    "METRICS",
                    "flow_progress",
                    "Flow 'orders_silver' has COMPLETED.".to_string(),
                    None,
                );
                ev(
                    61_000,
                    "INFO",
                    "update_progress",
                    format!("Update {} is COMPLETED.", &uid[..uid.len().min(6)]),
                    None,
                );
            }
            "FAILED" => {
                ev(
                    30_000,
                    "ERROR",
                    "flow_progress",
                    "Flow 'orders_silver' has FAILED.".to_string(),
                    Some(
                        json!({"fatal": true, "exceptions": [{"class_name": "org.apache.spark.sql.AnalysisException", "message": "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`sales`.`orders_raw` cannot be found.", "stack": []}]}),
                    ),
                );
                ev(
                    31_000,
                    "WARN",
                    "update_progress",
                    format!("Update {} is FAILED.", &uid[..uid.len().min(6)]),
                    None,
                );
            }
            "CANCELED" => {
                ev(
                    31_000,
                    "INFO",
                    "update_progress",
                    format!("Update {} is CANCELED.", &uid[..uid.len().min(6)]),
                    None,
                );
            }
            _ => {}
        }
    }
    out.reverse();
    out
}

/// `level='X'`, `level in ('X','Y')`, `update_id='…'` filters joined by AND.
fn event_filter(filter: &str) -> Result<impl Fn(&Value) -> bool, Response> {
    let mut conds: Vec<(String, Vec<String>)> = Vec::new();
    for part in filter.split(" AND ").flat_map(|p| p.split(" and ")) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let values: Vec<String> = part
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        let field = part
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if values.is_empty()
            || !matches!(
                field.as_str(),
                "level" | "id" | "update_id" | "event_type" | "timestamp"
            )
        {
            return Err(bad_param(format!("Invalid filter: {filter}")));
        }
        conds.push((field, values));
    }
    Ok(move |e: &Value| {
        conds.iter().all(|(field, values)| match field.as_str() {
            "level" => values.iter().any(|v| v == s(e, "level")),
            "id" => values.iter().any(|v| v == s(e, "id")),
            "event_type" => values.iter().any(|v| v == s(e, "event_type")),
            "update_id" => values
                .iter()
                .any(|v| e.pointer("/origin/update_id").and_then(Value::as_str) == Some(v)),
            // `timestamp > '…'`: string comparison works for the fixed RFC 3339 format.
            _ => values.iter().all(|v| s(e, "timestamp") > v.as_str()),
        })
    })
}

/// Events page tokens carry the listing (order and filter) as well as the offset, since a
/// call with `page_token` may not repeat them.
fn events_token(asc: bool, filter: &str, offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(json!({"o": offset, "a": asc, "f": filter}).to_string())
}

fn decode_events_token(token: &str) -> Result<(usize, bool, String), Response> {
    use base64::Engine as _;
    let invalid = || bad_param(format!("Invalid page token: '{token}'"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    let offset = v.get("o").and_then(Value::as_u64).ok_or_else(invalid)? as usize;
    let asc = v.get("a").and_then(Value::as_bool).unwrap_or(false);
    let filter = v
        .get("f")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok((offset, asc, filter))
}

fn events(st: &Shared, req: &Req, id: &str) -> R {
    let token = req.q("page_token").filter(|t| !t.is_empty());
    if token.is_some()
        && req
            .query
            .iter()
            .any(|(k, _)| k != "page_token" && k != "max_results")
    {
        return Err(bad_param(
            "When page_token is specified, no other parameter except max_results may be specified.",
        ));
    }
    let size = max_results(req, 25, 250)?;
    let (offset, asc, filter) = match token {
        Some(t) => decode_events_token(t)?,
        None => (
            0,
            req.q_all("order_by")
                .iter()
                .any(|o| o.to_ascii_lowercase().ends_with("asc")),
            req.q("filter").unwrap_or_default().to_string(),
        ),
    };
    let p = lock(&st.pipelines);
    p.position(id).ok_or_else(|| unknown(id))?;
    let mut all = event_log(&p, id);
    if !filter.trim().is_empty() {
        let keep = event_filter(&filter)?;
        all.retain(|e| keep(e));
    }
    if asc {
        all.reverse();
    }
    let (page, next) = crate::util::page(&all, offset, size);
    let mut out = json!({});
    if !page.is_empty() {
        set(&mut out, "events", Value::Array(page));
    }
    if let Some(n) = next {
        set(
            &mut out,
            "next_page_token",
            json!(events_token(asc, &filter, n)),
        );
    }
    if offset > 0 {
        set(
            &mut out,
            "prev_page_token",
            json!(events_token(asc, &filter, offset.saturating_sub(size))),
        );
    }
    ok(out)
}
