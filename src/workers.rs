//! server.max-worker: once the listeners are bound and the FastCGI
//! backends started, the server forks that many workers, each running the
//! event loop on the shared listening sockets and the parent's backend
//! procs. The parent only watches, as 1.4.69's does:
//! - a worker that exits is replaced (not within a second of its start:
//!   one that dies at once is not restarted in a tight loop);
//! - a backend proc that exits is started again (the procs are the
//!   parent's children; the workers disable one that refuses for
//!   disable-time, src/gw/pool.rs `forget_children`);
//! - SIGHUP: its own logs reopened, then SIGHUP to each worker (each logs
//!   `logfiles cycled`, naming the parent as the sender);
//! - SIGTERM: SIGTERM to each worker, then the parent exits;
//! - SIGINT: the graceful-shutdown note, SIGINT to each worker, and the
//!   parent exits at once; the workers finish their requests;
//! - SIGUSR1: the note, SIGINT to the workers, which drain as before, then the
//!   configuration is read again and new workers start on the same
//!   sockets (in a chroot, as SIGINT: the configuration cannot be read
//!   again); with server.graceful-restart-bg argv[0] is run again in the
//!   parent's place (cli.rs), and its workers finish under the new image,
//!   which reaps them ([`adopt`]).
//!
//! 1.4.69 sends the signals to its whole process group (kill(0, ...));
//! we send them to our workers by pid, so whatever else shares the group
//! (the shell's job, a test harness) is left alone (doc/compat.md).

use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use std::cell::RefCell;
use std::time::Duration;

/// What the process is to do after [`supervise`].
pub enum Role {
    /// This is a new worker: build the server and run it.
    Worker,
    /// The parent is done (its code).
    Exit(i32),
    /// SIGUSR1: read the configuration again and start new workers.
    Restart,
}

thread_local! {
    /// Workers of an earlier run (before a SIGUSR1), still finishing their
    /// requests: reaped, never replaced.
    static DRAINING: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Children of an earlier process image (after a graceful-restart-bg
/// re-execution: its workers still finishing, its previous generation):
/// reaped with the draining workers.
pub fn adopt(pids: Vec<u32>) {
    DRAINING.with(|d| d.borrow_mut().extend(pids));
}

/// A running worker and the second it started.
struct Worker {
    pid: u32,
    born: i64,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Forks `n` workers and watches them (see the module's text). Returns
/// [`Role::Worker`] in each worker, with the server's signals blocked
/// until its own handlers are in place ([`crate::sys::block_server_signals`]).
/// `restart`: SIGUSR1 restarts (false in a chroot). `prev`: the previous
/// generation of a graceful-restart-bg restart, told to finish a second
/// after the workers start (crate::server::Server::tell_prev_generation).
pub fn supervise(n: usize, gw: &crate::gw::pool::Pool, restart: bool, prev: Option<u32>) -> Role {
    let setup = || -> std::io::Result<_> {
        let poll = mio::Poll::new()?;
        let signals = crate::server::signal_socket(&poll, mio::Token(0))?;
        Ok((signals, poll))
    };
    let (mut signals, mut poll) = match setup() {
        Ok(s) => s,
        Err(e) => {
            crate::log_error!("server.max-worker: {}", crate::sys::strerror(&e));
            return Role::Exit(255);
        }
    };
    let mut workers: Vec<Worker> = Vec::new();
    let mut events = mio::Events::with_capacity(8);
    let mut last_tick = now_secs();
    // A worker that died within a second of its start is replaced a
    // second later, not in a tight loop.
    let mut hold_until = 0;
    let mut prev = prev.map(|pid| {
        DRAINING.with(|d| d.borrow_mut().push(pid));
        (pid, now_secs() + 1)
    });
    loop {
        let now = now_secs();
        while workers.len() < n && now >= hold_until {
            crate::sys::block_server_signals(true);
            match crate::sys::fork() {
                Ok(None) => return Role::Worker,
                Ok(Some(pid)) => {
                    crate::sys::block_server_signals(false);
                    workers.push(Worker { pid, born: now });
                }
                Err(e) => {
                    crate::sys::block_server_signals(false);
                    crate::log_error!("fork failed: {}", crate::sys::strerror(&e));
                    hold_until = now + 1;
                }
            }
        }
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_secs(1)))
            && e.kind() != std::io::ErrorKind::Interrupted
        {
            crate::log_error!("poll failed: {}", crate::sys::strerror(&e));
        }
        let now = now_secs();
        let pending: Vec<_> = signals.pending().collect();
        for info in pending {
            let send = |sig| workers.iter().for_each(|w| crate::sys::kill(w.pid, sig));
            match info.signal {
                SIGCHLD => {
                    gw.reap(now);
                    crate::log::check_pipe(now);
                }
                SIGHUP => {
                    crate::log::reopen();
                    send(SIGHUP);
                }
                SIGTERM => {
                    send(SIGTERM);
                    return Role::Exit(0);
                }
                SIGUSR1 if restart => {
                    crate::log_error!("[note] graceful shutdown started");
                    send(SIGINT);
                    DRAINING.with(|d| d.borrow_mut().extend(workers.iter().map(|w| w.pid)));
                    return Role::Restart;
                }
                SIGINT | SIGUSR1 => {
                    crate::log_error!("[note] graceful shutdown started");
                    send(SIGINT);
                    return Role::Exit(0);
                }
                _ => {}
            }
        }
        DRAINING.with(|d| d.borrow_mut().retain(|&pid| !crate::sys::reaped(pid)));
        workers.retain(|w| {
            let gone = crate::sys::reaped(w.pid);
            if gone && now - w.born < 1 {
                hold_until = now + 1;
            }
            !gone
        });
        if let Some((pid, due)) = prev
            && now >= due
        {
            prev = None;
            crate::server::Server::signal_prev_generation(pid);
        }
        if now != last_tick {
            last_tick = now;
            gw.trigger(now);
            crate::log::check_pipe(now);
        }
    }
}
