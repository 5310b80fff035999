//! The typed table of every configuration key that lighttpd 1.4.69 reads:
//! the core's keys (server, connection, network setup) and each module's,
//! with the value type the reader checks and the scope it allows. `-tt` uses
//! it to tell a known key from an unknown one ("WARNING: unknown config-key"),
//! the evaluator to type-check values, and the per-module configs to find
//! their keys. Facts were taken from the 1.4.69 release (Debian's source
//! package lighttpd_1.4.69-1: the key tables each reader passes to the
//! config-value initialiser in configfile.c, network.c and src/mod_*.c; the
//! Debian packaging's file lists for which module ships where), and checked
//! against the reference binary: with its module loaded (and no other),
//! `lighttpd -tt` is silent about every key listed here, warns about keys
//! listed nowhere (REMOVED_KEYS, mbedTLS's missing ssl.stapling-file), and
//! rejects a wrongly shaped value with the message of the type given here.
//! Key lookups are ASCII case-insensitive, as lighttpd's config arrays are.

/// What a reader checks a value against before it accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// A string (T_CONFIG_STRING).
    Str,
    /// An unsigned 32-bit integer; a string of decimal digits is accepted too
    /// (T_CONFIG_INT).
    Int,
    /// A 16-bit integer; digit strings accepted as for `Int` (T_CONFIG_SHORT).
    Short,
    /// enable/disable, true/false, 1/0 ... (T_CONFIG_BOOL).
    Bool,
    /// A list of strings without keys (T_CONFIG_ARRAY_VLIST).
    StrList,
    /// A list of `"key" => "string"` (T_CONFIG_ARRAY_KVSTRING).
    KvList,
    /// A list in which every element has a key, values of any type
    /// (T_CONFIG_ARRAY_KVANY).
    KvAny,
    /// A list of `"key" => ( ... )` sub-lists (T_CONFIG_ARRAY_KVARRAY),
    /// e.g. fastcgi.server.
    KvArray,
    /// Any list; the module checks the contents itself (T_CONFIG_ARRAY).
    Array,
    /// Read without a type check (T_CONFIG_LOCAL). No 1.4.69 key uses it.
    Any,
    /// Recognised only to be rejected as deprecated (T_CONFIG_DEPRECATED).
    /// No 1.4.69 key uses it.
    Deprecated,
    /// Recognised only to be rejected as unsupported (T_CONFIG_UNSUPPORTED).
    /// No 1.4.69 key uses it.
    Unsupported,
}

impl KeyType {
    /// True for the list types: a scalar value is a type error for these.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            KeyType::StrList | KeyType::KvList | KeyType::KvAny | KeyType::KvArray | KeyType::Array
        )
    }
}

/// Where a key may be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Global only; inside a conditional lighttpd logs "DEPRECATED: do not set
    /// server options in conditionals" and ignores it.
    Server,
    /// Global or `$SERVER["socket"] == "..."`; elsewhere lighttpd warns that it
    /// "must be in global scope or $SERVER[\"socket\"]" and ignores it.
    Socket,
    /// Anywhere, applied per request.
    Connection,
}

#[derive(Debug)]
pub struct KeyDef {
    /// Spelled as lighttpd spells it (two mod_extforward keys have capitals).
    pub name: &'static str,
    pub ty: KeyType,
    pub scope: Scope,
}

#[derive(Debug)]
pub struct ModuleDef {
    /// As written in server.modules, e.g. "mod_fastcgi".
    pub name: &'static str,
    /// Every top-level key the module reads once loaded.
    pub keys: &'static [KeyDef],
    /// Linked into Debian's /usr/sbin/lighttpd (no .so is loaded).
    pub debian_builtin: bool,
    /// Shipped by Debian bookworm's lighttpd packages (built in, or a .so in
    /// `debian_package`).
    pub debian_packaged: bool,
    /// The Debian binary package that ships the module ("lighttpd" for the
    /// built-in ones and the .so files of the main package).
    pub debian_package: &'static str,
}

impl ModuleDef {
    /// The module's key of that name, ASCII case-insensitively.
    pub fn key(&self, name: &str) -> Option<&'static KeyDef> {
        self.keys.iter().find(|k| k.name.eq_ignore_ascii_case(name))
    }
}

