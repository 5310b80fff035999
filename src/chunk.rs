//! The output queue of a connection: memory chunks and file ranges, written
//! with writev for memory and sendfile(2) for files, so a static file never
//! passes through our memory (lighttpd's chunkqueue and network backends).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{IoSlice, Write};
use std::os::fd::AsRawFd;
use std::rc::Rc;

/// Bytes of a memory chunk: our own, or shared with a cache (a small
/// file's contents go out without a copy).
#[derive(Debug)]
pub enum Bytes {
    Owned(Vec<u8>),
    Shared(Rc<[u8]>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Shared(r) => r,
        }
    }
}

#[derive(Debug)]
pub enum Chunk {
    Mem { data: Bytes, off: usize },
    File { file: Rc<File>, off: u64, len: u64 },
}

/// What a write attempt did.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteStatus {
    /// Everything queued has been written.
    Done,
    /// The socket is full; wait for writability.
    WouldBlock,
    /// The write budget of this round is spent; more is queued and the
    /// socket may still take it (the connection yields to others).
    Budget,
    /// The peer is gone (EPIPE, ECONNRESET): nothing to log.
    Error,
    /// The write failed on our side (the file shrank under us, or an
    /// error other than the peer's going); the reason is logged, as
    /// 1.4.69 logs it, and the connection is to be closed.
    Failed,
    /// kbytes-per-second: the second's allowance is spent; the tick lets
    /// the connection write again.
    Throttled,
}

#[derive(Debug, Default)]
pub struct ChunkQueue {
    chunks: VecDeque<Chunk>,
    /// Bytes ever written from this queue (progress for write-idle timeouts).
    pub written: u64,
}

/// Buffers of at most this capacity go back to the pool.
const POOL_BUF_MAX: usize = 64 * 1024;
/// The pool keeps at most this many buffers.
const POOL_MAX: usize = 64;

thread_local! {
    static POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty buffer, one given back earlier when there is one (lighttpd's
/// chunk_buffer_acquire): a response head, a backend request's records
/// or a buffered backend reply reuses the memory of an earlier one.
pub fn buffer_acquire() -> Vec<u8> {
    POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default()
}

/// Gives a buffer back to the pool (lighttpd's chunk_buffer_release).
pub fn buffer_release(mut b: Vec<u8>) {
    if b.capacity() == 0 || b.capacity() > POOL_BUF_MAX {
        return;
    }
    b.clear();
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_MAX {
            p.push(b);
        }
    });
}

/// A pooled buffer: taken from the pool, given back when dropped.
#[derive(Debug, Default)]
pub struct Buffer(Vec<u8>);

impl Buffer {
    pub fn new() -> Buffer {
        Buffer(buffer_acquire())
    }

    /// The bytes as a plain vector (the buffer is left empty).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

impl std::ops::Deref for Buffer {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for Buffer {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        buffer_release(std::mem::take(&mut self.0));
    }
}

/// At most this many memory chunks go into one writev.
const MAX_IOV: usize = 16;
/// One sendfile call sends at most this much (keeps the loop fair).
const SENDFILE_MAX: usize = 256 << 10;

impl ChunkQueue {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Bytes waiting to be written.
    pub fn queued_len(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| match c {
                Chunk::Mem { data, off } => data.len() - off,
                Chunk::File { len, .. } => *len as usize,
            })
            .sum()
    }

    /// An empty buffer to write a response head into (from the pool).
    pub fn take_buf(&mut self) -> Vec<u8> {
        let mut b = buffer_acquire();
        b.reserve(512);
        b
    }

    /// Drops the front chunk; its buffer goes back to the pool.
    fn pop_front(&mut self) {
        if let Some(Chunk::Mem {
            data: Bytes::Owned(v),
            ..
        }) = self.chunks.pop_front()
        {
            buffer_release(v);
        }
    }

    pub fn push_mem(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        // Small appends go into the last memory chunk (fewer iovecs).
        if let Some(Chunk::Mem {
            data: Bytes::Owned(last),
            ..
        }) = self.chunks.back_mut()
            && last.len() + data.len() <= 16 * 1024
        {
            last.extend_from_slice(&data);
            buffer_release(data);
            return;
        }
        self.chunks.push_back(Chunk::Mem {
            data: Bytes::Owned(data),
            off: 0,
        });
    }

