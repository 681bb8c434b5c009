//! `tokenscope serve`: the HTTP front end. Proxies ask the check endpoint whether
//! a request may pass; people and scripts manage tokens and policy modules over
//! the API; `/healthz`, `/readyz` and `/metrics` report on the process. Requests
//! are size- and time-bounded; SIGHUP and changes to the policy file reload the
//! policy; SIGTERM/SIGINT drain in-flight requests and flush usage counts.

mod api;
mod api_body;
mod api_caller;
mod api_error;
mod audit_api;
mod blocking;
mod body_limit;
mod check;
pub(crate) mod client_info;
mod error;
mod exchange_api;
mod health;
mod introspect_api;
mod leaks_api;
mod listen;
mod metrics;
mod policy_api;
mod principals_api;
mod reload;
mod request_headers;
mod shutdown;
mod ui;

/// The OpenAPI 3 document of every endpoint, checked in beside the crate.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Every endpoint `router` serves, as the OpenAPI document names it (the check
/// endpoints accept any method; the document lists GET and POST).
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("POST", "/v1/introspect"),
    ("GET", "/v1/revocations"),
    ("POST", "/v1/leaks"),
    ("GET", "/v1/check"),
    ("POST", "/v1/check"),
    ("GET", "/v1/check/{path}"),
    ("POST", "/v1/check/{path}"),
    ("GET", "/api/system/tokens"),
    ("GET", "/api/account/tokens"),
    ("POST", "/api/account/tokens"),
    ("PATCH", "/api/account/tokens/{id}"),
    ("DELETE", "/api/account/tokens/{id}"),
    ("POST", "/api/account/tokens/{id}/revoke"),
    ("GET", "/api/principals"),
    ("POST", "/api/principals"),
    ("DELETE", "/api/principals/{name}"),
    ("POST", "/api/principals/{name}/bind"),
    ("POST", "/api/principals/{name}/unbind"),
    ("GET", "/api/principals/{name}/tokens"),
    ("POST", "/api/principals/{name}/tokens"),
    ("PATCH", "/api/principals/{name}/tokens/{id}"),
    ("DELETE", "/api/principals/{name}/tokens/{id}"),
    ("POST", "/api/principals/{name}/tokens/{id}/revoke"),
    ("GET", "/api/system/policy"),
    ("POST", "/api/system/policy"),
    ("POST", "/api/system/policy/rollback"),
    ("GET", "/api/system/fleet"),
    ("GET", "/api/system/audit"),
    ("POST", "/api/auth/exchange"),
];

use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::routing::{any, get, patch, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::authority::Authority;

/// What every handler shares.
pub struct AppState {
    /// Every decision and change goes through it.
    pub(crate) authority: Arc<Authority>,
    /// What `/metrics` reports.
    pub(crate) metrics: metrics::Metrics,
    /// Module uploads read at a time (`POST /api/system/policy`).
    pub(crate) uploads: tokio::sync::Semaphore,
    /// The `x-tokenscope-policy` value of the module that decided last, made once per module.
    pub(crate) policy_header: arc_swap::ArcSwapOption<(Arc<str>, axum::http::HeaderValue)>,
    /// The token page's sessions.
    pub(crate) ui: ui::UiState,
    /// The digest of the role definitions the change feed carries (the config does not change while serving).
    pub(crate) rights_epoch: String,
    /// This host's part in the fleet, when its store is shared.
    pub(crate) fleet: Option<Arc<crate::fleet::Member>>,
    /// Identity token exchange (`[oidc]`).
    pub(crate) oidc: Arc<crate::oidc::Exchanger>,
    /// Leak reports (`[leaks]`): the signers' keys and the signed bodies seen lately.
    pub(crate) leaks: leaks_api::LeakDesk,
    /// Checks that may wait for the store at once (`server.store_waits`).
    pub(crate) store_waits: Arc<tokio::sync::Semaphore>,
}

/// How many module uploads are read at once; more wait for none, they get 429.
pub const UPLOADS: usize = 2;

/// The router with every endpoint and limit; `serve` runs it, tests may too.
pub fn router(authority: Arc<Authority>) -> Result<Router> {
    app(authority, None).map(|(router, _)| router)
}

/// The router, and the lean path for check requests that `serve` puts ahead of it.
fn app(authority: Arc<Authority>, fleet: Option<Arc<crate::fleet::Member>>) -> Result<(Router, check::Fast)> {
    let config = authority.config().clone();
    let prefix = config.check.written().prefix.clone();
    let state = Arc::new(AppState {
        authority,
        metrics: metrics::Metrics::new(),
        uploads: tokio::sync::Semaphore::new(UPLOADS),
        policy_header: arc_swap::ArcSwapOption::empty(),
        ui: ui::UiState::new(
            config.server.public_url.as_deref(),
            ui::Sessions::new(config.server.session_idle, config.server.session_max),
        ),
        rights_epoch: introspect_api::rights_epoch(&config),
        fleet,
        oidc: Arc::new(crate::oidc::Exchanger::new(&config.oidc)),
        leaks: leaks_api::LeakDesk::new(&config.leaks),
        store_waits: Arc::new(tokio::sync::Semaphore::new(config.server.store_waits)),
    });
    let fast = check::Fast::new(Arc::clone(&state), &prefix, config.server.max_header_bytes);
    let bounded = |router: Router<Arc<AppState>>, max: usize| {
        router
            .layer(axum::extract::DefaultBodyLimit::max(max))
            .layer(RequestBodyLimitLayer::new(max))
            .layer(axum::middleware::from_fn_with_state(max, body_limit::limit_body))
    };
    let everything = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/", get(|| async { axum::response::Redirect::to("/ui/") }))
        .merge(ui::routes(state.ui.origin.clone()))
        .route("/api/system/tokens", get(api::list_scopes))
        .route("/api/account/tokens", get(api::list_tokens).post(api::create_token))
        .route("/api/account/tokens/{id}", patch(api::edit_token).delete(api::delete_token))
        .route("/api/account/tokens/{id}/revoke", post(api::revoke_token))
        .route("/api/principals", get(principals_api::list).post(principals_api::add))
        .route("/api/principals/{name}", axum::routing::delete(principals_api::remove))
        .route("/api/principals/{name}/bind", post(principals_api::bind))
        .route("/api/principals/{name}/unbind", post(principals_api::unbind))
        .route("/api/principals/{name}/tokens", get(principals_api::list_tokens).post(principals_api::create_token))
        .route(
            "/api/principals/{name}/tokens/{id}",
            patch(principals_api::edit_token).delete(principals_api::delete_token),
        )
        .route("/api/principals/{name}/tokens/{id}/revoke", post(principals_api::revoke_token))
        .route("/api/system/policy/rollback", post(policy_api::rollback))
        .route("/api/system/fleet", get(policy_api::fleet))
        .route("/api/system/audit", get(audit_api::list))
        .route("/v1/introspect", post(introspect_api::introspect))
        .route("/v1/revocations", get(introspect_api::revocations))
        .route(&prefix, any(check::check))
        .route(&format!("{prefix}/{{*rest}}"), any(check::check));
    // An identity token too large to be one is refused as such, so its route reads a little more.
    let exchange = Router::new().route("/api/auth/exchange", post(exchange_api::exchange));
    // A full leak report (1,000 entries) is larger than other API bodies.
    let leaks = Router::new().route("/v1/leaks", post(leaks_api::report));
    // Modules are larger than any other body: that one route has its own limit.
    // A request slower than `request_timeout` is answered 408, except a module
    // upload once its body is read: the gate then runs to its end and the answer
    // says what became of the module (never a 408 for a module that went live).
    let timeout =
        TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, config.server.request_timeout);
    let modules =
        Router::new().route("/api/system/policy", get(policy_api::status).layer(timeout).post(policy_api::load));
    let router = bounded(everything, config.server.max_body_bytes)
        .merge(bounded(exchange, exchange_api::MAX_BODY))
        .merge(bounded(leaks, leaks_api::MAX_BODY))
        .fallback(error::not_found)
        .layer(timeout)
        .merge(bounded(modules, config.policy.max_module_bytes))
        .layer(axum::middleware::from_fn_with_state(config.server.max_header_bytes, error::limit_headers))
        .layer(axum::middleware::from_fn(error::json_errors))
        .with_state(state);
    Ok((router, fast))
}

