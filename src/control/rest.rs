//! The `apigateway` (REST API) management operations: AWS's paths, JSON
//! shapes and error types, over the project model.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::model::{
    ApiKey, ApiStage, Authorizer, GatewayResponse, Integration, IntegrationResponse, Method,
    MethodResponse, Model, Project, QuotaSettings, RequestValidator, Resource, RestApi, Stage,
    ThrottleSettings, UsagePlan,
};

use super::error::{ControlError, bad_request, conflict, not_found};
use super::patch;

/// `PutIntegrationResponse` / `UpdateIntegrationResponse` refuse a
/// selection pattern that does not compile as a Java regular expression,
/// so that no deployment can carry one. The message is the one recorded
/// for this check by an API Gateway emulator (stackshy/cloudemu,
/// services/apigateway/validate.go), followed by the reason.
fn check_selection_pattern(response: &IntegrationResponse) -> Result<(), ControlError> {
    match response.selection_pattern.as_deref() {
        Some(pattern) => crate::model::validate_selection_pattern(pattern)
            .map_err(|e| bad_request(format!("Invalid selection pattern specified: {e}"))),
        None => Ok(()),
    }
}

/// What an operation answers.
#[derive(Debug)]
pub enum Answer {
    Json(u16, Value),
    /// A body of some content type (`get-export`).
    Text(u16, String, String),
    Empty(u16),
}

/// What a change touches, so the server recompiles only what it must.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// Stages or deployments changed: recompile the served routes.
    pub routes: bool,
    /// API keys or usage plans changed.
    pub keys: bool,
}

/// A parsed control-plane request.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: &'a http::Method,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: &'a [u8],
    pub accept: Option<&'a str>,
}

impl Call<'_> {
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Result<Map<String, Value>, ControlError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(bad_request("Invalid request body: expected a JSON object")),
            Err(e) => Err(bad_request(format!("Invalid request body: {e}"))),
        }
    }
}

/// An operation that reads the project.
pub type Reader = Box<dyn FnOnce(&Project) -> Result<Answer, ControlError> + Send>;
/// An operation that changes the project.
pub type Writer = Box<dyn FnOnce(&mut Project) -> Result<Answer, ControlError> + Send>;

/// A read or a write of the project.
pub enum Op {
    Read(Reader),
    Write(Effects, Writer),
    /// `test-invoke-method`: runs a request against an API's draft.
    TestInvoke {
        api_id: String,
        resource_id: String,
        verb: String,
        body: Map<String, Value>,
    },
}

fn read(f: impl FnOnce(&Project) -> Result<Answer, ControlError> + Send + 'static) -> Op {
    Op::Read(Box::new(f))
}

fn write(
    effects: Effects,
    f: impl FnOnce(&mut Project) -> Result<Answer, ControlError> + Send + 'static,
) -> Op {
    Op::Write(effects, Box::new(f))
}

const DRAFT: Effects = Effects {
    routes: false,
    keys: false,
};
const ROUTES: Effects = Effects {
    routes: true,
    keys: false,
};
const KEYS: Effects = Effects {
    routes: false,
    keys: true,
};

