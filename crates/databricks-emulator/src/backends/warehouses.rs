//! SQL Warehouses (REFERENCE §2) as fixture data: the [`Warehouses`] backend the shared
//! workspace server routes to. Start and stop move a warehouse through
//! STARTING/STOPPING, reported once, to RUNNING/STOPPED.

use std::sync::{Arc, Mutex};

use databricks_api::backend::{Answer, Warehouses};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::sql::Warehouse;
use serde_json::json;

use super::Tracked;
use crate::fixtures::fixture_json;
use crate::util::{fixture_model, lock};

/// The warehouses of `warehouses_list.json`, with their states; shared by the backend and
/// statement execution (which starts a stopped warehouse).
#[derive(Clone)]
pub(crate) struct FixtureWarehouses(Arc<Mutex<Tracked>>);

impl FixtureWarehouses {
    pub fn new() -> FixtureWarehouses {
        let items = crate::util::items(&fixture_json("warehouses_list.json"), "warehouses");
        FixtureWarehouses(Arc::new(Mutex::new(Tracked::new(items, "id"))))
    }

    /// Used by statement execution: 404 for an unknown warehouse; a stopped warehouse is
    /// started (as Databricks does when a statement arrives).
    pub fn ensure_for_statement(&self, id: &str) -> Result<(), ApiError> {
        self.start(id)
    }

    fn start(&self, id: &str) -> Result<(), ApiError> {
        let mut w = lock(&self.0);
        let i = w.position(id).ok_or_else(|| unknown(id))?;
        if matches!(w.state(i), "STOPPED" | "STOPPING") {
            w.transition(
                i,
                "STARTING",
                Some(("RUNNING", Some(("num_clusters", json!(1))))),
            );
        }
        Ok(())
    }

    fn stop(&self, id: &str) -> Result<(), ApiError> {
        let mut w = lock(&self.0);
        let i = w.position(id).ok_or_else(|| unknown(id))?;
        if matches!(w.state(i), "RUNNING" | "STARTING") {
            w.transition(
                i,
                "STOPPING",
                Some(("STOPPED", Some(("num_clusters", json!(0))))),
            );
        }
        Ok(())
    }

    fn read(&self, id: &str) -> Result<Warehouse, ApiError> {
        let mut w = lock(&self.0);
        let i = w.position(id).ok_or_else(|| unknown(id))?;
        fixture_model(w.read(i))
    }

    fn read_all(&self) -> Result<Vec<Warehouse>, ApiError> {
        let mut w = lock(&self.0);
        (0..w.items.len())
            .map(|i| fixture_model(w.read(i)))
            .collect()
    }
}

fn unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("SQL warehouse {id} does not exist or you do not have permission to access it."),
    )
}

impl Warehouses for FixtureWarehouses {
    fn warehouses(&self) -> Answer<'_, Vec<Warehouse>> {
        Box::pin(async move { self.read_all() })
    }

    fn warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, Warehouse> {
        Box::pin(async move { self.read(id) })
    }

    fn start_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.start(id) })
    }

    fn stop_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.stop(id) })
    }
}
