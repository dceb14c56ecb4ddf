//! Vector Search API 2.0 (REFERENCE.md §9): endpoints, indexes and similarity queries.
//!
//! Query results are typed loosely on purpose: `data_array` cells are arbitrary JSON
//! values (strings, numbers, arrays…) although the SDKs type them as strings, and the
//! service appends a `score` column to the requested ones.

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::vector_search::*;

impl DatabricksClient {
    /// One page of Vector Search endpoints.
    pub async fn list_vector_search_endpoints(
        &self,
        page_token: Option<&str>,
    ) -> Result<Page<EndpointInfo>, Error> {
        let mut query = Vec::new();
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: EndpointsPage = self
            .call::<endpoints::ListVectorSearchEndpoints>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.endpoints, r.next_page_token))
    }

    /// Every Vector Search endpoint (walks all pages, bounded).
    pub async fn list_all_vector_search_endpoints(&self) -> Result<Vec<EndpointInfo>, Error> {
        let page = crate::pagination::collect_pages(None, usize::MAX, |token| async move {
            self.list_vector_search_endpoints(token.as_deref()).await
        })
        .await?;
        Ok(page.items)
    }

    /// One page of the indexes served by `endpoint_name`.
    pub async fn list_vector_indexes(
        &self,
        endpoint_name: &str,
        page_token: Option<&str>,
    ) -> Result<Page<MiniVectorIndex>, Error> {
        let mut query = vec![("endpoint_name", endpoint_name.to_string())];
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: IndexesPage = self
            .call::<endpoints::ListVectorIndexes>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.vector_indexes, r.next_page_token))
    }

    /// Every index of `endpoint_name` (walks all pages, bounded).
    pub async fn list_all_vector_indexes(
        &self,
        endpoint_name: &str,
    ) -> Result<Vec<MiniVectorIndex>, Error> {
        let page = crate::pagination::collect_pages(None, usize::MAX, |token| async move {
            self.list_vector_indexes(endpoint_name, token.as_deref())
                .await
        })
        .await?;
        Ok(page.items)
    }

    /// One index with its specification and status; `name` is `catalog.schema.index`.
    pub async fn get_vector_index(&self, name: &str) -> Result<VectorIndex, Error> {
        self.call::<endpoints::GetVectorIndex>(&[name], &[], None)
            .await
    }

    /// A similarity (or hybrid / full-text) query.
    pub async fn query_vector_index(
        &self,
        name: &str,
        request: &QueryVectorIndexRequest,
    ) -> Result<QueryVectorIndexResponse, Error> {
        self.call_with::<endpoints::QueryVectorIndex>(&[name], request)
            .await
    }

    /// The next group of results of a query whose answer carried `next_page_token`.
    pub async fn query_vector_index_next_page(
        &self,
        name: &str,
        endpoint_name: &str,
        page_token: &str,
    ) -> Result<QueryVectorIndexResponse, Error> {
        self.call_with::<endpoints::QueryVectorIndexNextPage>(
            &[name],
            &serde_json::json!({ "endpoint_name": endpoint_name, "page_token": page_token }),
        )
        .await
    }
}
