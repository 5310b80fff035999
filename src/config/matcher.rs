//! Per-request evaluation of the condition blocks (config-language.md §2):
//! each block gets TRUE, FALSE or SKIP — SKIP when its parent is not TRUE,
//! or when an earlier branch of its else chain was not FALSE. The result is
//! one flag per block, computed once per request, so applying the typed
//! patches is a plain walk over the blocks that hold. The regex captures
//! of a block that held (`%0`–`%9` for mod_rewrite and mod_redirect) are
//! given on demand by [`block_captures`]: matching again gives what the
//! condition matched, and requests that use none pay nothing.

use super::ast::CondOp;
use super::cond::Field;
use super::eval::{BlockCond, ConfigTree};
use crate::http::lossless;
use std::borrow::Cow;
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
    eval_with(tree, |cond, _| holds(cond, input))
}

/// [`eval_blocks`] as mod_staticfile sees them in 1.4.69 once the URL path
/// changed to `late.url` (PATH_INFO split off, an index file's name
/// added): blocks in `early` were decided before, on the request's URL
/// (`input`), the others are decided now, on the new one ([`LateBlocks`]).
pub fn eval_blocks_late<'a>(
    tree: &ConfigTree,
    early: &[bool],
    input: &CondInput<'a>,
    late: &CondInput<'a>,
) -> Vec<bool> {
    eval_with(tree, |cond, i| {
        let decided_early = early.get(i).copied().unwrap_or(true);
        holds(cond, if decided_early { input } else { late })
    })
}

fn eval_with(tree: &ConfigTree, holds: impl Fn(&BlockCond, usize) -> bool) -> Vec<bool> {
    let mut st = vec![State::Skip; tree.blocks.len()];
    st[0] = State::True;
    // Blocks are created parent before child and branch before else, so
    // one pass in index order sees parents and predecessors first.
    for b in &tree.blocks[1..] {
        let parent_true = b.parent.is_some_and(|p| st[p] == State::True);
        let prev_false = b.prev.is_none_or(|p| st[p] == State::False);
        st[b.index] = if !parent_true || !prev_false {
            State::Skip
        } else if holds(&b.cond, b.index) {
            State::True
        } else {
            State::False
        };
    }
    st.into_iter().map(|s| s == State::True).collect()
}

/// Which condition blocks 1.4.69 decides on the request's URL. It decides
/// a block when a module first reads options the block holds: the core
/// and the modules working at the URL and physical stages (mod_access,
/// mod_alias, mod_fastcgi) before the URL path can change; mod_indexfile
/// and mod_dirlisting at a directory, on its URL; mod_staticfile last,
/// when PATH_INFO has been split off the URL path or an index file's name
/// added to it. Deciding a block decides its parents and the branches
/// before it in an else chain. So a block holding only static-file.*
/// options (index-file.* / dir-listing.* too, but for a directory) is
/// decided on the URL mod_staticfile sees.
#[derive(Debug, Clone)]
pub struct LateBlocks {
    /// Decided on the request's URL, for a file found under PATH_INFO.
    pub early: Vec<bool>,
    /// The same for a directory's index file.
    pub early_dir: Vec<bool>,
}

