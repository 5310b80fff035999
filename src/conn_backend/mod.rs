//! A client connection whose request a FastCGI backend answers (the
//! connection side of src/gw): start the backend request (BEGIN_REQUEST,
//! one PARAMS record, STDIN), forward the request body, read the answer and
//! hand it to reply.rs, which turns it into the client's response; open.rs
//! gets the connection (balancing, retries, reuse, timeouts), body.rs reads
//! a request body in full first. Failures get the status and log line of
//! fastcgi.md §5.

use crate::conn::{Conn, State};
use crate::gw::balance::{PickInput, pick_host};
use crate::gw::codec::HeadTooLarge;
use crate::gw::config::{GwExt, GwHost, Mode};
use crate::gw::pool::{Lease, Slot};
use crate::gw::{self, GwConn, GwState};
use crate::http::backend_resp;
use crate::http::cgi_env::CgiInput;
use crate::http::request::{RequestHead, Version};
use crate::mods::fastcgi::FcgiTarget;
use crate::reqconf::RequestConf;
use crate::response::{self, ErrorOrigin, Response};
use crate::server::Shared;
use mio::Token;
use std::os::fd::AsRawFd;
use std::rc::Rc;

mod body;
mod open;
mod reply;
mod sendfile;

use open::{Attempt, MAX_RECONNECTS, Opened, all_down_note, open_gw};
use reply::interim_head;

/// Stop reading the backend while this much waits for the client.
const BACKPRESSURE: usize = 256 * 1024;
/// A response body buffered beyond this is streamed instead (chunked for
/// HTTP/1.1): lighttpd would buffer it all to temp files.
const STREAM_AFTER: usize = 1 << 20;
/// A backend head larger than this is a 502 (lighttpd: 64 KiB).
const MAX_HEAD: usize = 64 * 1024;
/// Request body bytes read per turn while collecting (then others run).
const BODY_READ_BUDGET: usize = 1 << 20;
/// Request body bytes forwarded per STDIN step.
const BODY_STEP: usize = 64 * 1024;
/// Backend sockets use tokens from here (+ their slot, gw/mod.rs).
pub const BACKEND_BASE: usize = 1 << 30;

/// The backend side of one client request.
pub struct BackendRun {
    pub gw: GwConn,
    head_buf: crate::chunk::Buffer,
    head_done: bool,
    chunked: bool,
    /// Request body bytes still to read from the client and forward.
    body_left: u64,
    version: Version,
    head_only: bool,
    keep: bool,
    debug: u32,
    tag: Option<std::rc::Rc<str>>,
    conf: Rc<RequestConf>,
    /// "<path>?<query>" (the `?` even without a query, as 1.4.69's
    /// messages print the request), then the authority: for log lines and
    /// for choosing a host again on a reconnect.
    names: RequestNames,
    /// The response head, held back while the body is buffered: a body
    /// that is complete by END_REQUEST goes out with Content-Length (and
    /// Range applied), as lighttpd buffers backend responses by default.
    deferred: Option<Response>,
    body: crate::chunk::Buffer,
    /// What decides Accept-Ranges and Range on a buffered 200.
    ranges: response::RangeAsk,
    /// Body bytes the backend's Content-Length still announces: more are
    /// dropped (as lighttpd does), fewer by the end close the connection.
    cl_left: Option<u64>,
    /// The backend sent Transfer-Encoding: its body is de-chunked (a bad
    /// chunk ends it there, as in 1.4.69).
    dechunk: Option<Box<crate::http::chunked::ChunkedDecoder>>,
    /// BEGIN_REQUEST + PARAMS, kept to try another proc.
    rec: crate::chunk::Buffer,
    /// Connect attempts after the first (lighttpd: at most 5).
    reconnects: u8,
    /// Request-body bytes forwarded (no retry once the body has started).
    body_sent: u64,
    host: Rc<GwHost>,
    /// The proc the request holds (released when this is dropped).
    lease: Option<Lease>,
    /// The key's position in the responder keys, and what host choice
    /// looks at, for choosing again on a reconnect.
    ext: usize,
    /// When the connect started and the last read / write progress (the
    /// host's connect-, read- and write-timeout).
    connect_ts: i64,
    read_ts: i64,
    write_ts: i64,
    /// The request, for serving an X-Sendfile file (conditional, Range);
    /// kept only for hosts with x-sendfile enabled.
    req: Option<RequestHead>,
    /// The X-Sendfile answer: replaces the backend's body entirely; an
    /// error status when the file cannot be sent (its error page, or the
    /// error handler, answers).
    sendfile: Option<Result<Response, u16>>,
    /// server.error-intercept took the backend's 4xx/5xx head: its body
    /// is dropped and the error page (or error handler) answers at the
    /// end. Holds the status and a 401's WWW-Authenticate.
    intercept: Option<Response>,
    /// This is an error handler's sub-request (no error handler for it).
    origin: Option<ErrorOrigin>,
    /// This is an authorizer request (the request in `req` runs on when
    /// it allows).
    authorizer: bool,
    /// The authorizer allowed: its Variable-* (name, value).
    auth_vars: Option<Vec<(String, String)>>,
    /// The environment added after the CGI variables ([`Start::extra`]),
    /// kept for what runs after this backend (the request an authorizer
    /// allows, an error handler's sub-request).
    env: Vec<(String, String)>,
    /// An authorizer allowed the request before this run.
    auth_done: bool,
    /// The request body, read in full before the backend started.
    body_src: Option<crate::reqbody::BodyBuf>,
    /// The connection was kept from an earlier request (connection-reuse).
    reused: bool,
    /// The request ended cleanly: keep the connection (connection-reuse).
    keep_conn: bool,
    /// tcp-fin-propagate: the client's half-close was passed on.
    fin_sent: bool,
}

