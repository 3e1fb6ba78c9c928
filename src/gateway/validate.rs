//! Request validation: a method's request validator checks the required
//! request parameters and the body against the model for its content type
//! (JSON Schema draft 4, compiled once per deployment).

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::{Draft, Validator};
use serde_json::Value;

use crate::model::{GatewayResponseType, Method, Model, RestApi};
use crate::observe::ExecutionLog;

use super::context::RequestContext;
use super::request::MethodRequest;
use super::responses::GatewayError;

/// What one method's validator checks.
#[derive(Debug)]
pub struct CompiledValidation {
    pub validator_name: String,
    /// Required parameters, when the validator checks parameters.
    pub required: Option<Vec<Required>>,
    /// Content type -> model, when the validator checks the body.
    pub body: Option<Vec<(String, Arc<CompiledModel>)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    Path(String),
    Query(String),
    Header(String),
}

impl Required {
    fn name(&self) -> &str {
        match self {
            Required::Path(n) | Required::Query(n) | Required::Header(n) => n,
        }
    }
}

#[derive(Debug)]
pub struct CompiledModel {
    pub name: String,
    pub validator: Validator,
}

/// Compiles the API's models on demand, each at most once.
pub struct ModelCompiler<'a> {
    api: &'a RestApi,
    registry: Option<jsonschema::Registry<'static>>,
    compiled: HashMap<String, Arc<CompiledModel>>,
}

/// `$ref`s to any API's model URL point at this API's model of that name.
fn canonical_refs(value: &mut Value, api_id: &str) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "$ref"
                    && let Some(name) = value.as_str().and_then(Model::name_from_url)
                {
                    *value = Value::String(Model::url(api_id, name));
                } else {
                    canonical_refs(value, api_id);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| canonical_refs(v, api_id)),
        _ => {}
    }
}

fn model_schema(api: &RestApi, model: &Model) -> Result<Value, String> {
    let mut schema: Value = serde_json::from_str(model.schema.as_deref().unwrap_or("{}"))
        .map_err(|e| format!("model {}: the schema is not JSON: {e}", model.name))?;
    canonical_refs(&mut schema, &api.id);
    Ok(schema)
}

impl<'a> ModelCompiler<'a> {
    pub fn new(api: &'a RestApi) -> ModelCompiler<'a> {
        ModelCompiler {
            api,
            registry: None,
            compiled: HashMap::new(),
        }
    }

    fn registry(&mut self) -> Result<&jsonschema::Registry<'static>, String> {
        if self.registry.is_none() {
            let mut resources = Vec::with_capacity(self.api.models.len());
            for model in &self.api.models {
                let schema = model_schema(self.api, model)?;
                resources.push((
                    Model::url(&self.api.id, &model.name),
                    jsonschema::Resource::from_contents(schema),
                ));
            }
            let registry = jsonschema::Registry::new()
                .draft(Draft::Draft4)
                .extend(resources)
                .and_then(|builder| builder.prepare())
                .map_err(|e| format!("models: {e}"))?;
            self.registry = Some(registry);
        }
        Ok(self.registry.as_ref().expect("set above"))
    }

    pub fn model(&mut self, name: &str) -> Result<Arc<CompiledModel>, String> {
        if let Some(model) = self.compiled.get(name) {
            return Ok(Arc::clone(model));
        }
        let api = self.api;
        let model = api
            .models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| format!("no model named {name:?}"))?;
        let schema = model_schema(api, model)?;
        let registry = self.registry()?;
        let validator = jsonschema::options()
            .with_draft(Draft::Draft4)
            .with_registry(registry)
            .with_base_uri(Model::url(&api.id, name))
            .build(&schema)
            .map_err(|e| format!("model {name}: invalid schema: {e}"))?;
        let compiled = Arc::new(CompiledModel {
            name: name.to_string(),
            validator,
        });
        self.compiled
            .insert(name.to_string(), Arc::clone(&compiled));
        Ok(compiled)
    }

    /// The method's validation, if it names a validator that checks anything.
    pub fn validation(&mut self, method: &Method) -> Result<Option<CompiledValidation>, String> {
        let Some(id) = &method.request_validator_id else {
            return Ok(None);
        };
        let Some(validator) = self.api.request_validators.iter().find(|v| &v.id == id) else {
            return Err(format!("no request validator with id {id:?}"));
        };
        if !validator.validate_request_body && !validator.validate_request_parameters {
            return Ok(None);
        }
        let required = validator.validate_request_parameters.then(|| {
            method
                .request_parameters
                .iter()
                .filter(|(_, required)| **required)
                .filter_map(|(key, _)| {
                    let rest = key.strip_prefix("method.request.")?;
                    let (location, name) = rest.split_once('.')?;
                    Some(match location {
                        "path" => Required::Path(name.to_string()),
                        "querystring" => Required::Query(name.to_string()),
                        "header" => Required::Header(name.to_string()),
                        _ => return None,
                    })
                })
                .collect()
        });
        let body = if validator.validate_request_body {
            let mut models = Vec::with_capacity(method.request_models.len());
            for (content_type, name) in &method.request_models {
                models.push((content_type.to_ascii_lowercase(), self.model(name)?));
            }
            Some(models)
        } else {
            None
        };
        Ok(Some(CompiledValidation {
            validator_name: validator.name.clone(),
            required,
            body,
        }))
    }
}

