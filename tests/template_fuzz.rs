//! Grammar-aware template fuzzer: generates mapping templates from VTL's
//! grammar (directives nested in each other, method calls on strings,
//! lists and maps, ranges, macros that recurse, collections that hold
//! themselves, `$util` and `$input` calls chained on their own results)
//! and renders each one, checking that every render ends, in bounded
//! time and memory, with output or an error, never a panic or an abort.
//!
//! Runs for `PORTICO_FUZZ_SECS` seconds (default 60, the CI run; the
//! nightly run sets 600), from the seed `PORTICO_FUZZ_SEED` (default: from
//! the clock, printed so that a failure can be replayed). Prints the
//! number of templates rendered and the slowest and largest renders.
//!
//! Memory is measured by this binary's counting global allocator: the peak
//! of live bytes during a render, above what was live before it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portico::vtl::{Bindings, MAX_RENDER_BYTES, Template};

/// Counts live bytes and their peak; refuses to go past [`HARD_CAP`], so
/// that a runaway render fails this test (an allocation error aborts it)
/// before it can take the machine's memory.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
const HARD_CAP: usize = 4 << 30;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if live > HARD_CAP {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded as given.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let grown = new_size - layout.size();
            let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
            if live > HARD_CAP {
                LIVE.fetch_sub(grown, Ordering::Relaxed);
                return std::ptr::null_mut();
            }
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded as given.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What one render may take here: the memory budget plus the overheads it
/// does not count (allocator rounding, `Rc` headers, vectors' spare
/// capacity, the parsed body), with room to spare.
const MEMORY_BOUND: usize = 3 * MAX_RENDER_BYTES as usize;

/// What one render may take here: budget-exhausting renders take up to a
/// few seconds in a debug build on a loaded shared machine (the render
/// code is unoptimized there), well under a second optimized. A render
/// without budgets ran for minutes.
const TIME_BOUND: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(30)
} else {
    Duration::from_secs(3)
};

/// Templates from the grammar.
struct Generator {
    rng: fastrand::Rng,
    depth: usize,
    macros: Vec<(String, usize)>,
}

const VARIABLES: [&str; 8] = ["$a", "$b", "$l", "$m", "$s", "$n", "$x", "$d"];
/// Text between directives (no `#` or `\\`: they would comment out or
/// escape the directive that follows).
const TEXTS: [&str; 6] = [" ", "\n", "x", ": ", ",", "\t"];

