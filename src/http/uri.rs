//! Request-target normalization and splitting, as lighttpd 1.4.69 does it
//! under `server.http-parseopts` (http-core.md §2): percent-encoding
//! normalization (uppercase escapes, unreserved escapes decoded, everything
//! outside the raw-allowed set encoded, `#fragment` dropped), the UTF-8 lead
//! byte check, control-character rejection, `%2F` decoding or rejection in the
//! path, dot-segment removal or rejection, `%20` → `+` in the query; then the
//! split into `uri.path` (fully decoded, controls mapped to `_`, simplified)
//! and the still-encoded query. Also the two encoders other code needs: the
//! relative-URI encoding of a directory redirect's `Location` (§5).
//!
//! Everything here works on bytes: a target may carry any byte, and a decoded
//! path need not be UTF-8 (`%e9` passes lighttpd's checks). Pure functions,
//! no I/O; never panics on any input.

/// The url-* options of `server.http-parseopts` (http-core.md §2).
///
/// `url-normalize => disable` clears every other option; the config layer
/// rejects 2f-decode with 2f-reject and dotseg-remove with dotseg-reject.
/// `backslash_trans` is accepted but, as in lighttpd on non-Windows builds,
/// has no effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlOpts {
    pub normalize: bool,
    pub unreserved: bool,
    pub required: bool,
    pub ctrls_reject: bool,
    pub backslash_trans: bool,
    pub path_2f_decode: bool,
    pub path_2f_reject: bool,
    pub dotseg_remove: bool,
    pub dotseg_reject: bool,
    pub query_20_plus: bool,
    pub invalid_utf8_reject: bool,
}

impl UrlOpts {
    /// Every option off: `url-normalize => "disable"`.
    pub const NONE: UrlOpts = UrlOpts {
        normalize: false,
        unreserved: false,
        required: false,
        ctrls_reject: false,
        backslash_trans: false,
        path_2f_decode: false,
        path_2f_reject: false,
        dotseg_remove: false,
        dotseg_reject: false,
        query_20_plus: false,
        invalid_utf8_reject: false,
    };
}

impl UrlOpts {
    /// The url-* entries of server.http-parseopts applied in order to the
    /// defaults, as lighttpd 1.4.69 reads them: `url-normalize` disabled
    /// turns everything off (1.4.69 also stops reading the list there;
    /// the caller cuts it); otherwise any option left on turns
    /// `url-normalize` on, and when neither `url-normalize-unreserved` nor
    /// `-required` is left on, unreserved and invalid-utf8-reject come
    /// back, with 2f-decode unless it was disabled or 2f-reject is on.
    /// Err: the conflicts (2f-decode with 2f-reject, dotseg-remove with
    /// dotseg-reject, defaults included), as lighttpd words them. Other
    /// names are ignored here.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> Result<UrlOpts, Vec<String>> {
        let mut o = UrlOpts::default();
        let (mut normalize, mut decode_2f) = (true, true);
        for (name, on) in entries {
            let flag = match name {
                "url-normalize" => {
                    normalize &= on;
                    &mut o.normalize
                }
                "url-normalize-unreserved" => &mut o.unreserved,
                "url-normalize-required" => &mut o.required,
                "url-ctrls-reject" => &mut o.ctrls_reject,
                "url-path-backslash-trans" => &mut o.backslash_trans,
                "url-path-2f-decode" => {
                    decode_2f &= on;
                    &mut o.path_2f_decode
                }
                "url-path-2f-reject" => &mut o.path_2f_reject,
                "url-path-dotseg-remove" => &mut o.dotseg_remove,
                "url-path-dotseg-reject" => &mut o.dotseg_reject,
                "url-query-20-plus" => &mut o.query_20_plus,
                "url-invalid-utf8-reject" => &mut o.invalid_utf8_reject,
                _ => continue,
            };
            *flag = on;
        }
        if !normalize || o == UrlOpts::NONE {
            return Ok(UrlOpts::NONE);
        }
        o.normalize = true;
        let mut conflicts = Vec::new();
        for (a, b, both) in [
            (
                "url-path-2f-decode",
                "url-path-2f-reject",
                o.path_2f_decode && o.path_2f_reject,
            ),
            (
                "url-path-dotseg-remove",
                "url-path-dotseg-reject",
                o.dotseg_remove && o.dotseg_reject,
            ),
        ] {
            if both {
                conflicts.push(format!(
                    "conflicting options in server.http-parseopts:{a}, {b}"
                ));
            }
        }
        if !conflicts.is_empty() {
            return Err(conflicts);
        }
        if !o.unreserved && !o.required {
            o.unreserved = true;
            o.invalid_utf8_reject = true;
            if decode_2f && !o.path_2f_reject {
                o.path_2f_decode = true;
            }
        }
        Ok(o)
    }
}

