//! One client connection and its state machine (lighttpd's connection
//! states, sozu's way with edge-triggered mio): the socket's readiness is
//! remembered (`readable`, `writable`) and cleared only on WouldBlock, and
//! `drive` loops until nothing changes. States: reading a request head,
//! writing a response, lingering (after shutdown(SHUT_WR), reading and
//! dropping input until EOF or 5 s), closed. Pipelined requests are answered
//! strictly in order; nothing after a closing response is processed.

use crate::chunk::{ChunkQueue, WriteStatus};
use crate::config::cond_trace::Stage;
use crate::http::request::{self, HeadStatus, RequestHead, Version};
use crate::response::{self, Body, Piece, Response};
use crate::server::Shared;
use std::io::Read;
use std::os::fd::AsRawFd;

/// What became of a request offered to mod_fastcgi.
enum Handoff {
    /// A backend (or its 503) answers it.
    Taken,
    /// The static path answers it.
    Declined,
    /// mod_access refused it on the path mod_fastcgi's URL stage left: the
    /// static path answers 403.
    Denied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    ReadHead,
    /// A backend's request body is read in full first (src/reqbody.rs).
    ReadBody,
    /// The request waits for a backend connection (connection-reuse).
    WaitBackend,
    /// A backend answers the request (src/conn_backend/).
    Backend,
    Write,
    Linger,
    Closed,
}

pub struct Conn {
    pub sock: crate::stream::Stream,
    pub peer: std::net::IpAddr,
    /// `peer` as text, made once per connection when first needed
    /// (FastCGI's REMOTE_ADDR, the hash and sticky balancers); see
    /// [`Conn::peer_text`].
    peer_text: std::cell::OnceCell<String>,
    pub listener: usize,
    /// The stages whose condition blocks the current request has traced
    /// (debug.log-condition-handling; see [`crate::server::LateView`]).
    cond_traced: std::cell::Cell<u8>,
    pub state: State,
    pub readable: bool,
    pub writable: bool,
    /// The socket is polled for writability too (see watch_writable).
    pub watching_writable: bool,
    /// The socket is in the poll: not before the first turn has read what
    /// came with the connection (server.rs add_conn), as lighttpd, so a
    /// request answered at once costs no epoll_ctl.
    pub registered: bool,
    pub(crate) inbuf: Vec<u8>,
    out: ChunkQueue,
    /// Responses sent so far on this connection.
    pub requests: u32,
    /// Keep the connection open after the response being written.
    keep_alive: bool,
    /// The client asked to close after the current request, which had no
    /// body, and sent nothing after it: once the response is out the
    /// socket is closed at once instead of lingering (see
    /// [`Conn::write`]).
    close_at_once: bool,
    pub(crate) peer_eof: bool,
    /// Seconds: last time bytes arrived / left.
    pub last_read: i64,
    pub last_write: i64,
    pub linger_until: i64,
    /// Stopped writing with its budget spent: the server drives it again
    /// after the other ready connections (lighttpd's job list).
    pub yielded: bool,
    /// debug.log-response-header for the response being queued.
    log_response: bool,
    /// This connection's slot in the server (tokens of its sockets).
    pub index: usize,
    pub peer_port: u16,
    /// The backend exchange while State::Backend.
    pub(crate) backend: Option<Box<crate::conn_backend::BackendRun>>,
    /// The backend request waiting for its body (State::ReadBody) or for
    /// a connection (State::WaitBackend).
    pub(crate) pending: Option<Box<crate::conn_backend::Pending>>,
    /// connection.kbytes-per-second and server.kbytes-per-second of the
    /// current request (0: no limit), bytes written this second, whether
    /// the allowance is spent, and when the connection began.
    pub kbps: u32,
    pub server_kbps: u32,
    pub sec_bytes: u64,
    pub throttled: bool,
    pub born: i64,
    /// debug.log-timeouts: the current request's target, for the note on
    /// a write timeout.
    pub timeout_note: Option<String>,
    /// The local address, once asked (SERVER_ADDR / SERVER_PORT).
    local: std::cell::Cell<Option<Option<std::net::SocketAddr>>>,
    /// Its address as text, made on first use (see [`Conn::local_text`]).
    local_text: std::cell::OnceCell<String>,
    /// Unique per connection (a queued request is woken by index+serial).
    pub serial: u64,
    /// Set by the server when the connection a WaitBackend request waits
    /// for is free.
    pub woken: bool,
}

/// How much unparsed input we hold before the head parser must decide.
const READ_CHUNK: usize = 16 * 1024;
/// Bytes one connection may write before yielding to the others: on
/// loopback a big sendfile is copied to the reader in our time slice, so
/// smaller turns let client and server run in parallel.
const WRITE_BUDGET: u64 = 256 * 1024;

/// Lingering close lasts at most this long (lighttpd: 5 s).
pub const LINGER_SECS: i64 = 5;

