//! Any bytes as a FastCGI backend's reply, fed to the record decoder whole and
//! one byte at a time: both must yield the same events, consume the same
//! bytes (never more than given) and agree on END_REQUEST. The concatenated
//! STDOUT, and the raw input, then go through the backend head parser under
//! every backend and purpose: it must never panic and never point the body
//! past the end of its input. The raw input is also an X-Sendfile2 value
//! (http/sendfile2.rs): the walk ends, items lie inside the value, parsed
//! ranges are not negative.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lighttpd::gw::codec::{Decoded, Event};
use lighttpd::gw::fcgi::Decoder;
use lighttpd::http::backend_resp::{Backend, HeadOpts, MAX_HEAD, Purpose, parse_backend_head};

fn check_head(buf: &[u8]) {
    for backend in [
        Backend::Cgi,
        Backend::Scgi,
        Backend::Fastcgi,
        Backend::Proxy,
    ] {
        for purpose in [Purpose::Respond, Purpose::Authorize] {
            let opts = HeadOpts {
                backend,
                purpose,
                xsendfile_allow: true,
            };
            // A small limit too, so the 64 KiB rule is reached by short inputs.
            for max in [MAX_HEAD, 64] {
                if let Ok(Some((head, off))) = parse_backend_head(buf, max, opts) {
                    assert!(off <= buf.len() && off <= max);
                    assert!((100..=999).contains(&head.status));
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut whole = Decoder::new();
    let mut ev_whole = Decoded::default();
    let n_whole = whole.feed(data, &mut ev_whole);
    assert!(n_whole <= data.len());

    let mut byte = Decoder::new();
    let mut ev_byte = Decoded::default();
    let mut n_byte = 0;
    for b in data {
        let n = byte.feed(std::slice::from_ref(b), &mut ev_byte);
        assert!(n <= 1);
        n_byte += n;
    }
    assert_eq!(n_whole, n_byte);
    // The same events over the same bytes (STDOUT pieces that follow each
    // other are one event either way).
    assert_eq!(ev_whole.events, ev_byte.events);
    assert_eq!(ev_whole.data, ev_byte.data);
    assert_eq!(whole.is_ended(), byte.is_ended());
    assert_eq!(whole.finish().is_ok(), whole.is_ended());
    if !whole.is_ended() {
        assert_eq!(n_whole, data.len());
    }

    let stdout: Vec<u8> = ev_whole
        .events
        .iter()
        .filter(|e| matches!(e, Event::Stdout(_)))
        .flat_map(|e| ev_whole.bytes(e).to_vec())
        .collect();
    check_head(&stdout);
    check_head(data);
    check_sendfile2(data);
});

/// The walk always ends, each item lies inside the value, and a range
/// parses to numbers that are not negative (except an empty file's end).
fn check_sendfile2(data: &[u8]) {
    use lighttpd::http::sendfile2::{Next, Walk, parse_range};
    let mut walk = Walk::new(data);
    for _ in 0..=data.len() {
        match walk.next_item() {
            Next::End | Next::NoRange(_) => return,
            Next::Item(item) => {
                assert!(item.rest.len() <= data.len());
                assert!(item.name.len() + item.range.len() < item.rest.len());
                for size in [0u64, 7] {
                    if let Some((start, end)) = parse_range(item.range, size) {
                        assert!(start >= 0 && end >= -1);
                    }
                }
                if item.junk_after {
                    return;
                }
            }
        }
    }
    panic!("X-Sendfile2 walk did not end");
}
