//! AWS Signature Version 4 checks: the canonical request, string to sign
//! and signing key as AWS's reference defines them
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>),
//! computed with `ring`'s HMAC-SHA256 over a request as it arrived, and
//! compared with the signature the client sent. The AWS SDKs make the
//! signatures (the tests use boto3).

use std::collections::HashMap;

use http::HeaderMap;
use ring::{digest, hmac};

/// Why a signature was refused, with AWS's error type and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// No `Authorization: AWS4-HMAC-SHA256 ...` header.
    Missing,
    /// The access key id is not one of the configured ones.
    UnknownKey,
    /// The signature does not match.
    Mismatch,
    /// The header is there but not in SigV4's form.
    Malformed(String),
}

impl SigV4Error {
    /// `(status, x-amzn-ErrorType, message)` as AWS answers.
    pub fn aws(&self) -> (u16, &'static str, String) {
        match self {
            SigV4Error::Missing => (
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".into(),
            ),
            SigV4Error::UnknownKey => (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ),
            SigV4Error::Mismatch => (
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into(),
            ),
            SigV4Error::Malformed(message) => {
                (403, "IncompleteSignatureException", message.clone())
            }
        }
    }
}

/// The parts of an `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
struct Authorization<'a> {
    key_id: &'a str,
    /// `date/region/service/aws4_request`.
    scope: &'a str,
    date: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse(header: &str) -> Result<Authorization<'_>, SigV4Error> {
    let rest = header
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or(SigV4Error::Missing)?
        .trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| SigV4Error::Malformed(format!("Invalid Authorization part: {part}")))?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let missing = |what: &str| {
        SigV4Error::Malformed(format!(
            "Authorization header requires '{what}' parameter. Authorization={header}"
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let (key_id, scope) = credential
        .split_once('/')
        .ok_or_else(|| missing("Credential"))?;
    let date = scope.split('/').next().unwrap_or_default();
    Ok(Authorization {
        key_id,
        scope,
        date,
        signed_headers: signed
            .ok_or_else(|| missing("SignedHeaders"))?
            .split(';')
            .collect(),
        signature: signature.ok_or_else(|| missing("Signature"))?,
    })
}

/// AWS's URI encoding: unreserved characters stay, every other byte is
/// `%XX` (upper case); `/` stays too when `keep_slash`.
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn canonical_query(raw: &str) -> String {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (uri_encode(&decode(k), false), uri_encode(&decode(v), false))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sign(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        .as_ref()
        .to_vec()
}

/// Checks a request's SigV4 `Authorization` header against `secrets`
/// (access key id -> secret access key); the access key id on success.
pub fn verify(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &HashMap<String, String>,
) -> Result<String, SigV4Error> {
    let header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(SigV4Error::Missing)?;
    let auth = parse(header)?;
    let secret = secrets.get(auth.key_id).ok_or(SigV4Error::UnknownKey)?;
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| SigV4Error::Malformed("Missing X-Amz-Date header".into()))?;
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    let payload_hash = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| hex(digest::digest(&digest::SHA256, body).as_ref()));
    let canonical_request = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        uri_encode(if raw_path.is_empty() { "/" } else { raw_path }, true),
        canonical_query(raw_query),
        auth.signed_headers.join(";"),
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        auth.scope,
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    );
    let mut key = sign(format!("AWS4{secret}").as_bytes(), auth.date);
    for part in auth.scope.split('/').skip(1) {
        key = sign(&key, part);
    }
    // ring compares in constant time.
    let given: Option<Vec<u8>> = (auth.signature.len() == 64)
        .then(|| {
            (0..32)
                .map(|i| u8::from_str_radix(&auth.signature[2 * i..2 * i + 2], 16).ok())
                .collect()
        })
        .flatten();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    match given {
        Some(given) if hmac::verify(&key, string_to_sign.as_bytes(), &given).is_ok() => {
            Ok(auth.key_id.to_string())
        }
        _ => Err(SigV4Error::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example, "GET https://iam.amazonaws.com/?Action=
    /// ListUsers&Version=2010-05-08" signed with the documentation's example
    /// credentials
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>):
    /// expected signature
    /// 5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7.
    #[test]
    fn the_documented_example_verifies() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                .parse()
                .unwrap(),
        );
        let secrets = HashMap::from([(
            "AKIDEXAMPLE".to_string(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string(),
        )]);
        let verified = verify(
            "GET",
            "/",
            "Action=ListUsers&Version=2010-05-08",
            &headers,
            b"",
            &secrets,
        );
        assert_eq!(verified, Ok("AKIDEXAMPLE".into()));
        let wrong = HashMap::from([("AKIDEXAMPLE".to_string(), "other".to_string())]);
        assert_eq!(
            verify(
                "GET",
                "/",
                "Action=ListUsers&Version=2010-05-08",
                &headers,
                b"",
                &wrong
            ),
            Err(SigV4Error::Mismatch)
        );
        assert_eq!(
            verify("GET", "/", "", &headers, b"", &HashMap::new()),
            Err(SigV4Error::UnknownKey)
        );
    }

    #[test]
    fn uri_encoding_is_aws_s() {
        assert_eq!(uri_encode("/a b/%7B~x+", true), "/a%20b/%257B~x%2B");
        assert_eq!(canonical_query("b=2&a=%20x&a=1"), "a=%20x&a=1&b=2");
    }
}