/// The operation a request names, or `None` if no operation has that
/// method and path.
pub fn route(call: &Call) -> Option<Result<Op, ControlError>> {
    use http::Method as M;
    let s: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let m = call.method.clone();
    let body = || call.json();
    let owned = |x: &str| x.to_string();
    Some(match (m, s.as_slice()) {
        // Rest APIs.
        (M::GET, ["restapis"]) => Ok(read(|p| {
            let items: Vec<Value> = p.rest_apis.iter().map(rest_api_json).collect();
            Ok(Answer::Json(200, json!({ "item": items })))
        })),
        (M::POST, ["restapis"]) if call.query("mode") == Some("import") => {
            let document = import_document(call);
            let fail = call.query("failonwarnings") == Some("true");
            document.map(|document| {
                write(DRAFT, move |p| {
                    let imported = crate::openapi::import(&document)
                        .and_then(|i| if fail { i.fail_on_warnings() } else { Ok(i) })
                        .map_err(|e| bad_request(e.to_string()))?;
                    let mut api = imported.api;
                    api.id = unique_api_id(p);
                    api.created_date = Some(now());
                    let answer = rest_api_json(&api);
                    p.rest_apis.push(api);
                    Ok(Answer::Json(201, with_warnings(answer, &imported.warnings)))
                })
            })
        }
        (M::POST, ["restapis"]) => body().map(|b| {
            write(DRAFT, move |p| {
                let name = text(&b, "name").ok_or_else(|| bad_request("name is required"))?;
                let mut api = RestApi::new(&name);
                api.id = unique_api_id(p);
                api.created_date = Some(now());
                api.description = text(&b, "description");
                api.version = text(&b, "version");
                if let Some(types) = b.get("binaryMediaTypes") {
                    api.binary_media_types = parse(types.clone())?;
                }
                if let Some(source) = b.get("apiKeySource") {
                    api.api_key_source = parse(source.clone())?;
                }
                if let Some(config) = b.get("endpointConfiguration") {
                    api.endpoint_configuration = Some(parse(config.clone())?);
                }
                api.minimum_compression_size = b
                    .get("minimumCompressionSize")
                    .and_then(Value::as_u64)
                    .map(|v| v as u32);
                api.disable_execute_api_endpoint =
                    b.get("disableExecuteApiEndpoint").and_then(Value::as_bool);
                api.policy = text(&b, "policy");
                let answer = rest_api_json(&api);
                p.rest_apis.push(api);
                Ok(Answer::Json(201, answer))
            })
        }),
        (M::GET, ["restapis", id]) => {
            let id = owned(id);
            Ok(read(move |p| {
                Ok(Answer::Json(200, rest_api_json(api(p, &id)?)))
            }))
        }
        (M::PUT, ["restapis", id]) => {
            let id = owned(id);
            let mode = match call.query("mode") {
                Some("overwrite") => crate::openapi::ImportMode::Overwrite,
                _ => crate::openapi::ImportMode::Merge,
            };
            let fail = call.query("failonwarnings") == Some("true");
            import_document(call).map(|document| {
                write(DRAFT, move |p| {
                    let existing = api(p, &id)?;
                    let imported = crate::openapi::import_into(existing, &document, mode)
                        .and_then(|i| if fail { i.fail_on_warnings() } else { Ok(i) })
                        .map_err(|e| bad_request(e.to_string()))?;
                    let answer = rest_api_json(&imported.api);
                    *api_mut(p, &id)? = imported.api;
                    Ok(Answer::Json(200, with_warnings(answer, &imported.warnings)))
                })
            })
        }
        (M::PATCH, ["restapis", id]) => {
            let id = owned(id);
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let api = api_mut(p, &id)?;
                    patch::rest_api(api, &ops)?;
                    Ok(Answer::Json(200, rest_api_json(api)))
                })
            })
        }
        (M::DELETE, ["restapis", id]) => {
            let id = owned(id);
            Ok(write(ROUTES, move |p| {
                api(p, &id)?;
                p.rest_apis.retain(|a| a.id != id);
                for plan in &mut p.usage_plans {
                    plan.api_stages.retain(|s| s.api_id != id);
                }
                Ok(Answer::Empty(202))
            }))
        }

        // Resources.
        (M::GET, ["restapis", id, "resources"]) => {
            let id = owned(id);
            let embed = call.query("embed") == Some("methods");
            Ok(read(move |p| {
                let items: Vec<Value> = api(p, &id)?
                    .resources
                    .iter()
                    .map(|r| resource_json(r, embed))
                    .collect();
                Ok(Answer::Json(200, json!({ "item": items })))
            }))
        }
        (M::GET, ["restapis", id, "resources", rid]) => {
            let (id, rid) = (owned(id), owned(rid));
            let embed = call.query("embed") == Some("methods");
            Ok(read(move |p| {
                Ok(Answer::Json(
                    200,
                    resource_json(resource(api(p, &id)?, &rid)?, embed),
                ))
            }))
        }
        (M::POST, ["restapis", id, "resources", parent]) => {
            let (id, parent) = (owned(id), owned(parent));
            body().map(|b| {
                write(DRAFT, move |p| {
                    let api = api_mut(p, &id)?;
                    resource(api, &parent)?;
                    let part =
                        text(&b, "pathPart").ok_or_else(|| bad_request("pathPart is required"))?;
                    let new = api.create_resource(&parent, &part).map_err(|e| match e {
                        crate::model::ResourceError::Exists(_) => conflict(e.to_string()),
                        other => bad_request(other.to_string()),
                    })?;
                    Ok(Answer::Json(
                        201,
                        resource_json(resource(api, &new)?, false),
                    ))
                })
            })
        }
        (M::PATCH, ["restapis", id, "resources", rid]) => {
            let (id, rid) = (owned(id), owned(rid));
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let api = api_mut(p, &id)?;
                    resource(api, &rid)?;
                    for op in &ops {
                        match (op.op.as_str(), op.path.as_str()) {
                            ("replace", "/pathPart") => {
                                let part = op.value.as_deref().unwrap_or_default();
                                api.rename_resource(&rid, part)
                                    .map_err(|e| bad_request(e.to_string()))?;
                            }
                            _ => return Err(patch::unsupported(op)),
                        }
                    }
                    Ok(Answer::Json(
                        200,
                        resource_json(resource(api, &rid)?, false),
                    ))
                })
            })
        }
        (M::DELETE, ["restapis", id, "resources", rid]) => {
            let (id, rid) = (owned(id), owned(rid));
            Ok(write(DRAFT, move |p| {
                let api = api_mut(p, &id)?;
                resource(api, &rid)?;
                api.delete_resource(&rid)
                    .map_err(|e| bad_request(e.to_string()))?;
                Ok(Answer::Empty(202))
            }))
        }

        // Methods.
        (M::PUT, ["restapis", id, "resources", rid, "methods", verb]) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            body().map(|mut b| {
                write(DRAFT, move |p| {
                    check_verb(&verb)?;
                    b.insert("httpMethod".into(), json!(verb));
                    b.entry("authorizationType").or_insert(json!("NONE"));
                    let method: Method = parse(Value::Object(b))?;
                    let api = api_mut(p, &id)?;
                    if let Some(authorizer) = &method.authorizer_id
                        && !api.authorizers.iter().any(|a| a.id == *authorizer)
                    {
                        return Err(bad_request(format!(
                            "Invalid authorizer ID specified: {authorizer}"
                        )));
                    }
                    let answer = to_json(&method);
                    resource_mut(api, &rid)?
                        .resource_methods
                        .insert(verb.clone(), method);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        (M::GET, ["restapis", id, "resources", rid, "methods", verb]) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            Ok(read(move |p| {
                Ok(Answer::Json(
                    200,
                    to_json(method(api(p, &id)?, &rid, &verb)?),
                ))
            }))
        }
        (M::DELETE, ["restapis", id, "resources", rid, "methods", verb]) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            Ok(write(DRAFT, move |p| {
                let api = api_mut(p, &id)?;
                resource_mut(api, &rid)?
                    .resource_methods
                    .remove(&verb)
                    .ok_or_else(|| not_found("Invalid Method identifier specified"))?;
                Ok(Answer::Empty(204))
            }))
        }
        (M::POST, ["restapis", id, "resources", rid, "methods", verb]) => {
            body().map(|b| Op::TestInvoke {
                api_id: owned(id),
                resource_id: owned(rid),
                verb: verb.to_ascii_uppercase(),
                body: b,
            })
        }
        (
            M::PUT,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            body().map(|mut b| {
                write(DRAFT, move |p| {
                    b.insert("statusCode".into(), json!(code));
                    let response: MethodResponse = parse(Value::Object(b))?;
                    let answer = to_json(&response);
                    method_mut(api_mut(p, &id)?, &rid, &verb)?
                        .method_responses
                        .insert(code.clone(), response);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        (
            M::GET,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            Ok(read(move |p| {
                let method = method(api(p, &id)?, &rid, &verb)?;
                let response = method
                    .method_responses
                    .get(&code)
                    .ok_or_else(|| not_found("Invalid Response status code specified"))?;
                Ok(Answer::Json(200, to_json(response)))
            }))
        }
        (
            M::DELETE,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            Ok(write(DRAFT, move |p| {
                method_mut(api_mut(p, &id)?, &rid, &verb)?
                    .method_responses
                    .remove(&code)
                    .ok_or_else(|| not_found("Invalid Response status code specified"))?;
                Ok(Answer::Empty(204))
            }))
        }

        // Integrations.
        (
            M::PUT,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
            ],
        ) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            body().map(|b| {
                write(DRAFT, move |p| {
                    let integration: Integration = parse(Value::Object(b))?;
                    let answer = to_json(&integration);
                    method_mut(api_mut(p, &id)?, &rid, &verb)?.method_integration =
                        Some(integration);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        (
            M::GET,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
            ],
        ) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            Ok(read(move |p| {
                let integration = method(api(p, &id)?, &rid, &verb)?
                    .method_integration
                    .as_ref()
                    .ok_or_else(|| not_found("No integration defined for method"))?;
                Ok(Answer::Json(200, to_json(integration)))
            }))
        }
        (
            M::DELETE,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
            ],
        ) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            Ok(write(DRAFT, move |p| {
                method_mut(api_mut(p, &id)?, &rid, &verb)?
                    .method_integration
                    .take()
                    .ok_or_else(|| not_found("No integration defined for method"))?;
                Ok(Answer::Empty(204))
            }))
        }
        (
            M::PUT,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            body().map(|mut b| {
                write(DRAFT, move |p| {
                    b.insert("statusCode".into(), json!(code));
                    let response: IntegrationResponse = parse(Value::Object(b))?;
                    check_selection_pattern(&response)?;
                    let answer = to_json(&response);
                    integration_mut(api_mut(p, &id)?, &rid, &verb)?
                        .integration_responses
                        .insert(code.clone(), response);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        (
            M::GET,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            Ok(read(move |p| {
                let integration = method(api(p, &id)?, &rid, &verb)?
                    .method_integration
                    .as_ref()
                    .ok_or_else(|| not_found("No integration defined for method"))?;
                let response = integration
                    .integration_responses
                    .get(&code)
                    .ok_or_else(|| not_found("Invalid Response status code specified"))?;
                Ok(Answer::Json(200, to_json(response)))
            }))
        }
        (
            M::DELETE,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            Ok(write(DRAFT, move |p| {
                integration_mut(api_mut(p, &id)?, &rid, &verb)?
                    .integration_responses
                    .remove(&code)
                    .ok_or_else(|| not_found("Invalid Response status code specified"))?;
                Ok(Answer::Empty(204))
            }))
        }

        // Deployments.
        (M::POST, ["restapis", id, "deployments"]) => {
            let id = owned(id);
            body().map(|b| write(ROUTES, move |p| create_deployment(p, &id, &b)))
        }
        (M::GET, ["restapis", id, "deployments"]) => {
            let id = owned(id);
            Ok(read(move |p| {
                let items: Vec<Value> = api(p, &id)?.deployments.iter().map(to_json).collect();
                Ok(Answer::Json(200, json!({ "item": items })))
            }))
        }
        (M::GET, ["restapis", id, "deployments", did]) => {
            let (id, did) = (owned(id), owned(did));
            Ok(read(move |p| {
                let deployment = api(p, &id)?
                    .deployments
                    .iter()
                    .find(|d| d.id == did)
                    .ok_or_else(|| not_found("Invalid Deployment identifier specified"))?;
                Ok(Answer::Json(200, to_json(deployment)))
            }))
        }
        (M::DELETE, ["restapis", id, "deployments", did]) => {
            let (id, did) = (owned(id), owned(did));
            Ok(write(ROUTES, move |p| {
                let api = api_mut(p, &id)?;
                if !api.deployments.iter().any(|d| d.id == did) {
                    return Err(not_found("Invalid Deployment identifier specified"));
                }
                let in_use = api.stages.iter().any(|s| {
                    s.deployment_id == did
                        || s.canary_settings
                            .as_ref()
                            .is_some_and(|c| c.deployment_id == did)
                });
                if in_use {
                    return Err(bad_request(
                        "Active stages pointing to this deployment must be moved or deleted",
                    ));
                }
                api.deployments.retain(|d| d.id != did);
                Ok(Answer::Empty(202))
            }))
        }

        // Stages.
        (M::POST, ["restapis", id, "stages"]) => {
            let id = owned(id);
            body().map(|b| write(ROUTES, move |p| create_stage(p, &id, b)))
        }
        (M::GET, ["restapis", id, "stages"]) => {
            let id = owned(id);
            let deployment = call.query("deploymentId").map(str::to_string);
            Ok(read(move |p| {
                let items: Vec<Value> = api(p, &id)?
                    .stages
                    .iter()
                    .filter(|s| deployment.as_ref().is_none_or(|d| *d == s.deployment_id))
                    .map(to_json)
                    .collect();
                Ok(Answer::Json(200, json!({ "item": items })))
            }))
        }
        (M::GET, ["restapis", id, "stages", name]) => {
            let (id, name) = (owned(id), owned(name));
            Ok(read(move |p| {
                Ok(Answer::Json(200, to_json(stage(api(p, &id)?, &name)?)))
            }))
        }
        (M::PATCH, ["restapis", id, "stages", name]) => {
            let (id, name) = (owned(id), owned(name));
            patch_operations(call).map(|ops| {
                write(ROUTES, move |p| {
                    let api = api_mut(p, &id)?;
                    let deployments: Vec<String> =
                        api.deployments.iter().map(|d| d.id.clone()).collect();
                    let stage = api
                        .stage_mut(&name)
                        .ok_or_else(|| not_found("Invalid Stage identifier specified"))?;
                    patch::stage(stage, &ops, &deployments)?;
                    stage.last_updated_date = Some(now());
                    Ok(Answer::Json(200, to_json(&*stage)))
                })
            })
        }
        (M::DELETE, ["restapis", id, "stages", name]) => {
            let (id, name) = (owned(id), owned(name));
            Ok(write(ROUTES, move |p| {
                let api = api_mut(p, &id)?;
                stage(api, &name)?;
                api.stages.retain(|s| s.stage_name != name);
                for plan in &mut p.usage_plans {
                    plan.api_stages
                        .retain(|s| !(s.api_id == id && s.stage == name));
                }
                Ok(Answer::Empty(202))
            }))
        }
        (M::GET, ["restapis", id, "stages", name, "exports", format]) => {
            let (id, name, format) = (owned(id), owned(name), owned(format));
            let extensions = call.query("extensions").map(str::to_string);
            let yaml = call.accept.is_some_and(|a| a.contains("yaml"));
            Ok(read(move |p| {
                export(p, &id, &name, &format, extensions.as_deref(), yaml)
            }))
        }

        // Authorizers.
        (M::POST, ["restapis", id, "authorizers"]) => {
            let id = owned(id);
            body().map(|mut b| {
                write(DRAFT, move |p| {
                    b.insert("id".into(), json!(crate::model::new_resource_id()));
                    let authorizer: Authorizer = parse(Value::Object(b))?;
                    let api = api_mut(p, &id)?;
                    if api.authorizers.iter().any(|a| a.name == authorizer.name) {
                        return Err(conflict("Authorizer name already exists"));
                    }
                    let answer = to_json(&authorizer);
                    api.authorizers.push(authorizer);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        // Models.
        (M::POST, ["restapis", id, "models"]) => {
            let id = owned(id);
            body().map(|mut b| {
                write(DRAFT, move |p| {
                    b.insert("id".into(), json!(crate::model::new_resource_id()));
                    let model: Model = parse(Value::Object(b))?;
                    crate::model::validate_model_name(&model.name).map_err(bad_request)?;
                    let api = api_mut(p, &id)?;
                    if api.models.iter().any(|m| m.name == model.name) {
                        return Err(conflict("Model name already exists for this REST API"));
                    }
                    let answer = to_json(&model);
                    api.models.push(model);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        // Request validators.
        (M::POST, ["restapis", id, "requestvalidators"]) => {
            let id = owned(id);
            body().map(|b| {
                write(DRAFT, move |p| {
                    let validator = RequestValidator::new(
                        &text(&b, "name").unwrap_or_default(),
                        b.get("validateRequestBody")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        b.get("validateRequestParameters")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    );
                    let answer = to_json(&validator);
                    api_mut(p, &id)?.request_validators.push(validator);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        // Authorizers, models and request validators: list, get, delete.
        (M::GET, ["restapis", id, kind]) if collection(kind).is_some() => {
            let (id, c) = (owned(id), collection(kind)?);
            Ok(read(move |p| {
                let items = (c.list)(api(p, &id)?);
                Ok(Answer::Json(200, json!({ "item": items })))
            }))
        }
        (M::GET, ["restapis", id, kind, key]) if collection(kind).is_some() => {
            let (id, key, c) = (owned(id), owned(key), collection(kind)?);
            Ok(read(move |p| {
                let found = (c.get)(api(p, &id)?, &key).ok_or_else(|| not_found(c.missing))?;
                Ok(Answer::Json(200, found))
            }))
        }
        (M::DELETE, ["restapis", id, kind, key]) if collection(kind).is_some() => {
            let (id, key, c) = (owned(id), owned(key), collection(kind)?);
            Ok(write(DRAFT, move |p| {
                if !(c.remove)(api_mut(p, &id)?, &key) {
                    return Err(not_found(c.missing));
                }
                Ok(Answer::Empty(202))
            }))
        }

        // Gateway responses.
        (M::GET, ["restapis", id, "gatewayresponses"]) => {
            let id = owned(id);
            Ok(read(move |p| {
                let items: Vec<Value> = api(p, &id)?
                    .gateway_responses
                    .values()
                    .map(to_json)
                    .collect();
                Ok(Answer::Json(200, json!({ "item": items })))
            }))
        }
        (M::PUT, ["restapis", id, "gatewayresponses", kind]) => {
            let (id, kind) = (owned(id), owned(kind));
            body().map(|mut b| {
                write(DRAFT, move |p| {
                    b.insert("responseType".into(), json!(kind));
                    let response: GatewayResponse = parse(Value::Object(b))?;
                    let answer = to_json(&response);
                    api_mut(p, &id)?
                        .gateway_responses
                        .insert(kind.clone(), response);
                    Ok(Answer::Json(201, answer))
                })
            })
        }
        (M::GET, ["restapis", id, "gatewayresponses", kind]) => {
            let (id, kind) = (owned(id), owned(kind));
            Ok(read(move |p| {
                let response = api(p, &id)?
                    .gateway_responses
                    .get(&kind)
                    .ok_or_else(|| not_found("Invalid Gateway Response type specified"))?;
                Ok(Answer::Json(200, to_json(response)))
            }))
        }
        (M::DELETE, ["restapis", id, "gatewayresponses", kind]) => {
            let (id, kind) = (owned(id), owned(kind));
            Ok(write(DRAFT, move |p| {
                api_mut(p, &id)?
                    .gateway_responses
                    .remove(&kind)
                    .ok_or_else(|| not_found("Invalid Gateway Response type specified"))?;
                Ok(Answer::Empty(202))
            }))
        }

        // Updates through patch operations.
        (M::PATCH, ["restapis", id, "resources", rid, "methods", verb]) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let method = method_mut(api_mut(p, &id)?, &rid, &verb)?;
                    *method = patch::entity(
                        &*method,
                        &ops,
                        &["httpMethod", "methodIntegration", "methodResponses"],
                        &["requestParameters"],
                    )?;
                    Ok(Answer::Json(200, to_json(&*method)))
                })
            })
        }
        (
            M::PATCH,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let response = method_mut(api_mut(p, &id)?, &rid, &verb)?
                        .method_responses
                        .get_mut(&code)
                        .ok_or_else(|| not_found("Invalid Response status code specified"))?;
                    *response =
                        patch::entity(&*response, &ops, &["statusCode"], &["responseParameters"])?;
                    Ok(Answer::Json(200, to_json(&*response)))
                })
            })
        }
        (
            M::PATCH,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
            ],
        ) => {
            let (id, rid, verb) = (owned(id), owned(rid), verb.to_ascii_uppercase());
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let integration = integration_mut(api_mut(p, &id)?, &rid, &verb)?;
                    *integration =
                        patch::entity(&*integration, &ops, &["integrationResponses"], &[])?;
                    Ok(Answer::Json(200, to_json(&*integration)))
                })
            })
        }
        (
            M::PATCH,
            [
                "restapis",
                id,
                "resources",
                rid,
                "methods",
                verb,
                "integration",
                "responses",
                code,
            ],
        ) => {
            let (id, rid, verb, code) = (
                owned(id),
                owned(rid),
                verb.to_ascii_uppercase(),
                owned(code),
            );
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let response = integration_mut(api_mut(p, &id)?, &rid, &verb)?
                        .integration_responses
                        .get_mut(&code)
                        .ok_or_else(|| not_found("Invalid Response status code specified"))?;
                    let patched: IntegrationResponse =
                        patch::entity(&*response, &ops, &["statusCode"], &[])?;
                    check_selection_pattern(&patched)?;
                    *response = patched;
                    Ok(Answer::Json(200, to_json(&*response)))
                })
            })
        }
        (M::PATCH, ["restapis", id, "authorizers", aid]) => {
            let (id, aid) = (owned(id), owned(aid));
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let authorizer = api_mut(p, &id)?
                        .authorizers
                        .iter_mut()
                        .find(|a| a.id == aid)
                        .ok_or_else(|| not_found("Invalid Authorizer identifier specified"))?;
                    *authorizer = patch::entity(&*authorizer, &ops, &["id"], &[])?;
                    Ok(Answer::Json(200, to_json(&*authorizer)))
                })
            })
        }
        (M::PATCH, ["restapis", id, "models", name]) => {
            let (id, name) = (owned(id), owned(name));
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let model = api_mut(p, &id)?
                        .models
                        .iter_mut()
                        .find(|m| m.name == name)
                        .ok_or_else(|| not_found("Invalid model name specified"))?;
                    *model = patch::entity(&*model, &ops, &["id", "name", "contentType"], &[])?;
                    Ok(Answer::Json(200, to_json(&*model)))
                })
            })
        }
        (M::PATCH, ["restapis", id, "requestvalidators", vid]) => {
            let (id, vid) = (owned(id), owned(vid));
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let validator = api_mut(p, &id)?
                        .request_validators
                        .iter_mut()
                        .find(|v| v.id == vid)
                        .ok_or_else(|| {
                            not_found("Invalid Request Validator identifier specified")
                        })?;
                    *validator = patch::entity(&*validator, &ops, &["id"], &[])?;
                    Ok(Answer::Json(200, to_json(&*validator)))
                })
            })
        }
        (M::PATCH, ["restapis", id, "gatewayresponses", kind]) => {
            let (id, kind) = (owned(id), owned(kind));
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let response = api_mut(p, &id)?
                        .gateway_responses
                        .get_mut(&kind)
                        .ok_or_else(|| not_found("Invalid Gateway Response type specified"))?;
                    *response = patch::entity(&*response, &ops, &["responseType"], &[])?;
                    Ok(Answer::Json(200, to_json(&*response)))
                })
            })
        }
        (M::PATCH, ["restapis", id, "deployments", did]) => {
            let (id, did) = (owned(id), owned(did));
            patch_operations(call).map(|ops| {
                write(DRAFT, move |p| {
                    let deployment = api_mut(p, &id)?
                        .deployments
                        .iter_mut()
                        .find(|d| d.id == did)
                        .ok_or_else(|| not_found("Invalid Deployment identifier specified"))?;
                    *deployment = patch::entity(&*deployment, &ops, &["id", "createdDate"], &[])?;
                    Ok(Answer::Json(200, to_json(&*deployment)))
                })
            })
        }
        (M::PATCH, ["apikeys", kid]) => {
            let kid = owned(kid);
            patch_operations(call).map(|ops| {
                write(KEYS, move |p| {
                    let key = p
                        .api_keys
                        .iter_mut()
                        .find(|k| k.id == kid)
                        .ok_or_else(|| not_found("Invalid API Key identifier specified"))?;
                    *key = patch::entity(&*key, &ops, &["id", "value"], &[])?;
                    Ok(Answer::Json(200, api_key_json(key, false)))
                })
            })
        }
        (M::PATCH, ["usageplans", pid]) => {
            let pid = owned(pid);
            patch_operations(call).map(|ops| {
                write(KEYS, move |p| {
                    let plan = p
                        .usage_plans
                        .iter_mut()
                        .find(|u| u.id == pid)
                        .ok_or_else(|| not_found("Invalid Usage Plan ID specified"))?;
                    *plan = patch::usage_plan(plan, &ops)?;
                    if let Some(quota) = &plan.quota {
                        quota.validate().map_err(bad_request)?;
                    }
                    Ok(Answer::Json(200, to_json(&*plan)))
                })
            })
        }

        // API keys.
        (M::POST, ["apikeys"]) => body().map(|b| {
            write(KEYS, move |p| {
                let name = text(&b, "name").unwrap_or_default();
                let mut key = p
                    .add_api_key(&name, text(&b, "value").as_deref(), None)
                    .map_err(bad_request)?;
                let stored = p
                    .api_keys
                    .iter_mut()
                    .find(|k| k.id == key.id)
                    .expect("just added");
                stored.enabled = b.get("enabled").and_then(Value::as_bool).unwrap_or(false);
                stored.description = text(&b, "description");
                key = stored.clone();
                Ok(Answer::Json(201, api_key_json(&key, true)))
            })
        }),
        (M::GET, ["apikeys"]) => {
            let values = call.query("includeValues") == Some("true");
            Ok(read(move |p| {
                let items: Vec<Value> =
                    p.api_keys.iter().map(|k| api_key_json(k, values)).collect();
                Ok(Answer::Json(200, json!({ "item": items })))
            }))
        }
        (M::GET, ["apikeys", kid]) => {
            let kid = owned(kid);
            let value = call.query("includeValue") == Some("true");
            Ok(read(move |p| {
                let key = p
                    .api_keys
                    .iter()
                    .find(|k| k.id == kid)
                    .ok_or_else(|| not_found("Invalid API Key identifier specified"))?;
                Ok(Answer::Json(200, api_key_json(key, value)))
            }))
        }
        (M::DELETE, ["apikeys", kid]) => {
            let kid = owned(kid);
            Ok(write(KEYS, move |p| {
                p.remove_api_key(&kid).map_err(not_found)?;
                Ok(Answer::Empty(202))
            }))
        }

        // Usage plans.
        (M::POST, ["usageplans"]) => body().map(|b| write(KEYS, move |p| create_usage_plan(p, &b))),
        (M::GET, ["usageplans"]) => Ok(read(|p| {
            let items: Vec<Value> = p.usage_plans.iter().map(to_json).collect();
            Ok(Answer::Json(200, json!({ "item": items })))
        })),
        (M::GET, ["usageplans", pid]) => {
            let pid = owned(pid);
            Ok(read(move |p| {
                Ok(Answer::Json(200, to_json(usage_plan(p, &pid)?)))
            }))
        }
        (M::DELETE, ["usageplans", pid]) => {
            let pid = owned(pid);
            Ok(write(KEYS, move |p| {
                p.remove_usage_plan(&pid).map_err(not_found)?;
                Ok(Answer::Empty(202))
            }))
        }
        (M::POST, ["usageplans", pid, "keys"]) => {
            let pid = owned(pid);
            body().map(|b| {
                write(KEYS, move |p| {
                    let kid = text(&b, "keyId").ok_or_else(|| bad_request("keyId is required"))?;
                    usage_plan(p, &pid)?;
                    let key = p
                        .api_keys
                        .iter()
                        .find(|k| k.id == kid)
                        .cloned()
                        .ok_or_else(|| not_found("Invalid API Key identifier specified"))?;
                    if usage_plan(p, &pid)?.api_key_ids.contains(&kid) {
                        return Err(conflict("Usage Plan already contains specified API Key"));
                    }
                    p.set_plan_key(&pid, &kid, true).map_err(bad_request)?;
                    Ok(Answer::Json(201, usage_plan_key_json(&key)))
                })
            })
        }
        (M::GET, ["usageplans", pid, "keys"]) => {
            let pid = owned(pid);
            Ok(read(move |p| {
                let plan = usage_plan(p, &pid)?;
                let items: Vec<Value> = p
                    .api_keys
                    .iter()
                    .filter(|k| plan.api_key_ids.contains(&k.id))
                    .map(usage_plan_key_json)
                    .collect();
                Ok(Answer::Json(200, json!({ "item": items })))
            }))
        }
        (M::DELETE, ["usageplans", pid, "keys", kid]) => {
            let (pid, kid) = (owned(pid), owned(kid));
            Ok(write(KEYS, move |p| {
                if !usage_plan(p, &pid)?.api_key_ids.contains(&kid) {
                    return Err(not_found("Invalid Usage Plan Key identifier specified"));
                }
                p.set_plan_key(&pid, &kid, false).map_err(bad_request)?;
                Ok(Answer::Empty(202))
            }))
        }
        _ => return None,
    })
}

