//! Small fixture-served endpoints: current user, query history.

use databricks_api::backend::{Answer, Identity, QueryHistory, async_trait};
use databricks_api::history::{ListQueriesResponse, QueryFilter, QueryInfo};
use databricks_api::iam::CurrentUser;

use crate::fixtures::fixture_as;

/// GET /api/2.0/preview/scim/v2/Me
/// The caller of `scim_me.json`: the [`Identity`] backend the shared server routes to.
pub(crate) struct FixtureIdentity;

#[async_trait]
impl Identity for FixtureIdentity {
    async fn current_user(&self) -> Answer<CurrentUser> {
        Ok(fixture_as("scim_me.json"))
    }
}

/// The queries of `query_history_list.json`: the [`QueryHistory`] backend (the shared
/// server filters and pages them).
pub(crate) struct FixtureHistory;

#[async_trait]
impl QueryHistory for FixtureHistory {
    async fn queries(&self, _filter: &QueryFilter) -> Answer<Vec<QueryInfo>> {
        let list: ListQueriesResponse = fixture_as("query_history_list.json");
        Ok(list.res)
    }
}