impl Conn {
    /// The client address as text (made on first use: a connection
    /// that only asks for static files never needs it).
    pub fn peer_text(&self) -> &str {
        self.peer_text.get_or_init(|| self.peer.to_string())
    }

    pub fn new(
        sock: crate::stream::Stream,
        peer: std::net::IpAddr,
        listener: usize,
        now: i64,
    ) -> Self {
        Conn {
            sock,
            peer,
            peer_text: std::cell::OnceCell::new(),
            cond_traced: std::cell::Cell::new(0),
            listener,
            state: State::ReadHead,
            readable: true,
            writable: true,
            watching_writable: false,
            registered: false,
            inbuf: Vec::new(),
            out: ChunkQueue::default(),
            requests: 0,
            keep_alive: false,
            close_at_once: false,
            peer_eof: false,
            last_read: now,
            last_write: now,
            linger_until: 0,
            yielded: false,
            log_response: false,
            index: 0,
            peer_port: 0,
            backend: None,
            pending: None,
            serial: {
                static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            woken: false,
            timeout_note: None,
            kbps: 0,
            server_kbps: 0,
            sec_bytes: 0,
            throttled: false,
            born: now,
            local: std::cell::Cell::new(None),
            local_text: std::cell::OnceCell::new(),
        }
    }

    /// True while waiting between requests with nothing buffered.
    pub fn is_idle_keepalive(&self) -> bool {
        self.state == State::ReadHead && self.inbuf.is_empty() && self.requests > 0
    }

    /// Reads what the socket has, up to `limit` bytes buffered.
    pub(crate) fn fill(&mut self, limit: usize, now: i64, buf: &mut [u8]) {
        while self.readable && !self.peer_eof && self.inbuf.len() < limit {
            match self.sock.read(buf) {
                Ok(0) => self.peer_eof = true,
                Ok(n) => {
                    self.inbuf.extend_from_slice(&buf[..n]);
                    self.last_read = now;
                    // A short read emptied the socket: with edge-triggered
                    // polling, more data brings a new event, so the extra
                    // read that would only say EAGAIN is skipped.
                    if n < buf.len() {
                        self.readable = false;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.peer_eof = true;
                    self.state = State::Closed;
                }
            }
        }
    }

    /// Runs the state machine until it waits for an event or closes.
    pub fn drive(&mut self, sh: &mut Shared) {
        self.yielded = false;
        loop {
            let before = self.state;
            match self.state {
                State::ReadHead => self.read_head(sh),
                State::ReadBody => self.read_body(sh),
                State::WaitBackend => {
                    if std::mem::take(&mut self.woken) {
                        self.resume_backend(sh);
                    } else {
                        return;
                    }
                }
                State::Backend => {
                    self.backend_step(sh);
                    if self.state == State::Backend {
                        self.flush_out(sh);
                    }
                }
                State::Write => self.write(sh),
                State::Linger => self.linger(sh.now),
                State::Closed => return,
            }
            if self.state == before && !self.progress_possible() {
                return;
            }
        }
    }

    fn progress_possible(&self) -> bool {
        if self.yielded {
            return false;
        }
        match self.state {
            State::ReadHead | State::ReadBody | State::WaitBackend => false,
            // A backend connection made within this step (the responder
            // after an authorizer, a retry on another proc) has its
            // request to write and no event coming to say so: its socket
            // is polled for writability only once a write would block.
            State::Backend => self
                .backend
                .as_ref()
                .is_some_and(|b| b.gw.writable && b.gw.pending() > 0),
            State::Write => self.writable && !self.out.is_empty() && !self.throttled,
            State::Linger => false,
            State::Closed => false,
        }
    }

    fn read_head(&mut self, sh: &mut Shared) {
        let limit = sh.parse_opts.max_request_field_size + READ_CHUNK;
        self.fill(limit, sh.now, &mut sh.rbuf);
        if self.state == State::Closed {
            return;
        }
        if self.inbuf.is_empty() {
            if self.peer_eof {
                self.state = State::Closed;
            }
            return;
        }
        match request::parse_head(&self.inbuf, &sh.parse_opts, false, self.requests > 0) {
            Ok(HeadStatus::Incomplete) => {
                if self.peer_eof {
                    self.state = State::Closed;
                }
            }
            Err(e) => {
                let conf = sh.compiled.global();
                let start = request::stray_blank_line(&self.inbuf, self.requests > 0);
                // A refused head may have more behind it: linger.
                self.close_at_once = false;
                // Refused while it was still being read (the request line,
                // its size): no head to show, as in 1.4.69.
                let head = head_block(&self.inbuf[start..]).filter(|_| e.log.is_none());
                if conf.log_request_header
                    && let Some(head) = head
                {
                    log_head_lines(Some(self.sock.as_raw_fd()), "rqst", head);
                }
                if e.parsed_to != 0
                    && let Some(target) = head.and_then(request_target)
                {
                    log_target_ctrls(sh, target);
                }
                if let Some(msg) = &e.log {
                    if e.log_peer {
                        crate::log_error!("{msg} ({})", self.peer_text());
                    } else {
                        crate::log_error!("{msg}");
                    }
                }
                // debug.log-request-header-on-error: why, then the head as
                // 1.4.69 holds it then (folded lines joined by spaces).
                if conf.log_request_header_on_error
                    && let Some(head) = head
                {
                    if !e.reason.is_empty() {
                        crate::log_error!("{}", e.reason);
                    }
                    log_head_lines(None, "rqst", &unfolded(head, e.parsed_to));
                }
                // The status line says HTTP/1.1 when the request line did
                // (except for 431, whose request line may not be complete);
                // a HEAD gets no body only if its request line was read
                // whole (lighttpd knows the method only then).
                let req = &self.inbuf[start..];
                let line = (e.status != 431 && !e.before_line)
                    .then(|| request::line_version(req, sh.parse_opts.header_strict))
                    .flatten();
                let version = line.unwrap_or(Version::Http10);
                let head_only = line.is_some() && req.starts_with(b"HEAD ");
                // A global server.error-handler answers these too: lighttpd
                // runs it for any status from 400 up, with the global
                // config (no condition has been looked at).
                if let Some(sub) = response::error_handler(&conf, e.status, true)
                    && let Some(h) = error_origin_head(sh, req, &sub.uri, line, head_only)
                {
                    self.inbuf.clear();
                    return self.error_subrequest(sh, &h, &sub, None);
                }
                self.inbuf.clear();
                let r = response::error_response(e.status, &conf, true);
                self.log_response = conf.log_response_header;
                self.queue(sh, r, version, false, head_only, conf.server_tag.as_deref());
            }
            Ok(HeadStatus::Complete(head)) => {
                let n = head.head_len.min(self.inbuf.len());
                // The raw head is lent to respond() for debug logging.
                let buf = std::mem::take(&mut self.inbuf);
                self.respond(sh, head, &buf[..n]);
                self.inbuf = buf;
                self.inbuf.drain(..n);
            }
        }
    }

    fn respond(&mut self, sh: &mut Shared, head: RequestHead, raw: &[u8]) {
        let conf = sh.request_conf(&head, self.peer, self.listener);
        self.cond_traced.set(0);
        let fd = self.sock.as_raw_fd();
        // 1.4.69 logs the head before any condition is looked at: the
        // global setting counts.
        if sh.compiled.global().log_request_header {
            // (without a blank line before it, which is skipped)
            let raw = raw
                .strip_prefix(b"\r\n")
                .or_else(|| raw.strip_prefix(b"\n"))
                .unwrap_or(raw);
            log_head_lines(Some(fd), "rqst", raw);
        }
        log_target_ctrls(sh, head.target().as_bytes());
        self.timeout_note = conf.log_timeouts.then(|| head.target().to_string());
        self.kbps = conf.conn_kbps;
        self.server_kbps = conf.server_kbps;
        self.close_at_once =
            !head.keep_alive && !head.chunked && head.content_length.unwrap_or(0) == 0;
        self.dispatch(sh, &head, conf, None);
        head.recycle();
    }

    /// Runs the handlers for a request. `auth_env` is set when a FastCGI
    /// authorizer allowed it: its Variable-* for the responder, and no
    /// authorizer runs again.
    pub(crate) fn dispatch(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        conf: std::rc::Rc<crate::reqconf::RequestConf>,
        auth_env: Option<Vec<(String, String)>>,
    ) {
        // server.max-request-size may be set per request (conditionals):
        // checked before any handler runs, 413 + close.
        let r = match request::check_content_length(head.content_length, conf.max_request_size_kb) {
            Err(e) => {
                if let Some(msg) = &e.log {
                    crate::log_error!("{msg}");
                }
                if let Some(sub) = response::error_handler(&conf, e.status, true) {
                    return self.error_subrequest(sh, head, &sub, auth_env.as_deref());
                }
                response::error_response(e.status, &conf, true)
            }
            Ok(()) => {
                if conf.log_request_handling {
                    response::log_parsed(head);
                }
                // mod_access and mod_fastcgi read their options now
                sh.trace_stage(&self.late_view(sh, head), Stage::Url, &[], head.path());
                let env = auth_env.as_deref();
                let denied = match self.fastcgi_first(
                    sh,
                    head,
                    &conf,
                    env.unwrap_or(&[]),
                    env.is_some(),
                    None,
                ) {
                    Handoff::Taken => return,
                    Handoff::Denied => true,
                    Handoff::Declined => false,
                };
                let late = self.late_view(sh, head);
                let ctx = response::Ctx {
                    denied,
                    ..self.static_ctx(sh, head, &conf, &late)
                };
                match response::handle(head, &ctx) {
                    response::Handled::Response(r) => r,
                    response::Handled::ErrorHandler(sub) => {
                        return self.error_subrequest(sh, head, &sub, auth_env.as_deref());
                    }
                }
            }
        };
        let (keep, version) = self.keep_and_version(sh, head, &conf);
        let keep = keep && !r.close;
        let head_only = head.method == request::Method::Head;
        self.log_response = conf.log_response_header;
        self.queue(sh, r, version, keep, head_only, conf.server_tag.as_deref());
    }

    /// What the static pipeline needs for `head` under `conf` (`late`: the
    /// request as [`Shared::late_conf`] needs it).
    fn static_ctx<'a>(
        &self,
        sh: &'a Shared,
        head: &RequestHead,
        conf: &'a crate::reqconf::RequestConf,
        late: &'a crate::server::LateView<'a>,
    ) -> response::Ctx<'a> {
        response::Ctx {
            now: sh.now,
            conf,
            cache: &sh.stat_cache,
            // Only a redirect without Host asks for it.
            local: if conf.absolute_dir_redirect && head.host().is_none() {
                self.local_addr()
            } else {
                None
            },
            range_of: None,
            // Only a configuration with blocks decided late, or the
            // condition trace, needs it.
            late: (sh.compiled.late().is_some() || sh.cond_trace.is_some()).then_some(late as _),
            denied: false,
        }
    }

