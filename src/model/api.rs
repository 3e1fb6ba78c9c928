//! `RestApi`: one REST API, its draft definition, its stages and deployments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Authorizer, Deployment, GatewayResponse, Model, RequestValidator, Resource, Stage};

/// Where a method that requires an API key reads it from (AWS `apiKeySource`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApiKeySource {
    #[default]
    Header,
    Authorizer,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    /// `EDGE`, `REGIONAL` or `PRIVATE`; kept for export, no local effect.
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_endpoint_ids: Vec<String>,
}

/// AWS `RestApi`. `resources`, `gatewayResponses` and the API-level settings
/// are the draft; `deployments` lists the immutable snapshots (stored one per
/// file) and `stages` the named pointers at them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestApi {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    /// The API's version label (OpenAPI `info.version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default)]
    pub api_key_source: ApiKeySource,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_media_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_configuration: Option<EndpointConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_execute_api_endpoint: Option<bool>,
    /// The resource policy, a JSON IAM policy document as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Payload schemas (JSON Schema draft 4), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<Model>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_validators: Vec<RequestValidator>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<Authorizer>,
    /// `x-amazon-apigateway-documentation` as imported: documentation parts
    /// and version, kept for export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<serde_json::Value>,
    /// OpenAPI extensions (`x-...`) Portico does not interpret, kept so an
    /// export gives them back.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// The resource tree, flat as AWS's `GetResources` returns it: every
    /// resource names its `parentId`; the root has path `/` and no parent.
    pub resources: Vec<Resource>,
    /// Customized gateway responses, keyed by response type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<Deployment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
}

impl RestApi {
    /// A new API with only its root resource `/`, as AWS's `CreateRestApi`.
    pub fn new(name: &str) -> RestApi {
        RestApi {
            id: super::new_rest_api_id(),
            name: name.to_string(),
            description: None,
            created_date: Some(super::deployment::now_rfc3339()),
            version: None,
            api_key_source: ApiKeySource::Header,
            binary_media_types: Vec::new(),
            endpoint_configuration: Some(EndpointConfiguration {
                types: vec!["EDGE".into()],
                vpc_endpoint_ids: Vec::new(),
            }),
            minimum_compression_size: None,
            disable_execute_api_endpoint: None,
            policy: None,
            models: Vec::new(),
            request_validators: Vec::new(),
            authorizers: Vec::new(),
            documentation: None,
            extensions: serde_json::Map::new(),
            resources: vec![Resource::root()],
            gateway_responses: BTreeMap::new(),
            deployments: Vec::new(),
            stages: Vec::new(),
        }
    }

