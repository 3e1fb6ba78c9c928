//! Phase "integrate" (REST): call the endpoint (MOCK, HTTP, HTTP_PROXY,
//! Lambda, Lambda proxy) and log what it answered. Runs after the request
//! mapping; sets `$context.integrationLatency` / `integrationStatus`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::respond::{FUNCTION_ERROR, log_method_response};
use super::route::Routed;
use crate::gateway::compile::{CompiledIntegration, CompiledStage};
use crate::gateway::context::RequestContext;
use crate::gateway::endpoint::{HeadersDisplay, header_str};
use crate::gateway::request::MethodRequest;
use crate::gateway::responses::{GatewayError, Reply};
use crate::gateway::services::Services;
use crate::gateway::transform::{self};
use crate::integrations::{
    EndpointRequest, EndpointResponse, Integrate, IntegrationError, MockIntegration,
};
use crate::model::{GatewayResponseType, IntegrationType};
use crate::observe::{ExecutionLog, Lossy};

/// Calls a Lambda function with the mapped body (`AWS` integration):
/// synchronously, or as an event when the mapped request has
/// `X-Amz-Invocation-Type: Event` (Lambda then answers 202, no body).
pub(crate) async fn lambda_invoke(
    function: &str,
    request: EndpointRequest,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<EndpointResponse, IntegrationError> {
    let arn = function_arn(services, function);
    log_lambda_call(log, &arn, Some(&request.body));
    let asynchronous = request
        .headers
        .get("x-amz-invocation-type")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"event"));
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if asynchronous {
        services
            .functions
            .invoke_event(function, request.body)
            .await
            .map_err(|e| IntegrationError::Configuration(e.to_string()))?;
        return Ok(EndpointResponse {
            status: 202,
            headers,
            body: Bytes::new(),
        });
    }
    match services.functions.invoke(function, request.body).await {
        Ok(crate::functions::Outcome::Success(body)) => Ok(EndpointResponse {
            status: 200,
            headers,
            body,
        }),
        Ok(crate::functions::Outcome::Error {
            error_type,
            payload,
        }) => {
            if let Ok(value) = HeaderValue::from_str(&error_type) {
                headers.insert(FUNCTION_ERROR, value);
            }
            Ok(EndpointResponse {
                status: 200,
                headers,
                body: payload,
            })
        }
        Err(error) => Err(IntegrationError::Configuration(error.to_string())),
    }
}

pub(crate) fn function_arn(services: &Services, function: &str) -> String {
    services
        .functions
        .definition(function)
        .map(|d| d.arn())
        .unwrap_or_else(|| {
            format!(
                "arn:aws:lambda:{}:{}:function:{function}",
                crate::model::function::REGION,
                crate::model::function::ACCOUNT_ID
            )
        })
}

/// The `AWS_PROXY` integration: the request as a proxy event to the
/// function, the function's answer as the response (AWS's rules; anything
/// else is a 502).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn lambda_proxy(
    stage: &CompiledStage,
    integration: &CompiledIntegration,
    request: &MethodRequest,
    routed: &Routed,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
    integration_latency: &mut Option<Duration>,
) -> Result<Reply, GatewayError> {
    let internal = || {
        GatewayError::with_message(GatewayResponseType::Default5xx, "Internal server error")
            .with_status(502)
    };
    let Some(function) = &integration.function else {
        log.push("Execution failed due to configuration error: Invalid Lambda function ARN in the integration URI");
        return Err(GatewayError::new(
            GatewayResponseType::ApiConfigurationError,
        ));
    };
    let event = proxy_event_of(stage, request, routed, context, &request.body);
    let payload = Bytes::from(event.to_string());
    let arn = function_arn(services, function);
    log_lambda_call(log, &arn, Some(&payload));
    let started = Instant::now();
    let outcome = services.functions.invoke(function, payload).await;
    let latency = started.elapsed();
    *integration_latency = Some(latency);
    context.integration_latency_ms = Some(latency.as_millis() as u64);
    let result = match outcome {
        // AWS maps a throttled Lambda (429 TooManyRequestsException) to a
        // 500 through INTEGRATION_FAILURE, also for proxy integrations.
        Err(crate::functions::InvokeError::Throttled) => {
            log.push("Execution failed due to a limit exceeded error: Lambda answered 429 TooManyRequestsException (Rate Exceeded.)");
            return Err(GatewayError::with_message(
                GatewayResponseType::IntegrationFailure,
                "Internal server error",
            )
            .with_status(500));
        }
        Err(error) => {
            log.push_fmt(format_args!(
                "Execution failed due to configuration error: {error}"
            ));
            return Err(GatewayError::new(
                GatewayResponseType::ApiConfigurationError,
            ));
        }
        Ok(crate::functions::Outcome::Error { payload, .. }) => {
            log.push_fmt(format_args!(
                "Received response. Status: 200, Integration latency: {} ms",
                latency.as_millis()
            ));
            log.push_fmt(format_args!(
                "Lambda execution failed with status 200 due to customer function error: {}",
                crate::integrations::lambda::error_message(&payload)
            ));
            log.push_with(
                "Endpoint response body before transformations: ",
                Lossy(&payload),
            );
            return Err(internal());
        }
        Ok(crate::functions::Outcome::Success(payload)) => payload,
    };
    log.push_fmt(format_args!(
        "Received response. Status: 200, Integration latency: {} ms",
        latency.as_millis()
    ));
    log.push_with(
        "Endpoint response body before transformations: ",
        Lossy(&result),
    );
    match crate::integrations::lambda::proxy_response(&result) {
        Ok(response) => {
            context.integration_status = Some(response.status);
            log_method_response(log, &response.body, &response.headers);
            Ok(Reply {
                status: response.status,
                headers: response.headers,
                body: response.body,
            })
        }
        Err(reason) => {
            log.push_fmt(format_args!(
                "Execution failed due to configuration error: Malformed Lambda proxy response ({reason})"
            ));
            Err(internal())
        }
    }
}

