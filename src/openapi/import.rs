//! OpenAPI 3.0 / 3.1 and Swagger 2.0 -> [`RestApi`], as API Gateway's
//! `ImportRestApi` / `PutRestApi` read them: paths become resources,
//! operations methods, `components.schemas` / `definitions` models, and every
//! `x-amazon-apigateway-*` extension its model field. Extensions Portico does
//! not interpret are kept; parts API Gateway does not support are skipped
//! with a warning (what AWS's `failonwarnings` turns into a failure).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::model::{
    ApiKeySource, Authorizer, ContentHandling, EndpointConfiguration, GatewayResponse,
    GatewayResponseType, Integration, IntegrationResponse, IntegrationType, JSON_CONTENT_TYPE,
    Method, MethodResponse, Model, PassthroughBehavior, RequestValidator, RestApi, TlsConfig,
};

use super::pointer::{Fields, child, expected, object, resolve};
use super::{OpenApiError, SpecVersion};

/// How a definition is applied to an existing API (AWS `PutRestApi` modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// The definition replaces the API's (id, stages and deployments stay).
    Overwrite,
    /// The definition's resources, methods, models, validators and
    /// authorizers are added to the API's; same-named ones are replaced.
    Merge,
}

/// An imported API and what was skipped on the way.
#[derive(Debug, Clone)]
pub struct Imported {
    pub api: RestApi,
    pub warnings: Vec<String>,
}

impl Imported {
    /// AWS's `failonwarnings=true`: any warning fails the import.
    pub fn fail_on_warnings(self) -> Result<Imported, OpenApiError> {
        if self.warnings.is_empty() {
            Ok(self)
        } else {
            Err(OpenApiError::Warnings(self.warnings))
        }
    }
}

/// Imports a definition as a new API.
pub fn import(document: &Value) -> Result<Imported, OpenApiError> {
    let mut api = RestApi::new("");
    api.endpoint_configuration = None;
    Importer::new(document, api, false)?.run()
}

/// Imports a definition into an existing API.
pub fn import_into(
    existing: &RestApi,
    document: &Value,
    mode: ImportMode,
) -> Result<Imported, OpenApiError> {
    let api = match mode {
        ImportMode::Merge => existing.clone(),
        ImportMode::Overwrite => {
            let mut api = RestApi::new(&existing.name);
            api.id = existing.id.clone();
            api.created_date = existing.created_date.clone();
            api.endpoint_configuration = None;
            api.stages = existing.stages.clone();
            api.deployments = existing.deployments.clone();
            api
        }
    };
    Importer::new(document, api, mode == ImportMode::Merge)?.run()
}

const OPERATIONS: [(&str, &str); 7] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
];
const ANY_METHOD: &str = "x-amazon-apigateway-any-method";
const INTEGRATION: &str = "x-amazon-apigateway-integration";

/// What an operation's `security` requirement names.
#[derive(Debug, Clone)]
enum Security {
    ApiKey,
    Iam,
    Authorizer { id: String, cognito: bool },
    Unsupported,
}

struct Importer<'a> {
    document: &'a Value,
    version: SpecVersion,
    api: RestApi,
    merge: bool,
    warnings: Vec<String>,
    /// Schema key in the document -> model name.
    schema_models: HashMap<String, String>,
    security: HashMap<String, Security>,
    /// Validator name -> id.
    validators: HashMap<String, String>,
    default_validator: Option<String>,
    /// Resource path -> id.
    paths: HashMap<String, String>,
    consumes: Vec<String>,
    produces: Vec<String>,
}

