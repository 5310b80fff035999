//! The backend engine shared by FastCGI (and later SCGI and proxy): host
//! configuration (config.rs), the codec trait a protocol implements
//! (codec.rs; FastCGI's records in fcgi.rs) and the per-request backend
//! connection (this file): connect (possibly delayed), write what the
//! codec encoded, read and decode the reply with the codec's decoder, hand
//! the CGI head and then the body to the client connection. One
//! connection per request, closed when the reply ends, as lighttpd 1.4.69
//! does (connection-reuse keeps it open).

pub mod balance;
pub mod codec;
pub mod config;
pub mod fcgi;
pub mod pool;
pub mod spawn;

use crate::stream::Stream;
use config::BackendAddr;
use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;

/// Who owns each backend socket's poll token: the token is BACKEND_BASE +
/// slot, the slot says which client connection the socket serves now. A
/// kept connection (connection-reuse) stays registered under its token
/// while idle (no owner) and changes owner when reused, so reuse costs no
/// epoll_ctl. A socket leaves the poll when it is closed.
#[derive(Default, Debug)]
pub struct Slots {
    owner: Vec<usize>,
    free: Vec<usize>,
}

pub const NO_OWNER: usize = usize::MAX;

impl Slots {
    /// Backend sockets open now (each holds a slot).
    pub fn in_use(&self) -> usize {
        self.owner.len() - self.free.len()
    }

    /// The client connection behind slot `id`, if any.
    pub fn owner(&self, id: usize) -> Option<usize> {
        self.owner.get(id).copied().filter(|&o| o != NO_OWNER)
    }
}

/// A held slot, given back when its socket is dropped.
#[derive(Debug)]
pub struct TokenSlot {
    table: Rc<RefCell<Slots>>,
    pub id: usize,
}

impl TokenSlot {
    pub fn new(table: &Rc<RefCell<Slots>>, owner: usize) -> TokenSlot {
        let mut t = table.borrow_mut();
        let id = match t.free.pop() {
            Some(id) => {
                t.owner[id] = owner;
                id
            }
            None => {
                t.owner.push(owner);
                t.owner.len() - 1
            }
        };
        TokenSlot {
            table: table.clone(),
            id,
        }
    }

    pub fn set_owner(&self, owner: usize) {
        self.table.borrow_mut().owner[self.id] = owner;
    }
}

impl Drop for TokenSlot {
    fn drop(&mut self) {
        let mut t = self.table.borrow_mut();
        t.owner[self.id] = NO_OWNER;
        t.free.push(self.id);
    }
}

/// Where a backend request stands (lighttpd: CONNECT_DELAYED, WRITE, READ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GwState {
    ConnectDelayed,
    Write,
    Read,
    Done,
}

/// How the backend's side ended a read, besides what it decoded.
#[derive(Debug)]
pub enum Closed {
    /// The backend closed the connection before the reply's end.
    Eof,
    Error(std::io::Error),
}

pub struct GwConn {
    pub sock: Stream,
    pub addr: BackendAddr,
    pub state: GwState,
    pub readable: bool,
    pub writable: bool,
    out: crate::chunk::Buffer,
    out_off: usize,
    /// Request bytes written so far (for diagnostics).
    pub written: u64,
    /// All request records are queued (STDIN ended).
    pub request_complete: bool,
    decoder: Box<dyn codec::ReplyDecoder>,
    /// The protocol.
    pub codec: &'static dyn codec::Codec,
    /// Bytes came after the reply's end (the connection cannot be reused).
    trailing: bool,
    /// The poll token's slot, once registered.
    pub slot: Option<TokenSlot>,
    /// The socket is polled for writability too: while a connect is in
    /// progress, and once a write would have blocked.
    pub watching_writable: bool,
    /// connection-pipelining: the next request, written behind this one.
    pub next: Option<Next>,
    /// connection-pipelining: bytes read after this reply's end (the start
    /// of the next request's reply).
    carry: Vec<u8>,
}

/// connection-pipelining: the request written on a kept connection behind
/// the one it carries. When the carried request ends cleanly the
/// connection is handed to it (pool.rs); when the connection is dropped
/// instead, the request is woken to try again on another.
pub struct Next {
    pub who: (usize, u64),
    pub host: Rc<pool::HostRt>,
    /// Its records' length (for the "request sent" diagnostics).
    pub len: usize,
}

