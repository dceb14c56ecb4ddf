//! Pipelines (Lakeflow Declarative / DLT) API 2.0 — REFERENCE §6 — as fixture data: the
//! [`Pipelines`] backend the shared workspace server routes to. Starting an update makes
//! the pipeline RUNNING; the update advances CREATED → INITIALIZING → RUNNING → COMPLETED
//! as it is read with `GET …/updates/{update_id}`; `stop` cancels it. Events are
//! synthesised from the updates.

use std::collections::HashMap;
use std::sync::Mutex;

use databricks_api::backend::{Answer, Pipelines, UpdateStart, async_trait};
use databricks_api::pipelines::{
    GetUpdateResponse, PipelineDetails, PipelineError, PipelineEvent, PipelineException,
    PipelineSpec, PipelinesPage, StartUpdateRequest, UpdateInfo, UpdateStateInfo,
};
use serde_json::json;

use crate::fixtures::fixture_as;
use crate::util::{lock, now_ms, parse_rfc3339_ms, rfc3339_ms, uuid_like};

/// The fixture pipelines, their updates and the pipelines created since the start.
pub(crate) struct FixturePipelines(Mutex<State>);

struct State {
    /// Each pipeline as `GET pipelines/{id}` answers it, in listing order.
    pipelines: Vec<PipelineDetails>,
    /// pipeline_id → its updates, newest first.
    updates: HashMap<String, Vec<UpdateInfo>>,
    next: u64,
}

const STEPS: [&str; 4] = ["CREATED", "INITIALIZING", "RUNNING", "COMPLETED"];

