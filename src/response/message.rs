//! A response as the pipeline builds it (status, headers in lighttpd's
//! order, body: memory, a cached file's bytes, file ranges or multipart
//! parts) and its head on the wire (status line, headers, then
//! Connection, Date and Server). Header lists are handed back after a
//! response is queued, so the next one reuses the memory.

use crate::http::request::Version;
use crate::http::status;
use std::borrow::Cow;
use std::fs::File;
use std::rc::Rc;

/// A response body.
#[derive(Debug)]
pub enum Body {
    Empty,
    Mem(Vec<u8>),
    /// A small file's cached contents.
    Bytes(Rc<[u8]>),
    File {
        file: Rc<File>,
        off: u64,
        len: u64,
    },
    /// Pieces sent one after the other (X-Sendfile2's file ranges, a range
    /// of an X-Sendfile reply, multipart parts of either).
    Segments(Vec<Piece>),
    /// multipart/byteranges: (part header, start, end inclusive) then the
    /// closing boundary.
    Parts {
        file: Rc<File>,
        parts: Vec<(Vec<u8>, u64, u64)>,
        closing: Vec<u8>,
    },
}

/// One piece of a [`Body::Segments`] body.
#[derive(Debug, Clone)]
pub enum Piece {
    Mem(Vec<u8>),
    /// (file, offset, length)
    File(Rc<File>, u64, u64),
}

