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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// `{givenName, familyName}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<serde_json::Value>,
    /// `[{type, value, primary}]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<serde_json::Value>,
    /// `[{display, type, value, $ref}]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<serde_json::Value>,
    /// `[{value}]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<serde_json::Value>,
    #[serde(
        default,
        rename = "externalId",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_id: Option<String>,
}
