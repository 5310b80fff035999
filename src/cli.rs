//! The command line, as lighttpd's (getopt "f:m:i:hvVD1pt"): options are
//! handled in order, `-f` reads and checks the config at once, `-p` prints
//! it, `-t` says "Syntax OK", `-tt` runs the preflight (modules loaded, their
//! keys checked, unknown keys warned about). Exit status: 0, or 255 for any
//! error, as lighttpd's `return -1` from main.

use crate::config::{self, Config, eval::Input, print};

const VERSION_LINE: &str = "lighttpd/1.4.69 - a light and fast webserver";
const DEFAULT_MODULE_DIR: &str = "/usr/lib/lighttpd";

/// What this build can do, in lighttpd's -V sections. Kept honest: a `+`
/// only for what the code really has.
fn features_text() -> String {
    let section = |title: &str, rows: &[(bool, &str)]| {
        let mut s = format!("\n{title}:\n\n");
        for (on, name) in rows {
            s.push_str(&format!("\t{} {}\n", if *on { '+' } else { '-' }, name));
        }
        s
    };
    let mut out = String::from(VERSION_LINE);
    out.push('\n');
    out.push_str(&section(
        "Event Handlers",
        &[
            (false, "select (generic)"),
            (false, "poll (Unix)"),
            (true, "epoll (Linux)"),
            (false, "/dev/poll (Solaris)"),
            (false, "eventports (Solaris)"),
            (false, "kqueue (FreeBSD)"),
        ],
    ));
    out.push_str(&section(
        "Network handler",
        &[
            (true, "linux-sendfile"),
            (false, "freebsd-sendfile"),
            (false, "darwin-sendfile"),
            (false, "solaris-sendfilev"),
            (true, "writev"),
            (false, "write"),
            (false, "mmap support"),
        ],
    ));
    let features: Vec<(bool, String)> = [
        "IPv6",
        "zlib",
        "zstd",
        "bzip2",
        "brotli",
        "crypt",
        "OpenSSL",
        "mbedTLS",
        "NSS crypto",
        "GnuTLS",
        "WolfSSL",
        "Nettle",
        "PCRE",
        "MySQL",
        "PgSQL",
        "DBI",
        "Kerberos",
        "LDAP",
        "PAM",
        "FAM",
        "LUA",
        "xml",
        "SQLite",
    ]
    .iter()
    .map(|n| (matches!(*n, "PCRE" | "IPv6"), format!("{n} support")))
    .chain(std::iter::once((true, "Y2038 support".to_string())))
    .collect();
    let rows: Vec<(bool, &str)> = features.iter().map(|(b, s)| (*b, s.as_str())).collect();
    out.push_str(&section("Features", &rows));
    out.push('\n');
    out
}

fn help_text() -> String {
    format!(
        "{VERSION_LINE}\nusage:\n \
-f <name>  filename of the config-file\n \
-m <name>  module directory (default: {DEFAULT_MODULE_DIR})\n \
-i <secs>  graceful shutdown after <secs> of inactivity\n \
-1         process single (one) request on stdin socket, then exit\n \
-p         print the parsed config-file in internal form, and exit\n \
-t         test config-file syntax, then exit\n \
-tt        test config-file syntax, load and init modules, then exit\n \
-D         don't go to background (default: go to background)\n \
-v         show version\n \
-V         show compile-time features\n \
-h         show this help\n\n"
    )
}

/// Options gathered from argv.
#[derive(Debug, Default)]
pub struct Options {
    pub config: Option<Config>,
    pub module_dir: Option<String>,
    pub idle_limit: Option<i64>,
    pub print: bool,
    pub test: u32,
    pub oneshot: bool,
    pub foreground: bool,
    /// server.bind = "/dev/stdin": the socket taken from stdin.
    pub stdin_listener: Option<std::os::fd::OwnedFd>,
}

/// What parsing argv decided.
pub enum Parsed {
    /// Exit now with this status (after -v, -V, -h or an error).
    Exit(i32),
    Run(Box<Options>),
}

/// C strtol(s, .., 0): decimal, 0x hex or 0 octal; the whole string.
pub(crate) fn strtol_base0(s: &str) -> Option<i64> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        i64::from_str_radix(&t[1..], 8).ok()?
    } else {
        t.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

fn read_stdin() -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut buf);
    crate::http::lossless::from_bytes(&buf).into_owned()
}

