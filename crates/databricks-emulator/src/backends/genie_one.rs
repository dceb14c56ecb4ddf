//! Genie One: the [`GenieOne`] backend the shared workspace server routes to (it checks
//! requests and streams), answering from the `genie_one_*` fixtures.
//!
//! Script, by the question (case-insensitive): a question containing `slow` stays in
//! progress until it is cancelled; `fail` ends failed; any other completes, as
//! `genie_one_response_with_query.json` (a progress message, a query item whose result is
//! `genie_query_result.json`, the answer), [`ANSWER_AFTER`] after it was asked. Until then
//! it is `in_progress` with the progress message only. The fixture's own conversation
//! (`genie_one_get_response.json`) exists, with its completed response; a `warehouse_id`
//! must be one of the fixture warehouses.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use databricks_api::backend::{Answer, GenieOne, GenieOneQuestion, Warehouses, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::genie_one::{self, GenieOneResponse};
use databricks_api::sql::StatementResponse;

use super::warehouses::FixtureWarehouses;
use crate::fixtures::fixture_as;
use crate::util::{hex32, lock, now_ms, rfc3339_ms};

/// How long a question takes to answer.
pub const ANSWER_AFTER: Duration = Duration::from_millis(400);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Answer,
    Fail,
    Slow,
}

struct Asked {
    conversation_id: String,
    script: Script,
    at: Instant,
    create_time: String,
    cancelled: bool,
}

pub(crate) struct FixtureGenieOne {
    warehouses: FixtureWarehouses,
    next: AtomicU64,
    /// response id → what was asked.
    responses: Mutex<HashMap<String, Asked>>,
    /// Conversations started here.
    conversations: Mutex<Vec<String>>,
}

impl FixtureGenieOne {
    pub fn new(warehouses: FixtureWarehouses) -> FixtureGenieOne {
        FixtureGenieOne {
            warehouses,
            next: AtomicU64::new(1),
            responses: Mutex::default(),
            conversations: Mutex::default(),
        }
    }

    fn next_id(&self) -> String {
        // Apart from the other services' ids: offset the counter.
        hex32(0x6e1e_0000 + self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn known_conversation(&self, cid: &str) -> bool {
        cid == fixture_ids().0 || lock(&self.conversations).iter().any(|c| c == cid)
    }

    /// The response as it stands now.
    fn read(&self, cid: &str, rid: &str) -> Result<GenieOneResponse, ApiError> {
        let (fixture_cid, fixture_rid) = fixture_ids();
        if cid == fixture_cid && rid == fixture_rid {
            return Ok(fixture_as("genie_one_get_response.json"));
        }
        let responses = lock(&self.responses);
        let asked = responses
            .get(rid)
            .filter(|a| a.conversation_id == cid)
            .ok_or_else(|| unknown_response(cid, rid))?;
        let done = asked.at.elapsed() >= ANSWER_AFTER;
        let (file, status) = match (asked.cancelled, asked.script, done) {
            (true, _, _) => ("genie_one_response_cancelled.json", None),
            (false, Script::Fail, true) => ("genie_one_response_failed.json", None),
            (false, Script::Answer, true) => ("genie_one_response_with_query.json", None),
            // In progress: the progress message so far.
            _ => (
                "genie_one_response_with_query.json",
                Some(genie_one::IN_PROGRESS),
            ),
        };
        let mut response: GenieOneResponse = fixture_as(file);
        if let Some(status) = status {
            // Items are complete once they appear: in progress, the first one only.
            response.status = Some(status.to_string());
            response.output.truncate(1);
        }
        response.id = rid.to_string();
        response.conversation_id = Some(asked.conversation_id.clone());
        response.create_time = Some(asked.create_time.clone());
        Ok(response)
    }
}

/// The conversation and response ids of `genie_one_get_response.json`.
fn fixture_ids() -> (String, String) {
    let response: GenieOneResponse = fixture_as("genie_one_get_response.json");
    (response.conversation_id.unwrap_or_default(), response.id)
}

fn unknown_response(cid: &str, rid: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("Response {rid} does not exist in Genie One conversation {cid}."),
    )
}

#[async_trait]
impl GenieOne for FixtureGenieOne {
    async fn create_response(&self, question: &GenieOneQuestion) -> Answer<GenieOneResponse> {
        if let Some(w) = &question.warehouse_id {
            self.warehouses.warehouse(w).await?;
        }
        let conversation_id = match &question.conversation_id {
            Some(cid) if self.known_conversation(cid) => cid.clone(),
            Some(cid) => {
                return Err(ApiError::new(
                    ErrorCode::ResourceDoesNotExist,
                    format!("Genie One conversation {cid} does not exist."),
                ));
            }
            None => {
                let cid = self.next_id();
                lock(&self.conversations).push(cid.clone());
                cid
            }
        };
        let script = match question.question.to_lowercase() {
            q if q.contains("slow") => Script::Slow,
            q if q.contains("fail") => Script::Fail,
            _ => Script::Answer,
        };
        let rid = self.next_id();
        lock(&self.responses).insert(
            rid.clone(),
            Asked {
                conversation_id: conversation_id.clone(),
                script,
                at: Instant::now(),
                create_time: rfc3339_ms(now_ms()),
                cancelled: false,
            },
        );
        self.read(&conversation_id, &rid)
    }

    async fn response(&self, cid: &str, rid: &str) -> Answer<GenieOneResponse> {
        self.read(cid, rid)
    }

    async fn cancel_response(&self, cid: &str, rid: &str) -> Answer<GenieOneResponse> {
        let current = self.read(cid, rid)?;
        if !current.is_terminal()
            && let Some(asked) = lock(&self.responses).get_mut(rid)
        {
            asked.cancelled = true;
        }
        self.read(cid, rid)
    }

    async fn query_result(&self, cid: &str, rid: &str, item_id: &str) -> Answer<StatementResponse> {
        let response = self.read(cid, rid)?;
        if !response.query_items().any(|i| i.id == item_id) {
            return Err(ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!("Response {rid} has no query item {item_id}."),
            ));
        }
        super::genie::fixture_query_result()
    }
}
