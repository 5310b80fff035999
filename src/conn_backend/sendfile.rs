//! X-Sendfile / X-LIGHTTPD-send-file and X-Sendfile2 (fastcgi.md §4): the
//! backend names files whose bytes replace its body. As lighttpd 1.4.69
//! does it, measured side by side (scripts/compare-backend-random):
//!
//! - the backend's status and headers stay; its Content-Length goes, and
//!   the file's length takes that header's place;
//! - a file that cannot be sent sets 403 / 404 / 502; that becomes the
//!   server's error page only if the backend said 200 (or nothing). A
//!   backend that said 3xx-5xx keeps its status, with the file (or what
//!   of the X-Sendfile2 list was found before the failure, or nothing) as
//!   the body;
//! - X-Sendfile sets Content-Type (mimetype.assign), and on a 200 also
//!   ETag and Last-Modified unless the backend sent them, then answers
//!   If-None-Match / If-Modified-Since (304) against those;
//! - X-Sendfile2 walks its list in order: each piece is decoded, checked
//!   against x-sendfile-docroot, looked up, then its range parsed (as
//!   strtoll reads it; an end past the file is cut at the file's end);
//! - the result then takes a client's Range like any complete 200.

use super::*;
use crate::http::backend_resp::XSendfile;
use crate::http::sendfile2;
use crate::http::uri::{decode_path, simplify_path};
use crate::response::Piece;
use std::os::unix::fs::MetadataExt;

/// How a send-file step ended.
enum Step {
    /// The status now (the backend's, or one the step set), to be
    /// reconciled with the backend's.
    Status(u16),
    /// The server's error page, whatever the backend said.
    Page(u16),
}

/// A header value for the log: lighttpd escapes a line's bytes that are
/// not printable ASCII.
fn shown(b: &[u8]) -> String {
    crate::log::escape(b)
}

impl Conn {
    /// The response for a backend head carrying `x` (its status and
    /// headers in `r`), complete with body and Content-Length; or the
    /// error status to answer with when the file cannot be sent.
    pub(super) fn x_sendfile(
        &mut self,
        sh: &mut Shared,
        b: &BackendRun,
        mut r: Response,
        x: &XSendfile,
    ) -> Result<Response, u16> {
        let sent = r.status;
        // The backend's Content-Length keeps its place for the real one.
        let slot = r
            .headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case("Content-Length"));
        r.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("Content-Length"));
        let mut pieces = Vec::new();
        let step = match x {
            XSendfile::Path(raw) => send_path(sh, b, &mut r, raw, &mut pieces),
            XSendfile::Ranges(value) => send_ranges(sh, b, value, sent, &mut pieces),
        };
        let status = match step {
            Step::Page(s) => return Err(s),
            Step::Status(s) if s >= 400 && sent < 300 => return Err(s),
            Step::Status(_) if sent != 200 => sent,
            Step::Status(s) => s,
        };
        r.status = status;
        if status == 200 && !response::pieces_range(&mut r, &mut pieces, &b.ranges) {
            // Not for the error handler: as a static file's 416.
            return Ok(response::error_response(416, &b.conf, false));
        }
        let len: u64 = pieces.iter().map(Piece::len).sum();
        if matches!(status, 204 | 304) || status < 200 {
            let encoding = status == 304;
            r.headers.retain(|(k, _)| {
                !(k.eq_ignore_ascii_case("Content-Length")
                    || (encoding && k.eq_ignore_ascii_case("Content-Encoding")))
            });
            return Ok(r);
        }
        if r.get("Content-Length").is_none() && !(b.head_only && len == 0) {
            r.header("Content-Length", len);
        }
        let at = r
            .headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case("Content-Length"));
        if let (Some(i), Some(j)) = (slot, at) {
            let h = r.headers.remove(j);
            r.headers.insert(i.min(r.headers.len()), h);
        }
        r.body = response::Body::Segments(pieces);
        Ok(r)
    }
}

