//! The test console: build a request, send it to the running gateway (or
//! test-invoke the draft, as AWS's console does), see status, headers,
//! body, timing and the execution log. Sending happens on the gateway's
//! runtime; the result comes back on a channel the frame polls.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use crate::gateway::{Gateway, MethodRequest};
use crate::model::RestApi;

/// What the console sends.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleRequest {
    pub method: String,
    /// Below the gateway's address: `/dev/pets/7?x=1`, or for test invoke
    /// the resource path `/pets/7?x=1`.
    pub path: String,
    /// `Name: value` lines.
    pub headers: String,
    pub body: String,
    /// Run against the draft without deploying.
    pub test_invoke: bool,
}

impl Default for ConsoleRequest {
    fn default() -> Self {
        ConsoleRequest {
            method: "GET".into(),
            path: "/dev/pets".into(),
            headers: String::new(),
            body: String::new(),
            test_invoke: false,
        }
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

pub struct Console {
    pub request: ConsoleRequest,
    pub response: Option<ConsoleResponse>,
    pub pending: bool,
    pub history: Vec<ConsoleRequest>,
    sender: Sender<ConsoleResponse>,
    receiver: Receiver<ConsoleResponse>,
}

impl Default for Console {
    fn default() -> Self {
        let (sender, receiver) = channel();
        Console {
            request: ConsoleRequest::default(),
            response: None,
            pending: false,
            history: Vec::new(),
            sender,
            receiver,
        }
    }
}

fn header_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

impl Console {
    /// Picks up a finished send; `true` when one arrived.
    pub fn poll(&mut self) -> bool {
        match self.receiver.try_recv() {
            Ok(response) => {
                self.response = Some(response);
                self.pending = false;
                true
            }
            Err(_) => false,
        }
    }

    /// Sends the request on the gateway's runtime; `repaint` is called when
    /// the answer is in.
    pub fn send(
        &mut self,
        gateway: &Gateway,
        draft: Option<&RestApi>,
        repaint: impl Fn() + Send + 'static,
    ) {
        self.pending = true;
        self.history.push(self.request.clone());
        let request = self.request.clone();
        let sender = self.sender.clone();
        if request.test_invoke {
            let Some(api) = draft.cloned() else {
                let _ = sender.send(ConsoleResponse {
                    error: Some("the project has no REST API".into()),
                    ..Default::default()
                });
                return;
            };
            let services = gateway.services();
            gateway.spawn(async move {
                let _ = sender.send(test_invoke(&api, &request, &services).await);
                repaint();
            });
            return;
        }
        let url = format!("http://{}{}", gateway.local_addr(), request.path);
        let log = gateway.request_log().clone();
        gateway.spawn(async move {
            let _ = sender.send(send_http(&url, &request, &log).await);
            repaint();
        });
    }

    /// `curl` for the current request against the gateway at `address`.
    pub fn as_curl(&self, address: &str) -> String {
        let mut command = format!(
            "curl -i -X {} 'http://{address}{}'",
            self.request.method, self.request.path
        );
        for (name, value) in header_lines(&self.request.headers) {
            command.push_str(&format!(" -H '{name}: {value}'"));
        }
        if !self.request.body.is_empty() {
            command.push_str(&format!(
                " --data-raw '{}'",
                self.request.body.replace('\'', "'\\''")
            ));
        }
        command
    }
}

async fn send_http(
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
    for (name, value) in header_lines(&request.headers) {
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

async fn test_invoke(
    api: &RestApi,
    request: &ConsoleRequest,
    services: &crate::gateway::Services,
) -> ConsoleResponse {
    let (path, raw_query) = request
        .path
        .split_once('?')
        .map_or((request.path.as_str(), ""), |(p, q)| (p, q));
    let mut headers = http::HeaderMap::new();
    for (name, value) in header_lines(&request.headers) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
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
        full_path: path.to_string(),
        domain_name: "testPrefix.testDomainName".into(),
        protocol: "HTTP/1.1".into(),
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
    fn curl_quotes_the_body() {
        let console = Console {
            request: ConsoleRequest {
                method: "POST".into(),
                path: "/dev/pets".into(),
                headers: "Content-Type: application/json\n".into(),
                body: "{\"name\": \"it's\"}".into(),
                test_invoke: false,
            },
            ..Console::default()
        };
        assert_eq!(
            console.as_curl("127.0.0.1:4455"),
            "curl -i -X POST 'http://127.0.0.1:4455/dev/pets' -H 'Content-Type: application/json' --data-raw '{\"name\": \"it'\\''s\"}'"
        );
    }
}
