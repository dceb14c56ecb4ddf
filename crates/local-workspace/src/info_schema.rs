//! `information_schema` views (Databricks column names) over the lakehouse:
//! `<catalog>.information_schema.*` sees one catalog, `system.information_schema.*` all.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::error::SqlError;
use crate::lakehouse::{INFORMATION_SCHEMA, Lakehouse, SYSTEM};
use crate::types::{db_type, uc_type_text};

pub(crate) const VIEWS: [&str; 5] = ["catalogs", "schemata", "tables", "columns", "volumes"];

enum Col {
    S(Vec<Option<String>>),
    I(Vec<Option<i64>>),
}

struct Builder {
    fields: Vec<Field>,
    cols: Vec<Col>,
}

impl Builder {
    fn new(cols: &[(&str, bool)]) -> Builder {
        Builder {
            fields: cols
                .iter()
                .map(|(n, int)| {
                    Field::new(
                        *n,
                        if *int {
                            DataType::Int64
                        } else {
                            DataType::Utf8
                        },
                        true,
                    )
                })
                .collect(),
            cols: cols
                .iter()
                .map(|(_, int)| {
                    if *int {
                        Col::I(Vec::new())
                    } else {
                        Col::S(Vec::new())
                    }
                })
                .collect(),
        }
    }
    fn push(&mut self, row: Vec<Cell>) {
        for (col, cell) in self.cols.iter_mut().zip(row) {
            match (col, cell) {
                (Col::S(v), Cell::S(s)) => v.push(s),
                (Col::I(v), Cell::I(i)) => v.push(i),
                (Col::S(v), Cell::I(i)) => v.push(i.map(|i| i.to_string())),
                (Col::I(v), Cell::S(_)) => v.push(None),
            }
        }
    }
    fn finish(self) -> Result<RecordBatch, SqlError> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .into_iter()
            .map(|c| -> ArrayRef {
                match c {
                    Col::S(v) => Arc::new(StringArray::from(v)),
                    Col::I(v) => Arc::new(Int64Array::from(v)),
                }
            })
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(self.fields)), arrays)
            .map_err(|e| SqlError::internal(e.to_string()))
    }
}

enum Cell {
    S(Option<String>),
    I(Option<i64>),
}

fn s(v: impl Into<String>) -> Cell {
    Cell::S(Some(v.into()))
}

fn ts(ms: i64) -> Cell {
    Cell::S(
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
    )
}

/// Builds view `name` for one catalog (`Some`) or all (`None`); `None` if no such view.
pub(crate) async fn view(
    lake: &Lakehouse,
    scope: Option<&str>,
    name: &str,
) -> Option<Result<RecordBatch, SqlError>> {
    let catalogs: Vec<String> = match scope {
        Some(c) => vec![c.to_string()],
        None => lake.catalogs(),
    };
    let owner = crate::layout::user_name();
    Some(match name {
        "catalogs" => {
            let mut b = Builder::new(&[
                ("catalog_name", false),
                ("catalog_owner", false),
                ("comment", false),
                ("created", false),
                ("created_by", false),
                ("last_altered", false),
                ("last_altered_by", false),
            ]);
            for c in &catalogs {
                let t = crate::layout::mtime_ms(&lake.catalog_dir(c));
                b.push(vec![
                    s(c.clone()),
                    s(owner.clone()),
                    Cell::S(lake.catalog_comment(c)),
                    ts(t),
                    s(owner.clone()),
                    ts(t),
                    s(owner.clone()),
                ]);
            }
            b.finish()
        }
        "schemata" => {
            let mut b = Builder::new(&[
                ("catalog_name", false),
                ("schema_name", false),
                ("schema_owner", false),
                ("comment", false),
                ("created", false),
                ("created_by", false),
                ("last_altered", false),
                ("last_altered_by", false),
            ]);
            for c in &catalogs {
                for sc in lake.schemas(c) {
                    let t = crate::layout::mtime_ms(&lake.schema_dir(c, &sc));
                    b.push(vec![
                        s(c.clone()),
                        s(sc.clone()),
                        s(owner.clone()),
                        Cell::S(lake.schema_comment(c, &sc)),
                        ts(t),
                        s(owner.clone()),
                        ts(t),
                        s(owner.clone()),
                    ]);
                }
            }
            b.finish()
        }
        "tables" => tables_view(lake, &catalogs, &owner).await,
        "columns" => columns_view(lake, &catalogs).await,
        "volumes" => {
            let mut b = Builder::new(&[
                ("volume_catalog", false),
                ("volume_schema", false),
                ("volume_name", false),
                ("volume_type", false),
                ("volume_owner", false),
                ("comment", false),
                ("storage_location", false),
                ("created", false),
            ]);
            for c in &catalogs {
                for sc in crate::layout::subdirs(&lake.layout.volumes().join(c)) {
                    for v in crate::layout::subdirs(&lake.layout.volumes().join(c).join(&sc)) {
                        let p = lake.layout.volumes().join(c).join(&sc).join(&v);
                        b.push(vec![
                            s(c.clone()),
                            s(sc.clone()),
                            s(v),
                            s("MANAGED"),
                            s(owner.clone()),
                            Cell::S(None),
                            s(format!("file://{}", p.display())),
                            ts(crate::layout::mtime_ms(&p)),
                        ]);
                    }
                }
            }
            b.finish()
        }
        _ => return None,
    })
}

