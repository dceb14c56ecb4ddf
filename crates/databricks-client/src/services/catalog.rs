//! Unity Catalog API 2.1 (REFERENCE.md §3): catalogs, schemas, tables.
//!
//! Lists always send `max_results` (0 = server-chosen page size when the caller gives
//! none) so the server paginates instead of returning everything, as both SDKs do.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::{DatabricksClient, path_segment};
use crate::pagination::Page;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CatalogInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browse_only: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SchemaInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub catalog_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub catalog_name: String,
    #[serde(default)]
    pub schema_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_format: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<TableColumn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub table_constraints: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableColumn {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_index: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct CatalogsPage {
    #[serde(default)]
    catalogs: Vec<CatalogInfo>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SchemasPage {
    #[serde(default)]
    schemas: Vec<SchemaInfo>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TablesPage {
    #[serde(default)]
    tables: Vec<TableInfo>,
    #[serde(default)]
    next_page_token: Option<String>,
}

fn paging(max_results: Option<u32>, page_token: Option<&str>) -> Vec<(&'static str, String)> {
    let mut query = vec![("max_results", max_results.unwrap_or(0).to_string())];
    if let Some(t) = page_token {
        query.push(("page_token", t.to_string()));
    }
    query
}

impl DatabricksClient {
    pub async fn list_catalogs(
        &self,
        max_results: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<Page<CatalogInfo>, Error> {
        let r: CatalogsPage = self
            .get(
                "/api/2.1/unity-catalog/catalogs",
                &paging(max_results, page_token),
            )
            .await?;
        Ok(Page::from_token(r.catalogs, r.next_page_token))
    }

    pub async fn list_schemas(
        &self,
        catalog: &str,
        max_results: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<Page<SchemaInfo>, Error> {
        let mut query = paging(max_results, page_token);
        query.push(("catalog_name", catalog.to_string()));
        let r: SchemasPage = self.get("/api/2.1/unity-catalog/schemas", &query).await?;
        Ok(Page::from_token(r.schemas, r.next_page_token))
    }

    /// Tables of a schema, without columns or properties (cheap listing).
    pub async fn list_tables(
        &self,
        catalog: &str,
        schema: &str,
        max_results: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<Page<TableInfo>, Error> {
        let mut query = paging(max_results, page_token);
        query.push(("catalog_name", catalog.to_string()));
        query.push(("schema_name", schema.to_string()));
        query.push(("omit_columns", "true".to_string()));
        query.push(("omit_properties", "true".to_string()));
        let r: TablesPage = self.get("/api/2.1/unity-catalog/tables", &query).await?;
        Ok(Page::from_token(r.tables, r.next_page_token))
    }

    /// One table with its columns; `full_name` is `catalog.schema.table`.
    pub async fn get_table(&self, full_name: &str) -> Result<TableInfo, Error> {
        self.get(
            &format!("/api/2.1/unity-catalog/tables/{}", path_segment(full_name)),
            &[],
        )
        .await
    }
}
