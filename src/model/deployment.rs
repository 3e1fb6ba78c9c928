//! `Deployment`: an immutable snapshot of an API's draft.

use serde::{Deserialize, Serialize};

use super::RestApi;

/// AWS `Deployment`, as listed in the project file. The snapshot itself lives
/// in `deployments/{apiId}/{id}.json` and never changes once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
}

/// The file a deployment is stored in: its metadata and the API as it was
/// when deployed (with no stages or deployment list of its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSnapshot {
    pub version: u32,
    pub deployment: Deployment,
    pub rest_api: RestApi,
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
