//! The server: one single-threaded mio event loop (lighttpd's shape). It
//! owns the listeners and a slab of connections indexed by token, accepts,
//! feeds socket readiness to each connection's `drive`, runs a 1 Hz tick for
//! timeouts, and handles signals: SIGTERM stops now, SIGINT shuts down
//! gracefully (listeners closed, idle keep-alive connections closed,
//! in-flight requests finish, at most server.graceful-shutdown-timeout s),
//! SIGUSR1 does the same but keeps the listeners for a restart (cli.rs runs
//! again with the re-read config), SIGHUP reopens the error log, SIGCHLD
//! reaps backend children and a piped logger. Backend sockets get tokens
//! from BACKEND_BASE (gw/mod.rs slots).

use crate::config::Config;
use crate::config::cond_trace::Stage;
use crate::conn::{Conn, State};
use crate::http::date::DateCache;
use crate::http::request::{ParseOpts, RequestHead};
use crate::listen::Listener;
use crate::reqconf::{CompiledConf, RequestConf};
use crate::stream::{Listener as Sock, Stream};
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::backend::SignalDelivery;
use signal_hook::iterator::exfiltrator::WithOrigin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which side of graceful-restart-bg's fork this process is on.
enum Forked {
    Parent,
    Child,
    Failed,
}

/// Tokens below this are listeners; connection i has token CONN_BASE + i.
pub(crate) const CONN_BASE: usize = 1 << 16;
/// The signal socket's token, below the connections and above any
/// listener.
const SIGNAL_TOKEN: usize = CONN_BASE - 1;

/// What connections share: configuration, clock, date cache.
pub struct Shared {
    pub cfg: Config,
    pub compiled: CompiledConf,
    pub parse_opts: ParseOpts,
    pub tokens: Vec<String>,
    pub date: DateCache,
    pub now: i64,
    pub graceful: bool,
    /// `-1`: keep-alive stays allowed during the graceful phase, until
    /// its timeout (as 1.4.69).
    pub oneshot: bool,
    pub stat_cache: std::cell::RefCell<crate::stat_cache::StatCache>,
    /// Scratch space every connection reads into (allocated once).
    pub rbuf: Box<[u8]>,
    /// For registering backend sockets from a connection.
    pub registry: mio::Registry,
    /// The backend hosts' procs and load (src/gw/pool.rs).
    pub gw: crate::gw::pool::Pool,
    /// Bytes written to all clients this second (server.kbytes-per-second).
    pub server_sec_bytes: u64,
    /// Owners of the backend sockets' poll tokens (gw/mod.rs).
    pub slots: std::rc::Rc<std::cell::RefCell<crate::gw::Slots>>,
    /// server.upload-dirs (default $TMPDIR or /var/tmp): request bodies
    /// read in full go to temp files here.
    pub upload_dirs: std::rc::Rc<Vec<String>>,
    /// debug.log-condition-handling, when the configuration turns it on.
    pub cond_trace: Option<crate::config::cond_trace::CondTrace>,
    /// What the last backend read decoded (a buffer kept for all of them).
    pub decoded: crate::gw::codec::Decoded,
}

impl Shared {
    /// Evaluates the conditions for a request and builds its config.
    pub fn request_conf(
        &self,
        head: &RequestHead,
        peer: std::net::IpAddr,
        listener: usize,
    ) -> std::rc::Rc<RequestConf> {
        if self.cfg.tree.blocks.len() == 1 {
            return self.compiled.global();
        }
        let header = |name: &str| head.header(name);
        let input = self.cond_input(head, peer, listener, &header);
        let holds = crate::config::matcher::eval_blocks(&self.cfg.tree, &input);
        if let Some(t) = &self.cond_trace {
            t.run(&self.cfg.tree, &input, &mut |line| {
                crate::log_error!("{line}")
            });
        }
        self.compiled.for_request(&holds)
    }

    /// The request fields conditions compare (`header`: its header lookup).
    fn cond_input<'a>(
        &'a self,
        head: &'a RequestHead,
        peer: std::net::IpAddr,
        listener: usize,
        header: &'a dyn Fn(&str) -> Option<&'a str>,
    ) -> crate::config::matcher::CondInput<'a> {
        crate::config::matcher::CondInput {
            url: head.path(),
            host: head.host().unwrap_or(""),
            query: head.query().unwrap_or(""),
            remote_ip: peer,
            scheme: "http",
            method: head.method.as_str(),
            socket: self.tokens.get(listener).map(String::as_str).unwrap_or(""),
            header,
        }
    }

    /// What mod_staticfile reads for `head` once its URL path became `url`
    /// ([`crate::config::matcher::LateBlocks`]); None when that changes
    /// nothing for this configuration.
    pub fn late_conf(
        &self,
        late: &LateView<'_>,
        url: &str,
        dir: bool,
    ) -> Option<std::rc::Rc<RequestConf>> {
        let blocks = self.compiled.late()?;
        let head = late.head;
        let header = |name: &str| head.header(name);
        let input = self.cond_input(head, late.peer, late.listener, &header);
        let moved = crate::config::matcher::CondInput { url, ..input };
        let early = if dir {
            &blocks.early_dir
        } else {
            &blocks.early
        };
        let holds = crate::config::matcher::eval_blocks_late(&self.cfg.tree, early, &input, &moved);
        Some(self.compiled.for_request(&holds))
    }

    /// debug.log-condition-handling for the blocks `stage` decides, on
    /// the URL path `url` the module sees; once per request (`ran`: the
    /// stages before it that ran).
    pub fn trace_stage(&self, late: &LateView<'_>, stage: Stage, ran: &[Stage], url: &str) {
        let Some(t) = &self.cond_trace else {
            return;
        };
        let done = late.traced.get();
        if done & stage.bit() != 0 {
            return;
        }
        late.traced.set(done | stage.bit());
        let head = late.head;
        let header = |name: &str| head.header(name);
        let input = self.cond_input(head, late.peer, late.listener, &header);
        let now = crate::config::matcher::CondInput { url, ..input };
        t.run_stage(&self.cfg.tree, stage, ran, &input, &now, &mut |line| {
            crate::log_error!("{line}")
        });
    }
}

