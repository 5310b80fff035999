//! A request body read in full before the backend starts
//! (server.stream-request-body = 0), and a queued request run again when a
//! connection is free.

use super::*;

impl Conn {
    /// Reads the request body in full before the backend starts
    /// (server.stream-request-body = 0).
    pub(crate) fn collect_body(
        &mut self,
        sh: &mut Shared,
        head: &RequestHead,
        t: FcgiTarget,
        conf: std::rc::Rc<RequestConf>,
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
            auth_done: how.auth_done,
            origin: how.origin,
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

    pub(super) fn body_complete(&mut self, sh: &mut Shared, mut p: Box<Pending>) {
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
            auth_done: p.auth_done,
            origin: p.origin,
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
            auth_done: p.auth_done,
            origin: p.origin,
            body: p.body.take(),
            resumed: Some(p.rec.take().unwrap_or_default()),
        };
        self.start_backend(sh, &head, target, conf, how);
    }
}
