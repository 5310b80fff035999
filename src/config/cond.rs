//! Conditions of `$HTTP[...]`, `$REQUEST_HEADER[...]` and `$SERVER["socket"]`
//! blocks: which request field they read, lighttpd's regex simplification
//! (`^lit$` → `==`, `^lit` → `=^`, `lit$` and `\.ext$` → `=$`; not for
//! `$SERVER["socket"]`), the load-time checks (unknown field, invalid IP,
//! PCRE2 compile errors, at most 9 captures), and matching a value.

use super::ast::CondOp;
use super::error::{ConfigError, ErrorKind};

/// The request field a condition compares (config-language.md §2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Url,
    Host,
    QueryString,
    RemoteIp,
    Scheme,
    RequestMethod,
    /// Any request header; `$HTTP["referer"]`, `["cookie"]`, `["useragent"]`
    /// and `["language"]` are headers too.
    Header(String),
    ServerSocket,
}

impl Field {
    /// Maps `$OBJ["tag"]` to a field, as lighttpd does (case-sensitive).
    pub fn from_tags(obj: &str, tag: &str) -> Option<Field> {
        match obj {
            "REQUEST_HEADER" => Some(Field::Header(tag.to_string())),
            "SERVER" if tag == "socket" => Some(Field::ServerSocket),
            "HTTP" => Some(match tag {
                "url" => Field::Url,
                "host" => Field::Host,
                "referer" => Field::Header("Referer".into()),
                "useragent" | "user-agent" => Field::Header("User-Agent".into()),
                "language" => Field::Header("Accept-Language".into()),
                "cookie" => Field::Header("Cookie".into()),
                "remoteip" | "remote-ip" => Field::RemoteIp,
                "querystring" | "query-string" => Field::QueryString,
                "request-method" => Field::RequestMethod,
                "scheme" => Field::Scheme,
                _ => return None,
            }),
            _ => None,
        }
    }
}

/// Turns a simple anchored regex into a cheaper operator, returning the
/// new operator and the literal. Backslashes disable it, except a leading
/// `\.` before a `$`-anchored extension.
pub fn simplify_regex(re: &str) -> (CondOp, String) {
    const META: &[char] = &[
        '\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}',
    ];
    let (op, lit) = if let Some(body) = re.strip_suffix('$') {
        if let Some(ext) = body.strip_prefix("\\.") {
            (CondOp::Suffix, format!(".{ext}"))
        } else if let Some(lit) = body.strip_prefix('^') {
            (CondOp::Eq, lit.to_string())
        } else {
            (CondOp::Suffix, body.to_string())
        }
    } else if let Some(lit) = re.strip_prefix('^') {
        (CondOp::Prefix, lit.to_string())
    } else {
        return (CondOp::Match, re.to_string());
    };
    // The literal part (after a kept leading '.') must have no metacharacters.
    let check = if re.starts_with("\\.") && op == CondOp::Suffix {
        &lit[1..]
    } else {
        &lit[..]
    };
    if check.contains(META) {
        return (CondOp::Match, re.to_string());
    }
    (op, lit)
}

/// Checks a `$HTTP["remoteip"]` value: an IPv4 or IPv6 address (brackets
/// optional) with an optional CIDR mask. 1.4.69 does not check the mask's
/// range (a bug); we reject a mask out of range (doc/compat.md).
pub fn check_remoteip(v: &str) -> bool {
    if v.starts_with('/') {
        return true; // a unix-socket peer
    }
    let (addr, mask) = match v.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (v, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let max = match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => 32,
        Ok(std::net::IpAddr::V6(_)) => 128,
        Err(_) => return false,
    };
    match mask {
        None => true,
        Some(m) => m.parse::<u32>().is_ok_and(|n| n >= 1 && n <= max),
    }
}

/// Checks a `$SERVER["socket"]` value as lighttpd does at load: `:port`,
/// `[]...` and unix-socket paths pass; otherwise a host (name, IPv4 or
/// `[IPv6]`) with an optional numeric port below 65536.
pub fn check_socket(v: &str) -> bool {
    if v.starts_with(':') || v.starts_with("[]") || v.starts_with('/') || v.starts_with('\\') {
        return true;
    }
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let Some((h, tail)) = rest.split_once(']') else {
            return false;
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match tail {
            "" => return true,
            t => ("x", t.strip_prefix(':').unwrap_or("!")),
        }
    } else {
        match v.rsplit_once(':') {
            Some((h, p)) => (h, p),
            // a host alone: server.port
            None => return true,
        }
    };
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.is_empty() {
        return false;
    }
    if port.parse::<u32>().map_or(true, |p| p == 0 || p > 65535) {
        return false;
    }
    true
}

/// A compiled `=~` / `!~` pattern.
#[derive(Debug)]
pub struct CondRegex {
    pub regex: pcre2::bytes::Regex,
}

/// Compiles a condition regex with PCRE2 in UTF mode, with lighttpd's
/// messages for a bad pattern or too many captures. `re` is config text
/// (bytes that are not UTF-8 held as src/http/lossless.rs says): such a
/// byte is a UTF-8 error, as PCRE2 reports it to lighttpd.
pub fn compile_regex(re: &str) -> Result<CondRegex, ConfigError> {
    let raw = crate::http::lossless::to_bytes(re);
    let text = std::str::from_utf8(&raw).map_err(|bad| {
        ConfigError::new(ErrorKind::Regex(format!(
            "pcre2_compile: {} at offset {}, regex: {}",
            utf8_error_text(&raw),
            bad.valid_up_to(),
            re
        )))
    })?;
    let regex = pcre2::bytes::RegexBuilder::new()
        .utf(true)
        .jit_if_available(true)
        .build(text)
        .map_err(|e| {
            ConfigError::new(ErrorKind::Regex(format!(
                "pcre2_compile: {} at offset {}, regex: {}",
                pcre2_message(&e),
                e.offset().unwrap_or(0),
                re
            )))
        })?;
    if regex.captures_len() > 10 {
        return Err(ConfigError::new(ErrorKind::TooManyCaptures(re.to_string())));
    }
    Ok(CondRegex { regex })
}

