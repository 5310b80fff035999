//! `mimetype.assign`: the Content-Type of a file from its name, as
//! lighttpd 1.4.69 looks it up.
//!
//! Keys compare ASCII case-insensitively. The lookup strategy depends on the
//! table size:
//! - **fewer than 16 entries**: the first key, in config order, that is a
//!   suffix of the whole path wins (`.gz` before `.tar.gz` wins for
//!   `a.tar.gz`; a key `README` also matches `xREADME`; `""` matches all);
//! - **16 or more**: the basename exactly; then, for each dot in the basename
//!   after its first character, from the leftmost on, the rest with the dot
//!   and then without it (`.tar.gz`, `tar.gz`, `.gz`, `gz`); then the `""`
//!   catch-all. So `.bashrc` can match only the key `.bashrc` or `""`, and
//!   `a..q` tries `..q`, `.q`, `q`.
//!
//! A `.js` entry of exactly `application/javascript` is served as
//! `text/javascript` (lighttpd rewrites it at start-up; a `; charset=` suffix
//! defeats the rewrite). Duplicate keys are a config error upstream, so the
//! table keeps the first. No match means the caller falls back to
//! [`DEFAULT_TYPE`] and, for static files, sends no ETag / Last-Modified.

use std::collections::HashMap;

/// What mod_staticfile sends when no key matches.
pub const DEFAULT_TYPE: &str = "application/octet-stream";

/// Below this many entries the lookup is a first-suffix-match scan.
const SCAN_LIMIT: usize = 16;

/// A compiled `mimetype.assign` table.
#[derive(Debug, Clone, Default)]
pub struct MimeTable {
    /// (lower-cased key, type) in config order; the type is shared with
    /// the responses that name it.
    entries: Vec<(Vec<u8>, std::rc::Rc<str>)>,
    /// lower-cased key -> index into `entries` (first occurrence).
    index: HashMap<Vec<u8>, usize>,
}

