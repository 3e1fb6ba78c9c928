//! JWT authorizers of HTTP APIs on a real port, with tokens from two
//! issuers: Portico's own (its token endpoint; the token checked
//! independently with PyJWT) and an external one written in Python
//! (`cryptography` key, PyJWT RS256 tokens, discovery and JWKS over http on
//! loopback).
//!
//! AWS facts used here
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html>,
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html>):
//! an invalid token is 401 `{"message":"Unauthorized"}` with
//! `www-authenticate: Bearer scope="" error="invalid_token"
//! error_description="the token does not have a valid audience"`; `aud`, or
//! `client_id` when there is no `aud`, must match an audience; a route with
//! scopes needs at least one of them in the token.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{TempProject, client, start_gateway};
use portico::gateway::Gateway;
use serde_json::{Value, json};

const ECHO: &str = r#"
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
"#;

/// The sample HTTP API with `GET /orders` behind a JWT authorizer for
/// `issuer`, audience `shop`, scope `orders:read`, served from `gateway`
/// (reloaded with it).
fn protect(project: &TempProject, gateway: &Gateway, issuer: &str) {
    let mut loaded = project.load();
    let api = &mut loaded.http_apis[0];
    api.authorizers.push(
        serde_json::from_value(json!({
            "authorizerId": "jwt0001", "name": "test-users", "authorizerType": "JWT",
            "identitySource": ["$request.header.Authorization"],
            "jwtConfiguration": {"issuer": issuer, "audience": ["shop"]}
        }))
        .unwrap(),
    );
    api.integrations.push(
        serde_json::from_value(json!({
            "integrationId": "claims1", "integrationType": "AWS_PROXY", "payloadFormatVersion": "2.0",
            "integrationUri": "arn:aws:lambda:us-east-1:000000000000:function:claims"
        }))
        .unwrap(),
    );
    api.routes.push(
        serde_json::from_value(json!({
            "routeId": "orders1", "routeKey": "GET /orders", "target": "integrations/claims1",
            "authorizationType": "JWT", "authorizerId": "jwt0001", "authorizationScopes": ["orders:read"]
        }))
        .unwrap(),
    );
    loaded
        .functions
        .push(portico::model::FunctionDefinition::new(
            "claims",
            "python3.12",
            "app.handler",
            "functions/claims",
        ));
    std::fs::create_dir_all(project.path().join("functions/claims")).unwrap();
    std::fs::write(project.path().join("functions/claims/app.py"), ECHO).unwrap();
    loaded.save().unwrap();
    gateway
        .reload(&portico::model::Project::load(&project.path()).unwrap())
        .unwrap();
}

async fn orders(gateway: &Gateway, token: Option<&str>) -> (u16, String, String) {
    let mut request = client()
        .get(format!("http://{}/orders", gateway.local_addr()))
        .header("host", "shopapi001.execute-api.localhost");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, challenge, response.text().await.unwrap())
}

#[tokio::test]
async fn the_local_issuer_mints_tokens_routes_accept() {
    let project = TempProject::copy_of("projects/http-api");
    let gateway = start_gateway(&project.load());
    let issuer = gateway.issuer().url.clone();
    protect(&project, &gateway, &issuer);
    let mint = |claims: Value| {
        let url = format!("{issuer}/token");
        async move {
            let answer: Value = client()
                .post(url)
                .json(&claims)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["access_token"].as_str().unwrap().to_string()
        }
    };
    let good = mint(json!({"sub": "ada", "aud": "shop", "scope": "orders:read profile"})).await;
    let (status, _, body) = orders(&gateway, Some(&good)).await;
    assert_eq!(status, 200, "{body}");
    let authorizer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(authorizer["jwt"]["claims"]["sub"], "ada");
    assert_eq!(authorizer["jwt"]["claims"]["aud"], "shop");
    assert_eq!(
        authorizer["jwt"]["scopes"],
        json!(["orders:read", "profile"])
    );

    // `portico token` mints one from the command line.
    let output = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args([
            "token",
            "--aud",
            "shop",
            "--scope",
            "orders:read",
            "--sub",
            "cli",
        ])
        .args(["--endpoint", &format!("http://{}", gateway.local_addr())])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let from_cli = String::from_utf8(output.stdout).unwrap();
    let (status, _, body) = orders(&gateway, Some(from_cli.trim())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""sub": "cli""#), "{body}");

    // PyJWT, independently, accepts the same token.
    let output = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/jwt_clients/check_local_token.py"
        ))
        .args([&issuer, &good, "shop"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ada");

    // No token, the wrong audience, the wrong scope, expired.
    let (status, _, body) = orders(&gateway, None).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    let wrong_audience = mint(json!({"aud": "other", "scope": "orders:read"})).await;
    let (status, challenge, _) = orders(&gateway, Some(&wrong_audience)).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        r#"Bearer scope="orders:read" error="invalid_token" error_description="the token does not have a valid audience""#
    );
    let wrong_scope = mint(json!({"aud": "shop", "scope": "profile"})).await;
    let (status, challenge, body) = orders(&gateway, Some(&wrong_scope)).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = mint(json!({"aud": "shop", "scope": "orders:read", "exp": now - 5})).await;
    assert_eq!(orders(&gateway, Some(&expired)).await.0, 401);
    let tampered = format!("{}x", &good[..good.len() - 1]);
    assert_eq!(orders(&gateway, Some(&tampered)).await.0, 401);
}

#[tokio::test]
async fn an_external_issuer_works_the_same_way() {
    let mut issuer_process = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/jwt_clients/external_issuer.py"
        ))
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let lines: Vec<String> = BufReader::new(issuer_process.stdout.take().unwrap())
        .lines()
        .take(8)
        .map(Result::unwrap)
        .collect();
    let [
        issuer,
        valid,
        wrong_audience,
        client_id,
        expired,
        wrong_scope,
        wrong_issuer,
        unsigned,
    ] = &lines[..]
    else {
        panic!("{lines:?}");
    };
    let project = TempProject::copy_of("projects/http-api");
    let gateway = start_gateway(&project.load());
    protect(&project, &gateway, issuer);
    let (status, _, body) = orders(&gateway, Some(valid)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(orders(&gateway, Some(client_id)).await.0, 200, "client_id");
    assert_eq!(orders(&gateway, Some(wrong_audience)).await.0, 401);
    assert_eq!(orders(&gateway, Some(expired)).await.0, 401);
    assert_eq!(orders(&gateway, Some(wrong_scope)).await.0, 403);
    assert_eq!(
        orders(&gateway, Some(wrong_issuer)).await.0,
        401,
        "wrong issuer"
    );
    assert_eq!(orders(&gateway, Some(unsigned)).await.0, 401, "alg: none");
    // The RS256 signature no longer covers a changed payload.
    {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = valid.split('.').collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = serde_json::json!("mallory");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            engine.encode(claims.to_string()),
            parts[2]
        );
        assert_eq!(
            orders(&gateway, Some(&forged)).await.0,
            401,
            "forged payload"
        );
    }
    issuer_process.kill().unwrap();
    issuer_process.wait().unwrap();
}
