//! Any bytes as an HTTP/1.x request head: parse_head must return a head,
//! "incomplete" or an HTTP error, never panic; a complete head must not
//! claim more bytes than it was given. Both strict and lenient options.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lighttpd::http::request::{HeadStatus, ParseOpts, parse_head};

fuzz_target!(|data: &[u8]| {
    let strict = ParseOpts::default();
    let mut lenient = ParseOpts::default();
    lenient.header_strict = false;
    lenient.host_strict = false;
    lenient.url.normalize = false;
    for opts in [&strict, &lenient] {
        for after_keepalive in [false, true] {
            if let Ok(HeadStatus::Complete(h)) = parse_head(data, opts, false, after_keepalive) {
                assert!(h.head_len <= data.len());
                let _ = &h.path;
            }
        }
    }
});
