//! Range on a response whose whole body is known before it is sent (a
//! dir-listing page, a backend reply complete by its end, in memory; an
//! X-Sendfile reply, as pieces of files): lighttpd 1.4.69 treats every
//! such 200 the same way, static files aside (http-core.md §6).

use super::{Piece, RequestConf, Response};
use crate::http::range::{self, RangeOutcome};
use crate::http::request::{Method, RequestHead, Version};
use std::borrow::Cow;

/// What of the request decides Range handling.
#[derive(Clone, Debug, Default)]
pub struct RangeAsk {
    /// server.range-requests
    pub enabled: bool,
    /// GET or HEAD over HTTP/1.1 (or 1.0 with "http10.range"):
    /// Accept-Ranges is offered.
    pub offered: bool,
    /// HEAD: offered, never applied.
    pub head: bool,
    /// The Range and If-Range request headers.
    pub range: Option<String>,
    pub if_range: Option<String>,
}

impl RangeAsk {
    pub fn of(req: &RequestHead, conf: &RequestConf) -> RangeAsk {
        Self::of_method(req, conf, req.method)
    }

    /// [`RangeAsk::of`] as if the request's method were `method` (an
    /// error handler's sub-request answers for the client's method).
    pub fn of_method(req: &RequestHead, conf: &RequestConf, method: Method) -> RangeAsk {
        let offered = matches!(method, Method::Get | Method::Head)
            && (req.version == Version::Http11 || conf.http10_range);
        let head = method == Method::Head;
        let text = |name| (offered && !head).then(|| req.header(name).map(str::to_string));
        RangeAsk {
            enabled: conf.range_requests,
            offered,
            head,
            range: text("Range").flatten(),
            if_range: text("If-Range").flatten(),
        }
    }
}

/// What Range does to a response whose body is `len` bytes.
enum Plan {
    Whole,
    Unsatisfiable,
    Ranges(Vec<(u64, u64)>),
}

/// Offers Accept-Ranges on a 200 unless the response is encoded or says
/// otherwise, then takes the Range unless If-Range differs from the
/// response's own ETag (a quoted value) or Last-Modified (any other).
fn plan(r: &mut Response, len: u64, ask: &RangeAsk) -> Plan {
    if r.status != 200 || !ask.enabled || !ask.offered {
        return Plan::Whole;
    }
    if r.get("Transfer-Encoding").is_some() || r.get("Content-Encoding").is_some() {
        return Plan::Whole;
    }
    match r.get("Accept-Ranges") {
        None => r.header("Accept-Ranges", "bytes"),
        Some("none") => return Plan::Whole,
        Some(_) => {}
    }
    let Some(spec) = ask.range.as_deref().filter(|_| !ask.head) else {
        return Plan::Whole;
    };
    if let Some(v) = &ask.if_range
        && !range::if_range_matches(v, r.get("ETag"), r.get("Last-Modified").unwrap_or(""))
    {
        return Plan::Whole;
    }
    match range::parse_range(spec, len) {
        RangeOutcome::Ignore => Plan::Whole,
        RangeOutcome::Unsatisfiable => Plan::Unsatisfiable,
        RangeOutcome::Ranges(rs) => Plan::Ranges(rs),
    }
}

/// A multipart/byteranges answer's Content-Type, first, in place of the
/// response's own (which each part repeats).
fn multipart_content_type(r: &mut Response) {
    r.headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("Content-Type"));
    r.headers.insert(
        0,
        (
            Cow::Borrowed("Content-Type"),
            range::MULTIPART_CONTENT_TYPE.into(),
        ),
    );
}

/// Range on a body in memory (see [`plan`]): a 206 with its
/// Content-Length set. False when no range is satisfiable (the caller
/// answers 416). Content-Length of a 200 stays the caller's.
pub fn apply(r: &mut Response, body: &mut Vec<u8>, ask: &RangeAsk) -> bool {
    let len = body.len() as u64;
    let rs = match plan(r, len, ask) {
        Plan::Whole => return true,
        Plan::Unsatisfiable => return false,
        Plan::Ranges(rs) => rs,
    };
    r.status = 206;
    if let [(a, z)] = rs[..] {
        r.set("Content-Range", range::content_range(a, z, len));
        body.truncate(z as usize + 1);
        body.drain(..a as usize);
    } else {
        let ct = r.get("Content-Type").unwrap_or("").to_string();
        let (parts, closing, total) = range::multipart_layout(&rs, &ct, len);
        let mut out = Vec::with_capacity(total as usize);
        for (head, a, z) in parts {
            out.extend_from_slice(&head);
            out.extend_from_slice(&body[a as usize..=z as usize]);
        }
        out.extend_from_slice(&closing);
        *body = out;
        multipart_content_type(r);
    }
    r.set("Content-Length", body.len() as u64);
    true
}