/// An API's list of authorizers, models or request validators, as the
/// control plane lists, reads and deletes them (models by name, the others
/// by id).
struct Collection {
    list: fn(&RestApi) -> Vec<Value>,
    get: fn(&RestApi, &str) -> Option<Value>,
    remove: fn(&mut RestApi, &str) -> bool,
    missing: &'static str,
}

fn remove_where<T>(items: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> bool {
    let before = items.len();
    items.retain(|item| !matches(item));
    items.len() != before
}

fn collection(kind: &str) -> Option<Collection> {
    Some(match kind {
        "authorizers" => Collection {
            list: |api| api.authorizers.iter().map(to_json).collect(),
            get: |api, key| api.authorizers.iter().find(|a| a.id == key).map(to_json),
            remove: |api, key| remove_where(&mut api.authorizers, |a| a.id == key),
            missing: "Invalid Authorizer identifier specified",
        },
        "models" => Collection {
            list: |api| api.models.iter().map(to_json).collect(),
            get: |api, key| api.models.iter().find(|m| m.name == key).map(to_json),
            remove: |api, key| remove_where(&mut api.models, |m| m.name == key),
            missing: "Invalid model name specified",
        },
        "requestvalidators" => Collection {
            list: |api| api.request_validators.iter().map(to_json).collect(),
            get: |api, key| {
                api.request_validators
                    .iter()
                    .find(|v| v.id == key)
                    .map(to_json)
            },
            remove: |api, key| remove_where(&mut api.request_validators, |v| v.id == key),
            missing: "Invalid Request Validator identifier specified",
        },
        _ => return None,
    })
}

fn now() -> String {
    crate::model::now_rfc3339()
}

fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}