/// Why a path a send-file header names cannot be used.
enum Unusable {
    /// Not UTF-8 once URL-decoded.
    Utf8,
    /// Nothing left once simplified.
    Blank,
    /// Not under x-sendfile-docroot.
    Outside,
}

/// The path `raw` (from header `header`) names: URL-decoded, simplified,
/// lower-cased with server.force-lowercase-filenames, under
/// x-sendfile-docroot when that is set; lighttpd's line logged for the
/// first and the last refusal.
fn named_path(b: &BackendRun, raw: &[u8], header: &str) -> Result<String, Unusable> {
    let path = String::from_utf8(decode_path(raw)).map_err(|e| {
        crate::log_error!(
            "{header} invalid UTF-8 after url-decode: {}",
            shown(e.as_bytes())
        );
        Unusable::Utf8
    })?;
    let mut path = simplify_path(&path);
    if b.conf.force_lowercase_filenames {
        path.make_ascii_lowercase();
    }
    if path.is_empty() {
        return Err(Unusable::Blank);
    }
    let roots = &b.host.x_sendfile_docroot;
    if !roots.is_empty() && !roots.iter().any(|d| path.starts_with(d.as_str())) {
        crate::log_error!(
            "{header} ({}) not under configured x-sendfile-docroot(s)",
            shown(path.as_bytes())
        );
        return Err(Unusable::Outside);
    }
    Ok(path)
}

/// X-Sendfile: one file, the whole of it.
fn send_path(
    sh: &mut Shared,
    b: &BackendRun,
    r: &mut Response,
    raw: &[u8],
    pieces: &mut Vec<Piece>,
) -> Step {
    let path = match named_path(b, raw, "X-Sendfile") {
        Ok(p) => p,
        Err(Unusable::Utf8) if r.status < 400 => return Step::Page(502),
        Err(Unusable::Utf8) => return Step::Status(r.status),
        Err(Unusable::Blank) => return Step::Status(502),
        Err(Unusable::Outside) => return Step::Status(403),
    };
    send_file(sh, b, r, &path, pieces)
}

/// The file at `path` as the body, with Content-Type, and on a 200 the
/// validators and the conditional request's answer.
fn send_file(
    sh: &mut Shared,
    b: &BackendRun,
    r: &mut Response,
    path: &str,
    pieces: &mut Vec<Piece>,
) -> Step {
    let conf = &b.conf;
    let uri = b.req.as_ref().map(|q| q.path()).unwrap_or("");
    let not_regular = || {
        crate::log_error!(
            "not a regular file: {} -> {}",
            shown(&crate::http::lossless::to_bytes(uri)),
            shown(path.as_bytes())
        );
    };
    if !path.starts_with('/') {
        not_regular();
        return Step::Status(403);
    }
    let mut cache = sh.stat_cache.borrow_mut();
    let entry = match cache.stat(path, sh.now) {
        Ok(e) => e,
        Err(errno) => {
            not_regular();
            return Step::Status(if errno == libc::ENOENT { 404 } else { 403 });
        }
    };
    if !conf.follow_symlink && response::has_symlink("", path) {
        if conf.log_request_handling {
            crate::log_error!("-- access denied due symlink restriction");
            crate::log_error!("Path         : {}", shown(path.as_bytes()));
        }
        return Step::Status(403);
    }
    if !entry.meta.is_file() {
        if conf.log_file_not_found {
            not_regular();
        }
        return Step::Status(403);
    }
    let len = entry.meta.len();
    let file = if len > 0 {
        match entry.file(path) {
            Ok(f) => Some(f),
            Err(e) => {
                if conf.log_request_handling {
                    crate::log_error!(
                        "file open failed: {}: {}",
                        shown(path.as_bytes()),
                        crate::sys::strerror(&e)
                    );
                }
                let enoent = e.raw_os_error() == Some(libc::ENOENT);
                return Step::Status(if enoent { 404 } else { 403 });
            }
        }
    } else {
        None
    };
    let mut caching = r.status == 200;
    if r.get("Content-Type").is_none() {
        match conf.mimetypes.lookup_shared(path) {
            Some(t) => r.header("Content-Type", t),
            None => {
                r.header("Content-Type", "application/octet-stream");
                caching = false;
            }
        }
    }
    if caching {
        if r.get("ETag").is_none()
            && conf.etags
            && let Some(e) = entry.etag(crate::http::etag::EtagFlags {
                inode: conf.etag_inode,
                mtime: conf.etag_mtime,
                size: conf.etag_size,
            })
        {
            r.header("ETag", e);
        }
        if r.get("Last-Modified").is_none() {
            r.header("Last-Modified", entry.last_modified());
        }
        let req = b.req.as_ref();
        let header = |n| req.and_then(|q| q.header(n));
        let get_head = req.is_some_and(|q| {
            matches!(
                q.method,
                crate::http::request::Method::Get | crate::http::request::Method::Head
            )
        });
        match crate::http::conditional::check(
            get_head,
            header("If-None-Match"),
            header("If-Modified-Since"),
            r.get("ETag"),
            r.get("Last-Modified").unwrap_or(""),
            entry.meta.mtime(),
            header("Range").is_some(),
        ) {
            crate::http::conditional::CondResult::NotModified => return Step::Status(304),
            crate::http::conditional::CondResult::PreconditionFailed => {
                return Step::Status(412);
            }
            crate::http::conditional::CondResult::Proceed => {}
        }
    }
    if let Some(f) = file {
        pieces.push(Piece::File(f, 0, len));
    }
    r.header("Content-Length", len);
    Step::Status(200)
}

