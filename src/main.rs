//! The `portico` binary: parses the command line and calls into the library.

/// The gateway allocates per request (headers, logs); mimalloc's thread
/// caches measurably beat glibc malloc here (see benches/load.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(portico::cli::main());
}
