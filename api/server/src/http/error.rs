//! One error type for the whole API, answered as RFC 9457 `application/problem+json`.
//!
//! Each variant's doc names its status. Internal causes are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use incubator_domain::{DomainRule, RuleKind};
use serde_json::json;

use crate::store::CommandError;

/// Marks a response whose outcome is not final (the store failed, or a concurrent change won
/// every retry): an idempotency key does not keep it, and the next retry first checks the log.
#[derive(Debug, Clone, Copy)]
pub struct Transient;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON, or a header is malformed.
    #[error("{detail}")]
    Malformed { detail: String },
    /// 401: no bearer token, or one that is unknown or revoked.
    #[error("{detail}")]
    Unauthorized { detail: &'static str },
    /// 403: the token's role may not do this.
    #[error("a token with role {role} may not do this; it needs {needed}")]
    Forbidden {
        role: &'static str,
        needed: &'static str,
    },
    /// 404: no such record or route.
    #[error("{detail}")]
    NotFound { detail: String },
    /// 405: the route exists, not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 412: `If-Match` names another version than the current one.
    #[error("the record is at version {current}, not the one in If-Match")]
    VersionMismatch { current: u64 },
    /// 409: another change to the same record won a race the retries could not resolve.
    #[error("another change to this record was committed at the same time; retry")]
    Conflict,
    /// 413: the body is larger than the limit.
    #[error("the request body is too large")]
    TooLarge,
    /// 415: a body that is not `application/json`.
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    /// 422: a value is unacceptable; `field` names it (a JSON path or a parameter).
    #[error("{detail}")]
    Invalid {
        field: Option<String>,
        detail: String,
    },
    /// 404, 409 or 422 as the rule's kind says: the domain refused the command.
    #[error("{detail}")]
    Rule {
        kind: RuleKind,
        code: &'static str,
        detail: String,
    },
    /// 422: an `Idempotency-Key` already used for a different request.
    #[error("this Idempotency-Key was used for a different request; use a new key")]
    KeyReused,
    /// 409: another request with the same `Idempotency-Key` is still running.
    #[error("a request with this Idempotency-Key is still running; retry shortly")]
    KeyInProgress,
    /// 503: the request took longer than the configured timeout.
    #[error("the request took too long and was abandoned; retry")]
    Timeout,
    /// 503: the server is at its limit of concurrent requests.
    #[error("the server is busy; retry shortly")]
    Busy,
    /// 429: this token holds as many live streams open as one token may.
    #[error("this token has {0} live streams open already, as many as one token may; close one")]
    TooManyStreams(usize),
    /// 503: the read model has not reached the position the read asked for in time.
    #[error("the read model has not reached position {wanted} yet (it is at {current}); retry")]
    NotYetProjected { wanted: i64, current: i64 },
    /// 503: `/readyz` found a check failing; `checks` says which.
    #[error("the service is not ready")]
    NotReady { checks: serde_json::Value },
    /// 503: the store cannot be reached; the client may retry later.
    #[error("the store is unavailable")]
    Unavailable,
    /// 500: a bug. Logged with its cause; the client sees no detail.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// A 422 naming the offending field.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            detail: detail.into(),
        }
    }

    /// A 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound {
            detail: detail.into(),
        }
    }

    /// A 500, logging its cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::Internal
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Malformed { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Rule { kind, .. } => match kind {
                RuleKind::NotFound => StatusCode::NOT_FOUND,
                RuleKind::Conflict => StatusCode::CONFLICT,
                RuleKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            },
            Self::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::KeyInProgress => StatusCode::CONFLICT,
            Self::TooManyStreams(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy
            | Self::Timeout
            | Self::Unavailable
            | Self::NotReady { .. }
            | Self::NotYetProjected { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code in the problem's `type`.
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed_request",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::VersionMismatch { .. } => "version_mismatch",
            Self::Conflict => "concurrent_change",
            Self::TooLarge => "body_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Invalid { .. } => "invalid_value",
            Self::Rule { code, .. } => code,
            Self::KeyReused => "idempotency_key_reused",
            Self::KeyInProgress => "idempotency_key_in_progress",
            Self::Busy => "busy",
            Self::TooManyStreams(_) => "too_many_streams",
            Self::Timeout => "request_timeout",
            Self::Unavailable => "store_unavailable",
            Self::NotReady { .. } => "not_ready",
            Self::NotYetProjected { .. } => "not_yet_projected",
            Self::Internal => "internal_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({
            "type": format!("urn:incubator:problem:{}", self.code()),
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        match &self {
            Self::Invalid {
                field: Some(field), ..
            } => body["field"] = json!(field),
            Self::VersionMismatch { current } => body["current_version"] = json!(current),
            Self::NotReady { checks } => body["checks"] = checks.clone(),
            _ => {}
        }
        let mut response = (status, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, Self::Unauthorized { .. }) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"incubator\""),
            );
        }
        match self {
            Self::Unavailable => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            Self::Busy
            | Self::Timeout
            | Self::KeyInProgress
            | Self::NotYetProjected { .. }
            | Self::TooManyStreams(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        // Outcomes that say nothing final about the command: an idempotency key is not
        // settled by them.
        if matches!(self, Self::Conflict | Self::Unavailable | Self::Internal) {
            response.extensions_mut().insert(Transient);
        }
        response
    }
}

impl<E: DomainRule> From<CommandError<E>> for ApiError {
    fn from(e: CommandError<E>) -> Self {
        match e {
            CommandError::Rule(rule) => Self::Rule {
                kind: rule.kind(),
                code: rule.code(),
                detail: rule.to_string(),
            },
            CommandError::VersionMismatch { current } => Self::VersionMismatch { current },
            CommandError::Conflict => Self::Conflict,
            CommandError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "store unavailable");
                Self::Unavailable
            }
            CommandError::Internal(cause) => Self::internal(&cause),
        }
    }
}

impl From<incubator_projections::projector::ProjectionError> for ApiError {
    fn from(e: incubator_projections::projector::ProjectionError) -> Self {
        match e {
            incubator_projections::projector::ProjectionError::Db(e) => Self::from(e),
            other => Self::internal(&other),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::store::is_unavailable(&e) {
            tracing::warn!(error = %e, "store unavailable");
            Self::Unavailable
        } else {
            Self::internal(&e)
        }
    }
}
