//! Starting `bin-path` backends as lighttpd does (fastcgi.md §3): for each
//! proc, probe its address (something already answering is used as it is),
//! remove a stale unix socket, bind and listen ourselves, and start the
//! program with that listening socket as fd 0 (FCGI_LISTENSOCK_FILENO), in
//! the program's directory, with bin-copy-environment (or our whole
//! environment), then bin-environment, then PHP_FCGI_CHILDREN=1 if unset.
//! A child that is already dead right after the start is an error (fatal
//! at start-up). Which procs to start and when is src/gw/pool.rs's part.

use super::config::{BackendAddr, GwHost};
use crate::http::lossless::{to_os, to_path};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};

/// Whether something already answers on `addr`. A unix socket that does
/// not answer (but is there, or cannot be reached) is logged with the
/// reason and removed, as 1.4.69 does before binding its own.
fn answers(addr: &BackendAddr) -> bool {
    match addr {
        BackendAddr::Tcp(a) => std::net::TcpStream::connect(a).is_ok(),
        BackendAddr::Unix(p) => match std::os::unix::net::UnixStream::connect(to_path(p)) {
            Ok(_) => true,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => false,
            Err(e) => {
                crate::log_error!("connect {p}: {}", crate::sys::strerror(&e));
                // (a failure shows when binding)
                let _ = std::fs::remove_file(to_path(p));
                false
            }
        },
    }
}

/// A listening socket for `addr`, as an fd to hand to the child.
fn listen_on(addr: &BackendAddr) -> std::io::Result<OwnedFd> {
    match addr {
        BackendAddr::Tcp(a) => Ok(OwnedFd::from(std::net::TcpListener::bind(a)?)),
        BackendAddr::Unix(p) => Ok(OwnedFd::from(std::os::unix::net::UnixListener::bind(
            to_path(p),
        )?)),
    }
}

/// What starting one proc gave.
pub enum Started {
    /// Something already answers on the address: used as it is.
    External,
    Child(Child),
}

/// Starts proc `addr` of a bin-path host (fastcgi.md §3 steps 1-6).
/// Errors carry lighttpd's lines.
pub fn spawn_proc(host: &GwHost, addr: &BackendAddr) -> Result<Started, String> {
    let bin = host.bin_path.as_deref().unwrap_or("");
    let mut argv = bin.split([' ', '\t']).filter(|s| !s.is_empty());
    let Some(prog) = argv.next() else {
        return Err(format!("invalid \"bin-path\" => \"{bin}\""));
    };
    let args: Vec<&str> = argv.collect();
    if answers(addr) {
        return Ok(Started::External);
    }
    let fd = listen_on(addr)
        .map_err(|e| format!("bind failed for: {addr}: {}", crate::sys::strerror(&e)))?;
    crate::sys::set_backlog(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        host.listen_backlog as i32,
    );
    // The program, its arguments and the environment from the config are
    // bytes (a Latin-1 name is that byte, not its UTF-8 form).
    let prog_path = to_path(prog);
    // execve, as 1.4.69: a name without a slash is not looked up in PATH
    // but taken from the current directory.
    let mut cmd = if prog.contains('/') {
        Command::new(&*prog_path)
    } else {
        Command::new(std::path::Path::new(".").join(&*prog_path))
    };
    // stdin is the listening socket (FCGI_LISTENSOCK_FILENO); stdout goes
    // nowhere, as lighttpd gives its backends /dev/null there; stderr is
    // ours (server.breakagelog).
    cmd.args(args.iter().map(|a| to_os(a)))
        .stdin(Stdio::from(fd))
        .stdout(Stdio::null());
    crate::sys::default_signals_in_child(&mut cmd);
    if let Some(dir) = prog_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // 1.4.69 opens the directory before it forks.
        if let Err(e) = std::fs::File::open(dir) {
            let why = crate::sys::strerror(&e);
            return Err(format!(
                "open dirname failed: {prog}: {why}\ngw-backend failed to start: {bin}"
            ));
        }
        cmd.current_dir(dir);
    }
    if !host.bin_copy_environment.is_empty() {
        cmd.env_clear();
        for name in &host.bin_copy_environment {
            let name = to_os(name);
            if let Some(v) = std::env::var_os(&name) {
                cmd.env(&name, v);
            }
        }
    }
    for (k, v) in &host.bin_environment {
        cmd.env(to_os(k), to_os(v));
    }
    let inherited = |k: &str| {
        (host.bin_copy_environment.is_empty() || host.bin_copy_environment.iter().any(|c| c == k))
            && std::env::var_os(k).is_some()
    };
    if !host
        .bin_environment
        .iter()
        .any(|(k, _)| k == "PHP_FCGI_CHILDREN")
        && !inherited("PHP_FCGI_CHILDREN")
    {
        cmd.env("PHP_FCGI_CHILDREN", "1");
    }
    // What 1.4.69 logs about a child that is gone right after its start:
    // how it ended, that it failed, and a hint (two spaces after each
    // sentence, as there).
    let failed = |how: String| {
        format!(
            "{how}\ngw-backend failed to start: {bin}\nIf you're trying to run your app as a FastCGI \
             backend, make sure you're using the FastCGI-enabled version.  If this is PHP on Gentoo, \
             add 'fastcgi' to the USE flags.  If this is PHP, try removing the bytecode caches for \
             now and try again."
        )
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            // 1.4.69's child, whose exec failed, says why on its stderr
            // (ours: server.breakagelog, if set) and exits with errno.
            use std::io::Write;
            use std::os::unix::ffi::OsStrExt;
            let mut line = to_os(prog).as_bytes().to_vec();
            line.extend_from_slice(format!(": {}\n", crate::sys::strerror(&e)).as_bytes());
            let _ = std::io::stderr().write_all(&line);
            let code = e.raw_os_error().unwrap_or(127);
            return Err(failed(format!("child exited: {code} {addr}")));
        }
    };
    std::thread::sleep(std::time::Duration::from_millis(1));
    if let Ok(Some(st)) = child.try_wait() {
        use std::os::unix::process::ExitStatusExt;
        return Err(failed(match st.code() {
            Some(code) => format!("child exited: {code} {addr}"),
            None => format!("child signalled: {}", st.signal().unwrap_or(0)),
        }));
    }
    Ok(Started::Child(child))
}
