//! Sample content created on first use: `samples.tpch.*` (all eight TPC-H tables, generated
//! with tpchgen at the configured scale factor, written as Delta tables with table and
//! column comments) and a small starter workspace (a `main.default` schema, a volume, a SQL
//! notebook and a SQL file, a job, a pipeline, a documents table with a vector search index).
//!
//! Generation is deterministic (tpchgen is) and idempotent: each table is written to a
//! hidden temporary directory and renamed into place, and a marker records completion, so
//! an interrupted run resumes and a finished one is never redone.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float32Builder, Int64Array, ListBuilder, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::DeltaTable;
use deltalake::kernel::StructType;
use deltalake::kernel::engine::arrow_conversion::TryFromArrow;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use serde_json::json;

use crate::error::LocalError;
use crate::layout::{self, Layout};

const MARKER: &str = "_generated.json";
const WORKSPACE_MARKER: &str = ".local-workspace.json";

struct Spec {
    name: &'static str,
    comment: &'static str,
    /// Rows at scale factor 1 (`None` = fixed size).
    rows_at_sf1: f64,
    columns: &'static [(&'static str, &'static str)],
}

const TABLES: [Spec; 8] = [
    Spec {
        name: "region",
        comment: "TPC-H REGION: the 5 regions of the world.",
        rows_at_sf1: 5.0,
        columns: &[
            ("r_regionkey", "Region key (primary key)."),
            ("r_name", "Region name."),
            ("r_comment", "Free-text comment."),
        ],
    },
    Spec {
        name: "nation",
        comment: "TPC-H NATION: the 25 nations, each in a region.",
        rows_at_sf1: 25.0,
        columns: &[
            ("n_nationkey", "Nation key (primary key)."),
            ("n_name", "Nation name."),
            (
                "n_regionkey",
                "Region of the nation (foreign key to region.r_regionkey).",
            ),
            ("n_comment", "Free-text comment."),
        ],
    },
    Spec {
        name: "supplier",
        comment: "TPC-H SUPPLIER: suppliers of parts (10,000 x scale factor).",
        rows_at_sf1: 10_000.0,
        columns: &[
            ("s_suppkey", "Supplier key (primary key)."),
            ("s_name", "Supplier name."),
            ("s_address", "Supplier address."),
            (
                "s_nationkey",
                "Nation of the supplier (foreign key to nation.n_nationkey).",
            ),
            ("s_phone", "Phone number."),
            ("s_acctbal", "Account balance."),
            ("s_comment", "Free-text comment."),
        ],
    },
    Spec {
        name: "customer",
        comment: "TPC-H CUSTOMER: customers (150,000 x scale factor).",
        rows_at_sf1: 150_000.0,
        columns: &[
            ("c_custkey", "Customer key (primary key)."),
            ("c_name", "Customer name."),
            ("c_address", "Customer address."),
            (
                "c_nationkey",
                "Nation of the customer (foreign key to nation.n_nationkey).",
            ),
            ("c_phone", "Phone number."),
            ("c_acctbal", "Account balance."),
            (
                "c_mktsegment",
                "Market segment (AUTOMOBILE, BUILDING, FURNITURE, HOUSEHOLD, MACHINERY).",
            ),
            ("c_comment", "Free-text comment."),
        ],
    },
    Spec {
        name: "part",
        comment: "TPC-H PART: parts sold (200,000 x scale factor).",
        rows_at_sf1: 200_000.0,
        columns: &[
            ("p_partkey", "Part key (primary key)."),
            ("p_name", "Part name."),
            ("p_mfgr", "Manufacturer."),
            ("p_brand", "Brand."),
            ("p_type", "Part type."),
            ("p_size", "Part size."),
            ("p_container", "Container."),
            ("p_retailprice", "Retail price."),
            ("p_comment", "Free-text comment."),
        ],
    },
    Spec {
        name: "partsupp",
        comment: "TPC-H PARTSUPP: which supplier supplies which part, at what cost (800,000 x scale factor).",
        rows_at_sf1: 800_000.0,
        columns: &[
            ("ps_partkey", "Part (foreign key to part.p_partkey)."),
            (
                "ps_suppkey",
                "Supplier (foreign key to supplier.s_suppkey).",
            ),
            ("ps_availqty", "Available quantity."),
            ("ps_supplycost", "Supply cost."),
            ("ps_comment", "Free-text comment."),
        ],
    },
    Spec {
        name: "orders",
        comment: "TPC-H ORDERS: customer orders (1,500,000 x scale factor).",
        rows_at_sf1: 1_500_000.0,
        columns: &[
            ("o_orderkey", "Order key (primary key)."),
            ("o_custkey", "Customer (foreign key to customer.c_custkey)."),
            (
                "o_orderstatus",
                "Order status: F (fulfilled), O (open), P (partial).",
            ),
            ("o_totalprice", "Total price of the order."),
            ("o_orderdate", "Date the order was placed."),
            ("o_orderpriority", "Priority (1-URGENT ... 5-LOW)."),
            ("o_clerk", "Clerk who took the order."),
            ("o_shippriority", "Shipping priority."),
            ("o_comment", "Free-text comment."),
        ],
    },
    Spec {
        name: "lineitem",
        comment: "TPC-H LINEITEM: the lines of each order (about 6,000,000 x scale factor).",
        rows_at_sf1: 6_001_215.0,
        columns: &[
            ("l_orderkey", "Order (foreign key to orders.o_orderkey)."),
            ("l_partkey", "Part (foreign key to part.p_partkey)."),
            ("l_suppkey", "Supplier (foreign key to supplier.s_suppkey)."),
            ("l_linenumber", "Line number within the order."),
            ("l_quantity", "Quantity ordered."),
            ("l_extendedprice", "Extended price (quantity x part price)."),
            ("l_discount", "Discount, a fraction between 0.00 and 0.10."),
            ("l_tax", "Tax, a fraction between 0.00 and 0.08."),
            (
                "l_returnflag",
                "Return flag: R (returned), A (accepted), N (none).",
            ),
            ("l_linestatus", "Line status: O (open), F (fulfilled)."),
            ("l_shipdate", "Ship date."),
            ("l_commitdate", "Commit date."),
            ("l_receiptdate", "Receipt date."),
            ("l_shipinstruct", "Shipping instructions."),
            ("l_shipmode", "Ship mode (AIR, MAIL, SHIP, TRUCK, ...)."),
            ("l_comment", "Free-text comment."),
        ],
    },
];

