//! Every endpoint, declared once: method, path template and response type. The client
//! calls through these declarations (`DatabricksClient::call`); servers route on
//! [`ALL`]'s paths.
//!
//! A path template marks path parameters with `{name}`; [`Endpoint::path`] fills them in
//! order, each percent-encoded as one segment (Unity Catalog full names keep their dots;
//! a `/` inside a value is encoded, so a value can never reach another route).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{
    catalog, compute, functions, genie, genie_one, history, iam, jobs, lineage, pipelines, sql,
    vector_search,
};

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One REST endpoint.
pub trait Endpoint {
    const METHOD: Method;
    /// Path template, `{name}` for each path parameter.
    const PATH: &'static str;
    /// What a successful call answers.
    type Response: DeserializeOwned + Serialize;

    /// The path with `params` filled in, in order.
    fn path(params: &[&str]) -> String {
        fill(Self::PATH, params)
    }
}

/// `template` with each `{…}` replaced by the next parameter, percent-encoded as one path
/// segment. Missing parameters leave an empty segment (a route that cannot match).
pub fn fill(template: &str, params: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut params = params.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open).unwrap_or(""));
        let after = rest.get(open..).unwrap_or("");
        let close = after.find('}').map_or(after.len(), |c| c + 1);
        if let Some(value) = params.next() {
            encode_segment(&mut out, value);
        }
        rest = after.get(close..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(out: &mut String, value: &str) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            for c in ['%', hex_digit(byte >> 4), hex_digit(byte & 0xf)] {
                out.push(c);
            }
        }
    }
}

/// The upper-case hex digit of a nibble.
fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0xf), 16).map_or('0', |c| c.to_ascii_uppercase())
}

macro_rules! endpoints {
    ($( $(#[doc = $doc:literal])* $name:ident: $method:ident $path:literal => $response:ty; )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Endpoint for $name {
                const METHOD: Method = Method::$method;
                const PATH: &'static str = $path;
                type Response = $response;
            }
        )*

        /// Every declared endpoint: method and path template.
        pub const ALL: &[(Method, &str)] = &[$((Method::$method, $path)),*];
    };
}

