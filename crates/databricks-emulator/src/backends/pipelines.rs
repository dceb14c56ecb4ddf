//! Pipelines (Lakeflow Declarative / DLT) API 2.0 — REFERENCE §6 — as fixture data: the
//! [`Pipelines`] backend the shared workspace server routes to. Starting an update makes
//! the pipeline RUNNING; the update advances CREATED → INITIALIZING → RUNNING → COMPLETED
//! as it is read with `GET …/updates/{update_id}`; `stop` cancels it. Events are
//! synthesised from the updates.

use std::collections::HashMap;
use std::sync::Mutex;

use databricks_api::backend::{Answer, Pipelines, UpdateStart};
use databricks_api::error::ApiError;
use databricks_api::pipelines::{
    PipelineDetails, PipelineEvent, PipelineSpec, StartUpdateRequest, UpdateInfo,
};
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::util::{fixture_model, items, lock, now_ms, parse_rfc3339_ms, rfc3339_ms, set};

/// The fixture pipelines, their updates and the pipelines created since the start.
pub(crate) struct FixturePipelines(Mutex<State>);

struct State {
    statuses: Vec<Value>,
    /// pipeline_id → UpdateInfo list, newest first.
    updates: HashMap<String, Vec<Value>>,
    /// pipeline_id → the spec of a pipeline created through the API.
    specs: HashMap<String, Value>,
    next: u64,
}

const STEPS: [&str; 4] = ["CREATED", "INITIALIZING", "RUNNING", "COMPLETED"];

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn terminal(state: &str) -> bool {
    matches!(state, "COMPLETED" | "FAILED" | "CANCELED")
}

impl State {
    fn new() -> State {
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
        State {
            statuses,
            updates,
            specs: HashMap::new(),
            next: 1,
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.statuses.iter().position(|p| s(p, "pipeline_id") == id)
    }

    /// Pipeline `i`'s status (`i` from [`State::position`]).
    fn status(&self, i: usize) -> &Value {
        static NONE: Value = Value::Null;
        self.statuses.get(i).unwrap_or(&NONE)
    }

    fn set_status(&mut self, i: usize, key: &str, value: Value) {
        if let Some(status) = self.statuses.get_mut(i) {
            set(status, key, value);
        }
    }

    /// `latest_updates` (RFC 3339 times) from the update list.
    fn refresh_latest(&mut self, i: usize) {
        let pid = s(self.status(i), "pipeline_id").to_string();
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
        self.set_status(i, "latest_updates", json!(latest));
    }
}

impl State {
    /// The GetPipelineResponse of pipeline `i`.
    fn detail(&self, i: usize) -> Value {
        let status = self.status(i);
        let id = s(status, "pipeline_id");
        let fixture = fixture_json("pipelines_get.json");
        let mut v = if s(&fixture, "pipeline_id") == id {
            fixture
        } else {
            let mut v = status.clone();
            set(&mut v, "last_modified", json!(1_709_000_000_000_i64));
            let spec = self.specs.get(id).cloned().unwrap_or_else(|| {
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
                })
            });
            set(&mut v, "spec", spec);
            v
        };
        for k in ["state", "health", "latest_updates", "cluster_id"] {
            match status.get(k) {
                Some(x) => set(&mut v, k, x.clone()),
                None => crate::util::remove(&mut v, k),
            }
        }
        v
    }

    fn start(&mut self, i: usize, request: &StartUpdateRequest) -> UpdateStart {
        let id = s(self.status(i), "pipeline_id").to_string();
        if let Some(active) = self
            .updates
            .get(&id)
            .and_then(|u| u.first())
            .filter(|u| !terminal(s(u, "state")))
        {
            return UpdateStart::Active(s(active, "update_id").to_string());
        }
        let n = self.next;
        self.next += 1;
        let update_id = crate::util::uuid_like(0x5000_0000 + n);
        let mut update = json!({
            "pipeline_id": id,
            "update_id": update_id,
            "state": STEPS[0],
            "cause": request.cause.as_deref().unwrap_or("API_CALL"),
            "creation_time": now_ms(),
            "full_refresh": request.full_refresh.unwrap_or(false),
            "validate_only": request.validate_only.unwrap_or(false),
            "mode": "DEFAULT",
        });
        for (k, selection) in [
            ("refresh_selection", &request.refresh_selection),
            ("full_refresh_selection", &request.full_refresh_selection),
        ] {
            if !selection.is_empty() {
                set(&mut update, k, json!(selection));
            }
        }
        self.updates.entry(id).or_default().insert(0, update);
        self.set_status(i, "state", json!("RUNNING"));
        self.refresh_latest(i);
        UpdateStart::Started(update_id)
    }

    /// Update `uid` as read now; the read advances it one step.
    fn read_update(&mut self, i: usize, uid: &str) -> Option<Value> {
        let id = s(self.status(i), "pipeline_id").to_string();
        let u = self
            .updates
            .get_mut(&id)?
            .iter_mut()
            .find(|u| s(u, "update_id") == uid)?;
        let current = u.clone();
        if let Some(k) = STEPS.iter().position(|x| *x == s(u, "state"))
            && let Some(next) = STEPS.get(k + 1)
        {
            set(u, "state", json!(next));
            if k + 2 == STEPS.len() {
                self.set_status(i, "state", json!("IDLE"));
            }
            self.refresh_latest(i);
        }
        Some(current)
    }

    fn stop(&mut self, i: usize) {
        let id = s(self.status(i), "pipeline_id").to_string();
        if let Some(u) = self.updates.get_mut(&id).and_then(|u| u.first_mut())
            && !terminal(s(u, "state"))
        {
            set(u, "state", json!("CANCELED"));
        }
        self.set_status(i, "state", json!("IDLE"));
        self.refresh_latest(i);
    }

    fn create(&mut self, spec: &PipelineSpec) -> Result<String, ApiError> {
        let n = self.next;
        self.next += 1;
        let id = crate::util::uuid_like(0x6000_0000 + n);
        let mut spec = serde_json::to_value(spec).map_err(|e| {
            ApiError::new(
                databricks_api::error::ErrorCode::InternalError,
                e.to_string(),
            )
        })?;
        set(&mut spec, "id", json!(id));
        self.statuses.push(json!({
            "pipeline_id": id,
            "name": s(&spec, "name"),
            "state": "IDLE",
            "health": "HEALTHY",
            "creator_user_name": "alice@example.com",
            "run_as_user_name": "alice@example.com",
        }));
        self.specs.insert(id.clone(), spec);
        Ok(id)
    }
}

