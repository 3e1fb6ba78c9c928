//! `$context`: what API Gateway knows about a request, for mappings
//! (`context.requestId`), templates and logs.

use std::time::SystemTime;

use base64::Engine as _;

/// A context string: short ones (methods, ids, addresses, most paths)
/// are kept inline, so filling a context per request allocates little,
/// and clones of long ones share their text.
pub type Text = smol_str::SmolStr;

/// The account id Portico reports, as LocalStack does (`000000000000`).
pub const ACCOUNT_ID: &str = "000000000000";

/// Per-request context variables (a subset of AWS's `$context`, the rest is
/// added by the features that own them).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    /// `x-amz-apigw-id`: 15 base64 characters and `=`, as AWS's.
    pub extended_request_id: Text,
    pub api_id: Text,
    pub stage: Text,
    pub resource_id: Text,
    pub resource_path: Text,
    pub http_method: Text,
    /// The request path as the client sent it, with the stage (`/dev/pets/7`).
    pub path: Text,
    pub protocol: Text,
    pub domain_name: Text,
    pub source_ip: Text,
    pub user_agent: Text,
    pub request_time: SystemTime,
    pub deployment_id: Text,
    /// Set when the pipeline fails: what `$context.error.message` shows.
    pub error_message: Option<String>,
    pub error_response_type: Option<&'static str>,
    /// Set when request validation fails: `$context.error.validationErrorString`.
    pub validation_error_string: Option<String>,
    pub integration_status: Option<u16>,
    pub integration_latency_ms: Option<u64>,
    /// What a Lambda authorizer returned: `principalId` and its `context`
    /// (`$context.authorizer.*`).
    pub authorizer: serde_json::Map<String, serde_json::Value>,
    /// Served by the stage's canary.
    pub is_canary: bool,
    /// The authorizer's `usageIdentifierKey` (API key source AUTHORIZER).
    pub usage_identifier_key: Option<String>,
    /// The API key the request was admitted with: (value, id).
    pub api_key: Option<(String, String)>,
    /// [`RequestContext::trace_header`], made on first use.
    trace_header: std::sync::OnceLock<Option<http::HeaderValue>>,
}

impl RequestContext {
    pub fn new(api_id: &str, stage: &str) -> RequestContext {
        RequestContext {
            protocol: "HTTP/1.1".into(),
            source_ip: "127.0.0.1".into(),
            ..RequestContext::blank(Text::new(api_id), Text::new(stage), SystemTime::now())
        }
    }

    /// Fresh ids, and every request field empty (no allocation
    /// for them): for the pipeline, which fills them from the request.
    pub fn blank(api_id: Text, stage: Text, request_time: SystemTime) -> RequestContext {
        RequestContext {
            request_id: new_request_id(),
            extended_request_id: new_extended_request_id(),
            api_id,
            stage,
            resource_id: Text::default(),
            resource_path: Text::default(),
            http_method: Text::default(),
            path: Text::default(),
            protocol: Text::default(),
            domain_name: Text::default(),
            source_ip: Text::default(),
            user_agent: Text::default(),
            request_time,
            deployment_id: Text::default(),
            error_message: None,
            error_response_type: None,
            validation_error_string: None,
            integration_status: None,
            integration_latency_ms: None,
            authorizer: serde_json::Map::new(),
            is_canary: false,
            usage_identifier_key: None,
            api_key: None,
            trace_header: std::sync::OnceLock::new(),
        }
    }

    /// The request's `X-Amzn-Trace-Id`, the same on the endpoint request
    /// and on the response: made once.
    pub fn trace_header(&self) -> Option<http::HeaderValue> {
        self.trace_header
            .get_or_init(|| trace_header(&self.request_id, self.request_time))
            .clone()
    }

    pub fn request_time_epoch_ms(&self) -> u128 {
        self.request_time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    }

