//! One module per Databricks service: the fixture data behind each backend trait of
//! `databricks_api::backend`, which the shared workspace server answers from.

pub(crate) mod catalog;
pub(crate) mod clusters;
pub(crate) mod files;
pub(crate) mod genie;
pub(crate) mod genie_one;
pub(crate) mod jobs;
pub(crate) mod misc;
pub(crate) mod pipelines;
pub(crate) mod serving;
pub(crate) mod statements;
pub(crate) mod vector_search;
pub(crate) mod warehouses;
pub(crate) mod workspace;

use std::collections::HashMap;

use serde_json::{Value, json};

/// The state (and one extra field) an item settles to on its next read.
type Settle = (String, Option<(&'static str, Value)>);

/// A list of JSON objects keyed by an id field, whose `state` may be in transition: a
/// transitional state (STARTING, TERMINATING, …) is reported once, then the final state.
pub(crate) struct Tracked {
    pub items: Vec<Value>,
    id_key: &'static str,
    settle: HashMap<String, Settle>,
}

impl Tracked {
    pub fn new(items: Vec<Value>, id_key: &'static str) -> Tracked {
        Tracked {
            items,
            id_key,
            settle: HashMap::new(),
        }
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.items
            .iter()
            .position(|v| v.get(self.id_key).and_then(Value::as_str) == Some(id))
    }

    pub fn state(&self, i: usize) -> &str {
        self.items
            .get(i)
            .and_then(|item| item.get("state"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// Item `i`, to change in place (`i` from [`Tracked::position`]).
    pub fn item_mut(&mut self, i: usize) -> Option<&mut Value> {
        self.items.get_mut(i)
    }

    /// Sets the state now and, if `then` is given, the state (and one extra field) the next
    /// read after this one will see.
    pub fn transition(
        &mut self,
        i: usize,
        now: &str,
        then: Option<(&str, Option<(&'static str, Value)>)>,
    ) {
        let Some(item) = self.items.get_mut(i) else {
            return;
        };
        crate::util::set(item, "state", json!(now));
        let id = item
            .get(self.id_key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match then {
            Some((state, extra)) => {
                self.settle.insert(id, (state.to_string(), extra));
            }
            None => {
                self.settle.remove(&id);
            }
        }
    }

    /// Reads item `i` (a copy), settling a pending transition afterwards.
    pub fn read(&mut self, i: usize) -> Value {
        let Some(item) = self.items.get_mut(i) else {
            return Value::Null;
        };
        let v = item.clone();
        let id = v
            .get(self.id_key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some((state, extra)) = self.settle.remove(&id) {
            crate::util::set(item, "state", json!(state));
            if let Some((k, val)) = extra {
                crate::util::set(item, k, val);
            }
        }
        v
    }
}
