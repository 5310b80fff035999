//! A client connection whose request a FastCGI backend answers (the
//! connection side of src/gw): start the backend request (BEGIN_REQUEST,
//! one PARAMS record, STDIN), forward the request body as it arrives, turn
//! the backend's CGI head into the client's status line and headers, then
//! stream the body with backpressure (no more backend reads while 256 KiB
//! wait for the client), chunked for HTTP/1.1 when the backend gave no
//! Content-Length. Failures get the status and log line of fastcgi.md §5.

use crate::conn::{Conn, State};
use crate::gw::config::{GwExt, GwHost, Mode};
use crate::gw::fcgi::{self, Role};
use crate::gw::pool::{Lease, PickInput, Slot, pick_host};
use crate::gw::{self, GwConn, GwEvent, GwState};
use crate::http::backend_resp;
use crate::http::cgi_env::{self, CgiInput};
use crate::http::request::{RequestHead, Version};
use crate::mods::fastcgi::FcgiTarget;
use crate::reqconf::RequestConf;
use crate::response::{self, Response};
use crate::server::Shared;
use mio::{Interest, Token};
use std::os::fd::AsRawFd;
use std::rc::Rc;

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
    head_buf: Vec<u8>,
    head_done: bool,
    chunked: bool,
    /// Request body bytes still to read from the client and forward.
    body_left: u64,
    version: Version,
    head_only: bool,
    keep: bool,
    debug: u32,
    tag: Option<std::rc::Rc<str>>,
    conf: RequestConf,
    uri: String,
    /// The response head, held back while the body is buffered: a body
    /// that is complete by END_REQUEST goes out with Content-Length (and
    /// Range applied), as lighttpd buffers backend responses by default.
    deferred: Option<Response>,
    body: Vec<u8>,
    /// The client's Range header, for a GET over HTTP/1.1.
    range: Option<String>,
    /// GET or HEAD: only these get Accept-Ranges.
    get_or_head: bool,
    /// BEGIN_REQUEST + PARAMS, kept to try another proc.
    rec: Vec<u8>,
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
    path: String,
    authority: String,
    /// When the connect started and the last read / write progress (the
    /// host's connect-, read- and write-timeout).
    connect_ts: i64,
    read_ts: i64,
    write_ts: i64,
    /// The request, for serving an X-Sendfile file (conditional, Range);
    /// kept only for hosts with x-sendfile enabled.
    req: Option<RequestHead>,
    /// The X-Sendfile answer: replaces the backend's body entirely.
    sendfile: Option<Response>,
    /// This is an authorizer request (the request in `req` runs on when
    /// it allows).
    authorizer: bool,
    /// The authorizer allowed: its Variable-* (name, value).
    auth_vars: Option<Vec<(String, String)>>,
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

/// A backend request not started yet: its body is being read
/// (State::ReadBody), or it waits for a connection (State::WaitBackend).
pub struct Pending {
    head: RequestHead,
    target: FcgiTarget,
    conf: RequestConf,
    version: Version,
    keep: bool,
    mode: Mode,
    extra: Vec<(String, String)>,
    collect: Option<crate::reqbody::Collect>,
    /// The body, read in full.
    body: Option<crate::reqbody::BodyBuf>,
    /// Expect: 100-continue was looked at.
    continue_checked: bool,
    /// In a proc's queue (connection-reuse) as `who`.
    waiting: bool,
    who: (usize, u64),
    /// The records built before the request was queued.
    rec: Option<Vec<u8>>,
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
/// Variable-* for the responder after it).
pub struct Start<'a> {
    pub version: Version,
    pub keep: bool,
    pub mode: Mode,
    pub extra: &'a [(String, String)],
    /// The request body, read in full before the start.
    pub body: Option<crate::reqbody::BodyBuf>,
    /// Woken from a proc's queue: the records it built before.
    pub resumed: Option<Vec<u8>>,
}

/// The request parameters for the backend, in lighttpd's order, written
/// into one PARAMS record.
fn env_for(
    c: &Conn,
    head: &RequestHead,
    t: &FcgiTarget,
    conf: &RequestConf,
    how: &Start<'_>,
    w: &mut fcgi::ParamsWriter<'_>,
) {
    let local = c.local_addr();
    let (server_addr, server_port) = match local {
        Some(a) => (a.ip().to_string(), a.port()),
        None => (String::new(), 0),
    };
    let remote = c.peer.to_string();
    let host = head.host.as_deref().unwrap_or("");
    let server_name = host
        .rsplit_once(':')
        .filter(|(h, _)| !h.ends_with(']') || host.starts_with('['))
        .map(|(h, _)| h)
        .unwrap_or(host);
    let input = CgiInput {
        authorizer: how.mode == Mode::Authorizer,
        content_length: head.content_length.unwrap_or(0),
        query: head.query.as_deref().unwrap_or(""),
        raw_target: &head.target,
        redirect_uri: None,
        error_handler: false,
        script_name: &t.script_name,
        path_info: t.path_info.as_deref(),
        script_filename: &t.script_filename,
        document_root: &t.document_root,
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
        server_addr: &server_addr,
        server_port,
        server_name,
        remote_addr: &remote,
        remote_port: c.peer_port,
        headers: &head.headers,
        strip_request_uri: t.host.strip_request_uri.as_deref(),
        extra: how.extra,
    };
    cgi_env::build_with(&input, &mut |k, v| w.push(k.as_bytes(), v.as_bytes()));
}

