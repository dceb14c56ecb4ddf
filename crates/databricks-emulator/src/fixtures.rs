//! The JSON fixtures (copied from `shared/databricks-api/fixtures`), embedded in the binary.

/// Every embedded fixture: `(file name, text)`.
pub const FIXTURES: &[(&str, &str)] = &[
    ("cli_auth_token_output.json", include_str!("../fixtures/cli_auth_token_output.json")),
    ("cli_token_cache.json", include_str!("../fixtures/cli_token_cache.json")),
    ("clusters_events.json", include_str!("../fixtures/clusters_events.json")),
    ("clusters_events_request.json", include_str!("../fixtures/clusters_events_request.json")),
    ("clusters_get.json", include_str!("../fixtures/clusters_get.json")),
    ("clusters_list.json", include_str!("../fixtures/clusters_list.json")),
    ("clusters_start_delete_response.json", include_str!("../fixtures/clusters_start_delete_response.json")),
    ("dbfs_get_status.json", include_str!("../fixtures/dbfs_get_status.json")),
    ("dbfs_list.json", include_str!("../fixtures/dbfs_list.json")),
    ("dbfs_read.json", include_str!("../fixtures/dbfs_read.json")),
    ("error_400_invalid_parameter_value.json", include_str!("../fixtures/error_400_invalid_parameter_value.json")),
    ("error_401_unauthenticated.json", include_str!("../fixtures/error_401_unauthenticated.json")),
    ("error_403_permission_denied.json", include_str!("../fixtures/error_403_permission_denied.json")),
    ("error_404_resource_does_not_exist.json", include_str!("../fixtures/error_404_resource_does_not_exist.json")),
    ("error_404_table_not_found.json", include_str!("../fixtures/error_404_table_not_found.json")),
    ("error_409_resource_conflict.json", include_str!("../fixtures/error_409_resource_conflict.json")),
    ("error_429_request_limit_exceeded.json", include_str!("../fixtures/error_429_request_limit_exceeded.json")),
    ("error_500_internal.json", include_str!("../fixtures/error_500_internal.json")),
    ("error_503_temporarily_unavailable.json", include_str!("../fixtures/error_503_temporarily_unavailable.json")),
    ("fs_directories_list.json", include_str!("../fixtures/fs_directories_list.json")),
    ("genie_conversations_list.json", include_str!("../fixtures/genie_conversations_list.json")),
    ("genie_message_completed.json", include_str!("../fixtures/genie_message_completed.json")),
    ("genie_message_in_progress.json", include_str!("../fixtures/genie_message_in_progress.json")),
    ("genie_query_result.json", include_str!("../fixtures/genie_query_result.json")),
    ("genie_spaces_list.json", include_str!("../fixtures/genie_spaces_list.json")),
    ("genie_start_conversation.json", include_str!("../fixtures/genie_start_conversation.json")),
    ("genie_start_conversation_request.json", include_str!("../fixtures/genie_start_conversation_request.json")),
    ("host_metadata_databricks_config.json", include_str!("../fixtures/host_metadata_databricks_config.json")),
    ("jobs_get.json", include_str!("../fixtures/jobs_get.json")),
    ("jobs_list.json", include_str!("../fixtures/jobs_list.json")),
    ("jobs_run_now.json", include_str!("../fixtures/jobs_run_now.json")),
    ("jobs_run_now_request.json", include_str!("../fixtures/jobs_run_now_request.json")),
    ("oauth_token_error.json", include_str!("../fixtures/oauth_token_error.json")),
    ("oauth_token_response.json", include_str!("../fixtures/oauth_token_response.json")),
    ("oauth_token_response_u2m.json", include_str!("../fixtures/oauth_token_response_u2m.json")),
    ("oidc_well_known_workspace.json", include_str!("../fixtures/oidc_well_known_workspace.json")),
    ("pipelines_get.json", include_str!("../fixtures/pipelines_get.json")),
    ("pipelines_get_update.json", include_str!("../fixtures/pipelines_get_update.json")),
    ("pipelines_list.json", include_str!("../fixtures/pipelines_list.json")),
    ("pipelines_start_update.json", include_str!("../fixtures/pipelines_start_update.json")),
    ("pipelines_start_update_request.json", include_str!("../fixtures/pipelines_start_update_request.json")),
    ("pipelines_stop_response.json", include_str!("../fixtures/pipelines_stop_response.json")),
    ("query_history_list.json", include_str!("../fixtures/query_history_list.json")),
    ("runs_cancel_response.json", include_str!("../fixtures/runs_cancel_response.json")),
    ("runs_get.json", include_str!("../fixtures/runs_get.json")),
    ("runs_get_output.json", include_str!("../fixtures/runs_get_output.json")),
    ("runs_get_output_notebook_success.json", include_str!("../fixtures/runs_get_output_notebook_success.json")),
    ("runs_list.json", include_str!("../fixtures/runs_list.json")),
    ("scim_me.json", include_str!("../fixtures/scim_me.json")),
    ("statements_cancel_response.json", include_str!("../fixtures/statements_cancel_response.json")),
    ("statements_canceled.json", include_str!("../fixtures/statements_canceled.json")),
    ("statements_chunk_external_link.json", include_str!("../fixtures/statements_chunk_external_link.json")),
    ("statements_chunk_inline.json", include_str!("../fixtures/statements_chunk_inline.json")),
    ("statements_closed.json", include_str!("../fixtures/statements_closed.json")),
    ("statements_execute_request_async.json", include_str!("../fixtures/statements_execute_request_async.json")),
    ("statements_execute_request_full.json", include_str!("../fixtures/statements_execute_request_full.json")),
    ("statements_execute_succeeded_inline.json", include_str!("../fixtures/statements_execute_succeeded_inline.json")),
    ("statements_external_links.json", include_str!("../fixtures/statements_external_links.json")),
    ("statements_failed.json", include_str!("../fixtures/statements_failed.json")),
    ("statements_failed_table_not_found.json", include_str!("../fixtures/statements_failed_table_not_found.json")),
    ("statements_pending.json", include_str!("../fixtures/statements_pending.json")),
    ("statements_running.json", include_str!("../fixtures/statements_running.json")),
    ("uc_catalogs_list.json", include_str!("../fixtures/uc_catalogs_list.json")),
    ("uc_functions_get.json", include_str!("../fixtures/uc_functions_get.json")),
    ("uc_functions_list.json", include_str!("../fixtures/uc_functions_list.json")),
    ("uc_schemas_list.json", include_str!("../fixtures/uc_schemas_list.json")),
    ("uc_table_summaries.json", include_str!("../fixtures/uc_table_summaries.json")),
    ("uc_tables_get.json", include_str!("../fixtures/uc_tables_get.json")),
    ("uc_tables_list.json", include_str!("../fixtures/uc_tables_list.json")),
    ("uc_volumes_list.json", include_str!("../fixtures/uc_volumes_list.json")),
    ("vs_endpoints_list.json", include_str!("../fixtures/vs_endpoints_list.json")),
    ("vs_index_get.json", include_str!("../fixtures/vs_index_get.json")),
    ("vs_indexes_list.json", include_str!("../fixtures/vs_indexes_list.json")),
    ("vs_query.json", include_str!("../fixtures/vs_query.json")),
    ("vs_query_next_page_request.json", include_str!("../fixtures/vs_query_next_page_request.json")),
    ("vs_query_request.json", include_str!("../fixtures/vs_query_request.json")),
    ("warehouses_get.json", include_str!("../fixtures/warehouses_get.json")),
    ("warehouses_list.json", include_str!("../fixtures/warehouses_list.json")),
    ("warehouses_start_stop_response.json", include_str!("../fixtures/warehouses_start_stop_response.json")),
    ("workspace_export.json", include_str!("../fixtures/workspace_export.json")),
    ("workspace_get_status.json", include_str!("../fixtures/workspace_get_status.json")),
    ("workspace_import_request.json", include_str!("../fixtures/workspace_import_request.json")),
    ("workspace_list.json", include_str!("../fixtures/workspace_list.json")),
    ("workspace_mkdirs_import_response.json", include_str!("../fixtures/workspace_mkdirs_import_response.json")),
    ("databrickscfg.ini", include_str!("../fixtures/databrickscfg.ini")),
];

/// The text of the fixture file `name` (e.g. `"jobs_list.json"`), if it exists.
pub fn try_fixture(name: &str) -> Option<&'static str> {
    FIXTURES.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// The text of the fixture file `name` (e.g. `"error_429_request_limit_exceeded.json"`).
///
/// # Panics
/// Panics when no fixture has that name: this is test support and a typo should fail loudly.
pub fn fixture(name: &str) -> &'static str {
    match try_fixture(name) {
        Some(text) => text,
        None => panic!("databricks-emulator: no fixture named {name:?}"),
    }
}

/// A fixture parsed as JSON.
pub(crate) fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(fixture(name))
        .unwrap_or_else(|e| panic!("databricks-emulator: fixture {name} is not JSON: {e}"))
}
