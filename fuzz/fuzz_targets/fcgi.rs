//! Any bytes as a FastCGI backend's reply, fed to the record decoder whole and
//! one byte at a time: both must yield the same events, consume the same
//! bytes (never more than given) and agree on END_REQUEST. The concatenated
//! STDOUT, and the raw input, then go through the backend head parser under
//! every backend and purpose: it must never panic and never point the body
//! past the end of its input. The raw input is also an X-Sendfile2 value
//! (http/sendfile2.rs): never a panic, ranges never backwards.
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
    if let Ok(pieces) = lighttpd::http::sendfile2::parse(data) {
        for p in pieces {
            assert!(p.path.starts_with('/') || !p.path.is_empty());
            if let Some(e) = p.end {
                assert!(e.saturating_add(1) >= p.start);
            }
        }
    }
});
