//! Portico's Velocity engine: API Gateway's mapping templates, rendered as
//! AWS renders them (Apache Velocity 1.7 with AWS's `$input`, `$util`,
//! `$context` and `$stageVariables`).
//!
//! A template is parsed once ([`Template::compile`], at deploy time) into a
//! syntax tree with source offsets, and rendered per request from it.
//! Errors carry a line, a column and a caret excerpt.

mod ast;
mod budget;
mod eval;
mod expression;
mod input;
mod java;
mod json;
mod methods;
mod parser;
mod slots;
pub mod util;
mod value;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use java::java_double;

/// AWS's quota for a mapping template: 300 KB
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>).
pub const MAX_TEMPLATE_BYTES: usize = 300 * 1024;
/// AWS stops a `#foreach` after 1,000 iterations (API Gateway quotas:
/// "Number of iterations in a #foreach ... #end loop in mapping templates").
pub const MAX_FOREACH_ITERATIONS: usize = 1000;
/// A render may not produce more than this (API Gateway's payload limit).
pub const MAX_OUTPUT_BYTES: usize = 10 * 1024 * 1024;

/// The memory budget of one render: the bytes of every string, list, map
/// and parsed body it creates or grows, counted as they are made (and
/// never given back, so it also bounds the work of copying them). Modeled
/// on AWS's 10 MB payload quota: an output of [`MAX_OUTPUT_BYTES`] plus
/// five times that for intermediate values. Every operation charges its
/// result's size before allocating it (computing the exact size first when
/// an upper bound could exceed what is left), so no single `replace`,
/// `addAll`, `escapeJavaScript` or concatenation can allocate past it. A
/// render that exceeds it fails like any template error: AWS's 500 and an
/// execution-log line naming the limit.
pub const MAX_RENDER_BYTES: u64 = 6 * MAX_OUTPUT_BYTES as u64;

/// The step budget of one render: every node and expression evaluated,
/// reference step, method call and loop iteration is a step, and work
/// over data costs a step per 64 bytes scanned or written. A 1,000-item
/// `#foreach` over a payload with a few dozen references per item takes
/// under 100,000; three nested 1,000-step loops (a billion iterations,
/// 28 s before this budget) stop here after a fraction of a second.
pub const MAX_RENDER_STEPS: u64 = 2_000_000;

/// Lists and maps nest at most this deep when printed, compared or
/// converted to JSON (a list holding itself prints `(this Collection)`, a
/// map `(this Map)`, as Java does; a deeper nesting, or a cycle through
/// several containers, fails the render where Java overflows its stack).
/// JSON documents nest at most 128 deep (serde_json's limit).
pub const MAX_VALUE_DEPTH: usize = 400;

/// What one render may spend: steps and bytes (see [`MAX_RENDER_STEPS`]
/// and [`MAX_RENDER_BYTES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    pub steps: u64,
    pub bytes: u64,
}

impl RenderLimits {
    /// The whole budget of a render.
    pub const WHOLE: RenderLimits = RenderLimits {
        steps: MAX_RENDER_STEPS,
        bytes: MAX_RENDER_BYTES,
    };
    /// The slice a serving thread spends inline before it hands the render
    /// to a blocking thread: 1/40 of the steps and 4 MiB, about a
    /// millisecond of work in an optimized build. Real templates finish
    /// within it: the AWS docs' PetStore template over 1,000 items does
    /// (`tests/template_limits.rs`).
    pub const INLINE: RenderLimits = RenderLimits {
        steps: MAX_RENDER_STEPS / 40,
        bytes: 4 << 20,
    };
}

/// A compiled template. Immutable; shared by every request.
#[derive(Debug)]
pub struct Template {
    source: String,
    nodes: Vec<ast::Node>,
    macros: HashMap<String, ast::Macro>,
    /// By variable slot: whether it is `$foreach` or another loop builtin.
    builtins: Vec<Option<ast::Builtin>>,
    /// The length of a recent output, to size the next one's buffer.
    output_hint: AtomicUsize,
}

/// The output buffer of a render starts at the size of a recent output, up
/// to this.
const MAX_OUTPUT_HINT: usize = 256 * 1024;

// The tree holds only owned data (no `Rc`): safe to share across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
};

