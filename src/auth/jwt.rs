//! JWT authorizers of HTTP APIs, as AWS documents them
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html>):
//! the issuer's keys come from `{issuer}/.well-known/openid-configuration`
//! -> `jwks_uri` (cached; fetched again when a token names an unknown
//! `kid`); the signature (RS256/384/512, ES256/384, PS*), `exp`, `nbf` and
//! `iss` are checked by the `jsonwebtoken` crate; the `aud` claim, or
//! `client_id` when there is no `aud`, must be one of the audiences; and a
//! route with scopes needs at least one of them in `scope` / `scp`.
//!
//! Also Portico's own issuer ([`LocalIssuer`]): a discovery document, a JWKS
//! and a token endpoint on the gateway's port, so JWT routes are testable
//! offline. Its ES256 key is made (and tokens signed) with `ring`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Map, Value, json};

/// Why a token was refused: AWS answers 401 (`invalid_token`) or 403
/// (`insufficient_scope`) with this in `www-authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtError {
    pub insufficient_scope: bool,
    pub description: String,
}

fn invalid(description: impl Into<String>) -> JwtError {
    JwtError {
        insufficient_scope: false,
        description: description.into(),
    }
}

/// What a valid token gives the route: its claims and scopes.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub claims: Map<String, Value>,
    pub scopes: Vec<String>,
}

/// The issuers' key sets, fetched on first use and cached.
#[derive(Debug)]
pub struct Jwks {
    client: reqwest::Client,
    cache: Mutex<HashMap<String, (Arc<KeySet>, Instant)>>,
    /// Tokens whose signature and issuer were checked: `(issuer, token)`
    /// -> their claims. A client sends the same token for many requests;
    /// a repeat skips the signature check (time claims are checked again
    /// each time). Bounded by count and by bytes: emptied when full.
    verified: Mutex<VerifiedTokens>,
}

/// [`Jwks::verified`]: the checked tokens and the bytes they hold.
#[derive(Debug, Default)]
struct VerifiedTokens {
    tokens: HashMap<(String, String), Claims>,
    bytes: usize,
}

impl VerifiedTokens {
    /// What remembering a token costs: its key, and its claims (at most
    /// about the token's length again, decoded) with the map's overhead.
    fn cost(issuer: &str, token: &str) -> usize {
        issuer.len() + 2 * token.len() + 256
    }

    fn remember(&mut self, key: (String, String), claims: Claims) {
        let cost = VerifiedTokens::cost(&key.0, &key.1);
        if key.1.len() > MAX_REMEMBERED_TOKEN_BYTES {
            return;
        }
        if self.tokens.len() >= VERIFIED_TOKENS || self.bytes + cost > VERIFIED_TOKEN_BYTES {
            self.tokens.clear();
            self.bytes = 0;
        }
        if self.tokens.insert(key, claims).is_none() {
            self.bytes += cost;
        }
    }
}

/// A checked token's claims.
type Claims = Arc<Map<String, Value>>;

/// How many checked tokens [`Jwks`] remembers.
const VERIFIED_TOKENS: usize = 10_000;
/// The most bytes the remembered tokens may take (a caller sending large
/// tokens fills this long before the count): 16 MiB.
const VERIFIED_TOKEN_BYTES: usize = 16 << 20;
/// Tokens longer than this are checked every time, not remembered.
const MAX_REMEMBERED_TOKEN_BYTES: usize = 16 * 1024;

/// An issuer's keys, parsed once when fetched: jsonwebtoken's, and the
/// same key for `ring`, which checks RS*, PS* and ES256/384 signatures
/// several times faster than the pure-Rust backends.
struct KeySet {
    keys: Vec<(Option<String>, DecodingKey, Option<RingKey>)>,
}

/// A JWK's public key in the form `ring` verifies with.
enum RingKey {
    /// An uncompressed point (`0x04 || x || y`) on P-256 or P-384.
    Ec {
        point: Vec<u8>,
        p384: bool,
    },
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

impl RingKey {
    fn from_jwk(jwk: &jsonwebtoken::jwk::Jwk) -> Option<RingKey> {
        use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
        let decode = |text: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .ok()
        };
        match &jwk.algorithm {
            AlgorithmParameters::EllipticCurve(ec) => {
                let p384 = match ec.curve {
                    EllipticCurve::P256 => false,
                    EllipticCurve::P384 => true,
                    _ => return None,
                };
                let mut point = vec![4u8];
                point.extend(decode(&ec.x)?);
                point.extend(decode(&ec.y)?);
                Some(RingKey::Ec { point, p384 })
            }
            AlgorithmParameters::RSA(rsa) => Some(RingKey::Rsa {
                n: decode(&rsa.n)?,
                e: decode(&rsa.e)?,
            }),
            _ => None,
        }
    }

