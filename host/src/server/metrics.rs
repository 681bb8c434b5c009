//! `/metrics` in Prometheus text format: check decisions by code, check latency,
//! usage flushes, and the active policy module's name, version and digest.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    name: String,
    version: String,
    sha256: String,
}

pub struct Metrics {
    registry: Registry,
    decisions: Family<CodeLabel, Counter>,
    latency: Histogram,
    flushes: Counter<u64, AtomicU64>,
    failed_flushes: Counter<u64, AtomicU64>,
}

impl Metrics {
    pub fn new(name: &str, version: &str, sha256: &str) -> Metrics {
        let mut registry = Registry::with_prefix("tokenscope");
        let decisions = Family::<CodeLabel, Counter>::default();
        registry.register("check_decisions", "Check endpoint answers by decision code", decisions.clone());
        // 10 µs .. ~1.3 s
        let latency = Histogram::new(exponential_buckets(0.000_01, 2.0, 18));
        registry.register("check_duration_seconds", "Time to answer a check request", latency.clone());
        let flushes = Counter::<u64, AtomicU64>::default();
        registry.register("usage_flushes", "Usage batches written to the store", flushes.clone());
        let failed_flushes = Counter::<u64, AtomicU64>::default();
        registry.register("usage_flush_failures", "Usage batches that failed and were kept", failed_flushes.clone());
        let policy = Family::<PolicyLabels, Gauge>::default();
        registry.register("policy_info", "The active policy module", policy.clone());
        policy
            .get_or_create(&PolicyLabels { name: name.into(), version: version.into(), sha256: sha256.into() })
            .set(1);
        Metrics { registry, decisions, latency, flushes, failed_flushes }
    }

    pub fn record(&self, code: &str, elapsed: Duration) {
        self.decisions.get_or_create(&CodeLabel { code: code.to_owned() }).inc();
        self.latency.observe(elapsed.as_secs_f64());
    }
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let (flushes, failed) = state.authority.usage().flush_counts();
    let m = &state.metrics;
    // Counters only go up: bring them to the recorder's totals.
    m.flushes.inc_by(flushes.saturating_sub(m.flushes.get()));
    m.failed_flushes.inc_by(failed.saturating_sub(m.failed_flushes.get()));
    let mut text = String::new();
    if encode(&mut text, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
