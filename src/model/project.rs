//! A project on disk: `portico.json` (the definition: APIs, their drafts,
//! stages and deployment list) plus `deployments/{apiId}/{deploymentId}.json`
//! (one immutable snapshot per deployment).
//!
//! Files are pretty-printed JSON with a stable key order, so they diff well;
//! every write is atomic (temp file in the same directory, fsync, rename).
//! Every load error names `file:line:column` and what was expected.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::deployment::now_rfc3339;
use super::locate::{Step, locate};
use super::{Deployment, DeploymentSnapshot, FunctionDefinition, RestApi, Stage};

/// The project format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The definition file inside a project directory.
pub const PROJECT_FILE: &str = "portico.json";
const DEPLOYMENTS_DIR: &str = "deployments";
const HTTP_METHODS: [&str; 8] = [
    "ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProjectFile {
    version: u32,
    #[serde(default)]
    rest_apis: Vec<RestApi>,
    /// Local Lambda functions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    functions: Vec<FunctionDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    api_keys: Vec<super::ApiKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    usage_plans: Vec<super::UsagePlan>,
    /// HTTP APIs (API Gateway v2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    http_apis: Vec<super::HttpApi>,
    /// WebSocket APIs (API Gateway v2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    web_socket_apis: Vec<super::WebSocketApi>,
}

/// What went wrong loading or saving a project. `Display` is one line:
/// `file:line:column: what is wrong`.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A request to change the project that the model refuses (unknown API,
    /// bad stage name...). Not tied to a file position.
    #[error("{0}")]
    Rejected(String),
}

impl ProjectError {
    /// A model rule's refusal (a stage name, a selection pattern...) as
    /// [`ProjectError::Rejected`], with the rule's message.
    pub(super) fn rejected(error: impl fmt::Display) -> ProjectError {
        ProjectError::Rejected(error.to_string())
    }

    pub(super) fn io(path: &Path, error: std::io::Error) -> ProjectError {
        ProjectError::Io {
            path: path.to_path_buf(),
            message: error.to_string(),
        }
    }

    /// An error at the place `steps` names in the file's `text`.
    pub(super) fn located(
        path: PathBuf,
        text: &str,
        steps: &[Step],
        message: String,
    ) -> ProjectError {
        let (line, column) = locate(text, steps);
        ProjectError::Invalid {
            path,
            line,
            column,
            message,
        }
    }

    fn syntax(path: &Path, error: &serde_json::Error) -> ProjectError {
        // serde_json appends " at line L column C"; we print the position first.
        let text = error.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        ProjectError::Invalid {
            path: path.to_path_buf(),
            line: error.line().max(1),
            column: error.column().max(1),
            message,
        }
    }
}

/// A loaded project: the definition plus every deployment snapshot.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub rest_apis: Vec<RestApi>,
    pub functions: Vec<FunctionDefinition>,
    pub api_keys: Vec<super::ApiKey>,
    pub usage_plans: Vec<super::UsagePlan>,
    pub http_apis: Vec<super::HttpApi>,
    pub web_socket_apis: Vec<super::WebSocketApi>,
    /// Snapshots by `(apiId, deploymentId)`.
    snapshots: BTreeMap<(String, String), Arc<DeploymentSnapshot>>,
    /// HTTP API snapshots by `(apiId, deploymentId)`.
    http_snapshots: BTreeMap<(String, String), Arc<super::HttpApi>>,
    /// WebSocket API snapshots by `(apiId, deploymentId)`.
    pub(super) web_socket_snapshots: BTreeMap<(String, String), Arc<super::WebSocketApi>>,
}

impl Project {
    /// An empty project in `dir` (not yet written).
    pub fn new(dir: &Path) -> Project {
        Project {
            dir: dir.to_path_buf(),
            rest_apis: Vec::new(),
            functions: Vec::new(),
            api_keys: Vec::new(),
            usage_plans: Vec::new(),
            http_apis: Vec::new(),
            web_socket_apis: Vec::new(),
            snapshots: BTreeMap::new(),
            http_snapshots: BTreeMap::new(),
            web_socket_snapshots: BTreeMap::new(),
        }
    }

