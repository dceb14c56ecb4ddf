//! SQL Statement Execution API 2.0 and SQL Warehouses API (REFERENCE.md §1, §2).

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use std::collections::BTreeSet;
use std::sync::Mutex;

pub use databricks_api::attachment::HYBRID_DISPOSITION;
use databricks_api::endpoints;

pub use databricks_api::sql::*;

/// Workspaces (by host) that refused the hybrid disposition: their statements go with
/// `EXTERNAL_LINKS` for the rest of the process, so the refusal costs one round trip once.
static HYBRID_REFUSED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn hybrid_refused(host: &str) -> bool {
    HYBRID_REFUSED
        .lock()
        .map(|set| set.contains(host))
        .unwrap_or(false)
}

/// Whether `e` is a workspace saying it does not know a disposition value (400
/// `INVALID_PARAMETER_VALUE` or `BAD_REQUEST` naming the disposition).
fn refuses_disposition(e: &Error) -> bool {
    let Error::Api(api) = e else {
        return false;
    };
    let message = api.message.to_ascii_lowercase();
    api.status == 400
        && (message.contains("disposition")
            || message.contains(HYBRID_DISPOSITION.to_ascii_lowercase().as_str()))
}

impl DatabricksClient {
    /// Submits a statement. A request with the hybrid disposition
    /// (`INLINE_OR_EXTERNAL_LINKS`) that the workspace refuses is sent again with
    /// `EXTERNAL_LINKS`, and later ones go that way from the start.
    pub async fn execute_statement(
        &self,
        request: &ExecuteStatementRequest,
    ) -> Result<StatementResponse, Error> {
        let hybrid = request.disposition.as_deref() == Some(HYBRID_DISPOSITION);
        let host = self.host().as_str();
        if hybrid && hybrid_refused(host) {
            return self.execute_statement_as(request, "EXTERNAL_LINKS").await;
        }
        match self
            .call_with::<endpoints::ExecuteStatement>(&[], request)
            .await
        {
            Err(e) if hybrid && refuses_disposition(&e) => {
                if let Ok(mut set) = HYBRID_REFUSED.lock() {
                    set.insert(host.to_string());
                }
                self.execute_statement_as(request, "EXTERNAL_LINKS").await
            }
            other => other,
        }
    }

    async fn execute_statement_as(
        &self,
        request: &ExecuteStatementRequest,
        disposition: &str,
    ) -> Result<StatementResponse, Error> {
        let mut request = request.clone();
        request.disposition = Some(disposition.to_string());
        self.call_with::<endpoints::ExecuteStatement>(&[], &request)
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
