//! Host choice among a key's hosts by fastcgi.balance (fastcgi.md §2),
//! exactly as 1.4.69 computes it: least-connection (fair), round-robin,
//! hash and sticky over djb2a, skipping hosts without a running proc.

use super::config::{GwExt, GwHost};
use std::cell::Cell;
use std::rc::Rc;

/// djb2a as lighttpd hashes: h = h*33 ^ c.
pub fn djb_hash(s: &[u8], mut h: u32) -> u32 {
    for &c in s {
        h = (h << 5).wrapping_add(h) ^ c as u32;
    }
    h
}

pub const DJB_INIT: u32 = 5381;

/// fastcgi.balance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Balance {
    #[default]
    LeastConnection,
    RoundRobin,
    Hash,
    Sticky,
}

impl Balance {
    /// The policy named `v`; other names warn and give the default.
    pub fn parse(v: &str) -> Result<Balance, String> {
        match v {
            "fair" | "least-connection" => Ok(Balance::LeastConnection),
            "round-robin" => Ok(Balance::RoundRobin),
            "hash" => Ok(Balance::Hash),
            "sticky" => Ok(Balance::Sticky),
            _ => Err(format!(
                "xxxxx.balance has to be one of: least-connection, round-robin, hash, sticky, but not: {v}"
            )),
        }
    }
}

/// What host choice looks at in a request.
pub struct PickInput<'a> {
    pub path: &'a str,
    pub authority: &'a str,
    pub client_ip: &'a str,
}

/// A host as the balancer sees it.
#[derive(Clone, Copy, Debug)]
pub struct HostView {
    pub active_procs: usize,
    pub load: u32,
    pub hash: u32,
    pub port: u16,
}

/// The host index the policy picks among `hosts` (fastcgi.md §2), or None
/// when no host has a running proc. `last_used` is the key's round-robin
/// cursor.
pub fn choose(
    hosts: &[HostView],
    balance: Balance,
    inp: &PickInput<'_>,
    last_used: &Cell<isize>,
) -> Option<usize> {
    let live = |k: usize| hosts[k].active_procs > 0;
    if hosts.len() <= 1 {
        return (hosts.len() == 1 && live(0)).then_some(0);
    }
    let highest = |score: &dyn Fn(&HostView) -> u32| {
        let mut best: Option<(usize, u32)> = None;
        for (k, h) in hosts.iter().enumerate() {
            if h.active_procs == 0 {
                continue;
            }
            let s = score(h);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((k, s));
            }
        }
        best.map(|(k, _)| k)
    };
    match balance {
        Balance::LeastConnection => {
            let mut best: Option<usize> = None;
            for (k, h) in hosts.iter().enumerate() {
                if live(k) && best.is_none_or(|b| h.load < hosts[b].load) {
                    best = Some(k);
                }
            }
            best
        }
        Balance::RoundRobin => {
            let start = (last_used.get() + 1).max(0) as usize;
            let found = (start..hosts.len())
                .chain(0..start.min(hosts.len()))
                .find(|&k| live(k));
            last_used.set(found.map(|k| k as isize).unwrap_or(-1));
            found
        }
        Balance::Hash => {
            let base = djb_hash(
                inp.authority.as_bytes(),
                djb_hash(inp.path.as_bytes(), DJB_INIT),
            );
            highest(&|h| base ^ h.hash)
        }
        Balance::Sticky => {
            let base = djb_hash(inp.client_ip.as_bytes(), DJB_INIT);
            highest(&|h| base ^ h.hash ^ h.port as u32)
        }
    }
}