impl Default for UrlOpts {
    /// lighttpd's defaults: normalize, unreserved, ctrls-reject, 2f-decode,
    /// dotseg-remove and invalid-utf8-reject on; the rest off.
    fn default() -> Self {
        UrlOpts {
            normalize: true,
            unreserved: true,
            required: false,
            ctrls_reject: true,
            backslash_trans: false,
            path_2f_decode: true,
            path_2f_reject: false,
            dotseg_remove: true,
            dotseg_reject: false,
            query_20_plus: false,
            invalid_utf8_reject: true,
        }
    }
}

/// A target lighttpd answers with 400; `reason` is its debug log wording
/// (written only with `debug.log-request-header-on-error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadTarget {
    pub reason: &'static str,
}

const BAD_CHAR: BadTarget = BadTarget {
    reason: "invalid character in URI -> 400",
};
const NO_SLASH: BadTarget = BadTarget {
    reason: "uri-path does not begin with '/' -> 400",
};

/// A target after normalization and splitting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The normalized target, path and query (what mod_rewrite sees).
    pub normalized: Vec<u8>,
    /// `uri.path`: decoded, controls as `_`, simplified; starts with `/`.
    pub path: Vec<u8>,
    /// `uri.query`: still encoded, without the `?`; `Some(b"")` for a bare `?`.
    pub query: Option<Vec<u8>>,
}

const HEX_UC: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes the normalizer keeps raw: alphanumerics and `!$&'()*+,-./:;=?@_~`.
pub fn is_raw_allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!$&'()*+,-./:;=?@_~".contains(&b)
}

/// RFC 3986 unreserved: ALPHA, DIGIT, `-._~`.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// Lead bytes that can never start valid UTF-8 (overlong ASCII or > U+10FFFF).
fn is_invalid_utf8_byte(b: u8) -> bool {
    b >= 0xF5 || b == 0xC0 || b == 0xC1
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte a `%XX` escape at `s[i]` stands for, if `s[i..i+3]` is one.
fn escape_at(s: &[u8], i: usize) -> Option<u8> {
    if s.get(i) != Some(&b'%') {
        return None;
    }
    let hi = hex_val(*s.get(i + 1)?)?;
    let lo = hex_val(*s.get(i + 2)?)?;
    Some((hi << 4) | lo)
}

fn push_escape(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[
        b'%',
        HEX_UC[usize::from(b >> 4)],
        HEX_UC[usize::from(b & 0xF)],
    ]);
}

/// Percent-encoding normalization (step 1 of §2) with the UTF-8 lead-byte
/// note of step 2. Returns the new target, the index of the query's `?`
/// and whether an invalid UTF-8 byte was seen.
///
/// In *required* mode lighttpd moves the query mark to every raw `?` it
/// meets, so the split happens at the last one (`/a?b?c` → path `/a?b`);
/// pinned by `required_mode_splits_at_last_qmark`, checked against 1.4.69.
fn normalize_encoding(raw: &[u8], required: bool) -> (Vec<u8>, Option<usize>, bool) {
    let mut out = Vec::with_capacity(raw.len() + 8);
    let mut qs: Option<usize> = None;
    let mut bad_utf8 = false;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if is_raw_allowed(b) {
            if b == b'?' && (required || qs.is_none()) {
                qs = Some(out.len());
            }
            out.push(b);
        } else if let Some(x) = escape_at(raw, i) {
            let decode = if required {
                is_raw_allowed(x)
                    && match qs {
                        None => x != b'/' && x != b'?',
                        Some(_) => !b"&=;+".contains(&x),
                    }
            } else {
                is_unreserved(x)
            };
            if decode {
                out.push(x);
            } else {
                push_escape(&mut out, x);
                bad_utf8 |= is_invalid_utf8_byte(x);
            }
            i += 2;
        } else if b == b'#' {
            break;
        } else {
            push_escape(&mut out, b);
            bad_utf8 |= is_invalid_utf8_byte(b);
        }
        i += 1;
    }
    (out, qs, bad_utf8)
}

/// After normalization every `%` starts an uppercase escape; `%00`–`%1F` and
/// `%7F` are the controls.
fn contains_ctrl_escape(s: &[u8]) -> bool {
    s.windows(3)
        .any(|w| w[0] == b'%' && (w[1] == b'0' || w[1] == b'1' || (w[1] == b'7' && w[2] == b'F')))
}

