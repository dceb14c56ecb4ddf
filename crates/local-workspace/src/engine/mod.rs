//! The SQL engine: Databricks SQL text in, Arrow batches out, on DataFusion over the
//! lakehouse directory.
//!
//! Each statement gets its own DataFusion session whose catalog holds exactly the tables
//! the statement references (resolved on disk, case-insensitively, with errors naming the
//! object), time-travel references bound to the Delta version they ask for, and the
//! `information_schema` views it reads. Reads never write; writes (`CREATE TABLE [AS]`,
//! `INSERT [INTO|OVERWRITE]`) are Delta commits and need `allow_writes`.

// SHOW, DESCRIBE and the other commands DataFusion does not run: part of the engine.
mod commands;
mod join_key_filter;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider, TableProvider,
};
use datafusion::common::{DataFusionError, SchemaError, TableReference};
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{CreateTable, Insert, Statement, TableFactor, TableObject};
use futures::StreamExt;

use crate::dialect::{
    self, Param, RewriteContext, TIME_TRAVEL_CATALOG, TIME_TRAVEL_SCHEMA, VersionSpec,
};
use crate::error::SqlError;
use crate::info_schema;
use crate::lakehouse::{self, Format, INFORMATION_SCHEMA, Lakehouse, SYSTEM, TableLoc};
use commands::Command;

/// Default catalog and schema when a statement names neither.
pub(crate) const DEFAULT_CATALOG: &str = "main";
pub(crate) const DEFAULT_SCHEMA: &str = "default";

/// Options of one statement execution.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExecOptions {
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub params: HashMap<String, Param>,
    /// Stop after this many rows (the result is then `truncated`).
    pub row_limit: Option<usize>,
    /// Stop after about this many bytes of Arrow data.
    pub byte_limit: Option<usize>,
}

/// A statement's result.
#[derive(Debug, Clone)]
pub(crate) struct QueryResult {
    pub schema: SchemaRef,
    /// All rows in one batch (possibly empty).
    pub batch: RecordBatch,
    pub truncated: bool,
}

impl QueryResult {
    pub fn from_batches(
        schema: SchemaRef,
        batches: &[RecordBatch],
        truncated: bool,
    ) -> Result<QueryResult, SqlError> {
        let batch = concat_batches(&schema, batches)
            .map_err(|e| SqlError::internal(format!("cannot assemble the result: {e}")))?;
        Ok(QueryResult {
            schema,
            batch,
            truncated,
        })
    }

    pub fn empty() -> QueryResult {
        let schema = Arc::new(Schema::empty());
        QueryResult {
            batch: RecordBatch::new_empty(schema.clone()),
            schema,
            truncated: false,
        }
    }
}

/// A table by its three names, as lineage records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TableName {
    pub catalog: String,
    pub schema: String,
    pub name: String,
}

impl TableName {
    pub fn of(loc: &TableLoc) -> TableName {
        TableName {
            catalog: loc.catalog.clone(),
            schema: loc.schema.clone(),
            name: loc.name.clone(),
        }
    }

    /// The same table: Unity Catalog names are case-insensitive.
    pub fn same(&self, other: &TableName) -> bool {
        self.catalog.eq_ignore_ascii_case(&other.catalog)
            && self.schema.eq_ignore_ascii_case(&other.schema)
            && self.name.eq_ignore_ascii_case(&other.name)
    }
}

/// A write and what it read: one lineage edge from each source to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    pub target: TableName,
    pub sources: Vec<TableName>,
}

/// DataFusion's options tuned for this engine (measured on TPC-H SF1 beside DuckDB, two
/// cores; README, Benchmarks), each one overridable by its `DATAFUSION_…` environment
/// variable (`datafusion.execution.batch_size` is `DATAFUSION_EXECUTION_BATCH_SIZE`),
/// as are all of DataFusion's other options.
const TUNED: [(&str, &str); 2] = [
    // Broadcast the build side rather than hash-repartition both sides of a join: on a
    // few cores the repartition costs more than it spreads (TPC-H Q18: 827 → 629 ms).
    ("datafusion.optimizer.repartition_joins", "false"),
    // Larger batches: fewer per-batch overheads in aggregations and joins.
    ("datafusion.execution.batch_size", "16384"),
];

/// The session options of the engine: DataFusion's defaults, [`TUNED`], then the
/// environment's `DATAFUSION_…` variables. An unusable variable is logged and ignored.
pub fn session_config() -> SessionConfig {
    let mut options = datafusion::config::ConfigOptions::from_env().unwrap_or_else(|e| {
        tracing::warn!("ignoring DATAFUSION_* environment variables: {e}");
        datafusion::config::ConfigOptions::default()
    });
    for (key, value) in TUNED {
        let variable = key.to_ascii_uppercase().replace('.', "_");
        if std::env::var_os(&variable).is_none()
            && let Err(e) = options.set(key, value)
        {
            tracing::warn!("cannot set {key}: {e}");
        }
    }
    SessionConfig::from(options)
}

/// A session with the engine's options and physical optimizer (DataFusion's, plus
/// [`join_key_filter::JoinKeyRowFilter`]): what the engine runs queries in.
pub fn session_context(config: SessionConfig) -> SessionContext {
    let builder = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features();
    SessionContext::new_with_state(join_key_filter::with_join_key_filters(builder).build())
}

/// The engine shared by the REST API, jobs and pipelines.
#[derive(Clone)]
pub(crate) struct Engine {
    pub lake: Lakehouse,
    base: SessionContext,
    udfs: Vec<Arc<datafusion::logical_expr::ScalarUDF>>,
    pub allow_writes: bool,
    pub user: String,
}