endpoints! {
    /// §1.1 execute a statement (body: [`sql::ExecuteStatementRequest`]).
    ExecuteStatement: Post "/api/2.0/sql/statements" => sql::StatementResponse;
    /// §1.2 poll a statement.
    GetStatement: Get "/api/2.0/sql/statements/{statement_id}" => sql::StatementResponse;
    /// §1.3 cancel a statement (empty body and answer).
    CancelStatement: Post "/api/2.0/sql/statements/{statement_id}/cancel" => serde_json::Value;
    /// §1.4 one result chunk.
    GetStatementChunk: Get "/api/2.0/sql/statements/{statement_id}/result/chunks/{chunk_index}" => sql::ResultData;
    /// §2.1 list warehouses.
    ListWarehouses: Get "/api/2.0/sql/warehouses" => sql::ListWarehousesResponse;
    /// §2.2 get a warehouse.
    GetWarehouse: Get "/api/2.0/sql/warehouses/{id}" => sql::Warehouse;
    /// §2.3 start a warehouse (asynchronous).
    StartWarehouse: Post "/api/2.0/sql/warehouses/{id}/start" => serde_json::Value;
    /// §2.3 stop a warehouse (asynchronous).
    StopWarehouse: Post "/api/2.0/sql/warehouses/{id}/stop" => serde_json::Value;
    /// §11 query history.
    ListQueries: Get "/api/2.0/sql/history/queries" => history::ListQueriesResponse;
    /// table lineage (`table_name`, `include_entity_lineage` query parameters).
    GetTableLineage: Get "/api/2.0/lineage-tracking/table-lineage" => lineage::TableLineage;
    /// §3.1 list catalogs.
    ListCatalogs: Get "/api/2.1/unity-catalog/catalogs" => catalog::CatalogsPage;
    /// §3.2 list schemas.
    ListSchemas: Get "/api/2.1/unity-catalog/schemas" => catalog::SchemasPage;
    /// §3.3 list tables.
    ListTables: Get "/api/2.1/unity-catalog/tables" => catalog::TablesPage;
    /// §3.4 get a table.
    GetTable: Get "/api/2.1/unity-catalog/tables/{full_name}" => catalog::TableInfo;
    /// §3.6 list volumes.
    ListVolumes: Get "/api/2.1/unity-catalog/volumes" => catalog::VolumesPage;
    /// §3.7 list functions.
    ListFunctions: Get "/api/2.1/unity-catalog/functions" => functions::FunctionsPage;
    /// §3.7 get a function.
    GetFunction: Get "/api/2.1/unity-catalog/functions/{full_name}" => functions::FunctionInfo;
    /// §4.1 list jobs.
    ListJobs: Get "/api/2.2/jobs/list" => jobs::JobsPage;
    /// §4.2 get a job (`job_id` query parameter).
    GetJob: Get "/api/2.2/jobs/get" => jobs::Job;
    /// §4.4 list runs.
    ListRuns: Get "/api/2.2/jobs/runs/list" => jobs::RunsPage;
    /// §4.5 get a run (`run_id` query parameter).
    GetRun: Get "/api/2.2/jobs/runs/get" => jobs::Run;
    /// §4.6 the output of a task run (`run_id` query parameter).
    GetRunOutput: Get "/api/2.2/jobs/runs/get-output" => jobs::RunOutput;
    /// §4.3 run a job now (body: [`jobs::RunNowRequest`]).
    RunNow: Post "/api/2.2/jobs/run-now" => jobs::RunNowResponse;
    /// §4.7 cancel a run (body `{run_id}`).
    CancelRun: Post "/api/2.2/jobs/runs/cancel" => serde_json::Value;
    /// repair a run (body: [`jobs::RepairRunRequest`]).
    RepairRun: Post "/api/2.2/jobs/runs/repair" => jobs::RepairRunResponse;
    /// §5.1 list clusters.
    ListClusters: Get "/api/2.1/clusters/list" => compute::ClustersPage;
    /// §5.2 get a cluster (`cluster_id` query parameter).
    GetCluster: Get "/api/2.1/clusters/get" => compute::Cluster;
    /// §5.3 start a terminated cluster (body `{cluster_id}`).
    StartCluster: Post "/api/2.1/clusters/start" => serde_json::Value;
    /// restart a running cluster (body `{cluster_id}`).
    RestartCluster: Post "/api/2.1/clusters/restart" => serde_json::Value;
    /// §5.4 terminate a cluster (body `{cluster_id}`; the configuration is kept).
    TerminateCluster: Post "/api/2.1/clusters/delete" => serde_json::Value;
    /// §5.5 a cluster's events (body: [`compute::ClusterEventsRequest`]).
    ClusterEvents: Post "/api/2.1/clusters/events" => compute::ClusterEventsPage;
    /// §6.1 list pipelines.
    ListPipelines: Get "/api/2.0/pipelines" => pipelines::PipelinesPage;
    /// §6.2 get a pipeline (kept as JSON until the pipeline model covers its spec).
    GetPipeline: Get "/api/2.0/pipelines/{pipeline_id}" => serde_json::Value;
    /// §6.5 a pipeline's event log.
    ListPipelineEvents: Get "/api/2.0/pipelines/{pipeline_id}/events" => pipelines::PipelineEventsPage;
    /// §6.4 start an update (body: [`pipelines::StartUpdateRequest`]).
    StartPipelineUpdate: Post "/api/2.0/pipelines/{pipeline_id}/updates" => pipelines::StartUpdateResponse;
    /// §6.4 stop the running update.
    StopPipeline: Post "/api/2.0/pipelines/{pipeline_id}/stop" => serde_json::Value;
    /// §7 list a workspace directory.
    ListWorkspace: Get "/api/2.0/workspace/list" => crate::workspace::ListResponse;
    /// §7 status of a workspace object (`path` query parameter).
    GetWorkspaceStatus: Get "/api/2.0/workspace/get-status" => crate::workspace::ObjectInfo;
    /// §7 export a workspace object (`path`, `format` query parameters).
    ExportWorkspace: Get "/api/2.0/workspace/export" => crate::workspace::ExportResponse;
    /// §7 import a notebook or file (body: [`workspace::ImportRequest`]).
    ImportWorkspace: Post "/api/2.0/workspace/import" => serde_json::Value;
    /// §9.1 list vector search endpoints.
    ListVectorSearchEndpoints: Get "/api/2.0/vector-search/endpoints" => vector_search::EndpointsPage;
    /// §9.2 list vector indexes.
    ListVectorIndexes: Get "/api/2.0/vector-search/indexes" => vector_search::IndexesPage;
    /// get a vector index.
    GetVectorIndex: Get "/api/2.0/vector-search/indexes/{index_name}" => vector_search::VectorIndex;
    /// §9.3 query a vector index (body: [`vector_search::QueryVectorIndexRequest`]).
    QueryVectorIndex: Post "/api/2.0/vector-search/indexes/{index_name}/query" => vector_search::QueryVectorIndexResponse;
    /// next page of a vector index query.
    QueryVectorIndexNextPage: Post "/api/2.0/vector-search/indexes/{index_name}/query-next-page" => vector_search::QueryVectorIndexResponse;
    /// §10 list Genie spaces.
    ListGenieSpaces: Get "/api/2.0/genie/spaces" => genie::SpacesPage;
    /// §10 get a Genie space.
    GetGenieSpace: Get "/api/2.0/genie/spaces/{space_id}" => genie::GenieSpace;
    /// §10 start a conversation.
    StartGenieConversation: Post "/api/2.0/genie/spaces/{space_id}/start-conversation" => genie::GenieStartConversationResponse;
    /// §10 ask a follow-up in a conversation.
    CreateGenieMessage: Post "/api/2.0/genie/spaces/{space_id}/conversations/{conversation_id}/messages" => genie::GenieMessage;
    /// §10 poll a message.
    GetGenieMessage: Get "/api/2.0/genie/spaces/{space_id}/conversations/{conversation_id}/messages/{message_id}" => genie::GenieMessage;
    /// §10 a query attachment's result.
    GetGenieQueryResult: Get "/api/2.0/genie/spaces/{space_id}/conversations/{conversation_id}/messages/{message_id}/attachments/{attachment_id}/query-result" => genie::GenieQueryResultResponse;
    /// Genie One: ask (body: [`genie_one::CreateResponseRequest`]). The answer is a
    /// stream of server-sent [`genie_one::ResponseEvent`]s; this type is the response of
    /// the first, `response.created`.
    CreateGenieOneResponse: Post "/api/2.0/genie/one/responses" => genie_one::GenieOneResponse;
    /// Genie One: read a response (poll while `in_progress`).
    GetGenieOneResponse: Get "/api/2.0/genie/one/conversations/{conversation_id}/responses/{response_id}" => genie_one::GenieOneResponse;
    /// Genie One: cancel a response (empty body). Not in the Genie One reference: the
    /// path of the Genie agent-mode cancel; answers the response, now terminal.
    CancelGenieOneResponse: Post "/api/2.0/genie/one/conversations/{conversation_id}/responses/{response_id}/cancel" => genie_one::GenieOneResponse;
    /// Genie One: the result of a response's query item. Not in the Genie One reference:
    /// shaped like a Genie space's attachment `query-result`.
    GetGenieOneQueryResult: Get "/api/2.0/genie/one/conversations/{conversation_id}/responses/{response_id}/items/{item_id}/query-result" => genie::GenieQueryResultResponse;
    /// §12 the caller's identity.
    CurrentUser: Get "/api/2.0/preview/scim/v2/Me" => iam::CurrentUser;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_filled_and_encoded() {
        assert_eq!(
            GetTable::path(&["main.sales.orders"]),
            "/api/2.1/unity-catalog/tables/main.sales.orders"
        );
        assert_eq!(
            GetStatementChunk::path(&["a b", "3"]),
            "/api/2.0/sql/statements/a%20b/result/chunks/3"
        );
        assert_eq!(GetPipeline::path(&["../x"]), "/api/2.0/pipelines/..%2Fx");
        assert_eq!(ListJobs::path(&[]), "/api/2.2/jobs/list");
    }

    #[test]
    fn every_path_is_declared_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (method, path) in ALL {
            assert!(seen.insert((method.as_str(), *path)), "{path}");
        }
    }
}
