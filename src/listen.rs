//! Listening sockets: `server.bind` / `server.port`, every
//! `$SERVER["socket"] == "..."` block, and systemd socket activation
//! (LISTEN_FDS / LISTEN_PID, including lighttpd's `parent:<ppid>` form)
//! matched to the configured addresses as config-language.md §6 says:
//! an inherited socket with the same address is used instead of a new one,
//! inherited sockets that match nothing are still served, and with
//! activation on and no server.bind the global `*:port` is not bound.

use crate::config::ast::CondOp;
use crate::config::cond::Field;
use crate::config::eval::{BlockCond, ConfigTree};
use crate::config::value::Value;
use crate::stream::StdListener;
use std::net::SocketAddr;

/// One listening socket and the text `$SERVER["socket"]` compares with.
#[derive(Debug)]
pub struct Listener {
    pub socket: StdListener,
    /// None for a unix-domain socket.
    pub addr: Option<SocketAddr>,
    /// As configured (e.g. "127.0.0.1:8080", ":8081", "[::]:80").
    pub token: String,
}

impl Listener {
    /// A socket the event loop was using, handed back for a graceful
    /// restart (same token, so the next config finds it by address).
    pub fn from_running(l: crate::stream::Listener, token: String) -> Listener {
        let (socket, addr) = match l {
            crate::stream::Listener::Tcp(t) => {
                let std = std::net::TcpListener::from(t);
                let addr = std.local_addr().ok();
                (StdListener::Tcp(std), addr)
            }
            crate::stream::Listener::Unix(u) => (
                StdListener::Unix(std::os::unix::net::UnixListener::from(u)),
                None,
            ),
        };
        Listener {
            socket,
            addr,
            token,
        }
    }
}

/// Sockets handed over by the service manager, if the environment says so
/// and the config enables it. The LISTEN_* variables are removed.
pub fn inherited_sockets(enabled: bool) -> Vec<(StdListener, Inherited)> {
    if !enabled {
        return Vec::new();
    }
    let pid_ok = match std::env::var("LISTEN_PID") {
        Ok(v) => match v.strip_prefix("parent:") {
            Some(pp) => pp.parse::<u32>().ok() == Some(crate::sys::getppid()),
            None => v.parse::<u32>().ok() == Some(std::process::id()),
        },
        Err(_) => false,
    };
    let n: i32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if !pid_ok || n <= 0 || n >= 5000 {
        return Vec::new();
    }
    crate::sys::remove_env(&["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]);
    let mut out = Vec::new();
    for fd in 3..3 + n {
        if let Some(l) = crate::sys::tcp_listener_from_fd(fd) {
            if let Ok(a) = l.local_addr() {
                out.push((StdListener::Tcp(l), Inherited::Inet(a)));
            }
        } else if let Some(l) = crate::sys::unix_listener_from_fd(fd) {
            let path = l
                .local_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(|p| p.to_string_lossy().into_owned()))
                .unwrap_or_default();
            out.push((StdListener::Unix(l), Inherited::Unix(path)));
        }
    }
    out
}

/// The address of an inherited socket, to match it with the config.
#[derive(Debug, Clone, PartialEq)]
pub enum Inherited {
    Inet(SocketAddr),
    Unix(String),
}

/// Binds a unix-domain listener at `path`: a stale socket file (nobody
/// accepting) is removed first, as lighttpd does; server.socket-perms is
/// applied as an octal mode.
fn bind_unix(path: &str, perms: Option<&str>) -> std::io::Result<std::os::unix::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let path = crate::http::lossless::to_path(path);
    if let Ok(m) = std::fs::symlink_metadata(&path)
        && m.file_type().is_socket()
        && std::os::unix::net::UnixStream::connect(&path).is_err()
    {
        let _ = std::fs::remove_file(&path);
    }
    let l = std::os::unix::net::UnixListener::bind(&path)?;
    if let Some(mode) = perms.and_then(|p| u32::from_str_radix(p.trim_start_matches("0o"), 8).ok())
    {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(l)
}

/// Resolves a listener token as 1.4.69 does: `[v6]` or `[v6]:port`
/// (IPv6), else `host:port` split at the last colon (so server.bind, which
/// gets `:` and server.port appended, is a host name alone: `127.0.0.1:81`
/// or a bare `::1` there is a name getaddrinfo does not know); an empty
/// host is any address. The host is looked up for IPv4 only, or IPv6 (else
/// IPv4) with `use_ipv6`. Err is 1.4.69's message.
pub fn resolve_listen(
    token: &str,
    default_port: u16,
    use_ipv6: bool,
) -> Result<SocketAddr, String> {
    let (host, port, v6) = match token.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((h, tail)) => {
            // 1.4.69 reads the port after `]:` as a number up to the
            // first character that is not a digit.
            let digits: String = tail
                .strip_prefix(':')
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (h, digits, true)
        }
        None => match token.rsplit_once(':') {
            Some((h, p)) => (h, p.to_string(), use_ipv6),
            None => (token, String::new(), use_ipv6),
        },
    };
    // (A `$SERVER["socket"]` port was checked when the config was read;
    // server.port 0 binds a port the system picks, as in 1.4.69.)
    let port: u16 = if port.is_empty() {
        default_port
    } else {
        port.parse().unwrap_or(default_port)
    };
    let ip = if host.is_empty() {
        if v6 {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        }
    } else {
        // With IPv6, a name that has only an IPv4 address (an IPv4
        // literal) is bound over IPv4, as in 1.4.69.
        match crate::sys::getaddrinfo(host, v6) {
            Ok(ip) => ip,
            Err((crate::sys::EAI_ADDRFAMILY, _)) if v6 => crate::sys::getaddrinfo(host, false)
                .map_err(|(_, why)| format!("getaddrinfo failed: {why} '{host}'"))?,
            Err((_, why)) => return Err(format!("getaddrinfo failed: {why} '{host}'")),
        }
    };
    Ok(SocketAddr::new(ip, port))
}