    /// `$context.requestTime`: CLF format, `24/Nov/2026:20:07:01 +0000`.
    pub fn request_time_clf(&self) -> String {
        let since = self
            .request_time
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let datetime = time::OffsetDateTime::UNIX_EPOCH + since;
        let format = time::macros::format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        );
        datetime.format(&format).unwrap_or_default()
    }

    /// The value of `context.NAME` in a parameter mapping or template, as a
    /// string; `None` for a variable this context does not have.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match name {
            "requestId" => self.request_id.clone(),
            "extendedRequestId" => self.extended_request_id.to_string(),
            "apiId" => self.api_id.to_string(),
            "stage" => self.stage.to_string(),
            "resourceId" => self.resource_id.to_string(),
            "resourcePath" => self.resource_path.to_string(),
            "httpMethod" => self.http_method.to_string(),
            "path" => self.path.to_string(),
            "protocol" => self.protocol.to_string(),
            "domainName" => self.domain_name.to_string(),
            "domainPrefix" => self
                .domain_name
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string(),
            "accountId" => ACCOUNT_ID.to_string(),
            "deploymentId" => self.deployment_id.to_string(),
            "isCanaryRequest" => self.is_canary.to_string(),
            "requestTime" => self.request_time_clf(),
            "requestTimeEpoch" => self.request_time_epoch_ms().to_string(),
            "identity.sourceIp" => self.source_ip.to_string(),
            "identity.apiKey" => self
                .api_key
                .as_ref()
                .map(|k| k.0.clone())
                .unwrap_or_default(),
            "identity.apiKeyId" => self
                .api_key
                .as_ref()
                .map(|k| k.1.clone())
                .unwrap_or_default(),
            "identity.userAgent" => self.user_agent.to_string(),
            "error.message" => self.error_message.clone().unwrap_or_default(),
            "error.messageString" => {
                serde_json::to_string(self.error_message.as_deref().unwrap_or_default())
                    .unwrap_or_default()
            }
            "error.responseType" => self.error_response_type.unwrap_or_default().to_string(),
            "error.validationErrorString" => {
                self.validation_error_string.clone().unwrap_or_default()
            }
            name if name.starts_with("authorizer.") => {
                match self.authorizer.get(&name["authorizer.".len()..])? {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            }
            "integration.status" | "integrationStatus" => self
                .integration_status
                .map(|s| s.to_string())
                .unwrap_or_default(),
            "integration.latency" | "integrationLatency" => self
                .integration_latency_ms
                .map(|s| s.to_string())
                .unwrap_or_default(),
            _ => return None,
        };
        Some(value)
    }
}

impl RequestContext {
    /// `$context` as the JSON tree a mapping template walks
    /// (`$context.identity.sourceIp`). Every variable AWS documents for REST
    /// APIs is present (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference>);
    /// the ones no feature sets yet are empty strings, as AWS's test invoke
    /// shows them (`"caller": ""`). `requestOverride` / `responseOverride`
    /// start empty: templates write into them.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Map, Value, json};
        let text = |value: &str| Value::String(value.to_string());
        let error = match &self.error_message {
            Some(message) => json!({
                "message": message,
                "messageString": serde_json::to_string(message).unwrap_or_default(),
                "responseType": self.error_response_type.unwrap_or_default(),
                "validationErrorString": self.validation_error_string.as_deref().unwrap_or_default(),
            }),
            None => json!({
                "message": "",
                "messageString": "",
                "responseType": "",
                "validationErrorString": "",
            }),
        };
        let mut identity = Map::new();
        for name in [
            "accountId",
            "apiKey",
            "apiKeyId",
            "caller",
            "cognitoAuthenticationProvider",
            "cognitoAuthenticationType",
            "cognitoIdentityId",
            "cognitoIdentityPoolId",
            "principalOrgId",
            "user",
            "userArn",
            "vpceId",
            "vpcId",
        ] {
            identity.insert(name.to_string(), text(""));
        }
        if let Some((value, id)) = &self.api_key {
            identity.insert("apiKey".into(), text(value));
            identity.insert("apiKeyId".into(), text(id));
        }
        identity.insert("sourceIp".into(), text(&self.source_ip));
        identity.insert("userAgent".into(), text(&self.user_agent));
        json!({
            "accountId": ACCOUNT_ID,
            "apiId": self.api_id.as_str(),
            "authorizer": Value::Object(self.authorizer.clone()),
            "awsEndpointRequestId": "",
            "deploymentId": self.deployment_id.as_str(),
            "domainName": self.domain_name.as_str(),
            "domainPrefix": self.domain_name.split('.').next().unwrap_or_default(),
            "error": error,
            "extendedRequestId": self.extended_request_id.as_str(),
            "httpMethod": self.http_method.as_str(),
            "identity": Value::Object(identity),
            "isCanaryRequest": self.is_canary,
            "path": self.path.as_str(),
            "protocol": self.protocol.as_str(),
            "requestId": self.request_id,
            "requestOverride": {"header": {}, "path": {}, "querystring": {}},
            "responseOverride": {"header": {}},
            "requestTime": self.request_time_clf(),
            "requestTimeEpoch": self.request_time_epoch_ms() as u64,
            "resourceId": self.resource_id.as_str(),
            "resourcePath": self.resource_path.as_str(),
            "stage": self.stage.as_str(),
            "wafResponseCode": "",
            "webaclArn": "",
        })
    }
}

