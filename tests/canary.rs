//! Canary deployments on a real port: the split (within statistical bounds,
//! exact at 0 and 100), `$context.isCanaryRequest` and stage variable
//! overrides, the live share change under traffic, promote and remove, the
//! request log's canary flag, and the CLI.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{TempProject, client, start_gateway};
use portico::gateway::Gateway;
use portico::model::Project;
use portico::observe::metrics::Filter;

const TEMPLATE: &str = r#"{"canary": $context.isCanaryRequest, "env": "$stageVariables.env"}"#;

/// The sample with `GET /` answering which side served it: the stage `dev`
/// serves one deployment and a canary of it another, with `env` overridden.
fn canary_project(percent: f64) -> (TempProject, String) {
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let api_id = loaded.rest_apis[0].id.clone();
    set_root_template(&mut loaded, &api_id, TEMPLATE);
    loaded
        .deploy(&api_id, "dev", Some("base"), &BTreeMap::new())
        .unwrap();
    let overrides = BTreeMap::from([("env".to_string(), "canary-env".to_string())]);
    loaded
        .deploy_canary(&api_id, "dev", Some("canary"), percent, &overrides)
        .unwrap();
    (project, api_id)
}

fn set_root_template(project: &mut Project, api_id: &str, template: &str) {
    let api = project.api_mut(api_id).unwrap();
    let root = api.resources.iter_mut().find(|r| r.path == "/").unwrap();
    let integration = root
        .resource_methods
        .get_mut("GET")
        .unwrap()
        .method_integration
        .as_mut()
        .unwrap();
    integration
        .integration_responses
        .get_mut("200")
        .unwrap()
        .response_templates
        .insert("application/json".into(), template.into());
}

async fn sides(gateway: &Gateway, requests: usize) -> (usize, usize) {
    let client = client();
    let url = format!("http://{}/dev/", gateway.local_addr());
    let (mut base, mut canary) = (0, 0);
    for _ in 0..requests {
        let body: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        if body["canary"] == true {
            assert_eq!(body["env"], "canary-env", "the canary sees its overrides");
            canary += 1;
        } else {
            assert_ne!(body["env"], "canary-env");
            base += 1;
        }
    }
    (base, canary)
}

#[tokio::test]
async fn the_split_follows_percent_traffic() {
    let (project, _) = canary_project(25.0);
    let gateway = start_gateway(&Project::load(&project.path()).unwrap());
    let (base, canary) = sides(&gateway, 10_000).await;
    assert_eq!(base + canary, 10_000);
    // Binomial(10000, 0.25): sd 43; five sd either side.
    assert!(
        (2_284..=2_716).contains(&canary),
        "{canary} of 10000 went to the canary"
    );
    // The metrics count each side exactly.
    let side = |canary| Filter {
        canary: Some(canary),
        ..Filter::default()
    };
    let metrics = gateway.metrics();
    assert_eq!(
        metrics.window(&side(true), 0, u64::MAX).counts.count,
        canary as u64
    );
    assert_eq!(
        metrics.window(&side(false), 0, u64::MAX).counts.count,
        base as u64
    );
    // The log keeps the last 2,000 requests; its canary flags follow the split.
    let kept = gateway.request_log().since(0);
    let flagged = kept.iter().filter(|r| r.canary).count();
    assert_eq!(kept.len(), 2_000);
    assert!(
        (400..=600).contains(&flagged),
        "{flagged} of the last 2000 flagged"
    );
}

#[tokio::test]
async fn zero_and_hundred_percent_are_exact() {
    for (percent, expected) in [(0.0, 0), (100.0, 1_000)] {
        let (project, _) = canary_project(percent);
        let gateway = start_gateway(&Project::load(&project.path()).unwrap());
        let (_, canary) = sides(&gateway, 1_000).await;
        assert_eq!(canary, expected, "at {percent}%");
    }
}

#[tokio::test]
async fn the_share_changes_live_without_failing_a_request() {
    let (project, api_id) = canary_project(0.0);
    let gateway = std::sync::Arc::new(start_gateway(&Project::load(&project.path()).unwrap()));
    let url = format!("http://{}/dev/", gateway.local_addr());
    let traffic = tokio::spawn(async move {
        let client = client();
        let mut statuses = Vec::new();
        for _ in 0..3_000 {
            statuses.push(client.get(&url).send().await.unwrap().status().as_u16());
        }
        statuses
    });
    for percent in [10.0, 50.0, 100.0, 0.0, 100.0] {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(gateway.set_canary_percent(&api_id, "dev", percent));
    }
    let statuses = traffic.await.unwrap();
    assert!(statuses.iter().all(|s| *s == 200));
    assert!(
        !gateway.set_canary_percent(&api_id, "prod", 5.0),
        "prod has no canary"
    );
    let (_, canary) = sides(&gateway, 200).await;
    assert_eq!(canary, 200, "the last share (100%) holds");
}

