//! `/metrics` in Prometheus text format: check decisions by code and by the
//! module that made them, check latency, usage flushes, policy swaps by outcome,
//! shadow agreement, the active policy module's name, version and digest, and
//! whether the store's change notifications arrive (and how late the last was).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    code: &'static str,
    /// The SHA-256 of the module that decided.
    policy: Digest,
}

/// A module digest as a label value, shared with the module (no copy per request).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Digest(Arc<str>);

impl EncodeLabelValue for Digest {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&&*self.0, encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabel {
    cache: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    name: String,
    version: String,
    sha256: String,
    signer: String,
}

pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    latency: Histogram,
    flushes: Counter<u64, AtomicU64>,
    failed_flushes: Counter<u64, AtomicU64>,
    policy: Family<PolicyLabels, Gauge>,
    swaps: Family<OutcomeLabel, Counter>,
    shadow: Family<OutcomeLabel, Counter>,
    gateway: Family<OutcomeLabel, Counter>,
    listening: Gauge,
    notification_lag: Gauge,
    cache_entries: Family<CacheLabel, Gauge>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tokenscope");
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("check_decisions", "Check endpoint answers by decision code and module", decisions.clone());
        // 10 µs .. ~1.3 s
        let latency = Histogram::new(exponential_buckets(0.000_01, 2.0, 18));
        registry.register("check_duration_seconds", "Time to answer a check request", latency.clone());
        let flushes = Counter::<u64, AtomicU64>::default();
        registry.register("usage_flushes", "Usage batches written to the store", flushes.clone());
        let failed_flushes = Counter::<u64, AtomicU64>::default();
        registry.register("usage_flush_failures", "Usage batches that failed and were kept", failed_flushes.clone());
        let policy = Family::<PolicyLabels, Gauge>::default();
        registry.register("policy_info", "The active policy module", policy.clone());
        let swaps = Family::<OutcomeLabel, Counter>::default();
        registry.register("policy_swaps", "Policy loads and rollbacks by outcome", swaps.clone());
        let shadow = Family::<OutcomeLabel, Counter>::default();
        registry.register("shadow_decisions", "Decisions of the shadow module by agreement", shadow.clone());
        let gateway = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "gateway_requests",
            "Introspections (found, unknown) and change feed reads (feed) answered to gateways",
            gateway.clone(),
        );
        let listening = Gauge::default();
        registry.register(
            "store_listening",
            "1 while the store's change notifications arrive; 0 while this host reads through to the store",
            listening.clone(),
        );
        let notification_lag = Gauge::default();
        registry.register(
            "store_notification_lag_milliseconds",
            "How late the last change notification arrived (-1: none yet)",
            notification_lag.clone(),
        );
        let cache_entries = Family::<CacheLabel, Gauge>::default();
        registry.register(
            "cache_entries",
            "What the check caches hold now: stored tokens, unknown secrets and owners' rights (bounds: [cache])",
            cache_entries.clone(),
        );
        Metrics {
            registry,
            decisions,
            latency,
            flushes,
            failed_flushes,
            policy,
            swaps,
            shadow,
            gateway,
            listening,
            notification_lag,
            cache_entries,
        }
    }

    /// Counts one answer to a gateway: `found`, `unknown` or `feed`.
    pub fn gateway(&self, outcome: &str) {
        self.gateway.get_or_create(&OutcomeLabel { outcome: outcome.to_owned() }).inc();
    }

    /// Counts one check answer, decided by the module with digest `policy`.
    pub fn record(&self, code: &'static str, policy: &Arc<str>, elapsed: Duration) {
        self.decisions.get_or_create(&DecisionLabels { code, policy: Digest(Arc::clone(policy)) }).inc();
        self.latency.observe(elapsed.as_secs_f64());
    }
}

/// Brings a counter up to a total kept elsewhere (counters only go up).
fn catch_up(counter: &Counter<u64, AtomicU64>, total: u64) {
    counter.inc_by(total.saturating_sub(counter.get()));
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let (flushes, failed) = state.authority.usage_flushes();
    let m = &state.metrics;
    catch_up(&m.flushes, flushes);
    catch_up(&m.failed_flushes, failed);
    let module = state.authority.module();
    m.policy.clear();
    m.policy
        .get_or_create(&PolicyLabels {
            name: module.info().name.clone(),
            version: module.info().version.clone(),
            sha256: module.sha256().to_owned(),
            signer: module.signature().label().to_owned(),
        })
        .set(1);
    let counts = state.authority.policy().counts();
    for (outcome, total) in
        [("swapped", &counts.swapped), ("refused", &counts.refused), ("rolled-back", &counts.rolled_back)]
    {
        catch_up(&m.swaps.get_or_create(&OutcomeLabel { outcome: outcome.into() }), total.load(Ordering::Relaxed));
    }
    if let Some(shadow) = state.authority.shadow() {
        for (outcome, total) in [
            ("agreed", shadow.stats().agreed.load(Ordering::Relaxed)),
            ("disagreed", shadow.stats().disagreed.load(Ordering::Relaxed)),
            ("dropped", shadow.dropped()),
        ] {
            catch_up(&m.shadow.get_or_create(&OutcomeLabel { outcome: outcome.into() }), total);
        }
    }
    let (listening, lag) = state.authority.invalidation();
    m.listening.set(i64::from(listening));
    m.notification_lag.set(lag.map_or(-1, |lag| i64::try_from(lag).unwrap_or(i64::MAX)));
    let (tokens, unknown, owners) = state.authority.cache_sizes();
    for (cache, entries) in [("tokens", tokens), ("unknown", unknown), ("owners", owners)] {
        m.cache_entries.get_or_create(&CacheLabel { cache }).set(i64::try_from(entries).unwrap_or(i64::MAX));
    }
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