type BatchIter =
    Box<dyn Iterator<Item = Result<RecordBatch, datafusion::arrow::error::ArrowError>> + Send>;

fn generator(name: &str, sf: f64) -> Option<BatchIter> {
    use tpchgen::generators::*;
    use tpchgen_arrow::*;
    Some(match name {
        "region" => Box::new(RegionArrow::new(RegionGenerator::new(sf, 1, 1))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(sf, 1, 1))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(sf, 1, 1))),
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(sf, 1, 1))),
        "part" => Box::new(PartArrow::new(PartGenerator::new(sf, 1, 1))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(sf, 1, 1))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(sf, 1, 1))),
        "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(sf, 1, 1))),
        _ => return None,
    })
}

fn generator_schema(name: &str) -> Option<SchemaRef> {
    use tpchgen_arrow::*;
    Some(match name {
        "region" => RegionArrow::schema_ref(),
        "nation" => NationArrow::schema_ref(),
        "supplier" => SupplierArrow::schema_ref(),
        "customer" => CustomerArrow::schema_ref(),
        "part" => PartArrow::schema_ref(),
        "partsupp" => PartSuppArrow::schema_ref(),
        "orders" => OrderArrow::schema_ref(),
        "lineitem" => LineItemArrow::schema_ref(),
        _ => return None,
    })
}

/// Progress on stderr (only when it is a terminal).
struct Progress {
    on: bool,
    total: f64,
    done: f64,
    last: std::time::Instant,
}