impl Engine {
    pub fn new(lake: Lakehouse, allow_writes: bool, user: String) -> Engine {
        let config = session_config()
            .with_information_schema(false)
            .with_create_default_catalog_and_schema(false)
            .set_str("datafusion.execution.time_zone", "UTC");
        let base = session_context(config);
        let udfs = crate::functions::udfs();
        for f in &udfs {
            base.register_udf(f.as_ref().clone());
        }
        Engine {
            lake,
            base,
            udfs,
            allow_writes,
            user,
        }
    }

    /// Runs one statement.
    pub async fn execute(&self, sql: &str, opts: &ExecOptions) -> Result<QueryResult, SqlError> {
        let (catalog, schema) = self.defaults(opts)?;
        if let Some(cmd) = commands::parse(sql)? {
            return self.command(cmd, &catalog, &schema).await;
        }
        if let Some(create) = crate::sqlfn::parse_create(sql)? {
            dialect::check_definition(&create.def)?;
            return self.create_function(create, &catalog, &schema);
        }
        if let Some((if_exists, name)) = crate::sqlfn::parse_drop(sql)? {
            return self.drop_function(if_exists, &name, &catalog, &schema);
        }
        let mut statements = match dialect::parse_statements(sql) {
            Ok(s) => s,
            Err(e) => match strip_using(sql)? {
                Some(stripped) => dialect::parse_statements(&stripped)?,
                None => return Err(e),
            },
        };
        let stmt = match statements.len() {
            0 => return Err(SqlError::parse("Syntax error: the statement is empty.")),
            1 => statements.remove(0),
            n => {
                return Err(SqlError::unsupported(format_args!(
                    "{n} statements in one request: send one statement per request"
                )));
            }
        };
        self.statement(stmt, &catalog, &schema, opts).await
    }

    fn defaults(&self, opts: &ExecOptions) -> Result<(String, String), SqlError> {
        let catalog = match opts.catalog.as_deref().filter(|c| !c.is_empty()) {
            None => DEFAULT_CATALOG.to_string(),
            Some(c) => self
                .lake
                .find_catalog(c)
                .ok_or_else(|| SqlError::catalog_not_found(c, &self.lake.catalogs()))?,
        };
        let schema = match opts.schema.as_deref().filter(|s| !s.is_empty()) {
            None => DEFAULT_SCHEMA.to_string(),
            Some(s) => self
                .lake
                .find_schema(&catalog, s)
                .ok_or_else(|| SqlError::schema_not_found(&catalog, s))?,
        };
        Ok((catalog, schema))
    }

    async fn statement(
        &self,
        mut stmt: Statement,
        catalog: &str,
        schema: &str,
        opts: &ExecOptions,
    ) -> Result<QueryResult, SqlError> {
        match &stmt {
            Statement::Query(_) => {}
            Statement::Explain { statement, .. } => {
                if !matches!(**statement, Statement::Query(_)) {
                    return Err(SqlError::unsupported(
                        "EXPLAIN of a statement that is not a query",
                    ));
                }
            }
            Statement::Insert(_) | Statement::CreateTable(_) => {
                if !self.allow_writes {
                    return Err(SqlError::read_only(&statement_kind(&stmt)));
                }
            }
            Statement::Use(_) => return Ok(QueryResult::empty()),
            other => {
                let kind = statement_kind(other);
                return Err(if is_write(other) && !self.allow_writes {
                    SqlError::read_only(&kind)
                } else {
                    SqlError::unsupported(format_args!("the statement {kind}"))
                });
            }
        }
        let rctx = RewriteContext {
            params: opts.params.clone(),
            current_catalog: catalog.to_string(),
            current_schema: schema.to_string(),
            current_user: self.user.clone(),
            functions: crate::sqlfn::all(&self.lake),
        };
        let time_travel = dialect::rewrite(&mut stmt, &rctx)?;
        match stmt {
            Statement::Insert(insert) => self.insert(insert, catalog, schema, &rctx).await,
            Statement::CreateTable(ct) => self.create_table(ct, catalog, schema).await,
            other => {
                let (state, _) = self.prepare(&other, catalog, schema, &time_travel).await?;
                self.run(state, other, opts).await
            }
        }
    }

    /// A session for one statement with every referenced table registered.
    async fn prepare(
        &self,
        stmt: &Statement,
        catalog: &str,
        schema: &str,
        time_travel: &[dialect::TimeTravelRef],
    ) -> Result<(SessionState, Arc<MemoryCatalogProviderList>), SqlError> {
        let list = Arc::new(MemoryCatalogProviderList::new());
        let mut config = self.base.state().config().clone();
        config = config.with_default_catalog_and_schema(catalog, schema);
        let mut state = SessionStateBuilder::new_from_existing(self.base.state())
            .with_config(config)
            .with_catalog_list(list.clone() as Arc<dyn CatalogProviderList>)
            .build();
        // Re-register ours last: rebuilding the function map from DataFusion's may otherwise
        // let one of its aliases (`date_format` of `to_char`) win.
        for f in &self.udfs {
            let _ = datafusion::execution::FunctionRegistry::register_udf(&mut state, f.clone());
        }
        for tt in time_travel {
            let (c, s, t) = qualify(&tt.parts, catalog, schema)?;
            let loc = self.lake.locate(&c, &s, &t)?;
            if loc.format != Format::Delta {
                return Err(SqlError::unsupported(format_args!(
                    "time travel on {} table {}: only Delta tables have versions",
                    loc.format.name(),
                    loc.quoted()
                )));
            }
            let version = match &tt.spec {
                VersionSpec::Version(v) => check_version(&loc, *v)?,
                VersionSpec::Timestamp(e) => self.version_at(&loc, e).await?,
            };
            let provider = self.lake.provider(&loc, Some(version)).await?;
            register(
                &list,
                TIME_TRAVEL_CATALOG,
                TIME_TRAVEL_SCHEMA,
                &tt.synthetic,
                provider,
            );
        }
        let df_stmt = DFStatement::Statement(Box::new(stmt.clone()));
        let refs = state
            .resolve_table_references(&df_stmt)
            .map_err(|e| map_df_error(&e))?;
        for r in refs {
            let resolved = r.clone().resolve(catalog, schema);
            let (c, s, t) = (
                resolved.catalog.to_string(),
                resolved.schema.to_string(),
                resolved.table.to_string(),
            );
            if c == TIME_TRAVEL_CATALOG {
                continue;
            }
            if matches!(r, TableReference::Bare { .. })
                && state.table_functions().contains_key(t.as_str())
            {
                continue;
            }
            let provider = self.resolve_provider(&r, &c, &s, &t).await?;
            register(&list, &c, &s, &t, provider);
        }
        Ok((state, list))
    }

