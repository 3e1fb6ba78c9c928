//! Hostile mapping templates against a running gateway: self-referencing
//! collections, values that grow without bound, and loops that would run
//! for minutes. Each used to abort the process (stack overflow or a
//! multi-GB allocation) or hold a serving thread for tens of seconds; now
//! each request ends within the render budgets (`portico::vtl::
//! MAX_RENDER_STEPS`, `MAX_RENDER_BYTES`, `MAX_VALUE_DEPTH`), and the
//! gateway goes on serving.
//!
//! AWS facts used:
//! - A template that fails at run time answers 500 `{"message": "Internal
//!   server error"}` and logs "Execution failed due to configuration
//!   error: Unable to transform ..." (API Gateway's test-invoke execution
//!   log; <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html>
//!   and the 500 of `API_CONFIGURATION_ERROR`,
//!   <https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>).
//! - The payload quota is 10 MB
//!   (<https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>),
//!   the model of the memory budget.
//! - Velocity 1.7 prints a list that holds itself as `(this Collection)`
//!   and a map as `(this Map)` (Java's `AbstractCollection.toString` /
//!   `AbstractMap.toString`; checked against Velocity 1.7 in
//!   `tests/velocity_oracle/cases.vtl`).

mod common;

use std::time::{Duration, Instant};

use common::*;
use portico::vtl::Template;
use serde_json::json;

/// `#set` of `statement` repeated `times`, after `start`, then `end`.
fn repeated(start: &str, statement: &str, times: usize, end: &str) -> String {
    format!("{start}{}{end}", statement.repeat(times))
}

fn add_all_40() -> String {
    repeated(
        "#set($l = [1])",
        "#set($d = $l.addAll($l))",
        40,
        "$l.size()",
    )
}

fn replace_40() -> String {
    repeated(
        "#set($s = \"a\")",
        "#set($s = $s.replace(\"a\", \"aa\"))",
        40,
        "$s.length()",
    )
}

fn escape_40() -> String {
    repeated(
        "#set($s = \"'\")",
        "#set($s = $util.escapeJavaScript($s))",
        40,
        "$s.length()",
    )
}

fn base64_60() -> String {
    repeated(
        "#set($s = \"abc\")",
        "#set($s = $util.base64Encode($s))",
        60,
        "$s.length()",
    )
}

const NESTED_LOOPS: &str =
    "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..1000])#end#end#end";

/// Self-references print as Velocity 1.7 prints them.
const SELF_REFERENCES: [(&str, &str); 4] = [
    (
        "#set($l = [])#set($d = $l.add($l))$l",
        "[(this Collection)]",
    ),
    (
        "#set($l = [])#set($d = $l.add($l))$l.contains(1) $l.contains($l)",
        "false true",
    ),
    (
        "#set($m = {})#set($d = $m.put(\"a\", $m))$m",
        "{a=(this Map)}",
    ),
    (
        "#set($m = {})#set($m.me = $m)$m.containsValue(1) $m.toString()",
        "false {me=(this Map)}",
    ),
];

fn render(source: &str) -> Result<String, String> {
    Template::compile(source)
        .map_err(|e| e.to_string())?
        .render_plain()
        .map(|r| r.output)
        .map_err(|e| e.to_string())
}

#[test]
fn self_references_print_like_velocity() {
    for (source, expected) in SELF_REFERENCES {
        assert_eq!(render(source).as_deref(), Ok(expected), "{source}");
    }
}

/// A cycle through two containers: Java's `toString` / `equals` overflow
/// the stack (a render error on AWS); here the depth bound ends the render.
#[test]
fn cycles_through_several_containers_fail_the_render() {
    for source in [
        "#set($a = [])#set($b = [$a])#set($d = $a.add($b))$a",
        "#set($a = {})#set($b = {\"a\": $a})#set($a.b = $b)$a",
        "#set($a = [])#set($b = [$a])#set($d = $a.add($b))#set($c = [])#set($e = [$c])#set($d = $c.add($e))#if($a == $c)eq#end",
        "#set($a = [])#set($b = [$a])#set($d = $a.add($b))$a.contains(1)",
    ] {
        let error = render(source).expect_err(source);
        assert!(error.contains("MAX_VALUE_DEPTH"), "{source}: {error}");
    }
}

