//! Delta Live Tables / Lakeflow pipelines API 2.0 (REFERENCE.md §6). A pipeline is a spec
//! file `<dir>/pipelines/<id>.json` whose libraries are SQL files or SQL notebooks of the
//! workspace defining datasets (`CREATE OR REFRESH MATERIALIZED VIEW name [COMMENT '...'] AS
//! SELECT ...`). An update refreshes every dataset in dependency order as a Delta table in
//! the pipeline's catalog and schema (a full recomputation each time). Updates and events
//! are kept under `<dir>/pipelines/<id>/`. This is the data side, [`LocalPipelines`]: the
//! protocol (routes, checks, paging, errors) is the workspace server's.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use databricks_api::backend::{Answer, Pipelines as PipelinesBackend, UpdateStart, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::pipelines::{
    PipelineDetails, PipelineEvent, PipelineSpec, StartUpdateRequest, UpdateInfo, UpdateStateInfo,
    pipeline_not_found,
};
use serde_json::{Value, json};

use super::{Shared, lock};
use crate::error::LocalError;
use crate::json;
use crate::layout::{self, Layout, now_ms};

pub(crate) struct Pipelines {
    dir: PathBuf,
    running: Mutex<HashMap<String, (String, tokio::task::AbortHandle)>>,
}

impl Pipelines {
    pub fn load(layout: &Layout) -> Result<Pipelines, LocalError> {
        let dir = layout.pipelines();
        std::fs::create_dir_all(&dir).map_err(|e| LocalError::io(&dir, e))?;
        // Updates interrupted by a stop of the process are marked failed.
        for id in layout::files(&dir)
            .iter()
            .filter_map(|f| f.strip_suffix(".json"))
        {
            let ud = dir.join(id).join("updates");
            for f in layout::files(&ud) {
                let p = ud.join(&f);
                if let Ok(mut v) = std::fs::read_to_string(&p)
                    .map_err(|_| ())
                    .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|_| ()))
                    && !is_terminal(v.get("state").and_then(Value::as_str).unwrap_or(""))
                {
                    json::set(&mut v, "state", json!("FAILED"));
                    let _ = layout::write_atomic(&p, v.to_string().as_bytes());
                }
            }
        }
        Ok(Pipelines {
            dir,
            running: Mutex::new(HashMap::new()),
        })
    }

    fn specs(&self) -> BTreeMap<String, (Value, i64)> {
        let mut out = BTreeMap::new();
        for f in layout::files(&self.dir) {
            let Some(id) = f.strip_suffix(".json") else {
                continue;
            };
            let p = self.dir.join(&f);
            let spec = std::fs::read_to_string(&p)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .unwrap_or_else(|| json!({"name": format!("{id} (invalid JSON spec)")}));
            out.insert(id.to_string(), (spec, layout::mtime_ms(&p)));
        }
        out
    }

    fn spec(&self, id: &str) -> Option<(Value, i64)> {
        if !layout::valid_segment(id) {
            return None;
        }
        self.specs().remove(id)
    }

    fn updates_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id).join("updates")
    }

    /// Updates, newest first.
    fn updates(&self, id: &str) -> Vec<Value> {
        let ud = self.updates_dir(id);
        let mut v: Vec<Value> = layout::files(&ud)
            .iter()
            .filter_map(|f| std::fs::read_to_string(ud.join(f)).ok())
            .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
            .collect();
        v.sort_by_key(|u| {
            std::cmp::Reverse(u.get("creation_time").and_then(Value::as_i64).unwrap_or(0))
        });
        v
    }

    fn save_update(&self, id: &str, update: &Value) {
        let uid = update
            .get("update_id")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let _ = layout::write_atomic(
            &self.updates_dir(id).join(format!("{uid}.json")),
            serde_json::to_string_pretty(update)
                .unwrap_or_default()
                .as_bytes(),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        id: &str,
        name: &str,
        update_id: &str,
        level: &str,
        event_type: &str,
        message: &str,
        extra: Value,
    ) {
        let p = self.dir.join(id).join("events.jsonl");
        let mut ev = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "timestamp": rfc3339(now_ms()),
            "level": level,
            "event_type": event_type,
            "maturity_level": "STABLE",
            "message": message,
            "origin": {"pipeline_id": id, "pipeline_name": name, "update_id": update_id, "cluster_id": crate::CLUSTER_ID},
        });
        if let (Some(o), Value::Object(x)) = (ev.as_object_mut(), extra) {
            for (k, v) in x {
                o.insert(k, v);
            }
        }
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
        {
            // One write per line: appends from the update's thread and a request's stay
            // whole lines.
            let _ = f.write_all(format!("{ev}\n").as_bytes());
        }
    }

    /// An event of update `uid`, written only while it is still the pipeline's running
    /// update: once a stop has taken it (and logged CANCELED), its task logs nothing more.
    #[allow(clippy::too_many_arguments)]
    fn update_event(
        &self,
        id: &str,
        name: &str,
        uid: &str,
        level: &str,
        event_type: &str,
        message: &str,
        extra: Value,
    ) {
        let running = lock(&self.running);
        if running.get(id).map(|(running_uid, _)| running_uid.as_str()) == Some(uid) {
            self.event(id, name, uid, level, event_type, message, extra);
        }
    }

    /// Newest first, by time: the update's thread and a stop may append out of order.
    fn events(&self, id: &str) -> Vec<Value> {
        let p = self.dir.join(id).join("events.jsonl");
        let mut v: Vec<Value> = std::fs::read_to_string(&p)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        v.reverse();
        // RFC 3339 times of one format sort as text; the sort is stable, so events of the
        // same millisecond keep their newest-first order.
        v.sort_by(|a, b| b["timestamp"].as_str().cmp(&a["timestamp"].as_str()));
        v
    }
}

