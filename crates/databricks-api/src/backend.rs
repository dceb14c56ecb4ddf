//! What a workspace backend provides to the workspace server: data in, data out, in the
//! contract's models. The server (crate `workspace-server`) owns everything of the
//! protocol — routes, parameter checks, paging, error bodies — so two backends (the
//! fixture emulator, the DataFusion local workspace) can differ in their data only.
//!
//! Methods are `async fn`s made object-safe by `#[async_trait]` (boxed futures, std only,
//! no runtime), so backends are used as trait objects. A service a backend does not offer answers the reference's not-found error.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;

use crate::catalog::{CatalogInfo, SchemaInfo, TableInfo, TableSummary, VolumeInfo};
use crate::compute::{Cluster, ClusterEvent};
use crate::error::ApiError;
use crate::functions::FunctionInfo;
use crate::genie::{GenieConversation, GenieMessage, GenieSpace, GenieStartConversationResponse};
use crate::genie_one::GenieOneResponse;
use crate::history::{QueryFilter, QueryInfo};
use crate::iam::CurrentUser;
use crate::jobs::{
    Job, JobSettings, RepairRunRequest, RepairRunResponse, Run, RunNowRequest, RunNowResponse,
    RunOutput,
};
use crate::lineage::TableLineage;
use crate::pipelines::{
    PipelineDetails, PipelineEvent, PipelineSpec, StartUpdateRequest, UpdateInfo,
};
use crate::serving::{ChatRequest, ChatResponse, ServingEndpoint};
use crate::sql::{StatementResponse, Warehouse};
use crate::vector_search::{EndpointInfo, ScoredRows, VectorIndex, VectorQuery};
use crate::workspace::{Language, ObjectInfo};

/// A backend's answer: the model, or the error the API sends.
pub type Answer<T> = Result<T, ApiError>;

/// Backends implement the service traits with `#[async_trait]` (re-exported here so they
/// need no dependency of their own): `async fn`s that stay usable as trait objects.
pub use async_trait::async_trait;

/// Unity Catalog (REFERENCE.md §3). Listings are whole, in the order they are listed;
/// the server pages them and applies the list-only options (`omit_columns`, …). Names
/// arrive as the caller wrote them; a backend resolves them as the workspace would (Unity
/// Catalog names are case-insensitive) and answers the §3 not-found codes:
/// `CATALOG_DOES_NOT_EXIST`, `SCHEMA_DOES_NOT_EXIST`, `TABLE_DOES_NOT_EXIST`,
/// `FUNCTION_DOES_NOT_EXIST`, `RESOURCE_DOES_NOT_EXIST` (volumes).
#[async_trait]
pub trait UnityCatalog: Send + Sync {
    async fn catalogs(&self) -> Answer<Vec<CatalogInfo>>;
    async fn catalog(&self, name: &str) -> Answer<CatalogInfo>;
    async fn schemas(&self, catalog: &str) -> Answer<Vec<SchemaInfo>>;
    async fn schema(&self, catalog: &str, schema: &str) -> Answer<SchemaInfo>;
    /// The tables and views of a schema as the list call shows them.
    async fn tables(&self, catalog: &str, schema: &str) -> Answer<Vec<TableInfo>>;
    async fn table(&self, catalog: &str, schema: &str, table: &str) -> Answer<TableInfo>;
    async fn volumes(&self, catalog: &str, schema: &str) -> Answer<Vec<VolumeInfo>>;
    async fn volume(&self, catalog: &str, schema: &str, volume: &str) -> Answer<VolumeInfo>;
    async fn functions(&self, catalog: &str, schema: &str) -> Answer<Vec<FunctionInfo>>;
    async fn function(&self, catalog: &str, schema: &str, function: &str) -> Answer<FunctionInfo>;
    /// Every table of a catalog, by full name and type (`table-summaries`): the server
    /// filters by the name patterns.
    async fn table_summaries(&self, catalog: &str) -> Answer<Vec<TableSummary>>;
}

