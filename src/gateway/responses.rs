//! Gateway responses: the answers the gateway itself produces (missing
//! token, timeouts, configuration errors), with AWS's default statuses,
//! bodies and `x-amzn-ErrorType` headers, overridable per API.

use std::collections::BTreeMap;

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::model::{GatewayResponse, GatewayResponseType};

use super::mapping::{MappingScope, Source};

/// A failure that ends the pipeline with a gateway response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub response_type: GatewayResponseType,
    /// `$context.error.message`.
    pub message: String,
    /// A status other than the type's default (a malformed Lambda proxy
    /// response is `DEFAULT_5XX` with 502), unless the API customizes it.
    pub status: Option<u16>,
}

impl GatewayError {
    pub fn new(response_type: GatewayResponseType) -> GatewayError {
        GatewayError {
            response_type,
            message: defaults(response_type).message.to_string(),
            status: None,
        }
    }

    pub fn with_message(
        response_type: GatewayResponseType,
        message: impl Into<String>,
    ) -> GatewayError {
        GatewayError {
            response_type,
            message: message.into(),
            status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> GatewayError {
        self.status = Some(status);
        self
    }
}

/// AWS's defaults for a response type.
pub struct Defaults {
    pub status: u16,
    pub message: &'static str,
    pub error_type: &'static str,
    /// AWS's 5xx integration errors print `{"message": "..."}` with a space
    /// after the colon (e.g. a captured 504 has `Content-Length: 56` for
    /// `{"message": "Network error communicating with endpoint"}`); the 4xx
    /// ones print `{"message":"..."}`.
    pub spaced_body: bool,
}

/// Default status (AWS's table at
/// <https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>),
/// message and error type of each response type. Messages and error types
/// come from responses captured from AWS where public captures exist
/// (`Missing Authentication Token`/`MissingAuthenticationTokenException`,
/// `Forbidden`/`ForbiddenException`, the 504 `Network error communicating with
/// endpoint`/`InternalServerErrorException`).
pub fn defaults(response_type: GatewayResponseType) -> Defaults {
    use GatewayResponseType as T;
    let (status, message, error_type, spaced_body) = match response_type {
        T::AccessDenied => (
            403,
            "User is not authorized to access this resource",
            "AccessDeniedException",
            false,
        ),
        T::ApiConfigurationError => (
            500,
            "Internal server error",
            "InternalServerErrorException",
            true,
        ),
        // Captured from AWS: 500, `x-amzn-ErrorType:
        // AuthorizerConfigurationException`, body `{"message": null}`
        // (aws/chalice#670, serverless/serverless#829).
        T::AuthorizerConfigurationError => (500, "", "AuthorizerConfigurationException", true),
        T::AuthorizerFailure => (
            500,
            "Internal server error",
            "InternalServerErrorException",
            true,
        ),
        T::BadRequestParameters => (
            400,
            "Missing required request parameters",
            "BadRequestException",
            false,
        ),
        T::BadRequestBody => (400, "Invalid request body", "BadRequestException", false),
        T::Default4xx => (400, "Bad Request", "BadRequestException", false),
        T::Default5xx => (
            500,
            "Internal server error",
            "InternalServerErrorException",
            true,
        ),
        T::ExpiredToken => (
            403,
            "The security token included in the request is expired",
            "ExpiredTokenException",
            false,
        ),
        T::IntegrationFailure => (
            504,
            "Network error communicating with endpoint",
            "InternalServerErrorException",
            true,
        ),
        T::IntegrationTimeout => (
            504,
            "Endpoint request timed out",
            "InternalServerErrorException",
            true,
        ),
        T::InvalidApiKey => (403, "Forbidden", "ForbiddenException", false),
        T::InvalidSignature => (
            403,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            "InvalidSignatureException",
            false,
        ),
        T::MissingAuthenticationToken => (
            403,
            "Missing Authentication Token",
            "MissingAuthenticationTokenException",
            false,
        ),
        T::QuotaExceeded => (429, "Limit Exceeded", "LimitExceededException", false),
        T::RequestTooLarge => (413, "Request Too Long", "RequestTooLargeException", false),
        T::ResourceNotFound => (404, "Not Found", "NotFoundException", false),
        T::Throttled => (429, "Too Many Requests", "TooManyRequestsException", false),
        T::Unauthorized => (401, "Unauthorized", "UnauthorizedException", false),
        T::UnsupportedMediaType => (
            415,
            "Unsupported Media Type",
            "UnsupportedMediaTypeException",
            false,
        ),
        T::WafFiltered => (403, "Forbidden", "ForbiddenException", false),
    };
    Defaults {
        status,
        message,
        error_type,
        spaced_body,
    }
}

/// A response ready to send: status, headers, body.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn json_headers(error_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    headers
}

/// The response AWS sends for a stage or API that does not exist on the
/// domain: 403 `{"message":"Forbidden"}` with `ForbiddenException` (as
/// captured from `*.execute-api.*.amazonaws.com` for a wrong stage).
pub fn unknown_stage() -> Reply {
    Reply {
        status: 403,
        headers: json_headers("ForbiddenException"),
        body: bytes::Bytes::from_static(br#"{"message":"Forbidden"}"#),
    }
}

/// The 413 AWS sends for a payload over 10 MB: plain text, not a gateway
/// response, not customizable (observed: `HTTP content length exceeded
/// 10485760 bytes.`).
pub fn payload_too_large(limit: usize) -> Reply {
    Reply {
        status: 413,
        headers: [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )]
        .into_iter()
        .collect(),
        body: bytes::Bytes::from(format!("HTTP content length exceeded {limit} bytes.")),
    }
}

/// An API's gateway response customizations, compiled.
#[derive(Debug, Clone, Default)]
pub struct GatewayResponses {
    custom: BTreeMap<GatewayResponseType, CompiledCustom>,
}

#[derive(Debug, Clone)]
struct CompiledCustom {
    status: Option<u16>,
    headers: Vec<(String, Source)>,
    templates: BTreeMap<String, String>,
}

impl GatewayResponses {
    pub fn compile(
        responses: &BTreeMap<String, GatewayResponse>,
    ) -> Result<GatewayResponses, String> {
        let mut custom = BTreeMap::new();
        for (key, response) in responses {
            let status = match &response.status_code {
                Some(code) => Some(
                    code.parse::<u16>()
                        .ok()
                        .filter(|c| (100..=599).contains(c))
                        .ok_or_else(|| {
                            format!("gateway response {key}: invalid statusCode {code:?}")
                        })?,
                ),
                None => None,
            };
            let mut headers = Vec::new();
            for (target, source) in &response.response_parameters {
                let name = target.strip_prefix("gatewayresponse.header.").ok_or_else(|| {
                    format!("gateway response {key}: invalid parameter {target:?} (expected gatewayresponse.header.NAME)")
                })?;
                let source =
                    Source::parse(source).map_err(|e| format!("gateway response {key}: {e}"))?;
                headers.push((name.to_string(), source));
            }
            custom.insert(
                response.response_type,
                CompiledCustom {
                    status,
                    headers,
                    templates: response.response_templates.clone(),
                },
            );
        }
        Ok(GatewayResponses { custom })
    }

