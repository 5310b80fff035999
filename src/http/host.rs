//! The Host header (uri.authority) policy of lighttpd (http-core.md §1
//! "Host"): host-strict syntax (DNS names, dotted IPv4, bracketed IPv6,
//! digits-only ports) and host-normalize (port read like strtol base 0,
//! default port dropped, IPv6 canonicalised as glibc prints it).

use super::uri::BadTarget;

/// The Host value lighttpd rejects ("Invalid Hostname -> 400").
pub const BAD_HOST: BadTarget = BadTarget {
    reason: "Invalid Hostname -> 400",
};

/// lighttpd's Host policy (http-core.md §1 "Host") for an already lowercased
/// authority: the host-strict syntax check, then host-normalize (implied by
/// host-strict). `https` picks the default port that is dropped.
/// A value that needs no change comes back borrowed.
pub fn normalize_host(
    host: &[u8],
    strict: bool,
    normalize: bool,
    https: bool,
) -> Result<std::borrow::Cow<'_, [u8]>, BadTarget> {
    use std::borrow::Cow;
    let default_port = if https { 443 } else { 80 };
    if (strict || normalize) && already_normal(host, default_port) {
        return Ok(Cow::Borrowed(host));
    }
    let host = if strict {
        check_host_strict(host).ok_or(BAD_HOST)?
    } else if host.iter().any(|&c| c == 0 || c == b'\r' || c == b'\n') {
        return Err(BAD_HOST);
    } else {
        host.to_vec()
    };
    if strict || normalize {
        normalize_host_port(&host, default_port)
            .map(Cow::Owned)
            .ok_or(BAD_HOST)
    } else {
        Ok(Cow::Owned(host))
    }
}

/// The usual Host needs no work: a lower-case strict host name (or dotted
/// IPv4) without a trailing dot, and no port or a port of 1–65535 written
/// without a leading zero that is not the scheme's default. Checking the
/// strict and normalized forms of such a value returns it unchanged (a unit
/// test compares both ways).
fn already_normal(host: &[u8], default_port: u32) -> bool {
    let (name, port) = match host.iter().position(|&c| c == b':') {
        Some(i) => (&host[..i], Some(&host[i + 1..])),
        None => (host, None),
    };
    if name.last() == Some(&b'.')
        || name.iter().any(u8::is_ascii_uppercase)
        || !is_strict_hostname(name)
    {
        return false;
    }
    match port {
        None => true,
        Some(p) => {
            p.len() <= 5
                && p.first().is_some_and(|&c| c != b'0')
                && p.iter().all(u8::is_ascii_digit)
                && std::str::from_utf8(p)
                    .ok()
                    .and_then(|t| t.parse::<u32>().ok())
                    .is_some_and(|n| (1..=65535).contains(&n) && n != default_port)
        }
    }
}

/// host-strict: a DNS name or dotted IPv4 (one trailing `.` dropped), or a
/// bracketed IPv6 literal of hex digits, `.` and at most 7 `:`; then an
/// optional all-digit port (a bare trailing `:` is dropped).
fn check_host_strict(host: &[u8]) -> Option<Vec<u8>> {
    let (name, rest): (Vec<u8>, &[u8]) = if host.first() == Some(&b'[') {
        let mut colons = 0;
        let mut i = 1;
        while let Some(&c) = host.get(i) {
            if c == b':' {
                colons += 1;
                if colons >= 8 {
                    break;
                }
            } else if !(c.is_ascii_hexdigit() || c == b'.') {
                break;
            }
            i += 1;
        }
        if host.get(i) != Some(&b']') || i == 1 {
            return None;
        }
        (host[..=i].to_vec(), &host[i + 1..])
    } else {
        let end = host.iter().position(|&c| c == b':').unwrap_or(host.len());
        let mut name = &host[..end];
        if let Some(stripped) = name.strip_suffix(b".") {
            name = stripped;
        }
        if !is_strict_hostname(name) {
            return None;
        }
        (name.to_vec(), &host[end..])
    };
    let mut out = name;
    if let Some(port) = rest.strip_prefix(b":") {
        if !port.iter().all(u8::is_ascii_digit) {
            return None;
        }
        if !port.is_empty() {
            out.extend_from_slice(rest);
        }
    } else if !rest.is_empty() {
        return None;
    }
    Some(out)
}

