//! Names of workspace objects for argument completion and the resource list, cached for
//! a short time: a client asks for completions on every keystroke, and the workspace
//! should see at most one listing per kind and parent in each `TTL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use databricks_client::{DatabricksClient, Error};

/// How long a listing is reused.
const TTL: Duration = Duration::from_secs(30);
/// At most this many names per listing (pages are walked until then).
const MAX_NAMES: usize = 1000;
/// At most this many listings are cached; the oldest go first.
const MAX_ENTRIES: usize = 256;

/// What is listed; the parent (catalog, schema, folder, endpoint) travels in the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Catalogs,
    Schemas,
    Tables,
    Warehouses,
    Jobs,
    Pipelines,
    Workspace,
    GenieSpaces,
    VectorIndexes,
}

/// One object: the value a client fills in, and a label (a job's or a warehouse's name)
/// that completion also matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub value: String,
    pub label: Option<String>,
    /// A folder, for notebook paths: completion goes on inside it.
    pub is_folder: bool,
}

impl Named {
    fn plain(value: impl Into<String>) -> Named {
        Named {
            value: value.into(),
            label: None,
            is_folder: false,
        }
    }

    fn labelled(value: impl Into<String>, label: Option<String>) -> Named {
        Named {
            value: value.into(),
            label,
            is_folder: false,
        }
    }
}

type Entry = (Instant, Arc<Vec<Named>>);

#[derive(Default)]
pub struct Lookup {
    entries: Mutex<HashMap<(Kind, String), Entry>>,
}

impl Lookup {
    /// The objects of `kind` under `parent` (`""` when the kind has none), from the cache
    /// when it is fresh.
    pub async fn names(
        &self,
        client: &DatabricksClient,
        kind: Kind,
        parent: &str,
    ) -> Result<Arc<Vec<Named>>, Error> {
        let key = (kind, parent.to_string());
        if let Some((at, names)) = self.lock().get(&key)
            && at.elapsed() < TTL
        {
            return Ok(names.clone());
        }
        let names = Arc::new(fetch(client, kind, parent).await?);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, (Instant::now(), names.clone()));
        Ok(names)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Kind, String), Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Walks the pages of one listing until it ends or `MAX_NAMES` are collected.
async fn pages<T, F, Fut>(mut next: F) -> Result<Vec<T>, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<databricks_client::pagination::Page<T>, Error>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = next(token.take()).await?;
        items.extend(page.items);
        match page.next_page_token {
            Some(t) if items.len() < MAX_NAMES => token = Some(t),
            _ => break,
        }
    }
    items.truncate(MAX_NAMES);
    Ok(items)
}

async fn fetch(client: &DatabricksClient, kind: Kind, parent: &str) -> Result<Vec<Named>, Error> {
    let names = match kind {
        Kind::Catalogs => pages(|t| async move { client.list_catalogs(None, t.as_deref()).await })
            .await?
            .into_iter()
            .map(|c| Named::plain(c.name))
            .collect(),
        Kind::Schemas => {
            pages(|t| async move { client.list_schemas(parent, None, t.as_deref()).await })
                .await?
                .into_iter()
                .map(|s| Named::plain(s.name))
                .collect()
        }
        Kind::Tables => {
            let (catalog, schema) = parent.split_once('.').unwrap_or((parent, ""));
            pages(|t| async move {
                client
                    .list_tables(catalog, schema, None, t.as_deref())
                    .await
            })
            .await?
            .into_iter()
            .map(|t| Named::plain(t.name))
            .collect()
        }
        Kind::Warehouses => client
            .list_all_warehouses()
            .await?
            .into_iter()
            .map(|w| Named::labelled(w.id, Some(w.name)))
            .collect(),
        Kind::Jobs => pages(|t| async move { client.list_jobs(100, t.as_deref(), None).await })
            .await?
            .into_iter()
            .map(|j| Named::labelled(j.job_id.to_string(), j.settings.and_then(|s| s.name)))
            .collect(),
        Kind::Pipelines => {
            pages(|t| async move { client.list_pipelines(100, t.as_deref(), None).await })
                .await?
                .into_iter()
                .map(|p| Named::labelled(p.pipeline_id, p.name))
                .collect()
        }
        Kind::Workspace => client
            .list_workspace(if parent.is_empty() { "/" } else { parent })
            .await?
            .into_iter()
            .filter(|o| {
                matches!(
                    o.object_type.as_deref(),
                    Some("NOTEBOOK" | "DIRECTORY" | "REPO" | "FILE")
                )
            })
            .take(MAX_NAMES)
            .map(|o| Named {
                is_folder: matches!(o.object_type.as_deref(), Some("DIRECTORY" | "REPO")),
                value: o.path,
                label: None,
            })
            .collect(),
        Kind::GenieSpaces => {
            pages(|t| async move { client.list_genie_spaces(Some(100), t.as_deref()).await })
                .await?
                .into_iter()
                .map(|s| Named::labelled(s.space_id, s.title))
                .collect()
        }
        Kind::VectorIndexes => {
            let mut names = Vec::new();
            for endpoint in client.list_all_vector_search_endpoints().await? {
                let indexes = client.list_all_vector_indexes(&endpoint.name).await?;
                names.extend(indexes.into_iter().map(|i| Named::plain(i.name)));
                if names.len() >= MAX_NAMES {
                    break;
                }
            }
            names.truncate(MAX_NAMES);
            names
        }
    };
    Ok(names)
}
