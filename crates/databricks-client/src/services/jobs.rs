//! Jobs API 2.2 (REFERENCE.md §4): jobs and runs (read side).

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::jobs::*;

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
        let r: JobsPage = self.call::<endpoints::ListJobs>(&[], &query, None).await?;
        Ok(Page::from_flagged(r.jobs, r.next_page_token, r.has_more))
    }

    pub async fn get_job(&self, job_id: i64) -> Result<Job, Error> {
        self.call::<endpoints::GetJob>(&[], &[("job_id", job_id.to_string())], None)
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
        let r: RunsPage = self.call::<endpoints::ListRuns>(&[], &query, None).await?;
        Ok(Page::from_flagged(r.runs, r.next_page_token, r.has_more))
    }

    pub async fn get_run(&self, run_id: i64) -> Result<Run, Error> {
        self.call::<endpoints::GetRun>(&[], &[("run_id", run_id.to_string())], None)
            .await
    }

    /// The output of a task run (§4.6). A multi-task parent run answers 400: read the
    /// output of its `tasks[].run_id`.
    pub async fn get_run_output(&self, run_id: i64) -> Result<RunOutput, Error> {
        self.call::<endpoints::GetRunOutput>(&[], &[("run_id", run_id.to_string())], None)
            .await
    }
}