/// Labels of alphanumerics and `-`, none empty, none starting with `-`; a
/// name whose last label is all digits must be four all-digit labels.
fn is_strict_hostname(name: &[u8]) -> bool {
    if name.is_empty() {
        return false;
    }
    let (mut count, mut all_numeric, mut last_numeric) = (0, true, false);
    for l in name.split(|&c| c == b'.') {
        if l.is_empty()
            || l[0] == b'-'
            || !l.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        {
            return false;
        }
        count += 1;
        last_numeric = l.iter().all(u8::is_ascii_digit);
        all_numeric &= last_numeric;
    }
    !last_numeric || (count == 4 && all_numeric)
}

/// host-normalize: the port is read like C `strtol(.., 0)` and must be
/// 1–65535; the scheme's default port is dropped; IPv6 is canonicalised as
/// glibc's inet_ntop prints it. (Dotted IPv4 that passes inet_pton is
/// already canonical.)
fn normalize_host_port(host: &[u8], default_port: u32) -> Option<Vec<u8>> {
    let (mut out, port) = if host.first() == Some(&b'[') {
        if host.len() <= 2 {
            return None;
        }
        let close = host.iter().position(|&c| c == b']')?;
        let after = &host[close + 1..];
        let port = match after {
            [] => None,
            [b':'] => None,
            [b':', p @ ..] => Some(port_strtol(p)?),
            _ => return None,
        };
        if close == 1 {
            return None;
        }
        let inner = &host[1..close];
        // a %zone suffix is kept after the canonical address
        let pct = host[1..].iter().position(|&c| c == b'%').map(|p| p + 1);
        if pct.is_some_and(|p| p > close) {
            return None;
        }
        let (addr, zone) = match pct {
            Some(p) => (&host[1..p], &host[p..close]),
            None => (inner, &b""[..]),
        };
        let ip: std::net::Ipv6Addr = std::str::from_utf8(addr).ok()?.parse().ok()?;
        let mut out = b"[".to_vec();
        out.extend_from_slice(format_ipv6(&ip).as_bytes());
        out.extend_from_slice(zone);
        out.push(b']');
        (out, port)
    } else {
        match host.iter().position(|&c| c == b':') {
            Some(0) => return None,
            Some(c) => {
                let p = &host[c + 1..];
                let port = if p.is_empty() {
                    None
                } else {
                    Some(port_strtol(p)?)
                };
                (host[..c].to_vec(), port)
            }
            None => (host.to_vec(), None),
        }
    };
    if let Some(p) = port.filter(|&p| p != default_port) {
        out.extend_from_slice(format!(":{p}").as_bytes());
    }
    Some(out)
}

/// A port as C `strtol(s, &end, 0)` reads it (leading blanks, a sign, `0x`
/// hex, `0` octal), valid only if all of `s` is used and it is 1–65535.
fn port_strtol(s: &[u8]) -> Option<u32> {
    let mut i = s
        .iter()
        .take_while(|c| b" \t\n\x0b\x0c\r".contains(c))
        .count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let radix = match (s.get(i), s.get(i + 1), s.get(i + 2)) {
        (Some(b'0'), Some(b'x' | b'X'), Some(h)) if h.is_ascii_hexdigit() => {
            i += 2;
            16
        }
        (Some(b'0'), ..) => 8,
        _ => 10,
    };
    let digits = &s[i..];
    if digits.is_empty() || negative {
        return None;
    }
    let mut v: u32 = 0;
    for &c in digits {
        let d = char::from(c).to_digit(radix)?;
        v = v.checked_mul(radix)?.checked_add(d)?;
        if v > 65535 {
            return None;
        }
    }
    (v > 0).then_some(v)
}

