//! [`RestApi`] -> OpenAPI 3.0 or Swagger 2.0, as API Gateway's `GetExport`
//! writes it, with or without the `x-amazon-apigateway-*` extensions.

use serde_json::{Map, Value, json};

use crate::model::{Integration, Method, Model, RestApi};

use super::OpenApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// OpenAPI 3.0.1.
    Oas30,
    /// Swagger 2.0.
    Swagger2,
}

/// Which AWS extensions an export carries (AWS's `extensions` parameter):
/// `integrations` adds `x-amazon-apigateway-integration`, `authorizers` the
/// authorizer definitions, `apigateway` every extension (both of those plus
/// validators, gateway responses, API settings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    pub integrations: bool,
    pub authorizers: bool,
    pub apigateway: bool,
}

impl Extensions {
    pub const ALL: Extensions = Extensions {
        integrations: true,
        authorizers: true,
        apigateway: true,
    };
    pub const NONE: Extensions = Extensions {
        integrations: false,
        authorizers: false,
        apigateway: false,
    };

    /// Parses AWS's comma-separated list (`integrations,authorizers`).
    pub fn parse(list: &str) -> Result<Extensions, String> {
        let mut out = Extensions::NONE;
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "integrations" => out.integrations = true,
                "authorizers" => out.authorizers = true,
                "apigateway" => out = Extensions::ALL,
                other => {
                    return Err(format!(
                        "unknown extension set {other:?}: expected integrations, authorizers or apigateway"
                    ));
                }
            }
        }
        Ok(out)
    }

    fn integrations(self) -> bool {
        self.integrations || self.apigateway
    }

    fn authorizers(self) -> bool {
        self.authorizers || self.apigateway
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    pub format: ExportFormat,
    pub extensions: Extensions,
    /// The stage the export describes and the URL it is served at
    /// (`http://127.0.0.1:4455/dev`): `servers` / `host` + `basePath`.
    pub stage: Option<(String, String)>,
}

/// The definition as a JSON value.
pub fn export(api: &RestApi, options: &ExportOptions) -> Result<Value, OpenApiError> {
    Exporter {
        api,
        swagger: options.format == ExportFormat::Swagger2,
        extensions: options.extensions,
    }
    .document(options.stage.as_ref())
}

/// Pretty JSON, or YAML.
pub fn to_text(document: &Value, yaml: bool) -> String {
    if yaml {
        serde_yaml_ng::to_string(document).unwrap_or_default()
    } else {
        let mut text = serde_json::to_string_pretty(document).unwrap_or_default();
        text.push('\n');
        text
    }
}

struct Exporter<'a> {
    api: &'a RestApi,
    swagger: bool,
    extensions: Extensions,
}

const API_KEY_SCHEME: &str = "api_key";
const SIGV4_SCHEME: &str = "sigv4";