impl Conn {
    /// Starts a backend request; on a failure answers at once.
    pub(crate) fn start_backend(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        t: FcgiTarget,
        conf: RequestConf,
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
                let mut rec = Vec::with_capacity(1024);
                let role = if authorizer {
                    Role::Authorizer
                } else {
                    Role::Responder
                };
                fcgi::begin_request(&mut rec, 1, role, t.host.conn_reuse > 0);
                let mut w = fcgi::ParamsWriter::new(&mut rec, 1);
                env_for(self, head, &t, &conf, &how, &mut w);
                if w.finish().is_err() {
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
        // "<path>?<query>", the `?` even without a query, as 1.4.69's
        // messages print the request.
        let uri = format!("{}?{}", head.path, head.query.as_deref().unwrap_or(""));
        let path = head.path.clone();
        let authority = head.host.clone().unwrap_or_default();
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
                path: &path,
                query: head.query.as_deref().unwrap_or(""),
                authority: &authority,
                client_ip: &self.peer.to_string(),
                debug,
                rec: &rec,
                body_left,
                index: self.index,
                who: (self.index, self.serial),
                queued,
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
                all_down_note(ext, &uri);
                let r = response::error_response(503, &conf, false);
                let head_only = head.method == crate::http::request::Method::Head;
                self.queue(sh, r, version, keep, head_only, conf.server_tag.as_deref());
                return;
            }
        };
        self.backend = Some(Box::new(BackendRun {
            gw: g,
            head_buf: Vec::new(),
            head_done: false,
            chunked: false,
            body_left,
            version,
            head_only: head.method == crate::http::request::Method::Head,
            keep,
            debug,
            tag: conf.server_tag.clone(),
            range: (head.method == crate::http::request::Method::Get
                && head.version == Version::Http11)
                .then(|| head.header("Range").map(str::to_string))
                .flatten(),
            get_or_head: matches!(
                head.method,
                crate::http::request::Method::Get | crate::http::request::Method::Head
            ),
            deferred: None,
            body: Vec::new(),
            conf,
            uri,
            rec,
            reconnects,
            body_sent: 0,
            req: (t.host.x_sendfile || authorizer).then(|| head.clone()),
            authorizer,
            auth_vars: None,
            body_src,
            reused,
            keep_conn: false,
            fin_sent: false,
            host: lease.host_cfg(),
            lease: Some(lease),
            ext: t.ext,
            path,
            authority,
            connect_ts: sh.now,
            read_ts: sh.now,
            write_ts: sh.now,
            sendfile: None,
        }));
        self.state = State::Backend;
    }

    /// Reads the request body in full before the backend starts
    /// (server.stream-request-body = 0).
    pub(crate) fn collect_body(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        t: FcgiTarget,
        conf: RequestConf,
        how: Start<'_>,
    ) {
        let max_body = conf.max_request_size_kb as u64 * 1024;
        let collect = crate::reqbody::Collect::new(
            head.content_length,
            head.chunked,
            sh.parse_opts.max_request_field_size,
            max_body,
            sh.upload_dirs.clone(),
        );
        self.pending = Some(Box::new(Pending {
            head: head.clone(),
            target: t,
            conf,
            version: how.version,
            keep: how.keep,
            mode: how.mode,
            extra: how.extra.to_vec(),
            collect: Some(collect),
            body: None,
            continue_checked: false,
            waiting: false,
            who: (self.index, self.serial),
            rec: None,
        }));
        self.state = State::ReadBody;
    }

    /// State::ReadBody: read, decode and store body bytes; start the
    /// backend once the body is complete.
    pub(crate) fn read_body(&mut self, sh: &mut Shared) {
        let Some(mut p) = self.pending.take() else {
            self.state = State::Closed;
            return;
        };
        let Some(collect) = p.collect.as_mut() else {
            self.state = State::Closed;
            return;
        };
        if !p.continue_checked {
            p.continue_checked = true;
            // 100 Continue only while no body byte has arrived.
            if p.head.expect_100 && self.inbuf.is_empty() {
                self.push_out(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec());
                self.flush_out(sh);
            }
        }
        let mut budget = BODY_READ_BUDGET;
        loop {
            if !self.inbuf.is_empty() {
                match collect.feed(&self.inbuf) {
                    Ok((used, done)) => {
                        budget = budget.saturating_sub(used);
                        self.inbuf.drain(..used);
                        if done {
                            return self.body_complete(sh, p);
                        }
                    }
                    Err(e) => {
                        if let Some(msg) = &e.log {
                            crate::log_error!("{msg}");
                        }
                        let r = response::error_response(e.status, &p.conf, true);
                        let head_only = false;
                        self.queue(
                            sh,
                            r,
                            p.version,
                            false,
                            head_only,
                            p.conf.server_tag.as_deref(),
                        );
                        return;
                    }
                }
            }
            if self.peer_eof || self.state == State::Closed {
                // The client went away mid-body: nothing to answer.
                self.state = State::Closed;
                return;
            }
            if !self.readable {
                break;
            }
            if budget == 0 {
                self.yielded = true; // let other connections run
                break;
            }
            self.fill(16 * 1024, sh.now, &mut sh.rbuf);
        }
        self.pending = Some(p);
    }

    fn body_complete(&mut self, sh: &mut Shared, mut p: Box<Pending>) {
        let Some(collect) = p.collect.take() else {
            return;
        };
        let mut head = p.head.clone();
        head.content_length = Some(collect.buf.len());
        head.chunked = false;
        let keep = p.keep && !collect.trailers_overflowed();
        let how = Start {
            version: p.version,
            keep,
            mode: p.mode,
            extra: &p.extra,
            body: Some(collect.buf),
            resumed: None,
        };
        let (target, conf) = (p.target.clone(), p.conf.clone());
        self.start_backend(sh, &head, target, conf, how);
    }

    /// State::WaitBackend, woken: a connection of the proc is free.
    pub(crate) fn resume_backend(&mut self, sh: &mut Shared) {
        let Some(mut p) = self.pending.take() else {
            self.state = State::Closed;
            return;
        };
        p.waiting = false;
        let head = p.head.clone();
        let (target, conf) = (p.target.clone(), p.conf.clone());
        let how = Start {
            version: p.version,
            keep: p.keep,
            mode: p.mode,
            extra: &p.extra,
            body: p.body.take(),
            resumed: Some(p.rec.take().unwrap_or_default()),
        };
        self.start_backend(sh, &head, target, conf, how);
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
            lease.host.put_idle(lease, b.gw, sh.now);
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
                            crate::log_error!("reading the request body temp file failed: {e}");
                            return self.backend_fail(sh, b, 500);
                        }
                    },
                    None => self.take_body(sh, want),
                };
                if !avail.is_empty() {
                    b.body_left -= avail.len() as u64;
                    b.body_sent += avail.len() as u64;
                    let mut rec = Vec::new();
                    fcgi::stdin(&mut rec, 1, &avail);
                    if b.body_left == 0 {
                        fcgi::stdin_end(&mut rec, 1);
                        b.gw.request_complete = true;
                    }
                    b.gw.queue(&rec);
                } else if b.body_src.is_none() && self.peer_gone() {
                    // The client went away mid-body: drop the backend request.
                    self.state = State::Closed;
                    return true;
                }
            }
            let before = b.gw.written;
            let flushed = b.gw.flush();
            if b.gw.written != before {
                b.write_ts = sh.now;
            }
            if let Err(e) = flushed {
                if b.reused && !b.head_done && b.head_buf.is_empty() {
                    // A kept connection the backend has closed.
                    return self.retry_fresh(sh, b);
                }
                crate::log_error!(
                    "connection was dropped after accept() (perhaps the gw process died), write-offset: {} socket: {} ({})",
                    b.gw.written,
                    b.gw.addr,
                    io_text(&e)
                );
                return self.backend_fail(sh, b, 503);
            }
            // More of a buffered body can go while the socket takes it.
            if b.body_src.is_none() || b.body_left == 0 || !b.gw.writable || b.gw.pending() > 0 {
                break;
            }
        }
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
        let mut events = Vec::new();
        b.gw.read(&mut sh.rbuf, BACKPRESSURE, &mut events);
        if !events.is_empty() {
            b.read_ts = sh.now;
        }
        for ev in events {
            match ev {
                GwEvent::Stdout(data) => {
                    if b.head_done {
                        self.emit_body(sh, b, &data);
                        continue;
                    }
                    b.head_buf.extend_from_slice(&data);
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
                    // are; the final head follows.
                    let mut parsed = backend_resp::parse_backend_head(&b.head_buf, MAX_HEAD, opts);
                    while let Ok(Some((head, off))) = &parsed
                        && head.is_interim()
                        && !b.authorizer
                    {
                        let rest = b.head_buf.split_off((*off).min(b.head_buf.len()));
                        if b.version == Version::Http11 {
                            self.push_out(interim_head(head));
                        }
                        b.head_buf = rest;
                        parsed = backend_resp::parse_backend_head(&b.head_buf, MAX_HEAD, opts);
                    }
                    match parsed {
                        Ok(None) => {}
                        Ok(Some((head, off))) => {
                            let rest = b.head_buf.split_off(off.min(b.head_buf.len()));
                            self.emit_head(sh, b, head);
                            if !rest.is_empty() {
                                self.emit_body(sh, b, &rest);
                            }
                        }
                        Err(e) => {
                            crate::log_error!(
                                "invalid response headers from backend {}: {e:?}",
                                b.gw.addr
                            );
                            return self.backend_fail(sh, b, 502);
                        }
                    }
                }
                GwEvent::Stderr(data) => {
                    for line in String::from_utf8_lossy(&data).lines() {
                        crate::log_error!("FastCGI-stderr:{line}");
                    }
                }
                GwEvent::End => {
                    if !b.head_done {
                        return self.backend_fail(sh, b, 502);
                    }
                    b.keep_conn = b.host.conn_reuse > 0 && b.gw.reusable();
                    if let Some(vars) = b.auth_vars.take() {
                        self.after_authorizer(sh, b, vars);
                        return true;
                    }
                    if let Some(r) = b.sendfile.take() {
                        self.queue(sh, r, b.version, b.keep, b.head_only, b.tag.as_deref());
                        self.finish_backend(b.keep);
                        return true;
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
                    return true;
                }
                GwEvent::Eof | GwEvent::Error(_) => {
                    if b.reused && !b.head_done && b.head_buf.is_empty() {
                        // The backend closed a kept connection: the request
                        // was not taken; send it on a new one.
                        return self.retry_fresh(sh, b);
                    }
                    if let GwEvent::Error(e) = &ev {
                        crate::log_error!(
                            "read() {} {}: {}",
                            self.sock.as_raw_fd(),
                            b.gw.sock.as_raw_fd(),
                            io_text(e)
                        );
                    } else {
                        let pid = b.lease.as_ref().map(|l| l.pid).unwrap_or(0);
                        crate::log_error!(
                            "unexpected end-of-file (perhaps the fastcgi process died):pid: {pid} socket: {}",
                            b.gw.addr
                        );
                    }
                    if !b.head_done {
                        crate::log_error!(
                            "response not received, request sent: {} on socket: {} for {}, closing connection",
                            b.gw.written,
                            b.gw.addr,
                            b.uri
                        );
                        return self.backend_fail(sh, b, 500);
                    }
                    crate::log_error!(
                        "response already sent out, but backend returned error on socket: {} for {}, terminating connection",
                        b.gw.addr,
                        b.uri
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
                    return true;
                }
            }
        }
        false
    }

    /// A kept connection failed before any answer: the request goes out
    /// again on a new connection (a buffered body from its start).
    fn retry_fresh(&mut self, sh: &mut Shared, b: &mut BackendRun) -> bool {
        let body_left = match &mut b.body_src {
            Some(src) => {
                src.rewind();
                src.len()
            }
            None if b.body_sent == 0 => b.body_left,
            None => return self.backend_fail(sh, b, 502),
        };
        b.lease = None;
        let ext = b.exts();
        let Some(e) = ext.get(b.ext) else {
            return self.backend_fail(sh, b, 503);
        };
        let client_ip = self.peer.to_string();
        let a = Attempt {
            ext: e,
            balance: b.conf.fastcgi_balance,
            path: &b.path,
            query: b.uri.split_once('?').map(|(_, q)| q).unwrap_or(""),
            authority: &b.authority,
            client_ip: &client_ip,
            debug: b.debug,
            rec: &b.rec,
            body_left,
            index: self.index,
            who: (self.index, self.serial),
            queued: true,
        };
        let mut tries = 0;
        match open_gw(sh, &a, Some(b.host.clone()), &mut tries, MAX_RECONNECTS) {
            Opened::Conn(g, lease, reused) => {
                b.gw = g;
                b.lease = Some(lease);
                b.reused = reused;
                b.body_left = body_left;
                b.body_sent = 0;
                b.connect_ts = sh.now;
                false
            }
            // Waiting is not possible once the request has begun.
            Opened::Wait | Opened::Down => {
                all_down_note(e, &b.uri);
                self.backend_fail(sh, b, 503)
            }
        }
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
        if b.head_done {
            self.finish_backend(false);
            return true;
        }
        let r = response::error_response(status, &b.conf, status != 503);
        let keep = b.keep && status == 503;
        self.queue(sh, r, b.version, keep, b.head_only, b.tag.as_deref());
        true
    }

    fn emit_head(&mut self, sh: &mut Shared, b: &mut BackendRun, head: backend_resp::BackendHead) {
        b.head_done = true;
        if b.authorizer && head.status == 200 {
            // Allowed: only the variables count; the body is dropped.
            let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
            b.auth_vars = Some(
                head.variables
                    .iter()
                    .map(|(k, v)| (text(k), text(v)))
                    .collect(),
            );
            return;
        }
        let mut r = Response::new(head.status);
        for (k, v) in &head.headers {
            let k = String::from_utf8_lossy(k).into_owned();
            r.headers.push((
                std::borrow::Cow::Owned(k),
                String::from_utf8_lossy(v).into_owned(),
            ));
        }
        match &head.x_sendfile {
            Some(backend_resp::XSendfile::Path(p)) => {
                b.keep = b.keep && !head.connection_close;
                b.sendfile = Some(self.x_sendfile(sh, b, p));
                return;
            }
            Some(backend_resp::XSendfile::Ranges(v)) => {
                b.keep = b.keep && !head.connection_close;
                b.sendfile = Some(x_sendfile2(b, v, r));
                return;
            }
            None => {}
        }
        b.keep = b.keep && !head.connection_close;
        b.deferred = Some(r);
    }

    /// X-Sendfile: the path (URL-decoded, valid UTF-8, simplified) must lie
    /// in x-sendfile-docroot when that is set (403), exist (404), and is
    /// then served like a static file; a bad path is 502.
    fn x_sendfile(&mut self, sh: &mut Shared, b: &BackendRun, raw: &[u8]) -> Response {
        let decoded = crate::http::uri::decode_path(raw);
        let Ok(path) = String::from_utf8(decoded) else {
            return response::error_response(502, &b.conf, false);
        };
        let path = crate::http::uri::simplify_path(&path);
        if !path.starts_with('/') {
            return response::error_response(502, &b.conf, false);
        }
        let roots = &b.host.x_sendfile_docroot;
        if !roots.is_empty() && !roots.iter().any(|d| path.starts_with(d.as_str())) {
            crate::log_error!("X-Sendfile ({path}) not under x-sendfile-docroot");
            return response::error_response(403, &b.conf, false);
        }
        let ctx = response::Ctx {
            now: sh.now,
            conf: &b.conf,
            cache: &sh.stat_cache,
            local: None,
        };
        match &b.req {
            Some(req) => response::serve_path(req, &ctx, &path),
            None => response::error_response(502, &b.conf, false),
        }
    }

    /// The authorizer allowed the request: it runs on with the responder
    /// keys or the other handlers, the variables in its environment; with
    /// the authorizer's docroot as its document root.
    fn after_authorizer(
        &mut self,
        sh: &mut Shared,
        b: &mut BackendRun,
        vars: Vec<(String, String)>,
    ) {
        let Some(head) = b.req.take() else {
            return;
        };
        let mut conf = b.conf.clone();
        if let Some(d) = &b.host.docroot {
            conf.document_root = Some(d.as_str().into());
        }
        // The authorizer's proc is let go before the request runs on (it
        // may take another backend connection).
        b.lease = None;
        self.dispatch(sh, &head, conf, Some(vars));
    }

    fn emit_body(&mut self, sh: &mut Shared, b: &mut BackendRun, data: &[u8]) {
        if b.auth_vars.is_some() {
            return; // an allowing authorizer's body is not used
        }
        if b.sendfile.is_some() {
            return; // the backend's body is replaced by the file
        }
        if b.deferred.is_some() {
            b.body.extend_from_slice(data);
            if b.body.len() > STREAM_AFTER {
                self.start_streaming(sh, b);
            }
            return;
        }
        if b.head_only || data.is_empty() {
            return;
        }
        if b.chunked {
            let mut v = format!("{:x}\r\n", data.len()).into_bytes();
            v.extend_from_slice(data);
            v.extend_from_slice(b"\r\n");
            self.push_out(v);
        } else {
            self.push_out(data.to_vec());
        }
    }

    /// The body outgrew the buffer: send the head, then stream.
    fn start_streaming(&mut self, sh: &mut Shared, b: &mut BackendRun) {
        let Some(mut r) = b.deferred.take() else {
            return;
        };
        let has_len = r
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("Content-Length"));
        let bodyless = b.head_only || matches!(r.status, 204 | 304) || r.status < 200;
        if !has_len && !bodyless {
            if b.version == Version::Http11 {
                r.header("Transfer-Encoding", "chunked");
                b.chunked = true;
            } else {
                b.keep = false; // the end of the body is the end of the connection
            }
        }
        self.queue_head_only(sh, &r, b.version, b.keep, b.tag.as_deref());
        let body = std::mem::take(&mut b.body);
        self.emit_body(sh, b, &body);
    }

    /// The whole body arrived before END_REQUEST: Content-Length, and
    /// Range for a 200 to a GET over HTTP/1.1 (as lighttpd does).
    fn send_buffered(&mut self, sh: &mut Shared, b: &mut BackendRun, mut r: Response) {
        let len = b.body.len() as u64;
        r.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("Content-Length"));
        let ranged = r.status == 200
            && b.get_or_head
            && b.conf.range_requests
            && b.version == Version::Http11
            && len > 0;
        if ranged {
            r.header("Accept-Ranges", "bytes");
        }
        let mut body = std::mem::take(&mut b.body);
        if let (true, Some(h)) = (ranged, b.range.as_deref()) {
            match crate::http::range::parse_range(h, len) {
                crate::http::range::RangeOutcome::Ignore => {}
                crate::http::range::RangeOutcome::Unsatisfiable => {
                    let e = response::error_response(416, &b.conf, false);
                    self.queue(sh, e, b.version, b.keep, b.head_only, b.tag.as_deref());
                    return;
                }
                crate::http::range::RangeOutcome::Ranges(rs) => {
                    r.status = 206;
                    if rs.len() == 1 {
                        let (a, z) = rs[0];
                        r.header("Content-Range", format!("bytes {a}-{z}/{len}"));
                        body = body[a as usize..=z as usize].to_vec();
                    } else {
                        let ct = r
                            .headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        let (parts, closing, _) =
                            crate::http::range::multipart_layout(&rs, &ct, len);
                        let mut out = Vec::new();
                        for (hdr, a, z) in parts {
                            out.extend_from_slice(&hdr);
                            out.extend_from_slice(&body[a as usize..=z as usize]);
                        }
                        out.extend_from_slice(&closing);
                        body = out;
                        r.headers
                            .retain(|(k, _)| !k.eq_ignore_ascii_case("Content-Type"));
                        r.headers.insert(
                            0,
                            (
                                std::borrow::Cow::Borrowed("Content-Type"),
                                crate::http::range::MULTIPART_CONTENT_TYPE.to_string(),
                            ),
                        );
                    }
                }
            }
        }
        if !matches!(r.status, 204 | 304) && r.status >= 200 {
            r.header("Content-Length", body.len().to_string());
        }
        r.body = crate::response::Body::Mem(body);
        self.queue(sh, r, b.version, b.keep, b.head_only, b.tag.as_deref());
    }
}