    /// The request `head` as [`Shared::late_conf`] needs it.
    fn late_view<'a>(
        &'a self,
        sh: &'a Shared,
        head: &'a RequestHead,
    ) -> crate::server::LateView<'a> {
        crate::server::LateView {
            sh,
            head,
            peer: self.peer,
            listener: self.listener,
            traced: &self.cond_traced,
        }
    }

    /// server.error-handler / server.error-handler-404 took over a failed
    /// request: the handler's URL runs as a sub-request under its own
    /// conditions, where a FastCGI key may take it (as lighttpd 1.4.69
    /// starts the request over with the handler's URL); otherwise the
    /// static path serves it.
    pub(crate) fn error_subrequest(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        sub: &response::ErrorSub,
        auth_env: Option<&[(String, String)]>,
    ) {
        let sub_head = response::error_sub_head(head, sub);
        let conf = sh.request_conf(&sub_head, self.peer, self.listener);
        self.cond_traced.set(0);
        // REDIRECT_STATUS joins the request's environment, after what an
        // authorizer set. server.error-handler starts the request over, so
        // an authorizer runs again for the handler's URL (its variables
        // added to those); -404 keeps the authorizer that ran.
        let mut env = auth_env.unwrap_or(&[]).to_vec();
        env.push(("REDIRECT_STATUS".to_string(), sub.status.to_string()));
        let auth_done = auth_env.is_some() && !sub.as_get;
        let origin = sub.origin(head.method);
        self.run_error_sub(sh, &sub_head, &conf, origin, &env, auth_done);
    }

    /// Runs an error handler's sub-request `head` under its own `conf`: a
    /// FastCGI key (an authorizer first, unless `auth_done`), with `env`
    /// (REDIRECT_STATUS and an authorizer's variables) for the backend;
    /// else the static answer. A FastCGI authorizer that allows the
    /// sub-request comes back here with `origin` kept.
    pub(crate) fn run_error_sub(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        conf: &std::rc::Rc<crate::reqconf::RequestConf>,
        origin: response::ErrorOrigin,
        env: &[(String, String)],
        auth_done: bool,
    ) {
        if conf.log_request_handling {
            response::log_parsed(head);
        }
        sh.trace_stage(&self.late_view(sh, head), Stage::Url, &[], head.path());
        let denied = match self.fastcgi_first(sh, head, conf, env, auth_done, Some(origin)) {
            Handoff::Taken => return,
            Handoff::Denied => true,
            Handoff::Declined => false,
        };
        let late = self.late_view(sh, head);
        let ctx = response::Ctx {
            denied,
            ..self.static_ctx(sh, head, conf, &late)
        };
        let r = response::serve_error_sub(head, &ctx, origin);
        let (keep, version) = self.keep_and_version(sh, head, conf);
        let keep = keep && !r.close;
        self.log_response = conf.log_response_header;
        self.queue(
            sh,
            r,
            version,
            keep,
            origin.head(),
            conf.server_tag.as_deref(),
        );
    }

    /// Whether the connection stays open after this request's response
    /// (§4: the request's wish, protocol-http11, graceful shutdown, the
    /// keep-alive limits) and the status-line version.
    fn keep_and_version(
        &self,
        sh: &Shared,
        head: &RequestHead,
        conf: &crate::reqconf::RequestConf,
    ) -> (bool, Version) {
        let n = self.requests + 1;
        let http11_ok = head.version == Version::Http10 || conf.protocol_http11;
        let keep = head.keep_alive
            && http11_ok
            && (!sh.graceful || sh.oneshot)
            && conf.max_keep_alive_idle > 0
            && n <= conf.max_keep_alive_requests;
        let version = if conf.protocol_http11 {
            head.version
        } else {
            Version::Http10
        };
        (keep, version)
    }

    /// The URL stage (mod_access, CONNECT, `OPTIONS *`), then mod_fastcgi
    /// ([`Conn::try_fastcgi`]) when a key is configured; the static path
    /// answers what this leaves. With mod_fastcgi before mod_access in
    /// server.modules, mod_fastcgi's URL stage comes first and mod_access
    /// looks at the path it leaves.
    fn fastcgi_first(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        conf: &std::rc::Rc<crate::reqconf::RequestConf>,
        env: &[(String, String)],
        auth_done: bool,
        origin: Option<response::ErrorOrigin>,
    ) -> Handoff {
        if conf.fastcgi_server.is_empty() && conf.fastcgi_auth.is_empty() {
            return Handoff::Declined;
        }
        match response::uri_clean_with(head, conf, !conf.access_after_fastcgi) {
            None => self.try_fastcgi(sh, head, conf, env, auth_done, origin),
            // mod_access refused it (and logged why): not again.
            Some(r) if r.status == 403 => Handoff::Denied,
            Some(_) => Handoff::Declined,
        }
    }

    /// Hands the request to mod_fastcgi when one of its keys matches: an
    /// authorizer key first (unless one already allowed the request:
    /// `auth_done`), then a responder key. `env` goes to the backend's
    /// environment after the CGI variables (an authorizer's Variable-*,
    /// an error handler's REDIRECT_STATUS).
    fn try_fastcgi(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        conf: &std::rc::Rc<crate::reqconf::RequestConf>,
        env: &[(String, String)],
        auth_done: bool,
        origin: Option<response::ErrorOrigin>,
    ) -> Handoff {
        use crate::gw::config::Mode;
        let Some(docroot) = conf.document_root.clone() else {
            return Handoff::Declined;
        };
        let pick = crate::gw::balance::PickInput {
            path: head.path(),
            authority: head.host().unwrap_or(""),
            client_ip: self.peer_text(),
        };
        let passes: [(&[crate::gw::config::GwExt], Mode); 2] = [
            (&conf.fastcgi_auth, Mode::Authorizer),
            (&conf.fastcgi_server, Mode::Responder),
        ];
        for (exts, mode) in passes {
            if exts.is_empty() || (mode == Mode::Authorizer && auth_done) {
                continue;
            }
            let late = self.late_view(sh, head);
            let ctx = response::Ctx {
                now: sh.now,
                conf,
                cache: &sh.stat_cache,
                local: None,
                range_of: None,
                // (only for the condition trace: the physical stage)
                late: sh.cond_trace.is_some().then_some(&late as _),
                denied: false,
            };
            let fc = crate::mods::fastcgi::FcgiConf {
                exts,
                map_extensions: &conf.fastcgi_map,
                balance: conf.fastcgi_balance,
                authorizer: mode == Mode::Authorizer,
                physical_only: conf.fastcgi_physical_only,
                access_last: conf.access_after_fastcgi,
            };
            let claim = crate::mods::fastcgi::target(&fc, &ctx, head.path(), &docroot, &pick);
            let (keep, version) = self.keep_and_version(sh, head, conf);
            match claim {
                // An authorizer key with check-local took the URL but no
                // file is there: the static path answers (404), no
                // responder key runs.
                None if mode == Mode::Authorizer
                    && crate::mods::fastcgi::url_key_matches(&fc, head.path()) =>
                {
                    return Handoff::Declined;
                }
                None => continue,
                Some(crate::mods::fastcgi::Claim::Denied) => return Handoff::Denied,
                Some(crate::mods::fastcgi::Claim::AllDown { key }) => {
                    if let Some(e) = exts.iter().find(|e| e.key == key)
                        && !e.note_sent.replace(true)
                    {
                        crate::log_error!(
                            "all handlers for {}?{} on {key} are down.",
                            head.path(),
                            head.query().unwrap_or("")
                        );
                    }
                    self.log_response = conf.log_response_header;
                    if origin.is_none()
                        && let Some(sub) = response::error_handler(conf, 503, false)
                    {
                        self.error_subrequest(sh, head, &sub, auth_done.then_some(env));
                        return Handoff::Taken;
                    }
                    let status = origin.map_or(503, |o| o.failed(503));
                    let r = response::error_response(status, conf, false);
                    let head_only = head.method == crate::http::request::Method::Head
                        || origin.is_some_and(response::ErrorOrigin::head);
                    self.queue(sh, r, version, keep, head_only, conf.server_tag.as_deref());
                }
                Some(crate::mods::fastcgi::Claim::Target(t)) => {
                    // mod_alias reads its options at the physical stage
                    // even for a request taken at the URL stage
                    sh.trace_stage(&self.late_view(sh, head), Stage::Physical, &[], head.path());
                    self.log_response = conf.log_response_header;
                    let how = crate::conn_backend::Start {
                        version,
                        keep,
                        mode,
                        extra: env,
                        auth_done,
                        origin,
                        body: None,
                        resumed: None,
                    };
                    let has_body = head.chunked || head.content_length.unwrap_or(0) > 0;
                    if mode == Mode::Responder && has_body && conf.stream_request_body == 0 {
                        self.collect_body(sh, head, t, conf.clone(), how);
                    } else {
                        self.start_backend(sh, head, t, conf.clone(), how);
                    }
                }
            }
            return Handoff::Taken;
        }
        Handoff::Declined
    }

    /// The local address of the client socket (SERVER_ADDR / SERVER_PORT).
    /// Asked once per connection (one getsockname for all its requests).
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        if let Some(a) = self.local.get() {
            return a;
        }
        let a = match &self.sock {
            crate::stream::Stream::Tcp(s) => s.local_addr().ok(),
            crate::stream::Stream::Unix(_) | crate::stream::Stream::Pipe { .. } => None,
        };
        self.local.set(Some(a));
        a
    }

    /// Sets the local address (`-1` on a pipe, which has none).
    pub(crate) fn set_local(&self, a: Option<std::net::SocketAddr>) {
        self.local.set(Some(a));
    }

    /// The local address as SERVER_ADDR gives it ("" for a unix-domain
    /// listener, and for `-1` on a pipe: no address of its own), made
    /// once per connection.
    pub(crate) fn local_text(&self) -> &str {
        self.local_text.get_or_init(|| {
            self.local_addr()
                .filter(|a| !a.ip().is_unspecified())
                .map(|a| a.ip().to_string())
                .unwrap_or_default()
        })
    }

    /// Request-body bytes for a backend: first what is buffered, then what
    /// the socket has, at most `max`.
    pub(crate) fn take_body(&mut self, sh: &mut Shared, max: usize) -> Vec<u8> {
        if self.inbuf.is_empty() && self.readable && !self.peer_eof {
            let limit = max.min(READ_CHUNK);
            self.fill(limit, sh.now, &mut sh.rbuf);
        }
        let n = max.min(self.inbuf.len());
        self.inbuf.drain(..n).collect()
    }

    pub(crate) fn peer_gone(&self) -> bool {
        self.peer_eof || self.state == State::Closed
    }

    /// Bytes written to the client on this connection.
    pub fn out_written(&self) -> u64 {
        self.out.written
    }

    /// A backend's response has begun to reach the client.
    pub fn response_started(&self) -> bool {
        self.backend.as_ref().is_some_and(|b| b.response_started())
    }

    pub(crate) fn out_len(&self) -> usize {
        self.out.queued_len()
    }

    pub(crate) fn push_out(&mut self, bytes: Vec<u8>) {
        self.out.push_mem(bytes);
    }

    /// The backend response is complete in the queue: write it out.
    pub(crate) fn finish_backend(&mut self, keep: bool) {
        self.keep_alive = keep;
        self.state = State::Write;
    }

    /// Queues a status line and headers whose body follows later.
    pub(crate) fn queue_head_only(
        &mut self,
        sh: &mut Shared,
        r: &Response,
        version: Version,
        keep: bool,
        tag: Option<&str>,
    ) {
        let tag = Some(tag.unwrap_or(crate::DEFAULT_SERVER_TAG));
        let mut bytes = self.out.take_buf();
        response::serialize_head_into(&mut bytes, r, version, keep, sh.date.get(sh.now), tag);
        if std::mem::take(&mut self.log_response) {
            log_head_lines(Some(self.sock.as_raw_fd()), "resp", &bytes);
        }
        self.out.push_mem(bytes);
        self.keep_alive = keep;
        self.requests += 1;
    }

    /// Queues a whole response: head, then body (none for HEAD, 204, 205,
    /// 304); the connection then writes it out.
    pub(crate) fn queue(
        &mut self,
        sh: &mut Shared,
        r: Response,
        version: Version,
        keep: bool,
        head_only: bool,
        tag: Option<&str>,
    ) {
        self.queue_head_only(sh, &r, version, keep, tag);
        let Response {
            status,
            headers,
            body,
            ..
        } = r;
        Response::recycle_headers(headers);
        if !head_only && !matches!(status, 204 | 205 | 304) {
            match body {
                Body::Empty => {}
                Body::Mem(b) => self.out.push_mem(b),
                // A small file goes out with the headers in one writev
                // (one TCP segment instead of two), as lighttpd does,
                // straight from the cache.
                Body::Bytes(b) => self.out.push_shared(b),
                Body::File { file, off, len } => self.out.push_file(file, off, len),
                Body::Segments(pieces) => {
                    for piece in pieces {
                        match piece {
                            Piece::Mem(b) => self.out.push_mem(b),
                            Piece::File(file, off, len) => self.out.push_file(file, off, len),
                        }
                    }
                }
                Body::Parts {
                    file,
                    parts,
                    closing,
                } => {
                    // Each part header starts with the CRLF ending the
                    // previous part's data; `closing` ends the last.
                    for (hdr, a, b) in parts {
                        self.out.push_mem(hdr);
                        self.out.push_file(file.clone(), a, b - a + 1);
                    }
                    self.out.push_mem(closing);
                }
            }
        }
        self.state = State::Write;
    }

    fn write(&mut self, sh: &mut Shared) {
        if !self.writable {
            return;
        }
        match self.flush_out(sh) {
            WriteStatus::Done => {
                if self.keep_alive {
                    self.state = State::ReadHead;
                } else if self.close_at_once && self.inbuf.is_empty() {
                    // Lingering keeps a client's unread input from
                    // turning the close into a reset that can take the
                    // response with it. A client that asked to close
                    // after a request without a body, and sent nothing
                    // more, has no such input (as nginx's lingering_close
                    // auto decides): closing now spares it and us the
                    // wakeup its own close would cost (doc/compat.md).
                    self.state = State::Closed;
                } else {
                    self.sock.shutdown_write();
                    self.linger_until = sh.now + if sh.graceful { 1 } else { LINGER_SECS };
                    self.inbuf.clear();
                    self.state = State::Linger;
                    // The client may have closed already (it has the whole
                    // response): one read finds out before waiting for an
                    // event, as lighttpd reads right after its shutdown.
                    self.readable = true;
                }
            }
            WriteStatus::WouldBlock => self.writable = false,
            WriteStatus::Budget => self.yielded = true,
            WriteStatus::Error | WriteStatus::Failed => self.state = State::Closed,
            WriteStatus::Throttled => {}
        }
    }

    /// Writes what the client can take now (a turn's budget at most).
    pub(crate) fn flush_out(&mut self, sh: &mut Shared) -> WriteStatus {
        if !self.writable {
            return WriteStatus::WouldBlock;
        }
        // kbytes-per-second: at most the second's allowance.
        let mut budget = WRITE_BUDGET;
        if self.kbps > 0 {
            budget = budget.min((self.kbps as u64 * 1024).saturating_sub(self.sec_bytes));
        }
        if self.server_kbps > 0 {
            budget =
                budget.min((self.server_kbps as u64 * 1024).saturating_sub(sh.server_sec_bytes));
        }
        if budget == 0 && !self.out.is_empty() {
            self.throttled = true;
            return WriteStatus::Throttled;
        }
        let before = self.out.written;
        let st = self.out.write_to(&mut self.sock, budget);
        if self.out.written != before {
            self.last_write = sh.now;
            let n = self.out.written - before;
            self.sec_bytes += n;
            sh.server_sec_bytes += n;
        }
        match st {
            WriteStatus::WouldBlock => {
                self.writable = false;
                self.watch_writable(sh);
            }
            WriteStatus::Budget => self.yielded = true,
            WriteStatus::Failed => {
                crate::log_error!(
                    "connection closed: write failed on fd {}",
                    self.sock.as_raw_fd()
                );
                self.state = State::Closed;
            }
            _ => {}
        }
        st
    }

    /// A connection is polled for reading only until a write would block
    /// (as lighttpd does): with the edge-triggered writable interest on
    /// every socket, each ACK from the client queued a wakeup, which cost
    /// more kernel time per keep-alive request than the writes it saved.
    /// Once added it stays (a client that was slow once is polled for
    /// both).
    fn watch_writable(&mut self, sh: &Shared) {
        if self.watching_writable {
            return;
        }
        self.watching_writable = true;
        let token = mio::Token(crate::server::CONN_BASE + self.index);
        let both = mio::Interest::READABLE | mio::Interest::WRITABLE;
        let done = if self.registered {
            mio::event::Source::reregister(&mut self.sock, &sh.registry, token, both)
        } else {
            mio::event::Source::register(&mut self.sock, &sh.registry, token, both)
        };
        self.registered = true;
        if done.is_err() {
            self.state = State::Closed;
        }
    }

    /// Reads and drops input until the peer closes.
    fn linger(&mut self, now: i64) {
        let mut buf = [0u8; 4096];
        while self.readable {
            match self.sock.read(&mut buf) {
                Ok(0) => {
                    self.state = State::Closed;
                    return;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.state = State::Closed;
                    return;
                }
            }
        }
        if self.peer_eof || now > self.linger_until {
            self.state = State::Closed;
        }
    }
}

