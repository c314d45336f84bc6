//! The served OpenAPI document as a contract every end-to-end test is held to.
//!
//! [`ContractProxy`] sits between the tests (and the browser) and the server: it forwards every
//! request, and checks each exchange against the document the server itself serves:
//! - the route and its status are documented;
//! - the response body is valid by the status's schema;
//! - a request the document refuses (its body or a query parameter) is not accepted (2xx);
//! - a request the document accepts is not refused for its shape (422 `invalid_value`): only a
//!   rule of state, with its own code, may refuse it.
//!
//! A test's [`crate::TestApp`] reports what the proxy found when it stops or is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::task::JoinHandle;

/// One request and its answer, as the proxy saw them.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The body as JSON, when it was JSON (an empty body reads as `{}`, as the API does).
    pub request: Option<Value>,
    pub status: u16,
    pub content_type: String,
    pub response: Option<Value>,
}

/// One documented operation.
struct Operation {
    method: String,
    template: Vec<String>,
    /// JSON pointer to the operation in the document.
    pointer: String,
}

/// The document, and validators built from it as they are needed.
pub struct Contract {
    doc: Value,
    operations: Vec<Operation>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment: characters a URI may not hold (`{`, `}`) percent-encoded.
fn uri_fragment(pointer: &str) -> String {
    pointer
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' | '/' => c.to_string(),
            c => c.to_string().bytes().map(|b| format!("%{b:02X}")).collect(),
        })
        .collect()
}

/// Every `$ref` in `v` that does not resolve in `doc`.
pub fn dangling_refs(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, doc: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let found = r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_some();
                    if !found && !out.contains(r) {
                        out.push(r.clone());
                    }
                }
                map.values().for_each(|v| walk(v, doc, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, doc, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, doc, &mut out);
    out
}

