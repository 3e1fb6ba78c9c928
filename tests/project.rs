//! Projects on disk: broken files point at file:line:column, saves are
//! atomic, and a restart serves exactly what was deployed.

mod common;

use common::*;
use portico::model::{Method, Project, ProjectError};
use serde_json::json;

fn load_error(text: &str) -> (String, usize, usize, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portico.json"), text).unwrap();
    match Project::load(dir.path()) {
        Err(ProjectError::Invalid {
            path,
            line,
            column,
            message,
        }) => {
            assert_eq!(path, dir.path().join("portico.json"));
            let display = ProjectError::Invalid {
                path: path.clone(),
                line,
                column,
                message: message.clone(),
            }
            .to_string();
            assert!(
                display.starts_with(&format!("{}:{line}:{column}: ", path.display())),
                "{display}"
            );
            (display, line, column, message)
        }
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn broken_files_name_line_column_and_what_is_wrong() {
    // Syntax: a missing comma on line 3.
    let (_, line, column, message) = load_error("{\n  \"version\": 1\n  \"restApis\": []\n}\n");
    assert_eq!((line, column), (3, 3));
    assert!(message.contains("expected `,` or `}`"), "{message}");

    // A typo in a field name: serde's message lists what was expected.
    let (_, line, _, message) = load_error(
        "{\n  \"version\": 1,\n  \"restApis\": [{\"id\": \"a\", \"name\": \"n\", \"resourcez\": []}]\n}\n",
    );
    assert_eq!(line, 3);
    assert!(message.contains("unknown field `resourcez`"), "{message}");

    // A semantic error: the stage names a deployment that does not exist.
    let text = serde_json::to_string_pretty(&json!({
        "version": 1,
        "restApis": [{"id": "a", "name": "n",
            "resources": [{"id": "r", "path": "/"}],
            "stages": [{"stageName": "dev", "deploymentId": "nope"}]}]
    }))
    .unwrap();
    let (_, line, column, message) = load_error(&text);
    let expected_line = text
        .lines()
        .position(|l| l.contains("\"deploymentId\": \"nope\""))
        .unwrap()
        + 1;
    assert_eq!(line, expected_line);
    assert!(column > 1);
    assert!(
        message.contains("no deployment with id \"nope\""),
        "{message}"
    );

    // An invalid path part, as AWS validates it.
    let text = serde_json::to_string_pretty(&json!({
        "version": 1,
        "restApis": [{"id": "a", "name": "n", "resources": [
            {"id": "r", "path": "/"},
            {"id": "c", "parentId": "r", "pathPart": "bad part", "path": "/bad part"}]}]
    }))
    .unwrap();
    let (_, line, _, message) = load_error(&text);
    assert_eq!(
        line,
        text.lines()
            .position(|l| l.contains("\"pathPart\": \"bad part\""))
            .unwrap()
            + 1
    );
    assert!(
        message.contains("Resource's path part only allow a-zA-Z0-9._-"),
        "{message}"
    );

    // A newer format version.
    let (_, line, _, message) = load_error("{\"version\": 99, \"restApis\": []}");
    assert_eq!(line, 1);
    assert!(message.contains("version 99 is not supported"), "{message}");

    // Empty file and binary garbage never panic.
    load_error("");
    load_error("\u{0}\u{1}garbage");
}

#[test]
fn missing_project_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let error = Project::load(&dir.path().join("absent")).unwrap_err();
    assert!(matches!(error, ProjectError::Io { .. }));
    assert!(error.to_string().contains("portico.json"), "{error}");
}

#[test]
fn save_is_atomic_and_round_trips() {
    let project = TempProject::petstore();
    let loaded = project.load();
    loaded.save().unwrap();
    let reloaded = project.load();
    assert_eq!(loaded.rest_apis, reloaded.rest_apis);
    // The sample file is already in canonical form: saving changes nothing.
    let original = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/petstore/portico.json"),
    )
    .unwrap();
    let saved = std::fs::read_to_string(project.path().join("portico.json")).unwrap();
    assert_eq!(original, saved);
    // No temp files are left behind.
    let names: Vec<String> = std::fs::read_dir(project.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[tokio::test]
async fn restart_serves_exactly_what_was_deployed() {
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/", "resourceMethods": {"GET": mock_method("GET", 200, "version one")}}
    ])));
    let deployed = deploy(&project, "dev", &[]);
    // Edit the draft after deploying (and save it): the stage must not change.
    let mut edited = deployed.clone();
    let api = edited.api_mut("testapi001").unwrap();
    let root_id = api.root().unwrap().id.clone();
    let child = api.create_resource(&root_id, "new").unwrap();
    api.resource_mut(&child).unwrap().resource_methods.insert(
        "GET".into(),
        serde_json::from_value::<Method>(mock_method("GET", 200, "new")).unwrap(),
    );
    api.resource_mut(&root_id).unwrap().resource_methods.insert(
        "GET".into(),
        serde_json::from_value::<Method>(mock_method("GET", 200, "version two")).unwrap(),
    );
    edited.save().unwrap();

    for _restart in 0..2 {
        let gateway = start_gateway(&project.load());
        let base = format!("http://{}", gateway.local_addr());
        assert_eq!(
            client()
                .get(format!("{base}/dev/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "version one"
        );
        assert_eq!(
            client()
                .get(format!("{base}/dev/new"))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
    }

    // Deploying again serves the edited draft, also after a restart.
    let mut again = project.load();
    again
        .deploy("testapi001", "dev", Some("second"), &Default::default())
        .unwrap();
    let gateway = start_gateway(&project.load());
    let base = format!("http://{}", gateway.local_addr());
    assert_eq!(
        client()
            .get(format!("{base}/dev/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "version two"
    );
    assert_eq!(
        client()
            .get(format!("{base}/dev/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "new"
    );
    assert_eq!(project.load().rest_apis[0].deployments.len(), 2);
}

#[test]
fn model_operations_enforce_aws_rules() {
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let api = loaded.api_mut("petstore42").unwrap();
    let pets = api.resource_by_path("/pets").unwrap().id.clone();
    let proxy = api.resource_by_path("/echo/{proxy+}").unwrap().id.clone();
    assert!(
        api.create_resource(&pets, "{other}")
            .unwrap_err()
            .to_string()
            .contains("only one is allowed")
    );
    assert!(
        api.create_resource(&pets, "{petId}")
            .unwrap_err()
            .to_string()
            .contains("already has this name")
    );
    assert!(
        api.create_resource(&proxy, "x")
            .unwrap_err()
            .to_string()
            .contains("greedy path variable")
    );
    assert!(api.create_resource(&pets, "a b").is_err());
    assert!(api.create_resource(&pets, "toys").is_ok());
    assert!(
        loaded
            .deploy("petstore42", "bad stage", None, &Default::default())
            .is_err()
    );
    let bad_variable = [("x".to_string(), "spaces not allowed".to_string())]
        .into_iter()
        .collect();
    assert!(
        loaded
            .deploy("petstore42", "dev", None, &bad_variable)
            .is_err()
    );
}

/// `kill -9` during a save leaves its temp file behind; the next start
/// removes such files (ours, and tempfile's default `.tmpXXXXXX` of earlier
/// versions) once they are a minute old, and nothing else.
#[test]
fn stale_temp_files_are_removed_at_start() {
    let project = TempProject::petstore();
    let dir = project.path();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let deployments = dir.join("deployments").join("petstore42");
    let stale = [
        dir.join(".tmpAb12Cd"),
        dir.join(".portico-save-x1y2z3"),
        deployments.join(".tmpQwErTy"),
    ];
    let kept = [
        // Too fresh: another process may be saving.
        dir.join(".portico-save-fresh1"),
        // Not a temp file's name.
        dir.join(".tmp-notes.txt"),
        dir.join("notes.tmp"),
    ];
    for path in stale.iter().chain(&kept) {
        std::fs::write(path, b"{").unwrap();
    }
    for path in stale.iter().chain(&kept[1..]) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    Project::load(&dir).expect("the project loads");
    for path in &stale {
        assert!(!path.exists(), "{} was left", path.display());
    }
    for path in &kept {
        assert!(path.exists(), "{} was removed", path.display());
    }
}

/// Names are bounded (AWS documents no limit for an API's name; Portico
/// allows 1,024 characters): a 9 MB name is refused when saved, by every
/// front door, and the project on disk is unchanged.
#[test]
fn huge_names_are_refused_when_saved() {
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let before = std::fs::read_to_string(project.path().join("portico.json")).unwrap();
    loaded.rest_apis[0].name = "n".repeat(9 << 20);
    match loaded.save() {
        Err(ProjectError::Rejected(message)) => assert!(
            message.starts_with("/restApis/0/name: name is 9437184 characters long; at most 1024"),
            "{message}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let after = std::fs::read_to_string(project.path().join("portico.json")).unwrap();
    assert_eq!(before, after);
}
