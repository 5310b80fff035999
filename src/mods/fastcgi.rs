//! mod_fastcgi's request side: which `fastcgi.server` key takes a request
//! (fastcgi.md §2) and what the backend is told. Keys are tried in config
//! order and the first match wins: `/prefix` keys are byte prefixes of the
//! URL path, other keys suffixes. Hosts with check-local disabled claim the
//! request at the URL stage (SCRIPT_NAME / PATH_INFO split at the first `/`
//! after the key); with check-local enabled the file must exist and the
//! core's PATH_INFO split applies. fastcgi.map-extensions is consulted first.

use crate::config::cond_trace::Stage;
use crate::gw::balance::{Balance, PickInput, pick_host};
use crate::gw::config::{GwExt, GwHost};
use crate::http::cgi_env::split_prefix;
use crate::response::{Ctx, find_script};
use std::rc::Rc;

/// mod_fastcgi's per-request settings (fastcgi.server, map-extensions,
/// debug) as the request's config holds them.
#[derive(Debug, Default)]
pub struct FcgiConf<'a> {
    /// The responder keys (authorizer hosts are kept apart).
    pub exts: &'a [GwExt],
    pub map_extensions: &'a [(String, String)],
    pub balance: Balance,
    /// Authorizer keys: matched the same way, no PATH_INFO split.
    pub authorizer: bool,
    /// Only the physical stage: every key acts as with check-local.
    pub physical_only: bool,
    /// mod_access comes after mod_fastcgi in server.modules: it looks at
    /// the URL path once mod_fastcgi's URL stage is over (the static path
    /// answers a refusal; see [`Claim::Denied`]).
    pub access_last: bool,
}

/// A request the backend will answer.
#[derive(Debug, Clone)]
pub struct FcgiTarget {
    pub host: Rc<GwHost>,
    /// The key's position in the responder keys (a reconnect chooses a
    /// host of the same key again).
    pub ext: usize,
    /// SCRIPT_NAME, PATH_INFO, SCRIPT_FILENAME and DOCUMENT_ROOT one after
    /// the other (one allocation), ending at `ends`.
    text: String,
    ends: [usize; 4],
    has_path_info: bool,
}

impl FcgiTarget {
    /// `script_filename` in pieces to be joined.
    fn new(
        host: Rc<GwHost>,
        ext: usize,
        script_name: &str,
        path_info: Option<&str>,
        script_filename: &[&str],
        document_root: &str,
    ) -> FcgiTarget {
        let len = script_name.len()
            + path_info.map_or(0, str::len)
            + script_filename.iter().map(|p| p.len()).sum::<usize>()
            + document_root.len();
        let mut text = String::with_capacity(len);
        text.push_str(script_name);
        let e0 = text.len();
        text.push_str(path_info.unwrap_or(""));
        let e1 = text.len();
        script_filename.iter().for_each(|p| text.push_str(p));
        let e2 = text.len();
        text.push_str(document_root);
        FcgiTarget {
            host,
            ext,
            ends: [e0, e1, e2, text.len()],
            text,
            has_path_info: path_info.is_some(),
        }
    }

    pub fn script_name(&self) -> &str {
        &self.text[..self.ends[0]]
    }

    pub fn path_info(&self) -> Option<&str> {
        self.has_path_info
            .then(|| &self.text[self.ends[0]..self.ends[1]])
    }

    pub fn script_filename(&self) -> &str {
        &self.text[self.ends[1]..self.ends[2]]
    }

    pub fn document_root(&self) -> &str {
        &self.text[self.ends[2]..self.ends[3]]
    }
}