/// A list nested 100,000 deep is built, dropped and printed without
/// overflowing the stack.
#[test]
fn deep_nesting_is_dropped_and_printed_within_bounds() {
    let build =
        "#set($d = [])#foreach($i in [1..1000])#foreach($j in [1..100])#set($d = [$d])#end#end";
    assert_eq!(
        render(&format!("{build}#set($d = 0)ok")).as_deref(),
        Ok("ok")
    );
    let error = render(&format!("{build}$d")).expect_err("too deep to print");
    assert!(error.contains("MAX_VALUE_DEPTH"), "{error}");
    // Within the depth bound, nesting prints as Java prints it.
    let shallow = "#set($d = [])#foreach($i in [1..300])#set($d = [$d])#end$d";
    let expected = format!("{}{}", "[".repeat(301), "]".repeat(301));
    assert_eq!(render(shallow), Ok(expected));
}

#[test]
fn growth_stops_at_the_memory_budget() {
    for source in [add_all_40(), replace_40(), escape_40(), base64_60()] {
        let started = Instant::now();
        let error = render(&source).expect_err(&source);
        println!("{:?} for {source:.60}", started.elapsed());
        assert!(error.contains("MAX_RENDER_BYTES"), "{source}: {error}");
        assert!(started.elapsed() < Duration::from_secs(10), "{source}");
    }
    // Legitimate growth renders: 2^15 items, a 1 MB string.
    let fine = repeated(
        "#set($l = [1])",
        "#set($d = $l.addAll($l))",
        15,
        "$l.size()",
    );
    assert_eq!(render(&fine).as_deref(), Ok("32768"));
    let fine = repeated(
        "#set($s = \"a\")",
        "#set($s = $s.replace(\"a\", \"aa\"))",
        20,
        "$s.length()",
    );
    assert_eq!(render(&fine).as_deref(), Ok("1048576"));
}