/// getopt(3)-style parsing of "f:m:i:hvVD1pt", acting on each option as
/// lighttpd does.
pub fn parse_args(args: &[String]) -> Parsed {
    let mut o = Options::default();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break; // getopt stops at the first non-option (POSIXLY_CORRECT-like)
        }
        let chars: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            let takes_arg = matches!(c, 'f' | 'm' | 'i');
            let optarg = if takes_arg {
                if j < chars.len() {
                    let rest: String = chars[j..].iter().collect();
                    j = chars.len();
                    Some(rest)
                } else if i + 1 < args.len() {
                    i += 1;
                    Some(args[i].clone())
                } else {
                    eprintln!("lighttpd: option requires an argument -- '{c}'");
                    print!("{}", help_text());
                    return Parsed::Exit(255);
                }
            } else {
                None
            };
            match (c, optarg) {
                ('f', Some(f)) => {
                    if o.config.is_some() {
                        crate::log_error!(
                            "Can only read one config file. Use the include command to use multiple config files."
                        );
                        return Parsed::Exit(255);
                    }
                    let cfg = if f == "-" {
                        let text = read_stdin();
                        config::read(Input::Stdin(&text))
                    } else {
                        config::read(Input::File(&f))
                    };
                    match cfg {
                        Ok(c) => o.config = Some(c),
                        Err(_) => return Parsed::Exit(255),
                    }
                }
                ('m', Some(m)) => o.module_dir = Some(m),
                ('i', Some(s)) => match strtol_base0(&s).filter(|v| *v >= 0 && !s.is_empty()) {
                    Some(v) => o.idle_limit = Some(v),
                    None => {
                        crate::log_error!("Invalid idle timeout value: {s}");
                        return Parsed::Exit(255);
                    }
                },
                ('p', _) => o.print = true,
                ('t', _) => o.test += 1,
                ('1', _) => o.oneshot = true,
                ('D', _) => o.foreground = true,
                ('v', _) => {
                    println!("{VERSION_LINE}");
                    return Parsed::Exit(0);
                }
                ('V', _) => {
                    print!("{}", features_text());
                    return Parsed::Exit(0);
                }
                ('h', _) => {
                    print!("{}", help_text());
                    return Parsed::Exit(0);
                }
                _ => {
                    eprintln!("lighttpd: invalid option -- '{c}'");
                    print!("{}", help_text());
                    return Parsed::Exit(255);
                }
            }
        }
        i += 1;
    }
    Parsed::Run(Box::new(o))
}

/// The whole program: returns the exit status.
pub fn run(args: &[String]) -> i32 {
    let mut o = match parse_args(args) {
        Parsed::Exit(code) => return code,
        Parsed::Run(o) => o,
    };
    let Some(cfg) = &mut o.config else {
        crate::log_error!("No configuration available. Try using -f option.");
        return 255;
    };
    if o.print {
        // (bytes that are not UTF-8 printed as they were read)
        let text = print::print_tree(&cfg.tree);
        let mut out = crate::http::lossless::to_bytes(text.trim_end_matches('\n')).into_owned();
        out.push(b'\n');
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &out);
    }
    if o.test == 1 {
        println!("Syntax OK");
    }
    if o.print || o.test == 1 {
        // The process exits now: freeing a large config tree would only
        // cost time (lighttpd does not free it either).
        std::mem::forget(o);
        return 0;
    }
    // server.bind = "/dev/stdin": the socket on stdin is taken now (stdin
    // and stdout become /dev/null), as 1.4.69 takes it once the config is
    // read; -tt checks it too.
    if !o.oneshot && crate::listen::binds_stdin(&cfg.tree) {
        match crate::sys::take_stdin() {
            Ok(fd) => o.stdin_listener = Some(fd),
            Err(e) => {
                crate::log_error!("getsockname(): {}", crate::sys::strerror(&e));
                return 255;
            }
        }
    }
    let module_dir = o.module_dir.as_deref().unwrap_or(DEFAULT_MODULE_DIR);
    let stdin = o.stdin_listener.as_ref().map(std::os::fd::AsFd::as_fd);
    if preflight(cfg, module_dir, stdin).is_err() {
        return 255;
    }
    if o.test >= 2 {
        // As 1.4.69's -tt: server.max-fds applied (its failure logged),
        // then, as root, the chroot and the drop to server.username, so
        // the modules check their files as the server will see them.
        crate::sys::apply_max_fds(configured_max_fds(&cfg.tree));
        if let Err(msg) = drop_root(&|k| global_string(&cfg.tree, k)) {
            crate::log_error!("{msg}");
            return 255;
        }
        // The modules' checks of their settings in each block (1.4.69's
        // set_defaults: alias.url order, dir-listing.exclude patterns,
        // fastcgi.server hosts).
        configured_max_worker(&cfg.tree);
        crate::gw::config::set_restart_bg(restart_bg_flag(&cfg.tree));
        if let Err(e) = crate::reqconf::CompiledConf::compile(&cfg.tree, &cfg.modules.modules) {
            crate::log_error!("{e}");
            crate::log_error!("{}", crate::server::plugins_failed());
            return 255;
        }
        warn_unknown_keys(&cfg.unknown_keys());
        return 0;
    }
    serve(*o, args)
}

