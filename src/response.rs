//! From a parsed request to a response: lighttpd's pipeline for the core
//! and the built-in static modules, in its order (http-core.md §5–§8):
//! mod_access (url.access-deny), `OPTIONS *` / CONNECT, physical path =
//! document root + path, stat with PATH_INFO search and the symlink rule,
//! the directory 301, mod_indexfile, mod_dirlisting, mod_staticfile
//! (Content-Type, ETag, Last-Modified, conditional requests, ranges), then
//! error pages (errorfile-prefix or the built-in XHTML page) and the
//! status line with Date and Server last.

use crate::config::cond_trace::Stage;
use crate::http::conditional::{self, CondResult};
use crate::http::etag::{self, EtagFlags};
use crate::http::lossless;
use crate::http::range::{self, RangeOutcome};
use crate::http::request::{Method, RequestHead, Version};
use crate::http::status;
use crate::http::uri;
use crate::mods::{dirlisting_cache, dirlisting_html};
use crate::reqconf::RequestConf;
use std::borrow::Cow;
use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::rc::Rc;

mod mem_range;
mod message;
pub use mem_range::{RangeAsk, apply as mem_range, apply_pieces as pieces_range};
pub use message::{Body, HeaderValue, Piece, Response, serialize_head_into};

/// What the pipeline needs besides the request and its config.
pub struct Ctx<'a> {
    pub now: i64,
    pub conf: &'a RequestConf,
    pub cache: &'a std::cell::RefCell<crate::stat_cache::StatCache>,
    /// The connection's local address, when absolute-dir-redirect may
    /// need it (a request without Host).
    pub local: Option<std::net::SocketAddr>,
    /// The request (with its Range) and the method a directory listing's
    /// Range step answers for, when not the request's: an error handler's
    /// sub-request runs as GET without Range (a static page goes out
    /// whole) but a listing answers the client's Range and method.
    pub range_of: Option<(&'a RequestHead, Method)>,
    /// The configuration as mod_staticfile reads it once the URL path
    /// changed, and the condition trace of the modules' stages (see
    /// [`LateConf`]); None: the request's own, no trace.
    pub late: Option<&'a dyn LateConf>,
    /// mod_access already refused the request, on the URL path mod_fastcgi
    /// cut to SCRIPT_NAME before it looked ([`crate::mods::fastcgi::Claim::Denied`]).
    pub denied: bool,
}

/// The request's configuration with the condition blocks that lighttpd
/// 1.4.69 decides only when mod_staticfile reads its options decided on
/// the URL path it sees then, `url` (PATH_INFO split off, or an index
/// file's name added: `dir`); None when that changes nothing.
pub trait LateConf {
    fn late_conf(&self, url: &str, dir: bool) -> Option<Rc<RequestConf>>;
    /// debug.log-condition-handling for the blocks `stage` decides, on
    /// the URL path `url` (`ran`: the stages before it that ran).
    fn trace_stage(&self, stage: Stage, ran: &[Stage], url: &str);
}

impl Ctx<'_> {
    /// stat(2) through the stat cache: the metadata or the errno.
    pub fn stat(&self, path: &str) -> Result<Metadata, i32> {
        self.cache
            .borrow_mut()
            .stat(path, self.now)
            .map(|c| c.meta.clone())
    }
}

const ALLOW: &str = "OPTIONS, GET, HEAD, POST";

/// The built-in or errorfile-prefix error page for `status`.
pub fn error_response(status: u16, conf: &RequestConf, close: bool) -> Response {
    let mut r = Response::new(status);
    r.close = close;
    if let Some(prefix) = &conf.errorfile_prefix {
        let path = format!("{prefix}{status}.html");
        if let Ok(f) = File::open(crate::http::lossless::to_path(&path))
            && let Ok(m) = f.metadata()
            && m.is_file()
        {
            let len = m.len();
            // the file's type by mimetype.assign; none when it names none
            // (1.4.69 sends no Content-Type then)
            if let Some(t) = conf.mimetypes.lookup_shared(&path) {
                r.header("Content-Type", t.to_string());
            }
            r.header("Content-Length", len);
            r.body = Body::File {
                file: Rc::new(f),
                off: 0,
                len,
            };
            return r;
        }
    }
    let page = status::error_page(status);
    r.header("Content-Type", "text/html");
    r.header("Content-Length", page.len() as u64);
    r.body = Body::Mem(page.into_bytes());
    r
}

/// What the static pipeline made of a request.
pub enum Handled {
    Response(Response),
    /// An error that server.error-handler (or -404) takes over: the
    /// connection runs the handler's URL as a sub-request, which a
    /// FastCGI key may take ([`error_sub_head`], [`serve_error_sub`]).
    ErrorHandler(ErrorSub),
}

/// A pending server.error-handler / server.error-handler-404 sub-request.
#[derive(Clone, Debug)]
pub struct ErrorSub {
    /// The status the original request ended with.
    pub status: u16,
    /// The handler's URL (path, maybe a query).
    pub uri: Rc<str>,
    /// server.error-handler: re-run as GET without the request body, and
    /// a static page goes out under the original status; the legacy
    /// server.error-handler-404 keeps the method, the body and the
    /// handler's own status.
    pub as_get: bool,
    /// The original response closed the connection (CONNECT).
    pub close: bool,
}