/// Phase: validate the request. Parameters first, then the body, as AWS.
pub fn validate(
    validation: &CompiledValidation,
    request: &MethodRequest,
    path_parameters: &[(String, String)],
    context: &mut RequestContext,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    if let Some(required) = &validation.required {
        let missing: Vec<&str> = required
            .iter()
            .filter(|r| match r {
                Required::Path(name) => !path_parameters
                    .iter()
                    .any(|(k, v)| k == name && !v.is_empty()),
                // Present means "included and not blank" (AWS): `?q=` and
                // an empty header are missing.
                Required::Query(name) => !request
                    .query
                    .iter()
                    .any(|(k, v)| k == name && !v.is_empty()),
                Required::Header(name) => !request
                    .headers
                    .get_all(name.as_str())
                    .iter()
                    .any(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace)),
            })
            .map(Required::name)
            .collect();
        if !missing.is_empty() {
            let message = format!(
                "Missing required request parameters: [{}]",
                missing.join(", ")
            );
            log.push_fmt(format_args!("Request validation failed: {message}"));
            context.validation_error_string = Some(message.clone());
            return Err(GatewayError::with_message(
                GatewayResponseType::BadRequestParameters,
                message,
            ));
        }
    }
    if let Some(models) = &validation.body
        && !models.is_empty()
    {
        let content_type = request
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| crate::model::JSON_CONTENT_TYPE.to_string());
        let model = models
            .iter()
            .find(|(ct, _)| *ct == content_type)
            .or_else(|| models.iter().find(|(ct, _)| ct == "$default"));
        if let Some((_, model)) = model {
            let violations = body_violations(&model.validator, &request.body);
            if !violations.is_empty() {
                let detail = format!("[{}]", violations.join(", "));
                log.push_fmt(format_args!(
                    "Request body does not match model schema for content type {content_type}: {detail}"
                ));
                context.validation_error_string = Some(detail);
                return Err(GatewayError::new(GatewayResponseType::BadRequestBody));
            }
        }
    }
    log.push_fmt(format_args!(
        "Request validation succeeded for validator {}",
        validation.validator_name
    ));
    Ok(())
}

/// Each violation of the body against the model, in words; empty if it
/// conforms. Missing required properties are grouped per object as AWS's
/// validator words them (`object has missing required properties
/// (["a","b"])`); an empty body is `Unknown error parsing request body`
/// and a body that is not JSON one violation, as AWS's log shows them.
pub fn body_violations(validator: &Validator, body: &[u8]) -> Vec<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return vec!["Unknown error parsing request body".into()];
    }
    let instance: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return vec![format!("Invalid JSON in request body: {e}")],
    };
    if validator.is_valid(&instance) {
        return Vec::new();
    }
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    let mut others = Vec::new();
    for error in validator.iter_errors(&instance) {
        let path = error.instance_path().as_str().to_string();
        if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind() {
            let name = property.to_string();
            match missing.iter_mut().find(|(p, _)| *p == path) {
                Some((_, names)) => names.push(name),
                None => missing.push((path, vec![name])),
            }
            continue;
        }
        others.push(at_path(error.to_string(), &path));
    }
    let mut out: Vec<String> = missing
        .into_iter()
        .map(|(path, names)| {
            at_path(
                format!(
                    "object has missing required properties ([{}])",
                    names.join(",")
                ),
                &path,
            )
        })
        .collect();
    out.extend(others);
    out
}

fn at_path(message: String, path: &str) -> String {
    if path.is_empty() {
        message
    } else {
        format!("{message} (at {path})")
    }
}
