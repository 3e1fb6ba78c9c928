//! The REST runtime over a real port, with a real HTTP client and real
//! upstream servers. Expected error bodies are AWS's, byte for byte; each
//! names its source.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;
use serde_json::json;

fn base(gateway: &portico::gateway::Gateway) -> String {
    format!("http://{}", gateway.local_addr())
}

#[tokio::test]
async fn sample_project_serves_its_mock_methods() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let client = client();
    let response = client
        .get(format!("{}/dev/pets", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let request_id = response.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");
    let apigw_id = response.headers()["x-amz-apigw-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(apigw_id.len(), 16);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body[2]["type"], "fish");

    // Mapped response header from the path parameter.
    let response = client
        .get(format!("{}/prod/pets/7", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-pet-id"], "7");

    // MOCK status chosen by the request template, selection pattern 201.
    let response = client
        .post(format!("{}/dev/pets", base(&gateway)))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/pets/4");
}

/// AWS answers an unknown resource or method with 403 and
/// `{"message":"Missing Authentication Token"}` (23+19 bytes), header
/// `x-amzn-ErrorType: MissingAuthenticationTokenException` — as captured
/// from execute-api endpoints (public captures of real responses).
#[tokio::test]
async fn unknown_resource_or_method_is_missing_authentication_token() {
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/", "resourceMethods": {"GET": mock_method("GET", 200, "root")}},
        {"id": "pets01", "parentId": "root000001", "pathPart": "pets", "path": "/pets",
         "resourceMethods": {"GET": mock_method("GET", 200, "pets")}}
    ])));
    let gateway = start_gateway(&deploy(&project, "dev", &[]));
    let client = client();
    for (method, path) in [
        ("GET", "/dev/nope"),
        ("DELETE", "/dev/pets"),
        ("GET", "/dev/pets/1/2"),
        ("OPTIONS", "/dev/pets"),
    ] {
        let response = client
            .request(method.parse().unwrap(), format!("{}{path}", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
        assert_eq!(response.headers()["content-type"], "application/json");
        assert!(response.headers().contains_key("x-amzn-requestid"));
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"message":"Missing Authentication Token"}"#
        );
    }
}

/// A stage that does not exist: 403 `{"message":"Forbidden"}` with
/// `ForbiddenException` (captured from execute-api for a wrong stage).
#[tokio::test]
async fn unknown_stage_or_api_is_forbidden() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let client = client();
    for path in [
        "/staging/pets",
        "/restapis/nosuchapi1/dev/_user_request_/pets",
        "/",
    ] {
        let response = client
            .get(format!("{}{path}", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(response.headers()["x-amzn-errortype"], "ForbiddenException");
        assert_eq!(response.text().await.unwrap(), r#"{"message":"Forbidden"}"#);
    }
}

#[tokio::test]
async fn three_url_forms_reach_the_same_stage() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let port = gateway.local_addr().port();
    let client = reqwest::Client::builder()
        .resolve("petstore42.execute-api.localhost", gateway.local_addr())
        .build()
        .unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/dev/pets/3"),
        format!("http://127.0.0.1:{port}/restapis/petstore42/dev/_user_request_/pets/3"),
        format!("http://petstore42.execute-api.localhost:{port}/dev/pets/3"),
    ] {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["x-pet-id"], "3", "{url}");
    }
}

