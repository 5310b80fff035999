//! The backend engine's run-time state (fastcgi.md §2, §3, §5, §6): each
//! host's procs with their state and load, proc choice within a host (host
//! choice by the balance policy is in balance.rs), connect errors that
//! disable a proc for disable-time, the reaping and immediate respawn of a
//! dead child, and the once-a-second maintenance: re-enabling, respawning
//! what could not be respawned at once, adaptive spawning above min-procs,
//! idle kills.
//! A request holds a [`Lease`] on its proc; dropping it releases the load,
//! so no exit path can leak load.

use super::balance::{DJB_INIT, djb_hash};
use super::config::{BackendAddr, GwHost};
use super::spawn::{self, Started};
use std::cell::{Cell, RefCell};
use std::process::Child;
use std::rc::Rc;

/// A proc's state, numbered as lighttpd's debug lines print it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    Running = 0,
    Overloaded = 1,
    Died = 3,
    Killed = 4,
}

/// A request waiting for a connection (connection-reuse): its client
/// connection (index, serial) and, when it may be pipelined, its records.
pub type Waiter = ((usize, u64), Option<Vec<u8>>);

/// One backend process (or the one address of a remote host).
#[derive(Debug)]
pub struct Proc {
    pub id: u16,
    pub addr: BackendAddr,
    pub state: ProcState,
    /// We started it (bin-path, nothing was answering on its address).
    pub is_local: bool,
    pub load: u32,
    pub child: Option<Child>,
    /// Disabled until this second; for a killed proc, the ticks since the
    /// kill (the signal escalates).
    pub disabled_until: i64,
    pub last_used: i64,
    /// In the host's list; false for a killed or never-started slot.
    pub in_use: bool,
    pub connected: u64,
    pub died: u64,
    pub overloaded: u64,
    /// connection-reuse: open, unused connections and since when.
    pub idle: Vec<(super::GwConn, i64)>,
    /// connection-reuse: connections open to this proc (busy and idle).
    pub open: u32,
    /// connection-reuse: requests waiting for a connection, in order
    /// (client connection index and serial), each with its records when
    /// it may be pipelined (connection-pipelining).
    pub waiters: std::collections::VecDeque<Waiter>,
    /// connection-pipelining: connections handed to the request written
    /// behind the one that ended, until that request takes it.
    pub handoff: Vec<((usize, u64), super::GwConn, usize)>,
    /// connection-pipelining: requests whose kept connection has sent
    /// them and could carry the next one now.
    pub carriers: Vec<(usize, u64)>,
    /// In a server.max-worker worker: the pid of the proc the parent
    /// started (and watches, reaps and starts again); not our child.
    pub adopted_pid: u32,
}

impl Proc {
    fn new(id: u16, addr: BackendAddr) -> Proc {
        Proc {
            id,
            addr,
            state: ProcState::Died,
            is_local: false,
            load: 0,
            child: None,
            disabled_until: 0,
            last_used: 0,
            in_use: false,
            connected: 0,
            died: 0,
            overloaded: 0,
            idle: Vec::new(),
            open: 0,
            waiters: Default::default(),
            handoff: Vec::new(),
            carriers: Vec::new(),
            adopted_pid: 0,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .unwrap_or(self.adopted_pid)
    }
}

/// Counters shared by every gateway host (mod_status statistics).
#[derive(Debug, Default)]
pub struct Stats {
    /// fastcgi.requests: backend requests built (retries included).
    pub requests: Cell<u64>,
    /// gw.active-requests.
    pub active: Cell<u64>,
    /// Client connections (index, serial) to run again: a connection they
    /// wait for is free (connection-reuse).
    pub wake: RefCell<Vec<(usize, u64)>>,
    /// Client connections whose backend request can carry a request that
    /// just started waiting (connection-pipelining).
    pub kick: RefCell<Vec<(usize, u64)>>,
}

/// A host's run-time state.
#[derive(Debug)]
pub struct HostRt {
    /// The host's options (an Rc cycle with `GwHost::rt`: both live as
    /// long as the server).
    pub cfg: Rc<GwHost>,
    /// Requests assigned to the host.
    pub load: Cell<u32>,
    /// Newest first, as lighttpd keeps its list.
    pub procs: RefCell<Vec<Proc>>,
    /// djb hash of the host address or socket path (hash, sticky).
    pub hash: u32,
    /// fastcgi.debug where the host was configured.
    pub debug: u32,
    pub stats: Rc<Stats>,
}

/// Where a request's connection comes from (connection-reuse). Only ever
/// a return value, moved once: boxing the connection would cost an
/// allocation per reuse.
#[allow(clippy::large_enum_variant)]
pub enum Slot {
    Idle(super::GwConn),
    New,
    Wait,
}

/// Wakes the proc's first waiting request; false when none waits.
fn wake_one(p: &mut Proc, stats: &Stats) -> bool {
    match p.waiters.pop_front() {
        Some((w, _)) => {
            stats.wake.borrow_mut().push(w);
            true
        }
        None => false,
    }
}

/// A request's hold on a proc: the proc's and host's load stay counted
/// until it is dropped.
pub struct Lease {
    pub host: Rc<HostRt>,
    pub proc_id: u16,
    pub addr: BackendAddr,
    /// The proc's pid when it was chosen (a respawned proc is not blamed
    /// for an old request's failure).
    pub pid: u32,
    debug: u32,
    /// The request's connection counts in the proc's open connections
    /// (connection-reuse) until it is kept idle or closed.
    pub counted: Cell<bool>,
    /// connection-pipelining: the request is among the proc's carriers as
    /// this client connection.
    pub carrier: Cell<Option<(usize, u64)>>,
}

impl Lease {
    pub fn host_cfg(&self) -> Rc<GwHost> {
        self.host.cfg.clone()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let h = &self.host;
        h.load.set(h.load.get().saturating_sub(1));
        h.stats.active.set(h.stats.active.get().saturating_sub(1));
        let mut procs = h.procs.borrow_mut();
        if let Some(p) = procs.iter_mut().find(|p| p.id == self.proc_id) {
            if self.counted.get() {
                p.open = p.open.saturating_sub(1);
                wake_one(p, &h.stats);
            }
            if let Some(who) = self.carrier.take() {
                p.carriers.retain(|c| *c != who);
            }
            p.load = p.load.saturating_sub(1);
            if self.debug > 0 {
                crate::log_error!(
                    "released proc: pid: {} socket: {} load: {}",
                    p.pid(),
                    p.addr,
                    p.load
                );
            }
        }
    }
}

impl HostRt {
    /// Procs in the list and running.
    pub fn active_procs(&self) -> usize {
        self.procs
            .borrow()
            .iter()
            .filter(|p| p.in_use && p.state == ProcState::Running)
            .count()
    }

