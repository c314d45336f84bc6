//! Extractors whose rejections are our problem+json, never axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;

/// A JSON body parsed into `T`. An empty body reads as `{}` (so `POST …/advance` needs none).
/// Syntax errors are 400; a wrong type, a missing or unknown field, or a value that fails its
/// domain parse is 422 with the field's JSON path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::Malformed {
                    detail: "the request body could not be read".into(),
                }
            }
        })?;
        let body: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            if json_type != Some(true) {
                return Err(ApiError::UnsupportedMediaType);
            }
            &bytes
        };
        parse_json(body).map(ApiJson)
    }
}

/// Parses a JSON object, classifying the error as 400 (not JSON) or 422 (JSON of the wrong
/// shape). Only an object is a request body: serde's derive would also read a struct from an
/// array of its fields in order, which no client means.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        // Still tell "not JSON" (400) from "JSON, but not an object" (422).
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
            return Err(ApiError::Invalid {
                field: None,
                detail: "the body must be a JSON object".into(),
            });
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::Malformed {
                    detail: format!("the body is not valid JSON: {inner}"),
                }
            }
            _ => {
                // serde's message ends with " at line L column C": useful for syntax, noise here.
                let msg = inner.to_string();
                let msg = msg
                    .rsplit_once(" at line ")
                    .map_or(msg.as_str(), |(m, _)| m)
                    .to_owned();
                let field = if path == "." { None } else { Some(path) };
                ApiError::Invalid { field, detail: msg }
            }
        }
    })
}

/// Query parameters parsed into `T`; a bad one is 422 naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

/// A query string as `T`; 422 naming the parameter that does not fit.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::Invalid {
            field: (field != ".").then_some(field),
            detail: e.into_inner().to_string(),
        }
    })
}

/// Path parameters. A segment that cannot even be decoded (invalid percent-encoding or UTF-8)
/// names no record: 404 problem+json, like any other unknown id.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| ApiPath(t))
            .map_err(|e| ApiError::not_found(format!("no such record: {}", e.body_text())))
    }
}

/// Parses a record id from the path: a malformed id names no record, so it is a 404.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("no {what} with id {raw:?}")))
}

/// The `If-Match` header as an expected version: `"N"` (the ETag we send), or `*`/absent for
/// none. Anything else is a 400.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ApiError::Malformed {
        detail: "If-Match must be an ETag from this API, such as \"3\"".into(),
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(bad)?;
    inner.parse::<u64>().map(Some).map_err(|_| bad())
}

/// The ETag of a version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// The default page size of every list.
pub const PAGE: u32 = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE: u32 = 500;

/// A requested page size, checked against [`MAX_PAGE`] (422 naming `limit` otherwise).
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ))
    }
}