    async fn resolve_provider(
        &self,
        r: &TableReference,
        c: &str,
        s: &str,
        t: &str,
    ) -> Result<Arc<dyn TableProvider>, SqlError> {
        if s.eq_ignore_ascii_case(INFORMATION_SCHEMA) {
            let Some(cat) = self.lake.find_catalog(c) else {
                return Err(SqlError::table_not_found(
                    &lakehouse::quoted3(c, s, t),
                    &format!("Catalog `{c}` does not exist."),
                ));
            };
            let scope = if cat == SYSTEM {
                None
            } else {
                Some(cat.as_str())
            };
            let batch = info_schema::view(&self.lake, scope, &t.to_ascii_lowercase())
                .await
                .ok_or_else(|| {
                    SqlError::table_not_found(
                        &lakehouse::quoted3(&cat, INFORMATION_SCHEMA, t),
                        "information_schema has: catalogs, schemata, tables, columns, volumes.",
                    )
                })??;
            let table = MemTable::try_new(batch.schema(), vec![vec![batch]])
                .map_err(|e| SqlError::internal(e.to_string()))?;
            return Ok(Arc::new(table));
        }
        let _ = r;
        let loc = self.lake.locate(c, s, t)?;
        self.lake.provider(&loc, None).await
    }

    /// Plans (read-only) and runs a query statement.
    async fn run(
        &self,
        state: SessionState,
        stmt: Statement,
        opts: &ExecOptions,
    ) -> Result<QueryResult, SqlError> {
        let plan = state
            .statement_to_plan(DFStatement::Statement(Box::new(stmt)))
            .await
            .map_err(|e| map_df_error(&e))?;
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(|e| SqlError::unsupported(format_args!("this statement ({e})")))?;
        let df = DataFrame::new(state, plan);
        collect(df, opts.row_limit, opts.byte_limit).await
    }