    /// Whether `signature` signs `message` for `alg`; `None` when this key
    /// cannot be used with `alg` (jsonwebtoken then decides, and refuses).
    fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> Option<bool> {
        use ring::signature as sig;
        match self {
            RingKey::Ec { point, p384 } => {
                let algorithm: &dyn sig::VerificationAlgorithm = match (alg, p384) {
                    (Algorithm::ES256, false) => &sig::ECDSA_P256_SHA256_FIXED,
                    (Algorithm::ES384, true) => &sig::ECDSA_P384_SHA384_FIXED,
                    _ => return None,
                };
                Some(
                    sig::UnparsedPublicKey::new(algorithm, point)
                        .verify(message, signature)
                        .is_ok(),
                )
            }
            RingKey::Rsa { n, e } => {
                let parameters: &sig::RsaParameters = match alg {
                    Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
                    _ => return None,
                };
                Some(
                    sig::RsaPublicKeyComponents { n, e }
                        .verify(parameters, message, signature)
                        .is_ok(),
                )
            }
        }
    }
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|(kid, _, _)| kid))
            .finish()
    }
}

impl KeySet {
    fn find(&self, kid: Option<&str>) -> Option<(&DecodingKey, Option<&RingKey>)> {
        let found = match kid {
            Some(kid) => self.keys.iter().find(|(k, _, _)| k.as_deref() == Some(kid)),
            None => self.keys.first(),
        };
        found.map(|(_, key, ring_key)| (key, ring_key.as_ref()))
    }
}

impl Default for Jwks {
    fn default() -> Self {
        Jwks {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            cache: Mutex::new(HashMap::new()),
            verified: Mutex::new(VerifiedTokens::default()),
        }
    }
}

/// `http://` is accepted for issuers on this machine only (AWS requires
/// https; a local issuer has none).
fn issuer_allowed(issuer: &str) -> bool {
    if issuer.starts_with("https://") {
        return true;
    }
    let Some(rest) = issuer.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host.ends_with(".localhost")
}