/// A request as [`Shared::late_conf`] needs it, for the static pipeline
/// ([`crate::response::LateConf`]).
pub struct LateView<'a> {
    pub sh: &'a Shared,
    pub head: &'a RequestHead,
    pub peer: std::net::IpAddr,
    pub listener: usize,
    /// The stages whose condition blocks were traced for this request
    /// (a bit per [`Stage`]).
    pub traced: &'a std::cell::Cell<u8>,
}

/// The stage of 1.4.69's request handling that first reads `key`, and
/// its reader's place in server.modules; None when nothing reads it (an
/// unknown key, or one of a module not `loaded`).
pub fn stage_of_key(key: &str, loaded: &[String]) -> Option<(Stage, usize)> {
    let (Some(m), _) = crate::config::keys::find_key(key)? else {
        return Some((Stage::Core, 0));
    };
    let rank = loaded.iter().position(|l| l == m.name)?;
    let stage = match m.name {
        "mod_alias" => Stage::Physical,
        "mod_indexfile" => Stage::IndexFile,
        "mod_dirlisting" => Stage::DirListing,
        "mod_staticfile" => Stage::Static,
        _ => Stage::Url,
    };
    Some((stage, rank))
}

impl crate::response::LateConf for LateView<'_> {
    fn late_conf(&self, url: &str, dir: bool) -> Option<std::rc::Rc<RequestConf>> {
        self.sh.late_conf(self, url, dir)
    }

    fn trace_stage(&self, stage: Stage, ran: &[Stage], url: &str) {
        self.sh.trace_stage(self, stage, ran, url)
    }
}

/// Set by a signal handler (in addition to the signal socket's byte), so
/// the loop sees a signal as soon as epoll_wait returns, even when the
/// handler ran after the kernel had collected the batch.
fn signal_seen() -> &'static std::sync::Arc<std::sync::atomic::AtomicBool> {
    static FLAG: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
        std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        for sig in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD] {
            if let Err(e) = signal_hook::flag::register(sig, flag.clone()) {
                crate::log_error!("signal handler: {}", crate::sys::strerror(&e));
            }
        }
        flag
    })
}

/// The server's signals (TERM, INT, HUP, USR1, CHLD) delivered through a
/// socket pair registered in `poll` as `token`, with their senders; one
/// per process (a worker or a restarted run makes its own).
pub(crate) type Signals = SignalDelivery<mio::net::UnixStream, WithOrigin>;

pub(crate) fn signal_socket(poll: &Poll, token: Token) -> std::io::Result<Signals> {
    let (read, write) = std::os::unix::net::UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    let mut signals = SignalDelivery::with_pipe(
        mio::net::UnixStream::from_std(read),
        write,
        WithOrigin::default(),
        [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD],
    )?;
    poll.registry()
        .register(signals.get_read_mut(), token, Interest::READABLE)?;
    Ok(signals)
}

/// A module's settings were refused (the reason is logged first); the
/// error's text is 1.4.69's last line, logged as it is.
pub fn plugins_failed() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "Configuration of plugins failed. Going down.",
    )
}

pub struct Server {
    poll: Poll,
    listeners: Vec<Option<Sock>>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    sh: Shared,
    /// Signals arrive through a socket pair the loop polls, so a SIGCHLD
    /// (a backend died) is handled at once, not at the next tick.
    signals: Signals,
    max_conns: usize,
    /// server.max-fds, and the marks of 1.4.69's out-of-fds check: the
    /// listeners leave the poll above 90% of it and come back below 80%.
    max_fds: usize,
    /// Descriptors the server held when its loop started (listeners,
    /// logs, the poll and signal sockets, standard streams).
    base_fds: usize,
    /// The listeners are out of the poll (connection limit or out of fds).
    sockets_disabled: bool,
    /// An accept failed for want of descriptors: try again next turn.
    accept_stalled: bool,
    idle_limit: Option<i64>,
    /// The graceful shutdown under way is -i's (idle_limit).
    idle_stop: bool,
    /// The last accept or close: -i stops the server idle_limit + 1 s
    /// after it, to the millisecond as 1.4.69 does.
    last_activity: std::time::Instant,
    graceful_deadline: i64,
    /// Connections that yielded with more to write (run again next turn).
    jobs: Vec<usize>,
    /// SIGUSR1: after the graceful drain the caller starts again with a
    /// re-read config and these listening sockets (never closed).
    restart: bool,
    kept: Vec<crate::listen::Listener>,
    /// Who sent the signal that started the graceful shutdown.
    stop_by: (u32, i32),
    /// `-1`: one connection from stdin, then exit.
    oneshot: bool,
    /// A server.max-worker worker: SIGUSR1 is the parent's to act on
    /// (it sends SIGINT to the workers), so it is ignored here.
    pub worker: bool,
    /// server.feature-flags "server.graceful-restart-bg" (and what 1.4.69
    /// also asks for it: not in a chroot, the binary named by a path): a
    /// graceful restart forks the connections in progress off to a
    /// process of their own, and the restart goes on at once (argv[0] run
    /// again in this process, cli.rs).
    pub restart_bg: bool,
    /// In that process (the previous generation): it serves on, listeners
    /// and all, until the restarted server sends it SIGINT, then finishes
    /// its connections; it leaves the pid file and the backends alone.
    pub prev_generation: bool,
    /// The previous generation forked off by this run's restart.
    pub bg_child: Option<u32>,
    /// Previous generations still finishing: reaped when they exit.
    pub prev_generations: Vec<u32>,
    /// The previous generation to tell to finish, and the second to do it
    /// in (see [`Server::tell_prev_generation`]).
    prev_to_tell: Option<(u32, i64)>,
}

