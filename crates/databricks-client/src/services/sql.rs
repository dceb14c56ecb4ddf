//! SQL Statement Execution API 2.0 and SQL Warehouses API (REFERENCE.md §1, §2).

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::sql::*;

impl DatabricksClient {
    pub async fn execute_statement(
        &self,
        request: &ExecuteStatementRequest,
    ) -> Result<StatementResponse, Error> {
        self.call_with::<endpoints::ExecuteStatement>(&[], request)
            .await
    }

    pub async fn get_statement(&self, statement_id: &str) -> Result<StatementResponse, Error> {
        self.call::<endpoints::GetStatement>(&[statement_id], &[], None)
            .await
    }

    pub async fn cancel_statement(&self, statement_id: &str) -> Result<(), Error> {
        let _: serde_json::Value = self
            .call_with::<endpoints::CancelStatement>(&[statement_id], &serde_json::json!({}))
            .await?;
        Ok(())
    }

    pub async fn get_statement_chunk(
        &self,
        statement_id: &str,
        chunk_index: i64,
    ) -> Result<ResultData, Error> {
        self.call::<endpoints::GetStatementChunk>(
            &[statement_id, &chunk_index.to_string()],
            &[],
            None,
        )
        .await
    }

    /// One page of warehouses. Older servers ignore paging and return all at once.
    pub async fn list_warehouses(
        &self,
        page_token: Option<&str>,
    ) -> Result<Page<Warehouse>, Error> {
        let mut query = Vec::new();
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: ListWarehousesResponse = self
            .call::<endpoints::ListWarehouses>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.warehouses, r.next_page_token))
    }

    /// Every warehouse (walks all pages, bounded).
    pub async fn list_all_warehouses(&self) -> Result<Vec<Warehouse>, Error> {
        let page = crate::pagination::collect_pages(None, usize::MAX, |token| async move {
            self.list_warehouses(token.as_deref()).await
        })
        .await?;
        Ok(page.items)
    }

    pub async fn get_warehouse(&self, id: &str) -> Result<Warehouse, Error> {
        self.call::<endpoints::GetWarehouse>(&[id], &[], None).await
    }
}
