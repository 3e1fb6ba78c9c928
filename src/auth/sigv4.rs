//! AWS Signature Version 4 checks: the canonical request, string to sign
//! and signing key as AWS's reference defines them
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>),
//! computed with `ring`'s HMAC-SHA256 over a request as it arrived, and
//! compared with the signature the client sent, in the `Authorization`
//! header or in the query string (a presigned URL). The AWS SDKs make the
//! signatures (the tests use botocore).
//!
//! The checks run in the order AWS runs them, each refusing with AWS's
//! error type and message, as recorded against DynamoDB by dynalite
//! (<https://github.com/mhart/dynalite/blob/master/index.js>) and listed in
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html>:
//! the parts present, the date's form, the date within 5 minutes of now,
//! `host` signed, the algorithm, the credential's five parts, its scope
//! (region, service, terminator, date), the access key, the signature.

use std::collections::HashMap;
use std::time::SystemTime;

use http::HeaderMap;
use ring::{digest, hmac};

/// How far a request's date may be from the server's clock, either way:
/// AWS refuses past it with "Signature expired ... (... - 5 min.)"
/// (API Gateway included:
/// <https://stackoverflow.com/questions/66961500>, an `execute-api`
/// answer `{"message":"Signature expired: 20210330T175821Z is now earlier
/// than 20210330T180403Z (20210330T180903Z - 5 min.)"}`).
pub const ALLOWED_SKEW_SECS: i64 = 5 * 60;

/// Why a signature was refused, with AWS's error type and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// No `Authorization: AWS4-...` header and no `X-Amz-Algorithm` query
    /// parameter.
    Missing,
    /// The access key id is not one of the configured ones.
    UnknownKey,
    /// The signature does not match; the canonical request and string to
    /// sign the server computed (AWS shows both in its message).
    Mismatch {
        canonical_request: String,
        string_to_sign: String,
    },
    /// The signature is not in SigV4's form (AWS's
    /// `IncompleteSignatureException`).
    Incomplete(String),
    /// Well formed but refused before the signature is compared: expired
    /// or not yet current, wrongly scoped, `host` unsigned (AWS's
    /// `InvalidSignatureException`).
    Invalid(String),
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl SigV4Error {
    /// `(status, x-amzn-ErrorType, message)` as AWS answers (403 for every
    /// one on API Gateway, `execute-api` and `apigateway` alike:
    /// <https://repost.aws/knowledge-center/api-gateway-iam-sigv4-mismatch>).
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
            SigV4Error::Mismatch {
                canonical_request,
                string_to_sign,
            } => (
                403,
                "InvalidSignatureException",
                format!(
                    "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
                ),
            ),
            SigV4Error::Incomplete(message) => {
                (403, "IncompleteSignatureException", message.clone())
            }
            SigV4Error::Invalid(message) => (403, "InvalidSignatureException", message.clone()),
        }
    }
}

/// A request as it arrived, for [`verify`].
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub raw_path: &'a str,
    /// The query as sent (still percent-encoded), without `?`.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    /// The URI's authority, which stands for `host` when there is no such
    /// header (HTTP/2 sends `:authority` instead).
    pub authority: Option<&'a str>,
    pub body: &'a [u8],
}

/// The signature's parts, from the `Authorization` header or the query.
#[derive(Debug)]
struct Signature {
    algorithm: String,
    credential: String,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    /// The query parameters that are signed (a presigned URL's minus
    /// `X-Amz-Signature`), still encoded.
    signed_query: String,
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
/// Signature=...` header's parts.
fn from_header(header: &str, request: &SignedRequest) -> Result<Signature, SigV4Error> {
    let (algorithm, rest) = header.split_once(' ').unwrap_or((header, ""));
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once('=').ok_or_else(|| {
            SigV4Error::Incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            ))
        })?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let amz_date = request
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok());
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed),
    ] {
        if value.is_none() {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if amz_date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        return Err(SigV4Error::Incomplete(format!(
            "{missing}Authorization={header}"
        )));
    }
    Ok(Signature {
        algorithm: algorithm.to_string(),
        credential: credential.unwrap_or_default().to_string(),
        signed_headers: signed
            .unwrap_or_default()
            .split(';')
            .map(str::to_string)
            .collect(),
        signature: signature.unwrap_or_default().to_string(),
        amz_date: amz_date.unwrap_or_default().to_string(),
        signed_query: request.raw_query.to_string(),
    })
}

