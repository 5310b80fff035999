//! HTTP/1.x request-head parsing with lighttpd 1.4.69's strictness
//! (http-core.md §1, the head-level checks of §3, and §4's Connection
//! header): the head ends at the first empty line and is limited as a whole
//! by `server.max-request-field-size` (431, no 414); a control byte first is
//! 400 at once (one blank line is allowed after a keep-alive request); the
//! request line is checked from its end (`HTTP/1.1`/`HTTP/1.0`, else 400 or
//! 505), the method against lighttpd's list (501); the target keeps its
//! spaces; header lines follow lighttpd's name, whitespace, CRLF, obs-fold,
//! empty-value and duplicate rules; then Host policy, the body rules (411,
//! 413, 400, 501 for Transfer-Encoding) and keep-alive. Every error status
//! set while parsing the head closes the connection.
//!
//! Why not httparse: it rejects the spaces lighttpd keeps inside a target,
//! accepts any token as a method (lighttpd answers 501 for one not on its
//! list, 505 or 400 for versions by its own rules), has no request obs-fold,
//! takes a bare LF as a line end everywhere (strict lighttpd wants CRLF on
//! all but the final blank line), reports an unterminated head as merely
//! partial (lighttpd counts it against the size limit), and its byte checks
//! cannot be relaxed the way header-strict off relaxes lighttpd's. Nothing
//! it would do here matches closely enough to spare a second code path, so
//! the framing and tokenizing below are hand-rolled from those rules.

use super::uri::{self, UrlOpts};

/// The parts of lighttpd's config the head parser depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseOpts {
    pub header_strict: bool,
    pub host_strict: bool,
    /// Implied by `host_strict`, as in lighttpd.
    pub host_normalize: bool,
    pub max_request_field_size: usize,
    pub url: UrlOpts,
    pub method_get_body: bool,
    /// `server.max-request-size`, in KiB; 0 = unlimited.
    pub max_request_size_kb: u32,
}

impl Default for ParseOpts {
    fn default() -> Self {
        ParseOpts {
            header_strict: true,
            host_strict: true,
            host_normalize: false,
            max_request_field_size: 8192,
            url: UrlOpts::default(),
            method_get_body: false,
            max_request_size_kb: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

macro_rules! methods {
    ($($v:ident = $s:literal),* $(,)?) => {
        /// The request methods lighttpd 1.4.69 knows (case-sensitive).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Method { $($v),* }
        impl Method {
            pub const ALL: &'static [Method] = &[$(Method::$v),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Method::$v => $s),* }
            }
        }
    };
}

methods! {
    Get = "GET", Head = "HEAD", Query = "QUERY", Post = "POST", Put = "PUT",
    Delete = "DELETE", Connect = "CONNECT", Options = "OPTIONS", Trace = "TRACE",
    Acl = "ACL", BaselineControl = "BASELINE-CONTROL", Bind = "BIND",
    Checkin = "CHECKIN", Checkout = "CHECKOUT", Copy = "COPY", Label = "LABEL",
    Link = "LINK", Lock = "LOCK", Merge = "MERGE", Mkactivity = "MKACTIVITY",
    Mkcalendar = "MKCALENDAR", Mkcol = "MKCOL", Mkredirectref = "MKREDIRECTREF",
    Mkworkspace = "MKWORKSPACE", Move = "MOVE", Orderpatch = "ORDERPATCH",
    Patch = "PATCH", Propfind = "PROPFIND", Proppatch = "PROPPATCH",
    Rebind = "REBIND", Report = "REPORT", Search = "SEARCH", Unbind = "UNBIND",
    Uncheckout = "UNCHECKOUT", Unlink = "UNLINK", Unlock = "UNLOCK",
    Update = "UPDATE", Updateredirectref = "UPDATEREDIRECTREF",
    VersionControl = "VERSION-CONTROL",
}

impl Method {
    /// Exact, case-sensitive lookup; `PRI` and anything else is `None` (501).
    pub fn from_bytes(b: &[u8]) -> Option<Method> {
        Method::ALL
            .iter()
            .copied()
            .find(|m| m.as_str().as_bytes() == b)
    }
}

mod head;
pub use head::RequestHead;
use head::Span;

/// A request lighttpd refuses while reading its head or body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    /// Whether lighttpd closes the connection after the response.
    pub close: bool,
    /// The error-log line lighttpd always writes for this case, if any.
    pub log: Option<String>,
    /// Append ` (<remote address>)` to `log`, as lighttpd does.
    pub log_peer: bool,
    /// lighttpd's wording for `debug.log-request-header-on-error` (empty
    /// where lighttpd writes nothing).
    pub reason: std::borrow::Cow<'static, str>,
    /// Refused before the request line was read whole (the answer says
    /// HTTP/1.0 and, to a HEAD, still carries its body).
    pub before_line: bool,
    /// Where in the head 1.4.69 had got to (it joins folded lines as it
    /// goes): 0 for the request line, the start of the header line at
    /// fault, or the end for a rule about the whole head.
    pub parsed_to: usize,
}

impl HttpError {
    /// Logged only with debug.log-request-header-on-error; closes.
    pub fn quiet(status: u16, reason: &'static str) -> Self {
        HttpError {
            status,
            close: true,
            log: None,
            log_peer: false,
            reason: std::borrow::Cow::Borrowed(reason),
            parsed_to: usize::MAX,
            before_line: false,
        }
    }