impl Progress {
    fn new(on: bool, total: f64) -> Progress {
        let on = on && std::io::stderr().is_terminal();
        Progress {
            on,
            total: total.max(1.0),
            done: 0.0,
            last: std::time::Instant::now(),
        }
    }
    fn add(&mut self, rows: usize, table: &str, sf: f64) {
        self.done += rows as f64;
        if !self.on || self.last.elapsed().as_millis() < 100 {
            return;
        }
        self.last = std::time::Instant::now();
        let pct = (self.done / self.total * 100.0).min(100.0);
        let width = 30usize;
        let filled = ((pct / 100.0) * width as f64) as usize;
        let bar: String = "#".repeat(filled) + &" ".repeat(width - filled.min(width));
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\rCreating samples.tpch (scale factor {sf}): [{bar}] {pct:5.1}% {table:<10}"
        );
        let _ = err.flush();
    }
    fn finish(&self, sf: f64) {
        if self.on {
            let _ = writeln!(
                std::io::stderr(),
                "\rCreated samples.tpch (scale factor {sf}).{:<60}",
                ""
            );
        }
    }
}

/// Creates `samples.tpch` unless it is already complete.
/// Whether `samples.tpch` is complete, generated in the background after the workspace
/// opened (a fresh directory takes seconds at scale factor 0.1, minutes at 1): requests
/// that need it meanwhile are told to retry.
pub(crate) struct SamplesStatus {
    state: std::sync::Mutex<SamplesState>,
}

#[derive(Debug, Clone)]
enum SamplesState {
    Ready,
    Generating {
        started: std::time::Instant,
        sf: f64,
    },
    Failed(String),
}

impl SamplesStatus {
    pub(crate) fn ready() -> SamplesStatus {
        SamplesStatus {
            state: std::sync::Mutex::new(SamplesState::Ready),
        }
    }

    fn set(&self, state: SamplesState) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
    }

    /// `None` when the samples can be read; otherwise whether it is worth retrying (still
    /// generating) and what to say.
    pub(crate) fn unavailable(&self) -> Option<(bool, String)> {
        let state = self
            .state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(SamplesState::Ready);
        match state {
            SamplesState::Ready => None,
            SamplesState::Generating { started, sf } => Some((
                true,
                format!(
                    "samples.tpch is being generated (TPC-H scale factor {sf}, started {} s ago; \
                     about {} s at this scale on first use). Retry shortly.",
                    started.elapsed().as_secs(),
                    // Measured here: about 5 s at 0.1 and ten times that at 1.
                    ((sf * 50.0).ceil() as u64).max(1)
                ),
            )),
            SamplesState::Failed(why) => {
                Some((false, format!("samples.tpch could not be generated: {why}")))
            }
        }
    }

    /// Whether the samples are ready (for `doctor` and tests).
    pub(crate) fn is_ready(&self) -> bool {
        self.unavailable().is_none()
    }
}

/// Whether `samples.tpch` was completely generated before.
pub(crate) fn tpch_ready(layout: &Layout) -> bool {
    layout
        .catalogs()
        .join("samples")
        .join("tpch")
        .join(MARKER)
        .is_file()
}

/// Generates `samples.tpch` on a thread of its own (the work is CPU-bound and must not hold
/// a runtime worker the API needs), updating `status` when done.
pub(crate) fn generate_tpch_in_background(
    layout: Layout,
    sf: f64,
    progress: bool,
    status: std::sync::Arc<SamplesStatus>,
) {
    status.set(SamplesState::Generating {
        started: std::time::Instant::now(),
        sf,
    });
    std::thread::spawn(move || {
        let outcome = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|runtime| {
                runtime
                    .block_on(ensure_tpch(&layout, sf, progress))
                    .map_err(|e| e.to_string())
            });
        match outcome {
            Ok(()) => status.set(SamplesState::Ready),
            Err(why) => {
                tracing::error!("samples.tpch could not be generated: {why}");
                status.set(SamplesState::Failed(why));
            }
        }
    });
}