/// A module name lighttpd 1.4.69 replaces by another when loading
/// server.modules: mod_compress was folded into mod_deflate in 1.4.56
/// (mod_deflate still reads the compress.* keys). The replacement itself is
/// done by the module loader, not here.
pub static MODULE_ALIASES: &[(&str, &str)] = &[("mod_compress", "mod_deflate")];

/// A module that older 1.4 releases had and 1.4.69 does not: listing it in
/// server.modules makes 1.4.69 fail to load it ("dlopen() failed").
#[derive(Debug)]
pub struct RemovedModule {
    pub name: &'static str,
    /// Release that dropped it (from upstream's release notes; only the
    /// absence from 1.4.69 was checked against the source).
    pub removed_in: &'static str,
    /// The module upstream points to instead.
    pub replacement: &'static str,
}

const fn gone(
    name: &'static str,
    removed_in: &'static str,
    replacement: &'static str,
) -> RemovedModule {
    RemovedModule {
        name,
        removed_in,
        replacement,
    }
}

pub static REMOVED_MODULES: &[RemovedModule] = &[
    gone("mod_authn_mysql", "1.4.64", "mod_authn_dbi"),
    gone("mod_cml", "1.4.64", "mod_magnet"),
    gone("mod_evasive", "1.4.68", "mod_magnet"),
    gone("mod_flv_streaming", "1.4.64", "mod_magnet"),
    gone("mod_geoip", "1.4.64", "mod_maxminddb"),
    gone("mod_mysql_vhost", "1.4.64", "mod_vhostdb_mysql"),
    gone("mod_secdownload", "1.4.68", "mod_magnet"),
    gone("mod_trigger_b4_dl", "1.4.64", "mod_magnet"),
    gone("mod_uploadprogress", "1.4.68", "mod_magnet"),
    gone("mod_usertrack", "1.4.68", "mod_magnet"),
];

/// Keys that releases before 1.4.69 read and 1.4.69 no longer does, so they
/// now draw the unknown-key warning. Informational (for messages and tests);
/// none of them is in any table here.
pub static REMOVED_KEYS: &[&str] = &[
    "ssl.use-sslv2",
    "ssl.use-sslv3",
    "ssl.honor-cipher-order",
    "ssl.dh-file",
    "ssl.ec-curve",
    "ssl.empty-fragments",
    "ssl.use-compression",
];

use KeyType::*;
use Scope::{Connection, Server, Socket};

const fn k(name: &'static str, ty: KeyType, scope: Scope) -> KeyDef {
    KeyDef { name, ty, scope }
}

