//! The CGI/1.1 environment lighttpd hands to a gateway (FastCGI now, CGI and
//! SCGI later), built as an ordered list of `(name, value)` pairs.
//!
//! This reproduces lighttpd 1.4.69's `http_cgi_headers()`: the variable set,
//! the exact order (CONTENT_LENGTH first, which SCGI requires), the
//! `HTTP_*` name mangling, the httpoxy guard (`Proxy` is never passed on) and
//! the path joins behind SCRIPT_FILENAME and PATH_TRANSLATED. The oracle is a
//! parameter dump taken from the reference lighttpd with
//! `examples/fcgi_responder.rs` (`?dump-env`); `order_matches_reference_dump`
//! pins it. Also here: the SCRIPT_NAME / PATH_INFO prefix split that
//! mod_fastcgi does for `check-local = "disable"` (docs/fastcgi.md §2).
//!
//! Everything is pure: the gateway hook gathers the request facts into a
//! [`CgiInput`] and calls [`build`].

/// The request facts the environment is built from. Field names follow the
/// lighttpd request members they stand for.
#[derive(Debug, Clone, Default)]
pub struct CgiInput<'a> {
    /// Authorizer role: no CONTENT_LENGTH, SCRIPT_NAME, PATH_INFO or
    /// PATH_TRANSLATED.
    pub authorizer: bool,
    /// Request body length (`r->reqbody_length`); lighttpd sends `0` for a
    /// request without a body, so this is not optional.
    pub content_length: u64,
    /// `r->uri.query`, without the `?`; empty when there is none.
    pub query: &'a str,
    /// The target as received (`r->target_orig`), query included.
    pub raw_target: &'a str,
    /// The current target (`r->target`) when a rewrite or redirect changed it.
    pub redirect_uri: Option<&'a str>,
    /// True when `server.error-handler` is running this request: it already
    /// put its own REDIRECT_STATUS into [`CgiInput::extra`], so the fixed
    /// `REDIRECT_STATUS=200` is left out.
    pub error_handler: bool,
    /// `r->uri.path` after any prefix split (see [`split_prefix`]).
    pub script_name: &'a str,
    /// `r->pathinfo`; `None` or empty means PATH_INFO is not set.
    pub path_info: Option<&'a str>,
    /// `r->physical.path`: SCRIPT_FILENAME unless a host `docroot` is set.
    pub script_filename: &'a str,
    /// `r->physical.basedir`: DOCUMENT_ROOT unless a host `docroot` is set.
    pub document_root: &'a str,
    /// The gateway host's `docroot` option; it replaces DOCUMENT_ROOT and is
    /// the base of SCRIPT_FILENAME and PATH_TRANSLATED.
    pub docroot: Option<&'a str>,
    /// The host's `broken-scriptfilename`: SCRIPT_FILENAME += PATH_INFO
    /// (ignored when `docroot` is set).
    pub broken_scriptfilename: bool,
    /// Method token, e.g. `GET`.
    pub method: &'a str,
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0`.
    pub protocol: &'a str,
    /// `server.tag`; empty when unset.
    pub server_software: &'a str,
    /// `http` or `https`; `https` also yields `HTTPS=on`.
    pub scheme: &'a str,
    /// Local address of the connection (empty for a unix-socket listener).
    pub server_addr: &'a str,
    /// Port of the listener (`0` for a unix-socket listener).
    pub server_port: u16,
    /// `r->server_name` (the request authority); any `:port` is removed
    /// here. Empty stays empty (HTTP/1.0 without Host).
    pub server_name: &'a str,
    pub remote_addr: &'a str,
    pub remote_port: u16,
    /// Request headers in arrival order, duplicates already merged by the
    /// request parser (as lighttpd does, `, ` or `; ` for Cookie).
    pub headers: HeaderList<'a>,
    /// The host's `strip-request-uri`, trailing `/` already removed at
    /// config time as lighttpd does.
    pub strip_request_uri: Option<&'a str>,
    /// Module env in order (mod_auth REMOTE_USER/AUTH_TYPE, setenv, SSL_*,
    /// authorizer `Variable-*`); names are mangled like header names but
    /// without the `HTTP_` prefix.
    pub extra: &'a [(String, String)],
}

/// The request headers a [`CgiInput`] reads: a parsed request's, or a
/// plain list.
#[derive(Debug, Clone, Copy)]
pub enum HeaderList<'a> {
    Head(&'a crate::http::request::RequestHead),
    Pairs(&'a [(String, String)]),
}

impl Default for HeaderList<'_> {
    fn default() -> Self {
        HeaderList::Pairs(&[])
    }
}

impl HeaderList<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&str, &str)) {
        match self {
            HeaderList::Head(h) => h.headers().for_each(|(k, v)| f(k, v)),
            HeaderList::Pairs(p) => p.iter().for_each(|(k, v)| f(k, v)),
        }
    }
}

/// Builds the environment in lighttpd's order.
pub fn build(input: &CgiInput) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::with_capacity(32);
    build_with(input, &mut |k, v| {
        env.push((String::from_utf8_lossy(k).into_owned(), v.concat()))
    });
    env
}

/// The environment in lighttpd's order, handed to `put` pair by pair (the
/// name as ASCII bytes), each value in pieces to be joined (a FastCGI
/// PARAMS record is written straight from it, without copies).
pub fn build_with(input: &CgiInput, put: &mut dyn FnMut(&[u8], &[&str])) {
    let mut num = itoa::Buffer::new();

    if !input.authorizer {
        put(b"CONTENT_LENGTH", &[num.format(input.content_length)]);
    }
    put(b"QUERY_STRING", &[input.query]);
    put(
        b"REQUEST_URI",
        &[strip_uri(input.raw_target, input.strip_request_uri)],
    );
    if let Some(target) = input.redirect_uri
        && target != input.raw_target
    {
        put(b"REDIRECT_URI", &[target]);
    }
    if !input.error_handler {
        put(b"REDIRECT_STATUS", &["200"]);
    }

    let path_info = input.path_info.filter(|p| !p.is_empty());
    if !input.authorizer {
        put(b"SCRIPT_NAME", &[input.script_name]);
        if let Some(pi) = path_info {
            put(b"PATH_INFO", &[pi]);
            let base = input.docroot.unwrap_or(input.document_root);
            put(b"PATH_TRANSLATED", &join_path(base, pi));
        }
    }

    match input.docroot {
        Some(root) => {
            put(b"SCRIPT_FILENAME", &join_path(root, input.script_name));
            put(b"DOCUMENT_ROOT", &[root]);
        }
        None => {
            if input.broken_scriptfilename {
                let pi = path_info.unwrap_or("");
                put(b"SCRIPT_FILENAME", &join_path(input.script_filename, pi));
            } else {
                put(b"SCRIPT_FILENAME", &[input.script_filename]);
            }
            put(b"DOCUMENT_ROOT", &[input.document_root]);
        }
    }

    put(b"REQUEST_METHOD", &[input.method]);
    put(b"SERVER_PROTOCOL", &[input.protocol]);
    put(b"SERVER_SOFTWARE", &[input.server_software]);
    put(b"GATEWAY_INTERFACE", &["CGI/1.1"]);
    put(b"REQUEST_SCHEME", &[input.scheme]);
    if input.scheme == "https" {
        put(b"HTTPS", &["on"]);
    }
    put(b"SERVER_PORT", &[num.format(input.server_port)]);
    put(b"SERVER_ADDR", &[input.server_addr]);
    // An empty server name stays empty: lighttpd's comment says "same as
    // SERVER_ADDR" but it sends an empty value (checked with HTTP/1.0 and
    // no Host against 1.4.69).
    put(b"SERVER_NAME", &[host_without_port(input.server_name)]);
    put(b"REMOTE_ADDR", &[input.remote_addr]);
    put(b"REMOTE_PORT", &[num.format(input.remote_port)]);

    let mut name = VarName::default();
    input.headers.for_each(&mut |key, value| {
        // Blank values are not passed on (lighttpd skips them).
        if value.is_empty() {
            return;
        }
        // httpoxy: HTTP_PROXY would configure the script's outgoing proxy.
        if key.eq_ignore_ascii_case("Proxy") {
            return;
        }
        if key.eq_ignore_ascii_case("Content-Type") {
            put(b"CONTENT_TYPE", &[value]);
        } else {
            put(name.encode(key, true), &[value]);
        }
    });

    for (key, value) in input.extra {
        put(name.encode(key, false), &[value]);
    }
}

/// A CGI variable name made from a header or module env key, on the stack
/// for the usual lengths.
struct VarName {
    short: [u8; 96],
    long: Vec<u8>,
}

impl Default for VarName {
    fn default() -> Self {
        VarName {
            short: [0; 96],
            long: Vec::new(),
        }
    }
}

impl VarName {
    /// The CGI variable name for a header (`HTTP_` prefix) or a module
    /// env key, as ASCII bytes: letters upper-cased, digits kept,
    /// everything else `_`, byte by byte (a multi-byte character becomes
    /// one `_` per byte, as in lighttpd). Two distinct headers may map to
    /// the same name; 1.4.69 sends both (HEAD rejects with 400).
    fn encode(&mut self, key: &str, is_http_header: bool) -> &[u8] {
        let prefix: &[u8] = if is_http_header { b"HTTP_" } else { b"" };
        let len = prefix.len() + key.len();
        let out: &mut [u8] = if len <= self.short.len() {
            &mut self.short[..len]
        } else {
            self.long.resize(len, 0);
            &mut self.long[..]
        };
        out[..prefix.len()].copy_from_slice(prefix);
        for (o, b) in out[prefix.len()..].iter_mut().zip(key.bytes()) {
            *o = varname_byte(b);
        }
        out
    }
}

/// A key byte in a CGI variable name: letters upper-cased, digits kept,
/// everything else `_`.
fn varname_byte(b: u8) -> u8 {
    VARNAME[b as usize]
}

/// [`varname_byte`] for every byte.
const VARNAME: [u8; 256] = {
    let mut t = [b'_'; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() {
            t[c] = b.to_ascii_uppercase();
        }
        c += 1;
    }
    t
};

/// REQUEST_URI: `strip` is removed only when the target continues with `/`.
fn strip_uri<'t>(target: &'t str, strip: Option<&str>) -> &'t str {
    match strip {
        Some(s) if !s.is_empty() => match target.strip_prefix(s) {
            Some(rest) if rest.starts_with('/') => rest,
            _ => target,
        },
        _ => target,
    }
}

/// lighttpd's `buffer_copy_path_len2`: exactly one `/` between the parts
/// when `base` is non-empty and ends in `/`; otherwise a `/` is inserted
/// unless `tail` starts with one (so `"/r"` + `""` gives `"/r/"`). The
/// pieces of the joined path.
fn join_path<'s>(base: &'s str, tail: &'s str) -> [&'s str; 3] {
    if !base.is_empty() && base.ends_with('/') {
        [base, "", tail.strip_prefix('/').unwrap_or(tail)]
    } else if !tail.starts_with('/') {
        [base, "/", tail]
    } else {
        [base, "", tail]
    }
}

/// SERVER_NAME: the authority without its port (`[v6]:port` keeps the
/// brackets).
fn host_without_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        match authority.find("]:") {
            Some(i) => &authority[..=i],
            None => authority,
        }
    } else {
        match authority.find(':') {
            Some(i) => &authority[..i],
            None => authority,
        }
    }
}

/// SCRIPT_NAME / PATH_INFO for a `/prefix` key with `check-local` disabled
/// (responders only; the caller skips extension keys and authorizers).
/// With `fix_root_scriptname` and key `/`, SCRIPT_NAME is empty and the whole
/// path is PATH_INFO. Otherwise the first `/` at or after the key's length
/// starts PATH_INFO; a path no longer than the key is not split.
pub fn split_prefix<'p>(
    key: &str,
    path: &'p str,
    fix_root_scriptname: bool,
) -> (&'p str, Option<&'p str>) {
    if key.len() == 1 && fix_root_scriptname {
        return ("", Some(path));
    }
    if path.len() > key.len() {
        // A byte search like lighttpd's strchr(): '/' is ASCII, so the split
        // point is always a char boundary even if the key length is not.
        if let Some(i) = path.as_bytes()[key.len()..].iter().position(|&b| b == b'/') {
            let at = key.len() + i;
            return (&path[..at], Some(&path[at..]));
        }
    }
    (path, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(env: &[(String, String)]) -> Vec<&str> {
        env.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn get<'e>(env: &'e [(String, String)], k: &str) -> Option<&'e str> {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base<'a>(headers: &'a [(String, String)]) -> CgiInput<'a> {
        CgiInput {
            query: "env=REQUEST_URI",
            raw_target: "/fcgi?env=REQUEST_URI",
            script_name: "/fcgi",
            script_filename: "/srv/www/fcgi",
            document_root: "/srv/www",
            method: "GET",
            protocol: "HTTP/1.1",
            server_software: "lighttpd/1.4.69",
            scheme: "http",
            server_addr: "127.0.0.1",
            server_port: 18601,
            server_name: "127.0.0.1:18601",
            remote_addr: "127.0.0.1",
            remote_port: 40000,
            headers: HeaderList::Pairs(headers),
            ..CgiInput::default()
        }
    }

    /// Pins the order seen from the reference lighttpd 1.4.69 (`?dump-env`
    /// through examples/fcgi_responder.rs, curl with two extra headers).
    #[test]
    fn order_matches_reference_dump() {
        let hd = h(&[
            ("Host", "127.0.0.1:18601"),
            ("User-Agent", "curl/7.88.1"),
            ("Accept", "*/*"),
            ("X-Foo-Bar", "1"),
            ("Content-Type", "text/plain"),
        ]);
        let env = build(&base(&hd));
        assert_eq!(
            names(&env),
            [
                "CONTENT_LENGTH",
                "QUERY_STRING",
                "REQUEST_URI",
                "REDIRECT_STATUS",
                "SCRIPT_NAME",
                "SCRIPT_FILENAME",
                "DOCUMENT_ROOT",
                "REQUEST_METHOD",
                "SERVER_PROTOCOL",
                "SERVER_SOFTWARE",
                "GATEWAY_INTERFACE",
                "REQUEST_SCHEME",
                "SERVER_PORT",
                "SERVER_ADDR",
                "SERVER_NAME",
                "REMOTE_ADDR",
                "REMOTE_PORT",
                "HTTP_HOST",
                "HTTP_USER_AGENT",
                "HTTP_ACCEPT",
                "HTTP_X_FOO_BAR",
                "CONTENT_TYPE",
            ]
        );
        assert_eq!(get(&env, "CONTENT_LENGTH"), Some("0"));
        assert_eq!(get(&env, "SERVER_NAME"), Some("127.0.0.1"));
        assert_eq!(get(&env, "SERVER_PORT"), Some("18601"));
        assert_eq!(get(&env, "GATEWAY_INTERFACE"), Some("CGI/1.1"));
        assert_eq!(get(&env, "REQUEST_URI"), Some("/fcgi?env=REQUEST_URI"));
    }

    /// Reference dump for `/sn/x/y/z?dump-env` with key `/sn/`, `docroot`
    /// `/remote/root` and `strip-request-uri` `/sn/` (stored as `/sn`).
    #[test]
    fn docroot_strip_split_matches_reference_dump() {
        let hd = h(&[("Host", "127.0.0.1:18601")]);
        let (sn, pi) = split_prefix("/sn/", "/sn/x/y/z", false);
        let mut i = base(&hd);
        i.query = "dump-env";
        i.raw_target = "/sn/x/y/z?dump-env";
        i.script_name = sn;
        i.path_info = pi;
        i.docroot = Some("/remote/root");
        i.strip_request_uri = Some("/sn");
        let env = build(&i);
        let want = [
            ("REQUEST_URI", "/x/y/z?dump-env"),
            ("SCRIPT_NAME", "/sn/x"),
            ("PATH_INFO", "/y/z"),
            ("PATH_TRANSLATED", "/remote/root/y/z"),
            ("SCRIPT_FILENAME", "/remote/root/sn/x"),
            ("DOCUMENT_ROOT", "/remote/root"),
        ];
        for (k, v) in want {
            assert_eq!(get(&env, k), Some(v), "{k}");
        }
    }

    #[test]
    fn full_order_with_every_optional_variable() {
        let hd = h(&[("Host", "example.org")]);
        let extra = h(&[("REMOTE_USER", "bob"), ("AUTH_TYPE", "Basic")]);
        let mut i = base(&hd);
        i.redirect_uri = Some("/fcgi/x?y");
        i.path_info = Some("/x");
        i.scheme = "https";
        i.extra = &extra;
        let env = build(&i);
        assert_eq!(
            names(&env),
            [
                "CONTENT_LENGTH",
                "QUERY_STRING",
                "REQUEST_URI",
                "REDIRECT_URI",
                "REDIRECT_STATUS",
                "SCRIPT_NAME",
                "PATH_INFO",
                "PATH_TRANSLATED",
                "SCRIPT_FILENAME",
                "DOCUMENT_ROOT",
                "REQUEST_METHOD",
                "SERVER_PROTOCOL",
                "SERVER_SOFTWARE",
                "GATEWAY_INTERFACE",
                "REQUEST_SCHEME",
                "HTTPS",
                "SERVER_PORT",
                "SERVER_ADDR",
                "SERVER_NAME",
                "REMOTE_ADDR",
                "REMOTE_PORT",
                "HTTP_HOST",
                "REMOTE_USER",
                "AUTH_TYPE",
            ]
        );
        assert_eq!(get(&env, "HTTPS"), Some("on"));
        assert_eq!(get(&env, "PATH_TRANSLATED"), Some("/srv/www/x"));
    }

    #[test]
    fn authorizer_omits_body_and_script_variables() {
        let hd = h(&[]);
        let mut i = base(&hd);
        i.authorizer = true;
        i.content_length = 5;
        i.path_info = Some("/x");
        let env = build(&i);
        for k in [
            "CONTENT_LENGTH",
            "SCRIPT_NAME",
            "PATH_INFO",
            "PATH_TRANSLATED",
        ] {
            assert_eq!(get(&env, k), None, "{k}");
        }
        assert_eq!(names(&env)[0], "QUERY_STRING");
        assert_eq!(get(&env, "SCRIPT_FILENAME"), Some("/srv/www/fcgi"));
    }

    #[test]
    fn query_string_always_present() {
        let hd = h(&[]);
        let mut i = base(&hd);
        i.query = "";
        i.raw_target = "/fcgi";
        assert_eq!(get(&build(&i), "QUERY_STRING"), Some(""));
    }

    #[test]
    fn redirect_uri_only_when_target_changed() {
        let hd = h(&[]);
        let mut i = base(&hd);
        i.redirect_uri = Some(i.raw_target);
        assert_eq!(get(&build(&i), "REDIRECT_URI"), None);
        i.redirect_uri = Some("/index.php?x");
        assert_eq!(get(&build(&i), "REDIRECT_URI"), Some("/index.php?x"));
    }

    #[test]
    fn error_handler_leaves_redirect_status_to_extra() {
        let hd = h(&[]);
        let extra = h(&[("REDIRECT_STATUS", "404")]);
        let mut i = base(&hd);
        i.error_handler = true;
        i.extra = &extra;
        let env = build(&i);
        let all: Vec<_> = env.iter().filter(|(k, _)| k == "REDIRECT_STATUS").collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, "404");
    }

    #[test]
    fn strip_request_uri_needs_following_slash() {
        assert_eq!(strip_uri("/app1/index/list", Some("/app1")), "/index/list");
        assert_eq!(strip_uri("/app1", Some("/app1")), "/app1");
        assert_eq!(strip_uri("/app1x/y", Some("/app1")), "/app1x/y");
        assert_eq!(strip_uri("/other/y", Some("/app1")), "/other/y");
        assert_eq!(strip_uri("/app1/y", None), "/app1/y");
        let hd = h(&[]);
        let mut i = base(&hd);
        i.raw_target = "/app1/index/list?q";
        i.strip_request_uri = Some("/app1");
        assert_eq!(get(&build(&i), "REQUEST_URI"), Some("/index/list?q"));
    }

    #[test]
    fn path_info_and_translated() {
        let hd = h(&[]);
        let mut i = base(&hd);
        i.path_info = Some("");
        let env = build(&i);
        assert_eq!(get(&env, "PATH_INFO"), None);
        assert_eq!(get(&env, "PATH_TRANSLATED"), None);
        i.path_info = Some("/a/b");
        i.document_root = "/srv/www/";
        assert_eq!(get(&build(&i), "PATH_TRANSLATED"), Some("/srv/www/a/b"));
        i.docroot = Some("/remote/root");
        let env = build(&i);
        assert_eq!(get(&env, "PATH_TRANSLATED"), Some("/remote/root/a/b"));
        assert_eq!(get(&env, "SCRIPT_FILENAME"), Some("/remote/root/fcgi"));
        assert_eq!(get(&env, "DOCUMENT_ROOT"), Some("/remote/root"));
    }

    #[test]
    fn broken_scriptfilename_appends_path_info_unless_docroot() {
        let hd = h(&[]);
        let mut i = base(&hd);
        i.broken_scriptfilename = true;
        i.path_info = Some("/p");
        assert_eq!(get(&build(&i), "SCRIPT_FILENAME"), Some("/srv/www/fcgi/p"));
        i.docroot = Some("/d");
        assert_eq!(get(&build(&i), "SCRIPT_FILENAME"), Some("/d/fcgi"));
    }

    #[test]
    fn join_path_matches_lighttpd() {
        let join_path = |a, b| super::join_path(a, b).concat();
        assert_eq!(join_path("/a", "/b"), "/a/b");
        assert_eq!(join_path("/a/", "/b"), "/a/b");
        assert_eq!(join_path("/a", "b"), "/a/b");
        assert_eq!(join_path("/a/", "b"), "/a/b");
        assert_eq!(join_path("/a", ""), "/a/");
        assert_eq!(join_path("", "/b"), "/b");
    }

    #[test]
    fn fix_root_docroot_script_filename() {
        // SCRIPT_NAME empty with docroot set: lighttpd's join adds a '/'.
        let hd = h(&[]);
        let mut i = base(&hd);
        i.script_name = "";
        i.docroot = Some("/d");
        assert_eq!(get(&build(&i), "SCRIPT_FILENAME"), Some("/d/"));
    }

    #[test]
    fn server_name_port_stripped_empty_kept() {
        assert_eq!(host_without_port("example.org:8080"), "example.org");
        assert_eq!(host_without_port("example.org"), "example.org");
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
        let hd = h(&[]);
        let mut i = base(&hd);
        i.server_name = "";
        i.server_addr = "10.0.0.1";
        assert_eq!(get(&build(&i), "SERVER_NAME"), Some(""));
    }

    #[test]
    fn header_names_mangled() {
        let hd = h(&[
            ("x-lower.dot", "1"),
            ("Accept-Encoding", "gzip"),
            ("X-Num9", "2"),
            ("X-Caf\u{e9}", "3"),
        ]);
        let env = build(&base(&hd));
        assert_eq!(get(&env, "HTTP_X_LOWER_DOT"), Some("1"));
        assert_eq!(get(&env, "HTTP_ACCEPT_ENCODING"), Some("gzip"));
        assert_eq!(get(&env, "HTTP_X_NUM9"), Some("2"));
        assert_eq!(get(&env, "HTTP_X_CAF__"), Some("3"));
    }

    #[test]
    fn proxy_skipped_content_type_renamed_blank_skipped() {
        let hd = h(&[
            ("proxy", "http://evil"),
            ("Proxy-Authorization", "x"),
            ("content-type", "a/b"),
            ("X-Empty", ""),
        ]);
        let env = build(&base(&hd));
        assert_eq!(get(&env, "HTTP_PROXY"), None);
        assert_eq!(get(&env, "HTTP_PROXY_AUTHORIZATION"), Some("x"));
        assert_eq!(get(&env, "CONTENT_TYPE"), Some("a/b"));
        assert_eq!(get(&env, "HTTP_CONTENT_TYPE"), None);
        assert_eq!(get(&env, "HTTP_X_EMPTY"), None);
    }

    #[test]
    fn colliding_header_names_both_sent() {
        // 1.4.69 behaviour; 1.4.83 answers 400 instead (fastcgi.md §8.6).
        let hd = h(&[("X-A", "1"), ("X_A", "2")]);
        let env = build(&base(&hd));
        let v: Vec<_> = env
            .iter()
            .filter(|(k, _)| k == "HTTP_X_A")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(v, ["1", "2"]);
    }

    #[test]
    fn extra_env_mangled_without_prefix_empty_kept() {
        let hd = h(&[]);
        let extra = h(&[
            ("X-LIGHTTPD-FCGI-AUTH", "LighttpdTestContent"),
            ("empty", ""),
        ]);
        let mut i = base(&hd);
        i.extra = &extra;
        let env = build(&i);
        let n = env.len();
        assert_eq!(
            env[n - 2],
            ("X_LIGHTTPD_FCGI_AUTH".into(), "LighttpdTestContent".into())
        );
        assert_eq!(env[n - 1], ("EMPTY".into(), "".into()));
    }

    #[test]
    fn content_length_value() {
        let hd = h(&[]);
        let mut i = base(&hd);
        i.content_length = 12345;
        assert_eq!(build(&i)[0], ("CONTENT_LENGTH".into(), "12345".into()));
    }

    #[test]
    fn split_prefix_examples() {
        // fastcgi.md §2 ✔ examples.
        assert_eq!(
            split_prefix("/app", "/app/foo/bar", false),
            ("/app", Some("/foo/bar"))
        );
        assert_eq!(
            split_prefix("/cgi/", "/cgi/foo/bar", false),
            ("/cgi/foo", Some("/bar"))
        );
        assert_eq!(split_prefix("/", "/abc/def", false), ("/abc", Some("/def")));
        assert_eq!(split_prefix("/", "/abc/def", true), ("", Some("/abc/def")));
    }

    #[test]
    fn split_prefix_edges() {
        assert_eq!(split_prefix("/app", "/app", false), ("/app", None));
        assert_eq!(split_prefix("/app", "/app/", false), ("/app", Some("/")));
        assert_eq!(
            split_prefix("/app", "/appX/y", false),
            ("/appX", Some("/y"))
        );
        assert_eq!(split_prefix("/cgi/", "/cgi/foo", false), ("/cgi/foo", None));
        assert_eq!(split_prefix("/", "/abc", false), ("/abc", None));
        // fix-root-scriptname only applies to the key "/".
        assert_eq!(split_prefix("/app", "/app/x", true), ("/app", Some("/x")));
        // Key length inside a multi-byte char: no panic, byte search as lighttpd.
        assert_eq!(
            split_prefix("/a", "/\u{e9}/x", false),
            ("/\u{e9}", Some("/x"))
        );
    }
}