#[tokio::test]
async fn promote_and_remove() {
    let (project, api_id) = canary_project(50.0);
    let mut loaded = Project::load(&project.path()).unwrap();
    let canary_deployment = loaded
        .find_api(&api_id)
        .unwrap()
        .stage("dev")
        .unwrap()
        .canary_settings
        .clone()
        .unwrap()
        .deployment_id;
    loaded.promote_canary(&api_id, "dev").unwrap();
    let loaded = Project::load(&project.path()).unwrap();
    let stage = loaded
        .find_api(&api_id)
        .unwrap()
        .stage("dev")
        .unwrap()
        .clone();
    assert_eq!(stage.deployment_id, canary_deployment);
    assert_eq!(
        stage.variables["env"], "canary-env",
        "promote keeps the overrides"
    );
    assert!(stage.canary_settings.is_none());
    let gateway = start_gateway(&loaded);
    let body: serde_json::Value = client()
        .get(format!("http://{}/dev/", gateway.local_addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["canary"], false, "a promoted deployment is the base");
    assert_eq!(body["env"], "canary-env");

    let (project, api_id) = canary_project(50.0);
    let mut loaded = Project::load(&project.path()).unwrap();
    loaded.remove_canary(&api_id, "dev").unwrap();
    let gateway = start_gateway(&Project::load(&project.path()).unwrap());
    let (_, canary) = sides(&gateway, 200).await;
    assert_eq!(canary, 0);
    assert!(
        loaded.promote_canary(&api_id, "dev").is_err(),
        "no canary left to promote"
    );
    assert!(loaded.set_canary_percent(&api_id, "dev", 150.0).is_err());
}

#[test]
fn the_cli_deploys_changes_and_promotes_a_canary() {
    let project = TempProject::petstore();
    let portico = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portico"));
        command.arg("--project").arg(project.path());
        command
    };
    let run = |args: &[&str]| portico().args(args).output().unwrap();
    let deployed = run(&[
        "deploy",
        "--api",
        "PetStore",
        "--stage",
        "dev",
        "--canary",
        "30",
        "--variable",
        "env=canary",
    ]);
    assert!(
        deployed.status.success(),
        "{}",
        String::from_utf8_lossy(&deployed.stderr)
    );
    assert!(
        String::from_utf8_lossy(&deployed.stdout)
            .contains("as the canary of stage dev (30% of its traffic)")
    );
    let canary = project.load().rest_apis[0]
        .stage("dev")
        .unwrap()
        .canary_settings
        .clone()
        .unwrap();
    assert_eq!(canary.percent_traffic, 30.0);
    assert_eq!(canary.stage_variable_overrides["env"], "canary");
    assert!(
        run(&[
            "canary",
            "--api",
            "PetStore",
            "--stage",
            "dev",
            "--percent",
            "12.5"
        ])
        .status
        .success()
    );
    assert_eq!(
        project.load().rest_apis[0]
            .stage("dev")
            .unwrap()
            .canary_settings
            .clone()
            .unwrap()
            .percent_traffic,
        12.5
    );
    let bad = run(&[
        "canary",
        "--api",
        "PetStore",
        "--stage",
        "dev",
        "--percent",
        "101",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("percentTraffic must be between 0.0 and 100.0")
    );
    assert!(
        run(&["canary", "--api", "PetStore", "--stage", "dev", "--promote"])
            .status
            .success()
    );
    let stage = project.load().rest_apis[0].stage("dev").unwrap().clone();
    assert_eq!(stage.deployment_id, canary.deployment_id);
    assert!(stage.canary_settings.is_none());
    let none = run(&["canary", "--api", "PetStore", "--stage", "prod", "--remove"]);
    assert!(
        none.status.success(),
        "removing an absent canary is harmless"
    );
    let missing = run(&[
        "deploy", "--api", "PetStore", "--stage", "qa", "--canary", "5",
    ]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a canary needs an existing stage"
    );
}
