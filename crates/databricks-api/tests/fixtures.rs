//! The fixtures of `shared/databricks-api/fixtures` are the oracle of the models: every
//! recorded body deserializes into its model, and what the model serializes back is
//! exactly what the fixture said (no value changed, nothing invented). The fields a model
//! does not declare are listed in `tests/fixtures_not_modeled.txt`, so that a model which
//! starts dropping a field (a wrong rename, a type that no longer matches) fails here, and
//! modelling a new field is a deliberate change of that list.
//! `UPDATE_NOT_MODELED=1 cargo nextest run -p databricks-api` rewrites the list.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use databricks_api::{
    catalog, compute, error, files, functions, genie, genie_one, history, iam, jobs, pipelines,
    sql, vector_search, workspace,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/databricks-api/fixtures")
}

/// Recorded shapes the shared reference does not have yet (Genie One), with their
/// provenance in that directory's SOURCES.md.
fn emulator_fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../databricks-emulator/fixtures")
}

/// Deserializes the fixture into `T`, serializes it back, checks the result is contained in
/// the fixture, and returns the fixture paths the model dropped.
fn round_trip<T: DeserializeOwned + Serialize>(file: &str) -> Vec<String> {
    round_trip_in::<T>(&fixtures_dir(), file)
}

fn round_trip_in<T: DeserializeOwned + Serialize>(
    dir: &std::path::Path,
    file: &str,
) -> Vec<String> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (../shared must sit beside the repository)",
            path.display()
        )
    });
    let original: Value = serde_json::from_str(&text).unwrap();
    let model: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{file} does not deserialize: {e}"));
    let back = serde_json::to_value(&model).unwrap();
    let mut dropped = Vec::new();
    compare(file, "", &original, &back, &mut dropped);
    dropped
}

/// `back` must be `original` minus whole fields; records the paths of the missing fields.
fn compare(file: &str, at: &str, original: &Value, back: &Value, dropped: &mut Vec<String>) {
    match (original, back) {
        (Value::Object(o), Value::Object(b)) => {
            for key in b.keys() {
                if !o.contains_key(key) {
                    dropped.push(format!("INVENTED {at}.{key} = {}", b[key]));
                }
            }
            for (key, value) in o {
                let here = format!("{at}.{key}");
                match b.get(key) {
                    Some(kept) => compare(file, &here, value, kept, dropped),
                    None => dropped.push(here),
                }
            }
        }
        (Value::Array(o), Value::Array(b)) => {
            assert_eq!(o.len(), b.len(), "{file}: {at} changed length");
            for (i, (ov, bv)) in o.iter().zip(b).enumerate() {
                compare(file, &format!("{at}[{i}]"), ov, bv, dropped);
            }
        }
        (o, b) => assert_eq!(o, b, "{file}: {at} changed"),
    }
}

