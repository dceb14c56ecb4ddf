//! Genie One and the Genie spaces it answers from.
//!
//! A Genie space is `<dir>/genie/spaces/<space_id>.json`: a title, a description and the
//! tables it covers (`{"title", "description", "tables": ["catalog.schema.table", …]}`).
//! A new workspace gets one over the TPC-H samples. Genie One reads a question with
//! [`crate::genie::plan`] against the tables of every space, runs the SQL on the local
//! warehouse (recorded in the query history with the space as its source), and answers
//! with progress messages, the query item and a Markdown answer, as the Genie One API's
//! responses are shaped. The work goes on after `create_response` returns; cancelling
//! stops it, and the statement with it.
//!
//! Conversations and responses are kept in memory (the newest [`MAX_RESPONSES`]): like
//! the statements they are about recent work, and a restart starts afresh.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use databricks_api::backend::{Answer, GenieOne, GenieOneQuestion, UnityCatalog, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::genie_one::{
    self, Annotation, GenieOneResponse, IncompleteDetails, OutputContent, OutputItem, ResponseError,
};
use databricks_api::sql::StatementResponse;
use serde::Deserialize;
use serde_json::json;

use super::{Shared, lock};
use crate::WAREHOUSE_ID;
use crate::engine::ExecOptions;
use crate::error::LocalError;
use crate::genie::{self, ColumnSchema, NoPlan, Plan, Shape, TableSchema};

/// The Genie space over the TPC-H samples a new workspace starts with.
pub(crate) const SAMPLE_SPACE_ID: &str = "10ca16e0000000000000000000000001";
/// Responses kept; the oldest finished ones are forgotten first.
const MAX_RESPONSES: usize = 1_000;
/// Most rows a Genie query returns (its result is kept in memory with the response).
const MAX_RESULT_ROWS: usize = 10_000;
/// Rows shown in the answer's Markdown table.
const ANSWER_ROWS: usize = 20;
/// How long a question waits for the TPC-H samples to be generated.
const SAMPLES_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// A Genie space as its file says it.
#[derive(Debug, Clone, Deserialize)]
struct SpaceFile {
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tables: Vec<String>,
}

/// A Genie space of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Space {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// Full table names, as the file lists them.
    pub tables: Vec<String>,
}

