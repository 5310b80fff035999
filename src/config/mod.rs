//! lighttpd.conf: read (parse + evaluate), check the core keys, work out the
//! module list, and — for `-tt` and start-up — check every loaded module's
//! keys and warn about keys nobody reads. Two stages as in ripgrep: what the
//! user wrote (`ast`, `eval::ConfigTree`) and the compiled, typed form
//! (`scoped::Scoped` per key table).

pub mod ast;
pub mod cond;
pub mod cond_trace;
pub mod error;
pub mod eval;
pub mod keys;
pub mod matcher;
pub mod parse;
pub mod print;
pub mod scoped;
pub mod value;

use crate::plugin::{self, ModuleList};
use error::{ConfigError, ErrorKind};
use eval::ConfigTree;
use scoped::{Diagnostics, Scoped, Typed};
use value::Value;

/// Keys network.c checks when it sets up listeners (start-up and `-tt`),
/// not while the config is read.
const NETWORK_KEYS: &[&str] = &[
    "server.listen-backlog",
    "server.socket-perms",
    "server.bsd-accept-filter",
    "server.defer-accept",
    "server.use-ipv6",
    "server.set-v6only",
    "server.v4mapped",
];

/// A configuration as read: the tree, the checked core keys and the
/// module list.
#[derive(Debug)]
pub struct Config {
    pub tree: ConfigTree,
    pub core: Scoped,
    pub modules: ModuleList,
}

/// Logs what a check found. True when there were no errors.
fn log_diagnostics(d: &Diagnostics) -> bool {
    for w in &d.warnings {
        crate::log_error!("{w}");
    }
    for e in &d.errors {
        crate::log_error!("{e}");
    }
    d.errors.is_empty()
}

fn reported() -> ConfigError {
    ConfigError::new(ErrorKind::Key(String::new()))
}

/// The core's key table as checked while reading (without network.c's).
fn core_read_keys() -> Vec<keys::KeyDef> {
    keys::CORE_KEYS
        .iter()
        .filter(|k| !NETWORK_KEYS.contains(&k.name))
        .map(|k| keys::KeyDef {
            name: k.name,
            ty: k.ty,
            scope: k.scope,
        })
        .collect()
}

/// What `lighttpd -f` does while reading options: parse and evaluate, check
/// the core keys, and settle the module list. Errors were logged.
pub fn read(input: eval::Input<'_>) -> Result<Config, ConfigError> {
    let tree = match eval::read_config(input) {
        Ok(t) => t,
        Err(e) => {
            e.report();
            return Err(reported());
        }
    };
    let table = core_read_keys();
    let mut diag = Diagnostics::default();
    let core = scoped::compile(&tree, &table, &mut diag);
    if let Some(Value::Array(a)) = tree.global().values.get("server.http-parseopts") {
        scoped::check_http_parseopts(a, &mut diag);
    }
    if !log_diagnostics(&diag) {
        return Err(reported());
    }
    // Checked while the config is read, as 1.4.69 does (also for -p, -t).
    if let Some(Value::Str(e)) = tree.global().values.get("server.stat-cache-engine")
        && !matches!(
            e.as_str(),
            "" | "disable" | "none" | "simple" | "inotify" | "fam"
        )
    {
        crate::log_error!(
            "server.stat-cache-engine can be one of \"disable\", \"simple\", \"inotify\", \"fam\", but not: {e}"
        );
        return Err(reported());
    }
    let mut tree = tree;
    normalize_core_values(&mut tree);
    let idx = |name: &str| table.iter().position(|k| k.name == name);
    let listed: Vec<String> = match idx("server.modules").and_then(|i| core.global(i)) {
        Some(Typed::List(a)) => a.iter_strings().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let compat = !matches!(
        idx("server.compat-module-load").and_then(|i| core.global(i)),
        Some(Typed::Bool(false))
    );
    let modules = plugin::resolve_modules(&tree, &listed, compat);
    for w in &modules.warnings {
        crate::log_error!("{w}");
    }
    Ok(Config {
        tree,
        core,
        modules,
    })
}

/// Values lighttpd rewrites while it checks the core keys (so `-p` shows
/// them rewritten): a multi-line server.tag gets header continuation
/// blanks, a blank one becomes empty; mimetype.assign's `.js` =>
/// "application/javascript" becomes "text/javascript".
fn normalize_core_values(tree: &mut ConfigTree) {
    for b in &mut tree.blocks {
        for e in &mut b.values.entries {
            let Some(k) = e.key.as_deref() else { continue };
            if k.eq_ignore_ascii_case("server.tag") {
                if let Value::Str(s) = &mut e.value {
                    *s = continue_header_lines(s);
                }
            } else if k.eq_ignore_ascii_case("mimetype.assign")
                && let Value::Array(a) = &mut e.value
                && let Some(i) = a.position(".js")
                && a.entries[i].value == Value::Str("application/javascript".into())
            {
                a.entries[i].value = Value::Str("text/javascript".into());
            }
        }
    }
}

/// A blank after every newline not already followed by one; all-blank
/// text becomes empty.
fn continue_header_lines(s: &str) -> String {
    if s.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(s.len() + 4);
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        out.push(c);
        if c == '\n' && !matches!(it.peek(), Some(' ' | '\t')) {
            out.push(' ');
        }
    }
    out
}

impl Config {
    /// server.network-backend: a name 1.4.69 knows (checked after the
    /// modules are loaded, as there; we use sendfile whatever is named).
    pub fn check_network_backend(&self) -> Result<(), ConfigError> {
        if let Some(b) = self.global_str("server.network-backend")
            && !matches!(
                b,
                "" | "write"
                    | "writev"
                    | "sendfile"
                    | "linux-sendfile"
                    | "freebsd-sendfile"
                    | "solaris-sendfilev"
            )
        {
            crate::log_error!("server.network-backend has an unknown value: {b}");
            return Err(reported());
        }
        Ok(())
    }

