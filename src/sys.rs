//! The only home of `unsafe` in the crate: thin, checked wrappers over libc
//! calls that std does not offer (glob(3) with GLOB_BRACE as lighttpd's
//! `include` uses it, localtime for log timestamps). Each block says why it is
//! sound.

use std::ffi::{CStr, CString};

/// What glob(3) answered for a pattern.
#[derive(Debug, PartialEq, Eq)]
pub enum GlobResult {
    /// Matches, sorted as glob(3) sorts them.
    Paths(Vec<String>),
    NoMatch,
    /// GLOB_ABORTED / GLOB_NOSPACE, with the OS error text.
    Failed(String),
}

/// Expands `pattern` with glob(3) and GLOB_BRACE, exactly as lighttpd's
/// `include` does (so `{a,b}` and sorting follow the C library).
pub fn glob_brace(pattern: &str) -> GlobResult {
    let Ok(cpat) = CString::new(pattern) else {
        return GlobResult::NoMatch;
    };
    // GLOB_BRACE is a GNU extension: 1 << 10 in glibc's <glob.h>.
    const GLOB_BRACE: libc::c_int = 1 << 10;
    #[allow(unsafe_code)]
    // SAFETY: `gl` is zero-initialised as glob(3) expects, `cpat` is a valid
    // NUL-terminated string that outlives the call, and globfree() is called
    // exactly once on every path that filled `gl`.
    unsafe {
        let mut gl: libc::glob_t = std::mem::zeroed();
        let rc = libc::glob(cpat.as_ptr(), GLOB_BRACE, None, &mut gl);
        let result = match rc {
            0 => {
                let mut out = Vec::with_capacity(gl.gl_pathc);
                for i in 0..gl.gl_pathc {
                    let p = *gl.gl_pathv.add(i);
                    if !p.is_null() {
                        out.push(CStr::from_ptr(p).to_string_lossy().into_owned());
                    }
                }
                GlobResult::Paths(out)
            }
            libc::GLOB_NOMATCH => GlobResult::NoMatch,
            _ => GlobResult::Failed(std::io::Error::last_os_error().to_string()),
        };
        libc::globfree(&mut gl);
        result
    }
}

/// Local time as `YYYY-MM-DD HH:MM:SS`, the prefix of lighttpd's log lines.
pub fn local_timestamp(secs: i64) -> String {
    let t: libc::time_t = secs as libc::time_t;
    #[allow(unsafe_code)]
    // SAFETY: localtime_r only writes into the `tm` we own; both pointers are
    // valid for the duration of the call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return format!("@{secs}");
        }
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// The parent process id (std has only our own id).
pub fn getppid() -> u32 {
    #[allow(unsafe_code)]
    // SAFETY: getppid() cannot fail and touches no memory.
    let pid = unsafe { libc::getppid() };
    pid as u32
}

/// Whether `fd` is an open stream socket (an inherited listener).
fn is_stream_socket(fd: i32) -> bool {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    #[allow(unsafe_code)]
    // SAFETY: getsockopt writes at most `len` bytes into `ty`, which we own.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    rc == 0 && ty == libc::SOCK_STREAM
}

/// What `lighttpd -1` found on stdin.
pub enum OneshotInput {
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream),
    /// stdin a pipe: the request is read from it, the response written to
    /// stdout (dups of fds 0 and 1).
    Pipe(std::os::fd::OwnedFd, std::os::fd::OwnedFd),
    Other,
}

