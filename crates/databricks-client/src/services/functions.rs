//! Unity Catalog functions (REFERENCE.md §3.7): list a schema's functions and read one,
//! with their parameters. Calling a function is SQL (see the SQL service).

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::functions::*;

impl DatabricksClient {
    /// One page of the functions of `catalog.schema` (`max_results` 0 or absent =
    /// server-chosen page size, as the SDKs send).
    pub async fn list_functions(
        &self,
        catalog: &str,
        schema: &str,
        max_results: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<Page<FunctionInfo>, Error> {
        let mut query = vec![
            ("catalog_name", catalog.to_string()),
            ("schema_name", schema.to_string()),
            ("max_results", max_results.unwrap_or(0).to_string()),
        ];
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: FunctionsPage = self
            .call::<endpoints::ListFunctions>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.functions, r.next_page_token))
    }

    /// Every function of `catalog.schema` (walks all pages, bounded).
    pub async fn list_all_functions(
        &self,
        catalog: &str,
        schema: &str,
    ) -> Result<Vec<FunctionInfo>, Error> {
        let page = crate::pagination::collect_pages(None, usize::MAX, |token| async move {
            self.list_functions(catalog, schema, None, token.as_deref())
                .await
        })
        .await?;
        Ok(page.items)
    }

    /// One function; `full_name` is `catalog.schema.function`.
    pub async fn get_function(&self, full_name: &str) -> Result<FunctionInfo, Error> {
        self.call::<endpoints::GetFunction>(&[full_name], &[], None)
            .await
    }
}
