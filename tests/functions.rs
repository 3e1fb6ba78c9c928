//! Local Lambda functions through the gateway on a real port: real worker
//! processes (our python and node bootstraps, and AWS's own runtime client
//! `awslambdaric` as a `provided` bootstrap) speaking the Lambda Runtime API.
//!
//! AWS facts used here, from the API Gateway developer guide
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html>):
//! the REST proxy event (payload 1.0) has `resource`, `path`, `httpMethod`,
//! `headers`, `multiValueHeaders`, `queryStringParameters`,
//! `multiValueQueryStringParameters`, `pathParameters`, `stageVariables`,
//! `requestContext`, `body` and `isBase64Encoded`; the function answers
//! `statusCode`, `headers`, `multiValueHeaders`, `body`, `isBase64Encoded`,
//! and a malformed answer or a function error gives 502
//! `{"message": "Internal server error"}`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{TempProject, client, start_gateway};
use portico::gateway::Gateway;
use portico::model::{FunctionDefinition, Project};
use serde_json::{Value, json};

/// A project with one API whose methods call `functions` (written into the
/// project's `functions/NAME/` directories), deployed to `dev`.
struct Fixture {
    _project: TempProject,
    gateway: Gateway,
}

fn proxy_method(function: &str) -> Value {
    json!({
        "httpMethod": "ANY",
        "authorizationType": "NONE",
        "methodIntegration": {
            "type": "AWS_PROXY",
            "httpMethod": "POST",
            "uri": format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{function}/invocations")
        }
    })
}

fn fixture(
    functions: &[(FunctionDefinition, &[(&str, &str)])],
    extra_resources: Vec<Value>,
) -> Fixture {
    fixture_full(functions, extra_resources, Vec::new())
}

fn fixture_full(
    functions: &[(FunctionDefinition, &[(&str, &str)])],
    extra_resources: Vec<Value>,
    authorizers: Vec<Value>,
) -> Fixture {
    let mut resources = vec![json!({"id": "root000001", "path": "/"})];
    for (i, (function, _)) in functions.iter().enumerate() {
        resources.push(json!({
            "id": format!("res{i:07}"), "parentId": "root000001",
            "pathPart": function.function_name, "path": format!("/{}", function.function_name),
            "resourceMethods": {"ANY": proxy_method(&function.function_name)}
        }));
        resources.push(json!({
            "id": format!("prx{i:07}"), "parentId": format!("res{i:07}"),
            "pathPart": "{proxy+}", "path": format!("/{}/{{proxy+}}", function.function_name),
            "resourceMethods": {"ANY": proxy_method(&function.function_name)}
        }));
    }
    resources.extend(extra_resources);
    let definitions: Vec<Value> = functions
        .iter()
        .map(|(f, _)| serde_json::to_value(f).unwrap())
        .collect();
    let project = TempProject::from_json(&json!({
        "version": 1,
        "restApis": [{"id": "fnapi00001", "name": "Fn", "resources": resources, "authorizers": authorizers}],
        "functions": definitions,
    }));
    for (function, files) in functions {
        let dir = project.path().join(&function.code_uri);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in *files {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            #[cfg(unix)]
            if *name == "bootstrap" {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
    }
    let mut loaded = project.load();
    loaded
        .deploy(
            "fnapi00001",
            "dev",
            None,
            &[("v".to_string(), "1".to_string())].into(),
        )
        .unwrap();
    let loaded = Project::load(&project.path()).unwrap();
    let gateway = start_gateway(&loaded);
    Fixture {
        _project: project,
        gateway,
    }
}

fn python(name: &str) -> FunctionDefinition {
    FunctionDefinition::new(
        name,
        "python3.12",
        "app.handler",
        &format!("functions/{name}"),
    )
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("http://{}/dev{path}", self.gateway.local_addr())
    }

    /// The function's log once it holds `needle` (workers' output is read
    /// asynchronously), or after 10 s whatever it holds.
    async fn log_with(&self, function: &str, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log(function);
            if log.contains(needle) || std::time::Instant::now() > deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log(&self, function: &str) -> String {
        self.gateway
            .services()
            .functions
            .log(function)
            .map(|l| l.render())
            .unwrap_or_default()
    }
}

const ECHO_EVENT: &str = r#"
import json
def handler(event, context):
    print("invoked", context.aws_request_id)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"event": event, "function": context.function_name,
                                "arn": context.invoked_function_arn,
                                "memory": context.memory_limit_in_mb,
                                "remaining": context.get_remaining_time_in_millis()})}