/// Connect attempts after the first: lighttpd reconnects up to 5 times,
/// choosing a host again each time (once only after a connect-timeout).
const MAX_RECONNECTS: u8 = 5;

/// What a connect attempt needs.
struct Attempt<'a> {
    ext: &'a GwExt,
    balance: crate::gw::pool::Balance,
    path: &'a str,
    query: &'a str,
    authority: &'a str,
    client_ip: &'a str,
    debug: u32,
    rec: &'a [u8],
    body_left: u64,
    index: usize,
    /// The client connection (index, serial), to queue it for a
    /// connection (connection-reuse).
    who: (usize, u64),
    /// Woken from that queue: goes before newcomers.
    queued: bool,
}

/// What a connect attempt gave.
enum Opened {
    Conn(GwConn, Lease, bool),
    /// connection-reuse: every connection of the proc is busy; the request
    /// was queued and is woken when one is free.
    Wait,
    /// No host runs, or the tries ran out.
    Down,
}

/// Takes a proc of `host` (or of a host chosen again by the balancer),
/// connects, queues the request records and registers the socket. A
/// failed attempt disables the proc (pool.rs) and the next attempt chooses
/// again, up to `max` reconnects. None: no host runs, or the tries ran out.
fn open_gw(
    sh: &Shared,
    a: &Attempt<'_>,
    mut host: Option<Rc<GwHost>>,
    reconnects: &mut u8,
    max: u8,
) -> Opened {
    loop {
        let h = match host.take() {
            Some(h) => h,
            None => {
                let pick = PickInput {
                    path: a.path,
                    authority: a.authority,
                    client_ip: a.client_ip,
                };
                match pick_host(a.ext, a.balance, &pick) {
                    Some(h) => h,
                    None => return Opened::Down,
                }
            }
        };
        if let Some(lease) = h.rt.get().and_then(|rt| rt.acquire(a.debug)) {
            let mut kept = None;
            if h.conn_reuse > 0 {
                match lease.host.reuse_slot(&lease, a.queued, sh.now) {
                    Slot::Idle(sock) => kept = Some(sock),
                    Slot::New => {}
                    Slot::Wait => {
                        lease.host.add_waiter(lease.proc_id, a.who);
                        return Opened::Wait;
                    }
                }
            }
            if let Some(mut g) = kept {
                // Still registered, under its own token: only the owner
                // changes.
                g.reset_for(a.index);
                queue_request(&mut g, a);
                lease.host.connected(&lease, sh.now);
                return Opened::Conn(g, lease, true);
            }
            match gw::connect(&lease.addr) {
                Ok(mut g) => {
                    queue_request(&mut g, a);
                    let slot = gw::TokenSlot::new(&sh.slots, a.index);
                    let token = Token(BACKEND_BASE + slot.id);
                    g.slot = Some(slot);
                    match sh.registry.register(
                        &mut g.sock,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        Ok(()) if g.state == GwState::ConnectDelayed => {
                            // The seed's words (fastcgi.debug), then 1.4.69's.
                            if a.debug >= 1 {
                                crate::log_error!("connect delayed: {}", g.sock.as_raw_fd());
                            }
                            if a.debug >= 3 {
                                crate::log_error!(
                                    "connect delayed; will continue later: {}",
                                    lease.addr
                                );
                            }
                            return Opened::Conn(g, lease, false);
                        }
                        Ok(()) => {
                            if a.debug >= 1 {
                                crate::log_error!("connect succeeded: {}", g.sock.as_raw_fd());
                            }
                            lease.host.connected(&lease, sh.now);
                            return Opened::Conn(g, lease, false);
                        }
                        Err(e) => crate::log_error!("backend register failed: {e}"),
                    }
                }
                Err(e) => {
                    crate::log_error!(
                        "establishing connection failed: socket: {}: {}",
                        lease.addr,
                        io_text(&e)
                    );
                    if a.debug >= 1 {
                        crate::log_error!(
                            "error: unexpected close of fastcgi connection for {}{}{} (no fastcgi process on host/port ?)",
                            a.path,
                            if a.query.is_empty() { "" } else { "?" },
                            a.query
                        );
                    }
                    lease
                        .host
                        .connect_error(&lease, e.raw_os_error().unwrap_or(0), sh.now);
                }
            }
        }
        if *reconnects >= max {
            return Opened::Down;
        }
        *reconnects += 1;
    }
}