impl FixturePipelines {
    pub fn new() -> FixturePipelines {
        FixturePipelines(Mutex::new(State::new()))
    }

    /// Runs `f` on the state and the index of pipeline `id`; `None` for an unknown one.
    fn with<T>(&self, id: &str, f: impl FnOnce(&mut State, usize) -> T) -> Option<T> {
        let mut state = lock(&self.0);
        let i = state.position(id)?;
        Some(f(&mut state, i))
    }
}

fn models<T: serde::de::DeserializeOwned>(values: Vec<Value>) -> Result<Vec<T>, ApiError> {
    values.into_iter().map(fixture_model).collect()
}

impl Pipelines for FixturePipelines {
    fn pipelines(&self) -> Answer<'_, Vec<PipelineDetails>> {
        let state = lock(&self.0);
        let all: Vec<Value> = (0..state.statuses.len()).map(|i| state.detail(i)).collect();
        drop(state);
        Box::pin(async move { models(all) })
    }

    fn pipeline<'a>(&'a self, id: &'a str) -> Answer<'a, Option<PipelineDetails>> {
        let detail = self.with(id, |state, i| state.detail(i));
        Box::pin(async move { detail.map(fixture_model).transpose() })
    }

    fn updates<'a>(&'a self, id: &'a str) -> Answer<'a, Option<Vec<UpdateInfo>>> {
        let updates = self.with(id, |state, _| {
            state.updates.get(id).cloned().unwrap_or_default()
        });
        Box::pin(async move { updates.map(models).transpose() })
    }

    fn update<'a>(&'a self, id: &'a str, update_id: &'a str) -> Answer<'a, Option<UpdateInfo>> {
        let update = self
            .with(id, |state, i| state.read_update(i, update_id))
            .flatten();
        Box::pin(async move { update.map(fixture_model).transpose() })
    }

    fn start_update<'a>(
        &'a self,
        id: &'a str,
        request: &'a StartUpdateRequest,
    ) -> Answer<'a, UpdateStart> {
        let started = self.with(id, |state, i| state.start(i, request));
        Box::pin(
            async move { started.ok_or_else(|| databricks_api::pipelines::pipeline_not_found(id)) },
        )
    }

    fn stop<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        self.with(id, State::stop);
        Box::pin(async { Ok(()) })
    }

    fn events<'a>(&'a self, id: &'a str) -> Answer<'a, Option<Vec<PipelineEvent>>> {
        let events = self.with(id, |state, _| event_log(state, id));
        Box::pin(async move { events.map(models).transpose() })
    }

    fn create_pipeline<'a>(&'a self, spec: &'a PipelineSpec) -> Answer<'a, String> {
        let created = lock(&self.0).create(spec);
        Box::pin(async move { created })
    }

    fn delete_pipeline<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        let mut state = lock(&self.0);
        if let Some(i) = state.position(id) {
            state.statuses.remove(i);
            state.updates.remove(id);
            state.specs.remove(id);
        }
        Box::pin(async { Ok(()) })
    }
}

/// Synthesised event log: a few events per update, newest first.
fn event_log(p: &State, id: &str) -> Vec<Value> {
    let name = p
        .position(id)
        .map(|i| s(p.status(i), "name").to_string())
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