impl BackendRun {
    /// The head went to the client (streaming; a buffered response goes
    /// out whole at the end).
    pub fn response_started(&self) -> bool {
        self.head_done
            && self.deferred.is_none()
            && self.sendfile.is_none()
            && self.intercept.is_none()
            && self.auth_vars.is_none()
    }

    /// The keys the request's key is one of (authorizer or responder).
    fn exts(&self) -> Rc<Vec<GwExt>> {
        if self.authorizer {
            self.conf.fastcgi_auth.clone()
        } else {
            self.conf.fastcgi_server.clone()
        }
    }
}

/// The request's path, query and authority in one string (see
/// `BackendRun::names`).
pub(super) struct RequestNames {
    text: String,
    path_len: usize,
    uri_len: usize,
}

impl RequestNames {
    fn new(head: &RequestHead) -> RequestNames {
        let (path, query) = (head.path(), head.query().unwrap_or(""));
        let authority = head.host().unwrap_or("");
        let mut text = String::with_capacity(path.len() + 1 + query.len() + authority.len());
        text.push_str(path);
        text.push('?');
        text.push_str(query);
        let uri_len = text.len();
        text.push_str(authority);
        RequestNames {
            text,
            path_len: path.len(),
            uri_len,
        }
    }

    /// "<path>?<query>".
    pub(super) fn uri(&self) -> &str {
        &self.text[..self.uri_len]
    }

    pub(super) fn path(&self) -> &str {
        &self.text[..self.path_len]
    }

    pub(super) fn query(&self) -> &str {
        &self.text[self.path_len + 1..self.uri_len]
    }

    pub(super) fn authority(&self) -> &str {
        &self.text[self.uri_len..]
    }
}

/// A backend request not started yet: its body is being read
/// (State::ReadBody), or it waits for a connection (State::WaitBackend).
pub struct Pending {
    head: RequestHead,
    target: FcgiTarget,
    conf: Rc<RequestConf>,
    version: Version,
    keep: bool,
    mode: Mode,
    extra: Vec<(String, String)>,
    auth_done: bool,
    origin: Option<ErrorOrigin>,
    collect: Option<crate::reqbody::Collect>,
    /// The body, read in full.
    body: Option<crate::reqbody::BodyBuf>,
    /// Expect: 100-continue was looked at.
    continue_checked: bool,
    /// In a proc's queue (connection-reuse) as `who`.
    waiting: bool,
    who: (usize, u64),
    /// The records built before the request was queued.
    rec: Option<crate::chunk::Buffer>,
}