    /// Takes the proc for a request: the first running one (newest first),
    /// or a later one with a lower load. None when no proc runs.
    pub fn acquire(self: &Rc<Self>, debug: u32) -> Option<Lease> {
        let mut procs = self.procs.borrow_mut();
        let mut best: Option<usize> = None;
        for (i, p) in procs.iter().enumerate() {
            if p.in_use
                && p.state == ProcState::Running
                && best.is_none_or(|b| p.load < procs[b].load)
            {
                best = Some(i);
            }
        }
        Some(self.lease_on(&mut procs[best?], debug, false))
    }

    /// A request's hold on proc `p`: its load and the host's counted.
    fn lease_on(self: &Rc<Self>, p: &mut Proc, debug: u32, counted: bool) -> Lease {
        p.load += 1;
        self.load.set(self.load.get() + 1);
        self.stats.active.set(self.stats.active.get() + 1);
        self.stats.requests.set(self.stats.requests.get() + 1);
        Lease {
            host: self.clone(),
            proc_id: p.id,
            addr: p.addr.clone(),
            pid: p.pid(),
            debug,
            counted: Cell::new(counted),
            carrier: Cell::new(None),
        }
    }

    /// The connection to the lease's proc is up.
    pub fn connected(&self, lease: &Lease, now: i64) {
        let mut procs = self.procs.borrow_mut();
        if let Some(p) = procs.iter_mut().find(|p| p.id == lease.proc_id) {
            p.connected += 1;
            p.last_used = now;
            if lease.debug > 0 {
                crate::log_error!(
                    "got proc: pid: {} socket: {} load: {}",
                    p.pid(),
                    p.addr,
                    p.load
                );
            }
        }
    }

    /// Connecting to the lease's proc failed with `errno` (ETIMEDOUT for a
    /// connect-timeout): the proc is disabled for disable-time.
    pub fn connect_error(&self, lease: &Lease, errno: i32, now: i64) {
        let disable = self.cfg.disable_time as i64;
        // A spawned proc that refuses has most likely just died, and its
        // SIGCHLD may not have been handled yet (its sockets close before
        // the signal is sent): reaped and started again now, it takes the
        // retry instead of being disabled (t/fastcgi-failures.t).
        if errno != libc::EAGAIN && lease.pid != 0 {
            self.reap(now);
        }
        let mut procs = self.procs.borrow_mut();
        let Some(p) = procs.iter_mut().find(|p| p.id == lease.proc_id) else {
            return;
        };
        if !p.is_local {
            p.disabled_until = now + disable;
            p.state = ProcState::Overloaded;
        } else if p.pid() == lease.pid && p.state == ProcState::Running {
            crate::log_error!(
                "backend error; we'll disable for {}secs and send the request to another backend instead:load: {}",
                self.cfg.disable_time,
                self.load.get()
            );
            if errno == libc::EAGAIN {
                crate::log_error!(
                    "If this happened on Linux: You have run out of local ports. Check the manual, section Performance how to handle this."
                );
                if lease.debug > 0 {
                    crate::log_error!(
                        "This means that you have more incoming requests than your FastCGI backend can handle in parallel.  It might help to spawn more FastCGI backends or PHP children; if not, decrease server.max-connections.  The load for this FastCGI backend {} is {}",
                        p.addr,
                        p.load
                    );
                }
            }
            p.disabled_until = now + disable;
            p.state = ProcState::Overloaded;
        }
        if errno == libc::EAGAIN {
            p.overloaded += 1;
        } else {
            p.died += 1;
        }
    }

