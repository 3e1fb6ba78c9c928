//! OpenAPI 3.0 for HTTP APIs, as AWS's `apigatewayv2 import-api` and
//! `export-api` read and write it
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html>):
//! each operation is a route (`x-amazon-apigateway-any-method` is `ANY`,
//! the path `$default` the default route), its
//! `x-amazon-apigateway-integration` (`type` aws_proxy / http_proxy, `uri`,
//! `httpMethod`, `payloadFormatVersion`, `timeoutInMillis`), JWT
//! authorizers as security schemes with `x-amazon-apigateway-authorizer`
//! (`type: jwt`, `jwtConfiguration`, `identitySource`) and operation
//! `security` for scopes, and `x-amazon-apigateway-cors` at the root.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::OpenApiError;
use crate::model::{
    CorsConfiguration, HttpApi, HttpAuthorizer, HttpIntegration, HttpStage, JwtConfiguration,
    Route, RouteKey,
};

const VERBS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}

/// An HTTP API from an OpenAPI 3 document, with its warnings (what was
/// left out). The API gets a `$default` stage that auto-deploys.
pub fn import(document: &Value) -> Result<(HttpApi, Vec<String>), OpenApiError> {
    if !document
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with('3'))
    {
        return Err(OpenApiError::invalid(
            "/openapi",
            "HTTP APIs are imported from OpenAPI 3.x definitions",
        ));
    }
    let mut warnings = Vec::new();
    let name = document
        .pointer("/info/title")
        .and_then(Value::as_str)
        .ok_or_else(|| OpenApiError::invalid("/info/title", "expected the API's name"))?;
    let mut api = HttpApi {
        api_id: crate::model::new_rest_api_id(),
        name: name.to_string(),
        protocol_type: "HTTP".into(),
        description: document
            .pointer("/info/description")
            .and_then(Value::as_str)
            .map(str::to_string),
        route_selection_expression: None,
        cors_configuration: None,
        disable_execute_api_endpoint: document
            .get("x-amazon-apigateway-disable-execute-api-endpoint")
            .and_then(Value::as_bool),
        routes: Vec::new(),
        integrations: Vec::new(),
        stages: vec![HttpStage {
            stage_name: "$default".into(),
            auto_deploy: true,
            stage_variables: BTreeMap::new(),
            description: None,
            deployment_id: None,
            default_route_settings: None,
            route_settings: Default::default(),
        }],
        deployments: Vec::new(),
        authorizers: Vec::new(),
    };
    if let Some(cors) = document.get("x-amazon-apigateway-cors") {
        api.cors_configuration = Some(CorsConfiguration {
            allow_origins: strings(cors.get("allowOrigins")),
            allow_methods: strings(cors.get("allowMethods")),
            allow_headers: strings(cors.get("allowHeaders")),
            expose_headers: strings(cors.get("exposeHeaders")),
            max_age: cors.get("maxAge").and_then(Value::as_i64),
            allow_credentials: cors.get("allowCredentials").and_then(Value::as_bool),
        });
    }
    if let Some(Value::Object(schemes)) = document.pointer("/components/securitySchemes") {
        for (scheme, definition) in schemes {
            let Some(authorizer) = definition.get("x-amazon-apigateway-authorizer") else {
                warnings.push(format!(
                    "/components/securitySchemes/{}: no x-amazon-apigateway-authorizer, left out",
                    escape(scheme)
                ));
                continue;
            };
            if authorizer.get("type").and_then(Value::as_str) != Some("jwt") {
                warnings.push(format!(
                    "/components/securitySchemes/{}: only jwt authorizers are imported",
                    escape(scheme)
                ));
                continue;
            }
            let config = authorizer.get("jwtConfiguration");
            api.authorizers.push(HttpAuthorizer {
                authorizer_id: scheme.clone(),
                name: scheme.clone(),
                authorizer_type: "JWT".into(),
                identity_source: strings(authorizer.get("identitySource")),
                jwt_configuration: Some(JwtConfiguration {
                    issuer: config
                        .and_then(|c| c.get("issuer"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    audience: strings(config.and_then(|c| c.get("audience"))),
                }),
                authorizer_uri: None,
                authorizer_payload_format_version: None,
                enable_simple_responses: None,
                authorizer_result_ttl_in_seconds: None,
            });
        }
    }
    let Some(Value::Object(paths)) = document.get("paths") else {
        return Ok((api, warnings));
    };
    for (path, item) in paths {
        let Value::Object(item) = item else { continue };
        for (method, operation) in item {
            let verb = if method == "x-amazon-apigateway-any-method" {
                "ANY".to_string()
            } else if VERBS.contains(&method.as_str()) {
                method.to_ascii_uppercase()
            } else {
                continue;
            };
            let pointer = format!("/paths/{}/{method}", escape(path));
            let route_key = if path == "$default" {
                "$default".to_string()
            } else {
                format!("{verb} {path}")
            };
            RouteKey::parse(&route_key)
                .map_err(|e| OpenApiError::invalid(&pointer, e.to_string()))?;
            let index = api.routes.len() + 1;
            let mut route = Route {
                route_id: format!("route{index:03}"),
                route_key,
                target: None,
                authorization_type: "NONE".into(),
                authorization_scopes: Vec::new(),
                authorizer_id: None,
            };
            if let Some(integration) = operation.get("x-amazon-apigateway-integration") {
                let kind = match integration.get("type").and_then(Value::as_str) {
                    Some(t) if t.eq_ignore_ascii_case("aws_proxy") => "AWS_PROXY",
                    Some(t) if t.eq_ignore_ascii_case("http_proxy") => "HTTP_PROXY",
                    other => {
                        return Err(OpenApiError::invalid(
                            &format!("{pointer}/x-amazon-apigateway-integration/type"),
                            format!("expected aws_proxy or http_proxy, found {other:?}"),
                        ));
                    }
                };
                let integration_id = format!("int{index:03}");
                api.integrations.push(HttpIntegration {
                    integration_id: integration_id.clone(),
                    integration_type: kind.into(),
                    integration_uri: integration
                        .get("uri")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    integration_method: integration
                        .get("httpMethod")
                        .and_then(Value::as_str)
                        .filter(|_| kind == "HTTP_PROXY")
                        .map(str::to_string),
                    payload_format_version: integration
                        .get("payloadFormatVersion")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| (kind == "AWS_PROXY").then(|| "2.0".into())),
                    timeout_in_millis: integration
                        .get("timeoutInMillis")
                        .and_then(Value::as_u64)
                        .map(|t| t as u32),
                    request_parameters: match integration.get("requestParameters") {
                        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                            OpenApiError::invalid(
                                &format!(
                                    "{pointer}/x-amazon-apigateway-integration/requestParameters"
                                ),
                                e.to_string(),
                            )
                        })?,
                        None => BTreeMap::new(),
                    },
                    response_parameters: match integration.get("responseParameters") {
                        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                            OpenApiError::invalid(
                                &format!(
                                    "{pointer}/x-amazon-apigateway-integration/responseParameters"
                                ),
                                e.to_string(),
                            )
                        })?,
                        None => BTreeMap::new(),
                    },
                });
                route.target = Some(format!("integrations/{integration_id}"));
            } else {
                warnings.push(format!("{pointer}: no x-amazon-apigateway-integration"));
            }
            if let Some(Value::Array(security)) = operation.get("security")
                && let Some(Value::Object(requirement)) = security.first()
                && let Some((scheme, scopes)) = requirement.iter().next()
            {
                if api.authorizers.iter().any(|a| a.authorizer_id == *scheme) {
                    route.authorization_type = "JWT".into();
                    route.authorizer_id = Some(scheme.clone());
                    route.authorization_scopes = strings(Some(scopes));
                } else {
                    warnings.push(format!("{pointer}/security: no authorizer named {scheme}"));
                }
            }
            api.routes.push(route);
        }
    }
    api.validate()
        .map_err(|crate::model::InvalidField(path, message)| {
            OpenApiError::invalid(&format!("/{}", path.join("/")), message)
        })?;
    Ok((api, warnings))
}

