//! Request validators on a real port: required parameters and bodies checked
//! against models (JSON Schema draft 4), AWS's 400 bodies, the execution log
//! listing each violation, and gateway-response customization.
//!
//! AWS's messages: `BAD_REQUEST_PARAMETERS` (400) answers
//! `{"message": "Missing required request parameters: [name]"}` and
//! `BAD_REQUEST_BODY` (400) `{"message": "Invalid request body"}`
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html>,
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>).

mod common;

use common::{TempProject, client, start_gateway};
use portico::gateway::Gateway;
use portico::model::Project;
use serde_json::json;

fn orders() -> TempProject {
    TempProject::copy_of("projects/orders")
}

fn base(gateway: &Gateway) -> String {
    format!("http://{}/dev", gateway.local_addr())
}

async fn body_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, error_type, response.text().await.unwrap())
}

#[tokio::test]
async fn missing_required_parameters_get_400_bad_request_parameters() {
    let project = orders();
    let gateway = start_gateway(&project.load());
    let (status, error_type, body) = body_of(
        client()
            .get(format!("{}/orders", base(&gateway)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_type, "BadRequestException");
    assert_eq!(
        body,
        r#"{"message":"Missing required request parameters: [status]"}"#
    );

    let response = client()
        .get(format!("{}/orders?status=open", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // "Included and not blank": an empty value is missing too.
    let (status, _, body) = body_of(
        client()
            .get(format!("{}/orders?status=", base(&gateway)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"message":"Missing required request parameters: [status]"}"#
    );
    let blank_header = client()
        .post(format!("{}/orders", base(&gateway)))
        .header("content-type", "application/json")
        .header("idempotency-key", "")
        .body(r#"{"customer": "ada", "items": [{"sku": "PEN-1", "quantity": 1}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(blank_header.status(), 400);

    // Parameters are checked before the body: a bad body with a missing
    // header is a parameters error.
    let (status, _, body) = body_of(
        client()
            .post(format!("{}/orders", base(&gateway)))
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"message":"Missing required request parameters: [Idempotency-Key]"}"#
    );
}

#[tokio::test]
async fn bodies_that_do_not_match_the_model_get_400_invalid_request_body() {
    let project = orders();
    let gateway = start_gateway(&project.load());
    let post = |body: &'static str| {
        client()
            .post(format!("{}/orders", base(&gateway)))
            .header("content-type", "application/json")
            .header("idempotency-key", "k1")
            .body(body)
            .send()
    };
    for bad in [
        r#"{"customer": "ada"}"#,
        r#"{"customer": "ada", "items": []}"#,
        r#"{"customer": "ada", "items": [{"sku": "pen", "quantity": 1}]}"#,
        r#"{"customer": "ada", "items": [{"sku": "PEN-1", "quantity": 0}]}"#,
        r#"{"customer": "ada", "items": [{"sku": "PEN-1", "quantity": 1.5}]}"#,
        r#"["not", "an", "object"]"#,
        r#"{"customer": "#,
        "",
    ] {
        let (status, error_type, body) = body_of(post(bad).await.unwrap()).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(error_type, "BadRequestException");
        assert_eq!(body, r#"{"message":"Invalid request body"}"#, "{bad}");
    }
    let response = post(r#"{"customer": "ada", "items": [{"sku": "PEN-1", "quantity": 2}]}"#)
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/orders/o-2");
}

#[tokio::test]
async fn the_execution_log_lists_each_schema_violation() {
    let project = orders();
    let loaded = project.load();
    let api = loaded.find_api("Orders").unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("idempotency-key", "k1".parse().unwrap());
    let request = portico::gateway::MethodRequest {
        http_method: http::Method::POST,
        path: "/orders".into(),
        raw_query: String::new(),
        query: Vec::new(),
        headers,
        body: bytes::Bytes::from_static(
            br#"{"customer": "", "items": [{"sku": "pen", "quantity": 0}], "note": 5}"#,
        ),
        source_ip: "127.0.0.1".into(),
        full_path: "/orders".into(),
        domain_name: "localhost".into(),
        protocol: "HTTP/1.1".into(),
        received_at: std::time::SystemTime::now(),
    };
    let execution = portico::gateway::test_invoke(api, request, &Default::default())
        .await
        .unwrap();
    assert_eq!(execution.reply.status, 400);
    let log = execution.log.render();
    let line = log
        .lines()
        .find(|l| {
            l.contains("Request body does not match model schema for content type application/json")
        })
        .unwrap_or_else(|| panic!("{log}"));
    for violation in [
        "(at /customer)",
        "(at /items/0/sku)",
        "(at /items/0/quantity)",
        "(at /note)",
    ] {
        assert!(line.contains(violation), "{violation} missing from {line}");
    }
    assert!(
        line.contains("object has missing required properties") || line.contains("is shorter than"),
        "{line}"
    );
    assert!(
        !log.contains("Endpoint request"),
        "no integration after a failed validation:\n{log}"
    );
}

#[tokio::test]
async fn a_customized_bad_request_body_response_sees_the_validation_errors() {
    let project = orders();
    let mut loaded = project.load();
    let api_id = loaded.find_api("Orders").unwrap().id.clone();
    let api = loaded.api_mut(&api_id).unwrap();
    api.gateway_responses.insert(
        "BAD_REQUEST_BODY".into(),
        serde_json::from_value(json!({
            "responseType": "BAD_REQUEST_BODY",
            "statusCode": "422",
            "responseTemplates": {"application/json": "{\"error\": \"$context.error.message\", \"details\": \"$context.error.validationErrorString\"}"}
        }))
        .unwrap(),
    );
    loaded
        .deploy(&api_id, "dev", Some("custom 422"), &Default::default())
        .unwrap();
    let loaded = Project::load(&project.path()).unwrap();
    let gateway = start_gateway(&loaded);
    let response = client()
        .post(format!("{}/orders", base(&gateway)))
        .header("content-type", "application/json")
        .header("idempotency-key", "k1")
        .body(r#"{"customer": "ada", "items": [{"sku": "PEN-1"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    // Gateway response templates substitute variables (no VTL functions).
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with(r#"{"error": "Invalid request body", "details": "["#),
        "{text}"
    );
    assert!(text.contains("quantity"), "{text}");
}

#[tokio::test]
async fn a_validator_that_checks_nothing_or_a_method_without_one_lets_requests_through() {
    let project = orders();
    let gateway = start_gateway(&project.load());
    // GET /orders/{orderId} has no validator: no required checks.
    let response = client()
        .get(format!("{}/orders/o-9", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["id"], "o-9");
}

/// Several missing parameters are listed in one pair of brackets, joined by
/// ", ", headers before path before query strings (recorded from AWS in
/// LocalStack's snapshot `test_apigateway_common.snapshot.json`:
/// `Missing required request parameters: [x-header-param, issuer, qs1]`).
#[tokio::test]
async fn several_missing_parameters_are_listed_in_aws_order() {
    let project = TempProject::from_json(&json!({
        "version": 1,
        "restApis": [{
            "id": "valid00001", "name": "V",
            "requestValidators": [{"id": "rv0001", "name": "params", "validateRequestParameters": true}],
            "resources": [
                {"id": "root000001", "path": "/"},
                {"id": "things0001", "parentId": "root000001", "pathPart": "things", "path": "/things",
                 "resourceMethods": {"GET": {
                    "httpMethod": "GET", "authorizationType": "NONE", "requestValidatorId": "rv0001",
                    "requestParameters": {
                        "method.request.querystring.qs1": true,
                        "method.request.header.x-header-param": true,
                        "method.request.path.issuer": true,
                        "method.request.querystring.optional": false
                    },
                    "methodIntegration": {"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                        "integrationResponses": {"200": {"statusCode": "200"}}}
                 }}}
            ]
        }]
    }));
    let mut loaded = project.load();
    loaded
        .deploy("valid00001", "dev", None, &Default::default())
        .unwrap();
    let gateway = start_gateway(&Project::load(&project.path()).unwrap());
    let (status, _, body) = body_of(
        client()
            .get(format!("{}/things?optional=1", base(&gateway)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"message":"Missing required request parameters: [x-header-param, issuer, qs1]"}"#
    );
}