/// SQL warehouses (REFERENCE.md §2). An unknown id answers 404
/// `RESOURCE_DOES_NOT_EXIST`; start and stop are asynchronous (the state moves through
/// `STARTING`/`STOPPING`) and idempotent. A backend that cannot do one answers the
/// error the API would (e.g. 400 `INVALID_STATE`).
#[async_trait]
pub trait Warehouses: Send + Sync {
    async fn warehouses(&self) -> Answer<Vec<Warehouse>>;
    async fn warehouse(&self, id: &str) -> Answer<Warehouse>;
    async fn start_warehouse(&self, id: &str) -> Answer<()>;
    async fn stop_warehouse(&self, id: &str) -> Answer<()>;
}

/// Clusters (REFERENCE.md §5). The server checks the parameters, filters, sorts and pages,
/// answers the error for an unknown id (`None` here), and decides from the cluster's state
/// whether an action applies (400 `INVALID_STATE` when it cannot, nothing when it already
/// has); a backend moves the cluster through the transitional state to the final one and
/// records the events a workspace records for it.
#[async_trait]
pub trait Clusters: Send + Sync {
    /// Every cluster, in the workspace's default order; the server drops `spec`.
    async fn clusters(&self) -> Answer<Vec<Cluster>>;
    /// One cluster as `get` shows it (with `spec` when the backend keeps one). Reading may
    /// settle a transition, as a read by a client does.
    async fn cluster(&self, id: &str) -> Answer<Option<Cluster>>;
    /// The cluster's state now, for the server's checks: not a client's read, so it settles
    /// nothing a client has yet to see.
    async fn cluster_state(&self, id: &str) -> Answer<Option<String>>;
    /// A `TERMINATED` or `ERROR` cluster starts: `PENDING`, then `RUNNING`.
    async fn start_cluster(&self, id: &str) -> Answer<()>;
    /// A `RUNNING` cluster restarts: `RESTARTING`, then `RUNNING`.
    async fn restart_cluster(&self, id: &str) -> Answer<()>;
    /// A cluster neither `TERMINATING` nor `TERMINATED` terminates (`clusters/delete`):
    /// `TERMINATING`, then `TERMINATED` with a `USER_REQUEST` termination reason.
    async fn terminate_cluster(&self, id: &str) -> Answer<()>;
    /// The cluster's events, oldest first.
    async fn cluster_events(&self, id: &str) -> Answer<Option<Vec<ClusterEvent>>>;
}

/// The caller's identity (REFERENCE.md §12, SCIM `Me`).
#[async_trait]
pub trait Identity: Send + Sync {
    async fn current_user(&self) -> Answer<CurrentUser>;
}

/// Query history (REFERENCE.md §11): the statements the workspace's warehouses ran,
/// newest first, filtered as asked; the server pages them.
#[async_trait]
pub trait QueryHistory: Send + Sync {
    async fn queries(&self, filter: &QueryFilter) -> Answer<Vec<QueryInfo>>;
}

/// Table lineage (`/api/2.0/lineage-tracking/table-lineage`): the immediate upstream and
/// downstream tables of a table, with the entities that connect them when
/// `include_entities`. An unknown table answers 404 `TABLE_DOES_NOT_EXIST` (or the
/// catalog/schema code); a table without lineage answers an empty `TableLineage`.
#[async_trait]
pub trait Lineage: Send + Sync {
    async fn table_lineage(&self, table_name: &str, include_entities: bool)
    -> Answer<TableLineage>;
}

/// Model Serving: the workspace's endpoints, and chat completions on a chat endpoint
/// (`llm/v1/chat`). An unknown endpoint answers 404 `RESOURCE_DOES_NOT_EXIST`; a backend
/// that cannot chat on an endpoint answers the error the API would (400
/// `INVALID_PARAMETER_VALUE` for a malformed request). Streaming is the server's: it
/// sends the whole answer as server-sent event chunks when the request asks for them.
#[async_trait]
pub trait Serving: Send + Sync {
    async fn endpoints(&self) -> Answer<Vec<ServingEndpoint>>;
    async fn endpoint(&self, name: &str) -> Answer<ServingEndpoint>;
    async fn chat(&self, name: &str, request: &ChatRequest) -> Answer<ChatResponse>;
}

