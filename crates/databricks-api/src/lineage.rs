//! Data lineage (`GET /api/2.0/lineage-tracking/table-lineage?table_name=…&include_entity_lineage=…`):
//! a table's immediate upstream and downstream tables, and the notebooks, jobs and
//! pipelines that connect them. Keys are camelCase, as the service sends them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableLineage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<LineageNode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub downstreams: Vec<LineageNode>,
}

/// One neighbour: a table (or a path), with the entities that read or wrote it (these only
/// with `include_entity_lineage=true`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LineageNode {
    #[serde(rename = "tableInfo", default, skip_serializing_if = "Option::is_none")]
    pub table_info: Option<LineageTable>,
    #[serde(rename = "fileInfo", default, skip_serializing_if = "Option::is_none")]
    pub file_info: Option<serde_json::Value>,
    #[serde(
        rename = "notebookInfos",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub notebook_infos: Vec<LineageEntity>,
    #[serde(rename = "jobInfos", default, skip_serializing_if = "Vec::is_empty")]
    pub job_infos: Vec<LineageEntity>,
    #[serde(
        rename = "pipelineInfos",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub pipeline_infos: Vec<LineageEntity>,
    #[serde(rename = "queryInfos", default, skip_serializing_if = "Vec::is_empty")]
    pub query_infos: Vec<LineageEntity>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LineageTable {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub catalog_name: String,
    #[serde(default)]
    pub schema_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    /// When the edge was last seen, `YYYY-MM-DD HH:MM:SS.s` in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage_timestamp: Option<String>,
}

impl LineageTable {
    pub fn full_name(&self) -> String {
        format!("{}.{}.{}", self.catalog_name, self.schema_name, self.name)
    }
}

/// A notebook, job (run), pipeline (update) or query that read or wrote the table.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LineageEntity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_run_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_update_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage_timestamp: Option<String>,
}
