//! HTTP APIs (API Gateway v2) on a real port: route selection, the
//! `$default` stage without a stage segment, HTTP_PROXY to a real backend,
//! Lambda proxy payload 2.0 and 1.0 with a real python worker, CORS from
//! `corsConfiguration` with real preflights, and AWS's error answers.
//!
//! AWS facts used here:
//! - no route matches: 404 `{"message":"Not Found"}`;
//! - a Lambda or backend failure: 500 `{"message":"Internal Server Error"}`
//!   (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html>);
//! - an integration timeout: 503 `{"message":"Service Unavailable"}` (an
//!   HTTP API's answer, quoted in cortexlabs/cortex#1225);
//! - payload 2.0 fields and response inference
//!   (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>).

mod common;

use std::time::Duration;

use common::{TempProject, Upstream, client, closed_port, start_gateway, start_upstream};
use portico::gateway::Gateway;
use serde_json::{Value, json};

const ECHO_EVENT: &str = r#"
import json
def handler(event, context):
    if event.get("rawPath", "").endswith("/plain") or event.get("path", "").endswith("/plain"):
        return {"hello": "plain"}
    if event.get("version") == "1.0":
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "cookies": ["a=1; Path=/", "b=2"], "body": json.dumps(event)}
"#;

struct Fixture {
    _project: TempProject,
    gateway: Gateway,
    /// The `/down` route's backend.
    _down: common::ClosedPort,
}

fn fixture(backend: &str) -> Fixture {
    let down = closed_port();
    let lambda_uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations";
    let project = TempProject::from_json(&json!({
        "version": 1,
        "httpApis": [{
            "apiId": "httpapi001",
            "name": "Shop",
            "corsConfiguration": {
                "allowOrigins": ["https://shop.example"],
                "allowMethods": ["GET", "POST"],
                "allowHeaders": ["content-type", "x-token"],
                "exposeHeaders": ["x-request-id"],
                "maxAge": 600,
                "allowCredentials": true
            },
            "routes": [
                {"routeId": "r1", "routeKey": "GET /items/{id}", "target": "integrations/proxy"},
                {"routeId": "r2", "routeKey": "ANY /files/{proxy+}", "target": "integrations/files"},
                {"routeId": "r3", "routeKey": "POST /fn/{name}", "target": "integrations/lambda2"},
                {"routeId": "r4", "routeKey": "GET /fn/plain", "target": "integrations/lambda2"},
                {"routeId": "r5", "routeKey": "GET /v1/{name}", "target": "integrations/lambda1"},
                {"routeId": "r6", "routeKey": "GET /down", "target": "integrations/down"},
                {"routeId": "r7", "routeKey": "GET /slow", "target": "integrations/slow"}
            ],
            "integrations": [
                {"integrationId": "proxy", "integrationType": "HTTP_PROXY", "integrationMethod": "GET",
                 "integrationUri": format!("http://{backend}/backend/items/{{id}}")},
                {"integrationId": "files", "integrationType": "HTTP_PROXY", "integrationMethod": "ANY",
                 "integrationUri": format!("http://${{stageVariables.host}}/store/{{proxy}}")},
                {"integrationId": "lambda2", "integrationType": "AWS_PROXY", "payloadFormatVersion": "2.0",
                 "integrationUri": lambda_uri},
                {"integrationId": "lambda1", "integrationType": "AWS_PROXY", "payloadFormatVersion": "1.0",
                 "integrationUri": lambda_uri},
                {"integrationId": "down", "integrationType": "HTTP_PROXY",
                 "integrationUri": format!("http://127.0.0.1:{}/", down.port())},
                {"integrationId": "slow", "integrationType": "HTTP_PROXY", "timeoutInMillis": 200,
                 "integrationUri": format!("http://{}/", start_upstream(Upstream::Delay(Duration::from_secs(2))))}
            ],
            "stages": [
                {"stageName": "$default", "autoDeploy": true, "stageVariables": {"host": backend, "tier": "gold"}},
                {"stageName": "beta", "autoDeploy": true, "stageVariables": {"host": backend}}
            ]
        }],
        "functions": [{"functionName": "echo", "runtime": "python3.12", "handler": "app.handler", "codeUri": "functions/echo"}]
    }));
    let code = project.path().join("functions/echo");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("app.py"), ECHO_EVENT).unwrap();
    let gateway = start_gateway(&project.load());
    Fixture {
        _project: project,
        gateway,
        _down: down,
    }
}