/// A question for Genie One, checked by the server: `question` is the input's nonblank
/// text (at most [`crate::genie_one::MAX_INPUT_BYTES`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenieOneQuestion {
    pub question: String,
    /// The conversation to continue; `None` starts one.
    pub conversation_id: Option<String>,
    /// The warehouse to run queries on; `None` lets the backend choose.
    pub warehouse_id: Option<String>,
}

/// Genie One (`/api/2.0/genie/one/...`): questions over the workspace's data, answered
/// asynchronously. [`create_response`](GenieOne::create_response) answers at once with
/// the accepted response (`in_progress`, or already terminal) and keeps working; the
/// server streams its progress by reading [`response`](GenieOne::response). An unknown
/// conversation or response answers 404 `RESOURCE_DOES_NOT_EXIST`, as does an unknown
/// warehouse or query item. Cancelling a terminal response leaves it as it is.
#[async_trait]
pub trait GenieOne: Send + Sync {
    async fn create_response(&self, question: &GenieOneQuestion) -> Answer<GenieOneResponse>;
    async fn response(&self, conversation_id: &str, response_id: &str) -> Answer<GenieOneResponse>;
    async fn cancel_response(
        &self,
        conversation_id: &str,
        response_id: &str,
    ) -> Answer<GenieOneResponse>;
    /// The result of a query item of the response (`SUCCEEDED` with its rows, or the
    /// statement's failure).
    async fn query_result(
        &self,
        conversation_id: &str,
        response_id: &str,
        item_id: &str,
    ) -> Answer<StatementResponse>;
}

/// A message of a Genie space's conversation, as its calls' paths name it (§10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagePath<'a> {
    pub space_id: &'a str,
    pub conversation_id: &'a str,
    pub message_id: &'a str,
}

/// Genie spaces and their conversations (REFERENCE.md §10). The server checks the
/// request (`content` a nonblank string, paging), pages the lists, and answers 404
/// `RESOURCE_DOES_NOT_EXIST` for an unknown space (`None` here) before asking for
/// anything in it; a backend answers the same error for a conversation, message or
/// attachment the space does not have. A question is answered asynchronously: the
/// message is `SUBMITTED` (or further) when asked and moves on as it is read.
#[async_trait]
pub trait GenieSpaces: Send + Sync {
    /// Every space, in listing order.
    async fn spaces(&self) -> Answer<Vec<GenieSpace>>;
    async fn space(&self, space_id: &str) -> Answer<Option<GenieSpace>>;
    /// A new conversation of the space, with `content` as its first message.
    async fn start_conversation(
        &self,
        space_id: &str,
        content: &str,
    ) -> Answer<GenieStartConversationResponse>;
    /// A follow-up question in a conversation of the space.
    async fn create_message(
        &self,
        space_id: &str,
        conversation_id: &str,
        content: &str,
    ) -> Answer<GenieMessage>;
    /// A message as it stands (a client's read: a scripted message may move on).
    async fn message(&self, at: MessagePath<'_>) -> Answer<GenieMessage>;
    /// The result of a query attachment of the message; `None`: the message's query
    /// attachment (the deprecated paths that name none).
    async fn query_result(
        &self,
        at: MessagePath<'_>,
        attachment_id: Option<&str>,
    ) -> Answer<StatementResponse>;
    /// Runs a query attachment's SQL again (a result that expired) and answers the new
    /// result; `None` as for [`query_result`](GenieSpaces::query_result).
    async fn execute_query(
        &self,
        at: MessagePath<'_>,
        attachment_id: Option<&str>,
    ) -> Answer<StatementResponse>;
    /// The space's conversations, newest first, as a listing shows them.
    async fn conversations(&self, space_id: &str) -> Answer<Vec<GenieConversation>>;
}

/// A notebook or file to write at a workspace path: the server has decoded, checked and
/// converted the import (a notebook's `content` is its SOURCE form, header line first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceWrite {
    /// `Some` for a notebook, `None` for a workspace file.
    pub language: Option<Language>,
    pub content: Vec<u8>,
}

