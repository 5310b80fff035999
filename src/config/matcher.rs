//! Per-request evaluation of the condition blocks (config-language.md §2):
//! each block gets TRUE, FALSE or SKIP — SKIP when its parent is not TRUE,
//! or when an earlier branch of its else chain was not FALSE. The result is
//! one flag per block, computed once per request, so applying the typed
//! patches is a plain walk over the blocks that hold.

use super::ast::CondOp;
use super::cond::Field;
use super::eval::{BlockCond, ConfigTree};
use std::net::IpAddr;

/// The request fields conditions compare.
pub struct CondInput<'a> {
    pub url: &'a str,
    /// Normalized authority, lowercased, possibly with ":port".
    pub host: &'a str,
    pub query: &'a str,
    pub remote_ip: IpAddr,
    pub scheme: &'a str,
    pub method: &'a str,
    /// The listener's token, e.g. "127.0.0.1:8080".
    pub socket: &'a str,
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    True,
    False,
    Skip,
}

/// One flag per block: true when the block applies to this request.
pub fn eval_blocks(tree: &ConfigTree, input: &CondInput<'_>) -> Vec<bool> {
    let mut st = vec![State::Skip; tree.blocks.len()];
    st[0] = State::True;
    // Blocks are created parent before child and branch before else, so
    // one pass in index order sees parents and predecessors first.
    for b in &tree.blocks[1..] {
        let parent_true = b.parent.is_some_and(|p| st[p] == State::True);
        let prev_false = b.prev.is_none_or(|p| st[p] == State::False);
        st[b.index] = if !parent_true || !prev_false {
            State::Skip
        } else if holds(&b.cond, input) {
            State::True
        } else {
            State::False
        };
    }
    st.into_iter().map(|s| s == State::True).collect()
}

/// Whether a block's own condition holds for the request (parent and else
/// chain aside); a global block or bare `else` holds.
pub fn holds(cond: &BlockCond, input: &CondInput<'_>) -> bool {
    let BlockCond::Cond {
        field,
        op,
        value,
        regex,
        ..
    } = cond
    else {
        return true;
    };
    let subject = field_value(field, input);
    match (field, op) {
        (Field::RemoteIp, CondOp::Eq | CondOp::Ne) => {
            let m = ip_matches(value, input.remote_ip);
            if *op == CondOp::Eq { m } else { !m }
        }
        (Field::Host, CondOp::Eq | CondOp::Ne) => {
            let m = host_eq(&subject, value);
            if *op == CondOp::Eq { m } else { !m }
        }
        (_, CondOp::Eq) => subject == *value,
        (_, CondOp::Ne) => subject != *value,
        (_, CondOp::Prefix) => subject.starts_with(value.as_str()),
        (_, CondOp::Suffix) => subject.ends_with(value.as_str()),
        (_, CondOp::Match | CondOp::NoMatch) => {
            let m = regex
                .as_ref()
                .is_some_and(|r| r.regex.is_match(subject.as_bytes()).unwrap_or(false));
            if *op == CondOp::Match { m } else { !m }
        }
    }
}

/// The request value a condition on `field` compares.
pub fn field_value(field: &Field, input: &CondInput<'_>) -> String {
    match field {
        Field::Url => input.url.to_string(),
        Field::Host => input.host.to_string(),
        Field::QueryString => input.query.to_string(),
        Field::RemoteIp => input.remote_ip.to_string(),
        Field::Scheme => input.scheme.to_string(),
        Field::RequestMethod => input.method.to_string(),
        Field::ServerSocket => input.socket.to_string(),
        // A missing header compares as "".
        Field::Header(h) => (input.header)(h).unwrap_or("").to_string(),
    }
}

/// `$HTTP["host"] == "a"` matches "a" and "a:port".
fn host_eq(subject: &str, value: &str) -> bool {
    if subject.eq_ignore_ascii_case(value) {
        return true;
    }
    match subject.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || subject.starts_with('[') => {
            p.bytes().all(|b| b.is_ascii_digit()) && h.eq_ignore_ascii_case(value)
        }
        _ => false,
    }
}

/// `$HTTP["remoteip"] == "net/bits"` compared in binary.
pub fn ip_matches(spec: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match spec.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (spec, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    // An IPv4 client on a v6 socket arrives as ::ffff:a.b.c.d.
    let ip = match (net, ip) {
        (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        _ => ip,
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let b = bits.unwrap_or(32).min(32);
            let mask = if b == 0 { 0 } else { u32::MAX << (32 - b) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let b = bits.unwrap_or(128).min(128);
            let mask = if b == 0 { 0 } else { u128::MAX << (128 - b) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::eval::{Input, read_config};

    fn run(conf: &str, url: &str, ip: &str) -> Vec<bool> {
        let t = read_config(Input::Stdin(conf)).unwrap();
        let hdr = |_: &str| -> Option<&str> { None };
        let input = CondInput {
            url,
            host: "www.example.org:8080",
            query: "",
            remote_ip: ip.parse().unwrap(),
            scheme: "http",
            method: "GET",
            socket: "127.0.0.1:8080",
            header: &hdr,
        };
        eval_blocks(&t, &input)
    }

    #[test]
    fn else_chain() {
        let c = "$HTTP[\"url\"] =^ \"/a\" { } else $HTTP[\"url\"] =^ \"/b\" { } else { }\n";
        assert_eq!(run(c, "/a/x", "127.0.0.1"), [true, true, false, false]);
        assert_eq!(run(c, "/b/x", "127.0.0.1"), [true, false, true, false]);
        assert_eq!(run(c, "/c", "127.0.0.1"), [true, false, false, true]);
    }

    #[test]
    fn nested_and_regex() {
        let c = "$HTTP[\"url\"] =~ \"^/x(.*)\" {\n $HTTP[\"host\"] == \"www.example.org\" { }\n}\n";
        assert_eq!(run(c, "/xyz", "127.0.0.1"), [true, true, true]);
        assert_eq!(run(c, "/y", "127.0.0.1"), [true, false, false]);
    }

    #[test]
    fn remote_ip_cidr() {
        assert!(ip_matches("10.0.0.0/8", "10.1.2.3".parse().unwrap()));
        assert!(!ip_matches("10.0.0.0/8", "11.1.2.3".parse().unwrap()));
        assert!(ip_matches("127.0.0.1", "::ffff:127.0.0.1".parse().unwrap()));
        assert!(ip_matches("[::1]/128", "::1".parse().unwrap()));
        let c = "$HTTP[\"remoteip\"] != \"127.0.0.0/8\" { }\n";
        assert_eq!(run(c, "/", "127.0.0.2"), [true, false]);
    }
}
