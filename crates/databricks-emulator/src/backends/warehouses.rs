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

    /// Moves warehouse `id` through `through` to `to` with `clusters` clusters when it is
    /// in one of the states `from`; 404 for an unknown warehouse.
    fn shift(
        &self,
        id: &str,
        from: [WarehouseState; 2],
        (through, to, clusters): (WarehouseState, WarehouseState, i64),
    ) -> Result<(), ApiError> {
        let mut w = lock(&self.0);
        let current = w.peek(id).ok_or_else(|| unknown(id))?;
        if from.contains(&current.state) {
            w.transition(
                id,
                |w| w.state = through,
                |w| {
                    w.state = to;
                    w.num_clusters = Some(clusters);
                },
            );
        }
        Ok(())
    }

    /// Also used by statement execution: a stopped warehouse is started (as Databricks
    /// does when a statement arrives).
    pub fn start(&self, id: &str) -> Result<(), ApiError> {
        use WarehouseState::*;
        self.shift(id, [Stopped, Stopping], (Starting, Running, 1))
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
        Box::pin(async move { Ok(lock(&self.0).read_all()) })
    }

    fn warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, Warehouse> {
        Box::pin(async move { lock(&self.0).read(id).ok_or_else(|| unknown(id)) })
    }

    fn start_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.start(id) })
    }

    fn stop_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        use WarehouseState::*;
        Box::pin(async move { self.shift(id, [Running, Starting], (Stopping, Stopped, 0)) })
    }
}