async fn openapi() -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Serves until SIGTERM or SIGINT, then drains and flushes usage.
pub async fn serve(authority: Arc<Authority>) -> Result<()> {
    let config = authority.config().clone();
    // Bound here (with tokio's backlog of 1,024), then handed to the serving threads.
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .and_then(tokio::net::TcpListener::into_std)
        .with_context(|| format!("failed to listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    let fleet = crate::fleet::Member::join(&authority, address);
    if let Some(member) = &fleet {
        // The fleet's module decides from the first request on.
        let joining = Arc::clone(member);
        match tokio::task::spawn_blocking(move || joining.follow()).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!("cannot read the fleet's desired module yet: {err}"),
            Err(err) => tracing::error!("following the fleet failed: {err}"),
        }
        tracing::info!(host = %member.id(), "joined the fleet");
    }
    let (app, fast) = app(Arc::clone(&authority), fleet.clone())?;
    let flusher = authority.spawn_usage_flusher();
    let refresher = authority.spawn_counter_refresher();
    let notifier = authority.expiry_notifier().spawn();
    let pruner = authority.spawn_audit_pruner();
    let reloaders = reload::spawn(&authority)?;
    // Without it, another process's writes still arrive within `cache.refresh` twice.
    let _store_watch = match authority.watch_store() {
        Ok(watch) => watch,
        Err(err) => {
            tracing::warn!("the store cannot be watched; other processes' writes are seen by polling: {err}");
            None
        }
    };
    let heartbeat = fleet.as_ref().map(crate::fleet::Member::spawn);
    tracing::info!(%address, policy = %authority.module().label(), "tokenscope serving");
    // Scripts and tests read the bound address (useful with port 0) from this line.
    println!("listening on http://{address}");
    let limits = listen::ConnectionLimits {
        header_read_timeout: config.server.header_read_timeout,
        max_connections: config.server.max_connections,
        workers: config.server.workers,
    };
    listen::serve(listener, app, fast, limits, shutdown::signal(config.server.shutdown_grace))
        .await
        .context("the server failed")?;
    flusher.abort();
    refresher.abort();
    notifier.abort();
    pruner.abort();
    if let Some(heartbeat) = heartbeat {
        heartbeat.abort();
    }
    if let Some(member) = fleet {
        match tokio::task::spawn_blocking(move || member.leave()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!("cannot take this host off the fleet's list: {err}"),
            Err(err) => tracing::warn!("leaving the fleet failed: {err}"),
        }
    }
    for task in reloaders {
        task.abort();
    }
    let flushed = authority.flush_usage()?;
    tracing::info!(tokens = flushed, "shut down; usage flushed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_lists_exactly_the_served_endpoints() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys().filter(|k| *k != "parameters") {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        let mut served: Vec<(String, String)> =
            ENDPOINTS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }
}
