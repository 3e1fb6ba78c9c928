//! OpenAPI and validation speed (issue: OpenAPI import/export, models,
//! request validation): importing and compiling a 500-operation spec, and
//! validating a body against a 50-property model. `cargo bench --bench openapi`.
//!
//! Targets: import + compile under 200 ms; validation under 20 µs per
//! request (criterion's median is the p50).

use criterion::{Criterion, criterion_group, criterion_main};
use portico::gateway::compile_stage;
use portico::gateway::validate::{ModelCompiler, body_violations};
use portico::model::{Model, RestApi, Stage};
use serde_json::{Map, Value, json};

/// 250 paths with two operations each (500), every one with parameters, a
/// MOCK integration with templates and responses, half with a body model
/// and a validator; 50 models.
fn five_hundred_operations() -> String {
    let mut paths = Map::new();
    for i in 0..250 {
        let integration = json!({
            "type": "mock",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "responses": {
                "default": {"statusCode": "200", "responseTemplates": {"application/json": "#set($id = $input.params('id'))\n{\"id\": \"$id\", \"n\": $i}"}},
                "4\\d{2}": {"statusCode": "400", "responseParameters": {"method.response.header.X-Err": "'yes'"}}
            }
        });
        paths.insert(
            format!("/group{}/items{i}/{{id}}", i % 10),
            json!({
                "get": {
                    "operationId": format!("get{i}"),
                    "parameters": [
                        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                        {"name": "page", "in": "query", "schema": {"type": "integer"}},
                        {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string"}}
                    ],
                    "x-amazon-apigateway-request-validator": "params",
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/M{}", i % 50)}}}}, "400": {"description": "bad", "headers": {"X-Err": {"schema": {"type": "string"}}}}},
                    "x-amazon-apigateway-integration": integration.clone()
                },
                "put": {
                    "operationId": format!("put{i}"),
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "x-amazon-apigateway-request-validator": "all",
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/M{}", i % 50)}}}},
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": integration
                }
            }),
        );
    }
    let mut schemas = Map::new();
    for m in 0..50 {
        schemas.insert(format!("M{m}"), fifty_property_schema());
    }
    serde_json::to_string(&json!({
        "openapi": "3.0.1",
        "info": {"title": "Big", "version": "1"},
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": true, "validateRequestParameters": true},
            "params": {"validateRequestBody": false, "validateRequestParameters": true}
        },
        "paths": paths,
        "components": {"schemas": schemas}
    }))
    .expect("serializes")
}

/// An object schema with 50 typed, constrained properties, 25 required.
fn fifty_property_schema() -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in 0..50 {
        let schema = match p % 5 {
            0 => json!({"type": "string", "minLength": 1, "maxLength": 64}),
            1 => json!({"type": "integer", "minimum": 0, "maximum": 1000000}),
            2 => json!({"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"}),
            3 => json!({"type": "boolean"}),
            _ => json!({"type": "string", "enum": ["red", "green", "blue"]}),
        };
        properties.insert(format!("p{p}"), schema);
        if p % 2 == 0 {
            required.push(format!("p{p}"));
        }
    }
    json!({"type": "object", "required": required, "properties": properties})
}

fn fifty_property_body() -> Vec<u8> {
    let mut body = Map::new();
    for p in 0..50 {
        let value = match p % 5 {
            0 => json!(format!("value number {p}")),
            1 => json!(p * 1000),
            2 => json!(format!("ABC-{p}")),
            3 => json!(p % 2 == 0),
            _ => json!("green"),
        };
        body.insert(format!("p{p}"), value);
    }
    serde_json::to_vec(&body).expect("serializes")
}

fn import_and_compile(c: &mut Criterion) {
    let text = five_hundred_operations();
    let stage = Stage::new("dev", "bench");
    c.bench_function("import_compile_500_operations", |b| {
        b.iter(|| {
            let document = portico::openapi::parse_document(&text).expect("parses");
            let api = portico::openapi::import(&document).expect("imports").api;
            compile_stage(&api, &stage).expect("compiles")
        })
    });
}

fn validate_body(c: &mut Criterion) {
    let mut api = RestApi::new("bench");
    api.models.push(Model::new("Big", &fifty_property_schema()));
    let model = ModelCompiler::new(&api).model("Big").expect("compiles");
    let body = fifty_property_body();
    assert!(body_violations(&model.validator, &body).is_empty());
    c.bench_function("validate_body_50_properties", |b| {
        b.iter(|| body_violations(&model.validator, &body))
    });
}

criterion_group!(benches, import_and_compile, validate_body);
criterion_main!(benches);
