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

/// A compiled `=~` / `!~` pattern.
#[derive(Debug)]
pub struct CondRegex {
    pub regex: pcre2::bytes::Regex,
}

/// Compiles a condition regex with PCRE2 in UTF mode, with lighttpd's
/// messages for a bad pattern or too many captures.
pub fn compile_regex(re: &str) -> Result<CondRegex, ConfigError> {
    let regex = pcre2::bytes::RegexBuilder::new()
        .utf(true)
        .jit_if_available(true)
        .build(re)
        .map_err(|e| {
            let full = e.to_string();
            let msg = full.split_once(": ").map(|(_, m)| m).unwrap_or(&full);
            let msg = msg.split_once(": ").map(|(_, m)| m).unwrap_or(msg);
            ConfigError::new(ErrorKind::Regex(format!(
                "pcre2_compile: {} at offset {}, regex: {}",
                msg,
                e.offset().unwrap_or(0),
                re
            )))
        })?;
    if regex.captures_len() > 10 {
        return Err(ConfigError::new(ErrorKind::TooManyCaptures(re.to_string())));
    }
    Ok(CondRegex { regex })
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
}