impl Contract {
    /// The contract of `doc` (an OpenAPI 3.1 document).
    pub fn new(doc: Value) -> Self {
        let mut operations = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, item) in paths {
                for (method, _) in item.as_object().into_iter().flatten() {
                    operations.push(Operation {
                        method: method.to_ascii_uppercase(),
                        template: path.split('/').map(str::to_owned).collect(),
                        pointer: format!("/paths/{}/{method}", escape(path)),
                    });
                }
            }
        }
        Self {
            doc,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The document.
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The operation serving `method path`: literal segments beat parameters.
    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations
            .iter()
            .filter(|op| op.method == method && op.template.len() == segments.len())
            .filter_map(|op| {
                let mut literal = 0;
                for (t, s) in op.template.iter().zip(&segments) {
                    if t.starts_with('{') && t.ends_with('}') {
                        if s.is_empty() {
                            return None;
                        }
                    } else if t == s {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, op))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, op)| op)
    }

    /// The errors of `instance` against the schema at `pointer` (none when it is valid).
    fn errors(&self, pointer: &str, instance: &Value) -> Result<Vec<String>, String> {
        let validator = {
            let mut cache = self.validators.lock().expect("validators");
            match cache.get(pointer) {
                Some(v) => v.clone(),
                None => {
                    // The whole document is the root resource, so that `#/components/…`
                    // resolves; its other members are unknown keywords, ignored.
                    let mut root = self.doc.clone();
                    root["$schema"] =
                        Value::String("https://json-schema.org/draft/2020-12/schema".into());
                    root["$ref"] = Value::String(format!("#{}", uri_fragment(pointer)));
                    let v = jsonschema::options()
                        .should_validate_formats(true)
                        .build(&root)
                        .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
                    let v = Arc::new(v);
                    cache.insert(pointer.to_owned(), v.clone());
                    v
                }
            }
        };
        Ok(validator
            .iter_errors(instance)
            .map(|e| format!("{} at {:?}", e, e.instance_path().to_string()))
            .take(3)
            .collect())
    }

    /// A query parameter's value as its schema types it (`limit=5` is the integer 5).
    fn typed(&self, schema_pointer: &str, raw: &str) -> Value {
        let schema = self.resolve(schema_pointer);
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"integer") || types.contains(&"number") {
            if let Ok(n) = raw.parse::<i64>() {
                return Value::from(n);
            }
            if let Ok(f) = raw.parse::<f64>() {
                if let Some(n) = serde_json::Number::from_f64(f) {
                    return Value::Number(n);
                }
            }
        }
        if types.contains(&"boolean") && (raw == "true" || raw == "false") {
            return Value::Bool(raw == "true");
        }
        Value::String(raw.to_owned())
    }

    /// The schema at `pointer`, following a `$ref` at its top.
    fn resolve(&self, pointer: &str) -> Value {
        let mut v = self.doc.pointer(pointer).cloned().unwrap_or(Value::Null);
        for _ in 0..8 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    v = r
                        .strip_prefix('#')
                        .and_then(|p| self.doc.pointer(p))
                        .cloned()
                        .unwrap_or(Value::Null)
                }
                None => break,
            }
        }
        v
    }

    /// What is wrong with `ex` by the document (nothing when it keeps the contract).
    pub fn check(&self, ex: &Exchange) -> Vec<String> {
        let what = format!("{} {} → {}", ex.method, ex.path, ex.status);
        let Some(op) = self.operation(&ex.method, &ex.path) else {
            // Unknown routes answer 404 (or 405); pages outside the API are not in the document.
            if !ex.path.starts_with("/api/") || matches!(ex.status, 404 | 405) {
                return Vec::new();
            }
            return vec![format!("{what}: no such operation in the document")];
        };
        let mut problems = Vec::new();
        // The request: is it valid by the document?
        let mut request_valid = Some(true);
        if let Some(body) = &ex.request {
            let pointer = format!(
                "{}/requestBody/content/application~1json/schema",
                op.pointer
            );
            if self.doc.pointer(&pointer).is_some() {
                match self.errors(&pointer, body) {
                    Ok(errors) if errors.is_empty() => {}
                    Ok(errors) => {
                        request_valid = Some(false);
                        if (200..300).contains(&ex.status) {
                            problems.push(format!(
                                "{what}: accepted a body the document refuses: {errors:?} in {body}"
                            ));
                        }
                    }
                    Err(e) => problems.push(e),
                }
            } else {
                request_valid = None;
            }
        }
        let params = self.doc.pointer(&format!("{}/parameters", op.pointer));
        let params: Vec<(usize, &Value)> = params
            .and_then(Value::as_array)
            .map(|ps| ps.iter().enumerate().collect())
            .unwrap_or_default();
        for (name, raw) in &ex.query {
            let Some((i, _)) = params
                .iter()
                .find(|(_, p)| p["in"] == "query" && p["name"] == name.as_str())
            else {
                request_valid = Some(false);
                if (200..300).contains(&ex.status) {
                    problems.push(format!(
                        "{what}: accepted an undocumented parameter `{name}`"
                    ));
                }
                continue;
            };
            let pointer = format!("{}/parameters/{i}/schema", op.pointer);
            let value = self.typed(&pointer, raw);
            match self.errors(&pointer, &value) {
                Ok(errors) if errors.is_empty() => {}
                Ok(errors) => {
                    request_valid = Some(false);
                    if (200..300).contains(&ex.status) {
                        problems.push(format!(
                            "{what}: accepted `{name}={raw}`, which the document refuses: {errors:?}"
                        ));
                    }
                }
                Err(e) => problems.push(e),
            }
        }
        let shape_refusal = ex.status == 422
            && ex.response.as_ref().and_then(|r| r["type"].as_str())
                == Some("urn:incubator:problem:invalid_value");
        if shape_refusal && request_valid == Some(true) && ex.request.is_some() {
            problems.push(format!(
                "{what}: refused for its shape a request the document accepts: {} (body {})",
                ex.response
                    .as_ref()
                    .map_or(Value::Null, |r| r["detail"].clone()),
                ex.request.clone().unwrap_or(Value::Null)
            ));
        }
        // The response: is its status documented, and its body valid?
        let status = ex.status.to_string();
        let documented = [status.as_str(), "default"]
            .into_iter()
            .map(|s| format!("{}/responses/{s}", op.pointer))
            .find(|p| self.doc.pointer(p).is_some());
        let Some(response) = documented else {
            problems.push(format!("{what}: the status is not documented"));
            return problems;
        };
        if let Some(body) = &ex.response {
            let media = ex.content_type.split(';').next().unwrap_or("").trim();
            let pointer = format!("{response}/content/{}/schema", escape(media));
            if self.doc.pointer(&pointer).is_some() {
                match self.errors(&pointer, body) {
                    Ok(errors) if errors.is_empty() => {}
                    Ok(errors) => problems.push(format!(
                        "{what}: the answer does not match its schema: {errors:?}"
                    )),
                    Err(e) => problems.push(e),
                }
            } else if self.doc.pointer(&format!("{response}/content")).is_some() {
                problems.push(format!(
                    "{what}: the answer's media type {media} is not documented"
                ));
            }
        }
        problems
    }
}

/// A forwarding proxy that checks every exchange against the server's own document.
///
/// Checking runs on a thread of its own, off the test's runtime (which the server shares): a
/// test never waits for a check, and the server never competes with one for a worker.
pub struct ContractProxy {
    /// `http://127.0.0.1:PORT`: where the tests send their requests.
    pub base: String,
    checks: std::sync::mpsc::Sender<Check>,
    task: JoinHandle<()>,
}