impl Jwks {
    async fn fetch(&self, issuer: &str) -> Result<Arc<KeySet>, String> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let bytes = self
            .client
            .get(&discovery)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {discovery}: {e}"))?
            .bytes()
            .await
            .map_err(|e| format!("cannot read {discovery}: {e}"))?;
        let document: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("{discovery} is not JSON: {e}"))?;
        let jwks_uri = document["jwks_uri"]
            .as_str()
            .ok_or_else(|| format!("{discovery} has no jwks_uri"))?;
        let bytes = self
            .client
            .get(jwks_uri)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {jwks_uri}: {e}"))?
            .bytes()
            .await
            .map_err(|e| format!("cannot read {jwks_uri}: {e}"))?;
        let set: JwkSet = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{jwks_uri} is not a JWK set: {e}"))?;
        let set = Arc::new(KeySet {
            keys: set
                .keys
                .iter()
                .filter_map(|jwk| {
                    Some((
                        jwk.common.key_id.clone(),
                        DecodingKey::from_jwk(jwk).ok()?,
                        RingKey::from_jwk(jwk),
                    ))
                })
                .collect(),
        });
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(issuer.to_string(), (Arc::clone(&set), Instant::now()));
        Ok(set)
    }

    fn cached(&self, issuer: &str) -> Option<(Arc<KeySet>, Instant)> {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(issuer)
            .cloned()
    }

    /// Checks `token` against the issuer, the audiences and (if any) the
    /// route's scopes.
    pub async fn verify(
        &self,
        token: &str,
        issuer: &str,
        audiences: &[String],
        scopes: &[String],
    ) -> Result<Verified, JwtError> {
        if !issuer_allowed(issuer) {
            return Err(invalid(format!(
                "the issuer {issuer} must use https (http is accepted on localhost only)"
            )));
        }
        let key = (issuer.to_string(), token.to_string());
        let remembered = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tokens
            .get(&key)
            .cloned();
        let claims = match remembered {
            Some(claims) => {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                if claims
                    .get("exp")
                    .and_then(Value::as_i64)
                    .is_some_and(|exp| exp < now)
                {
                    return Err(invalid("the token has expired"));
                }
                if claims
                    .get("nbf")
                    .and_then(Value::as_i64)
                    .is_some_and(|nbf| nbf > now)
                {
                    return Err(invalid("the token is not valid yet"));
                }
                claims
            }
            None => {
                let claims = Arc::new(self.check_signature(token, issuer).await?);
                self.verified
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remember(key, Arc::clone(&claims));
                claims
            }
        };
        check_claims(&claims, audiences, scopes)
    }

    /// The signature, `iss`, `exp` and `nbf` of a token not seen before;
    /// its claims.
    async fn check_signature(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<Map<String, Value>, JwtError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| invalid(format!("the token is not a JWT: {e}")))?;
        let kid = header.kid.clone().unwrap_or_default();
        let keys = match self.cached(issuer) {
            Some((keys, _)) if keys.find(Some(&kid)).is_some() || header.kid.is_none() => keys,
            // An unknown kid: the issuer may have rotated its keys (at most
            // one fetch a second per issuer).
            Some((keys, fetched)) if fetched.elapsed() < Duration::from_secs(1) => keys,
            _ => self.fetch(issuer).await.map_err(invalid)?,
        };
        let (key, ring_key) = keys
            .find(header.kid.as_deref())
            .ok_or_else(|| invalid("the token's signing key is not in the issuer's JWKS"))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ) {
            return Err(invalid(format!("unsupported algorithm {:?}", header.alg)));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_issuer(&[issuer]);
        // The signature by ring where it can; jsonwebtoken then checks the
        // claims (and checks the signature itself where ring cannot).
        if let Some(ring_key) = ring_key
            && let Some((message, signature)) = token.rsplit_once('.')
        {
            let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(signature)
                .map_err(|_| invalid("the token's signature is not valid"))?;
            match ring_key.verify(header.alg, message.as_bytes(), &signature) {
                // Deprecated in favour of `dangerous::insecure_decode`, which
                // would also skip the exp / nbf / iss checks we still want;
                // the signature was verified just above.
                #[allow(deprecated)]
                Some(true) => validation.insecure_disable_signature_validation(),
                Some(false) => return Err(invalid("the token's signature is not valid")),
                None => {}
            }
        }
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                invalid(match e.kind() {
                    K::ExpiredSignature => "the token has expired".to_string(),
                    K::ImmatureSignature => "the token is not valid yet".to_string(),
                    K::InvalidIssuer => "the token does not have a valid issuer".to_string(),
                    K::InvalidSignature => "the token's signature is not valid".to_string(),
                    other => format!("the token is not valid: {other:?}"),
                })
            })?;
        Ok(data.claims)
    }
}

/// The audience (`aud`, or `client_id` without `aud`) and scope checks.
fn check_claims(
    claims: &Map<String, Value>,
    audiences: &[String],
    scopes: &[String],
) -> Result<Verified, JwtError> {
    {
        if !audiences.is_empty() {
            let given: Vec<&str> = match (claims.get("aud"), claims.get("client_id")) {
                (Some(Value::String(aud)), _) => vec![aud.as_str()],
                (Some(Value::Array(auds)), _) => auds.iter().filter_map(Value::as_str).collect(),
                (None, Some(Value::String(client))) => vec![client.as_str()],
                _ => Vec::new(),
            };
            if !given.iter().any(|a| audiences.iter().any(|b| b == a)) {
                return Err(invalid("the token does not have a valid audience"));
            }
        }
        let token_scopes: Vec<String> = match claims.get("scope").or_else(|| claims.get("scp")) {
            Some(Value::String(text)) => text.split_whitespace().map(str::to_string).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        if !scopes.is_empty() && !scopes.iter().any(|s| token_scopes.contains(s)) {
            return Err(JwtError {
                insufficient_scope: true,
                description: "the token does not have the required scopes".into(),
            });
        }
        Ok(Verified {
            claims: claims.clone(),
            scopes: token_scopes,
        })
    }
}

/// Portico's own OpenID issuer: an ES256 key made at start (tokens do not
/// outlive the process), served at `{gateway}/_portico/issuer`.
pub struct LocalIssuer {
    key: EcdsaKeyPair,
    pub kid: String,
    pub url: String,
}

impl std::fmt::Debug for LocalIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIssuer")
            .field("kid", &self.kid)
            .field("url", &self.url)
            .finish()
    }
}