impl Generator {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.usize(..items.len())]
    }

    fn variable(&mut self) -> &'static str {
        self.pick(&VARIABLES)
    }

    fn template(&mut self) -> String {
        self.depth = 0;
        self.macros.clear();
        let mut out = String::new();
        // Often start from collections that hold themselves.
        if self.rng.bool() {
            out.push_str("#set($l = [1, \"two\"])#set($m = {\"k\": 1})");
            match self.rng.usize(..4) {
                0 => out.push_str("#set($d = $l.add($l))"),
                1 => out.push_str("#set($d = $m.put(\"self\", $m))"),
                2 => out.push_str("#set($d = $l.add($m))#set($d = $m.put(\"l\", $l))"),
                _ => out.push_str("#set($m.me = $m)#set($d = $l.add($l))"),
            }
        }
        let count = self.rng.usize(1..12);
        for _ in 0..count {
            self.statement(&mut out);
        }
        out
    }

    fn block(&mut self, out: &mut String) {
        self.depth += 1;
        let count = if self.depth > 4 {
            1
        } else {
            self.rng.usize(1..5)
        };
        for _ in 0..count {
            self.statement(out);
        }
        self.depth -= 1;
    }

    fn statement(&mut self, out: &mut String) {
        let choice = if self.depth > 5 {
            self.rng.usize(..3)
        } else {
            self.rng.usize(..14)
        };
        match choice {
            0 => out.push_str(self.pick(&TEXTS)),
            1 => {
                let quiet = if self.rng.bool() { "!" } else { "" };
                let reference = self.reference();
                out.push_str(&reference.replacen('$', &format!("${quiet}"), 1));
            }
            2 | 3 => {
                let target = self.variable();
                let value = self.expression(0);
                out.push_str(&format!("#set({target} = {value})"));
            }
            4 => {
                let target = self.variable();
                let key = self.pick(&["k", "me", "x"]);
                let value = self.expression(0);
                out.push_str(&format!("#set({target}.{key} = {value})"));
            }
            5 | 6 => {
                let condition = self.condition();
                out.push_str(&format!("#if({condition})"));
                self.block(out);
                if self.rng.bool() {
                    let other = self.condition();
                    out.push_str(&format!("#elseif({other})"));
                    self.block(out);
                }
                if self.rng.bool() {
                    out.push_str("#else");
                    self.block(out);
                }
                out.push_str("#end");
            }
            7 | 8 => {
                let variable = self.pick(&["$i", "$j", "$x", "$item"]);
                let iterable = self.iterable();
                out.push_str(&format!("#foreach({variable} in {iterable})"));
                self.block(out);
                out.push_str("#end");
            }
            9 => {
                let name = format!("m{}", self.macros.len());
                let parameters = self.rng.usize(..3);
                let list: Vec<String> = (0..parameters).map(|p| format!("$p{p}")).collect();
                out.push_str(&format!("#macro({name} {})", list.join(" ")));
                self.macros.push((name, parameters));
                self.block(out);
                out.push_str("#end");
            }
            10 if !self.macros.is_empty() => {
                let (name, parameters) = self.macros[self.rng.usize(..self.macros.len())].clone();
                let arguments: Vec<String> = (0..parameters).map(|_| self.expression(1)).collect();
                out.push_str(&format!("#{name}({})", arguments.join(" ")));
            }
            11 => {
                out.push_str("#define($block)");
                self.block(out);
                out.push_str("#end$block");
            }
            12 => out.push_str(self.pick(&["#break ", "#stop ", "## note\n", "#* c *# "])),
            _ => {
                let reference = self.reference();
                out.push_str(&format!("\"{reference}\""));
            }
        }
    }

    fn iterable(&mut self) -> String {
        match self.rng.usize(..7) {
            0 => format!("[1..{}]", self.pick(&["3", "100", "1000", "$n", "-5"])),
            1 => "[$l, $m, $s]".to_string(),
            2 => "$input.path('$.items')".to_string(),
            3 => "$m.keySet()".to_string(),
            4 => "$context.tags".to_string(),
            _ => self.variable().to_string(),
        }
    }

    fn condition(&mut self) -> String {
        let left = self.expression(1);
        let right = self.expression(1);
        let op = self.pick(&["==", "!=", "<", ">=", "&&", "||"]);
        match self.rng.usize(..4) {
            0 => left,
            1 => format!("!{left}"),
            _ => format!("{left} {op} {right}"),
        }
    }

    fn reference(&mut self) -> String {
        let mut reference = match self.rng.usize(..8) {
            0 => "$util".to_string(),
            1 => "$input".to_string(),
            2 => "$context".to_string(),
            _ => self.variable().to_string(),
        };
        let steps = self.rng.usize(..4);
        for _ in 0..steps {
            reference.push_str(&self.call(&reference));
        }
        reference
    }

    /// A method call or property step, suited to what `base` likely is.
    fn call(&mut self, base: &str) -> String {
        let argument = |g: &mut Generator| g.expression(2);
        if base == "$util" {
            let name = self.pick(&[
                "escapeJavaScript",
                "base64Encode",
                "base64Decode",
                "urlEncode",
                "urlDecode",
                "parseJson",
            ]);
            return format!(".{name}({})", argument(self));
        }
        if base == "$input" {
            let path = self.pick(&["'$'", "'$.items'", "'$.a.b'", "'$.items[0]'", "$s"]);
            let name = self.pick(&["json", "path", "params"]);
            return format!(".{name}({path})");
        }
        match self.rng.usize(..24) {
            0 => format!(".add({})", argument(self)),
            1 => format!(".add({})", self.variable()),
            2 => format!(".addAll({})", self.variable()),
            3 => format!(".put(\"k\", {})", argument(self)),
            4 => format!(".putAll({})", self.variable()),
            5 => format!(".contains({})", argument(self)),
            6 => format!(".indexOf({})", argument(self)),
            7 => format!(".replace(\"a\", {})", self.pick(&["\"aa\"", "\"\"", "$s"])),
            8 => format!(
                ".replaceAll({}, {})",
                self.pick(&["\"(.)\"", "\"a*\"", "\"\"", "\"[\""]),
                self.pick(&["\"$1$1\"", "\"-\"", "\"$0$0$0\""])
            ),
            9 => format!(".split({})", self.pick(&["\",\"", "\"\"", "\"a+\""])),
            10 => format!(".substring({})", self.pick(&["0", "1", "0, 2", "-1"])),
            11 => ".toString()".to_string(),
            12 => ".size()".to_string(),
            13 => ".length()".to_string(),
            14 => format!(".get({})", self.pick(&["0", "\"k\"", "5"])),
            15 => ".keySet()".to_string(),
            16 => ".values()".to_string(),
            17 => ".entrySet()".to_string(),
            18 => format!("[{}]", self.pick(&["0", "\"k\"", "-1"])),
            19 => format!(".concat({})", argument(self)),
            20 => ".toUpperCase()".to_string(),
            21 => format!(".equals({})", argument(self)),
            22 => format!(".remove({})", argument(self)),
            _ => format!(".{}", self.pick(&["k", "me", "empty", "class", "bytes"])),
        }
    }

    fn expression(&mut self, depth: usize) -> String {
        if depth > 3 {
            return self.pick(&["1", "\"a\"", "$s", "$l", "true"]).to_string();
        }
        match self.rng.usize(..12) {
            0 => self
                .pick(&["0", "1", "-7", "2147483647", "1.5", "true", "null"])
                .to_string(),
            1 => format!("\"{}\"", self.pick(&["a", "", "'", "é", "aaaa", "a,b"])),
            2 => {
                // Interpolated: references with no quoted arguments.
                let inner = self.variable().trim_start_matches('$');
                let call = self.pick(&["", ".size()", ".toString()", ".length()"]);
                format!("\"x${{{inner}}}{call} y\"")
            }
            3 => {
                let items: Vec<String> = (0..self.rng.usize(..4))
                    .map(|_| self.expression(depth + 1))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            4 => {
                let value = self.expression(depth + 1);
                format!("{{\"k\": {value}, \"n\": 1}}")
            }
            5 => format!(
                "[{}..{}]",
                self.pick(&["0", "-3", "$n"]),
                self.pick(&["5", "9999", "$n"])
            ),
            6 => {
                let left = self.expression(depth + 1);
                let right = self.expression(depth + 1);
                let op = self.pick(&["+", "-", "*", "/", "%", "=="]);
                format!("({left} {op} {right})")
            }
            7 => self.variable().to_string(),
            _ => self.reference(),
        }
    }
}

