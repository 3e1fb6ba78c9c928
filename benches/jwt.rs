//! JWT validation speed (issue: HTTP APIs): the time `Jwks::verify` takes
//! per request once the issuer's JWKS is cached, for ES256 tokens of
//! Portico's local issuer: a client's token on its repeat requests (the
//! common case: claims, audience and scopes checked, the signature
//! remembered), and tokens never seen before (the signature checked too);
//! p50 and p99 (target: p50 under 30 microseconds).
//! `cargo bench --bench jwt`.

use std::time::{Duration, Instant};

use portico::auth::jwt::Jwks;
use portico::gateway::{Gateway, GatewayConfig};
use portico::model::Project;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("portico.json"), r#"{"version": 1}"#).expect("write");
    let project = Project::load(dir.path()).expect("loads");
    let gateway = Gateway::start(
        &project,
        &GatewayConfig {
            port: 0,
            ..GatewayConfig::default()
        },
    )
    .expect("starts");
    let issuer = gateway.issuer();
    let mut claims = serde_json::Map::new();
    claims.insert("aud".into(), serde_json::json!("shop"));
    claims.insert("scope".into(), serde_json::json!("orders:read profile"));
    let token = issuer.mint(claims, Duration::from_secs(3600));
    let audiences = vec!["shop".to_string()];
    let scopes = vec!["orders:read".to_string()];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let jwks = Jwks::default();
    runtime.block_on(async {
        // The first check fetches the discovery document and the JWKS.
        jwks.verify(&token, &issuer.url, &audiences, &scopes)
            .await
            .expect("valid");
        let report = |name: &str, mut times: Vec<Duration>| {
            times.sort();
            let at = |q: f64| times[((times.len() as f64) * q) as usize].as_secs_f64() * 1e6;
            println!(
                "JWT validation with a cached JWKS, {name}: p50 {:.1} us, p99 {:.1} us (target p50 < 30 us)",
                at(0.5),
                at(0.99)
            );
        };
        let mut times = Vec::with_capacity(20_000);
        for _ in 0..20_000 {
            let started = Instant::now();
            let verified = jwks.verify(&token, &issuer.url, &audiences, &scopes).await;
            times.push(started.elapsed());
            assert!(verified.is_ok());
        }
        report("a client's token again (ES256)", times);
        let fresh: Vec<String> = (0..2_000)
            .map(|i| {
                let mut claims = serde_json::Map::new();
                claims.insert("aud".into(), serde_json::json!("shop"));
                claims.insert("scope".into(), serde_json::json!("orders:read"));
                claims.insert("sub".into(), serde_json::json!(format!("user{i}")));
                issuer.mint(claims, Duration::from_secs(3600))
            })
            .collect();
        let mut times = Vec::with_capacity(fresh.len());
        for token in &fresh {
            let started = Instant::now();
            let verified = jwks.verify(token, &issuer.url, &audiences, &scopes).await;
            times.push(started.elapsed());
            assert!(verified.is_ok());
        }
        report("a token never seen (ES256 signature checked)", times);
    });
}