impl Fixture {
    /// A request to the API by its host name, sent to the gateway.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        client()
            .request(
                method,
                format!("http://{}{path}", self.gateway.local_addr()),
            )
            .header("host", "httpapi001.execute-api.localhost")
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn routes_stages_and_http_proxy() {
    let backend = start_upstream(Upstream::Echo).to_string();
    let f = fixture(&backend);
    // $default: no stage segment; the path variable fills the URI.
    let response = f
        .request(reqwest::Method::GET, "/items/42?color=red")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echoed = json_of(response).await;
    assert_eq!(echoed["path"], "/backend/items/42");
    assert_eq!(echoed["query"], "color=red");
    // A greedy route, ANY verb, a stage variable in the URI, on the named
    // stage `beta` (its segment is not part of the route path).
    let response = f
        .request(reqwest::Method::DELETE, "/beta/files/a/b.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echoed = json_of(response).await;
    assert_eq!(echoed["method"], "DELETE");
    assert_eq!(echoed["path"], "/store/a/b.txt");
    // The path form reaches a stage too.
    let status = client()
        .get(format!(
            "http://{}/restapis/httpapi001/beta/_user_request_/items/7",
            f.gateway.local_addr()
        ))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    // No route: 404 {"message":"Not Found"}; a route's verb is checked.
    for (method, path) in [
        (reqwest::Method::GET, "/nothing/here"),
        (reqwest::Method::POST, "/items/42"),
    ] {
        let response = f.request(method, path).send().await.unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(json_of(response).await, json!({"message": "Not Found"}));
    }
    // Backend down, backend too slow.
    let response = f
        .request(reqwest::Method::GET, "/down")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        json_of(response).await,
        json!({"message": "Internal Server Error"})
    );
    let response = f
        .request(reqwest::Method::GET, "/slow")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        json_of(response).await,
        json!({"message": "Service Unavailable"})
    );
    // Every request is in the live log with its route.
    let logged = f.gateway.request_log().since(0);
    assert!(
        logged
            .iter()
            .any(|r| r.resource_path.as_deref() == Some("GET /items/{id}") && r.status == 200)
    );
}