/// A presigned URL's `X-Amz-*` query parameters. `X-Amz-Expires` is
/// signed like any parameter but does not lengthen or shorten the
/// 5-minute window: API Gateway ignores it
/// (<https://stackoverflow.com/questions/66961500>: "I've tried to add
/// X-Amz-Expires ... with various values (both less and greater than 300
/// seconds) ... behavior doesn't change").
fn from_query(request: &SignedRequest) -> Result<Signature, SigV4Error> {
    let mut found: HashMap<&str, String> = HashMap::new();
    let mut signed_query = Vec::new();
    for pair in request.raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name_decoded = decode(name);
        for wanted in [
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        ] {
            if name_decoded == wanted {
                found.insert(wanted, decode(value));
            }
        }
        if name_decoded != "X-Amz-Signature" {
            signed_query.push(pair);
        }
    }
    // Every missing part at once, in this order, then "Re-examine the
    // query-string parameters." (recorded by dynalite, index.js).
    let mut missing = String::new();
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ] {
        if found.get(name).is_none_or(String::is_empty) {
            missing.push_str(&format!(
                "AWS query-string parameters must include '{name}'. "
            ));
        }
    }
    if !missing.is_empty() {
        return Err(SigV4Error::Incomplete(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    }
    let mut take = |name: &str| found.remove(name).unwrap_or_default();
    let algorithm = take("X-Amz-Algorithm");
    let credential = take("X-Amz-Credential");
    let amz_date = take("X-Amz-Date");
    let signed_headers = take("X-Amz-SignedHeaders");
    let signature = take("X-Amz-Signature");
    Ok(Signature {
        algorithm,
        credential,
        signed_headers: signed_headers.split(';').map(str::to_string).collect(),
        signature,
        amz_date,
        signed_query: signed_query.join("&"),
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

/// Seconds since the epoch of a `YYYYMMDDTHHMMSSZ` time (SigV4's "ISO-8601
/// basic format").
fn parse_amz_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 16
        || bytes[8] != b'T'
        || bytes[15] != b'Z'
        || !bytes[..8]
            .iter()
            .chain(&bytes[9..15])
            .all(u8::is_ascii_digit)
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    let month = time::Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(number(0..4)?).ok()?,
        month,
        u8::try_from(number(6..8)?).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(number(9..11)?).ok()?,
        u8::try_from(number(11..13)?).ok()?,
        u8::try_from(number(13..15)?).ok()?,
    )
    .ok()?;
    Some(date.with_time(clock).assume_utc().unix_timestamp())
}

/// `YYYYMMDDTHHMMSSZ` of a time in seconds since the epoch.
fn format_amz_date(seconds: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(seconds) else {
        return seconds.to_string();
    };
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Whether `region` has the form of an AWS region name (`us-east-1`,
/// `eu-central-2`, `us-gov-west-1`, `cn-north-1`): the gateway serves
/// every region locally, so any well-formed one is "a valid region".
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|n| n.to_string() == parts[parts.len() - 1])
}

/// Checks a request's SigV4 signature (header or presigned query) for
/// `service` (`apigateway` for the control plane, `execute-api` for APIs
/// and `@connections`) at `now` against `secrets` (access key id ->
/// secret access key); the access key id on success.
///
/// The payload's hash in the canonical request is always the SHA-256 of
/// the body that arrived: a client's `x-amz-content-sha256` (or
/// `UNSIGNED-PAYLOAD`, which only S3 and a few streaming operations
/// accept) does not replace it, so a body changed after signing fails the
/// comparison, as botocore signs every non-S3 request
/// (`SigV4Auth.payload` hashes the body).
pub fn verify(
    request: &SignedRequest,
    secrets: &HashMap<String, String>,
    service: &str,
    now: SystemTime,
) -> Result<String, SigV4Error> {
    let header = request
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("AWS4-"));
    let presigned = request
        .raw_query
        .split('&')
        .any(|pair| pair.split_once('=').map_or(pair, |(name, _)| name) == "X-Amz-Algorithm");
    let signature = match header {
        Some(_) if presigned => {
            return Err(SigV4Error::Invalid(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
                    .into(),
            ));
        }
        Some(header) => from_header(header, request)?,
        None if presigned => from_query(request)?,
        None => return Err(SigV4Error::Missing),
    };

    // The date: its form, then within 5 minutes of now.
    let signed_at = parse_amz_date(&signature.amz_date).ok_or_else(|| {
        SigV4Error::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            signature.amz_date
        ))
    })?;
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if signed_at < now - ALLOWED_SKEW_SECS {
        return Err(SigV4Error::Invalid(format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            signature.amz_date,
            format_amz_date(now - ALLOWED_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    if signed_at > now + ALLOWED_SKEW_SECS {
        return Err(SigV4Error::Invalid(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            signature.amz_date,
            format_amz_date(now + ALLOWED_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    if !signature
        .signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("host"))
    {
        return Err(SigV4Error::Invalid(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    if signature.algorithm != "AWS4-HMAC-SHA256" {
        return Err(SigV4Error::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{}' (only AWS4-HMAC-SHA256 for now). ",
            signature.algorithm
        )));
    }

    // The credential: five parts, scoped to a region, this service, the
    // terminator and the request's day. AWS lists every wrong part at once.
    let parts: Vec<&str> = signature.credential.split('/').collect();
    let [key_id, day, region, scoped_service, terminator] = parts[..] else {
        return Err(SigV4Error::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            signature.credential
        )));
    };
    let mut wrong = String::new();
    if !is_region(region) {
        wrong.push_str(&format!(
            "Credential should be scoped to a valid region, not '{region}'. "
        ));
    }
    if scoped_service != service {
        wrong.push_str(&format!(
            "Credential should be scoped to correct service: '{service}'. "
        ));
    }
    if terminator != "aws4_request" {
        wrong.push_str(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
        ));
    }
    let request_day = &signature.amz_date[..8];
    if day != request_day {
        wrong.push_str(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{day}' != '{request_day}', from '{}'.",
            signature.amz_date
        ));
    }
    if !wrong.is_empty() {
        return Err(SigV4Error::Invalid(wrong));
    }
    let secret = secrets.get(key_id).ok_or(SigV4Error::UnknownKey)?;

    let mut signed_names: Vec<String> = signature
        .signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    signed_names.sort();
    let mut canonical_headers = String::new();
    for name in &signed_names {
        let mut values: Vec<String> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty()
            && name == "host"
            && let Some(authority) = request.authority
        {
            values.push(authority.to_string());
        }
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    let payload_hash = hex(digest::digest(&digest::SHA256, request.body).as_ref());
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        request.method,
        uri_encode(
            if request.raw_path.is_empty() {
                "/"
            } else {
                request.raw_path
            },
            true
        ),
        canonical_query(&signature.signed_query),
        signed_names.join(";"),
    );
    let scope = format!("{day}/{region}/{scoped_service}/{terminator}");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        signature.amz_date,
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    );
    let mut key = sign(format!("AWS4{secret}").as_bytes(), day);
    for part in [region, scoped_service, terminator] {
        key = sign(&key, part);
    }
    // ring compares in constant time.
    let given: Option<Vec<u8>> = (signature.signature.len() == 64
        && signature.signature.is_ascii())
    .then(|| {
        (0..32)
            .map(|i| u8::from_str_radix(&signature.signature[2 * i..2 * i + 2], 16).ok())
            .collect()
    })
    .flatten();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    match given {
        Some(given) if hmac::verify(&key, string_to_sign.as_bytes(), &given).is_ok() => {
            Ok(key_id.to_string())
        }
        _ => Err(SigV4Error::Mismatch {
            canonical_request,
            string_to_sign,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(amz_date: &str) -> SystemTime {
        SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(parse_amz_date(amz_date).unwrap() as u64)
    }

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
        let request = SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: "Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            authority: None,
            body: b"",
        };
        let now = at("20150830T123800Z");
        assert_eq!(
            verify(&request, &secrets, "iam", now),
            Ok("AKIDEXAMPLE".into())
        );
        let wrong = HashMap::from([("AKIDEXAMPLE".to_string(), "other".to_string())]);
        assert!(matches!(
            verify(&request, &wrong, "iam", now),
            Err(SigV4Error::Mismatch { .. })
        ));
        assert_eq!(
            verify(&request, &HashMap::new(), "iam", now),
            Err(SigV4Error::UnknownKey)
        );
        // Six minutes later: expired, in AWS's words.
        assert_eq!(
            verify(&request, &secrets, "iam", at("20150830T124200Z")),
            Err(SigV4Error::Invalid(
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T124200Z - 5 min.)".into()
            ))
        );
        assert_eq!(
            verify(&request, &secrets, "iam", at("20150830T123000Z")),
            Err(SigV4Error::Invalid(
                "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T123000Z + 5 min.)".into()
            ))
        );
        // Over HTTP/2 the host comes as the URI's authority.
        let mut without_host = headers.clone();
        without_host.remove("host");
        let over_http2 = SignedRequest {
            headers: &without_host,
            authority: Some("iam.amazonaws.com"),
            ..request
        };
        assert_eq!(
            verify(&over_http2, &secrets, "iam", now),
            Ok("AKIDEXAMPLE".into())
        );
        assert_eq!(
            verify(&request, &secrets, "apigateway", now),
            Err(SigV4Error::Invalid(
                "Credential should be scoped to correct service: 'apigateway'. ".into()
            ))
        );
    }

    #[test]
    fn uri_encoding_is_aws_s() {
        assert_eq!(uri_encode("/a b/%7B~x+", true), "/a%20b/%257B~x%2B");
        assert_eq!(canonical_query("b=2&a=%20x&a=1"), "a=%20x&a=1&b=2");
    }

    #[test]
    fn region_names() {
        for good in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1"] {
            assert!(is_region(good), "{good}");
        }
        for bad in [
            "",
            "local",
            "us-east",
            "US-EAST-1",
            "us-east-01",
            "u-east-1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn amz_dates_round_trip() {
        let seconds = parse_amz_date("20261203T193414Z").unwrap();
        assert_eq!(format_amz_date(seconds), "20261203T193414Z");
        for bad in [
            "2026-12-03",
            "20261303T000000Z",
            "20261203T250000Z",
            "20261203T193414",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}