/// debug.log-request-header / -response-header: one line per head line,
/// `fd:N rqst: LINE` / `fd:N resp: LINE` (`rqst: LINE` without `fd`: a
/// refused request's head), the blank line included, bytes outside
/// printable ASCII escaped (`\t`, `\x01`). As in 1.4.69, a NUL byte ends
/// the splitting: the rest of the head is one line, its line ends escaped.
fn log_head_lines(fd: Option<i32>, what: &str, head: &[u8]) {
    let mut rest = head;
    while !rest.is_empty() {
        let line = match rest.iter().position(|&b| b == b'\n' || b == 0) {
            Some(i) if rest[i] == b'\n' => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                line.strip_suffix(b"\r").unwrap_or(line)
            }
            _ => std::mem::take(&mut rest),
        };
        let text = crate::log::escape(line);
        match fd {
            Some(fd) => crate::log_error!("fd:{fd} {what}: {text}"),
            None => crate::log_error!("{what}: {text}"),
        }
    }
}

/// `head` with each folded line's CR LF before `to` turned into two
/// spaces, as 1.4.69 joins them in place while it parses (up to where it
/// refused the head; never into the request line).
fn unfolded(head: &[u8], to: usize) -> std::borrow::Cow<'_, [u8]> {
    let folds = |w: &[u8]| w[0] == b'\r' && w[1] == b'\n' && matches!(w[2], b' ' | b'\t');
    let first = head.iter().position(|&b| b == b'\n').unwrap_or(0);
    let to = to.min(head.len());
    if first >= to || !head[first..to].windows(3).any(folds) {
        return std::borrow::Cow::Borrowed(head);
    }
    let mut out = head.to_vec();
    for i in first..to.saturating_sub(2) {
        if folds(&out[i..i + 3]) {
            out[i] = b' ';
            out[i + 1] = b' ';
        }
    }
    std::borrow::Cow::Owned(out)
}