/// Keys the core reads itself (configfile.c's server-wide and per-request
/// tables and network.c's listener table), whatever modules are loaded.
pub static CORE_KEYS: &[KeyDef] = &[
    // global only
    k("server.modules", StrList, Server),
    k("server.compat-module-load", Bool, Server),
    k("server.systemd-socket-activation", Bool, Server),
    k("server.port", Short, Server),
    k("server.bind", Str, Server),
    k("server.network-backend", Str, Server),
    k("server.chroot", Str, Server),
    k("server.username", Str, Server),
    k("server.groupname", Str, Server),
    k("server.errorlog-use-syslog", Bool, Server),
    k("server.syslog-facility", Str, Server),
    k("server.core-files", Bool, Server),
    k("server.event-handler", Str, Server),
    k("server.pid-file", Str, Server),
    k("server.max-worker", Short, Server),
    k("server.max-fds", Int, Server),
    k("server.max-connections", Short, Server),
    k("server.max-request-field-size", Int, Server),
    k("server.chunkqueue-chunk-sz", Int, Server),
    k("server.upload-temp-file-size", Int, Server),
    k("server.upload-dirs", StrList, Server),
    k("server.http-parseopts", KvList, Server),
    k("server.http-parseopt-header-strict", Bool, Server),
    k("server.http-parseopt-host-strict", Bool, Server),
    k("server.http-parseopt-host-normalize", Bool, Server),
    // read and ignored by 1.4.69
    k("server.reject-expect-100-with-417", Bool, Server),
    k("server.stat-cache-engine", Str, Server),
    k("mimetype.xattr-name", Str, Server),
    k("debug.log-request-header-on-error", Bool, Server),
    k("server.feature-flags", KvAny, Server),
    // 1.4.69's server-wide table still holds these two internal slot names, so
    // it "reads" them and they never draw the unknown-key warning.
    k(
        "server.errorlog-placeholder-moved-to-config-insert",
        Str,
        Server,
    ),
    k(
        "server.breakagelog-placeholder-moved-to-config-insert",
        Str,
        Server,
    ),
    // global or $SERVER["socket"] (network.c; ssl.engine also configfile.c)
    k("ssl.engine", Bool, Socket),
    k("server.listen-backlog", Int, Socket),
    k("server.socket-perms", Str, Socket),
    k("server.bsd-accept-filter", Str, Socket),
    k("server.defer-accept", Bool, Socket),
    k("server.use-ipv6", Bool, Socket),
    k("server.set-v6only", Bool, Socket),
    k("server.v4mapped", Bool, Socket),
    // per request
    k("server.document-root", Str, Connection),
    k("server.name", Str, Connection),
    k("server.tag", Str, Connection),
    k("server.max-request-size", Int, Connection),
    k("server.max-keep-alive-requests", Short, Connection),
    k("server.max-keep-alive-idle", Short, Connection),
    k("server.max-read-idle", Short, Connection),
    k("server.max-write-idle", Short, Connection),
    k("server.errorfile-prefix", Str, Connection),
    k("server.error-handler", Str, Connection),
    k("server.error-handler-404", Str, Connection),
    k("server.error-intercept", Bool, Connection),
    k("server.force-lowercase-filenames", Bool, Connection),
    k("server.follow-symlink", Bool, Connection),
    k("server.protocol-http11", Bool, Connection),
    k("server.range-requests", Bool, Connection),
    k("server.stream-request-body", Short, Connection),
    k("server.stream-response-body", Short, Connection),
    k("server.kbytes-per-second", Short, Connection),
    k("connection.kbytes-per-second", Short, Connection),
    k("mimetype.assign", KvList, Connection),
    k("mimetype.use-xattr", Bool, Connection),
    k("etag.use-inode", Bool, Connection),
    k("etag.use-mtime", Bool, Connection),
    k("etag.use-size", Bool, Connection),
    k("debug.log-condition-handling", Bool, Connection),
    k("debug.log-file-not-found", Bool, Connection),
    k("debug.log-request-handling", Bool, Connection),
    k("debug.log-request-header", Bool, Connection),
    k("debug.log-response-header", Bool, Connection),
    k("debug.log-timeouts", Bool, Connection),
    k("debug.log-state-handling", Bool, Connection),
    k("server.errorlog", Str, Connection),
    k("server.breakagelog", Str, Connection),
];

static ACCESS: &[KeyDef] = &[
    k("url.access-deny", StrList, Connection),
    k("url.access-allow", StrList, Connection),
];

static ACCESSLOG: &[KeyDef] = &[
    k("accesslog.filename", Str, Connection),
    k("accesslog.format", Str, Connection),
    k("accesslog.use-syslog", Bool, Connection),
    k("accesslog.syslog-level", Short, Connection),
    k("accesslog.escaping", Str, Connection),
];

static AJP13: &[KeyDef] = &[
    k("ajp13.server", KvArray, Connection),
    k("ajp13.balance", Str, Connection),
    k("ajp13.debug", Int, Connection),
    k("ajp13.map-extensions", KvList, Connection),
];

static ALIAS: &[KeyDef] = &[k("alias.url", KvList, Connection)];

static AUTH: &[KeyDef] = &[
    k("auth.backend", Str, Connection),
    k("auth.require", KvArray, Connection),
    k("auth.extern-authn", Bool, Connection),
    k("auth.cache", Array, Connection),
];

static AUTHN_DBI: &[KeyDef] = &[k("auth.backend.dbi", KvAny, Connection)];

static AUTHN_FILE: &[KeyDef] = &[
    k("auth.backend.plain.groupfile", Str, Connection),
    k("auth.backend.plain.userfile", Str, Connection),
    k("auth.backend.htdigest.userfile", Str, Connection),
    k("auth.backend.htpasswd.userfile", Str, Connection),
];

static AUTHN_GSSAPI: &[KeyDef] = &[
    k("auth.backend.gssapi.keytab", Str, Connection),
    k("auth.backend.gssapi.principal", Str, Connection),
    k("auth.backend.gssapi.store-creds", Bool, Connection),
];

