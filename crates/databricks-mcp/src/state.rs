//! State shared by every session and call: one Databricks client (one connection
//! pool), the operator's settings and the warehouse cache.

use databricks_client::DatabricksClient;

use crate::settings::Settings;
use crate::warehouse::WarehouseSelector;

pub struct AppState {
    pub client: DatabricksClient,
    pub settings: Settings,
    pub warehouses: WarehouseSelector,
}

impl AppState {
    pub fn new(client: DatabricksClient, settings: Settings) -> AppState {
        AppState {
            client,
            settings,
            warehouses: WarehouseSelector::default(),
        }
    }
}
