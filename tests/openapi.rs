//! OpenAPI import and export: round trips over every sample project, the
//! extensions, errors by JSON pointer, warnings.

use std::path::Path;

use portico::model::{Project, RestApi};
use portico::openapi::{
    self, ExportFormat, ExportOptions, Extensions, ImportMode, OpenApiError, import, import_into,
    parse_document,
};
use serde_json::{Value, json};

/// The API with everything that is an identity rather than a definition
/// replaced by names: resource ids, model/validator/authorizer ids, the API
/// id inside model references, stages and deployments.
fn canonical(api: &RestApi) -> Value {
    let mut value = serde_json::to_value(api).expect("serializes");
    let object = value.as_object_mut().expect("object");
    // An export says the API's version, or else its creation date (as AWS).
    if object.get("version").is_none()
        && let Some(date) = object.get("createdDate").cloned()
    {
        object.insert("version".into(), date);
    }
    for key in ["id", "createdDate", "stages", "deployments"] {
        object.remove(key);
    }
    let validator_name = |id: &str| {
        api.request_validators
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.name.clone())
    };
    let authorizer_name = |id: &str| {
        api.authorizers
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
    };
    let mut resources = serde_json::Map::new();
    for resource in &api.resources {
        let mut r = serde_json::to_value(resource).expect("resource");
        let r = r.as_object_mut().expect("object");
        r.remove("id");
        r.remove("parentId");
        if let Some(Value::Object(methods)) = r.get_mut("resourceMethods") {
            for method in methods.values_mut() {
                let method = method.as_object_mut().expect("method");
                if let Some(id) = method.get("requestValidatorId").and_then(Value::as_str) {
                    let name = validator_name(id);
                    method.insert("requestValidatorId".into(), json!(name));
                }
                if let Some(id) = method.get("authorizerId").and_then(Value::as_str) {
                    let name = authorizer_name(id);
                    method.insert("authorizerId".into(), json!(name));
                }
            }
        }
        resources.insert(resource.path.clone(), Value::Object(r.clone()));
    }
    object.insert("resources".into(), Value::Object(resources));
    let models: Vec<Value> = api
        .models
        .iter()
        .map(|m| {
            let schema: Value =
                serde_json::from_str(&m.schema.as_deref().unwrap_or("{}").replace(&api.id, "API"))
                    .expect("schema is JSON");
            json!({"name": m.name, "contentType": m.content_type, "schema": schema})
        })
        .collect();
    object.insert("models".into(), json!(models));
    for key in ["requestValidators", "authorizers"] {
        if let Some(Value::Array(items)) = object.get_mut(key) {
            for item in items {
                item.as_object_mut().expect("object").remove("id");
            }
        }
    }
    value
}

fn full(format: ExportFormat) -> ExportOptions {
    ExportOptions {
        format,
        extensions: Extensions::ALL,
        stage: None,
    }
}

fn sample_projects() -> Vec<Project> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects");
    let mut projects = Vec::new();
    for entry in std::fs::read_dir(dir).expect("projects/") {
        let path = entry.expect("entry").path();
        if path.join("portico.json").exists() {
            projects.push(Project::load(&path).expect("sample loads"));
        }
    }
    assert!(!projects.is_empty());
    projects
}

#[test]
fn every_sample_api_round_trips_through_openapi_3_losslessly() {
    for project in sample_projects() {
        for api in &project.rest_apis {
            let document = openapi::export(api, &full(ExportFormat::Oas30)).expect("exports");
            // Through text too, both as JSON and as YAML.
            for yaml in [false, true] {
                let text = openapi::to_text(&document, yaml);
                let parsed = parse_document(&text).expect("parses back");
                assert_eq!(parsed, document, "yaml={yaml}");
                let imported = import(&parsed).expect("imports");
                assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
                assert_eq!(
                    canonical(&imported.api),
                    canonical(api),
                    "{} yaml={yaml}",
                    api.name
                );
            }
            // And every deployed snapshot.
            for deployment in &api.deployments {
                let snapshot = project.snapshot(&api.id, &deployment.id).expect("snapshot");
                let document = openapi::export(&snapshot.rest_api, &full(ExportFormat::Oas30))
                    .expect("exports");
                let imported = import(&document).expect("imports");
                assert_eq!(canonical(&imported.api), canonical(&snapshot.rest_api));
            }
        }
    }
}

