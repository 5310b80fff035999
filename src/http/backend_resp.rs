//! The CGI-style response head a backend (CGI, SCGI, FastCGI, proxy) sends,
//! parsed the way lighttpd 1.4.69's `http_response_parse_headers` does.
//!
//! Lines end in LF or CRLF and a blank line ends the head. A first line
//! `HTTP/1.x NNN` is an NPH status line; otherwise the first line must hold a
//! colon (a CGI script without one is all body, status 200) or the answer is
//! 502, as is a bad `Status:` (not exactly three digits 100-999 followed by
//! end, SP or TAB) and a head over 64 KiB. Later lines without a colon, names
//! ending in whitespace and empty values are dropped silently; so are
//! `Status`, `Transfer-Encoding` (it only flags de-chunking), `HTTP2-Settings`,
//! `Upgrade` (except from CGI and proxy), `X-Sendfile` and `X-LIGHTTPD-*`
//! (lighttpd omits those when writing any response). Repeats of a name are
//! kept next to its first occurrence, as lighttpd's header array stores them.
//! `Location:` without a status gives 302. In authorizer mode, while the
//! status is unset or 200 only `Status:` and `Variable-*` are read. A 1xx
//! other than 101 is an interim head: the caller relays it and parses again
//! from `body_offset`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// lighttpd's MAX_HTTP_RESPONSE_FIELD_SIZE.
pub const MAX_HEAD: usize = 65535;
/// Header lines lighttpd indexes (its `hoff[8192]`); a head with more never
/// completes and ends as 502 once it passes `max`.
const MAX_LINES: usize = 8189;

/// Which module's rules apply; they differ in small ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Cgi,
    Scgi,
    Fastcgi,
    Proxy,
}

/// A normal response, or a FastCGI authorizer's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Respond,
    Authorize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadOpts {
    pub backend: Backend,
    pub purpose: Purpose,
    /// `x-sendfile = "enable"`: X-Sendfile* are honoured (and X-Sendfile2 is
    /// then not passed to the client).
    pub xsendfile_allow: bool,
}

/// A file the backend asked lighttpd to send instead of its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XSendfile {
    /// `X-Sendfile2` (FastCGI only): raw comma list of `path start-[end]`.
    Ranges(Vec<u8>),
    /// `X-Sendfile`, or `X-LIGHTTPD-send-file` (FastCGI only): raw path.
    Path(Vec<u8>),
}

/// A parsed head; names and values are the parser input's bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackendHead<'a> {
    /// 100..=999; 200 when the backend sent none (302 with a Location).
    pub status: u16,
    /// To pass to the client, names as sent, values without leading LWS
    /// (a value is rewritten only for `application/javascript`).
    pub headers: Vec<(&'a [u8], Cow<'a, [u8]>)>,
    /// The backend sent `Connection: close`: no client keep-alive.
    pub connection_close: bool,
    /// A valid first Content-Length, unless Transfer-Encoding came too.
    pub content_length: Option<u64>,
    /// The backend sent Transfer-Encoding (assumed chunked, not checked).
    pub transfer_encoding_chunked: bool,
    pub x_sendfile: Option<XSendfile>,
    /// `X-LIGHTTPD-KBytes-per-second` in bytes per second, when positive.
    pub bytes_per_second: Option<u64>,
    /// Authorizer `Variable-<Name>: value`, name without the prefix.
    pub variables: Vec<(Vec<u8>, Vec<u8>)>,
}

impl BackendHead<'_> {
    /// A 1xx head other than 101: relay it, then parse the next head.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

/// Why a backend's head gets 502.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendError {
    /// lighttpd logs `response headers too large for <path>`.
    TooLarge,
    /// First line has no colon (not CGI); lighttpd logs nothing.
    NoColon,
    /// A `Status:` that is not 3 digits 100-999; lighttpd logs nothing.
    BadStatus,
    /// An `HTTP/` first line without a usable status; logged with the line.
    BadStatusLine(Vec<u8>),
    /// A proxy head without a status line; lighttpd logs nothing.
    NoStatusLine,
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::TooLarge => f.write_str("response headers too large"),
            BackendError::NoColon => f.write_str("invalid response headers"),
            BackendError::BadStatus => f.write_str("invalid Status header"),
            BackendError::BadStatusLine(line) => {
                write!(
                    f,
                    "invalid HTTP status line: {}",
                    String::from_utf8_lossy(line)
                )
            }
            BackendError::NoStatusLine => f.write_str("missing HTTP status line"),
        }
    }
}