/// `-1` on a pipe: the local and the peer address, netcat's when it set
/// NCAT_LOCAL_ADDR (then NCAT_LOCAL_PORT, NCAT_REMOTE_ADDR and
/// NCAT_REMOTE_PORT too), else the ones 1.4.69 makes up: 127.0.0.1:80 and
/// 127.0.0.1:48080. As in 1.4.69 the remote address is read in the local
/// one's family (IPv6 when it holds a `:`) and the ports as strtol reads
/// them; Err when nothing is to be served: one of the four missing
/// (silently), or an address that does not parse (with 1.4.69's line).
fn netcat_addrs(
    var: impl Fn(&str) -> Option<String>,
) -> Result<(std::net::SocketAddr, std::net::SocketAddr), Option<&'static str>> {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    let Some(local) = var("NCAT_LOCAL_ADDR") else {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        return Ok((SocketAddr::new(lo, 80), SocketAddr::new(lo, 48080)));
    };
    let (Some(local_port), Some(remote), Some(remote_port)) = (
        var("NCAT_LOCAL_PORT"),
        var("NCAT_REMOTE_ADDR"),
        var("NCAT_REMOTE_PORT"),
    ) else {
        return Err(None);
    };
    let v6 = local.contains(':');
    let ip = |a: &str| -> Option<IpAddr> {
        if v6 {
            a.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
        } else {
            a.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
        }
    };
    let local = ip(&local).ok_or(Some("invalid local addr"))?;
    let remote = ip(&remote).ok_or(Some("invalid remote addr"))?;
    Ok((
        SocketAddr::new(local, strtol_port(&local_port)),
        SocketAddr::new(remote, strtol_port(&remote_port)),
    ))
}

