//! The per-request configuration of the core and the built-in static
//! modules (mod_indexfile, mod_staticfile, mod_dirlisting, mod_access):
//! typed defaults, plus one compiled patch per condition block, applied in
//! block order for the blocks that hold (config-language.md §2: later blocks
//! win, arrays replace). Compiled once at start-up; per request it is a copy
//! of the defaults and a walk over the true blocks — no string lookups.

use crate::config::eval::ConfigTree;
use crate::config::scoped::to_bool;
use crate::config::value::{Array, Value};
use crate::http::mime::MimeTable;
use std::rc::Rc;

/// Settings a request can see.
#[derive(Clone, Debug)]
pub struct RequestConf {
    pub document_root: Option<Rc<str>>,
    /// None: the default tag; Some(""): no Server header.
    pub server_tag: Option<Rc<str>>,
    pub index_files: Rc<Vec<String>>,
    /// index-file.names was set (an empty list too: mod_indexfile then
    /// still takes a directory, and its trace says so).
    pub index_files_set: bool,
    pub mimetypes: Rc<MimeTable>,
    pub exclude_extensions: Rc<Vec<String>>,
    pub etags: bool,
    pub etag_inode: bool,
    pub etag_mtime: bool,
    pub etag_size: bool,
    pub range_requests: bool,
    /// server.error-intercept: a backend's 4xx/5xx is answered by the
    /// server's error handler or error page.
    pub error_intercept: bool,
    pub follow_symlink: bool,
    pub protocol_http11: bool,
    pub max_keep_alive_requests: u32,
    pub max_keep_alive_idle: u32,
    pub max_read_idle: u32,
    pub max_write_idle: u32,
    pub max_request_size_kb: u32,
    /// server.stream-request-body: 0 reads a backend's body in full first.
    pub stream_request_body: u32,
    /// connection.kbytes-per-second, server.kbytes-per-second (0: none).
    pub conn_kbps: u32,
    pub server_kbps: u32,
    /// server.force-lowercase-filenames.
    pub force_lowercase_filenames: bool,
    /// server.feature-flags "server.absolute-dir-redirect" (server-wide).
    pub absolute_dir_redirect: bool,
    /// server.feature-flags "http10.range" (server-wide): Range and
    /// Accept-Ranges for HTTP/1.0 requests too (1.4.69: HTTP/1.1 only).
    pub http10_range: bool,
    /// server.feature-flags "server.h1-discard-backend-1xx" (server-wide):
    /// a backend's interim heads are not relayed to HTTP/1.1 clients.
    pub h1_discard_backend_1xx: bool,
    /// mod_indexfile comes before mod_access in server.modules, so the
    /// second look of mod_access (when the request is about to be handled)
    /// sees the index file's URL path (server-wide).
    pub access_after_index: bool,
    /// mod_fastcgi comes before mod_access in server.modules, so mod_access
    /// sees the URL path as mod_fastcgi's URL stage leaves it: cut to
    /// SCRIPT_NAME when a check-local-disabled prefix key splits off
    /// PATH_INFO (server-wide).
    pub access_after_fastcgi: bool,
    pub dir_listing: bool,
    pub dir_listing_hide_dotfiles: bool,
    /// dir-listing.encoding, -external-css, -external-js, -set-footer,
    /// -auto-layout, -exclude (regexes on entry names).
    pub dir_listing_encoding: Option<Rc<str>>,
    pub dir_listing_css: Option<Rc<str>>,
    pub dir_listing_js: Option<Rc<str>>,
    pub dir_listing_footer: Option<Rc<str>>,
    pub dir_listing_auto_layout: bool,
    /// dir-listing.show-readme / show-header as configured ("enable",
    /// "disable", a file name or an absolute path).
    pub dir_listing_readme: Option<Rc<str>>,
    pub dir_listing_header: Option<Rc<str>>,
    pub dir_listing_hide_readme: bool,
    pub dir_listing_hide_header: bool,
    pub dir_listing_encode_readme: bool,
    pub dir_listing_encode_header: bool,
    /// dir-listing.cache, when enabled (max-age above 0).
    pub dir_listing_cache: Option<Rc<DirCache>>,
    pub dir_listing_exclude: Rc<Vec<pcre2::bytes::Regex>>,
    pub errorfile_prefix: Option<Rc<str>>,
    pub error_handler: Option<Rc<str>>,
    pub error_handler_404: Option<Rc<str>>,
    pub disable_pathinfo: bool,
    pub access_deny: Rc<Vec<String>>,
    /// url.access-allow: when set, only paths ending in one of these pass.
    pub access_allow: Rc<Vec<String>>,
    /// alias.url (mod_alias): URL prefix → directory, in config order.
    pub alias_url: Rc<Vec<(String, String)>>,
    pub log_request_handling: bool,
    pub log_file_not_found: bool,
    pub log_request_header: bool,
    /// debug.log-request-header-on-error: a request refused while its head
    /// is read is logged (why, then its head lines). Only the global value
    /// counts; debug.log-request-handling or -request-header set globally
    /// turn it on too, as in 1.4.69.
    pub log_request_header_on_error: bool,
    pub log_response_header: bool,
    pub log_condition_handling: bool,
    pub log_timeouts: bool,
    /// fastcgi.server (mod_fastcgi loaded): its responder keys, its
    /// authorizer keys; fastcgi.map-extensions, fastcgi.balance,
    /// fastcgi.debug.
    pub fastcgi_server: Rc<Vec<crate::gw::config::GwExt>>,
    pub fastcgi_auth: Rc<Vec<crate::gw::config::GwExt>>,
    pub fastcgi_balance: crate::gw::balance::Balance,
    pub fastcgi_map: Rc<Vec<(String, String)>>,
    pub fastcgi_debug: u32,
    /// Not configuration: set on a request that an authorizer with a
    /// docroot allowed. lighttpd restarts it at the physical stage (the
    /// path under that docroot kept), so a backend key takes it only for a
    /// file that exists there, as with check-local.
    pub fastcgi_physical_only: bool,
}

