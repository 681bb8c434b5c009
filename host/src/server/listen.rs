//! The accept loops: HTTP/1.1 connections served by hyper on `server.workers`
//! threads, each with its own single-threaded event loop and its own handle on
//! the one listening socket (a connection lives on the thread that accepted it,
//! so no request wakes another thread). Headers must arrive within a timeout
//! (which also closes idle keep-alive connections), open connections are capped
//! across all threads, and on the shutdown signal every thread stops accepting
//! and drains its connections.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use super::check::{Answer, Fast};

/// How connections are bounded and served.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// The longest a connection may take to send a request's complete headers,
    /// counted from when it is ready for a request (so also the idle keep-alive limit).
    pub header_read_timeout: Duration,
    /// Open connections at most, over all threads; more wait in the listen backlog.
    pub max_connections: usize,
    /// Serving threads (0: one per core).
    pub workers: usize,
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains open connections.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    fast: Fast,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let workers = match limits.workers {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        n => n,
    };
    listener.set_nonblocking(true).context("failed to make the listening socket non-blocking")?;
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopped) = watch::channel(false);
    let mut threads = Vec::with_capacity(workers);
    for index in 0..workers {
        let listener = listener.try_clone().context("failed to share the listening socket")?;
        let (app, fast, slots, stopped) = (app.clone(), fast.clone(), Arc::clone(&slots), stopped.clone());
        let (done, finished) = tokio::sync::oneshot::channel::<Result<()>>();
        std::thread::Builder::new()
            .name(format!("tokenscope-http-{index}"))
            .spawn(move || {
                let served = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("failed to start a serving thread's event loop")
                    .and_then(|runtime| runtime.block_on(accept_loop(listener, app, fast, limits, slots, stopped)));
                let _ = done.send(served);
            })
            .context("failed to start a serving thread")?;
        threads.push(finished);
    }
    drop(listener);
    shutdown.await;
    let _ = stop.send(true);
    for finished in threads {
        finished.await.context("a serving thread died")??;
    }
    Ok(())
}

/// One thread's loop: accept, serve each connection on this thread, drain on stop.
async fn accept_loop(
    listener: std::net::TcpListener,
    app: Router,
    fast: Fast,
    limits: ConnectionLimits,
    slots: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
) -> Result<()> {
    let listener = TcpListener::from_std(listener).context("failed to watch the listening socket")?;
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let stop = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot?,
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        let (app, fast) = (app.clone(), fast.clone());
        let service = service_fn(move |mut request: Request<Incoming>| {
            let answer = fast.takes(&request).then(|| fast.answer(&request));
            let app = app.clone();
            async move {
                match answer {
                    Some(Answer::Now(answer)) => Ok(answer),
                    Some(Answer::Later(waiting)) => Ok(waiting.await),
                    None => {
                        // Where the request came from, for the audit trail's events.
                        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                        app.oneshot(request.map(Body::new)).await
                    }
                }
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!("connection ended: {err}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