/// A port as 1.4.69 reads one from the environment: strtol (leading
/// blanks, a sign, the digits up to the first other character; none: 0)
/// cast to an unsigned short.
fn strtol_port(s: &str) -> u16 {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for b in t.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    (if neg { n.wrapping_neg() } else { n }) as u16
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How the loop ended: 0, or 1 when connections were still open.
pub type ExitCode = i32;

/// What the modules made of the configuration, with the FastCGI
/// backends started: done once, before server.max-worker forks the
/// workers that share it (src/workers.rs).
pub struct Prepared {
    pub cfg: Config,
    compiled: CompiledConf,
    pub gw: crate::gw::pool::Pool,
}

impl Server {
    /// The modules take their settings (1.4.69's set_defaults): the
    /// request config is compiled and bin-path backends are started.
    pub fn prepare(cfg: Config) -> std::io::Result<Prepared> {
        let compiled = CompiledConf::compile(&cfg.tree, &cfg.modules.modules).map_err(|e| {
            crate::log_error!("{e}");
            plugins_failed()
        })?;
        let gw =
            crate::gw::pool::Pool::start(&compiled.fastcgi_hosts(), now_secs()).map_err(|e| {
                e.lines().for_each(|l| crate::log_error!("{l}"));
                plugins_failed()
            })?;
        Ok(Prepared { cfg, compiled, gw })
    }

    pub fn new(
        prepared: Prepared,
        listeners: Vec<Listener>,
        idle_limit: Option<i64>,
        max_fds: usize,
    ) -> std::io::Result<Self> {
        let Prepared { cfg, compiled, gw } = prepared;
        let poll = Poll::new()?;
        let mut ls = Vec::new();
        let mut tokens = Vec::new();
        for (i, l) in listeners.into_iter().enumerate() {
            let mut m = Sock::from_std(l.socket);
            poll.registry()
                .register(&mut m, Token(i), Interest::READABLE)?;
            ls.push(Some(m));
            tokens.push(l.token);
        }
        let parse_opts = parse_opts(&cfg);
        let upload_dirs = std::rc::Rc::new(upload_dirs(&cfg));
        let signals = signal_socket(&poll, Token(SIGNAL_TOKEN))?;
        signal_seen();
        let loaded = &cfg.modules.modules;
        let cond_trace =
            crate::config::cond_trace::CondTrace::new(&cfg.tree, |k| stage_of_key(k, loaded));
        // server.max-connections: at most half of max-fds (with 1.4.69's
        // note), a third of it by default.
        let max_fds = max_fds.max(32);
        let max_conns = match cfg.tree.global().values.get("server.max-connections") {
            Some(crate::config::value::Value::Int(n)) if *n as usize > max_fds / 2 => {
                crate::log_error!("can't have more connections than fds/2: {n} {max_fds}");
                max_fds / 2
            }
            Some(crate::config::value::Value::Int(n)) if *n > 0 => *n as usize,
            _ => max_fds / 3,
        };
        let now = now_secs();
        let registry = poll.registry().try_clone()?;
        // "fam" and "inotify" are served as "simple" (doc/compat.md).
        let always_stat = matches!(
            cfg.tree.global().values.get("server.stat-cache-engine"),
            Some(crate::config::value::Value::Str(e)) if e == "disable" || e == "none"
        );
        // Counted once: what else the server opens is counted as it goes.
        let base_fds = std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count().saturating_sub(1))
            .unwrap_or(ls.len() + 8);
        Ok(Server {
            poll,
            listeners: ls,
            conns: Vec::new(),
            free: Vec::new(),
            sh: Shared {
                cfg,
                compiled,
                parse_opts,
                tokens,
                date: DateCache::default(),
                now,
                graceful: false,
                oneshot: false,
                // Each cached file can hold a descriptor: a quarter of the
                // fd budget at most, so a site with many files cannot run
                // the server out of descriptors (with a 1024 limit, 256).
                stat_cache: std::cell::RefCell::new(
                    crate::stat_cache::StatCache::with_limit(
                        (max_fds / 4).min(crate::stat_cache::MAX_ENTRIES),
                    )
                    .always_stat(always_stat),
                ),
                rbuf: vec![0u8; 16 * 1024].into_boxed_slice(),
                registry,
                gw,
                server_sec_bytes: 0,
                slots: Default::default(),
                upload_dirs,
                cond_trace,
                decoded: Default::default(),
            },
            signals,
            max_conns,
            max_fds,
            base_fds,
            sockets_disabled: false,
            accept_stalled: false,
            idle_limit,
            idle_stop: false,
            last_activity: std::time::Instant::now(),
            graceful_deadline: 0,
            jobs: Vec::new(),
            restart: false,
            kept: Vec::new(),
            stop_by: (0, 0),
            oneshot: false,
            worker: false,
            restart_bg: false,
            prev_generation: false,
            bg_child: None,
            prev_generations: Vec::new(),
            prev_to_tell: None,
        })
    }

    /// Runs until stopped.
    pub fn run(&mut self) -> ExitCode {
        let code = self.run_loop();
        self.sh.gw.shutdown(self.restart);
        code
    }

    /// `-1`: serves the connection on stdin and nothing else; the run
    /// ends when it closes (or after the graceful-shutdown timeout).
    /// `sockets`: the configured ones ([`crate::listen::oneshot_sockets`]);
    /// the connection takes the token of the one 1.4.69 would see it come
    /// through, for `$SERVER["socket"]`. A pipe has no addresses: as
    /// 1.4.69, they are netcat's (NCAT_LOCAL_ADDR / _PORT, NCAT_REMOTE_ADDR
    /// / _PORT) when it set them, else 127.0.0.1:80 and 127.0.0.1:48080;
    /// SERVER_ADDR and SERVER_PORT are then the chosen socket's (the
    /// address empty for an any-address socket).
    pub fn adopt_oneshot(
        &mut self,
        input: crate::sys::OneshotInput,
        sockets: &[(Option<std::net::SocketAddr>, String)],
    ) {
        use crate::sys::OneshotInput;
        use std::net::{IpAddr, Ipv4Addr, SocketAddr};
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        // (the stream, the peer, the local address, a unix socket's path)
        let (sock, peer, local, path) = match input {
            OneshotInput::Tcp(t) => {
                let _ = t.set_nonblocking(true);
                // Not from a listener of ours, which would have set it.
                let _ = t.set_nodelay(true);
                let peer = t.peer_addr().unwrap_or(SocketAddr::new(any, 0));
                let local = t.local_addr().ok();
                (
                    Stream::Tcp(mio::net::TcpStream::from_std(t)),
                    peer,
                    local,
                    None,
                )
            }
            OneshotInput::Unix(u) => {
                let _ = u.set_nonblocking(true);
                let path = u
                    .local_addr()
                    .ok()
                    .and_then(|a| a.as_pathname().map(|p| p.to_string_lossy().into_owned()));
                let s = Stream::Unix(mio::net::UnixStream::from_std(u));
                (s, SocketAddr::new(any, 0), None, path)
            }
            OneshotInput::Pipe(rx, tx) => {
                let rx = mio::unix::pipe::Receiver::from(rx);
                let tx = mio::unix::pipe::Sender::from(tx);
                let _ = rx.set_nonblocking(true);
                let _ = tx.set_nonblocking(true);
                let pipe = Stream::Pipe {
                    rx,
                    tx: Some(tx),
                    tx_registered: false,
                };
                match netcat_addrs(|k| std::env::var(k).ok()) {
                    Ok((local, peer)) => (pipe, peer, Some(local), None),
                    Err(why) => {
                        // Nothing to serve: the run ends at once.
                        if let Some(why) = why {
                            crate::log_error!("{why}");
                        }
                        self.oneshot = true;
                        self.sh.oneshot = true;
                        self.start_graceful();
                        return;
                    }
                }
            }
            OneshotInput::Other => return,
        };
        let chosen = crate::listen::pick_oneshot_socket(sockets, local, path.as_deref());
        self.sh.tokens = chosen
            .map(|i| vec![sockets[i].1.clone()])
            .unwrap_or_default();
        // A pipe's SERVER_ADDR / SERVER_PORT are the socket's (no address
        // for an any-address socket, as getsockname fails on a pipe).
        let socket_addr = chosen.and_then(|i| sockets[i].0);
        self.oneshot = true;
        self.sh.oneshot = true;
        self.start_graceful();
        self.add_conn_with(sock, peer.ip(), peer.port(), 0, |c| {
            if matches!(c.sock, Stream::Pipe { .. }) {
                c.set_local(Some(socket_addr.unwrap_or(SocketAddr::new(any, 0))));
            }
        });
    }

    /// After run(): the listening sockets to start again with, when the
    /// run ended in a graceful restart (SIGUSR1).
    pub fn take_restart(&mut self) -> Option<Vec<crate::listen::Listener>> {
        self.restart.then(|| std::mem::take(&mut self.kept))
    }

    fn run_loop(&mut self) -> ExitCode {
        let mut events = Events::with_capacity(1024);
        let mut last_tick = self.sh.now;
        loop {
            // With connections waiting to write more, do not sleep.
            let timeout = if self.jobs.is_empty() {
                // Wake at the next second: the once-a-second work (timeouts,
                // backend maintenance) then runs on time.
                let ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.subsec_millis() as u64)
                    .unwrap_or(0);
                let tick = Duration::from_millis(1001 - ms);
                match self.idle_deadline() {
                    Some(at) => tick.min(at.saturating_duration_since(std::time::Instant::now())),
                    None => tick,
                }
            } else {
                Duration::ZERO
            };
            // A signal makes the signal socket readable; one that
            // interrupts epoll_wait is handled at once too.
            let mut check_signals = false;
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => check_signals = true,
                Err(e) => {
                    crate::log_error!("poll failed: {}", crate::sys::strerror(&e));
                    return 1;
                }
            }
            let now = now_secs();
            if now != self.sh.now {
                check_signals = true;
            }
            self.sh.now = now;
            // Signals first: a backend's SIGCHLD that came with a new
            // request is handled (the proc respawned) before the request
            // looks for a proc, and a SIGUSR1 whose handler ran as
            // epoll_wait returned (its byte not yet in this batch) stops
            // the run before it accepts a client with the old config.
            check_signals |= signal_seen().swap(false, std::sync::atomic::Ordering::SeqCst)
                || events.iter().any(|ev| ev.token().0 == SIGNAL_TOKEN);
            if check_signals && let Some(code) = self.handle_signals() {
                return code;
            }
            for ev in events.iter() {
                let t = ev.token().0;
                if t == SIGNAL_TOKEN {
                    continue;
                } else if t < CONN_BASE {
                    self.accept(t);
                } else if t >= crate::conn_backend::BACKEND_BASE {
                    let slot = t - crate::conn_backend::BACKEND_BASE;
                    // An idle kept connection has no owner: its events
                    // wait for the liveness check at reuse.
                    let Some(i) = self.sh.slots.borrow().owner(slot) else {
                        continue;
                    };
                    if let Some(Some(c)) = self.conns.get_mut(i) {
                        if let Some(b) = c.backend.as_mut() {
                            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                                b.gw.readable = true;
                            }
                            if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
                                b.gw.writable = true;
                            }
                        }
                        self.drive(i);
                        // A kept connection it freed goes to the next
                        // waiting request now, not after the whole batch:
                        // the backend's worker is idle until then.
                        self.wake_waiters();
                    }
                } else {
                    let i = t - CONN_BASE;
                    if let Some(Some(c)) = self.conns.get_mut(i) {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            c.readable = true;
                        }
                        if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
                            c.writable = true;
                        }
                        self.drive(i);
                    }
                }
            }
            for i in std::mem::take(&mut self.jobs) {
                self.drive(i);
            }
            self.wake_waiters();
            self.load_check();
            if std::mem::take(&mut self.accept_stalled) && !self.sockets_disabled {
                for li in 0..self.listeners.len() {
                    self.accept(li);
                }
            }
            if self.sh.now != last_tick {
                last_tick = self.sh.now;
                self.tick();
            } else {
                self.idle_check();
            }
            if self.sh.graceful {
                if !self.oneshot {
                    self.close_idle();
                }
                let open = self.conns.iter().filter(|c| c.is_some()).count();
                if open == 0 || self.sh.now > self.graceful_deadline {
                    if self.idle_stop {
                        crate::log_error!("server stopped after idle timeout");
                    } else if !self.oneshot {
                        let (uid, pid) = self.stop_by;
                        crate::log_error!("server stopped by UID = {uid} PID = {pid}");
                    }
                    return if open == 0 { 0 } else { 1 };
                }
            }
        }
    }

    /// kbytes-per-second: a new second's allowance. A throttled connection
    /// writes again once its average since it began is under its limit
    /// (as 1.4.69).
    fn release_throttled(&mut self) {
        self.sh.server_sec_bytes = 0;
        let now = self.sh.now;
        let mut ready = Vec::new();
        for (i, c) in self.conns.iter_mut().enumerate() {
            let Some(c) = c else { continue };
            c.sec_bytes = 0;
            let elapsed = (now - c.born).max(1) as u64;
            if c.throttled && (c.kbps == 0 || c.out_written() < c.kbps as u64 * 1024 * elapsed) {
                c.throttled = false;
                ready.push(i);
            }
        }
        for i in ready {
            self.drive(i);
        }
    }

    /// Runs the requests whose backend connection is free
    /// (connection-reuse queues).
    fn wake_waiters(&mut self) {
        for _ in 0..64 {
            // connection-pipelining: a backend request that has been sent
            // takes the request that started waiting behind it.
            for (i, serial) in self.sh.gw.take_kicks() {
                if let Some(Some(c)) = self.conns.get_mut(i)
                    && c.serial == serial
                    && c.state == State::Backend
                {
                    self.drive(i);
                }
            }
            let wakes = self.sh.gw.take_wakes();
            if wakes.is_empty() {
                return;
            }
            for (i, serial) in wakes {
                if let Some(Some(c)) = self.conns.get_mut(i)
                    && c.serial == serial
                    && c.state == State::WaitBackend
                {
                    c.woken = true;
                    self.drive(i);
                } else {
                    self.sh.gw.drop_handoff((i, serial));
                }
            }
        }
    }

    /// Runs connection `i`'s state machine; closes it or queues it again.
    fn drive(&mut self, i: usize) {
        let Some(Some(c)) = self.conns.get_mut(i) else {
            return;
        };
        c.drive(&mut self.sh);
        if c.state == State::Closed {
            self.close(i);
        } else if c.yielded && !self.jobs.contains(&i) {
            self.jobs.push(i);
        }
    }

    fn handle_signals(&mut self) -> Option<ExitCode> {
        let mut got = Vec::new();
        for info in self.signals.pending() {
            got.push(info);
        }
        for info in got {
            let (uid, pid) = info.process.map(|p| (p.uid, p.pid)).unwrap_or((0, 0));
            match info.signal {
                SIGTERM => {
                    crate::log_error!("server stopped by UID = {uid} PID = {pid}");
                    let open = self.conns.iter().any(|c| c.is_some());
                    return Some(if open { 1 } else { 0 });
                }
                SIGINT if self.sh.graceful => {
                    crate::log_error!("server stopped by UID = {uid} PID = {pid}");
                    return Some(1);
                }
                SIGUSR1 if self.worker => {}
                SIGINT | SIGUSR1 if self.sh.graceful => {}
                SIGINT | SIGUSR1 => {
                    // SIGUSR1: a graceful restart, except in a chroot
                    // (as 1.4.69: the config could not be read again).
                    crate::log_error!("[note] graceful shutdown started");
                    self.stop_by = (uid, pid);
                    // (the previous generation of a graceful-restart-bg
                    // restart is not restarted again: it only finishes)
                    self.restart = info.signal == SIGUSR1
                        && !self.prev_generation
                        && self
                            .sh
                            .cfg
                            .tree
                            .global()
                            .values
                            .get("server.chroot")
                            .is_none();
                    if self.restart && self.restart_bg {
                        self.restart_bg = false;
                        match self.fork_off_connections() {
                            Forked::Parent => return Some(0),
                            // It goes on serving until told to finish.
                            Forked::Child => continue,
                            Forked::Failed => {}
                        }
                    }
                    self.start_graceful();
                }
                SIGCHLD => {
                    self.prev_generations.retain(|&p| !crate::sys::reaped(p));
                    self.sh.gw.reap(self.sh.now);
                    crate::log::check_pipe(self.sh.now);
                }
                SIGHUP => {
                    crate::log::reopen();
                    crate::log_error!("logfiles cycled UID = {uid} PID = {pid}");
                }
                _ => {}
            }
        }
        None
    }

    /// server.graceful-restart-bg, as 1.4.69 does it: a child (the
    /// previous generation) goes on with the connections in progress and
    /// the listeners, serving as before, until the restarted server sends
    /// it SIGINT; here the connections are let go (their descriptors
    /// closed, the connections untouched) and the listeners kept for the
    /// restart (cli.rs runs argv[0] again with them). Nothing is taken out
    /// of the poll instance: the child shares it.
    fn fork_off_connections(&mut self) -> Forked {
        let open = self.conns.iter().filter(|c| c.is_some()).count();
        match crate::sys::fork() {
            Ok(None) => {
                self.prev_generations.clear();
                self.restart = false;
                self.prev_generation = true;
                self.sh.gw.forget_children();
                crate::log_error!(
                    "[note] pid {} continuing to handle {open} connection(s) in progress",
                    std::process::id()
                );
                Forked::Child
            }
            Ok(Some(pid)) => {
                for (i, l) in self.listeners.iter_mut().enumerate() {
                    if let Some(m) = l.take() {
                        let token = self.sh.tokens.get(i).cloned().unwrap_or_default();
                        self.kept
                            .push(crate::listen::Listener::from_running(m, token));
                    }
                }
                self.conns.clear();
                self.free.clear();
                self.jobs.clear();
                self.bg_child = Some(pid);
                Forked::Parent
            }
            Err(e) => {
                crate::log_error!("fork failed: {}", crate::sys::strerror(&e));
                Forked::Failed
            }
        }
    }

    /// The restarted server is up: the previous generation of a
    /// graceful-restart-bg restart is sent SIGINT a second later, not at
    /// once as 1.4.69 does it. A 1.4.69 previous generation that gets the
    /// signal before it has settled after its fork takes it for a second
    /// SIGINT and stops at once, cutting its downloads (seen with 1.4.69
    /// handing over to us, whose start is quicker than its own).
    pub fn tell_prev_generation(&mut self, pid: u32) {
        self.prev_to_tell = Some((pid, self.sh.now + 1));
        if !self.prev_generations.contains(&pid) {
            self.prev_generations.push(pid);
        }
    }

    /// The restarted server is up: the previous generation
    /// (graceful-restart-bg) is told to finish (SIGINT), as 1.4.69 does.
    pub fn signal_prev_generation(pid: u32) {
        if !crate::sys::exited(pid) {
            crate::sys::kill(pid, libc::SIGINT);
        }
    }

    fn start_graceful(&mut self) {
        self.sh.graceful = true;
        let timeout = match self.sh.cfg.tree.global().values.get("server.feature-flags") {
            Some(crate::config::value::Value::Array(a)) => {
                match a.get("server.graceful-shutdown-timeout") {
                    Some(crate::config::value::Value::Int(n)) => *n as i64,
                    Some(crate::config::value::Value::Str(s)) => s.parse().unwrap_or(8),
                    _ => 8,
                }
            }
            _ => 8,
        };
        self.graceful_deadline = self.sh.now + if timeout > 0 { timeout } else { i64::MAX / 4 };
        for (i, l) in self.listeners.iter_mut().enumerate() {
            if let Some(mut m) = l.take() {
                let _ = self.poll.registry().deregister(&mut m);
                // A restart keeps the sockets open: clients that connect
                // meanwhile wait in the backlog for the next run.
                if self.restart {
                    let token = self.sh.tokens.get(i).cloned().unwrap_or_default();
                    self.kept
                        .push(crate::listen::Listener::from_running(m, token));
                }
            }
        }
    }

    /// Descriptors in use: those held at the start, the client
    /// connections, backend sockets and the files the stat cache holds.
    fn fds_in_use(&self) -> usize {
        self.base_fds
            + (self.conns.len() - self.free.len())
            + self.sh.slots.borrow().in_use()
            + self.sh.stat_cache.borrow().open_files()
    }

    /// server.max-connections and server.max-fds, as 1.4.69 applies them:
    /// at the connection limit, or with more than 90% of max-fds in use,
    /// the listening sockets leave the poll (new clients wait in the
    /// backlog, none is accepted and dropped); they come back once the
    /// connections are under the limit and under 80% of max-fds are in
    /// use, each time with lighttpd's note.
    fn load_check(&mut self) {
        if self.sh.graceful {
            return;
        }
        let open = self.conns.len() - self.free.len();
        let fds = self.fds_in_use();
        let note = if !self.sockets_disabled {
            if open >= self.max_conns {
                "[note] sockets disabled, connection limit reached"
            } else if fds > self.max_fds * 9 / 10 {
                "[note] sockets disabled, out-of-fds"
            } else {
                return;
            }
        } else if open < self.max_conns && fds < self.max_fds * 8 / 10 {
            "[note] sockets enabled again"
        } else {
            return;
        };
        let disable = !self.sockets_disabled;
        self.sockets_disabled = disable;
        for (i, l) in self.listeners.iter_mut().enumerate() {
            let Some(m) = l.as_mut() else { continue };
            let r = self.poll.registry();
            let _ = if disable {
                r.deregister(m)
            } else {
                r.register(m, Token(i), Interest::READABLE)
            };
        }
        crate::log_error!("{note}");
    }

    fn close_idle(&mut self) {
        for i in 0..self.conns.len() {
            if self.conns[i]
                .as_ref()
                .is_some_and(|c| c.is_idle_keepalive())
            {
                self.close(i);
            }
        }
    }

    fn accept(&mut self, li: usize) {
        loop {
            let Some(Some(l)) = self.listeners.get(li) else {
                return;
            };
            match l.accept() {
                Ok((sock, peer, peer_port)) => {
                    self.last_activity = std::time::Instant::now();
                    self.add_conn(sock, peer, peer_port, li);
                    // At the limits the listeners leave the poll (load_check).
                    if self.conns.len() - self.free.len() >= self.max_conns
                        || self.fds_in_use() > self.max_fds * 9 / 10
                    {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Out of descriptors: the client stays in the backlog and
                // is accepted once one is free (after the loop's next turn;
                // the listener is edge-triggered, so no new event would
                // come for it). Silent, as in 1.4.69.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    self.accept_stalled = true;
                    return;
                }
                Err(e) => {
                    crate::log_error!("accept failed: {}", crate::sys::strerror(&e));
                    return;
                }
            }
        }
    }

    fn add_conn(&mut self, sock: Stream, peer: std::net::IpAddr, peer_port: u16, li: usize) {
        self.add_conn_with(sock, peer, peer_port, li, |_| {});
    }

    /// [`Server::add_conn`], with `setup` run on the connection before its
    /// first turn.
    fn add_conn_with(
        &mut self,
        sock: Stream,
        peer: std::net::IpAddr,
        peer_port: u16,
        li: usize,
        setup: impl FnOnce(&mut Conn),
    ) {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        // TCP_NODELAY comes from the listener (stream.rs).
        let mut c = Conn::new(sock, peer, li, self.sh.now);
        c.index = i;
        c.peer_port = peer_port;
        setup(&mut c);
        // The request usually came with the connection: read and answered
        // before the socket is polled at all (edge-triggered: registered
        // afterwards, it still reports what is pending then).
        c.drive(&mut self.sh);
        if c.state != State::Closed && !c.registered {
            let token = Token(CONN_BASE + i);
            if self
                .poll
                .registry()
                .register(&mut c.sock, token, Interest::READABLE)
                .is_err()
            {
                c.state = State::Closed;
            }
            c.registered = true;
        }
        if c.state == State::Closed {
            // Closing the socket takes it out of the poll.
            self.free.push(i);
        } else {
            if c.yielded {
                self.jobs.push(i);
            }
            self.conns[i] = Some(c);
        }
    }

    fn close(&mut self, i: usize) {
        if self.conns.get_mut(i).and_then(Option::take).is_some() {
            // Closing the socket (no other descriptor refers to it: accepted
            // with SOCK_CLOEXEC, never duplicated) takes it out of the poll,
            // and so does a backend socket closed with the connection.
            self.free.push(i);
            self.last_activity = std::time::Instant::now();
        }
    }

    /// Once a second: idle, read and write timeouts, lingering closes, the
    /// backend hosts' maintenance.
    fn tick(&mut self) {
        if let Some((pid, due)) = self.prev_to_tell
            && self.sh.now >= due
        {
            self.prev_to_tell = None;
            Self::signal_prev_generation(pid);
        }
        self.sh.gw.trigger(self.sh.now);
        crate::log::check_pipe(self.sh.now);
        self.release_throttled();
        let g = self.sh.compiled.global();
        let now = self.sh.now;
        for i in 0..self.conns.len() {
            let Some(c) = &self.conns[i] else { continue };
            let expired = match c.state {
                State::ReadHead if c.is_idle_keepalive() => {
                    now - c.last_read > g.max_keep_alive_idle as i64
                }
                State::ReadHead | State::ReadBody => now - c.last_read > g.max_read_idle as i64,
                // Waits for a busy backend connection to finish.
                State::WaitBackend => false,
                State::Write => now - c.last_write > g.max_write_idle as i64,
                // The host's connect/read/write-timeout (conn_backend/open.rs).
                State::Backend => false,
                State::Linger => now > c.linger_until,
                State::Closed => true,
            };
            if c.state == State::Backend {
                // 1.4.69's max-write-idle also bounds a backend that stops
                // once the response has started.
                let stalled = c.response_started() && now - c.last_write > g.max_write_idle as i64;
                if stalled {
                    self.log_write_timeout(i, g.max_write_idle);
                    self.close(i);
                } else if let Some(Some(c)) = self.conns.get_mut(i)
                    && c.backend_timeouts(&mut self.sh)
                {
                    self.drive(i);
                }
                continue;
            }
            if expired {
                let fd = std::os::fd::AsRawFd::as_raw_fd(&c.sock);
                match c.state {
                    State::ReadHead if c.is_idle_keepalive() && g.log_request_handling => {
                        crate::log_error!("connection closed - keep-alive timeout: {fd}");
                    }
                    State::ReadHead if c.is_idle_keepalive() => {}
                    State::ReadHead | State::ReadBody if g.log_request_handling => {
                        crate::log_error!("connection closed - read timeout: {fd}");
                    }
                    State::Write => self.log_write_timeout(i, g.max_write_idle),
                    _ => {}
                }
                self.close(i);
            }
        }
        self.idle_check();
    }

    /// -i: when the server will have been idle long enough (no connection
    /// open, none accepted or closed for idle_limit + 1 s), if it is to
    /// stop for that.
    fn idle_deadline(&self) -> Option<std::time::Instant> {
        let limit = self.idle_limit?;
        if self.sh.graceful || self.conns.len() != self.free.len() {
            return None;
        }
        Some(self.last_activity + Duration::from_secs(limit as u64 + 1))
    }

    fn idle_check(&mut self) {
        if let (Some(limit), Some(at)) = (self.idle_limit, self.idle_deadline())
            && std::time::Instant::now() >= at
        {
            crate::log_error!(
                "[note] idle timeout {limit}s exceeded, initiating graceful shutdown"
            );
            crate::log_error!("[note] graceful shutdown started");
            self.idle_stop = true;
            self.start_graceful();
        }
    }
}

