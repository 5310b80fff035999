//! The value of a backend's `X-Sendfile2` header (fastcgi.md §4): a comma
//! list of `<url-encoded path> <start>-[<end>]`, each range of each file
//! sent in turn. Paths come back URL-decoded and simplified; what is wrong
//! with a value is told as lighttpd's log line (the response is then 502).

use crate::http::uri::{decode_path, simplify_path};

/// One file range: bytes `start..=end` (`end` None: to the end of file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub path: String,
    pub start: u64,
    pub end: Option<u64>,
}

/// Splits the value into pieces; Err is the line to log (502).
pub fn parse(value: &[u8]) -> Result<Vec<Piece>, String> {
    let text = String::from_utf8_lossy(value);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            return Ok(out);
        }
        let Some((name, after)) = rest.split_once(' ') else {
            return Err(format!("Couldn't find range after filename: {rest}"));
        };
        let range_end = after.find([' ', ',']).unwrap_or(after.len());
        let (range, tail) = after.split_at(range_end);
        let Ok(path) = String::from_utf8(decode_path(name.as_bytes())) else {
            return Err(format!(
                "X-Sendfile2 invalid UTF-8 after url-decode: {}",
                String::from_utf8_lossy(&decode_path(name.as_bytes()))
            ));
        };
        let path = simplify_path(&path);
        if path.trim().is_empty() {
            return Err(format!("X-Sendfile2 empty path: {rest}"));
        }
        let bad = || format!("Couldn't decode range after filename: {rest}");
        let (a, z) = range.split_once('-').ok_or_else(bad)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        if !digits(a) || !(z.is_empty() || digits(z)) {
            return Err(bad());
        }
        let start: u64 = a.parse().map_err(|_| bad())?;
        let end = if z.is_empty() {
            None
        } else {
            Some(z.parse::<u64>().map_err(|_| bad())?)
        };
        // No parameters after the range.
        let tail = tail.trim_start_matches(' ');
        if !(tail.is_empty() || tail.starts_with(',')) {
            return Err(format!("X-Sendfile2 unexpected text after range: {tail}"));
        }
        if end.is_some_and(|e| e.saturating_add(1) < start) {
            return Err(bad());
        }
        out.push(Piece { path, start, end });
        rest = tail.strip_prefix(',').unwrap_or(tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str, start: u64, end: Option<u64>) -> Piece {
        Piece {
            path: path.into(),
            start,
            end,
        }
    }

    #[test]
    fn list_of_ranges() {
        assert_eq!(
            parse(b"/a/b.txt 0-3, /c%20d 10-,/e/../f 5-5").unwrap(),
            [
                p("/a/b.txt", 0, Some(3)),
                p("/c d", 10, None),
                p("/f", 5, Some(5))
            ]
        );
        assert_eq!(parse(b"").unwrap(), []);
        // An empty range (end just before start) is allowed and sends nothing.
        assert_eq!(parse(b"/a 4-3").unwrap(), [p("/a", 4, Some(3))]);
    }

    #[test]
    fn malformed_values() {
        assert!(
            parse(b"/a")
                .unwrap_err()
                .starts_with("Couldn't find range after filename: /a")
        );
        assert!(
            parse(b"/a x-1")
                .unwrap_err()
                .starts_with("Couldn't decode range")
        );
        assert!(
            parse(b"/a 1")
                .unwrap_err()
                .starts_with("Couldn't decode range")
        );
        assert!(
            parse(b"/a -1")
                .unwrap_err()
                .starts_with("Couldn't decode range")
        );
        assert!(
            parse(b"/a 5-1")
                .unwrap_err()
                .starts_with("Couldn't decode range")
        );
        assert!(parse(b"/a 1-2 junk").is_err());
        assert!(parse(b"%ff 0-1").unwrap_err().contains("invalid UTF-8"));
        assert!(parse(b"/a 99999999999999999999-").is_err());
        // The largest end does not overflow.
        assert_eq!(
            parse(b"/a 5-18446744073709551615").unwrap(),
            [p("/a", 5, Some(u64::MAX))]
        );
    }
}
