//! Unit tests of keys.rs.

use super::*;

fn all_tables() -> impl Iterator<Item = (&'static str, &'static [KeyDef])> {
    std::iter::once(("core", CORE_KEYS))
        .chain(MODULES.iter().map(|m| (m.name, m.keys)))
        .chain(std::iter::once(("gw host", GW_HOST_KEYS)))
}

#[test]
fn names_unique_within_each_table() {
    for (owner, keys) in all_tables() {
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert!(
                    !a.name.eq_ignore_ascii_case(b.name),
                    "{owner}: {} twice",
                    a.name
                );
            }
        }
    }
}

#[test]
fn names_lowercase_except_hap_proxy() {
    for (owner, keys) in all_tables() {
        for kd in keys {
            let lower = kd.name.to_ascii_lowercase();
            if kd.name != lower {
                assert!(
                    kd.name.starts_with("extforward.hap-PROXY"),
                    "{owner}: {}",
                    kd.name
                );
            }
            assert!(!kd.name.is_empty() && !kd.name.contains(char::is_whitespace));
        }
    }
}

#[test]
fn module_names_sorted_unique_and_not_aliases_or_removed() {
    for w in MODULES.windows(2) {
        assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
    }
    assert_eq!(MODULES.len(), 45);
    for (alias, target) in MODULE_ALIASES {
        assert!(module(alias).is_none());
        assert!(module(target).is_some());
    }
    for r in REMOVED_MODULES {
        assert!(module(r.name).is_none(), "{}", r.name);
        assert!(module(r.replacement).is_some(), "{}", r.replacement);
    }
}

/// (owner, name, type, scope) of a key, the owner "core" or a module name.
fn describe(name: &str) -> Option<(&'static str, &'static str, KeyType, Scope)> {
    find_key(name).map(|(m, kd)| (m.map_or("core", |m| m.name), kd.name, kd.ty, kd.scope))
}

fn owner(name: &str) -> &'static str {
    describe(name).map_or("none", |d| d.0)
}

#[test]
fn lookups_ignore_ascii_case() {
    assert_eq!(core_key("Server.Port").map(|k| k.name), Some("server.port"));
    assert_eq!(core_key("SERVER.DOCUMENT-ROOT").map(|k| k.ty), Some(Str));
    let d = describe("FastCGI.Server").unwrap();
    assert_eq!((d.0, d.1), ("mod_fastcgi", "fastcgi.server"));
    assert_eq!(
        describe("extforward.hap-proxy").unwrap().1,
        "extforward.hap-PROXY"
    );
    assert!(module("MOD_FASTCGI").is_none(), "module names are exact");
}

#[test]
fn known_facts() {
    assert_eq!(
        describe("server.port"),
        Some(("core", "server.port", Short, Server))
    );
    assert_eq!(describe("server.bind").unwrap().3, Server);
    assert_eq!(describe("server.use-ipv6").unwrap().3, Socket);
    assert_eq!(describe("server.document-root").unwrap().3, Connection);
    assert_eq!(describe("mimetype.assign").unwrap().2, KvList);
    assert_eq!(describe("server.feature-flags").unwrap().2, KvAny);
    let fcgi = describe("fastcgi.server");
    assert_eq!(
        fcgi,
        Some(("mod_fastcgi", "fastcgi.server", KvArray, Connection))
    );
    assert_eq!(owner("index-file.names"), "mod_indexfile");
    assert_eq!(owner("server.indexfiles"), "mod_indexfile");
    assert_eq!(owner("server.dir-listing"), "mod_dirlisting");
    assert_eq!(owner("static-file.etags"), "mod_staticfile");
    assert_eq!(owner("compress.filetype"), "mod_deflate");
    assert_eq!(owner("url.rewrite"), "mod_rewrite");
    assert_eq!(owner("ssl.pemfile"), "mod_openssl");
    assert_eq!(owner("ssl.engine"), "core", "the core reads ssl.engine too");
    assert_eq!(owner("no-such.key"), "none");
    assert_eq!(owner("skeleton.array"), "none");
    assert_eq!(describe("rrdtool.binary").unwrap().3, Server);
    assert_eq!(describe("ssl.stek-file").unwrap().3, Server);
    assert_eq!(describe("ssl.cipher-list").unwrap().3, Socket);
}

