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