impl Exporter<'_> {
    fn schema_ref(&self, name: &str) -> String {
        if self.swagger {
            format!("#/definitions/{name}")
        } else {
            format!("#/components/schemas/{name}")
        }
    }

    fn document(&self, stage: Option<&(String, String)>) -> Result<Value, OpenApiError> {
        let api = self.api;
        let mut doc = Map::new();
        if self.swagger {
            doc.insert("swagger".into(), json!("2.0"));
        } else {
            doc.insert("openapi".into(), json!("3.0.1"));
        }
        let mut info = Map::new();
        info.insert("title".into(), json!(api.name));
        if let Some(description) = &api.description {
            info.insert("description".into(), json!(description));
        }
        let version = api
            .version
            .clone()
            .or_else(|| api.created_date.clone())
            .unwrap_or_else(|| "1.0".into());
        info.insert("version".into(), json!(version));
        doc.insert("info".into(), Value::Object(info));
        self.servers(&mut doc, stage);
        doc.insert("paths".into(), Value::Object(self.paths()?));

        let mut schemas = Map::new();
        for model in &api.models {
            schemas.insert(model.name.clone(), self.model_schema(model)?);
        }
        let schemes = self.security_schemes();
        if self.swagger {
            if !schemas.is_empty() {
                doc.insert("definitions".into(), Value::Object(schemas));
            }
            if !schemes.is_empty() {
                doc.insert("securityDefinitions".into(), Value::Object(schemes));
            }
        } else {
            let mut components = Map::new();
            if !schemas.is_empty() {
                components.insert("schemas".into(), Value::Object(schemas));
            }
            if !schemes.is_empty() {
                components.insert("securitySchemes".into(), Value::Object(schemes));
            }
            if !components.is_empty() {
                doc.insert("components".into(), Value::Object(components));
            }
        }
        if self.extensions.apigateway {
            self.api_extensions(&mut doc);
        }
        for (key, value) in &api.extensions {
            doc.insert(key.clone(), value.clone());
        }
        Ok(Value::Object(doc))
    }

    fn servers(&self, doc: &mut Map<String, Value>, stage: Option<&(String, String)>) {
        let endpoint = self
            .extensions
            .apigateway
            .then(|| self.endpoint_configuration())
            .flatten();
        if self.swagger {
            if let Some((stage, url)) = stage {
                let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
                let host = rest.split('/').next().unwrap_or(rest);
                doc.insert("host".into(), json!(host));
                doc.insert("basePath".into(), json!(format!("/{stage}")));
                doc.insert("schemes".into(), json!([scheme]));
            }
            if let Some(endpoint) = endpoint {
                doc.insert(
                    "x-amazon-apigateway-endpoint-configuration".into(),
                    endpoint,
                );
            }
            return;
        }
        let mut server = Map::new();
        match stage {
            Some((stage, url)) => {
                let url = url.trim_end_matches('/');
                match url.strip_suffix(&format!("/{stage}")) {
                    Some(base) => {
                        server.insert("url".into(), json!(format!("{base}/{{basePath}}")));
                        server.insert("variables".into(), json!({"basePath": {"default": stage}}));
                    }
                    // The LocalStack form has the stage inside the path.
                    None => {
                        server.insert("url".into(), json!(url));
                    }
                }
            }
            None if endpoint.is_some() => {
                server.insert("url".into(), json!("/"));
            }
            None => return,
        }
        if let Some(endpoint) = endpoint {
            server.insert(
                "x-amazon-apigateway-endpoint-configuration".into(),
                endpoint,
            );
        }
        doc.insert("servers".into(), json!([Value::Object(server)]));
    }

    fn endpoint_configuration(&self) -> Option<Value> {
        let api = self.api;
        let mut out = Map::new();
        if let Some(config) = &api.endpoint_configuration {
            out.insert("types".into(), json!(config.types));
            if !config.vpc_endpoint_ids.is_empty() {
                out.insert("vpcEndpointIds".into(), json!(config.vpc_endpoint_ids));
            }
        }
        if let Some(disable) = api.disable_execute_api_endpoint {
            out.insert("disableExecuteApiEndpoint".into(), json!(disable));
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }

    fn api_extensions(&self, doc: &mut Map<String, Value>) {
        let api = self.api;
        if !api.request_validators.is_empty() {
            let validators: Map<String, Value> = api
                .request_validators
                .iter()
                .map(|v| {
                    (
                        v.name.clone(),
                        json!({
                            "validateRequestBody": v.validate_request_body,
                            "validateRequestParameters": v.validate_request_parameters,
                        }),
                    )
                })
                .collect();
            doc.insert(
                "x-amazon-apigateway-request-validators".into(),
                Value::Object(validators),
            );
        }
        if !api.gateway_responses.is_empty() {
            let responses: Map<String, Value> = api
                .gateway_responses
                .iter()
                .map(|(name, r)| {
                    let mut out = Map::new();
                    if let Some(code) = &r.status_code {
                        out.insert("statusCode".into(), json!(code));
                    }
                    if !r.response_parameters.is_empty() {
                        out.insert("responseParameters".into(), json!(r.response_parameters));
                    }
                    if !r.response_templates.is_empty() {
                        out.insert("responseTemplates".into(), json!(r.response_templates));
                    }
                    (name.clone(), Value::Object(out))
                })
                .collect();
            doc.insert(
                "x-amazon-apigateway-gateway-responses".into(),
                Value::Object(responses),
            );
        }
        if !api.binary_media_types.is_empty() {
            doc.insert(
                "x-amazon-apigateway-binary-media-types".into(),
                json!(api.binary_media_types),
            );
        }
        if api.api_key_source != crate::model::ApiKeySource::Header {
            doc.insert(
                "x-amazon-apigateway-api-key-source".into(),
                json!("AUTHORIZER"),
            );
        }
        if let Some(policy) = &api.policy {
            let value = serde_json::from_str::<Value>(policy).unwrap_or_else(|_| json!(policy));
            doc.insert("x-amazon-apigateway-policy".into(), value);
        }
        if let Some(size) = api.minimum_compression_size {
            doc.insert(
                "x-amazon-apigateway-minimum-compression-size".into(),
                json!(size),
            );
        }
        if let Some(documentation) = &api.documentation {
            doc.insert(
                "x-amazon-apigateway-documentation".into(),
                documentation.clone(),
            );
        }
        doc.insert(
            "x-amazon-apigateway-importexport-version".into(),
            json!("1.0"),
        );
    }

    fn model_schema(&self, model: &Model) -> Result<Value, OpenApiError> {
        let text = model.schema.as_deref().unwrap_or("{}");
        let schema: Value = serde_json::from_str(text).map_err(|e| {
            OpenApiError::invalid(
                &format!("/models/{}", model.name),
                format!("the model's schema is not JSON: {e}"),
            )
        })?;
        Ok(self.rewrite_refs(schema))
    }

    /// Model URLs (`https://apigateway.amazonaws.com/restapis/.../models/X`)
    /// -> `#/components/schemas/X` (or `#/definitions/X`).
    fn rewrite_refs(&self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(key, value)| {
                        if key == "$ref"
                            && let Some(name) = value.as_str().and_then(Model::name_from_url)
                        {
                            let target = self.schema_ref(name);
                            return (key, Value::String(target));
                        }
                        (key, self.rewrite_refs(value))
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.rewrite_refs(v)).collect())
            }
            other => other,
        }
    }

    fn security_schemes(&self) -> Map<String, Value> {
        let api = self.api;
        let mut schemes = Map::new();
        let methods = || {
            api.resources
                .iter()
                .flat_map(|r| r.resource_methods.values())
        };
        if methods().any(|m| m.api_key_required) {
            schemes.insert(
                API_KEY_SCHEME.into(),
                json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
            );
        }
        if methods().any(|m| m.authorization_type == "AWS_IAM") {
            let mut scheme = json!({"type": "apiKey", "name": "Authorization", "in": "header"});
            if self.extensions.authorizers() {
                scheme["x-amazon-apigateway-authtype"] = json!("awsSigv4");
            }
            schemes.insert(SIGV4_SCHEME.into(), scheme);
        }
        for authorizer in &api.authorizers {
            let header = authorizer
                .identity_source
                .as_deref()
                .and_then(|s| s.strip_prefix("method.request.header."))
                .filter(|h| !h.contains(','))
                .unwrap_or("Unused");
            let mut scheme = Map::new();
            scheme.insert("type".into(), json!("apiKey"));
            scheme.insert("name".into(), json!(header));
            scheme.insert("in".into(), json!("header"));
            if self.extensions.authorizers() {
                let auth_type = authorizer.auth_type.clone().unwrap_or_else(|| {
                    if authorizer.authorizer_type == "COGNITO_USER_POOLS" {
                        "cognito_user_pools".into()
                    } else {
                        "custom".into()
                    }
                });
                scheme.insert("x-amazon-apigateway-authtype".into(), json!(auth_type));
                let mut ext = Map::new();
                ext.insert(
                    "type".into(),
                    json!(authorizer.authorizer_type.to_ascii_lowercase()),
                );
                let mut put = |key: &str, value: &Option<String>| {
                    if let Some(value) = value {
                        ext.insert(key.into(), json!(value));
                    }
                };
                put("authorizerUri", &authorizer.authorizer_uri);
                put("authorizerCredentials", &authorizer.authorizer_credentials);
                put("identitySource", &authorizer.identity_source);
                put(
                    "identityValidationExpression",
                    &authorizer.identity_validation_expression,
                );
                if let Some(ttl) = authorizer.authorizer_result_ttl_in_seconds {
                    ext.insert("authorizerResultTtlInSeconds".into(), json!(ttl));
                }
                if !authorizer.provider_arns.is_empty() {
                    ext.insert("providerARNs".into(), json!(authorizer.provider_arns));
                }
                scheme.insert("x-amazon-apigateway-authorizer".into(), Value::Object(ext));
            }
            schemes.insert(authorizer.name.clone(), Value::Object(scheme));
        }
        schemes
    }

    fn paths(&self) -> Result<Map<String, Value>, OpenApiError> {
        let api = self.api;
        let mut resources: Vec<_> = api.resources.iter().collect();
        resources.sort_by(|a, b| a.path.cmp(&b.path));
        let mut paths = Map::new();
        for resource in resources {
            let is_leaf = !api
                .resources
                .iter()
                .any(|r| r.parent_id.as_deref() == Some(&resource.id));
            if resource.resource_methods.is_empty() && (!is_leaf || resource.path == "/") {
                continue;
            }
            let mut item = Map::new();
            for (verb, method) in &resource.resource_methods {
                let key = if verb == "ANY" {
                    "x-amazon-apigateway-any-method".to_string()
                } else {
                    verb.to_ascii_lowercase()
                };
                item.insert(key, self.operation(method));
            }
            paths.insert(resource.path.clone(), Value::Object(item));
        }
        Ok(paths)
    }

    fn operation(&self, method: &Method) -> Value {
        let mut op = Map::new();
        if let Some(name) = &method.operation_name {
            op.insert("operationId".into(), json!(name));
        }
        let mut parameters = Vec::new();
        for (key, required) in &method.request_parameters {
            let Some(rest) = key.strip_prefix("method.request.") else {
                continue;
            };
            let Some((location, name)) = rest.split_once('.') else {
                continue;
            };
            let location = match location {
                "path" => "path",
                "querystring" => "query",
                "header" => "header",
                _ => continue,
            };
            let mut param = Map::new();
            param.insert("name".into(), json!(name));
            param.insert("in".into(), json!(location));
            param.insert("required".into(), json!(location == "path" || *required));
            if self.swagger {
                param.insert("type".into(), json!("string"));
            } else {
                param.insert("schema".into(), json!({"type": "string"}));
            }
            parameters.push(Value::Object(param));
        }
        if !method.request_models.is_empty() {
            if self.swagger {
                let types: Vec<&String> = method.request_models.keys().collect();
                op.insert("consumes".into(), json!(types));
                if let Some(model) = method.request_models.values().next() {
                    parameters.push(json!({
                        "in": "body",
                        "name": model,
                        "required": true,
                        "schema": {"$ref": self.schema_ref(model)},
                    }));
                }
            } else {
                let content: Map<String, Value> = method
                    .request_models
                    .iter()
                    .map(|(ct, model)| {
                        (
                            ct.clone(),
                            json!({"schema": {"$ref": self.schema_ref(model)}}),
                        )
                    })
                    .collect();
                op.insert(
                    "requestBody".into(),
                    json!({"content": content, "required": true}),
                );
            }
        }
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        let responses = self.responses(method, &mut op);
        op.insert("responses".into(), responses);
        let mut requirement = Map::new();
        if method.api_key_required {
            requirement.insert(API_KEY_SCHEME.into(), json!([]));
        }
        match method.authorization_type.as_str() {
            "AWS_IAM" => {
                requirement.insert(SIGV4_SCHEME.into(), json!([]));
            }
            "CUSTOM" | "COGNITO_USER_POOLS" => {
                if let Some(authorizer) = method
                    .authorizer_id
                    .as_deref()
                    .and_then(|id| self.api.authorizers.iter().find(|a| a.id == id))
                {
                    requirement.insert(authorizer.name.clone(), json!(method.authorization_scopes));
                }
            }
            _ => {}
        }
        if !requirement.is_empty() {
            op.insert("security".into(), json!([requirement]));
        }
        if self.extensions.apigateway
            && let Some(validator) = method
                .request_validator_id
                .as_deref()
                .and_then(|id| self.api.request_validators.iter().find(|v| v.id == id))
        {
            op.insert(
                "x-amazon-apigateway-request-validator".into(),
                json!(validator.name),
            );
        }
        if self.extensions.integrations()
            && let Some(integration) = &method.method_integration
        {
            op.insert(
                "x-amazon-apigateway-integration".into(),
                integration_value(integration),
            );
        }
        for (key, value) in &method.extensions {
            op.insert(key.clone(), value.clone());
        }
        Value::Object(op)
    }

    fn responses(&self, method: &Method, op: &mut Map<String, Value>) -> Value {
        let mut responses = Map::new();
        let mut produces: Vec<String> = Vec::new();
        for (code, response) in &method.method_responses {
            let mut out = Map::new();
            out.insert("description".into(), json!(format!("{code} response")));
            let mut headers = Map::new();
            for (key, required) in &response.response_parameters {
                let Some(name) = key.strip_prefix("method.response.header.") else {
                    continue;
                };
                let header = if self.swagger {
                    json!({"type": "string"})
                } else if *required {
                    json!({"required": true, "schema": {"type": "string"}})
                } else {
                    json!({"schema": {"type": "string"}})
                };
                headers.insert(name.to_string(), header);
            }
            if !headers.is_empty() {
                out.insert("headers".into(), Value::Object(headers));
            }
            if self.swagger {
                if let Some(model) = response.response_models.values().next() {
                    out.insert("schema".into(), json!({"$ref": self.schema_ref(model)}));
                }
                for ct in response.response_models.keys() {
                    if !produces.contains(ct) {
                        produces.push(ct.clone());
                    }
                }
            } else if !response.response_models.is_empty() {
                let content: Map<String, Value> = response
                    .response_models
                    .iter()
                    .map(|(ct, model)| {
                        (
                            ct.clone(),
                            json!({"schema": {"$ref": self.schema_ref(model)}}),
                        )
                    })
                    .collect();
                out.insert("content".into(), Value::Object(content));
            }
            responses.insert(code.clone(), Value::Object(out));
        }
        if !produces.is_empty() {
            op.insert("produces".into(), json!(produces));
        }
        if responses.is_empty() {
            // OpenAPI wants at least one response; an undescribed default
            // says "nothing declared" and imports back as nothing.
            responses.insert("default".into(), json!({"description": "Default response"}));
        }
        Value::Object(responses)
    }
}