    /// connection-reuse: a connection for the lease's request. A kept one
    /// that is still good (no EOF, nothing unread), else a new one while
    /// the proc has fewer than connection-reuse open, else the request
    /// waits its turn (`queued` is set for a request woken from the queue,
    /// which goes before newcomers).
    pub fn reuse_slot(&self, lease: &Lease, queued: bool, now: i64) -> Slot {
        let limit = self.cfg.conn_reuse as u32;
        let mut procs = self.procs.borrow_mut();
        let Some(p) = procs.iter_mut().find(|p| p.id == lease.proc_id) else {
            return Slot::New;
        };
        if !queued && !p.waiters.is_empty() {
            return Slot::Wait;
        }
        while let Some((mut g, since)) = p.idle.pop() {
            // Kept this second: surely still open (a connection closed
            // meanwhile fails before any answer and is retried anyway).
            if since >= now {
                lease.counted.set(true);
                return Slot::Idle(g);
            }
            let mut probe = [0u8; 1];
            match std::io::Read::read(&mut g.sock, &mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    lease.counted.set(true);
                    return Slot::Idle(g);
                }
                // Closed by the backend, or stray bytes: drop it.
                _ => p.open = p.open.saturating_sub(1),
            }
        }
        if p.open < limit {
            p.open += 1;
            lease.counted.set(true);
            return Slot::New;
        }
        Slot::Wait
    }

    /// Takes a request out of every queue (it went away); a connection
    /// handed to it is closed.
    pub fn remove_waiter(&self, who: (usize, u64)) {
        for p in self.procs.borrow_mut().iter_mut() {
            p.waiters.retain(|(w, _)| *w != who);
        }
        self.drop_handoff(who);
    }

    /// connection-pipelining: closes a connection handed to a request
    /// that is gone (its reply would come to no one).
    pub fn drop_handoff(&self, who: (usize, u64)) {
        let mut dropped = Vec::new();
        for p in self.procs.borrow_mut().iter_mut() {
            while let Some(i) = p.handoff.iter().position(|(w, _, _)| *w == who) {
                dropped.push(p.handoff.swap_remove(i).1);
                p.open = p.open.saturating_sub(1);
                wake_one(p, &self.stats);
            }
        }
        drop(dropped);
    }

    /// connection-pipelining: the first waiting request of proc
    /// `proc_id`, when it may be pipelined, with its records. Only the
    /// first: a request that may not waits for a free connection, and
    /// those behind it wait with it.
    pub fn take_pipelined(&self, proc_id: u16) -> Option<((usize, u64), Vec<u8>)> {
        let mut procs = self.procs.borrow_mut();
        let p = procs.iter_mut().find(|p| p.id == proc_id)?;
        if !matches!(p.waiters.front(), Some((_, Some(_)))) {
            return None;
        }
        let (who, rec) = p.waiters.pop_front()?;
        Some((who, rec?))
    }

    /// connection-pipelining: the request carried by the lease's
    /// connection ended cleanly; the connection goes to the request
    /// written behind it, which is woken to take it.
    /// (Should the proc be gone, dropping the connection wakes that request
    /// to go out again.)
    pub fn hand_on(&self, lease: &Lease, mut g: super::GwConn) {
        let mut procs = self.procs.borrow_mut();
        let Some(p) = procs.iter_mut().find(|p| p.id == lease.proc_id) else {
            return;
        };
        let Some(next) = g.next.take() else {
            return;
        };
        // Still counted in the proc's open connections, now for `next`.
        lease.counted.set(false);
        if let Some(slot) = &g.slot {
            slot.set_owner(super::NO_OWNER);
        }
        p.handoff.push((next.who, g, next.len));
        self.stats.wake.borrow_mut().push(next.who);
    }

    /// connection-pipelining: the connection handed to `who`, with a lease
    /// on its proc and the length of the records already written on it.
    pub fn take_handoff(
        self: &Rc<Self>,
        who: (usize, u64),
        debug: u32,
    ) -> Option<(super::GwConn, Lease, usize)> {
        let mut procs = self.procs.borrow_mut();
        let p = procs
            .iter_mut()
            .find(|p| p.handoff.iter().any(|(w, _, _)| *w == who))?;
        let i = p.handoff.iter().position(|(w, _, _)| *w == who)?;
        let (_, g, len) = p.handoff.swap_remove(i);
        // Still counted in the proc's open connections (hand_on).
        let lease = self.lease_on(p, debug, true);
        Some((g, lease, len))
    }