/// A body in a model type; a mismatch is a BadRequestException naming it.
fn parse<T: DeserializeOwned>(value: Value) -> Result<T, ControlError> {
    serde_json::from_value(value).map_err(|e| bad_request(format!("Invalid request: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn unique_api_id(project: &Project) -> String {
    loop {
        let id = crate::model::new_rest_api_id();
        if !project.rest_apis.iter().any(|a| a.id == id) {
            return id;
        }
    }
}

fn api<'a>(project: &'a Project, id: &str) -> Result<&'a RestApi, ControlError> {
    project
        .rest_apis
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found("Invalid API identifier specified"))
}

fn api_mut<'a>(project: &'a mut Project, id: &str) -> Result<&'a mut RestApi, ControlError> {
    project
        .api_mut(id)
        .ok_or_else(|| not_found("Invalid API identifier specified"))
}

fn resource<'a>(api: &'a RestApi, id: &str) -> Result<&'a Resource, ControlError> {
    api.resource(id)
        .ok_or_else(|| not_found("Invalid Resource identifier specified"))
}

fn resource_mut<'a>(api: &'a mut RestApi, id: &str) -> Result<&'a mut Resource, ControlError> {
    api.resource_mut(id)
        .ok_or_else(|| not_found("Invalid Resource identifier specified"))
}