#[tokio::test]
async fn routing_prefers_literal_then_variable_then_greedy() {
    let echo = |text: &str| mock_method("GET", 200, text);
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/"},
        {"id": "pets01", "parentId": "root000001", "pathPart": "pets", "path": "/pets", "resourceMethods": {"GET": echo("list")}},
        {"id": "mine01", "parentId": "pets01", "pathPart": "mine", "path": "/pets/mine", "resourceMethods": {"GET": echo("mine")}},
        {"id": "petid1", "parentId": "pets01", "pathPart": "{id}", "path": "/pets/{id}", "resourceMethods": {"GET": echo("one")}},
        {"id": "any001", "parentId": "root000001", "pathPart": "{proxy+}", "path": "/{proxy+}", "resourceMethods": {"ANY": mock_method("ANY", 200, "greedy")}}
    ])));
    let gateway = start_gateway(&deploy(&project, "v1", &[]));
    let client = client();
    for (method, path, expected) in [
        ("GET", "/pets", "list"),
        ("GET", "/pets/", "list"),
        ("GET", "/pets/mine", "mine"),
        ("GET", "/pets/42", "one"),
        ("GET", "/pets/a%2Fb", "one"),
        ("GET", "/pets/42/toys", "greedy"),
        ("DELETE", "/anything/at/all", "greedy"),
        ("PATCH", "/x", "greedy"),
    ] {
        let response = client
            .request(
                method.parse().unwrap(),
                format!("{}/v1{path}", base(&gateway)),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{method} {path}");
        assert_eq!(response.text().await.unwrap(), expected, "{method} {path}");
    }
    // The root has no method and {proxy+} needs at least one segment.
    let response = client
        .get(format!("{}/v1/", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

/// AWS stamps an endpoint request with the `X-Amzn-Trace-Id` it answers
/// with (`Root=1-{8 hex}-{24 hex}`), so the two ends can be matched.
#[tokio::test]
async fn http_proxy_sends_the_trace_id_it_answers_with() {
    let upstream = start_upstream(Upstream::Echo);
    let (_project, gateway) = serve_petstore_with_backend(upstream);
    let response = client()
        .get(format!("{}/dev/echo/x", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answered = response.headers()["x-amzn-trace-id"]
        .to_str()
        .unwrap()
        .to_string();
    let echo: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echo["headers"]["x-amzn-trace-id"], answered.as_str());
    let parts: Vec<&str> = answered.split('-').collect();
    assert_eq!(parts.len(), 3, "{answered}");
    assert_eq!(parts[0], "Root=1");
    assert_eq!((parts[1].len(), parts[2].len()), (8, 24), "{answered}");
}

#[tokio::test]
async fn http_proxy_passes_the_request_through_and_the_response_back() {
    let upstream = start_upstream(Upstream::Echo);
    let (project, gateway) = serve_petstore_with_backend(upstream);
    let response = client()
        .put(format!("{}/dev/echo/a/b%20c?x=1&y=two&x=3", base(&gateway)))
        .header("X-Custom", "yes")
        .header("X-Forwarded-For", "10.1.2.3")
        .header("Connection", "keep-alive, x-hop")
        .header("x-hop", "dropped")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The backend's Date is remapped (AWS's x-amzn-Remapped-* headers).
    assert!(response.headers().contains_key("x-amzn-remapped-date"));
    let echo: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(
        echo["path"], "/dev/a/b%20c",
        "stage variable env=dev and {{proxy}} substituted"
    );
    assert_eq!(echo["query"], "x=1&y=two&x=3");
    assert_eq!(echo["body"], "payload");
    assert_eq!(echo["headers"]["x-custom"], "yes");
    assert_eq!(echo["headers"]["x-forwarded-for"], "10.1.2.3, 127.0.0.1");
    assert_eq!(echo["headers"]["x-amzn-apigateway-api-id"], "petstore42");
    assert!(
        echo["headers"].get("x-hop").is_some(),
        "only standard hop-by-hop headers are dropped"
    );
    assert!(
        echo["headers"]["connection"]
            .as_str()
            .is_none_or(|c| !c.contains("x-hop"))
    );

    // prod's stage variable env=prod reaches a different backend path.
    let project_prod = {
        let mut p = project.load();
        let variables = [("backendHost".to_string(), upstream.to_string())]
            .into_iter()
            .collect();
        p.deploy("petstore42", "prod", None, &variables).unwrap();
        p
    };
    gateway.reload(&project_prod).unwrap();
    let echo: serde_json::Value = client()
        .get(format!("{}/prod/echo/z", base(&gateway)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["path"], "/prod/z");
}

#[tokio::test]
async fn http_proxy_returns_backend_status_and_headers() {
    let upstream = start_upstream(Upstream::Fixed(
        418,
        vec![("x-teapot", "short"), ("server", "tea")],
        "I'm a teapot",
    ));
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/", "resourceMethods": {"ANY": {
            "httpMethod": "ANY",
            "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": format!("http://{upstream}/")}
        }}}
    ])));
    let gateway = start_gateway(&deploy(&project, "dev", &[]));
    let response = client()
        .delete(format!("{}/dev", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 418);
    assert_eq!(response.headers()["x-teapot"], "short");
    assert_eq!(response.headers()["x-amzn-remapped-server"], "tea");
    assert_eq!(response.text().await.unwrap(), "I'm a teapot");
}