impl Default for RequestConf {
    fn default() -> Self {
        RequestConf {
            document_root: None,
            server_tag: None,
            index_files: Rc::new(Vec::new()),
            index_files_set: false,
            mimetypes: Rc::new(MimeTable::new(Vec::new())),
            exclude_extensions: Rc::new(Vec::new()),
            etags: true,
            etag_inode: true,
            etag_mtime: true,
            etag_size: true,
            range_requests: true,
            error_intercept: false,
            follow_symlink: true,
            protocol_http11: true,
            max_keep_alive_requests: 1000,
            max_keep_alive_idle: 5,
            max_read_idle: 60,
            max_write_idle: 360,
            max_request_size_kb: 0,
            stream_request_body: 0,
            force_lowercase_filenames: false,
            conn_kbps: 0,
            server_kbps: 0,
            absolute_dir_redirect: false,
            http10_range: false,
            h1_discard_backend_1xx: false,
            access_after_index: true,
            access_after_fastcgi: false,
            dir_listing: false,
            dir_listing_hide_dotfiles: true,
            dir_listing_encoding: None,
            dir_listing_css: None,
            dir_listing_js: None,
            dir_listing_footer: None,
            dir_listing_auto_layout: true,
            dir_listing_readme: None,
            dir_listing_header: None,
            dir_listing_hide_readme: false,
            dir_listing_hide_header: false,
            dir_listing_encode_readme: true,
            dir_listing_encode_header: true,
            dir_listing_cache: None,
            dir_listing_exclude: Rc::new(Vec::new()),
            errorfile_prefix: None,
            error_handler: None,
            error_handler_404: None,
            disable_pathinfo: false,
            access_deny: Rc::new(Vec::new()),
            access_allow: Rc::new(Vec::new()),
            alias_url: Rc::new(Vec::new()),
            log_request_handling: false,
            log_file_not_found: false,
            log_request_header: false,
            log_request_header_on_error: false,
            log_response_header: false,
            log_condition_handling: false,
            log_timeouts: false,
            fastcgi_server: Rc::new(Vec::new()),
            fastcgi_auth: Rc::new(Vec::new()),
            fastcgi_balance: Default::default(),
            fastcgi_map: Rc::new(Vec::new()),
            fastcgi_debug: 0,
            fastcgi_physical_only: false,
        }
    }
}

