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
                write!(f, "invalid HTTP status line: {}", crate::log::escape(line))
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
        let (s, _) = lines.next().unwrap_or((0, 0));
        p.head.status = nph_status(&buf[s..], opts.backend).ok_or_else(|| {
            // What 1.4.69 logs: the line when its 13th byte ends it, else
            // all the data received so far (up to a NUL).
            let rest = &buf[s..];
            let shown = match rest.get(12) {
                Some(b'\r' | b'\n') => &rest[..12],
                _ => rest.split(|&c| c == 0).next().unwrap_or(rest),
            };
            BackendError::BadStatusLine(shown.to_vec())
        })?;
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
                // a name seen before (in any case) gets ", value" appended,
                // as lighttpd 1.4.69 keeps them
                let var = &name[9..];
                let vars = &mut self.head.variables;
                match vars.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(var)) {
                    Some((_, v)) => {
                        v.extend_from_slice(b", ");
                        v.extend_from_slice(&value);
                    }
                    None => vars.push((var.to_vec(), value.into_owned())),
                }
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
            // A Content-Length before it no longer counts: its line is
            // emptied (not sent) but keeps its place for the de-chunked
            // length, as 1.4.69 does.
            self.head.content_length = None;
            for (n, v) in self.head.headers.iter_mut() {
                if n.eq_ignore_ascii_case(b"Content-Length") {
                    *v = Cow::Borrowed(b"");
                }
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
mod tests;