    pub fn load(dir: &Path) -> Result<Project, ProjectError> {
        remove_stale_temp_files(dir);
        let path = dir.join(PROJECT_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| ProjectError::io(&path, e))?;
        let file: ProjectFile = parse(&path, &text)?;
        if file.version != FORMAT_VERSION {
            let message = format!(
                "project format version {} is not supported; this Portico reads version {FORMAT_VERSION}",
                file.version
            );
            return Err(ProjectError::located(
                path,
                &text,
                &["version".into()],
                message,
            ));
        }
        let mut project = Project {
            dir: dir.to_path_buf(),
            rest_apis: file.rest_apis,
            functions: file.functions,
            api_keys: file.api_keys,
            usage_plans: file.usage_plans,
            http_apis: file.http_apis,
            web_socket_apis: file.web_socket_apis,
            snapshots: BTreeMap::new(),
            http_snapshots: BTreeMap::new(),
            web_socket_snapshots: BTreeMap::new(),
        };
        let mut names = HashSet::new();
        for (index, function) in project.functions.iter().enumerate() {
            let problem = function
                .validate()
                .err()
                .map(|e| e.to_string())
                .or_else(|| {
                    (!names.insert(function.function_name.as_str()))
                        .then(|| format!("duplicate function name {:?}", function.function_name))
                });
            if let Some(message) = problem {
                let steps: Vec<Step> = vec!["functions".into(), index.into()];
                return Err(ProjectError::located(path, &text, &steps, message));
            }
        }
        if let Some((steps, message)) = validate_keys(&project) {
            return Err(ProjectError::located(path, &text, &steps, message));
        }
        let mut http_ids = HashSet::new();
        for (index, api) in project.http_apis.iter().enumerate() {
            let problem = api.validate().err().or_else(|| {
                (!http_ids.insert(api.api_id.as_str())
                    || project.rest_apis.iter().any(|r| r.id == api.api_id))
                .then(|| {
                    super::InvalidField(
                        vec!["apiId".to_string()],
                        format!("duplicate API id {:?}", api.api_id),
                    )
                })
            });
            if let Some(super::InvalidField(rest, message)) = problem {
                let mut steps: Vec<Step> = vec!["httpApis".into(), index.into()];
                steps.extend(rest.iter().map(|part| match part.parse::<usize>() {
                    Ok(i) => Step::from(i),
                    Err(_) => Step::from(part.as_str()),
                }));
                return Err(ProjectError::located(path, &text, &steps, message));
            }
        }
        for (api_index, api) in project.http_apis.iter().enumerate() {
            for (index, deployment) in api.deployments.iter().enumerate() {
                let snapshot_path = project.snapshot_path(&api.api_id, &deployment.deployment_id);
                let snapshot_text = std::fs::read_to_string(&snapshot_path).map_err(|error| {
                    let steps: Vec<Step> = vec![
                        "httpApis".into(),
                        api_index.into(),
                        "deployments".into(),
                        index.into(),
                    ];
                    let message = format!(
                        "deployment {:?} has no snapshot at {}: {error}",
                        deployment.deployment_id,
                        snapshot_path.display()
                    );
                    ProjectError::located(path.clone(), &text, &steps, message)
                })?;
                let snapshot: super::HttpDeploymentSnapshot =
                    parse(&snapshot_path, &snapshot_text)?;
                if let Err(super::InvalidField(rest, message)) = snapshot.http_api.validate() {
                    let mut steps: Vec<Step> = vec!["httpApi".into()];
                    steps.extend(rest.iter().map(|part| match part.parse::<usize>() {
                        Ok(i) => Step::from(i),
                        Err(_) => Step::from(part.as_str()),
                    }));
                    return Err(ProjectError::located(
                        snapshot_path,
                        &snapshot_text,
                        &steps,
                        message,
                    ));
                }
                project.http_snapshots.insert(
                    (api.api_id.clone(), deployment.deployment_id.clone()),
                    Arc::new(snapshot.http_api),
                );
            }
        }
        project.load_web_socket_apis(&path, &text)?;
        if let Err((steps, message)) = validate(&project.rest_apis) {
            return Err(ProjectError::located(path, &text, &steps, message));
        }
        for (api_index, api) in project.rest_apis.iter().enumerate() {
            for (index, deployment) in api.deployments.iter().enumerate() {
                let snapshot_path = project.snapshot_path(&api.id, &deployment.id);
                let snapshot_text = match std::fs::read_to_string(&snapshot_path) {
                    Ok(text) => text,
                    Err(error) => {
                        let steps: Vec<Step> = vec![
                            "restApis".into(),
                            api_index.into(),
                            "deployments".into(),
                            index.into(),
                        ];
                        let message = format!(
                            "deployment {:?} has no snapshot at {}: {error}",
                            deployment.id,
                            snapshot_path.display()
                        );
                        return Err(ProjectError::located(path, &text, &steps, message));
                    }
                };
                let snapshot: DeploymentSnapshot = parse(&snapshot_path, &snapshot_text)?;
                if let Err((steps, message)) = validate(std::slice::from_ref(&snapshot.rest_api)) {
                    let mut steps = steps;
                    steps.splice(0..2, [Step::from("restApi")]);
                    return Err(ProjectError::located(
                        snapshot_path,
                        &snapshot_text,
                        &steps,
                        message,
                    ));
                }
                project
                    .snapshots
                    .insert((api.id.clone(), deployment.id.clone()), Arc::new(snapshot));
            }
        }
        Ok(project)
    }