static AUTHN_LDAP: &[KeyDef] = &[
    k("auth.backend.ldap.hostname", Str, Connection),
    k("auth.backend.ldap.base-dn", Str, Connection),
    k("auth.backend.ldap.filter", Str, Connection),
    k("auth.backend.ldap.ca-file", Str, Connection),
    k("auth.backend.ldap.starttls", Bool, Connection),
    k("auth.backend.ldap.bind-dn", Str, Connection),
    k("auth.backend.ldap.bind-pw", Str, Connection),
    k("auth.backend.ldap.allow-empty-pw", Bool, Connection),
    k("auth.backend.ldap.groupmember", Str, Connection),
    // a string of seconds[.micro], not an integer
    k("auth.backend.ldap.timeout", Str, Connection),
];

static AUTHN_PAM: &[KeyDef] = &[k("auth.backend.pam.opts", KvList, Connection)];

static AUTHN_SASL: &[KeyDef] = &[k("auth.backend.sasl.opts", KvList, Connection)];

static CGI: &[KeyDef] = &[
    k("cgi.assign", KvList, Connection),
    k("cgi.execute-x-only", Bool, Connection),
    k("cgi.x-sendfile", Bool, Connection),
    k("cgi.x-sendfile-docroot", StrList, Connection),
    k("cgi.local-redir", Bool, Connection),
    k("cgi.upgrade", Bool, Connection),
    k("cgi.limits", KvAny, Connection),
];

static DEFLATE: &[KeyDef] = &[
    k("deflate.mimetypes", StrList, Connection),
    k("deflate.allowed-encodings", StrList, Connection),
    k("deflate.max-compress-size", Int, Connection),
    k("deflate.min-compress-size", Short, Connection),
    k("deflate.compression-level", Short, Connection),
    k("deflate.output-buffer-size", Short, Connection),
    k("deflate.work-block-size", Short, Connection),
    k("deflate.max-loadavg", Str, Connection),
    k("deflate.cache-dir", Str, Connection),
    k("deflate.params", KvAny, Connection),
    // mod_compress's names, still read; each logs "DEPRECATED: ... replaced
    // with" the deflate.* key named after it
    k("compress.filetype", StrList, Connection), // deflate.mimetypes
    k("compress.allowed-encodings", StrList, Connection), // deflate.allowed-encodings
    k("compress.cache-dir", Str, Connection),    // deflate.cache-dir
    k("compress.max-filesize", Int, Connection), // deflate.max-compress-size
    k("compress.max-loadavg", Str, Connection),  // deflate.max-loadavg
];

static DIRLISTING: &[KeyDef] = &[
    k("dir-listing.activate", Bool, Connection),
    // old name of dir-listing.activate
    k("server.dir-listing", Bool, Connection),
    k("dir-listing.exclude", StrList, Connection),
    k("dir-listing.hide-dotfiles", Bool, Connection),
    k("dir-listing.external-css", Str, Connection),
    k("dir-listing.external-js", Str, Connection),
    k("dir-listing.encoding", Str, Connection),
    k("dir-listing.show-readme", Str, Connection),
    k("dir-listing.hide-readme-file", Bool, Connection),
    k("dir-listing.show-header", Str, Connection),
    k("dir-listing.hide-header-file", Bool, Connection),
    k("dir-listing.set-footer", Str, Connection),
    k("dir-listing.encode-readme", Bool, Connection),
    k("dir-listing.encode-header", Bool, Connection),
    k("dir-listing.auto-layout", Bool, Connection),
    k("dir-listing.cache", KvAny, Connection),
];

static EVHOST: &[KeyDef] = &[k("evhost.path-pattern", Str, Connection)];

static EXPIRE: &[KeyDef] = &[
    k("expire.url", KvList, Connection),
    k("expire.mimetypes", KvList, Connection),
];

static EXTFORWARD: &[KeyDef] = &[
    k("extforward.forwarder", KvList, Connection),
    k("extforward.headers", StrList, Connection),
    k("extforward.params", KvAny, Connection),
    k("extforward.hap-PROXY", Bool, Connection),
    k("extforward.hap-PROXY-ssl-client-verify", Bool, Connection),
];

static FASTCGI: &[KeyDef] = &[
    k("fastcgi.server", KvArray, Connection),
    k("fastcgi.balance", Str, Connection),
    k("fastcgi.debug", Int, Connection),
    k("fastcgi.map-extensions", KvList, Connection),
];

static INDEXFILE: &[KeyDef] = &[
    k("index-file.names", StrList, Connection),
    // old name of index-file.names
    k("server.indexfiles", StrList, Connection),
];

