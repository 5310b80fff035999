//! The backend's answer to the client: CGI head to response head,
//! authorizer allow/deny (X-Sendfile and X-Sendfile2: sendfile.rs),
//! buffered (with Content-Length and Range) or streamed body.

use super::*;

impl Conn {
    pub(super) fn emit_head(
        &mut self,
        sh: &mut Shared,
        b: &mut BackendRun,
        head: backend_resp::BackendHead,
    ) {
        b.head_done = true;
        if b.authorizer && head.status == 200 {
            // Allowed: only the variables count; the body is dropped.
            let text = |v: &[u8]| crate::http::lossless::from_bytes(v).into_owned();
            b.auth_vars = Some(
                head.variables
                    .iter()
                    .map(|(k, v)| (text(k), text(v)))
                    .collect(),
            );
            return;
        }
        // server.error-intercept: a responder's 4xx/5xx is answered by the
        // server (error handler or error page); its body is dropped
        if b.conf.error_intercept && head.status >= 400 && !b.authorizer && b.origin.is_none() {
            let mut r = Response::new(head.status);
            if head.status == 401
                && let Some((_, v)) = head
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(b"WWW-Authenticate"))
            {
                r.header(
                    "WWW-Authenticate",
                    crate::http::lossless::from_bytes(v).into_owned(),
                );
            }
            b.keep = b.keep && !head.connection_close;
            b.intercept = Some(r);
            return;
        }
        let mut r = Response::new(head.status);
        for (k, v) in &head.headers {
            r.headers.push((
                header_name(k),
                crate::http::lossless::from_bytes(v).into_owned().into(),
            ));
        }
        b.keep = b.keep && !head.connection_close;
        if let Some(x) = &head.x_sendfile {
            b.sendfile = Some(self.x_sendfile(sh, b, r, x));
            return;
        }
        if r.status >= 200 && !matches!(r.status, 204 | 304) {
            b.cl_left = head.content_length;
            if head.transfer_encoding_chunked {
                b.dechunk = Some(Box::new(crate::http::chunked::ChunkedDecoder::new(
                    MAX_HEAD, 0,
                )));
            }
        }
        b.deferred = Some(r);
    }

    /// The authorizer allowed the request: it runs on with the responder
    /// keys or the other handlers, the variables in its environment; with
    /// the authorizer's docroot as its document root.
    pub(super) fn after_authorizer(
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
            let c = std::rc::Rc::make_mut(&mut conf);
            c.document_root = Some(d.as_str().into());
            c.fastcgi_physical_only = true;
        }
        // The authorizer's proc is let go before the request runs on (it
        // may take another backend connection).
        b.lease = None;
        let mut env = std::mem::take(&mut b.env);
        add_variables(&mut env, vars);
        match b.origin {
            // An error handler's sub-request stays one.
            Some(origin) => self.run_error_sub(sh, &head, &conf, origin, &env, true),
            None => self.dispatch(sh, &head, conf, Some(env)),
        }
    }

    /// Body bytes as the backend sent them: de-chunked if it said
    /// Transfer-Encoding, cut at its Content-Length, then passed on.
    pub(super) fn emit_body(&mut self, sh: &mut Shared, b: &mut BackendRun, data: &[u8]) {
        if b.auth_vars.is_some() {
            return; // an allowing authorizer's body is not used
        }
        if b.sendfile.is_some() || b.intercept.is_some() {
            return; // the backend's body is replaced by the file or page
        }
        let decoded;
        let data = match &mut b.dechunk {
            Some(dec) => {
                let mut out = Vec::with_capacity(data.len());
                // Decoded up to a bad chunk or the last one; the rest is
                // dropped.
                let _ = dec.decode(data, &mut out);
                decoded = out;
                &decoded[..]
            }
            None => data,
        };
        let data = match &mut b.cl_left {
            Some(left) => {
                let n = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= n as u64;
                &data[..n]
            }
            None => data,
        };
        self.pass_body(sh, b, data);
    }

    /// Body bytes ready for the client: buffered while the head is held
    /// back, else sent (chunk-framed on a chunked response).
    fn pass_body(&mut self, sh: &mut Shared, b: &mut BackendRun, data: &[u8]) {
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
    pub(super) fn start_streaming(&mut self, sh: &mut Shared, b: &mut BackendRun) {
        let Some(mut r) = b.deferred.take() else {
            return;
        };
        if b.dechunk.is_some() {
            // A Content-Length beside Transfer-Encoding says nothing.
            r.headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("Content-Length"));
        }
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
        self.pass_body(sh, b, &body);
    }

    /// The whole body arrived before END_REQUEST: Accept-Ranges and Range
    /// as for any response held whole, and Content-Length: none for 204 and
    /// 304, the backend's where it stands (so a HEAD keeps the length its
    /// GET would have; a 206 has its own), else the body's unless that is
    /// an empty answer to a HEAD.
    pub(super) fn send_buffered(&mut self, sh: &mut Shared, b: &mut BackendRun, mut r: Response) {
        let mut body = b.body.take();
        if !response::mem_range(&mut r, &mut body, &b.ranges) {
            let e = response::error_response(416, &b.conf, false);
            self.queue(sh, e, b.version, b.keep, b.head_only, b.tag.as_deref());
            return;
        }
        if matches!(r.status, 204 | 304) || r.status < 200 {
            // A 304 loses Content-Encoding too (1.4.69).
            let encoding = r.status == 304;
            r.headers.retain(|(k, _)| {
                let dropped = k.eq_ignore_ascii_case("Content-Length")
                    || (encoding && k.eq_ignore_ascii_case("Content-Encoding"));
                !dropped
            });
        } else if b.cl_left.is_none() && !(b.head_only && body.is_empty()) {
            r.set("Content-Length", body.len() as u64);
        }
        r.body = crate::response::Body::Mem(body);
        self.queue(sh, r, b.version, b.keep, b.head_only, b.tag.as_deref());
    }
}