    /// Writes `portico.json` atomically. Snapshots are written by
    /// [`Project::deploy`] and never rewritten.
    pub fn save(&self) -> Result<(), ProjectError> {
        let file = ProjectFile {
            version: FORMAT_VERSION,
            rest_apis: self.rest_apis.clone(),
            functions: self.functions.clone(),
            api_keys: self.api_keys.clone(),
            usage_plans: self.usage_plans.clone(),
            http_apis: self.http_apis.clone(),
            web_socket_apis: self.web_socket_apis.clone(),
        };
        let path = self.dir.join(PROJECT_FILE);
        let value = serde_json::to_value(&file).map_err(|e| ProjectError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        // Every front door saves through here: none can store a 9 MB name.
        super::limits::check(&value).map_err(ProjectError::rejected)?;
        write_json_atomic(&path, &value)
    }

    /// Writes the whole project (definition and every deployment snapshot)
    /// into `dir` and makes it the project's directory. Refuses a directory
    /// that already holds another project, so nothing is overwritten.
    pub fn save_as(&mut self, dir: &Path) -> Result<(), ProjectError> {
        let target = dir.join(PROJECT_FILE);
        let same = std::fs::canonicalize(dir).ok() == std::fs::canonicalize(&self.dir).ok();
        if !same && target.exists() {
            return Err(ProjectError::Io {
                path: target,
                message: "a project already exists there; choose an empty folder".into(),
            });
        }
        // Function code stays where it is: relative code paths become absolute.
        let functions = self.functions.clone();
        for function in &mut self.functions {
            function.code_uri = function.code_dir(&self.dir).display().to_string();
        }
        let previous = std::mem::replace(&mut self.dir, dir.to_path_buf());
        let written = self
            .snapshots
            .iter()
            .try_for_each(|((api_id, deployment_id), snapshot)| {
                write_json_atomic(&self.snapshot_path(api_id, deployment_id), &**snapshot)
            })
            .and_then(|()| self.save());
        if written.is_err() {
            self.dir = previous;
            self.functions = functions;
        }
        written
    }

    pub fn snapshot_path(&self, api_id: &str, deployment_id: &str) -> PathBuf {
        self.dir
            .join(DEPLOYMENTS_DIR)
            .join(api_id)
            .join(format!("{deployment_id}.json"))
    }

    pub fn snapshot(&self, api_id: &str, deployment_id: &str) -> Option<&Arc<DeploymentSnapshot>> {
        self.snapshots
            .get(&(api_id.to_string(), deployment_id.to_string()))
    }

    /// Finds an API by id, or by name when exactly one API has that name.
    pub fn find_api(&self, id_or_name: &str) -> Result<&RestApi, ProjectError> {
        if let Some(api) = self.rest_apis.iter().find(|a| a.id == id_or_name) {
            return Ok(api);
        }
        let named: Vec<&RestApi> = self
            .rest_apis
            .iter()
            .filter(|a| a.name == id_or_name)
            .collect();
        match named.as_slice() {
            [api] => Ok(api),
            [] => Err(ProjectError::Rejected(format!(
                "no API with id or name {id_or_name:?} in {}",
                self.dir.display()
            ))),
            _ => Err(ProjectError::Rejected(format!(
                "{} APIs are named {id_or_name:?}; use the id",
                named.len()
            ))),
        }
    }

    /// An HTTP API deployment's snapshot.
    pub fn http_snapshot(&self, api_id: &str, deployment_id: &str) -> Option<&Arc<super::HttpApi>> {
        self.http_snapshots
            .get(&(api_id.to_string(), deployment_id.to_string()))
    }

    /// An HTTP API by id, or by name if only one has it.
    pub fn find_http_api(&self, id_or_name: &str) -> Option<&super::HttpApi> {
        self.http_apis
            .iter()
            .find(|a| a.api_id == id_or_name)
            .or_else(|| {
                let mut named = self.http_apis.iter().filter(|a| a.name == id_or_name);
                match (named.next(), named.next()) {
                    (Some(api), None) => Some(api),
                    _ => None,
                }
            })
    }

    /// Snapshots an HTTP API into a new deployment and points `stage_name`
    /// at it (created if needed, without autoDeploy); saves the project. As
    /// AWS's `CreateDeployment` with `stageName` for apigatewayv2.
    pub fn deploy_http(
        &mut self,
        api_id: &str,
        stage_name: &str,
        description: Option<&str>,
    ) -> Result<super::HttpDeployment, ProjectError> {
        if stage_name != "$default" {
            super::validate_stage_name(stage_name).map_err(ProjectError::rejected)?;
        }
        let api = self
            .http_apis
            .iter()
            .find(|a| a.api_id == api_id)
            .ok_or_else(|| ProjectError::Rejected(format!("no HTTP API with id {api_id:?}")))?;
        let mut snapshot_api = api.clone();
        snapshot_api.stages.clear();
        snapshot_api.deployments.clear();
        let deployment = super::http_api::new_deployment(&api.deployments, description);
        let snapshot_path = self.snapshot_path(api_id, &deployment.deployment_id);
        if let Some(parent) = snapshot_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ProjectError::io(parent, e))?;
        }
        let snapshot = super::HttpDeploymentSnapshot {
            version: FORMAT_VERSION,
            deployment: deployment.clone(),
            http_api: snapshot_api,
        };
        write_json_atomic(&snapshot_path, &snapshot)?;
        self.http_snapshots.insert(
            (api_id.to_string(), deployment.deployment_id.clone()),
            Arc::new(snapshot.http_api),
        );
        let api = self
            .http_apis
            .iter_mut()
            .find(|a| a.api_id == api_id)
            .expect("found above");
        api.deployments.push(deployment.clone());
        super::http_api::point_stage(&mut api.stages, stage_name, &deployment.deployment_id);
        self.save()?;
        Ok(deployment)
    }

    pub fn api_mut(&mut self, id: &str) -> Option<&mut RestApi> {
        self.rest_apis.iter_mut().find(|a| a.id == id)
    }

    /// Snapshots the draft of `api_id` into a new deployment, points stage
    /// `stage_name` at it (creating the stage if needed, merging `variables`
    /// into its stage variables) and saves the project. As AWS's
    /// `CreateDeployment` with `stageName`.
    pub fn deploy(
        &mut self,
        api_id: &str,
        stage_name: &str,
        description: Option<&str>,
        variables: &BTreeMap<String, String>,
    ) -> Result<Deployment, ProjectError> {
        super::validate_stage_name(stage_name).map_err(ProjectError::rejected)?;
        for (name, value) in variables {
            super::validate_stage_variable(name, value).map_err(ProjectError::rejected)?;
        }
        let deployment = self.snapshot_draft(api_id, description)?;
        let now = deployment.created_date.clone().unwrap_or_default();
        let api = self.api_mut(api_id).expect("the API was found above");
        match api.stage_mut(stage_name) {
            Some(stage) => {
                stage.deployment_id = deployment.id.clone();
                stage.variables.extend(variables.clone());
                stage.last_updated_date = Some(now);
            }
            None => api.stages.push(Stage {
                variables: variables.clone(),
                created_date: Some(now.clone()),
                last_updated_date: Some(now),
                ..Stage::new(stage_name, &deployment.id)
            }),
        }
        self.save()?;
        Ok(deployment)
    }

    /// Deploys the draft as a canary of an existing stage (AWS's
    /// `CreateDeployment` with `canarySettings`): the stage keeps its
    /// deployment and sends `percent` of its requests to the new one, which
    /// sees `overrides` over the stage variables.
    pub fn deploy_canary(
        &mut self,
        api_id: &str,
        stage_name: &str,
        description: Option<&str>,
        percent: f64,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Deployment, ProjectError> {
        super::validate_percent_traffic(percent).map_err(ProjectError::rejected)?;
        for (name, value) in overrides {
            super::validate_stage_variable(name, value).map_err(ProjectError::rejected)?;
        }
        let exists = self.find_api(api_id)?.stage(stage_name).is_some();
        if !exists {
            return Err(ProjectError::Rejected(format!(
                "Invalid stage identifier specified: {stage_name} (a canary needs an existing stage)"
            )));
        }
        let deployment = self.snapshot_draft(api_id, description)?;
        let api = self.api_mut(api_id).expect("the API was found above");
        if let Some(stage) = api.stage_mut(stage_name) {
            stage.canary_settings = Some(super::CanarySettings {
                deployment_id: deployment.id.clone(),
                percent_traffic: percent,
                stage_variable_overrides: overrides.clone(),
                use_stage_cache: false,
            });
            stage.last_updated_date = deployment.created_date.clone();
        }
        self.save()?;
        Ok(deployment)
    }

    /// Promotes a stage's canary: the stage serves the canary's deployment
    /// with the overridden variables, and the canary is gone.
    pub fn promote_canary(&mut self, api_id: &str, stage_name: &str) -> Result<(), ProjectError> {
        let api_id = self.find_api(api_id)?.id.clone();
        let api = self.api_mut(&api_id).expect("found above");
        let stage = api.stage_mut(stage_name).ok_or_else(|| {
            ProjectError::Rejected(format!("Invalid stage identifier specified: {stage_name}"))
        })?;
        let canary = stage.canary_settings.take().ok_or_else(|| {
            ProjectError::Rejected(format!("Stage {stage_name} has no canary to promote"))
        })?;
        stage.deployment_id = canary.deployment_id;
        stage.variables.extend(canary.stage_variable_overrides);
        stage.last_updated_date = Some(now_rfc3339());
        self.save()
    }

    /// Removes a stage's canary; the stage serves all traffic again.
    pub fn remove_canary(&mut self, api_id: &str, stage_name: &str) -> Result<(), ProjectError> {
        self.update_canary(api_id, stage_name, |canary| {
            *canary = None;
            Ok(())
        })
    }

    /// Sets the share of traffic a stage's canary serves.
    pub fn set_canary_percent(
        &mut self,
        api_id: &str,
        stage_name: &str,
        percent: f64,
    ) -> Result<(), ProjectError> {
        super::validate_percent_traffic(percent).map_err(ProjectError::rejected)?;
        self.update_canary(api_id, stage_name, |canary| match canary {
            Some(settings) => {
                settings.percent_traffic = percent;
                Ok(())
            }
            None => Err(ProjectError::Rejected(format!(
                "Stage {stage_name} has no canary"
            ))),
        })
    }

    fn update_canary(
        &mut self,
        api_id: &str,
        stage_name: &str,
        change: impl FnOnce(&mut Option<super::CanarySettings>) -> Result<(), ProjectError>,
    ) -> Result<(), ProjectError> {
        let api_id = self.find_api(api_id)?.id.clone();
        let api = self.api_mut(&api_id).expect("found above");
        let stage = api.stage_mut(stage_name).ok_or_else(|| {
            ProjectError::Rejected(format!("Invalid stage identifier specified: {stage_name}"))
        })?;
        change(&mut stage.canary_settings)?;
        stage.last_updated_date = Some(now_rfc3339());
        self.save()
    }

    /// A deployment of the draft that no stage serves yet (AWS's
    /// `CreateDeployment` without `stageName`); saves the project.
    pub fn create_deployment(
        &mut self,
        api_id: &str,
        description: Option<&str>,
    ) -> Result<Deployment, ProjectError> {
        let deployment = self.snapshot_draft(api_id, description)?;
        self.save()?;
        Ok(deployment)
    }

    /// Writes a snapshot of the draft as a new deployment of `api_id`.
    fn snapshot_draft(
        &mut self,
        api_id: &str,
        description: Option<&str>,
    ) -> Result<Deployment, ProjectError> {
        let api = self
            .rest_apis
            .iter()
            .find(|a| a.id == api_id)
            .ok_or_else(|| ProjectError::Rejected(format!("no API with id {api_id:?}")))?;
        if api.resources.iter().all(|r| r.resource_methods.is_empty()) {
            // AWS: BadRequestException "The REST API doesn't contain any methods".
            return Err(ProjectError::Rejected(
                "The REST API doesn't contain any methods".into(),
            ));
        }
        validate(std::slice::from_ref(api))
            .map_err(|(_, message)| ProjectError::Rejected(message))?;
        validate_selection_patterns(api)?;
        let mut ids: HashSet<&str> = api.deployments.iter().map(|d| d.id.as_str()).collect();
        let mut id = super::new_deployment_id();
        while ids.contains(id.as_str()) {
            id = super::new_deployment_id();
        }
        ids.clear();
        let now = now_rfc3339();
        let deployment = Deployment {
            id,
            description: description.map(str::to_string),
            created_date: Some(now.clone()),
        };
        let mut snapshot_api = api.clone();
        snapshot_api.stages.clear();
        snapshot_api.deployments.clear();
        let snapshot = DeploymentSnapshot {
            version: FORMAT_VERSION,
            deployment: deployment.clone(),
            rest_api: snapshot_api,
        };
        let snapshot_path = self.snapshot_path(api_id, &deployment.id);
        if let Some(parent) = snapshot_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ProjectError::io(parent, e))?;
        }
        write_json_atomic(&snapshot_path, &snapshot)?;
        self.snapshots.insert(
            (api_id.to_string(), deployment.id.clone()),
            Arc::new(snapshot),
        );

        let api = self.api_mut(api_id).expect("the API was found above");
        api.deployments.push(deployment.clone());
        Ok(deployment)
    }
}