/// With url-ctrls-reject off (or url-normalize off), 1.4.69 still writes
/// what it would have refused a target for, when on-error logging is on,
/// and goes on.
fn log_target_ctrls(sh: &Shared, target: &[u8]) {
    if !sh.parse_opts.url.ctrls_reject
        && sh.compiled.global().log_request_header_on_error
        && let Some(c) = target.iter().find(|&&c| c < 0x20 || c == 0x7f)
    {
        crate::log_error!("invalid character in URI -> 400 (0x{c:x})");
    }
}

/// The target of the request line that begins `head`.
fn request_target(head: &[u8]) -> Option<&[u8]> {
    let line = head.split(|&b| b == b'\n').next()?;
    line.split(|&b| b == b' ').nth(1)
}

/// The head of a request that begins `buf`: up to and including the blank
/// line that ends it (`\n\n` or `\n\r\n`), if it is all there.
fn head_block(buf: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    while let Some(i) = buf[at..].iter().position(|&b| b == b'\n') {
        let nl = at + i;
        match &buf[nl + 1..] {
            [b'\n', ..] => return Some(&buf[..nl + 2]),
            [b'\r', b'\n', ..] => return Some(&buf[..nl + 3]),
            _ => at = nl + 1,
        }
    }
    None
}

/// A request head for one that could not be parsed, so that an error
/// handler can run for it: the head as far as lighttpd had read it (the
/// request line and the header lines before the bad one; not kept alive),
/// or, when the request line itself failed (or the head was too large),
/// `GET` (or `HEAD`) of the handler's own URL without headers or target.
fn error_origin_head(
    sh: &Shared,
    raw: &[u8],
    uri: &str,
    version: Option<Version>,
    head: bool,
) -> Option<RequestHead> {
    if version.is_some()
        && let Some(mut h) = request::parse_partial(raw, &sh.parse_opts)
    {
        h.keep_alive = false;
        return Some(h);
    }
    let method = if head { "HEAD" } else { "GET" };
    let text = format!("{method} {uri} HTTP/1.0\r\n\r\n");
    match request::parse_head(text.as_bytes(), &sh.parse_opts, false, false) {
        Ok(HeadStatus::Complete(mut h)) => {
            h.version = version.unwrap_or(Version::Http10);
            h.keep_alive = false;
            // lighttpd has no target for it: REQUEST_URI is empty
            h.clear_target();
            Some(h)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{head_block, unfolded};

    #[test]
    fn the_head_ends_at_the_first_blank_line() {
        assert_eq!(
            head_block(b"GET / HTTP/1.0\r\n\r\nbody"),
            Some(&b"GET / HTTP/1.0\r\n\r\n"[..])
        );
        assert_eq!(
            head_block(b"GET / HTTP/1.0\nA: b\n\nbody"),
            Some(&b"GET / HTTP/1.0\nA: b\n\n"[..])
        );
        // a NUL does not end the search
        assert_eq!(
            head_block(b"GET / HTTP/1.0\r\nX: \0\r\n\r\n"),
            Some(&b"GET / HTTP/1.0\r\nX: \0\r\n\r\n"[..])
        );
        assert_eq!(head_block(b"GET / HTTP/1.0\r\nX: y\r\n"), None);
    }

    #[test]
    fn folded_lines_are_joined_by_spaces() {
        let head = b"GET / HTTP/1.0\r\nHost: x\r\n X\r\n\tY\r\nZ: 1\r\n\r\n";
        let all = b"GET / HTTP/1.0\r\nHost: x   X  \tY\r\nZ: 1\r\n\r\n";
        assert_eq!(&*unfolded(head, usize::MAX), all);
        // refused at the Z line: the folds before it are joined
        assert_eq!(&*unfolded(head, 33), all);
        // refused at the request line: none
        assert_eq!(&*unfolded(head, 0), head);
        // never into the request line
        let first = b"GET / HTTP/1.0\r\n X\r\n\r\n";
        assert_eq!(&*unfolded(first, usize::MAX), first);
        assert!(matches!(
            unfolded(b"A: b\r\n\r\n", usize::MAX),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
