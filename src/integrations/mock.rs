//! MOCK: no backend; the status comes from the request template's output
//! (`{"statusCode": 200}`), and the body is empty until the integration
//! response's template fills it.

use bytes::Bytes;
use http::HeaderMap;

use super::{EndpointRequest, EndpointResponse, Integrate, IntegrationError};

/// The MOCK integration. `from_template` says whether the request body is a
/// rendered template (then it must be JSON) or a passed-through client body
/// (then anything that is not a `statusCode` object means 200).
#[derive(Debug, Clone, Copy)]
pub struct MockIntegration {
    pub from_template: bool,
}

impl Integrate for MockIntegration {
    async fn invoke(&self, request: EndpointRequest) -> Result<EndpointResponse, IntegrationError> {
        let status = mock_status(&request.body, self.from_template)?;
        Ok(EndpointResponse {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        })
    }
}

/// Reads `statusCode` (a number or a numeric string) from the mapped request.
pub fn mock_status(body: &[u8], from_template: bool) -> Result<u16, IntegrationError> {
    if let Some(status) = plain_status(body) {
        return Ok(status);
    }
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return Ok(200);
    }
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(&text);
    let value = match parsed {
        Ok(value) => value,
        Err(error) if from_template => {
            return Err(IntegrationError::Configuration(format!(
                "Unable to parse statusCode. It should be an integer that is defined in the request template. ({error})"
            )));
        }
        Err(_) => return Ok(200),
    };
    let status = match value.get("statusCode") {
        None => return Ok(200),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    status
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| {
            IntegrationError::Configuration(
                "Unable to parse statusCode. It should be an integer that is defined in the request template.".into(),
            )
        })
}

/// The common `{"statusCode": 200}` (any spacing) without a JSON parser;
/// `None` for anything else, which the parser then reads.
fn plain_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let inner = text.strip_prefix('{')?.strip_suffix('}')?.trim();
    let value = inner.strip_prefix("\"statusCode\"")?.trim_start();
    let digits = value.strip_prefix(':')?.trim();
    // JSON numbers have no leading zero: `0200` is for the parser to refuse.
    if digits.len() != 3 || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|s| (100..=599).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_from_template() {
        assert_eq!(mock_status(br#"{"statusCode": 404}"#, true), Ok(404));
        assert_eq!(mock_status(br#"{"statusCode": "201"}"#, true), Ok(201));
        assert_eq!(mock_status(b"", true), Ok(200));
        assert_eq!(mock_status(br#"{"other": 1}"#, true), Ok(200));
        assert!(mock_status(b"nope", true).is_err());
        assert_eq!(mock_status(b"nope", false), Ok(200));
        assert!(mock_status(br#"{"statusCode": 9999}"#, true).is_err());
        assert!(mock_status(br#"{"statusCode": 99}"#, true).is_err());
        assert_eq!(
            mock_status(b" {\n  \"statusCode\" :200 \n} ", true),
            Ok(200)
        );
        assert_eq!(
            mock_status(br#"{"statusCode": 200, "x": 1}"#, true),
            Ok(200)
        );
        assert_eq!(plain_status(br#"{"statusCode": 204}"#), Some(204));
        assert_eq!(plain_status(br#"{"statusCode": 200, "x": 1}"#), None);
    }
}
