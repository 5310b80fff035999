//! Entity tags: the ETag lighttpd 1.4.69 computes for a static file, and the
//! `If-None-Match` list matcher.
//!
//! The tag hashes the enabled stat fields (`etag.use-inode`, `-size`,
//! `-mtime`) as 64-bit little-endian values in the order inode, size, mtime
//! seconds, mtime nanoseconds. The 32-bit hash starts at the byte count and
//! folds in each byte as `h = (h << 5) ^ (h >> 27) ^ b`; the header value is
//! the decimal result in double quotes. The server never makes weak tags.
//!
//! Matching follows lighttpd, not the RFC grammar: a lone `*` matches; in a
//! list, separators are spaces, tabs and commas, an entry matches when it
//! starts with the tag (or with `*`) followed by the end or a separator, and
//! a `W/` prefix is accepted only for weak comparison. Strong comparison is
//! used when the request has a Range header (so `W/"x"` plus Range gives 206).

/// Which stat fields go into the tag (all on by default in lighttpd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtagFlags {
    pub inode: bool,
    pub mtime: bool,
    pub size: bool,
}

impl Default for EtagFlags {
    fn default() -> Self {
        EtagFlags {
            inode: true,
            mtime: true,
            size: true,
        }
    }
}

/// The quoted ETag for a file, or None when no field is enabled.
pub fn etag_for(
    inode: u64,
    size: u64,
    mtime_sec: i64,
    mtime_nsec: i64,
    flags: EtagFlags,
) -> Option<String> {
    let mut fields: Vec<u64> = Vec::with_capacity(4);
    if flags.inode {
        fields.push(inode);
    }
    if flags.size {
        fields.push(size);
    }
    if flags.mtime {
        // negative times hash as their two's-complement bit pattern
        fields.push(mtime_sec as u64);
        fields.push(mtime_nsec as u64);
    }
    if fields.is_empty() {
        return None;
    }
    let bytes: Vec<u8> = fields.iter().flat_map(|v| v.to_le_bytes()).collect();
    let h = bytes.iter().fold(bytes.len() as u32, |h, &b| {
        (h << 5) ^ (h >> 27) ^ u32::from(b)
    });
    Some(format!("\"{h}\""))
}