pub(super) fn parse<T: for<'de> Deserialize<'de>>(
    path: &Path,
    text: &str,
) -> Result<T, ProjectError> {
    serde_json::from_str(text).map_err(|e| ProjectError::syntax(path, &e))
}

/// Writes `value` as pretty JSON to `path` atomically: a temp file in the same
/// directory, fsync, rename over the target, fsync the directory.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), ProjectError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| ProjectError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    text.push('\n');
    write_text_atomic(path, &text)
}

/// Writes `text` to `path` atomically (see [`write_json_atomic`]).
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), ProjectError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| ProjectError::io(dir, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| ProjectError::io(dir, e))?;
    // A temp file is created 0600; keep the target's permissions (or the
    // usual 0644 for a new file) so saving never changes who can read it.
    let permissions = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions(),
        Err(_) => {
            #[cfg(unix)]
            {
                std::os::unix::fs::PermissionsExt::from_mode(0o644)
            }
            #[cfg(not(unix))]
            {
                temp.as_file()
                    .metadata()
                    .map_err(|e| ProjectError::io(path, e))?
                    .permissions()
            }
        }
    };
    temp.write_all(text.as_bytes())
        .and_then(|_| temp.as_file().set_permissions(permissions))
        .and_then(|_| temp.as_file().sync_all())
        .map_err(|e| ProjectError::io(path, e))?;
    temp.persist(path)
        .map_err(|e| ProjectError::io(path, e.error))?;
    if let Ok(dir_handle) = std::fs::File::open(dir) {
        let _ = dir_handle.sync_all();
    }
    Ok(())
}