"#;

#[tokio::test]
async fn aws_proxy_sends_the_rest_proxy_event_and_returns_the_functions_answer() {
    let fx = fixture(&[(python("echo"), &[("app.py", ECHO_EVENT)])], Vec::new());
    let response = client()
        .post(fx.url("/echo/a/b?x=1&x=2&y=3"))
        .header("X-Multi", "one")
        .header("content-type", "text/plain")
        .body("hello body")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let event = &body["event"];
    let mut keys: Vec<&str> = event
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "body",
            "headers",
            "httpMethod",
            "isBase64Encoded",
            "multiValueHeaders",
            "multiValueQueryStringParameters",
            "path",
            "pathParameters",
            "queryStringParameters",
            "requestContext",
            "resource",
            "stageVariables"
        ]
    );
    assert_eq!(event["resource"], "/echo/{proxy+}");
    assert_eq!(event["path"], "/echo/a/b");
    assert_eq!(event["httpMethod"], "POST");
    assert_eq!(event["queryStringParameters"], json!({"x": "2", "y": "3"}));
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"x": ["1", "2"], "y": ["3"]})
    );
    assert_eq!(event["pathParameters"], json!({"proxy": "a/b"}));
    assert_eq!(event["stageVariables"], json!({"v": "1"}));
    assert_eq!(event["headers"]["x-multi"], "one");
    assert_eq!(event["multiValueHeaders"]["x-multi"], json!(["one"]));
    assert_eq!(event["body"], "hello body");
    assert_eq!(event["isBase64Encoded"], false);
    let context = &event["requestContext"];
    assert_eq!(context["stage"], "dev");
    assert_eq!(context["resourcePath"], "/echo/{proxy+}");
    assert_eq!(context["httpMethod"], "POST");
    assert_eq!(context["path"], "/dev/echo/a/b");
    assert_eq!(context["apiId"], "fnapi00001");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert!(context["requestId"].as_str().unwrap().len() == 36);
    assert_eq!(body["function"], "echo");
    assert_eq!(
        body["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    assert_eq!(body["memory"], "128");
    assert!(body["remaining"].as_u64().unwrap() > 2000);

    // No query, no body: nulls, as AWS sends them.
    let response = client().get(fx.url("/echo")).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["event"]["queryStringParameters"], Value::Null);
    assert_eq!(body["event"]["pathParameters"], Value::Null);
    assert_eq!(body["event"]["body"], Value::Null);

    let log = fx.log_with("echo", "invoked ").await;
    assert!(log.contains("START RequestId: "), "{log}");
    assert!(log.contains("invoked "), "{log}");
    assert!(log.contains("\tBilled Duration: "), "{log}");
    assert!(
        log.contains("\tInit Duration: "),
        "the first invocation is a cold start: {log}"
    );
    assert_eq!(
        log.matches("Init Duration").count(),
        1,
        "the second is warm: {log}"
    );
}

#[tokio::test]
async fn malformed_answers_and_function_errors_are_502_internal_server_error() {
    let handler = r#"
def handler(event, context):
    mode = event["path"].rsplit("/", 1)[-1]
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "extra":
        return {"statusCode": 200, "body": "x", "extra": 1}
    if mode == "nostatus":
        return {"body": "x"}
    if mode == "objectbody":
        return {"statusCode": 200, "body": {"a": 1}}
    if mode == "base64":
        return {"statusCode": 201, "body": "aGVsbG8=", "isBase64Encoded": True,
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}}
    return "just a string"