static MAGNET: &[KeyDef] = &[
    k("magnet.attract-raw-url-to", StrList, Connection),
    k("magnet.attract-physical-path-to", StrList, Connection),
    k("magnet.attract-response-start-to", StrList, Connection),
];

static MAXMINDDB: &[KeyDef] = &[
    k("maxminddb.activate", Bool, Connection),
    k("maxminddb.db", Str, Connection),
    k("maxminddb.env", KvList, Connection),
];

static PROXY: &[KeyDef] = &[
    k("proxy.server", KvArray, Connection),
    k("proxy.balance", Str, Connection),
    k("proxy.debug", Int, Connection),
    k("proxy.map-extensions", KvList, Connection),
    k("proxy.forwarded", KvAny, Connection),
    k("proxy.header", KvAny, Connection),
    k("proxy.replace-http-host", Bool, Connection),
];

static REDIRECT: &[KeyDef] = &[
    k("url.redirect", KvList, Connection),
    k("url.redirect-code", Short, Connection),
];

static REWRITE: &[KeyDef] = &[
    k("url.rewrite-once", KvList, Connection),
    // old names of url.rewrite-once
    k("url.rewrite-final", KvList, Connection),
    k("url.rewrite", KvList, Connection),
    k("url.rewrite-repeat", KvList, Connection),
    k("url.rewrite-if-not-file", KvList, Connection),
    k("url.rewrite-repeat-if-not-file", KvList, Connection),
];

static RRDTOOL: &[KeyDef] = &[
    k("rrdtool.db-name", Str, Connection),
    k("rrdtool.binary", Str, Server),
];

static SCGI: &[KeyDef] = &[
    k("scgi.server", KvArray, Connection),
    k("scgi.balance", Str, Connection),
    k("scgi.debug", Int, Connection),
    k("scgi.map-extensions", KvList, Connection),
    k("scgi.protocol", Str, Connection),
];

static SETENV: &[KeyDef] = &[
    k("setenv.add-request-header", KvList, Connection),
    k("setenv.add-response-header", KvList, Connection),
    k("setenv.add-environment", KvList, Connection),
    k("setenv.set-request-header", KvList, Connection),
    k("setenv.set-response-header", KvList, Connection),
    k("setenv.set-environment", KvList, Connection),
];

static SIMPLE_VHOST: &[KeyDef] = &[
    k("simple-vhost.server-root", Str, Connection),
    k("simple-vhost.default-host", Str, Connection),
    k("simple-vhost.document-root", Str, Connection),
    k("simple-vhost.debug", Short, Connection),
];

static SOCKPROXY: &[KeyDef] = &[
    k("sockproxy.server", KvArray, Connection),
    k("sockproxy.balance", Str, Connection),
    k("sockproxy.debug", Int, Connection),
];

static SSI: &[KeyDef] = &[
    k("ssi.extension", StrList, Connection),
    k("ssi.content-type", Str, Connection),
    k("ssi.conditional-requests", Bool, Connection),
    k("ssi.exec", Bool, Connection),
    k("ssi.recursion-max", Short, Connection),
];

static STATICFILE: &[KeyDef] = &[
    k("static-file.exclude-extensions", StrList, Connection),
    k("static-file.etags", Bool, Connection),
    k("static-file.disable-pathinfo", Bool, Connection),
];

static STATUS: &[KeyDef] = &[
    k("status.status-url", Str, Connection),
    k("status.config-url", Str, Connection),
    k("status.statistics-url", Str, Connection),
    k("status.enable-sort", Bool, Connection),
];

/// The keys of mod_openssl, mod_gnutls, mod_nss and mod_wolfssl (identical
/// tables). ssl.engine is read by the core as well.
static TLS: &[KeyDef] = &[
    k("ssl.engine", Bool, Socket),
    k("ssl.cipher-list", Str, Socket),
    k("ssl.openssl.ssl-conf-cmd", KvList, Socket),
    k("ssl.stek-file", Str, Server),
    k("ssl.pemfile", Str, Connection),
    k("ssl.privkey", Str, Connection),
    k("ssl.ca-file", Str, Connection),
    k("ssl.ca-dn-file", Str, Connection),
    k("ssl.ca-crl-file", Str, Connection),
    k("ssl.read-ahead", Bool, Connection),
    // read, but has no effect in 1.4.69 (renegotiation is always refused)
    k("ssl.disable-client-renegotiation", Bool, Connection),
    k("ssl.verifyclient.activate", Bool, Connection),
    k("ssl.verifyclient.enforce", Bool, Connection),
    k("ssl.verifyclient.depth", Short, Connection),
    k("ssl.verifyclient.username", Str, Connection),
    k("ssl.verifyclient.exportcert", Bool, Connection),
    k("ssl.verifyclient.ca-file", Str, Connection),
    k("ssl.verifyclient.ca-dn-file", Str, Connection),
    k("ssl.verifyclient.ca-crl-file", Str, Connection),
    k("ssl.acme-tls-1", Str, Connection),
    k("debug.log-ssl-noise", Bool, Connection),
    k("ssl.stapling-file", Str, Connection),
];