#[test]
fn tls_modules_share_keys_but_mbedtls_lacks_stapling() {
    let tls = [
        "mod_gnutls",
        "mod_mbedtls",
        "mod_nss",
        "mod_openssl",
        "mod_wolfssl",
    ];
    assert_eq!(
        modules_reading("ssl.pemfile")
            .map(|m| m.name)
            .collect::<Vec<_>>(),
        tls
    );
    assert!(
        module("mod_mbedtls")
            .unwrap()
            .key("ssl.stapling-file")
            .is_none()
    );
    assert_eq!(modules_reading("ssl.stapling-file").count(), 4);
    assert_eq!(module("mod_mbedtls").unwrap().keys.len(), TLS.len() - 1);
}

#[test]
fn removed_keys_are_unknown() {
    for name in REMOVED_KEYS {
        assert!(find_key(name).is_none(), "{name}");
        assert!(!is_known_key(name, &["mod_openssl"]), "{name}");
    }
    for name in [
        "server.errorlog-placeholder-moved-to-config-insert",
        "ssl.engine",
    ] {
        assert!(is_known_key(name, &[]), "{name}");
    }
}

#[test]
fn exemptions() {
    assert!(exempt_from_unknown_warning("var.foo"));
    assert!(exempt_from_unknown_warning("var.PID"));
    assert!(exempt_from_unknown_warning("dir-listing.hide-dotfiles"));
    assert!(exempt_from_unknown_warning("dir-listing.made-up"));
    assert!(!exempt_from_unknown_warning("dir-listing.activate"));
    assert!(!exempt_from_unknown_warning("VAR.foo"));
    assert!(!exempt_from_unknown_warning("Dir-Listing.exclude"));
    assert!(!exempt_from_unknown_warning("env.HOME"));
    assert!(!exempt_from_unknown_warning("server.port"));
}

#[test]
fn known_depends_on_loaded_modules() {
    assert!(is_known_key("server.port", &[]));
    assert!(!is_known_key("url.rewrite-once", &[]));
    assert!(is_known_key("url.rewrite-once", &["mod_rewrite"]));
    assert!(is_known_key("URL.Rewrite-Once", &["mod_rewrite"]));
    assert!(!is_known_key("dir-listing.activate", &["mod_staticfile"]));
    assert!(is_known_key("dir-listing.activate", &["mod_dirlisting"]));
    assert!(is_known_key("dir-listing.exclude", &[]));
    assert!(!is_known_key("ssl.stapling-file", &["mod_mbedtls"]));
    assert!(is_known_key("ssl.stapling-file", &["mod_nss"]));
    assert!(
        !is_known_key("compress.filetype", &["mod_compress"]),
        "alias resolved by caller"
    );
    assert!(!is_known_key(
        "server.made-up",
        &["mod_openssl", "mod_fastcgi"]
    ));
}

#[test]
fn debian_packaging() {
    let built_in: Vec<_> = MODULES
        .iter()
        .filter(|m| m.debian_builtin)
        .map(|m| m.name)
        .collect();
    assert_eq!(
        built_in,
        [
            "mod_access",
            "mod_alias",
            "mod_evhost",
            "mod_expire",
            "mod_fastcgi",
            "mod_indexfile",
            "mod_redirect",
            "mod_rewrite",
            "mod_scgi",
            "mod_setenv",
            "mod_simple_vhost",
            "mod_staticfile",
        ]
    );
    assert!(MODULES.iter().all(|m| m.debian_packaged));
    assert!(
        MODULES
            .iter()
            .filter(|m| m.debian_builtin)
            .all(|m| m.debian_package == "lighttpd")
    );
}

#[test]
fn side_tables() {
    assert_eq!(
        GW_HOST_KEYS.iter().find(|k| k.name == "port").unwrap().ty,
        Short
    );
    assert!(
        FEATURE_FLAGS
            .iter()
            .any(|&(n, t)| n == "server.h2proto" && t == Bool)
    );
    assert!(HTTP_PARSEOPTS.contains(&"url-path-2f-decode"));
    assert!(!Str.is_list() && KvArray.is_list() && Array.is_list());
    let total: usize = CORE_KEYS.len() + MODULES.iter().map(|m| m.keys.len()).sum::<usize>();
    assert_eq!((CORE_KEYS.len(), total), (74, 348));
}
