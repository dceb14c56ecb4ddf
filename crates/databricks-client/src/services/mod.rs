//! Typed service modules. Each adds methods to [`DatabricksClient`](crate::DatabricksClient)
//! and re-exports its models from `databricks-api`, the REST contract shared with the
//! workspace emulator and the local workspace.

pub mod catalog;
pub mod compute;
pub mod functions;
pub mod genie;
pub mod genie_one;
pub mod jobs;
pub mod operations;
pub mod pipelines;
pub mod results;
pub mod serving;
pub mod sql;
pub mod vector_search;
pub mod workspace;

use databricks_api::endpoints;

pub use databricks_api::iam::CurrentUser;

impl crate::DatabricksClient {
    pub async fn current_user(&self) -> Result<CurrentUser, crate::Error> {
        self.call::<endpoints::CurrentUser>(&[], &[], None).await
    }
}