impl ErrorSub {
    /// What the sub-request keeps of the request that failed, whose
    /// method was `method`.
    pub fn origin(&self, method: Method) -> ErrorOrigin {
        ErrorOrigin {
            status: self.status,
            method,
            as_get: self.as_get,
            close: self.close,
        }
    }
}

/// What an error handler's sub-request keeps of the request that failed,
/// for as long as the sub-request runs (through a FastCGI authorizer and
/// a responder too): its status (REDIRECT_STATUS for a backend, replacing
/// the fixed `REDIRECT_STATUS=200`), and its method: server.error-handler
/// runs the handler as a GET, but the reply is sent as the client's method
/// asks (a HEAD gets no body; Range and Accept-Ranges only for a GET or
/// HEAD), as lighttpd 1.4.69 restores the method once the handler has
/// answered. `as_get` and `close` as in [`ErrorSub`].
#[derive(Clone, Copy, Debug)]
pub struct ErrorOrigin {
    pub status: u16,
    pub method: Method,
    pub as_get: bool,
    pub close: bool,
}

impl ErrorOrigin {
    /// The client asked with HEAD: no body goes out.
    pub fn head(self) -> bool {
        self.method == Method::Head
    }

    /// The status whose page answers when the sub-request itself fails
    /// with `status` (nothing found, a backend down or broken): for
    /// server.error-handler the original error's, for -404 its own but
    /// for a 403 / 404, as 1.4.69 answers.
    pub fn failed(self, status: u16) -> u16 {
        if self.as_get || matches!(status, 403 | 404) {
            self.status
        } else {
            status
        }
    }
}

/// Runs the static pipeline for one request.
pub fn handle(req: &RequestHead, ctx: &Ctx<'_>) -> Handled {
    let conf = ctx.conf;
    let mut r = route(req, ctx);
    // A 416 is the range step's, which lighttpd takes after the error
    // handlers have had their turn: it never goes to them.
    if r.status >= 400
        && r.status != 416
        && matches!(r.body, Body::Empty)
        && let Some(sub) = error_handler(conf, r.status, r.close)
    {
        return Handled::ErrorHandler(sub);
    }
    // A body we did not read cannot be skipped safely: close afterwards.
    if has_body(req) {
        r.close = true;
    }
    if r.status >= 400 && matches!(r.body, Body::Empty) {
        let close = r.close;
        r = error_response(r.status, conf, close);
    }
    Handled::Response(r)
}

fn has_body(req: &RequestHead) -> bool {
    req.content_length.is_some_and(|n| n > 0) || req.chunked
}

/// server.error-handler (any status >= 400) or the legacy
/// server.error-handler-404 (403/404 only), when one is set for `status`
/// (an empty one is not set, as in 1.4.69).
pub fn error_handler(conf: &RequestConf, status: u16, close: bool) -> Option<ErrorSub> {
    let set = |h: &Option<Rc<str>>| h.clone().filter(|h| !h.is_empty());
    let (uri, as_get) = match (set(&conf.error_handler), set(&conf.error_handler_404)) {
        (Some(h), _) => (h, true),
        (None, Some(h)) if matches!(status, 403 | 404) => (h, false),
        _ => return None,
    };
    Some(ErrorSub {
        status,
        uri,
        as_get,
        close,
    })
}

/// The sub-request for an error handler: the original request with the
/// handler's path and query (REQUEST_URI stays the client's, REDIRECT_URI
/// is the handler's URL); server.error-handler makes it a GET without a
/// body (the connection then closes when the client sent one). Range
/// stays: a FastCGI handler sees it and its reply may be cut to it.
pub fn error_sub_head(req: &RequestHead, sub: &ErrorSub) -> RequestHead {
    let mut h = req.clone();
    let (path, query) = match sub.uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (&*sub.uri, None),
    };
    h.set_sub_target(&sub.uri, path, query);
    if sub.as_get {
        h.method = Method::Get;
        if has_body(&h) {
            h.keep_alive = false;
        }
        h.content_length = None;
        h.chunked = false;
        h.expect_100 = false;
    }
    if sub.close {
        h.keep_alive = false;
    }
    h
}

/// The static answer to an error handler's sub-request (`ctx` holds the
/// sub-request's config): with server.error-handler a page found goes
/// out under the original status and a failure sends the original
/// status's page; with server.error-handler-404 the handler's own answer
/// stands, except that a failure keeps the original 403 / 404.
pub fn serve_error_sub(head: &RequestHead, ctx: &Ctx<'_>, sub: ErrorOrigin) -> Response {
    let mut r = if sub.as_get {
        // A static page goes out whole under the error status; a
        // directory listing is a handler's answer: Range applies, for the
        // client's method.
        let mut h = head.clone();
        h.remove_header("Range");
        let ctx = Ctx {
            range_of: Some((head, sub.method)),
            ..*ctx
        };
        route(&h, &ctx)
    } else {
        route(head, ctx)
    };
    // A body we did not read cannot be skipped safely: close afterwards.
    if has_body(head) {
        r.close = true;
    }
    if r.status >= 400 && matches!(r.body, Body::Empty) {
        return error_response(sub.failed(r.status), ctx.conf, r.close || sub.close);
    }
    if sub.as_get && !r.from_handler {
        // Only a page found (2xx) goes out under the error status; a 304
        // or a redirect of the handler's URL sends the error's own page.
        // A directory listing keeps its own status.
        if !(200..300).contains(&r.status) {
            return error_response(sub.status, ctx.conf, r.close || sub.close);
        }
        r.status = sub.status;
        r.headers.retain(|(n, _)| n != "Accept-Ranges");
    }
    r.close |= sub.close;
    r
}

