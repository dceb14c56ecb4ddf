//! SQL Warehouses (REFERENCE §2) as fixture data: the [`Warehouses`] backend the shared
//! workspace server routes to. Start and stop move a warehouse through
//! STARTING/STOPPING, reported once, to RUNNING/STOPPED.

use std::sync::{Arc, Mutex};

use databricks_api::backend::{Answer, Warehouses};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::sql::{ListWarehousesResponse, Warehouse, WarehouseState};

use super::Tracked;
use crate::fixtures::fixture_as;
use crate::util::lock;

/// The warehouses of `warehouses_list.json`, with their states; shared by the backend and
/// statement execution (which starts a stopped warehouse).
#[derive(Clone)]
pub(crate) struct FixtureWarehouses(Arc<Mutex<Tracked<Warehouse>>>);

impl FixtureWarehouses {
    pub fn new() -> FixtureWarehouses {
        let list: ListWarehousesResponse = fixture_as("warehouses_list.json");
        FixtureWarehouses(Arc::new(Mutex::new(Tracked::new(list.warehouses, |w| {
            &w.id
        }))))
    }

    /// Used by statement execution: 404 for an unknown warehouse; a stopped warehouse is
    /// started (as Databricks does when a statement arrives).
    pub fn ensure_for_statement(&self, id: &str) -> Result<(), ApiError> {
        self.start(id)
    }

    /// Moves warehouse `id` through `through` to `to` with `clusters` clusters when it is
    /// in one of the states `from`.
    fn shift(
        &self,
        id: &str,
        from: [WarehouseState; 2],
        (through, to, clusters): (WarehouseState, WarehouseState, i64),
    ) -> Result<(), ApiError> {
        let mut w = lock(&self.0);
        let i = w.position(id).ok_or_else(|| unknown(id))?;
        if w.items.get(i).is_some_and(|w| from.contains(&w.state)) {
            w.transition(
                i,
                |w| w.state = through,
                |w| {
                    w.state = to;
                    w.num_clusters = Some(clusters);
                },
            );
        }
        Ok(())
    }

    fn start(&self, id: &str) -> Result<(), ApiError> {
        use WarehouseState::*;
        self.shift(id, [Stopped, Stopping], (Starting, Running, 1))
    }

    fn stop(&self, id: &str) -> Result<(), ApiError> {
        use WarehouseState::*;
        self.shift(id, [Running, Starting], (Stopping, Stopped, 0))
    }

    fn read(&self, id: &str) -> Result<Warehouse, ApiError> {
        let mut w = lock(&self.0);
        let i = w.position(id).ok_or_else(|| unknown(id))?;
        w.read(i).ok_or_else(|| unknown(id))
    }

    fn read_all(&self) -> Result<Vec<Warehouse>, ApiError> {
        let mut w = lock(&self.0);
        Ok((0..w.items.len()).filter_map(|i| w.read(i)).collect())
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