"#;
    let fx = fixture(&[(python("modes"), &[("app.py", handler)])], Vec::new());
    for mode in ["raise", "extra", "nostatus", "objectbody", "string"] {
        let response = client()
            .get(fx.url(&format!("/modes/{mode}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 502, "{mode}");
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"message": "Internal server error"}"#
        );
    }
    let response = client().get(fx.url("/modes/base64")).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
    assert_eq!(response.text().await.unwrap(), "hello");
    let log = fx.log_with("modes", "[ERROR] RuntimeError: boom").await;
    assert!(log.contains("[ERROR] RuntimeError: boom"), "{log}");
}

#[tokio::test]
async fn a_timed_out_invocation_kills_its_worker_and_the_next_gets_a_fresh_one() {
    let handler = r#"
import time
def handler(event, context):
    if event["path"].endswith("/slow"):
        time.sleep(5)
    return {"statusCode": 200, "body": "fast"}
"#;
    let mut definition = python("sleepy");
    definition.timeout = 1;
    let fx = fixture(&[(definition, &[("app.py", handler)])], Vec::new());
    let started = std::time::Instant::now();
    let response = client().get(fx.url("/sleepy/slow")).send().await.unwrap();
    assert_eq!(response.status(), 502);
    assert!(started.elapsed() < Duration::from_secs(4));
    let response = client().get(fx.url("/sleepy/ok")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "fast");
    let log = fx.log("sleepy");
    assert!(log.contains("Task timed out after 1.00 seconds"), "{log}");
    assert_eq!(
        log.matches("Init Duration").count(),
        2,
        "a new worker after the timeout: {log}"
    );
}

#[tokio::test]
async fn a_crashed_worker_fails_its_invocation_and_is_replaced() {
    let handler = r#"
import os
def handler(event, context):
    if event["path"].endswith("/crash"):
        os._exit(3)
    return {"statusCode": 200, "body": "alive"}
"#;
    let fx = fixture(&[(python("crashy"), &[("app.py", handler)])], Vec::new());
    let response = client().get(fx.url("/crashy/crash")).send().await.unwrap();
    assert_eq!(response.status(), 502);
    let response = client().get(fx.url("/crashy/again")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let log = fx.log("crashy");
    assert!(
        log.contains("Runtime exited with error: exit status 3"),
        "{log}"
    );
}

#[tokio::test]
async fn import_errors_fail_the_invocation_with_the_init_error() {
    let fx = fixture(
        &[(python("broken"), &[("app.py", "import not_a_module\n")])],
        Vec::new(),
    );
    let response = client().get(fx.url("/broken")).send().await.unwrap();
    assert_eq!(response.status(), 502);
    let needle = "Unable to import module 'app': No module named 'not_a_module'";
    let log = fx.log_with("broken", needle).await;
    assert!(log.contains(needle), "{log}");
}

#[tokio::test]
async fn workers_scale_to_the_concurrency_limit_and_are_reused() {
    let handler = r#"
import os, time
def handler(event, context):
    time.sleep(1.0)
    return {"statusCode": 200, "body": str(os.getpid())}
"#;
    let mut definition = python("pool");
    definition.reserved_concurrent_executions = Some(2);
    let fx = fixture(&[(definition, &[("app.py", handler)])], Vec::new());
    // One client for all, so the six requests leave together even on a
    // loaded machine (each worker is busy for a second).
    let shared = client();
    let requests = (0..6).map(|_| {
        let url = fx.url("/pool");
        let client = shared.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    });
    let pids: Vec<String> = futures_join(requests).await;
    let distinct: std::collections::BTreeSet<&String> = pids.iter().collect();
    assert_eq!(distinct.len(), 2, "{pids:?}");
    let status = fx.gateway.services().functions.status();
    assert_eq!(status[0].0, "pool");
    assert_eq!(status[0].1.workers, 2);
    assert_eq!(status[0].1.invocations, 6);
}

async fn futures_join<F: std::future::Future<Output = String> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<String> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// A throttled Lambda (429 `TooManyRequestsException`) reaches the client
/// as 500 `Internal server error` through `INTEGRATION_FAILURE`
/// (<https://repost.aws/questions/QUfI6bsdd0SOiPeyimzxSkfQ>: "API Gateway
/// converts this into HTTP 500 Internal Server Error").
#[tokio::test]
async fn beyond_the_limit_and_its_queue_invocations_are_throttled() {
    let handler = r#"
import time
def handler(event, context):
    time.sleep(1.5)
    return {"statusCode": 200, "body": "done"}
"#;
    let mut definition = python("narrow");
    definition.reserved_concurrent_executions = Some(1);
    let fx = fixture(&[(definition, &[("app.py", handler)])], Vec::new());
    // One runs, four wait (the queue holds four per allowed worker), the rest are throttled.
    let shared = client();
    let requests = (0..8).map(|_| {
        let url = fx.url("/narrow");
        let client = shared.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
                .to_string()
        }
    });
    let statuses = futures_join(requests).await;
    let throttled = statuses.iter().filter(|s| *s == "500").count();
    let served = statuses.iter().filter(|s| *s == "200").count();
    assert_eq!(throttled + served, 8, "{statuses:?}");
    assert!(throttled >= 3, "{statuses:?}");
    assert!(served >= 1, "{statuses:?}");
}