impl Server {
    /// debug.log-timeouts: the note 1.4.69 writes when a response stalls.
    fn log_write_timeout(&self, i: usize, idle: u32) {
        if let Some(Some(c)) = self.conns.get(i)
            && let Some(target) = &c.timeout_note
        {
            crate::log_error!(
                "NOTE: a request from {} for {target} timed out after writing {} bytes. We waited {idle} seconds. If this is a problem, increase server.max-write-idle",
                c.peer,
                c.out_written()
            );
        }
    }
}

/// server.upload-dirs, or $TMPDIR, or /var/tmp.
fn upload_dirs(cfg: &Config) -> Vec<String> {
    use crate::config::value::Value;
    match cfg.tree.global().values.get("server.upload-dirs") {
        Some(Value::Array(a)) if a.iter_strings().next().is_some() => {
            a.iter_strings().map(str::to_string).collect()
        }
        _ => vec![std::env::var("TMPDIR").unwrap_or_else(|_| "/var/tmp".to_string())],
    }
}

/// The request-parsing options from the global config.
fn parse_opts(cfg: &Config) -> ParseOpts {
    use crate::config::scoped::to_bool;
    use crate::config::value::Value;
    let g = &cfg.tree.global().values;
    let mut o = ParseOpts::default();
    if let Some(Value::Int(n)) = g.get("server.max-request-field-size") {
        o.max_request_field_size = *n as u32 as usize;
    }
    if let Some(Value::Array(a)) = g.get("server.http-parseopts") {
        let mut entries: Vec<(&str, bool)> = a
            .entries
            .iter()
            .filter_map(|e| Some((e.key.as_deref()?, to_bool(&e.value)?)))
            .collect();
        // "url-normalize" => "disable" ends the list for 1.4.69: later
        // entries (header-strict ...) are not read
        if let Some(i) = entries.iter().position(|&e| e == ("url-normalize", false)) {
            entries.truncate(i + 1);
        }
        for &(k, on) in &entries {
            set_parseopt(&mut o, k, on);
        }
        // Conflicts were refused at start-up.
        o.url = crate::http::uri::UrlOpts::from_entries(entries).unwrap_or_default();
    }
    for (key, opt) in [
        ("server.http-parseopt-header-strict", "header-strict"),
        ("server.http-parseopt-host-strict", "host-strict"),
        ("server.http-parseopt-host-normalize", "host-normalize"),
    ] {
        if let Some(on) = g.get(key).and_then(to_bool) {
            set_parseopt(&mut o, opt, on);
        }
    }
    // server.max-request-size is checked per request, after conditionals
    // (conn.rs), not by the head parser.
    o
}