    pub fn root(&self) -> Option<&Resource> {
        self.resources.iter().find(|r| r.parent_id.is_none())
    }

    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }

    pub fn resource_mut(&mut self, id: &str) -> Option<&mut Resource> {
        self.resources.iter_mut().find(|r| r.id == id)
    }

    pub fn resource_by_path(&self, path: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.path == path)
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.stage_name == name)
    }

    pub fn stage_mut(&mut self, name: &str) -> Option<&mut Stage> {
        self.stages.iter_mut().find(|s| s.stage_name == name)
    }

    /// Adds a child resource under `parent_id`, validating the path part as
    /// AWS's `CreateResource` does. Returns the new resource's id.
    pub fn create_resource(
        &mut self,
        parent_id: &str,
        path_part: &str,
    ) -> Result<String, super::ResourceError> {
        let parent = self
            .resource(parent_id)
            .ok_or_else(|| super::ResourceError::NoParent(parent_id.to_string()))?;
        if parent
            .path_part
            .as_deref()
            .is_some_and(|p| p.ends_with("+}"))
        {
            return Err(super::ResourceError::UnderGreedy(parent.path.clone()));
        }
        super::validate_path_part(path_part)?;
        let path = if parent.path == "/" {
            format!("/{path_part}")
        } else {
            format!("{}/{path_part}", parent.path)
        };
        let siblings: Vec<&Resource> = self
            .resources
            .iter()
            .filter(|r| r.parent_id.as_deref() == Some(parent_id))
            .collect();
        if siblings.iter().any(|r| r.path == path) {
            return Err(super::ResourceError::Exists(path));
        }
        let is_variable = path_part.starts_with('{');
        if is_variable
            && siblings
                .iter()
                .any(|r| r.path_part.as_deref().is_some_and(|p| p.starts_with('{')))
        {
            return Err(super::ResourceError::ConflictingVariable(path));
        }
        let resource = Resource {
            id: super::new_resource_id(),
            parent_id: Some(parent_id.to_string()),
            path_part: Some(path_part.to_string()),
            path,
            resource_methods: BTreeMap::new(),
        };
        let id = resource.id.clone();
        self.resources.push(resource);
        self.resources.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(id)
    }

    /// Changes a resource's path part (AWS's `UpdateResource` with
    /// `replace /pathPart`): the same rules as creating it, and the paths of
    /// every descendant follow. A resource with children cannot become
    /// greedy (`{proxy+}`), and the root has no path part to change.
    pub fn rename_resource(
        &mut self,
        id: &str,
        path_part: &str,
    ) -> Result<(), super::ResourceError> {
        super::validate_path_part(path_part)?;
        let resource = self
            .resource(id)
            .ok_or_else(|| super::ResourceError::NoParent(id.to_string()))?;
        let Some(parent_id) = resource.parent_id.clone() else {
            return Err(super::ResourceError::Root);
        };
        let old_path = resource.path.clone();
        let parent_path = self
            .resource(&parent_id)
            .map_or_else(|| "/".to_string(), |p| p.path.clone());
        let new_path = if parent_path == "/" {
            format!("/{path_part}")
        } else {
            format!("{parent_path}/{path_part}")
        };
        if new_path == old_path {
            return Ok(());
        }
        let siblings = || {
            self.resources
                .iter()
                .filter(|r| r.parent_id.as_deref() == Some(parent_id.as_str()) && r.id != id)
        };
        if siblings().any(|r| r.path == new_path) {
            return Err(super::ResourceError::Exists(new_path));
        }
        if path_part.starts_with('{')
            && siblings().any(|r| r.path_part.as_deref().is_some_and(|p| p.starts_with('{')))
        {
            return Err(super::ResourceError::ConflictingVariable(new_path));
        }
        let has_children = self
            .resources
            .iter()
            .any(|r| r.parent_id.as_deref() == Some(id));
        if path_part.ends_with("+}") && has_children {
            return Err(super::ResourceError::UnderGreedy(new_path));
        }
        let prefix = format!("{old_path}/");
        for resource in &mut self.resources {
            if resource.id == id {
                resource.path_part = Some(path_part.to_string());
                resource.path = new_path.clone();
            } else if let Some(rest) = resource.path.strip_prefix(&prefix) {
                resource.path = format!("{new_path}/{rest}");
            }
        }
        self.resources.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(())
    }

    /// Deletes a resource with its methods and every descendant, as AWS's
    /// `DeleteResource` does. The root cannot be deleted. Returns how many
    /// resources went.
    pub fn delete_resource(&mut self, id: &str) -> Result<usize, super::ResourceError> {
        let resource = self
            .resource(id)
            .ok_or_else(|| super::ResourceError::NoParent(id.to_string()))?;
        if resource.parent_id.is_none() {
            return Err(super::ResourceError::Root);
        }
        let prefix = format!("{}/", resource.path);
        let path = resource.path.clone();
        let before = self.resources.len();
        self.resources
            .retain(|r| r.path != path && !r.path.starts_with(&prefix));
        Ok(before - self.resources.len())
    }

    /// Adds `verb` to a resource with a MOCK integration answering 200,
    /// as the console's "Create method" with "Mock" does. AWS's `PutMethod`
    /// rules: one of the HTTP verbs or `ANY`, once per resource
    /// (ConflictException "Method already exists for this resource").
    pub fn put_mock_method(
        &mut self,
        resource_id: &str,
        verb: &str,
    ) -> Result<(), super::MethodError> {
        let verb = verb.trim().to_ascii_uppercase();
        if !super::method::METHOD_VERBS.contains(&verb.as_str()) {
            return Err(super::MethodError::InvalidVerb);
        }
        let resource = self
            .resource_mut(resource_id)
            .ok_or_else(|| super::MethodError::NoResource(resource_id.to_string()))?;
        if resource.resource_methods.contains_key(&verb) {
            return Err(super::MethodError::Exists);
        }
        let mut method = super::Method::new(&verb);
        method.method_responses.insert(
            "200".into(),
            super::MethodResponse {
                status_code: "200".into(),
                response_parameters: BTreeMap::new(),
                response_models: BTreeMap::new(),
            },
        );
        let mut integration = super::Integration::new(super::IntegrationType::Mock);
        integration
            .request_templates
            .insert("application/json".into(), "{\"statusCode\": 200}".into());
        integration.integration_responses.insert(
            "200".into(),
            super::IntegrationResponse {
                status_code: "200".into(),
                selection_pattern: None,
                response_parameters: BTreeMap::new(),
                response_templates: [("application/json".to_string(), String::new())]
                    .into_iter()
                    .collect(),
                content_handling: None,
            },
        );
        method.method_integration = Some(integration);
        resource.resource_methods.insert(verb, method);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceError;

    fn api_with_pets() -> (RestApi, String, String) {
        let mut api = RestApi::new("t");
        let root = api.root().expect("root").id.clone();
        let pets = api.create_resource(&root, "pets").expect("pets");
        let id = api.create_resource(&pets, "{id}").expect("{id}");
        api.create_resource(&id, "toys").expect("toys");
        api.create_resource(&root, "petshop").expect("petshop");
        (api, pets, id)
    }

    fn paths(api: &RestApi) -> Vec<&str> {
        api.resources.iter().map(|r| r.path.as_str()).collect()
    }

    #[test]
    fn renaming_moves_descendants_and_keeps_rules() {
        let (mut api, pets, id) = api_with_pets();
        api.rename_resource(&pets, "animals").expect("rename");
        assert_eq!(
            paths(&api),
            [
                "/",
                "/animals",
                "/animals/{id}",
                "/animals/{id}/toys",
                "/petshop"
            ]
        );
        assert_eq!(
            api.rename_resource(&pets, "petshop"),
            Err(ResourceError::Exists("/petshop".into()))
        );
        assert!(matches!(
            api.rename_resource(&pets, "a b"),
            Err(ResourceError::InvalidPathPart(_))
        ));
        // {id} has a child: it cannot become greedy.
        assert!(matches!(
            api.rename_resource(&id, "{proxy+}"),
            Err(ResourceError::UnderGreedy(_))
        ));
        api.rename_resource(&id, "{petId}")
            .expect("variable rename");
        assert!(api.resource_by_path("/animals/{petId}/toys").is_some());
        let root = api.root().expect("root").id.clone();
        assert_eq!(api.rename_resource(&root, "x"), Err(ResourceError::Root));
    }

    #[test]
    fn deleting_takes_the_subtree_only() {
        let (mut api, pets, _) = api_with_pets();
        assert_eq!(api.delete_resource(&pets), Ok(3));
        assert_eq!(paths(&api), ["/", "/petshop"]);
        let root = api.root().expect("root").id.clone();
        assert_eq!(api.delete_resource(&root), Err(ResourceError::Root));
    }
}