impl std::error::Error for BackendError {}

/// Parses the head at the start of `buf` (everything received so far).
/// `Ok(None)`: need more bytes. `Ok(Some((head, body_offset)))`: the body (or
/// the next head, after an interim 1xx) starts at `buf[body_offset..]`.
pub fn parse_backend_head(
    buf: &[u8],
    max: usize,
    opts: HeadOpts,
) -> Result<Option<(BackendHead<'_>, usize)>, BackendError> {
    let (first, head_len) = frame(buf);
    if head_len.unwrap_or(buf.len()) > max {
        return Err(BackendError::TooLarge);
    }
    let mut nph = false;
    // First line, without its LF; a blank first line means "no headers".
    let first = match (first, head_len) {
        (Some((s, e)), _) => Some(&buf[s..e]),
        (None, Some(_)) => None,
        (None, None) => return Ok(None),
    };
    if let Some(first) = first {
        nph = first.len() + 1 >= 12 && first.starts_with(b"HTTP/");
        if !nph && !first.contains(&b':') {
            if opts.backend == Backend::Cgi {
                let head = BackendHead {
                    status: 200,
                    ..BackendHead::default()
                };
                return Ok(Some((head, 0)));
            }
            return Err(BackendError::NoColon);
        }
    }
    let Some(head_len) = head_len else {
        return Ok(None);
    };
    let mut p = Parse {
        opts,
        head: BackendHead::default(),
        cl_seen: false,
    };
    let mut lines = Lines {
        buf: &buf[..head_len],
        at: 0,
    };
    if nph {
        let (s, e) = lines.next().unwrap_or((0, 0));
        p.head.status = nph_status(&buf[s..], opts.backend)
            .ok_or_else(|| BackendError::BadStatusLine(trim_cr(&buf[s..e]).to_vec()))?;
    } else if opts.backend == Backend::Proxy {
        return Err(BackendError::NoStatusLine);
    }
    for (s, e) in lines {
        p.line(trim_cr(&buf[s..e]))?;
    }
    Ok(Some((p.finish(), head_len)))
}

/// The first non-blank line as (start, index of its LF), and the head
/// length once a blank line is found. Stops (head incomplete) past
/// lighttpd's line limit.
fn frame(buf: &[u8]) -> (Option<(usize, usize)>, Option<usize>) {
    let mut first = None;
    let mut start = 0;
    let mut n = 0;
    while let Some(lf) = buf[start..].iter().position(|&b| b == b'\n') {
        let end = start + lf;
        if end == start || (end == start + 1 && buf[start] == b'\r') {
            return (first, Some(end + 1));
        }
        if n == MAX_LINES {
            break;
        }
        n += 1;
        first.get_or_insert((start, end));
        start = end + 1;
    }
    (first, None)
}

/// The non-blank lines of a framed head, as (start, index of LF).
struct Lines<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Iterator for Lines<'_> {
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        let lf = self.buf[self.at..].iter().position(|&b| b == b'\n')?;
        let (start, end) = (self.at, self.at + lf);
        if end == start || (end == start + 1 && self.buf[start] == b'\r') {
            return None;
        }
        self.at = end + 1;
        Some((start, end))
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// lighttpd's http_header_str_to_code: exactly three digits followed by the
/// end, SP or TAB; 100-999.
fn status_code(v: &[u8]) -> Option<u16> {
    let d = v.get(..3)?;
    if !d.iter().all(u8::is_ascii_digit) || !matches!(v.get(3), None | Some(b' ' | b'\t')) {
        return None;
    }
    let code = d.iter().fold(0u16, |n, &c| n * 10 + u16::from(c - b'0'));
    (code >= 100).then_some(code)
}

