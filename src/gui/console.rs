//! The test console's request and response, and how a request is sent to
//! the running gateway (or test-invoked against the draft, as AWS's
//! console does). The tab is `panels/console.rs`; the send runs on the
//! gateway's runtime from `effects.rs`.

use std::time::Instant;

use crate::gateway::MethodRequest;
use crate::model::RestApi;

/// What the console sends.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleRequest {
    pub method: String,
    /// The stage the request goes to (ignored by test invoke, which runs
    /// the draft).
    pub stage: String,
    /// The resource path below the stage, as typed: `/pets/7`, or with
    /// placeholders `/pets/{petId}` filled from `path_params`.
    pub path: String,
    /// Values for the path's `{name}` placeholders, in order.
    pub path_params: Vec<(String, String)>,
    /// Query parameters (rows of the table), appended to any `?` in `path`.
    pub query: Vec<(String, String)>,
    /// Request headers (rows of the table).
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Run against the draft without deploying.
    pub test_invoke: bool,
}

impl Default for ConsoleRequest {
    fn default() -> Self {
        ConsoleRequest {
            method: "GET".into(),
            stage: "dev".into(),
            path: "/pets".into(),
            path_params: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: String::new(),
            test_invoke: false,
        }
    }
}

/// Characters a path parameter value keeps escaped: everything but
/// RFC 3986 unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl ConsoleRequest {
    /// The names of the path's `{name}` / `{name+}` placeholders.
    pub fn placeholders(&self) -> Vec<String> {
        let path = self.path.split('?').next().unwrap_or_default();
        path.split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| name.trim_end_matches('+').to_string())
            .filter(|name| !name.is_empty())
            .collect()
    }

    /// Keeps one `path_params` row per placeholder, values kept by name.
    pub fn sync_path_params(&mut self) {
        let names = self.placeholders();
        if names.len() == self.path_params.len()
            && names
                .iter()
                .zip(&self.path_params)
                .all(|(n, (p, _))| n == p)
        {
            return;
        }
        let old = std::mem::take(&mut self.path_params);
        self.path_params = names
            .into_iter()
            .map(|name| {
                let value = old
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                (name, value)
            })
            .collect();
    }

    /// The resource path with placeholders filled (values percent-encoded;
    /// a greedy `{name+}` keeps its slashes) and the query table appended.
    pub fn resource_target(&self) -> String {
        let (path, typed_query) = self
            .path
            .split_once('?')
            .map_or((self.path.as_str(), None), |(p, q)| (p, Some(q)));
        let filled: Vec<String> = path
            .split('/')
            .map(|segment| {
                let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                    return segment.to_string();
                };
                let (name, greedy) = match name.strip_suffix('+') {
                    Some(name) => (name, true),
                    None => (name, false),
                };
                let Some((_, value)) = self.path_params.iter().find(|(n, _)| n == name) else {
                    return segment.to_string();
                };
                if greedy {
                    value
                        .split('/')
                        .map(|part| {
                            percent_encoding::utf8_percent_encode(part, SEGMENT).to_string()
                        })
                        .collect::<Vec<_>>()
                        .join("/")
                } else {
                    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
                }
            })
            .collect();
        let mut target = filled.join("/");
        if !target.starts_with('/') {
            target.insert(0, '/');
        }
        let mut pairs: Vec<String> = typed_query
            .filter(|q| !q.is_empty())
            .map(str::to_string)
            .into_iter()
            .collect();
        for (name, value) in self.query.iter().filter(|(n, _)| !n.trim().is_empty()) {
            pairs.push(format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(name.trim(), SEGMENT),
                percent_encoding::utf8_percent_encode(value, SEGMENT)
            ));
        }
        if !pairs.is_empty() {
            target.push('?');
            target.push_str(&pairs.join("&"));
        }
        target
    }

    /// What goes after the gateway's address: `/{stage}{resource path}`.
    pub fn target(&self) -> String {
        format!(
            "/{}{}",
            self.stage.trim_matches('/'),
            self.resource_target()
        )
    }

    /// The header rows with a name.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, _)| !k.is_empty())
    }
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct ConsoleResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub total_ms: f64,
    pub integration_ms: Option<f64>,
    pub execution_log: String,
    pub error: Option<String>,
}