fn is_terminal(state: &str) -> bool {
    matches!(state, "COMPLETED" | "FAILED" | "CANCELED")
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn name_of(spec: &Value, id: &str) -> String {
    spec.get("name")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_string()
}

/// A stored value as its contract model (a value this workspace wrote, or a file edited by
/// hand that no longer fits: then the error the server sends on).
fn model<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| {
        ApiError::new(
            ErrorCode::InternalError,
            format!("a stored pipeline record does not fit its model: {e}"),
        )
    })
}

/// The pipeline as `get` shows it: its state (RUNNING while an update runs), health (of
/// the latest update), the five latest updates and, with `spec`, the settings.
fn details(sh: &Shared, id: &str, spec: &Value, mtime: i64) -> PipelineDetails {
    let updates = sh.pipelines.updates(id);
    let running = lock(&sh.pipelines.running).contains_key(id);
    let latest_failed = updates
        .first()
        .and_then(|u| u.get("state").and_then(Value::as_str))
        == Some("FAILED");
    let latest_updates = updates
        .iter()
        .take(5)
        .map(|u| UpdateStateInfo {
            update_id: u
                .get("update_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            state: u.get("state").and_then(Value::as_str).map(str::to_string),
            creation_time: Some(rfc3339(
                u.get("creation_time").and_then(Value::as_i64).unwrap_or(0),
            )),
        })
        .collect();
    let name = name_of(spec, id);
    // A spec file edited by hand into another shape still lists, by its name.
    let mut settings: PipelineSpec =
        serde_json::from_value(spec.clone()).unwrap_or_else(|_| PipelineSpec {
            name: Some(name.clone()),
            ..PipelineSpec::default()
        });
    settings.id = Some(id.to_string());
    PipelineDetails {
        pipeline_id: id.to_string(),
        name: Some(name),
        state: Some(if running { "RUNNING" } else { "IDLE" }.to_string()),
        health: Some(
            if latest_failed {
                "UNHEALTHY"
            } else {
                "HEALTHY"
            }
            .to_string(),
        ),
        cluster_id: running.then(|| crate::CLUSTER_ID.to_string()),
        creator_user_name: Some(layout::user_name()),
        run_as_user_name: Some(layout::user_name()),
        last_modified: Some(mtime),
        latest_updates,
        spec: Some(settings),
        ..PipelineDetails::default()
    }
}

/// The [`PipelinesBackend`] of the shared workspace server: pipeline specs on disk, updates
/// run by this workspace's engine.
pub(crate) struct LocalPipelines {
    pub shared: Arc<Shared>,
}

impl LocalPipelines {
    fn updates_of(&self, id: &str) -> Option<Vec<UpdateInfo>> {
        self.shared.pipelines.spec(id)?;
        Some(
            self.shared
                .pipelines
                .updates(id)
                .into_iter()
                .filter_map(|u| model(u).ok())
                .collect(),
        )
    }

    fn create(&self, spec: &PipelineSpec) -> Result<String, ApiError> {
        self.shared.check_writable("Creating a pipeline")?;
        let id = uuid::Uuid::new_v4().to_string();
        let text = serde_json::to_string_pretty(spec)
            .map_err(|e| ApiError::new(ErrorCode::InternalError, e.to_string()))?;
        layout::write_atomic(
            &self.shared.pipelines.dir.join(format!("{id}.json")),
            text.as_bytes(),
        )
        .map_err(|e| ApiError::new(ErrorCode::InternalError, format!("create pipeline: {e}")))?;
        Ok(id)
    }

    fn delete(&self, id: &str) -> Result<(), ApiError> {
        self.shared.check_writable("Deleting a pipeline")?;
        if self.shared.pipelines.spec(id).is_some() {
            let dir = &self.shared.pipelines.dir;
            let _ = std::fs::remove_file(dir.join(format!("{id}.json")));
            let _ = std::fs::remove_dir_all(dir.join(id));
        }
        Ok(())
    }
}

#[async_trait]
impl PipelinesBackend for LocalPipelines {
    async fn pipelines(&self) -> Answer<Vec<PipelineDetails>> {
        Ok(self
            .shared
            .pipelines
            .specs()
            .iter()
            .map(|(id, (spec, mtime))| details(&self.shared, id, spec, *mtime))
            .collect())
    }

    async fn pipeline(&self, id: &str) -> Answer<Option<PipelineDetails>> {
        Ok(self
            .shared
            .pipelines
            .spec(id)
            .map(|(spec, mtime)| details(&self.shared, id, &spec, mtime)))
    }

    async fn updates(&self, id: &str) -> Answer<Option<Vec<UpdateInfo>>> {
        Ok(self.updates_of(id))
    }

    async fn update(&self, id: &str, update_id: &str) -> Answer<Option<UpdateInfo>> {
        Ok(self
            .updates_of(id)
            .and_then(|u| u.into_iter().find(|u| u.update_id == update_id)))
    }

    async fn start_update(&self, id: &str, request: &StartUpdateRequest) -> Answer<UpdateStart> {
        self.shared.check_writable("Starting a pipeline update")?;
        let full_refresh = request.full_refresh.unwrap_or(false);
        let cause = request.cause.as_deref().unwrap_or("API_CALL");
        match start_update(&self.shared, id, full_refresh, cause) {
            Ok((update_id, _)) => Ok(UpdateStart::Started(update_id)),
            Err(NotStarted::Active(active)) => Ok(UpdateStart::Active(active)),
            Err(NotStarted::Unknown) => Err(pipeline_not_found(id)),
        }
    }

    async fn stop(&self, id: &str) -> Answer<()> {
        stop(&self.shared, id);
        Ok(())
    }

    async fn events(&self, id: &str) -> Answer<Option<Vec<PipelineEvent>>> {
        let Some(_) = self.shared.pipelines.spec(id) else {
            return Ok(None);
        };
        Ok(Some(
            self.shared
                .pipelines
                .events(id)
                .into_iter()
                .filter_map(|e| model(e).ok())
                .collect(),
        ))
    }

    async fn create_pipeline(&self, spec: &PipelineSpec) -> Answer<String> {
        self.create(spec)
    }

    async fn delete_pipeline(&self, id: &str) -> Answer<()> {
        self.delete(id)
    }
}

/// Cancels the pipeline's running update: taken out of `running` (so its task writes no
/// more, see `run_update`), aborted, marked CANCELED, with its event.
fn stop(sh: &Shared, id: &str) {
    let Some((spec, _)) = sh.pipelines.spec(id) else {
        return;
    };
    let stopped = lock(&sh.pipelines.running).remove(id);
    if let Some((uid, h)) = stopped {
        h.abort();
        if let Some(mut u) = sh
            .pipelines
            .updates(id)
            .into_iter()
            .find(|u| u.get("update_id").and_then(Value::as_str) == Some(uid.as_str()))
        {
            json::set(&mut u, "state", json!("CANCELED"));
            sh.pipelines.save_update(id, &u);
        }
        sh.pipelines.event(
            id,
            &name_of(&spec, id),
            &uid,
            "INFO",
            "update_progress",
            &format!("Update {} is CANCELED.", &uid[..8.min(uid.len())]),
            json!({"details": {"update_progress": {"state": "CANCELED"}}}),
        );
    }
}

/// Why an update did not start.
enum NotStarted {
    Unknown,
    /// The update already running.
    Active(String),
}

/// Starts an update in the background: `(update_id, completion)`.
fn start_update(
    sh: &Arc<Shared>,
    id: &str,
    full_refresh: bool,
    cause: &str,
) -> Result<(String, tokio::sync::oneshot::Receiver<Result<(), String>>), NotStarted> {
    let (spec, _) = sh.pipelines.spec(id).ok_or(NotStarted::Unknown)?;
    let mut running = lock(&sh.pipelines.running);
    if let Some((active, _)) = running.get(id) {
        return Err(NotStarted::Active(active.clone()));
    }
    let uid = uuid::Uuid::new_v4().to_string();
    let update = json!({
        "update_id": uid,
        "pipeline_id": id,
        "state": "CREATED",
        "cause": cause,
        "creation_time": now_ms(),
        "full_refresh": full_refresh,
        "cluster_id": crate::CLUSTER_ID,
        "mode": "DEFAULT",
        "config": spec,
    });
    sh.pipelines.save_update(id, &update);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let shared = sh.clone();
    let pid = id.to_string();
    let u2 = uid.clone();
    let handle = tokio::spawn(async move {
        let result = run_update(&shared, &pid, &u2, update).await;
        lock(&shared.pipelines.running).remove(&pid);
        let _ = tx.send(result);
    });
    running.insert(id.to_string(), (uid.clone(), handle.abort_handle()));
    Ok((uid, rx))
}

/// Runs an update to completion (for `pipeline_task` of jobs).
pub(crate) async fn run_update_now(
    sh: &Arc<Shared>,
    id: &str,
    full_refresh: bool,
    cause: &str,
) -> Result<String, String> {
    if !sh.allow_writes() {
        return Err("Starting a pipeline update is not allowed: the local workspace is read-only (start it with writes allowed, e.g. --allow-writes).".into());
    }
    let (uid, rx) = start_update(sh, id, full_refresh, cause).map_err(|e| match e {
        NotStarted::Unknown => format!("Pipeline {id} does not exist."),
        NotStarted::Active(active) => {
            format!("Pipeline {id} already has an update running ({active}).")
        }
    })?;
    match rx.await {
        Ok(Ok(())) => Ok(uid),
        Ok(Err(e)) => Err(format!("Pipeline {id} update {uid} failed: {e}")),
        Err(_) => Err(format!("Pipeline {id} update {uid} was stopped.")),
    }
}

/// A dataset defined by a pipeline source.
#[derive(Debug, Clone)]
struct Dataset {
    name: String,
    comment: Option<String>,
    query: String,
}

fn parse_datasets(sources: &[String], catalog: &str, schema: &str) -> Result<Vec<Dataset>, String> {
    let head = regex::Regex::new(
        r"(?is)^\s*CREATE\s+(?:OR\s+(?:REFRESH|REPLACE)\s+)?(?:PRIVATE\s+|TEMPORARY\s+)?(?:MATERIALIZED\s+VIEW|STREAMING\s+LIVE\s+TABLE|STREAMING\s+TABLE|LIVE\s+TABLE|LIVE\s+VIEW|TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?([`\w.]+)(.*)$",
    )
    .map_err(|e| e.to_string())?;
    let as_query = regex::Regex::new(r"(?is)\bAS\s*(\(|SELECT\b|WITH\b|FROM\b|VALUES\b)")
        .map_err(|e| e.to_string())?;
    let comment_re =
        regex::Regex::new(r"(?is)\bCOMMENT\s+'((?:[^'\\]|\\.)*)'").map_err(|e| e.to_string())?;
    let live = regex::Regex::new(r"(?i)\bSTREAM\s*\(\s*(?:LIVE\.)?([`\w.]+)\s*\)")
        .map_err(|e| e.to_string())?;
    let live_prefix = regex::Regex::new(r"(?i)\bLIVE\.").map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for src in sources {
        for stmt in crate::script::split_statements(src) {
            let code: String = stmt
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            if code.trim().is_empty() {
                continue;
            }
            let Some(c) = head.captures(&code) else {
                return Err(format!(
                    "Pipeline sources may only define datasets (CREATE [OR REFRESH] MATERIALIZED VIEW name AS SELECT ...); cannot run: {}",
                    code.chars().take(80).collect::<String>()
                ));
            };
            let name = c
                .get(1)
                .map(|m| m.as_str().trim_matches('`'))
                .unwrap_or("")
                .rsplit('.')
                .next()
                .unwrap_or("")
                .to_string();
            let rest = c.get(2).map(|m| m.as_str()).unwrap_or("");
            let Some(m) = as_query.find(rest) else {
                return Err(format!("Dataset {name} has no AS <query>."));
            };
            let before = &rest[..m.start()];
            let comment = comment_re
                .captures(before)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().replace("\\'", "'"));
            // After `AS`: two letters, which a case-insensitive match may have found
            // spelled with a non-ASCII letter (`ſ` folds to `s`), so counted in characters.
            let query = m
                .as_str()
                .char_indices()
                .nth(2)
                .and_then(|(i, _)| rest.get(m.start() + i..))
                .unwrap_or_default()
                .trim()
                .to_string();
            let lower = query.to_ascii_lowercase();
            if lower.contains("read_files(")
                || lower.contains("cloud_files(")
                || lower.contains("read_kafka(")
            {
                return Err(format!(
                    "Dataset {name} reads a streaming source (read_files/cloud_files/read_kafka), which the local workspace does not support."
                ));
            }
            let query = live.replace_all(&query, "$1").to_string();
            let query = live_prefix
                .replace_all(&query, format!("`{catalog}`.`{schema}`."))
                .to_string();
            out.push(Dataset {
                name,
                comment,
                query,
            });
        }
    }
    Ok(out)
}

