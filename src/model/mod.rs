//! The API model: AWS API Gateway's REST resource model in Rust types.
//!
//! Field names follow AWS's (camelCase in serde) so that OpenAPI import/export
//! and the control plane are thin mappings. An API has a **draft** (what the
//! designer edits, [`RestApi::resources`]) and immutable **deployments**
//! (snapshots of the draft); a [`Stage`] points at one deployment.

mod api;
mod authorizer;
mod cors;
mod deployment;
pub mod function;
mod gateway_response;
mod http_api;
mod ids;
mod integration;
pub mod limits;
pub mod locate;
mod method;
mod model_schema;
pub mod project;
mod resource;
pub mod selection_pattern;
pub mod stage;
mod usage_plan;
mod websocket_api;

pub use api::{ApiKeySource, EndpointConfiguration, RestApi};
pub use authorizer::Authorizer;
pub use cors::DEFAULT_ALLOW_HEADERS;
pub(crate) use deployment::now_rfc3339;
pub use deployment::{Deployment, DeploymentSnapshot};
pub use function::{FunctionDefinition, FunctionError, RuntimeKind, function_from_uri};
pub use gateway_response::{GatewayResponse, GatewayResponseType};
pub use http_api::{
    CorsConfiguration, HttpApi, HttpAuthorizer, HttpDeployment, HttpDeploymentSnapshot,
    HttpIntegration, HttpStage, InvalidField, JwtConfiguration, MappingAction, MappingKeyError,
    MappingPlace, Route, RouteKey, RouteKeyError, parse_mapping_key,
};
pub use ids::{new_deployment_id, new_resource_id, new_rest_api_id};
pub use integration::{
    ContentHandling, DEFAULT_TIMEOUT_MILLIS, Integration, IntegrationResponse, IntegrationType,
    PassthroughBehavior, TlsConfig,
};
pub use method::{Method, MethodError, MethodResponse};
pub use model_schema::{
    JSON_CONTENT_TYPE, Model, ModelNameError, RequestValidator, validate_model_name,
};
pub use project::{Project, ProjectError};
pub use resource::{Resource, ResourceError, validate_path_part};
pub use selection_pattern::{SelectionPattern, SelectionPatternError, validate_selection_pattern};
pub use stage::{
    CanarySettings, MethodSetting, Stage, StageError, validate_percent_traffic,
    validate_stage_name, validate_stage_variable,
};
pub use usage_plan::{
    ApiKey, ApiStage, QuotaSettings, ThrottleSettings, UsagePlan, UsagePlanError,
};
pub use websocket_api::{
    RouteResponse, SelectionExpressionError, WEBSOCKET_MAX_TIMEOUT_MILLIS, WebSocketApi,
    WebSocketDeploymentSnapshot, WebSocketIntegration, WebSocketIntegrationResponse,
    WebSocketRoute, validate_selection_expression,
};