/// One typed setting of a block.
#[derive(Clone, Debug)]
enum Setting {
    DocumentRoot(Rc<str>),
    ServerTag(Rc<str>),
    IndexFiles(Rc<Vec<String>>),
    Mime(Rc<MimeTable>),
    Exclude(Rc<Vec<String>>),
    Flag(fn(&mut RequestConf) -> &mut bool, bool),
    Num(fn(&mut RequestConf) -> &mut u32, u32),
    Text(fn(&mut RequestConf) -> &mut Option<Rc<str>>, Rc<str>),
    AccessDeny(Rc<Vec<String>>),
    AccessAllow(Rc<Vec<String>>),
    DirExclude(Rc<Vec<pcre2::bytes::Regex>>),
    DirCache(Option<Rc<DirCache>>),
    Alias(Rc<Vec<(String, String)>>),
    FcgiServer(
        Rc<Vec<crate::gw::config::GwExt>>,
        Rc<Vec<crate::gw::config::GwExt>>,
    ),
    FcgiBalance(crate::gw::balance::Balance),
    FcgiDebug(u32),
    FcgiMap(Rc<Vec<(String, String)>>),
}

impl Setting {
    fn apply(&self, c: &mut RequestConf, global: bool) {
        match self {
            Setting::DocumentRoot(v) => c.document_root = Some(v.clone()),
            // A blank tag in a conditional is ignored (http-core.md §8).
            Setting::ServerTag(v) if v.is_empty() && !global => {}
            Setting::ServerTag(v) => c.server_tag = Some(v.clone()),
            Setting::IndexFiles(v) => {
                c.index_files = v.clone();
                c.index_files_set = true;
            }
            Setting::Mime(v) => c.mimetypes = v.clone(),
            Setting::Exclude(v) => c.exclude_extensions = v.clone(),
            Setting::Flag(f, v) => *f(c) = *v,
            Setting::Num(f, v) => *f(c) = *v,
            Setting::Text(f, v) => *f(c) = Some(v.clone()),
            Setting::AccessDeny(v) => c.access_deny = v.clone(),
            Setting::AccessAllow(v) => c.access_allow = v.clone(),
            Setting::DirExclude(v) => c.dir_listing_exclude = v.clone(),
            Setting::DirCache(v) => c.dir_listing_cache = v.clone(),
            Setting::Alias(v) => c.alias_url = v.clone(),
            Setting::FcgiServer(r, a) => {
                c.fastcgi_server = r.clone();
                c.fastcgi_auth = a.clone();
            }
            Setting::FcgiBalance(b) => c.fastcgi_balance = *b,
            Setting::FcgiDebug(n) => c.fastcgi_debug = *n,
            Setting::FcgiMap(v) => c.fastcgi_map = v.clone(),
        }
    }
}

/// Defaults plus a patch per block.
#[derive(Debug, Default)]
pub struct CompiledConf {
    patches: Vec<Vec<Setting>>,
    /// The global configuration, built once: a request with no true
    /// condition block gets a clone (reference-count bumps only).
    global: Rc<RequestConf>,
    /// The blocks 1.4.69 decides on the URL mod_staticfile sees, if any
    /// looks at the URL.
    late: Option<crate::config::matcher::LateBlocks>,
}

fn strings(a: &Array) -> Rc<Vec<String>> {
    Rc::new(a.iter_strings().map(str::to_string).collect())
}

fn num(v: &Value) -> Option<u32> {
    match v {
        Value::Int(n) => Some(*n as u32),
        Value::Str(s) => s.trim().parse().ok(),
        Value::Array(_) => None,
    }
}