/// Replaces every `%2F` in `s` by `/`.
fn decode_2f(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(b"%2F") {
            out.push(b'/');
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Whether a path has a `.` or `..` segment or an empty one (`//`).
fn has_dot_segments(path: &[u8]) -> bool {
    path.windows(2).any(|w| w == b"//")
        || path
            .split(|&c| c == b'/')
            .any(|seg| seg == b"." || seg == b"..")
}

/// Target normalization as `server.http-parseopts` asks (§2 steps 1–6).
/// Returns the normalized target and the index of the `?` that starts the
/// query; `Err` is lighttpd's 400 "invalid character in URI".
/// With `url-normalize` off, only the `#fragment` is dropped.
pub fn normalize(raw: &[u8], opts: &UrlOpts) -> Result<(Vec<u8>, Option<usize>), BadTarget> {
    if !opts.normalize {
        let end = raw.iter().position(|&c| c == b'#').unwrap_or(raw.len());
        let t = raw[..end].to_vec();
        let qs = t.iter().position(|&c| c == b'?');
        return Ok((t, qs));
    }
    let (mut t, mut qs, bad_utf8) = normalize_encoding(raw, opts.required);
    if bad_utf8 {
        if opts.invalid_utf8_reject {
            return Err(BAD_CHAR);
        }
        // lighttpd loses its query mark here and looks for the first '?'.
        qs = t.iter().position(|&c| c == b'?');
    }
    if opts.ctrls_reject && contains_ctrl_escape(&t) {
        return Err(BAD_CHAR);
    }
    let path_end = |qs: Option<usize>, len: usize| qs.unwrap_or(len);
    if opts.path_2f_decode || opts.path_2f_reject {
        let pe = path_end(qs, t.len());
        if t[..pe].windows(3).any(|w| w == b"%2F") {
            if !opts.path_2f_decode {
                return Err(BAD_CHAR);
            }
            let mut nt = decode_2f(&t[..pe]);
            let new_qs = qs.map(|_| nt.len());
            nt.extend_from_slice(&t[pe..]);
            t = nt;
            qs = new_qs;
        }
    }
    if opts.dotseg_remove || opts.dotseg_reject {
        let pe = path_end(qs, t.len());
        if has_dot_segments(&t[..pe]) {
            if opts.dotseg_reject {
                return Err(BAD_CHAR);
            }
            let mut nt = simplify_path_bytes(&t[..pe]);
            let new_qs = qs.map(|_| nt.len());
            nt.extend_from_slice(&t[pe..]);
            t = nt;
            qs = new_qs;
        }
    }
    if opts.query_20_plus
        && let Some(q) = qs
    {
        let mut nt = t[..=q].to_vec();
        let rest = &t[q + 1..];
        let mut i = 0;
        while i < rest.len() {
            if rest[i..].starts_with(b"%20") {
                nt.push(b'+');
                i += 3;
            } else {
                nt.push(rest[i]);
                i += 1;
            }
        }
        t = nt;
    }
    Ok((t, qs))
}

/// The whole of §2 for an origin-form target (or the path+query of an
/// absolute-form one): normalize, split at the query mark, decode and
/// simplify the path, which must then start with `/`.
/// (`OPTIONS *` and CONNECT targets are not normalized; the caller keeps them.)
pub fn normalize_target(raw: &[u8], opts: &UrlOpts) -> Result<Target, BadTarget> {
    let (normalized, qs) = normalize(raw, opts)?;
    let (path_part, query) = match qs {
        Some(q) => (&normalized[..q], Some(normalized[q + 1..].to_vec())),
        None => (&normalized[..], None),
    };
    // Most paths have no escapes and nothing to simplify: no copies then.
    let decoded: std::borrow::Cow<'_, [u8]> = if path_part.contains(&b'%') {
        std::borrow::Cow::Owned(decode_path(path_part))
    } else {
        std::borrow::Cow::Borrowed(path_part)
    };
    let path = if needs_simplify(&decoded) {
        simplify_path_bytes(&decoded)
    } else {
        decoded.into_owned()
    };
    if path.first() != Some(&b'/') {
        return Err(NO_SLASH);
    }
    Ok(Target {
        normalized,
        path,
        query,
    })
}

/// The usual target needs no work: only bytes the normalizer keeps raw,
/// no `%` escape, no `#`, at most one `?`, and a path that starts with
/// `/` and has no empty, `.` or `..` segment (nor a name starting with a
/// dot, which would take the long way unchanged). Then [`normalize_target`]
/// would return it unchanged, its path being the part before the `?` and
/// its query the part after: `Some(index of the ?)` (`Some(None)` without
/// one). A unit test compares both ways.
/// No url-* option changes such a target, so none is looked at.
pub fn already_normal(raw: &[u8]) -> Option<Option<usize>> {
    if raw.first() != Some(&b'/') {
        return None;
    }
    let mut qs = None;
    let mut prev = 0u8;
    for (i, &b) in raw.iter().enumerate() {
        if !is_raw_allowed(b) {
            return None;
        }
        if b == b'?' {
            if qs.is_some() {
                return None;
            }
            qs = Some(i);
        } else if qs.is_none() && prev == b'/' && (b == b'/' || b == b'.') {
            return None;
        }
        prev = b;
    }
    Some(qs)
}

/// Whether [`simplify_path_bytes`] could change `p`: it does not start
/// with `/`, or has an empty, `.` or `..` segment (`/.` also catches
/// names like `/.hidden`, which then take the long way unchanged).
fn needs_simplify(p: &[u8]) -> bool {
    p.first() != Some(&b'/') || p.windows(2).any(|w| w == b"//" || w == b"/.")
}

/// Decodes every valid `%XX` escape (including `%2F`, `%3F`, `%25`); a
/// decoded control (below 0x20, or 0x7F) becomes `_`; a `%` not followed by
/// two hex digits stays as it is.
pub fn decode_path(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if let Some(x) = escape_at(s, i) {
            out.push(if x < 0x20 || x == 0x7F { b'_' } else { x });
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Path simplification (lighttpd's `buffer_path_simplify`), on text.
/// `//` and `/./` become `/`; `x/..` is removed; `..` never climbs above the
/// root; a trailing `/.` or `/..` leaves a trailing `/`.
pub fn simplify_path(path: &str) -> String {
    // Only ASCII '/' and '.' bytes are removed, so UTF-8 stays valid.
    String::from_utf8(simplify_path_bytes(path.as_bytes()))
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Path simplification on bytes; see [`simplify_path`].
///
/// A path not starting with `/` (reachable only with header-strict off)
/// behaves as lighttpd's does: a leading `./` or `../` is replaced by `/`,
/// a lone `.` or `..` becomes empty, and any other first segment is kept
/// until a `..` climbs past it, which leaves the path rooted at `/`.
pub fn simplify_path_bytes(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return Vec::new();
    }
    let (mut base, rest): (Option<&[u8]>, &[u8]) = if p[0] == b'/' {
        (None, &p[1..])
    } else {
        let slash = p.iter().position(|&c| c == b'/');
        let first = &p[..slash.unwrap_or(p.len())];
        match slash {
            None if first == b"." || first == b".." => return Vec::new(),
            None => return p.to_vec(),
            Some(s) if first == b"." || first == b".." => (None, &p[s + 1..]),
            Some(s) => (Some(first), &p[s + 1..]),
        }
    };
    let mut segs: Vec<&[u8]> = Vec::new();
    let mut trailing = false;
    for seg in rest.split(|&c| c == b'/') {
        trailing = true;
        match seg {
            b"" | b"." => {}
            b".." => {
                if segs.pop().is_none() {
                    base = None;
                }
            }
            s => {
                segs.push(s);
                trailing = false;
            }
        }
    }
    let mut out = Vec::with_capacity(p.len());
    if let Some(b) = base {
        out.extend_from_slice(b);
    }
    out.push(b'/');
    for (i, s) in segs.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(s);
    }
    if trailing && !segs.is_empty() {
        out.push(b'/');
    }
    out
}

/// The Host policy lives in host.rs; re-exported for callers of uri.
pub use super::host::{BAD_HOST, format_ipv6, normalize_host};

/// Encodes a path for a relative `Location` (the directory redirect of §5):
/// alphanumerics and `!()*-./_~` stay raw, every other byte becomes `%XX`
/// in uppercase hex.
pub fn percent_encode_path_for_location(path: &[u8]) -> String {
    let mut out = Vec::with_capacity(path.len() + 8);
    for &b in path {
        if b.is_ascii_alphanumeric() || b"!()*-./_~".contains(&b) {
            out.push(b);
        } else {
            push_escape(&mut out, b);
        }
    }
    // Only ASCII was pushed.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shortcut_agrees_with_the_full_normalizer() {
        let mut opts = vec![UrlOpts::default(), UrlOpts::NONE];
        for f in [
            |o: &mut UrlOpts| o.required = true,
            |o: &mut UrlOpts| o.query_20_plus = true,
            |o: &mut UrlOpts| o.dotseg_reject = true,
            |o: &mut UrlOpts| o.path_2f_reject = true,
        ] {
            let mut o = UrlOpts::default();
            f(&mut o);
            opts.push(o);
        }
        // Every target over a small alphabet, up to 5 bytes after the /.
        let alphabet = b"a/.?%2F#~ +";
        let mut targets = vec![b"/".to_vec()];
        let mut level = vec![b"/".to_vec()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for t in &level {
                for &c in alphabet {
                    let mut n = t.clone();
                    n.push(c);
                    next.push(n);
                }
            }
            targets.extend(next.iter().cloned());
            level = next;
        }
        targets.extend([
            b"/index.html?a=1&b=2".to_vec(),
            b"/a/b.c/d?x=/../y".to_vec(),
            b"x/a".to_vec(),
            b"/a b".to_vec(),
            b"/caf\xc3\xa9".to_vec(),
        ]);
        let mut fast = 0;
        for t in &targets {
            let Some(qs) = already_normal(t) else {
                continue;
            };
            fast += 1;
            for o in &opts {
                let full = normalize_target(t, o).unwrap_or_else(|e| panic!("{t:?}: {e:?}"));
                assert_eq!(full.normalized, *t, "{t:?} {o:?}");
                let pe = qs.unwrap_or(t.len());
                assert_eq!(full.path, &t[..pe], "{t:?} {o:?}");
                assert_eq!(
                    full.query.as_deref(),
                    qs.map(|q| &t[q + 1..]),
                    "{t:?} {o:?}"
                );
            }
        }
        assert!(fast > 1000, "{fast}");
    }

    use super::*;

    #[test]
    fn parseopts_read_in_order_over_the_defaults() {
        let d = UrlOpts::default();
        assert_eq!(UrlOpts::from_entries([]), Ok(d));
        // the defaults take part in the conflicts
        assert!(UrlOpts::from_entries([("url-path-dotseg-reject", true)]).is_err());
        let e = UrlOpts::from_entries([("url-path-2f-reject", true)]).unwrap_err();
        assert_eq!(
            e,
            ["conflicting options in server.http-parseopts:url-path-2f-decode, url-path-2f-reject"]
        );
        let o = UrlOpts::from_entries([
            ("url-path-dotseg-remove", false),
            ("url-path-dotseg-reject", true),
        ])
        .unwrap();
        assert!(o.dotseg_reject && !o.dotseg_remove);
        // url-normalize disabled anywhere: everything off, no conflict
        let off = [("url-path-2f-reject", true), ("url-normalize", false)];
        assert_eq!(UrlOpts::from_entries(off), Ok(UrlOpts::NONE));
        // any option on turns url-normalize back on
        let o = UrlOpts::from_entries([("url-normalize", true), ("url-query-20-plus", true)]);
        assert!(o.unwrap().normalize);
        // neither unreserved nor required: unreserved, utf-8 checks and
        // 2f-decode come back, 2f-decode only if not disabled
        let o = UrlOpts::from_entries([
            ("url-normalize-unreserved", false),
            ("url-invalid-utf8-reject", false),
        ])
        .unwrap();
        assert!(o.unreserved && o.invalid_utf8_reject && o.path_2f_decode);
        let o = UrlOpts::from_entries([
            ("url-normalize-unreserved", false),
            ("url-path-2f-decode", false),
        ])
        .unwrap();
        assert!(o.unreserved && !o.path_2f_decode);
        let o = UrlOpts::from_entries([
            ("url-normalize-required", true),
            ("url-path-2f-decode", false),
        ]);
        assert!(o.unwrap().required);
    }

    fn norm(raw: &str) -> Result<String, BadTarget> {
        norm_with(raw, &UrlOpts::default())
    }

    fn norm_with(raw: &str, o: &UrlOpts) -> Result<String, BadTarget> {
        normalize(raw.as_bytes(), o).map(|(t, _)| String::from_utf8(t).unwrap())
    }

    /// (normalized, path, query) as text, for the examples.
    fn split(raw: &[u8], o: &UrlOpts) -> Result<(String, String, Option<String>), BadTarget> {
        let t = normalize_target(raw, o)?;
        let s = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
        Ok((s(t.normalized), s(t.path), t.query.map(s)))
    }

    fn off() -> UrlOpts {
        UrlOpts::NONE
    }

    #[test]
    fn defaults_match_lighttpd() {
        let d = UrlOpts::default();
        assert!(d.normalize && d.unreserved && d.ctrls_reject && d.path_2f_decode);
        assert!(d.dotseg_remove && d.invalid_utf8_reject);
        assert!(!d.required && !d.backslash_trans && !d.path_2f_reject);
        assert!(!d.dotseg_reject && !d.query_20_plus);
    }

    #[test]
    fn raw_allowed_bytes_stay() {
        let s = "/azAZ09!$&'()*+,-./:;=@_~";
        assert_eq!(norm(s).unwrap(), s);
    }

    #[test]
    fn other_bytes_are_encoded_uppercase() {
        assert_eq!(norm("/a b").unwrap(), "/a%20b");
        assert_eq!(norm("/fi le.txt").unwrap(), "/fi%20le.txt");
        assert_eq!(
            norm("/\"<>[\\]^`{|}").unwrap(),
            "/%22%3C%3E%5B%5C%5D%5E%60%7B%7C%7D"
        );
        assert_eq!(norm("/é").unwrap(), "/%C3%A9");
        // DEL and raw controls are encoded, then rejected by ctrls-reject.
        let o = UrlOpts {
            ctrls_reject: false,
            ..UrlOpts::default()
        };
        assert_eq!(norm_with("/\x7f\x01", &o).unwrap(), "/%7F%01");
        assert!(norm("/\x7f").is_err());
    }

    #[test]
    fn fragment_is_dropped() {
        assert_eq!(norm("/a#frag").unwrap(), "/a");
        assert_eq!(norm("/a?x=1#f?g").unwrap(), "/a?x=1");
        assert_eq!(norm_with("/a b#x", &off()).unwrap(), "/a b");
    }

    #[test]
    fn escapes_uppercased_and_unreserved_decoded() {
        assert_eq!(norm("/%c3%a9").unwrap(), "/%C3%A9");
        assert_eq!(norm("/%41%7e%2d%2E%5f%30").unwrap(), "/A~-._0");
        assert_eq!(norm("/a?x=%41").unwrap(), "/a?x=A");
        assert_eq!(norm("/%3a").unwrap(), "/%3A");
        assert_eq!(norm("/%zz").unwrap(), "/%25zz");
        assert_eq!(norm("/%").unwrap(), "/%25");
        assert_eq!(norm("/%4").unwrap(), "/%254");
        assert_eq!(norm("/%25").unwrap(), "/%25");
    }

    #[test]
    fn required_mode_decodes_raw_allowed_escapes() {
        let o = UrlOpts {
            required: true,
            unreserved: false,
            ..UrlOpts::default()
        };
        assert_eq!(norm_with("/%3a%40%21", &o).unwrap(), "/:@!");
        assert_eq!(norm_with("/a%3Fb%2fc", &o).unwrap(), "/a%3Fb/c");
        let o2 = UrlOpts {
            path_2f_decode: false,
            ..o
        };
        assert_eq!(norm_with("/a%3Fb%2fc", &o2).unwrap(), "/a%3Fb%2Fc");
        assert_eq!(
            norm_with("/?%26%3d%3b%2b%3a%2f%3f", &o).unwrap(),
            "/?%26%3D%3B%2B:/?"
        );
        assert_eq!(norm_with("/%20", &o).unwrap(), "/%20");
    }

    #[test]
    fn required_mode_splits_at_last_qmark() {
        let o = UrlOpts {
            required: true,
            unreserved: false,
            ..UrlOpts::default()
        };
        let (n, p, q) = split(b"/a?b?c", &o).unwrap();
        assert_eq!(
            (n.as_str(), p.as_str(), q.as_deref()),
            ("/a?b?c", "/a?b", Some("c"))
        );
        // unreserved mode splits at the first one
        let (_, p, q) = split(b"/a?b?c", &UrlOpts::default()).unwrap();
        assert_eq!((p.as_str(), q.as_deref()), ("/a", Some("b?c")));
    }

    #[test]
    fn invalid_utf8_lead_bytes() {
        assert!(norm("/%C0%80").is_err());
        assert!(norm("/%c1").is_err());
        assert!(norm("/%F5").is_err());
        assert!(normalize(b"/\xff", &UrlOpts::default()).is_err());
        assert!(normalize(b"/\xc0", &UrlOpts::default()).is_err());
        assert!(normalize(b"/?\xc0", &UrlOpts::default()).is_err());
        // no other UTF-8 validation
        assert_eq!(norm("/%e9").unwrap(), "/%E9");
        assert_eq!(normalize(b"/\xe9", &UrlOpts::default()).unwrap().0, b"/%E9");
        assert_eq!(norm("/%F4").unwrap(), "/%F4");
        // without the reject option the mark is re-found at the first '?'
        let o = UrlOpts {
            invalid_utf8_reject: false,
            ..UrlOpts::default()
        };
        let (t, qs) = normalize(b"/%c0?a", &o).unwrap();
        assert_eq!((t.as_slice(), qs), (&b"/%C0?a"[..], Some(4)));
    }

    #[test]
    fn ctrls_reject() {
        assert!(norm("/%00").is_err());
        assert!(norm("/%1f").is_err());
        assert!(norm("/a?%7f").is_err());
        assert!(norm("/a\tb").is_err());
        assert!(norm("/%20").is_ok());
        let o = UrlOpts {
            ctrls_reject: false,
            ..UrlOpts::default()
        };
        assert_eq!(norm_with("/%00", &o).unwrap(), "/%00");
        assert_eq!(path_of_with("/a%00b", &o), "/a_b");
    }

    fn path_of_with(raw: &str, o: &UrlOpts) -> String {
        split(raw.as_bytes(), o).unwrap().1
    }

    #[test]
    fn path_2f() {
        assert_eq!(norm("/a%2fb?c%2Fd").unwrap(), "/a/b?c%2Fd");
        let rej = UrlOpts {
            path_2f_decode: false,
            path_2f_reject: true,
            ..UrlOpts::default()
        };
        assert!(norm_with("/a%2Fb", &rej).is_err());
        assert_eq!(norm_with("/a?b%2F", &rej).unwrap(), "/a?b%2F");
        let neither = UrlOpts {
            path_2f_decode: false,
            ..UrlOpts::default()
        };
        assert_eq!(norm_with("/a%2Fb", &neither).unwrap(), "/a%2Fb");
        // with neither, uri.path still decodes it
        assert_eq!(path_of_with("/a%2Fb", &neither), "/a/b");
        // %2F..%2F gets removed as a dot segment after decoding
        assert_eq!(norm("/a/b%2F..%2Fc").unwrap(), "/a/c");
    }

    #[test]
    fn dot_segments_removed() {
        assert_eq!(norm("/a//b").unwrap(), "/a/b");
        assert_eq!(norm("/a/./b").unwrap(), "/a/b");
        assert_eq!(norm("/a/x/../b").unwrap(), "/a/b");
        assert_eq!(norm("/../../a").unwrap(), "/a");
        assert_eq!(norm("/a/.").unwrap(), "/a/");
        assert_eq!(norm("/a/b/..").unwrap(), "/a/");
        assert_eq!(norm("/a/..?x=/../").unwrap(), "/?x=/../");
        assert_eq!(norm("/a%2e%2E/b").unwrap(), "/a../b");
        assert_eq!(norm("/%2e%2e/x").unwrap(), "/x");
        assert_eq!(norm("/.a/..b/...").unwrap(), "/.a/..b/...");
        let rej = UrlOpts {
            dotseg_remove: false,
            dotseg_reject: true,
            ..UrlOpts::default()
        };
        assert!(norm_with("/a/../b", &rej).is_err());
        assert!(norm_with("/a//b", &rej).is_err());
        assert!(norm_with("/a/.", &rej).is_err());
        assert_eq!(norm_with("/a?/../", &rej).unwrap(), "/a?/../");
        let neither = UrlOpts {
            dotseg_remove: false,
            ..UrlOpts::default()
        };
        assert_eq!(norm_with("/a/../b", &neither).unwrap(), "/a/../b");
        assert_eq!(path_of_with("/a/../b", &neither), "/b");
    }

    #[test]
    fn query_20_plus() {
        let o = UrlOpts {
            query_20_plus: true,
            ..UrlOpts::default()
        };
        assert_eq!(norm_with("/a%20b?c%20d e", &o).unwrap(), "/a%20b?c+d+e");
        assert_eq!(norm("/a?c%20d").unwrap(), "/a?c%20d");
    }

    #[test]
    fn split_examples() {
        let d = UrlOpts::default();
        let s = |r: &str| split(r.as_bytes(), &d).unwrap();
        assert_eq!(s("/a%20b"), ("/a%20b".into(), "/a b".into(), None));
        assert_eq!(s("/a%3fb"), ("/a%3Fb".into(), "/a?b".into(), None));
        assert_eq!(s("/a%25b"), ("/a%25b".into(), "/a%b".into(), None));
        assert_eq!(s("/x?"), ("/x?".into(), "/x".into(), Some("".into())));
        assert_eq!(
            s("/x?a=%41&b=%2f"),
            ("/x?a=A&b=%2F".into(), "/x".into(), Some("a=A&b=%2F".into()))
        );
        assert_eq!(
            s("/a/b/../c?q#f"),
            ("/a/c?q".into(), "/a/c".into(), Some("q".into()))
        );
        // %2E%2E%2F is decoded only when splitting; simplified again
        let n2f = UrlOpts {
            path_2f_decode: false,
            ..d
        };
        assert_eq!(split(b"/a/..%2Fb", &n2f).unwrap().1, "/b");
    }

    #[test]
    fn path_decoding_maps_controls() {
        assert_eq!(decode_path(b"/a%0ab%7F%7e"), b"/a_b_~");
        assert_eq!(decode_path(b"/%zz%4"), b"/%zz%4");
        assert_eq!(decode_path(b"/%e9"), b"/\xe9");
        assert_eq!(decode_path(b"%"), b"%");
        assert_eq!(decode_path(b""), b"");
    }

    #[test]
    fn url_normalize_off() {
        let o = off();
        let (n, p, q) = split(b"/a b/../c?x y#z", &o).unwrap();
        assert_eq!(
            (n.as_str(), p.as_str(), q.as_deref()),
            ("/a b/../c?x y", "/c", Some("x y"))
        );
        assert_eq!(split(b"/%41%2f", &o).unwrap().1, "/A/");
        assert!(split(b"x", &o).is_err());
    }

    #[test]
    fn path_must_start_with_slash() {
        let o = off();
        assert_eq!(split(b"abc", &o), Err(NO_SLASH));
        assert_eq!(split(b"", &o), Err(NO_SLASH));
        assert_eq!(split(b"?x", &o), Err(NO_SLASH));
        // non-strict quirks: a leading ./ is rooted, a climbing .. roots
        assert_eq!(split(b"./x", &o).unwrap().1, "/x");
        assert_eq!(split(b"a/../x", &o).unwrap().1, "/x");
    }

    #[test]
    fn simplify_examples() {
        for (i, o) in [
            ("", ""),
            ("/", "/"),
            ("//", "/"),
            ("/blah/..", "/"),
            ("/blah/../foo", "/foo"),
            ("/abc/./xyz", "/abc/xyz"),
            ("/abc//xyz", "/abc/xyz"),
            ("/a/b/", "/a/b/"),
            ("/a//", "/a/"),
            ("/a/.", "/a/"),
            ("/a/..", "/"),
            ("/a/b/..", "/a/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("/../a/../../b", "/b"),
            ("/./", "/"),
            ("/.a/..b/...", "/.a/..b/..."),
            ("/a/../b/./c/", "/b/c/"),
            ("abc", "abc"),
            ("abc/", "abc/"),
            ("abc/d/./e/", "abc/d/e/"),
            ("abc/..", "/"),
            ("abc/x/../..", "/"),
            ("abc/../../d", "/d"),
            (".", ""),
            ("..", ""),
            ("./", "/"),
            ("../x", "/x"),
            ("./../x", "/x"),
            (".a/b", ".a/b"),
        ] {
            assert_eq!(simplify_path(i), o, "simplify({i:?})");
        }
    }

    #[test]
    fn simplify_is_idempotent() {
        for p in ["/a/../b//c/./", "/x/y/z/../..", "abc/../d/", "/.", "/a/b/c"] {
            let once = simplify_path(p);
            assert_eq!(simplify_path(&once), once);
        }
    }

    #[test]
    fn location_encoding() {
        assert_eq!(percent_encode_path_for_location(b"/dir"), "/dir");
        assert_eq!(percent_encode_path_for_location(b"/a dir"), "/a%20dir");
        assert_eq!(percent_encode_path_for_location("/ü".as_bytes()), "/%C3%BC");
        assert_eq!(
            percent_encode_path_for_location(b"/!()*-._~Az9"),
            "/!()*-._~Az9"
        );
        assert_eq!(
            percent_encode_path_for_location(b"/$&'+,:;=?@#%\x7f\xe9"),
            "/%24%26%27%2B%2C%3A%3B%3D%3F%40%23%25%7F%E9"
        );
    }

    #[test]
    fn never_panics_on_any_bytes() {
        // every 1- and 2-byte target, plus escape-ish 3-byte tails, all modes
        let modes = [
            UrlOpts::default(),
            off(),
            UrlOpts {
                required: true,
                unreserved: false,
                ..UrlOpts::default()
            },
            UrlOpts {
                ctrls_reject: false,
                invalid_utf8_reject: false,
                query_20_plus: true,
                ..UrlOpts::default()
            },
        ];
        for o in &modes {
            for a in 0..=255u8 {
                for b in 0..=255u8 {
                    let _ = normalize_target(&[b'/', a, b], o);
                    let _ = normalize_target(&[a, b], o);
                }
                let _ = normalize_target(&[b'%', a], o);
                let _ = normalize_target(&[b'/', b'%', b'2', a], o);
            }
        }
    }

    #[test]
    fn the_fast_path_agrees_with_simplify() {
        for p in [
            "/",
            "/a",
            "/a/b/",
            "/a//b",
            "/a/./b",
            "/a/../b",
            "/.hidden",
            "/a/..",
            "/a/.",
            "/x.y/z",
            "a/b",
            "",
            "/%2e%2e/x",
        ] {
            let b = p.as_bytes();
            if !needs_simplify(b) {
                assert_eq!(simplify_path_bytes(b), b, "{p}");
            }
        }
        assert!(!needs_simplify(b"/a/b.txt"));
        assert!(needs_simplify(b"/a/../b") && needs_simplify(b"x") && needs_simplify(b"/a//b"));
    }
}