/// mod_mbedtls reads the same keys except ssl.stapling-file (no OCSP
/// stapling with mbedTLS), which therefore warns as unknown with it.
static MBEDTLS: &[KeyDef] = TLS.split_at(TLS.len() - 1).0;

static USERDIR: &[KeyDef] = &[
    k("userdir.path", Str, Connection),
    k("userdir.exclude-user", StrList, Connection),
    k("userdir.include-user", StrList, Connection),
    k("userdir.basepath", Str, Connection),
    k("userdir.letterhomes", Bool, Connection),
    k("userdir.active", Bool, Connection),
];

static VHOSTDB: &[KeyDef] = &[
    k("vhostdb.backend", Str, Connection),
    k("vhostdb.cache", Array, Connection),
];

static VHOSTDB_DBI: &[KeyDef] = &[k("vhostdb.dbi", KvAny, Connection)];
static VHOSTDB_LDAP: &[KeyDef] = &[k("vhostdb.ldap", KvList, Connection)];
static VHOSTDB_MYSQL: &[KeyDef] = &[k("vhostdb.mysql", KvList, Connection)];
static VHOSTDB_PGSQL: &[KeyDef] = &[k("vhostdb.pgsql", KvList, Connection)];

static WEBDAV: &[KeyDef] = &[
    k("webdav.sqlite-db-name", Str, Connection),
    k("webdav.activate", Bool, Connection),
    k("webdav.is-readonly", Bool, Connection),
    k("webdav.log-xml", Bool, Connection),
    k("webdav.opts", KvAny, Connection),
];

static WSTUNNEL: &[KeyDef] = &[
    k("wstunnel.server", KvArray, Connection),
    k("wstunnel.balance", Str, Connection),
    k("wstunnel.debug", Int, Connection),
    k("wstunnel.map-extensions", KvList, Connection),
    k("wstunnel.frame-type", Str, Connection),
    k("wstunnel.origins", StrList, Connection),
    k("wstunnel.ping-interval", Short, Connection),
];

/// Built into Debian's lighttpd executable.
const fn builtin(name: &'static str, keys: &'static [KeyDef]) -> ModuleDef {
    ModuleDef {
        name,
        keys,
        debian_builtin: true,
        debian_packaged: true,
        debian_package: "lighttpd",
    }
}

/// A .so shipped by the named Debian package.
const fn so(
    name: &'static str,
    keys: &'static [KeyDef],
    debian_package: &'static str,
) -> ModuleDef {
    ModuleDef {
        name,
        keys,
        debian_builtin: false,
        debian_packaged: true,
        debian_package,
    }
}