/// Backend keep-alive: a backend that closes each connection after its
/// answer (`Connection: close`), and one that drops idle connections
/// without a word, both keep answering every request through the pool.
#[tokio::test]
async fn backend_connections_closed_by_the_backend_are_replaced() {
    let closing = start_upstream(Upstream::Fixed(
        200,
        vec![("connection", "close")],
        "closed",
    ));
    let silent = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buffer = [0u8; 4096];
                // One request per connection, answered with keep-alive, then
                // the socket is dropped while the client thinks it is idle.
                if stream.read(&mut buffer).unwrap_or(0) > 0 {
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: keep-alive\r\n\r\nsilent",
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        addr
    };
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/"},
        {"id": "close1", "parentId": "root000001", "pathPart": "closing", "path": "/closing", "resourceMethods": {"GET": {
            "httpMethod": "GET",
            "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("http://{closing}/")}
        }}},
        {"id": "silen1", "parentId": "root000001", "pathPart": "silent", "path": "/silent", "resourceMethods": {"GET": {
            "httpMethod": "GET",
            "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("http://{silent}/")}
        }}}
    ])));
    let gateway = start_gateway(&deploy(&project, "dev", &[]));
    let client = client();
    for round in 0..4 {
        for (path, body) in [("closing", "closed"), ("silent", "silent")] {
            let response = client
                .get(format!("{}/dev/{path}", base(&gateway)))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path} round {round}");
            assert_eq!(response.text().await.unwrap(), body, "{path} round {round}");
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
}

#[tokio::test]
async fn http_integration_selects_responses_by_status_pattern() {
    let upstream = start_upstream(Upstream::Echo);
    let (_project, gateway) = serve_petstore_with_backend(upstream);
    let client = client();
    for (code, status, body, backend_status) in [
        ("200", 200, r#"{"status":200}"#, Some("200")),
        ("204", 200, "", Some("204")),
        (
            "404",
            400,
            r#"{"message": "The backend refused the request"}"#,
            Some("404"),
        ),
        ("503", 502, r#"{"message": "The backend failed"}"#, None),
    ] {
        let response = client
            .get(format!("{}/dev/status/{code}", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{code}");
        assert_eq!(
            response
                .headers()
                .get("x-backend-status")
                .map(|v| v.to_str().unwrap()),
            backend_status,
            "{code}"
        );
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.text().await.unwrap(), body, "{code}");
    }
}

/// AWS: 504 `{"message": "Endpoint request timed out"}` (with a space) when
/// the integration exceeds `timeoutInMillis`.
#[tokio::test]
async fn integration_timeout_is_504() {
    let upstream = start_upstream(Upstream::Delay(Duration::from_millis(1500)));
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/", "resourceMethods": {"GET": {
            "httpMethod": "GET",
            "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("http://{upstream}/"), "timeoutInMillis": 100}
        }}}
    ])));
    let gateway = start_gateway(&deploy(&project, "dev", &[]));
    let response = client()
        .get(format!("{}/dev/", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "InternalServerErrorException"
    );
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message": "Endpoint request timed out"}"#
    );
    let record = gateway.request_log().since(0).pop().unwrap();
    assert!(
        record
            .execution_log
            .render()
            .contains("Execution failed due to a timeout error")
    );
}

