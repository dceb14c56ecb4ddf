//! SQL Warehouses (REFERENCE §2) as fixture data: the [`Warehouses`] backend the shared
//! workspace server routes to. Start and stop move a warehouse through
//! STARTING/STOPPING, reported once, to RUNNING/STOPPED.

use std::sync::{Arc, Mutex};

use databricks_api::backend::{Answer, Warehouses, async_trait};
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

#[async_trait]
impl Warehouses for FixtureWarehouses {
    async fn warehouses(&self) -> Answer<Vec<Warehouse>> {
        Ok(lock(&self.0).read_all())
    }

    async fn warehouse(&self, id: &str) -> Answer<Warehouse> {
        lock(&self.0).read(id).ok_or_else(|| unknown(id))
    }

    async fn start_warehouse(&self, id: &str) -> Answer<()> {
        self.start(id)
    }

    async fn stop_warehouse(&self, id: &str) -> Answer<()> {
        use WarehouseState::*;
        self.shift(id, [Running, Starting], (Stopping, Stopped, 0))
    }
}
