//! Table lineage (`/api/2.0/lineage-tracking/table-lineage`): an edge from each table a
//! write read to the table it wrote, recorded when a statement, a job's SQL task or a
//! pipeline update writes a table from others (see `Engine::lineage_of`). Edges are kept in
//! `<dir>/lineage/edges.json`, rewritten atomically on each change, so lineage survives a
//! restart; only writes record edges, so a read-only workspace never changes it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use databricks_api::backend::{Answer, Lineage, UnityCatalog, async_trait};
use databricks_api::error::ApiError;
use databricks_api::lineage::{LineageEntity, LineageNode, LineageTable, TableLineage};
use serde::{Deserialize, Serialize};

use super::{Shared, lock};
use crate::engine::{TableName, Written};
use crate::layout::{Layout, now_ms};

/// Edges kept; the least recently seen are forgotten first.
const MAX_EDGES: usize = 10_000;

/// What wrote a table: a statement, a job run (its task's notebook, if any), a pipeline
/// update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_run_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_update_id: Option<String>,
}

impl Entity {
    /// A statement of the Statement Execution API.
    pub fn query(statement_id: &str) -> Entity {
        Entity {
            query_id: Some(statement_id.to_string()),
            ..Entity::default()
        }
    }

    /// An edge keeps one entity per job and per pipeline (its latest run or update), and
    /// one for ad-hoc statements (the latest): repeated runs do not grow the file.
    fn slot(&self) -> String {
        match (&self.job_id, &self.pipeline_id) {
            (Some(job), _) => format!("job:{job}"),
            (None, Some(pipeline)) => format!("pipeline:{pipeline}"),
            (None, None) => "query".to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Edge {
    source: TableName,
    target: TableName,
    /// When the edge was last seen, epoch milliseconds.
    at_ms: i64,
    #[serde(flatten)]
    entity: Entity,
}

pub(crate) struct LineageStore {
    path: PathBuf,
    edges: Mutex<Vec<Edge>>,
}

impl LineageStore {
    pub fn load(layout: &Layout) -> LineageStore {
        let path = layout.lineage().join("edges.json");
        let edges = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!("ignoring unreadable lineage file {}: {e}", path.display());
                Vec::new()
            }),
            Err(_) => Vec::new(),
        };
        LineageStore {
            path,
            edges: Mutex::new(edges),
        }
    }

    /// Records the edges of a write, seen now.
    pub fn record(&self, written: &Written, entity: &Entity) {
        let now = now_ms();
        let mut edges = lock(&self.edges);
        for source in &written.sources {
            let existing = edges.iter_mut().find(|e| {
                e.source.same(source)
                    && e.target.same(&written.target)
                    && e.entity.slot() == entity.slot()
            });
            match existing {
                Some(edge) => {
                    edge.at_ms = now;
                    edge.entity = entity.clone();
                    edge.target = written.target.clone();
                }
                None => edges.push(Edge {
                    source: source.clone(),
                    target: written.target.clone(),
                    at_ms: now,
                    entity: entity.clone(),
                }),
            }
        }
        if edges.len() > MAX_EDGES {
            edges.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
            edges.truncate(MAX_EDGES);
        }
        let written = serde_json::to_vec_pretty(&*edges)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::layout::write_atomic(&self.path, &bytes));
        if let Err(e) = written {
            tracing::warn!("lineage not saved to {}: {e}", self.path.display());
        }
    }

    /// The neighbours of `table`: upstreams are the sources of edges into it, downstreams
    /// the targets of edges out of it; most recently seen first.
    fn neighbours(&self, table: &TableName, include_entities: bool) -> TableLineage {
        let edges = lock(&self.edges);
        let upstreams = nodes(
            edges
                .iter()
                .filter(|e| e.target.same(table))
                .map(|e| (&e.source, e)),
            include_entities,
        );
        let downstreams = nodes(
            edges
                .iter()
                .filter(|e| e.source.same(table))
                .map(|e| (&e.target, e)),
            include_entities,
        );
        TableLineage {
            upstreams,
            downstreams,
        }
    }
}