    /// Wakes a waiter of each proc that has a free connection (a wake can
    /// be lost when its request went away in between).
    fn kick_waiters(&self) {
        let limit = self.cfg.conn_reuse as u32;
        for p in self.procs.borrow_mut().iter_mut() {
            if !p.waiters.is_empty() && (!p.idle.is_empty() || p.open < limit) {
                wake_one(p, &self.stats);
            }
        }
    }

    /// Queues a request for the proc's next free connection (with its
    /// records when it may be pipelined).
    pub fn add_waiter(&self, proc_id: u16, who: (usize, u64), rec: Option<Vec<u8>>) {
        if let Some(p) = self.procs.borrow_mut().iter_mut().find(|p| p.id == proc_id) {
            // connection-pipelining: a connection that has sent its request
            // is asked to carry this one, if it is first in line.
            if rec.is_some()
                && p.waiters.is_empty()
                && let Some(c) = p.carriers.pop()
            {
                self.stats.kick.borrow_mut().push(c);
            }
            p.waiters.push_back((who, rec));
        }
    }

    /// connection-pipelining: the lease's request (of client connection
    /// `who`) is sent and its connection could carry the next request;
    /// it is asked to when one starts waiting.
    pub fn add_carrier(&self, lease: &Lease, who: (usize, u64)) {
        if let Some(p) = self
            .procs
            .borrow_mut()
            .iter_mut()
            .find(|p| p.id == lease.proc_id)
            && !p.carriers.contains(&who)
        {
            p.carriers.push(who);
            lease.carrier.set(Some(who));
        }
    }

    /// connection-pipelining: the lease's request carries one now.
    pub fn remove_carrier(&self, lease: &Lease) {
        if let Some(who) = lease.carrier.take()
            && let Some(p) = self
                .procs
                .borrow_mut()
                .iter_mut()
                .find(|p| p.id == lease.proc_id)
        {
            p.carriers.retain(|c| *c != who);
        }
    }

    /// connection-reuse: a connection whose request ended cleanly is kept
    /// for the next request (the first waiting one is woken).
    pub fn put_idle(&self, lease: &Lease, mut g: super::GwConn, now: i64) {
        let mut procs = self.procs.borrow_mut();
        let Some(p) = procs.iter_mut().find(|p| p.id == lease.proc_id) else {
            return;
        };
        if p.state == ProcState::Running && lease.counted.get() {
            lease.counted.set(false);
            if let Some(slot) = &g.slot {
                slot.set_owner(super::NO_OWNER);
            }
            g.readable = false;
            p.idle.push((g, now));
            wake_one(p, &self.stats);
        }
    }

    /// Idle connections unused for idle-timeout are closed, and all of a
    /// proc that is not running (its waiters try again).
    fn trim_idle(&self, now: i64) {
        let limit = self.cfg.idle_timeout as i64;
        for p in self.procs.borrow_mut().iter_mut() {
            let before = p.idle.len();
            if p.state != ProcState::Running {
                p.idle.clear();
            } else {
                p.idle.retain(|(_, since)| now - since < limit);
            }
            p.open = p.open.saturating_sub((before - p.idle.len()) as u32);
            if p.state != ProcState::Running {
                while wake_one(p, &self.stats) {}
            }
        }
    }

    fn log_reenabled(&self, p: &Proc) {
        let sock = match &self.cfg.addr {
            BackendAddr::Unix(s) => &**s,
            BackendAddr::Tcp(_) => "",
        };
        crate::log_error!(
            "gw-server re-enabled: {} {} {} {}",
            p.addr,
            self.cfg.host_name,
            self.cfg.port,
            sock
        );
    }

    /// Starts (or restarts) a proc; Err carries lighttpd's lines.
    fn start_proc(&self, p: &mut Proc, now: i64, debug: u32) -> Result<(), String> {
        if debug > 0 {
            let (port, sock) = match &p.addr {
                BackendAddr::Unix(s) => (0, &**s),
                BackendAddr::Tcp(a) => (a.port(), ""),
            };
            crate::log_error!("new proc, socket: {port} {sock}");
        }
        match spawn::spawn_proc(&self.cfg, &p.addr)? {
            Started::External => {
                p.is_local = false;
                p.child = None;
                if self.debug > 0 {
                    crate::log_error!("(debug) socket is already used; won't spawn: {}", p.addr);
                }
            }
            Started::Child(c) => {
                p.is_local = true;
                p.child = Some(c);
                p.last_used = now;
            }
        }
        p.state = ProcState::Running;
        p.in_use = true;
        Ok(())
    }

    /// Adaptive spawning: one more proc, reusing a reaped slot.
    fn spawn_more(&self, now: i64) {
        let mut procs = self.procs.borrow_mut();
        let slot = procs.iter().position(|p| !p.in_use && p.child.is_none());
        if let Some(i) = slot
            && procs[i].disabled_until >= now
        {
            return; // a proc just exited: not now
        }
        let mut p = match slot {
            Some(i) => procs.remove(i),
            None => {
                let id = procs.iter().map(|p| p.id + 1).max().unwrap_or(0);
                Proc::new(id, self.cfg.proc_addr(id))
            }
        };
        match self.start_proc(&mut p, now, self.debug) {
            Ok(()) => procs.insert(0, p),
            Err(e) => {
                e.lines().for_each(|l| crate::log_error!("{l}"));
                crate::log_error!("ERROR: spawning backend failed.");
                p.disabled_until = now;
                procs.push(p);
            }
        }
    }