/// Range on a body of pieces (an X-Sendfile reply), as [`apply`] does on
/// one in memory.
pub fn apply_pieces(r: &mut Response, pieces: &mut Vec<Piece>, ask: &RangeAsk) -> bool {
    let len: u64 = pieces.iter().map(Piece::len).sum();
    let rs = match plan(r, len, ask) {
        Plan::Whole => return true,
        Plan::Unsatisfiable => return false,
        Plan::Ranges(rs) => rs,
    };
    r.status = 206;
    let mut out = Vec::new();
    if let [(a, z)] = rs[..] {
        r.set("Content-Range", range::content_range(a, z, len));
        slice_into(pieces, a, z, &mut out);
    } else {
        let ct = r.get("Content-Type").unwrap_or("").to_string();
        let (parts, closing, _) = range::multipart_layout(&rs, &ct, len);
        for (head, a, z) in parts {
            out.push(Piece::Mem(head));
            slice_into(pieces, a, z, &mut out);
        }
        out.push(Piece::Mem(closing));
        multipart_content_type(r);
    }
    *pieces = out;
    r.set("Content-Length", pieces.iter().map(Piece::len).sum::<u64>());
    true
}

/// Bytes `a..=z` of the pieces laid end to end, as pieces.
fn slice_into(pieces: &[Piece], a: u64, z: u64, out: &mut Vec<Piece>) {
    let mut at = 0u64;
    for p in pieces {
        let n = p.len();
        let (from, to) = (a.max(at), z.min(at + n.saturating_sub(1)));
        if n > 0 && from <= to {
            let (off, take) = (from - at, to - from + 1);
            out.push(match p {
                Piece::Mem(b) => Piece::Mem(b[off as usize..(off + take) as usize].to_vec()),
                Piece::File(f, o, _) => Piece::File(f.clone(), o + off, take),
            });
        }
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(range: Option<&str>, if_range: Option<&str>) -> RangeAsk {
        RangeAsk {
            enabled: true,
            offered: true,
            head: false,
            range: range.map(str::to_string),
            if_range: if_range.map(str::to_string),
        }
    }

    fn reply(headers: &[(&'static str, &'static str)]) -> (Response, Vec<u8>) {
        let mut r = Response::new(200);
        for (k, v) in headers {
            r.header(k, *v);
        }
        (r, b"0123456789abcdefghij".to_vec())
    }

    fn names(r: &Response) -> Vec<String> {
        r.headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", &**v))
            .collect()
    }

    #[test]
    fn offers_accept_ranges_unless_told_otherwise() {
        let (mut r, mut b) = reply(&[("Content-Type", "text/plain")]);
        assert!(apply(&mut r, &mut b, &ask(None, None)));
        assert_eq!(
            names(&r),
            ["Content-Type: text/plain", "Accept-Ranges: bytes"]
        );
        // Already there: not twice.
        let (mut r, mut b) = reply(&[("Accept-Ranges", "bytes")]);
        assert!(apply(&mut r, &mut b, &ask(Some("bytes=0-1"), None)));
        assert_eq!(r.headers.len(), 3, "{:?}", names(&r));
        // Encoded, disabled, not offered (HTTP/1.0 or not GET/HEAD), not a
        // 200: untouched.
        let untouched = |r: &mut Response, a: &RangeAsk| {
            let mut b = b"0123456789".to_vec();
            let before = names(r);
            assert!(apply(r, &mut b, a));
            assert_eq!((names(r), b.len()), (before, 10));
        };
        untouched(
            &mut reply(&[("Content-Encoding", "gzip")]).0,
            &ask(Some("bytes=0-1"), None),
        );
        untouched(
            &mut reply(&[]).0,
            &RangeAsk {
                enabled: false,
                ..ask(Some("bytes=0-1"), None)
            },
        );
        untouched(
            &mut reply(&[]).0,
            &RangeAsk {
                offered: false,
                ..ask(Some("bytes=0-1"), None)
            },
        );
        untouched(&mut Response::new(404), &ask(Some("bytes=0-1"), None));
    }

    #[test]
    fn accept_ranges_none_and_head_apply_no_range() {
        let (mut r, mut b) = reply(&[("Accept-Ranges", "none")]);
        assert!(apply(&mut r, &mut b, &ask(Some("bytes=0-1"), None)));
        assert_eq!((r.status, b.len(), r.headers.len()), (200, 20, 1));
        let (mut r, mut b) = reply(&[]);
        let head = RangeAsk {
            head: true,
            ..ask(Some("bytes=0-1"), None)
        };
        assert!(apply(&mut r, &mut b, &head));
        assert_eq!((r.status, b.len()), (200, 20));
        assert_eq!(r.get("Accept-Ranges"), Some("bytes"));
    }

    #[test]
    fn if_range_compares_with_the_replys_own_validators() {
        let lm = "Mon, 02 Jan 2023 03:04:05 GMT";
        for (headers, if_range, status) in [
            (&[("ETag", "\"e1\"")][..], "\"e1\"", 206),
            (&[("ETag", "\"e1\"")][..], "\"e2\"", 200),
            (&[("ETag", "W/\"e1\"")][..], "W/\"e1\"", 200),
            (&[("Last-Modified", lm)][..], lm, 206),
            (&[][..], lm, 200),
            (&[][..], "\"e1\"", 200),
        ] {
            let (mut r, mut b) = reply(headers);
            assert!(apply(
                &mut r,
                &mut b,
                &ask(Some("bytes=2-4"), Some(if_range))
            ));
            assert_eq!(r.status, status, "{headers:?} / {if_range}");
        }
    }

    #[test]
    fn single_and_multipart_ranges() {
        let (mut r, mut b) = reply(&[("Content-Length", "20"), ("Content-Type", "text/plain")]);
        assert!(apply(&mut r, &mut b, &ask(Some("bytes=2-4"), None)));
        assert_eq!(b, b"234");
        // Content-Length is set where the reply had it.
        assert_eq!(
            names(&r),
            [
                "Content-Length: 3",
                "Content-Type: text/plain",
                "Accept-Ranges: bytes",
                "Content-Range: bytes 2-4/20"
            ]
        );
        // Ranges 80 bytes apart or more stay apart: multipart, its
        // Content-Type first.
        let (mut r, _) = reply(&[("X-A", "1"), ("Content-Type", "text/plain")]);
        let mut b = [&b"a"[..], &[b'-'; 198], b"z"].concat();
        assert!(apply(&mut r, &mut b, &ask(Some("bytes=0-0,-1"), None)));
        assert_eq!(r.status, 206);
        assert_eq!(r.headers[0].1.to_string(), range::MULTIPART_CONTENT_TYPE);
        assert_eq!(r.get("X-A"), Some("1"));
        let text = String::from_utf8(b.clone()).unwrap();
        assert!(text.contains("Content-Type: text/plain\r\nContent-Range: bytes 0-0/200\r\n\r\na"));
        assert!(text.contains("Content-Range: bytes 199-199/200\r\n\r\nz\r\n--"));
        assert_eq!(r.get("Content-Length"), Some(b.len().to_string().as_str()));
    }

    #[test]
    fn unsatisfiable_and_ignored() {
        let (mut r, mut b) = reply(&[]);
        assert!(!apply(&mut r, &mut b, &ask(Some("bytes=20-"), None)));
        let (mut r, mut b) = reply(&[]);
        assert!(apply(&mut r, &mut b, &ask(Some("items=0-1"), None)));
        assert_eq!((r.status, b.len()), (200, 20));
        // An empty body is offered ranges but never gets one.
        let mut r = Response::new(200);
        let mut b = Vec::new();
        assert!(apply(&mut r, &mut b, &ask(Some("bytes=0-1"), None)));
        assert_eq!((r.status, r.get("Accept-Ranges")), (200, Some("bytes")));
    }

    /// The bytes the pieces stand for (files read at their offsets).
    fn bytes(pieces: &[Piece]) -> Vec<u8> {
        use std::os::unix::fs::FileExt;
        let mut out = Vec::new();
        for p in pieces {
            match p {
                Piece::Mem(b) => out.extend_from_slice(b),
                Piece::File(f, off, n) => {
                    let mut buf = vec![0u8; *n as usize];
                    f.read_exact_at(&mut buf, *off).unwrap();
                    out.extend_from_slice(&buf);
                }
            }
        }
        out
    }

    #[test]
    fn ranges_across_pieces_match_the_same_body_in_memory() {
        let path = std::env::temp_dir().join(format!("mem_range_{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let file = std::rc::Rc::new(std::fs::File::open(&path).unwrap());
        std::fs::remove_file(&path).unwrap();
        // "23456789" from the file, then "abcdefghij" in memory, "01" again.
        let pieces = vec![
            Piece::File(file.clone(), 2, 8),
            Piece::Mem(b"abcdefghij".to_vec()),
            Piece::File(file, 0, 2),
        ];
        let whole = bytes(&pieces);
        for spec in [
            "bytes=0-0",
            "bytes=6-11",
            "bytes=-3",
            "bytes=7-",
            "bytes=0-1,150-170",
            "bytes=1-2,14-16",
        ] {
            let (mut a, _) = reply(&[("Content-Type", "text/plain")]);
            let (mut b, _) = reply(&[("Content-Type", "text/plain")]);
            let mut mem = whole.clone();
            let mut ps = pieces.clone();
            let ask = ask(Some(spec), None);
            assert_eq!(
                apply(&mut a, &mut mem, &ask),
                apply_pieces(&mut b, &mut ps, &ask)
            );
            assert_eq!((names(&a), &mem), (names(&b), &bytes(&ps)), "{spec}");
            assert_eq!(a.status, 206, "{spec}");
        }
        let (mut r, _) = reply(&[]);
        let mut ps = pieces.clone();
        assert!(!apply_pieces(
            &mut r,
            &mut ps,
            &ask(Some("bytes=20-"), None)
        ));
    }
}