/// Connection refused: 504 `{"message": "Network error communicating with
/// endpoint"}` (a public curl capture shows Content-Length 56 and
/// `x-amzn-ErrorType: InternalServerErrorException`). An unresolvable host
/// is a configuration error: 500 `{"message": "Internal server error"}`.
#[tokio::test]
async fn unreachable_backends() {
    let down = closed_port();
    let port = down.port();
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/"},
        {"id": "down01", "parentId": "root000001", "pathPart": "down", "path": "/down", "resourceMethods": {"GET": {
            "httpMethod": "GET",
            "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("http://127.0.0.1:{port}/")}
        }}},
        {"id": "nodns1", "parentId": "root000001", "pathPart": "nodns", "path": "/nodns", "resourceMethods": {"GET": {
            "httpMethod": "GET",
            "methodIntegration": {"type": "HTTP", "httpMethod": "GET", "uri": "http://no-such-host.invalid/",
                "integrationResponses": {"200": {"statusCode": "200"}}}
        }}}
    ])));
    let gateway = start_gateway(&deploy(&project, "dev", &[]));
    let response = client()
        .get(format!("{}/dev/down", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "InternalServerErrorException"
    );
    let body = response.text().await.unwrap();
    assert_eq!(
        body,
        r#"{"message": "Network error communicating with endpoint"}"#
    );
    assert_eq!(body.len(), 56);
    let response = client()
        .get(format!("{}/dev/nodns", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message": "Internal server error"}"#
    );
}

/// No integration response matches and none is the default: AWS logs "No
/// match for output mapping and no default output mapping configured" and
/// answers 500 `{"message": "Internal server error"}`.
#[tokio::test]
async fn no_matching_integration_response_is_a_configuration_error() {
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/", "resourceMethods": {"GET": {
            "httpMethod": "GET",
            "methodIntegration": {"type": "MOCK",
                "requestTemplates": {"application/json": "{\"statusCode\": 404}"},
                "integrationResponses": {"200": {"statusCode": "200", "selectionPattern": "2\\d\\d"}}}
        }}}
    ])));
    let gateway = start_gateway(&deploy(&project, "dev", &[]));
    let response = client()
        .get(format!("{}/dev", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message": "Internal server error"}"#
    );
    let log = gateway
        .request_log()
        .since(0)
        .pop()
        .unwrap()
        .execution_log
        .render();
    assert!(log.contains("No match for output mapping and no default output mapping configured. Endpoint Response Status Code: 404"), "{log}");
}