/// Workspace objects (REFERENCE.md §7): a tree of directories, notebooks and files. Paths
/// arrive normalized by the server: absolute, without the `/Workspace` prefix or a
/// trailing `/`, no `.`/`..` or empty components (the root is `/`). A missing object
/// answers 404 `RESOURCE_DOES_NOT_EXIST`. The server checks the protocol before a write
/// (the parent exists, `overwrite`, `recursive`), so a write does what it says: it
/// replaces whatever object is at the path. A backend that cannot store a name, or is
/// read-only, answers the error the API would (400 `INVALID_PARAMETER_VALUE`, 403
/// `PERMISSION_DENIED`).
#[async_trait]
pub trait WorkspaceObjects: Send + Sync {
    async fn object(&self, path: &str) -> Answer<ObjectInfo>;
    /// The objects directly inside directory `path`, in the order they are listed.
    async fn children(&self, path: &str) -> Answer<Vec<ObjectInfo>>;
    /// A notebook's SOURCE (header line first) or a file's bytes.
    async fn content(&self, path: &str) -> Answer<Vec<u8>>;
    async fn write(&self, path: &str, object: WorkspaceWrite) -> Answer<()>;
    /// Creates directory `path` and its missing parents (none of them is a notebook or
    /// file: the server has checked).
    async fn mkdirs(&self, path: &str) -> Answer<()>;
    /// Deletes the object at `path` and, for a directory, everything below it.
    async fn delete(&self, path: &str) -> Answer<()>;
}

/// What is at a path of a file tree: a directory, or a file and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMetadata {
    pub is_directory: bool,
    /// Bytes; 0 for a directory.
    pub size: u64,
    /// Epoch milliseconds.
    pub modified_ms: i64,
}

/// One entry of a directory: its name (no `/`) and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub metadata: FileMetadata,
}

/// Files of Unity Catalog volumes (REFERENCE.md §8.1), also served through DBFS (§8.2): a
/// tree of directories and files. Paths arrive normalized by the server: absolute,
/// without a trailing `/`, no empty, `.` or `..` components (the root is `/`); the Files
/// API's are always inside a volume, `/Volumes/<catalog>/<schema>/<volume>/…`, where the
/// volume itself is a directory that exists or not. The server checks the protocol before
/// a write (the volume exists, no file stands where a directory must, `overwrite`, a
/// directory is empty before it goes), so a write does what it says. A backend that
/// cannot store a name, or is read-only, answers the error the API would (400
/// `INVALID_PARAMETER_VALUE`, 403 `PERMISSION_DENIED`).
#[async_trait]
pub trait VolumeFiles: Send + Sync {
    /// What is at `path`, `None` when nothing is.
    async fn metadata(&self, path: &str) -> Answer<Option<FileMetadata>>;
    /// The entries directly inside directory `path`, in any order.
    async fn entries(&self, path: &str) -> Answer<Vec<FileEntry>>;
    /// Bytes `range` of file `path` (within its size: the server has checked).
    async fn read(&self, path: &str, range: Range<u64>) -> Answer<Vec<u8>>;
    /// Writes file `path`, replacing one that is there and creating missing parents.
    async fn write(&self, path: &str, content: &[u8]) -> Answer<()>;
    /// Creates directory `path` and its missing parents.
    async fn mkdirs(&self, path: &str) -> Answer<()>;
    async fn delete_file(&self, path: &str) -> Answer<()>;
    /// Deletes directory `path`, which the server has seen empty.
    async fn delete_directory(&self, path: &str) -> Answer<()>;
    /// Moves the file or directory `from` (a directory with all it holds) to `to`. The
    /// server has seen `from` exist, nothing at `to`, `to` not inside `from`, and the
    /// parent directory of `to` made.
    async fn rename(&self, from: &str, to: &str) -> Answer<()>;
}

