//! Shutdown on SIGTERM or SIGINT: the first signal starts a graceful drain; a
//! second signal, or the grace period running out, ends the process at once.

use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal as unix_signal};

async fn next_signal() {
    let (Ok(mut term), Ok(mut int)) = (unix_signal(SignalKind::terminate()), unix_signal(SignalKind::interrupt()))
    else {
        tracing::error!("cannot listen for signals; stop the process with SIGKILL");
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Resolves on the first signal, and arms the forced exit.
pub async fn signal(grace: Duration) {
    next_signal().await;
    tracing::info!(grace_secs = grace.as_secs_f64(), "shutting down: draining in-flight requests");
    tokio::spawn(async move {
        tokio::select! {
            () = next_signal() => tracing::warn!("second signal: exiting now"),
            () = tokio::time::sleep(grace) => tracing::warn!("grace period over: exiting now"),
        }
        std::process::exit(1);
    });
}