#[test]
fn loops_stop_at_the_step_budget() {
    let started = Instant::now();
    let error = render(NESTED_LOOPS).expect_err("too many steps");
    println!("{:?} for the nested loops", started.elapsed());
    assert!(error.contains("MAX_RENDER_STEPS"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A 1,000-item loop with a body of references renders.
    let fine = "#set($total = 0)#foreach($i in [1..1000])#set($total = $total + $i)#if($foreach.hasNext),#end#end$total";
    let output = render(fine).expect("renders");
    assert!(output.ends_with("500500"), "{output}");
}

/// Regular expressions: each distinct pattern is compiled once per render,
/// and a replacement cannot expand past the budget.
#[test]
fn regex_work_is_bounded() {
    let source = repeated(
        "#set($s = \"ab\")",
        "#set($s = $s.replaceAll(\"(.)\", \"$1$1$1\"))",
        30,
        "$s.length()",
    );
    // Each round triples the string and its matches: the memory or the
    // step budget (a step per match) ends it, whichever comes first.
    let error = render(&source).expect_err("grows past the budget");
    assert!(
        error.contains("MAX_RENDER_BYTES") || error.contains("MAX_RENDER_STEPS"),
        "{error}"
    );
    let fine =
        "#foreach($i in [1..1000])#set($t = \"a$i\")#if($t.matches(\"a[0-9]+\"))#else no#end#end";
    assert_eq!(render(fine).as_deref(), Ok(""));
}

fn base(gateway: &portico::gateway::Gateway) -> String {
    format!("http://{}", gateway.local_addr())
}

/// One MOCK method per template, at `/0`, `/1`, ... and `/ok`.
fn serve(templates: &[String]) -> portico::gateway::Gateway {
    let mut resources = vec![json!({"id": "root000001", "path": "/"})];
    for (i, template) in templates.iter().enumerate() {
        resources.push(json!({
            "id": format!("res{i}"), "parentId": "root000001",
            "pathPart": i.to_string(), "path": format!("/{i}"),
            "resourceMethods": {"GET": mock_method("GET", 200, template)}
        }));
    }
    resources.push(json!({
        "id": "resok", "parentId": "root000001", "pathPart": "ok", "path": "/ok",
        "resourceMethods": {"GET": mock_method("GET", 200, "{\"ok\": true}")}
    }));
    let project = TempProject::from_json(&api_definition(json!(resources)));
    let loaded = deploy(&project, "dev", &[]);
    start_gateway(&loaded)
}

async fn assert_still_serving(client: &reqwest::Client, gateway: &portico::gateway::Gateway) {
    let response = client
        .get(format!("{}/dev/ok", base(gateway)))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "{\"ok\": true}");
}

#[tokio::test]
async fn hostile_templates_answer_500_and_the_gateway_keeps_serving() {
    let mut templates: Vec<String> = SELF_REFERENCES.iter().map(|(t, _)| t.to_string()).collect();
    let failing = [
        (add_all_40(), "MAX_RENDER_BYTES"),
        (replace_40(), "MAX_RENDER_BYTES"),
        (escape_40(), "MAX_RENDER_BYTES"),
        (base64_60(), "MAX_RENDER_BYTES"),
        (NESTED_LOOPS.to_string(), "MAX_RENDER_STEPS"),
        (
            "#set($a = [])#set($b = [$a])#set($d = $a.add($b))$a".to_string(),
            "MAX_VALUE_DEPTH",
        ),
    ];
    templates.extend(failing.iter().map(|(t, _)| t.clone()));
    let gateway = serve(&templates);
    let client = client();
    for (i, (_, expected)) in SELF_REFERENCES.iter().enumerate() {
        let response = client
            .get(format!("{}/dev/{i}", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), *expected);
        assert_still_serving(&client, &gateway).await;
    }
    for (j, (template, limit)) in failing.iter().enumerate() {
        let i = SELF_REFERENCES.len() + j;
        // Twice: the route stays deployed, and the gateway survives each.
        for _ in 0..2 {
            let response = client
                .get(format!("{}/dev/{i}", base(&gateway)))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 500, "{template}");
            assert_eq!(
                response.headers()["x-amzn-errortype"],
                "InternalServerErrorException"
            );
            let request_id = response.headers()["x-amzn-requestid"]
                .to_str()
                .unwrap()
                .to_string();
            assert_eq!(
                response.text().await.unwrap(),
                r#"{"message": "Internal server error"}"#
            );
            let log = gateway
                .request_log()
                .find(&request_id)
                .expect("logged")
                .execution_log
                .render();
            assert!(
                log.contains(
                    "Execution failed due to configuration error: Unable to transform response"
                ) && log.contains(limit),
                "{template}: {log}"
            );
            assert_still_serving(&client, &gateway).await;
        }
    }
}

