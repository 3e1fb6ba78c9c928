//! Mapping templates and parameter mappings in the running gateway: a real
//! port, a real client, real upstreams. Each case names the AWS fact it
//! checks.

mod common;

use common::*;
use serde_json::json;

fn base(gateway: &portico::gateway::Gateway) -> String {
    format!("http://{}", gateway.local_addr())
}

/// A method with an HTTP integration to `uri`.
fn http_method(verb: &str, uri: &str, integration: serde_json::Value) -> serde_json::Value {
    let mut method_integration = json!({
        "type": "HTTP",
        "httpMethod": verb,
        "uri": uri,
        "integrationResponses": {"200": {"statusCode": "200"}}
    });
    for (key, value) in integration.as_object().expect("an object") {
        method_integration[key] = value.clone();
    }
    json!({"httpMethod": verb, "authorizationType": "NONE", "methodIntegration": method_integration})
}

fn one_resource(method: serde_json::Value) -> serde_json::Value {
    let verb = method["httpMethod"].as_str().expect("a verb").to_string();
    api_definition(json!([
        {"id": "root000001", "path": "/"},
        {"id": "thing1", "parentId": "root000001", "pathPart": "{id}", "path": "/{id}",
         "resourceMethods": {verb: method}}
    ]))
}

fn serve(definition: serde_json::Value, variables: &[(&str, &str)]) -> portico::gateway::Gateway {
    let project = TempProject::from_json(&definition);
    let loaded = deploy(&project, "dev", variables);
    start_gateway(&loaded)
}

