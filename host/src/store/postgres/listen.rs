//! The hosts' change notifications: one connection per host LISTENs on
//! `tokenscope_changes` and `tokenscope_policy`. It is probed every
//! `PROBE` so a silently dead link is noticed; while it is down the host is
//! told it is deaf (its caches must not answer), and when LISTEN works again it
//! is told something changed (the caches reread the change counter, so nothing
//! committed in between is missed).

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{AsyncMessage, NoTls};

use crate::store::{StoreSignal, Watch};

/// How often the listening connection is probed; each probe reads the change
/// counter, which keeps the caches confirmed (within twice `cache.refresh`)
/// without the pool, so a slow pool does not stop checks answered from memory.
const PROBE: Duration = Duration::from_millis(150);
/// How long a probe may take before the connection counts as lost.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);
/// The wait before connecting again after a loss.
const RETRY: Duration = Duration::from_millis(250);

/// Starts listening on `handle`; stops when the returned guard is dropped.
pub fn spawn(
    handle: &tokio::runtime::Handle,
    config: tokio_postgres::Config,
    signal: Arc<dyn Fn(StoreSignal) + Send + Sync>,
) -> Watch {
    let task = handle.spawn(async move {
        let mut quiet = false;
        loop {
            // `listen` reports `Changed` once it listens; until then the host is deaf.
            if let Err(err) = listen(&config, &*signal, &mut quiet).await {
                if !quiet {
                    tracing::warn!(
                        "the store's change notifications stopped ({err:#}); reading through until they resume"
                    );
                }
                // One line per outage, not one per retry.
                quiet = true;
            }
            signal(StoreSignal::Deaf);
            tokio::time::sleep(RETRY).await;
        }
    });
    Watch::new(AbortOnDrop(task))
}

/// Aborts a task when dropped (the watch guard, a lost connection's driver).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Listens until the connection fails; returns why.
async fn listen(
    config: &tokio_postgres::Config,
    signal: &(dyn Fn(StoreSignal) + Send + Sync),
    quiet: &mut bool,
) -> anyhow::Result<()> {
    let mut config = config.clone();
    // Named apart from the pool's connections, so an operator can tell them apart.
    config.application_name("tokenscope-listen");
    let (client, mut connection) = config.connect(NoTls).await?;
    let (messages, mut received) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if messages.send((n.channel().to_owned(), n.payload().to_owned())).is_err() {
                        return "stopped listening".to_owned();
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => return err.to_string(),
                None => return "the connection closed".to_owned(),
            }
        }
    });
    let _driver = AbortOnDrop(driver);
    client.batch_execute("LISTEN tokenscope_changes; LISTEN tokenscope_policy").await?;
    tracing::info!("listening for the store's change notifications");
    *quiet = false;
    // Listening now: whatever committed while we were not is found by the counter.
    signal(StoreSignal::Changed { sent_ms: None });
    signal(StoreSignal::Fleet);
    let mut probe = tokio::time::interval(PROBE);
    loop {
        tokio::select! {
            message = received.recv() => {
                let Some((channel, payload)) = message else { anyhow::bail!("the connection closed") };
                match channel.as_str() {
                    "tokenscope_changes" => signal(StoreSignal::Changed { sent_ms: payload.parse().ok() }),
                    "tokenscope_policy" => signal(StoreSignal::Fleet),
                    _ => {}
                }
            }
            _ = probe.tick() => {
                let began = crate::time::Moment::now();
                let read = client.query_typed_one("SELECT counter FROM changes WHERE id = 1", &[]);
                match tokio::time::timeout(PROBE_TIMEOUT, read).await {
                    Ok(Ok(row)) => {
                        let counter: i64 = row.try_get(0)?;
                        signal(StoreSignal::Counter { counter: u64::try_from(counter).unwrap_or(0), began });
                    }
                    Ok(Err(err)) => return Err(err.into()),
                    Err(_) => anyhow::bail!("no answer to a probe within {} ms", PROBE_TIMEOUT.as_millis()),
                }
            }
        }
    }
}
