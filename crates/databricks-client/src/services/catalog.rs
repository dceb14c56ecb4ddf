//! Unity Catalog API 2.1 (REFERENCE.md §3): catalogs, schemas, tables.
//!
//! Lists always send `max_results` (0 = server-chosen page size when the caller gives
//! none) so the server paginates instead of returning everything, as both SDKs do.

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::catalog::*;

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
        let r: SchemasPage = self
            .call::<endpoints::ListSchemas>(&[], &query, None)
            .await?;
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
        let r: TablesPage = self
            .call::<endpoints::ListTables>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.tables, r.next_page_token))
    }

    /// One table with its columns; `full_name` is `catalog.schema.table`.
    pub async fn get_table(&self, full_name: &str) -> Result<TableInfo, Error> {
        self.call::<endpoints::GetTable>(&[full_name], &[], None)
            .await
    }
}