    /// Queues shared bytes (a cached small file) without copying them;
    /// writev still sends them with the headers in one call.
    pub fn push_shared(&mut self, data: Rc<[u8]>) {
        if !data.is_empty() {
            self.chunks.push_back(Chunk::Mem {
                data: Bytes::Shared(data),
                off: 0,
            });
        }
    }

    pub fn push_file(&mut self, file: Rc<File>, off: u64, len: u64) {
        if len > 0 {
            self.chunks.push_back(Chunk::File { file, off, len });
        }
    }

    pub fn clear(&mut self) {
        while !self.chunks.is_empty() {
            self.pop_front();
        }
    }

    /// Writes as much as the socket takes, up to `budget` bytes.
    pub fn write_to<S: Write + AsRawFd>(&mut self, sock: &mut S, budget: u64) -> WriteStatus {
        let start = self.written;
        loop {
            if self.written - start >= budget && !self.chunks.is_empty() {
                return WriteStatus::Budget;
            }
            match self.chunks.front_mut() {
                None => return WriteStatus::Done,
                Some(Chunk::File { file, off, len }) => {
                    let left = budget.saturating_sub(self.written - start);
                    let n = (*len).min(SENDFILE_MAX as u64).min(left) as usize;
                    let fd = sock.as_raw_fd();
                    match crate::sys::sendfile(fd, file.as_raw_fd(), *off, n) {
                        Ok(0) => {
                            crate::log_error!("sendfile(): fd: {fd} file truncated");
                            return WriteStatus::Failed;
                        }
                        Ok(w) => {
                            *off += w as u64;
                            *len -= w as u64;
                            self.written += w as u64;
                            if *len == 0 {
                                self.pop_front();
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            return WriteStatus::WouldBlock;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return write_error(&e, "sendfile(): fd:", fd),
                    }
                }
                Some(Chunk::Mem { .. }) => {
                    // At most the rest of the budget (kbytes-per-second
                    // makes it small).
                    let mut left = budget.saturating_sub(self.written - start) as usize;
                    // On the stack: no allocation per write.
                    let mut iov = [IoSlice::new(&[]); MAX_IOV];
                    let mut n_iov = 0;
                    let mut whole = true;
                    for c in self.chunks.iter().take(MAX_IOV) {
                        match c {
                            Chunk::Mem { data, off } if left > 0 => {
                                let part = &data[*off..];
                                whole = part.len() <= left;
                                let part = &part[..part.len().min(left)];
                                left -= part.len();
                                iov[n_iov] = IoSlice::new(part);
                                n_iov += 1;
                            }
                            _ => break,
                        }
                    }
                    // Headers (or a multipart boundary) right before a
                    // file: sent with MSG_MORE so they leave with its start.
                    // Only when this turn goes on to the file: held back
                    // with nothing sent after it, a segment would wait
                    // (a throttled turn that ends after the headers).
                    let file_next = whole
                        && left > 0
                        && matches!(self.chunks.get(n_iov), Some(Chunk::File { .. }));
                    let sent = if file_next {
                        match crate::sys::send_more(sock.as_raw_fd(), &iov[..n_iov]) {
                            // -1 on a stdin that is not a socket.
                            Err(e) if e.raw_os_error() == Some(libc::ENOTSOCK) => {
                                sock.write_vectored(&iov[..n_iov])
                            }
                            r => r,
                        }
                    } else {
                        sock.write_vectored(&iov[..n_iov])
                    };
                    match sent {
                        Ok(0) => return WriteStatus::Error,
                        Ok(mut w) => {
                            self.written += w as u64;
                            while w > 0 {
                                let Some(Chunk::Mem { data, off }) = self.chunks.front_mut() else {
                                    break;
                                };
                                let left = data.len() - *off;
                                if w >= left {
                                    w -= left;
                                    self.pop_front();
                                } else {
                                    *off += w;
                                    w = 0;
                                }
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            return WriteStatus::WouldBlock;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return write_error(&e, "write failed:", sock.as_raw_fd()),
                    }
                }
            }
        }
    }
}

/// A failed write to the client: the peer's going (EPIPE, ECONNRESET,
/// ENOTCONN) is not logged; anything else is, as `<what> <fd>: <strerror>`.
fn write_error(e: &std::io::Error, what: &str, fd: i32) -> WriteStatus {
    match e.raw_os_error() {
        Some(libc::EPIPE | libc::ECONNRESET | libc::ENOTCONN) => WriteStatus::Error,
        _ => {
            crate::log_error!("{what} {fd}: {}", crate::sys::strerror(e));
            WriteStatus::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_pool_gives_back_what_it_was_given() {
        // Empty this thread's pool first (other tests may have used it).
        while buffer_acquire().capacity() > 0 {}
        let mut b = buffer_acquire();
        assert_eq!(b.capacity(), 0);
        b.extend_from_slice(&[7; 1000]);
        let cap = b.capacity();
        buffer_release(b);
        let again = buffer_acquire();
        assert!(again.is_empty() && again.capacity() == cap);
        // Too big to keep.
        buffer_release(vec![0; POOL_BUF_MAX + 1]);
        assert_eq!(buffer_acquire().capacity(), 0);
        // A Buffer goes back when dropped.
        let mut pooled = Buffer::new();
        pooled.extend_from_slice(b"head");
        drop(pooled);
        assert!(buffer_acquire().capacity() >= 4);
        drop(again);
    }

    #[test]
    fn writes_mem_and_file_in_order() {
        let (mut a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        let path = std::env::temp_dir().join(format!("lrs-chunk-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let f = Rc::new(File::open(&path).unwrap());
        let mut q = ChunkQueue::default();
        q.push_mem(b"head:".to_vec());
        q.push_file(f, 2, 5);
        q.push_mem(b":tail".to_vec());
        q.push_shared(Rc::from(&b"+shared"[..]));
        assert_eq!(q.queued_len(), 22);
        assert_eq!(q.write_to(&mut a, 4), WriteStatus::Budget);
        assert_eq!(q.write_to(&mut a, u64::MAX), WriteStatus::Done);
        drop(a);
        let mut got = String::new();
        b.read_to_string(&mut got).unwrap();
        assert_eq!(got, "head:23456:tail+shared");
        assert_eq!(q.written, 22);
        std::fs::remove_file(path).unwrap();
    }

    /// A turn whose budget ends right after the headers sends them at
    /// once: nothing follows in that turn to push a held-back segment.
    #[test]
    fn headers_that_end_a_turn_are_not_held_back() {
        let path = std::env::temp_dir().join(format!("lrs-chunk-held-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let mut q = ChunkQueue::default();
        q.push_mem(b"0123456789".to_vec());
        q.push_file(Rc::new(File::open(&path).unwrap()), 0, 10);
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut a = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut b, _) = l.accept().unwrap();
        assert_eq!(q.write_to(&mut a, 10), WriteStatus::Budget);
        // On loopback sent bytes are in the peer's queue when the send
        // returns; a segment held back with MSG_MORE comes ~200 ms later.
        b.set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .unwrap();
        let mut got = [0u8; 10];
        b.read_exact(&mut got)
            .expect("the headers arrive without the file");
        assert_eq!(&got, b"0123456789");
        std::fs::remove_file(path).unwrap();
    }

    /// Headers before a file go out with MSG_MORE on TCP; on a pipe (-1
    /// with a stdin that is not a socket) sendmsg fails and writev sends.
    #[test]
    fn headers_then_file_over_tcp_and_a_pipe() {
        let path = std::env::temp_dir().join(format!("lrs-chunk-more-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let queue = || {
            let mut q = ChunkQueue::default();
            q.push_mem(b"HTTP/1.1 200 OK\r\n\r\n".to_vec());
            q.push_file(Rc::new(File::open(&path).unwrap()), 0, 10);
            q
        };
        let want = "HTTP/1.1 200 OK\r\n\r\n0123456789";

        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut a = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut b, _) = l.accept().unwrap();
        assert_eq!(queue().write_to(&mut a, u64::MAX), WriteStatus::Done);
        drop(a);
        let mut got = String::new();
        b.read_to_string(&mut got).unwrap();
        assert_eq!(got, want);

        let (mut r, mut w) = std::io::pipe().unwrap();
        assert_eq!(queue().write_to(&mut w, u64::MAX), WriteStatus::Done);
        drop(w);
        let mut got = String::new();
        r.read_to_string(&mut got).unwrap();
        assert_eq!(got, want);
        std::fs::remove_file(path).unwrap();
    }
}