/// What the URL stage answers before any handler may take the request
/// (mod_access's url.access-deny, CONNECT, `OPTIONS *`), in lighttpd's
/// order. Handlers (static files, FastCGI) run only when this is None.
pub fn uri_clean(req: &RequestHead, conf: &RequestConf) -> Option<Response> {
    uri_clean_with(req, conf, true)
}

/// [`uri_clean`], with mod_access's look at the whole URL path or not
/// (`access`: false when mod_fastcgi comes first and takes that look
/// itself, see [`crate::mods::fastcgi::FcgiConf::access_last`]).
pub fn uri_clean_with(req: &RequestHead, conf: &RequestConf, access: bool) -> Option<Response> {
    if access && !access_checked(req.path(), conf) {
        return Some(Response::new(403));
    }
    if req.method == Method::Connect {
        let mut r = Response::new(405);
        r.close = true;
        return Some(r);
    }
    if req.method == Method::Options && req.target() == "*" {
        return Some(options_ok());
    }
    None
}

/// mod_access on the URL path `path` (with its log line when refused). It
/// looks twice, as in 1.4.69: at the URL stage, and again when a file is
/// about to be handled, on the URL path then (PATH_INFO split off, an
/// index file's name added), so `url.access-deny = ( ".php" )` refuses
/// `/x.php/y` too.
pub fn access_checked(path: &str, conf: &RequestConf) -> bool {
    if access_allowed(path, conf) {
        return true;
    }
    if conf.log_request_handling {
        let why = if conf.access_allow.is_empty() {
            "we match access_deny"
        } else {
            "failed to match any from access_allow"
        };
        crate::log_error!("url denied as {why} {path}");
    }
    false
}

/// mod_access: a non-empty url.access-allow lets through only paths that
/// end in one of its suffixes (url.access-deny is then not looked at);
/// otherwise a path ending in a url.access-deny suffix is refused. With
/// server.force-lowercase-filenames the suffixes match in any case, as
/// the files they name are looked up lower-cased.
pub(crate) fn access_allowed(path: &str, conf: &RequestConf) -> bool {
    let ends_with = |suffix: &String| {
        let (p, s) = (path.as_bytes(), suffix.as_bytes());
        p.len() >= s.len() && {
            let tail = &p[p.len() - s.len()..];
            if conf.force_lowercase_filenames {
                tail.eq_ignore_ascii_case(s)
            } else {
                tail == s
            }
        }
    };
    if !conf.access_allow.is_empty() {
        return conf.access_allow.iter().any(ends_with);
    }
    !conf.access_deny.iter().any(ends_with)
}

thread_local! {
    /// The physical path's buffer, kept from one request to the next.
    static PHYSICAL: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

fn route(req: &RequestHead, ctx: &Ctx<'_>) -> Response {
    let mut physical = PHYSICAL.with(|p| p.take());
    physical.clear();
    let r = route_with(req, ctx, &mut physical);
    PHYSICAL.with(|p| p.set(physical));
    r
}

/// [`route`], the physical path built in `physical`.
fn route_with(req: &RequestHead, ctx: &Ctx<'_>, physical: &mut String) -> Response {
    let conf = ctx.conf;
    let path = req.path();
    if ctx.denied {
        return Response::new(403);
    }
    if let Some(r) = uri_clean(req, conf) {
        return r;
    }
    trace_stage(ctx, Stage::Physical, &[], path);
    let Some(docroot) = conf.document_root.as_deref() else {
        return Response::new(500);
    };
    // server.force-lowercase-filenames: the file is looked up by the
    // lower-cased path (a case-insensitive site on a case-sensitive disk);
    // redirects and PATH_INFO keep the request's case.
    let lowered;
    let path = if conf.force_lowercase_filenames {
        lowered = path.to_ascii_lowercase();
        lowered.as_str()
    } else {
        path
    };
    let rel = path;
    let Ok((base, path)) = physical_path(conf, docroot, path, physical) else {
        return Response::new(403);
    };
    let physical = physical.as_str();
    if conf.log_request_handling {
        log_physical(docroot, base, rel, physical);
    }
    let docroot = base;
    if !conf.follow_symlink && has_symlink(docroot, path) {
        if conf.log_request_handling {
            crate::log_error!("-- access denied due to symlink restriction");
            crate::log_error!("Path         : {physical}");
            crate::log_error!("URI          : {}", req.path());
        }
        return Response::new(403);
    }
    match ctx.stat(physical) {
        Ok(m) if m.is_dir() => directory(req, ctx, docroot, physical),
        Ok(m) => {
            if conf.log_request_handling {
                log_subrequest(physical, req.path(), "");
            }
            static_file(req, ctx, physical, m, None)
        }
        // The prefixes of the physical path itself (an alias directory and
        // its rest are joined without a slash).
        Err(libc::ENOTDIR) => path_info(req, ctx, "", physical),
        Err(libc::EACCES) => Response::new(403),
        Err(e @ (libc::ENOENT | libc::ENAMETOOLONG)) => {
            if conf.log_file_not_found || conf.log_request_handling {
                let why = crate::sys::strerror(&std::io::Error::from_raw_os_error(e));
                crate::log_error!("-- : {why}");
                crate::log_error!("Path         : {physical}");
                crate::log_error!("URI          : {}", req.path());
            }
            Response::new(404)
        }
        Err(_) => Response::new(500),
    }
}

/// The physical path of `path`, appended to `out`: mod_alias's first
/// alias.url key that prefixes the path maps it to its directory (no
/// slash inserted, as lighttpd), else it goes under the document root.
/// Gives the directory it is under and the rest of the path; Err when an
/// alias refuses the path (403).
pub(crate) fn physical_path<'p>(
    conf: &'p RequestConf,
    docroot: &'p str,
    path: &'p str,
    out: &mut String,
) -> Result<(&'p str, &'p str), ()> {
    match alias(conf, path) {
        Some(Err(())) => Err(()),
        Some(Ok((dir, rest))) => {
            out.push_str(dir);
            out.push_str(rest);
            Ok((dir, rest))
        }
        None => {
            out.push_str(docroot.trim_end_matches('/'));
            out.push_str(path);
            Ok((docroot, path))
        }
    }
}

