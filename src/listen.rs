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
    /// The address it is bound to, as 1.4.69 writes it and as the
    /// `$SERVER["socket"]` values are rewritten (normalize_socket_conditions):
    /// "127.0.0.1:8080", "0.0.0.0:8081", "[::]:80", or the unix path.
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
/// server.set-v6only (the default); with it off, left to the system (the
/// warning is normalize_token's); server.v4mapped, when set, decides
/// (enabled: off, so IPv4 clients arrive as ::ffff:a.b.c.d; disabled: on).
fn v6only_setting(set_v6only: Option<bool>, v4mapped: Option<bool>) -> Option<bool> {
    let mut v6only = set_v6only.unwrap_or(true).then_some(true);
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

/// server.port as 1.4.69 reads it: 80 when unset.
fn server_port(tree: &ConfigTree) -> u16 {
    match tree.global().values.get("server.port") {
        Some(Value::Int(p)) => *p as u16,
        Some(Value::Str(s)) => s.trim().parse().unwrap_or(80),
        _ => 80,
    }
}

/// The global listener's token as 1.4.69 makes it: server.bind with `:`
/// and server.port appended (`:80` without server.bind), a unix path as
/// it is.
fn global_token(tree: &ConfigTree, port: u16) -> String {
    match tree.global().values.get("server.bind") {
        Some(Value::Str(b)) if b.starts_with('/') => b.clone(),
        Some(Value::Str(b)) => format!("{b}:{port}"),
        _ => format!(":{port}"),
    }
}

/// A setting of block `index` (its own value, else the global one): what
/// 1.4.69 reads for the socket a block sets up.
fn block_value<'t>(tree: &'t ConfigTree, index: usize, key: &str) -> Option<&'t Value> {
    tree.blocks[index]
        .values
        .get(key)
        .or_else(|| tree.global().values.get(key))
}

/// A switch of block `index`, as block_value.
fn block_bool(tree: &ConfigTree, index: usize, key: &str) -> Option<bool> {
    block_value(tree, index, key).and_then(crate::config::scoped::to_bool)
}

/// A listener token resolved and written as 1.4.69 writes the address it
/// binds: "a.b.c.d:port", "[v6]:port"; a unix path stays as it is. Warns
/// as 1.4.69 does when IPv6 "any" is implied rather than named, and when
/// server.set-v6only is off for a named IPv6 address.
fn normalize_token(
    token: &str,
    port: u16,
    use_ipv6: bool,
    set_v6only: bool,
) -> Result<String, String> {
    if token.starts_with('/') {
        // sun_path holds 107 bytes and the NUL.
        if crate::http::lossless::to_bytes(token).len() >= 108 {
            return Err(format!("unix socket filename too long: {token}"));
        }
        return Ok(token.to_string());
    }
    if (use_ipv6 && token.starts_with(':')) || token.starts_with("[]") {
        crate::log_error!(
            "warning: please use server.use-ipv6 only for hostnames, not without server.bind / empty address; your config will break if the kernel default for IPV6_V6ONLY changes"
        );
    }
    let addr = resolve_listen(token, port, use_ipv6)?;
    // (the host part: before the last colon, or inside the brackets)
    let no_host =
        token.starts_with("[]") || token.rsplit_once(':').is_none_or(|(h, _)| h.is_empty());
    if addr.is_ipv6() && !set_v6only && !no_host {
        crate::log_error!(
            "warning: server.set-v6only will be removed soon, update your config to have different sockets for ipv4 and ipv6"
        );
    }
    Ok(addr.to_string())
}

