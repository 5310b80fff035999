//! Getting a backend connection for a request: host and proc choice
//! (gw/pool.rs), connect and its retries, a kept connection
//! (connection-reuse) or a new one, the queue when all are busy, and the
//! host's connect/read/write-timeouts.

use super::*;

/// Connect attempts after the first: lighttpd reconnects up to 5 times,
/// choosing a host again each time (once only after a connect-timeout).
pub(super) const MAX_RECONNECTS: u8 = 5;

/// What a connect attempt needs.
pub(super) struct Attempt<'a> {
    pub(super) ext: &'a GwExt,
    pub(super) balance: crate::gw::balance::Balance,
    pub(super) path: &'a str,
    pub(super) query: &'a str,
    pub(super) authority: &'a str,
    pub(super) client_ip: &'a str,
    pub(super) debug: u32,
    pub(super) rec: &'a [u8],
    pub(super) body_left: u64,
    pub(super) index: usize,
    /// The client connection (index, serial), to queue it for a
    /// connection (connection-reuse).
    pub(super) who: (usize, u64),
    /// Woken from that queue: goes before newcomers.
    pub(super) queued: bool,
    /// A GET or HEAD without a body, for the responder: it may be written
    /// on a busy kept connection (connection-pipelining).
    pub(super) pipelinable: bool,
}

/// What a connect attempt gave. (Returned once per attempt and taken
/// apart at once: boxing the connection would cost an allocation per
/// request for nothing.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Opened {
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
pub(super) fn open_gw(
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
        // connection-pipelining: the request was written on a connection
        // that has now been handed to it.
        if a.queued
            && h.pipelining
            && let Some(rt) = h.rt.get()
            && let Some((mut g, lease, len)) = rt.take_handoff(a.who, a.debug)
        {
            g.reset_handed(a.index, len);
            lease.host.connected(&lease, sh.now);
            return Opened::Conn(g, lease, true);
        }
        if let Some(lease) = h.rt.get().and_then(|rt| rt.acquire(a.debug)) {
            let mut kept = None;
            if h.conn_reuse > 0 {
                match lease.host.reuse_slot(&lease, a.queued, sh.now) {
                    Slot::Idle(sock) => kept = Some(sock),
                    Slot::New => {}
                    Slot::Wait => {
                        let rec = (h.pipelining && a.pipelinable && a.body_left == 0).then(|| {
                            let mut v = a.rec.to_vec();
                            h.codec.body_end(&mut v);
                            v
                        });
                        lease.host.add_waiter(lease.proc_id, a.who, rec);
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
            match gw::connect(&lease.addr, h.codec) {
                Ok(mut g) => {
                    queue_request(&mut g, a);
                    let slot = gw::TokenSlot::new(&sh.slots, a.index);
                    let token = Token(BACKEND_BASE + slot.id);
                    g.slot = Some(slot);
                    let interest = g.interest();
                    match sh.registry.register(&mut g.sock, token, interest) {
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
                        Err(e) => crate::log_error!(
                            "backend register failed: {}",
                            crate::sys::strerror(&e)
                        ),
                    }
                }
                Err(e) => {
                    crate::log_error!(
                        "establishing connection failed: socket: {}: {}",
                        lease.addr,
                        crate::sys::strerror(&e)
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
pub(super) fn queue_request(g: &mut GwConn, a: &Attempt<'_>) {
    g.queue(a.rec);
    if a.body_left == 0 {
        g.queue_body(&[], true);
    }
}

/// "all handlers for <path>?<query> on <key> are down." once per key
/// until one of its hosts works again.
/// `uri` is "<path>?<query>".
pub(super) fn all_down_note(e: &GwExt, uri: &str) {
    if !e.note_sent.replace(true) {
        crate::log_error!("all handlers for {uri} on {} are down.", e.key);
    }
}

impl Conn {
    /// A connect in progress failed (or timed out): disable the proc and
    /// try again while nothing of the body went out, else 503.
    pub(super) fn connect_failed(
        &mut self,
        sh: &mut Shared,
        b: &mut BackendRun,
        e: &std::io::Error,
        max: u8,
    ) -> bool {
        crate::log_error!(
            "establishing connection failed: socket: {}: {}",
            b.gw.addr,
            crate::sys::strerror(e)
        );
        if b.debug >= 1 {
            crate::log_error!(
                "error: unexpected close of fastcgi connection for {} (no fastcgi process on host/port ?)",
                b.names.uri().trim_end_matches('?')
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
            let client_ip = self.peer_text().to_string();
            let a = self.retry_attempt(b, e, &client_ip, b.body_left);
            let mut tries = b.reconnects;
            let opened = open_gw(sh, &a, None, &mut tries, max);
            b.reconnects = tries;
            if let Opened::Conn(g, lease, reused) = opened {
                b.gw = g;
                b.reused = reused;
                b.host = lease.host_cfg();
                b.lease = Some(lease);
                b.connect_ts = sh.now;
                return false;
            }
            all_down_note(e, b.names.uri());
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

impl Conn {
    /// Another attempt for a request already under way (it goes before
    /// queued newcomers).
    fn retry_attempt<'a>(
        &self,
        b: &'a BackendRun,
        ext: &'a GwExt,
        client_ip: &'a str,
        body_left: u64,
    ) -> Attempt<'a> {
        Attempt {
            ext,
            balance: b.conf.fastcgi_balance,
            path: b.names.path(),
            query: b.names.query(),
            authority: b.names.authority(),
            client_ip,
            debug: b.debug,
            rec: &b.rec,
            body_left,
            index: self.index,
            who: (self.index, self.serial),
            queued: true,
            // A retry is not queued again (see retry_fresh).
            pipelinable: false,
        }
    }

    /// A kept connection failed before any answer: the request goes out
    /// again on a new connection (a buffered body from its start).
    pub(super) fn retry_fresh(&mut self, sh: &mut Shared, b: &mut BackendRun) -> bool {
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
        let client_ip = self.peer_text().to_string();
        let a = self.retry_attempt(b, e, &client_ip, body_left);
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
                all_down_note(e, b.names.uri());
                self.backend_fail(sh, b, 503)
            }
        }
    }
}
