//! Byte ranges (RFC 7233) as lighttpd 1.4.69 serves them: parsing `Range`,
//! the multipart/byteranges layout, and the `If-Range` check.
//!
//! Parsing reproduces lighttpd's strtoll-based scanner, quirks included:
//! - the value must start with `bytes=` (any case); anything else, including
//!   `bytes =`, is ignored (200), and an empty body never gets ranges;
//! - numbers may be surrounded by whitespace and carry a `+` sign;
//! - `a-b` is capped at L-1, `a-` runs to the end, `-n` is the last n bytes
//!   (all of them when n >= L), and `-0-5` reads as `0-5`;
//! - invalid specs (`-0`, `a>b`, `a>=L`, a bare `a`, an end that overflows
//!   64 bits, junk before the next comma) are skipped without counting;
//!   parsing stops after 10 valid ones;
//! - ranges that overlap or are less than 80 bytes apart merge into the
//!   earlier one; the survivors keep request order;
//! - no valid range at all (even `bytes=`) is 416.
//!
//! Whether Range applies at all (GET, HTTP/1.1, complete 200 body, no
//! Content-Encoding, Accept-Ranges not `none`) is the caller's decision.

/// The fixed multipart boundary lighttpd uses.
pub const BOUNDARY: &str = "fkj49sn38dcn3";
/// Content-Type of a multi-range 206.
pub const MULTIPART_CONTENT_TYPE: &str = "multipart/byteranges; boundary=fkj49sn38dcn3";

/// At most this many valid ranges are taken from the header.
const MAX_RANGES: usize = 10;
/// Ranges closer than this are sent as one (a part header costs about this).
const MERGE_GAP: i64 = 80;

/// What a Range header asks of a body of known length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Not a byte range request we honour: send the full 200.
    Ignore,
    /// No satisfiable range: 416.
    Unsatisfiable,
    /// Inclusive (start, end) pairs in request order; one pair is a plain
    /// 206 with Content-Range, several are multipart.
    Ranges(Vec<(u64, u64)>),
}

/// Parses a `Range` header value against a body of `len` bytes.
pub fn parse_range(header: &str, len: u64) -> RangeOutcome {
    if len == 0 {
        return RangeOutcome::Ignore;
    }
    let h = header.as_bytes();
    if h.len() < 6 || !h[..6].eq_ignore_ascii_case(b"bytes=") {
        return RangeOutcome::Ignore;
    }
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let spec = Scan(&h[6..]);
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    let mut i = 0;
    loop {
        let (range, end) = parse_one(spec, i, len);
        i = end;
        match range {
            Some(r) if matches!(spec.at(i), 0 | b',') => ranges.push(r),
            _ => {
                while !matches!(spec.at(i), 0 | b',') {
                    i += 1;
                }
            }
        }
        let sep = spec.at(i);
        i += 1;
        if sep == 0 || ranges.len() >= MAX_RANGES {
            break;
        }
    }
    if ranges.is_empty() {
        return RangeOutcome::Unsatisfiable;
    }
    coalesce(&mut ranges);
    RangeOutcome::Ranges(
        ranges
            .into_iter()
            .map(|(a, b)| (a as u64, b as u64))
            .collect(),
    )
}

/// Byte access reading NUL past the end (the C scanner stops at NUL).
#[derive(Clone, Copy)]
struct Scan<'a>(&'a [u8]);

impl Scan<'_> {
    fn at(self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }

    fn skip_blanks(self, mut i: usize) -> usize {
        while matches!(self.at(i), b' ' | b'\t') {
            i += 1;
        }
        i
    }

    /// strtoll(3) base 10 from `start`: leading white space, a sign, digits;
    /// saturates on overflow. Returns (value, end) with end == start when no
    /// digits were found.
    fn strtoll(self, start: usize) -> (i64, usize) {
        let mut i = start;
        while matches!(self.at(i), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            i += 1;
        }
        let negative = match self.at(i) {
            b'-' => {
                i += 1;
                true
            }
            b'+' => {
                i += 1;
                false
            }
            _ => false,
        };
        if !self.at(i).is_ascii_digit() {
            return (0, start);
        }
        let mut acc: i128 = 0;
        while self.at(i).is_ascii_digit() {
            acc = (acc * 10 + i128::from(self.at(i) - b'0')).min(1 << 70);
            i += 1;
        }
        let v = if negative { -acc } else { acc };
        (
            v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            i,
        )
    }
}