/// `HTTP/1.x NNN` (any `HTTP/d.0`/`d.1` except from a proxy). `line` runs
/// to the end of the buffer: byte 12 may be the line's CR or LF.
fn nph_status(line: &[u8], backend: Backend) -> Option<u16> {
    let major_ok = line.get(5) == Some(&b'1') || backend != Backend::Proxy;
    if !major_ok || line.get(6) != Some(&b'.') || !matches!(line.get(7), Some(b'0' | b'1')) {
        return None;
    }
    if line.get(8) != Some(&b' ') {
        return None;
    }
    let code = line.get(9..12)?;
    match line.get(12) {
        None | Some(b'\r' | b'\n' | b' ' | b'\t' | 0) => status_code(code),
        Some(_) => None,
    }
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|part| {
        let part = part.trim_ascii_start();
        part.len() >= token.len()
            && part[..token.len()].eq_ignore_ascii_case(token)
            && matches!(part.get(token.len()), None | Some(b' ' | b'\t' | b';'))
    })
}

struct Parse<'a> {
    opts: HeadOpts,
    head: BackendHead<'a>,
    cl_seen: bool,
}

impl<'a> Parse<'a> {
    fn line(&mut self, line: &'a [u8]) -> Result<(), BackendError> {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Ok(());
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() {
            return Ok(());
        }
        let mut value = Cow::Borrowed(value.trim_ascii_start());
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        let backend = self.opts.backend;
        if self.opts.purpose == Purpose::Authorize && matches!(self.head.status, 0 | 200) {
            if is("Status") {
                self.head.status = status_code(&value).ok_or(BackendError::BadStatus)?;
            } else if name.len() > 9 && name[..9].eq_ignore_ascii_case(b"Variable-") {
                self.head
                    .variables
                    .push((name[9..].to_vec(), value.into_owned()));
            }
            return Ok(());
        }
        if is("Status") && backend != Backend::Proxy {
            self.head.status = status_code(&value).ok_or(BackendError::BadStatus)?;
            return Ok(());
        } else if is("Upgrade") {
            if !matches!(backend, Backend::Proxy | Backend::Cgi) {
                return Ok(());
            }
        } else if is("Connection") {
            if backend == Backend::Proxy {
                return Ok(());
            }
            self.head.connection_close |= has_token(&value, b"close");
        } else if is("Content-Type") {
            if let Some(rest) = value.strip_prefix(b"application/javascript") {
                value = Cow::Owned([b"text/javascript", rest].concat());
            }
        } else if is("Content-Length") {
            if let Cow::Borrowed(v) = value {
                value = Cow::Borrowed(v.strip_prefix(b"+").unwrap_or(v));
            }
            if self.head.transfer_encoding_chunked || self.cl_seen {
                return Ok(());
            }
            let digits = value.trim_ascii_end();
            if digits.is_empty() {
                return Ok(());
            }
            // Invalid: kept as a header, body read to EOF (lighttpd's choice).
            self.head.content_length = std::str::from_utf8(digits)
                .ok()
                .filter(|d| d.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|d| d.parse::<i64>().ok())
                .map(|n| n as u64);
            self.cl_seen = true;
        } else if is("Transfer-Encoding") {
            if self.cl_seen {
                self.head
                    .headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case(b"Content-Length"));
                self.head.content_length = None;
                self.cl_seen = false;
            }
            self.head.transfer_encoding_chunked = true;
            return Ok(());
        } else if is("HTTP2-Settings") || name.ends_with(b" ") || name.ends_with(b"\t") {
            // RFC 7540 forbids HTTP2-Settings in responses; a name with
            // whitespace before the colon is invalid.
            return Ok(());
        }
        if !value.is_empty() {
            self.head.headers.push((name, value));
        }
        Ok(())
    }

    fn finish(mut self) -> BackendHead<'a> {
        let head = &mut self.head;
        let first = |h: &[(&[u8], Cow<'_, [u8]>)], n: &str| {
            h.iter()
                .position(|(k, _)| k.eq_ignore_ascii_case(n.as_bytes()))
        };
        if head.status == 0 {
            head.status = if first(&head.headers, "Location").is_some() {
                302
            } else {
                200
            };
        }
        let approved = self.opts.purpose == Purpose::Authorize && head.status == 200;
        if self.opts.xsendfile_allow && !approved && !head.is_interim() {
            let fcgi = self.opts.backend == Backend::Fastcgi;
            if let Some(i) = first(&head.headers, "X-Sendfile2").filter(|_| fcgi) {
                head.x_sendfile = Some(XSendfile::Ranges(head.headers[i].1.to_vec()));
                head.headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case(b"X-Sendfile2"));
            } else if let Some(i) = first(&head.headers, "X-Sendfile")
                .or_else(|| first(&head.headers, "X-LIGHTTPD-send-file").filter(|_| fcgi))
            {
                head.x_sendfile = Some(XSendfile::Path(head.headers[i].1.to_vec()));
            }
        }
        if let Some(i) = first(&head.headers, "X-LIGHTTPD-KBytes-per-second") {
            head.bytes_per_second = kbytes(&head.headers[i].1).map(|k| k.saturating_mul(1024));
        }
        head.headers.retain(|(k, _)| !omitted(k));
        group_repeats(&mut head.headers);
        self.head
    }
}