/// Resolves every listener address as 1.4.69's network set-up does, in
/// its order (each `$SERVER["socket"]` block, then server.bind and
/// server.port), and rewrites each `$SERVER["socket"] ==` / `!=` value to
/// the address it names, as 1.4.69 rewrites its condition strings: a
/// block written `localhost:8080` or `:8080` then matches the listener
/// bound to that address (whose token is written the same way), and two
/// spellings of one address are one socket. The condition text (`-p`,
/// the condition trace) is left as written. Err is 1.4.69's message.
pub fn normalize_socket_conditions(
    tree: &mut ConfigTree,
    stdin: Option<std::os::fd::BorrowedFd<'_>>,
) -> Result<(), String> {
    let port = server_port(tree);
    // server.bind = "/dev/stdin": the socket on stdin comes first (nothing
    // to resolve; it must be a socket).
    let from_stdin = binds_stdin(tree);
    if from_stdin && let Some(fd) = stdin {
        crate::sys::sock_name(fd)
            .map_err(|e| format!("getsockname(): {}", crate::sys::strerror(&e)))?;
    }
    for i in 0..tree.blocks.len() {
        let BlockCond::Cond {
            field: Field::ServerSocket,
            op: CondOp::Eq | CondOp::Ne,
            value,
            ..
        } = &tree.blocks[i].cond
        else {
            continue;
        };
        let v6 = block_bool(tree, i, "server.use-ipv6").unwrap_or(false);
        let v6only = block_bool(tree, i, "server.set-v6only").unwrap_or(true);
        let normal = normalize_token(value, port, v6, v6only)?;
        if let BlockCond::Cond { value, .. } = &mut tree.blocks[i].cond {
            *value = normal;
        }
    }
    if from_stdin {
        return Ok(());
    }
    let v6 = block_bool(tree, 0, "server.use-ipv6").unwrap_or(false);
    let v6only = block_bool(tree, 0, "server.set-v6only").unwrap_or(true);
    normalize_token(&global_token(tree, port), port, v6, v6only).map(|_| ())
}

/// server.bind = "/dev/stdin": listen on the socket the server was started
/// with on stdin (inetd's "wait" style) instead of binding one.
pub fn binds_stdin(tree: &ConfigTree) -> bool {
    matches!(tree.global().values.get("server.bind"), Some(Value::Str(b)) if b == "/dev/stdin")
}

/// The sockets the configuration names, as (token, block) in 1.4.69's
/// order: each `$SERVER["socket"] ==` block (its value as
/// normalize_socket_conditions wrote it), then, with `global`, server.bind
/// and server.port (block 0: the global settings).
fn wanted_sockets(tree: &ConfigTree, global: bool) -> Vec<(String, usize)> {
    let mut wanted: Vec<(String, usize)> = Vec::new();
    for (i, b) in tree.blocks.iter().enumerate() {
        if let BlockCond::Cond {
            field: Field::ServerSocket,
            op: CondOp::Eq,
            value,
            ..
        } = &b.cond
        {
            wanted.push((value.clone(), i));
        }
    }
    if global {
        wanted.push((global_token(tree, server_port(tree)), 0));
    }
    wanted
}

/// `-1`: the sockets the configuration names, resolved but not bound
/// (1.4.69 binds nothing then), as (address, token), a unix socket with
/// no address; one entry per address.
pub fn oneshot_sockets(tree: &ConfigTree) -> Result<Vec<(Option<SocketAddr>, String)>, String> {
    let mut out: Vec<(Option<SocketAddr>, String)> = Vec::new();
    for (token, block) in wanted_sockets(tree, true) {
        if token.starts_with('/') {
            if !out.iter().any(|(a, t)| a.is_none() && *t == token) {
                out.push((None, token));
            }
            continue;
        }
        let v6 = block_bool(tree, block, "server.use-ipv6").unwrap_or(false);
        let addr = resolve_listen(&token, server_port(tree), v6)?;
        if !out.iter().any(|(a, _)| *a == Some(addr)) {
            out.push((Some(addr), addr.to_string()));
        }
    }
    Ok(out)
}

/// `-1`: which configured socket the connection on stdin came through,
/// as 1.4.69 picks it from the connection's local address: the one with
/// that address and port, else an any-address one with that port, else
/// the first (None: no socket is configured). A unix-domain connection
/// (`local` None) takes the socket of its path, else the first.
pub fn pick_oneshot_socket(
    sockets: &[(Option<SocketAddr>, String)],
    local: Option<SocketAddr>,
    unix_path: Option<&str>,
) -> Option<usize> {
    if let Some(l) = local {
        let same_port = |a: &Option<SocketAddr>| a.is_some_and(|a| a.port() == l.port());
        if let Some(i) = sockets
            .iter()
            .position(|(a, _)| same_port(a) && a.is_some_and(|a| a.ip() == l.ip()))
        {
            return Some(i);
        }
        if let Some(i) = sockets
            .iter()
            .position(|(a, _)| same_port(a) && a.is_some_and(|a| a.ip().is_unspecified()))
        {
            return Some(i);
        }
    } else if let Some(p) = unix_path
        && let Some(i) = sockets.iter().position(|(a, t)| a.is_none() && t == p)
    {
        return Some(i);
    }
    (!sockets.is_empty()).then_some(0)
}

