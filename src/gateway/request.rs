//! The client's request as the gateway received it, below the stage: what
//! every phase reads. Imports nothing from the rest of the gateway but
//! `context`'s text type.

use bytes::Bytes;
use http::HeaderMap;

use super::context::Text;

/// The client's request, as the gateway received it (below the stage).
#[derive(Debug, Clone)]
pub struct MethodRequest {
    pub http_method: http::Method,
    /// The path below the stage, percent-encoded as sent (`/pets/7`).
    pub path: String,
    /// The raw query string, without `?`.
    pub raw_query: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub source_ip: Text,
    /// The path as the client sent it, with the stage (`/dev/pets/7`).
    pub full_path: Text,
    pub domain_name: Text,
    pub protocol: Text,
    /// When it arrived: `$context.requestTime`, and the execution log's
    /// time stamps.
    pub received_at: std::time::SystemTime,
}

impl MethodRequest {
    /// Splits `path?query` and decodes the query.
    pub fn parse_query(raw_query: &str) -> Vec<(String, String)> {
        raw_query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode_query(name), decode_query(value))
            })
            .collect()
    }
}

fn decode_query(text: &str) -> String {
    let text = text.replace('+', " ");
    percent_encoding::percent_decode_str(&text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        assert_eq!(
            MethodRequest::parse_query("a=1&b=x%20y&c&d=e+f&a=2"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "".into()),
                ("d".into(), "e f".into()),
                ("a".into(), "2".into()),
            ]
        );
    }
}