/// One server.http-parseopts entry other than the url-* ones (those are
/// read together by UrlOpts::from_entries). Names were checked at start-up.
fn set_parseopt(o: &mut ParseOpts, name: &str, on: bool) {
    match name {
        "header-strict" => o.header_strict = on,
        "host-strict" => o.host_strict = on,
        "host-normalize" => o.host_normalize = on,
        "method-get-body" => o.method_get_body = on,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{netcat_addrs, strtol_port};

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn netcat_addresses_as_1_4_69_reads_them() {
        let ok =
            |v: &[(&str, &str)]| netcat_addrs(env(v)).map(|(l, r)| (l.to_string(), r.to_string()));
        let s = |a: &str, b: &str| Ok((a.to_string(), b.to_string()));
        assert_eq!(ok(&[]), s("127.0.0.1:80", "127.0.0.1:48080"));
        let all = [
            ("NCAT_LOCAL_ADDR", "10.0.0.1"),
            ("NCAT_LOCAL_PORT", "8080"),
            ("NCAT_REMOTE_ADDR", "10.0.0.2"),
            ("NCAT_REMOTE_PORT", "5000"),
        ];
        assert_eq!(ok(&all), s("10.0.0.1:8080", "10.0.0.2:5000"));
        // one of the four missing: nothing served, nothing said
        assert_eq!(ok(&all[..3]), Err(None));
        let with = |k: &str, v: &'static str| {
            let mut e: Vec<(&str, &str)> = all.to_vec();
            e.iter_mut().filter(|(n, _)| *n == k).for_each(|p| p.1 = v);
            netcat_addrs(env(&e)).map(|(l, r)| (l.to_string(), r.to_string()))
        };
        assert_eq!(
            with("NCAT_LOCAL_ADDR", "bogus"),
            Err(Some("invalid local addr"))
        );
        assert_eq!(
            with("NCAT_REMOTE_ADDR", "zzz"),
            Err(Some("invalid remote addr"))
        );
        // the remote address in the local one's family
        assert_eq!(
            with("NCAT_LOCAL_ADDR", "::1"),
            Err(Some("invalid remote addr"))
        );
        assert_eq!(
            with("NCAT_LOCAL_PORT", "abc"),
            s("10.0.0.1:0", "10.0.0.2:5000")
        );
    }

    #[test]
    fn ports_are_read_as_strtol_then_cast() {
        assert_eq!(strtol_port("80"), 80);
        assert_eq!(strtol_port(" 80x"), 80);
        assert_eq!(strtol_port("x80"), 0);
        assert_eq!(strtol_port(""), 0);
        assert_eq!(strtol_port("65537"), 1);
        assert_eq!(strtol_port("-1"), 65535);
    }
}
