//! Lambda speed (issue: local Lambda functions): the warm AWS_PROXY round
//! trip's overhead (gateway + Runtime API + bootstrap, the handler's own
//! time taken out) at p50, requests/s through a warm pool of 2, and the
//! python bootstrap's cold start next to the interpreter's own start.
//! `cargo bench --bench lambda` (release build, real processes).

use std::time::{Duration, Instant};

use portico::gateway::{Gateway, GatewayConfig};
use portico::model::Project;
use serde_json::json;

const HANDLER: &str = r#"
import time
def handler(event, context):
    started = time.perf_counter()
    body = "ok"
    return {"statusCode": 200, "body": body,
            "headers": {"x-handler-us": str(int((time.perf_counter() - started) * 1e6))}}
"#;

fn project(dir: &std::path::Path) -> Project {
    std::fs::create_dir_all(dir.join("fn")).expect("mkdir");
    std::fs::write(dir.join("fn/app.py"), HANDLER).expect("write handler");
    let method = json!({
        "httpMethod": "ANY", "authorizationType": "NONE",
        "methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:trivial/invocations"}
    });
    let definition = json!({
        "version": 1,
        "restApis": [{"id": "benchapi01", "name": "Bench", "resources": [
            {"id": "root000001", "path": "/"},
            {"id": "trivial001", "parentId": "root000001", "pathPart": "t", "path": "/t", "resourceMethods": {"ANY": method}}
        ]}],
        "functions": [{"functionName": "trivial", "runtime": "python3.12", "handler": "app.handler",
                       "codeUri": "fn", "reservedConcurrentExecutions": 2}]
    });
    std::fs::write(dir.join("portico.json"), definition.to_string()).expect("write project");
    let mut project = Project::load(dir).expect("loads");
    project
        .deploy("benchapi01", "dev", None, &Default::default())
        .expect("deploys");
    Project::load(dir).expect("loads")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = project(dir.path());
    let config = GatewayConfig {
        port: 0,
        worker_threads: 2,
        ..GatewayConfig::default()
    };
    let gateway = Gateway::start(&project, &config).expect("gateway");
    let url = format!("http://{}/dev/t", gateway.local_addr());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        // Cold start: the first request starts the worker.
        let started = Instant::now();
        let first = client.get(&url).send().await.expect("first");
        assert_eq!(first.status(), 200);
        let cold = started.elapsed();
        let log = gateway.services().functions.log("trivial").expect("log").render();
        if let Some(init) = log.lines().find_map(|l| l.split("Init Duration: ").nth(1)) {
            println!("Init Duration (process start to the first /next): {init}");
        }
        // Warm: sequential round trips, the handler's own time taken out.
        for _ in 0..200 {
            client.get(&url).send().await.expect("warm up");
        }
        let mut total = Vec::new();
        let mut overhead = Vec::new();
        for _ in 0..3000 {
            let started = Instant::now();
            let response = client.get(&url).send().await.expect("request");
            let handler_us: f64 = response.headers()["x-handler-us"]
                .to_str()
                .expect("text")
                .parse()
                .expect("number");
            let _ = response.bytes().await;
            let us = started.elapsed().as_secs_f64() * 1e6;
            total.push(us);
            overhead.push(us - handler_us);
        }
        total.sort_by(f64::total_cmp);
        overhead.sort_by(f64::total_cmp);
        println!(
            "warm AWS_PROXY round trip: p50 {:.0} us, p99 {:.0} us; overhead without the handler: p50 {:.0} us (target < 1000 us)",
            percentile(&total, 0.5),
            percentile(&total, 0.99),
            percentile(&overhead, 0.5)
        );
        // Throughput through the pool of 2, 8 clients for 5 seconds.
        let deadline = Instant::now() + Duration::from_secs(5);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let client = client.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        if client.get(&url).send().await.is_ok_and(|r| r.status() == 200) {
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        let mut served = 0;
        for task in tasks {
            served += task.await.expect("task");
        }
        println!("warm pool of 2, 8 clients: {:.0} requests/s", served as f64 / 5.0);
        println!("python bootstrap cold start (first request, process start included): {:.1} ms", cold.as_secs_f64() * 1000.0);
    });
    let mut interpreter = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let status = std::process::Command::new("python3")
            .args(["-c", "pass"])
            .status()
            .expect("python3");
        assert!(status.success());
        interpreter.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    interpreter.sort_by(f64::total_cmp);
    println!(
        "python3 -c pass (the interpreter's own start), median of 10: {:.1} ms",
        percentile(&interpreter, 0.5)
    );
}
