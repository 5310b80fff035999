//! Starting `bin-path` backends as lighttpd does (fastcgi.md §3): for each
//! proc, probe its address (something already answering is used as it is),
//! remove a stale unix socket, bind and listen ourselves, and start the
//! program with that listening socket as fd 0 (FCGI_LISTENSOCK_FILENO), in
//! the program's directory, with bin-copy-environment (or our whole
//! environment), then bin-environment, then PHP_FCGI_CHILDREN=1 if unset.
//! A child that is already dead right after the start is a start-up error.
//! At shutdown every child gets kill-signal. Not yet: respawning,
//! adaptive spawning, idle kills (doc/compat.md).

use super::config::{BackendAddr, GwHost};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};

/// A started backend process.
pub struct Spawned {
    pub child: Child,
    pub addr: BackendAddr,
    pub kill_signal: u16,
    pub socket_path: Option<String>,
}

fn answers(addr: &BackendAddr) -> bool {
    match addr {
        BackendAddr::Tcp(a) => std::net::TcpStream::connect(a).is_ok(),
        BackendAddr::Unix(p) => std::os::unix::net::UnixStream::connect(p).is_ok(),
    }
}

/// A listening socket for `addr`, as an fd to hand to the child.
fn listen_on(addr: &BackendAddr) -> std::io::Result<OwnedFd> {
    match addr {
        BackendAddr::Tcp(a) => Ok(OwnedFd::from(std::net::TcpListener::bind(a)?)),
        BackendAddr::Unix(p) => {
            match std::fs::symlink_metadata(p) {
                Ok(_) => {
                    crate::log_error!("connect {p}: Connection refused");
                    std::fs::remove_file(p)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            Ok(OwnedFd::from(std::os::unix::net::UnixListener::bind(p)?))
        }
    }
}

/// Starts every proc of `host` that is not already answering.
pub fn spawn_host(host: &GwHost, out: &mut Vec<Spawned>) -> Result<(), String> {
    let Some(bin) = &host.bin_path else {
        return Ok(());
    };
    let mut argv = bin.split([' ', '\t']).filter(|s| !s.is_empty());
    let Some(prog) = argv.next() else {
        return Err(format!("invalid \"bin-path\" => \"{bin}\""));
    };
    let args: Vec<&str> = argv.collect();
    for addr in &host.procs {
        if answers(addr) {
            continue; // an external process already serves this address
        }
        let fd = listen_on(addr).map_err(|e| format!("gw-backend failed to start: {prog}: {e}"))?;
        let mut cmd = Command::new(prog);
        cmd.args(&args).stdin(Stdio::from(fd));
        if let Some(dir) = std::path::Path::new(prog)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            cmd.current_dir(dir);
        }
        if !host.bin_copy_environment.is_empty() {
            cmd.env_clear();
            for name in &host.bin_copy_environment {
                if let Some(v) = std::env::var_os(name) {
                    cmd.env(name, v);
                }
            }
        }
        for (k, v) in &host.bin_environment {
            cmd.env(k, v);
        }
        let has_children = host
            .bin_environment
            .iter()
            .any(|(k, _)| k == "PHP_FCGI_CHILDREN")
            || (host.bin_copy_environment.is_empty()
                && std::env::var_os("PHP_FCGI_CHILDREN").is_some())
            || (host
                .bin_copy_environment
                .iter()
                .any(|k| k == "PHP_FCGI_CHILDREN")
                && std::env::var_os("PHP_FCGI_CHILDREN").is_some());
        if !has_children {
            cmd.env("PHP_FCGI_CHILDREN", "1");
        }
        let mut child = cmd.spawn().map_err(|e| {
            format!(
                "gw-backend failed to start: {prog}: {e}\nIf you're trying to run your app as a FastCGI backend, make sure you're using the FastCGI-enabled version. If this is PHP on Gentoo, add 'fastcgi' to the USE flags. If this is PHP, try removing the bytecode caches for now and try again.\n[ERROR]: spawning gw failed."
            )
        })?;
        std::thread::sleep(std::time::Duration::from_millis(1));
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!(
                "gw-backend failed to start: {prog}: child exited: {st}\n[ERROR]: spawning gw failed."
            ));
        }
        let socket_path = match addr {
            BackendAddr::Unix(p) => Some(p.clone()),
            BackendAddr::Tcp(_) => None,
        };
        out.push(Spawned {
            child,
            addr: addr.clone(),
            kill_signal: host.kill_signal,
            socket_path,
        });
    }
    Ok(())
}

/// Shutdown: kill-signal to every child and remove their sockets, without
/// waiting (as lighttpd does).
pub fn kill_all(procs: &mut [Spawned]) {
    for p in procs.iter_mut() {
        crate::sys::kill(p.child.id(), p.kill_signal as i32);
        if let Some(s) = &p.socket_path {
            let _ = std::fs::remove_file(s);
        }
    }
}
