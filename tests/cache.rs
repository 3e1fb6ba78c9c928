//! The stage response cache on a real port, with a backend that counts its
//! requests to prove hits skip the integration: keys by resource path and
//! `cacheKeyParameters`, TTL expiry, `Cache-Control: max-age=0`, flush,
//! and only GET cached by default (AWS: "When you enable caching for a
//! stage, only GET methods have caching enabled by default",
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html>).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TempProject, Upstream, client, start_gateway, start_upstream};
use portico::gateway::Gateway;
use portico::model::{MethodSetting, Project};
use portico::observe::metrics::Filter;

/// The sample's `GET /status/{code}` (an HTTP integration) against a
/// counting backend, with `code` as a cache key and the dev stage's cache on.
fn cached_sample(setting: MethodSetting) -> (TempProject, Gateway, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let backend = start_upstream(Upstream::Counter(Arc::clone(&count)));
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let api = &mut loaded.rest_apis[0];
    let status = api
        .resources
        .iter_mut()
        .find(|r| r.path == "/status/{code}")
        .unwrap();
    let integration = status
        .resource_methods
        .get_mut("GET")
        .unwrap()
        .method_integration
        .as_mut()
        .unwrap();
    integration.cache_key_parameters = vec!["method.request.path.code".into()];
    let stage = api.stage_mut("dev").unwrap();
    stage.cache_cluster_enabled = true;
    stage.cache_cluster_size = Some("0.5".into());
    stage.method_settings.insert("*/*".into(), setting);
    let variables = [("backendHost".to_string(), backend.to_string())]
        .into_iter()
        .collect();
    loaded
        .deploy("petstore42", "dev", None, &variables)
        .unwrap();
    let gateway = start_gateway(&Project::load(&project.path()).unwrap());
    (project, gateway, count)
}

async fn get(gateway: &Gateway, path: &str, cache_control: Option<&str>) -> String {
    let mut request = client().get(format!("http://{}/dev{path}", gateway.local_addr()));
    if let Some(value) = cache_control {
        request = request.header("cache-control", value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn hits_skip_the_integration_and_keys_separate_entries() {
    let (_project, gateway, count) = cached_sample(MethodSetting::default());
    assert_eq!(get(&gateway, "/status/200", None).await, "1");
    assert_eq!(
        get(&gateway, "/status/200", None).await,
        "1",
        "served from the cache"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(get(&gateway, "/status/204", None).await, "2", "another key");
    // The default requires authorization to invalidate: max-age=0 is ignored.
    assert_eq!(get(&gateway, "/status/200", Some("max-age=0")).await, "1");
    let api_id = "petstore42";
    assert!(gateway.flush_cache(api_id, "dev"));
    assert!(!gateway.flush_cache(api_id, "prod"), "prod has no cache");
    assert_eq!(get(&gateway, "/status/200", None).await, "3", "flushed");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // CacheHitCount / CacheMissCount say the same.
    let counts = gateway
        .metrics()
        .window(&Filter::default(), 0, u64::MAX)
        .counts;
    assert_eq!((counts.cache_hits, counts.cache_misses), (2, 3));
}

/// An unauthorized `Cache-Control: max-age=0` (one that needs IAM's
/// `execute-api:InvalidateCache`, which no local caller has) under each of
/// AWS's three `unauthorizedCacheControlHeaderStrategy` values
/// (<https://docs.aws.amazon.com/apigateway/latest/api/API_MethodSetting.html>):
/// refused with 403, or ignored with or without a warning header.
#[tokio::test]
async fn unauthorized_invalidation_strategies() {
    for (strategy, status, warning) in [
        ("FAIL_WITH_403", 403, false),
        ("SUCCEED_WITH_RESPONSE_HEADER", 200, true),
        ("SUCCEED_WITHOUT_RESPONSE_HEADER", 200, false),
    ] {
        let (_project, gateway, count) = cached_sample(MethodSetting {
            require_authorization_for_cache_control: Some(true),
            unauthorized_cache_control_header_strategy: Some(strategy.into()),
            ..MethodSetting::default()
        });
        assert_eq!(get(&gateway, "/status/200", None).await, "1");
        let response = client()
            .get(format!("http://{}/dev/status/200", gateway.local_addr()))
            .header("cache-control", "max-age=0")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{strategy}");
        assert_eq!(
            response.headers().contains_key("warning"),
            warning,
            "{strategy}"
        );
        if status == 200 {
            assert_eq!(
                response.text().await.unwrap(),
                "1",
                "{strategy}: from the cache"
            );
        } else {
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(body["message"].is_string(), "{strategy}: {body}");
        }
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "{strategy}: not invalidated"
        );
    }
}

/// A canary with `useStageCache` reads the entries the base filled; one
/// without has a cache of its own.
#[tokio::test]
async fn canary_use_stage_cache() {
    for (use_stage_cache, backend_calls) in [(true, 1), (false, 2)] {
        let (project, gateway, count) = cached_sample(MethodSetting::default());
        assert_eq!(get(&gateway, "/status/200", None).await, "1");
        let mut loaded = Project::load(&project.path()).unwrap();
        loaded
            .deploy_canary("petstore42", "dev", None, 100.0, &Default::default())
            .unwrap();
        loaded.rest_apis[0]
            .stage_mut("dev")
            .unwrap()
            .canary_settings
            .as_mut()
            .unwrap()
            .use_stage_cache = use_stage_cache;
        gateway.reload(&loaded).unwrap();
        get(&gateway, "/status/200", None).await;
        assert_eq!(
            count.load(Ordering::SeqCst),
            backend_calls,
            "useStageCache {use_stage_cache}"
        );
        let canary = Filter {
            canary: Some(true),
            ..Filter::default()
        };
        let counts = gateway.metrics().window(&canary, 0, u64::MAX).counts;
        assert_eq!(counts.count, 1, "the canary served it");
    }
}

#[tokio::test]
async fn ttl_and_invalidation() {
    let (_project, gateway, count) = cached_sample(MethodSetting {
        cache_ttl_in_seconds: Some(1),
        require_authorization_for_cache_control: Some(false),
        ..MethodSetting::default()
    });
    assert_eq!(get(&gateway, "/status/200", None).await, "1");
    assert_eq!(
        get(&gateway, "/status/200", Some("max-age=0")).await,
        "2",
        "invalidated"
    );
    assert_eq!(
        get(&gateway, "/status/200", None).await,
        "2",
        "the fresh answer was stored"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&gateway, "/status/200", None).await, "3", "expired");
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn caching_can_be_turned_off_per_method() {
    let (_project, gateway, count) = cached_sample(MethodSetting {
        caching_enabled: Some(false),
        ..MethodSetting::default()
    });
    get(&gateway, "/status/200", None).await;
    get(&gateway, "/status/200", None).await;
    assert_eq!(count.load(Ordering::SeqCst), 2);
}