fn method<'a>(api: &'a RestApi, rid: &str, verb: &str) -> Result<&'a Method, ControlError> {
    resource(api, rid)?
        .resource_methods
        .get(verb)
        .ok_or_else(|| not_found("Invalid Method identifier specified"))
}

fn method_mut<'a>(
    api: &'a mut RestApi,
    rid: &str,
    verb: &str,
) -> Result<&'a mut Method, ControlError> {
    resource_mut(api, rid)?
        .resource_methods
        .get_mut(verb)
        .ok_or_else(|| not_found("Invalid Method identifier specified"))
}

fn integration_mut<'a>(
    api: &'a mut RestApi,
    rid: &str,
    verb: &str,
) -> Result<&'a mut Integration, ControlError> {
    method_mut(api, rid, verb)?
        .method_integration
        .as_mut()
        .ok_or_else(|| not_found("No integration defined for method"))
}

fn stage<'a>(api: &'a RestApi, name: &str) -> Result<&'a Stage, ControlError> {
    api.stage(name)
        .ok_or_else(|| not_found("Invalid Stage identifier specified"))
}

fn usage_plan<'a>(project: &'a Project, id: &str) -> Result<&'a UsagePlan, ControlError> {
    project
        .usage_plans
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| not_found("Invalid Usage Plan ID specified"))
}