/// lighttpd's http_response_omit_header: never written to a client.
fn omitted(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"X-Sendfile")
        || name
            .get(..11)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"X-LIGHTTPD-"))
}

/// strtol-like leading integer; positive values only.
fn kbytes(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii_start();
    let v = v.strip_prefix(b"+").unwrap_or(v);
    let n = v
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u64, |n, &c| {
            n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
        });
    (n > 0).then_some(n)
}

/// Moves each repeated name (case-insensitive) next to its first occurrence.
fn group_repeats<V: Default>(headers: &mut [(&[u8], V)]) {
    // The usual head repeats no name: nothing to move, nothing allocated.
    let repeated = |i: usize| {
        headers[..i]
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(headers[i].0))
    };
    if headers.len() <= 32 && !(1..headers.len()).any(repeated) {
        return;
    }
    let mut first_seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let keys: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, (k, _))| *first_seen.entry(k.to_ascii_lowercase()).or_insert(i))
        .collect();
    let mut order: Vec<usize> = (0..headers.len()).collect();
    order.sort_by_key(|&i| keys[i]);
    let sorted: Vec<_> = order
        .iter()
        .map(|&i| (headers[i].0, std::mem::take(&mut headers[i].1)))
        .collect();
    for (slot, h) in headers.iter_mut().zip(sorted) {
        *slot = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FCGI: HeadOpts = HeadOpts {
        backend: Backend::Fastcgi,
        purpose: Purpose::Respond,
        xsendfile_allow: true,
    };

    fn parse(buf: &[u8]) -> Result<Option<(BackendHead<'_>, usize)>, BackendError> {
        parse_backend_head(buf, MAX_HEAD, FCGI)
    }

    fn head(buf: &[u8]) -> BackendHead<'_> {
        parse(buf).unwrap().unwrap().0
    }

    fn names(h: &BackendHead) -> Vec<String> {
        h.headers
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )
            })
            .collect()
    }

    #[test]
    fn incomplete_until_blank_line_lf_or_crlf() {
        assert_eq!(parse(b""), Ok(None));
        assert_eq!(parse(b"Content-Type: text/plain"), Ok(None));
        assert_eq!(parse(b"Content-Type: text/plain\r\n"), Ok(None));
        let (h, off) = parse(b"Content-Type: text/plain\r\n\r\nbody")
            .unwrap()
            .unwrap();
        assert_eq!((h.status, off), (200, 28));
        assert_eq!(names(&h), ["Content-Type=text/plain"]);
        let (_, off) = parse(b"A: b\nC: d\n\nbody").unwrap().unwrap();
        assert_eq!(off, 11);
        let (_, off) = parse(b"A: b\r\n\nbody").unwrap().unwrap();
        assert_eq!(off, 7);
    }

    #[test]
    fn blank_first_line_means_no_headers() {
        assert_eq!(parse(b"\r\nbody").unwrap().unwrap().1, 2);
        assert_eq!(parse(b"\nbody").unwrap().unwrap().1, 1);
        assert_eq!(head(b"\n").status, 200);
    }

    #[test]
    fn status_header() {
        assert_eq!(head(b"Status: 404 Not Found\r\n\r\n").status, 404);
        assert_eq!(head(b"status:\t201\n\n").status, 201);
        assert_eq!(head(b"Status: 999\n\n").status, 999);
        for bad in [
            &b"Status: 99\n\n"[..],
            b"Status: 099\n\n",
            b"Status: 2000\n\n",
            b"Status: abc\n\n",
            b"Status:\n\n",
            b"Status: 200x\n\n",
        ] {
            assert_eq!(parse(bad), Err(BackendError::BadStatus), "{:?}", bad);
        }
        assert!(
            names(&head(b"Status: 200\nA: b\n\n"))
                .iter()
                .all(|h| !h.starts_with("Status"))
        );
        // Status is judged only once the blank line has arrived.
        assert_eq!(parse(b"Status: xyz\n"), Ok(None));
    }

    #[test]
    fn nph_status_line() {
        let (h, off) = parse(b"HTTP/1.1 201 Created\r\nA: b\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.status, off), (201, 30));
        assert_eq!(names(&h), ["A=b"]);
        assert_eq!(head(b"HTTP/1.0 200\n\n").status, 200);
        assert_eq!(head(b"HTTP/2.0 204\r\n\r\n").status, 204);
        for bad in [
            &b"HTTP/1.1 20\n\n"[..],
            b"HTTP/1.1 2000\n\n",
            b"HTTP/1.2 200\n\n",
            b"HTTP/1.1  200\n\n",
            b"HTTP/1.1 099 x\n\n",
        ] {
            assert!(
                matches!(parse(bad), Err(BackendError::BadStatusLine(_))),
                "{:?}",
                bad
            );
        }
        // Shorter than 12 bytes: not NPH, and no colon.
        assert_eq!(parse(b"HTTP/1.1\n\n"), Err(BackendError::NoColon));
        let proxy = HeadOpts {
            backend: Backend::Proxy,
            ..FCGI
        };
        assert!(parse_backend_head(b"HTTP/2.0 200\n\n", MAX_HEAD, proxy).is_err());
        assert_eq!(
            parse_backend_head(b"A: b\n\n", MAX_HEAD, proxy),
            Err(BackendError::NoStatusLine)
        );
        let h = parse_backend_head(
            b"HTTP/1.1 200 OK\nStatus: 500\nConnection: close\n\n",
            MAX_HEAD,
            proxy,
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!((h.status, names(&h)), (200, vec!["Status=500".to_string()]));
        assert!(!h.connection_close);
    }

    #[test]
    fn first_line_without_colon() {
        assert_eq!(parse(b"garbage\nmore"), Err(BackendError::NoColon));
        assert_eq!(parse(b"a\n"), Err(BackendError::NoColon));
        assert_eq!(parse(b"garbage"), Ok(None));
        let cgi = HeadOpts {
            backend: Backend::Cgi,
            ..FCGI
        };
        let (h, off) = parse_backend_head(b"hello\nworld", MAX_HEAD, cgi)
            .unwrap()
            .unwrap();
        assert_eq!((h.status, off, h.headers.len()), (200, 0, 0));
        // Later lines without a colon are skipped.
        assert_eq!(
            names(&head(b"A: b\nnocolon\n: empty name\nC: d\n\n")),
            ["A=b", "C=d"]
        );
    }

    #[test]
    fn size_limit() {
        let mut big = b"A: ".to_vec();
        big.extend(vec![b'x'; MAX_HEAD]);
        assert_eq!(parse(&big), Err(BackendError::TooLarge));
        assert_eq!(parse(&big[..MAX_HEAD]), Ok(None));
        let mut fits = b"A: ".to_vec();
        fits.extend(vec![b'x'; MAX_HEAD - 5]);
        fits.extend(b"\n\n");
        assert_eq!(fits.len(), MAX_HEAD);
        let mut with_body = fits.clone();
        with_body.extend(vec![b'b'; 100_000]);
        assert_eq!(parse(&with_body).unwrap().unwrap().1, MAX_HEAD);
        fits.insert(0, b'B');
        assert_eq!(parse(&fits), Err(BackendError::TooLarge));
        // More lines than lighttpd indexes: never completes.
        let many = [b"A: b\n".repeat(MAX_LINES + 1), b"\n".to_vec()].concat();
        assert_eq!(parse(&many), Ok(None));
        let most = [b"A: b\n".repeat(MAX_LINES), b"\n".to_vec()].concat();
        assert!(parse(&most).unwrap().is_some());
    }

    #[test]
    fn location_gives_302_unless_status() {
        assert_eq!(head(b"Location: /x\n\n").status, 302);
        assert_eq!(head(b"Location: /x\nStatus: 301\n\n").status, 301);
        assert_eq!(head(b"Location:\n\n").status, 200);
    }

    #[test]
    fn dropped_headers() {
        let h = head(
            b"Empty:\nSpace : x\nUpgrade: h2c\nHTTP2-Settings: x\nX-Sendfile-Not: y\n\
                       X-LIGHTTPD-Foo: z\nTransfer-Encoding: chunked\nKeep: \t v \r\n\n",
        );
        assert_eq!(names(&h), ["X-Sendfile-Not=y", "Keep=v "]);
        assert!(h.transfer_encoding_chunked);
        let cgi = HeadOpts {
            backend: Backend::Cgi,
            ..FCGI
        };
        let h = parse_backend_head(b"Upgrade: websocket\n\n", MAX_HEAD, cgi)
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(names(&h), ["Upgrade=websocket"]);
    }

    #[test]
    fn connection_close_and_javascript() {
        let h = head(b"Connection: keep-alive, Close\nContent-Type: application/javascript; charset=utf-8\n\n");
        assert!(h.connection_close);
        assert_eq!(names(&h)[1], "Content-Type=text/javascript; charset=utf-8");
        assert!(!head(b"Connection: closed\n\n").connection_close);
        assert_eq!(
            names(&head(b"Content-Type: Application/javascript\n\n")),
            ["Content-Type=Application/javascript"]
        );
    }

    #[test]
    fn content_length_rules() {
        let h = head(b"Content-Length: +12 \n\n");
        assert_eq!(
            (h.content_length, names(&h)),
            (Some(12), vec!["Content-Length=12 ".to_string()])
        );
        let h = head(b"Content-Length: 1x\n\n");
        assert_eq!(
            (h.content_length, names(&h)),
            (None, vec!["Content-Length=1x".to_string()])
        );
        let h = head(b"Content-Length: 5\nContent-Length: 7\n\n");
        assert_eq!((h.content_length, h.headers.len()), (Some(5), 1));
        let h = head(b"Content-Length: 5\nTransfer-Encoding: chunked\nContent-Length: 7\n\n");
        assert_eq!((h.content_length, h.headers.len()), (None, 0));
        assert!(h.transfer_encoding_chunked);
        assert_eq!(
            head(b"Content-Length: 99999999999999999999\n\n").content_length,
            None
        );
        assert_eq!(head(b"Content-Length: +\n\n").headers.len(), 0);
    }

    #[test]
    fn x_sendfile_precedence() {
        let h = head(b"X-LIGHTTPD-send-file: /c\nX-Sendfile: /b\nX-Sendfile2: /a 0-1\n\n");
        assert_eq!(h.x_sendfile, Some(XSendfile::Ranges(b"/a 0-1".to_vec())));
        assert!(h.headers.is_empty());
        let h = head(b"X-LIGHTTPD-send-file: /c\nx-sendfile: /b\n\n");
        assert_eq!(h.x_sendfile, Some(XSendfile::Path(b"/b".to_vec())));
        let h = head(b"X-LIGHTTPD-send-file: /c\n\n");
        assert_eq!(h.x_sendfile, Some(XSendfile::Path(b"/c".to_vec())));
        let scgi = HeadOpts {
            backend: Backend::Scgi,
            ..FCGI
        };
        let h = parse_backend_head(
            b"X-Sendfile2: /a 0-1\nX-LIGHTTPD-send-file: /c\n\n",
            MAX_HEAD,
            scgi,
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!(
            (h.x_sendfile.clone(), names(&h)),
            (None, vec!["X-Sendfile2=/a 0-1".to_string()])
        );
        let off = HeadOpts {
            xsendfile_allow: false,
            ..FCGI
        };
        let h = parse_backend_head(b"X-Sendfile2: /a 0-1\nX-Sendfile: /b\n\n", MAX_HEAD, off)
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(
            (h.x_sendfile.clone(), names(&h)),
            (None, vec!["X-Sendfile2=/a 0-1".to_string()])
        );
    }

    #[test]
    fn kbytes_per_second() {
        assert_eq!(
            head(b"X-LIGHTTPD-KBytes-per-second: 10\n\n").bytes_per_second,
            Some(10240)
        );
        assert_eq!(
            head(b"X-LIGHTTPD-KBytes-per-second: 0\n\n").bytes_per_second,
            None
        );
    }

    #[test]
    fn repeats_grouped_at_first_occurrence() {
        let h = head(b"Set-Cookie: a=1\nX-A: 1\nset-cookie: b=2\nX-B: 2\nSET-COOKIE: c=3\n\n");
        assert_eq!(
            names(&h),
            [
                "Set-Cookie=a=1",
                "set-cookie=b=2",
                "SET-COOKIE=c=3",
                "X-A=1",
                "X-B=2"
            ]
        );
        // Past 32 headers the grouping takes the long way: same rule.
        let mut many = String::new();
        for i in 0..40 {
            many.push_str(&format!("H{i}: {i}\n"));
        }
        many.push_str("h3: again\n\n");
        let h = head(many.as_bytes());
        let got = names(&h);
        assert_eq!(got.len(), 41);
        assert_eq!(&got[3..5], ["H3=3", "h3=again"]);
        assert_eq!(got[5], "H4=4");
        let mut distinct = String::new();
        for i in 0..40 {
            distinct.push_str(&format!("D{i}: {i}\n"));
        }
        distinct.push('\n');
        let got = names(&head(distinct.as_bytes()));
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, n)| *n == format!("D{i}={i}"))
        );
    }

    #[test]
    fn interim_1xx() {
        let buf = b"Status: 103\nLink: </s.css>\n\nStatus: 200\n\nbody";
        let (h, off) = parse(buf).unwrap().unwrap();
        assert!(h.is_interim());
        let (h2, off2) = parse(&buf[off..]).unwrap().unwrap();
        assert_eq!((h2.status, &buf[off + off2..]), (200, &b"body"[..]));
        assert!(!head(b"Status: 101\n\n").is_interim());
        // No x-sendfile on an interim head.
        assert_eq!(head(b"Status: 100\nX-Sendfile: /a\n\n").x_sendfile, None);
    }

    #[test]
    fn authorizer_mode() {
        let auth = HeadOpts {
            purpose: Purpose::Authorize,
            ..FCGI
        };
        let p = |b: &'static [u8]| parse_backend_head(b, MAX_HEAD, auth);
        let h = p(b"X-A: 1\nVariable-User: bob\nLocation: /x\nVariable-: no\n\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!((h.status, h.headers.len()), (200, 0));
        assert_eq!(h.variables, [(b"User".to_vec(), b"bob".to_vec())]);
        let h = p(b"X-A: 1\nStatus: 403\nX-B: 2\nStatus: 401\n\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!((h.status, names(&h)), (401, vec!["X-B=2".to_string()]));
        let h = p(b"Status: 200\nX-A: 1\nStatus: 302\nLocation: /l\n\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(
            (h.status, names(&h)),
            (302, vec!["Location=/l".to_string()])
        );
        assert_eq!(p(b"Status: 2\n\n"), Err(BackendError::BadStatus));
        assert_eq!(
            p(b"Status: 200\nX-Sendfile: /a\n\n")
                .unwrap()
                .unwrap()
                .0
                .x_sendfile,
            None
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let alphabet = b"HTTP/1. 0123:\r\nStausLocaX-Sendfil2";
        let mut seed = 0x9e37_79b9_u32;
        for len in 0..400 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    alphabet[(seed as usize) % alphabet.len()]
                })
                .collect();
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
                    if let Ok(Some((_, off))) = parse_backend_head(&buf, 64, opts) {
                        assert!(off <= buf.len());
                    }
                }
            }
        }
    }
}