    /// Renders `error` as the API's gateway response. A type without its own
    /// customization takes `DEFAULT_4XX` / `DEFAULT_5XX`'s by its status class.
    pub fn render(&self, error: &GatewayError, scope: &MappingScope<'_>) -> Reply {
        let defaults = defaults(error.response_type);
        let fallback = if defaults.status >= 500 {
            GatewayResponseType::Default5xx
        } else {
            GatewayResponseType::Default4xx
        };
        let custom = self
            .custom
            .get(&error.response_type)
            .or_else(|| self.custom.get(&fallback));
        let status = custom
            .and_then(|c| c.status)
            .or(error.status)
            .unwrap_or(defaults.status);
        let mut headers = json_headers(defaults.error_type);
        let template = custom.and_then(|c| {
            c.templates
                .get("application/json")
                .map(|t| ("application/json", t))
                .or_else(|| c.templates.iter().next().map(|(k, v)| (k.as_str(), v)))
        });
        let body = match template {
            Some((content_type, template)) => {
                if let Ok(value) = HeaderValue::from_str(content_type) {
                    headers.insert(CONTENT_TYPE, value);
                }
                render_gateway_template(template, error, scope)
            }
            None => {
                let message = if error.message.is_empty()
                    && error.response_type == GatewayResponseType::AuthorizerConfigurationError
                {
                    "null".to_string()
                } else {
                    serde_json::to_string(&error.message).unwrap_or_default()
                };
                if defaults.spaced_body {
                    format!("{{\"message\": {message}}}")
                } else {
                    format!("{{\"message\":{message}}}")
                }
            }
        };
        if let Some(custom) = custom {
            for (name, source) in &custom.headers {
                if let Some(value) = scope.resolve(source)
                    && let (Ok(name), Ok(value)) = (
                        HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(&value),
                    )
                {
                    headers.insert(name, value);
                }
            }
        }
        Reply {
            status,
            headers,
            body: bytes::Bytes::from(body),
        }
    }
}

/// Gateway response templates are not Velocity: AWS "supports only simple
/// variable substitution" in them and does not run the VTL engine
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html>).
/// So `$context.x`, `${context.x}` and `$stageVariables.x` are replaced and
/// everything else, `#if` included, is literal text.
fn render_gateway_template(
    template: &str,
    error: &GatewayError,
    scope: &MappingScope<'_>,
) -> String {
    let mut context = scope.context.clone();
    context.error_message = Some(error.message.clone());
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let (braced, body) = match after.strip_prefix('{') {
            Some(inner) => (true, inner),
            None => (false, after),
        };
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(body.len());
        let name = body[..end].trim_end_matches('.');
        let value = if let Some(variable) = name.strip_prefix("context.") {
            context.get(variable)
        } else {
            name.strip_prefix("stageVariables.").map(|variable| {
                scope
                    .stage_variables
                    .iter()
                    .find(|(k, _)| k == variable)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
        };
        let consumed = name.len() + usize::from(braced) * 2;
        match value {
            Some(value) if !braced || body[name.len()..].starts_with('}') => {
                out.push_str(&value);
                rest = &after[consumed..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