#[tokio::test]
async fn node_handlers_run_through_the_node_bootstrap() {
    let handler = r#"
exports.handler = async (event, context) => ({
  statusCode: 200,
  headers: {'content-type': 'application/json'},
  body: JSON.stringify({path: event.path, fn: context.functionName, left: context.getRemainingTimeInMillis() > 0}),
});
"#;
    let definition =
        FunctionDefinition::new("nodey", "nodejs20.x", "index.handler", "functions/nodey");
    let fx = fixture(&[(definition, &[("index.js", handler)])], Vec::new());
    let response = client().get(fx.url("/nodey/x")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"path": "/nodey/x", "fn": "nodey", "left": true})
    );
}

/// AWS's own runtime interface client for python (`awslambdaric`, PyPI) as
/// a `provided` function's bootstrap: the Runtime API is AWS's.
#[tokio::test]
async fn awss_own_runtime_client_works_unchanged() {
    let handler = r#"
def handler(event, context):
    return {"statusCode": 200, "body": "ric " + context.aws_request_id[:8] + " " + event["httpMethod"]}
"#;
    let bootstrap = "#!/bin/sh\nexec python3 -m awslambdaric app.handler\n";
    let definition =
        FunctionDefinition::new("ric", "provided.al2023", "app.handler", "functions/ric");
    let fx = fixture(
        &[(definition, &[("app.py", handler), ("bootstrap", bootstrap)])],
        Vec::new(),
    );
    let response = client().put(fx.url("/ric")).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", fx.log("ric"));
    let text = response.text().await.unwrap();
    assert!(text.starts_with("ric ") && text.ends_with(" PUT"), "{text}");
}