/// The names of [`write_text_atomic`]'s temp files.
const TEMP_PREFIX: &str = ".portico-save-";

/// Removes temp files a killed writer left in the project (`dir` and the
/// folders below it, three deep): ours (`.portico-save-*`) and those of
/// earlier versions (`.tmp` and six letters or digits, tempfile's
/// default). Only files untouched for a minute: a save in progress in
/// another process is left alone.
pub fn remove_stale_temp_files(dir: &Path) {
    fn stale_temp_name(name: &str) -> bool {
        name.starts_with(TEMP_PREFIX)
            || name.strip_prefix(".tmp").is_some_and(|rest| {
                rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            })
    }
    fn sweep(dir: &Path, depth: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            if kind.is_dir() && depth > 0 {
                sweep(&entry.path(), depth - 1);
            } else if kind.is_file()
                && stale_temp_name(&name.to_string_lossy())
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|modified| modified.elapsed().ok())
                    .is_some_and(|age| age > std::time::Duration::from_secs(60))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    sweep(dir, 3);
}

type Invalid = (Vec<Step>, String);

/// API keys and usage plans: unique key values, known keys, APIs and
/// stages in plans, valid quotas.
fn validate_keys(project: &Project) -> Option<Invalid> {
    let mut values = HashSet::new();
    for (index, key) in project.api_keys.iter().enumerate() {
        if key.value.len() < 20 {
            return Some((
                vec!["apiKeys".into(), index.into(), "value".into()],
                "API Key value should be at least 20 characters".into(),
            ));
        }
        if !values.insert(key.value.as_str()) {
            return Some((
                vec!["apiKeys".into(), index.into(), "value".into()],
                "API Key value already exists".into(),
            ));
        }
    }
    for (index, plan) in project.usage_plans.iter().enumerate() {
        let at = |key: &str| -> Vec<Step> { vec!["usagePlans".into(), index.into(), key.into()] };
        if let Some(id) = plan
            .api_key_ids
            .iter()
            .find(|id| !project.api_keys.iter().any(|k| &k.id == *id))
        {
            return Some((at("apiKeyIds"), format!("no API key with id {id:?}")));
        }
        for stage in &plan.api_stages {
            let known = project
                .rest_apis
                .iter()
                .any(|a| a.id == stage.api_id && a.stage(&stage.stage).is_some());
            if !known {
                return Some((
                    at("apiStages"),
                    format!(
                        "no stage {} in an API with id {:?}",
                        stage.stage, stage.api_id
                    ),
                ));
            }
        }
        if let Some(quota) = &plan.quota
            && let Err(error) = quota.validate()
        {
            return Some((at("quota"), error.to_string()));
        }
    }
    None
}

