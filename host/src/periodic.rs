//! Background work that runs every interval: store I/O on tokio's blocking pool,
//! failures logged and retried at the next tick, until the task is aborted.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

/// Runs `work` now and then every `interval`; `what` names it in error logs.
pub fn spawn_periodic<F>(what: &'static str, interval: Duration, work: F) -> JoinHandle<()>
where
    F: Fn() -> anyhow::Result<()> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let pass = Arc::clone(&work);
            match tokio::task::spawn_blocking(move || pass()).await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::error!("{what} failed: {err:#}"),
                Err(err) => tracing::error!("{what} task failed: {err}"),
            }
        }
    })
}
