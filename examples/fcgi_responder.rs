//! A FastCGI test responder for lighttpd-rs's gateway tests (std, plus
//! libc's poll(2) for RESPONDER_POLL).
//!
//! It answers from QUERY_STRING the way lighttpd's tests/fcgi-responder.c
//! does (docs/fastcgi.md §7) so the same test expectations hold against the
//! reference lighttpd and against us, plus extras our tests need (stderr,
//! request bodies, big and slow bodies, split headers, FCGI_KEEP_CONN and an
//! in-order parameter dump). Written from that behaviour table, not from
//! the C source. One request at a time, one connection at a time (per
//! worker: RESPONDER_WORKERS=N runs N threads on the one socket;
//! RESPONDER_POLL=1 instead serves every open connection from one
//! poll(2)-driven thread, a request at a time); input read
//! through a buffer per connection, each reply written in one go (records
//! before a pause go out first), as FastCGI libraries buffer.
//!
//! Usage:
//!   fcgi_responder                    listening socket on fd 0 (bin-path / spawn-fcgi)
//!   fcgi_responder --listen PATH      bind a unix socket (an existing file is replaced)
//!   fcgi_responder --port N           bind 127.0.0.1:N
//!   fcgi_responder --bind ADDR:PORT   bind that TCP address
//!
//! SIGINT/SIGUSR1 are not ignored (the C responder does): std cannot set
//! signal dispositions without libc.
//!
//! Queries (whole QUERY_STRING; no QUERY_STRING param → `Status: 500 Internal Foo`):
//!   lf, crlf            200 with LF / CRLF header endings, body `test123`
//!   slow-lf, slow-crlf  status line and blank line in separate records, with sleeps
//!   die-at-end          200 + test123, then exit(0)
//!   env=VAR             VAR from the params, else the process env (no body if neither)
//!   auth-ok             (authorizer) 200 + test123
//!   auth-var            (authorizer) `Variable-X-LIGHTTPD-FCGI-AUTH: LighttpdTestContent`,
//!                       no Status; (responder) 200 + X_LIGHTTPD_FCGI_AUTH's value
//!   auth-dump           (authorizer) 403, body = the params as dump-env
//!   auth-hdr            (authorizer) X-Before, Status: 403, X-After, body `denied`
//!   auth-*              (authorizer) 403
//!   dump-env            200, text/plain, one `NAME=VALUE` line per param, in arrival order
//!   proc-stderr=TEXT    TEXT on the process's own stderr (fd 2), then 200
//!   stderr=TEXT         TEXT on FCGI_STDERR, then 200 + test123
//!   echo-stdin          200, body = the request body
//!   big=N               200, N bytes of body (`a`..`z` repeating)
//!   id                  200, body = $RESPONDER_ID (which backend answered)
//!   sleep=MS            like `id`, after MS milliseconds
//!   slow-body           200, body `chunk0\n`..`chunk4\n` in records 100 ms apart
//!   split-headers       headers spread over several STDOUT records
//!   xsendfile=PATH      200 with `X-Sendfile: PATH`
//!   xsendfile2=VALUE    200 with `X-Sendfile2: VALUE` (`+` becomes a space)
//!   xlsendfile=PATH     200 with `X-LIGHTTPD-send-file: PATH`
//!   keepconn            200, body `keep-conn=1` or `keep-conn=0`
//!   early-hints         a 103 head with a Link header, then 200 + test123
//!   count-stdin         200, body `stdin=N`: the request body's length
//!   conn-count          200, body `conn-request=N`: the Nth request on this connection
//!   peek-next=MS        200 after MS milliseconds, body `next-waiting=1` when bytes of
//!                       another request already wait on the connection (TCP only;
//!                       `next-waiting=unknown` on a unix socket)
//!   hdrs=LINES          LINES (percent-encoded, `|` between lines) as the head, then a
//!                       20-byte body; with `||` in it, LINES is the whole reply
//!   hdrs0=LINES         the same without the body
//!   ahdrs=LINES         (authorizer) as hdrs0=; (responder) as dump-env
//!   raw=TEXT            exactly TEXT (percent-encoded, `|` as CRLF) on STDOUT
//!   anything else       200 + test123
//! Every reply ends with an empty STDOUT and END_REQUEST(app status 0). The
//! connection stays open for the next request only if FCGI_KEEP_CONN was set.

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::thread::sleep;
use std::time::Duration;