/// Binds, goes to the background unless -D, and runs the event loop; after
/// a graceful restart (SIGUSR1) reads the config again and runs again with
/// the same listening sockets, in the same process (as 1.4.69).
fn serve(o: Options, args: &[String]) -> i32 {
    let mut o = o;
    // -1: the connection on stdin (a socket, as from inetd) is served, then
    // the server exits; no listeners, no background, no pid file.
    let mut oneshot = None;
    if o.oneshot {
        if let Some(cfg) = &o.config
            && configured_max_worker(&cfg.tree) > 0
        {
            crate::log_error!(
                "server one-shot command line option disables server.max-worker config file option."
            );
        }
        match crate::sys::oneshot_input() {
            crate::sys::OneshotInput::Other => {
                crate::log_error!("lighttpd -1 stdin is not a socket");
                return 255;
            }
            input => oneshot = Some(input),
        }
    }
    // What -1 and a "/dev/stdin" listener need of stdin and stdout is
    // taken: both go to /dev/null, as in 1.4.69.
    crate::sys::to_dev_null(&[0, 1]);
    let mut kept: Option<Vec<crate::listen::Listener>> = None;
    let mut pid_file: Option<String> = None;
    // server.graceful-restart-bg: the generation forked off by the last
    // restart (named by LIGHTTPD_PREV_GEN when it re-executed us: told to
    // finish once this run is up), and what is left of the old process
    // (that generation, workers still finishing, an old piped logger: our
    // children now, reaped as they exit).
    let mut prev_generation: Option<u32> = take_prev_generation();
    let mut prev_generations: Vec<u32> = crate::sys::children();
    loop {
        let restarting = kept.is_some();
        let Some(cfg) = o.config.take() else {
            return 255;
        };
        match crate::plugin::unimplemented_in_use(&cfg.tree, &cfg.modules.modules) {
            Ok(warnings) => warnings.iter().for_each(|w| crate::log_error!("{w}")),
            Err(fatal) => {
                fatal.iter().for_each(|f| crate::log_error!("{f}"));
                return 255;
            }
        }
        let g = &cfg.tree.global().values;
        let gbool = |k: &str| g.get(k).and_then(config::scoped::to_bool).unwrap_or(false);
        let gstr = |k: &str| global_string(&cfg.tree, k);
        // (graceful-restart-bg hands its listeners on this way: its flag
        // turns socket activation on, as in 1.4.69)
        let activation = gbool("server.systemd-socket-activation") || restart_bg_flag(&cfg.tree);
        // -1 binds nothing; the configured sockets still name the one the
        // connection on stdin came through.
        let mut oneshot_sockets = Vec::new();
        let listeners = if oneshot.is_some() {
            match crate::listen::oneshot_sockets(&cfg.tree) {
                Ok(s) => oneshot_sockets = s,
                Err(msg) => {
                    crate::log_error!("{msg}");
                    return 255;
                }
            }
            Vec::new()
        } else {
            match crate::listen::open_listeners(
                &cfg.tree,
                activation,
                kept.take().unwrap_or_default(),
                o.stdin_listener.take(),
            ) {
                Ok(l) => l,
                Err(msg) => {
                    crate::log_error!("{msg}");
                    return 255;
                }
            }
        };
        // Privileges, the background and the pid file are the first run's.
        // The pid file is opened while still root (Debian's is in /run),
        // and written once the final pid is known (after daemonizing).
        let mut pid_fh = None;
        if !restarting && oneshot.is_none() {
            pid_file = gstr("server.pid-file");
            if let Some(p) = &pid_file {
                match open_pid_file(p) {
                    Ok(f) => pid_fh = Some(f),
                    Err(()) => return 255,
                }
            }
        }
        let mut daemon = None;
        // server.max-fds sets RLIMIT_NOFILE while we may still be root.
        let max_fds = crate::sys::apply_max_fds(configured_max_fds(&cfg.tree));
        if !restarting {
            if let Err(msg) = drop_root(&gstr) {
                crate::log_error!("{msg}");
                return 255;
            }
            if !o.foreground && oneshot.is_none() {
                match crate::sys::daemonize() {
                    Ok(d) => daemon = Some(d),
                    Err(e) => {
                        crate::log_error!("fork failed: {}", crate::sys::strerror(&e));
                        return 255;
                    }
                }
            }
        }
        crate::log::set_high_precision(cfg.tree.feature_flag("server.errorlog-high-precision"));
        if gbool("server.errorlog-use-syslog") {
            crate::log::open_syslog(gstr("server.syslog-facility").as_deref());
        } else if let Some(path) = gstr("server.errorlog")
            && let Err(e) = crate::log::open_errorlog(&path)
        {
            crate::log_error!(
                "opening errorlog '{path}' failed: {}",
                crate::sys::strerror(&e)
            );
            crate::log_error!("Opening errorlog failed. Going down.");
            return 255;
        }
        if let Some(path) = gstr("server.breakagelog").filter(|p| !p.is_empty())
            && let Err(e) = crate::log::open_breakagelog(&path)
        {
            crate::log_error!(
                "opening errorlog '{path}' failed: {}",
                crate::sys::strerror(&e)
            );
            crate::log_error!("Opening errorlog failed. Going down.");
            return 255;
        }
        // A daemon lets go of the terminal's stderr once its log is open
        // (without server.errorlog its lines go nowhere, as 1.4.69's).
        if daemon.is_some() {
            crate::sys::to_dev_null(&[2]);
        }
        crate::listen::set_defer_accept(&cfg.tree, &listeners);
        crate::sys::ignore_sigpipe();
        if let Some(mut f) = pid_fh.take() {
            use std::io::Write;
            if let Err(e) = writeln!(f, "{}", std::process::id()) {
                crate::log_error!("writing pid-file failed: {}", crate::sys::strerror(&e));
                return 255;
            }
        }
        // 1.4.69 says it has started before its modules take their
        // settings (and spawn FastCGI backends), which may still fail;
        // not for -1.
        if oneshot.is_none() {
            crate::log_error!("server started ({})", crate::DEFAULT_SERVER_TAG);
        }
        let max_worker = if oneshot.is_some() {
            crate::gw::config::set_max_worker(false);
            0
        } else {
            configured_max_worker(&cfg.tree)
        };
        let unknown = cfg.unknown_keys();
        let failed = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                crate::log_error!("{e}");
            } else {
                crate::log_error!("server start-up failed: {}", crate::sys::strerror(&e));
            }
            255
        };
        let chroot = g.get("server.chroot").is_some();
        crate::gw::config::set_restart_bg(restart_bg_flag(&cfg.tree));
        let prepared = match crate::server::Server::prepare(cfg) {
            Ok(p) => p,
            Err(e) => return failed(e),
        };
        warn_unknown_keys(&unknown);
        // -i turns server.max-worker off (after the modules took their
        // settings, which it still shaped), as 1.4.69.
        if o.idle_limit.is_some() && max_worker > 0 {
            crate::log_error!(
                "server idle time limit command line option disables server.max-worker config file option."
            );
        }
        let mut worker = false;
        if max_worker > 0 && o.idle_limit.is_none() && oneshot.is_none() {
            // The daemon's parent learns of the start before any worker
            // is forked (as 1.4.69).
            if let Some(d) = daemon.take() {
                d.ready();
            }
            crate::workers::adopt(std::mem::take(&mut prev_generations));
            let bg =
                !chroot && restart_bg_wanted(crate::gw::config::restart_bg(), o.foreground, args);
            let prev = prev_generation.take();
            match crate::workers::supervise(max_worker, &prepared.gw, !chroot, prev) {
                crate::workers::Role::Worker => {
                    prepared.gw.forget_children();
                    worker = true;
                }
                crate::workers::Role::Exit(code) => {
                    prepared.gw.shutdown(false);
                    if let Some(p) = &pid_file {
                        let _ = std::fs::remove_file(crate::http::lossless::to_path(p));
                    }
                    return code;
                }
                crate::workers::Role::Restart => {
                    prepared.gw.shutdown(true);
                    if bg {
                        // 1.4.69's previous generation holds no connection
                        // here (the workers have them): it says so and ends.
                        match crate::sys::fork() {
                            Ok(None) => {
                                drop(listeners);
                                crate::log_error!(
                                    "[note] pid {} continuing to handle 0 connection(s) in progress",
                                    std::process::id()
                                );
                                return 0;
                            }
                            Ok(Some(_)) => exec_restart(args, &listeners, None),
                            Err(e) => {
                                crate::log_error!("fork failed: {}", crate::sys::strerror(&e))
                            }
                        }
                    }
                    kept = Some(listeners);
                    match reread(args) {
                        Some(next) => {
                            o = next;
                            continue;
                        }
                        None => return 255,
                    }
                }
            }
        }
        let mut server =
            match crate::server::Server::new(prepared, listeners, o.idle_limit, max_fds) {
                Ok(s) => s,
                Err(e) => return failed(e),
            };
        if worker {
            // Its own handlers are in place: what was sent meanwhile comes.
            server.worker = true;
            crate::sys::block_server_signals(false);
            return server.run();
        }
        // (a bin-path backend turned it off while the hosts were read)
        let bg = crate::gw::config::restart_bg();
        server.restart_bg = !chroot && restart_bg_wanted(bg, o.foreground, args);
        // The previous generation of a graceful-restart-bg restart is told
        // to finish now that this run is up; it is reaped when it exits.
        server.prev_generations = std::mem::take(&mut prev_generations);
        if let Some(pid) = prev_generation.take() {
            server.tell_prev_generation(pid);
        }
        if let Some(input) = oneshot.take() {
            server.adopt_oneshot(input, &oneshot_sockets);
        }
        if let Some(d) = daemon.take() {
            d.ready();
        }
        let code = server.run();
        if server.prev_generation {
            // (its connections done; the restarted server has the rest)
            return code;
        }
        prev_generation = server.bg_child.take();
        prev_generations = std::mem::take(&mut server.prev_generations);
        kept = server.take_restart();
        drop(server);
        if let (Some(pid), Some(listeners)) = (prev_generation, &kept) {
            exec_restart(args, listeners, Some(pid));
        }
        if kept.is_some() {
            match reread(args) {
                Some(next) => {
                    o = next;
                    continue;
                }
                // (a previous generation goes on serving, as in 1.4.69)
                None => return 255,
            }
        }
        if let Some(p) = &pid_file {
            let _ = std::fs::remove_file(crate::http::lossless::to_path(p));
        }
        return code;
    }
}

