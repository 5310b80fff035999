//! Any bytes held as text and given back: the same bytes, ASCII kept in
//! place, and the text of UTF-8 input unchanged unless it has characters
//! of the block lossless.rs uses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lighttpd::http::lossless::{from_bytes, holds_raw, to_bytes};

fuzz_target!(|data: &[u8]| {
    let text = from_bytes(data);
    assert_eq!(&*to_bytes(&text), data);
    let ascii = |b: &[u8]| b.iter().filter(|c| c.is_ascii()).copied().collect::<Vec<u8>>();
    assert_eq!(ascii(text.as_bytes()), ascii(data));
    if let Ok(s) = std::str::from_utf8(data) {
        if !holds_raw(s) {
            assert_eq!(&*text, s);
        }
    }
});