    /// Collects exited children (SIGCHLD). A proc in the host's list is
    /// started again at once, as 1.4.69 does, unless it already died
    /// within this second (then the trigger restarts it: no spinning on a
    /// child that exits at once); a killed one is only marked DIED.
    pub fn reap(&self, now: i64) {
        let mut procs = self.procs.borrow_mut();
        for p in procs.iter_mut() {
            let recent = p.disabled_until >= now;
            if !self.reap_one(p, now) || !p.in_use || recent {
                continue;
            }
            if let Err(e) = self.start_proc(p, now, self.debug) {
                e.lines().for_each(|l| crate::log_error!("{l}"));
                crate::log_error!("ERROR: spawning gw failed.");
            }
        }
    }

    /// Collects proc `p`'s child if it has exited, with 1.4.69's lines;
    /// true when it had.
    fn reap_one(&self, p: &mut Proc, now: i64) -> bool {
        let Some(child) = p.child.as_mut() else {
            return false;
        };
        let status = match child.try_wait() {
            Ok(Some(st)) => st,
            Ok(None) => return false,
            Err(e) => {
                crate::log_error!(
                    "pid {} {} not found: {}",
                    child.id(),
                    p.state as i32,
                    crate::sys::strerror(&e)
                );
                p.child = None;
                p.state = ProcState::Died;
                return false;
            }
        };
        use std::os::unix::process::ExitStatusExt;
        if let Some(code) = status.code() {
            if p.state != ProcState::Killed {
                crate::log_error!("child exited: {code} {}", p.addr);
            }
        } else if let Some(sig) = status.signal() {
            if sig != libc::SIGTERM && sig != libc::SIGINT && sig != self.cfg.kill_signal as i32 {
                crate::log_error!("child signalled: {sig}");
            }
        } else {
            crate::log_error!("child died somehow: {}", status.into_raw());
        }
        p.child = None;
        if p.state != ProcState::Killed {
            p.disabled_until = now;
        }
        p.state = ProcState::Died;
        true
    }

    /// The once-a-second maintenance of one host.
    pub fn trigger(&self, now: i64) {
        {
            let mut procs = self.procs.borrow_mut();
            for p in procs.iter_mut().filter(|p| p.in_use) {
                if self.debug > 2 {
                    crate::log_error!(
                        "proc: {} {} {} {} {}",
                        p.addr,
                        p.state as i32,
                        p.is_local as i32,
                        p.load,
                        p.pid()
                    );
                }
                match p.state {
                    ProcState::Running => {}
                    ProcState::Overloaded => {
                        if now > p.disabled_until {
                            p.state = ProcState::Running;
                            self.log_reenabled(p);
                        }
                    }
                    ProcState::Killed => {}
                    ProcState::Died => {
                        if self.cfg.bin_path.is_none() || p.load != 0 || p.disabled_until >= now {
                            continue;
                        }
                        if self.debug > 0 {
                            crate::log_error!(
                                "--- gw spawning\n\tsocket {}\n\tcurrent: 1 / {}",
                                p.addr,
                                self.cfg.max_procs
                            );
                        }
                        if let Err(e) = self.start_proc(p, now, self.debug) {
                            e.lines().for_each(|l| crate::log_error!("{l}"));
                            crate::log_error!("ERROR: spawning gw failed.");
                            p.disabled_until = now;
                        }
                    }
                }
            }
            // Killed procs not yet reaped: the signal escalates.
            for p in procs.iter_mut().filter(|p| p.state == ProcState::Killed) {
                if let Some(c) = &p.child {
                    p.disabled_until += 1;
                    if p.disabled_until > 4 {
                        let sig = match p.disabled_until {
                            ..=8 => self.cfg.kill_signal as i32,
                            9..=16 => libc::SIGTERM,
                            _ => libc::SIGKILL,
                        };
                        crate::sys::kill(c.id(), sig);
                    }
                }
            }
        }
        let c = &self.cfg;
        if c.min_procs == c.max_procs || c.bin_path.is_none() {
            return;
        }
        // Every proc above max-load-per-proc: one more, up to max-procs.
        let (num, overload) = {
            let procs = self.procs.borrow();
            let loads: Vec<u32> = procs.iter().filter(|p| p.in_use).map(|p| p.load).collect();
            let busy = loads.iter().all(|&l| l > c.max_load_per_proc as u32);
            (loads.len(), busy && !loads.is_empty())
        };
        if overload && num < c.max_procs as usize {
            if self.debug > 0 {
                crate::log_error!("overload detected, spawning a new child");
            }
            self.spawn_more(now);
        }
        let idle_since = now - c.idle_timeout as i64;
        let mut procs = self.procs.borrow_mut();
        let num = procs.iter().filter(|p| p.in_use).count();
        if num <= c.min_procs as usize {
            return;
        }
        if let Some(p) = procs
            .iter_mut()
            .find(|p| p.in_use && p.load == 0 && p.child.is_some() && p.last_used < idle_since)
        {
            let sock = match &p.addr {
                BackendAddr::Unix(s) => &**s,
                BackendAddr::Tcp(_) => "",
            };
            if self.debug > 0 {
                crate::log_error!(
                    "idle-timeout reached, terminating child: socket: {sock} pid {}",
                    p.pid()
                );
            }
            crate::sys::kill(p.pid(), c.kill_signal as i32);
            p.state = ProcState::Killed;
            p.in_use = false;
            p.disabled_until = 0;
        }
    }
}

