//! Definitions in the shape of AWS's published examples, imported and
//! served: the console's PetStore example (HTTP integrations to
//! `http://petstore-demo-endpoint.execute-api.com/petstore/pets` with
//! query and path parameter mappings, a MOCK root, a request model) and an
//! API with request validators and a TOKEN Lambda authorizer. The specs are
//! written here after the structure the API Gateway developer guide shows
//! (not copied); the PetStore backend is Portico's echo backend, which
//! answers `/petstore/pets` with AWS's pet list.

mod common;

use common::{TempProject, client};
use portico::echo_backend::EchoBackend;
use portico::gateway::{Gateway, GatewayConfig};
use portico::model::{FunctionDefinition, Project};
use portico::openapi::{import, parse_document};

const PETSTORE: &str = r##"
swagger: "2.0"
info:
  title: PetStore
  description: Your first API with Amazon API Gateway. This is a sample API that integrates via HTTP with our demo Pet Store endpoints
  version: "2026-11-25T00:00:00Z"
schemes: [https]
consumes: [application/json]
produces: [application/json]
x-amazon-apigateway-request-validators:
  body-only:
    validateRequestBody: true
    validateRequestParameters: false
paths:
  /:
    get:
      consumes: [application/json]
      produces: [text/html]
      responses:
        "200":
          description: 200 response
          headers:
            Content-Type: {type: string}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 200}'
        passthroughBehavior: when_no_match
        responses:
          default:
            statusCode: "200"
            responseParameters:
              method.response.header.Content-Type: "'text/html'"
            responseTemplates:
              text/html: "<html><body><h1>Welcome to your Pet Store API</h1></body></html>"
  /pets:
    get:
      parameters:
        - {name: type, in: query, required: false, type: string}
        - {name: page, in: query, required: false, type: string}
      responses:
        "200":
          description: 200 response
          schema: {$ref: "#/definitions/Pets"}
          headers:
            Access-Control-Allow-Origin: {type: string}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: GET
        uri: http://petstore-demo-endpoint.execute-api.com/petstore/pets
        requestParameters:
          integration.request.querystring.page: method.request.querystring.page
          integration.request.querystring.type: method.request.querystring.type
        passthroughBehavior: when_no_match
        responses:
          default:
            statusCode: "200"
            responseParameters:
              method.response.header.Access-Control-Allow-Origin: "'*'"
    post:
      x-amazon-apigateway-request-validator: body-only
      parameters:
        - {in: body, name: NewPet, required: true, schema: {$ref: "#/definitions/NewPet"}}
      responses:
        "200":
          description: 200 response
          schema: {$ref: "#/definitions/NewPetResponse"}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: POST
        uri: http://petstore-demo-endpoint.execute-api.com/petstore/pets
        passthroughBehavior: when_no_match
        responses:
          default:
            statusCode: "200"
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, type: string}
      responses:
        "200":
          description: 200 response
          schema: {$ref: "#/definitions/Pet"}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: GET
        uri: http://petstore-demo-endpoint.execute-api.com/petstore/pets/{petId}
        requestParameters:
          integration.request.path.petId: method.request.path.petId
        passthroughBehavior: when_no_match
        responses:
          default:
            statusCode: "200"
definitions:
  Pets:
    type: array
    items: {$ref: "#/definitions/Pet"}
  Pet:
    type: object
    properties:
      id: {type: integer}
      type: {type: string}
      price: {type: number}
  NewPet:
    type: object
    required: [type, price]
    properties:
      type: {$ref: "#/definitions/PetType"}
      price: {type: number, minimum: 25, maximum: 500}
  PetType:
    type: string
    enum: [dog, cat, fish, bird, gecko]
  NewPetResponse:
    type: object
    properties:
      pet: {$ref: "#/definitions/Pet"}
      message: {type: string}
"##;

fn serve(project: &TempProject, api_id: &str) -> Gateway {
    let mut loaded = project.load();
    loaded
        .deploy(api_id, "test", None, &Default::default())
        .expect("deploys");
    let loaded = Project::load(&project.path()).expect("loads");
    Gateway::start(
        &loaded,
        &GatewayConfig {
            port: 0,
            worker_threads: 2,
            ..GatewayConfig::default()
        },
    )
    .expect("gateway")
}