/// A random (v4) UUID. Drawn from a per-thread PRNG rather than the OS, so a
/// request costs no system call; ids need to be unique, not secret.
fn new_request_id() -> String {
    let bytes = fastrand::u128(..).to_le_bytes();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .encode_lower(&mut text)
        .to_string()
}

/// An `x-amz-apigw-id` like AWS's: 15 base64 characters then `=`.
fn new_extended_request_id() -> Text {
    let raw = fastrand::u128(..).to_le_bytes();
    let mut text = [0u8; 16];
    // 11 random bytes make 15 base64 characters and a padding one; AWS's
    // ids end in `=` that way.
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(&raw[..11], &mut text)
        .unwrap_or(0);
    let written = written.min(15);
    text[written] = b'=';
    // Base64 is ASCII.
    Text::new(std::str::from_utf8(&text[..=written]).unwrap_or_default())
}

/// The header AWS adds to endpoint requests and responses with the trace id.
pub(super) const X_AMZN_TRACE_ID: http::HeaderName =
    http::HeaderName::from_static("x-amzn-trace-id");

/// [`trace_id`] as a header value.
pub fn trace_header(request_id: &str, at: std::time::SystemTime) -> Option<http::HeaderValue> {
    http::HeaderValue::from_maybe_shared(bytes::Bytes::from(trace_id(request_id, at))).ok()
}

/// An X-Ray style trace id derived from the request id:
/// `Root=1-{seconds, 8 hex}-{24 hex of the request id}`.
pub fn trace_id(request_id: &str, at: std::time::SystemTime) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let seconds = at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut id = Vec::with_capacity(40);
    id.extend_from_slice(b"Root=1-");
    id.extend(
        (0..8)
            .rev()
            .map(|shift| HEX[((seconds >> (shift * 4)) & 0xf) as usize]),
    );
    id.push(b'-');
    let bytes = request_id.as_bytes();
    if bytes.len() == 36 && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-') {
        // A UUID's first 24 hex digits, in its hyphen-separated groups.
        for group in [0..8, 9..13, 14..18, 19..23, 24..28] {
            id.extend_from_slice(&bytes[group]);
        }
    } else {
        id.extend(request_id.bytes().filter(|&b| b != b'-').take(24));
    }
    String::from_utf8(id).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_id_takes_the_first_24_hex_digits_of_the_request_id() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(0x6a1b_2c3d);
        assert_eq!(
            trace_id("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", at),
            "Root=1-6a1b2c3d-0f1e2d3c4b5a69788796a5b4"
        );
        // Not a UUID: hyphens dropped all the same.
        assert_eq!(trace_id("ab-cd", at), "Root=1-6a1b2c3d-abcd");
    }

    #[test]
    fn extended_request_id_has_aws_shape() {
        let id = new_extended_request_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
    }

    #[test]
    fn request_time_is_clf() {
        let mut context = RequestContext::new("a", "dev");
        context.request_time =
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_550_821);
        assert_eq!(context.request_time_clf(), "24/Nov/2026:20:07:01 +0000");
    }
}