    /// Always logged; closes.
    pub fn always_logged(status: u16, msg: &'static str) -> Self {
        HttpError {
            log: Some(msg.to_string()),
            ..HttpError::quiet(status, msg)
        }
    }

    /// 413 for a body over `server.max-request-size`.
    pub fn too_large(len: u64) -> Self {
        HttpError {
            log: Some(format!("request-size too long: {len} -> 413")),
            ..HttpError::quiet(413, "request-size too long -> 413")
        }
    }
}

fn bad(reason: &'static str) -> HttpError {
    HttpError::quiet(400, reason)
}

/// A 400 for the byte `c` where it may not be: the reason names it as
/// 1.4.69 does, `(0x1)` for a control character, else `('c')` (a byte past
/// ASCII escaped as the error log shows it).
fn bad_char(reason: &'static str, c: u8) -> HttpError {
    let named = match c {
        0..0x20 | 0x7F => format!("{reason} (0x{c:x})"),
        0x80.. => format!("{reason} ('\\x{c:02x}')"),
        _ => format!("{reason} ('{}')", c as char),
    };
    HttpError {
        reason: std::borrow::Cow::Owned(named),
        ..bad(reason)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadStatus {
    Incomplete,
    Complete(RequestHead),
}

/// lighttpd gives up on a head with this many lines (431).
const MAX_HEAD_LINES: usize = 8190;

/// Whether `buf` opens with the HTTP/2 prior-knowledge preface line as
/// lighttpd recognises it (a 16-byte `PRI ` line, then a blank line). The
/// caller checks this only for the first request on a clear-text connection
/// with HTTP/2 enabled, before `parse_head` (which would answer 505).
pub fn is_h2_preface(buf: &[u8]) -> bool {
    buf.starts_with(b"PRI ")
        && buf.iter().position(|&c| c == b'\n') == Some(15)
        && blank_line_at(buf, 16).is_some()
}

/// The length of the one blank line a kept-alive connection may send before
/// its next request, when that request has begun after it (else 0).
pub fn stray_blank_line(buf: &[u8], after_keepalive: bool) -> usize {
    match after_keepalive.then(|| blank_line_at(buf, 0)).flatten() {
        Some(n) if !matches!(buf.get(n), None | Some(b'\r' | b'\n')) => n,
        _ => 0,
    }
}

/// Parses a request head from the start of `buf`. `after_keepalive` allows
/// one leading blank line (a client's stray CRLF after a body). Returns
/// `Incomplete` until the empty line arrives, as long as the buffer stays
/// within `max_request_field_size`.
pub fn parse_head(
    buf: &[u8],
    opts: &ParseOpts,
    https: bool,
    after_keepalive: bool,
) -> Result<HeadStatus, HttpError> {
    if after_keepalive && blank_line_at(buf, 0) == Some(buf.len()) {
        return Ok(HeadStatus::Incomplete);
    }
    let skip = stray_blank_line(buf, after_keepalive);
    let b = &buf[skip..];
    // The line table is scratch space kept between requests.
    thread_local! {
        static LINES: std::cell::RefCell<Vec<(usize, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut lines = LINES.with(|l| std::mem::take(&mut *l.borrow_mut()));
    let end = frame_lines(b, &mut lines);
    let parsed = head_from_lines(b, &lines, end, skip, opts, https);
    LINES.with(|l| *l.borrow_mut() = lines);
    parsed
}

/// parse_head once the lines are framed.
fn head_from_lines(
    b: &[u8],
    lines: &[(usize, usize)],
    end: Option<usize>,
    skip: usize,
    opts: &ParseOpts,
    https: bool,
) -> Result<HeadStatus, HttpError> {
    if end.unwrap_or(b.len()) > opts.max_request_field_size || lines.len() >= MAX_HEAD_LINES {
        return Err(HttpError::always_logged(
            431,
            "oversized request-header -> sending Status 431",
        ));
    }
    let end = match end {
        Some(e) if !lines.is_empty() => e,
        // incomplete, or a blank line: a control byte first can never start
        // a request line
        _ => {
            let Some(&c) = b.first().filter(|&&c| c < 0x20) else {
                return Ok(HeadStatus::Incomplete);
            };
            let msg = if c == 0x16 {
                "unexpected TLS ClientHello on clear port"
            } else {
                "invalid request-line -> sending Status 400"
            };
            return Err(HttpError {
                log_peer: true,
                before_line: true,
                ..HttpError::always_logged(400, msg)
            });
        }
    };
    let mut head = parse_lines(b, lines, opts, https, false)?;
    head.head_len = skip + end;
    Ok(HeadStatus::Complete(head))
}

/// Length of an empty line (`\n` or `\r\n`) at `at`, if there is one.
fn blank_line_at(b: &[u8], at: usize) -> Option<usize> {
    match b.get(at..)? {
        [b'\n', ..] => Some(1),
        [b'\r', b'\n', ..] => Some(2),
        _ => None,
    }
}

/// Splits the head at LF into (start, end-after-LF) lines up to the first
/// empty line, whose end is returned; stops early at `MAX_HEAD_LINES`.
/// Fills `lines` with the head's lines (start, end past the `\n`) and
/// returns where the blank line ends, if it came.
fn frame_lines(b: &[u8], lines: &mut Vec<(usize, usize)>) -> Option<usize> {
    lines.clear();
    let mut pos = 0;
    while let Some(off) = b[pos..].iter().position(|&c| c == b'\n') {
        if let Some(n) = blank_line_at(b, pos).filter(|&n| n == off + 1) {
            return Some(pos + n);
        }
        lines.push((pos, pos + off + 1));
        if lines.len() >= MAX_HEAD_LINES {
            break;
        }
        pos += off + 1;
    }
    None
}

/// What the request line says.
struct RequestLine<'a> {
    method: Method,
    version: Version,
    target: &'a [u8],
    /// Authority of an absolute-form target (lowercased when kept).
    authority: Option<&'a [u8]>,
}

fn parse_request_line<'a>(raw: &'a [u8], opts: &ParseOpts) -> Result<RequestLine<'a>, HttpError> {
    if raw.len() < 13 {
        return Err(bad("invalid request line (too short) -> 400"));
    }
    let line = match raw {
        [l @ .., b'\r', b'\n'] => l,
        [l @ .., b'\n'] if !opts.header_strict => l,
        _ => return Err(bad("missing CR before LF in header -> 400")),
    };
    let n = line.len();
    // the version is read from the end of the line
    let (version, vpos) = match (line[n - 9], &line[n - 8..]) {
        (b' ', b"HTTP/1.1") => (Version::Http11, n - 8),
        (b' ', b"HTTP/1.0") => (Version::Http10, n - 8),
        _ => parse_version_loose(line, opts.header_strict)?,
    };
    let sp = line.iter().position(|&c| c == b' ').unwrap_or(0);
    let method = Method::from_bytes(&line[..sp])
        .ok_or(HttpError::quiet(501, "unknown http-method -> 501"))?;
    if sp + 1 >= vpos {
        return Err(bad("no uri specified -> 400"));
    }
    let mut target = &line[sp + 1..vpos - 1];
    let mut authority = None;
    if target.first() != Some(&b'/') {
        if let Some((auth, path)) = split_absolute(target) {
            if auth.is_empty() || auth.len() >= 1024 {
                return Err(bad("uri-authority empty or too long -> 400"));
            }
            authority = Some(auth);
            target = path;
        } else {
            let first = target.first().copied().unwrap_or(b' ');
            let allowed = !opts.header_strict
                || (method == Method::Connect && (first == b':' || first.is_ascii_digit()))
                || (method == Method::Options && target == b"*");
            if !allowed {
                return Err(bad("request-URI parse error -> 400"));
            }
        }
    }
    if target.is_empty() {
        return Err(bad("no uri specified -> 400"));
    }
    Ok(RequestLine {
        method,
        version,
        target,
        authority,
    })
}

/// The version when the line does not end in ` HTTP/1.x`: lighttpd then
/// reads it after the second space; `HTTP/1.x` with more bytes passes only
/// in non-strict mode. Returns where the version starts, which is one past
/// the last space at least 9 bytes before the end of the line.
/// The version a request line announces, for the status line of an error
/// answer: one that ends in ` HTTP/1.0` or ` HTTP/1.1` and CRLF; without
/// header-strict also a bare LF, and what the lenient reading makes of the
/// version (`HTTP/1.17` is 1.1). None when the version never parsed.
pub fn line_version(buf: &[u8], header_strict: bool) -> Option<Version> {
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = match buf[..end].strip_suffix(b"\r") {
        Some(l) => l,
        None if !header_strict && end < buf.len() => &buf[..end],
        None => return None,
    };
    if line.ends_with(b" HTTP/1.1") {
        Some(Version::Http11)
    } else if line.ends_with(b" HTTP/1.0") {
        Some(Version::Http10)
    } else if !header_strict {
        parse_version_loose(line, false).ok().map(|(v, _)| v)
    } else {
        None
    }
}

fn parse_version_loose(line: &[u8], strict: bool) -> Result<(Version, usize), HttpError> {
    let incomplete = || bad("incomplete request line -> 400");
    let s1 = line
        .iter()
        .position(|&c| c == b' ')
        .ok_or_else(incomplete)?;
    let s2 = s1
        + 1
        + line[s1 + 1..]
            .iter()
            .position(|&c| c == b' ')
            .ok_or_else(incomplete)?;
    let proto = &line[s2 + 1..];
    if !proto.starts_with(b"HTTP/") {
        return Err(bad("unknown protocol -> 400"));
    }
    let version = match proto.get(5..8) {
        Some(b"1.1") => Version::Http11,
        Some(b"1.0") => Version::Http10,
        _ => return Err(HttpError::quiet(505, "unknown HTTP version -> 505")),
    };
    if strict {
        return Err(incomplete());
    }
    let limit = line.len().saturating_sub(10);
    let vpos = line[..=limit]
        .iter()
        .rposition(|&c| c == b' ')
        .map_or(s2 + 1, |p| p + 1);
    Ok((version, vpos))
}

/// `http://` or `https://` (any case) + authority + `/…` → (authority, path).
fn split_absolute(t: &[u8]) -> Option<(&[u8], &[u8])> {
    let scheme_len = if t.len() > 7 && t[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else if t.len() > 8 && t[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else {
        return None;
    };
    let slash = scheme_len + t[scheme_len..].iter().position(|&c| c == b'/')?;
    Some((&t[scheme_len..slash], &t[slash..]))
}

/// The head's bytes, and the same as text when they are valid UTF-8
/// (checked once for the whole head, so its parts are pushed without a
/// second check).
struct Src<'a> {
    b: &'a [u8],
    text: Option<&'a str>,
}

impl Src<'_> {
    /// Appends `piece`, a part of the head, to the head's text.
    fn push(&self, h: &mut RequestHead, piece: &[u8]) -> Span {
        if let Some(t) = self.text {
            let start = (piece.as_ptr() as usize).wrapping_sub(self.b.as_ptr() as usize);
            if let Some(s) = t.get(start..start.wrapping_add(piece.len())) {
                return h.push_str(s);
            }
        }
        h.push(piece)
    }
}

/// Header state gathered while reading the lines (the fields themselves
/// go straight into the head).
struct Fields {
    /// A partial head cut at a bad header line: its Host is kept as sent
    /// (1.4.69 checks and normalizes it only once every line is read).
    cut: bool,
    host: Option<Span>,
    content_length: Option<u64>,
    cl_seen: bool,
    chunked: bool,
    keep_alive: bool,
    /// Headers the last checks look at were seen (looked up only then).
    seen_connection: bool,
    seen_upgrade: bool,
    seen_expect: bool,
    seen_http2_settings: bool,
}

/// The field named `name` (any case) so far, if any.
fn field_index(h: &RequestHead, name: &[u8]) -> Option<usize> {
    if name.is_ascii() {
        return h.index_of_bytes(name);
    }
    h.index_of(&crate::http::lossless::from_bytes(name))
}

/// Records the value pushed since `mark` under `name`, merging it into an
/// earlier field of the same name.
fn append_field(h: &mut RequestHead, src: &Src<'_>, name: &[u8], value: Span) {
    match field_index(h, name) {
        Some(i) => {
            let sep = if name.eq_ignore_ascii_case(b"cookie") {
                "; "
            } else {
                ", "
            };
            h.merge_into(i, sep, value.start());
        }
        None => {
            let n = src.push(h, name);
            h.add_field(n, value);
        }
    }
}

/// RFC 9110 token characters: letters, digits and ``!#$%&'*+-.^_`|~``
/// (none of which a header name may not hold).
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        c += 1;
    }
    t
};