/// Every host of the configuration with its procs.
#[derive(Default)]
pub struct Pool {
    pub hosts: Vec<Rc<HostRt>>,
    pub stats: Rc<Stats>,
}

impl Pool {
    /// Attaches run-time state to every host (a bin-path host configured
    /// twice with the same socket shares one) and starts min-procs procs
    /// of each bin-path host. Err: a proc did not start (fatal).
    pub fn start(hosts: &[(Rc<GwHost>, u32)], now: i64) -> Result<Pool, String> {
        let mut pool = Pool::default();
        for (h, debug) in hosts {
            let debug = *debug;
            if let Some(same) = pool.hosts.iter().find(|r| {
                r.cfg.bin_path.is_some() && r.cfg.bin_path == h.bin_path && r.cfg.addr == h.addr
            }) {
                let _ = h.rt.set(same.clone());
                continue;
            }
            let key = match &h.addr {
                BackendAddr::Unix(p) => p.to_string(),
                BackendAddr::Tcp(_) => h.host_name.clone(),
            };
            let rt = Rc::new(HostRt {
                cfg: h.clone(),
                load: Cell::new(0),
                procs: RefCell::new(Vec::new()),
                hash: djb_hash(key.as_bytes(), DJB_INIT),
                debug,
                stats: pool.stats.clone(),
            });
            let _ = h.rt.set(rt.clone());
            pool.hosts.push(rt.clone());
            if h.bin_path.is_none() {
                let mut p = Proc::new(0, h.addr.clone());
                p.state = ProcState::Running;
                p.in_use = true;
                rt.procs.borrow_mut().push(p);
                continue;
            }
            for n in 0..h.min_procs {
                let mut p = Proc::new(n, h.proc_addr(n));
                // Start-up spawns are silent even with fastcgi.debug (1.4.69).
                if let Err(e) = rt.start_proc(&mut p, now, 0) {
                    rt.procs.borrow_mut().insert(0, p);
                    pool.shutdown(false);
                    return Err(format!("{e}\n[ERROR]: spawning gw failed."));
                }
                rt.procs.borrow_mut().insert(0, p);
            }
            // The slots above min-procs, for adaptive spawning.
            for n in h.min_procs..h.max_procs {
                rt.procs.borrow_mut().push(Proc::new(n, h.proc_addr(n)));
            }
        }
        Ok(pool)
    }

    pub fn trigger(&self, now: i64) {
        for h in &self.hosts {
            h.reap(now);
            h.trigger(now);
            h.trim_idle(now);
            h.kick_waiters();
        }
    }

    pub fn reap(&self, now: i64) {
        for h in &self.hosts {
            h.reap(now);
        }
    }

    /// connection-pipelining: a woken request is gone; a connection handed
    /// to it is closed.
    pub fn drop_handoff(&self, who: (usize, u64)) {
        for h in &self.hosts {
            if h.cfg.pipelining {
                h.drop_handoff(who);
            }
        }
    }

    /// Client connections to run again (connection-reuse waiters).
    pub fn take_wakes(&self) -> Vec<(usize, u64)> {
        std::mem::take(&mut *self.stats.wake.borrow_mut())
    }

    /// Client connections whose backend connection may carry a waiting
    /// request (connection-pipelining).
    pub fn take_kicks(&self) -> Vec<(usize, u64)> {
        std::mem::take(&mut *self.stats.kick.borrow_mut())
    }

    /// In a server.max-worker worker: the procs stay as the parent started
    /// them, but they are the parent's children, not ours: a proc that
    /// refuses is disabled for disable-time (the parent starts it again),
    /// never reaped or started here, nor killed at our exit.
    pub fn forget_children(&self) {
        for h in &self.hosts {
            for p in h.procs.borrow_mut().iter_mut() {
                if let Some(c) = p.child.take() {
                    p.adopted_pid = c.id();
                }
            }
        }
    }