/// Where the local issuer lives on the gateway's port.
pub const ISSUER_PATH: &str = "/_portico/issuer";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl LocalIssuer {
    /// A new key; `base` is the gateway's URL (`http://127.0.0.1:4455`).
    pub fn new(base: &str) -> LocalIssuer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("the system's random source works");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("a key ring just made parses");
        let kid = b64(
            &ring::digest::digest(&ring::digest::SHA256, key.public_key().as_ref()).as_ref()[..12],
        );
        LocalIssuer {
            key,
            kid,
            url: format!("{base}{ISSUER_PATH}"),
        }
    }

    /// The public key as a JWK set.
    pub fn jwks(&self) -> Value {
        let point = self.key.public_key().as_ref();
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }]})
    }

    /// The OpenID discovery document.
    pub fn discovery(&self) -> Value {
        json!({
            "issuer": self.url,
            "jwks_uri": format!("{}/.well-known/jwks.json", self.url),
            "token_endpoint": format!("{}/token", self.url),
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "grant_types_supported": ["client_credentials"],
        })
    }

    /// Signs `claims` (with `iss`, `iat` and `exp` filled in unless given).
    pub fn mint(&self, mut claims: Map<String, Value>, lifetime: Duration) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        claims.entry("iss").or_insert_with(|| json!(self.url));
        claims.entry("iat").or_insert_with(|| json!(now));
        claims
            .entry("exp")
            .or_insert_with(|| json!(now + lifetime.as_secs() as i64));
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(Value::Object(claims).to_string().as_bytes())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .expect("signing with a valid key works");
        format!("{signing_input}.{}", b64(signature.as_ref()))
    }

    /// `POST {issuer}/token`: a JSON body of claims (`sub`, `scope`, `aud`,
    /// `client_id`, anything else) and optional `expires_in` seconds
    /// (default 3600) -> an OAuth token response.
    pub fn token_response(&self, body: &[u8]) -> Result<Value, String> {
        let mut claims: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            serde_json::from_slice(body)
                .map_err(|e| format!("expected a JSON object of claims: {e}"))?
        };
        let lifetime = match claims.remove("expires_in") {
            None => 3600,
            Some(value) => value
                .as_u64()
                .ok_or("expires_in must be a number of seconds")?,
        };
        claims.entry("sub").or_insert_with(|| json!("portico-user"));
        let token = self.mint(claims, Duration::from_secs(lifetime));
        Ok(json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 80 KB tokens (a caller's choice) used to be kept 10,000 deep, about
    /// 1.5 GB: the remembered tokens are bounded by bytes, and tokens past
    /// 16 KB are not remembered at all.
    #[test]
    fn remembered_tokens_are_bounded_by_bytes() {
        let mut verified = VerifiedTokens::default();
        let claims: Claims = Arc::new(Map::new());
        let issuer = "https://issuer.example";
        for i in 0..10_000 {
            let token = format!("{i}.{}", "x".repeat(12 * 1024));
            verified.remember((issuer.into(), token), Arc::clone(&claims));
            let held: usize = verified.tokens.keys().map(|(_, t)| t.len()).sum();
            assert!(held <= VERIFIED_TOKEN_BYTES, "{held} bytes of tokens held");
            assert!(verified.bytes <= VERIFIED_TOKEN_BYTES);
        }
        assert!(!verified.tokens.is_empty());
        let huge = "y".repeat(80 * 1024);
        verified.remember((issuer.into(), huge.clone()), claims);
        assert!(!verified.tokens.contains_key(&(issuer.to_string(), huge)));
    }

    #[test]
    fn only_local_http_issuers() {
        assert!(issuer_allowed("https://auth.example.com"));
        assert!(issuer_allowed("http://127.0.0.1:4455/_portico/issuer"));
        assert!(issuer_allowed("http://localhost:9000"));
        assert!(!issuer_allowed("http://auth.example.com"));
        assert!(!issuer_allowed("ftp://x"));
    }

    /// A minted token's parts: the header names the key, the payload has
    /// the claims and `iss` / `iat` / `exp`, the signature is 64 bytes.
    #[test]
    fn minted_tokens_have_the_claims() {
        let issuer = LocalIssuer::new("http://127.0.0.1:1");
        let mut claims = Map::new();
        claims.insert("scope".into(), json!("read"));
        let token = issuer.mint(claims, Duration::from_secs(60));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap()
        };
        let header: Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        assert_eq!(header["kid"], issuer.kid.as_str());
        let payload: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(payload["iss"], "http://127.0.0.1:1/_portico/issuer");
        assert_eq!(payload["scope"], "read");
        assert!(payload["exp"].as_i64().unwrap() > payload["iat"].as_i64().unwrap());
        assert_eq!(decode(parts[2]).len(), 64);
    }
}