pub(crate) async fn ensure_tpch(
    layout: &Layout,
    sf: f64,
    progress: bool,
) -> Result<(), LocalError> {
    let catalog = layout.catalogs().join("samples");
    let dir = catalog.join("tpch");
    let marker = dir.join(MARKER);
    if marker.is_file() {
        if let Ok(text) = std::fs::read_to_string(&marker)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(existing) = v.get("scale_factor").and_then(|s| s.as_f64())
            && (existing - sf).abs() > f64::EPSILON
        {
            tracing::info!(
                "samples.tpch already exists at scale factor {existing}; keeping it (delete {} to regenerate at {sf})",
                dir.display()
            );
        }
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| LocalError::io(&dir, e))?;
    write_if_missing(
        &catalog.join(crate::lakehouse::COMMENT_FILE),
        "Sample data generated locally (TPC-H with tpchgen).",
    )?;
    write_if_missing(
        &dir.join(crate::lakehouse::COMMENT_FILE),
        "TPC-H benchmark tables: region, nation, supplier, customer, part, partsupp, orders, lineitem.",
    )?;
    let total: f64 = TABLES
        .iter()
        .map(|t| {
            if t.rows_at_sf1 <= 25.0 {
                t.rows_at_sf1
            } else {
                t.rows_at_sf1 * sf
            }
        })
        .sum();
    tracing::info!(
        "creating samples.tpch (TPC-H scale factor {sf}, about {:.0} rows) in {}; this happens once",
        total,
        dir.display()
    );
    let started = std::time::Instant::now();
    let mut bar = Progress::new(progress, total);
    for spec in &TABLES {
        let target = dir.join(spec.name);
        // Complete = the CREATE commit and the data commit are both there.
        if crate::lakehouse::commits(&target).len() >= 2 {
            continue;
        }
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(|e| LocalError::io(&target, e))?;
        }
        let result = generate_table(spec, sf, &target, &mut bar).await;
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&target);
            return Err(e);
        }
    }
    bar.finish(sf);
    tracing::info!(
        "created samples.tpch in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let text = serde_json::to_string_pretty(&json!({
        "generator": "tpchgen 4",
        "scale_factor": sf,
        "tables": TABLES.iter().map(|t| t.name).collect::<Vec<_>>(),
        "created_at": layout::now_ms(),
    }))
    .unwrap_or_default();
    layout::write_atomic(&marker, text.as_bytes()).map_err(|e| LocalError::io(&marker, e))
}

fn write_if_missing(path: &Path, text: &str) -> Result<(), LocalError> {
    if !path.exists() {
        layout::write_atomic(path, text.as_bytes()).map_err(|e| LocalError::io(path, e))?;
    }
    Ok(())
}

/// The table's Arrow schema in Delta types, with column comments as field metadata.
fn commented_schema(spec: &Spec, schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut field = Field::new(f.name(), crate::delta::delta_type(f.data_type()), true);
            if let Some((_, c)) = spec.columns.iter().find(|(n, _)| n == f.name()) {
                field = field.with_metadata(
                    [("comment".to_string(), (*c).to_string())]
                        .into_iter()
                        .collect(),
                );
            }
            field
        })
        .collect();
    Arc::new(Schema::new(fields))
}