/// BEGIN_REQUEST + PARAMS, and the end of STDIN when there is no body.
fn queue_request(g: &mut GwConn, a: &Attempt<'_>) {
    g.queue(a.rec);
    if a.body_left == 0 {
        let mut end = Vec::new();
        fcgi::stdin_end(&mut end, 1);
        g.queue(&end);
        g.request_complete = true;
    }
}

/// "all handlers for <path>?<query> on <key> are down." once per key
/// until one of its hosts works again.
fn all_down_note(e: &GwExt, uri: &str) {
    if !e.note_sent.replace(true) {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        crate::log_error!("all handlers for {path}?{query} on {} are down.", e.key);
    }
}

impl Conn {
    /// A connect in progress failed (or timed out): disable the proc and
    /// try again while nothing of the body went out, else 503.
    fn connect_failed(
        &mut self,
        sh: &mut Shared,
        b: &mut BackendRun,
        e: &std::io::Error,
        max: u8,
    ) -> bool {
        crate::log_error!(
            "establishing connection failed: socket: {}: {}",
            b.gw.addr,
            io_text(e)
        );
        if b.debug >= 1 {
            crate::log_error!(
                "error: unexpected close of fastcgi connection for {} (no fastcgi process on host/port ?)",
                b.uri.trim_end_matches('?')
            );
        }
        if let Some(l) = b.lease.take() {
            l.host
                .connect_error(&l, e.raw_os_error().unwrap_or(0), sh.now);
        }
        if b.body_sent == 0 && b.reconnects < max {
            b.reconnects += 1;
            let ext = b.exts();
            let Some(e) = ext.get(b.ext) else {
                return self.backend_fail(sh, b, 503);
            };
            let client_ip = self.peer.to_string();
            let a = Attempt {
                ext: e,
                balance: b.conf.fastcgi_balance,
                path: &b.path,
                query: b.uri.split_once('?').map(|(_, q)| q).unwrap_or(""),
                authority: &b.authority,
                client_ip: &client_ip,
                debug: b.debug,
                rec: &b.rec,
                body_left: b.body_left,
                index: self.index,
                who: (self.index, self.serial),
                queued: true,
            };
            if let Opened::Conn(g, lease, reused) = open_gw(sh, &a, None, &mut b.reconnects, max) {
                b.gw = g;
                b.reused = reused;
                b.host = lease.host_cfg();
                b.lease = Some(lease);
                b.connect_ts = sh.now;
                return false;
            }
            all_down_note(e, &b.uri);
        }
        self.backend_fail(sh, b, 503)
    }

