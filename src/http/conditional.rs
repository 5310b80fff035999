//! Conditional GET for static responses, as lighttpd 1.4.69 evaluates it.
//!
//! Only `If-None-Match` and `If-Modified-Since` are looked at; `If-Match` and
//! `If-Unmodified-Since` are ignored entirely.
//! - If-None-Match is used whenever the request has it **and** the response
//!   has an ETag; If-Modified-Since is then ignored even when no tag matches.
//!   Comparison is weak unless the request carries Range. A match is 304 for
//!   GET/HEAD/QUERY and 412 for any other method.
//! - Otherwise, for GET/HEAD/QUERY only, If-Modified-Since gives 304 when it
//!   is byte-identical to Last-Modified or parses (see `date`) to a time not
//!   before the mtime, future dates included. An unparsable date proceeds.
//!
//! The caller skips this entirely when the file had no configured mimetype
//! (then neither ETag nor Last-Modified is sent).

use super::date::modified_since;
use super::etag::etag_matches;

/// What the preconditions decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondResult {
    /// Serve the normal response.
    Proceed,
    /// 304: Content-Type, ETag, Last-Modified, Date, Server only; no body.
    NotModified,
    /// 412 with the error page.
    PreconditionFailed,
}

/// Evaluates the request's preconditions against the response validators.
/// `etag` is the response ETag if one is sent; `last_modified` is the
/// Last-Modified value ("" when none is sent); `mtime` is its Unix time;
/// `has_range` is whether the request has a Range header.
pub fn check(
    method_is_get_head_query: bool,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    etag: Option<&str>,
    last_modified: &str,
    mtime: i64,
    has_range: bool,
) -> CondResult {
    if let (Some(inm), Some(etag)) = (if_none_match, etag) {
        if !etag_matches(inm, etag, has_range) {
            return CondResult::Proceed;
        }
        return if method_is_get_head_query {
            CondResult::NotModified
        } else {
            CondResult::PreconditionFailed
        };
    }
    match if_modified_since {
        Some(ims)
            if method_is_get_head_query
                && !last_modified.is_empty()
                && (ims == last_modified || !modified_since(ims, mtime)) =>
        {
            CondResult::NotModified
        }
        _ => CondResult::Proceed,
    }
}

#[cfg(test)]
mod tests {
    use super::CondResult::*;
    use super::*;

    // r.txt on the reference server
    const ET: &str = "\"1086606576\"";
    const LM: &str = "Wed, 25 Nov 2026 10:00:52 GMT";
    const MTIME: i64 = 1_795_600_852;

    fn get(inm: Option<&str>, ims: Option<&str>, range: bool) -> CondResult {
        check(true, inm, ims, Some(ET), LM, MTIME, range)
    }

    #[test]
    fn if_none_match_like_reference() {
        assert_eq!(get(Some(ET), None, false), NotModified);
        assert_eq!(get(Some("W/\"1086606576\""), None, false), NotModified);
        assert_eq!(get(Some("W/\"1086606576\""), None, true), Proceed); // 206
        assert_eq!(get(Some(ET), None, true), NotModified);
        assert_eq!(get(Some("*"), None, false), NotModified);
        assert_eq!(get(Some("\"a\", *"), None, false), NotModified);
        assert_eq!(get(Some("*x"), None, false), Proceed);
        assert_eq!(get(Some("1086606576"), None, false), Proceed);
        // POST with a matching tag: 412 with a 361-byte page
        assert_eq!(
            check(false, Some(ET), None, Some(ET), LM, MTIME, false),
            PreconditionFailed
        );
        assert_eq!(
            check(false, Some("\"zz\""), None, Some(ET), LM, MTIME, false),
            Proceed
        );
    }

    #[test]
    fn if_none_match_takes_precedence() {
        // non-matching INM + matching IMS: 200 on the reference
        assert_eq!(get(Some("\"zz\""), Some(LM), false), Proceed);
        // without a response ETag, INM is skipped and IMS decides (reference
        // with every etag.use-* disabled: INM "zz" + IMS -> 304, INM * -> 200)
        assert_eq!(
            check(true, Some("\"zz\""), Some(LM), None, LM, MTIME, false),
            NotModified
        );
        assert_eq!(
            check(true, Some("*"), None, None, LM, MTIME, false),
            Proceed
        );
    }

    #[test]
    fn if_modified_since_like_reference() {
        assert_eq!(get(None, Some(LM), false), NotModified);
        assert_eq!(
            get(None, Some("Wed, 25 Nov 2026 10:00:53 GMT"), false),
            NotModified
        );
        assert_eq!(
            get(None, Some("Wed, 25 Nov 2026 10:00:51 GMT"), false),
            Proceed
        );
        assert_eq!(
            get(None, Some("Wed, 25 Nov 2099 10:00:51 GMT"), false),
            NotModified
        );
        assert_eq!(
            get(None, Some("Mon, 25 Nov 2026 10:00:52 GMT"), false),
            NotModified
        );
        assert_eq!(
            get(None, Some("Wed, 32 Nov 2026 10:00:52 GMT"), false),
            NotModified
        );
        assert_eq!(
            get(None, Some("Wednesday, 25-Nov-26 10:00:52 GMT"), false),
            NotModified
        );
        assert_eq!(
            get(None, Some("Wednesday, 25-Nov-26 10:00:51 GMT"), false),
            Proceed
        );
        assert_eq!(
            get(None, Some("Wed Nov 25 10:00:52 2026"), false),
            NotModified
        );
        assert_eq!(get(None, Some("Wed Nov 25 10:00:51 2026"), false), Proceed);
        assert_eq!(
            get(None, Some("Wed Nov 25 10:00:52 2026 GMT"), false),
            NotModified
        );
        assert_eq!(get(None, Some("garbage"), false), Proceed);
        assert_eq!(
            get(None, Some("wed, 25 nov 2026 10:00:52 gmt"), false),
            Proceed
        );
        assert_eq!(
            get(None, Some("Wed, 25 Nov 2026 10:00:52 GMTx"), false),
            Proceed
        );
        // IMS is not evaluated for POST (reference: 200)
        assert_eq!(
            check(false, None, Some(LM), Some(ET), LM, MTIME, false),
            Proceed
        );
    }

    #[test]
    fn byte_identical_last_modified_wins_over_parsing() {
        // a Last-Modified that would not parse still matches itself
        assert_eq!(
            check(true, None, Some("odd"), None, "odd", MTIME, false),
            NotModified
        );
        // no Last-Modified sent: IMS is not evaluated
        assert_eq!(check(true, None, Some(LM), None, "", MTIME, false), Proceed);
    }

    #[test]
    fn nothing_to_check() {
        assert_eq!(get(None, None, false), Proceed);
        assert_eq!(check(false, None, None, None, "", 0, true), Proceed);
    }
}
