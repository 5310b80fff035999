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

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Method,
    pub version: Version,
    /// Raw target as received, `#fragment` included (CGI REQUEST_URI); for
    /// absolute form only the path and query.
    pub target: String,
    /// In first-seen order with the first-seen name; empty values dropped,
    /// repeats merged with `, ` (`; ` for Cookie); Host is the normalized
    /// authority under the name `Host`; Transfer-Encoding is not kept.
    pub headers: Vec<(String, String)>,
    /// Normalized authority (`$HTTP["host"]`).
    pub host: Option<String>,
    /// Decoded, simplified path (`$HTTP["url"]`); the target itself for
    /// CONNECT and `OPTIONS *`.
    pub path: String,
    /// Still-encoded query (`$HTTP["querystring"]`); `Some("")` for a bare `?`.
    pub query: Option<String>,
    /// The normalized target (what mod_rewrite sees).
    pub normalized: String,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub keep_alive: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    pub expect_100: bool,
    /// Bytes of the buffer used, leading blank line and final blank line included.
    pub head_len: usize,
}

impl RequestHead {
    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

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
    pub reason: &'static str,
}

impl HttpError {
    /// Logged only with debug.log-request-header-on-error; closes.
    pub fn quiet(status: u16, reason: &'static str) -> Self {
        HttpError {
            status,
            close: true,
            log: None,
            log_peer: false,
            reason,
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
    let mut skip = 0;
    if after_keepalive && let Some(n) = blank_line_at(buf, 0) {
        match buf.get(n) {
            None => return Ok(HeadStatus::Incomplete),
            Some(b'\r' | b'\n') => {}
            Some(_) => skip = n,
        }
    }
    let b = &buf[skip..];
    let (lines, end) = frame_lines(b);
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
                ..HttpError::always_logged(400, msg)
            });
        }
    };
    let mut head = parse_lines(b, &lines, opts, https)?;
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
fn frame_lines(b: &[u8]) -> (Vec<(usize, usize)>, Option<usize>) {
    let mut lines = Vec::new();
    let mut pos = 0;
    while let Some(off) = b[pos..].iter().position(|&c| c == b'\n') {
        if let Some(n) = blank_line_at(b, pos).filter(|&n| n == off + 1) {
            return (lines, Some(pos + n));
        }
        lines.push((pos, pos + off + 1));
        if lines.len() >= MAX_HEAD_LINES {
            break;
        }
        pos += off + 1;
    }
    (lines, None)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What the request line says.
struct RequestLine<'a> {
    method: Method,
    version: Version,
    target: &'a [u8],
    /// Lowercased authority of an absolute-form target.
    authority: Option<Vec<u8>>,
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
            authority = Some(auth.to_ascii_lowercase());
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

/// Header state gathered while reading the lines.
struct Fields {
    headers: Vec<(String, String)>,
    host: Option<Vec<u8>>,
    content_length: Option<u64>,
    cl_seen: bool,
    chunked: bool,
    keep_alive: bool,
}

impl Fields {
    fn index_of(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))
    }

    /// Appends a value, merging with an earlier header of the same name.
    fn append(&mut self, name: &[u8], value: &[u8]) {
        let name = text(name);
        match self.index_of(&name) {
            Some(i) => {
                let sep = if name.eq_ignore_ascii_case("cookie") {
                    "; "
                } else {
                    ", "
                };
                let v = &mut self.headers[i].1;
                v.push_str(sep);
                v.push_str(&String::from_utf8_lossy(value));
            }
            None => self.headers.push((name, text(value))),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.index_of(name).map(|i| self.headers[i].1.as_str())
    }
}