fn check_verb(verb: &str) -> Result<(), ControlError> {
    const VERBS: [&str; 8] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
    ];
    if VERBS.contains(&verb) {
        Ok(())
    } else {
        Err(bad_request(format!("Invalid HttpMethod specified: {verb}")))
    }
}

/// A RestApi as AWS shows it: its own fields and `rootResourceId`, not its
/// resources, stages or deployments.
fn rest_api_json(api: &RestApi) -> Value {
    let mut value = to_json(api);
    if let Value::Object(map) = &mut value {
        for key in [
            "resources",
            "deployments",
            "stages",
            "models",
            "requestValidators",
            "authorizers",
            "gatewayResponses",
            "documentation",
            "extensions",
        ] {
            map.remove(key);
        }
        if let Some(root) = api.root() {
            map.insert("rootResourceId".into(), json!(root.id));
        }
    }
    value
}

fn with_warnings(mut answer: Value, warnings: &[String]) -> Value {
    if !warnings.is_empty() {
        answer["warnings"] = json!(warnings);
    }
    answer
}

/// A resource; without `embed=methods` each method is an empty object, as
/// AWS lists them.
fn resource_json(resource: &Resource, embed: bool) -> Value {
    let mut value = to_json(resource);
    if !embed && let Some(Value::Object(methods)) = value.get_mut("resourceMethods") {
        for method in methods.values_mut() {
            *method = json!({});
        }
    }
    value
}

