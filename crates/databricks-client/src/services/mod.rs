//! Typed service modules. Each adds methods to [`DatabricksClient`](crate::DatabricksClient)
//! and defines its models: every response field is optional and enums stay open, as the
//! reference requires (new fields and values may appear at any time).

pub mod catalog;
pub mod compute;
pub mod functions;
pub mod genie;
pub mod jobs;
pub mod pipelines;
pub mod results;
pub mod sql;
pub mod vector_search;
pub mod workspace;

/// Identity of the caller (`GET /api/2.0/preview/scim/v2/Me`): the cheapest auth probe.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CurrentUser {
    #[serde(default)]
    pub id: String,
    #[serde(default, rename = "userName")]
    pub user_name: String,
    #[serde(
        default,
        rename = "displayName",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
}

impl crate::DatabricksClient {
    pub async fn current_user(&self) -> Result<CurrentUser, crate::Error> {
        self.get("/api/2.0/preview/scim/v2/Me", &[]).await
    }
}
