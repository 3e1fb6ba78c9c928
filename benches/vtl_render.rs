//! Renders the PetStore template over 100 pets N times and prints
//! nanoseconds per render and the output, for `benches/vtl_compare.sh`,
//! which runs velocityjs on the same input.
//! Usage: `vtl_render [iterations] [items]` (100 items by default).

use portico::vtl::Template;

/// The allocator the `portico` binary ships with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "petstore.rs"]
mod petstore;

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let template = Template::compile(petstore::PETSTORE_TEMPLATE).expect("compiles");
    let items = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let body = petstore::pets(items);
    let render = || petstore::render(&template, &body);
    for _ in 0..iterations / 10 {
        std::hint::black_box(render());
    }
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(render());
    }
    let per_render = started.elapsed().as_nanos() as f64 / f64::from(iterations);
    println!("{per_render:.0}");
    print!("{}", render());
}