/// The non-proxy `AWS` integration: the request template shapes the
/// function's input; integration responses match a function error's
/// `errorMessage`; an error no pattern matches takes the default response.
#[tokio::test]
async fn lambda_integration_selects_responses_by_error_message() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/functions");
    let project = TempProject::copy_of("projects/functions");
    assert!(sample.join("functions/calc/app.py").exists());
    let gateway = start_gateway(&project.load());
    let base = format!("http://{}/dev", gateway.local_addr());
    let post = |op: &str, body: &'static str| {
        client()
            .post(format!("{base}/calc?op={op}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let ok = post("add", r#"{"a": 2, "b": 3}"#).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), r#"{"result": 5}"#);
    let bad = post("pow", r#"{"a": 2, "b": 3}"#).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.text().await.unwrap(),
        r#"{"error": "Invalid operation: pow"}"#
    );
    // ZeroDivisionError matches no pattern: the default response (200), as on AWS.
    let unmatched = post("div", r#"{"a": 2, "b": 0}"#).await.unwrap();
    assert_eq!(unmatched.status(), 200);

    let hello = client()
        .get(format!("{base}/hello/ada"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        hello.status(),
        200,
        "the URI's ${{stageVariables.helloFunction}} picks the function"
    );
    let body: Value = hello.json().await.unwrap();
    assert_eq!(body["message"], "Hello, ada!");
}

/// AWS's authorizer outcomes (knowledge-center articles "Why do I get API
/// Gateway 401 Unauthorized errors after I create a Lambda authorizer?" and
/// <https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-403-error-lambda-authorizer/>:
/// `{"message": "User is not authorized to access this resource with an
/// explicit deny"}`); a failing authorizer is 500 with
/// `x-amzn-ErrorType: AuthorizerConfigurationException` and
/// `{"message": null}` (captures in aws/chalice#670 and
/// serverless/serverless#829).
#[tokio::test]
async fn token_authorizer_allows_denies_and_caches() {
    let project = TempProject::copy_of("projects/functions");
    let gateway = start_gateway(&project.load());
    let url = format!("http://{}/dev/secure", gateway.local_addr());
    let get = |token: Option<&'static str>| {
        let mut request = client().get(&url);
        if let Some(token) = token {
            request = request.header("Authorization", token);
        }
        request.send()
    };
    let allowed = get(Some("allow-ada")).await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.text().await.unwrap(),
        r#"{"principal": "ada", "tier": "gold"}"#
    );
    let denied = get(Some("deny-bob")).await.unwrap();
    assert_eq!(denied.status(), 403);
    assert_eq!(
        denied.headers()["x-amzn-errortype"],
        "AccessDeniedException"
    );
    assert_eq!(
        denied.text().await.unwrap(),
        r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#
    );
    for token in [None, Some(""), Some("nope")] {
        let response = get(token).await.unwrap();
        assert_eq!(response.status(), 401, "{token:?}");
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"message":"Unauthorized"}"#
        );
    }
    // `nope` failed the validation expression: the function ran twice
    // (ada, bob), not for the 401s.
    let log = gateway.services().functions.log("auth").unwrap().render();
    assert_eq!(log.matches("START RequestId").count(), 2, "{log}");
    // Cached for the TTL: ada again does not call the function.
    assert_eq!(get(Some("allow-ada")).await.unwrap().status(), 200);
    let log = gateway.services().functions.log("auth").unwrap().render();
    assert_eq!(log.matches("START RequestId").count(), 2, "{log}");
}

#[tokio::test]
async fn request_authorizer_sees_the_request_and_feeds_the_proxy_event() {
    let authorizer = r#"
import json
def handler(event, context):
    if event["type"] != "REQUEST" or event["queryStringParameters"].get("key") != "k1":
        raise Exception("Unauthorized")
    if event["headers"].get("x-mode") == "broken":
        return {"principalId": "x"}
    if event["headers"].get("x-mode") == "crash":
        raise Exception("database down")
    return {"principalId": "p-" + event["headers"]["x-user"],
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]},
            "context": {"user": event["headers"]["x-user"], "level": 7, "arn": event["methodArn"]}}