impl MimeTable {
    /// Builds the table from `(suffix, type)` pairs in config order.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut table = MimeTable::default();
        for (key, value) in pairs {
            let key = key.into_bytes().to_ascii_lowercase();
            if table.index.contains_key(&key) {
                continue;
            }
            let value = if key == b".js" && value == "application/javascript" {
                "text/javascript".to_string()
            } else {
                value
            };
            table.index.insert(key.clone(), table.entries.len());
            table.entries.push((key, std::rc::Rc::from(value)));
        }
        table
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The type for `path` (the physical path, or a bare file name as
    /// mod_dirlisting passes it), or None when nothing matches.
    pub fn lookup(&self, path: &str) -> Option<&str> {
        self.find(path).map(|i| &*self.entries[i].1)
    }

    /// [`MimeTable::lookup`], as a shared text a response can keep.
    pub fn lookup_shared(&self, path: &str) -> Option<std::rc::Rc<str>> {
        self.find(path).map(|i| self.entries[i].1.clone())
    }

    fn find(&self, path: &str) -> Option<usize> {
        let name = path.as_bytes();
        if self.entries.len() < SCAN_LIMIT {
            self.entries.iter().position(|(key, _)| {
                name.len() >= key.len() && name[name.len() - key.len()..].eq_ignore_ascii_case(key)
            })
        } else {
            let base = match name.iter().rposition(|&c| c == b'/') {
                Some(slash) => &name[slash + 1..],
                None => name,
            };
            self.get(base)
                .or_else(|| self.lookup_extensions(base))
                .or_else(|| self.get(b""))
        }
    }

    /// Tries each extension chain of `base`, longest first, with and without
    /// its leading dot. A dot in first position (a dotfile) never starts one.
    fn lookup_extensions(&self, base: &[u8]) -> Option<usize> {
        let mut i = 1;
        while i < base.len() {
            if base[i] != b'.' {
                i += 1;
                continue;
            }
            if let Some(v) = self.get(&base[i..]) {
                return Some(v);
            }
            // ".ext" then "ext"; a following dot starts the next chain instead
            let next = i + 1;
            if next < base.len()
                && base[next] != b'.'
                && let Some(v) = self.get(&base[next..])
            {
                return Some(v);
            }
            i = next;
        }
        None
    }

    /// The entry for `key`, compared lower-cased (on the stack for the
    /// usual short names).
    fn get(&self, key: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 64];
        if key.len() <= buf.len() {
            let lower = &mut buf[..key.len()];
            lower.copy_from_slice(key);
            lower.make_ascii_lowercase();
            self.index.get(&*lower).copied()
        } else {
            self.index.get(&key.to_ascii_lowercase()).copied()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, &str)]) -> MimeTable {
        MimeTable::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// The 21-entry table sent to the reference (/tmp/lref/m16.conf).
    fn big() -> MimeTable {
        table(&[
            (".gz", "t/gz"),
            (".tar.gz", "t/targz"),
            ("tar.gz", "t/targz-nodot"),
            ("gz", "t/gz-nodot"),
            ("README", "t/readme"),
            (".JS", "application/javascript"),
            (".html", "text/html"),
            ("", "t/default"),
            (".a", "t/a"),
            (".b.c", "t/bc"),
            ("c", "t/c"),
            (".x", "t/x"),
            (".y", "t/y"),
            (".z", "t/z"),
            ("..q", "t/dotdotq"),
            (".Q", "t/q"),
            (".bashrc", "t/bashrc"),
            ("bashrc", "t/bashrc-nodot"),
            ("e.", "t/edot"),
            (".", "t/dot"),
            ("w", "t/w"),
        ])
    }

    #[test]
    fn sixteen_or_more_matches_reference() {
        let t = big();
        assert!(t.len() >= 16);
        let want = [
            ("a.gz", "t/gz"),
            ("a.tar.gz", "t/targz"),
            ("x.tar.gz.bak", "t/default"),
            ("README", "t/readme"),
            ("xREADME", "t/default"),
            ("foo.js", "text/javascript"),
            ("foo.JS", "text/javascript"),
            ("index.html", "text/html"),
            ("a.b.c", "t/bc"),
            ("q.b.c", "t/bc"),
            ("a..q", "t/dotdotq"),
            ("a.q", "t/q"),
            (".bashrc", "t/bashrc"),
            ("x.bashrc", "t/bashrc"),
            ("bashrc", "t/bashrc-nodot"),
            ("e.", "t/edot"),
            ("f.e.", "t/edot"),
            ("g.", "t/dot"),
            ("w", "t/w"),
            ("aw", "t/default"),
            ("noext", "t/default"),
            ("foo.x.y", "t/y"),
        ];
        for (name, ty) in want {
            assert_eq!(
                t.lookup(&format!("/tmp/lref/www/{name}")),
                Some(ty),
                "{name}"
            );
            assert_eq!(t.lookup(name), Some(ty), "bare {name}");
        }
    }

    /// /tmp/lref/m16b.conf: no `.tar.gz`, no `.bashrc`, no `""`.
    #[test]
    fn sixteen_or_more_second_reference_table() {
        let t = table(&[
            (".gz", "t/gz"),
            ("tar.gz", "t/targz-nodot"),
            ("gz", "t/gz-nodot"),
            ("README", "t/readme"),
            (".js", "application/javascript; charset=utf-8"),
            (".html", "text/html"),
            (".a", "t/a"),
            ("c", "t/c"),
            (".x", "t/x"),
            (".y", "t/y"),
            (".z", "t/z"),
            ("bashrc", "t/bashrc-nodot"),
            ("q", "t/q-nodot"),
            ("e.", "t/edot"),
            ("w", "t/w"),
            ("k1", "k"),
            ("k2", "k"),
        ]);
        let p = |n: &str| t.lookup(&format!("/tmp/lref/www/{n}")).map(str::to_string);
        assert_eq!(p("a.tar.gz").as_deref(), Some("t/targz-nodot"));
        assert_eq!(p("A.TAR.GZ").as_deref(), Some("t/targz-nodot"));
        assert_eq!(p("a.gz").as_deref(), Some("t/gz"));
        assert_eq!(p("a.b.c").as_deref(), Some("t/c"));
        assert_eq!(p(".bashrc"), None); // reference: application/octet-stream
        assert_eq!(p("noext"), None);
        assert_eq!(
            p("foo.js").as_deref(),
            Some("application/javascript; charset=utf-8")
        );
        assert_eq!(p("a..q").as_deref(), Some("t/q-nodot"));
        assert_eq!(p("a.q").as_deref(), Some("t/q-nodot"));
    }

    /// /tmp/lref/m8.conf: under 16 entries, first suffix of the full path.
    #[test]
    fn under_sixteen_first_suffix_match_on_full_path() {
        let t = table(&[
            ("www/a.gz", "t/fullpath"),
            (".gz", "t/gz"),
            (".tar.gz", "t/targz"),
            ("README", "t/readme"),
            (".JS", "application/javascript"),
            ("", "t/default"),
        ]);
        let p = |n: &str| t.lookup(&format!("/tmp/lref/www/{n}"));
        assert_eq!(p("a.gz"), Some("t/fullpath"));
        assert_eq!(p("a.tar.gz"), Some("t/gz"));
        assert_eq!(p("A.TAR.GZ"), Some("t/gz"));
        assert_eq!(p("xREADME"), Some("t/readme"));
        assert_eq!(p("README"), Some("t/readme"));
        assert_eq!(p("foo.js"), Some("text/javascript"));
        assert_eq!(p("noext"), Some("t/default"));
        // m8b.conf: "" listed first catches everything
        let t = table(&[("", "t/default"), (".gz", "t/gz")]);
        assert_eq!(t.lookup("/tmp/lref/www/a.gz"), Some("t/default"));
    }

    #[test]
    fn empty_table_and_odd_paths() {
        let t = MimeTable::new(Vec::new());
        assert!(t.is_empty());
        assert_eq!(t.lookup("/x/a.html"), None);
        let b = big();
        for p in [
            "", "/", "//", ".", "..", "/.", "a/", "ü.ü", "/ü/.ü.", "x.", "....",
        ] {
            let _ = b.lookup(p);
            let _ = table(&[(".a", "t/a")]).lookup(p);
        }
        // a trailing slash leaves an empty basename: only "" can match
        assert_eq!(b.lookup("/dir/"), Some("t/default"));
        assert_eq!(b.lookup("...."), Some("t/dot"));
    }

    #[test]
    fn javascript_rewrite_only_for_exact_value_and_dot_js() {
        let t = table(&[(".js", "application/javascript")]);
        assert_eq!(t.lookup("a.js"), Some("text/javascript"));
        let t = table(&[("js", "application/javascript")]);
        assert_eq!(t.lookup("a.js"), Some("application/javascript"));
        let t = table(&[(".mjs", "application/javascript")]);
        assert_eq!(t.lookup("a.mjs"), Some("application/javascript"));
    }

    #[test]
    fn keys_are_case_insensitive_and_first_duplicate_wins() {
        let t = table(&[(".HTML", "text/html"), (".html", "other")]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.lookup("/A.HtMl"), Some("text/html"));
    }
}