impl Drop for Pending {
    /// A request given up while queued leaves the queue.
    fn drop(&mut self) {
        if self.waiting
            && let Some(rt) = self.target.host.rt.get()
        {
            rt.remove_waiter(self.who);
        }
    }
}

/// How a backend request starts: the client response's version and
/// keep-alive, the role, and extra environment (an authorizer's
/// Variable-* for the responder after it, an error handler's
/// REDIRECT_STATUS).
pub struct Start<'a> {
    pub version: Version,
    pub keep: bool,
    pub mode: Mode,
    pub extra: &'a [(String, String)],
    /// An authorizer allowed the request already.
    pub auth_done: bool,
    /// Set when this is an error handler's sub-request.
    pub origin: Option<ErrorOrigin>,
    /// The request body, read in full before the start.
    pub body: Option<crate::reqbody::BodyBuf>,
    /// Woken from a proc's queue: the records it built before.
    pub resumed: Option<crate::chunk::Buffer>,
}

/// The request as the host's codec encodes it: for FastCGI the
/// parameters in lighttpd's order in one PARAMS record.
fn request_head(
    c: &Conn,
    head: &RequestHead,
    t: &FcgiTarget,
    conf: &RequestConf,
    how: &Start<'_>,
    out: &mut Vec<u8>,
) -> Result<(), HeadTooLarge> {
    let server_port = c.local_addr().map_or(0, |a| a.port());
    let server_addr = c.local_text();
    let host = head.host().unwrap_or("");
    let server_name = host
        .rsplit_once(':')
        .filter(|(h, _)| !h.ends_with(']') || host.starts_with('['))
        .map(|(h, _)| h)
        .unwrap_or(host);
    let input = CgiInput {
        authorizer: how.mode == Mode::Authorizer,
        content_length: head.content_length.unwrap_or(0),
        query: head.query().unwrap_or(""),
        raw_target: head.target(),
        // The target as normalized (decoded, dot-segments removed): 1.4.69
        // passes it on when it differs from what the client sent.
        redirect_uri: Some(head.normalized()),
        error_handler: how.origin.is_some(),
        script_name: t.script_name(),
        path_info: t.path_info(),
        script_filename: t.script_filename(),
        document_root: t.document_root(),
        docroot: t.host.docroot.as_deref(),
        broken_scriptfilename: t.host.broken_scriptfilename,
        method: head.method.as_str(),
        protocol: if head.version == Version::Http11 {
            "HTTP/1.1"
        } else {
            "HTTP/1.0"
        },
        server_software: conf
            .server_tag
            .as_deref()
            .unwrap_or(crate::DEFAULT_SERVER_TAG),
        scheme: "http",
        server_addr,
        server_port,
        server_name,
        remote_addr: c.peer_text(),
        remote_port: c.peer_port,
        headers: crate::http::cgi_env::HeaderList::Head(head),
        strip_request_uri: t.host.strip_request_uri.as_deref(),
        extra: how.extra,
    };
    t.host
        .codec
        .request_head(out, &input, t.host.conn_reuse > 0)
}