"#;
    let mut auth = python("reqauth");
    auth.timeout = 5;
    let mut fx_resources = Vec::new();
    fx_resources.push(json!({
        "id": "guarded001", "parentId": "root000001", "pathPart": "guarded", "path": "/guarded",
        "resourceMethods": {"GET": {
            "httpMethod": "GET", "authorizationType": "CUSTOM", "authorizerId": "auth000001",
            "methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST",
                "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations"}
        }}
    }));
    let fx = fixture_with_authorizer(
        &[
            (python("echo"), &[("app.py", ECHO_EVENT)]),
            (auth, &[("app.py", authorizer)]),
        ],
        fx_resources,
        json!({
            "id": "auth000001", "name": "ReqAuth", "type": "REQUEST",
            "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:reqauth/invocations",
            "identitySource": "method.request.querystring.key, method.request.header.X-User",
            "authorizerResultTtlInSeconds": 0
        }),
    );
    let get = |query: &str, user: Option<&str>, mode: Option<&str>| {
        let mut request = client().get(fx.url(&format!("/guarded{query}")));
        if let Some(user) = user {
            request = request.header("X-User", user);
        }
        if let Some(mode) = mode {
            request = request.header("X-Mode", mode);
        }
        request.send()
    };
    let response = get("?key=k1", Some("ada"), None).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let authorizer_context = &body["event"]["requestContext"]["authorizer"];
    assert_eq!(authorizer_context["principalId"], "p-ada");
    assert_eq!(authorizer_context["user"], "ada");
    assert_eq!(
        authorizer_context["level"], "7",
        "context values arrive as strings"
    );
    assert_eq!(
        authorizer_context["arn"],
        "arn:aws:execute-api:us-east-1:000000000000:fnapi00001/dev/GET/guarded"
    );
    assert!(authorizer_context["integrationLatency"].is_number());

    assert_eq!(
        get("?key=bad", Some("ada"), None).await.unwrap().status(),
        401
    );
    for mode in ["broken", "crash"] {
        let response = get("?key=k1", Some("ada"), Some(mode)).await.unwrap();
        assert_eq!(response.status(), 500, "{mode}");
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "AuthorizerConfigurationException"
        );
        assert_eq!(response.text().await.unwrap(), r#"{"message": null}"#);
    }
    // TTL 0: every request calls the authorizer.
    let log = fx.log("reqauth");
    assert_eq!(log.matches("START RequestId").count(), 4, "{log}");
}

fn fixture_with_authorizer(
    functions: &[(FunctionDefinition, &[(&str, &str)])],
    extra_resources: Vec<Value>,
    authorizer: Value,
) -> Fixture {
    fixture_full(functions, extra_resources, vec![authorizer])
}

/// `X-Amz-Invocation-Type: 'Event'` mapped onto a non-proxy Lambda
/// integration invokes asynchronously: the client is answered at once
/// (Lambda's 202 goes through the default integration response) and the
/// function still runs.
#[tokio::test]
async fn event_invocations_answer_at_once_and_run_in_the_background() {
    let handler = r#"
import time
def handler(event, context):
    time.sleep(2.0)
    print("processed", event["job"])
    return {"done": True}
"#;
    let resource = json!({
        "id": "jobs000001", "parentId": "root000001", "pathPart": "jobs", "path": "/jobs",
        "resourceMethods": {"POST": {
            "httpMethod": "POST", "authorizationType": "NONE",
            "methodResponses": {"202": {"statusCode": "202"}},
            "methodIntegration": {
                "type": "AWS", "httpMethod": "POST",
                "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:worker/invocations",
                "requestParameters": {"integration.request.header.X-Amz-Invocation-Type": "'Event'"},
                "requestTemplates": {"application/json": "{\"job\": $input.json('$.job')}"},
                "integrationResponses": {"202": {"statusCode": "202", "responseTemplates": {"application/json": "{\"queued\": true}"}}}
            }
        }}
    });
    let fx = fixture(
        &[(python("worker"), &[("app.py", handler)])],
        vec![resource],
    );
    let started = std::time::Instant::now();
    let response = client()
        .post(fx.url("/jobs"))
        .header("content-type", "application/json")
        .body(r#"{"job": "j-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.text().await.unwrap(), r#"{"queued": true}"#);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "answered before the function ran"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !fx.log("worker").contains("processed j-1") {
        assert!(std::time::Instant::now() < deadline, "{}", fx.log("worker"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