const BEGIN_REQUEST: u8 = 1;
const ABORT_REQUEST: u8 = 2;
const END_REQUEST: u8 = 3;
const PARAMS: u8 = 4;
const STDIN: u8 = 5;
const STDOUT: u8 = 6;
const STDERR: u8 = 7;
const DATA: u8 = 8;
const GET_VALUES: u8 = 9;
const GET_VALUES_RESULT: u8 = 10;
const UNKNOWN_TYPE: u8 = 11;

const ROLE_AUTHORIZER: u16 = 2;
const FLAG_KEEP_CONN: u8 = 1;
const REQUEST_COMPLETE: u8 = 0;
const CANT_MPX_CONN: u8 = 1;

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

fn main() {
    let listener = match open_listener() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fcgi_responder: {e}");
            std::process::exit(2);
        }
    };
    // RESPONDER_WORKERS=N: N threads take connections from the one socket,
    // as PHP_FCGI_CHILDREN children of php-cgi do (default 1).
    let workers = std::env::var("RESPONDER_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    if std::env::var_os("RESPONDER_POLL").is_some_and(|v| v == "1") {
        poll_loop(&listener)
    }
    let listener = std::sync::Arc::new(listener);
    for _ in 1..workers {
        let l = std::sync::Arc::clone(&listener);
        std::thread::spawn(move || accept_loop(&l));
    }
    accept_loop(&listener)
}

fn accept_loop(listener: &Listener) -> ! {
    loop {
        let res = match listener {
            Listener::Unix(l) => l.accept().and_then(|(s, _)| serve_conn(s)),
            Listener::Tcp(l) => l.accept().and_then(|(s, _)| serve_conn(s)),
        };
        match res {
            Ok(Outcome::Exit) => std::process::exit(0),
            Ok(Outcome::Closed) => {}
            Err(e) => eprintln!("fcgi_responder: {e}"),
        }
    }
}

/// A connection of the poll loop.
enum Stream {
    Unix(std::os::unix::net::UnixStream),
    Tcp(std::net::TcpStream),
}

impl Read for &Stream {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => (&*s).read(b),
            Stream::Tcp(s) => (&*s).read(b),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => (&*s).write(b),
            Stream::Tcp(s) => (&*s).write(b),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Waiting for Stream {
    fn next_waiting(&self) -> Option<bool> {
        match self {
            Stream::Unix(s) => s.next_waiting(),
            Stream::Tcp(s) => s.next_waiting(),
        }
    }
}

impl std::os::fd::AsRawFd for Stream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }
}

/// A connection of the poll loop: its socket, the bytes read and not yet
/// taken as records, its requests.
struct PollConn {
    stream: Stream,
    input: Vec<u8>,
    state: ConnState,
}

/// RESPONDER_POLL=1: one thread serves every open connection, as
/// event-driven FastCGI servers do: poll(2) says which connections have
/// bytes, each whole record read is handled at once, and a connection
/// kept open (FCGI_KEEP_CONN) does not stop the others from being served
/// between its requests. A reply is still written in one blocking go and
/// a query that sleeps holds every connection up.
fn poll_loop(listener: &Listener) -> ! {
    use std::os::fd::AsRawFd;
    let listen_fd = match listener {
        Listener::Unix(l) => l.as_raw_fd(),
        Listener::Tcp(l) => l.as_raw_fd(),
    };
    let mut conns: Vec<PollConn> = Vec::new();
    let mut fds: Vec<libc::pollfd> = Vec::new();
    loop {
        fds.clear();
        for fd in std::iter::once(listen_fd).chain(conns.iter().map(|c| c.stream.as_raw_fd())) {
            fds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        // SAFETY: `fds` is a live, exclusively borrowed array of
        // `fds.len()` pollfd structs for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n <= 0 {
            continue; // EINTR
        }
        // Highest index first, so swap_remove only moves a connection
        // already looked at (or one accepted below, not yet polled).
        for i in (0..conns.len()).rev() {
            if fds[i + 1].revents == 0 {
                continue;
            }
            match serve_ready(&mut conns[i]) {
                Ok(Step::More) => {}
                Ok(Step::Close) => drop(conns.swap_remove(i)),
                Ok(Step::Exit) => std::process::exit(0),
                Err(e) => {
                    eprintln!("fcgi_responder: {e}");
                    drop(conns.swap_remove(i));
                }
            }
        }
        if fds[0].revents != 0 {
            let accepted = match listener {
                Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            };
            match accepted {
                Ok(stream) => conns.push(PollConn {
                    stream,
                    input: Vec::new(),
                    state: ConnState::default(),
                }),
                Err(e) => eprintln!("fcgi_responder: {e}"),
            }
        }
    }
}