impl Drop for GwConn {
    fn drop(&mut self) {
        if let Some(n) = self.next.take() {
            n.host.stats.wake.borrow_mut().push(n.who);
        }
    }
}

impl std::fmt::Debug for GwConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GwConn({})", self.addr)
    }
}

/// Opens a non-blocking connection to a backend. Errors are the connect
/// errors lighttpd reports (ECONNREFUSED, ENOENT ...).
pub fn connect(addr: &BackendAddr, codec: &'static dyn codec::Codec) -> std::io::Result<GwConn> {
    let (sock, state) = match addr {
        BackendAddr::Tcp(a) => (
            Stream::Tcp(mio::net::TcpStream::connect(*a)?),
            GwState::ConnectDelayed,
        ),
        // A unix-domain connect is complete when it returns (an
        // unaccepted one waits in the backlog, writable).
        BackendAddr::Unix(p) => (
            Stream::Unix(mio::net::UnixStream::connect(
                crate::http::lossless::to_path(p),
            )?),
            GwState::Write,
        ),
    };
    Ok(GwConn {
        sock,
        addr: addr.clone(),
        state,
        readable: false,
        // A connected socket is tried at once; EAGAIN then waits for the
        // writable event.
        writable: state == GwState::Write,
        out: crate::chunk::Buffer::new(),
        out_off: 0,
        written: 0,
        request_complete: false,
        decoder: codec.reply(),
        codec,
        trailing: false,
        slot: None,
        watching_writable: false,
        next: None,
        carry: Vec::new(),
    })
}

impl GwConn {
    /// A kept connection (connection-reuse) takes a new request for
    /// client connection `owner`: fresh request state, same socket and
    /// token.
    pub fn reset_for(&mut self, owner: usize) {
        self.state = GwState::Write;
        self.readable = false;
        self.writable = true;
        self.out.clear();
        self.out_off = 0;
        self.written = 0;
        self.request_complete = false;
        self.decoder = self.codec.reply();
        self.trailing = false;
        self.carry.clear();
        if let Some(s) = &self.slot {
            s.set_owner(owner);
        }
    }

    /// connection-pipelining: the connection was handed to the request
    /// written behind the one that just ended (its records, `len` bytes,
    /// are sent or still queued): its reply is read next, starting with
    /// what was read after the previous reply.
    pub fn reset_handed(&mut self, owner: usize, len: usize) {
        self.state = if self.pending() > 0 {
            GwState::Write
        } else {
            GwState::Read
        };
        // What is in the socket now is its reply (edge-triggered: no new
        // event may come for it).
        self.readable = true;
        self.written = (len - self.pending().min(len)) as u64;
        self.request_complete = true;
        self.decoder = self.codec.reply();
        self.trailing = false;
        if let Some(s) = &self.slot {
            s.set_owner(owner);
        }
    }

    /// connection-pipelining: writes the next request's records (a GET or
    /// HEAD without a body: BEGIN_REQUEST, PARAMS and the end of STDIN)
    /// behind the request this connection carries.
    pub fn pipeline(&mut self, records: &[u8], next: Next) {
        self.out.extend_from_slice(records);
        self.next = Some(next);
    }

    /// The interest to register the socket with: readable, and writable
    /// only while a connect is in progress (a request is written as soon
    /// as the connection is up; see [`GwConn::watch_writable`]).
    pub fn interest(&mut self) -> mio::Interest {
        if self.state == GwState::ConnectDelayed {
            self.watching_writable = true;
            mio::Interest::READABLE | mio::Interest::WRITABLE
        } else {
            mio::Interest::READABLE
        }
    }

    /// A write would have blocked: poll for writability from now on (as
    /// lighttpd does; an edge-triggered writable interest from the start
    /// costs a wakeup per request for nothing).
    pub fn watch_writable(&mut self, registry: &mio::Registry) -> std::io::Result<()> {
        if self.watching_writable || self.writable {
            return Ok(());
        }
        let Some(slot) = &self.slot else {
            return Ok(());
        };
        self.watching_writable = true;
        let token = mio::Token(crate::conn_backend::BACKEND_BASE + slot.id);
        let both = mio::Interest::READABLE | mio::Interest::WRITABLE;
        mio::event::Source::reregister(&mut self.sock, registry, token, both)
    }