#[tokio::test]
async fn gateway_responses_are_customizable() {
    let mut definition = api_definition(json!([
        {"id": "root000001", "path": "/", "resourceMethods": {"GET": mock_method("GET", 200, "ok")}}
    ]));
    definition["restApis"][0]["gatewayResponses"] = json!({
        "MISSING_AUTHENTICATION_TOKEN": {
            "responseType": "MISSING_AUTHENTICATION_TOKEN",
            "statusCode": "404",
            "responseParameters": {"gatewayresponse.header.X-Stage": "stageVariables.name", "gatewayresponse.header.X-Fixed": "'yes'"},
            "responseTemplates": {"application/json": "{\"error\": $context.error.messageString, \"type\": \"$context.error.responseType\", \"stage\": \"$context.stage\"}"}
        },
        "DEFAULT_5XX": {"responseType": "DEFAULT_5XX", "statusCode": "503"}
    });
    let project = TempProject::from_json(&definition);
    let gateway = start_gateway(&deploy(&project, "dev", &[("name", "dev")]));
    let response = client()
        .get(format!("{}/dev/missing", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-stage"], "dev");
    assert_eq!(response.headers()["x-fixed"], "yes");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN", "stage": "dev"}"#
    );
}

/// Payloads over 10 MB get 413 and AWS's plain-text body (observed:
/// `HTTP content length exceeded 10485760 bytes.`).
#[tokio::test]
async fn payload_over_ten_megabytes_is_413() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let response = client()
        .post(format!("{}/dev/pets", base(&gateway)))
        .body(vec![b'x'; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.text().await.unwrap(),
        "HTTP content length exceeded 10485760 bytes."
    );
    // Exactly the limit is accepted.
    let response = client()
        .post(format!("{}/dev/pets", base(&gateway)))
        .header("content-type", "application/json")
        .body(vec![b' '; 10 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[test]
fn malformed_http_gets_400_and_the_server_keeps_serving() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    for garbage in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"GET /dev/pets HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"\x00\xff\xfe\r\n\r\n",
    ] {
        let mut stream = std::net::TcpStream::connect(gateway.local_addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(garbage).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    }
    // Keep-alive: two requests on one connection.
    let mut stream = std::net::TcpStream::connect(gateway.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for _ in 0..2 {
        stream
            .write_all(b"GET /dev/pets/1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut buffer = [0u8; 4096];
        let read = stream.read(&mut buffer).unwrap();
        assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200 OK"));
    }
}

#[tokio::test]
async fn http2_prior_knowledge_is_served() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/dev/pets/5", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-pet-id"], "5");
}

#[tokio::test]
async fn execution_log_records_the_aws_steps() {
    let upstream = start_upstream(Upstream::Echo);
    let (_project, gateway) = serve_petstore_with_backend(upstream);
    let response = client()
        .get(format!("{}/dev/status/200?verbose=1", base(&gateway)))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let record = gateway
        .request_log()
        .find(&request_id)
        .expect("the request is in the live log");
    assert_eq!(record.status, 200);
    assert_eq!(record.resource_path.as_deref(), Some("/status/{code}"));
    let log = record.execution_log.render();
    for step in [
        format!("Starting execution for request: {request_id}"),
        "HTTP Method: GET, Resource Path: /status/{code}".to_string(),
        "Method request path: {code=200}".to_string(),
        "Method request query string: {verbose=1}".to_string(),
        "Method request headers: {".to_string(),
        format!("Endpoint request URI: http://{upstream}/status/200"),
        "Endpoint request headers: {".to_string(),
        "x-stage=dev".to_string(),
        "Received response. Status: 200, Integration latency:".to_string(),
        "Endpoint response body before transformations: {\"status\":200}".to_string(),
        "Method response headers: {content-type=application/json, x-backend-status=200}"
            .to_string(),
        "Successfully completed execution".to_string(),
        "Method completed with status: 200".to_string(),
    ] {
        assert!(log.contains(&step), "missing {step:?} in\n{log}");
    }
}

/// A gateway that keeps no live request log (headless `serve`: nothing
/// reads it) answers exactly as one that does; it only counts requests.
#[tokio::test]
async fn a_gateway_without_a_request_log_answers_the_same() {
    let upstream = start_upstream(Upstream::Echo);
    let (_project, loaded) = petstore_with_backend(upstream);
    let logged = start_gateway(&loaded);
    let config = portico::gateway::GatewayConfig {
        port: 0,
        worker_threads: 2,
        request_log_capacity: 0,
        ..portico::gateway::GatewayConfig::default()
    };
    let headless = portico::gateway::Gateway::start(&loaded, &config).unwrap();
    let client = client();
    for (method, path, body) in [
        ("GET", "/dev/pets", ""),
        ("POST", "/dev/pets", "{}"),
        ("PUT", "/dev/echo/a/b?x=1", "payload"),
        ("GET", "/dev/nope", ""),
        ("GET", "/dev/status/404", ""),
    ] {
        let mut answers = Vec::new();
        for gateway in [&logged, &headless] {
            let response = client
                .request(method.parse().unwrap(), format!("{}{path}", base(gateway)))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            assert!(headers.contains_key("x-amzn-requestid"), "{path}");
            let mut body: serde_json::Value =
                response.json().await.unwrap_or(serde_json::Value::Null);
            // The trace id differs from request to request.
            if let Some(echoed) = body.get_mut("headers").and_then(|h| h.as_object_mut()) {
                echoed.remove("x-amzn-trace-id");
            }
            answers.push((status, headers.get("content-type").cloned(), body));
        }
        assert_eq!(answers[0], answers[1], "{method} {path}");
    }
    assert_eq!(logged.request_log().len(), 5);
    assert_eq!(headless.request_log().len(), 0);
    assert_eq!(
        headless.request_log().total(),
        5,
        "requests are still counted"
    );
}