#[tokio::test]
async fn lambda_payload_2_and_1() {
    let backend = start_upstream(Upstream::Echo).to_string();
    let f = fixture(&backend);
    let response = f
        .request(reqwest::Method::POST, "/fn/ada%20l?tag=a&tag=b&solo=1")
        .header("cookie", "session=s1; theme=dark")
        .header("x-multi", "one")
        .header("user-agent", "portico-test")
        .header("content-type", "application/json")
        .body(r#"{"order": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(cookies, ["a=1; Path=/", "b=2"], "cookies -> Set-Cookie");
    let event = json_of(response).await;
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "POST /fn/{name}");
    assert_eq!(event["rawPath"], "/fn/ada%20l");
    assert_eq!(event["rawQueryString"], "tag=a&tag=b&solo=1");
    assert_eq!(event["cookies"], json!(["session=s1", "theme=dark"]));
    assert!(event["headers"].get("cookie").is_none());
    assert_eq!(event["headers"]["x-multi"], "one");
    assert_eq!(
        event["queryStringParameters"],
        json!({"tag": "a,b", "solo": "1"})
    );
    assert_eq!(event["pathParameters"], json!({"name": "ada l"}));
    assert_eq!(
        event["stageVariables"],
        json!({"host": backend, "tier": "gold"})
    );
    assert_eq!(event["body"], r#"{"order": 1}"#);
    assert_eq!(event["isBase64Encoded"], false);
    let http = &event["requestContext"]["http"];
    assert_eq!(http["method"], "POST");
    assert_eq!(http["path"], "/fn/ada%20l");
    assert_eq!(http["sourceIp"], "127.0.0.1");
    assert_eq!(http["userAgent"], "portico-test");
    assert_eq!(event["requestContext"]["apiId"], "httpapi001");
    assert_eq!(event["requestContext"]["stage"], "$default");
    assert!(event["requestContext"]["timeEpoch"].as_i64().unwrap() > 1_700_000_000_000);
    // Field by field against the example event AWS documents for payload
    // 2.0 (http-api-develop-integrations-lambda.html): every key there is
    // here, with the same JSON type (`authentication` is for mutual TLS only).
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    for (key, expected) in [
        ("version", "string"),
        ("routeKey", "string"),
        ("rawPath", "string"),
        ("rawQueryString", "string"),
        ("cookies", "array"),
        ("headers", "object"),
        ("queryStringParameters", "object"),
        ("requestContext", "object"),
        ("body", "string"),
        ("pathParameters", "object"),
        ("isBase64Encoded", "bool"),
        ("stageVariables", "object"),
    ] {
        assert_eq!(kind(&event[key]), expected, "{key}");
    }
    let context = &event["requestContext"];
    for (key, expected) in [
        ("accountId", "string"),
        ("apiId", "string"),
        ("domainName", "string"),
        ("domainPrefix", "string"),
        ("http", "object"),
        ("requestId", "string"),
        ("routeKey", "string"),
        ("stage", "string"),
        ("time", "string"),
        ("timeEpoch", "number"),
    ] {
        assert_eq!(kind(&context[key]), expected, "requestContext.{key}");
    }
    for key in ["method", "path", "protocol", "sourceIp", "userAgent"] {
        assert_eq!(kind(&context["http"][key]), "string", "http.{key}");
    }
    // AWS's time format: 12/Mar/2020:19:03:58 +0000.
    let time = context["time"].as_str().unwrap();
    assert!(
        regex::Regex::new(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
            .unwrap()
            .is_match(time),
        "{time}"
    );

    // A function answering plain JSON without statusCode: 200 with it.
    let response = f
        .request(reqwest::Method::GET, "/fn/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(json_of(response).await, json!({"hello": "plain"}));

    // Payload 1.0: the REST proxy event's shape, with version 1.0.
    let response = f
        .request(reqwest::Method::GET, "/v1/x?a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let event = json_of(response).await;
    assert_eq!(event["version"], "1.0");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["resource"], "/v1/{name}");
    assert_eq!(event["queryStringParameters"], json!({"a": "1"}));
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"a": ["1"]})
    );
}

#[tokio::test]
async fn cors_preflight_and_response_headers() {
    let backend = start_upstream(Upstream::Echo).to_string();
    let f = fixture(&backend);
    let response = f
        .request(reqwest::Method::OPTIONS, "/items/1")
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(headers["access-control-allow-methods"], "GET,POST");
    assert_eq!(
        headers["access-control-allow-headers"],
        "content-type,x-token"
    );
    assert_eq!(headers["access-control-max-age"], "600");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    // An origin not allowed gets no CORS headers.
    let response = f
        .request(reqwest::Method::OPTIONS, "/items/1")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    // Actual responses carry the origin and the exposed headers.
    let response = f
        .request(reqwest::Method::GET, "/items/1")
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "x-request-id"
    );
}

#[test]
fn a_bad_route_key_names_its_place() {
    let project = TempProject::from_json(&json!({
        "version": 1,
        "httpApis": [{"apiId": "h1", "name": "x", "routes": [{"routeId": "r", "routeKey": "GET pets"}]}]
    }));
    let error = portico::model::Project::load(&project.path())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("portico.json:") && error.contains("Invalid route key"),
        "{error}"
    );
}

#[test]
fn ls_reports_http_apis() {
    let project = TempProject::from_json(&json!({
        "version": 1,
        "httpApis": [{"apiId": "h1", "name": "Shop", "stages": [{"stageName": "$default", "autoDeploy": true}]}]
    }));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["ls", "--json", "--project"])
        .arg(project.path())
        .output()
        .unwrap();
    let apis: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(apis[0]["type"], "HTTP");
    assert_eq!(
        apis[0]["stages"][0]["url"],
        "http://h1.execute-api.localhost:4455/"
    );
}

