//! VTL engine speed (issue: mapping templates): rendering the AWS docs'
//! PetStore template over 100 pets, and parsing + compiling a 10 KB
//! template, with the allocator the binary ships. `cargo bench --bench vtl`.

use criterion::{Criterion, criterion_group, criterion_main};
use portico::vtl::Template;

/// The allocator the `portico` binary ships with, as in `vtl_render`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "petstore.rs"]
mod petstore;

fn render_petstore(c: &mut Criterion) {
    let template = Template::compile(petstore::PETSTORE_TEMPLATE).expect("compiles");
    let body = petstore::pets(100);
    c.bench_function("petstore_100_items_render", |b| {
        b.iter(|| petstore::render(&template, &body))
    });
}

fn compile_ten_kilobytes(c: &mut Criterion) {
    let source = petstore::ten_kilobyte_template();
    c.bench_function("parse_compile_10kb", |b| {
        b.iter(|| Template::compile(&source).expect("compiles"))
    });
}

criterion_group!(benches, render_petstore, compile_ten_kilobytes);
criterion_main!(benches);
