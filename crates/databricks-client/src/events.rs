//! What a caller may want to show a person while a call is under way (a retry after a
//! rate limit, a network error), delivered to an observer set for the current task:
//! the caller wraps its work in [`observed`]; a call outside any scope reports nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A request failed in a way that is retried after `wait`.
    Retrying {
        endpoint: String,
        attempt: u32,
        wait: Duration,
        /// The failure, as the error's text (never a credential).
        reason: String,
    },
}

pub type Observer = Arc<dyn Fn(ClientEvent) + Send + Sync>;

tokio::task_local! {
    static OBSERVER: Observer;
}

/// Runs `work` with `observer` receiving the client's events of this task.
pub async fn observed<F: Future>(observer: Observer, work: F) -> F::Output {
    OBSERVER.scope(observer, work).await
}

pub(crate) fn emit(event: ClientEvent) {
    let _ = OBSERVER.try_with(|observer| observer(event));
}
