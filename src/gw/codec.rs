//! The codec trait: all that one backend protocol adds to the shared
//! engine. The engine (pool.rs, mod.rs, src/conn_backend) connects, writes
//! what the codec encodes, feeds what it reads to the codec's reply
//! decoder and acts on the events that come out; it knows nothing of
//! records or netstrings. FastCGI is the one protocol now (FastCgi below,
//! over the pure record codec in fcgi.rs); SCGI (a netstring of the same
//! environment, then the raw body; the reply ends at EOF) and the HTTP
//! proxy (a request line and headers from the same request data; an HTTP
//! reply) plug in with one more implementation each.

use super::fcgi;
use crate::http::cgi_env::{self, CgiInput};
use crate::http::lossless;

/// The request head would not fit the protocol's limit (one FastCGI
/// PARAMS record: 65535 bytes); lighttpd answers 400.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadTooLarge;

pub trait Codec: std::fmt::Debug {
    /// Appends everything that goes before the request body: for FastCGI
    /// BEGIN_REQUEST and the PARAMS stream built from `req` (the role from
    /// `req.authorizer`); `keep_conn` asks the backend to keep the
    /// connection open after the reply. On error `out` is left as it was.
    fn request_head(
        &self,
        out: &mut Vec<u8>,
        req: &CgiInput<'_>,
        keep_conn: bool,
    ) -> Result<(), HeadTooLarge>;

    /// Appends a piece of the request body (never empty).
    fn body(&self, out: &mut Vec<u8>, data: &[u8]);

    /// Appends what ends the request body (nothing for protocols that
    /// send CONTENT_LENGTH up front).
    fn body_end(&self, out: &mut Vec<u8>);

    /// A decoder for one reply.
    fn reply(&self) -> Box<dyn ReplyDecoder>;
}

/// What a reply decoder made of the bytes fed to it: the STDOUT and STDERR
/// bytes in `data`, and what happened in order in `events`. Both keep their
/// capacity from one read to the next.
#[derive(Debug, Default)]
pub struct Decoded {
    pub data: Vec<u8>,
    pub events: Vec<Event>,
}

/// One thing a reply said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// STDOUT bytes (head first, then body): `data[range]`.
    Stdout(std::ops::Range<usize>),
    /// One STDERR record's bytes, logged line by line: `data[range]`.
    Stderr(std::ops::Range<usize>),
    /// The reply is complete.
    End,
    /// A record of a type the protocol does not know (FastCGI: lighttpd
    /// logs `FastCGI: header.type not handled: <t>`).
    Unknown(u8),
}

impl Decoded {
    pub fn clear(&mut self) {
        self.data.clear();
        self.events.clear();
    }

    /// Appends STDOUT bytes, to the last event when it is STDOUT.
    pub fn push_stdout(&mut self, b: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(b);
        let end = self.data.len();
        match self.events.last_mut() {
            Some(Event::Stdout(r)) if r.end == start => r.end = end,
            _ => self.events.push(Event::Stdout(start..end)),
        }
    }

    /// Appends one STDERR record's bytes.
    pub fn push_stderr(&mut self, b: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(b);
        self.events.push(Event::Stderr(start..self.data.len()));
    }

    /// The bytes an event refers to (empty for End and Unknown).
    pub fn bytes(&self, ev: &Event) -> &[u8] {
        match ev {
            Event::Stdout(r) | Event::Stderr(r) => &self.data[r.clone()],
            Event::End | Event::Unknown(_) => &[],
        }
    }
}

pub trait ReplyDecoder {
    /// Decodes `input` into `out` and returns how many bytes it used: all
    /// of them unless the reply ended (End pushed) and more bytes followed
    /// it.
    fn feed(&mut self, input: &[u8], out: &mut Decoded) -> usize;

    /// Whether the backend closing its side ends the reply normally (SCGI,
    /// a proxied reply without a length) rather than cutting it (FastCGI
    /// before END_REQUEST: "unexpected end-of-file").
    fn eof_ends_reply(&self) -> bool;
}

