//! SQL Warehouses API 2.0 (REFERENCE §2).

use axum::response::Response;
use serde_json::{Value, json};

use super::Tracked;
use crate::fixtures::fixture_json;
use crate::server::Shared;
use crate::util::{R, Req, bad_param, decode_token, empty, encode_token, lock, not_found, ok};

pub(crate) struct Warehouses(Tracked);

impl Warehouses {
    pub fn new() -> Warehouses {
        let items = crate::util::items(&fixture_json("warehouses_list.json"), "warehouses");
        Warehouses(Tracked::new(items, "id"))
    }
}

fn unknown(id: &str) -> Response {
    not_found(format!(
        "SQL warehouse {id} does not exist or you do not have permission to access it."
    ))
}

/// Used by statement execution: 404 for an unknown warehouse; a stopped warehouse is
/// started (as Databricks does when a statement arrives).
pub(crate) fn ensure_for_statement(st: &Shared, id: &str) -> Result<(), Response> {
    let mut w = lock(&st.warehouses);
    let i = w.0.position(id).ok_or_else(|| unknown(id))?;
    if matches!(w.0.state(i), "STOPPED" | "STOPPING") {
        w.0.transition(
            i,
            "STARTING",
            Some(("RUNNING", Some(("num_clusters", json!(1))))),
        );
    }
    Ok(())
}

/// GET /api/2.0/sql/warehouses
pub(crate) fn list(st: &Shared, req: &Req) -> R {
    let page_size = req.q_i64("page_size")?;
    let mut w = lock(&st.warehouses);
    let all: Vec<Value> = (0..w.0.items.len()).map(|i| w.0.read(i)).collect();
    match page_size {
        None if req.q("page_token").is_none() => ok(json!({ "warehouses": all })),
        size => {
            let size = match size {
                Some(n) if n < 0 => return Err(bad_param("page_size must be non-negative")),
                Some(0) | None => 100,
                Some(n) => n as usize,
            };
            let offset = decode_token("warehouses", req.q("page_token"))?;
            let (items, next) = crate::util::page(&all, offset, size);
            let mut out = json!({});
            if !items.is_empty() {
                crate::util::set(&mut out, "warehouses", Value::Array(items));
            }
            if let Some(n) = next {
                crate::util::set(
                    &mut out,
                    "next_page_token",
                    json!(encode_token("warehouses", n)),
                );
            }
            ok(out)
        }
    }
}

/// GET /api/2.0/sql/warehouses/{id}
pub(crate) fn get(st: &Shared, id: &str) -> R {
    let mut w = lock(&st.warehouses);
    let i = w.0.position(id).ok_or_else(|| unknown(id))?;
    ok(w.0.read(i))
}

/// POST /api/2.0/sql/warehouses/{id}/start
pub(crate) fn start(st: &Shared, id: &str) -> R {
    let mut w = lock(&st.warehouses);
    let i = w.0.position(id).ok_or_else(|| unknown(id))?;
    if matches!(w.0.state(i), "STOPPED" | "STOPPING") {
        w.0.transition(
            i,
            "STARTING",
            Some(("RUNNING", Some(("num_clusters", json!(1))))),
        );
    }
    empty()
}

/// POST /api/2.0/sql/warehouses/{id}/stop
pub(crate) fn stop(st: &Shared, id: &str) -> R {
    let mut w = lock(&st.warehouses);
    let i = w.0.position(id).ok_or_else(|| unknown(id))?;
    if matches!(w.0.state(i), "RUNNING" | "STARTING") {
        w.0.transition(
            i,
            "STOPPING",
            Some(("STOPPED", Some(("num_clusters", json!(0))))),
        );
    }
    empty()
}
