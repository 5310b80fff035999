//! A parsed request head held in one text buffer: the target, its
//! normalized forms and every header name and value are stretches of it,
//! and the header table is a list of (name, value) spans. Parsing a usual
//! request therefore copies its bytes once and allocates nothing else; a
//! head handed back with [`RequestHead::recycle`] lends its buffers to the
//! next one, so a keep-alive connection parses without allocating.

use super::{Method, Version};

/// A stretch of [`RequestHead`]'s text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Span {
    start: usize,
    end: usize,
}

impl Span {
    pub(super) fn start(self) -> usize {
        self.start
    }

    pub(super) fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub(super) fn sub(self, from: usize, to: usize) -> Span {
        Span {
            start: self.start + from,
            end: self.start + to,
        }
    }
}

/// A parsed request head (see the module comment).
#[derive(Clone, Debug)]
pub struct RequestHead {
    pub method: Method,
    pub version: Version,
    text: String,
    /// Raw target as received, `#fragment` included (CGI REQUEST_URI);
    /// for absolute form only the path and query.
    target: Span,
    /// Decoded, simplified path (`$HTTP["url"]`); the target itself for
    /// CONNECT and `OPTIONS *`.
    path: Span,
    /// Still-encoded query (`$HTTP["querystring"]`); `Some` empty for a
    /// bare `?`.
    query: Option<Span>,
    /// The normalized target (what mod_rewrite sees).
    normalized: Span,
    /// Normalized authority (`$HTTP["host"]`).
    host: Option<Span>,
    /// In first-seen order with the first-seen name; empty values dropped,
    /// repeats merged with `, ` (`; ` for Cookie); Host is the normalized
    /// authority under the name `Host`; Transfer-Encoding is not kept.
    fields: Vec<(Span, Span)>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub keep_alive: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    pub expect_100: bool,
    /// Bytes of the buffer used, leading blank line and final blank line
    /// included.
    pub head_len: usize,
}

thread_local! {
    /// A head whose buffers the next parse may use.
    static SPARE: std::cell::Cell<Option<RequestHead>> = const { std::cell::Cell::new(None) };
}

impl RequestHead {
    /// An empty head, on the buffers of a recycled one when there is one.
    pub(super) fn fresh(method: Method, version: Version) -> RequestHead {
        let mut h = SPARE.with(|s| s.take()).unwrap_or_else(|| RequestHead {
            method,
            version,
            text: String::with_capacity(256),
            target: Span::default(),
            path: Span::default(),
            query: None,
            normalized: Span::default(),
            host: None,
            fields: Vec::with_capacity(16),
            content_length: None,
            chunked: false,
            keep_alive: false,
            expect_100: false,
            head_len: 0,
        });
        h.method = method;
        h.version = version;
        h.text.clear();
        h.fields.clear();
        h.target = Span::default();
        h.path = Span::default();
        h.normalized = Span::default();
        h.query = None;
        h.host = None;
        h.content_length = None;
        h.chunked = false;
        h.keep_alive = false;
        h.expect_100 = false;
        h.head_len = 0;
        h
    }

    /// Gives the head's buffers to the next request parsed on this
    /// thread (a head that grew unusually large is dropped instead).
    pub fn recycle(self) {
        if self.text.capacity() <= 16 * 1024 && self.fields.capacity() <= 256 {
            SPARE.with(|s| s.set(Some(self)));
        }
    }

    fn str(&self, s: Span) -> &str {
        &self.text[s.start..s.end]
    }

    pub fn target(&self) -> &str {
        self.str(self.target)
    }

    pub fn path(&self) -> &str {
        self.str(self.path)
    }

    pub fn query(&self) -> Option<&str> {
        self.query.map(|s| self.str(s))
    }

    pub fn normalized(&self) -> &str {
        self.str(self.normalized)
    }

    pub fn host(&self) -> Option<&str> {
        self.host.map(|s| self.str(s))
    }

