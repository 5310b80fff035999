//! `fastcgi.server` (and later `scgi.server`, `proxy.server`): the
//! `"<.ext|/prefix>" => ( ["label" =>] ( host options ) ... )` arrays read
//! into typed hosts, with lighttpd's per-host keys (fastcgi.md §1), its
//! types (config/keys.rs GW_HOST_KEYS) and its fatal start-up messages.

use crate::config::keys::GW_HOST_KEYS;
use crate::config::scoped::{Typed, check_value};
use crate::config::value::{Array, Value};
use std::net::SocketAddr;

/// Where a backend listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendAddr {
    Tcp(SocketAddr),
    Unix(std::rc::Rc<str>),
}

impl std::fmt::Display for BackendAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendAddr::Tcp(a) => write!(f, "tcp:{a}"),
            BackendAddr::Unix(p) => write!(f, "unix:{p}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Responder,
    Authorizer,
}

/// One backend host of an extension.
#[derive(Clone, Debug)]
pub struct GwHost {
    /// The protocol spoken to the host (FastCGI for fastcgi.server).
    pub codec: &'static dyn super::codec::Codec,
    pub label: String,
    pub addr: BackendAddr,
    /// The numeric host address as configured ("" for a unix socket) and
    /// the port: the names lighttpd's debug lines and hashes use.
    pub host_name: String,
    pub port: u16,
    pub bin_path: Option<String>,
    /// bin-path only: procs started up front (min-procs) and at most
    /// (max-procs); min-procs above max-procs is lowered to it.
    pub min_procs: u16,
    pub max_procs: u16,
    pub max_load_per_proc: u16,
    pub idle_timeout: u16,
    pub bin_environment: Vec<(String, String)>,
    pub bin_copy_environment: Vec<String>,
    pub kill_signal: u16,
    pub mode: Mode,
    pub check_local: bool,
    pub docroot: Option<String>,
    pub strip_request_uri: Option<String>,
    pub fix_root_scriptname: bool,
    pub broken_scriptfilename: bool,
    pub x_sendfile: bool,
    /// x-sendfile-docroot: allowed directories, each ending in `/` (empty:
    /// any path).
    pub x_sendfile_docroot: Vec<String>,
    pub connect_timeout: u32,
    pub read_timeout: u32,
    pub write_timeout: u32,
    pub disable_time: u32,
    pub tcp_fin_propagate: bool,
    /// listen-backlog of the sockets we bind for bin-path procs.
    pub listen_backlog: u32,
    /// connection-reuse (ours): at most this many connections per proc are
    /// kept open and reused with FCGI_KEEP_CONN; 0 = one per request.
    pub conn_reuse: u16,
    /// connection-pipelining (ours, with connection-reuse): the first
    /// waiting request, when it is a GET or HEAD without a body, is written
    /// on a kept connection as soon as the request it carries is sent, so
    /// the backend's worker finds it without waiting for our turnaround.
    /// For backends that read exactly one record at a time (PHP's
    /// php-cgi and php-fpm); libfcgi drops what it read ahead.
    pub pipelining: bool,
    /// The host's run-time state (procs, load), attached when the server
    /// starts (src/gw/pool.rs).
    pub rt: std::cell::OnceCell<std::rc::Rc<super::pool::HostRt>>,
}

impl GwHost {
    /// Proc `n`'s address: `socket-N` or `port+N` for bin-path hosts, the
    /// configured address otherwise.
    pub fn proc_addr(&self, n: u16) -> BackendAddr {
        match (&self.bin_path, &self.addr) {
            (Some(_), BackendAddr::Unix(p)) => BackendAddr::Unix(format!("{p}-{n}").into()),
            (Some(_), BackendAddr::Tcp(a)) => {
                let mut a = *a;
                a.set_port(a.port().wrapping_add(n));
                BackendAddr::Tcp(a)
            }
            (None, a) => a.clone(),
        }
    }
}