/// One read from a connection poll(2) found readable, then every whole
/// record it completed, handled in order; the replies go out together.
fn serve_ready(c: &mut PollConn) -> io::Result<Step> {
    let mut chunk = [0u8; 16 * 1024];
    let n = (&c.stream).read(&mut chunk)?;
    if n == 0 {
        return Ok(Step::Close);
    }
    c.input.extend_from_slice(&chunk[..n]);
    let mut out = Out {
        stream: &c.stream,
        buf: Vec::new(),
        input_buffered: false,
    };
    let mut at = 0;
    let mut step = Step::More;
    while let Some((rec, used)) = record_at(&c.input[at..]) {
        at += used;
        out.input_buffered = at < c.input.len();
        step = c.state.on_record(rec, &mut out)?;
        if !matches!(step, Step::More) {
            break;
        }
    }
    c.input.drain(..at);
    out.flush()?;
    Ok(step)
}

/// The whole record at the start of `b`, and its length with padding.
fn record_at(b: &[u8]) -> Option<(Record, usize)> {
    let h = b.get(..8)?;
    let len = u16::from_be_bytes([h[4], h[5]]) as usize;
    let total = 8 + len + h[6] as usize;
    let content = b.get(8..total)?[..len].to_vec();
    Some((
        Record {
            kind: h[1],
            id: u16::from_be_bytes([h[2], h[3]]),
            content,
        },
        total,
    ))
}

fn open_listener() -> io::Result<Listener> {
    // args_os: the program may have a name that is not UTF-8 (a bin-path
    // with a Latin-1 byte).
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match args.as_slice() {
        [flag, path] if flag == "--listen" => {
            let _ = std::fs::remove_file(path);
            Ok(Listener::Unix(UnixListener::bind(path)?))
        }
        [flag, addr] if flag == "--bind" => Ok(Listener::Tcp(TcpListener::bind(addr.as_str())?)),
        [flag, port] if flag == "--port" => {
            let port: u16 = port
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad --port"))?;
            Ok(Listener::Tcp(TcpListener::bind(("127.0.0.1", port))?))
        }
        [] => Ok(listener_from_fd0()),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: fcgi_responder [--listen PATH | --port N | --bind ADDR:PORT]",
        )),
    }
}

/// The listening socket lighttpd (bin-path) or spawn-fcgi passes as fd 0
/// (FCGI_LISTENSOCK_FILENO); it may be a unix or a TCP socket.
fn listener_from_fd0() -> Listener {
    use std::os::fd::{FromRawFd, IntoRawFd};
    // SAFETY: this test program is started with a listening socket as fd 0
    // and nothing else in the process uses fd 0; ownership moves to the
    // listener once, and back through into_raw_fd() before the second wrap.
    let tcp = unsafe { TcpListener::from_raw_fd(0) };
    if tcp.local_addr().is_ok() {
        return Listener::Tcp(tcp);
    }
    let fd = tcp.into_raw_fd();
    // SAFETY: as above; `tcp` was consumed, so fd 0 has a single owner.
    Listener::Unix(unsafe { UnixListener::from_raw_fd(fd) })
}

enum Outcome {
    Closed,
    Exit,
}

struct Record {
    kind: u8,
    id: u16,
    content: Vec<u8>,
}

fn read_record(s: &mut impl Read) -> io::Result<Option<Record>> {
    let mut h = [0u8; 8];
    match s.read_exact(&mut h) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u16::from_be_bytes([h[4], h[5]]) as usize;
    let mut content = vec![0u8; len + h[6] as usize];
    s.read_exact(&mut content)?;
    content.truncate(len);
    Ok(Some(Record {
        kind: h[1],
        id: u16::from_be_bytes([h[2], h[3]]),
        content,
    }))
}

fn write_record(s: &mut impl Write, kind: u8, id: u16, content: &[u8]) -> io::Result<()> {
    for piece in content.chunks(65535) {
        write_one(s, kind, id, piece)?;
    }
    Ok(())
}