/// IPv6 text as glibc's inet_ntop writes it: lowercase hex, the longest run
/// (first on ties) of two or more zero groups as `::`, and `::a.b.c.d` /
/// `::ffff:a.b.c.d` for IPv4-compatible and -mapped addresses.
pub fn format_ipv6(ip: &std::net::Ipv6Addr) -> String {
    let w = ip.segments();
    let (mut best, mut cur) = ((0usize, 0usize), (0usize, 0usize));
    for (i, &g) in w.iter().enumerate() {
        if g == 0 {
            if cur.1 == 0 {
                cur.0 = i;
            }
            cur.1 += 1;
            if cur.1 > best.1 {
                best = cur;
            }
        } else {
            cur.1 = 0;
        }
    }
    let run = if best.1 >= 2 { Some(best) } else { None };
    let mut s = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = run
            && (base..base + len).contains(&i)
        {
            if i == base {
                s.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            s.push(':');
        }
        if i == 6 && run.is_some_and(|(b, l)| b == 0 && (l == 6 || (l == 5 && w[5] == 0xffff))) {
            let o = ip.octets();
            s.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            return s;
        }
        s.push_str(&format!("{:x}", w[i]));
        i += 1;
    }
    if run.is_some_and(|(b, l)| b + l == 8) {
        s.push(':');
    }
    s
}

#[cfg(test)]
mod host_tests {
    use super::*;

    fn host(h: &str) -> Result<String, BadTarget> {
        normalize_host(h.as_bytes(), true, true, false)
            .map(|v| String::from_utf8(v.into_owned()).unwrap())
    }

    #[test]
    fn host_strict_names() {
        for (i, o) in [
            ("a", "a"),
            ("example.com", "example.com"),
            ("example.com.", "example.com"),
            ("a-.b", "a-.b"),
            ("123.a", "123.a"),
            ("1.2.3.4", "1.2.3.4"),
            ("3com.net", "3com.net"),
            ("a:", "a"),
            ("a.:81", "a:81"),
        ] {
            assert_eq!(host(i).as_deref(), Ok(o), "{i}");
        }
        for bad in [
            "",
            ".",
            "-ab",
            "a.-b",
            "a..b",
            "a..",
            ".a",
            "a_b",
            "a b",
            "123",
            "1.2.3",
            "a.123",
            "1.2.3.4.5",
            "a:0x50",
            "a:80:80",
            "a:8 0",
            "a\u{e9}",
            ":80",
        ] {
            assert_eq!(host(bad), Err(BAD_HOST), "{bad:?}");
        }
    }

    #[test]
    fn host_ipv6() {
        for (i, o) in [
            ("[::1]", "[::1]"),
            ("[0:0::1]", "[::1]"),
            ("[::1]:8080", "[::1]:8080"),
            ("[::1]:80", "[::1]"),
            ("[::1]:", "[::1]"),
            ("[2001:db8:0:0:0:0:0:1]", "[2001:db8::1]"),
            ("[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]"),
        ] {
            assert_eq!(host(i).as_deref(), Ok(o), "{i}");
        }
        for bad in [
            "[]",
            "[::1%eth0]",
            "[::1]x",
            "[::1",
            "[1:2:3:4:5:6:7:8:9]",
            "[::g]",
            "[:::]",
            "[::1]:0",
        ] {
            assert_eq!(host(bad), Err(BAD_HOST), "{bad:?}");
        }
        // host-normalize alone keeps a zone
        let n = normalize_host(b"[0::1%eth0]:443", false, true, true).unwrap();
        assert_eq!(&*n, b"[::1%eth0]");
    }