/// The hosts for one key (`.php` or `/app`), with the key's balancing
/// state.
#[derive(Clone, Debug)]
pub struct GwExt {
    pub key: String,
    pub hosts: Vec<std::rc::Rc<GwHost>>,
    /// round-robin: the host used last (-1: none yet).
    pub last_used: std::cell::Cell<isize>,
    /// "all handlers ... are down." was logged (once until a host works).
    pub note_sent: std::cell::Cell<bool>,
}

thread_local! {
    /// server.max-worker is set (and not turned off by -i): bin-path hosts
    /// start max-procs procs at once (set by the caller before the
    /// configuration's modules read their settings).
    static MAX_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether server.max-worker workers will share the backends.
pub fn set_max_worker(on: bool) {
    MAX_WORKER.set(on);
}

thread_local! {
    /// server.feature-flags "server.graceful-restart-bg" as the caller
    /// found it; the first bin-path host turns it off, with 1.4.69's line
    /// (the backends cannot be left to a previous generation).
    static RESTART_BG: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sets the graceful-restart-bg flag before the configuration's hosts are
/// read.
pub fn set_restart_bg(on: bool) {
    RESTART_BG.set(on);
}

/// Whether graceful-restart-bg is still on once the hosts were read.
pub fn restart_bg() -> bool {
    RESTART_BG.get()
}

/// Reads a `*.server` array. `module` names the key in messages
/// ("fastcgi.server"), `codec` is the protocol its hosts speak; warnings
/// are pushed, errors are fatal.
pub fn parse_servers(
    module: &str,
    codec: &'static dyn super::codec::Codec,
    a: &Array,
    warnings: &mut Vec<String>,
) -> Result<Vec<GwExt>, String> {
    let mut out = Vec::new();
    for e in &a.entries {
        let key = e.key.clone().unwrap_or_default();
        let Value::Array(hosts) = &e.value else {
            return Err(format!(
                "unexpected value for gw.server near [{key}](string); expected ( \"ext\" => ( \"backend-label\" => ( \"key\" => \"value\" )))"
            ));
        };
        let mut ext = GwExt {
            key: key.clone(),
            hosts: Vec::new(),
            last_used: std::cell::Cell::new(-1),
            note_sent: std::cell::Cell::new(false),
        };
        for h in &hosts.entries {
            let label = h.key.clone().unwrap_or_default();
            let Value::Array(opts) = &h.value else {
                return Err(format!(
                    "unexpected value for gw.server near [{label}](string); expected ( \"ext\" => ( \"backend-label\" => ( \"key\" => \"value\" )))"
                ));
            };
            let mut h = parse_host(module, &key, &label, opts, warnings)?;
            h.codec = codec;
            ext.hosts.push(std::rc::Rc::new(h));
        }
        out.push(ext);
    }
    Ok(out)
}

/// The responder keys and the authorizer keys of a `*.server` value (a key
/// with hosts of both modes appears in both, each with its own hosts).
pub fn split_modes(exts: Vec<GwExt>) -> (Vec<GwExt>, Vec<GwExt>) {
    let mut resp = Vec::new();
    let mut auth = Vec::new();
    for e in exts {
        let (a, r): (Vec<_>, Vec<_>) = e
            .hosts
            .iter()
            .cloned()
            .partition(|h| h.mode == Mode::Authorizer);
        for (hosts, out) in [(r, &mut resp), (a, &mut auth)] {
            if !hosts.is_empty() {
                out.push(GwExt {
                    key: e.key.clone(),
                    hosts,
                    last_used: std::cell::Cell::new(-1),
                    note_sent: std::cell::Cell::new(false),
                });
            }
        }
    }
    (resp, auth)
}

fn parse_host(
    module: &str,
    ext: &str,
    label: &str,
    opts: &Array,
    warnings: &mut Vec<String>,
) -> Result<GwHost, String> {
    let mut host: Option<String> = None;
    let mut port: u16 = 0;
    let mut socket: Option<String> = None;
    let mut h = GwHost {
        codec: &super::codec::FASTCGI,
        label: label.to_string(),
        addr: BackendAddr::Unix("".into()),
        host_name: String::new(),
        port: 0,
        bin_path: None,
        min_procs: 4,
        max_procs: 4,
        max_load_per_proc: 1,
        idle_timeout: 60,
        bin_environment: Vec::new(),
        bin_copy_environment: Vec::new(),
        kill_signal: 15,
        mode: Mode::Responder,
        check_local: true,
        docroot: None,
        strip_request_uri: None,
        fix_root_scriptname: false,
        broken_scriptfilename: false,
        x_sendfile: false,
        x_sendfile_docroot: Vec::new(),
        connect_timeout: 8,
        read_timeout: 0,
        write_timeout: 0,
        disable_time: 1,
        tcp_fin_propagate: false,
        listen_backlog: 1024,
        conn_reuse: 0,
        pipelining: false,
        rt: std::cell::OnceCell::new(),
    };
    for e in &opts.entries {
        let Some(k) = e.key.as_deref() else { continue };
        if k.contains('_') {
            warnings.push(format!(
                "incorrect directive contains underscore ('_') instead of dash ('-'): {k}"
            ));
        }
        // Unknown keys are ignored, as lighttpd does.
        let Some(def) = GW_HOST_KEYS.iter().find(|d| d.name.eq_ignore_ascii_case(k)) else {
            continue;
        };
        let v = check_value(def, &e.value)?;
        match (def.name, v) {
            ("host", Typed::Str(s)) => host = Some(s),
            ("port", Typed::Short(p)) => port = p,
            ("socket", Typed::Str(s)) => socket = Some(s),
            ("bin-path", Typed::Str(s)) => h.bin_path = Some(s),
            ("min-procs", Typed::Short(n)) => h.min_procs = n,
            ("max-procs", Typed::Short(n)) => h.max_procs = n.max(1),
            ("max-load-per-proc", Typed::Short(n)) => h.max_load_per_proc = n,
            ("idle-timeout", Typed::Short(n)) => h.idle_timeout = n,
            ("tcp-fin-propagate", Typed::Bool(b)) => h.tcp_fin_propagate = b,
            ("connection-reuse", Typed::Short(n)) => h.conn_reuse = n,
            ("connection-pipelining", Typed::Bool(b)) => h.pipelining = b,
            ("listen-backlog", Typed::Int(n)) if n > 0 => h.listen_backlog = n,
            ("kill-signal", Typed::Short(n)) => h.kill_signal = n,
            ("bin-environment", Typed::List(a)) => {
                h.bin_environment = a
                    .entries
                    .iter()
                    .filter_map(|e| match (&e.key, &e.value) {
                        (Some(k), Value::Str(v)) => Some((k.clone(), v.clone())),
                        _ => None,
                    })
                    .collect()
            }
            ("bin-copy-environment", Typed::List(a)) => {
                h.bin_copy_environment = a.iter_strings().map(str::to_string).collect()
            }
            ("check-local", Typed::Bool(b)) => h.check_local = b,
            ("mode", Typed::Str(s)) => {
                h.mode = match s.as_str() {
                    "authorizer" => Mode::Authorizer,
                    "responder" => Mode::Responder,
                    other => {
                        warnings.push(format!(
                            "WARNING: unknown gw mode: {other} (ignored, mode set to responder)"
                        ));
                        Mode::Responder
                    }
                }
            }
            ("docroot", Typed::Str(s)) => h.docroot = Some(s),
            ("strip-request-uri", Typed::Str(s)) => h.strip_request_uri = Some(s),
            ("fix-root-scriptname", Typed::Bool(b)) => h.fix_root_scriptname = b,
            ("broken-scriptfilename", Typed::Bool(b)) => h.broken_scriptfilename = b,
            ("x-sendfile", Typed::Bool(b)) => h.x_sendfile = b,
            // The old name counts only without the new one (1.4.69), in
            // whatever order they are written.
            ("allow-x-send-file", Typed::Bool(b)) => {
                let new_name_set = opts.entries.iter().any(|e| {
                    e.key
                        .as_deref()
                        .is_some_and(|k| k.eq_ignore_ascii_case("x-sendfile"))
                });
                if !new_name_set {
                    h.x_sendfile = b;
                }
            }
            ("x-sendfile-docroot", Typed::List(a)) => {
                for d in a.iter_strings() {
                    if !d.starts_with('/') {
                        return Err(format!(
                            "x-sendfile-docroot paths must begin with '/'; invalid: \"{d}\""
                        ));
                    }
                    let mut d = crate::http::uri::simplify_path(d);
                    if !d.ends_with('/') {
                        d.push('/');
                    }
                    h.x_sendfile_docroot.push(d);
                }
            }
            ("connect-timeout", Typed::Int(n)) => h.connect_timeout = n,
            ("read-timeout", Typed::Int(n)) => h.read_timeout = n,
            ("write-timeout", Typed::Int(n)) => h.write_timeout = n,
            ("disable-time", Typed::Short(n)) => h.disable_time = n.into(),
            _ => {}
        }
    }
    h.min_procs = h.min_procs.min(h.max_procs);
    if h.bin_path.is_some() && h.min_procs < h.max_procs && MAX_WORKER.get() {
        // The workers share the procs the parent starts: no adaptive
        // spawning (a worker cannot start procs for the others).
        warnings.push("adaptive backend spawning disabled (server.max_worker is non-zero)".into());
        h.min_procs = h.max_procs;
    }
    if h.bin_path.is_some() && RESTART_BG.get() {
        warnings.push(
            "server.graceful-restart-bg disabled (incompatible with fastcgi.server \"bin-path\")"
                .into(),
        );
        RESTART_BG.set(false);
    }
    // An unlabeled host is shown as 1.4.69 shows it: "(null)".
    let shown = if label.is_empty() { "(null)" } else { label };
    let near = format!("{module} = ({ext} => ({shown} ( ...");
    if socket.is_some() && (host.is_some() || port != 0) {
        return Err(format!(
            "either host/port or socket have to be set in: {near}"
        ));
    }
    h.port = port;
    h.addr = match (socket, host) {
        (Some(s), _) => {
            if s.len() >= 108 {
                return Err(format!("unixsocket is too long in: {near}"));
            }
            BackendAddr::Unix(s.into())
        }
        (None, Some(hs)) if hs.starts_with('/') => BackendAddr::Unix(hs.into()),
        (None, host) => {
            if host.is_none() && h.bin_path.is_none() {
                return Err(format!("host or bin-path have to be set in: {near}"));
            }
            // A TCP backend without a port is on port 80, as in 1.4.69.
            let port = if port == 0 { 80 } else { port };
            h.port = port;
            let hs = host.unwrap_or_else(|| "127.0.0.1".to_string());
            let ip = hs.trim_start_matches('[').trim_end_matches(']');
            // Looked up as 1.4.69 does (an IPv6 literal over IPv6), with
            // its message for a name that does not resolve.
            let ip = crate::sys::getaddrinfo(ip, ip.contains(':'))
                .map_err(|(_, why)| format!("getaddrinfo failed: {why} '{hs}'"))?;
            let addr = std::net::SocketAddr::new(ip, port);
            h.host_name = addr.ip().to_string();
            BackendAddr::Tcp(addr)
        }
    };
    if h.bin_path.is_none() {
        // Remote hosts have one proc (fastcgi.md §1).
        h.min_procs = 1;
        h.max_procs = 1;
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::eval::{Input, read_config};

    fn servers(conf: &str) -> Result<Vec<GwExt>, String> {
        let t = read_config(Input::Stdin(conf)).unwrap();
        let Some(Value::Array(a)) = t.global().values.get("fastcgi.server") else {
            panic!("no fastcgi.server")
        };
        parse_servers(
            "fastcgi.server",
            &crate::gw::codec::FASTCGI,
            a,
            &mut Vec::new(),
        )
    }

    #[test]
    fn labeled_and_unlabeled_hosts() {
        let s = servers(
            "fastcgi.server = ( \".php\" => ( \"php\" => ( \"socket\" => \"/tmp/php.sock\" ) ),\n \"/app\" => ( ( \"host\" => \"127.0.0.1\", \"port\" => 9000, \"check-local\" => \"disable\" ) ) )\n",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].hosts[0].label, "php");
        assert_eq!(
            s[0].hosts[0].addr,
            BackendAddr::Unix("/tmp/php.sock".into())
        );
        assert!(s[0].hosts[0].check_local);
        assert_eq!(s[1].hosts[0].label, "");
        assert_eq!(
            s[1].hosts[0].addr,
            BackendAddr::Tcp("127.0.0.1:9000".parse().unwrap())
        );
        assert!(!s[1].hosts[0].check_local);
    }

    #[test]
    fn x_sendfile_wins_over_its_old_name_in_any_order() {
        let x = |opts: &str| {
            let conf = format!(
                "fastcgi.server = ( \".php\" => ( ( \"socket\" => \"/tmp/p.sock\", {opts} ) ) )\n"
            );
            servers(&conf).unwrap()[0].hosts[0].x_sendfile
        };
        assert!(x("\"allow-x-send-file\" => \"enable\""));
        assert!(!x(
            "\"x-sendfile\" => \"disable\", \"allow-x-send-file\" => \"enable\""
        ));
        assert!(!x(
            "\"allow-x-send-file\" => \"enable\", \"x-sendfile\" => \"disable\""
        ));
        assert!(x(
            "\"x-sendfile\" => \"enable\", \"allow-x-send-file\" => \"disable\""
        ));
    }

    #[test]
    fn bin_path_procs_get_socket_n_or_port_n() {
        let s = servers(
            "fastcgi.server = ( \".php\" => ( ( \"socket\" => \"/tmp/p.sock\", \"bin-path\" => \"/usr/bin/php-cgi\", \"max-procs\" => 2 ) ),\n \".py\" => ( ( \"port\" => 9000, \"bin-path\" => \"/x\", \"max-procs\" => 2 ) ) )\n",
        )
        .unwrap();
        let h = &s[0].hosts[0];
        assert_eq!(
            (h.min_procs, h.max_procs),
            (2, 2),
            "min-procs lowered to max-procs"
        );
        assert_eq!(h.proc_addr(0), BackendAddr::Unix("/tmp/p.sock-0".into()));
        assert_eq!(h.proc_addr(1), BackendAddr::Unix("/tmp/p.sock-1".into()));
        assert_eq!(
            s[1].hosts[0].proc_addr(1),
            BackendAddr::Tcp("127.0.0.1:9001".parse().unwrap())
        );
        assert_eq!(s[1].hosts[0].host_name, "127.0.0.1");
    }

    #[test]
    fn fatal_errors() {
        // A socket with a host or a port (1.4.69 checks this first).
        for both in ["\"host\" => \"127.0.0.1\"", "\"port\" => 9000"] {
            let conf = format!(
                "fastcgi.server = ( \".php\" => ( ( \"socket\" => \"/tmp/x.sock\", {both} ) ) )\n"
            );
            let e = servers(&conf).unwrap_err();
            assert!(
                e.starts_with("either host/port or socket have to be set in:"),
                "{e}"
            );
        }
        // A host without a port is on port 80 (not an error in 1.4.69).
        let s = servers("fastcgi.server = ( \".php\" => ( ( \"host\" => \"127.0.0.1\" ) ) )\n")
            .unwrap();
        assert_eq!(
            s[0].hosts[0].addr,
            BackendAddr::Tcp("127.0.0.1:80".parse().unwrap())
        );
        let e =
            servers("fastcgi.server = ( \".php\" => ( ( \"check-local\" => \"disable\" ) ) )\n")
                .unwrap_err();
        assert!(e.starts_with("host or bin-path have to be set in:"), "{e}");
        let e = servers("fastcgi.server = ( \".php\" => ( ( \"port\" => \"abc\", \"host\" => \"127.0.0.1\" ) ) )\n").unwrap_err();
        assert_eq!(e, "got a string but expected a short: port abc");
    }
}