/// Vector Search (REFERENCE.md §9): endpoints, their indexes, and queries. The server
/// checks every parameter and the query's inputs against the index (which inputs the query
/// type allows, the embedding dimension), answers 404 `RESOURCE_DOES_NOT_EXIST` for an
/// unknown endpoint or index (`None` here), pages the lists and the results, and appends
/// the score column. A backend searches: it keeps the rows every filter accepts, scores
/// them against the query, and answers the best `num_results` of those scoring at least
/// `score_threshold`, best first. A column or filter the index does not have, or a query
/// the index cannot answer, is the error the API would send (400
/// `INVALID_PARAMETER_VALUE`).
#[async_trait]
pub trait VectorSearch: Send + Sync {
    /// Every endpoint, in listing order.
    async fn endpoints(&self) -> Answer<Vec<EndpointInfo>>;
    /// Every index of every endpoint, in listing order, each naming its endpoint.
    async fn indexes(&self) -> Answer<Vec<VectorIndex>>;
    async fn index(&self, name: &str) -> Answer<Option<VectorIndex>>;
    async fn query(&self, index: &VectorIndex, query: &VectorQuery) -> Answer<ScoredRows>;
}

/// The format of a statement's result (REFERENCE.md §1.1 `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    JsonArray,
    ArrowStream,
    Csv,
}

impl ResultFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultFormat::JsonArray => "JSON_ARRAY",
            ResultFormat::ArrowStream => "ARROW_STREAM",
            ResultFormat::Csv => "CSV",
        }
    }

    /// The content type of a download in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            ResultFormat::JsonArray => "application/json",
            ResultFormat::ArrowStream => "application/vnd.apache.arrow.stream",
            ResultFormat::Csv => "text/csv",
        }
    }
}

/// A statement to run, checked by the server (REFERENCE.md §1.1): the warehouse id is
/// not empty, the limits are not negative, every parameter has a name.
#[derive(Debug, Clone, Default)]
pub struct StatementRun {
    /// The id the server gave the statement (a UUID).
    pub statement_id: String,
    pub statement: String,
    pub warehouse_id: String,
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub parameters: Vec<crate::sql::StatementParameter>,
    pub row_limit: Option<u64>,
    pub byte_limit: Option<u64>,
    /// The caller's `User-Agent`, for the query history.
    pub user_agent: Option<String>,
}

/// Why a statement failed, as `status.error` and `status.sql_state` say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFailure {
    pub error_code: String,
    pub message: String,
    pub sql_state: Option<String>,
}

/// Where a statement is, as one answer (execute or GET) reports it.
#[derive(Clone)]
pub enum Progress {
    Pending,
    Running,
    Succeeded(std::sync::Arc<dyn ResultRows>),
    Failed(StatementFailure),
    Canceled,
    /// Succeeded, but its result can no longer be fetched.
    Closed,
}

/// The rows of a statement that succeeded. The server cuts them into chunks and writes
/// every format from the [`batch`](ResultRows::batch) of a chunk's rows, with the cell
/// rules of [`crate::cells`], so each backend keeps its own data and none writes a format.
pub trait ResultRows: Send + Sync {
    /// The manifest's columns, in order, with their positions.
    fn columns(&self) -> &[crate::sql::ColumnInfo];
    /// Rows after `row_limit`.
    fn row_count(&self) -> u64;
    /// Whether `row_limit` or `byte_limit` cut the result.
    fn truncated(&self) -> bool;
    /// About how many bytes a row takes, to size chunks before rendering them.
    fn row_bytes(&self) -> usize;
    /// Rows per chunk when the backend decides them (the emulator's scripts); `None`
    /// lets the server size chunks by bytes.
    fn chunk_rows(&self) -> Option<u64> {
        None
    }
    /// Rows `rows` (clamped to the result) as one Arrow batch, a column per manifest
    /// column.
    fn batch(&self, rows: Range<u64>) -> Result<RecordBatch, ArrowError>;
}