/// The proxy event for this request (`AWS_PROXY` integrations and REQUEST
/// authorizers).
pub(crate) fn proxy_event_of(
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    context: &RequestContext,
    body: &[u8],
) -> serde_json::Value {
    let content_type = header_str(&request.headers, http::header::CONTENT_TYPE);
    let content_type = transform::media_type(&content_type);
    crate::integrations::lambda::proxy_event(&crate::integrations::lambda::ProxyRequest {
        resource_path: &context.resource_path,
        path: &request.path,
        http_method: request.http_method.as_str(),
        headers: &request.headers,
        query: &request.query,
        path_parameters: &routed.path_parameters,
        stage_variables: &stage.stage_variables,
        context: context.to_json(),
        body,
        binary: !body.is_empty() && transform::is_binary(&content_type, &stage.binary_media_types),
    })
}

/// The execution log's lines for a call to Lambda's Invoke API.
pub(crate) fn log_lambda_call(log: &mut ExecutionLog, arn: &str, body: Option<&[u8]>) {
    let url =
        format!("https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{arn}/invocations");
    log.push_with("Endpoint request URI: ", url.as_str());
    if let Some(body) = body {
        log.push_with("Endpoint request body after transformations: ", Lossy(body));
        log.push_with("Sending request to ", url.as_str());
    }
}

/// Phase: call the endpoint.
pub(crate) async fn integrate(
    integration: &CompiledIntegration,
    request: EndpointRequest,
    from_template: bool,
    services: &Services,
    log: &mut ExecutionLog,
    started: Instant,
) -> Result<EndpointResponse, GatewayError> {
    let result = match integration.integration_type {
        IntegrationType::Mock => MockIntegration { from_template }.invoke(request).await,
        IntegrationType::Http | IntegrationType::HttpProxy => services.http.invoke(request).await,
        IntegrationType::Aws => match &integration.function {
            Some(function) => lambda_invoke(function, request, services, log).await,
            None => Err(IntegrationError::Configuration(
                "AWS service integrations other than Lambda are not supported by this version of Portico".into(),
            )),
        },
        IntegrationType::AwsProxy => Err(IntegrationError::Configuration(
            "AWS_PROXY is handled before integration".into(),
        )),
    };
    match result {
        Ok(response) => {
            if integration.integration_type != IntegrationType::Mock {
                log.push_parts(&[
                    &"Received response. Status: ",
                    &response.status,
                    &", Integration latency: ",
                    &(started.elapsed().as_millis() as u64),
                    &" ms",
                ]);
                log.push_with(
                    "Endpoint response headers: ",
                    HeadersDisplay(&response.headers),
                );
                log.push_with(
                    "Endpoint response body before transformations: ",
                    Lossy(&response.body),
                );
            }
            Ok(response)
        }
        Err(error) => {
            log.push_fmt(format_args!("{error}"));
            Err(match error {
                IntegrationError::Timeout => {
                    GatewayError::new(GatewayResponseType::IntegrationTimeout)
                }
                IntegrationError::Network(_) => {
                    GatewayError::new(GatewayResponseType::IntegrationFailure)
                }
                IntegrationError::Configuration(_) => {
                    GatewayError::new(GatewayResponseType::ApiConfigurationError)
                }
            })
        }
    }
}