/// One byte-range-spec from `i`: the range if valid, and where scanning
/// stopped (after trailing blanks).
fn parse_one(s: Scan, i: usize, len: i64) -> (Option<(i64, i64)>, usize) {
    let (n, mut e) = s.strtoll(i);
    let mut range = None;
    if n >= 0 {
        if n != i64::MAX && n < len && e != i {
            let first = n;
            e = s.skip_blanks(e);
            if s.at(e) == b'-' {
                let from = e + 1;
                let (last, end) = s.strtoll(from);
                e = end;
                if end == from {
                    range = Some((first, len - 1));
                } else if first <= last && last != i64::MAX {
                    range = Some((first, last.min(len - 1)));
                }
            }
        }
    } else if n != i64::MIN {
        // suffix range "-n"
        range = Some((if len > -n { len + n } else { 0 }, len - 1));
    }
    (range, s.skip_blanks(e))
}

/// Merges overlapping or nearby ranges into the earlier one, restarting after
/// each merge; quadratic, but there are at most 10.
fn coalesce(r: &mut Vec<(i64, i64)>) {
    'restart: loop {
        for i in 0..r.len() {
            for j in i + 1..r.len() {
                let ((b, e), (bj, ej)) = (r[i], r[j]);
                let apart = if b <= bj {
                    e < bj - MERGE_GAP
                } else {
                    ej < b - MERGE_GAP
                };
                if !apart {
                    r[i] = (b.min(bj), e.max(ej));
                    r.remove(j);
                    continue 'restart;
                }
            }
        }
        return;
    }
}

/// The Content-Range value of a single-range 206: `bytes a-b/L`.
pub fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{end}/{len}")
}

/// One part of a multipart body: the bytes sent before its data, then the
/// inclusive (start, end) of the data.
pub type Part = (Vec<u8>, u64, u64);

/// Layout of a multipart/byteranges body: for each range the bytes to send
/// before its data (boundary line, Content-Type unless `content_type` is
/// empty, Content-Range, blank line; every part after the first starts with
/// the CRLF that ends the previous data) and its inclusive (start, end); then
/// the closing boundary; then the total Content-Length.
pub fn multipart_layout(
    ranges: &[(u64, u64)],
    content_type: &str,
    len: u64,
) -> (Vec<Part>, Vec<u8>, u64) {
    let mut parts = Vec::with_capacity(ranges.len());
    let mut total: u64 = 0;
    for (k, &(start, end)) in ranges.iter().enumerate() {
        let mut head = String::new();
        if k > 0 {
            head.push_str("\r\n");
        }
        head.push_str("--");
        head.push_str(BOUNDARY);
        if !content_type.is_empty() {
            head.push_str("\r\nContent-Type: ");
            head.push_str(content_type);
        }
        head.push_str("\r\nContent-Range: ");
        head.push_str(&content_range(start, end, len));
        head.push_str("\r\n\r\n");
        total = total
            .saturating_add(head.len() as u64)
            .saturating_add(end.saturating_sub(start).saturating_add(1));
        parts.push((head.into_bytes(), start, end));
    }
    let closing = format!("\r\n--{BOUNDARY}--\r\n").into_bytes();
    total = total.saturating_add(closing.len() as u64);
    (parts, closing, total)
}