impl Conn {
    /// Starts a backend request; on a failure answers at once.
    pub(crate) fn start_backend(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        t: FcgiTarget,
        conf: Rc<RequestConf>,
        mut how: Start<'_>,
    ) {
        let body_src = how.body.take();
        let resumed = how.resumed.take();
        let (version, keep) = (how.version, how.keep);
        let debug = conf.fastcgi_debug;
        let authorizer = how.mode == Mode::Authorizer;
        if head.chunked && !authorizer {
            // Bodies are streamed to the backend: a chunked body's length is
            // unknown up front (lighttpd with server.stream-request-body).
            let r = response::error_response(411, &conf, true);
            self.queue(sh, r, version, false, false, conf.server_tag.as_deref());
            return;
        }
        // A request woken from a proc's queue brings its records along.
        let queued = resumed.is_some();
        let rec = match resumed {
            Some(rec) => rec,
            None => {
                let mut rec = crate::chunk::Buffer::new();
                if request_head(self, head, &t, &conf, &how, &mut rec).is_err() {
                    let r = response::error_response(400, &conf, true);
                    self.queue(sh, r, version, false, false, conf.server_tag.as_deref());
                    return;
                }
                rec
            }
        };
        // An authorizer gets no body (as lighttpd does from 1.4.77); it
        // stays for the responder.
        let body_left = if authorizer {
            0
        } else {
            head.content_length.unwrap_or(0)
        };
        let names = RequestNames::new(head);
        let mut reconnects = 0;
        let exts = if authorizer {
            &conf.fastcgi_auth
        } else {
            &conf.fastcgi_server
        };
        let Some(ext) = exts.get(t.ext) else {
            return;
        };
        let opened = {
            let a = Attempt {
                ext,
                balance: conf.fastcgi_balance,
                path: names.path(),
                query: names.query(),
                authority: names.authority(),
                client_ip: self.peer_text(),
                debug,
                rec: &rec,
                body_left,
                index: self.index,
                who: (self.index, self.serial),
                queued,
                pipelinable: !authorizer
                    && body_left == 0
                    && matches!(
                        head.method,
                        crate::http::request::Method::Get | crate::http::request::Method::Head
                    ),
            };
            open_gw(
                sh,
                &a,
                Some(t.host.clone()),
                &mut reconnects,
                MAX_RECONNECTS,
            )
        };
        let (g, lease, reused) = match opened {
            Opened::Conn(g, lease, reused) => (g, lease, reused),
            Opened::Wait => {
                // Run again when a connection of the proc is free.
                self.pending = Some(Box::new(Pending {
                    head: head.clone(),
                    target: t,
                    conf,
                    version,
                    keep,
                    mode: how.mode,
                    extra: how.extra.to_vec(),
                    auth_done: how.auth_done,
                    origin: how.origin,
                    collect: None,
                    body: body_src,
                    continue_checked: true,
                    waiting: true,
                    who: (self.index, self.serial),
                    rec: Some(rec),
                }));
                self.state = State::WaitBackend;
                return;
            }
            Opened::Down => {
                all_down_note(ext, names.uri());
                if how.origin.is_none()
                    && let Some(sub) = response::error_handler(&conf, 503, false)
                {
                    let env = how.auth_done.then_some(how.extra);
                    return self.error_subrequest(sh, head, &sub, env);
                }
                let status = how.origin.map_or(503, |o| o.failed(503));
                let r = response::error_response(status, &conf, false);
                let head_only = head.method == crate::http::request::Method::Head
                    || how.origin.is_some_and(ErrorOrigin::head);
                self.queue(sh, r, version, keep, head_only, conf.server_tag.as_deref());
                return;
            }
        };
        // The request is kept (cloned) only where it can be needed: for
        // X-Sendfile, for the request an authorizer lets on, and for an
        // error handler to run in place of a failure (-404 only for an
        // intercepted 403/404).
        let keep_req = t.host.x_sendfile
            || authorizer
            || conf.error_handler.is_some()
            || (conf.error_intercept && conf.error_handler_404.is_some());
        self.backend = Some(Box::new(BackendRun {
            gw: g,
            head_buf: crate::chunk::Buffer::new(),
            head_done: false,
            chunked: false,
            body_left,
            version,
            head_only: head.method == crate::http::request::Method::Head
                || how.origin.is_some_and(ErrorOrigin::head),
            keep,
            debug,
            tag: conf.server_tag.clone(),
            ranges: match how.origin {
                Some(o) => response::RangeAsk::of_method(head, &conf, o.method),
                None => response::RangeAsk::of(head, &conf),
            },
            cl_left: None,
            dechunk: None,
            deferred: None,
            body: crate::chunk::Buffer::new(),
            conf,
            names,
            rec,
            reconnects,
            body_sent: 0,
            req: keep_req.then(|| head.clone()),
            authorizer,
            auth_vars: None,
            env: how.extra.to_vec(),
            auth_done: how.auth_done,
            body_src,
            reused,
            keep_conn: false,
            fin_sent: false,
            host: lease.host_cfg(),
            lease: Some(lease),
            ext: t.ext,
            connect_ts: sh.now,
            read_ts: sh.now,
            write_ts: sh.now,
            sendfile: None,
            intercept: None,
            origin: how.origin,
        }));
        self.state = State::Backend;
    }