/// One record, padded to a multiple of 8 as the spec recommends (so clients'
/// padding handling is exercised).
fn write_one(s: &mut impl Write, kind: u8, id: u16, content: &[u8]) -> io::Result<()> {
    let len = content.len() as u16;
    let pad = (8 - content.len() % 8) % 8;
    let mut buf = Vec::with_capacity(8 + content.len() + pad);
    buf.extend_from_slice(&[1, kind]);
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&[pad as u8, 0]);
    buf.extend_from_slice(content);
    buf.resize(buf.len() + pad, 0);
    s.write_all(&buf)
}

fn end_request(s: &mut impl Write, id: u16, protocol_status: u8) -> io::Result<()> {
    write_one(s, END_REQUEST, id, &[0, 0, 0, 0, protocol_status, 0, 0, 0])
}

/// A request being received on the connection.
struct Pending {
    id: u16,
    role: u16,
    keep_conn: bool,
    params_raw: Vec<u8>,
    params_done: bool,
    /// An authorizer's answer went out (at the end of its params).
    answered: bool,
    stdin: Vec<u8>,
    /// This is the Nth request on its connection.
    on_conn: u32,
}

/// Whether bytes wait unread on a connection (a request written behind the
/// one being answered), without taking them.
trait Waiting {
    fn next_waiting(&self) -> Option<bool>;
}

impl Waiting for std::net::TcpStream {
    fn next_waiting(&self) -> Option<bool> {
        self.set_nonblocking(true).ok()?;
        let mut b = [0u8; 1];
        let r = self.peek(&mut b);
        let _ = self.set_nonblocking(false);
        Some(matches!(r, Ok(n) if n > 0))
    }
}

impl Waiting for std::os::unix::net::UnixStream {
    fn next_waiting(&self) -> Option<bool> {
        None // UnixStream::peek is not stable
    }
}

/// A connection's output: records collect here and go out in one write
/// when the reply is complete (or before a pause, or every 64 KiB), as
/// FastCGI libraries buffer what a script prints.
struct Out<'a, T> {
    stream: &'a T,
    buf: Vec<u8>,
    /// The connection's reader holds bytes not yet taken (the next
    /// request's, when the server wrote it behind this one).
    input_buffered: bool,
}

impl<T> Write for Out<'_, T>
where
    for<'b> &'b T: Write,
{
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let mut w: &T = self.stream;
            w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<T: Waiting> Waiting for Out<'_, T> {
    fn next_waiting(&self) -> Option<bool> {
        if self.input_buffered {
            return Some(true);
        }
        self.stream.next_waiting()
    }
}

/// What was written so far goes out, then the reply pauses.
fn pause(s: &mut impl Write, ms: u64) -> io::Result<()> {
    s.flush()?;
    sleep(Duration::from_millis(ms));
    Ok(())
}

/// Serves one connection: its input read through a buffer that lives as
/// long as the connection (so a request written behind another is never
/// lost, unlike libfcgi's per-request buffer), its replies written whole.
fn serve_conn<T: Waiting>(stream: T) -> io::Result<Outcome>
where
    for<'b> &'b T: Read + Write,
{
    let mut input = io::BufReader::with_capacity(16 * 1024, &stream);
    let mut out = Out {
        stream: &stream,
        buf: Vec::new(),
        input_buffered: false,
    };
    let mut conn = ConnState::default();
    let outcome = loop {
        // What the last record's handling wrote goes out before the next read.
        out.flush()?;
        let Some(rec) = read_record(&mut input)? else {
            break Outcome::Closed;
        };
        out.input_buffered = !input.buffer().is_empty();
        match conn.on_record(rec, &mut out)? {
            Step::More => {}
            Step::Close => break Outcome::Closed,
            Step::Exit => break Outcome::Exit,
        }
    };
    out.flush()?;
    Ok(outcome)
}

/// What a connection does after a record.
enum Step {
    More,
    Close,
    Exit,
}

/// A connection's requests: the one being received, and how many it has had.
#[derive(Default)]
struct ConnState {
    pending: Option<Pending>,
    served: u32,
}

