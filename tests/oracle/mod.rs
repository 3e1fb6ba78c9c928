//! Runs a reference implementation written in Java (Apache Velocity 1.7,
//! Jayway JsonPath, from Debian's packages) over a file of cases in one
//! JVM, for the differential tests. `.ci/run` installs the JDK and jars.

use std::path::Path;
use std::process::Command;

/// Compiles `tests/{source}` against `jars` and runs `class` with a file
/// holding `input`; returns what it printed. Panics with the package to
/// install when a jar or the JDK is missing.
pub fn run(source: &str, class: &str, jars: &[&str], install: &str, input: &str) -> String {
    if jars.iter().any(|jar| !Path::new(jar).exists())
        || Command::new("javac").arg("-version").output().is_err()
    {
        panic!(
            "{install} and a JDK are needed: apt-get install {install} default-jdk-headless (.ci/run does)"
        );
    }
    let work = tempfile::tempdir().expect("temp dir");
    let classpath = jars.join(":");
    let status = Command::new("javac")
        .args(["-cp", &classpath, "-d"])
        .arg(work.path())
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join(source),
        )
        .status()
        .expect("javac runs");
    assert!(status.success(), "javac failed");
    let cases = work.path().join("cases.txt");
    std::fs::write(&cases, input).expect("write cases");
    let output = Command::new("java")
        .arg("-cp")
        .arg(format!("{classpath}:{}", work.path().display()))
        .arg(class)
        .arg(&cases)
        .output()
        .expect("java runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}
