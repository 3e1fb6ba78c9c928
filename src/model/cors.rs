//! "Enable CORS" on a REST resource, as the API Gateway console does it
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors-console.html>):
//! an OPTIONS method with a MOCK integration that answers the preflight
//! with `Access-Control-Allow-Headers/Methods/Origin`, the
//! `Access-Control-Allow-Origin` header mapped on the resource's other
//! (non-proxy) methods, and the CORS headers on the DEFAULT_4XX and
//! DEFAULT_5XX gateway responses, so errors carry them too.

use std::collections::BTreeMap;

use super::{
    GatewayResponse, GatewayResponseType, Integration, IntegrationResponse, IntegrationType,
    Method, MethodError, MethodResponse, RestApi,
};

/// The console's default `Access-Control-Allow-Headers`.
pub const DEFAULT_ALLOW_HEADERS: &str =
    "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token";

const ALLOW_ORIGIN: &str = "Access-Control-Allow-Origin";

fn quoted(value: &str) -> String {
    format!("'{value}'")
}

impl RestApi {
    /// Enables CORS on a resource for `allow_origin` (`*` by default in the
    /// console). Returns the methods the preflight allows.
    pub fn enable_cors(
        &mut self,
        resource_id: &str,
        allow_origin: &str,
    ) -> Result<String, MethodError> {
        if allow_origin.is_empty() || allow_origin.contains('\'') {
            return Err(MethodError::InvalidAllowOrigin(allow_origin.to_string()));
        }
        let resource = self
            .resource_mut(resource_id)
            .ok_or_else(|| MethodError::NoResource(resource_id.to_string()))?;
        let mut verbs: Vec<String> = resource
            .resource_methods
            .keys()
            .filter(|v| *v != "OPTIONS")
            .cloned()
            .collect();
        if verbs.iter().any(|v| v == "ANY") {
            verbs = ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]
                .iter()
                .map(|v| v.to_string())
                .collect();
        }
        verbs.push("OPTIONS".into());
        let allow_methods = verbs.join(",");

        let header = |name: &str| format!("method.response.header.{name}");
        let mut options = Method::new("OPTIONS");
        options.method_responses.insert(
            "200".into(),
            MethodResponse {
                status_code: "200".into(),
                response_parameters: [
                    "Access-Control-Allow-Headers",
                    "Access-Control-Allow-Methods",
                    ALLOW_ORIGIN,
                ]
                .iter()
                .map(|name| (header(name), false))
                .collect(),
                response_models: BTreeMap::new(),
            },
        );
        let mut integration = Integration::new(IntegrationType::Mock);
        integration
            .request_templates
            .insert("application/json".into(), "{\"statusCode\": 200}".into());
        integration.integration_responses.insert(
            "200".into(),
            IntegrationResponse {
                status_code: "200".into(),
                selection_pattern: None,
                response_parameters: [
                    (
                        header("Access-Control-Allow-Headers"),
                        quoted(DEFAULT_ALLOW_HEADERS),
                    ),
                    (
                        header("Access-Control-Allow-Methods"),
                        quoted(&allow_methods),
                    ),
                    (header(ALLOW_ORIGIN), quoted(allow_origin)),
                ]
                .into_iter()
                .collect(),
                response_templates: [("application/json".to_string(), String::new())]
                    .into_iter()
                    .collect(),
                content_handling: None,
            },
        );
        options.method_integration = Some(integration);
        resource.resource_methods.insert("OPTIONS".into(), options);

        for (verb, method) in resource.resource_methods.iter_mut() {
            if verb == "OPTIONS" {
                continue;
            }
            let Some(integration) = method.method_integration.as_mut() else {
                continue;
            };
            // Proxy integrations pass the backend's headers through; the
            // backend sends the CORS header itself.
            if matches!(
                integration.integration_type,
                IntegrationType::HttpProxy | IntegrationType::AwsProxy
            ) {
                continue;
            }
            for response in method.method_responses.values_mut() {
                response
                    .response_parameters
                    .insert(header(ALLOW_ORIGIN), false);
            }
            for response in integration.integration_responses.values_mut() {
                response
                    .response_parameters
                    .insert(header(ALLOW_ORIGIN), quoted(allow_origin));
            }
        }

        for response_type in [
            GatewayResponseType::Default4xx,
            GatewayResponseType::Default5xx,
        ] {
            let key = response_type.as_str().to_string();
            let response = self
                .gateway_responses
                .entry(key)
                .or_insert_with(|| GatewayResponse {
                    response_type,
                    status_code: None,
                    response_parameters: BTreeMap::new(),
                    response_templates: BTreeMap::new(),
                });
            response.response_parameters.insert(
                format!("gatewayresponse.header.{ALLOW_ORIGIN}"),
                quoted(allow_origin),
            );
            response.response_parameters.insert(
                "gatewayresponse.header.Access-Control-Allow-Headers".into(),
                quoted(DEFAULT_ALLOW_HEADERS),
            );
        }
        Ok(allow_methods)
    }
}
