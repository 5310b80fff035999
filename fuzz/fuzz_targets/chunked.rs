//! Any bytes as a chunked request body, fed whole and one byte at a time:
//! the decoder must agree with itself, never panic, and never report more
//! consumed bytes than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lighttpd::http::chunked::ChunkedDecoder;

fuzz_target!(|data: &[u8]| {
    let mut whole = ChunkedDecoder::new(8192, 1 << 20);
    let mut out_whole = Vec::new();
    let r_whole = whole.decode(data, &mut out_whole);
    if let Ok((n, _)) = &r_whole {
        assert!(*n <= data.len());
    }
    let mut byte = ChunkedDecoder::new(8192, 1 << 20);
    let mut out_byte = Vec::new();
    let mut failed = false;
    let mut done = false;
    for b in data {
        match byte.decode(std::slice::from_ref(b), &mut out_byte) {
            Ok((n, d)) => {
                assert!(n <= 1);
                if d {
                    done = true;
                    break;
                }
            }
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    match r_whole {
        Ok((_, true)) => assert!(done && out_byte == out_whole),
        Err(_) => assert!(failed),
        Ok((_, false)) => assert!(!failed && !done),
    }
});
