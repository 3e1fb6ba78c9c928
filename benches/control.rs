//! Control-plane speed (issue: AWS-compatible control plane), in one run:
//! - listing 1,000 resources with embedded methods (`GET
//!   /restapis/{id}/resources?embed=methods`) over a real socket, median of
//!   30 (target under 50 ms);
//! - the data plane while deployments land: 4 clients hammer a MOCK route
//!   in six 500 ms windows without deployments, alternating with six with
//!   a `CreateDeployment` through the control plane every 100 ms; the 5xx
//!   count and p99 of each kind (target: no 5xx, p99 under 2x).
//!
//! `cargo bench --bench control`.

use std::time::{Duration, Instant};

use portico::gateway::{Gateway, GatewayConfig};
use portico::model::Project;
use serde_json::json;

fn project(dir: &std::path::Path) -> Project {
    let method = json!({
        "httpMethod": "GET", "authorizationType": "NONE",
        "methodIntegration": {"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "integrationResponses": {"200": {"statusCode": "200", "responseTemplates": {"application/json": "{\"ok\": true}"}}}}
    });
    let mut resources =
        vec![json!({"id": "root000001", "path": "/", "resourceMethods": {"GET": method}})];
    for i in 0..999 {
        resources.push(json!({"id": format!("res{i:05}"), "parentId": "root000001",
            "pathPart": format!("r{i}"), "path": format!("/r{i}"), "resourceMethods": {"GET": method}}));
    }
    let definition = json!({"version": 1, "restApis": [{"id": "benchapi01", "name": "Bench", "resources": resources}]});
    std::fs::write(dir.join("portico.json"), definition.to_string()).expect("write project");
    let mut project = Project::load(dir).expect("loads");
    project
        .deploy("benchapi01", "b", None, &Default::default())
        .expect("deploys");
    project
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// Quiet and busy windows, alternating.
const WINDOWS: usize = 6;
const WINDOW: Duration = Duration::from_millis(500);

/// 4 clients for `window`: (latencies, 5xx count).
async fn load(url: &str, window: Duration) -> (Vec<Duration>, usize) {
    let deadline = Instant::now() + window;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let url = url.to_string();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let (mut latencies, mut errors) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let status = client.get(&url).send().await.map(|r| r.status().as_u16());
                    latencies.push(started.elapsed());
                    if !matches!(status, Ok(s) if s < 500) {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, e) = task.await.expect("client task");
        all.extend(latencies);
        errors += e;
    }
    (all, errors)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = project(dir.path());
    let gateway = Gateway::start(
        &project,
        &GatewayConfig {
            port: 0,
            ..GatewayConfig::default()
        },
    )
    .expect("starts");
    let base = format!("http://{}", gateway.local_addr());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let list = format!("{base}/restapis/benchapi01/resources?embed=methods");
        let mut times = Vec::new();
        for _ in 0..31 {
            let started = Instant::now();
            let body: serde_json::Value = client.get(&list).send().await.unwrap().json().await.unwrap();
            times.push(started.elapsed());
            assert_eq!(body["item"].as_array().map(Vec::len), Some(1000));
        }
        times.remove(0);
        times.sort();
        println!(
            "list 1,000 resources with methods: median {:.1} ms, max {:.1} ms (target < 50 ms)",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );

        // Quiet and busy windows alternate, so that whatever else the
        // machine does lands on both alike; a settling pause after each
        // busy window keeps a deployment's tail out of the next quiet one.
        let url = format!("{base}/b/r7");
        let (mut quiet, mut busy) = (Vec::new(), Vec::new());
        let (mut quiet_errors, mut busy_errors, mut deployed) = (0, 0, 0);
        for _ in 0..WINDOWS {
            let (latencies, errors) = load(&url, WINDOW).await;
            quiet.extend(latencies);
            quiet_errors += errors;
            let deploys = tokio::spawn({
                let client = client.clone();
                let url = format!("{base}/restapis/benchapi01/deployments");
                async move {
                    let deadline = Instant::now() + WINDOW;
                    let mut count = 0;
                    while Instant::now() < deadline {
                        let status = client
                            .post(&url)
                            .json(&json!({"stageName": "b"}))
                            .send()
                            .await
                            .unwrap()
                            .status();
                        assert_eq!(status, 201);
                        count += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    count
                }
            });
            let (latencies, errors) = load(&url, WINDOW).await;
            busy.extend(latencies);
            busy_errors += errors;
            deployed += deploys.await.expect("deploys");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        quiet.sort();
        busy.sort();
        let (q99, b99) = (percentile(&quiet, 0.99), percentile(&busy, 0.99));
        println!(
            "data plane without deploys: {} requests, p50 {:.0} us, p99 {:.0} us, 5xx {quiet_errors}",
            quiet.len(),
            percentile(&quiet, 0.5).as_secs_f64() * 1e6,
            q99.as_secs_f64() * 1e6
        );
        println!(
            "data plane during {deployed} deploys of 1,000 resources: {} requests, p50 {:.0} us, p99 {:.0} us, 5xx {busy_errors}; p99 ratio {:.2}x (target: no 5xx, < 2x)",
            busy.len(),
            percentile(&busy, 0.5).as_secs_f64() * 1e6,
            b99.as_secs_f64() * 1e6,
            b99.as_secs_f64() / q99.as_secs_f64()
        );
    });
}
