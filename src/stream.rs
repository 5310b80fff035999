//! Client sockets and listeners of either family: TCP (IPv4/IPv6) or a
//! unix-domain socket (`server.bind = "/path"`), behind one type so the
//! connection code does not care which.

use mio::event::Source;
use mio::{Interest, Registry, Token};
use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, RawFd};

pub enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
    /// `lighttpd -1` with pipes: the request read from stdin, the response
    /// written to stdout (None once shut: the reader sees the end).
    Pipe {
        rx: mio::unix::pipe::Receiver,
        tx: Option<mio::unix::pipe::Sender>,
        tx_registered: bool,
    },
}

fn pipe_closed() -> io::Error {
    io::Error::from_raw_os_error(libc::EPIPE)
}

impl Stream {
    pub fn shutdown_write(&mut self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Pipe { tx, .. } => {
                *tx = None;
                Ok(())
            }
        };
    }

    pub fn is_tcp(&self) -> bool {
        matches!(self, Stream::Tcp(_))
    }

    /// A pipe pair's write side, polled once writable interest is asked
    /// for (the read side is polled for reading only).
    fn register_tx(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        if let Stream::Pipe {
            tx: Some(tx),
            tx_registered,
            ..
        } = self
            && i.is_writable()
        {
            if *tx_registered {
                tx.reregister(r, t, Interest::WRITABLE)?;
            } else {
                tx.register(r, t, Interest::WRITABLE)?;
                *tx_registered = true;
            }
        }
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Pipe { rx, .. } => rx.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Pipe { tx, .. } => tx.as_mut().ok_or_else(pipe_closed)?.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
            Stream::Pipe { tx, .. } => tx.as_mut().ok_or_else(pipe_closed)?.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The fd responses are written to (for a pipe pair, stdout's; -1 once
/// it is shut).
impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Pipe { tx, .. } => tx.as_ref().map_or(-1, |t| t.as_raw_fd()),
        }
    }
}

impl Source for Stream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(r, t, i),
            Stream::Unix(s) => s.register(r, t, i),
            Stream::Pipe { rx, .. } => {
                rx.register(r, t, Interest::READABLE)?;
                self.register_tx(r, t, i)
            }
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Unix(s) => s.reregister(r, t, i),
            Stream::Pipe { rx, .. } => {
                rx.reregister(r, t, Interest::READABLE)?;
                self.register_tx(r, t, i)
            }
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Unix(s) => s.deregister(r),
            Stream::Pipe {
                rx,
                tx,
                tx_registered,
            } => {
                if let (Some(tx), true) = (tx, *tx_registered) {
                    tx.deregister(r)?;
                }
                rx.deregister(r)
            }
        }
    }
}

/// A listening socket as bound or inherited (std types, before mio).
#[derive(Debug)]
pub enum StdListener {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

impl std::os::fd::AsRawFd for StdListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            StdListener::Tcp(l) => l.as_raw_fd(),
            StdListener::Unix(l) => l.as_raw_fd(),
        }
    }
}

impl StdListener {
    pub fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            StdListener::Tcp(l) => l.set_nonblocking(true),
            StdListener::Unix(l) => l.set_nonblocking(true),
        }
    }
}

pub enum Listener {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

impl Listener {
    pub fn from_std(l: StdListener) -> Self {
        match l {
            StdListener::Tcp(l) => {
                // Accepted sockets inherit it (Linux).
                crate::sys::set_tcp_nodelay(std::os::fd::AsRawFd::as_raw_fd(&l));
                Listener::Tcp(mio::net::TcpListener::from_std(l))
            }
            StdListener::Unix(l) => Listener::Unix(mio::net::UnixListener::from_std(l)),
        }
    }

    /// A new client and its address; a unix-socket peer has no IP and is
    /// seen as 0.0.0.0 by `$HTTP["remoteip"]`.
    pub fn accept(&self) -> io::Result<(Stream, IpAddr, u16)> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, a)| (Stream::Tcp(s), a.ip(), a.port())),
            Listener::Unix(l) => l
                .accept()
                .map(|(s, _)| (Stream::Unix(s), IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)),
        }
    }
}

impl Source for Listener {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(r, t, i),
            Listener::Unix(l) => l.register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.reregister(r, t, i),
            Listener::Unix(l) => l.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.deregister(r),
            Listener::Unix(l) => l.deregister(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_tcp_sockets_have_nodelay_from_the_listener() {
        let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std.local_addr().unwrap();
        let l = Listener::from_std(StdListener::Tcp(std));
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let mut accepted = None;
        for _ in 0..100 {
            match l.accept() {
                Ok((s, _, _)) => {
                    accepted = Some(s);
                    break;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        let Some(Stream::Tcp(s)) = accepted else {
            panic!("nothing accepted")
        };
        assert!(
            s.nodelay().unwrap(),
            "TCP_NODELAY inherited from the listener"
        );
    }
}