    /// One step of the backend exchange (State::Backend).
    pub(crate) fn backend_step(&mut self, sh: &mut Shared) {
        let Some(mut b) = self.backend.take() else {
            self.state = State::Closed;
            return;
        };
        let done = self.backend_work(sh, &mut b);
        if !done {
            self.backend = Some(b);
            return;
        }
        // connection-reuse: a cleanly ended connection goes back to its
        // proc, still registered; otherwise closing it leaves the poll.
        let b = *b;
        if b.keep_conn
            && let Some(lease) = &b.lease
        {
            if b.gw.next.is_some() {
                // connection-pipelining: to the request written behind.
                lease.host.hand_on(lease, b.gw);
            } else {
                lease.host.put_idle(lease, b.gw, sh.now);
            }
        }
    }

    /// connection-pipelining: once this request is sent, the proc's first
    /// waiting request (a GET or HEAD without a body) is written behind it
    /// on the same kept connection.
    fn pipeline_next(&mut self, sh: &mut Shared, b: &mut BackendRun) {
        if !b.host.pipelining
            || b.gw.next.is_some()
            || b.gw.state != GwState::Read
            || b.gw.pending() > 0
        {
            return;
        }
        let Some(l) = &b.lease else { return };
        let Some((who, rec)) = l.host.take_pipelined(l.proc_id) else {
            l.host.add_carrier(l, (self.index, self.serial));
            return;
        };
        l.host.remove_carrier(l);
        let next = gw::Next {
            who,
            host: l.host.clone(),
            len: rec.len(),
        };
        b.gw.pipeline(&rec, next);
        // A write error shows at the next flush or read, as for this
        // request's own records.
        if b.gw.flush().is_ok() && b.gw.pending() > 0 {
            let _ = b.gw.watch_writable(&sh.registry);
        }
    }

    /// Returns true when the backend part is over (the client response is
    /// complete in the queue, or an error response replaced it).
    fn backend_work(&mut self, sh: &mut Shared, b: &mut BackendRun) -> bool {
        let was_connecting = b.gw.state == GwState::ConnectDelayed;
        match b.gw.check_connected() {
            Ok(false) => return false,
            Ok(true) => {
                if was_connecting {
                    if let Some(l) = &b.lease {
                        l.host.connected(l, sh.now);
                    }
                    b.read_ts = sh.now;
                    b.write_ts = sh.now;
                    if b.debug >= 1 {
                        crate::log_error!("connect succeeded: {}", b.gw.sock.as_raw_fd());
                    }
                }
            }
            Err(e) => return self.connect_failed(sh, b, &e, MAX_RECONNECTS),
        }
        // A backend that is readable while the request is still being
        // written is heard first (its answer or its close), as 1.4.69
        // handles a ready backend.
        if b.gw.readable && (b.gw.pending() > 0 || b.body_left > 0) && self.backend_read(sh, b) {
            return true;
        }
        // Forward the request body: from the buffer it was read into, or
        // as it arrives from the client (server.stream-request-body).
        loop {
            if b.body_left > 0 && b.gw.pending() < BACKPRESSURE {
                let want = (b.body_left as usize).min(BODY_STEP);
                let avail = match &mut b.body_src {
                    Some(src) => match src.read_chunk(want) {
                        Ok(v) => v,
                        Err(e) => {
                            crate::log_error!(
                                "reading the request body temp file failed: {}",
                                crate::sys::strerror(&e)
                            );
                            return self.backend_fail(sh, b, 500);
                        }
                    },
                    None => self.take_body(sh, want),
                };
                if !avail.is_empty() {
                    b.body_left -= avail.len() as u64;
                    b.body_sent += avail.len() as u64;
                    b.gw.queue_body(&avail, b.body_left == 0);
                } else if b.body_src.is_none() && self.peer_gone() {
                    // The client went away mid-body: drop the backend request.
                    self.state = State::Closed;
                    return true;
                }
            }
            let before = b.gw.written;
            let mut flushed = b.gw.flush();
            if b.gw.written != before {
                b.write_ts = sh.now;
            }
            if flushed.is_ok() && b.gw.pending() > 0 {
                flushed = b.gw.watch_writable(&sh.registry);
            }
            if let Err(e) = flushed {
                if b.reused && !b.head_done && b.head_buf.is_empty() {
                    // A kept connection the backend has closed.
                    return self.retry_fresh(sh, b);
                }
                match e.raw_os_error() {
                    Some(libc::EPIPE | libc::ENOTCONN | libc::ECONNRESET) => crate::log_error!(
                        "connection was dropped after accept() (perhaps the gw process died), write-offset: {} socket: {}",
                        b.gw.written,
                        b.gw.addr
                    ),
                    _ => crate::log_error!("write failed: {}", crate::sys::strerror(&e)),
                }
                return self.backend_fail(sh, b, 503);
            }
            // More of a buffered body can go while the socket takes it.
            if b.body_src.is_none() || b.body_left == 0 || !b.gw.writable || b.gw.pending() > 0 {
                break;
            }
        }
        self.pipeline_next(sh, b);
        // tcp-fin-propagate (with a streamed request body, as 1.4.69): the
        // client's half-close is passed on once the request is sent.
        if b.host.tcp_fin_propagate
            && !b.fin_sent
            && !b.authorizer
            && b.conf.stream_request_body != 0
            && b.gw.request_complete
            && b.gw.pending() == 0
        {
            if self.readable && !self.peer_eof {
                self.fill(self.inbuf.len() + 16 * 1024, sh.now, &mut sh.rbuf);
            }
            if self.peer_eof {
                b.gw.sock.shutdown_write();
                b.fin_sent = true;
            }
        }
        self.backend_read(sh, b)
    }