/// server.feature-flags "server.graceful-restart-bg".
fn restart_bg_flag(tree: &config::eval::ConfigTree) -> bool {
    tree.feature_flag("server.graceful-restart-bg")
}

/// server.graceful-restart-bg as 1.4.69 honours it: the flag, and the
/// binary named by a path (it re-executes itself; we fork): absolute when
/// daemonized, with a `/` somewhere under -D.
fn restart_bg_wanted(flag: bool, foreground: bool, args: &[String]) -> bool {
    let argv0 = args.first().map(String::as_str).unwrap_or("");
    flag && if foreground {
        argv0.contains('/')
    } else {
        argv0.starts_with('/')
    }
}

/// LIGHTTPD_PREV_GEN (taken out of the environment): the pid of the
/// previous generation when a graceful-restart-bg restart ran us.
fn take_prev_generation() -> Option<u32> {
    let pid = std::env::var("LIGHTTPD_PREV_GEN").ok()?;
    crate::sys::remove_env(&["LIGHTTPD_PREV_GEN"]);
    pid.parse().ok().filter(|&p| p > 0)
}

/// server.graceful-restart-bg's restart, as 1.4.69's: the binary argv[0]
/// names (an upgraded one, if it was replaced) is run again in this
/// process, same pid and arguments, with the listening sockets handed on
/// by socket activation and the previous generation's pid (`prev`; none
/// with server.max-worker) in LIGHTTPD_PREV_GEN. Returns when argv[0] is
/// not a file we could run, to restart in this process instead (1.4.69
/// exits); when the exec itself fails the process exits 1, as 1.4.69's.
fn exec_restart(args: &[String], listeners: &[crate::listen::Listener], prev: Option<u32>) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;
    let argv0 = args.first().map(String::as_str).unwrap_or("");
    match std::fs::metadata(argv0) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {}
        r => {
            let why = match r {
                Err(e) => crate::sys::strerror(&e),
                Ok(_) => "not an executable file".to_string(),
            };
            crate::log_error!(
                "server.graceful-restart-bg: cannot run {argv0} again ({why}); restarting in this process"
            );
            return;
        }
    }
    let fds: Vec<_> = listeners.iter().map(|l| l.socket.as_raw_fd()).collect();
    let env: Vec<_> = prev
        .map(|p| ("LIGHTTPD_PREV_GEN", p.to_string()))
        .into_iter()
        .collect();
    let e = crate::sys::exec_with_listeners(args, &fds, &env);
    // (the error log's descriptor may be a listener's now: stderr)
    eprintln!("execv {argv0} failed: {}", crate::sys::strerror(&e));
    std::process::exit(1);
}

