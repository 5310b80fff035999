//! Bytes that are not UTF-8, held in Rust strings without loss.
//!
//! lighttpd handles URL paths, header values and file names as bytes: a
//! Latin-1 file name (`caf\xe9`) is served for `/caf%e9`, a header value
//! in Latin-1 reaches the backend as it was sent, a backend's
//! `Content-Disposition` with such a name reaches the client unchanged.
//! Our pipeline carries these as `str`, so each byte that is not part of
//! valid UTF-8 is held as one character of the last private-use block of
//! plane 16: byte `b` (0x80..=0xFF) as U+10FF00 + `b`. A character of that
//! block that really arrived (as UTF-8) is held behind the marker U+10FF00,
//! so every byte string has exactly one text form and comes back from it.
//! ASCII is never touched: `/`, `.`, `%` and NUL keep their meaning, and
//! the usual all-UTF-8 input is copied as it is.
//!
//! The bytes come back where they leave the server: paths handed to the
//! file system ([`to_path`]), response heads, the FastCGI environment and
//! the error log ([`to_bytes`]). Text of the block is recognised by its
//! first UTF-8 byte, 0xF4, which only plane 16 (and U+100000..) uses, so
//! text without that byte is passed on without a look at its characters.

use std::borrow::Cow;

/// The marker, and the base the raw bytes are added to.
const BASE: u32 = 0x10FF00;
/// The first UTF-8 byte of every character from U+100000 on.
const LEAD: u8 = 0xF4;

/// Whether `c` is a character of the block the raw bytes are held in.
fn in_block(c: char) -> bool {
    (c as u32) >= BASE
}

/// The character that holds raw byte `b` (or the marker for `0`).
fn held(b: u8) -> char {
    // BASE + 0..=0xFF is U+10FF00..=U+10FFFF: scalar values, never
    // surrogates, so from_u32 cannot fail.
    char::from_u32(BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Appends `b` to `out` as text: valid UTF-8 as it is, any other byte as
/// its held character.
pub fn push_bytes(out: &mut String, b: &[u8]) {
    for chunk in b.utf8_chunks() {
        push_text(out, chunk.valid());
        for &x in chunk.invalid() {
            out.push(held(x));
        }
    }
}

/// Appends valid UTF-8 `s`, the marker before each character of the block.
pub fn push_text(out: &mut String, s: &str) {
    if !s.as_bytes().contains(&LEAD) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if in_block(c) {
            out.push(held(0));
        }
        out.push(c);
    }
}

/// `b` as text (borrowed when it is UTF-8 without characters of the block).
pub fn from_bytes(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) if !b.contains(&LEAD) => Cow::Borrowed(s),
        _ => {
            let mut out = String::with_capacity(b.len() + 8);
            push_bytes(&mut out, b);
            Cow::Owned(out)
        }
    }
}

/// Whether `s` has to go through [`to_bytes`] to be sent.
pub fn holds_raw(s: &str) -> bool {
    s.as_bytes().contains(&LEAD)
}

/// The bytes `s` stands for (borrowed when it holds none of the block).
pub fn to_bytes(s: &str) -> Cow<'_, [u8]> {
    if !holds_raw(s) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut marked = false;
    let mut utf8 = [0u8; 4];
    for c in s.chars() {
        let v = c as u32;
        if marked || v < BASE + 0x80 {
            // A marked character, or anything but a held byte, is itself;
            // the marker itself only marks.
            if marked || v != BASE {
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            marked = !marked && v == BASE;
        } else {
            out.push((v - BASE) as u8);
        }
    }
    Cow::Owned(out)
}

/// `s` as a file-system path, raw bytes restored.
pub fn to_path(s: &str) -> Cow<'_, std::path::Path> {
    match to_os(s) {
        Cow::Borrowed(o) => Cow::Borrowed(std::path::Path::new(o)),
        Cow::Owned(o) => Cow::Owned(std::path::PathBuf::from(o)),
    }
}

/// `s` as an OS string (a program argument, an environment name or
/// value), raw bytes restored.
pub fn to_os(s: &str) -> Cow<'_, std::ffi::OsStr> {
    use std::os::unix::ffi::OsStringExt;
    match to_bytes(s) {
        Cow::Borrowed(_) => Cow::Borrowed(std::ffi::OsStr::new(s)),
        Cow::Owned(v) => Cow::Owned(std::ffi::OsString::from_vec(v)),
    }
}

/// A file name read from the file system, as text.
pub fn from_os(name: &std::ffi::OsStr) -> Cow<'_, str> {
    use std::os::unix::ffi::OsStrExt;
    from_bytes(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_kept_as_it_is() {
        assert!(matches!(
            from_bytes(b"/caf\xc3\xa9"),
            Cow::Borrowed("/caf\u{e9}")
        ));
        assert!(matches!(
            to_bytes("/caf\u{e9}"),
            Cow::Borrowed(b"/caf\xc3\xa9")
        ));
    }

    #[test]
    fn raw_bytes_come_back() {
        let t = from_bytes(b"/caf\xe9/\x80\xff.txt");
        assert_eq!(t.chars().filter(|&c| c == '/').count(), 2);
        assert!(t.ends_with(".txt"));
        assert_eq!(&*to_bytes(&t), b"/caf\xe9/\x80\xff.txt");
        // a truncated sequence is raw bytes too
        assert_eq!(&*to_bytes(&from_bytes(b"a\xc3")), b"a\xc3");
        assert_eq!(&*to_bytes(&from_bytes(b"\xf4\x8f\xbf")), b"\xf4\x8f\xbf");
    }

    #[test]
    fn characters_of_the_block_are_not_taken_for_bytes() {
        // U+10FFE9 sent as UTF-8 is not the byte 0xE9; U+10FF00 (the
        // marker) and U+10FF41 round-trip too.
        for c in [
            '\u{10FFE9}',
            '\u{10FF00}',
            '\u{10FF41}',
            '\u{10FFFF}',
            '\u{100000}',
        ] {
            let mut sent = String::from("/x");
            sent.push(c);
            let t = from_bytes(sent.as_bytes());
            assert_eq!(&*to_bytes(&t), sent.as_bytes(), "{c:?}");
            assert_ne!(&*to_bytes(&t), b"/x\xe9");
        }
        let mut both = Vec::from(&b"\xe9"[..]);
        both.extend_from_slice("\u{10FFE9}\u{10FF00}".as_bytes());
        both.push(0xe9);
        assert_eq!(&*to_bytes(&from_bytes(&both)), &both[..]);
    }

    #[test]
    fn every_byte_string_round_trips() {
        // all two-byte strings, and a sample of longer ones
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let v = [a, b];
                assert_eq!(&*to_bytes(&from_bytes(&v)), &v[..]);
            }
        }
        let mut x = 12345u32;
        for _ in 0..20000 {
            let v: Vec<u8> = (0..(x % 9))
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    [0xF4, 0x8F, 0xBF, 0xBC, 0xE9, b'/', (x >> 8) as u8][(x % 7) as usize]
                })
                .collect();
            assert_eq!(&*to_bytes(&from_bytes(&v)), &v[..], "{v:x?}");
        }
    }

    #[test]
    fn paths() {
        use std::os::unix::ffi::OsStrExt;
        let p = to_path("/srv/a");
        assert!(matches!(p, Cow::Borrowed(_)));
        let t = from_bytes(b"/srv/caf\xe9");
        assert_eq!(to_path(&t).as_os_str().as_bytes(), b"/srv/caf\xe9");
        assert_eq!(
            from_os(std::ffi::OsStr::from_bytes(b"d\xe9")),
            from_bytes(b"d\xe9")
        );
    }
}