/// IPV6_V6ONLY for an IPv6 listener, as 1.4.69 sets it: on with
/// server.set-v6only (the default); with it off, left to the system after
/// a warning; server.v4mapped, when set, decides (enabled: off, so IPv4
/// clients arrive as ::ffff:a.b.c.d; disabled: on).
fn v6only_setting(set_v6only: Option<bool>, v4mapped: Option<bool>) -> Option<bool> {
    let mut v6only = if set_v6only.unwrap_or(true) {
        Some(true)
    } else {
        crate::log_error!(
            "warning: server.set-v6only will be removed soon, update your config to have different sockets for ipv4 and ipv6"
        );
        None
    };
    if let Some(m) = v4mapped {
        v6only = Some(!m);
    }
    v6only
}

/// A switch of one listener: from its `$SERVER["socket"]` block, else the
/// global one.
pub(crate) fn socket_bool(tree: &ConfigTree, token: &str, key: &str) -> Option<bool> {
    tree.blocks
        .iter()
        .find(|b| {
            matches!(&b.cond, BlockCond::Cond { field: Field::ServerSocket, op: CondOp::Eq, value, .. } if value == token)
        })
        .and_then(|b| b.values.get(key))
        .or_else(|| tree.global().values.get(key))
        .and_then(crate::config::scoped::to_bool)
}

/// server.defer-accept: TCP_DEFER_ACCEPT (1 s) on each listener that has
/// it on, inherited and kept ones too, as 1.4.69 does once the error log
/// is open (so a failure, e.g. on a unix socket, is logged there and the
/// server goes on). The kernel then hands over a connection only once its
/// first bytes have come, or the second is over.
pub fn set_defer_accept(tree: &ConfigTree, listeners: &[Listener]) {
    for l in listeners {
        if socket_bool(tree, &l.token, "server.defer-accept") == Some(true) {
            let fd = match &l.socket {
                StdListener::Tcp(t) => std::os::fd::AsRawFd::as_raw_fd(t),
                StdListener::Unix(u) => std::os::fd::AsRawFd::as_raw_fd(u),
            };
            if let Err(e) = crate::sys::set_defer_accept(fd) {
                crate::log_error!("can't set TCP_DEFER_ACCEPT: {}", crate::sys::strerror(&e));
            }
        }
    }
}

