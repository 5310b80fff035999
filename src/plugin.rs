//! Modules: which ones a configuration loads, and in what order. The rules
//! are lighttpd's (config-language.md §4): `server.modules` de-duplicated,
//! then, unless `server.compat-module-load = "disable"`, mod_indexfile kept
//! (or prepended) only when index-file.names is set non-empty somewhere,
//! mod_dirlisting only when dir-listing is enabled somewhere, mod_staticfile
//! always appended, mod_openssl appended when `ssl.*` keys exist, mod_authn_*
//! added for auth.backend, mod_auth / mod_vhostdb prepended for their
//! backends; mod_compress becomes mod_deflate or is dropped. Every module is
//! built in, so "loading" one means its keys are known to `-tt`.

use crate::config::eval::ConfigTree;
use crate::config::keys;
use crate::config::value::Value;

/// The final module list and the warnings lighttpd prints while making it.
#[derive(Debug, Default, PartialEq)]
pub struct ModuleList {
    pub modules: Vec<String>,
    pub warnings: Vec<String>,
}

/// True when `opt` is set anywhere to a non-empty list or a true value.
fn opt_enabled(tree: &ConfigTree, opt: &str) -> bool {
    tree.blocks.iter().any(|b| match b.values.get(opt) {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(v) => value_truthy(v),
        None => false,
    })
}

fn value_truthy(v: &Value) -> bool {
    match v {
        Value::Int(n) => *n != 0,
        Value::Str(s) => ["enable", "enabled", "true", "1"]
            .iter()
            .any(|t| s.eq_ignore_ascii_case(t)),
        Value::Array(_) => false,
    }
}

fn opt_has_value(tree: &ConfigTree, opt: &str, want: &str) -> bool {
    tree.blocks
        .iter()
        .any(|b| matches!(b.values.get(opt), Some(Value::Str(s)) if s == want))
}

fn any_key_with_prefix(tree: &ConfigTree, prefix: &str) -> bool {
    tree.blocks.iter().any(|b| {
        b.values
            .entries
            .iter()
            .any(|e| e.key.as_deref().is_some_and(|k| k.starts_with(prefix)))
    })
}

/// Applies lighttpd's module-list rules to the listed modules.
pub fn resolve_modules(tree: &ConfigTree, listed: &[String], compat: bool) -> ModuleList {
    let mut out = ModuleList::default();
    let mut mods: Vec<String> = Vec::new();
    for m in listed {
        if !mods.contains(m) {
            mods.push(m.clone());
        }
    }
    if compat {
        compat_module_load(tree, &mut mods, &mut out.warnings);
    }
    deprecate_compress(tree, &mut mods, &mut out.warnings);
    out.modules = mods;
    out
}