/// PCRE2's text of an error, without the crate's "PCRE2: error ...: ".
fn pcre2_message(e: &pcre2::Error) -> String {
    let full = e.to_string();
    let msg = full.split_once(": ").map(|(_, m)| m).unwrap_or(&full);
    let msg = msg.split_once(": ").map(|(_, m)| m).unwrap_or(msg);
    msg.to_string()
}

/// PCRE2's own words for why `raw` is not UTF-8 ("UTF-8 error: byte 2 top
/// bits not 0x80", ...). The crate compiles only text, so PCRE2's UTF check
/// is reached through a match: an empty UTF pattern against `raw`.
fn utf8_error_text(raw: &[u8]) -> String {
    match pcre2::bytes::RegexBuilder::new().utf(true).build("") {
        Ok(probe) => match probe.is_match(raw) {
            Err(e) => pcre2_message(&e),
            Ok(_) => "UTF-8 error".to_string(),
        },
        Err(e) => pcre2_message(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplification_table() {
        assert_eq!(simplify_regex("^/x$"), (CondOp::Eq, "/x".into()));
        assert_eq!(simplify_regex("^/foo"), (CondOp::Prefix, "/foo".into()));
        assert_eq!(simplify_regex("\\.php$"), (CondOp::Suffix, ".php".into()));
        assert_eq!(simplify_regex("b$"), (CondOp::Suffix, "b".into()));
        assert_eq!(simplify_regex("^/x\\.y$").0, CondOp::Match);
        assert_eq!(simplify_regex("^/a(b|c)$").0, CondOp::Match);
        assert_eq!(simplify_regex("x").0, CondOp::Match);
        assert_eq!(simplify_regex("\\.p.p$").0, CondOp::Match);
        assert_eq!(simplify_regex("$"), (CondOp::Suffix, "".into()));
    }

    #[test]
    fn fields() {
        assert_eq!(
            Field::from_tags("HTTP", "useragent"),
            Some(Field::Header("User-Agent".into()))
        );
        assert_eq!(Field::from_tags("HTTP", "URL"), None);
        assert_eq!(Field::from_tags("SERVER", "name"), None);
        assert_eq!(Field::from_tags("PHYSICAL", "path"), None);
    }

    #[test]
    fn remoteip() {
        assert!(check_remoteip("10.0.0.0/8"));
        assert!(check_remoteip("::1"));
        assert!(check_remoteip("[::1]/128"));
        assert!(!check_remoteip("10.0.0.256"));
        assert!(!check_remoteip("10.0.0.0/0"));
        assert!(!check_remoteip("hostname"));
    }

    #[test]
    fn socket_values() {
        assert!(check_socket(":8080"));
        assert!(check_socket("127.0.0.1:18081"));
        assert!(check_socket("[::1]:80"));
        assert!(check_socket("localhost:80"));
        assert!(check_socket("/tmp/sock"));
        assert!(check_socket("^abc$"));
        assert!(!check_socket("^:18085$"));
        assert!(!check_socket("127.0.0.1:99999"));
        assert!(check_socket("300.1.1.1:80"));
    }

    #[test]
    fn regex_errors() {
        let e = compile_regex("(").unwrap_err();
        assert_eq!(
            e.to_string(),
            "pcre2_compile: missing closing parenthesis at offset 1, regex: ("
        );
        assert!(compile_regex("(a)(b)(c)(d)(e)(f)(g)(h)(i)").is_ok());
        let e = compile_regex("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooManyCaptures(_)));
    }

    /// A byte that is not UTF-8 in a pattern: PCRE2's UTF-8 error at the
    /// byte's offset, as 1.4.69 logs it (texts checked against it).
    #[test]
    fn regex_bytes_not_utf8() {
        let held = |b: &[u8]| crate::http::lossless::from_bytes(b).into_owned();
        for (pattern, text) in [
            (
                &b"^/caf\xe9(x|y)?$"[..],
                "byte 2 top bits not 0x80 at offset 5",
            ),
            (b"^/(a|caf\xe9)", "1 byte missing at end at offset 8"),
            (b"^/caf\xff(a)", "illegal byte (0xfe or 0xff) at offset 5"),
            (b"(a)\x80", "isolated byte with 0x80 bit set at offset 3"),
            (
                b"(a)\xf4\x90\x80\x80",
                "code points greater than 0x10ffff are not defined at offset 3",
            ),
            (
                b"(a)\xed\xa0\x80",
                "code points 0xd800-0xdfff are not defined at offset 3",
            ),
            (b"(a)\xc0\x80", "overlong 2-byte sequence at offset 3"),
            (b"(a)\xf0\x80", "2 bytes missing at end at offset 3"),
        ] {
            let re = held(pattern);
            let e = compile_regex(&re).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("pcre2_compile: UTF-8 error: {text}, regex: {re}"),
                "{pattern:?}"
            );
        }
        // A character of the block the raw bytes are held in, sent as
        // UTF-8, is that character to PCRE2.
        let real = "(a)\u{10FFE9}";
        let re = held(real.as_bytes());
        let subject = "a\u{10FFE9}".as_bytes();
        assert!(compile_regex(&re).unwrap().regex.is_match(subject).unwrap());
    }
}