/// alias.url: (directory, rest of the path) for the first key that is a
/// byte prefix of `path` (case-insensitive with force-lowercase-filenames);
/// Err for a `.` / `..` segment right after a key without a trailing `/`
/// mapped to a directory with one (it would climb out: 403).
pub(crate) fn alias<'p>(
    conf: &'p RequestConf,
    path: &'p str,
) -> Option<Result<(&'p str, &'p str), ()>> {
    let (key, dir) = conf.alias_url.iter().find(|(k, _)| {
        path.len() >= k.len()
            && if conf.force_lowercase_filenames {
                path.as_bytes()[..k.len()].eq_ignore_ascii_case(k.as_bytes())
            } else {
                path.starts_with(k.as_str())
            }
    })?;
    let rest = &path[key.len()..];
    let dots = rest
        .strip_prefix("..")
        .or_else(|| rest.strip_prefix('.'))
        .is_some_and(|r| r.is_empty() || r.starts_with('/'));
    if dots && !key.ends_with('/') && dir.ends_with('/') {
        return Some(Err(()));
    }
    Some(Ok((dir.as_str(), rest)))
}

/// debug.log-request-handling, first: the request's URI as parsed, in
/// lighttpd's layout (before anything looks at it).
pub fn log_parsed(req: &RequestHead) {
    crate::log_error!("-- parsed Request-URI");
    crate::log_error!("Request-URI     : {}", req.normalized());
    crate::log_error!("URI-scheme      : http");
    crate::log_error!("URI-authority   : {}", req.host().unwrap_or(""));
    crate::log_error!("URI-path (clean): {}", req.path());
    crate::log_error!("URI-query       : {}", req.query().unwrap_or(""));
}

/// debug.log-request-handling: the logical → physical mapping (`rel`: the
/// URL path as the file is looked up, `base`: the document root or the
/// alias directory it is under).
pub fn log_physical(docroot: &str, base: &str, rel: &str, physical: &str) {
    crate::log_error!("-- logical -> physical");
    crate::log_error!("Doc-Root     : {docroot}");
    crate::log_error!("Basedir      : {base}");
    crate::log_error!("Rel-Path     : {rel}");
    crate::log_error!("Path         : {physical}");
}

/// debug.log-request-handling: the file (or directory) the request names,
/// its URL path and PATH_INFO, once they are split.
pub fn log_subrequest(physical: &str, url: &str, path_info: &str) {
    crate::log_error!("-- handling subrequest");
    crate::log_error!("Path         : {physical}");
    crate::log_error!("URI          : {url}");
    crate::log_error!("Pathinfo     : {path_info}");
}

/// debug.log-request-handling: mod_indexfile takes the directory `url`.
pub fn log_indexfile(url: &str) {
    crate::log_error!("-- handling the request as Indexfile");
    crate::log_error!("URI          : {url}");
}

fn options_ok() -> Response {
    let mut r = Response::new(200);
    r.header("Allow", ALLOW);
    r.header("Content-Length", "0");
    r
}

