//! Times reading a configuration in-process: parse, evaluate, check the core
//! keys and settle the module list (what `lighttpd -f` does before it
//! serves), repeated N times. Used by scripts/bench-config.
//!
//! usage: bench_config CONF [ITERATIONS]

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(conf) = args.get(1) else {
        eprintln!("usage: bench_config CONF [ITERATIONS]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let cfg = lighttpd::config::read(lighttpd::config::eval::Input::File(conf));
        times.push(t0.elapsed());
        if cfg.is_err() {
            eprintln!("config error");
            std::process::exit(1);
        }
    }
    times.sort();
    let med = times[n / 2];
    let p90 = times[n * 9 / 10];
    println!(
        "read {conf}: median {:.3} ms, p90 {:.3} ms over {n} runs",
        med.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3
    );
}
