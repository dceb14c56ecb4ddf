//! Clusters API 2.1 (also served under 2.0) — REFERENCE §5. Start, restart and delete
//! change the cluster's state (a transitional state is reported once, then the final one)
//! and add the events a workspace records for them to the fixture's.

use axum::response::Response;
use serde_json::{Value, json};

use super::Tracked;
use crate::fixtures::fixture_json;
use crate::server::Shared;
use crate::util::{
    R, Req, bad_param, decode_token, empty, encode_token, error, items, lock, ok, set,
};

pub(crate) struct Clusters(Tracked, Vec<Value>);

impl Clusters {
    pub fn new() -> Clusters {
        Clusters(
            Tracked::new(
                items(&fixture_json("clusters_list.json"), "clusters"),
                "cluster_id",
            ),
            Vec::new(),
        )
    }

    /// Records events of type `types` for cluster `id`, in order, now.
    fn record(&mut self, id: &str, types: &[(&str, Value)]) {
        let now = crate::util::now_ms();
        for (kind, details) in types {
            self.1.push(json!({
                "cluster_id": id,
                "timestamp": now,
                "type": kind,
                "details": details,
            }));
        }
    }
}

/// The user of the fixtures, as events name who asked.
const USER: &str = "alice@example.com";

pub(crate) fn route(st: &Shared, req: &Req, m: &str, rest: &[&str]) -> Option<R> {
    Some(match (m, rest) {
        ("GET", ["list"]) => list(st, req),
        ("GET", ["get"]) => get(st, req),
        ("POST", ["events"]) => events(st, req),
        ("POST", ["start"]) => start(st, req),
        ("POST", ["delete"]) => delete(st, req),
        ("POST", ["restart"]) => restart(st, req),
        _ => return None,
    })
}

fn unknown(id: &str) -> Response {
    bad_param(format!("Cluster {id} does not exist"))
}

/// Query parameter in the dotted or the bracketed nested form.
fn nested<'a>(req: &'a Req, outer: &str, inner: &str) -> Vec<&'a str> {
    let mut v = req.q_all(&format!("{outer}.{inner}"));
    v.extend(req.q_all(&format!("{outer}[{inner}]")));
    v
}