/// The workspace's Genie spaces, by id; files that cannot be read are skipped (and
/// logged).
pub(crate) fn spaces(root: &Path) -> Vec<Space> {
    let mut out = Vec::new();
    for file in crate::layout::files(root) {
        let Some(id) = file.strip_suffix(".json") else {
            continue;
        };
        if !is_space_id(id) {
            continue;
        }
        let path = root.join(&file);
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<SpaceFile>(&b).map_err(|e| e.to_string()));
        match parsed {
            Ok(space) => out.push(Space {
                id: id.to_string(),
                title: space.title,
                description: space.description,
                tables: space
                    .tables
                    .into_iter()
                    .filter(|t| t.split('.').count() == 3)
                    .collect(),
            }),
            Err(e) => tracing::warn!(path = %path.display(), "Genie space skipped: {e}"),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Space ids are 32 hexadecimal digits, as Databricks'.
fn is_space_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Writes the sample space when the workspace has no Genie directory yet (a workspace
/// whose spaces were all deleted keeps none).
pub(crate) fn ensure_sample_space(layout: &crate::layout::Layout) -> Result<(), LocalError> {
    let dir = layout.genie_spaces();
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| LocalError::io(&dir, e))?;
    let path = dir.join(format!("{SAMPLE_SPACE_ID}.json"));
    let text = serde_json::to_string_pretty(&json!({
        "title": "TPC-H sales",
        "description": "Orders, line items, customers, suppliers, parts, nations and regions of the TPC-H sample data (samples.tpch).",
        "tables": [
            "samples.tpch.orders",
            "samples.tpch.lineitem",
            "samples.tpch.customer",
            "samples.tpch.supplier",
            "samples.tpch.part",
            "samples.tpch.nation",
            "samples.tpch.region"
        ]
    }))
    .unwrap_or_default();
    crate::layout::write_atomic(&path, text.as_bytes()).map_err(|e| LocalError::io(&path, e))
}

/// One question and its answer so far.
struct Turn {
    question: String,
    /// When it was asked (epoch seconds).
    asked_at: i64,
    response: GenieOneResponse,
    /// Query item id → its result.
    results: HashMap<String, StatementResponse>,
    /// The work to stop on cancel: the turn's task and its statement's.
    abort: Vec<tokio::task::AbortHandle>,
}

/// A conversation: Genie One's (over every space) or one space's.
#[derive(Debug, Clone, Default)]
struct Conversation {
    space_id: Option<String>,
    /// The table its last answer read (a follow-up that names none asks about it).
    last_table: Option<String>,
    /// Its first question, and when it was asked (epoch milliseconds).
    title: String,
    created_ms: i64,
}

#[derive(Default)]
struct State {
    conversations: HashMap<String, Conversation>,
    responses: HashMap<String, Turn>,
    /// Response ids, oldest first.
    order: VecDeque<String>,
}

/// Genie One's conversations of one workspace (shared by its servers).
#[derive(Default)]
pub(crate) struct Conversations {
    state: Mutex<State>,
}

impl Conversations {
    fn with_turn<T>(&self, rid: &str, f: impl FnOnce(&mut Turn) -> T) -> Option<T> {
        lock(&self.state).responses.get_mut(rid).map(f)
    }

    fn push(&self, rid: &str, item: OutputItem) {
        self.with_turn(rid, |t| {
            if t.response.status() == genie_one::IN_PROGRESS {
                t.response.output.push(item);
            }
        });
    }

    /// Ends the turn (unless it was cancelled meanwhile).
    fn finish(&self, rid: &str, status: &str, error: Option<ResponseError>) {
        self.with_turn(rid, |t| {
            if t.response.status() == genie_one::IN_PROGRESS {
                t.response.status = Some(status.to_string());
                t.response.error = error;
                t.abort.clear();
            }
        });
    }

    /// Forgets the oldest finished responses beyond [`MAX_RESPONSES`].
    fn trim(state: &mut State) {
        let mut kept = VecDeque::with_capacity(state.order.len());
        let mut excess = state.order.len().saturating_sub(MAX_RESPONSES);
        while let Some(rid) = state.order.pop_front() {
            let finished = state
                .responses
                .get(&rid)
                .is_none_or(|t| t.response.is_terminal());
            if excess > 0 && finished {
                state.responses.remove(&rid);
                excess -= 1;
            } else {
                kept.push_back(rid);
            }
        }
        state.order = kept;
    }
}

/// The [`GenieOne`] backend of the local workspace.
pub(crate) struct LocalGenieOne {
    pub shared: Arc<Shared>,
}

fn not_found(message: String) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, message)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// An assistant message.
fn message(phase: &str, text: String, annotations: Vec<Annotation>) -> OutputItem {
    let at = now();
    OutputItem {
        type_: genie_one::MESSAGE_ITEM.to_string(),
        id: new_id(),
        role: Some("assistant".to_string()),
        status: Some(genie_one::COMPLETED.to_string()),
        phase: Some(phase.to_string()),
        create_time: Some(at.clone()),
        complete_time: Some(at),
        content: vec![OutputContent {
            type_: "output_text".to_string(),
            text,
            annotations,
        }],
        ..OutputItem::default()
    }
}

impl LocalGenieOne {
    /// Accepts a question: in a new conversation (of `space_id`'s, or Genie One's), or
    /// in `conversation_id`, which must be of the same kind. The answer is worked out in
    /// the background.
    pub(crate) fn ask(
        &self,
        question: &str,
        conversation_id: Option<&str>,
        space_id: Option<&str>,
    ) -> Result<GenieOneResponse, ApiError> {
        let conversations = &self.shared.genie_one;
        let mut state = lock(&conversations.state);
        let cid = match conversation_id {
            Some(cid)
                if state
                    .conversations
                    .get(cid)
                    .is_some_and(|c| c.space_id.as_deref() == space_id) =>
            {
                cid.to_string()
            }
            Some(cid) => return Err(unknown_conversation(cid, space_id)),
            None => {
                let cid = new_id();
                state.conversations.insert(
                    cid.clone(),
                    Conversation {
                        space_id: space_id.map(str::to_string),
                        last_table: None,
                        title: question.to_string(),
                        created_ms: chrono::Utc::now().timestamp_millis(),
                    },
                );
                cid
            }
        };
        let rid = new_id();
        let response = GenieOneResponse {
            id: rid.clone(),
            object: Some("response".to_string()),
            model: Some("genie-one".to_string()),
            status: Some(genie_one::IN_PROGRESS.to_string()),
            output: Vec::new(),
            conversation_id: Some(cid.clone()),
            create_time: Some(now()),
            ..GenieOneResponse::default()
        };
        let previous = state
            .conversations
            .get(&cid)
            .and_then(|c| c.last_table.clone());
        let task = tokio::spawn(answer(
            self.shared.clone(),
            rid.clone(),
            cid,
            question.to_string(),
            previous,
            space_id.map(str::to_string),
        ));
        state.responses.insert(
            rid.clone(),
            Turn {
                question: question.to_string(),
                asked_at: chrono::Utc::now().timestamp(),
                response: response.clone(),
                results: HashMap::new(),
                abort: vec![task.abort_handle()],
            },
        );
        state.order.push_back(rid);
        Conversations::trim(&mut state);
        Ok(response)
    }

    /// A response of `space_id`'s conversations (`None`: Genie One's), with the question
    /// and when it was asked.
    pub(crate) fn read(
        &self,
        cid: &str,
        rid: &str,
        space_id: Option<&str>,
    ) -> Result<(GenieOneResponse, String, i64), ApiError> {
        let state = lock(&self.shared.genie_one.state);
        let in_space = state
            .conversations
            .get(cid)
            .is_some_and(|c| c.space_id.as_deref() == space_id);
        let turn = state
            .responses
            .get(rid)
            .filter(|t| in_space && t.response.conversation_id.as_deref() == Some(cid))
            .ok_or_else(|| unknown(&state, cid, rid, space_id))?;
        Ok((turn.response.clone(), turn.question.clone(), turn.asked_at))
    }

    /// The result of a query item of a response of `space_id`'s conversations; `None`:
    /// its first query item.
    pub(crate) fn result(
        &self,
        cid: &str,
        rid: &str,
        item_id: Option<&str>,
        space_id: Option<&str>,
    ) -> Result<StatementResponse, ApiError> {
        let (response, _, _) = self.read(cid, rid, space_id)?;
        let item = query_item(&response, item_id)?;
        let state = lock(&self.shared.genie_one.state);
        state
            .responses
            .get(rid)
            .and_then(|t| t.results.get(&item.id).cloned())
            .ok_or_else(|| {
                not_found(format!(
                    "Response {rid} has no query item {} with a result.",
                    item.id
                ))
            })
    }

    /// Runs a query item's SQL again on the warehouse: the new result replaces the kept
    /// one, and the item names the new statement.
    pub(crate) async fn rerun(
        &self,
        cid: &str,
        rid: &str,
        item_id: Option<&str>,
        space_id: Option<&str>,
    ) -> Result<StatementResponse, ApiError> {
        let (response, _, _) = self.read(cid, rid, space_id)?;
        let item = query_item(&response, item_id)?;
        let sql = item.sql.clone().unwrap_or_default();
        let source = space_id.unwrap_or(SAMPLE_SPACE_ID);
        let (statement_id, result) = match run(&self.shared, rid, &sql, source, "Genie").await {
            Ok(ran) => ran,
            // Answered as the statement's failure, as a warehouse reports one.
            Err(message) => {
                let failed = json!({
                    "statement_id": uuid::Uuid::new_v4().to_string(),
                    "status": {"state": "FAILED", "error": {"error_code": "BAD_REQUEST", "message": message}},
                });
                return serde_json::from_value(failed)
                    .map_err(|e| ApiError::new(ErrorCode::InternalError, e.to_string()));
            }
        };
        self.shared.genie_one.with_turn(rid, |t| {
            t.results.insert(item.id.clone(), result.clone());
            if let Some(kept) = t.response.output.iter_mut().find(|o| o.id == item.id) {
                kept.statement_id = Some(statement_id);
            }
        });
        Ok(result)
    }

    /// The conversations of a space, newest first: id, title, when started (ms).
    pub(crate) fn conversations_of(&self, space_id: &str) -> Vec<(String, String, i64)> {
        let state = lock(&self.shared.genie_one.state);
        let mut out: Vec<(String, String, i64)> = state
            .conversations
            .iter()
            .filter(|(_, c)| c.space_id.as_deref() == Some(space_id))
            .map(|(id, c)| (id.clone(), c.title.clone(), c.created_ms))
            .collect();
        out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

#[async_trait]
impl GenieOne for LocalGenieOne {
    async fn create_response(&self, question: &GenieOneQuestion) -> Answer<GenieOneResponse> {
        if let Some(w) = question
            .warehouse_id
            .as_deref()
            .filter(|w| *w != WAREHOUSE_ID)
        {
            return Err(not_found(format!(
                "SQL warehouse {w} does not exist. The local workspace has one warehouse: {WAREHOUSE_ID}."
            )));
        }
        self.ask(
            &question.question,
            question.conversation_id.as_deref(),
            None,
        )
    }

    async fn response(&self, cid: &str, rid: &str) -> Answer<GenieOneResponse> {
        self.read(cid, rid, None).map(|(r, _, _)| r)
    }

    async fn cancel_response(&self, cid: &str, rid: &str) -> Answer<GenieOneResponse> {
        self.read(cid, rid, None)?;
        let mut state = lock(&self.shared.genie_one.state);
        let turn = state
            .responses
            .get_mut(rid)
            .ok_or_else(|| not_found(format!("Response {rid} does not exist.")))?;
        if !turn.response.is_terminal() {
            // The statement's task too: its history entry then says CANCELED.
            for handle in turn.abort.drain(..) {
                handle.abort();
            }
            turn.response.status = Some(genie_one::INCOMPLETE.to_string());
            turn.response.incomplete_details = Some(IncompleteDetails {
                reason: Some(genie_one::CANCELLED.to_string()),
            });
        }
        Ok(turn.response.clone())
    }

    async fn query_result(&self, cid: &str, rid: &str, item_id: &str) -> Answer<StatementResponse> {
        self.result(cid, rid, Some(item_id), None)
    }
}

/// A query item of the response: `item_id`, or the first; 404 when there is none.
fn query_item(response: &GenieOneResponse, item_id: Option<&str>) -> Result<OutputItem, ApiError> {
    response
        .output
        .iter()
        .filter(|o| o.type_ == genie_one::QUERY_ITEM)
        .find(|o| item_id.is_none_or(|id| o.id == id))
        .cloned()
        .ok_or_else(|| {
            not_found(match item_id {
                Some(id) => format!("Response {} has no query item {id}.", response.id),
                None => format!("Response {} has no query item.", response.id),
            })
        })
}

/// 404 for a response that is not there, saying which of the two ids is unknown.
fn unknown(state: &State, cid: &str, rid: &str, space_id: Option<&str>) -> ApiError {
    let in_space = state
        .conversations
        .get(cid)
        .is_some_and(|c| c.space_id.as_deref() == space_id);
    if in_space {
        not_found(format!(
            "Response {rid} does not exist in conversation {cid}."
        ))
    } else {
        unknown_conversation(cid, space_id)
    }
}

fn unknown_conversation(cid: &str, space_id: Option<&str>) -> ApiError {
    match space_id {
        Some(sid) => not_found(format!(
            "Conversation {cid} does not exist in Genie space {sid}."
        )),
        None => not_found(format!("Genie One conversation {cid} does not exist.")),
    }
}

/// Answers one question: the turn's task. Each step is pushed to the response as it
/// happens, so a client that follows the turn sees it progress.
async fn answer(
    shared: Arc<Shared>,
    rid: String,
    cid: String,
    question: String,
    previous: Option<String>,
    space_id: Option<String>,
) {
    let book = &shared.genie_one;
    // A space's conversation reads that space's tables only.
    let spaces: Vec<Space> = spaces(&shared.layout.genie_spaces())
        .into_iter()
        .filter(|s| space_id.as_deref().is_none_or(|id| s.id == id))
        .collect();
    let names = tables_of(&spaces);
    book.push(
        &rid,
        message(
            genie_one::COMMENTARY,
            format!(
                "Looking for the data in {} Genie space{} ({} table{})",
                spaces.len(),
                if spaces.len() == 1 { "" } else { "s" },
                names.len(),
                if names.len() == 1 { "" } else { "s" }
            ),
            Vec::new(),
        ),
    );
    let tables = table_schemas(&shared, &names).await;
    let plan = match genie::plan(&question, &tables, previous.as_deref()) {
        Ok(plan) => plan,
        Err(NoPlan(text)) => {
            book.push(&rid, message(genie_one::FINAL_ANSWER, text, Vec::new()));
            book.finish(&rid, genie_one::COMPLETED, None);
            return;
        }
    };
    let space = names
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&plan.table))
        .map(|(_, s)| *s);
    book.push(
        &rid,
        message(
            genie_one::COMMENTARY,
            format!(
                "Found {}{}. {}",
                plan.table,
                space
                    .map(|s| format!(" in the Genie space \"{}\"", s.title))
                    .unwrap_or_default(),
                plan.description
            ),
            Vec::new(),
        ),
    );
    book.push(
        &rid,
        message(
            genie_one::COMMENTARY,
            format!("Running the query on SQL warehouse {WAREHOUSE_ID}"),
            Vec::new(),
        ),
    );
    let source = space.map_or(SAMPLE_SPACE_ID, |s| s.id.as_str());
    let client = if space_id.is_some() {
        "Genie"
    } else {
        "Genie One"
    };
    match run(&shared, &rid, &plan.sql, source, client).await {
        Ok((statement_id, result)) => {
            publish_result(book, &rid, &cid, &plan, statement_id, result);
        }
        Err(message) => book.finish(
            &rid,
            genie_one::FAILED,
            Some(ResponseError {
                code: Some("QUERY_FAILED".to_string()),
                message: Some(message),
            }),
        ),
    }
}

/// Ends a turn whose query ran: its query item (the result kept for the query-result
/// call), the final answer naming the table, and the table remembered for follow-ups.
fn publish_result(
    book: &Conversations,
    rid: &str,
    cid: &str,
    plan: &Plan,
    statement_id: String,
    result: StatementResponse,
) {
    let item_id = new_id();
    let rows = result
        .manifest
        .as_ref()
        .and_then(|m| m.total_row_count)
        .unwrap_or(0);
    let text = answer_text(plan, &result);
    book.with_turn(rid, |t| {
        t.results.insert(item_id.clone(), result);
    });
    book.push(
        rid,
        OutputItem {
            type_: genie_one::QUERY_ITEM.to_string(),
            id: item_id,
            status: Some(genie_one::COMPLETED.to_string()),
            title: Some(plan.title.clone()),
            description: Some(plan.description.clone()),
            sql: Some(plan.sql.clone()),
            statement_id: Some(statement_id),
            row_count: Some(rows),
            ..OutputItem::default()
        },
    );
    let table_name = plan.table.rsplit('.').next().unwrap_or(&plan.table);
    book.push(
        rid,
        message(
            genie_one::FINAL_ANSWER,
            text,
            vec![Annotation {
                type_: "asset".to_string(),
                title: Some(table_name.to_string()),
                asset_type: Some("TABLE".to_string()),
                identifier: Some(plan.table.clone()),
            }],
        ),
    );
    if let Some(c) = lock(&book.state).conversations.get_mut(cid) {
        c.last_table = Some(plan.table.clone());
    }
    book.finish(rid, genie_one::COMPLETED, None);
}

/// Each table of the spaces once (names compare case-insensitively), with the first
/// space that lists it.
fn tables_of(spaces: &[Space]) -> Vec<(String, &Space)> {
    let mut names: Vec<(String, &Space)> = Vec::new();
    for space in spaces {
        for t in &space.tables {
            if !names.iter().any(|(n, _)| n.eq_ignore_ascii_case(t)) {
                names.push((t.clone(), space));
            }
        }
    }
    names
}

/// The columns of the tables that can be read. When a table is a sample, the TPC-H
/// samples may still be generating: wait for them (up to [`SAMPLES_WAIT`]) first.
async fn table_schemas(shared: &Shared, names: &[(String, &Space)]) -> Vec<TableSchema> {
    if names
        .iter()
        .any(|(n, _)| n.to_lowercase().starts_with("samples."))
    {
        wait_for_samples(shared).await;
    }
    let mut tables = Vec::new();
    for (name, _) in names {
        if let Some(schema) = table_schema(shared, name).await {
            tables.push(schema);
        }
    }
    tables
}

async fn wait_for_samples(shared: &Shared) {
    let deadline = std::time::Instant::now() + SAMPLES_WAIT;
    while let Some((true, _)) = shared.samples.unavailable() {
        if std::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A table's columns, from the catalog (`None` when it cannot be read).
async fn table_schema(shared: &Shared, full_name: &str) -> Option<TableSchema> {
    let mut parts = full_name.splitn(3, '.');
    let (catalog, schema, name) = (parts.next()?, parts.next()?, parts.next()?);
    match shared.table(catalog, schema, name).await {
        Ok(info) => Some(TableSchema {
            full_name: info.full_name.unwrap_or_else(|| full_name.to_string()),
            columns: info
                .columns
                .into_iter()
                .map(|c| ColumnSchema {
                    type_name: c.type_name.unwrap_or_else(|| "STRING".to_string()),
                    name: c.name,
                })
                .collect(),
        }),
        Err(e) => {
            tracing::warn!(table = full_name, "Genie space table skipped: {e}");
            None
        }
    }
}

/// Runs the plan's SQL on the warehouse: the statement id and its result.
async fn run(
    shared: &Arc<Shared>,
    rid: &str,
    sql: &str,
    space_id: &str,
    client: &str,
) -> Result<(String, StatementResponse), String> {
    let statement_id = uuid::Uuid::new_v4().to_string();
    let origin = super::history::Origin {
        client: Some(client.to_string()),
        job: None,
    };
    // Dropped unfinished when the turn is cancelled: the history then says CANCELED.
    let recording = shared
        .history
        .start_for_genie(&statement_id, sql, &origin, space_id);
    shared.compute.statement_starts();
    let engine = shared.engine.clone();
    let owned_sql = sql.to_string();
    let opts = ExecOptions {
        row_limit: Some(MAX_RESULT_ROWS),
        ..ExecOptions::default()
    };
    // On the engine's runtime, as every statement; cancelling the turn aborts it.
    let task =
        crate::engine_runtime().spawn(async move { engine.execute(&owned_sql, &opts).await });
    shared
        .genie_one
        .with_turn(rid, |t| t.abort.push(task.abort_handle()));
    let result = match task.await {
        Ok(r) => r,
        Err(e) if e.is_cancelled() => return Err("the query was cancelled".to_string()),
        Err(_) => Err(crate::error::SqlError::internal(
            "the local engine panicked while running the query",
        )),
    };
    recording.finished(result.as_ref().map(|r| r.batch.num_rows()));
    let result = result.map_err(|e| {
        format!(
            "The query Genie wrote failed: {} (SQL: {})",
            e.databricks_message(),
            sql
        )
    })?;
    let rows = databricks_api::cells::rows(&result.batch);
    let total = rows.len();
    let statement = json!({
        "statement_id": statement_id,
        "status": {"state": "SUCCEEDED"},
        "manifest": {
            "format": "JSON_ARRAY",
            "schema": {
                "column_count": result.schema.fields().len(),
                "columns": crate::render::manifest_columns(&result.schema),
            },
            "total_chunk_count": 1,
            "chunks": [{"chunk_index": 0, "row_offset": 0, "row_count": total}],
            "total_row_count": total,
            "truncated": result.truncated,
        },
        "result": {
            "chunk_index": 0,
            "row_offset": 0,
            "row_count": total,
            "data_array": rows,
        },
    });
    let statement: StatementResponse = serde_json::from_value(statement)
        .map_err(|e| format!("the query's result could not be read: {e}"))?;
    Ok((statement_id, statement))
}

/// The answer in Markdown: a sentence, and the rows as a table (the first
/// [`ANSWER_ROWS`]).
fn answer_text(plan: &Plan, result: &StatementResponse) -> String {
    let manifest = result.manifest.clone().unwrap_or_default();
    let columns = manifest.schema.names();
    let rows = result
        .result
        .as_ref()
        .and_then(|r| r.data_array.clone())
        .unwrap_or_default();
    let total = rows.len();
    if let Shape::Single { measure } = &plan.shape
        && let [row] = rows.as_slice()
    {
        let value = row
            .last()
            .cloned()
            .flatten()
            .unwrap_or_else(|| "NULL".into());
        return format!(
            "{}: **{value}** (`{measure}`, from `{}`).",
            plan.title, plan.table
        );
    }
    let mut text = format!(
        "{} — {total} row{}, from `{}`:\n\n",
        plan.title,
        if total == 1 { "" } else { "s" },
        plan.table
    );
    let escape = |v: &str| v.replace('|', "\\|").replace('\n', " ");
    text.push_str(&format!("| {} |\n", columns.join(" | ")));
    text.push_str(&format!("|{}\n", " --- |".repeat(columns.len())));
    for row in rows.iter().take(ANSWER_ROWS) {
        let cells: Vec<String> = row
            .iter()
            .map(|c| c.as_deref().map_or_else(|| "NULL".to_string(), escape))
            .collect();
        text.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if total > ANSWER_ROWS {
        text.push_str(&format!(
            "\n(The first {ANSWER_ROWS} of {total} rows: the query item has them all.)\n"
        ));
    }
    if manifest.truncated {
        text.push_str(&format!(
            "\n(The result was cut at {MAX_RESULT_ROWS} rows.)\n"
        ));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spaces_are_read_from_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let layout = crate::layout::Layout::new(dir.path().to_path_buf());
        ensure_sample_space(&layout).unwrap();
        std::fs::write(layout.genie_spaces().join("not-a-space.json"), "{}").unwrap();
        std::fs::write(
            layout
                .genie_spaces()
                .join("0123456789abcdef0123456789abcdef.json"),
            "not json",
        )
        .unwrap();
        let found = spaces(&layout.genie_spaces());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, SAMPLE_SPACE_ID);
        assert!(found[0].tables.contains(&"samples.tpch.orders".to_string()));
        // Deleting the sample keeps it deleted.
        std::fs::remove_file(
            layout
                .genie_spaces()
                .join(format!("{SAMPLE_SPACE_ID}.json")),
        )
        .unwrap();
        ensure_sample_space(&layout).unwrap();
        assert!(spaces(&layout.genie_spaces()).is_empty());
    }
}