fn compat_module_load(tree: &ConfigTree, mods: &mut Vec<String>, warnings: &mut Vec<String>) {
    let has = |mods: &Vec<String>, m: &str| mods.iter().any(|x| x == m);
    let tls = [
        "mod_gnutls",
        "mod_mbedtls",
        "mod_nss",
        "mod_openssl",
        "mod_wolfssl",
    ];
    let dynamic = [
        "mod_ajp13",
        "mod_cgi",
        "mod_fastcgi",
        "mod_proxy",
        "mod_scgi",
        "mod_sockproxy",
        "mod_wstunnel",
    ];
    let mut contains_auth = false;
    let mut prepend_auth = false;
    let mut vhostdb_listed = false;
    let mut prepend_vhostdb = false;
    let mut dyn_name: Option<String> = None;
    for m in mods.iter() {
        if m.starts_with("mod_auth") {
            if m == "mod_auth" {
                if !contains_auth {
                    contains_auth = true;
                    if let Some(d) = &dyn_name {
                        warnings.push(format!(
                            "Warning: mod_auth should be listed in server.modules before dynamic backends such as {d}"
                        ));
                    }
                }
            } else if !contains_auth {
                prepend_auth = true;
            }
        } else if m.starts_with("mod_vhostdb") {
            if m == "mod_vhostdb" {
                vhostdb_listed = true;
            } else if !vhostdb_listed {
                prepend_vhostdb = true;
            }
        } else if dynamic.iter().any(|d| m.starts_with(d)) && dyn_name.is_none() {
            dyn_name = Some(m.clone());
        }
    }
    let mut prepend_indexfile = !has(mods, "mod_indexfile");
    let mut append_dirlisting = !has(mods, "mod_dirlisting");
    if !opt_enabled(tree, "index-file.names") && !opt_enabled(tree, "server.indexfiles") {
        mods.retain(|m| m != "mod_indexfile");
        prepend_indexfile = false;
    }
    if !opt_enabled(tree, "dir-listing.activate") && !opt_enabled(tree, "server.dir-listing") {
        mods.retain(|m| m != "mod_dirlisting");
        append_dirlisting = false;
    }
    if prepend_indexfile {
        mods.insert(0, "mod_indexfile".into());
    }
    if append_dirlisting {
        mods.push("mod_dirlisting".into());
    }
    if !has(mods, "mod_staticfile") {
        mods.push("mod_staticfile".into());
    }
    if !tls.iter().any(|t| has(mods, t)) && any_key_with_prefix(tree, "ssl.") {
        mods.push("mod_openssl".into());
        warnings.push(
            "Warning: please add \"mod_openssl\" to server.modules list in lighttpd.conf.  A future release of \
             lighttpd 1.4.x *will not* automatically load mod_openssl and lighttpd *will not* use SSL/TLS where \
             your lighttpd.conf contains ssl.* directives"
                .into(),
        );
    }
    if contains_auth {
        if !has(mods, "mod_authn_file")
            && let Some(v) = ["htdigest", "htpasswd", "plain"]
                .into_iter()
                .find(|v| opt_has_value(tree, "auth.backend", v))
        {
            warn_authn(mods, warnings, "file", v);
        }
        if !has(mods, "mod_authn_ldap") && opt_has_value(tree, "auth.backend", "ldap") {
            warn_authn(mods, warnings, "ldap", "ldap");
        }
    }
    if prepend_auth {
        mods.insert(0, "mod_auth".into());
    }
    if prepend_vhostdb {
        mods.insert(0, "mod_vhostdb".into());
    }
}

fn warn_authn(mods: &mut Vec<String>, warnings: &mut Vec<String>, module: &str, backend: &str) {
    mods.push(format!("mod_authn_{module}"));
    warnings.push(format!(
        "Warning: please add \"mod_authn_{module}\" to server.modules list in lighttpd.conf.  A future release of \
         lighttpd 1.4.x will not automatically load mod_authn_{module} and lighttpd will fail to start up since \
         your lighttpd.conf uses auth.backend = \"{backend}\"."
    ));
}

/// mod_compress was replaced by mod_deflate: dropped when mod_deflate is
/// listed or no `compress.*` key exists, otherwise renamed (with a warning).
fn deprecate_compress(tree: &ConfigTree, mods: &mut Vec<String>, warnings: &mut Vec<String>) {
    let Some(ci) = mods.iter().position(|m| m == "mod_compress") else {
        return;
    };
    let has_directive = any_key_with_prefix(tree, "compress.");
    if has_directive {
        warnings.push(
            "Warning: \"mod_compress\" is DEPRECATED and has been replaced with \"mod_deflate\".  A future release \
             of lighttpd 1.4.x will not contain mod_compress and lighttpd may fail to start up"
                .into(),
        );
    }
    if mods.iter().any(|m| m == "mod_deflate") || !has_directive {
        mods.retain(|m| m != "mod_compress");
    } else {
        mods[ci] = "mod_deflate".into();
    }
}

/// Modules we know (all of lighttpd 1.4.69's). An unknown name is fatal.
pub fn is_known_module(name: &str) -> bool {
    keys::module(name).is_some()
}

/// The modules this build runs on requests; every other module of 1.4.69
/// is known (its keys are checked) but does nothing yet.
const IMPLEMENTED: &[&str] = &[
    "mod_access",
    "mod_alias",
    "mod_dirlisting",
    "mod_fastcgi",
    "mod_indexfile",
    "mod_staticfile",
];

