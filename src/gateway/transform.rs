//! Mapping templates and payload encodings at run time: which template a
//! request or response uses, what `$input` / `$context` / `$stageVariables`
//! it sees, and how `binaryMediaTypes` with `contentHandling` convert
//! payloads between text and binary.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;

use crate::model::{ContentHandling, PassthroughBehavior};
use crate::vtl;

/// A mapping template compiled once per deployment. A template that does not
/// compile still deploys (AWS accepts any text at `PutIntegration`); it
/// fails each request that selects it with a 500, and the execution log
/// carries the line, column and excerpt.
#[derive(Debug, Clone)]
pub struct Template {
    compiled: Result<Arc<vtl::Template>, vtl::VtlError>,
    source: Arc<str>,
    /// No `$` and no `#`: Velocity renders the text as it is, so the engine
    /// and its bindings are skipped (the common `{"statusCode": 200}`).
    is_plain_text: bool,
    /// The text mentions `context` / `input`: only then is `$context` built
    /// as JSON and the headers collected for `$input.params()`, which would
    /// otherwise cost more than the rest of a MOCK request.
    reads_context: bool,
    reads_input: bool,
}

impl Template {
    pub fn compile(source: &str) -> Template {
        Template {
            compiled: vtl::Template::compile(source).map(Arc::new),
            source: Arc::from(source),
            is_plain_text: !source.contains(['$', '#']),
            reads_context: source.contains("context"),
            reads_input: source.contains("input"),
        }
    }

    pub fn is_plain_text(&self) -> bool {
        self.is_plain_text
    }

    pub fn reads_context(&self) -> bool {
        self.reads_context
    }

    pub fn reads_input(&self) -> bool {
        self.reads_input
    }

    /// The compile error, if the template has one.
    pub fn error(&self) -> Option<&vtl::VtlError> {
        self.compiled.as_ref().err()
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders on this thread within [`vtl::RenderLimits::INLINE`]; a
    /// render that needs more runs again, with the whole budget, on a
    /// blocking thread (at most one per CPU at a time), so that a long
    /// template never holds up the other connections of the serving
    /// thread it arrived on.
    pub async fn render(
        &self,
        bindings: &vtl::Bindings<'_>,
    ) -> Result<vtl::Rendered, vtl::VtlError> {
        let template = self.compiled.as_ref().map_err(Clone::clone)?;
        if self.is_plain_text {
            return Ok(vtl::Rendered {
                output: self.source.to_string(),
                overrides: vtl::Overrides::default(),
            });
        }
        if let Some(rendered) = template.render_sliced(bindings, vtl::RenderLimits::INLINE)? {
            return Ok(rendered);
        }
        render_off_thread(Arc::clone(template), OwnedBindings::of(bindings)).await
    }
}

/// Renders that outgrew their inline slice, running at once: one per CPU.
static LONG_RENDERS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Renders `template` with the whole budget on tokio's blocking pool.
async fn render_off_thread(
    template: Arc<vtl::Template>,
    bindings: OwnedBindings,
) -> Result<vtl::Rendered, vtl::VtlError> {
    let failed = || vtl::VtlError {
        line: 1,
        column: 1,
        message: "the render was interrupted".into(),
        excerpt: String::new(),
    };
    let Ok(_slot) = LONG_RENDERS.acquire().await else {
        return Err(failed());
    };
    tokio::task::spawn_blocking(move || template.render(&bindings.bindings()))
        .await
        .unwrap_or_else(|_| Err(failed()))
}

/// [`vtl::Bindings`] copied, to move to another thread.
struct OwnedBindings {
    body: String,
    path: Vec<(String, String)>,
    querystring: Vec<(String, String)>,
    header: Vec<(String, String)>,
    context: serde_json::Value,
    stage_variables: Vec<(String, String)>,
}

impl OwnedBindings {
    fn of(bindings: &vtl::Bindings<'_>) -> OwnedBindings {
        OwnedBindings {
            body: bindings.body.to_string(),
            path: bindings.path.to_vec(),
            querystring: bindings.querystring.to_vec(),
            header: bindings.header.to_vec(),
            context: bindings.context.clone(),
            stage_variables: bindings.stage_variables.to_vec(),
        }
    }

    fn bindings(&self) -> vtl::Bindings<'_> {
        vtl::Bindings {
            body: &self.body,
            path: &self.path,
            querystring: &self.querystring,
            header: &self.header,
            context: &self.context,
            stage_variables: &self.stage_variables,
        }
    }
}