fn seconds() -> u64 {
    std::env::var("PORTICO_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

fn seed() -> u64 {
    std::env::var("PORTICO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

#[test]
fn generated_templates_render_within_bounds() {
    let seconds = seconds();
    let seed = seed();
    println!("template fuzz: {seconds} s from seed {seed} (PORTICO_FUZZ_SEED={seed} replays it)");
    let mut generator = Generator {
        rng: fastrand::Rng::with_seed(seed),
        depth: 0,
        macros: Vec::new(),
    };
    let body = r#"{"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b'\"c"}], "a": {"b": [1, 2.5, null, true]}}"#;
    let pairs = [("id".to_string(), "7".to_string())];
    let context =
        serde_json::json!({"stage": "dev", "tags": ["a", "b"], "requestOverride": {"header": {}}});
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut rendered, mut failed, mut not_compiled) = (0u64, 0u64, 0u64);
    let mut slowest = (Duration::ZERO, String::new());
    let mut largest = (0usize, String::new());
    while Instant::now() < deadline {
        let source = generator.template();
        let template = match Template::compile(&source) {
            Ok(template) => template,
            Err(error) => {
                not_compiled += 1;
                if std::env::var_os("PORTICO_FUZZ_SHOW_ERRORS").is_some() && not_compiled < 12 {
                    println!("does not compile: {error}\n{source}\n");
                }
                continue;
            }
        };
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            template.render(&Bindings {
                body,
                path: &pairs,
                querystring: &pairs,
                header: &pairs,
                context: &context,
                stage_variables: &pairs,
            })
        }));
        let took = started.elapsed();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        let Ok(result) = result else {
            panic!("the render panicked (seed {seed}):\n{source}");
        };
        match result {
            Ok(_) => rendered += 1,
            Err(_) => failed += 1,
        }
        assert!(
            took <= TIME_BOUND,
            "a render took {took:?} (seed {seed}):\n{source}"
        );
        assert!(
            peak <= MEMORY_BOUND,
            "a render peaked at {peak} bytes (seed {seed}):\n{source}"
        );
        if took > slowest.0 {
            slowest = (took, source.clone());
        }
        if peak > largest.0 {
            largest = (peak, source);
        }
    }
    let total = rendered + failed;
    println!(
        "template fuzz: {total} templates rendered ({rendered} with output, {failed} with a template error), {not_compiled} did not compile"
    );
    println!(
        "slowest render {:?}:\n{}\nlargest render {} bytes:\n{}",
        slowest.0, slowest.1, largest.0, largest.1
    );
    assert!(total > 0, "no template rendered");
}