/// stdin for `-1`: a connected stream socket (a dup of fd 0), or what it
/// is instead.
pub fn oneshot_input() -> OneshotInput {
    use std::os::fd::FromRawFd;
    if !is_stream_socket(0) {
        let mut st: libc::stat = unsafe_zeroed_stat();
        #[allow(unsafe_code)]
        // SAFETY: fstat writes one `struct stat` into `st`, which we own.
        let rc = unsafe { libc::fstat(0, &mut st) };
        if rc == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO {
            return match (dup_above_2(0), dup_above_2(1)) {
                (Some(rx), Some(tx)) => OneshotInput::Pipe(rx, tx),
                _ => OneshotInput::Other,
            };
        }
        return OneshotInput::Other;
    }
    #[allow(unsafe_code)]
    // SAFETY: dup takes an fd and returns a new one or -1.
    let fd = unsafe { libc::dup(0) };
    if fd <= 2 {
        return OneshotInput::Other;
    }
    #[allow(unsafe_code)]
    // SAFETY: `fd` is a fresh dup of a connected stream socket, owned here.
    let t = unsafe { std::net::TcpStream::from_raw_fd(fd) };
    if t.peer_addr().is_ok() {
        return OneshotInput::Tcp(t);
    }
    OneshotInput::Unix(std::os::unix::net::UnixStream::from(
        std::os::fd::OwnedFd::from(t),
    ))
}

/// A close-on-exec duplicate of `fd` numbered above 2.
fn dup_above_2(fd: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    #[allow(unsafe_code)]
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) takes an fd and returns a new one or -1.
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    #[allow(unsafe_code)]
    // SAFETY: `d` is the fresh duplicate made above, owned by nothing else.
    (d >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(d) })
}

fn unsafe_zeroed_stat() -> libc::stat {
    #[allow(unsafe_code)]
    // SAFETY: `struct stat` is plain data; all-zero is a valid value.
    unsafe {
        std::mem::zeroed()
    }
}

/// Points the given standard descriptors (0, 1, 2) at /dev/null, as
/// 1.4.69 does with stdin and stdout once it has what it needs from them
/// (and with stderr in a daemon once the error log is open): a server
/// started as `out=$(lighttpd -f conf)` or over ssh must not hold the
/// caller's pipe or terminal.
pub fn to_dev_null(fds: &[i32]) {
    use std::os::fd::AsRawFd;
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    for &fd in fds {
        #[allow(unsafe_code)]
        // SAFETY: dup2 onto a standard descriptor, which stays open (now
        // /dev/null); `null` is open for the call's duration.
        unsafe {
            libc::dup2(null.as_raw_fd(), fd);
        }
    }
    if fds.contains(&null.as_raw_fd()) {
        // (it was closed, and this open took its place: it stays)
        std::mem::forget(null);
    }
}

/// server.bind = "/dev/stdin": the listening socket the server was started
/// with on fd 0 (inetd's "wait" style), moved to a close-on-exec fd above
/// 2; stdin and stdout become /dev/null, as 1.4.69 does.
pub fn take_stdin() -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::AsRawFd;
    let owned = dup_above_2(0).ok_or_else(std::io::Error::last_os_error)?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    #[allow(unsafe_code)]
    // SAFETY: dup2 onto fds 0 and 1, which stay open (now /dev/null).
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        libc::dup2(null.as_raw_fd(), 1);
    }
    Ok(owned)
}

/// The local address of a socket: an inet address, or a unix socket's path
/// ("" when it has none).
pub enum SockName {
    Inet(std::net::SocketAddr),
    Unix(String),
}

/// getsockname(2) of `fd`, read through std's socket types without taking
/// the fd over.
pub fn sock_name(fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<SockName> {
    use std::mem::ManuallyDrop;
    use std::os::fd::{AsRawFd, FromRawFd};
    #[allow(unsafe_code)]
    // SAFETY: the fd is borrowed for this call; ManuallyDrop keeps the
    // listener from closing it.
    let tcp = ManuallyDrop::new(unsafe { std::net::TcpListener::from_raw_fd(fd.as_raw_fd()) });
    match tcp.local_addr() {
        Ok(a) => return Ok(SockName::Inet(a)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTSOCK | libc::EBADF)) => return Err(e),
        Err(_) => {}
    }
    #[allow(unsafe_code)]
    // SAFETY: as above.
    let unix =
        ManuallyDrop::new(unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd.as_raw_fd()) });
    let a = unix.local_addr()?;
    Ok(SockName::Unix(
        a.as_pathname()
            .map(|p| crate::http::lossless::from_os(p.as_os_str()).into_owned())
            .unwrap_or_default(),
    ))
}