/// Request headers as `$input.params().header` holds them: one value per
/// name (the last, as `method.request.header.x` takes it), names in the
/// canonical `Title-Case` most clients send. HTTP/1 servers (hyper included)
/// do not keep the case a client used, so `Content-Type` and `X-Api-Key` are
/// what a template finds.
pub fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut pairs = Vec::with_capacity(headers.keys_len());
    for name in headers.keys() {
        if let Some(value) = headers.get_all(name).iter().next_back() {
            pairs.push((
                title_case(name.as_str()),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ));
        }
    }
    pairs
}

/// `x-api-key` -> `X-Api-Key`.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper = c == '-';
    }
    out
}

/// The media type of a `Content-Type` or of the first entry of an `Accept`
/// header, lower-cased, without parameters: `application/json`.
pub fn media_type(header_value: &str) -> std::borrow::Cow<'_, str> {
    let end = header_value
        .bytes()
        .position(|b| b == b',' || b == b';')
        .unwrap_or(header_value.len());
    let media_type = header_value[..end].trim();
    if media_type.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(media_type.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(media_type)
    }
}

/// Whether `media_type` is one of the API's `binaryMediaTypes`, which may use
/// wildcards (`image/*`, `*/*`), as AWS matches them
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html>).
pub fn is_binary(media_type: &str, binary_media_types: &[String]) -> bool {
    if media_type.is_empty() {
        return false;
    }
    let (kind, subtype) = media_type.split_once('/').unwrap_or((media_type, ""));
    binary_media_types.iter().any(|pattern| {
        let pattern = pattern.trim().to_ascii_lowercase();
        let (pattern_kind, pattern_subtype) = pattern.split_once('/').unwrap_or((&pattern, ""));
        (pattern_kind == "*" || pattern_kind == kind)
            && (pattern_subtype == "*" || pattern_subtype == subtype)
    })
}

/// Which request template a request gets.
pub enum RequestTemplate<'a> {
    Use(&'a Template),
    Passthrough,
    /// 415 `Unsupported Media Type`.
    Reject,
}

/// AWS's passthrough rules
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html>):
/// a template for the request's content type (`application/json` when the
/// request has none) wins; otherwise WHEN_NO_MATCH passes the body through,
/// WHEN_NO_TEMPLATES passes it only when no template is defined at all, and
/// NEVER rejects with 415.
pub fn select_request_template<'a>(
    templates: &'a [(String, Template)],
    behavior: PassthroughBehavior,
    media_type: &str,
) -> RequestTemplate<'a> {
    if let Some((_, template)) = templates.iter().find(|(ct, _)| ct == media_type) {
        return RequestTemplate::Use(template);
    }
    match behavior {
        PassthroughBehavior::WhenNoMatch => RequestTemplate::Passthrough,
        PassthroughBehavior::WhenNoTemplates if templates.is_empty() => {
            RequestTemplate::Passthrough
        }
        PassthroughBehavior::WhenNoTemplates | PassthroughBehavior::Never => {
            RequestTemplate::Reject
        }
    }
}

/// The response template for a request's `Accept`: the template keyed by
/// the first media type the client accepts (API Gateway only considers the
/// first, <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html>),
/// else `application/json`'s, else the first one defined (the fallbacks
/// LocalStack's AWS-validated tests record). `None` passes the integration
/// response body through.
pub fn select_response_template<'a>(
    templates: &'a [(String, Template)],
    accept: &str,
) -> Option<&'a (String, Template)> {
    let wanted = media_type(accept);
    templates
        .iter()
        .find(|(ct, _)| *ct == wanted)
        .or_else(|| templates.iter().find(|(ct, _)| ct == "application/json"))
        .or_else(|| templates.first())
}

/// A payload on its way through the gateway, as AWS's conversion tables
/// see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Text(String),
    Binary(Bytes),
}

impl Payload {
    pub fn into_bytes(self) -> Bytes {
        match self {
            Payload::Text(text) => Bytes::from(text),
            Payload::Binary(bytes) => bytes,
        }
    }
}

/// The integration request payload, per AWS's request conversion table
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html>):
/// a binary payload (its `Content-Type` is in `binaryMediaTypes`) stays
/// binary unless CONVERT_TO_TEXT base64-encodes it; a text payload stays
/// text unless CONVERT_TO_BINARY base64-decodes it. `Err` when a payload to
/// decode is not base64.
pub fn convert_request(
    body: &Bytes,
    binary: bool,
    handling: Option<ContentHandling>,
) -> Result<Payload, String> {
    match (binary, handling) {
        (true, Some(ContentHandling::ConvertToText)) => Ok(Payload::Text(
            base64::engine::general_purpose::STANDARD.encode(body),
        )),
        (true, _) => Ok(Payload::Binary(body.clone())),
        (false, Some(ContentHandling::ConvertToBinary)) => decode_base64(body).map(Payload::Binary),
        (false, _) => Ok(Payload::Text(String::from_utf8_lossy(body).into_owned())),
    }
}

