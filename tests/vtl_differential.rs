//! Differential test: Portico's VTL engine against Apache Velocity 1.7
//! itself (Debian's `velocity` package, the engine API Gateway's mapping
//! templates run on). Hand-written quirk cases (`tests/velocity_oracle/
//! cases.vtl`) plus generated templates are rendered by both, in one JVM
//! run, and must match byte for byte; when Velocity fails, ours must fail
//! too. `.ci/run` installs the JDK and the jars.
//!
//! Known gaps, kept out of the generator: Velocity 1.7's lexer rejects some
//! templates where `(` directly follows a reference or a `#set(...)`, or an
//! `#else` runs into text, depending on the lexer state it is in; Portico
//! renders them. `getClass()` and `String[]` (from `split`) print Java
//! identities, which are not reproducible.

mod oracle;

use std::path::Path;

const VELOCITY_JARS: [&str; 3] = [
    "/usr/share/java/velocity.jar",
    "/usr/share/java/commons-collections3.jar",
    "/usr/share/java/commons-lang.jar",
];

/// The `$context` the Java side builds, as the JSON the gateway passes.
fn context() -> serde_json::Value {
    serde_json::json!({
        "requestId": "req-1",
        "stage": "dev",
        "count": 3,
        "ratio": 2.5,
        "flag": true,
        "identity": {"sourceIp": "10.0.0.1", "caller": ""},
        "tags": ["a", "b", "c"]
    })
}

fn stage_variables() -> Vec<(String, String)> {
    [("name", "Ada"), ("env", "dev"), ("count", "5")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Runs every case through Velocity 1.7; `None` marks a Velocity error.
fn velocity(cases: &[String]) -> Vec<Option<String>> {
    let text = oracle::run(
        "velocity_oracle/VelocityOracle.java",
        "VelocityOracle",
        &VELOCITY_JARS,
        "velocity",
        &cases.join("\n=====\n"),
    );
    let mut results = Vec::with_capacity(cases.len());
    let mut rest = text.as_str();
    for i in 0..cases.len() {
        let marker = format!("<<<{i}>>>");
        rest = rest.strip_prefix(&marker).expect("case marker in order");
        let next = format!("\n<<<{}>>>", i + 1);
        let end = if i + 1 == cases.len() {
            rest.len() - 1
        } else {
            rest.find(&next).expect("next marker")
        };
        let body = &rest[..end];
        results.push(if body == "ERROR" {
            None
        } else {
            Some(body.strip_prefix('\n').unwrap_or(body).to_string())
        });
        rest = &rest[end + 1..];
    }
    results
}

fn ours(template: &str) -> Option<String> {
    let context = context();
    let variables = stage_variables();
    let compiled = portico::vtl::Template::compile(template).ok()?;
    compiled
        .render(&portico::vtl::Bindings {
            body: "",
            path: &[],
            querystring: &[],
            header: &[],
            context: &context,
            stage_variables: &variables,
        })
        .ok()
        .map(|r| r.output)
}

/// Generated templates: random mixes of the constructs whose quirks
/// matter (whitespace around directives, undefined and quiet references,
/// arithmetic across int/long/double, collections and their `toString`).
fn generated(count: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(0x7e1a_2026);
    let values = [
        "1",
        "2",
        "-3",
        "7",
        "2147483647",
        "1.5",
        "0.1",
        "\"s\"",
        "'t'",
        "true",
        "false",
        "$context.count",
        "$context.ratio",
        "$context.stage",
        "$stageVariables.count",
        "$nope",
        "[1, 2]",
        "[1..3]",
        "{\"k\": 1}",
        "$x",
        "$y",
        "\"a$x\"",
    ];
    let operators = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"];
    let references = [
        "$x",
        "$!x",
        "${x}",
        "$y",
        "$!y",
        "$nope",
        "$!nope",
        "$nope.a",
        "$context.stage",
        "$context.tags",
        "$context.identity",
        "$stageVariables.name",
        "$x.size() ",
        "$y.toString() ",
        "$context.tags[0]",
    ];
    let texts = [
        " ", "  ", "\n", " \n", "a", ",", "\t", "text ", "\n\n", ":", "<x>",
    ];
    let mut templates = Vec::with_capacity(count);
    for _ in 0..count {
        let mut template = String::new();
        let pieces = rng.usize(3..12);
        let mut open = 0;
        for _ in 0..pieces {
            match rng.usize(0..10) {
                0 => {
                    template.push_str(&format!("#set($x = {})", values[rng.usize(..values.len())]))
                }
                1 => template.push_str(&format!(
                    "#set($y = {} {} {})",
                    values[rng.usize(..values.len())],
                    operators[rng.usize(..operators.len())],
                    values[rng.usize(..values.len())]
                )),
                2 => {
                    template.push_str(&format!(
                        "#if({} {} {})",
                        values[rng.usize(..values.len())],
                        operators[rng.usize(..operators.len())],
                        values[rng.usize(..values.len())]
                    ));
                    open += 1;
                }
                3 if open > 0 => {
                    template.push_str(if rng.bool() { "#else" } else { "#end" });
                    if template.ends_with("#end") {
                        open -= 1;
                    }
                }
                4 => {
                    template.push_str(&format!(
                        "#foreach($i in {})$i",
                        values[rng.usize(..values.len())]
                    ));
                    open += 1;
                }
                5 | 6 => template.push_str(references[rng.usize(..references.len())]),
                _ => template.push_str(texts[rng.usize(..texts.len())]),
            }
            if rng.usize(0..4) == 0 {
                template.push_str(texts[rng.usize(..texts.len())]);
            }
        }
        for _ in 0..open {
            template.push_str(if rng.bool() { "#end" } else { "\n#end\n" });
        }
        templates.push(template);
    }
    templates
}

#[test]
fn engine_matches_velocity_1_7() {
    let corpus = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/velocity_oracle/cases.vtl"),
    )
    .expect("the corpus");
    let mut cases: Vec<String> = corpus
        .trim_end_matches('\n')
        .split("\n=====\n")
        .map(str::to_string)
        .collect();
    let hand_written = cases.len();
    cases.extend(generated(600));
    let expected = velocity(&cases);
    let mut mismatches = Vec::new();
    for (i, (case, expected)) in cases.iter().zip(&expected).enumerate() {
        let actual = ours(case);
        if &actual != expected {
            mismatches.push(format!(
                "case {i} ({}):\n--- template\n{case}\n--- Velocity 1.7\n{expected:?}\n--- Portico\n{actual:?}\n",
                if i < hand_written { "hand-written" } else { "generated" }
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} templates differ from Velocity 1.7:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}