    #[test]
    fn host_ports() {
        assert_eq!(host("a:0050").as_deref(), Ok("a:40"));
        assert_eq!(host("a:0100").as_deref(), Ok("a:64"));
        assert_eq!(host("a:0080"), Err(BAD_HOST));
        assert_eq!(host("a:080"), Err(BAD_HOST));
        assert_eq!(host("a:0"), Err(BAD_HOST));
        assert_eq!(host("a:65535").as_deref(), Ok("a:65535"));
        assert_eq!(host("a:65536"), Err(BAD_HOST));
        assert_eq!(host("a:99999999999999999999"), Err(BAD_HOST));
        assert_eq!(host("a:80").as_deref(), Ok("a"));
        assert_eq!(host("a:443").as_deref(), Ok("a:443"));
        let https = normalize_host(b"a:443", true, true, true).unwrap();
        assert_eq!(&*https, b"a");
        // normalize without strict: strtol's hex, sign and blanks
        let n = |h: &str| {
            normalize_host(h.as_bytes(), false, true, false)
                .map(|v| String::from_utf8(v.into_owned()).unwrap())
        };
        assert_eq!(n("a:0x50").as_deref(), Ok("a"));
        assert_eq!(n("a:0x51").as_deref(), Ok("a:81"));
        assert_eq!(n("a: +81").as_deref(), Ok("a:81"));
        assert_eq!(n("a:-81"), Err(BAD_HOST));
        assert_eq!(n("a:0x"), Err(BAD_HOST));
        assert_eq!(n("a:80:80"), Err(BAD_HOST));
        assert_eq!(n("-a_b").as_deref(), Ok("-a_b"));
    }

    #[test]
    fn host_lax() {
        let lax = |h: &'static [u8]| normalize_host(h, false, false, false);
        assert_eq!(&*lax(b"A_b c:x").unwrap(), b"A_b c:x");
        assert_eq!(lax(b"a\0"), Err(BAD_HOST));
        assert_eq!(lax(b"a\rb"), Err(BAD_HOST));
        assert_eq!(lax(b"a\nb"), Err(BAD_HOST));
    }

    #[test]
    fn ipv6_text_like_glibc() {
        // expected values printed by glibc's inet_ntop (python socket module)
        for (i, o) in [
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::2", "::2"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
            ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
            ("::", "::"),
            ("1::", "1::"),
            ("abcd::0:1", "abcd::1"),
            ("0:0:0:0:0:1:0:0", "::1:0:0"),
            ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"),
            ("0::ffff:0:1.2.3.4", "::ffff:0:102:304"),
            ("1:0:0:0:0:ffff:1.2.3.4", "1::ffff:102:304"),
            ("::fffe:1.2.3.4", "::fffe:102:304"),
        ] {
            let ip: std::net::Ipv6Addr = i.parse().unwrap();
            assert_eq!(format_ipv6(&ip), o, "{i}");
        }
    }

    #[test]
    fn host_never_panics() {
        for a in 0..=255u8 {
            for b in [b'[', b']', b':', b'%', b'.', b'0', b'x', a] {
                for h in [
                    vec![a, b],
                    vec![b'[', a, b],
                    vec![b'[', b':', b':', b']', b':', a, b],
                    vec![b'a', b':', a, b],
                ] {
                    let _ = normalize_host(&h, true, true, false);
                    let _ = normalize_host(&h, false, true, true);
                    let _ = normalize_host(&h, false, false, false);
                }
            }
        }
    }

    #[test]
    fn the_shortcut_agrees_with_the_full_checks() {
        for h in [
            "example.com",
            "example.com:8080",
            "127.0.0.1",
            "127.0.0.1:18480",
            "a-b.c:65535",
            "a.b:80",
            "a.b:443",
            "a.b:0",
            "a.b:0123",
            "a.b:65536",
            "a.b.",
            "a.b.:8080",
            "1.2.3",
            "1.2.3.4.5",
            "-a.b",
            "a..b",
            "xn--d1a.example",
            "a.b:",
            "a.b:+8",
            "a_b.c",
            "[::1]",
            "[::1]:8080",
            "localhost",
            "123",
        ] {
            for https in [false, true] {
                let default = if https { 443 } else { 80 };
                if already_normal(h.as_bytes(), default) {
                    let full = check_host_strict(h.as_bytes())
                        .and_then(|x| normalize_host_port(&x, default));
                    assert_eq!(full.as_deref(), Some(h.as_bytes()), "{h} https={https}");
                }
            }
        }
        assert!(already_normal(b"example.com:8080", 80));
        assert!(!already_normal(b"example.com:80", 80));
    }
}
