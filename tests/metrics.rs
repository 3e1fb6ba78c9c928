//! Metrics on a real port: the counts equal the requests sent, split by
//! method, status class and side; latencies are percentiles of what was
//! served. Names and meanings are CloudWatch's `AWS/ApiGateway` metrics
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html>):
//! `Count` is every request, `4XXError` / `5XXError` the client- and
//! server-side errors, `IntegrationLatency` the backend's part of
//! `Latency`.

mod common;

use common::{Upstream, client, serve_petstore_with_backend, start_upstream};
use portico::observe::metrics::{Filter, now_secs};

#[tokio::test]
async fn counts_equal_the_requests_sent() {
    let backend = start_upstream(Upstream::Echo);
    let (_project, gateway) = serve_petstore_with_backend(backend);
    let started = now_secs();
    let client = client();
    let base = format!("http://{}/dev", gateway.local_addr());
    let mut sent = (0u64, 0u64, 0u64);
    for _ in 0..30 {
        let status = client
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
        sent.0 += 1;
    }
    for _ in 0..7 {
        // No such resource: AWS's 403 Missing Authentication Token.
        let status = client
            .get(format!("{base}/nope"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 403);
        sent.1 += 1;
    }
    for _ in 0..5 {
        // The backend answers 503; the sample maps 5xx to 502.
        let status = client
            .get(format!("{base}/status/503"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 502);
        sent.2 += 1;
    }
    let metrics = gateway.metrics();
    let stage = Filter {
        api_id: Some("petstore42".into()),
        stage: Some("dev".into()),
        ..Filter::default()
    };
    let all = metrics.window(&stage, 0, u64::MAX);
    assert_eq!(all.counts.count, sent.0 + sent.1 + sent.2);
    assert_eq!(all.counts.error_4xx, sent.1);
    assert_eq!(all.counts.error_5xx, sent.2);
    assert_eq!(all.counts.cache_hits + all.counts.cache_misses, 0);

    let method = |resource: &str| Filter {
        method: Some((
            resource.into(),
            if resource.is_empty() { "" } else { "GET" }.into(),
        )),
        ..stage.clone()
    };
    assert_eq!(
        metrics.window(&method("/"), 0, u64::MAX).counts.count,
        sent.0
    );
    assert_eq!(
        metrics.window(&method(""), 0, u64::MAX).counts.count,
        sent.1
    );
    let status = metrics.window(&method("/status/{code}"), 0, u64::MAX);
    assert_eq!(status.counts.count, sent.2);
    assert_eq!(
        status.counts.integration_count, sent.2,
        "each called the backend"
    );
    let p = status.integration_latency;
    assert!(p.p50.is_some() && p.p50 <= p.p90 && p.p90 <= p.p99, "{p:?}");
    let latency = status.latency;
    assert!(
        latency.p99 >= p.p99,
        "Latency includes IntegrationLatency: {latency:?} vs {p:?}"
    );

    // Per second, the same total; the other stage saw nothing.
    let per_second = metrics.per_second(&stage, started, now_secs());
    assert_eq!(
        per_second.iter().map(|p| p.counts.count).sum::<u64>(),
        sent.0 + sent.1 + sent.2
    );
    let prod = Filter {
        stage: Some("prod".into()),
        ..Filter::default()
    };
    assert_eq!(metrics.window(&prod, 0, u64::MAX).counts.count, 0);
}

#[tokio::test]
async fn unknown_stages_are_not_counted_and_recording_can_be_off() {
    let backend = start_upstream(Upstream::Echo);
    let (_project, gateway) = serve_petstore_with_backend(backend);
    let client = client();
    let addr = gateway.local_addr();
    let status = client
        .get(format!("http://{addr}/nostage/"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
    gateway.metrics().set_enabled(false);
    client
        .get(format!("http://{addr}/dev/"))
        .send()
        .await
        .unwrap();
    let all = gateway.metrics().window(&Filter::default(), 0, u64::MAX);
    assert_eq!(all.counts.count, 0);
}