/// Whether an `If-None-Match` (or similar) value matches the response's
/// `etag`. With `strong` set, weak tags on either side never match.
pub fn etag_matches(if_none_match: &str, etag: &str, strong: bool) -> bool {
    if if_none_match == "*" {
        return true;
    }
    if etag.is_empty() {
        return false;
    }
    let mut tag = etag.as_bytes();
    if let Some(rest) = tag.strip_prefix(b"W/") {
        if strong {
            return false;
        }
        tag = rest;
    }
    let s = if_none_match.as_bytes();
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let is_end = |c: u8| matches!(c, 0 | b' ' | b'\t' | b',');
    let mut i = 0;
    while i < s.len() {
        while matches!(at(i), b' ' | b'\t' | b',') {
            i += 1;
        }
        let mut eligible = true;
        if at(i) == b'W' && at(i + 1) == b'/' {
            i += 2;
            eligible = !strong;
        }
        if eligible {
            let star = at(i) == b'*';
            if s.get(i..).is_some_and(|r| r.starts_with(tag)) || star {
                i += if star { 1 } else { tag.len() };
                if is_end(at(i)) {
                    return true;
                }
            }
        }
        while i < s.len() && s[i] != b',' {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: EtagFlags = EtagFlags {
        inode: true,
        mtime: true,
        size: true,
    };
    const ET: &str = "\"1086606576\"";

    #[test]
    fn hash_matches_reference_server() {
        // /tmp/lref/www/r.txt: inode 10027808, 1000 bytes,
        // mtime 2026-11-25 10:00:52.123456789 -> ETag: "1086606576"
        assert_eq!(
            etag_for(10_027_808, 1000, 1_795_600_852, 123_456_789, ALL).as_deref(),
            Some(ET)
        );
        // empty file e.txt -> ETag: "186056242"
        assert_eq!(
            etag_for(10_027_809, 0, 1_795_604_633, 244_916_930, ALL).as_deref(),
            Some("\"186056242\"")
        );
        // etag.use-inode/-mtime disabled -> ETag: "3221229376" (size only)
        let size_only = EtagFlags {
            inode: false,
            mtime: false,
            size: true,
        };
        assert_eq!(
            etag_for(10_027_808, 1000, 1_795_600_852, 123_456_789, size_only).as_deref(),
            Some("\"3221229376\"")
        );
        // etag.use-size disabled -> ETag: "1601666769"
        let no_size = EtagFlags {
            inode: true,
            mtime: true,
            size: false,
        };
        assert_eq!(
            etag_for(10_027_808, 1000, 1_795_600_852, 123_456_789, no_size).as_deref(),
            Some("\"1601666769\"")
        );
    }

    #[test]
    fn field_order_and_extremes() {
        let inode_only = EtagFlags {
            inode: true,
            mtime: false,
            size: false,
        };
        assert_eq!(
            etag_for(10_027_808, 7, 7, 7, inode_only).as_deref(),
            Some("\"4060088577\"")
        );
        let mtime_only = EtagFlags {
            inode: false,
            mtime: true,
            size: false,
        };
        assert_eq!(
            etag_for(1, 2, 1_795_600_852, 123_456_789, mtime_only).as_deref(),
            Some("\"1181125841\"")
        );
        let inode_size = EtagFlags {
            inode: true,
            mtime: false,
            size: true,
        };
        assert_eq!(
            etag_for(10_027_808, 1000, 0, 0, inode_size).as_deref(),
            Some("\"3222341298\"")
        );
        assert_eq!(
            etag_for(u64::MAX, 0, 0, 0, inode_only).as_deref(),
            Some("\"831286489\"")
        );
        assert_eq!(
            etag_for(0, 0, i64::MAX, 999_999_999, ALL).as_deref(),
            Some("\"4224999130\"")
        );
        let _ = etag_for(u64::MAX, u64::MAX, i64::MIN, -1, ALL);
    }

    #[test]
    fn no_fields_no_tag() {
        let none = EtagFlags {
            inode: false,
            mtime: false,
            size: false,
        };
        assert_eq!(etag_for(1, 2, 3, 4, none), None);
        assert_eq!(EtagFlags::default(), ALL);
    }

    #[test]
    fn matches_like_the_reference() {
        // each case was sent to lighttpd 1.4.69 as If-None-Match on r.txt
        assert!(etag_matches(ET, ET, false)); // 304
        assert!(etag_matches("W/\"1086606576\"", ET, false)); // 304
        assert!(!etag_matches("W/\"1086606576\"", ET, true)); // + Range: 206
        assert!(etag_matches(ET, ET, true)); // + Range: 304
        assert!(etag_matches("\"a\", \"1086606576\"", ET, false)); // 304
        assert!(etag_matches("\"a\",\t\"1086606576\" ,\"b\"", ET, false)); // 304
        assert!(etag_matches("*", ET, false)); // 304
        assert!(etag_matches("\"a\", *", ET, false)); // 304
        assert!(!etag_matches("*x", ET, false)); // 200
        assert!(!etag_matches("\"1086606576\"x", ET, false)); // 200
        assert!(!etag_matches("1086606576", ET, false)); // 200
        assert!(!etag_matches("\"zz\"", ET, false)); // 200
    }

    #[test]
    fn list_edge_cases() {
        assert!(etag_matches("  ,, \"1086606576\"", ET, false));
        assert!(etag_matches("\"x\" junk, \"1086606576\"", ET, false));
        assert!(!etag_matches("\"x\" \"1086606576\"", ET, false)); // no comma: one entry
        assert!(etag_matches("*", "", true));
        assert!(!etag_matches("\"\"", "", false));
        assert!(!etag_matches("", ET, false));
        assert!(!etag_matches("W/", ET, false));
        assert!(!etag_matches("W", ET, false));
        assert!(!etag_matches("\"10866", ET, false));
        assert!(etag_matches("W/*", ET, false));
        assert!(!etag_matches("W/*", ET, true));
        // a weak response tag is compared without its W/, and never strongly
        assert!(etag_matches("\"abc\"", "W/\"abc\"", false));
        assert!(etag_matches("W/\"abc\"", "W/\"abc\"", false));
        assert!(!etag_matches("\"abc\"", "W/\"abc\"", true));
        assert!(etag_matches("*", "W/\"abc\"", true));
        assert!(!etag_matches("ü,ü", ET, false));
    }
}