/// What the checking thread is asked.
enum Check {
    /// Check this exchange.
    One(Raw),
    /// Answer how many exchanges were checked and what broke the contract, once every
    /// exchange sent before this is checked.
    Report(std::sync::mpsc::Sender<(usize, Vec<String>)>),
}

/// An exchange as the proxy saw it, bodies still bytes.
struct Raw {
    method: String,
    path: String,
    query: String,
    request: Bytes,
    status: u16,
    content_type: String,
    response: Bytes,
}

impl Raw {
    fn parse(self) -> Exchange {
        let request = if self.request.iter().all(u8::is_ascii_whitespace) {
            matches!(self.method.as_str(), "POST" | "PUT" | "PATCH")
                .then(|| Value::Object(Default::default()))
        } else {
            json_of(&self.request)
        };
        Exchange {
            query: form_pairs(&self.query),
            method: self.method,
            path: self.path,
            request,
            status: self.status,
            content_type: self.content_type,
            response: json_of(&self.response),
        }
    }
}

#[derive(Clone)]
struct Forward {
    target: String,
    client: Client<HttpConnector, Full<Bytes>>,
    checks: std::sync::mpsc::Sender<Check>,
}

impl ContractProxy {
    /// Starts a proxy to the server at `target` (`http://host:port`), holding it to the
    /// document it serves.
    pub async fn start(target: &str) -> Self {
        let doc: Value = crate::client(None)
            .get(format!("{target}/api/v1/openapi.json"))
            .send()
            .await
            .expect("fetch the OpenAPI document")
            .json()
            .await
            .expect("the OpenAPI document is JSON");
        let dangling = dangling_refs(&doc);
        assert!(
            dangling.is_empty(),
            "the document refers to schemas it does not define: {dangling:?}"
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (checks, inbox) = std::sync::mpsc::channel::<Check>();
        let contract = Contract::new(doc);
        std::thread::spawn(move || {
            let mut violations = Vec::new();
            let mut checked = 0usize;
            for check in inbox {
                match check {
                    Check::One(raw) => {
                        checked += 1;
                        violations.extend(contract.check(&raw.parse()));
                    }
                    Check::Report(reply) => {
                        let _ = reply.send((checked, violations.clone()));
                    }
                }
            }
        });
        let forward = Forward {
            target: target.to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            checks: checks.clone(),
        };
        let app = axum::Router::new().fallback(relay).with_state(forward);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, checks, task }
    }

    /// How many exchanges were checked, and what broke the contract (once every exchange so
    /// far is checked).
    pub fn report(&self) -> (usize, Vec<String>) {
        let (reply, answer) = std::sync::mpsc::channel();
        if self.checks.send(Check::Report(reply)).is_err() {
            return (0, vec!["the contract's checking thread is gone".into()]);
        }
        answer
            .recv()
            .unwrap_or_else(|_| (0, vec!["the contract's checking thread is gone".into()]))
    }

    /// What broke the contract so far.
    pub fn violations(&self) -> Vec<String> {
        self.report().1
    }
}

impl Drop for ContractProxy {
    fn drop(&mut self) {
        self.task.abort();
        if std::thread::panicking() {
            return;
        }
        let (checked, violations) = self.report();
        if !violations.is_empty() {
            panic!(
                "{} of {checked} exchanges broke the OpenAPI document:\n{}",
                violations.len(),
                violations.join("\n")
            );
        }
    }
}

fn json_of(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(bytes).ok()
}

async fn relay(State(f): State<Forward>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut out = axum::http::Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{path_and_query}", f.target));
    for (name, value) in &parts.headers {
        if name != axum::http::header::HOST {
            out = out.header(name, value);
        }
    }
    let Ok(out) = out.body(Full::new(bytes.clone())) else {
        return Response::builder()
            .status(502)
            .body(Body::from("the proxy could not build the request"))
            .unwrap_or_default();
    };
    let answer = match f.client.request(out).await {
        Ok(a) => a,
        Err(e) => {
            return Response::builder()
                .status(502)
                .body(Body::from(format!("the server did not answer: {e}")))
                .unwrap_or_default()
        }
    };
    let (head, incoming) = answer.into_parts();
    let content_type = head
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if content_type.starts_with("text/event-stream") {
        // A live stream: passed through as it flows, not checked.
        return Response::from_parts(head, Body::new(incoming));
    }
    let body = incoming
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let _ = f.checks.send(Check::One(Raw {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        request: bytes,
        status: head.status.as_u16(),
        content_type,
        response: body.clone(),
    }));
    Response::from_parts(head, Body::from(body))
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
