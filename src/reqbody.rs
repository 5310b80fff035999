//! A request body read in full before its backend starts
//! (server.stream-request-body = 0, lighttpd's default): de-chunked, kept
//! in memory while small and in an unlinked temp file under
//! server.upload-dirs beyond that, so a large upload never sits in memory.
//! The backend then gets an exact CONTENT_LENGTH and the body from here.

use crate::http::chunked::ChunkedDecoder;
use crate::http::request::HttpError;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;

/// Bodies up to this size stay in memory.
const MEM_LIMIT: usize = 64 * 1024;

/// The body's bytes: memory, then a temp file.
pub struct BodyBuf {
    mem: Vec<u8>,
    file: Option<File>,
    len: u64,
    /// Bytes handed out by [`BodyBuf::read_chunk`].
    sent: u64,
    dirs: std::rc::Rc<Vec<String>>,
}

/// A temp file in the first usable upload dir, unlinked at once.
fn temp_file(dirs: &[String]) -> std::io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let mut last = std::io::Error::other("no server.upload-dirs");
    for d in dirs {
        for _ in 0..8 {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let path = format!(
                "{}/lighttpd-upload-{}-{n}",
                d.trim_end_matches('/'),
                std::process::id()
            );
            // (0600 as mkstemp makes 1.4.69's, whatever the umask)
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(crate::http::lossless::to_path(&path))
            {
                Ok(f) => {
                    let _ = std::fs::remove_file(crate::http::lossless::to_path(&path));
                    return Ok(f);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    last = e;
                    break;
                }
            }
        }
    }
    Err(last)
}

impl BodyBuf {
    pub fn new(dirs: std::rc::Rc<Vec<String>>) -> BodyBuf {
        BodyBuf {
            mem: Vec::new(),
            file: None,
            len: 0,
            sent: 0,
            dirs,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends body bytes; past the memory limit they go to a temp file.
    pub fn push(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() && self.mem.len() + data.len() > MEM_LIMIT {
            let mut f = temp_file(&self.dirs)?;
            f.write_all(&self.mem)?;
            self.mem = Vec::new();
            self.file = Some(f);
        }
        match &mut self.file {
            Some(f) => f.write_all(data)?,
            None => self.mem.extend_from_slice(data),
        }
        self.len += data.len() as u64;
        Ok(())
    }

    /// Hands the body out again from its start (a retried request).
    pub fn rewind(&mut self) {
        self.sent = 0;
    }

    /// Bytes not handed out yet.
    pub fn remaining(&self) -> u64 {
        self.len - self.sent
    }

    /// The next at most `max` bytes to forward.
    pub fn read_chunk(&mut self, max: usize) -> std::io::Result<Vec<u8>> {
        let n = (self.remaining().min(max as u64)) as usize;
        let out = match &mut self.file {
            None => self.mem[self.sent as usize..self.sent as usize + n].to_vec(),
            Some(f) => {
                let mut v = vec![0u8; n];
                f.seek(SeekFrom::Start(self.sent))?;
                f.read_exact(&mut v)?;
                v
            }
        };
        self.sent += n as u64;
        Ok(out)
    }
}

/// Reads one body off the connection's input: Content-Length bytes or a
/// chunked body (decoded, size-limited, trailers dropped).
pub struct Collect {
    chunked: Option<ChunkedDecoder>,
    /// Content-Length bytes still to come.
    left: u64,
    pub buf: BodyBuf,
    scratch: Vec<u8>,
}

impl Collect {
    pub fn new(
        content_length: Option<u64>,
        chunked: bool,
        max_trailer: usize,
        max_body: u64,
        dirs: std::rc::Rc<Vec<String>>,
    ) -> Collect {
        Collect {
            chunked: chunked.then(|| ChunkedDecoder::new(max_trailer, max_body)),
            left: if chunked {
                0
            } else {
                content_length.unwrap_or(0)
            },
            buf: BodyBuf::new(dirs),
            scratch: Vec::new(),
        }
    }

    /// Feeds input; returns how much was consumed and whether the body is
    /// complete. A temp-file error is a 500; decoding errors are the
    /// decoder's (400, 413).
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, bool), HttpError> {
        let io_err = |e: std::io::Error| {
            crate::log_error!(
                "writing the request body to a temp file failed: {}",
                crate::sys::strerror(&e)
            );
            HttpError::always_logged(500, "request body temp file")
        };
        match &mut self.chunked {
            Some(d) => {
                self.scratch.clear();
                let (used, done) = d.decode(input, &mut self.scratch)?;
                self.buf.push(&self.scratch).map_err(io_err)?;
                Ok((used, done))
            }
            None => {
                let n = (input.len() as u64).min(self.left) as usize;
                self.buf.push(&input[..n]).map_err(io_err)?;
                self.left -= n as u64;
                Ok((n, self.left == 0))
            }
        }
    }

    /// Trailers were too large: keep-alive must end.
    pub fn trailers_overflowed(&self) -> bool {
        self.chunked
            .as_ref()
            .is_some_and(|d| d.trailers_overflowed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> std::rc::Rc<Vec<String>> {
        std::rc::Rc::new(vec![std::env::temp_dir().to_string_lossy().into_owned()])
    }

    #[test]
    fn content_length_body_stops_at_its_length() {
        let mut c = Collect::new(Some(5), false, 8192, 0, dirs());
        assert_eq!(c.feed(b"hel").unwrap(), (3, false));
        assert_eq!(c.feed(b"loGET /").unwrap(), (2, true));
        assert_eq!(c.buf.read_chunk(100).unwrap(), b"hello");
        assert_eq!(c.buf.remaining(), 0);
    }

    #[test]
    fn chunked_body_is_decoded() {
        let mut c = Collect::new(None, true, 8192, 0, dirs());
        let (n, done) = c.feed(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT").unwrap();
        assert!(done);
        assert_eq!(n, 20);
        assert_eq!(c.buf.len(), 5);
        assert_eq!(c.buf.read_chunk(2).unwrap(), b"ab");
        assert_eq!(c.buf.read_chunk(10).unwrap(), b"cde");
        assert!(c.feed(b"").is_ok());
        let mut bad = Collect::new(None, true, 8192, 0, dirs());
        assert_eq!(bad.feed(b"zz\r\n").unwrap_err().status, 400);
    }

    #[test]
    fn large_bodies_spill_to_an_unlinked_temp_file() {
        let mut b = BodyBuf::new(dirs());
        let block: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        for _ in 0..4 {
            b.push(&block).unwrap();
        }
        assert!(b.file.is_some(), "200 kB must not stay in memory");
        assert!(b.mem.is_empty());
        assert_eq!(b.len(), 200_000);
        let mut back = Vec::new();
        while b.remaining() > 0 {
            back.extend(b.read_chunk(65536).unwrap());
        }
        assert_eq!(back.len(), 200_000);
        assert_eq!(&back[..50_000], &block[..]);
        assert_eq!(&back[150_000..], &block[..]);
    }
}