/// `If-Range`: a value starting with `"` must equal the ETag exactly, any
/// other must equal Last-Modified exactly (so `W/"..."` never matches). An
/// empty `last_modified` means the response has none. False means: send the
/// full 200 instead of ranges.
pub fn if_range_matches(if_range: &str, etag: Option<&str>, last_modified: &str) -> bool {
    if if_range.starts_with('"') {
        etag == Some(if_range)
    } else {
        !last_modified.is_empty() && if_range == last_modified
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeOutcome::*;

    const L: u64 = 1000;

    fn r(h: &str) -> RangeOutcome {
        parse_range(h, L)
    }

    fn ok(v: &[(u64, u64)]) -> RangeOutcome {
        Ranges(v.to_vec())
    }

    #[test]
    fn single_ranges_match_reference() {
        // each was sent to lighttpd 1.4.69 for a 1000-byte file
        assert_eq!(r("bytes=0-1"), ok(&[(0, 1)]));
        assert_eq!(r("BYTES=0-1"), ok(&[(0, 1)]));
        assert_eq!(r("bytes= 5 - 9 "), ok(&[(5, 9)]));
        assert_eq!(r("bytes=990-2000"), ok(&[(990, 999)]));
        assert_eq!(r("bytes=995-"), ok(&[(995, 999)]));
        assert_eq!(r("bytes=-5"), ok(&[(995, 999)]));
        assert_eq!(r("bytes=-5000"), ok(&[(0, 999)]));
        assert_eq!(r("bytes=-0-5"), ok(&[(0, 5)]));
        assert_eq!(r("bytes=+3-+4"), ok(&[(3, 4)]));
        assert_eq!(r("bytes=998-  ,"), ok(&[(998, 999)]));
        assert_eq!(r("bytes=,0-1,"), ok(&[(0, 1)]));
        assert_eq!(r("bytes=\t0-1"), ok(&[(0, 1)]));
        assert_eq!(r("bytes=-9223372036854775807"), ok(&[(0, 999)]));
    }

    #[test]
    fn ignored_and_unsatisfiable_match_reference() {
        assert_eq!(r("bytes =0-1"), Ignore);
        assert_eq!(r("items=0-1"), Ignore);
        assert_eq!(r("bytes"), Ignore);
        assert_eq!(r(""), Ignore);
        assert_eq!(parse_range("bytes=0-1", 0), Ignore); // empty file: 200
        for h in [
            "bytes=-0",
            "bytes=5-4",
            "bytes=1000-",
            "bytes=",
            "bytes=0-99999999999999999999",
            "bytes=99999999999999999999-",
            "bytes=-99999999999999999999",
            "bytes=5",
            "bytes=x",
            "bytes=- 5",
            "bytes=0-1x",
            "bytes=,,,",
            "bytes=-9223372036854775808",
        ] {
            assert_eq!(r(h), Unsatisfiable, "{h}");
        }
    }

    #[test]
    fn merging_matches_reference() {
        assert_eq!(r("bytes=0-1,4-5"), ok(&[(0, 5)]));
        assert_eq!(r("bytes=0-1,82-90"), ok(&[(0, 1), (82, 90)]));
        assert_eq!(r("bytes=0-1,81-90"), ok(&[(0, 90)]));
        assert_eq!(
            r("bytes=200-210,0-1,100-110,5-6"),
            ok(&[(200, 210), (0, 6), (100, 110)])
        );
        assert_eq!(
            r("bytes=x,5-4,0-1,2000-,300-301"),
            ok(&[(0, 1), (300, 301)])
        );
        assert_eq!(r("bytes=100-110,0-30"), ok(&[(0, 110)]));
        assert_eq!(r("bytes=0-999,-1"), ok(&[(0, 999)]));
        assert_eq!(r("bytes=0-1, 5 -6"), ok(&[(0, 6)]));
    }

    #[test]
    fn only_first_ten_valid_ranges_count() {
        let h = format!(
            "bytes={},950-951,960-961,970-971",
            (0..9)
                .map(|i| format!("{0}-{0}", i * 100))
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut want: Vec<(u64, u64)> = (0..9).map(|i| (i * 100, i * 100)).collect();
        want.push((950, 951));
        assert_eq!(r(&h), Ranges(want.clone()));
        // reference Content-Length for this request: 846
        assert_eq!(multipart_layout(&want, "text/plain", L).2, 846);
        // invalid specs do not use up the limit
        let h = format!("bytes={},0-1", ["5-4"; 10].join(","));
        assert_eq!(r(&h), ok(&[(0, 1)]));
    }

    #[test]
    fn huge_lengths() {
        assert_eq!(
            parse_range("bytes=-1", u64::MAX),
            Ranges(vec![(i64::MAX as u64 - 1, i64::MAX as u64 - 1)])
        );
        assert_eq!(parse_range("bytes=0-", 1), ok(&[(0, 0)]));
        assert_eq!(
            parse_range("bytes=9223372036854775806-", u64::MAX),
            Ranges(vec![(i64::MAX as u64 - 1, i64::MAX as u64 - 1)])
        );
    }

    #[test]
    fn never_panics_on_junk() {
        for h in [
            "bytes=\u{0}0-1",
            "bytes=ü-ü",
            "bytes=--",
            "bytes=-",
            "bytes=0--1",
            "bytes=,0-1,",
            "bytes=\t-\t",
            "bytes=0-1\u{0}, 5-6",
        ] {
            let _ = r(h);
        }
        assert_eq!(r("bytes=0-1\u{0}, 50-60"), ok(&[(0, 1)]));
    }

    #[test]
    fn multipart_bytes_match_reference() {
        // bytes=0-1,82-90 on r.txt ("0123456789" repeated) gave exactly this
        // body with Content-Length: 188
        let data: Vec<u8> = (0..1000).map(|i| b'0' + (i % 10) as u8).collect();
        let (parts, closing, total) = multipart_layout(&[(0, 1), (82, 90)], "text/plain", L);
        let mut body = Vec::new();
        for (head, a, b) in &parts {
            body.extend_from_slice(head);
            body.extend_from_slice(&data[*a as usize..=*b as usize]);
        }
        body.extend_from_slice(&closing);
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            "--fkj49sn38dcn3\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/1000\r\n\r\n01\r\n\
             --fkj49sn38dcn3\r\nContent-Type: text/plain\r\nContent-Range: bytes 82-90/1000\r\n\r\n234567890\r\n\
             --fkj49sn38dcn3--\r\n"
        );
        assert_eq!(total, 188);
        assert_eq!(body.len() as u64, total);
        // 200-210,0-1,100-110,5-6 -> Content-Length: 290
        assert_eq!(
            multipart_layout(&[(200, 210), (0, 6), (100, 110)], "text/plain", L).2,
            290
        );
        // x,5-4,0-1,2000-,300-301 -> Content-Length: 183
        assert_eq!(
            multipart_layout(&[(0, 1), (300, 301)], "text/plain", L).2,
            183
        );
    }

    #[test]
    fn multipart_without_content_type() {
        let (parts, _, _) = multipart_layout(&[(0, 0)], "", 5);
        assert_eq!(
            parts[0].0,
            b"--fkj49sn38dcn3\r\nContent-Range: bytes 0-0/5\r\n\r\n"
        );
        assert_eq!(
            MULTIPART_CONTENT_TYPE,
            format!("multipart/byteranges; boundary={BOUNDARY}")
        );
        assert_eq!(content_range(0, 1, 1000), "bytes 0-1/1000");
    }

    #[test]
    fn if_range_matches_reference() {
        let et = Some("\"1086606576\"");
        let lm = "Wed, 25 Nov 2026 10:00:52 GMT";
        assert!(if_range_matches("\"1086606576\"", et, lm)); // 206
        assert!(!if_range_matches("\"1\"", et, lm)); // 200
        assert!(!if_range_matches("W/\"1086606576\"", et, lm)); // 200
        assert!(if_range_matches(lm, et, lm)); // 206
        assert!(!if_range_matches("Wed, 25 Nov 2026 10:00:53 GMT", et, lm)); // 200
        assert!(!if_range_matches("\"1086606576\"", None, lm));
        assert!(!if_range_matches("", et, ""));
    }
}