/// The bundled `projects/http-api` works out of the box.
#[tokio::test]
async fn the_sample_project_serves() {
    let project = TempProject::copy_of("projects/http-api");
    let gateway = start_gateway(&project.load());
    let response = client()
        .get(format!("http://{}/hello/ada", gateway.local_addr()))
        .header("host", "shopapi001.execute-api.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_of(response).await,
        json!({"message": "hello ada", "route": "GET /hello/{name}", "stage": "$default"})
    );
    // The JWT route wants a token of the local issuer (on port 4455).
    let status = client()
        .get(format!("http://{}/orders/ada", gateway.local_addr()))
        .header("host", "shopapi001.execute-api.localhost")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

/// A stage without autoDeploy serves its deployment: nothing before
/// `portico deploy`, then the snapshot, which later edits of the API do not
/// change (while an autoDeploy stage follows them).
#[tokio::test]
async fn deployed_stages_serve_their_snapshot() {
    let project = TempProject::copy_of("projects/http-api");
    let path = project.path();
    let mut definition: Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("portico.json")).unwrap()).unwrap();
    definition["httpApis"][0]["stages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"stageName": "prod"}));
    std::fs::write(path.join("portico.json"), definition.to_string()).unwrap();
    let get = |gateway: &Gateway, path: &str| {
        let url = format!("http://{}{path}", gateway.local_addr());
        async move {
            client()
                .get(url)
                .header("host", "shopapi001.execute-api.localhost")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let gateway = start_gateway(&project.load());
    // `prod` is not served: its first segment falls to $default's routes.
    assert_eq!(get(&gateway, "/prod/hello/ada").await, 404);
    drop(gateway);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["deploy", "--api", "Shop", "--stage", "prod", "--project"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // A route added to the draft after the deployment.
    let mut definition: Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("portico.json")).unwrap()).unwrap();
    definition["httpApis"][0]["routes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"routeId": "new001", "routeKey": "GET /new/{name}", "target": "integrations/hellofn"}));
    std::fs::write(path.join("portico.json"), definition.to_string()).unwrap();
    let gateway = start_gateway(&project.load());
    assert_eq!(get(&gateway, "/prod/hello/ada").await, 200, "deployed");
    assert_eq!(
        get(&gateway, "/prod/new/ada").await,
        404,
        "not in the snapshot"
    );
    assert_eq!(
        get(&gateway, "/new/ada").await,
        200,
        "$default follows the draft"
    );
}

/// Parameter mapping
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html>):
/// `append:` / `overwrite:` / `remove:` on the backend request's headers
/// and query string and `overwrite:path`, from `$request.*`, `$context.*`,
/// `$stageVariables.*` and static text; on the response, per status code,
/// headers from `$response.*` and `overwrite:statuscode`.
#[tokio::test]
async fn parameter_mapping() {
    let backend = start_upstream(Upstream::Echo);
    let project = TempProject::from_json(&json!({
        "version": 1,
        "httpApis": [{
            "apiId": "mapapi0001", "name": "Map",
            "routes": [{"routeId": "r1", "routeKey": "GET /users/{id}", "target": "integrations/i1"}],
            "integrations": [{
                "integrationId": "i1", "integrationType": "HTTP_PROXY", "integrationMethod": "GET",
                "integrationUri": format!("http://{backend}/ignored"),
                "requestParameters": {
                    "overwrite:path": "/v2/accounts/$request.path.id",
                    "append:header.x-tags": "$request.header.x-tags",
                    "overwrite:header.x-stage": "stage-${context.stage}-${stageVariables.tier}",
                    "remove:header.x-secret": "''",
                    "overwrite:querystring.page": "$request.querystring.p",
                    "remove:querystring.p": "''"
                },
                "responseParameters": {
                    "200": {
                        "overwrite:statuscode": "202",
                        "overwrite:header.x-backend-path": "$response.body.path",
                        "append:header.x-route": "$context.routeKey"
                    }
                }
            }],
            "stages": [{"stageName": "$default", "autoDeploy": true, "stageVariables": {"tier": "gold"}}]
        }]
    }));
    let gateway = start_gateway(&project.load());
    let response = client()
        .get(format!(
            "http://{}/users/42?p=3&keep=1",
            gateway.local_addr()
        ))
        .header("host", "mapapi0001.execute-api.localhost")
        .header("x-tags", "a")
        .header("x-secret", "hide me")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "overwrite:statuscode");
    assert_eq!(response.headers()["x-backend-path"], "/v2/accounts/42");
    assert_eq!(response.headers()["x-route"], "GET /users/{id}");
    let echoed = json_of(response).await;
    assert_eq!(echoed["path"], "/v2/accounts/42");
    assert_eq!(echoed["query"], "keep=1&page=3");
    let headers = &echoed["headers"];
    assert_eq!(headers["x-tags"], "a,a", "appended");
    assert_eq!(headers["x-stage"], "stage-$default-gold");
    assert!(headers.get("x-secret").is_none(), "removed: {headers}");
}