/// A graceful restart: the config is read again, with the same command
/// line (None: it failed, and said why).
fn reread(args: &[String]) -> Option<Options> {
    match parse_args(args) {
        Parsed::Run(mut next) if next.config.is_some() => {
            let module_dir = next.module_dir.as_deref().unwrap_or(DEFAULT_MODULE_DIR);
            if let Some(c) = &mut next.config
                && preflight(c, module_dir, None).is_err()
            {
                return None;
            }
            Some(*next)
        }
        _ => None,
    }
}

/// server.max-worker (0 when not set; 1 is 0 too, as in 1.4.69: one
/// process); bin-path FastCGI hosts are told (their procs are then started
/// all at once, shared by the workers).
fn configured_max_worker(tree: &config::eval::ConfigTree) -> usize {
    let n = match tree.global().values.get("server.max-worker") {
        Some(config::value::Value::Int(n)) if *n > 1 => *n as usize,
        _ => 0,
    };
    crate::gw::config::set_max_worker(n > 0);
    n
}

/// A global string setting that is set and not empty.
fn global_string(tree: &config::eval::ConfigTree, key: &str) -> Option<String> {
    match tree.global().values.get(key) {
        Some(config::value::Value::Str(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// server.max-fds, 0 when unset (the system's limit is kept).
fn configured_max_fds(tree: &config::eval::ConfigTree) -> u64 {
    match tree.global().values.get("server.max-fds") {
        Some(config::value::Value::Int(n)) if *n > 0 => *n as u64,
        _ => 0,
    }
}

/// As root: chroot (server.chroot), then become server.username /
/// server.groupname, after the listeners are bound (lighttpd's order).
/// Not root: these settings are ignored, as lighttpd does.
fn drop_root(gstr: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    if crate::sys::getuid() != 0 {
        return Ok(());
    }
    let (user, group) = check_user_group(gstr)?;
    if let Some(dir) = gstr("server.chroot") {
        crate::sys::chroot(&dir)
            .map_err(|e| format!("chroot failed: {dir} {}", crate::sys::strerror(&e)))?;
    }
    let uid = user.as_ref().map(|(_, uid, _)| *uid);
    let gid = group.or(user.as_ref().map(|(_, _, g)| *g));
    let name = user.as_ref().map(|(n, _, _)| n.as_str());
    crate::sys::drop_privileges(uid, gid, name)
        .map_err(|e| format!("dropping privileges failed: {}", crate::sys::strerror(&e)))
}

/// server.username / server.groupname must name existing accounts (checked
/// by lighttpd at start-up and `-tt` when running as root).
/// server.username as (name, uid, primary gid), and server.groupname's gid.
type Accounts = (Option<(String, u32, u32)>, Option<u32>);

fn check_user_group(gstr: &dyn Fn(&str) -> Option<String>) -> Result<Accounts, String> {
    let user = match gstr("server.username") {
        Some(u) => match crate::sys::lookup_user(&u) {
            Some((uid, gid)) => Some((u, uid, gid)),
            None => return Err(format!("can't find username {u}")),
        },
        None => None,
    };
    let group = match gstr("server.groupname") {
        Some(g) => match crate::sys::lookup_group(&g) {
            Some(gid) => Some(gid),
            None => return Err(format!("can't find groupname {g}")),
        },
        None => None,
    };
    // 1.4.69's words, with a line end that its log writes as `\n`.
    let refuse = |what: &str, key: &str| {
        Err(format!(
            "I will not set {what} to 0.  Perhaps you should comment out server.{key} in lighttpd.conf\n"
        ))
    };
    if user.as_ref().is_some_and(|(_, uid, _)| *uid == 0) {
        return refuse("uid", "username");
    }
    if group == Some(0) {
        return refuse("gid", "groupname");
    }
    Ok((user, group))
}

/// What start-up and `-tt` check after reading: defaults, modules, module
/// keys.
fn preflight(
    cfg: &mut Config,
    module_dir: &str,
    stdin: Option<std::os::fd::BorrowedFd<'_>>,
) -> Result<(), config::error::ConfigError> {
    cfg.check_defaults()
        .inspect_err(|_| crate::log_error!("setting default values failed"))?;
    cfg.load_modules(module_dir)?;
    cfg.check_network_backend()?;
    cfg.check_listeners(stdin)?;
    if crate::sys::getuid() == 0
        && let Err(msg) = check_user_group(&|k| global_string(&cfg.tree, k))
    {
        crate::log_error!("{msg}");
        return Err(config::error::ConfigError::new(
            config::error::ErrorKind::Key(String::new()),
        ));
    }
    cfg.check_module_keys()?;
    Ok(())
}

/// The unknown-key warnings, written once the modules took their settings
/// (as 1.4.69 does: to the error log after `server started`, and not at
/// all when a module refused its settings).
fn warn_unknown_keys(unknown: &[String]) {
    for k in unknown {
        crate::log_error!("WARNING: unknown config-key: {k} (ignored)");
    }
}

/// Opens server.pid-file for writing as 1.4.69 does: created if it is not
/// there, else truncated if it is a regular file, never through a symlink.
/// On failure it logs 1.4.69's lines, including the one its removal of the
/// pid file on the way out writes when there is nothing to remove (a
/// missing path, a directory); a file or symlink that is there is left
/// alone, where 1.4.69 deletes it (doc/compat.md).
fn open_pid_file(p: &str) -> Result<std::fs::File, ()> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = crate::http::lossless::to_path(p);
    let open = |fresh: bool| {
        let mut o = std::fs::OpenOptions::new();
        // (0644 whatever the umask, as 1.4.69's)
        o.write(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        if fresh {
            o.create_new(true)
        } else {
            o.truncate(true)
        };
        o.open(&path)
    };
    let failed = |e: std::io::Error| {
        crate::log_error!("opening pid-file failed: {p}: {}", crate::sys::strerror(&e))
    };
    match open(true) {
        Ok(f) => return Ok(f),
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => failed(e),
        Err(_) => {
            let regular = match std::fs::metadata(&path) {
                Ok(m) => m.is_file(),
                Err(e) => {
                    let e = crate::sys::strerror(&e);
                    crate::log_error!("stating existing pid-file failed: {p}: {e}");
                    false
                }
            };
            if !regular {
                crate::log_error!("pid-file exists and isn't regular file: {p}");
            } else {
                match open(false) {
                    Ok(f) => return Ok(f),
                    Err(e) => failed(e),
                }
            }
        }
    }
    let gone = match std::fs::symlink_metadata(&path) {
        Err(e) => Some(e),
        Ok(m) if m.is_dir() => Some(std::io::Error::from_raw_os_error(libc::EISDIR)),
        Ok(_) => None,
    };
    if let Some(e) = gone {
        crate::log_error!("unlink failed for: {p}: {}", crate::sys::strerror(&e));
    }
    Err(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_bases() {
        assert_eq!(strtol_base0("10"), Some(10));
        assert_eq!(strtol_base0("0x10"), Some(16));
        assert_eq!(strtol_base0("010"), Some(8));
        assert_eq!(strtol_base0("abc"), None);
    }

    #[test]
    fn version_and_features_shape() {
        let f = features_text();
        assert!(
            f.starts_with("lighttpd/1.4.69 - a light and fast webserver\n\nEvent Handlers:\n\n\t")
        );
        assert!(f.contains("\n\nNetwork handler:\n\n"));
        assert!(f.contains("\t+ PCRE support\n"));
        assert!(f.ends_with("\t+ Y2038 support\n\n"));
    }

    #[test]
    fn help_lists_every_flag() {
        let h = help_text();
        for flag in [
            "-f", "-m", "-i", "-1", "-p", "-t", "-tt", "-D", "-v", "-V", "-h",
        ] {
            assert!(h.contains(&format!("\n {flag} ")), "{flag}");
        }
    }
}