thread_local! {
    /// The physical path's buffer, kept from one request to the next.
    static PHYSICAL: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

fn key_matches(key: &str, path: &str) -> bool {
    if key.starts_with('/') {
        path.starts_with(key)
    } else {
        path.ends_with(key)
    }
}

/// The key to use for `path`: a map-extensions entry naming an existing
/// key, else the first key that matches.
fn find_ext(conf: &FcgiConf<'_>, path: &str) -> Option<usize> {
    mapped_ext(conf, path).or_else(|| conf.exts.iter().position(|e| key_matches(&e.key, path)))
}

/// Whether a key takes the URL path itself (the URL stage, before any
/// file is looked for). An authorizer key that does, with check-local on,
/// leaves the request to the physical stage: the responder keys are not
/// tried at the URL stage (1.4.69 stops at the first key that matches).
pub fn url_key_matches(conf: &FcgiConf<'_>, path: &str) -> bool {
    find_ext(conf, path).is_some()
}

/// The key a fastcgi.map-extensions entry ending `name` names, if it
/// exists.
fn mapped_ext(conf: &FcgiConf<'_>, name: &str) -> Option<usize> {
    conf.map_extensions
        .iter()
        .filter(|(from, _)| name.ends_with(from.as_str()))
        .find_map(|(_, to)| conf.exts.iter().position(|e| e.key == *to))
}

/// The key for a file that check-local found: map-extensions and suffix
/// keys against the end of the file's physical path, `/prefix` keys
/// against the start of the URL path (`script_name` + `path_info`), as
/// 1.4.69 matches at this stage.
fn find_local_ext(
    conf: &FcgiConf<'_>,
    file: &str,
    script_name: &str,
    path_info: &str,
) -> Option<usize> {
    mapped_ext(conf, file).or_else(|| {
        conf.exts.iter().position(|e| {
            if e.key.starts_with('/') {
                joined_starts_with(script_name, path_info, &e.key)
            } else {
                file.ends_with(e.key.as_str())
            }
        })
    })
}

/// Whether a check-local key could take a file found for `path` under
/// `docroot`: the file is the physical path or one of its prefixes that
/// ends before a `/` (PATH_INFO), matched as [`find_local_ext`] does (a
/// `/prefix` key against the URL path, others and map-extensions against
/// the end of the file's full name); a directory path (ending in `/`) may
/// hold an index file. False means the stat and the search can be skipped.
fn check_local_may_match(conf: &FcgiConf<'_>, docroot: &str, path: &str) -> bool {
    if path.ends_with('/') {
        return true;
    }
    let root = docroot.trim_end_matches('/');
    // The file candidates: the whole path, then each prefix before a `/`.
    let candidates = std::iter::once(path.len())
        .chain(path.match_indices('/').map(|(i, _)| i).filter(|&i| i > 0));
    let suffixes = conf
        .exts
        .iter()
        .map(|e| e.key.as_str())
        .filter(|k| !k.starts_with('/'))
        .chain(conf.map_extensions.iter().map(|(from, _)| from.as_str()));
    for k in suffixes {
        // A key without a '/' can only end a candidate inside the path
        // (candidates start with '/'): most paths do not hold it at all.
        if !k.contains('/') && !path.contains(k) {
            continue;
        }
        if candidates
            .clone()
            .any(|n| joined_ends_with(root, &path[..n], k))
        {
            return true;
        }
    }
    conf.exts
        .iter()
        .map(|e| e.key.as_str())
        .filter(|k| k.starts_with('/'))
        .any(|k| path.starts_with(k))
}

/// `a + b` ends with `k`, without joining them.
fn joined_ends_with(a: &str, b: &str, k: &str) -> bool {
    match k.len().checked_sub(b.len()) {
        None => b.ends_with(k),
        Some(more) => k.ends_with(b) && a.ends_with(&k[..more]),
    }
}

/// `a + b` starts with `k`, without joining them.
fn joined_starts_with(a: &str, b: &str, k: &str) -> bool {
    match k.len().checked_sub(a.len()) {
        None => a.starts_with(k),
        Some(more) => k.starts_with(a) && b.starts_with(&k[a.len()..a.len() + more]),
    }
}

/// What mod_fastcgi makes of a request.
#[derive(Debug)]
pub enum Claim {
    Target(FcgiTarget),
    /// A key matched but none of its hosts has a running proc: 503, with
    /// "all handlers for ... are down." logged once per key.
    AllDown {
        key: String,
    },
    /// 403 at the URL stage: mod_access refused the URL path a
    /// check-local-disabled prefix key cut down to SCRIPT_NAME (mod_fastcgi
    /// before mod_access in server.modules), whatever the whole path would
    /// have been, or mod_alias refused that path.
    Denied,
}

/// The backend target for a responder request, if mod_fastcgi takes it.
pub fn target(
    conf: &FcgiConf<'_>,
    ctx: &Ctx<'_>,
    path: &str,
    docroot: &str,
    pick: &PickInput<'_>,
) -> Option<Claim> {
    if let Some(i) = find_ext(conf, path) {
        let e = &conf.exts[i];
        let Some(host) = pick_host(e, conf.balance, pick) else {
            return Some(all_down(e));
        };
        e.note_sent.set(false);
        if !host.check_local && !conf.physical_only {
            let (script_name, path_info) = if e.key.starts_with('/') && !conf.authorizer {
                split_prefix(&e.key, path, host.fix_root_scriptname)
            } else {
                (path, None)
            };
            if ctx.conf.log_request_handling {
                crate::log_error!("handling the request using fastcgi");
            }
            // 1.4.69 cuts the URL path to SCRIPT_NAME here, so a mod_access
            // that comes later sees only that (an empty one included).
            if conf.access_last {
                if path_info.is_some() {
                    if !crate::response::access_checked(script_name, ctx.conf) {
                        return Some(Claim::Denied);
                    }
                } else if !crate::response::access_allowed(path, ctx.conf) {
                    return None;
                }
            }
            // mod_alias reads its options next (the physical stage)
            crate::response::trace_stage(ctx, Stage::Physical, &[], path);
            if ctx.conf.log_request_handling {
                log_url_stage(ctx, docroot, script_name);
            }
            // Without the host's docroot, the file is the physical path of
            // the URL path cut to SCRIPT_NAME: mod_alias maps it (its
            // directory is then DOCUMENT_ROOT) and it is lower-cased with
            // server.force-lowercase-filenames. An alias that refuses it
            // refuses the request (1.4.69 then runs the backend all the
            // same and answers 403 with its reply: doc/compat.md).
            if host.docroot.is_none()
                && !script_name.is_empty()
                && (ctx.conf.force_lowercase_filenames || !ctx.conf.alias_url.is_empty())
            {
                let lowered;
                let fs_name = if ctx.conf.force_lowercase_filenames {
                    lowered = script_name.to_ascii_lowercase();
                    lowered.as_str()
                } else {
                    script_name
                };
                let mut file = String::new();
                let Ok((base, _)) =
                    crate::response::physical_path(ctx.conf, docroot, fs_name, &mut file)
                else {
                    return Some(Claim::Denied);
                };
                let t = FcgiTarget::new(host.clone(), i, script_name, path_info, &[&file], base);
                return Some(Claim::Target(t));
            }
            let root = host.docroot.as_deref().unwrap_or(docroot);
            // fix-root-scriptname empties SCRIPT_NAME; the file is still
            // the root directory, "<root>/" (1.4.69).
            let file_name = if script_name.is_empty() {
                "/"
            } else {
                script_name
            };
            let filename = [root.trim_end_matches('/'), file_name];
            let t = FcgiTarget::new(host.clone(), i, script_name, path_info, &filename, root);
            return Some(Claim::Target(t));
        }
    }
    // The URL stage is over: a mod_access that comes after it looks at the
    // whole path now, and the static path answers its refusal.
    if conf.access_last && !crate::response::access_allowed(path, ctx.conf) {
        return None;
    }
    // check-local: the file must exist; the core's PATH_INFO split applies
    // (on the lower-cased path with server.force-lowercase-filenames).
    // Most requests (a static file on a site that also runs PHP) cannot
    // name a file any key takes: they are left alone without a stat.
    if !ctx.conf.force_lowercase_filenames
        && ctx.conf.alias_url.is_empty()
        && !check_local_may_match(conf, docroot, path)
    {
        return None;
    }
    let lowered;
    let fs_path = if ctx.conf.force_lowercase_filenames {
        lowered = path.to_ascii_lowercase();
        lowered.as_str()
    } else {
        path
    };
    let mut physical = PHYSICAL.with(|p| p.take());
    physical.clear();
    let claim = local_claim(conf, ctx, path, fs_path, docroot, pick, &mut physical);
    PHYSICAL.with(|p| p.set(physical));
    claim
}

/// The check-local part of [`target`], the physical path built in
/// `physical`.
fn local_claim(
    conf: &FcgiConf<'_>,
    ctx: &Ctx<'_>,
    path: &str,
    fs_path: &str,
    docroot: &str,
    pick: &PickInput<'_>,
    physical: &mut String,
) -> Option<Claim> {
    // mod_alias maps the path first: the alias directory is then the
    // base (and DOCUMENT_ROOT, lighttpd's physical basedir). A refused
    // path is the static path's 403.
    let (base, _) = crate::response::physical_path(ctx.conf, docroot, fs_path, physical).ok()?;
    let physical = physical.as_str();
    let script;
    let (file, uri_len) = match ctx.stat(physical) {
        Ok(m) if m.is_file() => (physical, path.len()),
        // A directory: mod_indexfile's index files come first.
        Ok(m) if m.is_dir() && path.ends_with('/') => {
            let trace = || {
                crate::response::trace_stage(ctx, Stage::Physical, &[], path);
                crate::response::log_physical(docroot, base, fs_path, physical);
                crate::response::log_subrequest(physical, path, "");
                if ctx.conf.index_files_set {
                    crate::response::log_indexfile(path);
                }
                crate::log_error!("handling the request using fastcgi");
            };
            return index_target(conf, ctx, path, (docroot, base, physical), pick, &trace);
        }
        Ok(_) => return None,
        Err(libc::ENOTDIR) => {
            // Prefixes of the physical path (an alias directory and the
            // rest of the path are joined without a slash).
            let (f, _, n) = find_script(ctx, "", physical)?;
            script = f;
            (script.as_str(), fs_path.len() - (physical.len() - n))
        }
        Err(_) => return None,
    };
    let script_name = &path[..uri_len];
    let path_info = (uri_len < path.len()).then(|| &path[uri_len..]);
    // What the request-handling trace shows (PATH_INFO as the file was
    // looked up: lower-cased with force-lowercase-filenames).
    let trace = || {
        crate::response::trace_stage(ctx, Stage::Physical, &[], path);
        crate::response::log_physical(docroot, base, fs_path, physical);
        crate::response::log_subrequest(file, script_name, &fs_path[uri_len..]);
        crate::log_error!("handling the request using fastcgi");
    };
    // mod_access looks again at the URL path without PATH_INFO: a refused
    // script is left to the static path, which answers 403. When mod_access
    // comes after mod_fastcgi, mod_fastcgi has taken it first (and says so).
    if path_info.is_some() && !crate::response::access_allowed(script_name, ctx.conf) {
        if conf.access_last
            && ctx.conf.log_request_handling
            && find_local_ext(conf, file, script_name, path_info.unwrap_or("")).is_some()
        {
            trace();
            crate::response::access_checked(script_name, ctx.conf);
            return Some(Claim::Denied);
        }
        return None;
    }
    let claim = local_target(conf, pick, file, base, script_name, path_info);
    if ctx.conf.log_request_handling && matches!(claim, Some(Claim::Target(_))) {
        trace();
    }
    claim
}

/// debug.log-request-handling for a key that took the request at the URL
/// stage: the logical → physical lines lighttpd writes next, for the URL
/// path cut to SCRIPT_NAME (`rel`).
fn log_url_stage(ctx: &Ctx<'_>, docroot: &str, rel: &str) {
    let lowered;
    let rel = if ctx.conf.force_lowercase_filenames {
        lowered = rel.to_ascii_lowercase();
        lowered.as_str()
    } else {
        rel
    };
    let mut physical = String::new();
    // fix-root-scriptname leaves nothing of the path: the root directory.
    let name = if rel.is_empty() { "/" } else { rel };
    if let Ok((base, _)) = crate::response::physical_path(ctx.conf, docroot, name, &mut physical) {
        crate::response::log_physical(docroot, base, rel, &physical);
    }
}

/// A key for the existing file `file` (physical path): the
/// key by the file's name, the host chosen again (as 1.4.69 does at this
/// stage: a round-robin cursor moves twice for a check-local request), and
/// the host's docroot applied. `base` is what the file was found under.
fn local_target(
    conf: &FcgiConf<'_>,
    pick: &PickInput<'_>,
    file: &str,
    base: &str,
    script_name: &str,
    path_info: Option<&str>,
) -> Option<Claim> {
    let i = find_local_ext(conf, file, script_name, path_info.unwrap_or(""))?;
    let e = &conf.exts[i];
    let Some(host) = pick_host(e, conf.balance, pick) else {
        return Some(all_down(e));
    };
    // A check-local "disable" host takes the file here too: its key did
    // not match the URL, but it matches the file a PATH_INFO split or an
    // index file found, and 1.4.69 runs it (leaving it to the static path
    // served the script's source).
    let root = host.docroot.as_deref().unwrap_or(base);
    let t = match host.docroot.as_deref() {
        Some(d) => {
            let filename = [d.trim_end_matches('/'), script_name];
            FcgiTarget::new(host.clone(), i, script_name, path_info, &filename, root)
        }
        None => FcgiTarget::new(host.clone(), i, script_name, path_info, &[file], root),
    };
    Some(Claim::Target(t))
}

fn all_down(e: &GwExt) -> Claim {
    Claim::AllDown { key: e.key.clone() }
}

/// The first index file of a directory, when a check-local key takes it
/// (so `/` runs `index.php` instead of serving its source); without one,
/// the directory, when a key takes that.
/// `dirs`: the document root (for `/absolute` index names), the base the
/// directory was found under (the document root or an alias directory)
/// and the directory's physical path.
fn index_target(
    conf: &FcgiConf<'_>,
    ctx: &Ctx<'_>,
    path: &str,
    dirs: (&str, &str, &str),
    pick: &PickInput<'_>,
    trace: &dyn Fn(),
) -> Option<Claim> {
    let (docroot, base, dir) = dirs;
    let traced = |claim: Option<Claim>| {
        if ctx.conf.log_request_handling && matches!(claim, Some(Claim::Target(_))) {
            trace();
        }
        claim
    };
    for name in ctx.conf.index_files.iter() {
        let (uri, candidate) = if name.starts_with('/') {
            (
                name.clone(),
                format!("{}{name}", docroot.trim_end_matches('/')),
            )
        } else {
            (format!("{path}{name}"), format!("{dir}{name}"))
        };
        let base = if name.starts_with('/') { docroot } else { base };
        match ctx.stat(&candidate) {
            // (mod_access looks again at the index file's URL path: a
            // refused one is left to the static path, which answers 403)
            Ok(m) if m.is_file() => {
                if ctx.conf.access_after_index && !crate::response::access_allowed(&uri, ctx.conf) {
                    return None;
                }
                return traced(local_target(conf, pick, &candidate, base, &uri, None));
            }
            _ => continue,
        }
    }
    // No index file: a `/prefix` key takes the directory itself, as 1.4.69
    // does (SCRIPT_FILENAME is the directory).
    traced(local_target(conf, pick, dir, base, path, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(k: &str) -> GwExt {
        GwExt {
            key: k.into(),
            hosts: Vec::new(),
            last_used: std::cell::Cell::new(-1),
            note_sent: std::cell::Cell::new(false),
        }
    }

    fn conf<'a>(exts: &'a [GwExt], map: &'a [(String, String)]) -> FcgiConf<'a> {
        FcgiConf {
            exts,
            map_extensions: map,
            balance: Balance::default(),
            authorizer: false,
            physical_only: false,
            access_last: false,
        }
    }

    #[test]
    fn first_match_wins_and_prefix_is_bytewise() {
        let exts = vec![ext("/app"), ext(".php")];
        let map = vec![(".php3".to_string(), ".php".to_string())];
        let conf = conf(&exts, &map);
        assert_eq!(find_ext(&conf, "/appX/y.php"), Some(0));
        assert_eq!(find_ext(&conf, "/x/y.php"), Some(1));
        assert_eq!(find_ext(&conf, "/x/y.php3"), Some(1));
        assert!(find_ext(&conf, "/x/y.html").is_none());
    }

    /// A file found by check-local: a `/prefix` key is matched against the
    /// URL path, not the physical one (a docroot under /tmp is not taken
    /// by a "/t" key), suffix keys against the file.
    #[test]
    fn local_keys_match_prefixes_on_the_url() {
        let exts = vec![ext("/t"), ext(".php"), ext("/app")];
        let conf = conf(&exts, &[]);
        assert_eq!(
            find_local_ext(&conf, "/tmp/www/q.php", "/q.php", ""),
            Some(1)
        );
        assert_eq!(
            find_local_ext(&conf, "/srv/app.php", "/app.php", "/x"),
            Some(1)
        );
        assert_eq!(find_local_ext(&conf, "/srv/x/y", "/ap", "p/z"), Some(2));
        assert_eq!(
            find_local_ext(&conf, "/srv/t/y.html", "/t/y.html", ""),
            Some(0)
        );
        assert!(find_local_ext(&conf, "/tmp/y.html", "/y.html", "").is_none());
        assert!(!check_local_may_match(&conf, "/tmp/www", "/y.html"));
        assert!(check_local_may_match(&conf, "/tmp/www", "/q.php"));
    }

    /// The precheck never skips a request the full search would take: it
    /// agrees with matching each candidate physical path for real.
    #[test]
    fn check_local_precheck_agrees_with_the_search() {
        let exts = vec![ext(".php"), ext("/srv/www/app"), ext("www/x.cgi")];
        let map = vec![(".php3".to_string(), ".php".to_string())];
        let conf = conf(&exts, &map);
        for root in ["/srv/www", "/srv/www/", "/srv", "/", ""] {
            for path in [
                "/4k.bin",
                "/a.php",
                "/a.php/b",
                "/x/a.php3",
                "/a.php3/b/c",
                "/a.phpx",
                "/app",
                "/app/x",
                "/ap",
                "/x.cgi",
                "/x.cgi/y",
                "/y/x.cgi",
                "/www/app/z",
                "/a/b/c.html",
                "/dir/",
                "/.php",
                "/php",
            ] {
                let r = root.trim_end_matches('/');
                let mut ends = vec![path.len()];
                ends.extend(path.match_indices('/').map(|(i, _)| i).filter(|&i| i > 0));
                let full = path.ends_with('/')
                    || ends.iter().any(|&n| {
                        let phys = format!("{r}{}", &path[..n]);
                        find_local_ext(&conf, &phys, &path[..n], &path[n..]).is_some()
                    });
                assert_eq!(
                    check_local_may_match(&conf, root, path),
                    full,
                    "root {root:?} path {path:?}"
                );
            }
        }
    }
}
