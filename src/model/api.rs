//! `RestApi`: one REST API, its draft definition, its stages and deployments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Deployment, GatewayResponse, Resource, Stage};

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
            api_key_source: ApiKeySource::Header,
            binary_media_types: Vec::new(),
            endpoint_configuration: Some(EndpointConfiguration {
                types: vec!["EDGE".into()],
            }),
            minimum_compression_size: None,
            disable_execute_api_endpoint: None,
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

    /// Adds `verb` to a resource with a MOCK integration answering 200,
    /// as the console's "Create method" with "Mock" does. AWS's `PutMethod`
    /// rules: one of the HTTP verbs or `ANY`, once per resource
    /// (ConflictException "Method already exists for this resource").
    pub fn put_mock_method(&mut self, resource_id: &str, verb: &str) -> Result<(), String> {
        const VERBS: [&str; 8] = [
            "ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
        ];
        let verb = verb.trim().to_ascii_uppercase();
        if !VERBS.contains(&verb.as_str()) {
            return Err(format!(
                "Invalid HttpMethod specified. Valid options are {}",
                VERBS.join(",")
            ));
        }
        let resource = self
            .resource_mut(resource_id)
            .ok_or_else(|| format!("Invalid Resource identifier specified: {resource_id}"))?;
        if resource.resource_methods.contains_key(&verb) {
            return Err("Method already exists for this resource".into());
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