/// Every listener the config asks for, reusing inherited sockets.
///
/// `kept` are the sockets of the run before a graceful restart: used again
/// by address like inherited ones, never bound twice.
pub fn open_listeners(
    tree: &ConfigTree,
    activation: bool,
    kept: Vec<Listener>,
) -> Result<Vec<Listener>, String> {
    let g = &tree.global().values;
    let port: u16 = match g.get("server.port") {
        Some(Value::Int(p)) => *p as u16,
        Some(Value::Str(s)) => s.trim().parse().unwrap_or(80),
        _ => 80,
    };
    let bind_host = match g.get("server.bind") {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let use_ipv6 = g
        .get("server.use-ipv6")
        .and_then(crate::config::scoped::to_bool)
        .unwrap_or(false);
    let mut wanted: Vec<String> = Vec::new();
    let mut inherited = inherited_sockets(activation);
    for l in kept {
        let a = match l.addr {
            Some(a) => Inherited::Inet(a),
            None => Inherited::Unix(l.token),
        };
        inherited.push((l.socket, a));
    }
    let activated = !inherited.is_empty();
    match &bind_host {
        Some(b) if b.starts_with('/') => wanted.push(b.clone()),
        // server.port appended, as 1.4.69 does: see resolve_listen.
        Some(b) => wanted.push(format!("{b}:{port}")),
        None if activated => {}
        // server.use-ipv6 without server.bind: [::] (IPv6 only, with
        // server.set-v6only on), as lighttpd does.
        None if use_ipv6 => wanted.push(format!("[::]:{port}")),
        None => wanted.push(format!("0.0.0.0:{port}")),
    }
    for b in &tree.blocks {
        if let BlockCond::Cond {
            field: Field::ServerSocket,
            op: CondOp::Eq,
            value,
            ..
        } = &b.cond
            && !wanted.contains(value)
        {
            wanted.push(value.clone());
        }
    }
    let perms = match g.get("server.socket-perms") {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let sock_opt = |token: &str, key: &str| socket_bool(tree, token, key);
    // server.listen-backlog (default 1024) for the sockets we bind.
    let backlog = match g.get("server.listen-backlog") {
        Some(Value::Int(n)) if *n > 0 => *n,
        _ => 1024,
    };
    let mut out = Vec::new();
    for token in wanted {
        if token.starts_with('/') {
            let want = Inherited::Unix(token.clone());
            let socket = match inherited.iter().position(|(_, a)| *a == want) {
                Some(i) => inherited.swap_remove(i).0,
                None => {
                    // sun_path holds 107 bytes and the NUL.
                    if crate::http::lossless::to_bytes(&token).len() >= 108 {
                        return Err(format!("unix socket filename too long: {token}"));
                    }
                    let l = bind_unix(&token, perms.as_deref()).map_err(|e| {
                        format!(
                            "can't bind to socket: {token}: {}",
                            crate::sys::strerror(&e)
                        )
                    })?;
                    crate::sys::set_backlog(std::os::fd::AsRawFd::as_raw_fd(&l), backlog);
                    StdListener::Unix(l)
                }
            };
            out.push(Listener {
                socket,
                addr: None,
                token,
            });
            continue;
        }
        let v6 = sock_opt(&token, "server.use-ipv6").unwrap_or(false);
        let addr = resolve_listen(&token, port, v6)?;
        let want = Inherited::Inet(addr);
        let socket = match inherited.iter().position(|(_, a)| *a == want) {
            Some(i) => inherited.swap_remove(i).0,
            None => {
                let v6only = if addr.is_ipv6() {
                    v6only_setting(
                        sock_opt(&token, "server.set-v6only"),
                        sock_opt(&token, "server.v4mapped"),
                    )
                } else {
                    None
                };
                StdListener::Tcp(
                    crate::sys::bind_tcp_listener(addr, v6only, backlog).map_err(|e| {
                        format!(
                            "can't bind to socket: {token}: {}",
                            crate::sys::strerror(&e)
                        )
                    })?,
                )
            }
        };
        out.push(Listener {
            socket,
            addr: Some(addr),
            token,
        });
    }
    for (socket, a) in inherited {
        let (token, addr) = match a {
            Inherited::Inet(a) => (a.to_string(), Some(a)),
            Inherited::Unix(p) => (p, None),
        };
        out.push(Listener {
            socket,
            token,
            addr,
        });
    }
    for l in &out {
        l.socket
            .set_nonblocking()
            .map_err(|e| format!("fcntl(O_NONBLOCK): {e}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_resolve() {
        let ok = |t: &str, port: u16, v6: bool| resolve_listen(t, port, v6).unwrap().to_string();
        assert_eq!(ok(":8080", 80, false), "0.0.0.0:8080");
        assert_eq!(ok(":8080", 80, true), "[::]:8080");
        assert_eq!(ok("127.0.0.1", 81, false), "127.0.0.1:81");
        assert_eq!(ok("[::1]:82", 80, false), "[::1]:82");
        assert_eq!(ok("[::1]", 83, false), "[::1]:83");
        // An IPv4 literal with server.use-ipv6: over IPv4, as 1.4.69.
        assert_eq!(ok("127.0.0.1:84", 80, true), "127.0.0.1:84");
        assert_eq!(ok("::1:85", 80, true), "[::1]:85");
        // server.bind "::1" without server.use-ipv6, and "127.0.0.1:81"
        // (server.port appended: a name, not an address and a port).
        assert_eq!(
            resolve_listen("::1:86", 80, false),
            Err("getaddrinfo failed: Address family for hostname not supported '::1'".into())
        );
        assert!(
            resolve_listen("127.0.0.1:81:86", 80, false)
                .unwrap_err()
                .starts_with("getaddrinfo failed: ")
        );
    }

    #[test]
    fn binds_global_and_socket_blocks() {
        let t = crate::config::eval::read_config(crate::config::eval::Input::Stdin(
            "server.bind = \"127.0.0.1\"\nserver.port = 0\n",
        ))
        .unwrap();
        let l = open_listeners(&t, false, Vec::new()).unwrap();
        assert_eq!(l.len(), 1);
        assert!(l[0].addr.is_some_and(|a| a.ip().is_loopback()));
    }

    #[test]
    fn defer_accept_per_socket() {
        let t = crate::config::eval::read_config(crate::config::eval::Input::Stdin(
            "server.bind = \"127.0.0.1\"\nserver.port = 0\nserver.defer-accept = \"enable\"\n\
             $SERVER[\"socket\"] == \"127.0.0.2\" { server.defer-accept = \"disable\" }\n\
             $SERVER[\"socket\"] == \"127.0.0.3\" { }\n",
        ))
        .unwrap();
        let l = open_listeners(&t, false, Vec::new()).unwrap();
        set_defer_accept(&t, &l);
        let got: Vec<(String, i32)> = l
            .iter()
            .map(|l| match &l.socket {
                StdListener::Tcp(s) => (
                    l.token.clone(),
                    crate::sys::defer_accept(std::os::fd::AsRawFd::as_raw_fd(s)),
                ),
                StdListener::Unix(_) => unreachable!(),
            })
            .collect();
        let want = [("127.0.0.1:0", 1), ("127.0.0.2", 0), ("127.0.0.3", 1)];
        assert_eq!(got, want.map(|(t, v)| (t.to_string(), v)));
    }

    #[test]
    fn binds_unix_socket_with_perms_and_replaces_stale_file() {
        let p = std::env::temp_dir().join(format!("lrs-unix-{}.sock", std::process::id()));
        let ps = p.to_string_lossy().into_owned();
        drop(std::os::unix::net::UnixListener::bind(&p).unwrap()); // a stale socket file
        let conf = format!("server.bind = \"{ps}\"\nserver.socket-perms = \"0660\"\n");
        let t = crate::config::eval::read_config(crate::config::eval::Input::Stdin(&conf)).unwrap();
        let l = open_listeners(&t, false, Vec::new()).unwrap();
        assert_eq!(l.len(), 1);
        assert!(l[0].addr.is_none());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o660
        );
        assert!(std::os::unix::net::UnixStream::connect(&p).is_ok());
        std::fs::remove_file(p).unwrap();
    }
}