/// Orders datasets so that each comes after the datasets its query names.
fn order(datasets: Vec<Dataset>) -> Result<Vec<Dataset>, String> {
    let mut remaining = datasets;
    let mut done: Vec<Dataset> = Vec::new();
    while !remaining.is_empty() {
        let names: Vec<String> = remaining
            .iter()
            .map(|d| d.name.to_ascii_lowercase())
            .collect();
        let pos = remaining.iter().position(|d| {
            let q = d.query.to_ascii_lowercase();
            names.iter().all(|n| {
                n == &d.name.to_ascii_lowercase()
                    || !regex::Regex::new(&format!(r"\b{}\b", regex::escape(n)))
                        .is_ok_and(|r| r.is_match(&q))
            })
        });
        match pos {
            Some(p) => done.push(remaining.remove(p)),
            None => {
                return Err(format!(
                    "The datasets {} depend on each other in a cycle.",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(done)
}

async fn run_update(
    sh: &Arc<Shared>,
    id: &str,
    uid: &str,
    mut update: Value,
) -> Result<(), String> {
    let p = &sh.pipelines;
    let spec = update.get("config").cloned().unwrap_or(json!({}));
    let name = name_of(&spec, id);
    let set = |u: &mut Value, state: &str| {
        // A stop takes the update out of `running` and marks it CANCELED: from then on
        // the update is the stop's, and this task (aborted only at its next await) must
        // not write over it. Holding the lock orders this write and its event before a
        // stop's.
        let running = lock(&p.running);
        if running.get(id).map(|(running_uid, _)| running_uid.as_str()) != Some(uid) {
            return;
        }
        json::set(u, "state", json!(state));
        p.save_update(id, u);
        p.event(
            id,
            &name,
            uid,
            "INFO",
            "update_progress",
            &format!("Update {} is {state}.", &uid[..8.min(uid.len())]),
            json!({"details": {"update_progress": {"state": state}}}),
        );
        drop(running);
    };
    set(&mut update, "INITIALIZING");
    let result = refresh(sh, id, uid, &name, &spec).await;
    match &result {
        Ok(()) => set(&mut update, "COMPLETED"),
        Err(e) => {
            p.update_event(id, &name, uid, "ERROR", "update_progress", &format!("Update failed: {e}"), json!({"error": {"fatal": true, "exceptions": [{"class_name": "LocalPipelineError", "message": e}]}}));
            set(&mut update, "FAILED");
        }
    }
    result
}

/// The SQL texts of the pipeline's libraries: SQL files, the cells of SQL notebooks, the
/// `.sql` files a glob names.
fn sources_of(sh: &Shared, spec: &Value) -> Result<Vec<String>, String> {
    let root = sh.layout.workspace();
    let mut sources = Vec::new();
    for lib in spec
        .get("libraries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let path = lib
            .pointer("/file/path")
            .or_else(|| lib.pointer("/notebook/path"))
            .and_then(Value::as_str);
        if let Some(path) = path {
            let (text, lang) = super::workspace::read_source(&root, path)?;
            match lang {
                Some(super::workspace::Language::Sql) => {
                    sources.extend(crate::script::sql_notebook_cells(&text));
                }
                Some(other) => {
                    return Err(format!(
                        "Library {path} is a {} notebook: local pipelines run SQL sources only.",
                        other.as_str()
                    ));
                }
                None if path.to_ascii_lowercase().ends_with(".sql") => sources.push(text),
                None => {
                    return Err(format!(
                        "Library {path} is not a SQL file: local pipelines run SQL sources only."
                    ));
                }
            }
        } else if let Some(glob) = lib.pointer("/glob/include").and_then(Value::as_str) {
            let base = glob
                .trim_end_matches("**")
                .trim_end_matches('*')
                .trim_end_matches('/');
            let segs = super::workspace::segments(base)?;
            let dir = segs.iter().fold(root.clone(), |p, s| p.join(s));
            for f in layout::files(&dir) {
                if f.to_ascii_lowercase().ends_with(".sql")
                    && let Ok(t) = std::fs::read_to_string(dir.join(&f))
                {
                    sources.push(t);
                }
            }
        } else {
            return Err(format!(
                "Unsupported pipeline library {lib}: use file, notebook or glob of SQL sources."
            ));
        }
    }
    Ok(sources)
}

async fn refresh(
    sh: &Arc<Shared>,
    id: &str,
    uid: &str,
    name: &str,
    spec: &Value,
) -> Result<(), String> {
    let p = &sh.pipelines;
    let lake = &sh.engine.lake;
    let catalog = spec
        .get("catalog")
        .and_then(Value::as_str)
        .unwrap_or(crate::engine::DEFAULT_CATALOG);
    let schema = spec
        .get("schema")
        .or_else(|| spec.get("target"))
        .and_then(Value::as_str)
        .unwrap_or(crate::engine::DEFAULT_SCHEMA);
    let cat = lake
        .find_catalog(catalog)
        .filter(|c| c != crate::lakehouse::SYSTEM)
        .ok_or_else(|| format!("Catalog {catalog} does not exist."))?;
    let sch = match lake.find_schema(&cat, schema) {
        Some(s) => s,
        None => {
            let d = lake.schema_dir(&cat, schema);
            std::fs::create_dir_all(&d)
                .map_err(|e| format!("cannot create schema {cat}.{schema}: {e}"))?;
            schema.to_string()
        }
    };
    let sources = sources_of(sh, spec)?;
    let datasets = order(parse_datasets(&sources, &cat, &sch)?)?;
    if datasets.is_empty() {
        return Err("The pipeline defines no datasets.".into());
    }
    let opts = crate::engine::ExecOptions {
        catalog: Some(cat.clone()),
        schema: Some(sch.clone()),
        ..Default::default()
    };
    for d in datasets {
        p.update_event(id, name, uid, "INFO", "flow_progress", &format!("Flow '{}' is RUNNING.", d.name), json!({"origin": {"pipeline_id": id, "pipeline_name": name, "update_id": uid, "flow_name": d.name, "dataset_name": d.name}}));
        let result = sh
            .engine
            .execute(&d.query, &opts)
            .await
            .map_err(|e| format!("dataset {}: {}", d.name, e.databricks_message()))?;
        let rows = result.batch.num_rows();
        let path = lake
            .schema_dir(&cat, &sch)
            .join(d.name.to_ascii_lowercase());
        let exists = path.join("_delta_log").is_dir();
        crate::delta::write(
            &path,
            vec![result.batch],
            if exists {
                deltalake::protocol::SaveMode::Overwrite
            } else {
                deltalake::protocol::SaveMode::ErrorIfExists
            },
            d.comment
                .as_deref()
                .or(Some("Materialized view refreshed by a local pipeline.")),
            exists,
        )
        .await
        .map_err(|e| {
            format!(
                "dataset {}: writing {}.{}.{} failed: {e}",
                d.name, cat, sch, d.name
            )
        })?;
        let target = crate::engine::TableName {
            catalog: cat.clone(),
            schema: sch.clone(),
            name: d.name.to_ascii_lowercase(),
        };
        let sources: Vec<_> = sh
            .engine
            .tables_read_by(&d.query, &cat, &sch)
            .into_iter()
            .filter(|s| !s.same(&target))
            .collect();
        sh.record_lineage(
            (!sources.is_empty()).then_some(crate::engine::Written { target, sources }),
            &super::lineage::Entity {
                pipeline_id: Some(id.to_string()),
                pipeline_update_id: Some(uid.to_string()),
                ..super::lineage::Entity::default()
            },
        );
        p.update_event(id, name, uid, "INFO", "flow_progress", &format!("Flow '{}' has COMPLETED ({rows} rows).", d.name), json!({"origin": {"pipeline_id": id, "pipeline_name": name, "update_id": uid, "flow_name": d.name, "dataset_name": d.name}, "details": {"flow_progress": {"status": "COMPLETED", "metrics": {"num_output_rows": rows}}}}));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn datasets_are_parsed_and_ordered() {
        let src = "CREATE OR REFRESH MATERIALIZED VIEW b COMMENT 'B''s' AS SELECT * FROM LIVE.a;\n-- c\nCREATE MATERIALIZED VIEW a AS SELECT 1 AS x;".to_string();
        let ds = parse_datasets(&[src], "main", "default").unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds[0].name, "b");
        assert!(
            ds[0].query.contains("`main`.`default`.a"),
            "{}",
            ds[0].query
        );
        let ordered = order(ds).unwrap();
        assert_eq!(ordered[0].name, "a");
        assert!(parse_datasets(&["SELECT 1".into()], "m", "d").is_err());
    }

    #[test]
    fn as_spelled_with_a_non_ascii_letter_does_not_split_a_character() {
        // `(?i)S` matches `ſ` (two bytes): the query starts after the character.
        let src = "CREATE MATERIALIZED VIEW a A\u{17f} SELECT 1 AS x".to_string();
        let ds = parse_datasets(&[src], "main", "default").unwrap();
        assert_eq!(ds[0].query, "SELECT 1 AS x");
    }

    #[test]
    fn hand_edited_update_files_load_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().to_path_buf());
        let updates = layout.pipelines().join("p").join("updates");
        std::fs::create_dir_all(&updates).unwrap();
        std::fs::write(layout.pipelines().join("p.json"), "{}").unwrap();
        std::fs::write(updates.join("a.json"), "[1]").unwrap();
        std::fs::write(updates.join("b.json"), r#"{"state": "RUNNING"}"#).unwrap();
        Pipelines::load(&layout).unwrap();
        let read = |f: &str| std::fs::read_to_string(updates.join(f)).unwrap();
        assert_eq!(read("a.json"), "[1]");
        assert!(read("b.json").contains("FAILED"), "{}", read("b.json"));
    }
}
