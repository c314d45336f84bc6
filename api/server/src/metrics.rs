//! Prometheus metrics, served as text at `/metrics`.
//!
//! - `incubator_http_requests_total{method, route, status}` and
//!   `incubator_http_request_duration_seconds{method, route}`: the route is the matched
//!   pattern (`/api/v1/startups/{id}`), never the raw path, so ids do not multiply series;
//!   requests that match no route are `unmatched`, and a method that is not a standard one
//!   is `other`.
//! - `incubator_commands_total{command, outcome}`: outcome is `accepted`, `refused` (a domain
//!   rule), `version_mismatch`, `conflict`, `unavailable` or `error`.
//! - `incubator_idempotent_replays_total`: responses replayed for a retried key.
//! - `incubator_read_answers_total{outcome}`: read-model answers `computed`, `kept` (the same
//!   answer sent again while its model had not moved) or `not_modified` (304).
//! - `incubator_projector_position{projection}`, `incubator_projector_lag_events{projection}`
//!   (events in the log past the projection's checkpoint) and `incubator_log_head_position`,
//!   read when scraped.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnswerLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectionLabels {
    projection: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// Declares the metrics once: each field's type, how it is made, its name (after the
/// `incubator_` prefix) and its help; the struct and its registration follow from the list.
macro_rules! metrics {
    ($($field:ident: $ty:ty = $make:expr, $name:literal, $help:literal;)*) => {
        /// Every metric of the service.
        #[derive(Debug)]
        pub struct Metrics {
            registry: Registry,
            $($field: $ty,)*
        }

        impl Default for Metrics {
            fn default() -> Self {
                let mut registry = Registry::with_prefix("incubator");
                $(
                    let $field: $ty = $make;
                    registry.register($name, $help, $field.clone());
                )*
                Self { registry, $($field,)* }
            }
        }
    };
}

metrics! {
    requests: Family<RequestLabels, Counter> = Family::default(),
        "http_requests", "HTTP requests answered, by method, route and status";
    latency: Family<RouteLabels, Histogram> =
        Family::new_with_constructor(latency_histogram as fn() -> _),
        "http_request_duration_seconds", "Time from request to response, by method and route";
    commands: Family<CommandLabels, Counter> = Family::default(),
        "commands", "Commands handled, by command and outcome";
    replays: Counter = Counter::default(),
        "idempotent_replays", "Responses replayed to a retry with a known Idempotency-Key";
    projector_position: Family<ProjectionLabels, Gauge> = Family::default(),
        "projector_position", "Global log position up to which a read model is applied";
    projector_lag: Family<ProjectionLabels, Gauge> = Family::default(),
        "projector_lag_events", "Positions in the log past a read model's checkpoint";
    log_head: Gauge = Gauge::default(),
        "log_head_position", "The highest position in the event log";
    answers: Family<AnswerLabels, Counter> = Family::default(),
        "read_answers", "Read-model answers, by whether they were computed, kept or not modified";
}

/// A request method as a label value: the standard methods by name, anything else `other`, so
/// that a client sending made-up methods cannot grow the number of series.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "other",
    }
}

impl Metrics {
    /// Counts an answered request and its latency.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Counts a handled command.
    pub fn command(&self, command: &'static str, outcome: &'static str) {
        self.commands
            .get_or_create(&CommandLabels { command, outcome })
            .inc();
    }

    /// Counts a replayed response.
    /// Counts a read-model answer: `computed`, `kept` (sent again while its model had not
    /// moved) or `not_modified` (the client's copy still held: 304).
    pub fn answer(&self, outcome: &'static str) {
        self.answers.get_or_create(&AnswerLabels { outcome }).inc();
    }

    pub fn replay(&self) {
        self.replays.inc();
    }

    /// Sets a projection's position and the log's head.
    pub fn projection(&self, projection: &'static str, position: i64, head: i64) {
        let labels = ProjectionLabels { projection };
        self.projector_position.get_or_create(&labels).set(position);
        self.projector_lag
            .get_or_create(&labels)
            .set((head - position).max(0));
        self.log_head.set(head);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        out
    }
}
