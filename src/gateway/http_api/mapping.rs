//! HTTP API parameter mapping: the values mapping expressions read
//! (`$request.header.x`, `$context.x`, `$stageVariables.x`,
//! `$response.body.x`...) and the response mappings applied to a reply.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::payload::now_parts;
use super::stage::{CompiledHttpStage, HttpRequest, Mapping};
use crate::gateway::responses::Reply;
use crate::model::{MappingAction, MappingPlace};

/// What mapping expressions read (`$request.header.x`, `$context.x`,
/// `$stageVariables.x`, `$response.body.x`...).
pub(crate) struct Sources<'a> {
    pub(crate) request: &'a HttpRequest,
    pub(crate) stage: &'a CompiledHttpStage,
    pub(crate) route_key: &'a str,
    pub(crate) parameters: &'a [(String, String)],
    pub(crate) response: Option<(&'a HeaderMap, &'a Bytes)>,
}

pub(crate) fn header_values(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name.to_ascii_lowercase().as_str())
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

pub(crate) fn json_field(body: &[u8], path: &str) -> Option<String> {
    let document: Value = serde_json::from_slice(body).ok()?;
    let selected = crate::jsonpath::select(&document, &format!("$.{path}")).ok()??;
    Some(match selected {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

impl Sources<'_> {
    /// One expression without its `$` (`request.header.x`).
    pub(crate) fn lookup(&self, expression: &str) -> Option<String> {
        let request = self.request;
        if let Some(name) = expression.strip_prefix("request.header.") {
            return header_values(&request.headers, name);
        }
        if let Some(name) = expression.strip_prefix("request.querystring.") {
            let values: Vec<String> =
                crate::gateway::request::MethodRequest::parse_query(&request.raw_query)
                    .into_iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v)
                    .collect();
            return (!values.is_empty()).then(|| values.join(","));
        }
        if expression == "request.path" {
            return Some(request.path.clone());
        }
        if let Some(name) = expression.strip_prefix("request.path.") {
            return self
                .parameters
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone());
        }
        if let Some(path) = expression.strip_prefix("request.body.") {
            return json_field(&request.body, path);
        }
        if let Some(name) = expression.strip_prefix("stageVariables.") {
            return self
                .stage
                .stage_variables
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone());
        }
        if let Some((headers, body)) = self.response {
            if let Some(name) = expression.strip_prefix("response.header.") {
                return header_values(headers, name);
            }
            if let Some(path) = expression.strip_prefix("response.body.") {
                return json_field(body, path);
            }
        }
        let context = expression.strip_prefix("context.")?;
        Some(match context {
            "requestId" => request.request_id.clone(),
            "apiId" => self.stage.api_id.clone(),
            "stage" => self.stage.stage_name.clone(),
            "routeKey" => self.route_key.to_string(),
            "domainName" => request.domain_name.clone(),
            "httpMethod" => request.method.to_string(),
            "path" => request.path.clone(),
            "protocol" => request.protocol.clone(),
            "identity.sourceIp" => request.source_ip.clone(),
            "identity.userAgent" => {
                header_values(&request.headers, "user-agent").unwrap_or_default()
            }
            "requestTimeEpoch" => now_parts().1.to_string(),
            _ => return None,
        })
    }

    /// A mapping value: static text with `$expression`s or
    /// `${expression}`s in it (`/v2/accounts/$request.path.id`,
    /// `stage-${context.stage}`); an unknown one reads as empty.
    pub(crate) fn resolve(&self, value: &str) -> String {
        const ROOTS: [&str; 4] = ["request.", "context.", "stageVariables.", "response."];
        let mut out = String::new();
        let mut rest = value;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(inner) = after.strip_prefix('{')
                && let Some(end) = inner.find('}')
            {
                out.push_str(&self.lookup(&inner[..end]).unwrap_or_default());
                rest = &inner[end + 1..];
                continue;
            }
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .unwrap_or(after.len());
            let expression = after[..end].trim_end_matches('.');
            if ROOTS.iter().any(|root| expression.starts_with(root)) {
                out.push_str(&self.lookup(expression).unwrap_or_default());
                rest = &after[expression.len()..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }
}

pub(crate) fn apply_header(
    headers: &mut HeaderMap,
    action: MappingAction,
    name: &str,
    value: &str,
) {
    let Ok(name) = http::header::HeaderName::from_bytes(name.as_bytes()) else {
        return;
    };
    match action {
        MappingAction::Remove => {
            headers.remove(&name);
        }
        MappingAction::Overwrite => {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        MappingAction::Append => {
            let joined = match headers.get(&name).and_then(|v| v.to_str().ok()) {
                Some(existing) => format!("{existing},{value}"),
                None => value.to_string(),
            };
            if let Ok(value) = HeaderValue::from_str(&joined) {
                headers.insert(name, value);
            }
        }
    }
}

/// A response's mappings: headers and the status code.
pub(crate) fn map_response(mappings: &[Mapping], sources: &Sources, reply: &mut Reply) {
    for (action, place, value) in mappings {
        let value = sources.resolve(value);
        match place {
            MappingPlace::Header(name) => apply_header(&mut reply.headers, *action, name, &value),
            MappingPlace::StatusCode => {
                if let Ok(status) = value.trim().parse::<u16>()
                    && (100..=599).contains(&status)
                {
                    reply.status = status;
                }
            }
            MappingPlace::Query(_) | MappingPlace::Path => {}
        }
    }
}