/// Adopts an inherited listening socket (systemd socket activation):
/// a TCP listener if the fd is one, else None.
pub fn tcp_listener_from_fd(fd: i32) -> Option<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    if !is_stream_socket(fd) {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: the fd was handed to us by the service manager (LISTEN_FDS),
    // is an open stream socket (checked above), and nothing else owns it.
    let l = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    if l.local_addr().is_err() {
        // Not an inet socket (e.g. AF_UNIX): give the fd back untouched.
        use std::os::fd::IntoRawFd;
        let _ = l.into_raw_fd();
        return None;
    }
    Some(l)
}

/// Adopts an inherited AF_UNIX listening socket (socket activation).
pub fn unix_listener_from_fd(fd: i32) -> Option<std::os::unix::net::UnixListener> {
    use std::os::fd::FromRawFd;
    if !is_stream_socket(fd) {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: an open stream socket handed to us by the service manager
    // (LISTEN_FDS) that nothing else owns; tcp_listener_from_fd gave it back.
    let l = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    if l.local_addr().is_err() {
        use std::os::fd::IntoRawFd;
        let _ = l.into_raw_fd();
        return None;
    }
    Some(l)
}

/// Sends up to `count` bytes of `file` from `offset` to `sock` with
/// sendfile(2); returns the bytes sent (0 at end of file).
pub fn sendfile(sock: i32, file: i32, offset: u64, count: usize) -> std::io::Result<usize> {
    let mut off: libc::off_t = offset as libc::off_t;
    #[allow(unsafe_code)]
    // SAFETY: both fds are open for the duration of the call (the caller
    // holds the owning objects); `off` is a local the kernel updates.
    let n = unsafe { libc::sendfile(sock, file, &mut off, count) };
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// A listening TCP socket for `addr` with SO_REUSEADDR; IPV6_V6ONLY set
/// to `v6only` when given (server.set-v6only / server.v4mapped; on by
/// default as in lighttpd, so `[::]:80` and `0.0.0.0:80` can both be
/// bound; std's bind gives no way to set it before bind).
pub fn bind_tcp_listener(
    addr: std::net::SocketAddr,
    v6only: Option<bool>,
    backlog: i32,
) -> std::io::Result<std::net::TcpListener> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let domain = if addr.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    #[allow(unsafe_code)]
    // SAFETY: socket takes integers and returns a new fd or -1.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(unsafe_code)]
    // SAFETY: `fd` is a new socket that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let set = |level: libc::c_int, name: libc::c_int, on: bool| {
        let v = libc::c_int::from(on);
        #[allow(unsafe_code)]
        // SAFETY: setsockopt reads size_of::<c_int>() bytes from `v`.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        }
    };
    set(libc::SOL_SOCKET, libc::SO_REUSEADDR, true);
    if let Some(on) = v6only.filter(|_| addr.is_ipv6())
        && set(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, on) != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    let rc = match addr {
        std::net::SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            #[allow(unsafe_code)]
            // SAFETY: `sin` is a valid sockaddr_in and its size is passed.
            unsafe {
                libc::bind(
                    fd,
                    (&sin as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
        }
        std::net::SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            #[allow(unsafe_code)]
            // SAFETY: `sin6` is a valid sockaddr_in6 and its size is passed.
            unsafe {
                libc::bind(
                    fd,
                    (&sin6 as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(unsafe_code)]
    // SAFETY: listen takes an fd and an int.
    if unsafe { libc::listen(fd, backlog) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(std::net::TcpListener::from(owned))
}

/// O_NONBLOCK on an fd we own (the error-log pipe's write end).
pub fn set_nonblocking(fd: i32) {
    #[allow(unsafe_code)]
    // SAFETY: fcntl on an open fd with integer arguments only.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
}

/// Makes `file` our stderr (fd 2), as server.breakagelog does.
pub fn dup_onto_stderr(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    #[allow(unsafe_code)]
    // SAFETY: dup2 takes two fds; `file` is open for the call's duration and
    // fd 2 is replaced atomically.
    let rc = unsafe { libc::dup2(file.as_raw_fd(), 2) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sets a listening socket's backlog (listen(2) again on a socket that
/// already listens only changes the backlog).
pub fn set_backlog(sock: i32, backlog: i32) {
    #[allow(unsafe_code)]
    // SAFETY: listen takes an fd and an int; no memory is passed.
    unsafe {
        libc::listen(sock, backlog);
    }
}

/// Sends `iov` with MSG_MORE: its last, short segment waits for what is
/// sent next on the socket (the file after the response headers), so the
/// headers and the start of the file leave in full segments, as lighttpd
/// gets by setting and clearing TCP_CORK around them, without those two
/// setsockopt calls. A socket that is not TCP ignores the flag.
pub fn send_more(sock: i32, iov: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
    #[allow(unsafe_code)]
    // SAFETY: an all-zero msghdr is a valid empty message header; IoSlice
    // is ABI-compatible with iovec on Unix (std guarantees it), and `iov`
    // outlives the call, which only reads it.
    let r = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = iov.len() as _;
        libc::sendmsg(sock, &msg, libc::MSG_MORE | libc::MSG_NOSIGNAL)
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// TCP_DEFER_ACCEPT of 1 s (server.defer-accept), on a listening socket.
pub fn set_defer_accept(sock: i32) -> std::io::Result<()> {
    setsockopt_int(sock, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 1)
}

/// TCP_DEFER_ACCEPT as the kernel reports it (seconds; 0: off).
#[cfg(test)]
pub fn defer_accept(sock: i32) -> i32 {
    let mut v: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    #[allow(unsafe_code)]
    // SAFETY: getsockopt writes at most `len` bytes into `v`, a local.
    unsafe {
        libc::getsockopt(
            sock,
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        );
    }
    v
}

fn setsockopt_int(
    sock: i32,
    level: libc::c_int,
    opt: libc::c_int,
    v: libc::c_int,
) -> std::io::Result<()> {
    #[allow(unsafe_code)]
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `v`, a local.
    let r = unsafe {
        libc::setsockopt(
            sock,
            level,
            opt,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// An OS error as lighttpd writes it: strerror's text alone, without the
/// ` (os error N)` Rust adds.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Sets TCP_NODELAY. On a listening socket (as lighttpd does) the sockets
/// it accepts inherit it, which saves a setsockopt per connection.
pub fn set_tcp_nodelay(sock: i32) {
    set_tcp_flag(sock, libc::TCP_NODELAY, true);
}

fn set_tcp_flag(sock: i32, opt: libc::c_int, on: bool) {
    let _ = setsockopt_int(sock, libc::IPPROTO_TCP, opt, on as libc::c_int);
}

/// A listener's host as 1.4.69 resolves it: getaddrinfo for IPv4 only, or
/// IPv6 only (`v6`: server.use-ipv6, or a `[...]` address); Err is
/// gai_strerror's text ("Name or service not known", "Address family for
/// hostname not supported").
pub fn getaddrinfo(host: &str, v6: bool) -> Result<std::net::IpAddr, (i32, String)> {
    let Ok(name) = CString::new(host) else {
        return Err((libc::EAI_NONAME, "Name or service not known".to_string()));
    };
    #[allow(unsafe_code)]
    // SAFETY: an all-zero addrinfo is a valid hints value (no flags, no
    // pointers); getaddrinfo reads `name` and `hints`, which outlive the
    // call, and on success gives a list we only read and then free once.
    // gai_strerror returns a static C string.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
        hints.ai_socktype = libc::SOCK_STREAM;
        hints.ai_protocol = libc::IPPROTO_TCP;
        let mut res: *mut libc::addrinfo = std::ptr::null_mut();
        let r = libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut res);
        if r != 0 {
            return Err((
                r,
                CStr::from_ptr(libc::gai_strerror(r))
                    .to_string_lossy()
                    .into_owned(),
            ));
        }
        let ai = &*res;
        let ip = match ai.ai_family {
            libc::AF_INET => {
                let sa = &*(ai.ai_addr as *const libc::sockaddr_in);
                Some(std::net::IpAddr::from(
                    u32::from_be(sa.sin_addr.s_addr).to_be_bytes(),
                ))
            }
            libc::AF_INET6 => {
                let sa = &*(ai.ai_addr as *const libc::sockaddr_in6);
                Some(std::net::IpAddr::from(sa.sin6_addr.s6_addr))
            }
            _ => None,
        };
        libc::freeaddrinfo(res);
        ip.ok_or((
            EAI_ADDRFAMILY,
            "Address family for hostname not supported".to_string(),
        ))
    }
}

/// glibc's EAI_ADDRFAMILY (netdb.h; the libc crate has no Linux value).
pub const EAI_ADDRFAMILY: i32 = -9;

/// The uid and primary gid of a user name (getpwnam).
pub fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let c = CString::new(name).ok()?;
    #[allow(unsafe_code)]
    // SAFETY: getpwnam returns NULL or a pointer to static storage that we
    // read at once, before any other call that could overwrite it.
    unsafe {
        let pw = libc::getpwnam(c.as_ptr());
        if pw.is_null() {
            None
        } else {
            Some(((*pw).pw_uid, (*pw).pw_gid))
        }
    }
}

/// The gid of a group name (getgrnam).
pub fn lookup_group(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    #[allow(unsafe_code)]
    // SAFETY: as for getpwnam: static storage read immediately.
    unsafe {
        let gr = libc::getgrnam(c.as_ptr());
        if gr.is_null() {
            None
        } else {
            Some((*gr).gr_gid)
        }
    }
}

/// chroot(2) into `dir` and chdir("/").
pub fn chroot(dir: &str) -> std::io::Result<()> {
    let c = CString::new(crate::http::lossless::to_bytes(dir).into_owned())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    #[allow(unsafe_code)]
    // SAFETY: both calls read NUL-terminated strings that outlive them.
    unsafe {
        if libc::chroot(c.as_ptr()) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Drops root: supplementary groups of `user` (or none), then the gid,
/// then the uid — in the order that cannot be undone half-way.
pub fn drop_privileges(
    uid: Option<u32>,
    gid: Option<u32>,
    user: Option<&str>,
) -> std::io::Result<()> {
    #[allow(unsafe_code)]
    // SAFETY: plain credential syscalls; the strings passed are
    // NUL-terminated and live across the call.
    unsafe {
        if let Some(g) = gid {
            if libc::setgid(g) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let rc = match user.and_then(|u| CString::new(u).ok()) {
                Some(cu) => libc::initgroups(cu.as_ptr(), g),
                None => libc::setgroups(0, std::ptr::null()),
            };
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        if let Some(u) = uid
            && libc::setuid(u) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// openlog("lighttpd", LOG_CONS|LOG_PID, facility) with lighttpd's facility
/// names; an unknown name falls back to daemon (false is returned).
pub fn open_syslog(facility: &str) -> bool {
    let f = match facility {
        "auth" | "security" => libc::LOG_AUTH,
        "authpriv" => libc::LOG_AUTHPRIV,
        "cron" => libc::LOG_CRON,
        "daemon" => libc::LOG_DAEMON,
        "ftp" => libc::LOG_FTP,
        "kern" => libc::LOG_KERN,
        "lpr" => libc::LOG_LPR,
        "mail" => libc::LOG_MAIL,
        "news" => libc::LOG_NEWS,
        "syslog" => libc::LOG_SYSLOG,
        "user" => libc::LOG_USER,
        "uucp" => libc::LOG_UUCP,
        "local0" => libc::LOG_LOCAL0,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        _ => -1,
    };
    #[allow(unsafe_code)]
    // SAFETY: the ident is a static NUL-terminated string, as openlog
    // requires (it keeps the pointer).
    unsafe {
        libc::openlog(
            c"lighttpd".as_ptr(),
            libc::LOG_CONS | libc::LOG_PID,
            if f < 0 { libc::LOG_DAEMON } else { f },
        );
    }
    f >= 0
}

/// One syslog(3) record at LOG_ERR.
pub fn syslog(msg: &str) {
    let Ok(c) = CString::new(msg.replace('\0', " ")) else {
        return;
    };
    #[allow(unsafe_code)]
    // SAFETY: a constant "%s" format with one NUL-terminated argument.
    unsafe {
        libc::syslog(libc::LOG_ERR, c"%s".as_ptr(), c.as_ptr());
    }
}

/// kill(2): sends `sig` to `pid` (a backend we started).
pub fn kill(pid: u32, sig: i32) {
    #[allow(unsafe_code)]
    // SAFETY: kill() has no memory effects; the pid is our own child's.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// fork(2) for server.max-worker: Ok(None) in the child, Ok(Some(pid)) in
/// the parent.
pub fn fork() -> std::io::Result<Option<u32>> {
    #[allow(unsafe_code)]
    // SAFETY: the server is single-threaded (no thread is ever started),
    // so the child's copy of our state is consistent.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(None),
        p => Ok(Some(p as u32)),
    }
}

/// waitpid(pid, WNOHANG): whether child `pid` has exited (and so was
/// reaped); an error (not our child) counts as gone.
pub fn reaped(pid: u32) -> bool {
    let mut status = 0;
    #[allow(unsafe_code)]
    // SAFETY: waitpid writes the status into our local.
    let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
    r != 0
}

/// Whether child `pid` has exited, collecting it if so (waitpid answered
/// with its pid). Unlike [`reaped`], a process that is not our child (the
/// previous generation after daemonizing again) has not exited.
pub fn exited(pid: u32) -> bool {
    let mut status = 0;
    #[allow(unsafe_code)]
    // SAFETY: waitpid writes the status into our local.
    let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
    r == pid as libc::pid_t
}

/// Our child processes (Linux /proc/self/task/<pid>/children; the server
/// is single-threaded, so the main task has them all). Right after a
/// graceful-restart-bg re-execution these are the previous generation's:
/// the process with its connections, workers still finishing, an old
/// piped logger.
pub fn children() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_to_string(format!("/proc/self/task/{me}/children"))
        .map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// server.graceful-restart-bg: runs `argv` in place of this process with
/// `listeners` handed on as systemd socket activation does it (fds 3, 4,
/// ... without FD_CLOEXEC, LISTEN_FDS and LISTEN_PID, the pid staying
/// ours) and `env` added. Returns only if execve failed, with fds 3.. then
/// taken by the listeners: the caller cannot go on serving.
pub fn exec_with_listeners(
    argv: &[String],
    listeners: &[std::os::fd::RawFd],
    env: &[(&str, String)],
) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let n = listeners.len() as libc::c_int;
    // First above the range 3..3+n, so that no dup2 below overwrites a
    // listener still to be placed; these copies close at exec.
    let mut high = Vec::new();
    for &fd in listeners {
        #[allow(unsafe_code)]
        // SAFETY: fcntl(F_DUPFD_CLOEXEC) on an open descriptor we own.
        let h = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3 + n) };
        if h < 0 {
            return std::io::Error::last_os_error();
        }
        high.push(h);
    }
    for (i, &h) in high.iter().enumerate() {
        #[allow(unsafe_code)]
        // SAFETY: dup2 onto 3+i; whatever was there is closed (nothing in
        // this process is used again once the exec succeeds). The copy
        // made by dup2 has no FD_CLOEXEC.
        if unsafe { libc::dup2(h, 3 + i as libc::c_int) } < 0 {
            return std::io::Error::last_os_error();
        }
    }
    let mut cmd = std::process::Command::new(&argv[0]);
    cmd.arg0(&argv[0]).args(&argv[1..]);
    cmd.env("LISTEN_FDS", n.to_string());
    cmd.env("LISTEN_PID", std::process::id().to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.exec()
}

/// Blocks (or unblocks) the signals the server handles, so that one sent
/// to a new worker between fork() and its own handlers stays pending
/// until the worker's loop can take it.
pub fn block_server_signals(block: bool) {
    #[allow(unsafe_code)]
    // SAFETY: sigset operations on a local set; sigprocmask only changes
    // this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGCHLD,
        ] {
            libc::sigaddset(&mut set, sig);
        }
        let how = if block {
            libc::SIG_BLOCK
        } else {
            libc::SIG_UNBLOCK
        };
        libc::sigprocmask(how, &set, std::ptr::null_mut());
    }
}

/// Removes variables from our environment (LISTEN_PID, LISTEN_FDS ...),
/// which edition 2024 marks unsafe: sound here because it runs at start-up,
/// before any other thread exists.
pub fn remove_env(names: &[&str]) {
    for n in names {
        #[allow(unsafe_code)]
        // SAFETY: single-threaded at this point (called before the event
        // loop and before any helper thread is started).
        unsafe {
            std::env::remove_var(n)
        };
    }
}

/// server.max-fds (0: not set) as 1.4.69 applies it to RLIMIT_NOFILE: the
/// soft limit (and, as root, the hard one) is set to it when root or when
/// it is within the hard limit; a failure is logged. Returns the fd count
/// the server plans with: max-fds, or the soft limit capped at 4096.
pub fn apply_max_fds(configured: u64) -> usize {
    let mut rl = libc::rlimit {
        rlim_cur: 4096,
        rlim_max: 4096,
    };
    #[allow(unsafe_code)]
    // SAFETY: getrlimit writes one rlimit into `rl`, a local.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0;
    if !got {
        crate::log_error!(
            "getrlimit(): {}",
            strerror(&std::io::Error::last_os_error())
        );
    }
    let root = getuid() == 0;
    let mut max_fds = configured;
    if got && configured > 0 && (root || configured <= rl.rlim_max) {
        let cur = rl.rlim_cur;
        rl.rlim_cur = configured;
        if root {
            rl.rlim_max = configured;
        }
        #[allow(unsafe_code)]
        // SAFETY: setrlimit reads one rlimit from `rl`, a local.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
            crate::log_error!(
                "setrlimit(): {}",
                strerror(&std::io::Error::last_os_error())
            );
            crate::log_error!(
                "setrlimit() may need root to run once: setsebool -P httpd_setrlimit on"
            );
            rl.rlim_cur = cur;
            max_fds = max_fds.min(cur);
        }
    }
    if max_fds == 0 {
        max_fds = rl.rlim_cur.min(4096);
    }
    max_fds as usize
}

/// Our uid, for log lines such as "server stopped by UID = ...".
pub fn getuid() -> u32 {
    #[allow(unsafe_code)]
    // SAFETY: getuid() cannot fail and touches no memory.
    unsafe {
        libc::getuid()
    }
}

/// Ignores SIGPIPE, as lighttpd does: a peer that went away shows up as an
/// EPIPE write error instead of killing the server.
pub fn ignore_sigpipe() {
    #[allow(unsafe_code)]
    // SAFETY: installing SIG_IGN for SIGPIPE has no memory effects.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// A program we start (a FastCGI backend, a piped logger) gets the
/// default action for the signals a daemon ignores (SIGTTOU, SIGTTIN,
/// SIGTSTP) and for SIGPIPE, as 1.4.69 resets them in its children.
pub fn default_signals_in_child(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the child between fork and exec and only
    // calls signal(2), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [libc::SIGTTOU, libc::SIGTTIN, libc::SIGTSTP, libc::SIGPIPE] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
}

/// Goes to the background as lighttpd does without -D: the terminal's
/// job-control signals ignored (SIGTTOU, SIGTTIN, SIGTSTP), fork, the
/// parent waits until the daemon says it is ready (or died) and exits 0 or
/// 255; the child starts a session, ignores SIGHUP while it forks again,
/// so that the daemon is not a session leader (it can never get a
/// controlling terminal back), and works in `/`, as 1.4.69's does.
/// Returns, in the daemon, a handle to report readiness with.
pub fn daemonize() -> std::io::Result<DaemonReady> {
    #[allow(unsafe_code)]
    // SAFETY: setting signal dispositions to SIG_IGN has no memory effects.
    unsafe {
        libc::signal(libc::SIGTTOU, libc::SIG_IGN);
        libc::signal(libc::SIGTTIN, libc::SIG_IGN);
        libc::signal(libc::SIGTSTP, libc::SIG_IGN);
    }
    let mut fds = [0 as libc::c_int; 2];
    // (close-on-exec: a backend spawned before the daemon is ready must not
    // hold the write end, or the waiting parent never sees a failed start)
    #[allow(unsafe_code)]
    // SAFETY: pipe2() fills the two-element array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(unsafe_code)]
    // SAFETY: fork() in a single-threaded process (we have not started any
    // thread yet); the child continues with a copy of this state.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(std::io::Error::last_os_error()),
        0 => {
            #[allow(unsafe_code)]
            // SAFETY: closing our copy of the read end; setsid, signal,
            // fork (still single-threaded), _exit and chdir on a constant
            // C string have no memory effects on us.
            unsafe {
                libc::close(fds[0]);
                if libc::setsid() == -1 {
                    libc::_exit(0);
                }
                libc::signal(libc::SIGHUP, libc::SIG_IGN);
                if libc::fork() != 0 {
                    libc::_exit(0);
                }
                if libc::chdir(c"/".as_ptr()) != 0 {
                    libc::_exit(0);
                }
                // (as until the server's handler is in place under -D; the
                // backends started before it get the default, as 1.4.69's)
                libc::signal(libc::SIGHUP, libc::SIG_DFL);
            }
            Ok(DaemonReady { fd: fds[1] })
        }
        _ => {
            #[allow(unsafe_code)]
            // SAFETY: the parent only reads one byte from its pipe end into
            // a local buffer, then exits.
            unsafe {
                libc::close(fds[1]);
                let mut b = [0u8; 1];
                let n = libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                if n == 1 && b[0] == b'1' {
                    libc::_exit(0);
                }
            }
            eprintln!("daemonized server failed to start; check error log for details");
            std::process::exit(255);
        }
    }
}

/// The daemon child's end of the readiness pipe.
pub struct DaemonReady {
    fd: i32,
}

impl DaemonReady {
    /// Tells the waiting parent that start-up succeeded.
    pub fn ready(self) {
        #[allow(unsafe_code)]
        // SAFETY: writes one byte from a static buffer to our pipe end,
        // then closes it; the struct is consumed so this happens once.
        unsafe {
            libc::write(self.fd, b"1".as_ptr().cast(), 1);
            libc::close(self.fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_brace_expands_and_sorts() {
        let dir = std::env::temp_dir().join(format!("lrs-glob-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["b.conf", "a.conf", "c.txt"] {
            std::fs::write(dir.join(n), "").unwrap();
        }
        let pat = format!("{}/{{a,b}}.conf", dir.display());
        match glob_brace(&pat) {
            GlobResult::Paths(p) => {
                assert_eq!(p.len(), 2);
                assert!(p[0].ends_with("a.conf") && p[1].ends_with("b.conf"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            glob_brace(&format!("{}/*.none", dir.display())),
            GlobResult::NoMatch
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn user_and_group_lookup() {
        assert_eq!(lookup_user("root"), Some((0, 0)));
        assert_eq!(lookup_group("root"), Some(0));
        assert_eq!(lookup_user("no-such-user-lrs"), None);
        assert_eq!(lookup_group("no-such-group-lrs"), None);
    }

    #[test]
    fn timestamp_shape() {
        let s = local_timestamp(0);
        assert_eq!(s.len(), 19);
        assert_eq!(&s[4..5], "-");
    }
}