/// Bytes a header name may not hold: separators always; in strict mode
/// also controls and bytes ≥ 0x7F, otherwise only NUL.
fn check_name(name: &[u8], strict: bool) -> Result<(), HttpError> {
    // The usual name is all token characters: nothing to report.
    if name.iter().all(|&c| TOKEN[c as usize]) {
        return Ok(());
    }
    for &c in name {
        match c {
            b' ' | b'\t' => return Err(bad("WS character in key -> 400")),
            b'\r' | b'\n' | b'(' | b')' | b'<' | b'>' | b'@' | b',' | b':' | b';' | b'\\'
            | b'"' | b'/' | b'[' | b']' | b'?' | b'=' | b'{' | b'}' => {
                return Err(bad_char("invalid character in header key -> 400", c));
            }
            c if (strict && !(0x20..0x7F).contains(&c)) || c == 0 => {
                return Err(bad_char("invalid character in header key -> 400", c));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a `Connection` value (one line) names `token`: tokens start
/// after commas and blanks and end at a blank, comma or `;`.
fn has_token(v: &[u8], token: &[u8]) -> bool {
    let mut i = 0;
    while i < v.len() {
        while i < v.len() && matches!(v[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        let rest = &v[i..];
        if rest.len() >= token.len() && rest[..token.len()].eq_ignore_ascii_case(token) {
            match rest.get(token.len()) {
                None | Some(b' ' | b'\t' | b',' | b';') => return true,
                _ => {}
            }
        }
        while i < v.len() && v[i] != b',' {
            i += 1;
        }
    }
    false
}

/// One header field whose value (trimmed and unfolded) was just pushed
/// as `v`: recorded as lighttpd records it, or refused.
fn add_field(
    h: &mut RequestHead,
    src: &Src<'_>,
    f: &mut Fields,
    name: &[u8],
    v: Span,
    version: Version,
) -> Result<(), HttpError> {
    // Lower-cased on the stack for the usual short names.
    let mut buf = [0u8; 64];
    let long;
    let lname: &[u8] = if name.len() <= buf.len() {
        let l = &mut buf[..name.len()];
        l.copy_from_slice(name);
        l.make_ascii_lowercase();
        l
    } else {
        long = name.to_ascii_lowercase();
        &long
    };
    match lname {
        b"host" => {
            if let Some(old) = f.host {
                let same = h.span_str(old).eq_ignore_ascii_case(h.span_str(v));
                h.truncate(v.start());
                if same {
                    return Ok(());
                }
                return Err(bad("duplicate Host header -> 400"));
            }
            if h.span_str(v).len() >= 1024 {
                return Err(bad("uri-authority too long -> 400"));
            }
            h.lowercase(v);
            let n = h.push_str("Host");
            h.add_field(n, v);
            f.host = Some(v);
            return Ok(());
        }
        b"if-modified-since" | b"if-none-match" | b"content-type" | b"http2-settings" => {
            f.seen_http2_settings |= lname == b"http2-settings";
            if let Some(i) = field_index(h, name) {
                let same = h
                    .span_str(h.field_value(i))
                    .eq_ignore_ascii_case(h.span_str(v));
                h.truncate(v.start());
                if same || lname == b"if-none-match" {
                    return Ok(());
                }
                return Err(bad(match lname {
                    b"content-type" => "duplicate Content-Type header -> 400",
                    b"if-modified-since" => "duplicate If-Modified-Since header -> 400",
                    _ => "duplicate HTTP2-Settings header -> 400",
                }));
            }
        }
        b"upgrade" => f.seen_upgrade = true,
        b"expect" => f.seen_expect = true,
        b"connection" => {
            f.seen_connection = true;
            let value = h.span_str(v).as_bytes();
            if has_token(value, b"close") {
                f.keep_alive = false;
            } else if has_token(value, b"keep-alive") {
                f.keep_alive = true;
            }
        }
        b"content-length" => {
            if f.cl_seen {
                return Err(bad("duplicate Content-Length header -> 400"));
            }
            let value = h.span_str(v);
            let n = (value.bytes().all(|c| c.is_ascii_digit()))
                .then(|| value.parse::<i64>().ok())
                .flatten()
                .ok_or(bad("invalid Content-Length header -> 400"))?;
            f.cl_seen = true;
            f.content_length = Some(n as u64);
        }
        b"transfer-encoding" => {
            if version != Version::Http11 {
                return Err(bad(
                    "HTTP/1.0 with Transfer-Encoding (bad HTTP/1.0 proxy?) -> 400",
                ));
            }
            if !h.span_str(v).eq_ignore_ascii_case("chunked") {
                return Err(HttpError::quiet(501, ""));
            }
            f.chunked = true;
            h.truncate(v.start());
            return Ok(()); // hop-by-hop: not kept
        }
        _ => {}
    }
    append_field(h, src, name, v);
    Ok(())
}

fn parse_lines(
    b: &[u8],
    lines: &[(usize, usize)],
    opts: &ParseOpts,
    https: bool,
    partial: bool,
) -> Result<RequestHead, HttpError> {
    let strict = opts.header_strict;
    // `partial` (see parse_partial): a bad header line ends the head
    // instead of failing it.
    // (the header line being read, for fail!)
    let mut i = 1;
    let mut cut = false;
    macro_rules! fail {
        ($l:lifetime, $e:expr) => {{
            if partial {
                cut = true;
                break $l;
            }
            return Err(HttpError {
                parsed_to: lines.get(i).map_or(usize::MAX, |l| l.0),
                ..$e
            });
        }};
    }
    let (s0, e0) = lines[0];
    let rl = parse_request_line(&b[s0..e0], opts).map_err(|e| HttpError { parsed_to: 0, ..e })?;
    let mut h = RequestHead::fresh(rl.method, rl.version);
    let end = lines.last().map_or(0, |l| l.1);
    let src = Src {
        b,
        // (text with a character from U+100000 on takes the long way, as
        // lossless.rs holds some of those differently)
        text: std::str::from_utf8(&b[..end])
            .ok()
            .filter(|t| !crate::http::lossless::holds_raw(t)),
    };
    let mut f = Fields {
        cut: false,
        host: None,
        content_length: None,
        cl_seen: false,
        chunked: false,
        keep_alive: rl.version == Version::Http11,
        seen_connection: false,
        seen_upgrade: false,
        seen_expect: false,
        seen_http2_settings: false,
    };
    if let Some(auth) = rl.authority {
        let n = h.push_str("Host");
        let v = src.push(&mut h, auth);
        h.lowercase(v);
        h.add_field(n, v);
        f.host = Some(v);
    }
    'lines: while i < lines.len() {
        let line = &b[lines[i].0..lines[i].1];
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            fail!('lines, bad("invalid header missing ':' -> 400"))
        };
        let mut name = &line[..colon];
        if matches!(name.last(), Some(b' ' | b'\t')) {
            if strict {
                fail!('lines, bad(
                    "invalid whitespace between field-name and colon -> 400",
                ));
            }
            while let [n @ .., b' ' | b'\t'] = name {
                name = n;
            }
        }
        if name.is_empty() {
            fail!('lines, bad("invalid header key -> 400"));
        }
        if let Err(e) = check_name(name, strict) {
            fail!('lines, e);
        }
        // leading blanks are skipped on the first line only, before unfolding
        let first = &line[colon + 1..];
        let lead = first
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let mark = h.mark();
        let mut part = &first[lead..];
        loop {
            let folded = lines
                .get(i + 1)
                .is_some_and(|&(s, _)| matches!(b[s], b' ' | b'\t'));
            let body = match part {
                [p @ .., b'\r', b'\n'] => p,
                [p @ .., b'\n'] if !strict => p,
                _ => {
                    h.truncate(mark);
                    fail!('lines, bad("missing CR before LF in header -> 400"))
                }
            };
            if strict
                && let Some(&c) = body
                    .iter()
                    .find(|&&c| (c < 0x20 && c != b'\t') || c == 0x7F)
            {
                h.truncate(mark);
                fail!('lines, bad_char("invalid character in header -> 400", c));
            }
            src.push(&mut h, body);
            if !folded {
                break;
            }
            // obs-fold: the line end turns into spaces
            h.push_str(&"  "[..part.len() - body.len()]);
            i += 1;
            part = &b[lines[i].0..lines[i].1];
        }
        i += 1;
        let value = h.since_trimmed(mark);
        if value.is_empty() {
            continue; // empty values are ignored
        }
        if let Err(e) = add_field(&mut h, &src, &mut f, name, value, rl.version) {
            fail!('lines, e);
        }
    }
    f.cut = cut;
    finish(h, &src, rl.target, f, opts, https, partial)
}

/// For an error handler running in place of a request that failed to
/// parse: the head as far as lighttpd had read it (the request line and
/// the header lines before the first bad one), without the checks made
/// once all lines are read (Host required, 411, 413 ...; a target that
/// does not normalize is kept as sent). None when the request line itself
/// fails.
pub fn parse_partial(buf: &[u8], opts: &ParseOpts) -> Option<RequestHead> {
    let mut lines = Vec::new();
    let end = frame_lines(buf, &mut lines);
    if let Some(&(_, last)) = lines.last()
        && end.is_none()
        && last < buf.len()
    {
        // bytes after the last LF of a head that never ended
        lines.push((last, buf.len()));
    }
    if lines.is_empty() {
        return None;
    }
    parse_lines(buf, &lines, opts, false, true).ok()
}

/// The checks lighttpd makes once all header lines are read.
fn finish(
    mut h: RequestHead,
    src: &Src<'_>,
    target: &[u8],
    mut f: Fields,
    opts: &ParseOpts,
    https: bool,
    partial: bool,
) -> Result<RequestHead, HttpError> {
    // `partial`: only what makes the head, none of the checks.
    macro_rules! fail {
        ($e:expr) => {
            if !partial {
                return Err($e);
            }
        };
    }
    let (method, version) = (h.method, h.version);
    let t = src.push(&mut h, target);
    let (normalized, path, query) =
        if method == Method::Connect || (method == Method::Options && target == b"*") {
            (t, t, None)
        } else if let Some(split) = uri::already_normal(target) {
            // The usual target: its normalized forms are parts of it.
            let q = split.map(|q| t.sub(q + 1, target.len()));
            (t, t.sub(0, split.unwrap_or(target.len())), q)
        } else {
            match uri::normalize_target(target, &opts.url) {
                Ok(n) => {
                    let normalized = h.push(&n.normalized);
                    let path = h.push(&n.path);
                    let query = n.query.map(|q| h.push(&q));
                    (normalized, path, query)
                }
                // partial: the target as sent (an error handler replaces
                // the path; REQUEST_URI is the target)
                Err(_) if partial => (t, t, None),
                Err(e) => return Err(bad(e.reason)),
            }
        };
    let host = match f.host.take() {
        Some(v) => {
            let normalize = opts.host_normalize || opts.host_strict;
            let given = h.span_str(v).as_bytes();
            let n = match uri::normalize_host(given, opts.host_strict, normalize, https) {
                _ if f.cut => std::borrow::Cow::Borrowed(given),
                Err(_) if partial => std::borrow::Cow::Borrowed(given),
                r => r.map_err(|e| bad(e.reason))?,
            };
            let n = match n {
                std::borrow::Cow::Borrowed(_) => v,
                std::borrow::Cow::Owned(n) => {
                    let n = h.push(&n);
                    if let Some(i) = h.index_of("Host") {
                        h.set_field_value(i, n);
                    }
                    n
                }
            };
            Some(n)
        }
        None if version == Version::Http11 && !partial => {
            return Err(bad("HTTP/1.1 but Host missing -> 400"));
        }
        None => None,
    };
    h.set_spans(t, normalized, path, query, host);
    if version != Version::Http11 && (f.seen_upgrade || f.seen_http2_settings) {
        fail!(bad("invalid hop-by-hop header w/o HTTP/1.1 -> 400"));
    }
    // lighttpd drops an Upgrade that no Connection header announces (its
    // h2c check runs on every request; switching protocols is the caller's)
    if f.seen_upgrade
        && !f.seen_connection
        && let Some(i) = h.index_of("Upgrade")
    {
        h.remove_field(i);
    }
    if !f.chunked && f.content_length.unwrap_or(0) == 0 {
        if method == Method::Post && !f.cl_seen {
            fail!(HttpError::quiet(
                411,
                "POST-request, but content-length missing -> 411",
            ));
        }
    } else {
        if f.chunked && f.cl_seen {
            if opts.header_strict {
                fail!(bad("invalid Transfer-Encoding + Content-Length -> 400"));
            }
            f.content_length = None;
            if let Some(i) = h.index_of("Content-Length") {
                h.remove_field(i);
            }
        }
        if matches!(method, Method::Get | Method::Head) && !opts.method_get_body {
            fail!(bad("GET/HEAD with content-length -> 400"));
        }
    }
    if let Err(e) = check_content_length(f.content_length, opts.max_request_size_kb) {
        fail!(e);
    }
    h.expect_100 = version == Version::Http11
        && f.seen_expect
        && h.header("Expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    h.content_length = f.content_length;
    h.chunked = f.chunked;
    h.keep_alive = f.keep_alive;
    Ok(h)
}

/// 413 when a Content-Length exceeds `server.max-request-size` (KiB, 0 =
/// unlimited). lighttpd decides this after the config conditions are
/// applied; call it again if the limit is set in a condition block.
pub fn check_content_length(content_length: Option<u64>, max_kb: u32) -> Result<(), HttpError> {
    match content_length {
        Some(n) if max_kb != 0 && n > u64::from(max_kb) * 1024 => Err(HttpError::too_large(n)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