/// The method response payload, per AWS's response conversion table (same
/// page): `payload_binary` says whether the integration response's
/// `Content-Type` is a binary media type, `accept_binary` whether the
/// client's first `Accept` type is. Without `contentHandling`, a binary
/// payload goes back binary only to a client accepting a binary type (else
/// base64 text), and a text payload is base64-decoded for such a client.
pub fn convert_response(
    body: &Bytes,
    payload_binary: bool,
    accept_binary: bool,
    handling: Option<ContentHandling>,
) -> Result<Payload, String> {
    let to_text = match handling {
        Some(ContentHandling::ConvertToText) => true,
        Some(ContentHandling::ConvertToBinary) => false,
        None => !accept_binary,
    };
    match (payload_binary, to_text) {
        (true, true) => Ok(Payload::Text(
            base64::engine::general_purpose::STANDARD.encode(body),
        )),
        (true, false) => Ok(Payload::Binary(body.clone())),
        (false, true) => Ok(Payload::Text(String::from_utf8_lossy(body).into_owned())),
        (false, false) => decode_base64(body).map(Payload::Binary),
    }
}

fn decode_base64(body: &[u8]) -> Result<Bytes, String> {
    let trimmed: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(&trimmed)
        .map(Bytes::from)
        .map_err(|e| format!("the payload is not valid base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_cases_header_names() {
        assert_eq!(title_case("content-type"), "Content-Type");
        assert_eq!(title_case("x-api-key"), "X-Api-Key");
        assert_eq!(title_case("accept"), "Accept");
    }

    #[test]
    fn media_types() {
        assert_eq!(
            media_type("application/json; charset=utf-8"),
            "application/json"
        );
        assert_eq!(
            media_type("Application/XML, application/json;q=0.9"),
            "application/xml"
        );
        assert_eq!(media_type(""), "");
    }

    #[test]
    fn binary_media_type_wildcards() {
        let types = vec![
            "image/*".to_string(),
            "application/octet-stream".to_string(),
        ];
        assert!(is_binary("image/png", &types));
        assert!(is_binary("application/octet-stream", &types));
        assert!(!is_binary("application/json", &types));
        assert!(is_binary("text/plain", &["*/*".to_string()]));
        assert!(!is_binary("", &["*/*".to_string()]));
    }

    /// Rows of AWS's request and response conversion tables
    /// (api-gateway-payload-encodings-workflow.html).
    #[test]
    fn conversion_tables() {
        let text = Bytes::from_static(b"aGk=");
        let raw = Bytes::from_static(b"\x00\x01");
        use ContentHandling::*;
        assert_eq!(
            convert_request(&text, false, None),
            Ok(Payload::Text("aGk=".into()))
        );
        assert_eq!(
            convert_request(&text, false, Some(ConvertToBinary)),
            Ok(Payload::Binary(Bytes::from_static(b"hi")))
        );
        assert_eq!(
            convert_request(&raw, true, Some(ConvertToText)),
            Ok(Payload::Text("AAE=".into()))
        );
        assert_eq!(
            convert_request(&raw, true, None),
            Ok(Payload::Binary(raw.clone()))
        );
        assert_eq!(
            convert_request(&raw, true, Some(ConvertToBinary)),
            Ok(Payload::Binary(raw.clone()))
        );
        assert!(convert_request(&Bytes::from_static(b"%%"), false, Some(ConvertToBinary)).is_err());

        assert_eq!(
            convert_response(&text, false, false, None),
            Ok(Payload::Text("aGk=".into()))
        );
        assert_eq!(
            convert_response(&text, false, true, None),
            Ok(Payload::Binary(Bytes::from_static(b"hi")))
        );
        assert_eq!(
            convert_response(&text, false, true, Some(ConvertToText)),
            Ok(Payload::Text("aGk=".into()))
        );
        assert_eq!(
            convert_response(&raw, true, false, None),
            Ok(Payload::Text("AAE=".into()))
        );
        assert_eq!(
            convert_response(&raw, true, true, None),
            Ok(Payload::Binary(raw.clone()))
        );
        assert_eq!(
            convert_response(&raw, true, false, Some(ConvertToBinary)),
            Ok(Payload::Binary(raw.clone()))
        );
    }
}