/// What a render sees.
pub struct Bindings<'a> {
    /// `$input.body`: the request (or integration response) body.
    pub body: &'a str,
    /// `$input.params().path` / `.querystring` / `.header`.
    pub path: &'a [(String, String)],
    pub querystring: &'a [(String, String)],
    pub header: &'a [(String, String)],
    /// `$context` as a JSON tree; `Null` gives an empty context with
    /// writable `requestOverride` / `responseOverride`.
    pub context: &'a serde_json::Value,
    /// `$stageVariables`.
    pub stage_variables: &'a [(String, String)],
}

/// A render's output and the `$context` overrides the template set.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub output: String,
    pub overrides: Overrides,
}

/// `$context.requestOverride.*` / `$context.responseOverride.*`.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Overrides {
    pub response_status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub request_headers: Vec<(String, String)>,
    pub request_querystring: Vec<(String, String)>,
    pub request_path: Vec<(String, String)>,
}

/// A template error: where, what, and the offending line with a caret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}\n{excerpt}")]
pub struct VtlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub excerpt: String,
}

impl VtlError {
    fn at(source: &str, offset: usize, message: String) -> VtlError {
        let offset = offset.min(source.len());
        let offset = (0..=offset)
            .rev()
            .find(|i| source.is_char_boundary(*i))
            .unwrap_or(0);
        let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
        let line = source[..offset].matches('\n').count() + 1;
        let column = source[line_start..offset].chars().count() + 1;
        let text = source[line_start..line_end].trim_end_matches('\r');
        let caret: String = source[line_start..offset]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        VtlError {
            line: line as u32,
            column: column as u32,
            message,
            excerpt: format!("{text}\n{caret}^"),
        }
    }
}

impl Template {
    pub fn compile(source: &str) -> Result<Template, VtlError> {
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(VtlError::at(
                source,
                0,
                format!(
                    "the template is {} bytes; mapping templates are limited to {MAX_TEMPLATE_BYTES}",
                    source.len()
                ),
            ));
        }
        let parsed =
            parser::parse(source).map_err(|e| VtlError::at(source, e.offset, e.message))?;
        let names = parsed.names;
        Ok(Template {
            source: source.to_string(),
            nodes: parsed.nodes,
            macros: parsed.macros,
            builtins: names.iter().map(|name| ast::Builtin::of(name)).collect(),
            output_hint: AtomicUsize::new(0),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders within the whole budget ([`MAX_RENDER_STEPS`],
    /// [`MAX_RENDER_BYTES`]).
    pub fn render(&self, bindings: &Bindings<'_>) -> Result<Rendered, VtlError> {
        self.render_within(bindings, RenderLimits::WHOLE)
            .map_err(|(error, _)| error)
    }

    /// Renders within `slice` of the budget: `Ok(None)` when the slice ran
    /// out, so that the caller renders again with the whole budget where a
    /// long render holds nothing else up (the gateway's serving threads
    /// render inline with [`RenderLimits::INLINE`], then off the thread).
    /// Rendering is deterministic: the second render sees what the first
    /// saw.
    pub fn render_sliced(
        &self,
        bindings: &Bindings<'_>,
        slice: RenderLimits,
    ) -> Result<Option<Rendered>, VtlError> {
        match self.render_within(bindings, slice) {
            Ok(rendered) => Ok(Some(rendered)),
            Err((_, true)) if slice != RenderLimits::WHOLE => Ok(None),
            Err((error, _)) => Err(error),
        }
    }

    fn render_within(
        &self,
        bindings: &Bindings<'_>,
        limits: RenderLimits,
    ) -> Result<Rendered, (VtlError, bool)> {
        let capacity = (self.source.len() + 64).max(self.output_hint.load(Ordering::Relaxed));
        let renderer = eval::Renderer::new(
            &self.source,
            &self.macros,
            &self.builtins,
            bindings,
            capacity,
            limits,
        );
        let (output, overrides) = renderer.run(&self.nodes).map_err(|(e, exhausted)| {
            let offset = if e.offset == eval::UNPLACED {
                0
            } else {
                e.offset
            };
            (VtlError::at(&self.source, offset, e.message), exhausted)
        })?;
        self.output_hint
            .store(output.len().min(MAX_OUTPUT_HINT), Ordering::Relaxed);
        Ok(Rendered { output, overrides })
    }

    /// Renders with no request: empty body, parameters and context.
    pub fn render_plain(&self) -> Result<Rendered, VtlError> {
        self.render(&Bindings {
            body: "",
            path: &[],
            querystring: &[],
            header: &[],
            context: &serde_json::Value::Null,
            stage_variables: &[],
        })
    }
}
