//! Which SQL warehouse runs a statement: `_meta.warehouse_id` of the call, then the
//! `warehouse_id` argument, then the operator's default, then automatic selection
//! (running before starting before stopped, serverless first, then by name). The
//! automatic choice is cached for a short while so a burst of calls lists warehouses
//! once, and every answer says which warehouse ran and why.

use std::time::{Duration, Instant};

use databricks_client::DatabricksClient;
use databricks_client::services::sql::{Warehouse, WarehouseState};
use tokio::sync::Mutex;

use crate::error::ToolError;

/// How long an automatic choice is reused before warehouses are listed again.
pub const AUTO_SELECTION_TTL: Duration = Duration::from_secs(300);

/// Why a warehouse was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Meta,
    Argument,
    Default,
    Automatic,
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub id: String,
    pub source: Source,
    /// Name and state when known (automatic selection lists them).
    pub detail: Option<String>,
}

impl Choice {
    /// One sentence for the answer: which warehouse and why.
    pub fn explain(&self) -> String {
        let why = match self.source {
            Source::Meta => "set by the request's _meta.warehouse_id".to_string(),
            Source::Argument => "the warehouse_id argument".to_string(),
            Source::Default => {
                "the server's default (--warehouse-id / DATABRICKS_WAREHOUSE_ID)".to_string()
            }
            Source::Automatic => match &self.detail {
                Some(d) => format!("chosen automatically: {d}"),
                None => "chosen automatically".to_string(),
            },
        };
        format!("warehouse {} ({why})", self.id)
    }
}

#[derive(Default)]
pub struct WarehouseSelector {
    cached: Mutex<Option<(Instant, Choice)>>,
}

impl WarehouseSelector {
    pub async fn choose(
        &self,
        client: &DatabricksClient,
        meta: Option<String>,
        argument: Option<String>,
        default: Option<&str>,
    ) -> Result<Choice, ToolError> {
        let explicit = [
            (meta, Source::Meta),
            (argument, Source::Argument),
            (default.map(str::to_string), Source::Default),
        ];
        for (id, source) in explicit {
            if let Some(id) = id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
                validate_id(&id)?;
                return Ok(Choice {
                    id,
                    source,
                    detail: None,
                });
            }
        }
        let mut cached = self.cached.lock().await;
        if let Some((_, choice)) = cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < AUTO_SELECTION_TTL)
        {
            return Ok(choice.clone());
        }
        let warehouses = client
            .list_all_warehouses()
            .await
            .map_err(|e| ToolError::upstream("Listing SQL warehouses to choose one", e))?;
        let best = pick(&warehouses).ok_or_else(|| {
            ToolError::new(
                "no usable SQL warehouse in this workspace: create one, or pass warehouse_id (the operator can set --warehouse-id)",
            )
        })?;
        let choice = Choice {
            id: best.id.clone(),
            source: Source::Automatic,
            detail: Some(format!(
                "\"{}\", {}{}",
                best.name,
                best.state.as_str(),
                if best.is_serverless() {
                    ", serverless"
                } else {
                    ""
                }
            )),
        };
        *cached = Some((Instant::now(), choice.clone()));
        Ok(choice)
    }

    /// Forgets the automatic choice (after the chosen warehouse failed).
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

/// Warehouse ids are hex strings; refuse anything that could not be one so a model's
/// typo gets a clear message instead of an opaque 404.
pub(crate) fn validate_id(id: &str) -> Result<(), ToolError> {
    if id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(ToolError::new(format!(
            "{id:?} is not a SQL warehouse id (expected something like \"abcdef0123456789\"); call list_warehouses to see the ids"
        )))
    }
}

/// The preferred warehouse: usable states first (running, starting, stopped/stopping),
/// serverless first within a state (it starts in seconds), then by name.
pub fn pick(warehouses: &[Warehouse]) -> Option<&Warehouse> {
    let rank = |w: &Warehouse| match w.state {
        WarehouseState::Running => 0,
        WarehouseState::Starting => 1,
        WarehouseState::Stopped | WarehouseState::Stopping | WarehouseState::Unknown => 2,
        WarehouseState::Deleting | WarehouseState::Deleted => 9,
    };
    warehouses
        .iter()
        .filter(|w| rank(w) < 9 && !w.id.is_empty())
        .min_by_key(|w| (rank(w), !w.is_serverless(), w.name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wh(id: &str, state: WarehouseState, serverless: bool) -> Warehouse {
        Warehouse {
            id: id.into(),
            name: id.into(),
            state,
            enable_serverless_compute: serverless,
            ..Warehouse::default()
        }
    }

    #[test]
    fn running_before_stopped_and_serverless_first() {
        let list = vec![
            wh("stopped-serverless", WarehouseState::Stopped, true),
            wh("running-classic", WarehouseState::Running, false),
            wh("running-serverless", WarehouseState::Running, true),
            wh("deleted", WarehouseState::Deleted, true),
        ];
        assert_eq!(
            pick(&list).map(|w| w.id.as_str()),
            Some("running-serverless")
        );
        let list = vec![
            wh("stopped-classic", WarehouseState::Stopped, false),
            wh("stopped-serverless", WarehouseState::Stopped, true),
        ];
        assert_eq!(
            pick(&list).map(|w| w.id.as_str()),
            Some("stopped-serverless")
        );
        assert!(pick(&[wh("d", WarehouseState::Deleted, true)]).is_none());
    }

    #[test]
    fn ids_are_validated() {
        assert!(validate_id("abcdef0123456789").is_ok());
        assert!(validate_id("x'; DROP TABLE t; --").is_err());
    }
}
