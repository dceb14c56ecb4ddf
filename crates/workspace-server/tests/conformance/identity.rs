//! The caller's identity (REFERENCE.md §12, SCIM `Me`).

use databricks_api::iam::CurrentUser;
use reqwest::Method;

use crate::conformance;
use crate::support::{Target, assert_error};

const ME: &str = "/api/2.0/preview/scim/v2/Me";

conformance! {
    the_caller_is_a_scim_user => super::the_caller_is_a_scim_user;
}

async fn the_caller_is_a_scim_user(t: Target) {
    let (status, v) = t.get(ME).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["userName"].is_string() && v["id"].is_string(), "{v}");
    let user: CurrentUser = serde_json::from_value(v).expect("a CurrentUser");
    assert!(!user.user_name.is_empty());
    assert!(
        user.schemas
            .iter()
            .any(|s| s == "urn:ietf:params:scim:schemas:core:2.0:User")
    );
    assert_error(
        &t.send(Method::POST, ME, true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
    assert_error(
        &t.send(Method::GET, ME, false).await,
        401,
        "UNAUTHENTICATED",
    );
}
