//! Identity (SCIM `Me`).

use serde::{Deserialize, Serialize};

/// Identity of the caller (`GET /api/2.0/preview/scim/v2/Me`): the cheapest auth probe.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