/// FastCGI as mod_fastcgi speaks it: request id 1, one PARAMS record,
/// STDIN records, the reply ended by END_REQUEST.
#[derive(Debug)]
pub struct FastCgi;

pub static FASTCGI: FastCgi = FastCgi;

impl Codec for FastCgi {
    fn request_head(
        &self,
        out: &mut Vec<u8>,
        req: &CgiInput<'_>,
        keep_conn: bool,
    ) -> Result<(), HeadTooLarge> {
        let start = out.len();
        let role = if req.authorizer {
            fcgi::Role::Authorizer
        } else {
            fcgi::Role::Responder
        };
        fcgi::begin_request(out, 1, role, keep_conn);
        let mut w = fcgi::ParamsWriter::new(out, 1);
        cgi_env::build_with(req, &mut |k, v| {
            // raw bytes of a path or header value go as they came
            if v.iter().any(|p| lossless::holds_raw(p)) {
                let raw: Vec<_> = v.iter().map(|p| lossless::to_bytes(p)).collect();
                w.push_parts(k, &raw)
            } else {
                w.push_parts(k, v)
            }
        });
        if w.finish().is_err() {
            out.truncate(start);
            return Err(HeadTooLarge);
        }
        Ok(())
    }

    fn body(&self, out: &mut Vec<u8>, data: &[u8]) {
        fcgi::stdin(out, 1, data);
    }

    fn body_end(&self, out: &mut Vec<u8>) {
        fcgi::stdin_end(out, 1);
    }

    fn reply(&self) -> Box<dyn ReplyDecoder> {
        Box::new(FcgiReply {
            decoder: fcgi::Decoder::new(),
        })
    }
}

struct FcgiReply {
    decoder: fcgi::Decoder,
}

impl ReplyDecoder for FcgiReply {
    fn feed(&mut self, input: &[u8], out: &mut Decoded) -> usize {
        self.decoder.feed(input, out)
    }