#[test]
fn every_fixture_round_trips_through_its_model() {
    type Check = fn(&str) -> Vec<String>;
    let checks: &[(&str, Check)] = &[
        ("clusters_get.json", round_trip::<compute::Cluster>),
        ("clusters_list.json", round_trip::<compute::ClustersPage>),
        (
            "clusters_events.json",
            round_trip::<compute::ClusterEventsPage>,
        ),
        (
            "clusters_events_request.json",
            round_trip::<compute::ClusterEventsRequest>,
        ),
        (
            "query_history_list.json",
            round_trip::<history::ListQueriesResponse>,
        ),
        (
            "fs_directories_list.json",
            round_trip::<files::DirectoryListing>,
        ),
        ("dbfs_get_status.json", round_trip::<files::FileInfo>),
        ("dbfs_list.json", round_trip::<files::ListStatusResponse>),
        ("dbfs_read.json", round_trip::<files::ReadResponse>),
        (
            "pipelines_start_update.json",
            round_trip::<pipelines::StartUpdateResponse>,
        ),
        (
            "pipelines_start_update_request.json",
            round_trip::<pipelines::StartUpdateRequest>,
        ),
        (
            "pipelines_get.json",
            round_trip::<pipelines::PipelineDetails>,
        ),
        (
            "pipelines_get_update.json",
            round_trip::<pipelines::GetUpdateResponse>,
        ),
        (
            "pipelines_stop_response.json",
            round_trip::<serde_json::Map<String, Value>>,
        ),
        ("jobs_run_now.json", round_trip::<jobs::RunNowResponse>),
        (
            "jobs_run_now_request.json",
            round_trip::<jobs::RunNowRequest>,
        ),
        ("runs_cancel_response.json", round_trip::<jobs::Empty>),
        (
            "genie_message_completed.json",
            round_trip::<genie::GenieMessage>,
        ),
        (
            "genie_message_in_progress.json",
            round_trip::<genie::GenieMessage>,
        ),
        (
            "genie_query_result.json",
            round_trip::<genie::GenieQueryResultResponse>,
        ),
        ("genie_spaces_list.json", round_trip::<genie::SpacesPage>),
        (
            "genie_conversations_list.json",
            round_trip::<genie::ConversationsPage>,
        ),
        (
            "genie_start_conversation_request.json",
            round_trip::<genie::GenieMessageRequest>,
        ),
        (
            "genie_start_conversation.json",
            round_trip::<genie::GenieStartConversationResponse>,
        ),
        ("jobs_get.json", round_trip::<jobs::Job>),
        ("jobs_list.json", round_trip::<jobs::JobsPage>),
        ("runs_get.json", round_trip::<jobs::Run>),
        ("runs_get_output.json", round_trip::<jobs::RunOutput>),
        (
            "runs_get_output_notebook_success.json",
            round_trip::<jobs::RunOutput>,
        ),
        (
            "workspace_export.json",
            round_trip::<workspace::ExportResponse>,
        ),
        ("workspace_list.json", round_trip::<workspace::ListResponse>),
        (
            "workspace_get_status.json",
            round_trip::<workspace::ObjectInfo>,
        ),
        (
            "workspace_import_request.json",
            round_trip::<workspace::ImportRequest>,
        ),
        ("runs_list.json", round_trip::<jobs::RunsPage>),
        (
            "pipelines_list.json",
            round_trip::<pipelines::PipelinesPage>,
        ),
        ("scim_me.json", round_trip::<iam::CurrentUser>),
        (
            "statements_canceled.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_closed.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_execute_succeeded_inline.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_external_links.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_failed.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_failed_table_not_found.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_pending.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_running.json",
            round_trip::<sql::StatementResponse>,
        ),
        (
            "statements_chunk_inline.json",
            round_trip::<sql::ResultData>,
        ),
        (
            "statements_chunk_external_link.json",
            round_trip::<sql::ResultData>,
        ),
        (
            "statements_execute_request_full.json",
            round_trip::<sql::ExecuteStatementRequest>,
        ),
        (
            "statements_execute_request_async.json",
            round_trip::<sql::ExecuteStatementRequest>,
        ),
        (
            "warehouses_list.json",
            round_trip::<sql::ListWarehousesResponse>,
        ),
        ("warehouses_get.json", round_trip::<sql::Warehouse>),
        ("uc_catalogs_list.json", round_trip::<catalog::CatalogsPage>),
        ("uc_volumes_list.json", round_trip::<catalog::VolumesPage>),
        (
            "uc_table_summaries.json",
            round_trip::<catalog::TableSummariesPage>,
        ),
        ("uc_schemas_list.json", round_trip::<catalog::SchemasPage>),
        ("uc_tables_list.json", round_trip::<catalog::TablesPage>),
        ("uc_tables_get.json", round_trip::<catalog::TableInfo>),
        (
            "uc_functions_get.json",
            round_trip::<functions::FunctionInfo>,
        ),
        (
            "uc_functions_list.json",
            round_trip::<functions::FunctionsPage>,
        ),
        (
            "vs_endpoints_list.json",
            round_trip::<vector_search::EndpointsPage>,
        ),
        (
            "vs_index_get.json",
            round_trip::<vector_search::VectorIndex>,
        ),
        (
            "vs_indexes_list.json",
            round_trip::<vector_search::IndexesPage>,
        ),
        (
            "vs_query.json",
            round_trip::<vector_search::QueryVectorIndexResponse>,
        ),
        (
            "vs_query_request.json",
            round_trip::<vector_search::QueryVectorIndexRequest>,
        ),
        (
            "vs_query_next_page_request.json",
            round_trip::<vector_search::QueryNextPageRequest>,
        ),
        (
            "error_400_invalid_parameter_value.json",
            round_trip::<error::ErrorBody>,
        ),
        (
            "error_404_resource_does_not_exist.json",
            round_trip::<error::ErrorBody>,
        ),
        (
            "error_429_request_limit_exceeded.json",
            round_trip::<error::ErrorBody>,
        ),
        ("error_500_internal.json", round_trip::<error::ErrorBody>),
        (
            "error_503_temporarily_unavailable.json",
            round_trip::<error::ErrorBody>,
        ),
    ];
    let mut invented = Vec::new();
    let mut listing = String::from(
        "# Fixture fields the models do not declare (tests/fixtures.rs; regenerate with UPDATE_NOT_MODELED=1).\n",
    );
    for (file, check) in checks {
        for path in check(file) {
            if path.starts_with("INVENTED") {
                invented.push(format!("{file}: {path}"));
            } else {
                listing.push_str(&format!("{file} {path}\n"));
            }
        }
    }
    assert!(
        invented.is_empty(),
        "models write what the fixtures do not say: {invented:#?}"
    );
    let snapshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures_not_modeled.txt");
    if std::env::var_os("UPDATE_NOT_MODELED").is_some() {
        std::fs::write(&snapshot, &listing).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    if expected != listing {
        let old: std::collections::BTreeSet<&str> = expected.lines().collect();
        let new: std::collections::BTreeSet<&str> = listing.lines().collect();
        panic!(
            "fields dropped now but not before: {:#?}\nfields kept now but listed as dropped: {:#?}\n\
             (a deliberate change: rerun with UPDATE_NOT_MODELED=1)",
            new.difference(&old).collect::<Vec<_>>(),
            old.difference(&new).collect::<Vec<_>>()
        );
    }
}

/// The Genie One shapes round-trip whole: their models declare every field they record.
#[test]
fn genie_one_fixtures_round_trip_whole() {
    type Check = fn(&std::path::Path, &str) -> Vec<String>;
    let checks: &[(&str, Check)] = &[
        (
            "genie_one_create_request.json",
            round_trip_in::<genie_one::CreateResponseRequest>,
        ),
        (
            "genie_one_create_request_message.json",
            round_trip_in::<genie_one::CreateResponseRequest>,
        ),
        (
            "genie_one_response_created_event.json",
            round_trip_in::<genie_one::ResponseEvent>,
        ),
        (
            "genie_one_get_response.json",
            round_trip_in::<genie_one::GenieOneResponse>,
        ),
        (
            "genie_one_response_with_query.json",
            round_trip_in::<genie_one::GenieOneResponse>,
        ),
        (
            "genie_one_response_failed.json",
            round_trip_in::<genie_one::GenieOneResponse>,
        ),
        (
            "genie_one_response_cancelled.json",
            round_trip_in::<genie_one::GenieOneResponse>,
        ),
    ];
    for (file, check) in checks {
        let dropped = check(&emulator_fixtures_dir(), file);
        assert!(dropped.is_empty(), "{file}: {dropped:#?}");
    }
}