impl<'a> Importer<'a> {
    fn new(document: &'a Value, api: RestApi, merge: bool) -> Result<Importer<'a>, OpenApiError> {
        let version = SpecVersion::of(document)?;
        let paths = api
            .resources
            .iter()
            .map(|r| (r.path.clone(), r.id.clone()))
            .collect();
        let validators = api
            .request_validators
            .iter()
            .map(|v| (v.name.clone(), v.id.clone()))
            .collect();
        Ok(Importer {
            document,
            version,
            api,
            merge,
            warnings: Vec::new(),
            schema_models: HashMap::new(),
            security: HashMap::new(),
            validators,
            default_validator: None,
            paths,
            consumes: Vec::new(),
            produces: Vec::new(),
        })
    }

    fn warn(&mut self, pointer: &str, message: impl std::fmt::Display) {
        self.warnings.push(format!("{pointer}: {message}"));
    }

    fn run(mut self) -> Result<Imported, OpenApiError> {
        let root = Fields::new(self.document, "")?;
        self.info(&root)?;
        if self.version == SpecVersion::Swagger2 {
            self.consumes = root.strings("consumes")?;
            self.produces = root.strings("produces")?;
        }
        self.models()?;
        self.security_schemes()?;
        self.root_extensions(&root)?;
        if let Some(paths) = root.get("paths") {
            let paths = object(paths, "/paths")?;
            for (path, item) in paths {
                if path.starts_with("x-") {
                    continue;
                }
                self.path_item(path, item)?;
            }
        }
        if root.get("webhooks").is_some() {
            self.warn(
                "/webhooks",
                "webhooks are not supported by API Gateway; ignored",
            );
        }
        Ok(Imported {
            api: self.api,
            warnings: self.warnings,
        })
    }

    fn info(&mut self, root: &Fields<'a>) -> Result<(), OpenApiError> {
        let Some(info) = root.get("info") else {
            return Err(OpenApiError::invalid(
                "/info",
                "expected an info object with a title",
            ));
        };
        let info = Fields::new(info, "/info")?;
        let title = info
            .string("title")?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                OpenApiError::invalid(
                    "/info/title",
                    "expected the API's name (a non-empty string)",
                )
            })?;
        if self.merge {
            return Ok(());
        }
        self.api.name = title.to_string();
        self.api.description = info.string("description")?.map(str::to_string);
        self.api.version = info.string_or_number("version")?;
        Ok(())
    }

    // ---- models -----------------------------------------------------------

    fn schemas_pointer(&self) -> &'static str {
        match self.version {
            SpecVersion::Swagger2 => "/definitions",
            _ => "/components/schemas",
        }
    }

    fn models(&mut self) -> Result<(), OpenApiError> {
        let base = self.schemas_pointer();
        let Some(schemas) = self.document.pointer(base) else {
            return Ok(());
        };
        let schemas = object(schemas, base)?;
        // Names first, so references between models resolve in any order.
        let mut taken: Vec<String> = self.api.models.iter().map(|m| m.name.clone()).collect();
        let mut names = Vec::with_capacity(schemas.len());
        for key in schemas.keys() {
            let name: String = key.chars().filter(char::is_ascii_alphanumeric).collect();
            let name = if name.is_empty() {
                "Model".to_string()
            } else {
                name
            };
            let name = if &name == key {
                name
            } else {
                let name = unique(&name, &taken);
                let at = child(base, key);
                self.warn(
                    &at,
                    format!("model names must be alphanumeric: imported as {name}"),
                );
                name
            };
            taken.push(name.clone());
            self.schema_models.insert(key.clone(), name.clone());
            names.push(name);
        }
        for ((key, schema), name) in schemas.iter().zip(names) {
            let at = child(base, key);
            let converted = self.convert_schema(schema, &at, 0)?;
            let model = Model::new(&name, &converted);
            self.put_model(model);
        }
        Ok(())
    }

    fn put_model(&mut self, mut model: Model) {
        match self.api.models.iter_mut().find(|m| m.name == model.name) {
            Some(existing) => {
                model.id = existing.id.clone();
                *existing = model;
            }
            None => self.api.models.push(model),
        }
    }

    /// A schema with references to other schemas turned into model URLs
    /// (as AWS stores them) and other local references inlined.
    fn convert_schema(
        &self,
        schema: &Value,
        at: &str,
        depth: usize,
    ) -> Result<Value, OpenApiError> {
        if depth > 64 {
            return Err(OpenApiError::invalid(
                at,
                "schema nested too deeply (a reference cycle?)",
            ));
        }
        Ok(match schema {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref") {
                    let Some(reference) = reference.as_str() else {
                        return Err(expected(&child(at, "$ref"), "a string", reference));
                    };
                    if let Some(name) = self.model_of_ref(reference) {
                        let mut out = map.clone();
                        out.insert("$ref".into(), Value::String(Model::url(&self.api.id, name)));
                        return Ok(Value::Object(out));
                    }
                    if Model::name_from_url(reference).is_some() {
                        return Ok(schema.clone());
                    }
                    let (target, target_at) = resolve(self.document, schema, at)?;
                    return self.convert_schema(target, &target_at, depth + 1);
                }
                let mut out = Map::with_capacity(map.len());
                for (key, value) in map {
                    let converted = if matches!(
                        key.as_str(),
                        "example" | "examples" | "enum" | "default" | "const"
                    ) {
                        value.clone()
                    } else {
                        self.convert_schema(value, &child(at, key), depth + 1)?
                    };
                    out.insert(key.clone(), converted);
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.convert_schema(v, &child(at, &i.to_string()), depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            other => other.clone(),
        })
    }

    /// The model a `#/components/schemas/X` / `#/definitions/X` points at.
    fn model_of_ref(&self, reference: &str) -> Option<&str> {
        let key = reference
            .strip_prefix("#/components/schemas/")
            .or_else(|| reference.strip_prefix("#/definitions/"))?;
        let key = key.replace("~1", "/").replace("~0", "~");
        self.schema_models.get(&key).map(String::as_str)
    }

    /// The model for a request or response schema: the named one it
    /// references, or a new model made from an inline schema.
    fn model_for(
        &mut self,
        schema: &Value,
        at: &str,
        suggested: &str,
    ) -> Result<String, OpenApiError> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if let Some(name) = self.model_of_ref(reference) {
                return Ok(name.to_string());
            }
            if let Some(name) = Model::name_from_url(reference) {
                return Ok(name.to_string());
            }
        }
        let converted = self.convert_schema(schema, at, 0)?;
        let mut name: String = suggested
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        if name.is_empty() {
            name = "Model".into();
        }
        let taken: Vec<String> = self.api.models.iter().map(|m| m.name.clone()).collect();
        let name = unique(&name, &taken);
        self.api.models.push(Model::new(&name, &converted));
        Ok(name)
    }

    // ---- security ---------------------------------------------------------

    fn security_schemes(&mut self) -> Result<(), OpenApiError> {
        let base = match self.version {
            SpecVersion::Swagger2 => "/securityDefinitions",
            _ => "/components/securitySchemes",
        };
        let Some(schemes) = self.document.pointer(base) else {
            return Ok(());
        };
        for (name, scheme) in object(schemes, base)? {
            let at = child(base, name);
            let (scheme, at) = resolve(self.document, scheme, &at)?;
            let fields = Fields::new(scheme, &at)?;
            let auth_type = fields.string("x-amazon-apigateway-authtype")?;
            let kind = if let Some(authorizer) = fields.get("x-amazon-apigateway-authorizer") {
                self.authorizer(name, &fields, authorizer, auth_type)?
            } else if auth_type.is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4")) {
                Security::Iam
            } else if fields.string("type")? == Some("apiKey")
                && fields.string("in")? == Some("header")
                && fields
                    .string("name")?
                    .is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"))
            {
                Security::ApiKey
            } else {
                self.warn(
                    &at,
                    "security scheme without x-amazon-apigateway-authorizer or awsSigv4 is not supported; methods using it get no authorization",
                );
                Security::Unsupported
            };
            self.security.insert(name.clone(), kind);
        }
        Ok(())
    }

    fn authorizer(
        &mut self,
        name: &str,
        scheme: &Fields<'_>,
        value: &Value,
        auth_type: Option<&str>,
    ) -> Result<Security, OpenApiError> {
        let at = scheme.at("x-amazon-apigateway-authorizer");
        let fields = Fields::new(value, &at)?;
        let kind = fields.string("type")?.unwrap_or("token");
        let authorizer_type = match kind.to_ascii_lowercase().as_str() {
            "token" => "TOKEN",
            "request" => "REQUEST",
            "cognito_user_pools" => "COGNITO_USER_POOLS",
            _ => {
                return Err(OpenApiError::invalid(
                    &child(&at, "type"),
                    format!("expected one of: token, request, cognito_user_pools; found {kind:?}"),
                ));
            }
        };
        let identity_source = match fields.string("identitySource")? {
            Some(source) => Some(source.to_string()),
            None if authorizer_type == "TOKEN" => scheme
                .string("name")?
                .map(|header| format!("method.request.header.{header}")),
            None => None,
        };
        let cognito = authorizer_type == "COGNITO_USER_POOLS";
        if !cognito && fields.string("authorizerUri")?.is_none() {
            return Err(OpenApiError::invalid(
                &child(&at, "authorizerUri"),
                "expected a string: a Lambda authorizer needs its function's invocation URI",
            ));
        }
        let mut authorizer = Authorizer {
            id: crate::model::new_resource_id(),
            name: name.to_string(),
            authorizer_type: authorizer_type.into(),
            provider_arns: fields.strings("providerARNs")?,
            auth_type: auth_type.map(str::to_string),
            authorizer_uri: fields.string("authorizerUri")?.map(str::to_string),
            authorizer_credentials: fields.string("authorizerCredentials")?.map(str::to_string),
            identity_source,
            identity_validation_expression: fields
                .string("identityValidationExpression")?
                .map(str::to_string),
            authorizer_result_ttl_in_seconds: fields
                .integer("authorizerResultTtlInSeconds", 0, 3600)?
                .map(|v| v as u32),
        };
        if let Some(existing) = self.api.authorizers.iter_mut().find(|a| a.name == name) {
            authorizer.id = existing.id.clone();
            *existing = authorizer.clone();
        } else {
            self.api.authorizers.push(authorizer.clone());
        }
        Ok(Security::Authorizer {
            id: authorizer.id,
            cognito,
        })
    }

    // ---- API-level extensions ---------------------------------------------

    fn root_extensions(&mut self, root: &Fields<'a>) -> Result<(), OpenApiError> {
        for (key, value) in root.map {
            if !key.starts_with("x-") {
                continue;
            }
            let at = child("", key);
            match key.as_str() {
                "x-amazon-apigateway-request-validators" => self.request_validators(value, &at)?,
                "x-amazon-apigateway-request-validator" => {
                    let name = value
                        .as_str()
                        .ok_or_else(|| expected(&at, "a validator name", value))?;
                    self.default_validator = Some(name.to_string());
                }
                "x-amazon-apigateway-gateway-responses" => self.gateway_responses(value, &at)?,
                "x-amazon-apigateway-binary-media-types" => {
                    self.api.binary_media_types = root.strings(key)?;
                }
                "x-amazon-apigateway-api-key-source" => {
                    let source = value
                        .as_str()
                        .ok_or_else(|| expected(&at, "HEADER or AUTHORIZER", value))?;
                    self.api.api_key_source = match source.to_ascii_uppercase().as_str() {
                        "HEADER" => ApiKeySource::Header,
                        "AUTHORIZER" => ApiKeySource::Authorizer,
                        _ => {
                            return Err(OpenApiError::invalid(
                                &at,
                                format!("expected HEADER or AUTHORIZER, found {source:?}"),
                            ));
                        }
                    };
                }
                "x-amazon-apigateway-policy" => {
                    self.api.policy = Some(match value {
                        Value::String(text) => text.clone(),
                        Value::Object(_) => value.to_string(),
                        other => {
                            return Err(expected(&at, "an IAM policy document (an object)", other));
                        }
                    });
                }
                "x-amazon-apigateway-minimum-compression-size" => {
                    self.api.minimum_compression_size =
                        root.integer(key, 0, 10_485_760)?.map(|v| v as u32);
                }
                "x-amazon-apigateway-documentation" => {
                    object(value, &at)?;
                    self.api.documentation = Some(value.clone());
                }
                "x-amazon-apigateway-importexport-version" => {
                    if value.as_str() != Some("1.0") {
                        self.warn(&at, format!("unknown version {value}; read as 1.0"));
                    }
                }
                "x-amazon-apigateway-endpoint-configuration" => {
                    self.endpoint_configuration(value, &at)?
                }
                "x-amazon-apigateway-cors" | "x-amazon-apigateway-tag-value" => {
                    self.warn(&at, "applies to HTTP APIs only; ignored for a REST API");
                }
                _ => {
                    self.api.extensions.insert(key.clone(), value.clone());
                }
            }
        }
        if let Some(Value::Array(servers)) = root.get("servers") {
            for (i, server) in servers.iter().enumerate() {
                if let Some(config) = server.get("x-amazon-apigateway-endpoint-configuration") {
                    let at = format!("/servers/{i}/x-amazon-apigateway-endpoint-configuration");
                    self.endpoint_configuration(config, &at)?;
                }
            }
        }
        if let Some(name) = self.default_validator.clone()
            && !self.validators.contains_key(&name)
        {
            return Err(OpenApiError::invalid(
                "/x-amazon-apigateway-request-validator",
                format!("no validator named {name:?} in x-amazon-apigateway-request-validators"),
            ));
        }
        Ok(())
    }

    fn request_validators(&mut self, value: &Value, at: &str) -> Result<(), OpenApiError> {
        for (name, validator) in object(value, at)? {
            let vat = child(at, name);
            let fields = Fields::new(validator, &vat)?;
            let body = fields.boolean("validateRequestBody")?.unwrap_or(false);
            let params = fields
                .boolean("validateRequestParameters")?
                .unwrap_or(false);
            match self
                .api
                .request_validators
                .iter_mut()
                .find(|v| &v.name == name)
            {
                Some(existing) => {
                    existing.validate_request_body = body;
                    existing.validate_request_parameters = params;
                }
                None => {
                    let validator = RequestValidator::new(name, body, params);
                    self.validators.insert(name.clone(), validator.id.clone());
                    self.api.request_validators.push(validator);
                }
            }
        }
        Ok(())
    }

    fn gateway_responses(&mut self, value: &Value, at: &str) -> Result<(), OpenApiError> {
        for (name, response) in object(value, at)? {
            let rat = child(at, name);
            let response_type: GatewayResponseType = serde_json::from_value(Value::String(name.clone()))
                .map_err(|_| OpenApiError::invalid(&rat, format!("unknown gateway response type {name:?} (expected e.g. DEFAULT_4XX, MISSING_AUTHENTICATION_TOKEN)")))?;
            let fields = Fields::new(response, &rat)?;
            let status_code = fields.string_or_number("statusCode")?;
            if let Some(code) = &status_code
                && !valid_status(code)
            {
                return Err(OpenApiError::invalid(
                    &fields.at("statusCode"),
                    "expected an HTTP status code from 100 to 599",
                ));
            }
            self.api.gateway_responses.insert(
                name.clone(),
                GatewayResponse {
                    response_type,
                    status_code,
                    response_parameters: fields.string_map("responseParameters")?,
                    response_templates: fields.string_map("responseTemplates")?,
                },
            );
        }
        Ok(())
    }

    fn endpoint_configuration(&mut self, value: &Value, at: &str) -> Result<(), OpenApiError> {
        let fields = Fields::new(value, at)?;
        let types = fields.strings("types")?;
        let vpc_endpoint_ids = fields.strings("vpcEndpointIds")?;
        if let Some(disable) = fields.boolean("disableExecuteApiEndpoint")? {
            self.api.disable_execute_api_endpoint = Some(disable);
        }
        let config = self
            .api
            .endpoint_configuration
            .get_or_insert_with(EndpointConfiguration::default);
        if !types.is_empty() {
            config.types = types;
        }
        config.vpc_endpoint_ids = vpc_endpoint_ids;
        Ok(())
    }

    // ---- paths and operations ---------------------------------------------

    fn path_item(&mut self, path: &str, item: &Value) -> Result<(), OpenApiError> {
        let at = child("/paths", path);
        if !path.starts_with('/') {
            return Err(OpenApiError::invalid(
                &at,
                "expected a path starting with /",
            ));
        }
        let (item, item_at) = resolve(self.document, item, &at)?;
        let fields = Fields::new(item, &item_at)?;
        let resource_id = self.ensure_resource(path, &at)?;
        let shared = match fields.get("parameters") {
            Some(params) => self.parameter_list(params, &fields.at("parameters"))?,
            None => Vec::new(),
        };
        for (key, op) in fields.map {
            let verb = if key == ANY_METHOD {
                "ANY"
            } else if let Some((_, verb)) = OPERATIONS.iter().find(|(k, _)| k == key) {
                verb
            } else {
                match key.as_str() {
                    "trace" => self.warn(
                        &child(&item_at, key),
                        "TRACE is not supported by API Gateway; ignored",
                    ),
                    "parameters" | "summary" | "description" | "servers" | "$ref" => {}
                    k if k.starts_with("x-") => {
                        self.warn(
                            &child(&item_at, key),
                            "extension on a path item is not supported; ignored",
                        );
                    }
                    _ => {}
                }
                continue;
            };
            let op_at = child(&item_at, key);
            let method = self.operation(verb, op, &op_at, &shared, path)?;
            if let Some(resource) = self.api.resource_mut(&resource_id) {
                resource.resource_methods.insert(verb.to_string(), method);
            }
        }
        Ok(())
    }

    /// The resource for `path`, creating it and its ancestors as needed.
    fn ensure_resource(&mut self, path: &str, at: &str) -> Result<String, OpenApiError> {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        if let Some(id) = self.paths.get(trimmed) {
            return Ok(id.clone());
        }
        let mut parent = self
            .paths
            .get("/")
            .cloned()
            .ok_or_else(|| OpenApiError::invalid(at, "the API has no root resource"))?;
        let mut current = String::new();
        for part in trimmed.split('/').skip(1) {
            current.push('/');
            current.push_str(part);
            if let Some(id) = self.paths.get(&current) {
                parent = id.clone();
                continue;
            }
            let id = self
                .api
                .create_resource(&parent, part)
                .map_err(|e| OpenApiError::invalid(at, e.to_string()))?;
            self.paths.insert(current.clone(), id.clone());
            parent = id;
        }
        Ok(parent)
    }

    fn parameter_list(
        &mut self,
        value: &Value,
        at: &str,
    ) -> Result<Vec<(Value, String)>, OpenApiError> {
        let Value::Array(items) = value else {
            return Err(expected(at, "an array of parameters", value));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let (target, target_at) = resolve(self.document, item, &child(at, &i.to_string()))?;
                Ok((target.clone(), target_at))
            })
            .collect()
    }

    fn operation(
        &mut self,
        verb: &str,
        op: &Value,
        at: &str,
        shared: &[(Value, String)],
        path: &str,
    ) -> Result<Method, OpenApiError> {
        let fields = Fields::new(op, at)?;
        let mut method = Method::new(verb);
        method.operation_name = fields.string("operationId")?.map(str::to_string);
        let base_name = method.operation_name.clone().unwrap_or_else(|| {
            format!(
                "{}{}",
                capitalize(&verb.to_ascii_lowercase()),
                path_words(path)
            )
        });

        let own = match fields.get("parameters") {
            Some(params) => self.parameter_list(params, &fields.at("parameters"))?,
            None => Vec::new(),
        };
        let consumes = match fields.strings("consumes")? {
            list if !list.is_empty() => list,
            _ => self.consumes.clone(),
        };
        for (param, param_at) in shared.iter().chain(own.iter()) {
            self.parameter(&mut method, param, param_at, &consumes, &base_name)?;
        }
        if let Some(body) = fields.get("requestBody") {
            let (body, body_at) = resolve(self.document, body, &fields.at("requestBody"))?;
            let body_fields = Fields::new(body, &body_at)?;
            if let Some(content) = body_fields.get("content") {
                let content_at = body_fields.at("content");
                for (content_type, media) in object(content, &content_at)? {
                    let media_at = child(&content_at, content_type);
                    if let Some(schema) = Fields::new(media, &media_at)?.get("schema") {
                        let name = self.model_for(
                            schema,
                            &child(&media_at, "schema"),
                            &format!("{base_name}Request"),
                        )?;
                        method.request_models.insert(content_type.clone(), name);
                    }
                }
            }
        }
        if let Some(responses) = fields.get("responses") {
            let produces = match fields.strings("produces")? {
                list if !list.is_empty() => list,
                _ => self.produces.clone(),
            };
            self.responses(
                &mut method,
                responses,
                &fields.at("responses"),
                &produces,
                &base_name,
            )?;
        }
        self.operation_security(&mut method, &fields)?;
        for (key, value) in fields.map {
            if !key.starts_with("x-") {
                continue;
            }
            let key_at = child(at, key);
            match key.as_str() {
                INTEGRATION => method.method_integration = Some(self.integration(value, &key_at)?),
                "x-amazon-apigateway-request-validator" => {
                    let name = value
                        .as_str()
                        .ok_or_else(|| expected(&key_at, "a validator name", value))?;
                    method.request_validator_id = Some(self.validator_id(name, &key_at)?);
                }
                "x-amazon-apigateway-auth" => {
                    let auth = Fields::new(value, &key_at)?;
                    match auth.string("type")?.map(str::to_ascii_uppercase).as_deref() {
                        Some("AWS_IAM") => method.authorization_type = "AWS_IAM".into(),
                        Some("NONE") | None => {}
                        Some(other) => {
                            return Err(OpenApiError::invalid(
                                &auth.at("type"),
                                format!("expected AWS_IAM or NONE, found {other:?}"),
                            ));
                        }
                    }
                }
                _ => {
                    method.extensions.insert(key.clone(), value.clone());
                }
            }
        }
        if method.request_validator_id.is_none()
            && let Some(name) = self.default_validator.clone()
        {
            method.request_validator_id = self.validators.get(&name).cloned();
        }
        Ok(method)
    }

    fn validator_id(&self, name: &str, at: &str) -> Result<String, OpenApiError> {
        self.validators.get(name).cloned().ok_or_else(|| {
            OpenApiError::invalid(
                at,
                format!("no validator named {name:?} in x-amazon-apigateway-request-validators"),
            )
        })
    }

    fn parameter(
        &mut self,
        method: &mut Method,
        param: &Value,
        at: &str,
        consumes: &[String],
        base_name: &str,
    ) -> Result<(), OpenApiError> {
        let fields = Fields::new(param, at)?;
        let name = fields.string("name")?.ok_or_else(|| {
            OpenApiError::invalid(&fields.at("name"), "expected the parameter's name")
        })?;
        let location = fields.string("in")?.ok_or_else(|| {
            OpenApiError::invalid(&fields.at("in"), "expected path, query, header or cookie")
        })?;
        let required = fields.boolean("required")?.unwrap_or(false);
        let key = match location {
            "path" => format!("method.request.path.{name}"),
            "query" => format!("method.request.querystring.{name}"),
            "header" => format!("method.request.header.{name}"),
            "body" => {
                let schema = fields.get("schema").ok_or_else(|| {
                    OpenApiError::invalid(
                        &fields.at("schema"),
                        "expected the body parameter's schema",
                    )
                })?;
                let model =
                    self.model_for(schema, &fields.at("schema"), &format!("{base_name}Request"))?;
                let types: Vec<String> = if consumes.is_empty() {
                    vec![JSON_CONTENT_TYPE.to_string()]
                } else {
                    consumes.to_vec()
                };
                for content_type in types {
                    method.request_models.insert(content_type, model.clone());
                }
                return Ok(());
            }
            "cookie" | "formData" => {
                self.warn(
                    at,
                    format!("{location} parameters are not supported by API Gateway; ignored"),
                );
                return Ok(());
            }
            other => {
                return Err(OpenApiError::invalid(
                    &fields.at("in"),
                    format!("expected path, query, header or cookie, found {other:?}"),
                ));
            }
        };
        method
            .request_parameters
            .insert(key, location == "path" || required);
        Ok(())
    }

    fn responses(
        &mut self,
        method: &mut Method,
        value: &Value,
        at: &str,
        produces: &[String],
        base_name: &str,
    ) -> Result<(), OpenApiError> {
        for (code, response) in object(value, at)? {
            let rat = child(at, code);
            if code.starts_with("x-") {
                continue;
            }
            let (response, response_at) = resolve(self.document, response, &rat)?;
            let fields = Fields::new(response, &response_at)?;
            if !valid_status(code) {
                let empty = fields.get("content").is_none()
                    && fields.get("schema").is_none()
                    && fields.get("headers").is_none();
                if !(code == "default" && empty) {
                    self.warn(
                        &rat,
                        "API Gateway method responses need a status code from 100 to 599; ignored",
                    );
                }
                continue;
            }
            let mut method_response = MethodResponse {
                status_code: code.clone(),
                response_parameters: BTreeMap::new(),
                response_models: BTreeMap::new(),
            };
            if let Some(headers) = fields.get("headers") {
                let headers_at = fields.at("headers");
                for (name, header) in object(headers, &headers_at)? {
                    let (header, header_at) =
                        resolve(self.document, header, &child(&headers_at, name))?;
                    let required = Fields::new(header, &header_at)?
                        .boolean("required")?
                        .unwrap_or(false);
                    method_response
                        .response_parameters
                        .insert(format!("method.response.header.{name}"), required);
                }
            }
            let suggested = format!("{base_name}Response{code}");
            if let Some(content) = fields.get("content") {
                let content_at = fields.at("content");
                for (content_type, media) in object(content, &content_at)? {
                    let media_at = child(&content_at, content_type);
                    if let Some(schema) = Fields::new(media, &media_at)?.get("schema") {
                        let name =
                            self.model_for(schema, &child(&media_at, "schema"), &suggested)?;
                        method_response
                            .response_models
                            .insert(content_type.clone(), name);
                    }
                }
            }
            if let Some(schema) = fields.get("schema") {
                let name = self.model_for(schema, &fields.at("schema"), &suggested)?;
                let types: Vec<String> = if produces.is_empty() {
                    vec![JSON_CONTENT_TYPE.to_string()]
                } else {
                    produces.to_vec()
                };
                for content_type in types {
                    method_response
                        .response_models
                        .insert(content_type, name.clone());
                }
            }
            method
                .method_responses
                .insert(code.clone(), method_response);
        }
        Ok(())
    }

    fn operation_security(
        &mut self,
        method: &mut Method,
        fields: &Fields<'_>,
    ) -> Result<(), OpenApiError> {
        let (requirements, at) = match fields.get("security") {
            Some(value) => (value, fields.at("security")),
            None => match self.document.get("security") {
                Some(value) => (value, "/security".to_string()),
                None => return Ok(()),
            },
        };
        let Value::Array(requirements) = requirements else {
            return Err(expected(
                &at,
                "an array of security requirements",
                requirements,
            ));
        };
        for (i, requirement) in requirements.iter().enumerate() {
            let req_at = child(&at, &i.to_string());
            for (name, scopes) in object(requirement, &req_at)? {
                let name_at = child(&req_at, name);
                // AWS's own examples name `api_key` without defining it.
                let kind = match self.security.get(name).cloned() {
                    Some(kind) => kind,
                    None if name == "api_key" => Security::ApiKey,
                    None => {
                        self.warn(
                            &name_at,
                            format!("no security scheme named {name:?}; ignored"),
                        );
                        Security::Unsupported
                    }
                };
                match kind {
                    Security::ApiKey => method.api_key_required = true,
                    Security::Iam => method.authorization_type = "AWS_IAM".into(),
                    Security::Authorizer { id, cognito } => {
                        method.authorization_type = if cognito {
                            "COGNITO_USER_POOLS"
                        } else {
                            "CUSTOM"
                        }
                        .into();
                        method.authorizer_id = Some(id);
                        if let Value::Array(scopes) = scopes {
                            method.authorization_scopes = scopes
                                .iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect();
                        }
                    }
                    Security::Unsupported => {}
                }
            }
        }
        Ok(())
    }

    fn integration(&mut self, value: &Value, at: &str) -> Result<Integration, OpenApiError> {
        // An integration may be a reference (`#/components/x-amazon-apigateway-integrations/x`).
        let (value, at) = resolve(self.document, value, at)?;
        let at = at.as_str();
        let fields = Fields::new(value, at)?;
        let kind = fields.string("type")?.ok_or_else(|| {
            OpenApiError::invalid(
                &fields.at("type"),
                "expected one of: aws, aws_proxy, http, http_proxy, mock",
            )
        })?;
        let integration_type = match kind.to_ascii_uppercase().as_str() {
            "MOCK" => IntegrationType::Mock,
            "HTTP" => IntegrationType::Http,
            "HTTP_PROXY" => IntegrationType::HttpProxy,
            "AWS" => IntegrationType::Aws,
            "AWS_PROXY" => IntegrationType::AwsProxy,
            _ => {
                return Err(OpenApiError::invalid(
                    &fields.at("type"),
                    format!(
                        "expected one of: aws, aws_proxy, http, http_proxy, mock; found {kind:?}"
                    ),
                ));
            }
        };
        let mut integration = Integration::new(integration_type);
        integration.http_method = fields.string("httpMethod")?.map(str::to_ascii_uppercase);
        integration.uri = fields.string("uri")?.map(str::to_string);
        if integration_type != IntegrationType::Mock && integration.uri.is_none() {
            return Err(OpenApiError::invalid(
                &fields.at("uri"),
                format!(
                    "expected a string: an integration of type {} needs a uri",
                    kind.to_ascii_lowercase()
                ),
            ));
        }
        if integration_type != IntegrationType::Mock && integration.http_method.is_none() {
            return Err(OpenApiError::invalid(
                &fields.at("httpMethod"),
                format!(
                    "expected the backend's HTTP method: an integration of type {} needs one",
                    kind.to_ascii_lowercase()
                ),
            ));
        }
        integration.connection_type = fields.string("connectionType")?.map(str::to_string);
        integration.connection_id = fields.string("connectionId")?.map(str::to_string);
        integration.credentials = fields.string("credentials")?.map(str::to_string);
        integration.request_parameters = fields.string_map("requestParameters")?;
        integration.request_templates = fields.string_map("requestTemplates")?;
        if let Some(behavior) = fields.string("passthroughBehavior")? {
            integration.passthrough_behavior = match behavior.to_ascii_uppercase().as_str() {
                "WHEN_NO_MATCH" => PassthroughBehavior::WhenNoMatch,
                "WHEN_NO_TEMPLATES" => PassthroughBehavior::WhenNoTemplates,
                "NEVER" => PassthroughBehavior::Never,
                _ => {
                    return Err(OpenApiError::invalid(
                        &fields.at("passthroughBehavior"),
                        format!(
                            "expected one of: when_no_match, when_no_templates, never; found {behavior:?}"
                        ),
                    ));
                }
            };
        }
        integration.content_handling = content_handling(&fields)?;
        if let Some(timeout) = fields.integer("timeoutInMillis", 50, 300_000)? {
            integration.timeout_in_millis = timeout as u32;
        }
        integration.cache_namespace = fields.string("cacheNamespace")?.map(str::to_string);
        integration.cache_key_parameters = fields.strings("cacheKeyParameters")?;
        if let Some(tls) = fields.get("tlsConfig") {
            let tls_at = fields.at("tlsConfig");
            let tls = Fields::new(tls, &tls_at)?;
            integration.tls_config = Some(TlsConfig {
                insecure_skip_verification: tls
                    .boolean("insecureSkipVerification")?
                    .unwrap_or(false),
            });
        }
        if let Some(responses) = fields.get("responses") {
            let responses_at = fields.at("responses");
            for (pattern, response) in object(responses, &responses_at)? {
                let rat = child(&responses_at, pattern);
                let response = Fields::new(response, &rat)?;
                let status_code = response.string_or_number("statusCode")?.ok_or_else(|| {
                    OpenApiError::invalid(
                        &response.at("statusCode"),
                        "expected the method response status code",
                    )
                })?;
                if !valid_status(&status_code) {
                    return Err(OpenApiError::invalid(
                        &response.at("statusCode"),
                        "expected an HTTP status code from 100 to 599",
                    ));
                }
                let selection_pattern = (pattern != "default").then(|| pattern.clone());
                let mapped = IntegrationResponse {
                    status_code: status_code.clone(),
                    selection_pattern,
                    response_parameters: response.string_map("responseParameters")?,
                    response_templates: response.string_map("responseTemplates")?,
                    content_handling: content_handling(&response)?,
                };
                if integration
                    .integration_responses
                    .insert(status_code.clone(), mapped)
                    .is_some()
                {
                    self.warn(
                        &rat,
                        format!("a second response with status {status_code} replaces the first"),
                    );
                }
            }
        }
        for key in fields.map.keys() {
            match key.as_str() {
                "type"
                | "httpMethod"
                | "uri"
                | "connectionType"
                | "connectionId"
                | "credentials"
                | "requestParameters"
                | "requestTemplates"
                | "passthroughBehavior"
                | "contentHandling"
                | "timeoutInMillis"
                | "cacheNamespace"
                | "cacheKeyParameters"
                | "responses"
                | "tlsConfig" => {}
                "payloadFormatVersion" | "integrationSubtype" => {
                    self.warn(
                        &fields.at(key),
                        "applies to HTTP APIs only; ignored for a REST API",
                    );
                }
                _ => self.warn(&fields.at(key), "unknown integration property; ignored"),
            }
        }
        Ok(integration)
    }
}

fn content_handling(fields: &Fields<'_>) -> Result<Option<ContentHandling>, OpenApiError> {
    match fields.string("contentHandling")? {
        None => Ok(None),
        Some(text) => match text.to_ascii_uppercase().as_str() {
            "CONVERT_TO_BINARY" => Ok(Some(ContentHandling::ConvertToBinary)),
            "CONVERT_TO_TEXT" => Ok(Some(ContentHandling::ConvertToText)),
            _ => Err(OpenApiError::invalid(
                &fields.at("contentHandling"),
                format!("expected CONVERT_TO_BINARY or CONVERT_TO_TEXT, found {text:?}"),
            )),
        },
    }
}

fn valid_status(code: &str) -> bool {
    code.len() == 3 && code.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c))
}

fn unique(name: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == name) {
        return name.to_string();
    }
    (2..)
        .map(|i| format!("{name}{i}"))
        .find(|candidate| !taken.iter().any(|t| t == candidate))
        .unwrap_or_else(|| name.to_string())
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `/pets/{id}` -> `PetsId`, for naming models made from inline schemas.
fn path_words(path: &str) -> String {
    path.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(capitalize)
        .collect()
}