/// One statement a backend runs.
#[async_trait]
pub trait Execution: Send + Sync {
    /// The state for one answer (an execute or a GET): a scripted execution moves on by
    /// one step each time it is observed.
    fn observe(&self) -> Progress;
    /// Resolves when the execution has settled: finished, or unable to move on until it
    /// is observed again. The server waits on it for `wait_timeout`.
    async fn settled(&self);
    /// Stops the work. A statement that has not finished is then `Canceled`; one that
    /// has stays as it is (a cancel may lose the race with completion). Called for every
    /// cancel request of the statement.
    fn cancel(&self);
}

/// SQL statement execution (REFERENCE.md §1). The server owns the statements: the
/// request's checks, `wait_timeout` and `on_wait_timeout`, cancel, how long results stay,
/// chunks, dispositions, formats and links. A backend runs one statement: it refuses it
/// with the error the API sends before a statement exists (an unknown warehouse, 404
/// `RESOURCE_DOES_NOT_EXIST`; a workspace that is busy, 503), or starts it.
#[async_trait]
pub trait SqlStatements: Send + Sync {
    async fn start(&self, run: StatementRun) -> Answer<Box<dyn Execution>>;

    /// Whether `INLINE_OR_EXTERNAL_LINKS` is accepted: a workspace that predates it
    /// answers 400, and clients fall back.
    fn accepts_hybrid_disposition(&self) -> bool {
        true
    }

    /// A directory where finished results are also written, so that another process
    /// serving the same workspace can page through them (each `databricks-mcp call` is one
    /// process). `None` keeps results in memory only.
    fn result_archive(&self) -> Option<PathBuf> {
        None
    }
}

/// What a start of an update came to: the new update, or the update already active (a
/// pipeline runs one update at a time; the backend decides atomically, the server answers
/// the error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateStart {
    Started(String),
    Active(String),
}

/// Lakeflow Declarative Pipelines (REFERENCE.md §6). The server checks the parameters,
/// filters, sorts and pages, answers 404 `RESOURCE_DOES_NOT_EXIST` for an unknown pipeline
/// or update (`None` here) and 409 when an update is already active; a backend keeps the
/// pipelines, runs their updates (moving their states) and records their events. A backend
/// that does not allow a change answers the error the API would (403 `PERMISSION_DENIED`).
#[async_trait]
pub trait Pipelines: Send + Sync {
    /// Every pipeline with its spec, in any order.
    async fn pipelines(&self) -> Answer<Vec<PipelineDetails>>;
    async fn pipeline(&self, id: &str) -> Answer<Option<PipelineDetails>>;
    /// The pipeline's updates, newest first.
    async fn updates(&self, id: &str) -> Answer<Option<Vec<UpdateInfo>>>;
    /// One update as `get` shows it; reading may advance it, as a client's read does.
    async fn update(&self, id: &str, update_id: &str) -> Answer<Option<UpdateInfo>>;
    /// Starts an update of a known pipeline, the request checked by the server.
    async fn start_update(&self, id: &str, request: &StartUpdateRequest) -> Answer<UpdateStart>;
    /// Cancels the pipeline's active update, if any (a known pipeline).
    async fn stop(&self, id: &str) -> Answer<()>;
    /// The pipeline's event log, newest first.
    async fn events(&self, id: &str) -> Answer<Option<Vec<PipelineEvent>>>;
    /// Creates a pipeline from a spec with a name (checked by the server): its id.
    async fn create_pipeline(&self, spec: &PipelineSpec) -> Answer<String>;
    /// Deletes a known pipeline with its updates and events.
    async fn delete_pipeline(&self, id: &str) -> Answer<()>;
}