impl State {
    fn new() -> State {
        let listed: PipelinesPage = fixture_as("pipelines_list.json");
        let detailed: PipelineDetails = fixture_as("pipelines_get.json");
        let running: GetUpdateResponse = fixture_as("pipelines_get_update.json");
        let mut updates = HashMap::new();
        let mut pipelines = Vec::new();
        for p in listed.statuses {
            let pid = p.pipeline_id.clone();
            let mut list: Vec<UpdateInfo> = p
                .latest_updates
                .iter()
                .map(|u| UpdateInfo {
                    pipeline_id: Some(pid.clone()),
                    update_id: u.update_id.clone().unwrap_or_default(),
                    state: u.state.clone(),
                    cause: Some("JOB_TASK".into()),
                    creation_time: Some(
                        u.creation_time
                            .as_deref()
                            .and_then(parse_rfc3339_ms)
                            .unwrap_or_default(),
                    ),
                    full_refresh: Some(false),
                    validate_only: Some(false),
                    ..UpdateInfo::default()
                })
                .collect();
            if let Some(u) = running
                .update
                .as_ref()
                .filter(|u| u.pipeline_id.as_ref() == Some(&pid))
            {
                // The fixture's RUNNING update exists but is not among latest_updates; keep
                // it reachable by id, after the listed ones (it is older in this story).
                list.push(UpdateInfo {
                    state: Some("COMPLETED".into()),
                    ..u.clone()
                });
            }
            updates.insert(pid.clone(), list);
            // Each pipeline is the detailed fixture's, spec included, as the list shows it.
            let spec = (detailed.spec.clone()).map(|spec| PipelineSpec {
                id: Some(pid.clone()),
                name: p.name.clone(),
                ..spec
            });
            pipelines.push(PipelineDetails {
                spec,
                pipeline_id: pid,
                name: p.name,
                state: p.state,
                health: p.health,
                creator_user_name: p.creator_user_name,
                run_as_user_name: p.run_as_user_name,
                latest_updates: p.latest_updates,
                cluster_id: p.cluster_id,
                ..detailed.clone()
            });
        }
        State {
            pipelines,
            updates,
            next: 1,
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.pipelines.iter().position(|p| p.pipeline_id == id)
    }

    /// Sets pipeline `i`'s state and its `latest_updates` (RFC 3339 times) from its updates.
    fn set_state(&mut self, i: usize, state: Option<&str>) {
        let Some(p) = self.pipelines.get_mut(i) else {
            return;
        };
        if let Some(state) = state {
            p.state = Some(state.into());
        }
        let updates = self.updates.get(&p.pipeline_id).into_iter().flatten();
        p.latest_updates = updates
            .take(5)
            .map(|u| UpdateStateInfo {
                update_id: Some(u.update_id.clone()),
                state: u.state.clone(),
                creation_time: Some(rfc3339_ms(u.creation_time.unwrap_or_default())),
            })
            .collect();
    }

    /// Starts an update of pipeline `i`, whose id is `id`.
    fn start(&mut self, i: usize, id: &str, request: &StartUpdateRequest) -> UpdateStart {
        let updates = self.updates.entry(id.to_string()).or_default();
        if let Some(active) = updates.first().filter(|u| u.is_active()) {
            return UpdateStart::Active(active.update_id.clone());
        }
        let update_id = uuid_like(0x5000_0000 + self.next);
        self.next += 1;
        updates.insert(
            0,
            UpdateInfo {
                pipeline_id: Some(id.to_string()),
                update_id: update_id.clone(),
                state: Some(STEPS[0].into()),
                cause: Some(request.cause.as_deref().unwrap_or("API_CALL").into()),
                creation_time: Some(now_ms()),
                full_refresh: Some(request.full_refresh.unwrap_or(false)),
                validate_only: Some(request.validate_only.unwrap_or(false)),
                mode: Some("DEFAULT".into()),
                refresh_selection: request.refresh_selection.clone(),
                full_refresh_selection: request.full_refresh_selection.clone(),
                ..UpdateInfo::default()
            },
        );
        self.set_state(i, Some("RUNNING"));
        UpdateStart::Started(update_id)
    }

    /// Update `uid` as read now; the read advances it one step.
    fn read_update(&mut self, i: usize, id: &str, uid: &str) -> Option<UpdateInfo> {
        let u = self
            .updates
            .get_mut(id)?
            .iter_mut()
            .find(|u| u.update_id == uid)?;
        let current = u.clone();
        let step = STEPS.iter().position(|x| Some(*x) == u.state.as_deref());
        if let Some(next) = step.and_then(|k| STEPS.get(k + 1)) {
            u.state = Some(next.to_string());
            let done = *next == "COMPLETED";
            self.set_state(i, done.then_some("IDLE"));
        }
        Some(current)
    }

    fn stop(&mut self, i: usize, id: &str) {
        if let Some(u) = self
            .updates
            .get_mut(id)
            .and_then(|u| u.first_mut())
            .filter(|u| u.is_active())
        {
            u.state = Some("CANCELED".into());
        }
        self.set_state(i, Some("IDLE"));
    }

    fn create(&mut self, spec: &PipelineSpec) -> String {
        let id = uuid_like(0x6000_0000 + self.next);
        self.next += 1;
        self.pipelines.push(PipelineDetails {
            pipeline_id: id.clone(),
            name: Some(spec.name.clone().unwrap_or_default()),
            state: Some("IDLE".into()),
            health: Some("HEALTHY".into()),
            creator_user_name: Some("alice@example.com".into()),
            run_as_user_name: Some("alice@example.com".into()),
            last_modified: Some(1_709_000_000_000),
            spec: Some(PipelineSpec {
                id: Some(id.clone()),
                ..spec.clone()
            }),
            ..PipelineDetails::default()
        });
        id
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

#[async_trait]
impl Pipelines for FixturePipelines {
    async fn pipelines(&self) -> Answer<Vec<PipelineDetails>> {
        let all = lock(&self.0).pipelines.clone();
        Ok(all)
    }

    async fn pipeline(&self, id: &str) -> Answer<Option<PipelineDetails>> {
        let detail = self.with(id, |state, i| state.pipelines.get(i).cloned());
        Ok(detail.flatten())
    }

    async fn updates(&self, id: &str) -> Answer<Option<Vec<UpdateInfo>>> {
        let updates = self.with(id, |state, _| {
            state.updates.get(id).cloned().unwrap_or_default()
        });
        Ok(updates)
    }

    async fn update(&self, id: &str, update_id: &str) -> Answer<Option<UpdateInfo>> {
        let update = self
            .with(id, |state, i| state.read_update(i, id, update_id))
            .flatten();
        Ok(update)
    }

    async fn start_update(&self, id: &str, request: &StartUpdateRequest) -> Answer<UpdateStart> {
        let started = self.with(id, |state, i| state.start(i, id, request));
        started.ok_or_else(|| databricks_api::pipelines::pipeline_not_found(id))
    }

    async fn stop(&self, id: &str) -> Answer<()> {
        self.with(id, |state, i| state.stop(i, id));
        Ok(())
    }

    async fn events(&self, id: &str) -> Answer<Option<Vec<PipelineEvent>>> {
        let events = self.with(id, |state, i| event_log(state, i));
        Ok(events)
    }

    async fn create_pipeline(&self, spec: &PipelineSpec) -> Answer<String> {
        let created = lock(&self.0).create(spec);
        Ok(created)
    }

    async fn delete_pipeline(&self, id: &str) -> Answer<()> {
        let mut state = lock(&self.0);
        if let Some(i) = state.position(id) {
            state.pipelines.remove(i);
            state.updates.remove(id);
        }
        Ok(())
    }
}

/// Synthesised event log of pipeline `i`: a few events per update, newest first.
fn event_log(p: &State, i: usize) -> Vec<PipelineEvent> {
    let Some(pipeline) = p.pipelines.get(i) else {
        return Vec::new();
    };
    let (id, name) = (&pipeline.pipeline_id, pipeline.name.as_deref());
    let mut out = Vec::new();
    for u in p.updates.get(id).into_iter().flatten().rev() {
        let uid = &u.update_id;
        let short = uid.get(..6).unwrap_or(uid);
        let state = u.state.as_deref().unwrap_or_default();
        let update = |s: &str| ("update_progress", format!("Update {short} is {s}."));
        let flow = |s: &str| ("flow_progress", format!("Flow 'orders_silver' {s}."));
        let started = (
            "create_update",
            format!("Update {short} started by API call."),
        );
        // (milliseconds after the update's creation, level, (event type, message))
        let mut events = vec![(0, "INFO", started), (1000, "INFO", update("INITIALIZING"))];
        if matches!(state, "RUNNING" | "COMPLETED" | "FAILED" | "STOPPING") {
            events.push((5000, "INFO", update("RUNNING")));
            events.push((6000, "INFO", flow("is RUNNING")));
        }
        match state {
            "COMPLETED" => {
                events.push((60_000, "METRICS", flow("has COMPLETED")));
                events.push((61_000, "INFO", update(state)));
            }
            "FAILED" => {
                events.push((30_000, "ERROR", flow("has FAILED")));
                events.push((31_000, "WARN", update(state)));
            }
            "CANCELED" => events.push((31_000, "INFO", update(state))),
            _ => {}
        }
        let t0 = u.creation_time.unwrap_or_default();
        for (dt, level, (event_type, message)) in events {
            let seq = 1001 + out.len() as u64;
            out.push(PipelineEvent {
                id: Some(uuid_like(seq ^ 0xE7E7)),
                sequence: Some(json!({"control_plane_seq_no": seq})),
                origin: json!({"pipeline_id": id, "pipeline_name": name.unwrap_or_default(), "update_id": uid, "cloud": "AWS", "region": "us-west-2"}).as_object().cloned(),
                timestamp: Some(rfc3339_ms(t0 + dt)),
                message: Some(message),
                level: Some(level.into()),
                maturity_level: Some("STABLE".into()),
                event_type: Some(event_type.into()),
                error: (level == "ERROR").then(table_not_found),
                details: None,
            });
        }
    }
    out.reverse();
    out
}

/// Why a FAILED update's flow failed.
fn table_not_found() -> PipelineError {
    PipelineError {
        fatal: Some(true),
        exceptions: vec![PipelineException {
            class_name: Some("org.apache.spark.sql.AnalysisException".into()),
            message: Some("[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`sales`.`orders_raw` cannot be found.".into()),
            stack: Vec::new(),
        }],
    }
}