#[tokio::test]
async fn the_petstore_example_imports_and_serves() {
    let backend = EchoBackend::start("127.0.0.1:0".parse().unwrap()).expect("echo backend");
    let spec = PETSTORE.replace(
        "petstore-demo-endpoint.execute-api.com",
        &backend.local_addr().to_string(),
    );
    let imported = import(&parse_document(&spec).expect("parses")).expect("imports");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let api_id = imported.api.id.clone();
    let project = TempProject::from_json(&serde_json::json!({"version": 1}));
    let mut loaded = project.load();
    loaded.rest_apis.push(imported.api);
    loaded.save().expect("saves");
    let gateway = serve(&project, &api_id);
    let base = format!("http://{}/test", gateway.local_addr());

    let root = client().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(root.status(), 200);
    assert_eq!(root.headers()["content-type"], "text/html");
    assert!(
        root.text()
            .await
            .unwrap()
            .contains("Welcome to your Pet Store API")
    );

    let pets = client()
        .get(format!("{base}/pets?type=dog&page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(pets.status(), 200);
    assert_eq!(pets.headers()["access-control-allow-origin"], "*");
    let list: serde_json::Value = pets.json().await.unwrap();
    assert_eq!(list[0]["type"], "dog");

    let one = client().get(format!("{base}/pets/3")).send().await.unwrap();
    let echoed: serde_json::Value = one.json().await.unwrap();
    assert_eq!(echoed["path"], "/petstore/pets/3");

    // The NewPet model (price 25-500, type from the enum) guards POST.
    let post = |body: &'static str| {
        client()
            .post(format!("{base}/pets"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let bad = post(r#"{"type": "dragon", "price": 10}"#).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.text().await.unwrap(),
        r#"{"message":"Invalid request body"}"#
    );
    let good = post(r#"{"type": "cat", "price": 99.5}"#).await.unwrap();
    assert_eq!(good.status(), 200);
    // The echo backend answers /petstore/pets with its list whatever the verb.
    let answered: serde_json::Value = good.json().await.unwrap();
    assert!(answered.is_array(), "{answered}");
}

const AUTHORIZED: &str = r##"
openapi: 3.0.1
info: {title: Guarded, version: "1"}
x-amazon-apigateway-request-validators:
  params:
    validateRequestParameters: true
    validateRequestBody: false
components:
  securitySchemes:
    TokenAuth:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer:
        type: token
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations
        authorizerResultTtlInSeconds: 300
paths:
  /reports:
    get:
      security: [{TokenAuth: []}]
      x-amazon-apigateway-request-validator: params
      parameters:
        - {name: year, in: query, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseTemplates:
              application/json: '{"year": "$input.params(''year'')", "for": "$context.authorizer.principalId"}'
"##;

#[tokio::test]
async fn an_api_with_a_lambda_authorizer_and_validators_imports_and_serves() {
    let imported = import(&parse_document(AUTHORIZED).expect("parses")).expect("imports");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let api_id = imported.api.id.clone();
    let project = TempProject::from_json(&serde_json::json!({"version": 1}));
    let code = project.path().join("auth");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("projects/functions/functions/auth/app.py"),
        code.join("app.py"),
    )
    .unwrap();
    let mut loaded = project.load();
    loaded.rest_apis.push(imported.api);
    loaded.functions.push(FunctionDefinition::new(
        "auth",
        "python3.12",
        "app.handler",
        "auth",
    ));
    loaded.save().expect("saves");
    let gateway = serve(&project, &api_id);
    let url = format!("http://{}/test/reports", gateway.local_addr());
    let get = |query: &str, token: &str| {
        client()
            .get(format!("{url}{query}"))
            .header("Authorization", token.to_string())
            .send()
    };
    assert_eq!(get("?year=2026", "nope").await.unwrap().status(), 401);
    assert_eq!(get("?year=2026", "deny-eve").await.unwrap().status(), 403);
    // Authorized but the required query string is missing: the validator.
    let missing = get("", "allow-ada").await.unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing.text().await.unwrap(),
        r#"{"message":"Missing required request parameters: [year]"}"#
    );
    let ok = get("?year=2026", "allow-ada").await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.text().await.unwrap(),
        r#"{"year": "2026", "for": "ada"}"#
    );
}