    /// The header fields in order, as (name, value).
    pub fn headers(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.fields.iter().map(|&(n, v)| (self.str(n), self.str(v)))
    }

    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.index_of(name).map(|i| self.str(self.fields[i].1))
    }

    /// [`RequestHead::index_of`] for an ASCII name given as bytes.
    pub(super) fn index_of_bytes(&self, name: &[u8]) -> Option<usize> {
        self.fields
            .iter()
            .position(|&(n, _)| self.str(n).as_bytes().eq_ignore_ascii_case(name))
    }

    pub(super) fn index_of(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|&(n, _)| self.str(n).eq_ignore_ascii_case(name))
    }

    /// An error handler's sub-request: its URL `uri` (what CGI sees as
    /// REDIRECT_URI), split into `path` and `query`; the client's target
    /// (REQUEST_URI) is kept.
    pub fn set_sub_target(&mut self, uri: &str, path: &str, query: Option<&str>) {
        self.normalized = self.push_str(uri);
        self.path = self.push_str(path);
        self.query = query.map(|q| self.push_str(q));
    }

    /// No target as sent (REQUEST_URI empty): the head stands in for a
    /// request whose request line could not be read.
    pub fn clear_target(&mut self) {
        self.target = Span::default();
    }

    /// Appends bytes as text (bytes that are not UTF-8 held as
    /// [`crate::http::lossless`] says).
    pub(super) fn push(&mut self, b: &[u8]) -> Span {
        let start = self.text.len();
        crate::http::lossless::push_bytes(&mut self.text, b);
        Span {
            start,
            end: self.text.len(),
        }
    }

    pub(super) fn push_str(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len(),
        }
    }

    /// Where the text ends now (the start of what is pushed next).
    pub(super) fn mark(&self) -> usize {
        self.text.len()
    }

    /// Drops what was pushed since `mark`.
    pub(super) fn truncate(&mut self, mark: usize) {
        self.text.truncate(mark);
    }

    /// The text pushed since `mark`, trailing blanks removed.
    pub(super) fn since_trimmed(&mut self, mark: usize) -> Span {
        let kept = self.text[mark..].trim_end_matches([' ', '\t']).len();
        self.text.truncate(mark + kept);
        Span {
            start: mark,
            end: mark + kept,
        }
    }

    pub(super) fn lowercase(&mut self, s: Span) {
        self.text[s.start..s.end].make_ascii_lowercase();
    }

    pub(super) fn span_str(&self, s: Span) -> &str {
        self.str(s)
    }

    pub(super) fn add_field(&mut self, name: Span, value: Span) {
        self.fields.push((name, value));
    }

    /// Drops every header called `name` (any case).
    pub fn remove_header(&mut self, name: &str) {
        while let Some(i) = self.index_of(name) {
            self.fields.remove(i);
        }
    }

    pub(super) fn remove_field(&mut self, i: usize) {
        self.fields.remove(i);
    }

    pub(super) fn field_value(&self, i: usize) -> Span {
        self.fields[i].1
    }

    pub(super) fn set_field_value(&mut self, i: usize, v: Span) {
        self.fields[i].1 = v;
    }

    /// Appends `sep` and the text since `mark` to field `i`'s value (a
    /// repeated header). The value is moved to the end first unless it is
    /// already there.
    pub(super) fn merge_into(&mut self, i: usize, sep: &str, mark: usize) {
        let old = self.fields[i].1;
        let added = self.text[mark..].to_owned();
        self.text.truncate(mark);
        let start = if old.end == self.text.len() {
            old.start
        } else {
            let moved = self.text[old.start..old.end].to_owned();
            self.push_str(&moved).start
        };
        self.text.push_str(sep);
        self.text.push_str(&added);
        self.fields[i].1 = Span {
            start,
            end: self.text.len(),
        };
    }

    pub(super) fn set_spans(
        &mut self,
        target: Span,
        normalized: Span,
        path: Span,
        query: Option<Span>,
        host: Option<Span>,
    ) {
        self.target = target;
        self.normalized = normalized;
        self.path = path;
        self.query = query;
        self.host = host;
    }
}

impl PartialEq for RequestHead {
    fn eq(&self, o: &Self) -> bool {
        self.method == o.method
            && self.version == o.version
            && self.target() == o.target()
            && self.path() == o.path()
            && self.query() == o.query()
            && self.normalized() == o.normalized()
            && self.host() == o.host()
            && self.headers().eq(o.headers())
            && self.content_length == o.content_length
            && self.chunked == o.chunked
            && self.keep_alive == o.keep_alive
            && self.expect_100 == o.expect_100
            && self.head_len == o.head_len
    }
}

impl Eq for RequestHead {}
