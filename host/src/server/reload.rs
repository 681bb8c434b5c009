//! What makes `tokenscope serve` reload its policy file (`policy.file`): SIGHUP,
//! and changes to the file on disk (watched with `notify`, when `policy.watch`).
//! A changed file is read only once it has settled: two reads `policy.settle`
//! apart must give the same bytes, so a half-written file is never loaded
//! (shipping by writing a new file and renaming it over the old one is atomic).
//! The module then goes through the gate; on any failure the active one stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::authority::Authority;
use crate::swap::SwapOutcome;

/// How many settle periods a file may keep changing before the reload gives up.
const MAX_SETTLE_ROUNDS: usize = 50;

/// Reads `path` once its content is the same on two reads `settle` apart.
pub async fn read_settled(path: &Path, settle: Duration) -> Result<Vec<u8>> {
    let mut previous = read(path).await?;
    for _ in 0..MAX_SETTLE_ROUNDS {
        tokio::time::sleep(settle).await;
        let bytes = read(path).await?;
        if bytes == previous {
            return Ok(bytes);
        }
        previous = bytes;
    }
    bail!("`{}` kept changing for {} ms; not loaded", path.display(), (settle * MAX_SETTLE_ROUNDS as u32).as_millis())
}

/// The file's bytes, read off the async threads.
async fn read(path: &Path) -> Result<Vec<u8>> {
    tokio::fs::read(path).await.with_context(|| format!("failed to read `{}`", path.display()))
}

/// Loads `bytes` into the authority's policy slot off the async threads; the
/// audit trail names `part` of the host (`policy-watch`, `sighup`) as the actor.
pub async fn swap_in(authority: &Arc<Authority>, bytes: Vec<u8>, source: String, part: &str) -> Result<SwapOutcome> {
    let authority = Arc::clone(authority);
    let part = part.to_owned();
    tokio::task::spawn_blocking(move || {
        let event = authority.system_event(&part, "policy.load", "policy".into());
        authority.load_policy(&bytes, &source, &event)
    })
    .await
    .context("the policy load was interrupted")
}

/// Starts the SIGHUP handler and, when `policy.watch`, the file watcher, for
/// the configured policy file; nothing when there is none.
pub fn spawn(authority: &Arc<Authority>) -> Result<Vec<JoinHandle<()>>> {
    let Some(path) = authority.config().policy.file.clone() else {
        return Ok(Vec::new());
    };
    let settle = authority.config().policy.settle;
    let (tx, rx) = mpsc::channel::<Trigger>(1);
    let mut tasks = vec![tokio::spawn(reloader(Arc::clone(authority), path.clone(), settle, rx))];
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("failed to listen for SIGHUP")?;
    let signals = tx.clone();
    tasks.push(tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let _ = signals.send(Trigger { kind: TriggerKind::Sighup, at: Instant::now() }).await;
        }
    }));
    if authority.config().policy.watch {
        tasks.push(watch(&path, tx)?);
    }
    Ok(tasks)
}

struct Trigger {
    kind: TriggerKind,
    at: Instant,
}

/// What asked for a reload.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TriggerKind {
    /// SIGHUP: the operator says the file is ready.
    Sighup,
    /// The watcher saw the file change: it must settle first.
    FileChange,
}

impl TriggerKind {
    /// The name in log lines.
    fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Sighup => "sighup",
            TriggerKind::FileChange => "file-change",
        }
    }
}

/// Turns file events about `path` into reload triggers. The watcher looks at the
/// file's directory, so a rename over the file is seen like a write to it.
fn watch(path: &Path, tx: mpsc::Sender<Trigger>) -> Result<JoinHandle<()>> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let name = path.file_name().map(ToOwned::to_owned).context("the policy file has no file name")?;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let relevant = matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_))
            && event.paths.iter().any(|p| p.file_name() == Some(name.as_os_str()));
        if relevant {
            // A full queue already holds a trigger: this change will be read with it.
            let _ = tx.try_send(Trigger { kind: TriggerKind::FileChange, at: Instant::now() });
        }
    })
    .context("failed to start watching the policy file")?;
    watcher.watch(&dir, RecursiveMode::NonRecursive).with_context(|| format!("failed to watch `{}`", dir.display()))?;
    tracing::info!(file = %path.display(), "watching the policy file");
    // The watcher lives as long as this task; the server aborts it at shutdown.
    Ok(tokio::spawn(async move {
        let _watcher = watcher;
        std::future::pending::<()>().await;
    }))
}

async fn reloader(authority: Arc<Authority>, path: PathBuf, settle: Duration, mut rx: mpsc::Receiver<Trigger>) {
    while let Some(trigger) = rx.recv().await {
        // SIGHUP says the file is ready; a file change must settle first.
        let bytes = match trigger.kind {
            TriggerKind::Sighup => read(&path).await,
            TriggerKind::FileChange => read_settled(&path, settle).await,
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(err) => {
                tracing::warn!(trigger = trigger.kind.as_str(), "policy not reloaded: {err:#}");
                continue;
            }
        };
        let part = match trigger.kind {
            TriggerKind::Sighup => "sighup",
            TriggerKind::FileChange => "policy-watch",
        };
        match swap_in(&authority, bytes, path.display().to_string(), part).await {
            Ok(outcome) => tracing::info!(
                trigger = trigger.kind.as_str(),
                outcome = outcome.as_str(),
                since_trigger_ms = trigger.at.elapsed().as_secs_f64() * 1000.0,
                "policy reload"
            ),
            Err(err) => tracing::error!(trigger = trigger.kind.as_str(), "policy reload failed: {err:#}"),
        }
    }
}