async fn generate_table(
    spec: &Spec,
    sf: f64,
    path: &Path,
    bar: &mut Progress,
) -> Result<(), LocalError> {
    let fail = |e: String| LocalError::Samples(format!("samples.tpch.{}: {e}", spec.name));
    let schema = generator_schema(spec.name).ok_or_else(|| fail("unknown table".into()))?;
    let target_schema = commented_schema(spec, &schema);
    std::fs::create_dir_all(path).map_err(|e| LocalError::io(path, e))?;
    let table = create_table(path, &target_schema, spec.comment, spec.name)
        .await
        .map_err(fail)?;
    let mut table = table;
    let mut writer = RecordBatchWriter::for_table(&table).map_err(|e| fail(e.to_string()))?;
    let writer_schema = writer.arrow_schema();

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<RecordBatch, String>>(4);
    let name = spec.name;
    let gen_task = tokio::task::spawn_blocking(move || {
        let Some(iter) = generator(name, sf) else {
            return;
        };
        for b in iter {
            if tx.blocking_send(b.map_err(|e| e.to_string())).is_err() {
                return;
            }
        }
    });
    while let Some(b) = rx.recv().await {
        let b = b.map_err(&fail)?;
        let rows = b.num_rows();
        let columns = b
            .columns()
            .iter()
            .zip(writer_schema.fields())
            .map(|(c, f)| {
                datafusion::arrow::compute::cast(c, f.data_type()).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<ArrayRef>, String>>()
            .map_err(&fail)?;
        let batch = RecordBatch::try_new(writer_schema.clone(), columns)
            .map_err(|e| fail(e.to_string()))?;
        writer.write(batch).await.map_err(|e| fail(e.to_string()))?;
        bar.add(rows, spec.name, sf);
    }
    gen_task.await.map_err(|e| fail(e.to_string()))?;
    writer
        .flush_and_commit(&mut table)
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// Creates an empty Delta table (version 0) with comments.
pub(crate) async fn create_table(
    path: &Path,
    schema: &SchemaRef,
    comment: &str,
    name: &str,
) -> Result<DeltaTable, String> {
    let url = crate::lakehouse::table_url(path).map_err(|e| e.message)?;
    let delta_schema = StructType::try_from_arrow(schema.as_ref()).map_err(|e| e.to_string())?;
    DeltaTable::try_from_url(url)
        .await
        .map_err(|e| e.to_string())?
        .create()
        .with_columns(delta_schema.fields().cloned())
        .with_comment(comment)
        .with_table_name(name)
        .await
        .map_err(|e| e.to_string())
}

/// Creates the starter workspace objects once (a marker remembers it was done, so objects
/// the user deletes are not recreated).
pub(crate) async fn ensure_starter(layout: &Layout) -> Result<(), LocalError> {
    let marker = layout.root.join(WORKSPACE_MARKER);
    let main = layout.catalogs().join("main");
    let default = main.join("default");
    for d in [
        &default,
        &layout.workspace(),
        &layout.jobs(),
        &layout.runs(),
        &layout.pipelines(),
        &layout.vector_indexes(),
        &layout.volumes(),
    ] {
        std::fs::create_dir_all(d).map_err(|e| LocalError::io(d.as_path(), e))?;
    }
    if marker.exists() {
        return Ok(());
    }
    write_if_missing(
        &main.join(crate::lakehouse::COMMENT_FILE),
        "Default catalog of the local workspace.",
    )?;
    write_if_missing(
        &default.join(crate::lakehouse::COMMENT_FILE),
        "Default schema: where CREATE TABLE and pipelines write unless told otherwise.",
    )?;
    let mut files = starter_files(layout);
    files.push((layout.jobs().join("1.json"), sample_job()));
    files.push((
        layout
            .pipelines()
            .join(format!("{}.json", SAMPLE_PIPELINE_ID)),
        sample_pipeline(),
    ));
    for (path, text) in files {
        write_if_missing(&path, &text)?;
    }
    write_if_missing(
        &default
            .join(crate::sqlfn::FUNCTIONS_DIR)
            .join("discounted_price.json"),
        &sample_function(),
    )?;
    let docs = default.join("documents");
    if !docs.exists() {
        write_documents(&docs).await?;
    }
    write_if_missing(
        &layout
            .vector_indexes()
            .join("main.default.documents_index.json"),
        &documents_index(),
    )?;
    let text =
        serde_json::to_string_pretty(&json!({"layout_version": 1, "created_at": layout::now_ms()}))
            .unwrap_or_default();
    layout::write_atomic(&marker, text.as_bytes()).map_err(|e| LocalError::io(&marker, e))
}

/// The starter's files: the volume's README, a SQL query and a SQL notebook over the
/// samples (the sample job runs both), and the sample pipeline's source.
fn starter_files(layout: &Layout) -> Vec<(PathBuf, String)> {
    vec![
        (
            layout.volumes().join("main/default/files/README.md"),
            "# main.default.files\n\nA Unity Catalog volume of the local workspace: files under\n`/Volumes/main/default/files/` are served by the Files API.\n".into(),
        ),
        (
            layout.workspace().join("Shared/samples/queries/revenue_by_flag.sql"),
            "-- Revenue and quantity per return flag and line status (TPC-H Q1, simplified).\nSELECT l_returnflag, l_linestatus,\n       sum(l_quantity) AS sum_qty,\n       sum(l_extendedprice * (1 - l_discount)) AS revenue,\n       count(*) AS count_order\nFROM samples.tpch.lineitem\nWHERE l_shipdate <= date_sub(DATE'1998-12-01', 90)\nGROUP BY l_returnflag, l_linestatus\nORDER BY l_returnflag, l_linestatus;\n".into(),
        ),
        (
            layout.workspace().join("Shared/samples/tpch_report.sql"),
            "-- Databricks notebook source\n-- MAGIC %md\n-- MAGIC # TPC-H report\n-- MAGIC Top nations by revenue, on the local workspace.\n\n-- COMMAND ----------\n\nSELECT n_name AS nation,\n       round(sum(l_extendedprice * (1 - l_discount)), 2) AS revenue\nFROM samples.tpch.lineitem\nJOIN samples.tpch.orders ON l_orderkey = o_orderkey\nJOIN samples.tpch.customer ON o_custkey = c_custkey\nJOIN samples.tpch.nation ON c_nationkey = n_nationkey\nGROUP BY n_name\nORDER BY revenue DESC\nLIMIT 5\n".into(),
        ),
        (
            layout.workspace().join("Shared/samples/pipelines/tpch_summaries.sql"),
            "-- Materialized views refreshed by the pipeline \"tpch_summaries\".\nCREATE OR REFRESH MATERIALIZED VIEW orders_by_status\nCOMMENT 'Number of orders and revenue per order status'\nAS SELECT o_orderstatus, count(*) AS orders, sum(o_totalprice) AS revenue\nFROM samples.tpch.orders\nGROUP BY o_orderstatus;\n\nCREATE OR REFRESH MATERIALIZED VIEW top_status\nAS SELECT o_orderstatus, orders FROM orders_by_status ORDER BY orders DESC LIMIT 1;\n".into(),
        ),
    ]
}

/// The sample job: the starter's query, then its notebook.
fn sample_job() -> String {
    serde_json::to_string_pretty(&json!({
        "name": "TPC-H revenue report",
        "description": "Runs a SQL file and a SQL notebook on the local engine.",
        "tags": {"sample": "true"},
        "max_concurrent_runs": 1,
        "format": "MULTI_TASK",
        "tasks": [
            {
                "task_key": "revenue_by_flag",
                "sql_task": {
                    "warehouse_id": crate::WAREHOUSE_ID,
                    "file": {"path": "/Workspace/Shared/samples/queries/revenue_by_flag.sql", "source": "WORKSPACE"}
                }
            },
            {
                "task_key": "report",
                "depends_on": [{"task_key": "revenue_by_flag"}],
                "notebook_task": {"notebook_path": "/Shared/samples/tpch_report", "source": "WORKSPACE", "warehouse_id": crate::WAREHOUSE_ID}
            }
        ]
    }))
    .unwrap_or_default()
}

/// The sample pipeline, refreshing the materialized views of its SQL source.
fn sample_pipeline() -> String {
    serde_json::to_string_pretty(&json!({
        "name": "tpch_summaries",
        "catalog": "main",
        "schema": "default",
        "development": true,
        "continuous": false,
        "serverless": true,
        "channel": "CURRENT",
        "edition": "ADVANCED",
        "libraries": [{"file": {"path": "/Shared/samples/pipelines/tpch_summaries.sql"}}]
    }))
    .unwrap_or_default()
}

/// The SQL function `main.default.discounted_price`.
fn sample_function() -> String {
    serde_json::to_string_pretty(&json!({
        "comment": "Price after a discount: price * (1 - discount), as in TPC-H revenue.",
        "parameters": [
            {"name": "price", "type": "DECIMAL(15,2)", "comment": "List price, e.g. l_extendedprice."},
            {"name": "discount", "type": "DECIMAL(15,2)", "comment": "Discount fraction between 0 and 1."}
        ],
        "returns": "DECIMAL(15,2)",
        "body": "round(price * (1 - discount), 2)"
    }))
    .unwrap_or_default()
}

/// The vector search index over `main.default.documents`.
fn documents_index() -> String {
    serde_json::to_string_pretty(&json!({
        "name": "main.default.documents_index",
        "endpoint_name": crate::api::vector_search::ENDPOINT,
        "primary_key": "id",
        "index_type": "DELTA_SYNC",
        "delta_sync_index_spec": {
            "source_table": "main.default.documents",
            "pipeline_type": "TRIGGERED",
            "embedding_source_columns": [{"name": "body", "embedding_model_endpoint_name": crate::api::vector_search::LEXICAL_MODEL}],
            "embedding_vector_columns": [{"name": "embedding", "embedding_dimension": crate::api::vector_search::DIMENSION}],
            "columns_to_sync": ["id", "title", "body", "embedding"]
        }
    }))
    .unwrap_or_default()
}

/// Id of the sample pipeline.
pub(crate) const SAMPLE_PIPELINE_ID: &str = "10ca1000-0000-4000-8000-000000000001";

const DOCUMENTS: [(&str, &str); 12] = [
    (
        "Orders table",
        "The orders table holds one row per customer order with its status, total price, order date and priority.",
    ),
    (
        "Line items",
        "The lineitem table holds the lines of each order: part, supplier, quantity, extended price, discount, tax and ship dates.",
    ),
    (
        "Customers",
        "The customer table lists customers with their nation, market segment, phone number and account balance.",
    ),
    (
        "Suppliers",
        "The supplier table lists suppliers with their nation, address, phone number and account balance.",
    ),
    (
        "Parts",
        "The part table describes parts: name, manufacturer, brand, type, size, container and retail price.",
    ),
    (
        "Part suppliers",
        "The partsupp table says which supplier supplies which part, the available quantity and the supply cost.",
    ),
    (
        "Nations and regions",
        "The nation and region tables map the 25 nations to the 5 regions of the world.",
    ),
    (
        "Revenue",
        "Revenue is computed as extended price times one minus the discount, summed over line items.",
    ),
    (
        "Returns",
        "The return flag of a line item is R when returned, A when accepted and N when not yet known.",
    ),
    (
        "Time travel",
        "Delta tables keep their history: query an older version with VERSION AS OF or TIMESTAMP AS OF.",
    ),
    (
        "Local workspace",
        "The local workspace runs SQL on DataFusion over Delta Lake tables stored in a directory on this machine.",
    ),
    (
        "Vector search",
        "This index uses a lexical hashed bag-of-words embedding, not a semantic model: it matches shared words.",
    ),
];

async fn write_documents(path: &Path) -> Result<(), LocalError> {
    let ids: Vec<i64> = (1..=DOCUMENTS.len() as i64).collect();
    let titles: Vec<&str> = DOCUMENTS.iter().map(|d| d.0).collect();
    let bodies: Vec<&str> = DOCUMENTS.iter().map(|d| d.1).collect();
    let item = Arc::new(Field::new("element", DataType::Float32, true));
    let mut emb = ListBuilder::new(Float32Builder::new()).with_field(item.clone());
    for b in &bodies {
        for v in crate::api::vector_search::lexical_embedding(b) {
            emb.values().append_value(v);
        }
        emb.append(true);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true)
            .with_metadata([("comment".to_string(), "Document id.".to_string())].into()),
        Field::new("title", DataType::Utf8, true),
        Field::new("body", DataType::Utf8, true),
        Field::new("embedding", DataType::List(item), true).with_metadata(
            [(
                "comment".to_string(),
                format!(
                    "Lexical hashed bag-of-words embedding ({} dimensions) of body; not semantic.",
                    crate::api::vector_search::DIMENSION
                ),
            )]
            .into(),
        ),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(titles)),
        Arc::new(StringArray::from(bodies)),
        Arc::new(emb.finish()),
    ];
    let batch =
        RecordBatch::try_new(schema, cols).map_err(|e| LocalError::Samples(e.to_string()))?;
    crate::delta::write(
        path,
        vec![batch],
        deltalake::protocol::SaveMode::ErrorIfExists,
        Some("Short documents about the sample data, indexed by main.default.documents_index."),
        false,
    )
    .await
    .map_err(|e| LocalError::Samples(format!("main.default.documents: {e}")))
}