/// What a run id names: a job run, or one task run of a job run (its current attempt, or
/// one a repair replaced), with the job run it belongs to.
#[derive(Debug, Clone)]
pub enum FoundRun {
    Job(Run),
    Task {
        parent: Run,
        task: serde_json::Value,
    },
}

/// Jobs (REFERENCE.md §4, 2.2 and 2.1). The server checks every parameter, answers the
/// errors for unknown jobs and runs (`None` here), pages the lists, shapes what each call
/// shows (tasks only when expanded, a task run as a run, 2.2's arrays of at most 100
/// elements), and decides from a run's state what cancel and repair do. A backend keeps
/// the jobs and runs them: a run moves through `PENDING`, `RUNNING` to a final state.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// Every job with its whole settings, in listing order (by job id).
    async fn jobs(&self) -> Answer<Vec<Job>>;
    async fn job(&self, id: i64) -> Answer<Option<Job>>;
    /// Creates a job with these settings; its id.
    async fn create_job(&self, settings: &JobSettings) -> Answer<i64>;
    /// Deletes an existing job (the server has checked it exists).
    async fn delete_job(&self, id: i64) -> Answer<()>;
    /// Starts a run of `job` (checked by the server) with the request's parameters, only
    /// the tasks of `only` when given. A request with the `idempotency_token` of an
    /// earlier one answers that run again.
    async fn run_now(&self, job: &Job, request: &RunNowRequest) -> Answer<RunNowResponse>;
    /// Every job run with its tasks, newest first.
    async fn runs(&self) -> Answer<Vec<Run>>;
    /// The run or task run `id`. `read` is a client's read (`runs/get`), which may move a
    /// scripted run on as a read of a real run sees it move; the server's own checks pass
    /// `false` and change nothing.
    async fn run(&self, id: i64, read: bool) -> Answer<Option<FoundRun>>;
    /// What task run `id` produced (`metadata` is the server's): empty while it runs.
    async fn run_output(&self, task_run_id: i64) -> Answer<RunOutput>;
    /// Cancels job run `id`, which the server has seen active: its unfinished tasks and
    /// the run end `TERMINATED` with result `CANCELED`.
    async fn cancel_run(&self, id: i64) -> Answer<()>;
    /// Re-runs `tasks` (chosen and checked by the server, in the run's task order) of the
    /// finished job run `request.run_id`: new task run ids, attempt numbers one higher, a
    /// `REPAIR` entry in `repair_history`, and the run active again until they end.
    async fn repair_run(
        &self,
        request: &RepairRunRequest,
        tasks: &[String],
    ) -> Answer<RepairRunResponse>;
}

/// The services one workspace offers, each on its backend. A service without one answers
/// `ENDPOINT_NOT_FOUND`, as a workspace without the feature does. Plain data: the server
/// (`workspace-server`) serves it, so a backend crate needs no HTTP code.
#[derive(Clone, Default)]
pub struct Backends {
    pub unity_catalog: Option<Arc<dyn UnityCatalog>>,
    pub warehouses: Option<Arc<dyn Warehouses>>,
    pub clusters: Option<Arc<dyn Clusters>>,
    pub identity: Option<Arc<dyn Identity>>,
    pub query_history: Option<Arc<dyn QueryHistory>>,
    pub lineage: Option<Arc<dyn Lineage>>,
    pub serving: Option<Arc<dyn Serving>>,
    pub genie_one: Option<Arc<dyn GenieOne>>,
    pub genie_spaces: Option<Arc<dyn GenieSpaces>>,
    pub workspace: Option<Arc<dyn WorkspaceObjects>>,
    pub files: Option<Arc<dyn VolumeFiles>>,
    pub vector_search: Option<Arc<dyn VectorSearch>>,
    pub statements: Option<Arc<dyn SqlStatements>>,
    pub pipelines: Option<Arc<dyn Pipelines>>,
    pub jobs: Option<Arc<dyn Jobs>>,
}