    /// Shutdown: kill-signal to every child, sockets removed, no waiting
    /// (as lighttpd) unless `wait`: before a graceful restart the children
    /// get up to 2 s to exit, so the next run does not find the old ones
    /// still answering on their ports and take them for external backends.
    pub fn shutdown(&self, wait: bool) {
        let mut children = Vec::new();
        for h in &self.hosts {
            for p in h.procs.borrow_mut().iter_mut() {
                if let Some(c) = p.child.take() {
                    crate::sys::kill(c.id(), h.cfg.kill_signal as i32);
                    if let BackendAddr::Unix(s) = &p.addr {
                        let _ = std::fs::remove_file(crate::http::lossless::to_path(s));
                    }
                    children.push(c);
                }
            }
        }
        if wait {
            let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while std::time::Instant::now() < until {
                children.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
                if children.is_empty() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote_pool(opts: &str, now: i64) -> (Pool, Rc<GwHost>) {
        use crate::config::eval::{Input, read_config};
        use crate::config::value::Value;
        let t = read_config(Input::Stdin(&format!(
            "fastcgi.server = ( \"/x\" => ( ( \"host\" => \"127.0.0.1\", \"port\" => 9, {opts} ) ) )\n"
        )))
        .unwrap();
        let Some(Value::Array(a)) = t.global().values.get("fastcgi.server") else {
            panic!("no fastcgi.server")
        };
        let exts = crate::gw::config::parse_servers(
            "fastcgi.server",
            &crate::gw::codec::FASTCGI,
            a,
            &mut Vec::new(),
        )
        .unwrap();
        let h = exts[0].hosts[0].clone();
        let pool = Pool::start(&[(h.clone(), 0)], now).unwrap();
        (pool, h)
    }

    #[test]
    fn load_counters_and_disable_then_reenable() {
        let (pool, h) = remote_pool("\"disable-time\" => 2", 100);
        let rt = h.rt.get().unwrap().clone();
        assert_eq!(rt.active_procs(), 1);
        let lease = rt.acquire(0).unwrap();
        assert_eq!(
            (
                rt.load.get(),
                pool.stats.active.get(),
                pool.stats.requests.get()
            ),
            (1, 1, 1)
        );
        rt.connected(&lease, 100);
        rt.connect_error(&lease, libc::ECONNREFUSED, 100);
        {
            let procs = rt.procs.borrow();
            assert_eq!(procs[0].state, ProcState::Overloaded);
            assert_eq!(
                (procs[0].connected, procs[0].died, procs[0].overloaded),
                (1, 1, 0)
            );
            assert_eq!(procs[0].disabled_until, 102);
            assert_eq!(procs[0].load, 1);
        }
        assert_eq!(rt.active_procs(), 0, "a disabled proc takes no requests");
        assert!(rt.acquire(0).is_none());
        drop(lease);
        assert_eq!((rt.load.get(), pool.stats.active.get()), (0, 0));
        assert_eq!(rt.procs.borrow()[0].load, 0);
        pool.trigger(102);
        assert_eq!(
            rt.procs.borrow()[0].state,
            ProcState::Overloaded,
            "not before disable-time has passed"
        );
        pool.trigger(103);
        assert_eq!(rt.procs.borrow()[0].state, ProcState::Running, "re-enabled");
        let lease = rt.acquire(0).unwrap();
        rt.connect_error(&lease, libc::EAGAIN, 103);
        assert_eq!(
            rt.procs.borrow()[0].overloaded,
            1,
            "EAGAIN counts as overloaded"
        );
    }

    #[test]
    fn connection_reuse_limits_connections_and_queues() {
        let (_pool, h) = remote_pool("\"connection-reuse\" => 1", 100);
        let rt = h.rt.get().unwrap().clone();
        let a = rt.acquire(0).unwrap();
        assert!(matches!(rt.reuse_slot(&a, false, 100), Slot::New));
        let b = rt.acquire(0).unwrap();
        assert!(
            matches!(rt.reuse_slot(&b, false, 100), Slot::Wait),
            "one connection at most"
        );
        rt.add_waiter(b.proc_id, (7, 70), None);
        drop(b);
        let c = rt.acquire(0).unwrap();
        assert!(
            matches!(rt.reuse_slot(&c, false, 100), Slot::Wait),
            "newcomers queue behind waiters"
        );
        drop(c);
        // The first request's connection closes (not kept): the waiter is woken.
        drop(a);
        assert_eq!(rt.stats.wake.borrow().as_slice(), [(7, 70)]);
        assert_eq!(rt.procs.borrow()[0].open, 0);
        rt.remove_waiter((7, 70));
        assert!(rt.procs.borrow()[0].waiters.is_empty());
    }

    /// A connection to a listening unix socket in a fresh directory, for
    /// the pipelining tests (the listener must stay alive).
    fn unix_conn(
        h: &GwHost,
        name: &str,
    ) -> (std::os::unix::net::UnixListener, super::super::GwConn) {
        let dir =
            std::env::temp_dir().join(format!("lighttpd-rs-pool-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("s");
        let _ = std::fs::remove_file(&path);
        let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let addr = BackendAddr::Unix(path.to_str().unwrap().into());
        let g = super::super::connect(&addr, h.codec).unwrap();
        // Connected: the name is no longer needed.
        let _ = std::fs::remove_dir_all(&dir);
        (l, g)
    }

    /// A remote host with connection-reuse 1 and pipelining, a connection
    /// to a listening socket, and a request holding its proc that opened
    /// it (the carrier).
    fn pipelining_host(
        name: &str,
    ) -> (
        Pool,
        Rc<HostRt>,
        std::os::unix::net::UnixListener,
        super::super::GwConn,
        Lease,
    ) {
        let opts = "\"connection-reuse\" => 1, \"connection-pipelining\" => \"enable\"";
        let (pool, h) = remote_pool(opts, 100);
        let rt = h.rt.get().unwrap().clone();
        let (l, g) = unix_conn(&h, name);
        let a = rt.acquire(0).unwrap();
        assert!(matches!(rt.reuse_slot(&a, false, 100), Slot::New));
        (pool, rt, l, g, a)
    }

    /// Writes `rec` on the carrier `g` for `who`, as the server does once
    /// take_pipelined has given it the next request.
    fn pipeline_behind(
        g: &mut super::super::GwConn,
        rt: &Rc<HostRt>,
        who: (usize, u64),
        rec: &[u8],
    ) {
        let next = super::super::Next {
            who,
            host: rt.clone(),
            len: rec.len(),
        };
        g.pipeline(rec, next);
    }

    #[test]
    fn pipelining_takes_only_a_first_waiter_and_hands_the_connection_on() {
        let (_pool, rt, _l, mut g, a) = pipelining_host("hand");
        // The carrier has sent its request; nothing waits yet.
        assert!(rt.take_pipelined(a.proc_id).is_none());
        rt.add_carrier(&a, (0, 1));
        // A request with a body waits first: it kicks no carrier and
        // blocks pipelining for those behind it.
        rt.add_waiter(a.proc_id, (1, 10), None);
        rt.add_waiter(a.proc_id, (2, 20), Some(b"rec".to_vec()));
        assert!(rt.stats.kick.borrow().is_empty());
        assert!(
            rt.take_pipelined(a.proc_id).is_none(),
            "first in line has a body"
        );
        rt.remove_waiter((1, 10));
        let (who, rec) = rt.take_pipelined(a.proc_id).unwrap();
        assert_eq!((who, rec.as_slice()), ((2, 20), &b"rec"[..]));
        rt.remove_carrier(&a);
        assert!(rt.procs.borrow()[0].carriers.is_empty());
        pipeline_behind(&mut g, &rt, who, &rec);
        // The carried request ends cleanly: the connection goes to (2, 20)
        // and stays counted as open while it changes hands.
        rt.hand_on(&a, g);
        drop(a);
        assert_eq!(rt.procs.borrow()[0].open, 1);
        assert_eq!(rt.procs.borrow()[0].load, 0);
        assert_eq!(rt.stats.wake.borrow().as_slice(), [(2, 20)]);
        rt.stats.wake.borrow_mut().clear();
        let (g, b, len) = rt.take_handoff((2, 20), 0).unwrap();
        assert_eq!(len, 3);
        assert_eq!(rt.procs.borrow()[0].load, 1);
        assert!(rt.take_handoff((2, 20), 0).is_none());
        drop(g);
        drop(b);
        assert_eq!(rt.procs.borrow()[0].open, 0);
        assert!(
            rt.stats.wake.borrow().is_empty(),
            "a connection dropped after the hand-off wakes no one"
        );
    }

    #[test]
    fn pipelining_kicks_a_carrier_and_recovers_a_broken_pipeline() {
        let (_pool, rt, _l, mut g, a) = pipelining_host("kick");
        rt.add_carrier(&a, (0, 1));
        rt.add_waiter(a.proc_id, (2, 20), Some(b"rec".to_vec()));
        assert_eq!(
            rt.stats.kick.borrow().as_slice(),
            [(0, 1)],
            "the carrier is asked to take it"
        );
        let (who, rec) = rt.take_pipelined(a.proc_id).unwrap();
        pipeline_behind(&mut g, &rt, who, &rec);
        // The carried request fails: its connection is dropped, and the
        // request behind it is woken to go out again.
        drop(g);
        drop(a);
        assert_eq!(rt.stats.wake.borrow().as_slice(), [(2, 20)]);
        assert_eq!(rt.procs.borrow()[0].open, 0);
        // A hand-off to a request that is gone is closed.
        let (_l2, mut g) = unix_conn(&rt.cfg, "gone");
        let c = rt.acquire(0).unwrap();
        assert!(matches!(rt.reuse_slot(&c, true, 100), Slot::New));
        g.pipeline(
            b"rec",
            super::super::Next {
                who: (3, 30),
                host: rt.clone(),
                len: 3,
            },
        );
        rt.hand_on(&c, g);
        drop(c);
        assert_eq!(rt.procs.borrow()[0].handoff.len(), 1);
        rt.drop_handoff((3, 30));
        assert!(rt.procs.borrow()[0].handoff.is_empty());
        assert_eq!(rt.procs.borrow()[0].open, 0);
    }
}
