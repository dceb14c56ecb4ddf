//! Small fixture-served endpoints: current user, query history.

use databricks_api::backend::{Answer, Identity, QueryHistory};
use databricks_api::history::{ListQueriesResponse, QueryFilter, QueryInfo};
use databricks_api::iam::CurrentUser;

use crate::fixtures::fixture_as;

/// GET /api/2.0/preview/scim/v2/Me
/// The caller of `scim_me.json`: the [`Identity`] backend the shared server routes to.
pub(crate) struct FixtureIdentity;

impl Identity for FixtureIdentity {
    fn current_user(&self) -> Answer<'_, CurrentUser> {
        Box::pin(async { Ok(fixture_as("scim_me.json")) })
    }
}

/// The queries of `query_history_list.json`: the [`QueryHistory`] backend (the shared
/// server filters and pages them).
pub(crate) struct FixtureHistory;

impl QueryHistory for FixtureHistory {
    fn queries<'a>(&'a self, _filter: &'a QueryFilter) -> Answer<'a, Vec<QueryInfo>> {
        let list: ListQueriesResponse = fixture_as("query_history_list.json");
        Box::pin(async { Ok(list.res) })
    }
}