/// Every module of lighttpd 1.4.69, by name. (mod_skeleton, the source
/// template for new modules, is never built and is left out.)
pub static MODULES: &[ModuleDef] = &[
    builtin("mod_access", ACCESS),
    so("mod_accesslog", ACCESSLOG, "lighttpd"),
    so("mod_ajp13", AJP13, "lighttpd"),
    builtin("mod_alias", ALIAS),
    so("mod_auth", AUTH, "lighttpd"),
    so("mod_authn_dbi", AUTHN_DBI, "lighttpd-modules-dbi"),
    so("mod_authn_file", AUTHN_FILE, "lighttpd"),
    so(
        "mod_authn_gssapi",
        AUTHN_GSSAPI,
        "lighttpd-mod-authn-gssapi",
    ),
    so("mod_authn_ldap", AUTHN_LDAP, "lighttpd-modules-ldap"),
    so("mod_authn_pam", AUTHN_PAM, "lighttpd-mod-authn-pam"),
    so("mod_authn_sasl", AUTHN_SASL, "lighttpd-mod-authn-sasl"),
    so("mod_cgi", CGI, "lighttpd"),
    so("mod_deflate", DEFLATE, "lighttpd-mod-deflate"),
    so("mod_dirlisting", DIRLISTING, "lighttpd"),
    builtin("mod_evhost", EVHOST),
    builtin("mod_expire", EXPIRE),
    so("mod_extforward", EXTFORWARD, "lighttpd"),
    builtin("mod_fastcgi", FASTCGI),
    so("mod_gnutls", TLS, "lighttpd-mod-gnutls"),
    builtin("mod_indexfile", INDEXFILE),
    so("mod_magnet", MAGNET, "lighttpd-modules-lua"),
    so("mod_maxminddb", MAXMINDDB, "lighttpd-mod-maxminddb"),
    so("mod_mbedtls", MBEDTLS, "lighttpd-mod-mbedtls"),
    so("mod_nss", TLS, "lighttpd-mod-nss"),
    so("mod_openssl", TLS, "lighttpd-mod-openssl"),
    so("mod_proxy", PROXY, "lighttpd"),
    builtin("mod_redirect", REDIRECT),
    builtin("mod_rewrite", REWRITE),
    so("mod_rrdtool", RRDTOOL, "lighttpd"),
    builtin("mod_scgi", SCGI),
    builtin("mod_setenv", SETENV),
    builtin("mod_simple_vhost", SIMPLE_VHOST),
    so("mod_sockproxy", SOCKPROXY, "lighttpd"),
    so("mod_ssi", SSI, "lighttpd"),
    builtin("mod_staticfile", STATICFILE),
    so("mod_status", STATUS, "lighttpd"),
    so("mod_userdir", USERDIR, "lighttpd"),
    so("mod_vhostdb", VHOSTDB, "lighttpd"),
    so("mod_vhostdb_dbi", VHOSTDB_DBI, "lighttpd-modules-dbi"),
    so("mod_vhostdb_ldap", VHOSTDB_LDAP, "lighttpd-modules-ldap"),
    so("mod_vhostdb_mysql", VHOSTDB_MYSQL, "lighttpd-modules-mysql"),
    so(
        "mod_vhostdb_pgsql",
        VHOSTDB_PGSQL,
        "lighttpd-mod-vhostdb-pgsql",
    ),
    so("mod_webdav", WEBDAV, "lighttpd-mod-webdav"),
    so("mod_wolfssl", TLS, "lighttpd-mod-wolfssl"),
    so("mod_wstunnel", WSTUNNEL, "lighttpd"),
];

/// Keys of each backend inside `X.server = ( "ext" => ( "label" => ( ... )))`
/// for mod_fastcgi, mod_scgi, mod_proxy, mod_ajp13, mod_sockproxy and
/// mod_wstunnel (their shared gw_backend reader), typed like top-level keys.
/// Other keys in a backend block are ignored without a warning.
pub static GW_HOST_KEYS: &[KeyDef] = &[
    k("host", Str, Connection),
    k("port", Short, Connection),
    k("socket", Str, Connection),
    k("listen-backlog", Int, Connection),
    k("bin-path", Str, Connection),
    k("kill-signal", Short, Connection),
    k("check-local", Bool, Connection),
    k("mode", Str, Connection),
    k("docroot", Str, Connection),
    k("min-procs", Short, Connection),
    k("max-procs", Short, Connection),
    k("max-load-per-proc", Short, Connection),
    k("idle-timeout", Short, Connection),
    k("disable-time", Short, Connection),
    k("bin-environment", KvList, Connection),
    k("bin-copy-environment", StrList, Connection),
    k("broken-scriptfilename", Bool, Connection),
    k("strip-request-uri", Str, Connection),
    k("fix-root-scriptname", Bool, Connection),
    k("allow-x-send-file", Bool, Connection),
    k("x-sendfile", Bool, Connection),
    k("x-sendfile-docroot", StrList, Connection),
    k("tcp-fin-propagate", Bool, Connection),
    k("connect-timeout", Int, Connection),
    k("write-timeout", Int, Connection),
    k("read-timeout", Int, Connection),
    // Ours, not lighttpd's: keep up to N connections per proc open with
    // FCGI_KEEP_CONN (0, the default, is lighttpd's one per request).
    k("connection-reuse", Short, Connection),
    // Ours: with connection-reuse, a waiting GET or HEAD without a body is
    // written on a busy kept connection behind the request it carries.
    k("connection-pipelining", Bool, Connection),
];