fn list(st: &Shared, req: &Req) -> R {
    let size = match req.q_i64("page_size")? {
        Some(n) if n < 0 => return Err(bad_param("page_size must be non-negative")),
        None | Some(0) => 100,
        Some(n) => (n as usize).min(100),
    };
    let offset = decode_token("clusters", req.q("page_token"))?;
    let states = nested(req, "filter_by", "cluster_states");
    let sources = nested(req, "filter_by", "cluster_sources");
    let policy = nested(req, "filter_by", "policy_id");
    let sort_field = nested(req, "sort_by", "field");
    let sort_dir = nested(req, "sort_by", "direction");
    let mut c = lock(&st.clusters);
    let mut all: Vec<Value> = (0..c.0.items.len())
        .map(|i| c.0.read(i))
        .filter(|v| {
            let s = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (states.is_empty() || states.contains(&s("state").as_str()))
                && (sources.is_empty() || sources.contains(&s("cluster_source").as_str()))
                && (policy.is_empty() || policy.contains(&s("policy_id").as_str()))
        })
        .collect();
    if sort_field.first() == Some(&"CLUSTER_NAME") {
        all.sort_by(|a, b| {
            let n = |v: &Value| {
                v.get("cluster_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            n(a).cmp(&n(b))
        });
    }
    if sort_dir.first() == Some(&"DESC") {
        all.reverse();
    }
    let (page, next) = crate::util::page(&all, offset, size);
    let mut out = json!({});
    if !page.is_empty() {
        set(&mut out, "clusters", Value::Array(page));
    }
    if let Some(n) = next {
        set(
            &mut out,
            "next_page_token",
            json!(encode_token("clusters", n)),
        );
    }
    if offset > 0 {
        set(
            &mut out,
            "prev_page_token",
            json!(encode_token("clusters", offset.saturating_sub(size))),
        );
    }
    ok(out)
}

fn get(st: &Shared, req: &Req) -> R {
    let id = req.q_req("cluster_id")?;
    let mut c = lock(&st.clusters);
    let i = c.0.position(id).ok_or_else(|| unknown(id))?;
    let mut v = c.0.read(i);
    let detailed = fixture_json("clusters_get.json");
    let spec = if detailed.get("cluster_id").and_then(Value::as_str) == Some(id) {
        detailed.get("spec").cloned()
    } else {
        let mut spec = json!({});
        for k in [
            "cluster_name",
            "spark_version",
            "node_type_id",
            "num_workers",
            "autoscale",
            "autotermination_minutes",
            "data_security_mode",
            "single_user_name",
            "runtime_engine",
        ] {
            if let Some(x) = v.get(k) {
                set(&mut spec, k, x.clone());
            }
        }
        Some(spec)
    };
    if let Some(spec) = spec {
        set(&mut v, "spec", spec);
    }
    ok(v)
}

fn body_cluster_id(req: &Req) -> Result<String, Response> {
    req.b_req("cluster_id").map(str::to_string)
}

fn events(st: &Shared, req: &Req) -> R {
    let id = body_cluster_id(req)?;
    if lock(&st.clusters).0.position(&id).is_none() {
        return Err(unknown(&id));
    }
    let size = match req.b_i64("page_size")?.or(req.b_i64("limit")?) {
        Some(n) if !(0..=500).contains(&n) => {
            return Err(bad_param(format!(
                "page_size must be between 0 and 500, got {n}"
            )));
        }
        None | Some(0) => 50,
        Some(n) => n as usize,
    };
    let offset = match req.b_str("page_token").filter(|t| !t.is_empty()) {
        Some(t) => decode_token("events", Some(t))?,
        None => req.b_i64("offset")?.unwrap_or(0).max(0) as usize,
    };
    let types: Vec<&str> = req
        .json
        .get("event_types")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let from = req.b_i64("start_time")?;
    let to = req.b_i64("end_time")?;
    let recorded: Vec<Value> = lock(&st.clusters)
        .1
        .iter()
        .filter(|e| e.get("cluster_id").and_then(Value::as_str) == Some(id.as_str()))
        .rev()
        .cloned()
        .collect();
    // Newest first: what this emulator recorded, then the fixture's older history.
    let mut all: Vec<Value> = recorded
        .into_iter()
        .chain(
            items(&fixture_json("clusters_events.json"), "events")
                .into_iter()
                .map(|mut e| {
                    set(&mut e, "cluster_id", json!(id));
                    e
                }),
        )
        .filter(|e| {
            let t = e.get("type").and_then(Value::as_str).unwrap_or_default();
            let ts = e
                .get("timestamp")
                .and_then(Value::as_i64)
                .unwrap_or_default();
            (types.is_empty() || types.contains(&t))
                && from.is_none_or(|f| ts >= f)
                && to.is_none_or(|x| ts <= x)
        })
        .collect();
    if req.b_str("order") == Some("ASC") {
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
            json!(encode_token("events", n)),
        );
    }
    set(&mut out, "total_count", json!(0));
    ok(out)
}

fn pretty(state: &str) -> String {
    let mut s = state.to_ascii_lowercase();
    if let Some(f) = s.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    s
}

fn start(st: &Shared, req: &Req) -> R {
    let id = body_cluster_id(req)?;
    let mut c = lock(&st.clusters);
    let i = c.0.position(&id).ok_or_else(|| unknown(&id))?;
    match c.0.state(i) {
        "TERMINATED" | "ERROR" => {
            c.0.transition(
                i,
                "PENDING",
                Some(("RUNNING", Some(("state_message", json!(""))))),
            );
            set(&mut c.0.items[i], "state_message", json!("Starting Spark"));
            let n = workers(&c.0.items[i]);
            c.record(
                &id,
                &[
                    ("STARTING", json!({"user": USER})),
                    ("RUNNING", json!({"current_num_workers": n})),
                ],
            );
            empty()
        }
        other => Err(error(
            400,
            "INVALID_STATE",
            format!("Cluster {id} is in unexpected state {}.", pretty(other)),
        )),
    }
}

fn delete(st: &Shared, req: &Req) -> R {
    let id = body_cluster_id(req)?;
    let mut c = lock(&st.clusters);
    let i = c.0.position(&id).ok_or_else(|| unknown(&id))?;
    if !matches!(c.0.state(i), "TERMINATED" | "TERMINATING") {
        c.0.transition(
            i,
            "TERMINATING",
            Some(("TERMINATED", Some(("termination_reason", json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": "alice@example.com"}}))))),
        );
        set(&mut c.0.items[i], "state_message", json!("Terminating"));
        let reason =
            json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": USER}});
        c.record(
            &id,
            &[
                ("TERMINATING", json!({"user": USER, "reason": reason})),
                ("TERMINATED", json!({"reason": reason})),
            ],
        );
    }
    empty()
}

fn workers(cluster: &Value) -> i64 {
    cluster
        .get("num_workers")
        .and_then(Value::as_i64)
        .or_else(|| {
            cluster
                .pointer("/autoscale/min_workers")
                .and_then(Value::as_i64)
        })
        .unwrap_or(0)
}

/// POST clusters/restart: a RUNNING cluster goes through RESTARTING back to RUNNING; one
/// already (re)starting is left alone; a terminated one must be started instead.
fn restart(st: &Shared, req: &Req) -> R {
    let id = body_cluster_id(req)?;
    let mut c = lock(&st.clusters);
    let i = c.0.position(&id).ok_or_else(|| unknown(&id))?;
    match c.0.state(i) {
        "RUNNING" => {
            c.0.transition(
                i,
                "RESTARTING",
                Some(("RUNNING", Some(("state_message", json!(""))))),
            );
            set(
                &mut c.0.items[i],
                "state_message",
                json!("Restarting Spark"),
            );
            set(
                &mut c.0.items[i],
                "last_restarted_time",
                json!(crate::util::now_ms()),
            );
            let n = workers(&c.0.items[i]);
            c.record(
                &id,
                &[
                    ("RESTARTING", json!({"user": USER})),
                    ("RUNNING", json!({"current_num_workers": n})),
                ],
            );
            empty()
        }
        "PENDING" | "RESTARTING" => empty(),
        other => Err(error(
            400,
            "INVALID_STATE",
            format!(
                "Cluster {id} is in unexpected state {}: start it instead of restarting it.",
                pretty(other)
            ),
        )),
    }
}