/// Every integration response's selection pattern compiles: a deployment
/// never carries one the gateway cannot serve (AWS refuses them at
/// `PutIntegrationResponse`; drafts from files and imports are checked
/// here, at deploy).
fn validate_selection_patterns(api: &RestApi) -> Result<(), ProjectError> {
    for resource in &api.resources {
        for (verb, method) in &resource.resource_methods {
            let Some(integration) = &method.method_integration else {
                continue;
            };
            for (status, response) in &integration.integration_responses {
                if let Some(pattern) = &response.selection_pattern {
                    super::validate_selection_pattern(pattern).map_err(|e| {
                        ProjectError::Rejected(format!(
                            "Invalid selection pattern specified for {verb} {} integration response {status}: {e}",
                            resource.path
                        ))
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// Checks what serde cannot: a consistent resource tree, method keys, stage
/// pointers. Returns where (as a path into the file) and what is wrong.
fn validate(apis: &[RestApi]) -> Result<(), Invalid> {
    let mut api_ids = HashSet::new();
    for (api_index, api) in apis.iter().enumerate() {
        let at = |rest: &[Step]| -> Vec<Step> {
            let mut steps: Vec<Step> = vec!["restApis".into(), api_index.into()];
            steps.extend_from_slice(rest);
            steps
        };
        if !api_ids.insert(api.id.as_str()) {
            return Err((at(&["id".into()]), format!("duplicate API id {:?}", api.id)));
        }
        let roots = api
            .resources
            .iter()
            .filter(|r| r.parent_id.is_none())
            .count();
        if roots != 1 {
            return Err((
                at(&["resources".into()]),
                format!(
                    "expected exactly one root resource (no parentId, path \"/\"), found {roots}"
                ),
            ));
        }
        let mut resource_ids = HashSet::new();
        for (index, resource) in api.resources.iter().enumerate() {
            let here = |key: &str| at(&["resources".into(), index.into(), key.into()]);
            if !resource_ids.insert(resource.id.as_str()) {
                return Err((
                    here("id"),
                    format!("duplicate resource id {:?}", resource.id),
                ));
            }
            match (&resource.parent_id, &resource.path_part) {
                (None, _) if resource.path != "/" => {
                    return Err((
                        here("path"),
                        "the root resource must have path \"/\"".into(),
                    ));
                }
                (None, Some(_)) => {
                    return Err((here("pathPart"), "the root resource has no pathPart".into()));
                }
                (Some(parent_id), path_part) => {
                    let Some(parent) = api.resource(parent_id) else {
                        return Err((
                            here("parentId"),
                            format!("no resource with id {parent_id:?}"),
                        ));
                    };
                    let Some(path_part) = path_part else {
                        return Err((here("path"), "a child resource needs a pathPart".into()));
                    };
                    if let Err(e) = super::validate_path_part(path_part) {
                        return Err((here("pathPart"), format!("{e} (got {path_part:?})")));
                    }
                    if parent
                        .path_part
                        .as_deref()
                        .is_some_and(|p| p.ends_with("+}"))
                    {
                        return Err((
                            here("parentId"),
                            format!(
                                "Cannot create a child of a resource with a greedy path variable: {}",
                                parent.path
                            ),
                        ));
                    }
                    let expected = if parent.path == "/" {
                        format!("/{path_part}")
                    } else {
                        format!("{}/{path_part}", parent.path)
                    };
                    if resource.path != expected {
                        return Err((
                            here("path"),
                            format!("expected path {expected:?} (parent path + pathPart)"),
                        ));
                    }
                }
                _ => {}
            }
            for (verb, method) in &resource.resource_methods {
                let steps = at(&[
                    "resources".into(),
                    index.into(),
                    "resourceMethods".into(),
                    verb.as_str().into(),
                ]);
                if !HTTP_METHODS.contains(&verb.as_str()) {
                    return Err((
                        steps,
                        format!(
                            "unknown HTTP method {verb:?}; expected one of {}",
                            HTTP_METHODS.join(", ")
                        ),
                    ));
                }
                if &method.http_method != verb {
                    return Err((
                        steps,
                        format!(
                            "method key {verb:?} and httpMethod {:?} differ",
                            method.http_method
                        ),
                    ));
                }
                let field = |key: &str| {
                    let mut steps = steps.clone();
                    steps.push(key.into());
                    steps
                };
                if let Some(id) = &method.request_validator_id
                    && !api.request_validators.iter().any(|v| &v.id == id)
                {
                    return Err((
                        field("requestValidatorId"),
                        format!("no request validator with id {id:?} in this API"),
                    ));
                }
                if let Some(id) = &method.authorizer_id
                    && !api.authorizers.iter().any(|a| &a.id == id)
                {
                    return Err((
                        field("authorizerId"),
                        format!("no authorizer with id {id:?} in this API"),
                    ));
                }
                for model in method.request_models.values() {
                    if !api.models.iter().any(|m| &m.name == model) {
                        return Err((
                            field("requestModels"),
                            format!("no model named {model:?} in this API"),
                        ));
                    }
                }
            }
        }
        let mut model_names = HashSet::new();
        for (index, model) in api.models.iter().enumerate() {
            let here = |key: &str| at(&["models".into(), index.into(), key.into()]);
            super::validate_model_name(&model.name).map_err(|e| (here("name"), e.to_string()))?;
            if !model_names.insert(model.name.as_str()) {
                return Err((
                    here("name"),
                    format!("duplicate model name {:?}", model.name),
                ));
            }
            if let Some(schema) = &model.schema
                && let Err(e) = serde_json::from_str::<serde_json::Value>(schema)
            {
                return Err((here("schema"), format!("the schema is not valid JSON: {e}")));
            }
        }
        let mut seen_paths = HashSet::new();
        for (index, resource) in api.resources.iter().enumerate() {
            if !seen_paths.insert(resource.path.as_str()) {
                return Err((
                    at(&["resources".into(), index.into(), "path".into()]),
                    format!("duplicate resource path {:?}", resource.path),
                ));
            }
        }
        for (index, stage) in api.stages.iter().enumerate() {
            let here = |key: &str| at(&["stages".into(), index.into(), key.into()]);
            super::validate_stage_name(&stage.stage_name)
                .map_err(|e| (here("stageName"), e.to_string()))?;
            if let Some(canary) = &stage.canary_settings {
                let canary_at = |key: &str| {
                    at(&[
                        "stages".into(),
                        index.into(),
                        "canarySettings".into(),
                        key.into(),
                    ])
                };
                if !api.deployments.iter().any(|d| d.id == canary.deployment_id) {
                    return Err((
                        canary_at("deploymentId"),
                        format!(
                            "no deployment with id {:?} in this API's deployments",
                            canary.deployment_id
                        ),
                    ));
                }
                super::validate_percent_traffic(canary.percent_traffic)
                    .map_err(|e| (canary_at("percentTraffic"), e.to_string()))?;
            }
            if !api.deployments.iter().any(|d| d.id == stage.deployment_id) {
                return Err((
                    here("deploymentId"),
                    format!(
                        "no deployment with id {:?} in this API's deployments",
                        stage.deployment_id
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl fmt::Display for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.dir.display())
    }
}