fn api_key_json(key: &ApiKey, include_value: bool) -> Value {
    let mut value = json!({
        "id": key.id,
        "name": key.name,
        "enabled": key.enabled,
        "stageKeys": [],
    });
    if let Some(description) = &key.description {
        value["description"] = json!(description);
    }
    if include_value {
        value["value"] = json!(key.value);
    }
    value
}

fn usage_plan_key_json(key: &ApiKey) -> Value {
    json!({ "id": key.id, "type": "API_KEY", "name": key.name, "value": key.value })
}

/// The body of an import: the OpenAPI document as JSON or YAML.
fn import_document(call: &Call) -> Result<Value, ControlError> {
    let text = std::str::from_utf8(call.body)
        .map_err(|_| bad_request("The definition is not UTF-8 text"))?;
    crate::openapi::parse_document(text).map_err(|e| bad_request(e.to_string()))
}

fn patch_operations(call: &Call) -> Result<Vec<patch::Operation>, ControlError> {
    let body = call.json()?;
    match body.get("patchOperations") {
        None => Ok(Vec::new()),
        Some(ops) => parse(ops.clone()),
    }
}

/// `CreateDeployment`: a snapshot of the draft; with `stageName` the stage
/// points at it (created if needed); with `canarySettings` too it becomes
/// that stage's canary instead.
fn create_deployment(
    project: &mut Project,
    api_id: &str,
    body: &Map<String, Value>,
) -> Result<Answer, ControlError> {
    api(project, api_id)?;
    let description = text(body, "description");
    let variables: std::collections::BTreeMap<String, String> = match body.get("variables") {
        Some(v) => parse(v.clone())?,
        None => Default::default(),
    };
    let stage_name = text(body, "stageName");
    let deployment = match (&stage_name, body.get("canarySettings")) {
        (Some(stage_name), Some(canary)) => {
            let percent = canary
                .get("percentTraffic")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let overrides: std::collections::BTreeMap<String, String> =
                match canary.get("stageVariableOverrides") {
                    Some(v) => parse(v.clone())?,
                    None => Default::default(),
                };
            let deployment = project.deploy_canary(
                api_id,
                stage_name,
                description.as_deref(),
                percent,
                &overrides,
            )?;
            if let Some(settings) = api_mut(project, api_id)?
                .stage_mut(stage_name)
                .and_then(|s| s.canary_settings.as_mut())
            {
                settings.use_stage_cache = canary
                    .get("useStageCache")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            }
            deployment
        }
        (Some(stage_name), None) => {
            let deployment =
                project.deploy(api_id, stage_name, description.as_deref(), &variables)?;
            let stage = api_mut(project, api_id)?
                .stage_mut(stage_name)
                .expect("deploy made the stage");
            if let Some(text) = text(body, "stageDescription") {
                stage.description = Some(text);
            }
            if let Some(enabled) = body.get("cacheClusterEnabled").and_then(Value::as_bool) {
                stage.cache_cluster_enabled = enabled;
            }
            if let Some(size) = text(body, "cacheClusterSize") {
                stage.cache_cluster_size = Some(size);
            }
            deployment
        }
        (None, _) => project.create_deployment(api_id, description.as_deref())?,
    };
    Ok(Answer::Json(201, to_json(&deployment)))
}