    /// Reads what the backend sent and turns it into the client's
    /// response. True when the backend part is over.
    fn backend_read(&mut self, sh: &mut Shared, b: &mut BackendRun) -> bool {
        if self.out_len() >= BACKPRESSURE {
            // Not reading on purpose: the read timer waits with us.
            b.read_ts = sh.now;
            return false;
        }
        // The decoded bytes go into a buffer the server keeps for every
        // backend read (taken out while this request acts on it).
        let mut reply = std::mem::take(&mut sh.decoded);
        reply.clear();
        let closed = b.gw.read(&mut sh.rbuf, BACKPRESSURE, &mut reply);
        if !reply.events.is_empty() || closed.is_some() {
            b.read_ts = sh.now;
        }
        let done = self.act_on_reply(sh, b, &reply, closed);
        reply.clear();
        sh.decoded = reply;
        done
    }

    /// What a read from the backend decoded, in order, then how the
    /// connection ended. True when the backend part is over.
    fn act_on_reply(
        &mut self,
        sh: &mut Shared,
        b: &mut BackendRun,
        reply: &gw::codec::Decoded,
        closed: Option<gw::Closed>,
    ) -> bool {
        use gw::codec::Event;
        for ev in &reply.events {
            let data = reply.bytes(ev);
            match ev {
                Event::Stdout(_) => {
                    if b.head_done {
                        self.emit_body(sh, b, data);
                        continue;
                    }
                    if let Some(done) = self.backend_head(sh, b, data) {
                        return done;
                    }
                }
                Event::Stderr(_) => {
                    for line in crate::http::lossless::from_bytes(data).lines() {
                        crate::log_error!("FastCGI-stderr:{line}");
                    }
                }
                Event::Unknown(t) => {
                    crate::log_error!("FastCGI: header.type not handled: {t}");
                }
                Event::End => return self.reply_end(sh, b),
            }
        }
        let Some(closed) = closed else {
            return false;
        };
        if b.reused && !b.head_done && b.head_buf.is_empty() {
            // The backend closed a kept connection: the request
            // was not taken; send it on a new one.
            return self.retry_fresh(sh, b);
        }
        match &closed {
            gw::Closed::Error(e) => crate::log_error!(
                "read() {} {}: {}",
                self.sock.as_raw_fd(),
                b.gw.sock.as_raw_fd(),
                crate::sys::strerror(e)
            ),
            gw::Closed::Eof => {
                let pid = b.lease.as_ref().map(|l| l.pid).unwrap_or(0);
                crate::log_error!(
                    "unexpected end-of-file (perhaps the fastcgi process died):pid: {pid} socket: {}",
                    b.gw.addr
                );
            }
        }
        if !b.head_done {
            crate::log_error!(
                "response not received, request sent: {} on socket: {} for {}, closing connection",
                b.gw.written,
                b.gw.addr,
                b.names.uri()
            );
            return self.backend_fail(sh, b, 500);
        }
        crate::log_error!(
            "response already sent out, but backend returned error on socket: {} for {}, terminating connection",
            b.gw.addr,
            b.names.uri()
        );
        // What arrived goes out, marked as cut short: chunked
        // without the last chunk (HTTP/1.1) and closed. 1.4.69
        // sends it with a Content-Length that makes it look
        // complete (doc/compat.md).
        b.keep = false;
        b.sendfile = None;
        self.start_streaming(sh, b);
        self.emergency_exit(b);
        self.finish_backend(false);
        true
    }