    /// The host's connect-, read- and write-timeout, checked once a second
    /// (fastcgi.md §5). True when the backend part ended.
    pub(crate) fn backend_timeouts(&mut self, sh: &mut Shared) -> bool {
        let Some(mut b) = self.backend.take() else {
            return false;
        };
        let now = sh.now;
        let h = b.host.clone();
        let expired = |ts: i64, limit: u32| limit > 0 && now - ts > limit as i64;
        let done = if b.gw.state == GwState::ConnectDelayed {
            if expired(b.connect_ts, h.connect_timeout) {
                let e = std::io::Error::from_raw_os_error(libc::ETIMEDOUT);
                // One retry only: the request already waited.
                self.connect_failed(sh, &mut b, &e, 1)
            } else {
                false
            }
        } else if b.gw.state != GwState::Done && expired(b.read_ts, h.read_timeout) {
            crate::log_error!(
                "read timeout on socket: {} (fd: {})",
                b.gw.addr,
                b.gw.sock.as_raw_fd()
            );
            self.backend_fail(sh, &mut b, 504)
        } else if b.gw.pending() > 0 && expired(b.write_ts, h.write_timeout) {
            crate::log_error!(
                "write timeout on socket: {} (fd: {})",
                b.gw.addr,
                b.gw.sock.as_raw_fd()
            );
            self.backend_fail(sh, &mut b, 504)
        } else {
            false
        };
        if !done {
            self.backend = Some(b);
        }
        done
    }
}

