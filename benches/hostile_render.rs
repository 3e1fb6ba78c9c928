//! Times the hostile templates of the hardening issue (each stops at a
//! render budget) in this build: how long a serving thread would be held
//! by one, and how long the inline slice of the budget takes.
//! Usage: `hostile_render` (prints one line per template: ms and outcome).

use portico::vtl::Template;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn repeated(start: &str, statement: &str, times: usize, end: &str) -> String {
    format!("{start}{}{end}", statement.repeat(times))
}

fn main() {
    let templates = [
        (
            "addAll x40",
            repeated("#set($l = [1])", "#set($d = $l.addAll($l))", 40, "$l.size()"),
        ),
        (
            "replace x40",
            repeated(
                "#set($s = \"a\")",
                "#set($s = $s.replace(\"a\", \"aa\"))",
                40,
                "$s.length()",
            ),
        ),
        (
            "escapeJavaScript x40",
            repeated(
                "#set($s = \"'\")",
                "#set($s = $util.escapeJavaScript($s))",
                40,
                "$s.length()",
            ),
        ),
        (
            "base64Encode x60",
            repeated(
                "#set($s = \"abc\")",
                "#set($s = $util.base64Encode($s))",
                60,
                "$s.length()",
            ),
        ),
        (
            "3 nested 1,000-step loops",
            "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..1000])#end#end#end"
                .to_string(),
        ),
    ];
    for (name, source) in templates {
        let template = Template::compile(&source).expect("compiles");
        let started = std::time::Instant::now();
        let outcome = template.render_plain();
        let elapsed = started.elapsed();
        let outcome = match outcome {
            Ok(rendered) => format!("rendered {} bytes", rendered.output.len()),
            Err(error) => error.message,
        };
        println!("{name}: {:.1} ms: {outcome}", elapsed.as_secs_f64() * 1e3);
    }
}