impl LateBlocks {
    /// None when no block decided late compares the URL: then the URL's
    /// change makes no difference.
    pub fn new(tree: &ConfigTree) -> Option<LateBlocks> {
        let lower = |k: &str| k.to_ascii_lowercase();
        let dir_key = |k: &str| {
            k.starts_with("index-file.")
                || k == "server.indexfiles"
                || k.starts_with("dir-listing.")
        };
        let n = tree.blocks.len();
        let (mut early, mut early_dir) = (vec![false; n], vec![false; n]);
        let mark = |set: &mut Vec<bool>, i: usize| {
            let mut stack = vec![i];
            while let Some(j) = stack.pop() {
                if !std::mem::replace(&mut set[j], true) {
                    stack.extend(tree.blocks[j].parent);
                    stack.extend(tree.blocks[j].prev);
                }
            }
        };
        mark(&mut early, 0);
        mark(&mut early_dir, 0);
        for b in &tree.blocks[1..] {
            let keys: Vec<String> = b
                .values
                .entries
                .iter()
                .filter_map(|e| e.key.as_deref().map(lower))
                .collect();
            if keys
                .iter()
                .any(|k| !k.starts_with("static-file.") && !dir_key(k))
            {
                mark(&mut early, b.index);
                mark(&mut early_dir, b.index);
            } else if keys.iter().any(|k| dir_key(k)) {
                mark(&mut early_dir, b.index);
            }
        }
        let late_url = tree
            .blocks
            .iter()
            .any(|b| !early[b.index] && matches!(b.field(), Some(Field::Url)));
        late_url.then_some(LateBlocks { early, early_dir })
    }
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
                // the bytes as sent: in UTF mode, a subject that is not
                // UTF-8 matches no regex (as in 1.4.69; a literal one,
                // simplified above, compares the bytes)
                .is_some_and(|r| {
                    r.regex
                        .is_match(&lossless::to_bytes(&subject))
                        .unwrap_or(false)
                });
            if *op == CondOp::Match { m } else { !m }
        }
    }
}

/// The request value a condition on `field` compares.
pub fn field_value<'a>(field: &Field, input: &CondInput<'a>) -> Cow<'a, str> {
    match field {
        Field::Url => Cow::Borrowed(input.url),
        Field::Host => Cow::Borrowed(input.host),
        Field::QueryString => Cow::Borrowed(input.query),
        Field::RemoteIp => Cow::Owned(input.remote_ip.to_string()),
        Field::Scheme => Cow::Borrowed(input.scheme),
        Field::RequestMethod => Cow::Borrowed(input.method),
        Field::ServerSocket => Cow::Borrowed(input.socket),
        // A missing header compares as "".
        Field::Header(h) => Cow::Borrowed((input.header)(h).unwrap_or("")),
    }
}

/// What `%0`–`%9` stand for in a directive of one block: the groups of
/// the block's regex as it matched this request (`%0` the whole match).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captures {
    groups: Vec<Option<String>>,
}

impl Captures {
    /// `%n`: empty for a group that did not take part, or past the last.
    pub fn get(&self, n: usize) -> &str {
        self.groups.get(n).and_then(|g| g.as_deref()).unwrap_or("")
    }
}