/// `CreateStage`: a stage pointing at an existing deployment.
fn create_stage(
    project: &mut Project,
    api_id: &str,
    mut body: Map<String, Value>,
) -> Result<Answer, ControlError> {
    let api = api_mut(project, api_id)?;
    let name = text(&body, "stageName").ok_or_else(|| bad_request("stageName is required"))?;
    crate::model::validate_stage_name(&name).map_err(bad_request)?;
    if api.stage(&name).is_some() {
        return Err(conflict("Stage already exists"));
    }
    let deployment =
        text(&body, "deploymentId").ok_or_else(|| bad_request("deploymentId is required"))?;
    if !api.deployments.iter().any(|d| d.id == deployment) {
        return Err(bad_request("Invalid deployment identifier specified"));
    }
    body.remove("tags");
    body.remove("tracingEnabled");
    body.remove("documentationVersion");
    let now = now();
    body.insert("createdDate".into(), json!(now));
    body.insert("lastUpdatedDate".into(), json!(now));
    let stage: Stage = parse(Value::Object(body))?;
    for (name, value) in &stage.variables {
        crate::model::validate_stage_variable(name, value).map_err(bad_request)?;
    }
    let answer = to_json(&stage);
    api.stages.push(stage);
    Ok(Answer::Json(201, answer))
}

fn create_usage_plan(
    project: &mut Project,
    body: &Map<String, Value>,
) -> Result<Answer, ControlError> {
    let name = text(body, "name").ok_or_else(|| bad_request("name is required"))?;
    let stages: Vec<ApiStage> = match body.get("apiStages") {
        Some(v) => parse(v.clone())?,
        None => Vec::new(),
    };
    for stage in &stages {
        let api = api(project, &stage.api_id)?;
        if api.stage(&stage.stage).is_none() {
            return Err(bad_request(format!(
                "Invalid stage identifier specified: {}",
                stage.stage
            )));
        }
    }
    let throttle: Option<ThrottleSettings> = match body.get("throttle") {
        Some(v) => Some(parse(v.clone())?),
        None => None,
    };
    let quota: Option<QuotaSettings> = match body.get("quota") {
        Some(v) => {
            let quota: QuotaSettings = parse(v.clone())?;
            quota.validate().map_err(bad_request)?;
            Some(quota)
        }
        None => None,
    };
    let plan = UsagePlan {
        id: crate::model::new_resource_id(),
        name,
        api_stages: stages,
        throttle,
        quota,
        api_key_ids: Vec::new(),
    };
    let answer = to_json(&plan);
    project.usage_plans.push(plan);
    Ok(Answer::Json(201, answer))
}

/// `GetExport`: the stage's deployment as OpenAPI 3.0 or Swagger 2.0.
fn export(
    project: &Project,
    api_id: &str,
    stage_name: &str,
    format: &str,
    extensions: Option<&str>,
    yaml: bool,
) -> Result<Answer, ControlError> {
    use crate::openapi::{ExportFormat, ExportOptions, Extensions};
    let api = api(project, api_id)?;
    let stage = stage(api, stage_name)?;
    let format = match format {
        "oas30" => ExportFormat::Oas30,
        "swagger" => ExportFormat::Swagger2,
        other => return Err(bad_request(format!("Invalid export type: {other}"))),
    };
    let extensions = match extensions {
        None | Some("") => Extensions::NONE,
        Some(list) => Extensions::parse(list).map_err(bad_request)?,
    };
    let deployed = project
        .snapshot(api_id, &stage.deployment_id)
        .map(|s| &s.rest_api)
        .unwrap_or(api);
    let url = format!("https://{api_id}.execute-api.localhost/{stage_name}");
    let document = crate::openapi::export(
        deployed,
        &ExportOptions {
            format,
            extensions,
            stage: Some((stage_name.to_string(), url)),
        },
    )
    .map_err(|e| bad_request(e.to_string()))?;
    let content_type = if yaml {
        "application/yaml"
    } else {
        "application/json"
    };
    Ok(Answer::Text(
        200,
        content_type.into(),
        crate::openapi::to_text(&document, yaml),
    ))
}