/// Modules without which a configuration would serve what it protects or
/// hides: authentication, scripts run by CGI or a gateway (their source
/// would go out as static files), signed download links, TLS, the client
/// address taken from a trusted proxy (remoteip conditions). When one is
/// loaded and one of these keys is set anywhere, the server refuses to
/// start rather than serve openly.
const GUARDED: &[(&str, &[&str])] = &[
    ("mod_auth", &["auth.require"]),
    ("mod_cgi", &["cgi.assign"]),
    ("mod_proxy", &["proxy.server"]),
    ("mod_scgi", &["scgi.server"]),
    ("mod_sockproxy", &["sockproxy.server"]),
    ("mod_ajp13", &["ajp13.server"]),
    ("mod_wstunnel", &["wstunnel.server"]),
    (
        "mod_secdownload",
        &[
            "secdownload.secret",
            "secdownload.document-root",
            "secdownload.uri-prefix",
        ],
    ),
    ("mod_openssl", &["ssl.engine"]),
    ("mod_extforward", &["extforward.forwarder"]),
    (
        "mod_magnet",
        &[
            "magnet.attract-raw-url-to",
            "magnet.attract-physical-path-to",
            "magnet.attract-response-start-to",
        ],
    ),
];

/// A guarded key counts as in use when set anywhere to a non-empty list or
/// string; ssl.engine only when enabled.
fn opt_in_use(tree: &ConfigTree, key: &str) -> bool {
    if key == "ssl.engine" {
        return opt_enabled(tree, key);
    }
    tree.blocks.iter().any(|b| match b.values.get(key) {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Str(s)) => !s.is_empty(),
        Some(Value::Int(_)) => true,
        None => false,
    })
}