    /// STDOUT bytes while the head is still coming: once it is complete,
    /// interim heads are relayed and the final one starts the response.
    /// Some(done) when the backend part ended (a bad head: 502).
    fn backend_head(&mut self, sh: &mut Shared, b: &mut BackendRun, data: &[u8]) -> Option<bool> {
        b.head_buf.extend_from_slice(data);
        let opts = backend_resp::HeadOpts {
            backend: backend_resp::Backend::Fastcgi,
            purpose: if b.authorizer {
                backend_resp::Purpose::Authorize
            } else {
                backend_resp::Purpose::Respond
            },
            xsendfile_allow: b.host.x_sendfile,
        };
        // Interim (1xx) heads go on to an HTTP/1.1 client as they
        // are (unless server.feature-flags "server.h1-discard-backend-1xx");
        // the final head follows.
        let relay_1xx =
            b.version == Version::Http11 && !sh.compiled.global().h1_discard_backend_1xx;
        let mut buf = std::mem::take(&mut b.head_buf);
        let mut start = 0;
        loop {
            match backend_resp::parse_backend_head(&buf[start..], MAX_HEAD, opts) {
                Ok(Some((head, off))) if head.is_interim() && !b.authorizer => {
                    if relay_1xx {
                        self.push_out(interim_head(&head));
                    }
                    start += off;
                }
                Ok(None) => {
                    // More to come: keep what is not parsed yet.
                    buf.drain(..start);
                    b.head_buf = buf;
                    return None;
                }
                Ok(Some((head, off))) => {
                    self.emit_head(sh, b, head);
                    let rest = &buf[start + off..];
                    if !rest.is_empty() {
                        self.emit_body(sh, b, rest);
                    }
                    return None;
                }
                Err(e) => {
                    match &e {
                        // 1.4.69's lines for these two.
                        backend_resp::BackendError::TooLarge => {
                            crate::log_error!("response headers too large for {}", b.names.path())
                        }
                        backend_resp::BackendError::BadStatusLine(_) => crate::log_error!("{e}"),
                        // 1.4.69 says nothing; a line helps whoever debugs.
                        _ => crate::log_error!(
                            "invalid response headers from backend {}: {e}",
                            b.gw.addr
                        ),
                    }
                    return Some(self.backend_fail(sh, b, 502));
                }
            }
        }
    }