/// MOCK integrations take their status from the rendered request template
/// (`{"statusCode": ...}`), and integration responses are selected by it
/// (AWS: "Set up mock integrations in API Gateway").
#[tokio::test]
async fn mock_status_comes_from_the_rendered_template() {
    let mut method = mock_method("GET", 200, "{\"found\": true}");
    method["methodIntegration"]["requestTemplates"]["application/json"] = json!(
        "#if($input.params('id') == 'missing')\n{\"statusCode\": 404}\n#else\n{\"statusCode\": 200}\n#end"
    );
    method["methodIntegration"]["integrationResponses"]["404"] = json!({
        "statusCode": "404",
        "selectionPattern": "404",
        "responseTemplates": {"application/json": "{\"found\": false, \"id\": \"$input.params('id')\"}"}
    });
    let gateway = serve(one_resource(method), &[]);
    let client = client();
    let found = client
        .get(format!("{}/dev/x1", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    assert_eq!(found.text().await.unwrap(), "{\"found\": true}");
    let missing = client
        .get(format!("{}/dev/missing", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.text().await.unwrap(),
        "{\"found\": false, \"id\": \"missing\"}"
    );
}

/// `$input.path`, `$input.json`, `$input.params`, `$context`,
/// `$stageVariables` and `$util` in a request template sent to a real
/// backend (AWS: "API Gateway mapping template and access logging variable
/// reference").
#[tokio::test]
async fn request_template_sees_every_binding() {
    let upstream = start_upstream(Upstream::Echo);
    let template = r#"#set($pet = $input.path('$'))
{
  "upper": "$pet.name.toUpperCase()",
  "tagCount": $pet.tags.size(),
  "tags": $input.json('$.tags'),
  "id": "$input.params('id')",
  "q": "$input.params().querystring.get('q')",
  "header": "$input.params('X-Custom')",
  "stage": "$context.stage",
  "method": "$context.httpMethod",
  "resourcePath": "$context.resourcePath",
  "color": "$stageVariables.color",
  "escaped": "$util.escapeJavaScript($pet.quote)",
  "encoded": "$util.urlEncode($pet.name)"
}"#;
    let method = http_method(
        "POST",
        &format!("http://{upstream}/sink"),
        json!({"requestTemplates": {"application/json": template}}),
    );
    let gateway = serve(one_resource(method), &[("color", "blue")]);
    let response = client()
        .post(format!("{}/dev/p7?q=search", base(&gateway)))
        .header("content-type", "application/json")
        .header("x-custom", "custom value")
        .body(r#"{"name": "Rex dog", "tags": ["a", "b"], "quote": "say \"hi\""}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echo: serde_json::Value = response.json().await.unwrap();
    let sent: serde_json::Value =
        serde_json::from_str(echo["body"].as_str().unwrap()).expect("the template rendered JSON");
    assert_eq!(
        sent,
        json!({
            "upper": "REX DOG",
            "tagCount": 2,
            "tags": ["a", "b"],
            "id": "p7",
            "q": "search",
            "header": "custom value",
            "stage": "dev",
            "method": "POST",
            "resourcePath": "/{id}",
            "color": "blue",
            "escaped": "say \"hi\"",
            "encoded": "Rex+dog"
        })
    );
}

/// `$context.requestOverride.*` in a request template really changes the
/// endpoint request's headers and query string (AWS: "Override your API's
/// request and response parameters and status codes").
#[tokio::test]
async fn request_overrides_reach_the_backend() {
    let upstream = start_upstream(Upstream::Echo);
    let template = "#set($context.requestOverride.header.X-Override = \"yes\")\n#set($context.requestOverride.querystring.page = \"2\")\n{}";
    let method = http_method(
        "GET",
        &format!("http://{upstream}/list"),
        json!({"requestTemplates": {"application/json": template}}),
    );
    let gateway = serve(one_resource(method), &[]);
    let echo: serde_json::Value = client()
        .get(format!("{}/dev/a", base(&gateway)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["headers"]["x-override"], "yes");
    assert_eq!(echo["query"], "page=2");
}

/// `$context.responseOverride.status` and `.header.X` in a response
/// template override the method response (same AWS page).
#[tokio::test]
async fn response_overrides_change_status_and_headers() {
    let template = "#set($context.responseOverride.status = 418)\n#set($context.responseOverride.header.X-Teapot = \"short and stout\")\n{\"teapot\": true}";
    let method = mock_method("GET", 200, template);
    let gateway = serve(one_resource(method), &[]);
    let response = client()
        .get(format!("{}/dev/t", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 418);
    assert_eq!(response.headers()["x-teapot"], "short and stout");
    assert_eq!(response.text().await.unwrap(), "{\"teapot\": true}");
}

/// passthroughBehavior (AWS: "Method request behavior for payloads without
/// mapping templates"): NEVER and WHEN_NO_TEMPLATES (with a template
/// defined) refuse an unmapped content type with 415
/// `{"message":"Unsupported Media Type"}`; WHEN_NO_MATCH passes the body
/// through; a request without Content-Type uses the application/json
/// template.
#[tokio::test]
async fn passthrough_behaviors() {
    let upstream = start_upstream(Upstream::Echo);
    let client = client();
    for (behavior, plain_status) in [
        ("NEVER", 415),
        ("WHEN_NO_TEMPLATES", 415),
        ("WHEN_NO_MATCH", 200),
    ] {
        let method = http_method(
            "POST",
            &format!("http://{upstream}/sink"),
            json!({
                "passthroughBehavior": behavior,
                "requestTemplates": {"application/json": "{\"mapped\": $input.json('$.v')}"}
            }),
        );
        let gateway = serve(one_resource(method), &[]);
        let plain = client
            .post(format!("{}/dev/x", base(&gateway)))
            .header("content-type", "text/plain")
            .body("raw text")
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), plain_status, "{behavior}");
        let text = plain.text().await.unwrap();
        if plain_status == 415 {
            assert_eq!(
                text, r#"{"message":"Unsupported Media Type"}"#,
                "{behavior}"
            );
        } else {
            let echo: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(echo["body"], "raw text", "{behavior}");
        }
        let untyped = client
            .post(format!("{}/dev/x", base(&gateway)))
            .body(r#"{"v": [1, 2]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(untyped.status(), 200, "{behavior}");
        let echo: serde_json::Value = untyped.json().await.unwrap();
        assert_eq!(echo["body"], "{\"mapped\": [1,2]}", "{behavior}");
    }
}

/// Response templates are chosen by the request's first `Accept` media
/// type, else `application/json`, else the first defined; the method
/// response's Content-Type is the chosen template's.
#[tokio::test]
async fn response_template_follows_accept() {
    let mut method = mock_method("GET", 200, "{\"format\": \"json\"}");
    method["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"]["application/xml"] =
        json!("<format>xml</format>");
    let mut text_only = mock_method("GET", 200, "unused");
    text_only["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"] =
        json!({"text/plain": "plain $context.stage"});
    let definition = api_definition(json!([
        {"id": "root000001", "path": "/"},
        {"id": "both01", "parentId": "root000001", "pathPart": "both", "path": "/both",
         "resourceMethods": {"GET": method}},
        {"id": "text01", "parentId": "root000001", "pathPart": "text", "path": "/text",
         "resourceMethods": {"GET": text_only}}
    ]));
    let gateway = serve(definition, &[]);
    let client = client();
    for (path, accept, content_type, body) in [
        (
            "/both",
            Some("application/xml"),
            "application/xml",
            "<format>xml</format>",
        ),
        (
            "/both",
            Some("application/xml, application/json"),
            "application/xml",
            "<format>xml</format>",
        ),
        (
            "/both",
            Some("text/html"),
            "application/json",
            "{\"format\": \"json\"}",
        ),
        ("/both", None, "application/json", "{\"format\": \"json\"}"),
        ("/text", Some("application/json"), "text/plain", "plain dev"),
    ] {
        let mut request = client.get(format!("{}/dev{path}", base(&gateway)));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers()["content-type"],
            content_type,
            "{path} {accept:?}"
        );
        assert_eq!(response.text().await.unwrap(), body, "{path} {accept:?}");
    }
}

/// `integration.response.body.JSONPATH` in responseParameters (AWS's
/// mapping reference: a JSONPath without its `$` prefix), and
/// `integration.response.header.x`.
#[tokio::test]
async fn response_parameters_read_the_integration_body() {
    let upstream = start_upstream(Upstream::Fixed(
        200,
        vec![("content-type", "application/json"), ("x-trace", "t-1")],
        r#"{"meta": {"total": 42, "next": "page2"}, "items": [{"id": "first"}, {"id": "second"}]}"#,
    ));
    let mut method = http_method("GET", &format!("http://{upstream}/items"), json!({}));
    method["methodIntegration"]["integrationResponses"]["200"]["responseParameters"] = json!({
        "method.response.header.X-Total": "integration.response.body.meta.total",
        "method.response.header.X-Next": "integration.response.body.meta.next",
        "method.response.header.X-First": "integration.response.body.items[0].id",
        "method.response.header.X-Trace": "integration.response.header.x-trace"
    });
    let gateway = serve(one_resource(method), &[]);
    let response = client()
        .get(format!("{}/dev/i", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-total"], "42");
    assert_eq!(response.headers()["x-next"], "page2");
    assert_eq!(response.headers()["x-first"], "first");
    assert_eq!(response.headers()["x-trace"], "t-1");
}

/// A template that does not compile still deploys (AWS accepts any text);
/// requests that select it get AWS's 500 `{"message": "Internal server
/// error"}` and the execution log shows where the template is wrong.
#[tokio::test]
async fn broken_template_answers_500_with_a_located_error() {
    let method = mock_method("GET", 200, "line one\n#if($x == \n");
    let gateway = serve(one_resource(method), &[]);
    let response = client()
        .get(format!("{}/dev/b", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "InternalServerErrorException"
    );
    let request_id = response.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message": "Internal server error"}"#
    );
    let log = gateway
        .request_log()
        .find(&request_id)
        .expect("logged")
        .execution_log
        .render();
    assert!(
        log.contains("Unable to transform response: line 3, column 1: expected an expression"),
        "{log}"
    );
}

/// binaryMediaTypes with contentHandling (AWS: "Content type conversions in
/// API Gateway"): a binary request body under CONVERT_TO_TEXT reaches the
/// template as base64; a base64 text response goes back decoded to a client
/// accepting a binary type.
#[tokio::test]
async fn binary_payloads_convert() {
    let upstream = start_upstream(Upstream::Echo);
    let image = start_upstream(Upstream::Fixed(
        200,
        vec![("content-type", "text/plain")],
        "AAECAwQ=",
    ));
    let mut definition = api_definition(json!([
        {"id": "root000001", "path": "/"},
        {"id": "upld01", "parentId": "root000001", "pathPart": "upload", "path": "/upload",
         "resourceMethods": {"POST": http_method("POST", &format!("http://{upstream}/u"), json!({
            "contentHandling": "CONVERT_TO_TEXT",
            "requestTemplates": {"application/octet-stream": "{\"data\": \"$input.body\"}"}
         }))}},
        {"id": "down01", "parentId": "root000001", "pathPart": "download", "path": "/download",
         "resourceMethods": {"GET": http_method("GET", &format!("http://{image}/i"), json!({}))}}
    ]));
    definition["restApis"][0]["binaryMediaTypes"] = json!(["application/octet-stream", "image/*"]);
    let gateway = serve(definition, &[]);
    let client = client();
    let echo: serde_json::Value = client
        .post(format!("{}/dev/upload", base(&gateway)))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 1, 2, 3, 4, 255])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["body"], "{\"data\": \"AAECAwT/\"}");

    let binary = client
        .get(format!("{}/dev/download", base(&gateway)))
        .header("accept", "image/png")
        .send()
        .await
        .unwrap();
    assert_eq!(binary.status(), 200);
    assert_eq!(binary.bytes().await.unwrap().as_ref(), &[0u8, 1, 2, 3, 4]);
    let text = client
        .get(format!("{}/dev/download", base(&gateway)))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(text.text().await.unwrap(), "AAECAwQ=");
}

/// The sample project's templates: the AWS docs' PetStore list-reshaping
/// response template and a JSON-to-SOAP request template.
#[tokio::test]
async fn sample_project_templates() {
    let upstream = start_upstream(Upstream::Echo);
    let (_project, gateway) = serve_petstore_with_backend(upstream);
    let client = client();
    let catalog = client
        .get(format!("{}/dev/catalog", base(&gateway)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reshaped: serde_json::Value = serde_json::from_str(&catalog).expect("valid JSON");
    assert_eq!(
        reshaped,
        json!([
            {"description": "Item 1 is a dog.", "askingPrice": 249.99},
            {"description": "Item 2 is a cat.", "askingPrice": 124.99},
            {"description": "Item 3 is a fish.", "askingPrice": 0.99}
        ])
    );
    let xml = client
        .get(format!("{}/dev/catalog", base(&gateway)))
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.starts_with("<pets count=\"3\">\n"), "{xml}");
    assert!(
        xml.contains("<pet id=\"3\"><type>fish</type><price>0.99</price></pet>"),
        "{xml}"
    );

    let adopted: serde_json::Value = client
        .post(format!("{}/dev/adoptions", base(&gateway)))
        .header("content-type", "application/json")
        .body(r#"{"petId": 3, "adopter": {"name": "Ada"}, "tags": ["indoor", "calm"]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(adopted["backendContentType"], "text/xml; charset=utf-8");
    assert_eq!(
        adopted["soapAction"],
        "\"http://petstore.example.com/Adopt\""
    );
    let envelope = adopted["envelope"].as_str().expect("the envelope text");
    assert!(
        envelope.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope"),
        "{envelope}"
    );
    for part in [
        "<petId>3</petId>",
        "<adopter>Ada</adopter>",
        "<tag>indoor</tag>",
        "<tag>calm</tag>",
    ] {
        assert!(envelope.contains(part), "{part} in {envelope}");
    }
}