/// A backend's header name as it was sent: a common one without a copy.
fn header_name(k: &[u8]) -> std::borrow::Cow<'static, str> {
    const COMMON: &[&str] = &[
        "Content-Type",
        "Content-type",
        "Content-Length",
        "Location",
        "Set-Cookie",
        "Cache-Control",
        "Expires",
        "Pragma",
        "Last-Modified",
        "ETag",
        "Vary",
        "X-Powered-By",
        "Content-Encoding",
        "Content-Disposition",
        "Link",
    ];
    match COMMON.iter().find(|c| c.as_bytes() == k) {
        Some(c) => std::borrow::Cow::Borrowed(c),
        None => std::borrow::Cow::Owned(crate::http::lossless::from_bytes(k).into_owned()),
    }
}

/// An interim head as relayed: status line and the backend's headers only.
pub(super) fn interim_head(head: &backend_resp::BackendHead) -> Vec<u8> {
    let mut v = format!(
        "HTTP/1.1 {} {}\r\n",
        head.status,
        crate::http::status::reason(head.status)
    )
    .into_bytes();
    for (k, val) in head.headers.iter().filter(|(_, val)| !val.is_empty()) {
        v.extend_from_slice(k);
        v.extend_from_slice(b": ");
        v.extend_from_slice(val);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"\r\n");
    v
}

/// An authorizer's variables added to the request's environment `env`: a
/// name already there (in any case) gets ", value" appended, as lighttpd
/// 1.4.69 adds them (an authorizer that runs again for an error handler
/// adds to what the first run set).
fn add_variables(env: &mut Vec<(String, String)>, vars: Vec<(String, String)>) {
    for (name, value) in vars {
        match env.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => env.push((name, value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::add_variables;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn variables_added_in_place_or_at_the_end() {
        let mut env = pairs(&[("X-Foo", "v1"), ("REDIRECT_STATUS", "404")]);
        add_variables(&mut env, pairs(&[("x-foo", "second"), ("X-Bar", "b")]));
        assert_eq!(
            env,
            pairs(&[
                ("X-Foo", "v1, second"),
                ("REDIRECT_STATUS", "404"),
                ("X-Bar", "b")
            ])
        );
    }
}