    /// Resolves every listener address as 1.4.69's network set-up does
    /// and writes the `$SERVER["socket"]` values as the addresses they
    /// name (listen::normalize_socket_conditions).
    pub fn check_listeners(
        &mut self,
        stdin: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> Result<(), ConfigError> {
        crate::listen::normalize_socket_conditions(&mut self.tree, stdin).map_err(|msg| {
            crate::log_error!("{msg}");
            reported()
        })
    }

    fn global_str(&self, key: &str) -> Option<&str> {
        match self.tree.global().values.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Start-up checks lighttpd runs before loading modules
    /// (config_set_defaults): chroot, upload dirs, document root.
    pub fn check_defaults(&self) -> Result<(), ConfigError> {
        // The event handlers Debian's 1.4.69 knows on Linux (we poll with
        // epoll whatever is named).
        if let Some(h) = self.global_str("server.event-handler")
            && !matches!(h, "poll" | "select" | "linux-sysepoll" | "epoll" | "libev")
        {
            crate::log_error!("the selected event-handler in unknown or not supported: {h}");
            return Err(reported());
        }
        let chroot = self.global_str("server.chroot").filter(|s| !s.is_empty());
        if let Some(root) = chroot {
            match std::fs::metadata(crate::http::lossless::to_path(root)) {
                Err(_) => {
                    crate::log_error!("server.chroot doesn't exist: {root}");
                    return Err(reported());
                }
                Ok(m) if !m.is_dir() => {
                    crate::log_error!("server.chroot isn't a directory: {root}");
                    return Err(reported());
                }
                Ok(_) => {}
            }
        }
        let mut dirs: Vec<String> = match self.tree.global().values.get("server.upload-dirs") {
            Some(Value::Array(a)) => a.iter_strings().map(str::to_string).collect(),
            _ => Vec::new(),
        };
        if dirs.is_empty() {
            dirs.push(std::env::var("TMPDIR").unwrap_or_else(|_| "/var/tmp".into()));
        }
        for d in dirs {
            let path = match chroot {
                Some(r) => format!("{}/{}", r.trim_end_matches('/'), d.trim_start_matches('/')),
                None => d,
            };
            match std::fs::metadata(crate::http::lossless::to_path(&path)) {
                Err(_) => crate::log_error!("server.upload-dirs doesn't exist: {path}"),
                Ok(m) if !m.is_dir() => {
                    crate::log_error!("server.upload-dirs isn't a directory: {path}")
                }
                Ok(_) => {}
            }
        }
        if self
            .global_str("server.document-root")
            .is_none_or(str::is_empty)
        {
            crate::log_error!("server.document-root is not set");
            return Err(reported());
        }
        Ok(())
    }

    /// Loads (that is: looks up) every module; an unknown one is fatal with
    /// lighttpd's dlopen wording.
    pub fn load_modules(&self, module_dir: &str) -> Result<(), ConfigError> {
        for m in &self.modules.modules {
            if !plugin::is_known_module(m) {
                crate::log_error!(
                    "dlopen() failed for: {module_dir}/{m}.so {module_dir}/{m}.so: cannot open shared object file: No such file or directory"
                );
                crate::log_error!("loading plugins finally failed");
                return Err(reported());
            }
        }
        Ok(())
    }

    /// Checks the listener keys and every loaded module's keys (set_defaults).
    pub fn check_module_keys(&self) -> Result<Vec<Scoped>, ConfigError> {
        let mut diag = Diagnostics::default();
        let net: Vec<keys::KeyDef> = keys::CORE_KEYS
            .iter()
            .filter(|k| NETWORK_KEYS.contains(&k.name))
            .map(|k| keys::KeyDef {
                name: k.name,
                ty: k.ty,
                scope: k.scope,
            })
            .collect();
        scoped::compile(&self.tree, &net, &mut diag);
        let mut out = Vec::new();
        for m in &self.modules.modules {
            if let Some(def) = keys::module(m) {
                out.push(scoped::compile(&self.tree, def.keys, &mut diag));
            }
        }
        if !log_diagnostics(&diag) {
            crate::log_error!("Configuration of plugins failed. Going down.");
            return Err(reported());
        }
        Ok(out)
    }

    /// Keys no loaded module and not the core reads, in block order.
    pub fn unknown_keys(&self) -> Vec<String> {
        let loaded: Vec<&str> = self.modules.modules.iter().map(String::as_str).collect();
        let mut out = Vec::new();
        for b in &self.tree.blocks {
            for e in &b.values.entries {
                let Some(k) = e.key.as_deref() else { continue };
                if keys::exempt_from_unknown_warning(k) || keys::is_known_key(k, &loaded) {
                    continue;
                }
                out.push(k.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_continuation() {
        assert_eq!(continue_header_lines("a\nb"), "a\n b");
        assert_eq!(continue_header_lines("a\n\tb"), "a\n\tb");
        assert_eq!(continue_header_lines(" \n "), "");
    }

    #[test]
    fn js_mimetype_rewritten() {
        let c = read(eval::Input::Stdin(
            "mimetype.assign = (\".js\" => \"application/javascript\")\n",
        ))
        .unwrap();
        let Some(Value::Array(a)) = c.tree.global().values.get("mimetype.assign") else {
            panic!()
        };
        assert_eq!(a.get(".js"), Some(&Value::Str("text/javascript".into())));
    }
}