pub(crate) async fn send_http(
    url: &str,
    request: &ConsoleRequest,
    log: &crate::observe::RequestLog,
) -> ConsoleResponse {
    let failed = |error: String| ConsoleResponse {
        error: Some(error),
        ..Default::default()
    };
    let Ok(method) = http::Method::from_bytes(request.method.as_bytes()) else {
        return failed(format!("invalid method {}", request.method));
    };
    let client = reqwest::Client::new();
    let mut builder = client.request(method, url);
    for (name, value) in request.header_pairs() {
        builder = builder.header(name, value);
    }
    if !request.body.is_empty() {
        builder = builder.body(request.body.clone());
    }
    let started = Instant::now();
    let response = match builder.send().await {
        Ok(response) => response,
        Err(error) => return failed(error.to_string()),
    };
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.text().await.unwrap_or_default();
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    let request_id = headers
        .iter()
        .find(|(k, _)| k == "x-amzn-requestid")
        .map(|(_, v)| v.clone());
    let record = request_id.and_then(|id| log.find(&id));
    ConsoleResponse {
        status,
        headers,
        body,
        total_ms,
        integration_ms: record
            .as_ref()
            .and_then(|r| r.integration_latency_us)
            .map(|us| us as f64 / 1000.0),
        execution_log: record.map(|r| r.execution_log.render()).unwrap_or_default(),
        error: None,
    }
}

pub(crate) async fn test_invoke(
    api: &RestApi,
    request: &ConsoleRequest,
    services: &crate::gateway::Services,
) -> ConsoleResponse {
    let target = request.resource_target();
    let (path, raw_query) = target
        .split_once('?')
        .map_or((target.as_str(), ""), |(p, q)| (p, q));
    let mut headers = http::HeaderMap::new();
    for (name, value) in request.header_pairs() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    let Ok(method) = http::Method::from_bytes(request.method.as_bytes()) else {
        return ConsoleResponse {
            error: Some(format!("invalid method {}", request.method)),
            ..Default::default()
        };
    };
    let method_request = MethodRequest {
        http_method: method,
        path: path.to_string(),
        raw_query: raw_query.to_string(),
        query: MethodRequest::parse_query(raw_query),
        headers,
        body: bytes::Bytes::from(request.body.clone()),
        source_ip: "test-invoke-source-ip".into(),
        full_path: path.into(),
        domain_name: "testPrefix.testDomainName".into(),
        protocol: "HTTP/1.1".into(),
        received_at: std::time::SystemTime::now(),
    };
    let started = Instant::now();
    match crate::gateway::test_invoke(api, method_request, services).await {
        Ok(execution) => ConsoleResponse {
            status: execution.reply.status,
            headers: execution
                .reply
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&execution.reply.body).into_owned(),
            total_ms: started.elapsed().as_secs_f64() * 1000.0,
            integration_ms: execution
                .integration_latency
                .map(|d| d.as_secs_f64() * 1000.0),
            execution_log: execution.log.render(),
            error: None,
        },
        Err(error) => ConsoleResponse {
            error: Some(error.to_string()),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_from_fields_and_query_rows_append() {
        let mut request = ConsoleRequest {
            path: "/pets/{petId}/files/{path+}?a=1".into(),
            query: vec![("q".into(), "two words".into()), ("".into(), "x".into())],
            ..ConsoleRequest::default()
        };
        request.sync_path_params();
        assert_eq!(
            request.path_params,
            [
                ("petId".to_string(), String::new()),
                ("path".into(), String::new())
            ]
        );
        request.path_params[0].1 = "7 8".into();
        request.path_params[1].1 = "a/b c.txt".into();
        assert_eq!(
            request.target(),
            "/dev/pets/7%208/files/a/b%20c.txt?a=1&q=two%20words"
        );
        // Renaming a placeholder keeps the others' values.
        request.path = "/pets/{id}/files/{path+}".into();
        request.sync_path_params();
        assert_eq!(request.path_params[0], ("id".into(), String::new()));
        assert_eq!(request.path_params[1].1, "a/b c.txt");
    }
}