/// X-Sendfile2: its items in order until one fails (http/sendfile2.rs).
fn send_ranges(
    sh: &mut Shared,
    b: &BackendRun,
    value: &[u8],
    sent: u16,
    pieces: &mut Vec<Piece>,
) -> Step {
    let mut walk = sendfile2::Walk::new(value);
    loop {
        let item = match walk.next_item() {
            sendfile2::Next::End => return Step::Status(sent),
            sendfile2::Next::NoRange(rest) => {
                crate::log_error!("Couldn't find range after filename: {}", shown(rest));
                return Step::Status(502);
            }
            sendfile2::Next::Item(item) => item,
        };
        let path = match named_path(b, item.name, "X-Sendfile2") {
            Ok(p) => p,
            Err(Unusable::Utf8 | Unusable::Blank) => return Step::Status(502),
            Err(Unusable::Outside) => return Step::Status(403),
        };
        let mut cache = sh.stat_cache.borrow_mut();
        let opened = match cache.stat(&path, sh.now) {
            Ok(e) if path.starts_with('/') => {
                e.meta.is_file().then(|| (e.meta.len(), e.file(&path)))
            }
            _ => {
                crate::log_error!(
                    "send-file error: couldn't get stat_cache entry for X-Sendfile2: {}",
                    shown(path.as_bytes())
                );
                return Step::Status(404);
            }
        };
        drop(cache);
        let Some((size, file)) = opened else {
            crate::log_error!(
                "send-file error: wrong filetype for X-Sendfile2: {}",
                shown(path.as_bytes())
            );
            return Step::Status(502);
        };
        let Some((start, end)) = sendfile2::parse_range(item.range, size) else {
            crate::log_error!("Couldn't decode range after filename: {}", shown(item.rest));
            return Step::Status(502);
        };
        // No parameters after the range.
        if item.junk_after {
            return Step::Status(502);
        }
        let len = i128::from(end) - i128::from(start) + 1;
        if len < 0 {
            return Step::Status(502);
        }
        // A range past the end of the file is cut at its end.
        let take = len.min((i128::from(size) - i128::from(start)).max(0)) as u64;
        if take > 0 {
            match file {
                Ok(f) => pieces.push(Piece::File(f, start as u64, take)),
                Err(_) => return Step::Status(502),
            }
        }
    }
}
