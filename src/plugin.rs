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

    #[test]
    fn compat_disabled_keeps_list() {
        let t = read_config(Input::Stdin("")).unwrap();
        let l = vec!["mod_indexfile".to_string()];
        assert_eq!(resolve_modules(&t, &l, false).modules, ["mod_indexfile"]);
    }
}