/// The setting a key/value pair means, if the core or a loaded built-in
/// module reads it. Types were checked at start-up (scoped.rs).
fn setting(key: &str, v: &Value, modules: &[String]) -> Option<Setting> {
    let loaded = |m: &str| modules.iter().any(|x| x == m);
    let k = key.to_ascii_lowercase();
    let flag = |f: fn(&mut RequestConf) -> &mut bool| to_bool(v).map(|b| Setting::Flag(f, b));
    let n = |f: fn(&mut RequestConf) -> &mut u32| num(v).map(|x| Setting::Num(f, x));
    let text = |f: fn(&mut RequestConf) -> &mut Option<Rc<str>>| match v {
        Value::Str(s) => Some(Setting::Text(f, Rc::from(s.as_str()))),
        _ => None,
    };
    match (k.as_str(), v) {
        ("server.document-root", Value::Str(s)) => {
            Some(Setting::DocumentRoot(Rc::from(s.as_str())))
        }
        ("server.tag", Value::Str(s)) => Some(Setting::ServerTag(Rc::from(s.as_str()))),
        ("index-file.names" | "server.indexfiles", Value::Array(a)) if loaded("mod_indexfile") => {
            Some(Setting::IndexFiles(strings(a)))
        }
        ("mimetype.assign", Value::Array(a)) => {
            let pairs = a
                .entries
                .iter()
                .filter_map(|e| match (&e.key, &e.value) {
                    (Some(k), Value::Str(t)) => Some((k.clone(), t.clone())),
                    _ => None,
                })
                .collect();
            Some(Setting::Mime(Rc::new(MimeTable::new(pairs))))
        }
        ("static-file.exclude-extensions", Value::Array(a)) => Some(Setting::Exclude(strings(a))),
        ("static-file.etags", _) => flag(|c| &mut c.etags),
        ("static-file.disable-pathinfo", _) => flag(|c| &mut c.disable_pathinfo),
        ("etag.use-inode", _) => flag(|c| &mut c.etag_inode),
        ("etag.use-mtime", _) => flag(|c| &mut c.etag_mtime),
        ("etag.use-size", _) => flag(|c| &mut c.etag_size),
        ("server.range-requests", _) => flag(|c| &mut c.range_requests),
        ("server.error-intercept", _) => flag(|c| &mut c.error_intercept),
        ("server.follow-symlink", _) => flag(|c| &mut c.follow_symlink),
        ("server.protocol-http11", _) => flag(|c| &mut c.protocol_http11),
        ("server.max-keep-alive-requests", _) => n(|c| &mut c.max_keep_alive_requests),
        ("server.max-keep-alive-idle", _) => n(|c| &mut c.max_keep_alive_idle),
        ("server.max-read-idle", _) => n(|c| &mut c.max_read_idle),
        ("server.max-write-idle", _) => n(|c| &mut c.max_write_idle),
        ("server.max-request-size", _) => n(|c| &mut c.max_request_size_kb),
        ("server.stream-request-body", _) => n(|c| &mut c.stream_request_body),
        ("connection.kbytes-per-second", _) => n(|c| &mut c.conn_kbps),
        ("server.kbytes-per-second", _) => n(|c| &mut c.server_kbps),
        ("server.force-lowercase-filenames", _) => flag(|c| &mut c.force_lowercase_filenames),
        ("dir-listing.activate" | "server.dir-listing", _) if loaded("mod_dirlisting") => {
            flag(|c| &mut c.dir_listing)
        }
        ("dir-listing.hide-dotfiles", _) => flag(|c| &mut c.dir_listing_hide_dotfiles),
        ("dir-listing.encoding", _) => text(|c| &mut c.dir_listing_encoding),
        ("dir-listing.external-css", _) => text(|c| &mut c.dir_listing_css),
        ("dir-listing.external-js", _) => text(|c| &mut c.dir_listing_js),
        ("dir-listing.set-footer", _) => text(|c| &mut c.dir_listing_footer),
        ("dir-listing.auto-layout", _) => flag(|c| &mut c.dir_listing_auto_layout),
        ("dir-listing.show-readme", _) => text(|c| &mut c.dir_listing_readme),
        ("dir-listing.show-header", _) => text(|c| &mut c.dir_listing_header),
        ("dir-listing.hide-readme-file", _) => flag(|c| &mut c.dir_listing_hide_readme),
        ("dir-listing.hide-header-file", _) => flag(|c| &mut c.dir_listing_hide_header),
        ("dir-listing.encode-readme", _) => flag(|c| &mut c.dir_listing_encode_readme),
        ("dir-listing.encode-header", _) => flag(|c| &mut c.dir_listing_encode_header),
        ("dir-listing.exclude", Value::Array(a)) if loaded("mod_dirlisting") => {
            // Checked by check_dir_exclude first: every pattern compiles
            // (in UTF mode, as 1.4.69's: `.` is a character).
            let res = a
                .iter_strings()
                .filter_map(|p| crate::config::cond::compile_regex(p).ok())
                .map(|c| c.regex)
                .collect();
            Some(Setting::DirExclude(Rc::new(res)))
        }
        ("server.errorfile-prefix", _) => text(|c| &mut c.errorfile_prefix),
        ("server.error-handler", _) => text(|c| &mut c.error_handler),
        ("server.error-handler-404", _) => text(|c| &mut c.error_handler_404),
        ("alias.url", Value::Array(a)) if loaded("mod_alias") => Some(Setting::Alias(Rc::new(
            a.entries
                .iter()
                .filter_map(|e| match (&e.key, &e.value) {
                    (Some(k), Value::Str(v)) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect(),
        ))),
        ("url.access-deny", Value::Array(a)) if loaded("mod_access") => {
            Some(Setting::AccessDeny(strings(a)))
        }
        ("url.access-allow", Value::Array(a)) if loaded("mod_access") => {
            Some(Setting::AccessAllow(strings(a)))
        }
        ("debug.log-request-handling", _) => flag(|c| &mut c.log_request_handling),
        ("debug.log-file-not-found", _) => flag(|c| &mut c.log_file_not_found),
        ("debug.log-request-header", _) => flag(|c| &mut c.log_request_header),
        ("debug.log-request-header-on-error", _) => flag(|c| &mut c.log_request_header_on_error),
        ("debug.log-response-header", _) => flag(|c| &mut c.log_response_header),
        ("debug.log-condition-handling", _) => flag(|c| &mut c.log_condition_handling),
        ("debug.log-timeouts", _) => flag(|c| &mut c.log_timeouts),
        _ => None,
    }
}

/// mod_fastcgi's keys.
fn fastcgi_setting(
    key: &str,
    v: &Value,
    warnings: &mut Vec<String>,
) -> Result<Option<Setting>, String> {
    let k = key.to_ascii_lowercase();
    Ok(match (k.as_str(), v) {
        ("fastcgi.server", Value::Array(a)) => {
            let exts = crate::gw::config::parse_servers(
                "fastcgi.server",
                &crate::gw::codec::FASTCGI,
                a,
                warnings,
            )?;
            let (resp, auth) = crate::gw::config::split_modes(exts);
            Some(Setting::FcgiServer(Rc::new(resp), Rc::new(auth)))
        }
        ("fastcgi.balance", Value::Str(b)) => Some(Setting::FcgiBalance(
            crate::gw::balance::Balance::parse(b).unwrap_or_else(|w| {
                warnings.push(w);
                Default::default()
            }),
        )),
        ("fastcgi.map-extensions", Value::Array(a)) => Some(Setting::FcgiMap(Rc::new(
            a.entries
                .iter()
                .filter_map(|e| match (&e.key, &e.value) {
                    (Some(k), Value::Str(t)) => Some((k.clone(), t.clone())),
                    _ => None,
                })
                .collect(),
        ))),
        ("fastcgi.debug", v) => num(v).map(Setting::FcgiDebug),
        _ => None,
    })
}

/// mod_alias's start-up check: a key right after a key that prefixes it
/// can never match (the first match wins).
fn check_alias(pairs: &[(String, String)]) -> Result<(), String> {
    for w in pairs.windows(2) {
        if w[1].0.starts_with(w[0].0.as_str()) {
            return Err(format!(
                "alias.url: `{}' will never match as `{}' matched first",
                w[1].0, w[0].0
            ));
        }
    }
    Ok(())
}

/// dir-listing.exclude: a pattern that does not compile is fatal, as in
/// lighttpd (same pcre2 message).
/// dir-listing.cache: generated listings are kept as
/// `<path><directory>dirlist.html` and served from there for `max_age`
/// seconds after they were written.
#[derive(Debug)]
pub struct DirCache {
    pub max_age: i64,
    pub path: String,
}

/// Reads `dir-listing.cache = ( "max-age" => N, "path" => "/dir" )` with
/// 1.4.69's rules and messages: max-age defaults to 15 and 0 turns the
/// cache off; a path is needed otherwise, must be a string and, when it
/// exists, a directory (a missing one is only warned about).
fn parse_dir_cache(a: &crate::config::value::Array) -> Result<Option<Rc<DirCache>>, String> {
    let max_age = match a.get("max-age") {
        None => 15,
        Some(Value::Int(n)) => i64::from(*n),
        Some(Value::Str(s)) => crate::cli::strtol_base0(s.trim()).unwrap_or(0),
        Some(_) => 0,
    };
    let path = match a.get("path") {
        None if max_age != 0 => return Err("dir-listing.cache must include \"path\"".into()),
        None => String::new(),
        Some(Value::Str(p)) => {
            match std::fs::metadata(p) {
                Ok(m) if !m.is_dir() => {
                    return Err(format!(
                        "dir-listing.cache \"path\" => \"{p}\" is not a dir"
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    crate::log_error!("dir-listing.cache \"path\" => \"{p}\" does not exist");
                }
                _ => {}
            }
            p.clone()
        }
        Some(_) => return Err("dir-listing.cache \"path\" must have string value".into()),
    };
    Ok((max_age != 0).then(|| Rc::new(DirCache { max_age, path })))
}

/// The bin-path hosts as 1.4.69 checks them: hosts on the same unix
/// socket, anywhere in the config, are one host (the pool shares their
/// procs), and with different bin-paths that is the fatal "duplicate
/// unixsocket path"; a program that is not an executable regular file is
/// warned about (the spawn then fails).
fn check_bin_paths(hosts: &[(Rc<crate::gw::config::GwHost>, u32)]) -> Result<(), String> {
    use crate::gw::config::BackendAddr;
    use std::os::unix::fs::PermissionsExt;
    for (i, (h, _)) in hosts.iter().enumerate() {
        let Some(bin) = &h.bin_path else { continue };
        let shared = hosts[..i]
            .iter()
            .find(|(o, _)| o.bin_path.is_some() && o.addr == h.addr);
        if let (BackendAddr::Unix(path), Some((o, _))) = (&h.addr, shared) {
            if o.bin_path.as_ref() != Some(bin) {
                return Err(format!("duplicate unixsocket path: {path}"));
            }
            continue;
        }
        let prog = bin.split_whitespace().next().unwrap_or("");
        let runnable = std::fs::metadata(prog)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if !runnable {
            crate::log_error!(
                "invalid \"bin-path\" => \"{bin}\" (check that file exists, is regular file, and is executable by lighttpd)"
            );
        }
    }
    Ok(())
}

fn check_dir_exclude(a: &crate::config::value::Array) -> Result<(), String> {
    for p in a.iter_strings() {
        if let Err(e) = crate::config::cond::compile_regex(p) {
            // 1.4.69's two lines; it prints "(null)" for the pattern.
            crate::log_error!("{e}");
            return Err(format!("pcre_compile failed for {p}"));
        }
    }
    Ok(())
}

impl CompiledConf {
    /// Compiles every block; a bad `fastcgi.server` is fatal (lighttpd's
    /// messages), warnings are logged.
    pub fn compile(tree: &ConfigTree, modules: &[String]) -> Result<Self, String> {
        let fastcgi = modules.iter().any(|m| m == "mod_fastcgi");
        let mut patches = Vec::with_capacity(tree.blocks.len());
        let mut warnings = Vec::new();
        for b in &tree.blocks {
            let mut p = Vec::new();
            for e in &b.values.entries {
                let Some(k) = e.key.as_deref() else { continue };
                if fastcgi && let Some(s) = fastcgi_setting(k, &e.value, &mut warnings)? {
                    p.push(s);
                    continue;
                }
                if k.eq_ignore_ascii_case("dir-listing.cache")
                    && modules.iter().any(|m| m == "mod_dirlisting")
                {
                    if let Value::Array(a) = &e.value {
                        p.push(Setting::DirCache(parse_dir_cache(a)?));
                    }
                    continue;
                }
                if let Some(s) = setting(k, &e.value, modules) {
                    if let Setting::Alias(pairs) = &s {
                        check_alias(pairs)?;
                    }
                    if let (Setting::DirExclude(_), Value::Array(a)) = (&s, &e.value) {
                        check_dir_exclude(a)?;
                    }
                    p.push(s);
                }
            }
            patches.push(p);
        }
        for w in warnings {
            crate::log_error!("{w}");
        }
        let mut c = CompiledConf {
            patches,
            global: Rc::default(),
            late: crate::config::matcher::LateBlocks::new(tree),
        };
        check_bin_paths(&c.fastcgi_hosts())?;
        let mut global = c.build(&[true]);
        global.absolute_dir_redirect = tree.feature_flag("server.absolute-dir-redirect");
        global.http10_range = tree.feature_flag("http10.range");
        global.h1_discard_backend_1xx = tree.feature_flag("server.h1-discard-backend-1xx");
        global.log_request_header_on_error |=
            global.log_request_handling || global.log_request_header;
        let at = |m: &str| modules.iter().position(|x| x == m);
        global.access_after_index = at("mod_indexfile") < at("mod_access");
        global.access_after_fastcgi =
            at("mod_access").is_some() && at("mod_fastcgi") < at("mod_access");
        c.global = Rc::new(global);
        Ok(c)
    }

    fn build(&self, holds: &[bool]) -> RequestConf {
        let mut c = RequestConf::default();
        for (i, p) in self.patches.iter().enumerate() {
            if holds.get(i).copied().unwrap_or(false) {
                for s in p {
                    s.apply(&mut c, i == 0);
                }
            }
        }
        c
    }

    /// The configuration for a request whose true blocks are `holds`
    /// (index 0, the global block, always holds).
    /// Shared with the global configuration when no other block holds.
    pub fn for_request(&self, holds: &[bool]) -> Rc<RequestConf> {
        let mut c = None;
        for (i, p) in self.patches.iter().enumerate().skip(1) {
            if holds.get(i).copied().unwrap_or(false) && !p.is_empty() {
                let c = c.get_or_insert_with(|| RequestConf::clone(&self.global));
                for s in p {
                    s.apply(c, false);
                }
            }
        }
        c.map_or_else(|| self.global.clone(), Rc::new)
    }

    /// Every fastcgi.server host of every block, with the fastcgi.debug
    /// its maintenance honours: the block's own, else the global one.
    pub fn fastcgi_hosts(&self) -> Vec<(Rc<crate::gw::config::GwHost>, u32)> {
        let mut out = Vec::new();
        let global = self.global.fastcgi_debug;
        for p in &self.patches {
            let debug = p
                .iter()
                .find_map(|s| match s {
                    Setting::FcgiDebug(n) => Some(*n),
                    _ => None,
                })
                .unwrap_or(global);
            for s in p {
                if let Setting::FcgiServer(resp, auth) = s {
                    for e in resp.iter().chain(auth.iter()) {
                        out.extend(e.hosts.iter().map(|h| (h.clone(), debug)));
                    }
                }
            }
        }
        out
    }

    /// The global (block 0) configuration.
    pub fn global(&self) -> Rc<RequestConf> {
        self.global.clone()
    }

    pub fn late(&self) -> Option<&crate::config::matcher::LateBlocks> {
        self.late.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::eval::{Input, read_config};

    #[test]
    fn later_blocks_win_and_blank_tag_in_block_ignored() {
        let t = read_config(Input::Stdin(
            "server.tag = \"a\"\nserver.document-root = \"/x\"\n$HTTP[\"url\"] =^ \"/y\" {\n server.document-root = \"/y\"\n server.tag = \"\"\n}\n",
        ))
        .unwrap();
        let c = CompiledConf::compile(&t, &[]).unwrap();
        let g = c.for_request(&[true, false]);
        assert_eq!(g.document_root.as_deref(), Some("/x"));
        let r = c.for_request(&[true, true]);
        assert_eq!(r.document_root.as_deref(), Some("/y"));
        assert_eq!(r.server_tag.as_deref(), Some("a"));
    }

    #[test]
    fn alias_adjacent_prefix_is_fatal() {
        let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert!(check_alias(&p(&[("/a", "/x"), ("/b", "/y"), ("/ab", "/z")])).is_ok());
        assert_eq!(
            check_alias(&p(&[("/a", "/x"), ("/ab", "/y")])).unwrap_err(),
            "alias.url: `/ab' will never match as `/a' matched first"
        );
    }

    #[test]
    fn bad_dir_listing_exclude_is_fatal() {
        let t = read_config(Input::Stdin("dir-listing.exclude = ( \"^a\", \"(\" )\n")).unwrap();
        let m = vec!["mod_dirlisting".to_string()];
        let e = CompiledConf::compile(&t, &m).unwrap_err();
        assert_eq!(e, "pcre_compile failed for (");
        // Without mod_dirlisting (not loaded unless dir-listing.activate is
        // enabled somewhere) the patterns are not compiled, as in 1.4.69.
        assert!(CompiledConf::compile(&t, &[]).is_ok());
    }

    #[test]
    fn one_unix_socket_one_bin_path() {
        let m = vec!["mod_fastcgi".to_string()];
        let compile = |c: &str| CompiledConf::compile(&read_config(Input::Stdin(c)).unwrap(), &m);
        let host =
            |bin: &str| format!("( ( \"socket\" => \"/tmp/x.sock\", \"bin-path\" => \"{bin}\" ) )");
        let same = format!(
            "fastcgi.server = ( \".a\" => {}, \".b\" => {} )\n",
            host("/bin/a"),
            host("/bin/a")
        );
        assert!(compile(&same).is_ok());
        let other = format!(
            "fastcgi.server = ( \".a\" => {} )\n$HTTP[\"url\"] =^ \"/x\" {{ fastcgi.server = ( \".b\" => {} ) }}\n",
            host("/bin/a"),
            host("/bin/b")
        );
        assert_eq!(
            compile(&other).unwrap_err(),
            "duplicate unixsocket path: /tmp/x.sock"
        );
    }

    #[test]
    fn dir_listing_cache_settings() {
        let m = vec!["mod_dirlisting".to_string()];
        let compile = |c: &str| CompiledConf::compile(&read_config(Input::Stdin(c)).unwrap(), &m);
        let e = compile("dir-listing.cache = ( \"max-age\" => 10 )\n").unwrap_err();
        assert_eq!(e, "dir-listing.cache must include \"path\"");
        let e = compile("dir-listing.cache = ( \"path\" => \"/etc/hostname\" )\n").unwrap_err();
        assert_eq!(
            e,
            "dir-listing.cache \"path\" => \"/etc/hostname\" is not a dir"
        );
        let e = compile("dir-listing.cache = ( \"path\" => 5 )\n").unwrap_err();
        assert_eq!(e, "dir-listing.cache \"path\" must have string value");
        let off = compile("dir-listing.cache = ( \"max-age\" => 0 )\n").unwrap();
        assert!(off.global().dir_listing_cache.is_none());
        let on = compile("dir-listing.cache = ( \"path\" => \"/tmp\" )\n").unwrap();
        let dc = on.global().dir_listing_cache.clone().unwrap();
        assert_eq!((dc.max_age, dc.path.as_str()), (15, "/tmp"));
    }

    #[test]
    fn module_keys_need_the_module() {
        let t = read_config(Input::Stdin("index-file.names = (\"index.html\")\n")).unwrap();
        assert!(
            CompiledConf::compile(&t, &[])
                .unwrap()
                .global()
                .index_files
                .is_empty()
        );
        let m = vec!["mod_indexfile".to_string()];
        assert_eq!(
            CompiledConf::compile(&t, &m)
                .unwrap()
                .global()
                .index_files
                .as_slice(),
            ["index.html"]
        );
    }
}