/// Bytes a header name may not hold: separators always; in strict mode
/// also controls and bytes ≥ 0x7F, otherwise only NUL.
fn check_name(name: &[u8], strict: bool) -> Result<(), HttpError> {
    for &c in name {
        match c {
            b' ' | b'\t' => return Err(bad("WS character in key -> 400")),
            b'\r' | b'\n' | b'(' | b')' | b'<' | b'>' | b'@' | b',' | b':' | b';' | b'\\'
            | b'"' | b'/' | b'[' | b']' | b'?' | b'=' | b'{' | b'}' => {
                return Err(bad("invalid character in header key -> 400"));
            }
            c if (strict && !(0x20..0x7F).contains(&c)) || c == 0 => {
                return Err(bad("invalid character in header key -> 400"));
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

/// One header field with its value trimmed and unfolded, as lighttpd
/// records it (or refuses it).
fn add_field(f: &mut Fields, name: &[u8], v: &[u8], version: Version) -> Result<(), HttpError> {
    let lname = name.to_ascii_lowercase();
    match lname.as_slice() {
        b"host" => {
            if let Some(h) = &f.host {
                if h.eq_ignore_ascii_case(v) {
                    return Ok(());
                }
                return Err(bad("duplicate Host header -> 400"));
            }
            if v.len() >= 1024 {
                return Err(bad("uri-authority too long -> 400"));
            }
            let h = v.to_ascii_lowercase();
            f.headers.push(("Host".into(), text(&h)));
            f.host = Some(h);
            return Ok(());
        }
        b"if-modified-since" | b"if-none-match" | b"content-type" | b"http2-settings" => {
            if let Some(old) = f.get(&text(name)) {
                if old.as_bytes().eq_ignore_ascii_case(v) || lname == b"if-none-match" {
                    return Ok(());
                }
                return Err(bad(match lname.as_slice() {
                    b"content-type" => "duplicate Content-Type header -> 400",
                    b"if-modified-since" => "duplicate If-Modified-Since header -> 400",
                    _ => "duplicate HTTP2-Settings header -> 400",
                }));
            }
        }
        b"connection" => {
            if has_token(v, b"close") {
                f.keep_alive = false;
            } else if has_token(v, b"keep-alive") {
                f.keep_alive = true;
            }
        }
        b"content-length" => {
            if f.cl_seen {
                return Err(bad("duplicate Content-Length header -> 400"));
            }
            let n = (v.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(v).ok()?.parse::<i64>().ok())
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
            if !v.eq_ignore_ascii_case(b"chunked") {
                return Err(HttpError::quiet(501, ""));
            }
            f.chunked = true;
            return Ok(()); // hop-by-hop: not kept
        }
        _ => {}
    }
    f.append(name, v);
    Ok(())
}

fn parse_lines(
    b: &[u8],
    lines: &[(usize, usize)],
    opts: &ParseOpts,
    https: bool,
) -> Result<RequestHead, HttpError> {
    let strict = opts.header_strict;
    let (s0, e0) = lines[0];
    let rl = parse_request_line(&b[s0..e0], opts)?;
    let mut f = Fields {
        headers: Vec::new(),
        host: None,
        content_length: None,
        cl_seen: false,
        chunked: false,
        keep_alive: rl.version == Version::Http11,
    };
    if let Some(auth) = rl.authority {
        f.headers.push(("Host".into(), text(&auth)));
        f.host = Some(auth);
    }
    let mut h = 1;
    while h < lines.len() {
        let line = &b[lines[h].0..lines[h].1];
        let colon = line
            .iter()
            .position(|&c| c == b':')
            .ok_or(bad("invalid header missing ':' -> 400"))?;
        let mut name = &line[..colon];
        if matches!(name.last(), Some(b' ' | b'\t')) {
            if strict {
                return Err(bad(
                    "invalid whitespace between field-name and colon -> 400",
                ));
            }
            while let [n @ .., b' ' | b'\t'] = name {
                name = n;
            }
        }
        if name.is_empty() {
            return Err(bad("invalid header key -> 400"));
        }
        check_name(name, strict)?;
        // leading blanks are skipped on the first line only, before unfolding
        let first = &line[colon + 1..];
        let lead = first
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let mut value = Vec::new();
        let mut part = &first[lead..];
        loop {
            let folded = lines
                .get(h + 1)
                .is_some_and(|&(s, _)| matches!(b[s], b' ' | b'\t'));
            let body = match part {
                [p @ .., b'\r', b'\n'] => p,
                [p @ .., b'\n'] if !strict => p,
                _ => return Err(bad("missing CR before LF in header -> 400")),
            };
            value.extend_from_slice(body);
            if !folded {
                break;
            }
            // obs-fold: the line end turns into spaces
            value.extend_from_slice(&b"  "[..part.len() - body.len()]);
            h += 1;
            part = &b[lines[h].0..lines[h].1];
        }
        h += 1;
        while let [v @ .., b' ' | b'\t'] = value.as_slice() {
            value.truncate(v.len());
        }
        if value.is_empty() {
            continue; // empty values are ignored
        }
        if strict && value.iter().any(|&c| (c < 0x20 && c != b'\t') || c == 0x7F) {
            return Err(bad("invalid character in header -> 400"));
        }
        add_field(&mut f, name, &value, rl.version)?;
    }
    finish(rl.method, rl.version, rl.target, f, opts, https)
}

/// The checks lighttpd makes once all header lines are read.
fn finish(
    method: Method,
    version: Version,
    target: &[u8],
    mut f: Fields,
    opts: &ParseOpts,
    https: bool,
) -> Result<RequestHead, HttpError> {
    let (normalized, path, query) =
        if method == Method::Connect || (method == Method::Options && target == b"*") {
            (text(target), text(target), None)
        } else {
            let t = uri::normalize_target(target, &opts.url).map_err(|e| bad(e.reason))?;
            (
                text(&t.normalized),
                text(&t.path),
                t.query.map(|q| text(&q)),
            )
        };
    let host = match f.host.take() {
        Some(h) => {
            let normalize = opts.host_normalize || opts.host_strict;
            let n = text(
                &uri::normalize_host(&h, opts.host_strict, normalize, https)
                    .map_err(|e| bad(e.reason))?,
            );
            if let Some(i) = f.index_of("Host") {
                f.headers[i].1 = n.clone();
            }
            Some(n)
        }
        None if version == Version::Http11 => return Err(bad("HTTP/1.1 but Host missing -> 400")),
        None => None,
    };
    if version != Version::Http11
        && (f.get("Upgrade").is_some() || f.get("HTTP2-Settings").is_some())
    {
        return Err(bad("invalid hop-by-hop header w/o HTTP/1.1 -> 400"));
    }
    // lighttpd drops an Upgrade that no Connection header announces (its
    // h2c check runs on every request; switching protocols is the caller's)
    if f.get("Connection").is_none()
        && let Some(i) = f.index_of("Upgrade")
    {
        f.headers.remove(i);
    }
    if !f.chunked && f.content_length.unwrap_or(0) == 0 {
        if method == Method::Post && !f.cl_seen {
            return Err(HttpError::quiet(
                411,
                "POST-request, but content-length missing -> 411",
            ));
        }
    } else {
        if f.chunked && f.cl_seen {
            if opts.header_strict {
                return Err(bad("invalid Transfer-Encoding + Content-Length -> 400"));
            }
            f.content_length = None;
            if let Some(i) = f.index_of("Content-Length") {
                f.headers.remove(i);
            }
        }
        if matches!(method, Method::Get | Method::Head) && !opts.method_get_body {
            return Err(bad("GET/HEAD with content-length -> 400"));
        }
    }
    check_content_length(f.content_length, opts.max_request_size_kb)?;
    let expect_100 = version == Version::Http11
        && f.get("Expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    Ok(RequestHead {
        method,
        version,
        target: text(target),
        headers: f.headers,
        host,
        path,
        query,
        normalized,
        content_length: f.content_length,
        chunked: f.chunked,
        keep_alive: f.keep_alive,
        expect_100,
        head_len: 0,
    })
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
mod tests {
    use super::*;

    fn parse_with(req: &[u8], o: &ParseOpts, ka: bool) -> Result<HeadStatus, HttpError> {
        parse_head(req, o, false, ka)
    }

    /// 0 = incomplete, 200 = parsed, else the error status.
    fn st_with(req: &[u8], o: &ParseOpts) -> u16 {
        match parse_with(req, o, false) {
            Ok(HeadStatus::Incomplete) => 0,
            Ok(HeadStatus::Complete(_)) => 200,
            Err(e) => {
                assert!(e.close, "{req:?}");
                e.status
            }
        }
    }

    fn st(req: &[u8]) -> u16 {
        st_with(req, &ParseOpts::default())
    }

    fn lax() -> ParseOpts {
        ParseOpts {
            header_strict: false,
            host_strict: false,
            ..ParseOpts::default()
        }
    }

    fn ok_with(req: &[u8], o: &ParseOpts) -> RequestHead {
        match parse_with(req, o, false) {
            Ok(HeadStatus::Complete(h)) => h,
            other => panic!("{req:?}: {other:?}"),
        }
    }

    fn ok(req: &[u8]) -> RequestHead {
        ok_with(req, &ParseOpts::default())
    }

    /// "GET <target> HTTP/1.1" with Host: a plus `hdrs`.
    fn get(target: &str, hdrs: &str) -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nHost: a\r\n{hdrs}\r\n").into_bytes()
    }

    // Every row was checked against lighttpd 1.4.69 (status and close).
    const STATUS: &[(&[u8], u16)] = &[
        (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"\r", 400),
        (b"\n", 400),
        (b"GET / HTTP/1.1\r\n", 0),
        (b"", 0),
        (b"GET / HTTP/1\r\n\r\n", 505),
        (b"GET /x HTTP/1.1\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
        (b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /abcdefghijk\r\nHost: a\r\n\r\n", 400),
        (b"GET /a\r\n\r\n", 400),
        (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
        (b"PRI / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
        (b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 501),
        (b"FOO / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GETX HTTP/1.1\r\n\r\n", 501),
        (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /x  HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"GET http://a HTTP/1.1\r\n\r\n", 400),
        (b"GET http:///x HTTP/1.1\r\n\r\n", 400),
        (b"GET ftp://a/x HTTP/1.1\r\n\r\n", 400),
        (b"GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n", 400),
        (b"GET http://a/x HTTP/1.1\r\nHost: A\r\n\r\n", 200),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"CONNECT a.b:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"CONNECT 1.2.3.4:80 HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"CONNECT :80 HTTP/1.1\r\n\r\n", 400),
        (b"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo : x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFo o: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFo(o: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFo\x01o: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFo\xe9o: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFo_o: x\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\n Foo: x\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\n b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x01b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x7fb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\tb\xe9\xff\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: -ab\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a:0x50\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-Type: A\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: a\r\nIf-Modified-Since: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: a\r\nIf-None-Match: b\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: a\r\nHTTP2-Settings: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: a\r\nhttp2-settings: A\r\n\r\n", 200),
        (b"GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\nHTTP2-Settings: x\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\nUpgrade:\r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", 411),
        (b"POST / HTTP/1.0\r\n\r\n", 411),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 411),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  04 \r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3 3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n", 400),
        (b"HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nHost: -a\r\n\r\n", 501),
        (b"POST /%00 HTTP/1.1\r\n\r\n", 400),
        (b"GET /%C0 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    ];

    #[test]
    fn statuses_match_lighttpd() {
        for &(req, want) in STATUS {
            assert_eq!(st(req), want, "{:?}", String::from_utf8_lossy(req));
        }
    }

    #[test]
    fn size_limit_counts_whole_head() {
        let sized = |n: usize| {
            let base = "GET / HTTP/1.1\r\nHost: a\r\n\r\n".len();
            format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(n - base)).into_bytes()
        };
        assert_eq!(st(&sized(8192)), 200);
        let e = parse_head(&sized(8193), &ParseOpts::default(), false, false).unwrap_err();
        assert_eq!((e.status, e.close), (431, true));
        assert_eq!(
            e.log.as_deref(),
            Some("oversized request-header -> sending Status 431")
        );
        assert_eq!(st(&sized(8193)[..8192]), 0);
        assert_eq!(st(&sized(8194)[..8193]), 431);
        assert_eq!(st(&get(&format!("/{}", "a".repeat(9000)), "")), 431); // no 414
        // the one blank line allowed after keep-alive is not counted
        let mut ka = b"\r\n".to_vec();
        ka.extend_from_slice(&sized(8192));
        assert!(matches!(
            parse_head(&ka, &ParseOpts::default(), false, true),
            Ok(HeadStatus::Complete(_))
        ));
        // too many lines
        let o = ParseOpts {
            max_request_field_size: 65535,
            ..ParseOpts::default()
        };
        let many = [&b"GET / HTTP/1.1\r\n"[..], &b"a:b\n".repeat(8189)].concat();
        assert_eq!(st_with(&many, &o), 431);
        assert_eq!(st_with(&many[..many.len() - 4], &o), 0);
    }

    #[test]
    fn leading_bytes() {
        let e =
            parse_head(b"\x16\x03\x01\x02\x00", &ParseOpts::default(), false, false).unwrap_err();
        assert_eq!(
            e.log.as_deref(),
            Some("unexpected TLS ClientHello on clear port")
        );
        assert!(e.log_peer);
        let e = parse_head(b"\r\n", &ParseOpts::default(), false, false).unwrap_err();
        assert_eq!(
            e.log.as_deref(),
            Some("invalid request-line -> sending Status 400")
        );
        let o = ParseOpts::default();
        let ka = |b: &[u8]| match parse_with(b, &o, true) {
            Ok(HeadStatus::Complete(h)) => h.head_len as u16,
            Ok(HeadStatus::Incomplete) => 0,
            Err(e) => e.status,
        };
        assert_eq!(ka(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 29);
        assert_eq!(ka(b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 28);
        assert_eq!(ka(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(ka(b"\r\n"), 0);
        assert_eq!(ka(b"\r\nG"), 0);
        assert_eq!(ka(b"\r"), 400);
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let req = b"POST /x?y HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\nContent-Length: 3\r\n\r\nabc";
        let end = req.len() - 3;
        for n in 0..end {
            assert_eq!(st(&req[..n]), 0, "{n}");
        }
        let h = ok(req);
        assert_eq!((h.head_len, h.content_length), (end, Some(3)));
    }

    #[test]
    fn fields_of_a_request() {
        let h = ok(b"GET /a%20b/../c%3f?x=%41#f HTTP/1.1\r\nHost: Example.COM:80\r\nX-A: 1\r\nCookie: a=1\r\nx-a: 2\r\ncookie: b=2\r\nEmpty:  \r\nExpect: 100-Continue\r\n\r\n");
        assert_eq!(
            (h.method, h.version, h.keep_alive, h.expect_100),
            (Method::Get, Version::Http11, true, true)
        );
        assert_eq!(h.target, "/a%20b/../c%3f?x=%41#f");
        assert_eq!(h.normalized, "/c%3F?x=A");
        assert_eq!((h.path.as_str(), h.query.as_deref()), ("/c?", Some("x=A")));
        assert_eq!(h.host.as_deref(), Some("example.com"));
        let hs: Vec<(&str, &str)> = h
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            hs,
            [
                ("Host", "example.com"),
                ("X-A", "1, 2"),
                ("Cookie", "a=1; b=2"),
                ("Expect", "100-Continue")
            ]
        );
        assert_eq!(h.header("x-a"), Some("1, 2"));
        assert_eq!(h.header("empty"), None);
        assert_eq!(h.head_len, 135);
    }

    #[test]
    fn absolute_form() {
        let h = ok(b"GET HTTPS://Example.COM:443/x?y#z HTTP/1.1\r\nhost: example.com:443\r\n\r\n");
        assert_eq!((h.target.as_str(), h.path.as_str()), ("/x?y#z", "/x"));
        assert_eq!(h.host.as_deref(), Some("example.com:443")); // clear-text: 443 is not default
        assert_eq!(
            h.headers,
            [("Host".to_string(), "example.com:443".to_string())]
        );
        let h = parse_head(
            b"GET https://a:443/ HTTP/1.1\r\n\r\n",
            &ParseOpts::default(),
            true,
            false,
        )
        .unwrap();
        let HeadStatus::Complete(h) = h else { panic!() };
        assert_eq!(h.host.as_deref(), Some("a"));
        let long = format!("GET http://{}/ HTTP/1.1\r\n\r\n", "a".repeat(1024));
        assert_eq!(st(long.as_bytes()), 400);
    }

    #[test]
    fn options_star_and_connect_keep_target() {
        let h = ok(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            (h.path.as_str(), h.normalized.as_str(), h.query),
            ("*", "*", None)
        );
        let h = ok(b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(h.path, "127.0.0.1:80");
        let h = ok(b"CONNECT /a/../b HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(h.path, "/a/../b");
    }

    #[test]
    fn folding_and_trimming() {
        let h = ok(&get(
            "/",
            "Foo: a\r\n  b\r\n\tc \r\nBar: \t x \t\r\nBaz: \r\n  y\r\n",
        ));
        assert_eq!(h.header("Foo"), Some("a    b  \tc"));
        assert_eq!(h.header("Bar"), Some("x"));
        // leading blanks are only skipped on the first line
        assert_eq!(h.header("Baz"), Some("    y"));
        let h = ok_with(b"GET / HTTP/1.1\nHost: a\nFoo: a\n b\n\n", &lax());
        assert_eq!(h.header("Foo"), Some("a  b"));
    }

    #[test]
    fn keep_alive_from_connection_lines() {
        for (ver, conn, want) in [
            ("1.1", "", true),
            ("1.0", "", false),
            ("1.1", "Connection: close\r\n", false),
            ("1.1", "Connection: keep-alive, close\r\n", false),
            ("1.1", "Connection: keep-alive close\r\n", true),
            ("1.1", "Connection: Close;x\r\n", false),
            ("1.1", "Connection: closed\r\n", true),
            ("1.0", "Connection: keep-alive\r\n", true),
            ("1.0", "Connection: foo keep-alive\r\n", false),
            ("1.0", "Connection: foo, KEEP-ALIVE\r\n", true),
            (
                "1.0",
                "Connection: close\r\nConnection: keep-alive\r\n",
                true,
            ),
            (
                "1.1",
                "Connection: keep-alive\r\nConnection: close\r\n",
                false,
            ),
        ] {
            let req = format!("GET / HTTP/{ver}\r\nHost: a\r\n{conn}\r\n");
            assert_eq!(ok(req.as_bytes()).keep_alive, want, "{req:?}");
        }
    }

    #[test]
    fn body_indications() {
        let h = ok(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(h.chunked && h.content_length.is_none() && h.header("Transfer-Encoding").is_none());
        assert!(!ok(b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n").expect_100);
        assert!(!ok(b"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_100);
        let o = ParseOpts {
            method_get_body: true,
            ..ParseOpts::default()
        };
        assert_eq!(
            ok_with(&get("/", "Content-Length: 4\r\n"), &o).content_length,
            Some(4)
        );
        // non-strict: Transfer-Encoding wins and Content-Length is dropped
        let h = ok_with(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", &lax());
        assert!(h.chunked && h.content_length.is_none() && h.header("Content-Length").is_none());
    }

    #[test]
    fn max_request_size() {
        let o = ParseOpts {
            max_request_size_kb: 1,
            ..ParseOpts::default()
        };
        let post = |n: u32| {
            format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {n}\r\n\r\n").into_bytes()
        };
        assert_eq!(st_with(&post(1024), &o), 200);
        let e = parse_head(&post(1025), &o, false, false).unwrap_err();
        assert_eq!((e.status, e.close), (413, true));
        assert_eq!(e.log.as_deref(), Some("request-size too long: 1025 -> 413"));
        assert_eq!(st(&post(1 << 30)), 200);
        assert_eq!(
            check_content_length(Some(5000), 4),
            Err(HttpError::too_large(5000))
        );
        assert_eq!(check_content_length(None, 1), Ok(()));
    }

    #[test]
    fn upgrade_needs_connection() {
        assert_eq!(
            ok(&get("/", "Upgrade: websocket\r\n")).header("Upgrade"),
            None
        );
        let h = ok(&get("/", "Upgrade: h2c\r\nConnection: Upgrade\r\n"));
        assert_eq!(h.header("Upgrade"), Some("h2c"));
    }

    #[test]
    fn non_strict_mode() {
        let o = lax();
        for (req, want) in [
            (&b"GET / HTTP/1.10\r\nHost: a\r\n\r\n"[..], 200),
            (b"GET /a b HTTP/1.1x\r\nHost: a\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET ./x HTTP/1.1\r\nHost: a\r\n\r\n", 200),
            (b"CONNECT a.b:80 HTTP/1.1\r\nHost: a\r\n\r\n", 200),
            (b"GET / HTTP/1.1\r\nHost: a\r\nFoo \t: x\r\n\r\n", 200),
            (b"GET / HTTP/1.1\r\nHost: a\r\n : x\r\n\r\n", 200), // a fold of Host
            (b"GET / HTTP/1.1\r\nHost: a\r\nFo\x01o: x\r\n\r\n", 200),
            (b"GET / HTTP/1.1\r\nHost: a\r\nFo\x00o: x\r\n\r\n", 400),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x00\x01b\x7f\r\n\r\n",
                200,
            ),
            (b"GET / HTTP/1.1\r\nHost: -a_b.123:x\r\n\r\n", 200),
            (b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400),
            (b"GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ] {
            assert_eq!(st_with(req, &o), want, "{:?}", String::from_utf8_lossy(req));
        }
        let h = ok_with(
            b"GET / HTTP/1.1 aaaaaaaaaa\r\nHost: a\r\nFoo : x\r\n\r\n",
            &o,
        );
        assert_eq!(
            (h.target.as_str(), h.header("Foo")),
            ("/ HTTP/1.1", Some("x"))
        );
        assert_eq!(
            ok_with(b"GET a/../x HTTP/1.1\r\nHost: a\r\n\r\n", &o).path,
            "/x"
        );
    }

    #[test]
    fn methods_round_trip() {
        assert_eq!(Method::ALL.len(), 39);
        for &m in Method::ALL {
            assert_eq!(Method::from_bytes(m.as_str().as_bytes()), Some(m));
            let req = format!("{} /x HTTP/1.1\r\nHost: a\r\n\r\n", m.as_str());
            let want = if m == Method::Post { 411 } else { 200 };
            assert_eq!(st(req.as_bytes()), want, "{m:?}");
        }
        assert_eq!(Method::from_bytes(b"PRI"), None);
        assert_eq!(Method::from_bytes(b"get"), None);
    }

    #[test]
    fn h2_preface() {
        assert!(is_h2_preface(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        assert!(!is_h2_preface(b"PRI * HTTP/2.0\r\n"));
        assert!(!is_h2_preface(b"GET / HTTP/1.1\r\n\r\n"));
        assert_eq!(st(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
    }

    #[test]
    fn never_panics() {
        let seeds: [&[u8]; 4] = [
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST http://a:1/b?c HTTP/1.0\r\nX: y\r\n z\r\nContent-Length: 1\r\n\r\n",
            b"CONNECT :1 HTTP/1.1\nHost: [::1]:2\n\n",
            b"\r\nOPTIONS * HTTP/1.1\r\nHost: a.\r\n\r\n",
        ];
        let opts = [
            ParseOpts::default(),
            lax(),
            ParseOpts {
                max_request_field_size: 20,
                ..lax()
            },
        ];
        for seed in seeds {
            for i in 0..seed.len() {
                for b in [
                    0u8, b' ', b'\t', b'\r', b'\n', b':', b'%', b'/', b'[', 0x16, 0x80, 0xff,
                ] {
                    let mut v = seed.to_vec();
                    v[i] = b;
                    let mut w = seed.to_vec();
                    w.insert(i, b);
                    for o in &opts {
                        for ka in [false, true] {
                            let _ = parse_head(&v, o, false, ka);
                            let _ = parse_head(&w, o, true, ka);
                            let _ = parse_head(&v[..i], o, false, ka);
                        }
                    }
                }
            }
        }
    }
}