    /// The latest version whose commit is at or before the timestamp expression.
    async fn version_at(
        &self,
        loc: &TableLoc,
        ts: &datafusion::sql::sqlparser::ast::Expr,
    ) -> Result<i64, SqlError> {
        let sql = format!("SELECT CAST({ts} AS TIMESTAMP) AS ts");
        let invalid = |detail: String| {
            SqlError::new(
                "INVALID_TIME_TRAVEL_TIMESTAMP_EXPR",
                "42K0E",
                format!("The time travel timestamp expression `{ts}` is invalid: {detail}"),
            )
        };
        let df = self
            .base
            .sql(&sql)
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let batches = df.collect().await.map_err(|e| invalid(e.to_string()))?;
        let micros = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .and_then(|b| {
                let c = cast(
                    b.column(0),
                    &DataType::Timestamp(TimeUnit::Microsecond, None),
                )
                .ok()?;
                let a = c.as_any().downcast_ref::<TimestampMicrosecondArray>()?;
                (!a.is_null(0)).then(|| a.value(0))
            })
            .ok_or_else(|| invalid("it is NULL".into()))?;
        let ms = micros.div_euclid(1000);
        let commits = lakehouse::commits(&loc.path);
        let fmt = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
                .unwrap_or_else(|| ms.to_string())
        };
        let (Some(first), Some(last)) = (commits.first(), commits.last()) else {
            return Err(SqlError::new(
                "DELTA_NO_COMMITS_FOUND",
                "KD006",
                format!("No commits found in the Delta log of {}.", loc.quoted()),
            ));
        };
        if ms < first.timestamp {
            return Err(SqlError::new(
                "DELTA_TIMESTAMP_EARLIER_THAN_COMMIT_RETENTION",
                "42816",
                format!(
                    "The provided timestamp ({}) is before the earliest version available to {} ({}). Please use a timestamp after {}.",
                    fmt(ms),
                    loc.quoted(),
                    fmt(first.timestamp),
                    fmt(first.timestamp)
                ),
            ));
        }
        if ms > last.timestamp.max(crate::layout::now_ms()) {
            return Err(SqlError::new(
                "DELTA_TIMESTAMP_GREATER_THAN_COMMIT",
                "42816",
                format!(
                    "The provided timestamp ({}) is after the latest version available to {} ({}). Please use a timestamp before or at {}.",
                    fmt(ms),
                    loc.quoted(),
                    fmt(last.timestamp),
                    fmt(last.timestamp)
                ),
            ));
        }
        Ok(commits
            .iter()
            .filter(|c| c.timestamp <= ms)
            .map(|c| c.version)
            .max()
            .unwrap_or(first.version))
    }

    async fn command(
        &self,
        cmd: Command,
        catalog: &str,
        schema: &str,
    ) -> Result<QueryResult, SqlError> {
        commands::run(self, cmd, catalog, schema).await
    }

    /// Runs a query AST (the source of a CTAS or INSERT) to batches.
    async fn query_batches(
        &self,
        query: Box<datafusion::sql::sqlparser::ast::Query>,
        catalog: &str,
        schema: &str,
        rctx: &RewriteContext,
    ) -> Result<QueryResult, SqlError> {
        let mut stmt = Statement::Query(query);
        let tt = dialect::rewrite(&mut stmt, rctx)?;
        let (state, _) = self.prepare(&stmt, catalog, schema, &tt).await?;
        self.run(state, stmt, &ExecOptions::default()).await
    }

    async fn create_table(
        &self,
        ct: CreateTable,
        catalog: &str,
        schema: &str,
    ) -> Result<QueryResult, SqlError> {
        if ct.external || ct.temporary {
            return Err(SqlError::unsupported(
                "CREATE EXTERNAL or TEMPORARY TABLE (create a managed Delta table instead)",
            ));
        }
        let (c, s, t) = qualify(&dialect::name_parts(&ct.name), catalog, schema)?;
        let target = self.target(&c, &s, &t)?;
        let exists = target.path.exists();
        if exists && ct.if_not_exists {
            return Ok(QueryResult::empty());
        }
        if exists && !ct.or_replace {
            return Err(SqlError::new(
                "TABLE_OR_VIEW_ALREADY_EXISTS",
                "42P07",
                format!(
                    "Cannot create table or view {} because it already exists. Choose a different name, drop the existing object, add the IF NOT EXISTS clause to tolerate pre-existing objects, or add the OR REPLACE clause to replace it.",
                    target.quoted()
                ),
            ));
        }
        use datafusion::sql::sqlparser::ast::{CommentDef, CreateTableOptions, SqlOption};
        let option_comment = match &ct.table_options {
            CreateTableOptions::Plain(o)
            | CreateTableOptions::With(o)
            | CreateTableOptions::Options(o)
            | CreateTableOptions::TableProperties(o) => o.iter().find_map(|o| match o {
                SqlOption::Comment(c) => Some(c.clone()),
                _ => None,
            }),
            CreateTableOptions::None => None,
        };
        let comment = ct.comment.clone().or(option_comment).map(|c| match c {
            CommentDef::WithEq(s) | CommentDef::WithoutEq(s) => s,
        });
        let rctx = RewriteContext {
            current_catalog: catalog.to_string(),
            current_schema: schema.to_string(),
            current_user: self.user.clone(),
            functions: crate::sqlfn::all(&self.lake),
            ..Default::default()
        };
        let (data, rows) = if let Some(q) = ct.query {
            let r = self.query_batches(q, catalog, schema, &rctx).await?;
            let rows = r.batch.num_rows();
            (r.batch, rows)
        } else {
            if ct.columns.is_empty() {
                return Err(SqlError::parse(
                    "Syntax error: CREATE TABLE needs a column list or AS SELECT.",
                ));
            }
            let cols = ct
                .columns
                .iter()
                .map(|c| {
                    format!(
                        "CAST(NULL AS {}) AS `{}`",
                        c.data_type,
                        c.name.value.replace('`', "``")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let df = self
                .base
                .sql(&format!("SELECT {cols} WHERE false"))
                .await
                .map_err(|e| map_df_error(&e))?;
            let schema_ref: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let mut fields: Vec<Field> = Vec::new();
            for (f, def) in schema_ref.fields().iter().zip(&ct.columns) {
                let mut field = f.as_ref().clone().with_nullable(true);
                let comment = def.options.iter().find_map(|o| match &o.option {
                    datafusion::sql::sqlparser::ast::ColumnOption::Comment(c) => Some(c.clone()),
                    _ => None,
                });
                if let Some(c) = comment {
                    field = field.with_metadata(HashMap::from([("comment".to_string(), c)]));
                }
                fields.push(field);
            }
            (RecordBatch::new_empty(Arc::new(Schema::new(fields))), 0)
        };
        let mode = if exists {
            deltalake::protocol::SaveMode::Overwrite
        } else {
            deltalake::protocol::SaveMode::ErrorIfExists
        };
        crate::delta::write(&target.path, vec![data], mode, comment.as_deref(), exists)
            .await
            .map_err(|e| write_failed(&target, &e))?;
        Ok(affected(rows))
    }

    async fn insert(
        &self,
        insert: Insert,
        catalog: &str,
        schema: &str,
        rctx: &RewriteContext,
    ) -> Result<QueryResult, SqlError> {
        let TableObject::TableName(name) = &insert.table else {
            return Err(SqlError::unsupported("INSERT INTO a table function"));
        };
        let (c, s, t) = qualify(&dialect::name_parts(name), catalog, schema)?;
        let loc = self.lake.locate(&c, &s, &t)?;
        if loc.format != Format::Delta {
            return Err(SqlError::unsupported(format_args!(
                "INSERT into {} table {}: only Delta tables accept writes",
                loc.format.name(),
                loc.quoted()
            )));
        }
        let Some(source) = insert.source else {
            return Err(SqlError::unsupported("INSERT without a query or VALUES"));
        };
        let details = self.lake.details(&loc).await?;
        let src = self.query_batches(source, catalog, schema, rctx).await?;
        let target_schema = details.schema.clone();
        let columns: Vec<String> = insert
            .columns
            .iter()
            .filter_map(|c| dialect::name_parts(c).pop())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let batch = conform(&src.batch, &target_schema, &columns, &loc)?;
        let rows = batch.num_rows();
        let mode = if insert.overwrite {
            deltalake::protocol::SaveMode::Overwrite
        } else {
            deltalake::protocol::SaveMode::Append
        };
        crate::delta::write(&loc.path, vec![batch], mode, None, true)
            .await
            .map_err(|e| write_failed(&loc, &e))?;
        Ok(affected(rows))
    }

    fn create_function(
        &self,
        create: crate::sqlfn::Create,
        catalog: &str,
        schema: &str,
    ) -> Result<QueryResult, SqlError> {
        if !self.allow_writes {
            return Err(SqlError::read_only("CREATE FUNCTION"));
        }
        let (c, s, name) = qualify(&create.name, catalog, schema)?;
        let target = self.target(&c, &s, &name)?;
        let existing = crate::sqlfn::list(&self.lake, &target.catalog, &target.schema)
            .into_iter()
            .any(|f| f.name.eq_ignore_ascii_case(&name));
        if existing && create.if_not_exists {
            return Ok(QueryResult::empty());
        }
        if existing && !create.or_replace {
            return Err(SqlError::new(
                "ROUTINE_ALREADY_EXISTS",
                "42723",
                format!(
                    "Cannot create the routine `{}`.`{}`.`{name}` because it already exists. Choose a different name, drop or replace the existing routine, or add the IF NOT EXISTS clause to tolerate a pre-existing routine.",
                    target.catalog, target.schema
                ),
            ));
        }
        crate::sqlfn::save(
            &self.lake,
            &target.catalog,
            &target.schema,
            &name,
            &create.def,
        )?;
        Ok(QueryResult::empty())
    }

    fn drop_function(
        &self,
        if_exists: bool,
        name: &[String],
        catalog: &str,
        schema: &str,
    ) -> Result<QueryResult, SqlError> {
        if !self.allow_writes {
            return Err(SqlError::read_only("DROP FUNCTION"));
        }
        let (c, s, n) = qualify(name, catalog, schema)?;
        let found = self
            .lake
            .find_catalog(&c)
            .and_then(|c| self.lake.find_schema(&c, &s).map(|s| (c, s)))
            .and_then(|(c, s)| {
                crate::sqlfn::list(&self.lake, &c, &s)
                    .into_iter()
                    .find(|f| f.name.eq_ignore_ascii_case(&n))
            });
        match found {
            Some(f) => std::fs::remove_file(&f.path)
                .map(|()| QueryResult::empty())
                .map_err(|e| SqlError::internal(format!("{}: {e}", f.path.display()))),
            None if if_exists => Ok(QueryResult::empty()),
            None => Err(SqlError::new(
                "ROUTINE_NOT_FOUND",
                "42883",
                format!("The routine `{c}`.`{s}`.`{n}` cannot be found."),
            )),
        }
    }

    /// Where a new table would go; the catalog and schema must exist.
    fn target(&self, c: &str, s: &str, t: &str) -> Result<TableLoc, SqlError> {
        let cat = self
            .lake
            .find_catalog(c)
            .filter(|c| c != SYSTEM)
            .ok_or_else(|| SqlError::catalog_not_found(c, &self.lake.catalogs()))?;
        let sch = self
            .lake
            .find_schema(&cat, s)
            .filter(|s| s != INFORMATION_SCHEMA)
            .ok_or_else(|| SqlError::schema_not_found(&cat, s))?;
        if !crate::layout::valid_segment(t) || crate::layout::hidden(t) {
            return Err(SqlError::new(
                "INVALID_IDENTIFIER",
                "42602",
                format!("The identifier `{t}` is not a valid table name."),
            ));
        }
        let dir = self.lake.schema_dir(&cat, &sch);
        let name = crate::layout::find_dir(&dir, t).unwrap_or_else(|| t.to_ascii_lowercase());
        Ok(TableLoc {
            path: dir.join(&name),
            catalog: cat,
            schema: sch,
            name,
            format: Format::Delta,
        })
    }

    /// What a statement that ran wrote and which tables it read to do so: `CREATE TABLE …
    /// AS`, `INSERT INTO … SELECT`, `MERGE INTO … USING` and `CREATE [OR REPLACE] VIEW …
    /// AS`, with canonical names. `None` for other statements and for writes that read no
    /// table (`VALUES`). Reads the text again rather than keeping the executed AST: the
    /// engine rewrites that (time travel, parameters) into names of its own.
    pub fn lineage_of(&self, sql: &str, opts: &ExecOptions) -> Option<Written> {
        let (catalog, schema) = self.defaults(opts).ok()?;
        let mut statements = match dialect::parse_statements(sql) {
            Ok(s) => s,
            Err(_) => dialect::parse_statements(&strip_using(sql).ok()??).ok()?,
        };
        if statements.len() != 1 {
            return None;
        }
        let (target, reading) = match statements.remove(0) {
            Statement::CreateTable(ct) => (ct.name, Statement::Query(ct.query?)),
            Statement::Insert(insert) => match insert.table {
                TableObject::TableName(name) => (name, Statement::Query(insert.source?)),
                _ => return None,
            },
            Statement::CreateView(view) => (view.name, Statement::Query(view.query)),
            Statement::Merge(merge) => {
                let TableFactor::Table { name, .. } = merge.table else {
                    return None;
                };
                let source = format!("SELECT * FROM {}", merge.source);
                (name, dialect::parse_statements(&source).ok()?.pop()?)
            }
            _ => return None,
        };
        let (c, s, t) = qualify(&dialect::name_parts(&target), &catalog, &schema).ok()?;
        // A view is not on disk: it keeps the name it was written with.
        let target = match self.lake.locate(&c, &s, &t) {
            Ok(loc) => TableName::of(&loc),
            Err(_) => TableName {
                catalog: c,
                schema: s,
                name: t,
            },
        };
        let sources: Vec<TableName> = self
            .tables_read(&reading, &catalog, &schema)
            .into_iter()
            .filter(|s| !s.same(&target))
            .collect();
        (!sources.is_empty()).then_some(Written { target, sources })
    }

    /// The tables of the lakehouse a query names, once each (CTEs and table functions are
    /// not tables; `information_schema` is left out).
    pub fn tables_read_by(&self, query: &str, catalog: &str, schema: &str) -> Vec<TableName> {
        match dialect::parse_statements(query) {
            Ok(statements) => statements
                .iter()
                .flat_map(|s| self.tables_read(s, catalog, schema))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn tables_read(&self, stmt: &Statement, catalog: &str, schema: &str) -> Vec<TableName> {
        let statement = DFStatement::Statement(Box::new(stmt.clone()));
        let Ok(refs) = self.base.state().resolve_table_references(&statement) else {
            return Vec::new();
        };
        let mut out: Vec<TableName> = Vec::new();
        for r in refs {
            let resolved = r.resolve(catalog, schema);
            if resolved.schema.eq_ignore_ascii_case(INFORMATION_SCHEMA) {
                continue;
            }
            let Ok(loc) = self
                .lake
                .locate(&resolved.catalog, &resolved.schema, &resolved.table)
            else {
                continue;
            };
            let name = TableName::of(&loc);
            if !out.iter().any(|n| n.same(&name)) {
                out.push(name);
            }
        }
        out
    }

    /// Runs a query and returns its batches (for pipelines, vector search, jobs).
    pub async fn query(&self, sql: &str) -> Result<QueryResult, SqlError> {
        self.execute(sql, &ExecOptions::default()).await
    }

    /// Runs a DataFrame built by the caller against a registered table.
    pub async fn table_frame(&self, loc: &TableLoc) -> Result<DataFrame, SqlError> {
        let provider = self.lake.provider(loc, None).await?;
        self.base.read_table(provider).map_err(|e| map_df_error(&e))
    }
}

/// `CREATE TABLE ... USING DELTA ...`, which sqlparser does not parse: the clause is
/// dropped (tables are Delta anyway); other formats are refused.
fn strip_using(sql: &str) -> Result<Option<String>, SqlError> {
    let create = regex::Regex::new(r"(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?TABLE\b")
        .map_err(|e| SqlError::internal(e.to_string()))?;
    if !create.is_match(sql) {
        return Ok(None);
    }
    let using = regex::Regex::new(r"(?i)\bUSING\s+([A-Za-z_][A-Za-z0-9_]*)")
        .map_err(|e| SqlError::internal(e.to_string()))?;
    let Some(c) = using.captures(sql) else {
        return Ok(None);
    };
    let format = c.get(1).map(|m| m.as_str()).unwrap_or("");
    if !format.eq_ignore_ascii_case("delta") {
        return Err(SqlError::unsupported(format_args!(
            "CREATE TABLE ... USING {format}: the local workspace creates Delta tables only"
        )));
    }
    Ok(Some(using.replace(sql, "").into_owned()))
}

fn affected(rows: usize) -> QueryResult {
    let n = i64::try_from(rows).unwrap_or(i64::MAX);
    let schema = Arc::new(Schema::new(vec![
        Field::new("num_affected_rows", DataType::Int64, true),
        Field::new("num_inserted_rows", DataType::Int64, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![n])),
        Arc::new(Int64Array::from(vec![n])),
    ];
    match RecordBatch::try_new(schema.clone(), cols) {
        Ok(batch) => QueryResult {
            schema,
            batch,
            truncated: false,
        },
        Err(_) => QueryResult::empty(),
    }
}

fn write_failed(loc: &TableLoc, e: &str) -> SqlError {
    SqlError::new(
        "DELTA_WRITE_FAILED",
        "58030",
        format!("Writing to Delta table {} failed: {e}", loc.quoted()),
    )
}

/// Casts the source batch to the table's schema (by position, or by the INSERT column list).
fn conform(
    src: &RecordBatch,
    target: &SchemaRef,
    columns: &[String],
    loc: &TableLoc,
) -> Result<RecordBatch, SqlError> {
    let mismatch = |detail: String| {
        SqlError::new(
            "INSERT_COLUMN_ARITY_MISMATCH",
            "21S01",
            format!("Cannot write to {}: {detail}", loc.quoted()),
        )
    };
    let n = src.num_columns();
    let mut out: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
    if columns.is_empty() {
        if n != target.fields().len() {
            return Err(mismatch(format!(
                "the table has {} columns but the data to insert has {n}.",
                target.fields().len()
            )));
        }
    } else if columns.len() != n {
        return Err(mismatch(format!(
            "{} columns are listed but the data to insert has {n}.",
            columns.len()
        )));
    }
    for (i, f) in target.fields().iter().enumerate() {
        let source = if columns.is_empty() {
            Some(src.column(i).clone())
        } else {
            columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(f.name()))
                .map(|j| src.column(j).clone())
        };
        let arr = match source {
            Some(a) => cast(&a, f.data_type()).map_err(|e| {
                SqlError::new(
                    "CAST_INVALID_INPUT",
                    "22018",
                    format!(
                        "Cannot cast the value for column `{}` to {}: {e}",
                        f.name(),
                        crate::types::db_type(f.data_type()).type_text
                    ),
                )
            })?,
            None => datafusion::arrow::array::new_null_array(f.data_type(), src.num_rows()),
        };
        out.push(arr);
    }
    let schema = Arc::new(Schema::new(
        target
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(schema, out).map_err(|e| SqlError::internal(e.to_string()))
}

/// Qualifies a 1-, 2- or 3-part name.
pub(crate) fn qualify(
    parts: &[String],
    catalog: &str,
    schema: &str,
) -> Result<(String, String, String), SqlError> {
    match parts {
        [t] => Ok((catalog.to_string(), schema.to_string(), t.clone())),
        [s, t] => Ok((catalog.to_string(), s.clone(), t.clone())),
        [c, s, t] => Ok((c.clone(), s.clone(), t.clone())),
        _ => Err(SqlError::new(
            "REQUIRES_SINGLE_PART_NAMESPACE",
            "42K05",
            format!(
                "`{}` is not a valid table name: use catalog.schema.table.",
                parts.join(".")
            ),
        )),
    }
}

fn check_version(loc: &TableLoc, v: i64) -> Result<i64, SqlError> {
    let commits = lakehouse::commits(&loc.path);
    let latest = commits.last().map(|c| c.version).unwrap_or(-1);
    let earliest = commits.first().map(|c| c.version).unwrap_or(0);
    if v > latest || v < earliest {
        return Err(SqlError::new(
            "DELTA_VERSION_NOT_FOUND",
            "22003",
            format!(
                "Cannot time travel Delta table {} to version {v}. Available versions: [{earliest}, {latest}].",
                loc.quoted()
            ),
        ));
    }
    Ok(v)
}

fn register(
    list: &MemoryCatalogProviderList,
    c: &str,
    s: &str,
    t: &str,
    provider: Arc<dyn TableProvider>,
) {
    let cat = match list.catalog(c) {
        Some(cat) => cat,
        None => {
            let cat: Arc<dyn CatalogProvider> = Arc::new(MemoryCatalogProvider::new());
            list.register_catalog(c.to_string(), cat.clone());
            cat
        }
    };
    let sch = match cat.schema(s) {
        Some(sch) => sch,
        None => {
            let sch = Arc::new(MemorySchemaProvider::new());
            let _ = cat.register_schema(s, sch.clone());
            sch
        }
    };
    let _ = sch.register_table(t.to_string(), provider);
}

/// Executes a DataFrame, honouring row and byte limits.
pub(crate) async fn collect(
    df: DataFrame,
    row_limit: Option<usize>,
    byte_limit: Option<usize>,
) -> Result<QueryResult, SqlError> {
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let mut stream = df.execute_stream().await.map_err(|e| map_df_error(&e))?;
    let mut batches = Vec::new();
    let mut rows = 0usize;
    let mut bytes = 0usize;
    let mut truncated = false;
    while let Some(b) = stream.next().await {
        let b = b.map_err(|e| map_df_error(&e))?;
        let mut b = b;
        if let Some(limit) = row_limit
            && rows + b.num_rows() > limit
        {
            b = b.slice(0, limit - rows);
            truncated = true;
        }
        rows += b.num_rows();
        bytes += b.get_array_memory_size();
        batches.push(b);
        if truncated {
            break;
        }
        if let Some(limit) = byte_limit
            && bytes > limit
        {
            truncated = true;
            break;
        }
    }
    // A stream can report a schema that differs in metadata only; take the batches'.
    let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
    QueryResult::from_batches(schema, &batches, truncated)
}

fn statement_kind(s: &Statement) -> String {
    let text = s.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    match words.as_slice() {
        [a, b]
            if matches!(
                a.to_ascii_uppercase().as_str(),
                "CREATE" | "DROP" | "ALTER" | "INSERT" | "SHOW" | "TRUNCATE"
            ) =>
        {
            format!("{} {}", a.to_ascii_uppercase(), b.to_ascii_uppercase())
        }
        [a, ..] => a.to_ascii_uppercase(),
        [] => "statement".into(),
    }
}

fn is_write(s: &Statement) -> bool {
    !matches!(
        s,
        Statement::Query(_)
            | Statement::Explain { .. }
            | Statement::ExplainTable { .. }
            | Statement::ShowTables { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowCreate { .. }
            | Statement::ShowFunctions { .. }
            | Statement::ShowVariable { .. }
            | Statement::Use(_)
            | Statement::Set(_)
    )
}

/// Maps a DataFusion error to the Databricks error class it corresponds to.
pub(crate) fn map_df_error(e: &DataFusionError) -> SqlError {
    let root = e.find_root();
    match root {
        DataFusionError::SQL(p, _) => SqlError::parse(format!("Syntax error: {p}.")),
        DataFusionError::SchemaError(se, _) => match se.as_ref() {
            SchemaError::FieldNotFound {
                field,
                valid_fields,
            } => {
                let mut names: Vec<String> = valid_fields
                    .iter()
                    .map(|c| format!("`{}`", c.name))
                    .collect();
                names.dedup();
                names.truncate(10);
                SqlError::new(
                    "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                    "42703",
                    format!(
                        "A column, variable, or function parameter with name `{}` cannot be resolved. Did you mean one of the following? [{}].",
                        field.name,
                        names.join(", ")
                    ),
                )
            }
            SchemaError::AmbiguousReference { field } => SqlError::new(
                "AMBIGUOUS_REFERENCE",
                "42704",
                format!("Reference `{}` is ambiguous.", field.name),
            ),
            other => SqlError::new("LOCAL_ENGINE_ERROR", "42000", other.to_string()),
        },
        DataFusionError::NotImplemented(m) => SqlError::unsupported(format_args!("this SQL: {m}")),
        DataFusionError::External(inner) => {
            if let Some(se) = inner.downcast_ref::<SqlError>() {
                return se.clone();
            }
            SqlError::new("LOCAL_ENGINE_ERROR", "XX000", inner.to_string())
        }
        DataFusionError::ResourcesExhausted(m) => SqlError::new(
            "RESOURCE_EXHAUSTED",
            "53200",
            format!("The local engine ran out of resources: {m}"),
        ),
        other => {
            let msg = match other {
                DataFusionError::Plan(m)
                | DataFusionError::Execution(m)
                | DataFusionError::Internal(m) => m.clone(),
                DataFusionError::ArrowError(a, _) => a.to_string(),
                o => o.strip_backtrace(),
            };
            classify_message(&msg)
        }
    }
}

fn classify_message(msg: &str) -> SqlError {
    if let Some(rest) = msg.strip_prefix('[')
        && let Some((class, tail)) = rest.split_once(']')
        && !class.is_empty()
        && class
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c == '.')
    {
        let state = match class.split('.').next().unwrap_or(class) {
            "DIVIDE_BY_ZERO" => "22012",
            "WRONG_NUM_ARGS" => "42605",
            "DATATYPE_MISMATCH" => "42K09",
            "INVALID_PARAMETER_VALUE" => "22023",
            "CAST_INVALID_INPUT" => "22018",
            _ => "42000",
        };
        return SqlError::new(class, state, tail.trim());
    }
    let lower = msg.to_ascii_lowercase();
    if lower.contains("invalid function") {
        let name = msg.split('\'').nth(1).unwrap_or("?");
        return SqlError::new(
            "UNRESOLVED_ROUTINE",
            "42883",
            format!(
                "Cannot resolve routine `{name}` on search path [`system`.`builtin`]. Verify the spelling of `{name}`; the local engine (DataFusion) may not implement it. ({msg})"
            ),
        );
    }
    if lower.contains("divide by zero") || lower.contains("division by zero") {
        return SqlError::new(
            "DIVIDE_BY_ZERO",
            "22012",
            "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead.",
        );
    }
    if lower.contains("cast error") || lower.contains("cannot cast") || lower.contains("can't cast")
    {
        return SqlError::new("CAST_INVALID_INPUT", "22018", msg.to_string());
    }
    if lower.contains("no function matches")
        || lower.contains("coercion")
        || lower.contains("cannot infer common")
    {
        return SqlError::new("DATATYPE_MISMATCH", "42K09", msg.to_string());
    }
    if lower.contains("not found") && lower.contains("table") {
        return SqlError::table_not_found(msg, "");
    }
    SqlError::new(
        "LOCAL_ENGINE_ERROR",
        "42000",
        format!("The local engine (DataFusion) cannot run this statement: {msg}"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An engine over `main.default.{orders, customers}` (CSV tables).
    fn engine(dir: &std::path::Path) -> Engine {
        for table in ["orders", "customers"] {
            let t = dir.join("catalogs/main/default").join(table);
            std::fs::create_dir_all(&t).unwrap();
            std::fs::write(t.join("part.csv"), "id,name\n1,a\n").unwrap();
        }
        let layout = crate::layout::Layout::new(dir.to_path_buf());
        Engine::new(Lakehouse::new(layout), true, "me@localhost".into())
    }

    #[test]
    fn session_config_applies_the_tuned_options_the_environment_leaves_alone() {
        let options = session_config().options().clone();
        for (key, value) in TUNED {
            let variable = key.to_ascii_uppercase().replace('.', "_");
            if std::env::var_os(&variable).is_some() {
                continue;
            }
            let set = options
                .entries()
                .into_iter()
                .find(|e| e.key == key)
                .and_then(|e| e.value);
            assert_eq!(set.as_deref(), Some(value), "{key}");
        }
    }

    /// The target and the sorted sources.
    fn names(w: &Written) -> (String, Vec<String>) {
        let full = |t: &TableName| format!("{}.{}.{}", t.catalog, t.schema, t.name);
        let mut sources: Vec<String> = w.sources.iter().map(full).collect();
        sources.sort();
        (full(&w.target), sources)
    }

    #[test]
    fn writes_from_tables_have_lineage() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        let opts = ExecOptions::default();
        let of = |sql: &str| e.lineage_of(sql, &opts).map(|w| names(&w));
        let both = vec![
            "main.default.customers".to_string(),
            "main.default.orders".to_string(),
        ];
        let customers = vec!["main.default.customers".to_string()];
        assert_eq!(
            of(
                "CREATE TABLE report AS WITH c AS (SELECT * FROM Customers) SELECT * FROM main.default.ORDERS o JOIN c ON o.id = c.id"
            ),
            Some(("main.default.report".to_string(), both.clone()))
        );
        assert_eq!(
            of("INSERT INTO orders SELECT * FROM customers"),
            Some(("main.default.orders".to_string(), customers.clone()))
        );
        assert_eq!(
            of(
                "MERGE INTO orders t USING (SELECT * FROM customers) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name"
            ),
            Some(("main.default.orders".to_string(), customers))
        );
        assert_eq!(
            of(
                "CREATE OR REPLACE VIEW main.default.v AS SELECT * FROM orders UNION ALL SELECT * FROM customers"
            ),
            Some(("main.default.v".to_string(), both))
        );
        // Writes that read no (other) table, and reads, have none.
        assert_eq!(of("INSERT INTO orders VALUES (2, 'b')"), None);
        assert_eq!(of("INSERT INTO orders SELECT * FROM orders"), None);
        assert_eq!(of("SELECT * FROM orders"), None);
        assert_eq!(of("CREATE TABLE t AS SELECT * FROM nope"), None);
    }
}