impl Piece {
    pub fn len(&self) -> u64 {
        match self {
            Piece::Mem(b) => b.len() as u64,
            Piece::File(_, _, n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A response header's value: a fixed text, a text shared with a cache
/// (the stat cache's dates and tags, the mimetype table), or one made for
/// this response. Only the last costs an allocation.
#[derive(Debug, Clone)]
pub enum HeaderValue {
    Static(&'static str),
    Shared(Rc<str>),
    Owned(String),
    /// A number (Content-Length) as decimal digits, kept inline.
    Number {
        digits: [u8; 20],
        len: u8,
    },
}

impl std::ops::Deref for HeaderValue {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            HeaderValue::Static(s) => s,
            HeaderValue::Shared(s) => s,
            HeaderValue::Owned(s) => s,
            // Only ASCII digits are ever written there.
            HeaderValue::Number { digits, len } => {
                std::str::from_utf8(&digits[..*len as usize]).unwrap_or("")
            }
        }
    }
}

impl From<u64> for HeaderValue {
    fn from(n: u64) -> Self {
        let mut buf = itoa::Buffer::new();
        let text = buf.format(n).as_bytes();
        let mut digits = [0u8; 20];
        digits[..text.len()].copy_from_slice(text);
        HeaderValue::Number {
            digits,
            len: text.len() as u8,
        }
    }
}

impl From<&'static str> for HeaderValue {
    fn from(s: &'static str) -> Self {
        HeaderValue::Static(s)
    }
}

impl From<String> for HeaderValue {
    fn from(s: String) -> Self {
        HeaderValue::Owned(s)
    }
}

impl From<Rc<str>> for HeaderValue {
    fn from(s: Rc<str>) -> Self {
        HeaderValue::Shared(s)
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// In lighttpd's order; Connection, Date and Server are added last.
    pub headers: Headers,
    pub body: Body,
    /// The connection must close after this response.
    pub close: bool,
    /// Made by a handler module (a directory listing): an error handler's
    /// static page takes the error's status, this keeps its own, as in
    /// lighttpd.
    pub from_handler: bool,
}

type Headers = Vec<(Cow<'static, str>, HeaderValue)>;

thread_local! {
    /// The header list of the last response sent, for the next one.
    static SPARE_HEADERS: std::cell::Cell<Headers> = const { std::cell::Cell::new(Vec::new()) };
}

impl Response {
    pub fn new(status: u16) -> Self {
        let mut headers = SPARE_HEADERS.with(|s| s.take());
        if headers.capacity() == 0 {
            headers.reserve(8);
        }
        Response {
            status,
            headers,
            body: Body::Empty,
            close: false,
            from_handler: false,
        }
    }

    /// Gives the header list back for the next response (its values are
    /// dropped now); the body is the caller's.
    pub fn recycle_headers(headers: Headers) {
        let mut h = headers;
        if h.capacity() <= 64 {
            h.clear();
            SPARE_HEADERS.with(|s| s.set(h));
        }
    }

    pub fn header(&mut self, name: &'static str, value: impl Into<HeaderValue>) {
        self.headers.push((Cow::Borrowed(name), value.into()));
    }

    /// The value of the first header called `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| &**v)
    }

    /// Sets `name` where it stands (the first of that name, any case), or
    /// adds it at the end. Further lines of that name (a backend's
    /// repeated header) go: 1.4.69 keeps them all in one entry, which the
    /// new value replaces.
    pub fn set(&mut self, name: &'static str, value: impl Into<HeaderValue>) {
        let same = |k: &Cow<'static, str>| k.eq_ignore_ascii_case(name);
        match self.headers.iter().position(|(k, _)| same(k)) {
            Some(i) => {
                self.headers[i].1 = value.into();
                if self.headers[i + 1..].iter().any(|(k, _)| same(k)) {
                    let mut n = 0;
                    self.headers.retain(|(k, _)| {
                        n += 1;
                        n <= i + 1 || !same(k)
                    });
                }
            }
            None => self.header(name, value),
        }
    }
}

/// The status line and headers, with Connection, Date and Server last,
/// appended to `out`. Headers a backend sent keep their place, as
/// lighttpd's do: its Date and Server stand instead of ours, and its first
/// Connection line carries our value (`close`, or `keep-alive` to HTTP/1.0)
/// with the others dropped; to an HTTP/1.1 keep-alive client, where we
/// send none, its lines go as they are.
pub fn serialize_head_into(
    out: &mut Vec<u8>,
    r: &Response,
    version: Version,
    keep_alive: bool,
    date: &str,
    server_tag: Option<&str>,
) {
    out.extend_from_slice(if version == Version::Http11 {
        b"HTTP/1.1 "
    } else {
        b"HTTP/1.0 "
    });
    // `404 Not Found` (status_line_text) written in place.
    out.extend_from_slice(itoa::Buffer::new().format(r.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(status::reason(r.status).as_bytes());
    out.extend_from_slice(b"\r\n");
    let connection: Option<&str> = if !keep_alive {
        Some("close")
    } else if version == Version::Http10 {
        Some("keep-alive")
    } else {
        None
    };
    let (mut connection_sent, mut has_date, mut has_server) = (false, false, false);
    for (k, val) in &r.headers {
        if val.is_empty() {
            continue;
        }
        let mut val: &str = val;
        match k.len() {
            4 if k.eq_ignore_ascii_case("Date") => has_date = true,
            6 if k.eq_ignore_ascii_case("Server") => has_server = true,
            10 if k.eq_ignore_ascii_case("Connection") => {
                if let Some(ours) = connection {
                    if connection_sent {
                        continue;
                    }
                    val = ours;
                    connection_sent = true;
                }
            }
            _ => {}
        }
        out.extend_from_slice(&crate::http::lossless::to_bytes(k));
        out.extend_from_slice(b": ");
        // a backend's bytes (a Latin-1 file name) go out as they came
        out.extend_from_slice(&crate::http::lossless::to_bytes(val));
        out.extend_from_slice(b"\r\n");
    }
    if let Some(v) = connection.filter(|_| !connection_sent) {
        out.extend_from_slice(b"Connection: ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !has_date {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(date.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(tag) = server_tag.filter(|t| !t.is_empty() && !has_server) {
        out.extend_from_slice(b"Server: ");
        out.extend_from_slice(&crate::http::lossless::to_bytes(tag));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(r: &Response, version: Version, keep_alive: bool) -> String {
        let mut out = Vec::new();
        serialize_head_into(&mut out, r, version, keep_alive, "D", Some("S"));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn set_replaces_every_line_of_the_name_in_the_first_ones_place() {
        let mut r = Response::new(200);
        for (k, v) in [
            ("A", "1"),
            ("Content-Range", "bytes 0-1/2"),
            ("B", "2"),
            ("content-range", "bytes 0-1/2"),
            ("C", "3"),
        ] {
            r.headers.push((Cow::Borrowed(k), HeaderValue::Static(v)));
        }
        r.set("Content-Range", "bytes 1-3/19");
        r.set("D", "4");
        let lines: Vec<String> = r
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", &**v))
            .collect();
        assert_eq!(
            lines,
            [
                "A: 1",
                "Content-Range: bytes 1-3/19",
                "B: 2",
                "C: 3",
                "D: 4"
            ]
        );
    }

    #[test]
    fn a_backends_connection_date_and_server_keep_their_place() {
        let mut r = Response::new(200);
        for (k, v) in [
            ("Connection", "keep-alive"),
            ("X", "1"),
            ("connection", "Upgrade"),
        ] {
            r.headers.push((Cow::Borrowed(k), HeaderValue::Static(v)));
        }
        // Our value in the first one's place, the others dropped.
        assert_eq!(
            head(&r, Version::Http11, false),
            "HTTP/1.1 200 OK\r\nConnection: close\r\nX: 1\r\nDate: D\r\nServer: S\r\n\r\n"
        );
        assert_eq!(
            head(&r, Version::Http10, true),
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nX: 1\r\nDate: D\r\nServer: S\r\n\r\n"
        );
        // HTTP/1.1 keep-alive: we send none, so theirs go as they are.
        assert_eq!(
            head(&r, Version::Http11, true),
            "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nX: 1\r\nconnection: Upgrade\r\nDate: D\r\nServer: S\r\n\r\n"
        );
        let mut r = Response::new(404);
        r.header("Server", "theirs");
        r.header("Date", "yesterday");
        assert_eq!(
            head(&r, Version::Http11, false),
            "HTTP/1.1 404 Not Found\r\nServer: theirs\r\nDate: yesterday\r\nConnection: close\r\n\r\n"
        );
        // Empty ones are dropped and do not count.
        let mut r = Response::new(200);
        r.header("Server", "");
        assert!(head(&r, Version::Http11, true).ends_with("Date: D\r\nServer: S\r\n\r\n"));
    }

    #[test]
    fn numbers_as_header_values() {
        for n in [0u64, 7, 4096, 1 << 20, u64::MAX] {
            assert_eq!(&*HeaderValue::from(n), n.to_string());
        }
        let v: HeaderValue = Rc::<str>::from("text/plain").into();
        assert_eq!(&*v, "text/plain");
    }
}
