//! The `lighttpd` binary: argv in, exit status out. Everything else lives in
//! the library (src/cli.rs and below).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = lighttpd::cli::run(&args);
    std::process::exit(code);
}
