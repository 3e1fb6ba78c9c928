//! Parameter mappings (`requestParameters`, `responseParameters`) and the
//! mapping-template hook.
//!
//! A mapping is `target -> source`, e.g.
//! `integration.request.header.x-id -> method.request.path.id` or
//! `method.response.header.X-Count -> integration.response.header.X-Total`.
//! Sources are parsed once per deployment into [`Source`].

use http::HeaderMap;

use super::context::RequestContext;

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    MethodPath(String),
    MethodQuery(String),
    MethodHeader(String),
    MethodMultiQuery(String),
    MethodMultiHeader(String),
    MethodBody,
    MethodBodyPath(String),
    IntegrationHeader(String),
    IntegrationBody,
    IntegrationBodyPath(String),
    StageVariable(String),
    Context(String),
    Literal(String),
}

impl Source {
    /// Parses a source expression as AWS writes them. Errors name what was
    /// expected.
    pub fn parse(expression: &str) -> Result<Source, String> {
        let expression = expression.trim();
        if let Some(literal) = expression
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
        {
            return Ok(Source::Literal(literal.to_string()));
        }
        type Make = fn(String) -> Source;
        let pairs: [(&str, Make); 9] = [
            ("method.request.path.", Source::MethodPath),
            ("method.request.querystring.", Source::MethodQuery),
            ("method.request.header.", Source::MethodHeader),
            (
                "method.request.multivaluequerystring.",
                Source::MethodMultiQuery,
            ),
            (
                "method.request.multivalueheader.",
                Source::MethodMultiHeader,
            ),
            ("method.request.body.", Source::MethodBodyPath),
            ("integration.response.header.", Source::IntegrationHeader),
            ("integration.response.body.", Source::IntegrationBodyPath),
            ("stageVariables.", Source::StageVariable),
        ];
        for (prefix, make) in pairs {
            if let Some(name) = expression.strip_prefix(prefix)
                && !name.is_empty()
            {
                return Ok(make(name.to_string()));
            }
        }
        match expression {
            "method.request.body" => return Ok(Source::MethodBody),
            "integration.response.body" => return Ok(Source::IntegrationBody),
            _ => {}
        }
        if let Some(name) = expression.strip_prefix("context.")
            && !name.is_empty()
        {
            return Ok(Source::Context(name.to_string()));
        }
        Err(format!(
            "Invalid mapping expression specified: {expression} (expected 'literal', method.request.{{path|querystring|header|multivaluequerystring|multivalueheader}}.NAME, method.request.body[.JSONPATH], integration.response.{{header.NAME|body[.JSONPATH]}}, stageVariables.NAME or context.NAME)"
        ))
    }
}

/// Everything a source can read from. Integration-response fields are empty
/// while mapping the request.
pub struct MappingScope<'a> {
    pub path_parameters: &'a [(String, String)],
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub stage_variables: &'a [(String, String)],
    pub context: &'a RequestContext,
    pub integration_headers: Option<&'a HeaderMap>,
    pub integration_body: &'a [u8],
}

impl MappingScope<'_> {
    /// The value of `source`; `None` when it is absent (then AWS omits the
    /// target rather than sending an empty value).
    pub fn resolve(&self, source: &Source) -> Option<String> {
        match source {
            Source::Literal(value) => Some(value.clone()),
            Source::MethodPath(name) => lookup(self.path_parameters, name),
            Source::MethodQuery(name) => self
                .query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            Source::MethodMultiQuery(name) => {
                let values: Vec<&str> = self
                    .query
                    .iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                (!values.is_empty()).then(|| values.join(","))
            }
            Source::MethodHeader(name) => header_last(self.headers, name),
            Source::MethodMultiHeader(name) => header_joined(self.headers, name),
            Source::MethodBody => Some(String::from_utf8_lossy(self.body).into_owned()),
            Source::MethodBodyPath(path) => json_path(self.body, path),
            Source::IntegrationHeader(name) => {
                self.integration_headers.and_then(|h| header_last(h, name))
            }
            Source::IntegrationBody => {
                Some(String::from_utf8_lossy(self.integration_body).into_owned())
            }
            Source::IntegrationBodyPath(path) => json_path(self.integration_body, path),
            Source::StageVariable(name) => lookup(self.stage_variables, name),
            Source::Context(name) => self.context.get(name),
        }
    }
}

fn lookup(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn header_last(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(name)
        .iter()
        .next_back()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn header_joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// `integration.response.body.JSONPATH` / `method.request.body.JSONPATH`:
/// a JSONPath without its leading `$` (AWS's mapping reference:
/// "the prefix `$.` is omitted"), evaluated as Jayway does. Strings come back
/// bare, other values as JSON; `None` when the body is not JSON or the path
/// selects nothing.
fn json_path(body: &[u8], path: &str) -> Option<String> {
    let document: serde_json::Value = serde_json::from_slice(body).ok()?;
    let path = if path.starts_with('$') {
        path.to_string()
    } else if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    };
    let selected = crate::jsonpath::select(&document, &path).ok()??;
    Some(match selected {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_source_form() {
        let cases = [
            ("'abc'", Source::Literal("abc".into())),
            ("method.request.path.id", Source::MethodPath("id".into())),
            (
                "method.request.querystring.q",
                Source::MethodQuery("q".into()),
            ),
            (
                "method.request.header.X-A",
                Source::MethodHeader("X-A".into()),
            ),
            (
                "method.request.multivaluequerystring.q",
                Source::MethodMultiQuery("q".into()),
            ),
            (
                "method.request.multivalueheader.h",
                Source::MethodMultiHeader("h".into()),
            ),
            ("method.request.body", Source::MethodBody),
            (
                "method.request.body.a.b",
                Source::MethodBodyPath("a.b".into()),
            ),
            (
                "integration.response.header.h",
                Source::IntegrationHeader("h".into()),
            ),
            ("integration.response.body", Source::IntegrationBody),
            (
                "integration.response.body.x",
                Source::IntegrationBodyPath("x".into()),
            ),
            ("stageVariables.v", Source::StageVariable("v".into())),
            ("context.requestId", Source::Context("requestId".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(Source::parse(text), Ok(expected), "{text}");
        }
        assert!(Source::parse("method.request.cookie.x").is_err());
    }

    #[test]
    fn body_paths() {
        let body = br#"{"a":{"b":[1,{"c":"x"}]},"n":null}"#;
        assert_eq!(json_path(body, "a.b[1].c").as_deref(), Some("x"));
        assert_eq!(json_path(body, "$.a.b[0]").as_deref(), Some("1"));
        assert_eq!(json_path(body, "a.b").as_deref(), Some(r#"[1,{"c":"x"}]"#));
        assert_eq!(json_path(body, "zz"), None);
    }
}
