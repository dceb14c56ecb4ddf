//! Waiting for long operations: poll with backoff until a terminal state, a deadline or
//! a cancellation. One loop for every "…and wait" call (statements, Genie messages, and
//! later runs, pipeline updates, …) so that they all honour the deadline and the
//! caller's cancellation the same way.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long to wait between two polls: `first`, then multiplied by `factor` up to `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub first: Duration,
    pub factor: f64,
    pub max: Duration,
}

impl Backoff {
    /// The wait after `wait`.
    fn next(self, wait: Duration) -> Duration {
        wait.mul_f64(self.factor.max(1.0)).min(self.max)
    }
}

/// Which poll is about to run, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first poll.
    pub number: u32,
    /// Time since polling started.
    pub elapsed: Duration,
}

/// How polling ended without an error.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled<T> {
    /// The value reached a terminal state.
    Done(T),
    /// The deadline passed first: the last value seen, still unfinished (the caller
    /// hands back a handle to poll later).
    DeadlinePassed(T),
}

impl<T> Polled<T> {
    pub fn into_inner(self) -> T {
        match self {
            Polled::Done(v) | Polled::DeadlinePassed(v) => v,
        }
    }
}

/// Why polling stopped early. Both carry the last value seen, so the caller can clean
/// up (cancel the operation upstream) or say what to poll.
#[derive(Debug)]
pub enum PollError<T, E> {
    /// The cancellation token fired.
    Cancelled { last: T },
    /// A poll failed.
    Failed { last: T, error: E },
}

/// Polls from `initial` until `is_done` holds, `deadline` passes or `cancel` fires.
///
/// `poll` gets the last value and the attempt, and returns the future of the next value;
/// the future may not borrow the value (take what it needs, such as an id, first). A
/// poll in flight when `cancel` fires is dropped. The first poll runs `backoff.first`
/// after the call; the wait is cut short at the deadline.
pub async fn poll_until<T, E, Done, Poll, Fut>(
    initial: T,
    is_done: Done,
    mut poll: Poll,
    backoff: Backoff,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<Polled<T>, PollError<T, E>>
where
    Done: Fn(&T) -> bool,
    Poll: FnMut(&T, Attempt) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut value = initial;
    let mut wait = backoff.first;
    let mut number = 0u32;
    loop {
        if is_done(&value) {
            return Ok(Polled::Done(value));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Polled::DeadlinePassed(value));
        }
        tokio::select! {
            () = tokio::time::sleep(wait.min(deadline - now)) => {}
            () = cancel.cancelled() => return Err(PollError::Cancelled { last: value }),
        }
        wait = backoff.next(wait);
        number = number.saturating_add(1);
        let attempt = Attempt {
            number,
            elapsed: started.elapsed(),
        };
        let next = poll(&value, attempt);
        let polled = tokio::select! {
            r = next => r,
            () = cancel.cancelled() => return Err(PollError::Cancelled { last: value }),
        };
        match polled {
            Ok(v) => value = v,
            Err(error) => return Err(PollError::Failed { last: value, error }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const BACKOFF: Backoff = Backoff {
        first: Duration::from_millis(100),
        factor: 2.0,
        max: Duration::from_secs(1),
    };

    /// Counts up by one per poll; done at `done_at`.
    async fn count(
        done_at: u32,
        deadline: Duration,
        cancel: &CancellationToken,
    ) -> (Result<Polled<u32>, PollError<u32, String>>, Vec<Duration>) {
        let start = Instant::now();
        let mut at = Vec::new();
        let result = poll_until(
            0u32,
            |v| *v >= done_at,
            |v, _| {
                at.push(start.elapsed());
                let next = *v + 1;
                async move { Ok::<_, String>(next) }
            },
            BACKOFF,
            start + deadline,
            cancel,
        )
        .await;
        (result, at)
    }

    #[tokio::test(start_paused = true)]
    async fn backs_off_until_done() {
        let (result, at) = count(5, Duration::from_secs(60), &CancellationToken::new()).await;
        assert_eq!(result.ok(), Some(Polled::Done(5)));
        let ms: Vec<u128> = at.iter().map(Duration::as_millis).collect();
        // 100, +200, +400, +800, +1000 (capped).
        assert_eq!(ms, vec![100, 300, 700, 1500, 2500]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_done_value_is_not_polled() {
        let (result, at) = count(0, Duration::from_secs(60), &CancellationToken::new()).await;
        assert_eq!(result.ok(), Some(Polled::Done(0)));
        assert!(at.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_returns_the_last_value() {
        let start = Instant::now();
        let (result, at) = count(100, Duration::from_millis(1000), &CancellationToken::new()).await;
        // Polls at 100, 300, 700, then the wait is cut to the deadline at 1000.
        assert_eq!(at.len(), 4);
        assert_eq!(result.ok(), Some(Polled::DeadlinePassed(4)));
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_stops_a_wait_and_a_poll_in_flight() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(250)).await;
            trigger.cancel();
        });
        let (result, _) = count(100, Duration::from_secs(60), &cancel).await;
        assert!(matches!(result, Err(PollError::Cancelled { last: 1 })));

        // A poll that never answers is dropped on cancel.
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        let polls = Arc::new(AtomicU32::new(0));
        let seen = polls.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            trigger.cancel();
        });
        let start = Instant::now();
        let result = poll_until(
            7u32,
            |_| false,
            |_, _| {
                seen.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<Result<u32, String>>()
            },
            BACKOFF,
            start + Duration::from_secs(60),
            &cancel,
        )
        .await;
        assert!(matches!(result, Err(PollError::Cancelled { last: 7 })));
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_poll_keeps_the_last_value() {
        let start = Instant::now();
        let result = poll_until(
            3u32,
            |_| false,
            |v, attempt| {
                let v = *v;
                async move {
                    if attempt.number < 2 {
                        Ok(v + 1)
                    } else {
                        Err(format!("boom at {}", attempt.elapsed.as_millis()))
                    }
                }
            },
            BACKOFF,
            start + Duration::from_secs(60),
            &CancellationToken::new(),
        )
        .await;
        match result {
            Err(PollError::Failed { last, error }) => {
                assert_eq!(last, 4);
                assert_eq!(error, "boom at 300");
            }
            other => panic!("{other:?}"),
        }
    }
}
