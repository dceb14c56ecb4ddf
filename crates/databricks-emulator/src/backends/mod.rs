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

/// Items whose state may be in transition: a transitional state (STARTING, TERMINATING, …)
/// is reported by one read, then the item settles to the final state.
pub(crate) struct Tracked<T> {
    items: Vec<T>,
    id_of: fn(&T) -> &str,
    /// Item `i` as its next read leaves it, when it is in transition.
    settle: HashMap<usize, T>,
}

impl<T: Clone> Tracked<T> {
    pub fn new(items: Vec<T>, id_of: fn(&T) -> &str) -> Tracked<T> {
        Tracked {
            items,
            id_of,
            settle: HashMap::new(),
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|item| (self.id_of)(item) == id)
    }

    /// Item `id` as it stands, without settling it.
    pub fn peek(&self, id: &str) -> Option<&T> {
        self.items.get(self.position(id)?)
    }

    /// Changes item `id` by `now`; the read after this one sees it changed by `then` too.
    pub fn transition(&mut self, id: &str, now: impl FnOnce(&mut T), then: impl FnOnce(&mut T)) {
        let Some(i) = self.position(id) else {
            return;
        };
        let Some(item) = self.items.get_mut(i) else {
            return;
        };
        now(item);
        let mut settled = item.clone();
        then(&mut settled);
        self.settle.insert(i, settled);
    }

    /// Reads item `i` (a copy), settling a pending transition afterwards.
    fn read_at(&mut self, i: usize) -> Option<T> {
        let item = self.items.get_mut(i)?;
        let seen = item.clone();
        if let Some(settled) = self.settle.remove(&i) {
            *item = settled;
        }
        Some(seen)
    }

    /// Reads item `id`, settling it.
    pub fn read(&mut self, id: &str) -> Option<T> {
        self.read_at(self.position(id)?)
    }

    /// Reads every item, settling them.
    pub fn read_all(&mut self) -> Vec<T> {
        (0..self.items.len())
            .filter_map(|i| self.read_at(i))
            .collect()
    }
}