    fn eof_ends_reply(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gw::config::BackendAddr;
    use crate::gw::{GwState, connect};
    use std::io::{Read, Write};

    /// An SCGI-shaped protocol, only to show that the engine runs a codec
    /// other than FastCGI: a netstring of the environment, the raw body,
    /// and a reply that is plain CGI output ended by EOF.
    #[derive(Debug)]
    struct Netstring;
    static NETSTRING: Netstring = Netstring;

    struct UntilEof;

    impl Codec for Netstring {
        fn request_head(
            &self,
            out: &mut Vec<u8>,
            req: &CgiInput<'_>,
            _keep_conn: bool,
        ) -> Result<(), HeadTooLarge> {
            let mut pairs = Vec::new();
            cgi_env::build_with(req, &mut |k, v| {
                pairs.extend_from_slice(k);
                pairs.push(0);
                for piece in v {
                    pairs.extend_from_slice(piece.as_bytes());
                }
                pairs.push(0);
            });
            out.extend_from_slice(format!("{}:", pairs.len()).as_bytes());
            out.extend_from_slice(&pairs);
            out.push(b',');
            Ok(())
        }
        fn body(&self, out: &mut Vec<u8>, data: &[u8]) {
            out.extend_from_slice(data);
        }
        fn body_end(&self, _out: &mut Vec<u8>) {}
        fn reply(&self) -> Box<dyn ReplyDecoder> {
            Box::new(UntilEof)
        }
    }

    impl ReplyDecoder for UntilEof {
        fn feed(&mut self, input: &[u8], out: &mut Decoded) -> usize {
            out.push_stdout(input);
            input.len()
        }
        fn eof_ends_reply(&self) -> bool {
            true
        }
    }

    /// Runs one request through GwConn with `codec` against a backend that
    /// sends `reply` and closes; returns what the backend read, the STDOUT
    /// bytes, the events and how the connection ended.
    fn exchange(
        codec: &'static dyn Codec,
        reply: &[u8],
    ) -> (Vec<u8>, Vec<u8>, Vec<Event>, Option<crate::gw::Closed>) {
        let dir = std::env::temp_dir().join(format!("gw-codec-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let path = dir.join(format!("{}.sock", reply.len()));
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let addr = BackendAddr::Unix(path.to_str().unwrap().into());
        let mut g = connect(&addr, codec).unwrap();
        let (mut backend, _) = listener.accept().unwrap();
        let req = CgiInput {
            method: "POST",
            content_length: 4,
            ..CgiInput::default()
        };
        let mut head = Vec::new();
        codec.request_head(&mut head, &req, false).unwrap();
        g.queue(&head);
        let mut body = Vec::new();
        codec.body(&mut body, b"abcd");
        codec.body_end(&mut body);
        g.queue(&body);
        g.request_complete = true;
        g.flush().unwrap();
        assert_eq!(g.state, GwState::Read);
        backend.write_all(reply).unwrap();
        drop(backend.shutdown(std::net::Shutdown::Write));
        let mut sent = vec![0; head.len() + body.len()];
        backend.read_exact(&mut sent).unwrap();
        drop(backend);
        let mut out = Decoded::default();
        let mut closed = None;
        let mut buf = vec![0; 4096];
        // The socket is non-blocking: poll until the reply has ended.
        for _ in 0..1000 {
            g.readable = true;
            closed = g.read(&mut buf, 1 << 20, &mut out);
            if g.state == GwState::Done {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::fs::remove_file(&path).unwrap();
        let stdout = out
            .events
            .iter()
            .filter(|e| matches!(e, Event::Stdout(_)))
            .flat_map(|e| out.bytes(e).to_vec())
            .collect();
        (sent, stdout, out.events, closed)
    }

    #[test]
    fn the_engine_runs_another_codec() {
        let (sent, stdout, events, closed) = exchange(&NETSTRING, b"Status: 200\r\n\r\nhi");
        let text = String::from_utf8_lossy(&sent);
        assert!(text.contains("REQUEST_METHOD\0POST\0"), "{text}");
        assert!(text.ends_with(",abcd"), "{text}");
        assert_eq!(stdout, b"Status: 200\r\n\r\nhi");
        // EOF ends this protocol's reply normally.
        assert_eq!(events.last(), Some(&Event::End), "{events:?}");
        assert!(closed.is_none());
    }

    #[test]
    fn fastcgi_eof_before_end_request_is_unexpected() {
        let mut reply = Vec::new();
        reply.extend_from_slice(&[1, 6, 0, 1, 0, 2, 0, 0]);
        reply.extend_from_slice(b"hi");
        let (sent, stdout, events, closed) = exchange(&FASTCGI, &reply);
        // BEGIN_REQUEST (responder), PARAMS, STDIN "abcd", empty STDIN.
        assert_eq!(&sent[..10], &[1, 1, 0, 1, 0, 8, 0, 0, 0, 1]);
        assert!(sent.ends_with(&[
            1, 5, 0, 1, 0, 4, 0, 0, b'a', b'b', b'c', b'd', 1, 5, 0, 1, 0, 0, 0, 0
        ]));
        assert_eq!(stdout, b"hi");
        assert!(!events.contains(&Event::End), "{events:?}");
        assert!(matches!(closed, Some(crate::gw::Closed::Eof)), "{closed:?}");
    }

    #[test]
    fn fastcgi_head_too_large_leaves_out_untouched() {
        let big = "x".repeat(70_000);
        let headers = vec![("X-Big".to_string(), big)];
        let req = CgiInput {
            headers: crate::http::cgi_env::HeaderList::Pairs(&headers),
            ..CgiInput::default()
        };
        let mut out = b"kept".to_vec();
        assert_eq!(
            FASTCGI.request_head(&mut out, &req, false),
            Err(HeadTooLarge)
        );
        assert_eq!(out, b"kept");
    }
}