/// One node per neighbouring table, with the entities of its edges.
fn nodes<'a>(
    edges: impl Iterator<Item = (&'a TableName, &'a Edge)>,
    include_entities: bool,
) -> Vec<LineageNode> {
    let mut by_table: BTreeMap<String, (TableName, Vec<&Edge>)> = BTreeMap::new();
    for (table, edge) in edges {
        let key = format!("{}.{}.{}", table.catalog, table.schema, table.name).to_lowercase();
        by_table
            .entry(key)
            .or_insert_with(|| (table.clone(), Vec::new()))
            .1
            .push(edge);
    }
    let mut out: Vec<(i64, LineageNode)> = by_table
        .into_values()
        .map(|(table, mut edges)| {
            edges.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
            let latest = edges.first().map_or(0, |e| e.at_ms);
            let mut node = LineageNode {
                table_info: Some(LineageTable {
                    name: table.name,
                    catalog_name: table.catalog,
                    schema_name: table.schema,
                    table_type: Some("TABLE".to_string()),
                    lineage_timestamp: Some(timestamp(latest)),
                }),
                ..LineageNode::default()
            };
            if include_entities {
                for e in edges {
                    add_entity(&mut node, e);
                }
            }
            (latest, node)
        })
        .collect();
    out.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    out.into_iter().map(|(_, node)| node).collect()
}

fn add_entity(node: &mut LineageNode, edge: &Edge) {
    let e = &edge.entity;
    let seen = Some(timestamp(edge.at_ms));
    if e.job_id.is_some() {
        node.job_infos.push(LineageEntity {
            job_id: e.job_id,
            job_run_id: e.job_run_id,
            lineage_timestamp: seen.clone(),
            ..LineageEntity::default()
        });
    }
    if e.notebook_id.is_some() {
        node.notebook_infos.push(LineageEntity {
            notebook_id: e.notebook_id,
            lineage_timestamp: seen.clone(),
            ..LineageEntity::default()
        });
    }
    if e.pipeline_id.is_some() {
        node.pipeline_infos.push(LineageEntity {
            pipeline_id: e.pipeline_id.clone(),
            pipeline_update_id: e.pipeline_update_id.clone(),
            lineage_timestamp: seen.clone(),
            ..LineageEntity::default()
        });
    }
    if e.query_id.is_some() {
        node.query_infos.push(LineageEntity {
            query_id: e.query_id.clone(),
            lineage_timestamp: seen,
            ..LineageEntity::default()
        });
    }
}

/// `YYYY-MM-DD HH:MM:SS.s` in UTC, as the lineage service writes its timestamps.
fn timestamp(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => format!(
            "{}.{}",
            t.format("%Y-%m-%d %H:%M:%S"),
            ms.rem_euclid(1000) / 100
        ),
        None => String::new(),
    }
}

impl Shared {
    /// Records the lineage of a write, when it read tables.
    pub(crate) fn record_lineage(&self, written: Option<Written>, entity: &Entity) {
        if let Some(written) = written {
            self.lineage.record(&written, entity);
        }
    }
}

#[async_trait]
impl Lineage for Shared {
    async fn table_lineage(
        &self,
        table_name: &str,
        include_entities: bool,
    ) -> Answer<TableLineage> {
        let parts: Vec<&str> = table_name.split('.').collect();
        let [c, s, t] = parts.as_slice() else {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid table name '{table_name}': expected catalog.schema.table."
            )));
        };
        // Unknown tables answer as Unity Catalog does; the names become canonical.
        let info = UnityCatalog::table(self, c, s, t).await?;
        let table = TableName {
            catalog: info.catalog_name,
            schema: info.schema_name,
            name: info.name,
        };
        Ok(self.lineage.neighbours(&table, include_entities))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn name(n: &str) -> TableName {
        TableName {
            catalog: "main".into(),
            schema: "default".into(),
            name: n.into(),
        }
    }

    #[test]
    fn edges_are_kept_per_entity_and_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().to_path_buf());
        let store = LineageStore::load(&layout);
        let write = Written {
            target: name("report"),
            sources: vec![name("orders"), name("customers")],
        };
        store.record(&write, &Entity::query("q1"));
        store.record(&write, &Entity::query("q2"));
        let job = Entity {
            job_id: Some(7),
            job_run_id: Some(70),
            ..Entity::default()
        };
        store.record(&write, &job);
        let store = LineageStore::load(&layout);
        let up = store.neighbours(&name("REPORT"), true).upstreams;
        assert_eq!(up.len(), 2);
        let orders = up
            .iter()
            .find(|n| n.table_info.as_ref().unwrap().name == "orders")
            .unwrap();
        assert_eq!(orders.query_infos.len(), 1, "the latest statement only");
        assert_eq!(orders.query_infos[0].query_id.as_deref(), Some("q2"));
        assert_eq!(orders.job_infos[0].job_run_id, Some(70));
        let down = store.neighbours(&name("orders"), false).downstreams;
        assert_eq!(down.len(), 1);
        assert!(down[0].job_infos.is_empty());
        assert!(store.neighbours(&name("other"), true).upstreams.is_empty());
    }

    #[test]
    fn timestamps_have_tenths_of_seconds() {
        assert_eq!(timestamp(1_709_258_400_250), "2024-03-01 02:00:00.2");
    }
}