/// The captures of block `index`'s condition for this request, when that
/// condition is a regex (`=~`, or one simplified to `==` / `=^` / `=$`,
/// whose only capture is the literal it matched) and it matched; None for
/// other conditions (their `%n` expand to empty, as in lighttpd). The
/// caller asks only for a block that held.
pub fn block_captures(tree: &ConfigTree, index: usize, input: &CondInput<'_>) -> Option<Captures> {
    let BlockCond::Cond {
        field,
        op,
        value,
        regex,
        simplified,
        ..
    } = &tree.blocks.get(index)?.cond
    else {
        return None;
    };
    if *simplified {
        // The anchored literal matched: it is the whole match.
        return holds(&tree.blocks[index].cond, input).then(|| Captures {
            groups: vec![Some(value.clone())],
        });
    }
    if *op != CondOp::Match {
        return None;
    }
    let subject = field_value(field, input);
    let subject = lossless::to_bytes(&subject);
    let caps = regex.as_ref()?.regex.captures(&subject).ok()??;
    let groups = (0..caps.len())
        .map(|i| {
            caps.get(i)
                .map(|m| lossless::from_bytes(m.as_bytes()).into_owned())
        })
        .collect();
    Some(Captures { groups })
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

    const NO_HEADERS: &dyn Fn(&str) -> Option<&'static str> = &|_| None;

    /// A GET for `url` to `host` from `ip`.
    fn input(url: &'static str, host: &'static str, ip: &str) -> CondInput<'static> {
        CondInput {
            url,
            host,
            query: "",
            remote_ip: ip.parse().unwrap(),
            scheme: "http",
            method: "GET",
            socket: "127.0.0.1:8080",
            header: NO_HEADERS,
        }
    }

    fn run(conf: &str, url: &'static str, ip: &str) -> Vec<bool> {
        let t = read_config(Input::Stdin(conf)).unwrap();
        eval_blocks(&t, &input(url, "www.example.org:8080", ip))
    }

    #[test]
    fn late_blocks_are_those_mod_staticfile_decides() {
        // 1: static-file only (late); 2: a core key (early); 3: index-file
        // only (early for a directory); 4: late, under an early parent
        let c = "$HTTP[\"url\"] =~ \"\\.txt$\" { static-file.etags = \"disable\" }\n\
                 $HTTP[\"url\"] =~ \"\\.html$\" { static-file.etags = \"disable\"\n server.tag = \"x\" }\n\
                 $HTTP[\"url\"] =~ \"/$\" { index-file.names = ( \"a\" ) }\n\
                 $HTTP[\"host\"] == \"h\" { server.tag = \"y\"\n $HTTP[\"url\"] =^ \"/a\" { static-file.etags = \"disable\" } }\n";
        let t = read_config(Input::Stdin(c)).unwrap();
        let lb = LateBlocks::new(&t).unwrap();
        assert_eq!(lb.early, [true, false, true, false, true, false]);
        assert_eq!(lb.early_dir, [true, false, true, true, true, false]);
        // decided on the URL mod_staticfile sees: "/a.txt" for "/a.txt/x"
        let full = input("/a.txt/x", "h", "127.0.0.1");
        let late = input("/a.txt", "h", "127.0.0.1");
        assert_eq!(
            eval_blocks_late(&t, &lb.early, &full, &late),
            [true, true, false, false, true, true]
        );
        // without a late block that compares the URL there is nothing to do
        let t = read_config(Input::Stdin(
            "$HTTP[\"host\"] == \"h\" { static-file.etags = \"disable\" }\n",
        ))
        .unwrap();
        assert!(LateBlocks::new(&t).is_none());
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
    fn captures_of_a_block() {
        let c = "$HTTP[\"host\"] =~ \"^(www)\\.(ex[^.]*)\" {\n $HTTP[\"url\"] =~ \"^/a\" { }\n $HTTP[\"url\"] =~ \"^/(x)?b(c)\" { }\n}\n$HTTP[\"url\"] !~ \"^/(q)\" { }\n$HTTP[\"url\"] == \"/bc\" { }\n";
        let t = read_config(Input::Stdin(c)).unwrap();
        let input = input("/bc", "www.example.org", "127.0.0.1");
        assert_eq!(
            eval_blocks(&t, &input),
            [true, true, false, true, true, true]
        );
        // config-language.md's example: %1 = www, %2 = example, %0 the match.
        let host = block_captures(&t, 1, &input).unwrap();
        assert_eq!(
            (host.get(0), host.get(1), host.get(2)),
            ("www.example", "www", "example")
        );
        assert_eq!(host.get(3), "");
        // A group that took no part is empty; later groups still count.
        let url = block_captures(&t, 3, &input).unwrap();
        assert_eq!((url.get(0), url.get(1), url.get(2)), ("/bc", "", "c"));
        // `=~ "^/a"` was simplified to `=^`: its capture is the literal.
        let other = CondInput {
            url: "/a/z",
            ..input
        };
        let simple = block_captures(&t, 2, &other).unwrap();
        assert_eq!((simple.get(0), simple.get(1)), ("/a", ""));
        assert!(block_captures(&t, 2, &input).is_none());
        // `!~` and plain comparisons have none, nor does the global block.
        assert!(block_captures(&t, 4, &input).is_none());
        assert!(block_captures(&t, 5, &input).is_none());
        assert!(block_captures(&t, 0, &input).is_none());
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