const AUTHORIZER: &str = r#"
import json

def show(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}

def simple(event, context):
    token = event["identitySource"][0]
    return {"isAuthorized": token == "let-me-in", "context": {"user": "ada", "calls": 1}}

def policy(event, context):
    allow = event["identitySource"] == "let-me-in"
    return {"principalId": "ada", "context": {"tier": "gold"},
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Allow" if allow else "Deny",
                "Resource": event["methodArn"]}]}}
"#;

/// Lambda (REQUEST) authorizers of HTTP APIs
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html>):
/// payload 2.0 with simple responses and payload 1.0 with an IAM policy;
/// a missing identity source is 401 without calling the function; a denial
/// is 403; the context reaches the integration's event.
#[tokio::test]
async fn lambda_authorizers() {
    let project = TempProject::copy_of("projects/http-api");
    let mut loaded = project.load();
    let authorizer_code = project.path().join("functions/gate");
    std::fs::create_dir_all(&authorizer_code).unwrap();
    std::fs::write(authorizer_code.join("app.py"), AUTHORIZER).unwrap();
    for handler in ["simple", "policy", "show"] {
        loaded
            .functions
            .push(portico::model::FunctionDefinition::new(
                &format!("gate-{handler}"),
                "python3.12",
                &format!("app.{handler}"),
                "functions/gate",
            ));
    }
    let api = &mut loaded.http_apis[0];
    api.authorizers = serde_json::from_value(json!([
        {"authorizerId": "simple1", "name": "simple", "authorizerType": "REQUEST",
         "identitySource": ["$request.header.x-key"], "authorizerPayloadFormatVersion": "2.0",
         "enableSimpleResponses": true, "authorizerResultTtlInSeconds": 300,
         "authorizerUri": "arn:aws:lambda:us-east-1:000000000000:function:gate-simple"},
        {"authorizerId": "policy1", "name": "policy", "authorizerType": "REQUEST",
         "identitySource": ["$request.querystring.key"], "authorizerPayloadFormatVersion": "1.0",
         "authorizerUri": "arn:aws:lambda:us-east-1:000000000000:function:gate-policy"}
    ]))
    .unwrap();
    api.integrations.push(
        serde_json::from_value(json!({
            "integrationId": "show1", "integrationType": "AWS_PROXY", "payloadFormatVersion": "2.0",
            "integrationUri": "arn:aws:lambda:us-east-1:000000000000:function:gate-show"
        }))
        .unwrap(),
    );
    api.routes = serde_json::from_value(json!([
        {"routeId": "a", "routeKey": "GET /hello/{name}", "target": "integrations/show1",
         "authorizationType": "CUSTOM", "authorizerId": "simple1"},
        {"routeId": "b", "routeKey": "GET /policy/{name}", "target": "integrations/hellofn",
         "authorizationType": "CUSTOM", "authorizerId": "policy1"}
    ]))
    .unwrap();
    loaded.save().unwrap();
    let gateway = start_gateway(&project.load());
    let get = |path: &str, key: Option<&str>| {
        let mut request = client()
            .get(format!("http://{}{path}", gateway.local_addr()))
            .header("host", "shopapi001.execute-api.localhost");
        if let Some(key) = key {
            request = request.header("x-key", key);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(
        get("/hello/ada", None).await,
        (401, r#"{"message":"Unauthorized"}"#.to_string()),
        "no identity source"
    );
    assert_eq!(
        get("/hello/ada", Some("wrong")).await,
        (403, r#"{"message":"Forbidden"}"#.to_string())
    );
    let (status, body) = get("/hello/ada", Some("let-me-in")).await;
    assert_eq!(status, 200, "{body}");
    let authorizer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(authorizer, json!({"lambda": {"user": "ada", "calls": 1}}));
    assert_eq!(get("/policy/ada?key=let-me-in", None).await.0, 200);
    assert_eq!(get("/policy/ada?key=nope", None).await.0, 403);
    assert_eq!(get("/policy/ada", None).await.0, 401);
}

/// `portico export` writes an HTTP API as OpenAPI 3.0 with AWS's HTTP API
/// extensions; `portico import --type HTTP` reads it back to the same
/// routes, integrations, JWT authorizer and CORS; openapi-spec-validator
/// accepts the export.
#[test]
fn openapi_export_and_import_round_trip() {
    let project = TempProject::copy_of("projects/http-api");
    let mut loaded = project.load();
    let api = &mut loaded.http_apis[0];
    api.authorizers.push(
        serde_json::from_value(json!({
            "authorizerId": "users", "name": "users", "authorizerType": "JWT",
            "identitySource": ["$request.header.Authorization"],
            "jwtConfiguration": {"issuer": "https://issuer.example.com", "audience": ["shop"]}
        }))
        .unwrap(),
    );
    api.routes[0].authorization_type = "JWT".into();
    api.routes[0].authorizer_id = Some("users".into());
    api.routes[0].authorization_scopes = vec!["orders:read".into()];
    loaded.save().unwrap();
    let original = project.load().http_apis[0].clone();
    let file = project.path().join("shop.json");
    let portico = |args: &[&str], dir: &std::path::Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(args)
            .arg("--project")
            .arg(dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    portico(
        &["export", "--api", "Shop", "-o", file.to_str().unwrap()],
        &project.path(),
    );
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        document["paths"]["/hello/{name}"]["get"]["x-amazon-apigateway-integration"]["payloadFormatVersion"],
        "2.0"
    );
    assert_eq!(
        document["components"]["securitySchemes"]["users"]["x-amazon-apigateway-authorizer"]["type"],
        "jwt"
    );
    assert_eq!(document["x-amazon-apigateway-cors"]["maxAge"], 300);
    let validated = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(validated.status.success(), "{validated:?}");

    let target = TempProject::from_json(&json!({"version": 1}));
    let id = portico(
        &[
            "import",
            file.to_str().unwrap(),
            "--type",
            "HTTP",
            "--fail-on-warnings",
        ],
        &target.path(),
    );
    let imported = target.load().http_apis[0].clone();
    assert_eq!(imported.api_id, id.trim());
    assert_eq!(imported.name, original.name);
    assert_eq!(imported.cors_configuration, original.cors_configuration);
    let keys = |api: &portico::model::HttpApi| {
        let mut keys: Vec<(String, String, Vec<String>, Option<String>)> = api
            .routes
            .iter()
            .map(|r| {
                let integration = api.target(r).unwrap();
                (
                    r.route_key.clone(),
                    integration.integration_type.clone(),
                    r.authorization_scopes.clone(),
                    integration.integration_uri.clone(),
                )
            })
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&imported), keys(&original));
    let configs = |api: &portico::model::HttpApi| {
        api.authorizers
            .iter()
            .map(|a| (a.authorizer_id.clone(), a.jwt_configuration.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(configs(&imported), configs(&original));
}

/// Stage throttling (`defaultRouteSettings`, `routeSettings` per route
/// key): beyond the burst, 429 `{"message":"Too Many Requests"}`.
#[tokio::test]
async fn stage_route_throttling() {
    let backend = start_upstream(Upstream::Echo).to_string();
    let project = TempProject::copy_of("projects/http-api");
    let mut loaded = project.load();
    let stage = &mut loaded.http_apis[0].stages[0];
    stage.stage_variables.insert("echoHost".into(), backend);
    stage.default_route_settings = Some(
        serde_json::from_value(json!({"throttlingBurstLimit": 2, "throttlingRateLimit": 0.01}))
            .unwrap(),
    );
    stage.route_settings.insert(
        "ANY /echo/{proxy+}".into(),
        serde_json::from_value(json!({"throttlingBurstLimit": 4, "throttlingRateLimit": 0.01}))
            .unwrap(),
    );
    loaded.save().unwrap();
    let gateway = start_gateway(&project.load());
    let get = |path: &str| {
        let request = client()
            .get(format!("http://{}{path}", gateway.local_addr()))
            .header("host", "shopapi001.execute-api.localhost");
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(get("/hello/ada").await.0);
    }
    assert_eq!(statuses, [200, 200, 429], "the default: burst 2");
    assert_eq!(
        get("/hello/ada").await.1,
        r#"{"message":"Too Many Requests"}"#
    );
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get("/echo/x").await.0);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429],
        "the route's own: burst 4"
    );
}