/// Every listener the config asks for, reusing inherited sockets.
///
/// `kept` are the sockets of the run before a graceful restart: used again
/// by address like inherited ones, never bound twice. `stdin` is the
/// socket taken from stdin for server.bind = "/dev/stdin" (sys::take_stdin;
/// None after a restart, when it is among `kept`).
pub fn open_listeners(
    tree: &ConfigTree,
    activation: bool,
    kept: Vec<Listener>,
    stdin: Option<std::os::fd::OwnedFd>,
) -> Result<Vec<Listener>, String> {
    let port = server_port(tree);
    let mut inherited = inherited_sockets(activation);
    for l in kept {
        let a = match l.addr {
            Some(a) => Inherited::Inet(a),
            None => Inherited::Unix(l.token),
        };
        inherited.push((l.socket, a));
    }
    // 1.4.69's order: each `$SERVER["socket"] ==` block (its value as
    // normalize_socket_conditions wrote it), then server.bind and
    // server.port, unless sockets were handed over and server.bind is not
    // set; each with the block's settings (the global ones for the last).
    let from_stdin = binds_stdin(tree);
    let global =
        !from_stdin && (inherited.is_empty() || tree.global().values.get("server.bind").is_some());
    let wanted = wanted_sockets(tree, global);
    let mut out: Vec<Listener> = Vec::new();
    if let Some(fd) = stdin {
        let name = crate::sys::sock_name(std::os::fd::AsFd::as_fd(&fd))
            .map_err(|e| format!("getsockname(): {}", crate::sys::strerror(&e)))?;
        out.push(match name {
            crate::sys::SockName::Inet(a) => Listener {
                socket: StdListener::Tcp(std::net::TcpListener::from(fd)),
                addr: Some(a),
                token: a.to_string(),
            },
            crate::sys::SockName::Unix(p) => Listener {
                socket: StdListener::Unix(std::os::unix::net::UnixListener::from(fd)),
                addr: None,
                token: p,
            },
        });
    }
    for (token, block) in wanted {
        let value = |key: &str| block_value(tree, block, key);
        let switch = |key: &str| block_bool(tree, block, key);
        // server.listen-backlog (default 1024) for the sockets we bind.
        let backlog = match value("server.listen-backlog") {
            Some(Value::Int(n)) if *n > 0 => *n,
            _ => 1024,
        };
        if token.starts_with('/') {
            // One socket per path (1.4.69 compares the addresses).
            if out.iter().any(|l| l.addr.is_none() && l.token == token) {
                continue;
            }
            let want = Inherited::Unix(token.clone());
            let socket = match inherited.iter().position(|(_, a)| *a == want) {
                Some(i) => inherited.swap_remove(i).0,
                None => {
                    let perms = match value("server.socket-perms") {
                        Some(Value::Str(s)) => Some(s.as_str()),
                        _ => None,
                    };
                    let l = bind_unix(&token, perms).map_err(|e| {
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
        let addr = resolve_listen(&token, port, switch("server.use-ipv6").unwrap_or(false))?;
        // Two spellings of one address are one socket, the first one's.
        if out.iter().any(|l| l.addr == Some(addr)) {
            continue;
        }
        let token = addr.to_string();
        let want = Inherited::Inet(addr);
        let socket = match inherited.iter().position(|(_, a)| *a == want) {
            Some(i) => inherited.swap_remove(i).0,
            None => {
                let v6only = if addr.is_ipv6() {
                    v6only_setting(switch("server.set-v6only"), switch("server.v4mapped"))
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
            .map_err(|e| format!("fcntl(O_NONBLOCK): {}", crate::sys::strerror(&e)))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oneshot_takes_the_socket_of_its_address_then_the_any_one_then_the_first() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let socks = vec![
            (Some(a("0.0.0.0:8080")), "0.0.0.0:8080".to_string()),
            (Some(a("127.0.0.1:80")), "127.0.0.1:80".to_string()),
            (None, "/run/l.sock".to_string()),
            (Some(a("127.0.0.1:8080")), "127.0.0.1:8080".to_string()),
        ];
        let pick = |l: &str| pick_oneshot_socket(&socks, Some(a(l)), None);
        assert_eq!(pick("127.0.0.1:8080"), Some(3), "address and port");
        assert_eq!(
            pick("10.0.0.1:8080"),
            Some(0),
            "the any-address one with the port"
        );
        assert_eq!(pick("127.0.0.1:80"), Some(1));
        assert_eq!(pick("127.0.0.1:9"), Some(0), "no port: the first");
        assert_eq!(
            pick_oneshot_socket(&socks, None, Some("/run/l.sock")),
            Some(2)
        );
        assert_eq!(pick_oneshot_socket(&socks, None, Some("/x")), Some(0));
        assert_eq!(
            pick_oneshot_socket(&[], Some(a("127.0.0.1:80")), None),
            None
        );
    }

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
        let l = open_listeners(&t, false, Vec::new(), None).unwrap();
        assert_eq!(l.len(), 1);
        assert!(l[0].addr.is_some_and(|a| a.ip().is_loopback()));
    }

    #[test]
    fn socket_conditions_name_addresses() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = format!(
            "server.bind = \"127.0.0.1\"\nserver.port = {port}\n\
             $SERVER[\"socket\"] == \"localhost:{port}\" {{ }}\n\
             $SERVER[\"socket\"] != \":{port}\" {{ }}\n"
        );
        let mut t =
            crate::config::eval::read_config(crate::config::eval::Input::Stdin(&conf)).unwrap();
        normalize_socket_conditions(&mut t, None).unwrap();
        let values: Vec<(&str, &str)> = t.blocks[1..]
            .iter()
            .map(|b| match &b.cond {
                BlockCond::Cond { value, text, .. } => (value.as_str(), text.as_str()),
                _ => unreachable!(),
            })
            .collect();
        let (a, b) = (format!("127.0.0.1:{port}"), format!("0.0.0.0:{port}"));
        let (ta, tb) = (
            format!("$SERVER[\"socket\"] == \"localhost:{port}\""),
            format!("$SERVER[\"socket\"] != \":{port}\""),
        );
        assert_eq!(
            values,
            [(a.as_str(), ta.as_str()), (b.as_str(), tb.as_str())]
        );
        // The block and server.bind name one address: one socket.
        let l = open_listeners(&t, false, Vec::new(), None).unwrap();
        assert_eq!(
            l.iter().map(|l| l.token.as_str()).collect::<Vec<_>>(),
            [a.as_str()]
        );
        // An address that does not resolve is refused with its name.
        let mut t = crate::config::eval::read_config(crate::config::eval::Input::Stdin(
            "$SERVER[\"socket\"] != \"no-such-host.invalid:80\" { }\n",
        ))
        .unwrap();
        let e = normalize_socket_conditions(&mut t, None).unwrap_err();
        assert!(e.starts_with("getaddrinfo failed: ") && e.ends_with("'no-such-host.invalid'"));
    }

    #[test]
    fn a_socket_block_has_its_own_perms() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("lrs-perms-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.sock"), dir.join("b.sock"));
        let conf = format!(
            "server.bind = \"{}\"\nserver.socket-perms = \"0666\"\n\
             $SERVER[\"socket\"] == \"{}\" {{ server.socket-perms = \"0600\" }}\n",
            a.display(),
            b.display()
        );
        let mut t =
            crate::config::eval::read_config(crate::config::eval::Input::Stdin(&conf)).unwrap();
        normalize_socket_conditions(&mut t, None).unwrap();
        let l = open_listeners(&t, false, Vec::new(), None).unwrap();
        assert_eq!(l.len(), 2);
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&a), mode(&b)), (0o666, 0o600));
        drop(l);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn defer_accept_per_socket() {
        let t = crate::config::eval::read_config(crate::config::eval::Input::Stdin(
            "server.bind = \"127.0.0.1\"\nserver.port = 0\nserver.defer-accept = \"enable\"\n\
             $SERVER[\"socket\"] == \"127.0.0.2\" { server.defer-accept = \"disable\" }\n\
             $SERVER[\"socket\"] == \"127.0.0.3\" { }\n",
        ))
        .unwrap();
        let mut t = t;
        normalize_socket_conditions(&mut t, None).unwrap();
        let l = open_listeners(&t, false, Vec::new(), None).unwrap();
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
        // (the blocks' sockets first, as in 1.4.69)
        let want = [("127.0.0.2:0", 0), ("127.0.0.3:0", 1), ("127.0.0.1:0", 1)];
        assert_eq!(got, want.map(|(t, v)| (t.to_string(), v)));
    }

    #[test]
    fn binds_unix_socket_with_perms_and_replaces_stale_file() {
        let p = std::env::temp_dir().join(format!("lrs-unix-{}.sock", std::process::id()));
        let ps = p.to_string_lossy().into_owned();
        drop(std::os::unix::net::UnixListener::bind(&p).unwrap()); // a stale socket file
        let conf = format!("server.bind = \"{ps}\"\nserver.socket-perms = \"0660\"\n");
        let t = crate::config::eval::read_config(crate::config::eval::Input::Stdin(&conf)).unwrap();
        let l = open_listeners(&t, false, Vec::new(), None).unwrap();
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