    /// Queues request bytes (records) to send.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Queues what the codec encodes into the send buffer: a piece of the
    /// request body (never empty) and, when `last`, the body's end.
    pub fn queue_body(&mut self, data: &[u8], last: bool) {
        if !data.is_empty() {
            self.codec.body(&mut self.out, data);
        }
        if last {
            self.codec.body_end(&mut self.out);
            self.request_complete = true;
        }
    }

    /// The request ended cleanly: all sent, END_REQUEST read and nothing
    /// after it, so the connection can take another request.
    /// With a request written behind (connection-pipelining), what is
    /// unsent and what was read after the end are that request's.
    pub fn reusable(&self) -> bool {
        self.state == GwState::Done
            && (self.pending() == 0 || self.next.is_some())
            && !self.trailing
            && self.request_complete
    }

    /// Bytes still waiting to go to the backend.
    pub fn pending(&self) -> usize {
        self.out.len() - self.out_off
    }

    /// The connect finished: Ok, or the error it ended with.
    pub fn check_connected(&mut self) -> Result<bool, std::io::Error> {
        if self.state != GwState::ConnectDelayed {
            return Ok(true);
        }
        if !self.writable {
            return Ok(false);
        }
        let err = match &self.sock {
            Stream::Tcp(s) => s.take_error()?,
            Stream::Unix(s) => s.take_error()?,
            // (backend connections are sockets)
            Stream::Pipe { .. } => None,
        };
        if let Some(e) = err {
            return Err(e);
        }
        let connected = match &self.sock {
            Stream::Tcp(s) => s.peer_addr().is_ok(),
            Stream::Unix(s) => s.peer_addr().is_ok(),
            Stream::Pipe { .. } => true,
        };
        if connected {
            self.state = GwState::Write;
        } else {
            // Not up yet: wait for the next writable event (the caller
            // must not take this readiness for progress).
            self.writable = false;
        }
        Ok(connected)
    }

    /// Writes queued request bytes; Err on a write error.
    pub fn flush(&mut self) -> Result<(), std::io::Error> {
        while self.writable && self.out_off < self.out.len() {
            match self.sock.write(&self.out[self.out_off..]) {
                Ok(0) => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero)),
                Ok(n) => {
                    self.out_off += n;
                    self.written += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.writable = false,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.out_off == self.out.len() {
            self.out.clear();
            self.out_off = 0;
            if self.request_complete && self.state == GwState::Write {
                self.state = GwState::Read;
            }
        }
        Ok(())
    }

    /// Reads and decodes what the backend sent, up to `limit` bytes, into
    /// `out`; Some when the connection ended other than by the reply's end
    /// (a protocol whose replies end at EOF gets an End event instead).
    pub fn read(
        &mut self,
        buf: &mut [u8],
        limit: usize,
        out: &mut codec::Decoded,
    ) -> Option<Closed> {
        if !self.carry.is_empty() && self.state != GwState::Done {
            let carry = std::mem::take(&mut self.carry);
            if self.decode(&carry, out) {
                return None;
            }
        }
        let mut got = 0;
        while self.readable && got < limit && self.state != GwState::Done {
            match self.sock.read(buf) {
                Ok(0) => {
                    self.state = GwState::Done;
                    if self.decoder.eof_ends_reply() {
                        out.events.push(codec::Event::End);
                        return None;
                    }
                    return Some(Closed::Eof);
                }
                Ok(n) => {
                    got += n;
                    if n < buf.len() {
                        self.readable = false;
                    }
                    if self.decode(&buf[..n], out) {
                        return None;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.state = GwState::Done;
                    return Some(Closed::Error(e));
                }
            }
        }
        None
    }

    /// Decodes `bytes` of the reply; true at its end. Bytes after the end
    /// are the next request's (connection-pipelining), else they make the
    /// connection unfit for reuse.
    fn decode(&mut self, bytes: &[u8], out: &mut codec::Decoded) -> bool {
        let before = out.events.len();
        let used = self.decoder.feed(bytes, out);
        if used < bytes.len() {
            if self.next.is_some() {
                self.carry.extend_from_slice(&bytes[used..]);
            } else {
                self.trailing = true;
            }
        }
        if out.events[before..].contains(&codec::Event::End) {
            self.state = GwState::Done;
            return true;
        }
        false
    }
}