/// The HTTP API as OpenAPI 3.0 with AWS's extensions (what `import`
/// reads back).
pub fn export(api: &HttpApi, server: Option<&str>) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for route in &api.routes {
        let (verb, path) = match RouteKey::parse(&route.route_key) {
            Ok(RouteKey::Path { verb, path }) => (verb, path),
            _ => ("ANY".to_string(), "$default".to_string()),
        };
        let method = if verb == "ANY" {
            "x-amazon-apigateway-any-method".to_string()
        } else {
            verb.to_ascii_lowercase()
        };
        let mut operation = Map::new();
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                json!({"name": name.trim_end_matches('+'), "in": "path", "required": true,
                       "schema": {"type": "string"}})
            })
            .collect();
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        operation.insert(
            "responses".into(),
            json!({"default": {"description": "Default response"}}),
        );
        if let Some(integration) = api.target(route) {
            let mut extension = json!({
                "type": integration.integration_type.to_ascii_lowercase(),
                "uri": integration.integration_uri,
                "payloadFormatVersion": integration.payload_format_version.clone().unwrap_or_else(|| "1.0".into()),
                "connectionType": "INTERNET",
            });
            let method = integration.integration_method.clone().unwrap_or_else(|| {
                if integration.integration_type == "AWS_PROXY" {
                    "POST".into()
                } else {
                    "ANY".into()
                }
            });
            extension["httpMethod"] = json!(method);
            if let Some(timeout) = integration.timeout_in_millis {
                extension["timeoutInMillis"] = json!(timeout);
            }
            if !integration.request_parameters.is_empty() {
                extension["requestParameters"] = json!(integration.request_parameters);
            }
            if !integration.response_parameters.is_empty() {
                extension["responseParameters"] = json!(integration.response_parameters);
            }
            operation.insert("x-amazon-apigateway-integration".into(), extension);
        }
        if route.authorization_type == "JWT"
            && let Some(scheme) = &route.authorizer_id
        {
            operation.insert(
                "security".into(),
                json!([{ scheme.clone(): route.authorization_scopes }]),
            );
        }
        paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("an object")
            .insert(method, Value::Object(operation));
    }
    let mut document = json!({
        "openapi": "3.0.1",
        "info": {"title": api.name, "version": "1.0"},
        "paths": paths,
    });
    if let Some(description) = &api.description {
        document["info"]["description"] = json!(description);
    }
    if let Some(url) = server {
        document["servers"] = json!([{"url": url}]);
    }
    let jwt: Map<String, Value> = api
        .authorizers
        .iter()
        .filter(|a| a.authorizer_type == "JWT")
        .map(|a| {
            let config = a.jwt_configuration.clone().unwrap_or_default();
            (
                a.authorizer_id.clone(),
                json!({
                    "type": "oauth2",
                    "flows": {},
                    "x-amazon-apigateway-authorizer": {
                        "type": "jwt",
                        "identitySource": a.identity_source.first().cloned()
                            .unwrap_or_else(|| "$request.header.Authorization".into()),
                        "jwtConfiguration": {"issuer": config.issuer, "audience": config.audience},
                    }
                }),
            )
        })
        .collect();
    if !jwt.is_empty() {
        document["components"] = json!({"securitySchemes": jwt});
    }
    if let Some(cors) = &api.cors_configuration {
        document["x-amazon-apigateway-cors"] = serde_json::to_value(cors).unwrap_or_default();
    }
    document
}
