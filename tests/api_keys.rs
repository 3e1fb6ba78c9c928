//! API keys and usage plans on a real port, set up with the CLI:
//! `apiKeyRequired` methods need a key of a plan for the stage (403
//! `{"message":"Forbidden"}` otherwise), the plan throttles each key (429
//! `{"message":"Too Many Requests"}`) and counts its quota (429
//! `{"message":"Limit Exceeded"}`), and the counters survive a restart
//! (AWS's gateway response types INVALID_API_KEY / THROTTLED /
//! QUOTA_EXCEEDED,
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>).

mod common;

use std::process::Command;

use common::{TempProject, client, start_gateway};
use portico::gateway::Gateway;
use portico::model::Project;

fn portico(project: &TempProject, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_portico"))
        .arg("--project")
        .arg(project.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The sample with `GET /pets` requiring a key, deployed to dev.
fn keyed_project() -> TempProject {
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let api = &mut loaded.rest_apis[0];
    let id = api.id.clone();
    let pets = api
        .resources
        .iter_mut()
        .find(|r| r.path == "/pets")
        .unwrap();
    pets.resource_methods
        .get_mut("GET")
        .unwrap()
        .api_key_required = true;
    loaded
        .deploy(&id, "dev", None, &Default::default())
        .unwrap();
    project
}

async fn get(gateway: &Gateway, path: &str, key: Option<&str>) -> (u16, String) {
    let mut request = client().get(format!("http://{}{path}", gateway.local_addr()));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

#[tokio::test]
async fn keys_plans_and_quotas() {
    let project = keyed_project();
    let plan = portico(
        &project,
        &[
            "usage-plan",
            "add",
            "--name",
            "Basic",
            "--api",
            "PetStore",
            "--stage",
            "dev",
            "--quota-limit",
            "3",
            "--quota-period",
            "DAY",
        ],
    );
    assert_eq!(plan.len(), 6);
    let key = portico(
        &project,
        &["api-key", "add", "--name", "ada", "--plan", "Basic"],
    );
    assert_eq!(key.len(), 40);
    let custom = "a-custom-key-value-of-24c";
    assert_eq!(
        portico(
            &project,
            &[
                "api-key", "add", "--name", "bob", "--plan", &plan, "--value", custom
            ]
        ),
        custom
    );

    let gateway = start_gateway(&project.load());
    assert_eq!(
        get(&gateway, "/dev/pets", None).await,
        (403, FORBIDDEN.to_string())
    );
    assert_eq!(
        get(&gateway, "/dev/pets", Some("not-a-key")).await,
        (403, FORBIDDEN.to_string())
    );
    // Methods without apiKeyRequired need no key.
    assert_eq!(get(&gateway, "/dev/pets/1", None).await.0, 200);
    for _ in 0..3 {
        assert_eq!(get(&gateway, "/dev/pets", Some(&key)).await.0, 200);
    }
    assert_eq!(
        get(&gateway, "/dev/pets", Some(&key)).await,
        (429, r#"{"message":"Limit Exceeded"}"#.to_string())
    );
    // Quotas are per key.
    assert_eq!(get(&gateway, "/dev/pets", Some(custom)).await.0, 200);
    // The plan covers dev only.
    assert_eq!(
        get(&gateway, "/prod/pets", Some(custom)).await.0,
        200,
        "prod's deployment does not require a key"
    );
    drop(gateway);

    // The counters survive a restart.
    assert!(project.path().join("usage.json").exists());
    let gateway = start_gateway(&project.load());
    assert_eq!(get(&gateway, "/dev/pets", Some(&key)).await.0, 429);
    drop(gateway);

    // A disabled key is refused.
    let mut loaded = project.load();
    loaded.api_keys.iter_mut().for_each(|k| k.enabled = false);
    loaded.save().unwrap();
    let gateway = start_gateway(&Project::load(&project.path()).unwrap());
    assert_eq!(
        get(&gateway, "/dev/pets", Some(custom)).await,
        (403, FORBIDDEN.to_string())
    );
}

#[tokio::test]
async fn a_plan_throttles_each_key() {
    let project = keyed_project();
    portico(
        &project,
        &[
            "usage-plan",
            "add",
            "--name",
            "Slow",
            "--api",
            "PetStore",
            "--stage",
            "dev",
            "--rate",
            "0.5",
            "--burst",
            "2",
        ],
    );
    let first = portico(
        &project,
        &["api-key", "add", "--name", "one", "--plan", "Slow"],
    );
    let second = portico(
        &project,
        &["api-key", "add", "--name", "two", "--plan", "Slow"],
    );
    let gateway = start_gateway(&project.load());
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(get(&gateway, "/dev/pets", Some(&first)).await.0);
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
    assert_eq!(
        get(&gateway, "/dev/pets", Some(&first)).await.1,
        r#"{"message":"Too Many Requests"}"#
    );
    assert_eq!(
        get(&gateway, "/dev/pets", Some(&second)).await.0,
        200,
        "each key has its own bucket"
    );
}

#[test]
fn bad_key_and_plan_input_is_refused() {
    let project = keyed_project();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_portico"))
            .arg("--project")
            .arg(project.path())
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(
        run(&[
            "usage-plan",
            "add",
            "--name",
            "x",
            "--api",
            "PetStore",
            "--stage",
            "qa"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&[
            "usage-plan",
            "add",
            "--name",
            "x",
            "--api",
            "PetStore",
            "--stage",
            "dev",
            "--quota-limit",
            "1",
            "--quota-period",
            "YEAR"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&["api-key", "add", "--name", "k", "--plan", "nope"])
            .status
            .code(),
        Some(2)
    );
    portico(
        &project,
        &[
            "usage-plan",
            "add",
            "--name",
            "P",
            "--api",
            "PetStore",
            "--stage",
            "dev",
        ],
    );
    let short = run(&[
        "api-key", "add", "--name", "k", "--plan", "P", "--value", "short",
    ]);
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 20 characters"));
}