/// Any symlink on the way from the docroot to the file (follow-symlink off).
pub(crate) fn has_symlink(docroot: &str, path: &str) -> bool {
    let mut p = docroot.trim_end_matches('/').to_string();
    if std::fs::symlink_metadata(lossless::to_path(&p)).is_ok_and(|m| m.file_type().is_symlink()) {
        return true;
    }
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        p.push('/');
        p.push_str(seg);
        match std::fs::symlink_metadata(lossless::to_path(&p)) {
            Ok(m) if m.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// ENOTDIR: the longest existing regular file is the script, the rest is
/// PATH_INFO (`/file.txt/x`).
fn path_info(req: &RequestHead, ctx: &Ctx<'_>, docroot: &str, path: &str) -> Response {
    match find_script(ctx, docroot, path) {
        Some((physical, m, i)) => {
            // mod_staticfile sees the URL path without the PATH_INFO.
            let url = req.path();
            let rest = path.len() - i;
            let url = url
                .len()
                .checked_sub(rest)
                .and_then(|n| url.get(..n))
                .unwrap_or(url);
            if ctx.conf.log_request_handling {
                log_subrequest(&physical, url, &path[i..]);
            }
            static_file(req, ctx, &physical, m, Some(Moved { url, dir: false }))
        }
        None => Response::new(404),
    }
}

/// The PATH_INFO search after ENOTDIR: the longest prefix of `path` that is
/// a regular file under `docroot`. Returns its physical path, metadata and
/// the length of the URL prefix it covers (the rest is PATH_INFO); None when
/// the first existing prefix is not a regular file (404).
pub fn find_script(ctx: &Ctx<'_>, docroot: &str, path: &str) -> Option<(String, Metadata, usize)> {
    let mut end = path.len();
    while let Some(i) = path[..end].rfind('/') {
        if i == 0 {
            break;
        }
        let candidate = format!("{}{}", docroot.trim_end_matches('/'), &path[..i]);
        match ctx.stat(&candidate) {
            Ok(m) if m.is_file() => return Some((candidate, m, i)),
            Ok(_) => return None,
            Err(_) => end = i,
        }
    }
    None
}

/// The authority for an absolute redirect: the request's Host, else the
/// local address ("localhost" for 127.0.0.1, as its reverse lookup gives
/// there; other addresses as numbers) with its port unless 80.
fn authority(req: &RequestHead, local: Option<std::net::SocketAddr>) -> String {
    if let Some(h) = req.host().filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    let Some(a) = local else {
        return "localhost".to_string();
    };
    let host = match a.ip() {
        std::net::IpAddr::V4(v4) if v4.is_loopback() => "localhost".to_string(),
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
    };
    if a.port() == 80 {
        host
    } else {
        format!("{host}:{}", a.port())
    }
}

fn directory(req: &RequestHead, ctx: &Ctx<'_>, docroot: &str, physical: &str) -> Response {
    let conf = ctx.conf;
    if !req.path().ends_with('/') {
        // server.absolute-dir-redirect: scheme and authority first.
        let mut loc = if conf.absolute_dir_redirect {
            format!("http://{}", authority(req, ctx.local))
        } else {
            String::new()
        };
        loc.push_str(&uri::percent_encode_path_for_location(&lossless::to_bytes(
            req.path(),
        )));
        loc.push('/');
        if let Some(q) = req.query().filter(|q| !q.is_empty()) {
            loc.push('?');
            loc.push_str(q);
        }
        let mut r = Response::new(301);
        r.header("Location", loc);
        if req.method != Method::Head {
            r.header("Content-Length", "0");
        }
        return r;
    }
    if conf.log_request_handling {
        log_subrequest(physical, req.path(), "");
    }
    trace_stage(ctx, Stage::IndexFile, &[Stage::Physical], req.path());
    if conf.log_request_handling && conf.index_files_set {
        log_indexfile(req.path());
    }
    for name in conf.index_files.iter() {
        let candidate = if name.starts_with('/') {
            format!("{}{}", docroot.trim_end_matches('/'), name)
        } else {
            format!("{physical}{name}")
        };
        match ctx.stat(&candidate) {
            Ok(m) if m.is_file() => {
                // mod_staticfile (and mod_access, after mod_indexfile)
                // see the index file's URL path; made only for them.
                let looked_at = ctx.late.is_some()
                    || (conf.access_after_index
                        && !(conf.access_deny.is_empty() && conf.access_allow.is_empty()));
                let url = match looked_at {
                    false => String::new(),
                    true if name.starts_with('/') => name.to_string(),
                    true => format!("{}{name}", req.path()),
                };
                let moved = looked_at.then_some(Moved {
                    url: &url,
                    dir: true,
                });
                return static_file(req, ctx, &candidate, m, moved);
            }
            // An index name that is a directory (or a FIFO ...) is taken
            // all the same, and is no file to send: 403, as 1.4.69.
            Ok(_) => return Response::new(403),
            Err(libc::EACCES) => return Response::new(403),
            Err(libc::ENOENT) | Err(libc::ENOTDIR) => {}
            Err(_) => return Response::new(500),
        }
    }
    let get_or_head = matches!(req.method, Method::Get | Method::Head);
    if get_or_head {
        let ran = [Stage::Physical, Stage::IndexFile];
        trace_stage(ctx, Stage::DirListing, &ran, req.path());
    }
    if conf.dir_listing && get_or_head {
        if conf.log_request_handling {
            crate::log_error!("-- handling the request as Dir-Listing");
            crate::log_error!("URI          : {}", req.path());
        }
        return listing(req, ctx, physical);
    }
    // mod_staticfile is left with the directory itself.
    if reaches_staticfile(req.method) {
        let ran = [Stage::Physical, Stage::IndexFile, Stage::DirListing];
        let ran = if get_or_head { &ran[..] } else { &ran[..2] };
        trace_stage(ctx, Stage::Static, ran, req.path());
    }
    if conf.log_file_not_found && reaches_staticfile(req.method) {
        crate::log_error!("not a regular file: {} -> {physical}", req.path());
    }
    no_handler(req)
}

/// Nobody took the request (http-core.md §5).
fn no_handler(req: &RequestHead) -> Response {
    match req.method {
        Method::Options => options_ok(),
        Method::Get | Method::Head | Method::Post | Method::Query => Response::new(403),
        _ => Response::new(501),
    }
}

fn listing(req: &RequestHead, ctx: &Ctx<'_>, physical: &str) -> Response {
    let conf = ctx.conf;
    let ctype = dirlisting_html::content_type(conf.dir_listing_encoding.as_deref());
    // dir-listing.cache: a fresh page is served as it is, before the
    // directory is read.
    if let Some(dc) = &conf.dir_listing_cache
        && let Some((page, m, left)) = dirlisting_cache::lookup(dc, physical, ctx.now)
    {
        let etag = conf_etag(conf, &m);
        return listing_response(req, ctx, ctype, Some((left, etag)), page);
    }
    let Ok(rd) = std::fs::read_dir(lossless::to_path(physical)) else {
        return Response::new(403);
    };
    let mut entries = Vec::new();
    let readme = dirlisting_html::include_name(conf.dir_listing_readme.as_deref(), "README.txt");
    let header = dirlisting_html::include_name(conf.dir_listing_header.as_deref(), "HEADER.txt");
    for e in rd.flatten() {
        let name = lossless::from_os(&e.file_name()).into_owned();
        if (conf.dir_listing_hide_readme && readme == Some(name.as_str()))
            || (conf.dir_listing_hide_header && header == Some(name.as_str()))
        {
            continue;
        }
        // A name that is not UTF-8 cannot be matched in UTF mode: left
        // out, as 1.4.69 fails closed on a match error.
        if conf
            .dir_listing_exclude
            .iter()
            .any(|r| r.is_match(&lossless::to_bytes(&name)).unwrap_or(true))
        {
            continue;
        }
        // stat(2), not lstat: a symlink is listed as what it points to
        // (a directory row for a link to one); a dangling one is left out,
        // as 1.4.69 does.
        let Ok(m) = std::fs::metadata(e.path()) else {
            continue;
        };
        entries.push(dirlisting_html::Entry {
            name,
            is_dir: m.is_dir(),
            size: m.len(),
            mtime: m.mtime(),
        });
    }
    let text = |v: &Option<std::rc::Rc<str>>| v.as_deref().map(str::to_string);
    let opts = dirlisting_html::ListingOpts {
        hide_dotfiles: conf.dir_listing_hide_dotfiles,
        encoding: text(&conf.dir_listing_encoding),
        external_css: text(&conf.dir_listing_css),
        external_js: text(&conf.dir_listing_js),
        set_footer: text(&conf.dir_listing_footer),
        auto_layout: conf.dir_listing_auto_layout,
        mimetypes: Some(&conf.mimetypes),
        ..Default::default()
    };
    let tag = ctx
        .conf
        .server_tag
        .as_deref()
        .unwrap_or(crate::DEFAULT_SERVER_TAG);
    // A header or readme file that is missing, unreadable or empty adds
    // nothing.
    let include = |name: Option<&str>, class: &str, encode: bool| {
        let name = name?;
        let path = if name.starts_with('/') {
            name.to_string()
        } else if physical.ends_with('/') {
            format!("{physical}{name}")
        } else {
            format!("{physical}/{name}")
        };
        ctx.stat(&path).ok().filter(|m| m.is_file())?;
        let content = std::fs::read(lossless::to_path(&path))
            .ok()
            .filter(|c| !c.is_empty())?;
        Some(dirlisting_html::include_block(class, &content, encode))
    };
    let header = include(header, "header", conf.dir_listing_encode_header);
    let readme = include(readme, "readme", conf.dir_listing_encode_readme);
    let html = dirlisting_html::render(
        req.path(),
        &entries,
        tag,
        &opts,
        header.as_deref(),
        readme.as_deref(),
    );
    let cached = conf.dir_listing_cache.as_ref().and_then(|dc| {
        let m = dirlisting_cache::store(dc, physical, &html)?;
        Some((dc.max_age, conf_etag(conf, &m)))
    });
    listing_response(req, ctx, ctype, cached, html)
}

/// A listing page's response; with dir-listing.cache, Cache-Control for
/// the seconds it stays fresh and the ETag of its cache file.
/// Range applies to it as to any page held whole.
fn listing_response(
    req: &RequestHead,
    ctx: &Ctx<'_>,
    ctype: String,
    cached: Option<(i64, Option<String>)>,
    mut page: Vec<u8>,
) -> Response {
    let mut r = Response::new(200);
    r.from_handler = true;
    r.header("Content-Type", ctype);
    if let Some((max_age, etag)) = cached {
        r.header("Cache-Control", format!("max-age={max_age}"));
        if let Some(e) = etag {
            r.header("ETag", e);
        }
    }
    let (asked, method) = ctx.range_of.unwrap_or((req, req.method));
    if !mem_range::apply(
        &mut r,
        &mut page,
        &RangeAsk::of_method(asked, ctx.conf, method),
    ) {
        return Response::new(416);
    }
    r.set("Content-Length", page.len() as u64);
    if req.method != Method::Head {
        r.body = Body::Mem(page);
    }
    r
}

/// The ETag of a file by etag.use-inode / -mtime / -size.
fn conf_etag(conf: &RequestConf, m: &Metadata) -> Option<String> {
    let flags = EtagFlags {
        inode: conf.etag_inode,
        mtime: conf.etag_mtime,
        size: conf.etag_size,
    };
    etag::etag_for(m.ino(), m.len(), m.mtime(), m.mtime_nsec(), flags)
}

/// Serves `physical` as mod_staticfile would (X-Sendfile from a backend):
/// 404 when missing, 403 when not a regular file; the error page for errors.
pub fn serve_path(req: &RequestHead, ctx: &Ctx<'_>, physical: &str) -> Response {
    let r = match ctx.stat(physical) {
        Ok(m) => static_file(req, ctx, physical, m, None),
        Err(libc::ENOENT) | Err(libc::ENOTDIR) | Err(libc::ENAMETOOLONG) => Response::new(404),
        Err(_) => Response::new(403),
    };
    if r.status >= 400 && matches!(r.body, Body::Empty) {
        return error_response(r.status, ctx.conf, r.close);
    }
    r
}

/// debug.log-condition-handling for the blocks a module's `stage`
/// decides (see [`LateConf`]).
pub(crate) fn trace_stage(ctx: &Ctx<'_>, stage: Stage, ran: &[Stage], url: &str) {
    if let Some(l) = ctx.late {
        l.trace_stage(stage, ran, url);
    }
}

/// The methods mod_staticfile takes a request for (reading its options
/// first); the others pass it by.
fn reaches_staticfile(m: Method) -> bool {
    matches!(m, Method::Get | Method::Head | Method::Post | Method::Query)
}

/// The URL path mod_staticfile sees when it is not the request's: PATH_INFO
/// split off, or a directory's index file (`dir`).
#[derive(Clone, Copy)]
struct Moved<'a> {
    url: &'a str,
    dir: bool,
}

/// mod_staticfile, for `physical` found under the URL path `moved` (None:
/// the request's own).
fn static_file(
    req: &RequestHead,
    ctx: &Ctx<'_>,
    physical: &str,
    m: Metadata,
    moved: Option<Moved<'_>>,
) -> Response {
    let has_pathinfo = moved.is_some_and(|m| !m.dir);
    // Options of blocks decided only now, on the URL path seen now.
    let late = match (moved, ctx.late) {
        (Some(mv), Some(l)) if mv.url != req.path() => l.late_conf(mv.url, mv.dir),
        _ => None,
    };
    let late_ctx;
    let ctx = match &late {
        Some(conf) => {
            late_ctx = Ctx { conf, ..*ctx };
            &late_ctx
        }
        None => ctx,
    };
    let conf = ctx.conf;
    // mod_access's second look, on the URL path as it is now (an index
    // file's only when mod_indexfile runs before mod_access).
    if let Some(mv) = moved
        && (!mv.dir || conf.access_after_index)
        && !access_checked(mv.url, conf)
    {
        return Response::new(403);
    }
    if !reaches_staticfile(req.method) {
        return no_handler(req);
    }
    // mod_staticfile reads its options now (the late conf above is what
    // it reads; the trace is written here, after mod_access's look)
    let ran: &[Stage] = match moved {
        Some(m) if m.dir => &[Stage::Physical, Stage::IndexFile],
        _ => &[Stage::Physical],
    };
    trace_stage(ctx, Stage::Static, ran, moved.map_or(req.path(), |m| m.url));
    if has_pathinfo && conf.disable_pathinfo {
        if conf.log_request_handling {
            crate::log_error!("-- NOT handling file as static file, pathinfo forbidden");
        }
        return Response::new(403);
    }
    if conf
        .exclude_extensions
        .iter()
        .any(|e| physical.ends_with(e.as_str()))
    {
        if conf.log_request_handling {
            crate::log_error!("-- NOT handling file as static file, extension forbidden");
        }
        return Response::new(403);
    }
    if !m.is_file() {
        if conf.log_file_not_found {
            crate::log_error!("not a regular file: {} -> {physical}", req.path());
        }
        return Response::new(403);
    }
    let len = m.len();
    let mut r = Response::new(200);
    let ctype = conf.mimetypes.lookup_shared(physical);
    // One look in the stat cache: the dates, tag, open file and (small
    // files) contents it keeps per file version.
    let (last_modified, etag, file, small) = {
        let mut cache = ctx.cache.borrow_mut();
        let Ok(entry) = cache.stat(physical, ctx.now) else {
            return Response::new(403);
        };
        let Ok(file) = entry.file(physical) else {
            return Response::new(403);
        };
        let etag = if ctype.is_some() && conf.etags {
            entry.etag(EtagFlags {
                inode: conf.etag_inode,
                mtime: conf.etag_mtime,
                size: conf.etag_size,
            })
        } else {
            None
        };
        (
            entry.last_modified(),
            etag,
            file,
            entry.small_bytes(physical),
        )
    };
    match &ctype {
        Some(t) => r.header("Content-Type", t.clone()),
        None => r.header("Content-Type", "application/octet-stream"),
    }
    if ctype.is_some() {
        if let Some(e) = &etag {
            r.header("ETag", e.clone());
        }
        r.header("Last-Modified", last_modified.clone());
        let get_like = matches!(req.method, Method::Get | Method::Head | Method::Query);
        let range_hdr = req.header("Range");
        match conditional::check(
            get_like,
            req.header("If-None-Match"),
            req.header("If-Modified-Since"),
            etag.as_deref(),
            &last_modified,
            m.mtime(),
            range_hdr.is_some(),
        ) {
            CondResult::NotModified => {
                r.status = 304;
                return r;
            }
            CondResult::PreconditionFailed => return Response::new(412),
            CondResult::Proceed => {}
        }
    }
    // (HTTP/1.0 too with server.feature-flags "http10.range")
    let http11 = req.version == Version::Http11 || conf.http10_range;
    let range_ok = conf.range_requests
        && req.method == Method::Get
        && http11
        && len > 0
        && req
            .header("If-Range")
            .is_none_or(|v| range::if_range_matches(v, etag.as_deref(), &last_modified));
    if let (true, Some(h)) = (range_ok, req.header("Range")) {
        match range::parse_range(h, len) {
            RangeOutcome::Ignore => {}
            RangeOutcome::Unsatisfiable => return Response::new(416),
            RangeOutcome::Ranges(rs) if rs.len() == 1 => {
                let (a, b) = rs[0];
                r.status = 206;
                // lighttpd's order: the 200's headers, then Content-Range.
                r.header("Content-Length", b - a + 1);
                r.header("Accept-Ranges", "bytes");
                r.header("Content-Range", format!("bytes {a}-{b}/{len}"));
                r.body = Body::File {
                    file,
                    off: a,
                    len: b - a + 1,
                };
                return r;
            }
            RangeOutcome::Ranges(rs) => {
                let ct = ctype.as_deref().unwrap_or("application/octet-stream");
                let (parts, closing, total) = range::multipart_layout(&rs, ct, len);
                r.status = 206;
                r.headers.retain(|(n, _)| n != "Content-Type");
                r.headers.insert(
                    0,
                    (
                        Cow::Borrowed("Content-Type"),
                        format!("multipart/byteranges; boundary={}", range::BOUNDARY).into(),
                    ),
                );
                r.header("Content-Length", total);
                r.header("Accept-Ranges", "bytes");
                r.body = Body::Parts {
                    file,
                    parts,
                    closing,
                };
                return r;
            }
        }
    }
    r.header("Content-Length", len);
    if http11 && conf.range_requests && matches!(req.method, Method::Get | Method::Head) {
        r.header("Accept-Ranges", "bytes");
    }
    if req.method != Method::Head {
        r.body = match small {
            Some(bytes) => Body::Bytes(bytes),
            None => Body::File { file, off: 0, len },
        };
    }
    r
}

#[cfg(test)]
mod tests {
    use super::access_allowed;
    use crate::reqconf::RequestConf;
    use std::rc::Rc;

    fn conf(allow: &[&str], deny: &[&str], lowercase: bool) -> RequestConf {
        RequestConf {
            access_allow: Rc::new(allow.iter().map(|s| s.to_string()).collect()),
            access_deny: Rc::new(deny.iter().map(|s| s.to_string()).collect()),
            force_lowercase_filenames: lowercase,
            ..RequestConf::default()
        }
    }

    #[test]
    fn deny_suffix() {
        let c = conf(&[], &["~", ".inc"], false);
        assert!(!access_allowed("/index.html~", &c));
        assert!(!access_allowed("/a.inc", &c));
        assert!(access_allowed("/a.INC", &c));
        assert!(access_allowed("/a.html", &c));
        assert!(access_allowed("/", &conf(&[], &[], false)));
    }

    #[test]
    fn lowercase_filenames_match_in_any_case() {
        let c = conf(&[], &[".jpg"], true);
        assert!(!access_allowed("/image.JPG", &c));
        assert!(!access_allowed("/image.jpg", &c));
        let c = conf(&[".txt"], &[], true);
        assert!(access_allowed("/A.TXT", &c));
    }

    #[test]
    fn allow_list_wins_over_deny() {
        let c = conf(&[".txt"], &[".txt"], false);
        assert!(access_allowed("/ssi-include.txt", &c));
        assert!(!access_allowed("/index.html", &c));
        assert!(!access_allowed("/", &c));
    }
}
