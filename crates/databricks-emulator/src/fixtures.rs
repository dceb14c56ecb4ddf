//! The JSON fixtures (copied from `shared/databricks-api/fixtures`), embedded in the binary.

/// Every embedded fixture: `(file name, text)`, by name (the list is `build.rs`'s).
pub(crate) const FIXTURES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));

/// The text of the fixture file `name` (e.g. `"jobs_list.json"`), if it exists.
pub(crate) fn try_fixture(name: &str) -> Option<&'static str> {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The text of the fixture file `name` (e.g. `"error_429_request_limit_exceeded.json"`).
///
/// # Panics
/// Panics when no fixture has that name: this is test support and a typo should fail loudly.
#[allow(clippy::panic)] // a fixture name is the program's, never a request's
pub fn fixture(name: &str) -> &'static str {
    match try_fixture(name) {
        Some(text) => text,
        None => panic!("databricks-emulator: no fixture named {name:?}"),
    }
}

/// A fixture parsed as JSON (every fixture is: `databricks-api`'s fixture test reads them).
#[allow(clippy::panic)] // a fixture name is the program's, never a request's
pub(crate) fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(fixture(name))
        .unwrap_or_else(|e| panic!("databricks-emulator: fixture {name} is not JSON: {e}"))
}

/// A fixture read into its model (each fits: `databricks-api`'s fixture test reads every
/// fixture into its model).
#[allow(clippy::panic)] // a fixture name is the program's, never a request's
pub(crate) fn fixture_as<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(fixture(name))
        .unwrap_or_else(|e| panic!("databricks-emulator: fixture {name} does not fit: {e}"))
}
