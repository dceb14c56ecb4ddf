//! Embedded local workspace (work in progress).
pub fn placeholder() -> datafusion::prelude::SessionContext {
    datafusion::prelude::SessionContext::new()
}