impl ConnState {
    fn on_record<T: Waiting>(&mut self, rec: Record, s: &mut Out<'_, T>) -> io::Result<Step>
    where
        for<'b> &'b T: Write,
    {
        let pending = &mut self.pending;
        match rec.kind {
            BEGIN_REQUEST => {
                if pending.is_some() {
                    end_request(s, rec.id, CANT_MPX_CONN)?;
                    return Ok(Step::More);
                }
                let b = &rec.content;
                if b.len() < 3 {
                    return Ok(Step::Close);
                }
                *pending = Some(Pending {
                    id: rec.id,
                    role: u16::from_be_bytes([b[0], b[1]]),
                    keep_conn: b[2] & FLAG_KEEP_CONN != 0,
                    params_raw: Vec::new(),
                    params_done: false,
                    answered: false,
                    stdin: Vec::new(),
                    on_conn: self.served + 1,
                });
            }
            PARAMS => {
                if let Some(p) = pending.as_mut().filter(|p| p.id == rec.id) {
                    if rec.content.is_empty() {
                        p.params_done = true;
                        // An authorizer gets no body: it answers once its
                        // params are complete, as a libfcgi program would
                        // (1.4.69 passes a request body on to an authorizer,
                        // lighttpd #3272, and does not end its STDIN).
                        // STDIN is still read to its end before the
                        // connection is let go.
                        if p.role == ROLE_AUTHORIZER && !p.answered {
                            p.answered = true;
                            self.served += 1;
                            let params = parse_params(&p.params_raw);
                            if let Outcome::Exit = respond(s, p, &params)? {
                                return Ok(Step::Exit);
                            }
                        }
                    } else {
                        p.params_raw.extend_from_slice(&rec.content);
                    }
                }
            }
            STDIN => {
                let Some(p) = pending.as_mut().filter(|p| p.id == rec.id) else {
                    return Ok(Step::More);
                };
                if !rec.content.is_empty() {
                    p.stdin.extend_from_slice(&rec.content);
                    return Ok(Step::More);
                }
                // End of STDIN: the request is complete.
                let Some(p) = pending.take() else {
                    return Ok(Step::More);
                };
                if !p.answered {
                    self.served += 1;
                    let params = parse_params(&p.params_raw);
                    if let Outcome::Exit = respond(s, &p, &params)? {
                        return Ok(Step::Exit);
                    }
                }
                if !p.keep_conn {
                    return Ok(Step::Close);
                }
            }
            ABORT_REQUEST => {
                if let Some(p) = pending.take() {
                    end_request(s, p.id, REQUEST_COMPLETE)?;
                    if !p.keep_conn {
                        return Ok(Step::Close);
                    }
                }
            }
            DATA => {}
            GET_VALUES => {
                let mut body = Vec::new();
                for (k, v) in [
                    ("FCGI_MAX_CONNS", "1"),
                    ("FCGI_MAX_REQS", "1"),
                    ("FCGI_MPXS_CONNS", "0"),
                ] {
                    append_pair(&mut body, k.as_bytes(), v.as_bytes());
                }
                write_record(s, GET_VALUES_RESULT, 0, &body)?;
            }
            other => write_one(s, UNKNOWN_TYPE, rec.id, &[other, 0, 0, 0, 0, 0, 0, 0])?,
        }
        Ok(Step::More)
    }
}

/// Name-value pairs: each length is 1 byte, or 4 bytes with the high bit set.
fn parse_params(mut b: &[u8]) -> Vec<(String, String)> {
    fn take_len(b: &mut &[u8]) -> Option<usize> {
        let first = *b.first()?;
        if first & 0x80 == 0 {
            *b = &b[1..];
            Some(first as usize)
        } else {
            let q = b.get(..4)?;
            let n = u32::from_be_bytes([q[0] & 0x7f, q[1], q[2], q[3]]) as usize;
            *b = &b[4..];
            Some(n)
        }
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let (Some(nl), Some(vl)) = (take_len(&mut b), take_len(&mut b)) else {
            break;
        };
        if b.len() < nl + vl {
            break;
        }
        let name = String::from_utf8_lossy(&b[..nl]).into_owned();
        let value = shown_value(&b[nl..nl + vl]);
        out.push((name, value));
        b = &b[nl + vl..];
    }
    out
}

fn append_pair(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    for len in [k.len(), v.len()] {
        if len < 128 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&(len as u32 | 0x8000_0000).to_be_bytes());
        }
    }
    out.extend_from_slice(k);
    out.extend_from_slice(v);
}

/// %XX escapes decoded (an invalid one is kept as it is).
/// A parameter value as text: a byte that is not part of UTF-8 is shown
/// as `\xNN`, so a test tells a raw byte the server passed on from the
/// U+FFFD it would have put in its place.
fn shown_value(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        s.push_str(chunk.valid());
        for x in chunk.invalid() {
            s.push_str(&format!("\\x{x:02x}"));
        }
    }
    s
}

