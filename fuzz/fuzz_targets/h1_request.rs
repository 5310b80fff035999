//! Any bytes as an HTTP/1.x request head: parse_head must return a head,
//! "incomplete" or an HTTP error, never panic; a complete head must not
//! claim more bytes than it was given. Both strict and lenient options.
//! Every part of a parsed head is read, and the head is recycled, so the
//! next parse runs on its buffers: it must give the same head again.
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
            let first = parse_head(data, opts, false, after_keepalive);
            if let Ok(HeadStatus::Complete(h)) = &first {
                assert!(h.head_len <= data.len());
                let parts = (h.target(), h.path(), h.query(), h.normalized(), h.host());
                let _ = (parts, h.headers().count(), h.header("host"));
            }
            if let Ok(HeadStatus::Complete(h)) = first.clone() {
                h.recycle();
            }
            assert_eq!(parse_head(data, opts, false, after_keepalive), first);
        }
    }
});