/// What start-up says about loaded modules that this build does not run:
/// `Err` lines (fatal) for a guarded module whose keys are in use, else
/// one warning per module whose keys are set, naming them.
pub fn unimplemented_in_use(
    tree: &ConfigTree,
    modules: &[String],
) -> Result<Vec<String>, Vec<String>> {
    let (mut fatal, mut warnings) = (Vec::new(), Vec::new());
    for m in modules
        .iter()
        .filter(|m| !IMPLEMENTED.contains(&m.as_str()))
    {
        if let Some((_, ks)) = GUARDED.iter().find(|(g, _)| g == m) {
            let used: Vec<&str> = ks.iter().copied().filter(|k| opt_in_use(tree, k)).collect();
            if !used.is_empty() {
                fatal.push(format!(
                    "{m} is not implemented by this build; {} {} set, and serving without it \
                     would expose what it protects: remove the option or use lighttpd 1.4",
                    used.join(", "),
                    if used.len() == 1 { "is" } else { "are" }
                ));
                continue;
            }
        }
        let Some(def) = keys::module(m) else { continue };
        let set: Vec<&str> = def
            .keys
            .iter()
            .map(|k| k.name)
            .filter(|k| tree.blocks.iter().any(|b| b.values.get(k).is_some()))
            .collect();
        if !set.is_empty() {
            warnings.push(format!(
                "WARNING: {m} is not implemented by this build; its options are ignored: {}",
                set.join(", ")
            ));
        }
    }
    if fatal.is_empty() {
        Ok(warnings)
    } else {
        Err(fatal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::eval::{Input, read_config};

    fn resolve(conf: &str, listed: &[&str]) -> Vec<String> {
        let t = read_config(Input::Stdin(conf)).unwrap();
        let l: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
        resolve_modules(&t, &l, true).modules
    }

    #[test]
    fn indexfile_and_dirlisting_follow_options() {
        assert_eq!(
            resolve("", &["mod_indexfile", "mod_access", "mod_dirlisting"]),
            ["mod_access", "mod_staticfile"]
        );
        assert_eq!(
            resolve(
                "index-file.names = (\"index.html\")\ndir-listing.activate = \"enable\"\n",
                &["mod_access"]
            ),
            [
                "mod_indexfile",
                "mod_access",
                "mod_dirlisting",
                "mod_staticfile"
            ]
        );
    }

    #[test]
    fn duplicates_removed_and_compress_replaced() {
        assert_eq!(
            resolve("", &["mod_access", "mod_access"]),
            ["mod_access", "mod_staticfile"]
        );
        assert_eq!(
            resolve("compress.filetype = (\"text/plain\")\n", &["mod_compress"]),
            ["mod_deflate", "mod_staticfile"]
        );
        assert_eq!(resolve("", &["mod_compress"]), ["mod_staticfile"]);
    }

    #[test]
    fn auth_backends() {
        assert_eq!(
            resolve("auth.backend = \"htpasswd\"\n", &["mod_auth"]),
            ["mod_auth", "mod_staticfile", "mod_authn_file"]
        );
        assert_eq!(
            resolve("", &["mod_authn_file"]),
            ["mod_auth", "mod_authn_file", "mod_staticfile"]
        );
    }

    fn in_use(conf: &str) -> Result<Vec<String>, Vec<String>> {
        let t = read_config(Input::Stdin(conf)).unwrap();
        let mods = resolve_modules(&t, &listed(&t), true).modules;
        unimplemented_in_use(&t, &mods)
    }

    fn listed(t: &ConfigTree) -> Vec<String> {
        match t.global().values.get("server.modules") {
            Some(Value::Array(a)) => a
                .entries
                .iter()
                .filter_map(|e| match &e.value {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn guarded_module_in_use_is_fatal() {
        let e = in_use(
            "server.modules = (\"mod_auth\")\n$HTTP[\"url\"] =^ \"/a\" { auth.require = ( \"\" => ( \"method\" => \"basic\", \"realm\" => \"r\", \"require\" => \"valid-user\" ) ) }\n",
        )
        .unwrap_err();
        assert!(
            e[0].starts_with("mod_auth is not implemented by this build; auth.require is set"),
            "{e:?}"
        );
        let e = in_use(
            "server.modules = (\"mod_cgi\")\ncgi.assign = ( \".pl\" => \"/usr/bin/perl\" )\n",
        )
        .unwrap_err();
        assert!(e[0].contains("cgi.assign"), "{e:?}");
        let e = in_use(
            "server.modules = (\"mod_secdownload\")\nsecdownload.secret = \"s3\"\n\
             secdownload.document-root = \"/srv/dl\"\n",
        )
        .unwrap_err();
        assert!(
            e[0].contains("; secdownload.secret, secdownload.document-root are set,"),
            "{e:?}"
        );
        // ssl.* keys load mod_openssl by themselves; only an enabled engine counts.
        assert!(in_use("ssl.engine = \"enable\"\n").is_err());
        let w = in_use("ssl.engine = \"disable\"\n").unwrap();
        assert_eq!(
            w,
            vec![
                "WARNING: mod_openssl is not implemented by this build; its options are ignored: ssl.engine"
            ]
        );
    }

    #[test]
    fn unguarded_module_options_are_warned() {
        let w = in_use("server.modules = (\"mod_setenv\", \"mod_auth\", \"mod_fastcgi\")\nsetenv.add-response-header = ( \"A\" => \"b\" )\n").unwrap();
        assert_eq!(
            w,
            vec![
                "WARNING: mod_setenv is not implemented by this build; its options are ignored: setenv.add-response-header"
            ]
        );
        // Loaded but unused, or implemented: nothing to say.
        assert_eq!(
            in_use(
                "server.modules = (\"mod_redirect\", \"mod_access\")\nurl.access-deny = (\"~\")\n"
            ),
            Ok(Vec::new())
        );
    }

    #[test]
    fn compat_disabled_keeps_list() {
        let t = read_config(Input::Stdin("")).unwrap();
        let l = vec!["mod_indexfile".to_string()];
        assert_eq!(resolve_modules(&t, &l, false).modules, ["mod_indexfile"]);
    }
}