fn integration_value(integration: &Integration) -> Value {
    let mut out = Map::new();
    out.insert(
        "type".into(),
        json!(integration.integration_type.as_str().to_ascii_lowercase()),
    );
    let mut put = |key: &str, value: &Option<String>| {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    };
    put("httpMethod", &integration.http_method);
    put("uri", &integration.uri);
    put("connectionType", &integration.connection_type);
    put("connectionId", &integration.connection_id);
    put("credentials", &integration.credentials);
    if !integration.request_parameters.is_empty() {
        out.insert(
            "requestParameters".into(),
            json!(integration.request_parameters),
        );
    }
    if !integration.request_templates.is_empty() {
        out.insert(
            "requestTemplates".into(),
            json!(integration.request_templates),
        );
    }
    out.insert(
        "passthroughBehavior".into(),
        json!(
            integration
                .passthrough_behavior
                .as_str()
                .to_ascii_lowercase()
        ),
    );
    if let Some(handling) = integration.content_handling {
        out.insert(
            "contentHandling".into(),
            serde_json::to_value(handling).unwrap_or_default(),
        );
    }
    out.insert(
        "timeoutInMillis".into(),
        json!(integration.timeout_in_millis),
    );
    if let Some(namespace) = &integration.cache_namespace {
        out.insert("cacheNamespace".into(), json!(namespace));
    }
    if !integration.cache_key_parameters.is_empty() {
        out.insert(
            "cacheKeyParameters".into(),
            json!(integration.cache_key_parameters),
        );
    }
    if let Some(tls) = integration.tls_config {
        out.insert(
            "tlsConfig".into(),
            json!({"insecureSkipVerification": tls.insecure_skip_verification}),
        );
    }
    if !integration.integration_responses.is_empty() {
        let mut responses = Map::new();
        for response in integration.integration_responses.values() {
            let key = response
                .selection_pattern
                .clone()
                .unwrap_or_else(|| "default".into());
            let mut r = Map::new();
            r.insert("statusCode".into(), json!(response.status_code));
            if !response.response_parameters.is_empty() {
                r.insert(
                    "responseParameters".into(),
                    json!(response.response_parameters),
                );
            }
            if !response.response_templates.is_empty() {
                r.insert(
                    "responseTemplates".into(),
                    json!(response.response_templates),
                );
            }
            if let Some(handling) = response.content_handling {
                r.insert(
                    "contentHandling".into(),
                    serde_json::to_value(handling).unwrap_or_default(),
                );
            }
            responses.insert(key, Value::Object(r));
        }
        out.insert("responses".into(), Value::Object(responses));
    }
    Value::Object(out)
}