#[test]
fn swagger_2_export_imports_back_to_the_same_resources_and_integrations() {
    for project in sample_projects() {
        for api in &project.rest_apis {
            let document = openapi::export(api, &full(ExportFormat::Swagger2)).expect("exports");
            assert_eq!(document["swagger"], "2.0");
            let imported = import(&document).expect("imports").api;
            let paths = |api: &RestApi| {
                let mut v: Vec<(String, Vec<String>)> = api
                    .resources
                    .iter()
                    .map(|r| (r.path.clone(), r.resource_methods.keys().cloned().collect()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(paths(&imported), paths(api));
            for resource in &api.resources {
                let twin = imported.resource_by_path(&resource.path).expect("resource");
                for (verb, method) in &resource.resource_methods {
                    assert_eq!(
                        twin.resource_methods[verb].method_integration, method.method_integration,
                        "{verb} {}",
                        resource.path
                    );
                }
            }
        }
    }
}

const VALIDATED: &str = r##"
openapi: 3.0.1
info:
  title: Validated
  version: "2.1"
x-amazon-apigateway-request-validators:
  all:
    validateRequestBody: true
    validateRequestParameters: true
  params-only:
    validateRequestBody: false
    validateRequestParameters: true
x-amazon-apigateway-request-validator: params-only
x-amazon-apigateway-binary-media-types: ["image/png"]
x-amazon-apigateway-gateway-responses:
  BAD_REQUEST_BODY:
    statusCode: 422
    responseTemplates:
      application/json: '{"error": "$context.error.validationErrorString"}'
x-acme-owner: team-a
paths:
  /pets/{petId}/toys:
    parameters:
      - name: petId
        in: path
        required: true
        schema: {type: string}
    post:
      operationId: addToy
      x-amazon-apigateway-request-validator: all
      x-acme-rate: 5
      parameters:
        - name: X-Trace
          in: header
          required: true
          schema: {type: string}
        - $ref: '#/components/parameters/Verbose'
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Toy'
      responses:
        "201":
          description: created
          headers:
            Location:
              schema: {type: string}
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
      x-amazon-apigateway-integration:
        type: MOCK
        requestTemplates:
          application/json: '{"statusCode": 201}'
        responses:
          default:
            statusCode: 201
  /toys:
    x-amazon-apigateway-any-method:
      responses:
        "200": {description: ok}
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: ANY
        uri: http://example.invalid/toys
components:
  parameters:
    Verbose:
      name: verbose
      in: query
      schema: {type: boolean}
  schemas:
    Toy:
      type: object
      required: [name]
      properties:
        name: {type: string}
        maker:
          $ref: '#/components/schemas/Maker'
    Maker:
      type: object
      properties:
        country: {type: string}
"##;

#[test]
fn import_reads_validators_parameters_models_and_keeps_unknown_extensions() {
    let document = parse_document(VALIDATED).expect("yaml parses");
    let imported = import(&document).expect("imports");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let api = imported.api;
    assert_eq!(api.name, "Validated");
    assert_eq!(api.version.as_deref(), Some("2.1"));
    assert_eq!(api.binary_media_types, ["image/png"]);
    assert_eq!(api.extensions["x-acme-owner"], "team-a");
    let response = &api.gateway_responses["BAD_REQUEST_BODY"];
    assert_eq!(response.status_code.as_deref(), Some("422"));

    let toys = api
        .resource_by_path("/pets/{petId}/toys")
        .expect("resource");
    assert!(
        api.resource_by_path("/pets/{petId}").is_some(),
        "intermediate resources are created"
    );
    let post = &toys.resource_methods["POST"];
    assert_eq!(post.operation_name.as_deref(), Some("addToy"));
    assert_eq!(post.extensions["x-acme-rate"], 5);
    let all = api
        .request_validators
        .iter()
        .find(|v| v.name == "all")
        .expect("validator");
    assert_eq!(post.request_validator_id.as_deref(), Some(all.id.as_str()));
    assert!(post.request_parameters["method.request.path.petId"]);
    assert!(post.request_parameters["method.request.header.X-Trace"]);
    assert!(!post.request_parameters["method.request.querystring.verbose"]);
    assert_eq!(post.request_models["application/json"], "Toy");
    let created = &post.method_responses["201"];
    assert!(!created.response_parameters["method.response.header.Location"]);
    let inline = &created.response_models["application/json"];
    assert_eq!(
        inline, "addToyResponse201",
        "an inline schema becomes a model named after the operation"
    );

    // References between schemas become AWS model URLs.
    let toy = api.models.iter().find(|m| m.name == "Toy").expect("Toy");
    let schema: Value = serde_json::from_str(toy.schema.as_deref().expect("schema")).expect("json");
    assert_eq!(
        schema["properties"]["maker"]["$ref"],
        format!(
            "https://apigateway.amazonaws.com/restapis/{}/models/Maker",
            api.id
        )
    );

    // The API-wide default validator applies where an operation names none.
    let any = &api
        .resource_by_path("/toys")
        .expect("toys")
        .resource_methods["ANY"];
    let params_only = api
        .request_validators
        .iter()
        .find(|v| v.name == "params-only")
        .expect("validator");
    assert_eq!(
        any.request_validator_id.as_deref(),
        Some(params_only.id.as_str())
    );
    let integration = any.method_integration.as_ref().expect("integration");
    assert_eq!(integration.http_method.as_deref(), Some("ANY"));

    // Export gives the unknown extensions back.
    let exported = openapi::export(&api, &full(ExportFormat::Oas30)).expect("exports");
    assert_eq!(exported["x-acme-owner"], "team-a");
    assert_eq!(
        exported["paths"]["/pets/{petId}/toys"]["post"]["x-acme-rate"],
        5
    );
    assert_eq!(
        exported["components"]["schemas"]["Toy"]["properties"]["maker"]["$ref"],
        "#/components/schemas/Maker"
    );
}

fn import_error(document: Value) -> (String, String) {
    match import(&document) {
        Err(OpenApiError::Invalid { pointer, message }) => (pointer, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn bad_specs_name_the_json_pointer_and_what_was_expected() {
    let (pointer, message) = import_error(json!({
        "openapi": "3.0.1",
        "info": {"title": "x", "version": "1"},
        "paths": {"/pets": {"get": {"x-amazon-apigateway-integration": {"type": "lambda-ish"}}}}
    }));
    assert_eq!(
        pointer,
        "/paths/~1pets/get/x-amazon-apigateway-integration/type"
    );
    assert!(
        message.contains("expected one of: aws, aws_proxy, http, http_proxy, mock"),
        "{message}"
    );

    let (pointer, message) = import_error(json!({
        "openapi": "3.0.1",
        "info": {"title": "x", "version": "1"},
        "paths": {"/pets": {"get": {"x-amazon-apigateway-integration": {"type": "http", "httpMethod": "GET"}}}}
    }));
    assert_eq!(
        pointer,
        "/paths/~1pets/get/x-amazon-apigateway-integration/uri"
    );
    assert!(message.contains("needs a uri"), "{message}");

    let (pointer, _) = import_error(json!({
        "openapi": "3.0.1",
        "info": {"title": "x", "version": "1"},
        "paths": {"/pets": {"get": {"x-amazon-apigateway-integration": {"type": "mock", "timeoutInMillis": "soon"}}}}
    }));
    assert_eq!(
        pointer,
        "/paths/~1pets/get/x-amazon-apigateway-integration/timeoutInMillis"
    );

    let (pointer, message) = import_error(json!({
        "openapi": "3.0.1",
        "info": {"title": "x", "version": "1"},
        "paths": {"/pets/{a}{b}": {}}
    }));
    assert_eq!(pointer, "/paths/~1pets~1{a}{b}");
    assert!(message.contains("path part"), "{message}");

    let (pointer, message) = import_error(json!({
        "openapi": "3.0.1",
        "info": {"title": "x", "version": "1"},
        "paths": {"/a": {"get": {"x-amazon-apigateway-request-validator": "nope"}}}
    }));
    assert_eq!(
        pointer,
        "/paths/~1a/get/x-amazon-apigateway-request-validator"
    );
    assert!(message.contains("no validator named \"nope\""), "{message}");

    let (pointer, message) = import_error(json!({
        "openapi": "3.0.1",
        "info": {"title": "x", "version": "1"},
        "paths": {"/a": {"get": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Missing"}}}}}}}
    }));
    assert_eq!(
        pointer,
        "/paths/~1a/get/requestBody/content/application~1json/schema/$ref"
    );
    assert!(message.contains("does not point at anything"), "{message}");

    let (pointer, _) = import_error(json!({"openapi": "2.5", "info": {"title": "x"}}));
    assert_eq!(pointer, "/openapi");
    let (pointer, _) = import_error(json!({"openapi": "3.0.0", "info": {"version": "1"}}));
    assert_eq!(pointer, "/info/title");
}

#[test]
fn syntax_errors_give_line_and_column_for_json_and_yaml() {
    match parse_document("{\n  \"openapi\": \"3.0.1\",\n  \"info\": {\n}") {
        Err(OpenApiError::Syntax { line, .. }) => assert_eq!(line, 4),
        other => panic!("{other:?}"),
    }
    match parse_document("openapi: 3.0.1\ninfo:\n  title: x\n    version: [1\n") {
        Err(OpenApiError::Syntax { line, column, .. }) => {
            assert_eq!(line, 4);
            assert!(column > 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_parts_are_warnings_and_fail_on_warnings_fails() {
    let document = json!({
        "openapi": "3.1.0",
        "info": {"title": "w", "version": "1"},
        "paths": {"/a": {
            "trace": {"responses": {"200": {"description": "ok"}}},
            "get": {
                "parameters": [{"name": "session", "in": "cookie"}],
                "responses": {"2XX": {"description": "range"}},
                "x-amazon-apigateway-integration": {"type": "mock", "payloadFormatVersion": "2.0"}
            }
        }},
        "x-amazon-apigateway-cors": {"allowOrigins": ["*"]}
    });
    let imported = import(&document).expect("imports");
    let warnings = imported.warnings.join("\n");
    for expected in [
        "/paths/~1a/trace: TRACE is not supported",
        "/paths/~1a/get/parameters/0: cookie parameters are not supported",
        "/paths/~1a/get/responses/2XX:",
        "/paths/~1a/get/x-amazon-apigateway-integration/payloadFormatVersion: applies to HTTP APIs only",
        "/x-amazon-apigateway-cors: applies to HTTP APIs only",
    ] {
        assert!(
            warnings.contains(expected),
            "missing {expected:?} in\n{warnings}"
        );
    }
    assert!(matches!(imported.fail_on_warnings(), Err(OpenApiError::Warnings(w)) if w.len() == 5));
}

#[test]
fn swagger_2_body_parameters_and_security_definitions_import() {
    let document = json!({
        "swagger": "2.0",
        "info": {"title": "s2", "version": "1"},
        "consumes": ["application/json"],
        "securityDefinitions": {
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
            "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"},
            "tokenAuth": {
                "type": "apiKey", "name": "Auth", "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {
                    "type": "token",
                    "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
                    "authorizerResultTtlInSeconds": 60
                }
            }
        },
        "definitions": {"Pet": {"type": "object", "properties": {"tag": {"$ref": "#/definitions/Tag"}}}, "Tag": {"type": "string"}},
        "paths": {
            "/pets": {
                "post": {
                    "security": [{"api_key": []}, {"tokenAuth": []}],
                    "parameters": [{"in": "body", "name": "Pet", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}}
                },
                "get": {"security": [{"sigv4": []}], "responses": {"200": {"description": "ok"}}}
            }
        }
    });
    let api = import(&document).expect("imports").api;
    let pets = api.resource_by_path("/pets").expect("pets");
    let post = &pets.resource_methods["POST"];
    assert!(post.api_key_required);
    assert_eq!(post.authorization_type, "CUSTOM");
    let authorizer = &api.authorizers[0];
    assert_eq!(post.authorizer_id.as_deref(), Some(authorizer.id.as_str()));
    assert_eq!(authorizer.authorizer_type, "TOKEN");
    assert_eq!(
        authorizer.identity_source.as_deref(),
        Some("method.request.header.Auth")
    );
    assert_eq!(authorizer.authorizer_result_ttl_in_seconds, Some(60));
    assert_eq!(post.request_models["application/json"], "Pet");
    assert_eq!(
        post.method_responses["200"].response_models["application/json"],
        "Pet"
    );
    assert_eq!(pets.resource_methods["GET"].authorization_type, "AWS_IAM");

    // And it exports back with the same security and authorizer.
    let exported = openapi::export(&api, &full(ExportFormat::Oas30)).expect("exports");
    let scheme = &exported["components"]["securitySchemes"]["tokenAuth"];
    assert_eq!(scheme["x-amazon-apigateway-authorizer"]["type"], "token");
    assert_eq!(scheme["name"], "Auth");
    let again = import(&exported).expect("re-imports").api;
    assert_eq!(canonical(&again), canonical(&api));
}

#[test]
fn extension_sets_choose_what_an_export_carries() {
    let document = parse_document(VALIDATED).expect("parses");
    let api = import(&document).expect("imports").api;
    let bare = openapi::export(
        &api,
        &ExportOptions {
            format: ExportFormat::Oas30,
            extensions: Extensions::NONE,
            stage: Some(("dev".into(), "http://127.0.0.1:4455/dev".into())),
        },
    )
    .expect("exports");
    let text = bare.to_string();
    for extension in [
        "integration",
        "request-validator",
        "gateway-responses",
        "binary-media-types",
    ] {
        assert!(
            !text.contains(&format!("x-amazon-apigateway-{extension}")),
            "{text}"
        );
    }
    assert_eq!(
        bare["servers"][0]["url"],
        "http://127.0.0.1:4455/{basePath}"
    );
    assert_eq!(
        bare["servers"][0]["variables"]["basePath"]["default"],
        "dev"
    );

    let integrations = openapi::export(
        &api,
        &ExportOptions {
            format: ExportFormat::Swagger2,
            extensions: Extensions::parse("integrations").expect("parses"),
            stage: Some(("dev".into(), "http://127.0.0.1:4455/dev".into())),
        },
    )
    .expect("exports");
    assert_eq!(integrations["host"], "127.0.0.1:4455");
    assert_eq!(integrations["basePath"], "/dev");
    let post = &integrations["paths"]["/pets/{petId}/toys"]["post"];
    assert!(post.get("x-amazon-apigateway-integration").is_some());
    assert!(post.get("x-amazon-apigateway-request-validator").is_none());
    assert!(Extensions::parse("postman,integrations").is_err());
}

#[test]
fn merge_adds_to_an_api_and_overwrite_replaces_it() {
    let sample = Project::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/petstore"))
        .expect("loads");
    let api = &sample.rest_apis[0];
    let document = parse_document(VALIDATED).expect("parses");

    let merged = import_into(api, &document, ImportMode::Merge)
        .expect("merges")
        .api;
    assert_eq!(merged.id, api.id);
    assert_eq!(merged.name, api.name, "merge keeps the API's name");
    assert_eq!(merged.stages, api.stages);
    for resource in &api.resources {
        let twin = merged
            .resource_by_path(&resource.path)
            .expect("existing resources stay");
        assert_eq!(twin.id, resource.id);
    }
    assert!(merged.resource_by_path("/pets/{petId}/toys").is_some());

    let replaced = import_into(api, &document, ImportMode::Overwrite)
        .expect("overwrites")
        .api;
    assert_eq!(replaced.id, api.id);
    assert_eq!(replaced.name, "Validated");
    assert_eq!(
        replaced.stages, api.stages,
        "stages and deployments survive an overwrite"
    );
    assert_eq!(replaced.deployments, api.deployments);
    assert!(replaced.resource_by_path("/catalog").is_none());
}

/// AWS's published examples reference `api_key` without defining it and
/// may hold an integration behind a `$ref`: both import.
#[test]
fn undeclared_api_key_and_referenced_integrations_import() {
    let document = json!({
        "openapi": "3.0.1",
        "info": {"title": "r", "version": "1"},
        "paths": {"/a": {"get": {
            "security": [{"api_key": []}, {"nope": []}],
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {"$ref": "#/components/x-amazon-apigateway-integrations/mock"}
        }}},
        "components": {"x-amazon-apigateway-integrations": {"mock": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}}}
    });
    let imported = import(&document).expect("imports");
    assert_eq!(imported.warnings.len(), 1, "{:?}", imported.warnings);
    assert!(imported.warnings[0].contains("no security scheme named \"nope\""));
    let method = &imported
        .api
        .resource_by_path("/a")
        .unwrap()
        .resource_methods["GET"];
    assert!(method.api_key_required);
    assert_eq!(
        method.method_integration.as_ref().unwrap().integration_type,
        portico::model::IntegrationType::Mock
    );
}
