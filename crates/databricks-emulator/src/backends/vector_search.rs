//! Vector Search (REFERENCE.md §9): the [`VectorSearch`] backend the shared workspace
//! server routes to. Endpoints and indexes come from the fixtures; each index has a fixed
//! table of rows whose scores are data (the emulator computes no similarity), so a query
//! answers the same rows whatever it searches for, filtered as it asks.
//!
//! - `main_catalog.docs.en_wiki_index` (Delta Sync): 10,000 articles, the three of
//!   `vs_query.json` first with their scores, then slowly decreasing ones; besides the
//!   columns of its source table (`id`, `title`, `text`, `url`) it holds `lang` and
//!   `updated_year`, the columns the fixtures' query filters on.
//! - `main_catalog.docs.faq_direct` (Direct Access, 8-dimension vectors): four answers.

use databricks_api::backend::{Answer, VectorSearch, async_trait};
use databricks_api::error::ApiError;
use databricks_api::vector_search::{
    DirectAccessIndexSpec, EmbeddingVectorColumn, EndpointInfo, EndpointsPage, IndexStatus,
    IndexesPage, MiniVectorIndex, QueryColumn, ScoredRow, ScoredRows, VectorIndex, VectorQuery,
};
use serde_json::{Value, json};

use crate::fixtures::{fixture_as, fixture_json};

/// Rows of the Delta Sync index.
const ARTICLES: usize = 10_000;

pub(crate) struct FixtureVectorSearch;

#[async_trait]
impl VectorSearch for FixtureVectorSearch {
    async fn endpoints(&self) -> Answer<Vec<EndpointInfo>> {
        let page: EndpointsPage = fixture_as("vs_endpoints_list.json");
        Ok(page.endpoints)
    }

    async fn indexes(&self) -> Answer<Vec<VectorIndex>> {
        let page: IndexesPage = fixture_as("vs_indexes_list.json");
        Ok(page.vector_indexes.into_iter().map(detailed).collect())
    }

    async fn index(&self, name: &str) -> Answer<Option<VectorIndex>> {
        let page: IndexesPage = fixture_as("vs_indexes_list.json");
        let index = page.vector_indexes.into_iter().find(|i| i.name == name);
        Ok(index.map(detailed))
    }

    async fn query(&self, index: &VectorIndex, query: &VectorQuery) -> Answer<ScoredRows> {
        search(&table(index), query)
    }
}

/// A listed index with the details `get` shows: `vs_index_get.json` for the index it
/// describes, else the listed fields with a ready status and, for a Direct Access index,
/// its schema and vector column.
fn detailed(listed: MiniVectorIndex) -> VectorIndex {
    let detailed: VectorIndex = fixture_as("vs_index_get.json");
    if detailed.name == listed.name {
        return detailed;
    }
    let direct = listed.index_type.as_deref() == Some("DIRECT_ACCESS");
    VectorIndex {
        status: Some(IndexStatus {
            ready: Some(true),
            indexed_row_count: Some(FAQ.len() as i64),
            message: Some("Index is ready".into()),
            index_url: None,
        }),
        direct_access_index_spec: direct.then(|| DirectAccessIndexSpec {
            embedding_vector_columns: vec![EmbeddingVectorColumn {
                name: "embedding".into(),
                embedding_dimension: Some(8),
            }],
            schema_json: Some(
                r#"{"faq_id": "int", "question": "string", "answer": "string", "embedding": "array<float>"}"#
                    .into(),
            ),
            ..DirectAccessIndexSpec::default()
        }),
        name: listed.name,
        endpoint_name: listed.endpoint_name,
        endpoint_id: listed.endpoint_id,
        index_type: listed.index_type,
        index_subtype: listed.index_subtype,
        primary_key: listed.primary_key,
        creator: listed.creator,
        ..VectorIndex::default()
    }
}

/// An index's rows: columns with their types, and each row's cells and score, best first.
struct Table {
    columns: Vec<QueryColumn>,
    rows: Vec<(Vec<Value>, f64)>,
}

fn column(name: &str, type_text: &str) -> QueryColumn {
    QueryColumn {
        name: name.to_string(),
        type_text: Some(type_text.to_string()),
    }
}

fn table(index: &VectorIndex) -> Table {
    if index.index_type.as_deref() == Some("DIRECT_ACCESS") {
        faq()
    } else {
        articles()
    }
}

