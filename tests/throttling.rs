//! Throttling on a real port, with loose bounds (the exact behaviour is
//! tested with a fake clock in `src/gateway/throttle.rs`): the stage's
//! default method throttling, a per-method override, and the account
//! level; AWS's 429 `{"message":"Too Many Requests"}`
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>:
//! THROTTLED, 429).

mod common;

use common::{TempProject, client};
use portico::gateway::throttle::Limits;
use portico::gateway::{Gateway, GatewayConfig};
use portico::model::{MethodSetting, Project};

fn project_with(settings: &[(&str, u32, f64)]) -> (TempProject, Project) {
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let api_id = loaded.rest_apis[0].id.clone();
    let stage = loaded.api_mut(&api_id).unwrap().stage_mut("dev").unwrap();
    for (key, burst, rate) in settings {
        stage.method_settings.insert(
            key.to_string(),
            MethodSetting {
                throttling_burst_limit: Some(*burst),
                throttling_rate_limit: Some(*rate),
                ..MethodSetting::default()
            },
        );
    }
    loaded.save().unwrap();
    let loaded = Project::load(&project.path()).unwrap();
    (project, loaded)
}

fn start(project: &Project, account: Limits) -> Gateway {
    Gateway::start(
        project,
        &GatewayConfig {
            port: 0,
            worker_threads: 2,
            account_throttle: account,
            ..GatewayConfig::default()
        },
    )
    .unwrap()
}

async fn burst_of(gateway: &Gateway, path: &str, requests: usize) -> (usize, usize) {
    let client = client();
    let (mut ok, mut throttled) = (0, 0);
    for _ in 0..requests {
        let response = client
            .get(format!("http://{}{path}", gateway.local_addr()))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            429 => {
                assert_eq!(
                    response.headers()["x-amzn-errortype"],
                    "TooManyRequestsException"
                );
                assert_eq!(
                    response.text().await.unwrap(),
                    r#"{"message":"Too Many Requests"}"#
                );
                throttled += 1;
            }
            200 => ok += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    (ok, throttled)
}

#[tokio::test]
async fn stage_default_and_method_override() {
    let (_dir, project) = project_with(&[("*/*", 5, 1.0), ("~1pets~1{petId}/GET", 2, 1.0)]);
    let gateway = start(&project, Limits::ACCOUNT_DEFAULT);
    // 12 requests in well under a second: the burst, maybe one refilled token.
    let (ok, throttled) = burst_of(&gateway, "/dev/pets", 12).await;
    // Loose: a slow machine may refill a token or two meanwhile.
    assert!((5..=7).contains(&ok), "{ok} passed");
    assert_eq!(ok + throttled, 12);
    // Each method has its own bucket; this one's override is smaller.
    let (ok, _) = burst_of(&gateway, "/dev/pets/1", 8).await;
    assert!((2..=4).contains(&ok), "{ok} passed");
    // prod has no method settings: only the account limit applies.
    let (ok, throttled) = burst_of(&gateway, "/prod/pets", 20).await;
    assert_eq!((ok, throttled), (20, 0));
}

#[tokio::test]
async fn the_account_limit_applies_to_every_stage() {
    let (_dir, project) = project_with(&[]);
    let gateway = start(
        &project,
        Limits {
            rate: 1.0,
            burst: 3,
        },
    );
    let (dev, _) = burst_of(&gateway, "/dev/pets", 3).await;
    let (prod, throttled) = burst_of(&gateway, "/prod/pets", 3).await;
    assert!((3..=5).contains(&(dev + prod)), "{dev} + {prod}");
    assert!(throttled >= 1);
}

/// Real time over loopback: sending as fast as one client can for 1.5 s
/// against rate 20/s, burst 1, the admitted count is about 1 + 20 × 1.5
/// (loose bounds: the clock is real and the machine may be busy).
#[tokio::test]
async fn the_admitted_rate_follows_the_rate_in_real_time() {
    let (_dir, project) = project_with(&[("*/*", 1, 20.0)]);
    let gateway = start(&project, Limits::ACCOUNT_DEFAULT);
    let client = client();
    let url = format!("http://{}/dev/pets", gateway.local_addr());
    let started = std::time::Instant::now();
    let (mut ok, mut sent) = (0u32, 0u32);
    while started.elapsed() < std::time::Duration::from_millis(1500) {
        let status = client.get(&url).send().await.unwrap().status().as_u16();
        sent += 1;
        match status {
            200 => ok += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let expected = 1.0 + 20.0 * elapsed;
    assert!(
        sent as f64 > expected * 2.0,
        "the client kept up: {sent} sent"
    );
    assert!(
        (f64::from(ok) - expected).abs() <= expected * 0.25 + 2.0,
        "{ok} admitted in {elapsed:.2} s, expected about {expected:.0}"
    );
}
