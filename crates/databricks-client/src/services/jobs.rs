//! Jobs API 2.2 (REFERENCE.md §4): jobs and runs (read side).

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Job {
    #[serde(default)]
    pub job_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<JobSettings>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<JobSchedule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_runs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobSchedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quartz_cron_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_status: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Run {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    #[serde(default)]
    pub run_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<serde_json::Value>,
}

/// Legacy `state` of a run (still returned; `status` is the newer form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub life_cycle_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_details: Option<TerminationDetails>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TerminationDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct JobsPage {
    #[serde(default)]
    jobs: Vec<Job>,
    #[serde(default)]
    has_more: Option<bool>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RunsPage {
    #[serde(default)]
    runs: Vec<Run>,
    #[serde(default)]
    has_more: Option<bool>,
    #[serde(default)]
    next_page_token: Option<String>,
}

impl DatabricksClient {
    /// One page of jobs; `limit` is 1–100 (the API's bounds).
    pub async fn list_jobs(
        &self,
        limit: u32,
        page_token: Option<&str>,
        name: Option<&str>,
    ) -> Result<Page<Job>, Error> {
        let mut query = vec![("limit", limit.clamp(1, 100).to_string())];
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        if let Some(n) = name {
            query.push(("name", n.to_string()));
        }
        let r: JobsPage = self.get("/api/2.2/jobs/list", &query).await?;
        Ok(Page::from_flagged(r.jobs, r.next_page_token, r.has_more))
    }

    pub async fn get_job(&self, job_id: i64) -> Result<Job, Error> {
        self.get("/api/2.2/jobs/get", &[("job_id", job_id.to_string())])
            .await
    }

    /// One page of runs, newest first; `limit` is 1–25 (the API's bounds).
    pub async fn list_runs(
        &self,
        job_id: Option<i64>,
        limit: u32,
        page_token: Option<&str>,
    ) -> Result<Page<Run>, Error> {
        let mut query = vec![("limit", limit.clamp(1, 25).to_string())];
        if let Some(id) = job_id {
            query.push(("job_id", id.to_string()));
        }
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: RunsPage = self.get("/api/2.2/jobs/runs/list", &query).await?;
        Ok(Page::from_flagged(r.runs, r.next_page_token, r.has_more))
    }

    pub async fn get_run(&self, run_id: i64) -> Result<Run, Error> {
        self.get("/api/2.2/jobs/runs/get", &[("run_id", run_id.to_string())])
            .await
    }
}