/// While templates that exhaust the step budget render, another request
/// on the same gateway is answered promptly (a generous bound: before the
/// budget, each of these held its serving thread for about 28 s).
#[tokio::test]
async fn a_slow_template_does_not_hold_other_requests() {
    let gateway = serve(&[NESTED_LOOPS.to_string()]);
    let client = client();
    let started = Instant::now();
    let hostile: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            let url = format!("{}/dev/0", base(&gateway));
            tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    for _ in 0..5 {
        let asked = Instant::now();
        assert_still_serving(&client, &gateway).await;
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "{:?}",
            asked.elapsed()
        );
    }
    for request in hostile {
        let status = request.await.unwrap().expect("answered");
        assert_eq!(status, 500);
    }
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A render that outgrows its inline slice moves off the serving thread:
/// with one serving thread (every connection on it), requests to another
/// method are answered while a budget-exhausting render is still running.
/// Before, the render held that thread, and every other connection on it,
/// until it ended.
#[tokio::test]
async fn a_long_render_runs_off_the_serving_thread() {
    let mut resources = vec![json!({"id": "root000001", "path": "/"})];
    for (id, part, template) in [
        ("reslong", "long", replace_40()),
        ("resok", "ok", "{\"ok\": true}".to_string()),
    ] {
        resources.push(json!({
            "id": id, "parentId": "root000001", "pathPart": part, "path": format!("/{part}"),
            "resourceMethods": {"GET": mock_method("GET", 200, &template)}
        }));
    }
    let project = TempProject::from_json(&api_definition(json!(resources)));
    let loaded = deploy(&project, "dev", &[]);
    let config = portico::gateway::GatewayConfig {
        port: 0,
        worker_threads: 1,
        ..Default::default()
    };
    let gateway = portico::gateway::Gateway::start(&loaded, &config).expect("starts");
    let client = client();
    let url = format!("{}/dev/long", base(&gateway));
    let long = tokio::spawn({
        let client = client.clone();
        async move {
            let started = Instant::now();
            let status = client.get(url).send().await.map(|r| r.status());
            (status, started.elapsed())
        }
    });
    let started = Instant::now();
    let mut answered = Vec::new();
    for _ in 0..5 {
        let asked = Instant::now();
        assert_still_serving(&client, &gateway).await;
        answered.push(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ok_done = started.elapsed();
    let (status, long_took) = long.await.unwrap();
    assert_eq!(status.expect("answered"), 500);
    // The quick requests overlapped the long render ...
    assert!(
        long_took > ok_done,
        "the long render ({long_took:?}) ended before the quick requests ({ok_done:?}): nothing was shown"
    );
    // ... and none waited for it.
    for took in answered {
        assert!(took < long_took / 2, "{took:?} vs {long_took:?}");
    }
}

#[path = "../benches/petstore.rs"]
mod petstore;

/// The inline slice fits real templates: the AWS docs' PetStore template
/// over 1,000 items (a full `#foreach`) renders within it, so the common
/// request never leaves its serving thread.
#[test]
fn real_templates_render_within_the_inline_slice() {
    let template = Template::compile(petstore::PETSTORE_TEMPLATE).unwrap();
    let body = petstore::pets(1000);
    let bindings = portico::vtl::Bindings {
        body: &body,
        path: &[],
        querystring: &[],
        header: &[],
        context: &serde_json::Value::Null,
        stage_variables: &[],
    };
    let rendered = template
        .render_sliced(&bindings, portico::vtl::RenderLimits::INLINE)
        .unwrap();
    assert!(rendered.is_some_and(|r| r.output.contains("Item 1000")));
    // While a render past the slice is handed on, not failed.
    let long = Template::compile(NESTED_LOOPS).unwrap();
    assert_eq!(
        long.render_sliced(&bindings, portico::vtl::RenderLimits::INLINE),
        Ok(None)
    );
}

/// `test-invoke-method` runs the draft through the same bounded render:
/// a hostile template answers the 500 in its result (and the log names
/// the limit), and the gateway goes on serving.
#[tokio::test]
async fn test_invoke_method_is_bounded_too() {
    let gateway = serve(&[add_all_40(), NESTED_LOOPS.to_string()]);
    let client = client();
    for (resource, limit) in [("res0", "MAX_RENDER_BYTES"), ("res1", "MAX_RENDER_STEPS")] {
        let response = client
            .post(format!(
                "{}/restapis/testapi001/resources/{resource}/methods/GET",
                base(&gateway)
            ))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("the control plane answers");
        assert_eq!(response.status(), 200);
        let result: serde_json::Value = response.json().await.unwrap();
        assert_eq!(result["status"], 500, "{result}");
        assert_eq!(result["body"], r#"{"message": "Internal server error"}"#);
        assert!(result["log"].as_str().unwrap().contains(limit), "{result}");
        assert_still_serving(&client, &gateway).await;
    }
}