const FAQ: [(&str, &str); 4] = [
    (
        "How do I rotate a token?",
        "Create a new token, switch clients to it, then revoke the old one.",
    ),
    (
        "How long do tokens last?",
        "Tokens expire after the lifetime set when they were created.",
    ),
    (
        "What is a service principal?",
        "An identity for automation, with its own tokens and grants.",
    ),
    (
        "Can I use OAuth?",
        "Yes: OAuth machine-to-machine and user-to-machine flows are supported.",
    ),
];

fn faq() -> Table {
    let rows = FAQ
        .iter()
        .enumerate()
        .map(|(i, (question, answer))| {
            let embedding: Vec<f64> = (0..8).map(|d| if d == i { 1.0 } else { 0.0 }).collect();
            let cells = vec![
                json!(i + 1),
                json!(question),
                json!(answer),
                json!(embedding),
            ];
            (cells, 0.9 - 0.1 * i as f64)
        })
        .collect();
    Table {
        columns: vec![
            column("faq_id", "int"),
            column("question", "string"),
            column("answer", "string"),
            column("embedding", "array<float>"),
        ],
        rows,
    }
}

/// The articles: `vs_query.json`'s rows and scores first (its columns give the types),
/// then generated ones.
fn articles() -> Table {
    let fixture = fixture_json("vs_query.json");
    let recorded: Vec<Vec<Value>> = fixture
        .pointer("/result/data_array")
        .and_then(Value::as_array)
        .map(|rows| rows.iter().filter_map(|r| r.as_array().cloned()).collect())
        .unwrap_or_default();
    let rows = (0..ARTICLES)
        .map(|r| {
            let (id, title, text, score) = match recorded.get(r).map(Vec::as_slice) {
                Some([id, title, text, score]) => (
                    id.clone(),
                    title.clone(),
                    text.clone(),
                    score.as_f64().unwrap_or(0.0),
                ),
                _ => (
                    json!(1000 + r),
                    json!(format!("Article {r}")),
                    json!(format!("The text of article {r}.")),
                    generated_score(r),
                ),
            };
            let slug = title.as_str().unwrap_or_default().replace(' ', "_");
            let cells = vec![
                id,
                title,
                text,
                json!(format!("https://en.wikipedia.org/wiki/{slug}")),
                json!(if r % 4 == 3 { "de" } else { "en" }),
                json!(if r < 3 { 2024 } else { 2023 - (r % 5) as i64 }),
            ];
            (cells, score)
        })
        .collect();
    Table {
        columns: vec![
            column("id", "int"),
            column("title", "string"),
            column("text", "string"),
            column("url", "string"),
            column("lang", "string"),
            column("updated_year", "int"),
        ],
        rows,
    }
}

/// Below the recorded scores, decreasing by 0.00005 a row, never below 0.0001.
fn generated_score(r: usize) -> f64 {
    let score = (0.6 - r.saturating_sub(2) as f64 * 0.00005).max(0.0001);
    (score * 100_000.0).round() / 100_000.0
}

/// The rows every filter accepts and scoring at least the threshold, best first, with the
/// requested columns. A column the index does not have is a 400.
fn search(table: &Table, query: &VectorQuery) -> Result<ScoredRows, ApiError> {
    let position = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                ApiError::invalid_parameter(format!(
                    "Column '{name}' is not in the index (columns: {}).",
                    known.join(", ")
                ))
            })
    };
    let wanted = query
        .columns
        .iter()
        .map(|c| position(c))
        .collect::<Result<Vec<usize>, _>>()?;
    let filters = query
        .filters
        .iter()
        .map(|f| Ok((position(&f.column)?, f)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let rows = table
        .rows
        .iter()
        .filter(|(cells, score)| {
            *score >= query.score_threshold
                && filters
                    .iter()
                    .all(|(i, f)| cells.get(*i).is_some_and(|c| f.matches(c)))
        })
        .take(query.num_results)
        .map(|(cells, score)| ScoredRow {
            cells: wanted
                .iter()
                .map(|i| cells.get(*i).cloned().unwrap_or(Value::Null))
                .collect(),
            score: *score,
        })
        .collect();
    Ok(ScoredRows {
        columns: wanted
            .iter()
            .filter_map(|i| table.columns.get(*i).cloned())
            .collect(),
        rows,
    })
}
