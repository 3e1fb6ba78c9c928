//! The `portico` binary: parses the command line and calls into the library.

fn main() {
    std::process::exit(portico::cli::main());
}