/// `information_schema.tables`: one row per table; an unreadable table says why in its comment.
async fn tables_view(
    lake: &Lakehouse,
    catalogs: &[String],
    owner: &str,
) -> Result<RecordBatch, SqlError> {
    let mut b = Builder::new(&[
        ("table_catalog", false),
        ("table_schema", false),
        ("table_name", false),
        ("table_type", false),
        ("is_insertable_into", false),
        ("commit_action", false),
        ("table_owner", false),
        ("comment", false),
        ("created", false),
        ("created_by", false),
        ("last_altered", false),
        ("last_altered_by", false),
        ("data_source_format", false),
        ("storage_path", false),
    ]);
    for (c, sc, t) in all_tables(lake, catalogs) {
        match lake.locate(&c, &sc, &t) {
            Ok(loc) => {
                let d = lake.details(&loc).await;
                let (comment, created, updated) = match &d {
                    Ok(d) => (d.comment.clone(), d.created_at, d.updated_at),
                    Err(e) => (Some(format!("unreadable: {}", e.message)), 0, 0),
                };
                b.push(vec![
                    s(c),
                    s(sc),
                    s(t),
                    s("MANAGED"),
                    s(if loc.format == crate::lakehouse::Format::Delta {
                        "YES"
                    } else {
                        "NO"
                    }),
                    s("PRESERVE"),
                    s(owner),
                    Cell::S(comment),
                    ts(created),
                    s(owner),
                    ts(updated),
                    s(owner),
                    s(loc.format.name()),
                    s(format!("file://{}", loc.path.display())),
                ]);
            }
            Err(e) => b.push(vec![
                s(c),
                s(sc),
                s(t),
                s("MANAGED"),
                s("NO"),
                s("PRESERVE"),
                s(owner),
                s(format!("unreadable: {}", e.message)),
                Cell::S(None),
                s(owner),
                Cell::S(None),
                s(owner),
                Cell::S(None),
                Cell::S(None),
            ]),
        }
    }
    b.finish()
}

/// `information_schema.columns`: every column of every readable table, in order.
async fn columns_view(lake: &Lakehouse, catalogs: &[String]) -> Result<RecordBatch, SqlError> {
    let mut b = Builder::new(&[
        ("table_catalog", false),
        ("table_schema", false),
        ("table_name", false),
        ("column_name", false),
        ("ordinal_position", true),
        ("column_default", false),
        ("is_nullable", false),
        ("full_data_type", false),
        ("data_type", false),
        ("numeric_precision", true),
        ("numeric_scale", true),
        ("partition_index", true),
        ("comment", false),
    ]);
    for (c, sc, t) in all_tables(lake, catalogs) {
        let Ok(loc) = lake.locate(&c, &sc, &t) else {
            continue;
        };
        let Ok(d) = lake.details(&loc).await else {
            continue;
        };
        for (i, col) in d.columns.iter().enumerate() {
            let ty = db_type(&col.data_type);
            b.push(vec![
                s(c.clone()),
                s(sc.clone()),
                s(t.clone()),
                s(col.name.clone()),
                Cell::I(i64::try_from(i).ok()),
                Cell::S(None),
                s(if col.nullable { "YES" } else { "NO" }),
                s(uc_type_text(&col.data_type)),
                s(ty.uc_type_name),
                Cell::I(ty.precision),
                Cell::I(ty.scale),
                Cell::I(
                    d.partition_columns
                        .iter()
                        .position(|p| p == &col.name)
                        .and_then(|p| i64::try_from(p).ok()),
                ),
                Cell::S(col.comment.clone()),
            ]);
        }
    }
    b.finish()
}

fn all_tables(lake: &Lakehouse, catalogs: &[String]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for c in catalogs {
        if c == SYSTEM {
            continue;
        }
        for sc in lake.schemas(c) {
            if sc == INFORMATION_SCHEMA {
                continue;
            }
            for t in lake.tables(c, &sc) {
                out.push((c.clone(), sc.clone(), t));
            }
        }
    }
    out
}