/// Names 1.4.69 looks up inside server.feature-flags, with the kind of value
/// it reads (Bool or Int). Other names are ignored silently.
pub static FEATURE_FLAGS: &[(&str, KeyType)] = &[
    ("server.h2proto", Bool),
    ("server.h2c", Bool),
    ("server.absolute-dir-redirect", Bool),
    ("server.graceful-shutdown-timeout", Int),
    ("server.graceful-restart-bg", Bool),
    ("server.clock-jump-restart", Int),
    ("server.pcre_jit", Bool),
    ("server.metrics-high-precision", Bool),
    ("server.errorlog-high-precision", Bool),
    ("server.h1-discard-backend-1xx", Bool),
    ("server.h2-discard-backend-1xx", Bool),
    ("http10.range", Bool),
    ("chunkqueue.splice", Bool),
    ("auth.delay-invalid-creds", Bool),
    ("proxy.force-http10", Bool),
    ("cgi.tempfile-accum", Bool),
    ("ssl.session-cache", Bool),
];

/// Keys server.http-parseopts accepts (each an enable/disable value); any
/// other key there is a configuration error in 1.4.69.
pub static HTTP_PARSEOPTS: &[&str] = &[
    "url-normalize",
    "url-normalize-unreserved",
    "url-normalize-required",
    "url-ctrls-reject",
    "url-path-backslash-trans",
    "url-path-2f-decode",
    "url-path-2f-reject",
    "url-path-dotseg-remove",
    "url-path-dotseg-reject",
    "url-query-20-plus",
    "url-invalid-utf8-reject",
    "header-strict",
    "host-strict",
    "host-normalize",
    "method-get-body",
];

/// The 1.4.69 module of that name (exact, as server.modules compares).
/// Aliases and removed modules are not modules: see [`MODULE_ALIASES`] and
/// [`REMOVED_MODULES`].
pub fn module(name: &str) -> Option<&'static ModuleDef> {
    MODULES.iter().find(|m| m.name == name)
}

/// A key the core reads, ASCII case-insensitively.
pub fn core_key(name: &str) -> Option<&'static KeyDef> {
    CORE_KEYS.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

/// Who reads a key: the core (module `None`) if it does, else a module. A
/// key read by several modules (the ssl.* keys of the five TLS modules)
/// reports mod_openssl, the one lighttpd loads by itself for ssl.* keys;
/// [`modules_reading`] lists them all.
pub fn find_key(name: &str) -> Option<(Option<&'static ModuleDef>, &'static KeyDef)> {
    if let Some(kd) = core_key(name) {
        return Some((None, kd));
    }
    let preferred = module("mod_openssl").and_then(|m| m.key(name).map(|kd| (m, kd)));
    preferred
        .or_else(|| MODULES.iter().find_map(|m| m.key(name).map(|kd| (m, kd))))
        .map(|(m, kd)| (Some(m), kd))
}

/// Every module that reads the key, in [`MODULES`] order.
pub fn modules_reading(name: &str) -> impl Iterator<Item = &'static ModuleDef> + '_ {
    MODULES.iter().filter(move |m| m.key(name).is_some())
}

/// True when lighttpd's unknown-key pass never warns for this key whatever is
/// loaded: user variables (`var.*`) and the dir-listing.* keys other than
/// dir-listing.activate (mod_dirlisting is only loaded when listing is
/// enabled). lighttpd tests these prefixes case-sensitively, so `VAR.x` is
/// not exempt. env.* needs no rule: it cannot be assigned at all.
pub fn exempt_from_unknown_warning(name: &str) -> bool {
    name.starts_with("var.") || (name.starts_with("dir-listing.") && name != "dir-listing.activate")
}

/// The unknown-key test of `-tt` and start-up: true when the core or one of
/// `loaded_modules` (the final server.modules list, after compat loading and
/// alias replacement) reads the key, or when the key is exempt.
pub fn is_known_key(name: &str, loaded_modules: &[&str]) -> bool {
    exempt_from_unknown_warning(name)
        || core_key(name).is_some()
        || loaded_modules
            .iter()
            .any(|m| module(m).is_some_and(|md| md.key(name).is_some()))
}

#[cfg(test)]
mod tests;