/// Picks a host of `ext` for a request, or None when all are down (the
/// caller answers 503 and logs once per key).
pub fn pick_host(ext: &GwExt, balance: Balance, inp: &PickInput<'_>) -> Option<Rc<GwHost>> {
    let view = |h: &Rc<GwHost>| match h.rt.get() {
        Some(rt) => HostView {
            active_procs: rt.active_procs(),
            load: rt.load.get(),
            hash: rt.hash,
            port: h.port,
        },
        None => HostView {
            active_procs: 0,
            load: 0,
            hash: 0,
            port: 0,
        },
    };
    // On the stack for the usual few hosts.
    const FEW: usize = 8;
    let mut few = [view(ext.hosts.first()?); FEW];
    let many: Vec<HostView>;
    let views: &[HostView] = if ext.hosts.len() <= FEW {
        for (v, h) in few.iter_mut().zip(&ext.hosts) {
            *v = view(h);
        }
        &few[..ext.hosts.len()]
    } else {
        many = ext.hosts.iter().map(view).collect();
        &many
    };
    let k = choose(views, balance, inp, &ext.last_used)?;
    let h = ext.hosts[k].clone();
    if let Some(rt) = h.rt.get()
        && rt.debug > 0
    {
        crate::log_error!("gw - found a host {} {}", h.host_name, h.port);
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(active: usize, load: u32, hash: u32, port: u16) -> HostView {
        HostView {
            active_procs: active,
            load,
            hash,
            port,
        }
    }

    const INP: PickInput<'static> = PickInput {
        path: "/x.php",
        authority: "example.org",
        client_ip: "127.0.0.1",
    };

    #[test]
    fn djb_matches_reference_values() {
        assert_eq!(djb_hash(b"", DJB_INIT), 5381);
        // 5381*33 ^ 'a' = 177573 ^ 97
        assert_eq!(djb_hash(b"a", DJB_INIT), 177604);
        assert_eq!(djb_hash(b"ab", DJB_INIT), 177604u32.wrapping_mul(33) ^ 98);
    }

    #[test]
    fn least_connection_takes_lowest_load_first_on_ties_and_skips_dead() {
        let rr = Cell::new(-1);
        let hs = [view(1, 2, 0, 0), view(1, 1, 0, 0), view(1, 1, 0, 0)];
        assert_eq!(choose(&hs, Balance::LeastConnection, &INP, &rr), Some(1));
        let hs = [view(1, 2, 0, 0), view(0, 0, 0, 0), view(1, 1, 0, 0)];
        assert_eq!(choose(&hs, Balance::LeastConnection, &INP, &rr), Some(2));
        let hs = [view(0, 0, 0, 0), view(0, 0, 0, 0)];
        assert_eq!(choose(&hs, Balance::LeastConnection, &INP, &rr), None);
        let one = [view(0, 0, 0, 0)];
        assert_eq!(choose(&one, Balance::RoundRobin, &INP, &rr), None);
    }

    #[test]
    fn round_robin_cycles_over_live_hosts() {
        let rr = Cell::new(-1);
        let hs = [view(1, 0, 0, 0), view(0, 0, 0, 0), view(1, 0, 0, 0)];
        let got: Vec<_> = (0..4)
            .map(|_| choose(&hs, Balance::RoundRobin, &INP, &rr).unwrap())
            .collect();
        assert_eq!(got, [0, 2, 0, 2]);
    }

    #[test]
    fn hash_ignores_port_and_load_sticky_uses_port() {
        let rr = Cell::new(-1);
        let a = djb_hash(b"10.0.0.1", DJB_INIT);
        let b = djb_hash(b"10.0.0.2", DJB_INIT);
        let base = djb_hash(b"example.org", djb_hash(b"/x.php", DJB_INIT));
        let want = if (base ^ a) >= (base ^ b) { 0 } else { 1 };
        let hs = [view(1, 9, a, 1), view(1, 0, b, 2)];
        assert_eq!(choose(&hs, Balance::Hash, &INP, &rr), Some(want));
        let hs2 = [view(1, 0, a, 7), view(1, 9, b, 8)];
        assert_eq!(choose(&hs2, Balance::Hash, &INP, &rr), Some(want));
        // Same host, different ports: hash ties keep the first.
        let same = [view(1, 0, a, 1), view(1, 0, a, 2)];
        assert_eq!(choose(&same, Balance::Hash, &INP, &rr), Some(0));
        let cb = djb_hash(b"127.0.0.1", DJB_INIT);
        let s0 = cb ^ a ^ 1;
        let s1 = cb ^ a ^ 2;
        let want = if s0 >= s1 { 0 } else { 1 };
        assert_eq!(choose(&same, Balance::Sticky, &INP, &rr), Some(want));
    }

    /// A remote host (no spawning) read from a config line.

    #[test]
    fn balance_names() {
        assert_eq!(Balance::parse("fair"), Ok(Balance::LeastConnection));
        assert_eq!(Balance::parse("sticky"), Ok(Balance::Sticky));
        assert!(
            Balance::parse("random")
                .unwrap_err()
                .ends_with("but not: random")
        );
    }
}