/// `|` as CR LF.
fn pipes_to_crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + 8);
    for &c in b {
        if c == b'|' {
            out.extend_from_slice(b"\r\n");
        } else {
            out.push(c);
        }
    }
    out
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const OK: &[u8] = b"Status: 200 OK\r\n\r\n";

/// $RESPONDER_ID as bytes (it may hold any byte but NUL).
fn responder_id() -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    std::env::var_os("RESPONDER_ID")
        .map(OsStringExt::into_vec)
        .unwrap_or_default()
}

/// `head`, a blank line, then one `NAME=VALUE` line per param in arrival order.
fn env_dump(head: &str, params: &[(String, String)]) -> String {
    let mut reply = format!("{head}\r\n\r\n");
    for (k, v) in params {
        reply.push_str(&format!("{k}={v}\n"));
    }
    reply
}

fn respond<S: Write + Waiting>(
    s: &mut S,
    p: &Pending,
    params: &[(String, String)],
) -> io::Result<Outcome> {
    let id = p.id;
    let out = |s: &mut S, data: &[u8]| write_record(s, STDOUT, id, data);
    let mut outcome = Outcome::Closed;

    match param(params, "QUERY_STRING") {
        None => out(s, b"Status: 500 Internal Foo\r\n\r\n")?,
        Some("lf") => out(s, b"Status: 200 OK\n\ntest123")?,
        Some("crlf") => out(s, b"Status: 200 OK\r\n\r\ntest123")?,
        Some(q @ ("slow-lf" | "slow-crlf")) => {
            let eol: &[u8] = if q == "slow-lf" { b"\n" } else { b"\r\n" };
            out(s, &[b"Status: 200 OK".as_slice(), eol].concat())?;
            pause(s, 50)?;
            out(s, eol)?;
            pause(s, 50)?;
            out(s, b"test123")?;
        }
        Some("die-at-end") => {
            out(s, b"Status: 200 OK\r\n\r\ntest123")?;
            outcome = Outcome::Exit;
        }
        Some(q) if p.role == ROLE_AUTHORIZER && q.starts_with("auth-") => match q {
            "auth-ok" => out(s, b"Status: 200 OK\r\n\r\ntest123")?,
            "auth-var" => out(
                s,
                b"Variable-X-LIGHTTPD-FCGI-AUTH: LighttpdTestContent\r\n\r\n",
            )?,
            "auth-dump" => out(s, env_dump("Status: 403 Forbidden", params).as_bytes())?,
            "auth-hdr" => out(s, b"X-Before: 1\r\nStatus: 403 Forbidden\r\nX-After: 1\r\n\r\ndenied")?,
            _ => out(s, b"Status: 403 Forbidden\r\n\r\n")?,
        },
        Some("auth-var") => {
            out(s, OK)?;
            if let Some(v) = param(params, "X_LIGHTTPD_FCGI_AUTH") {
                out(s, v.as_bytes())?;
            }
        }
        Some(q) if q.len() > 4 && q.starts_with("env=") => {
            out(s, OK)?;
            let var = &q[4..];
            let value = param(params, var)
                .map(str::to_owned)
                .or_else(|| std::env::var(var).ok());
            if let Some(v) = value {
                out(s, v.as_bytes())?;
            }
        }
        Some(q) if q.starts_with("dump-env") => {
            out(s, env_dump("Status: 200 OK\r\nContent-Type: text/plain", params).as_bytes())?
        }
        Some(q) if q.starts_with("xsendfile=") => {
            let path = &q["xsendfile=".len()..];
            out(
                s,
                format!("Status: 200 OK\r\nX-Sendfile: {path}\r\n\r\nthis body is replaced")
                    .as_bytes(),
            )?;
        }
        Some(q) if q.starts_with("xsendfile2=") => {
            let value = q["xsendfile2=".len()..].replace('+', " ");
            out(
                s,
                format!("Status: 200 OK\r\nX-Sendfile2: {value}\r\nContent-Length: 99\r\n\r\nreplaced")
                    .as_bytes(),
            )?;
        }
        Some(q) if q.starts_with("xlsendfile=") => {
            let path = &q["xlsendfile=".len()..];
            out(
                s,
                format!("Status: 200 OK\r\nX-LIGHTTPD-send-file: {path}\r\n\r\nreplaced").as_bytes(),
            )?;
        }
        // hdrs=<header lines, percent-encoded, separated by |>: those
        // headers, then a 20-byte body (hdrs0=: no body). With an empty
        // line (||) in it, the text is the whole reply, | as CRLF.
        // ahdrs=<as hdrs0=>: the authorizer answers with those lines; the
        // responder behind it dumps its environment (Variable-* arrive there).
        Some(q) if q.starts_with("ahdrs=") && p.role != ROLE_AUTHORIZER => {
            out(s, env_dump("Status: 200 OK\r\nContent-Type: text/plain", params).as_bytes())?
        }
        Some(q) if q.starts_with("hdrs=") || q.starts_with("hdrs0=") || q.starts_with("ahdrs=") => {
            let (lines, body): (&str, &[u8]) = match q.strip_prefix("hdrs=") {
                Some(v) => (v, b"0123456789abcdefghij"),
                None => (&q[q.find('=').unwrap_or(0) + 1..], b""),
            };
            let text = percent_decode(lines);
            let mut reply = pipes_to_crlf(&text);
            if !text.windows(2).any(|w| w == b"||") {
                if !reply.is_empty() {
                    reply.extend_from_slice(b"\r\n");
                }
                reply.extend_from_slice(b"\r\n");
                reply.extend_from_slice(body);
            }
            out(s, &reply)?;
        }
        // raw=<percent-encoded text, | as CRLF>: exactly that, then
        // END_REQUEST.
        Some(q) if q.starts_with("raw=") => out(s, &pipes_to_crlf(&percent_decode(&q[4..])))?,
        Some(q) if q.starts_with("proc-stderr=") => {
            eprintln!("{}", &q["proc-stderr=".len()..]);
            out(s, OK)?;
        }
        Some(q) if q.starts_with("stderr=") => {
            write_record(s, STDERR, id, &percent_decode(&q["stderr=".len()..]))?;
            out(s, b"Status: 200 OK\r\n\r\ntest123")?;
        }
        Some("echo-stdin") => {
            out(s, OK)?;
            out(s, &p.stdin)?;
        }
        Some(q) if q.starts_with("big=") => {
            out(s, OK)?;
            let n: usize = q[4..].parse().unwrap_or(0);
            let body: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            out(s, &body)?;
        }
        Some("id") => {
            out(s, OK)?;
            out(s, &responder_id())?;
        }
        Some(q) if q.starts_with("sleep=") => {
            pause(s, q[6..].parse().unwrap_or(0))?;
            out(s, OK)?;
            out(s, &responder_id())?;
        }
        Some(q) if q.starts_with("peek-next=") => {
            pause(s, q[10..].parse().unwrap_or(0))?;
            let waiting = match s.next_waiting() {
                Some(w) => u8::from(w).to_string(),
                None => "unknown".to_string(),
            };
            out(s, OK)?;
            out(s, format!("next-waiting={waiting}").as_bytes())?;
        }
        Some("slow-body") => {
            out(s, OK)?;
            for i in 0..5 {
                pause(s, 100)?;
                out(s, format!("chunk{i}\n").as_bytes())?;
            }
        }
        Some("split-headers") => {
            for piece in [
                &b"Stat"[..],
                b"us: 200 OK\r\nX-Split: ",
                b"yes\r",
                b"\n",
                b"\r\n",
                b"test123",
            ] {
                out(s, piece)?;
                pause(s, 10)?;
            }
        }
        Some("early-hints") => out(
            s,
            b"Status: 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nStatus: 200 OK\r\nContent-Type: text/plain\r\n\r\ntest123",
        )?,
        Some("count-stdin") => {
            out(s, OK)?;
            out(s, format!("stdin={}", p.stdin.len()).as_bytes())?;
        }
        Some("conn-count") => {
            out(s, OK)?;
            out(s, format!("conn-request={}", p.on_conn).as_bytes())?;
        }
        Some("keepconn") => {
            out(s, OK)?;
            out(s, format!("keep-conn={}", u8::from(p.keep_conn)).as_bytes())?;
        }
        Some(_) => out(s, b"Status: 200 OK\r\n\r\ntest123")?,
    }
    write_one(s, STDOUT, id, b"")?;
    end_request(s, id, REQUEST_COMPLETE)?;
    Ok(outcome)
}