/// X-Sendfile2: the listed ranges of the listed files become the body,
/// under the backend's status and headers; a bad value is 502, a path
/// outside x-sendfile-docroot 403, a missing file 404 (each logged). A
/// range past the end of its file is 502 (1.4.69 would send a short body).
fn x_sendfile2(b: &BackendRun, value: &[u8], mut r: Response) -> Response {
    let fail = |status: u16, msg: String| {
        crate::log_error!("{msg}");
        response::error_response(status, &b.conf, false)
    };
    let pieces = match crate::http::sendfile2::parse(value) {
        Ok(p) => p,
        Err(msg) => return fail(502, msg),
    };
    let roots = &b.host.x_sendfile_docroot;
    let mut segs = Vec::new();
    let mut total = 0u64;
    for p in pieces {
        if !roots.is_empty() && !roots.iter().any(|d| p.path.starts_with(d.as_str())) {
            return fail(
                403,
                format!(
                    "X-Sendfile2 ({}) not under configured x-sendfile-docroot(s)",
                    p.path
                ),
            );
        }
        let opened = std::fs::File::open(&p.path).and_then(|f| Ok((f.metadata()?, f)));
        let (meta, file) = match opened {
            Ok(x) => x,
            Err(_) => {
                return fail(
                    404,
                    format!(
                        "send-file error: couldn't get stat_cache entry for X-Sendfile2: {}",
                        p.path
                    ),
                );
            }
        };
        if !meta.is_file() {
            return fail(
                502,
                format!(
                    "send-file error: wrong filetype for X-Sendfile2: {}",
                    p.path
                ),
            );
        }
        let size = meta.len();
        let len = match p.end {
            None if p.start <= size => size - p.start,
            Some(e) if e < size => e + 1 - p.start,
            Some(e) if e.saturating_add(1) == p.start => 0,
            _ => return fail(502, format!("X-Sendfile2 range past the end of {}", p.path)),
        };
        if len > 0 {
            segs.push((std::rc::Rc::new(file), p.start, len));
            total += len;
        }
    }
    r.headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("Content-Length"));
    r.header("Content-Length", total.to_string());
    r.body = crate::response::Body::Segments(segs);
    r
}

/// An interim head as relayed: status line and the backend's headers only.
fn interim_head(head: &backend_resp::BackendHead) -> Vec<u8> {
    let mut v = format!(
        "HTTP/1.1 {} {}\r\n",
        head.status,
        crate::http::status::reason(head.status)
    )
    .into_bytes();
    for (k, val) in &head.headers {
        v.extend_from_slice(k);
        v.extend_from_slice(b": ");
        v.extend_from_slice(val);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"\r\n");
    v
}

/// strerror-like text of an io::Error.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}