    /// END_REQUEST: the response is complete (or the authorizer decided).
    fn reply_end(&mut self, sh: &mut Shared, b: &mut BackendRun) -> bool {
        if !b.head_done {
            // The head never ended (nothing, or no blank line): 500, as
            // 1.4.69 answers.
            return self.backend_fail(sh, b, 500);
        }
        b.keep_conn = b.host.conn_reuse > 0 && b.gw.reusable();
        if let Some(vars) = b.auth_vars.take() {
            self.after_authorizer(sh, b, vars);
            return true;
        }
        match b.sendfile.take() {
            Some(Ok(r)) => {
                self.queue(sh, r, b.version, b.keep, b.head_only, b.tag.as_deref());
                self.finish_backend(b.keep);
                return true;
            }
            // As for a static file that cannot be sent, the error handler
            // answers when one is set (1.4.69 does the same).
            Some(Err(status)) => {
                if !self.backend_error_handler(sh, b, status, !b.keep) {
                    let shown = b.origin.map_or(status, |o| o.failed(status));
                    let r = response::error_response(shown, &b.conf, false);
                    self.queue(sh, r, b.version, b.keep, b.head_only, b.tag.as_deref());
                    self.finish_backend(b.keep);
                }
                return true;
            }
            None => {}
        }
        if let Some(r) = b.intercept.take() {
            self.intercepted(sh, b, r, b.keep);
            return true;
        }
        if b.cl_left.is_some_and(|n| n > 0) && !b.head_only {
            // Shorter than its Content-Length: the client must see it cut
            // short (1.4.69 keeps the connection, and the client waits).
            b.keep = false;
        }
        if let Some(r) = b.deferred.take() {
            self.send_buffered(sh, b, r);
            self.finish_backend(b.keep);
            return true;
        }
        if b.chunked && !b.head_only {
            self.push_out(b"0\r\n\r\n".to_vec());
        }
        self.finish_backend(b.keep);
        true
    }

    /// The seed's line for a request torn down because its backend failed
    /// (fastcgi.debug; 1.4.69 no longer prints it).
    fn emergency_exit(&self, b: &BackendRun) {
        if b.debug > 0 {
            crate::log_error!(
                "emergency exit: fastcgi: connection-fd: {} fcgi-fd: {}",
                self.sock.as_raw_fd(),
                b.gw.sock.as_raw_fd()
            );
        }
    }

    fn backend_fail(&mut self, sh: &mut Shared, b: &mut BackendRun, status: u16) -> bool {
        self.emergency_exit(b);
        if let Some(r) = b.intercept.take() {
            // the intercepted error goes out all the same
            self.intercepted(sh, b, r, false);
            return true;
        }
        if b.head_done {
            self.finish_backend(false);
            return true;
        }
        // server.error-handler answers a backend failure as any error
        if self.backend_error_handler(sh, b, status, status != 503) {
            return true;
        }
        let shown = b.origin.map_or(status, |o| o.failed(status));
        let r = response::error_response(shown, &b.conf, status != 503);
        let keep = b.keep && status == 503;
        self.queue(sh, r, b.version, keep, b.head_only, b.tag.as_deref());
        true
    }
}

impl Conn {
    /// An error status the backend part ends with goes to
    /// server.error-handler (or -404) when one is set, as lighttpd runs it
    /// for a failed backend (an authorizer too): the handler's URL as a
    /// sub-request. Not for an error handler's own sub-request. True when
    /// it ran.
    fn backend_error_handler(
        &mut self,
        sh: &mut Shared,
        b: &mut BackendRun,
        status: u16,
        close: bool,
    ) -> bool {
        if b.origin.is_some() {
            return false;
        }
        let Some(sub) = response::error_handler(&b.conf, status, close) else {
            return false;
        };
        let Some(head) = b.req.take() else {
            return false;
        };
        // The proc is let go before the handler runs (it may take another
        // backend connection).
        b.lease = None;
        let env = std::mem::take(&mut b.env);
        self.error_subrequest(sh, &head, &sub, b.auth_done.then_some(&env[..]));
        true
    }

    /// server.error-intercept: the backend's 4xx/5xx answered by the error
    /// handler, else by the error page (errorfile-prefix or built-in) with
    /// the backend's headers dropped but for a 401's WWW-Authenticate.
    fn intercepted(&mut self, sh: &mut Shared, b: &mut BackendRun, head: Response, keep: bool) {
        let status = head.status;
        if self.backend_error_handler(sh, b, status, !keep) {
            return;
        }
        let mut r = response::error_response(status, &b.conf, !keep);
        for (k, v) in head.headers {
            r.headers.insert(0, (k, v));
        }
        self.queue(sh, r, b.version, keep, b.head_only, b.tag.as_deref());
        self.finish_backend(keep);
    }
}
