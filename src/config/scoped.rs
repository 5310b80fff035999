//! Typed configuration: each table of keys (the core's, each module's) is
//! checked once at start-up against what the user wrote, with lighttpd's
//! messages, and compiled into typed values — global defaults plus one patch
//! per condition block that sets any of the table's keys. A request later
//! starts from the defaults and applies the patches of the blocks whose
//! conditions hold, in block order (later wins; arrays replace, never merge).
//! No string lookups are left for the request path.

use super::eval::{BlockCond, ConfigTree};
use super::keys::{KeyDef, KeyType, Scope};
use super::value::{Array, Value};
use crate::config::ast::CondOp;
use crate::config::cond::Field;

/// A value checked against its key's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Str(String),
    /// T_CONFIG_INT: unsigned 32-bit.
    Int(u32),
    Short(u16),
    Bool(bool),
    List(Array),
}

/// The keys of one table that one block sets, by index into the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    pub block: usize,
    pub values: Vec<(usize, Typed)>,
}

/// A table compiled against a config: patches in block order; the global
/// block's patch, if any, comes first and holds the defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scoped {
    pub patches: Vec<Patch>,
}

impl Scoped {
    /// The global value of key `idx`, if the user set one.
    pub fn global(&self, idx: usize) -> Option<&Typed> {
        self.patches
            .first()
            .filter(|p| p.block == 0)
            .and_then(|p| p.values.iter().find(|(i, _)| *i == idx).map(|(_, v)| v))
    }

    /// The value of key `idx` once every block for which `holds` is true
    /// has been applied in order (the last one wins).
    pub fn resolve(&self, idx: usize, holds: impl Fn(usize) -> bool) -> Option<&Typed> {
        let mut out = None;
        for p in &self.patches {
            if (p.block == 0 || holds(p.block))
                && let Some((_, v)) = p.values.iter().find(|(i, _)| *i == idx)
            {
                out = Some(v);
            }
        }
        out
    }
}

/// What checking a table produced: warnings and errors, in lighttpd's
/// order (scope warnings over all blocks first, then type errors).
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

/// lighttpd's truth values for booleans: None if the value is neither.
pub fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Int(n) => Some(*n != 0),
        Value::Str(s) => {
            let s = s.as_str();
            let is = |w: &[&str]| w.iter().any(|t| s.eq_ignore_ascii_case(t));
            if is(&["enable", "enabled", "true", "1"]) {
                Some(true)
            } else if is(&["disable", "disabled", "false", "0"]) {
                Some(false)
            } else {
                None
            }
        }
        Value::Array(_) => None,
    }
}

/// C strtol(…, 10) over the whole string: leading blanks and a sign are
/// accepted, trailing garbage is not.
fn strtol_full(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if t.is_empty() {
        return None;
    }
    let (neg, digits) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = digits.parse().unwrap_or(i64::MAX);
    Some(if neg { -v } else { v })
}

/// lighttpd's numeric code of a value type, shown in some messages.
fn type_code(v: &Value) -> i32 {
    match v {
        Value::Str(_) => 1,
        Value::Array(_) => 3,
        Value::Int(_) => 4,
    }
}

/// Checks one value against its key's type; Err is lighttpd's message.
pub fn check_value(def: &KeyDef, v: &Value) -> Result<Typed, String> {
    let k = def.name;
    match def.ty {
        t if t.is_list() => {
            let Value::Array(a) = v else {
                return Err(format!(
                    "{k} should have been a list like {k} = ( \"...\" )"
                ));
            };
            let keyed = |pred: fn(&Value) -> bool| {
                a.entries.iter().all(|e| e.key.is_some() && pred(&e.value))
            };
            let ok = match t {
                KeyType::KvAny => keyed(|_| true),
                KeyType::KvArray => keyed(|v| matches!(v, Value::Array(_))),
                KeyType::KvList => keyed(|v| matches!(v, Value::Str(_))),
                KeyType::StrList => a.is_string_list(),
                _ => true,
            };
            if ok {
                return Ok(Typed::List(a.clone()));
            }
            Err(match t {
                KeyType::KvAny => format!(
                    "{k} should have been a list of key => values like {k} = ( \"...\" => \"...\", \"...\" => \"...\" )"
                ),
                KeyType::KvArray => format!(
                    "{k} should have been a list of key => list like {k} = ( \"...\" => ( \"...\" => \"...\" ) )"
                ),
                KeyType::KvList => format!(
                    "{k} should have been a list of key => string values like {k} = ( \"...\" => \"...\", \"...\" => \"...\" )"
                ),
                _ => format!(
                    "{k} should have been a list of string values like {k} = ( \"...\", \"...\" )"
                ),
            })
        }
        KeyType::Str => match v {
            Value::Str(s) => Ok(Typed::Str(s.clone())),
            _ => Err(format!("{k} should have been a string like ... = \"...\"")),
        },
        KeyType::Short => match v {
            Value::Str(s) => match strtol_full(s) {
                Some(n) if (0..=65535).contains(&n) => Ok(Typed::Short(n as u16)),
                _ => Err(format!("got a string but expected a short: {k} {s}")),
            },
            Value::Int(n) if (0..=65535).contains(n) => Ok(Typed::Short(*n as u16)),
            _ => Err(format!(
                "unexpected type for key: {k} {} expected a short integer, range 0 ... 65535",
                type_code(v)
            )),
        },
        KeyType::Int => match v {
            Value::Int(n) => Ok(Typed::Int(*n as u32)),
            Value::Str(s) => match strtol_full(s) {
                Some(n) if n >= 0 => Ok(Typed::Int(n as u32)),
                _ => Err(format!("got a string but expected an integer: {k} {s}")),
            },
            Value::Array(_) => Err(format!(
                "unexpected type for key: {k} {} expected an integer, range 0 ... 4294967295",
                type_code(v)
            )),
        },
        KeyType::Bool => to_bool(v).map(Typed::Bool).ok_or_else(|| {
            format!("ERROR: unexpected type for key: {k} (string) \"(enable|disable)\"")
        }),
        KeyType::Deprecated | KeyType::Unsupported | KeyType::Any => match v {
            Value::Str(s) => Ok(Typed::Str(s.clone())),
            Value::Int(n) => Ok(Typed::Int(*n as u32)),
            Value::Array(a) => Ok(Typed::List(a.clone())),
        },
        // Every list type was handled by the first arm.
        _ => Err(format!("{k}: unsupported key type")),
    }
}

/// Checks and compiles one table against the config (lighttpd's
/// config_plugin_values_init). Keys are matched case-insensitively.
pub fn compile(tree: &ConfigTree, table: &[KeyDef], diag: &mut Diagnostics) -> Scoped {
    let mut scoped = Scoped::default();
    // Pass 1: scope warnings, block by block, keys in table order.
    for b in &tree.blocks {
        if b.index == 0 {
            continue;
        }
        for def in table {
            if b.values.get(def.name).is_none() {
                continue;
            }
            match def.scope {
                Scope::Connection => {}
                Scope::Server => diag.warnings.push(format!(
                    "DEPRECATED: do not set server options in conditionals, variable: {}",
                    def.name
                )),
                Scope::Socket => {
                    let socket_eq = matches!(
                        &b.cond,
                        BlockCond::Cond {
                            field: Field::ServerSocket,
                            op: CondOp::Eq,
                            ..
                        }
                    );
                    if !socket_eq {
                        diag.warnings.push(format!(
                            "WARNING: {} must be in global scope or $SERVER[\"socket\"] with '==', or else is ignored",
                            def.name
                        ));
                    }
                }
            }
        }
    }
    // Pass 2: types.
    for b in &tree.blocks {
        let mut patch = Patch {
            block: b.index,
            values: Vec::new(),
        };
        for (i, def) in table.iter().enumerate() {
            let Some(v) = b.values.get(def.name) else {
                continue;
            };
            match check_value(def, v) {
                Ok(t) => patch.values.push((i, t)),
                Err(e) => diag.errors.push(e),
            }
        }
        if !patch.values.is_empty() {
            scoped.patches.push(patch);
        }
    }
    scoped
}

/// The options server.http-parseopts knows (1.4.69).
const HTTP_PARSEOPTS: &[&str] = &[
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

/// Checks server.http-parseopts entries (names and enable/disable values).
pub fn check_http_parseopts(a: &Array, diag: &mut Diagnostics) {
    let mut valid = Vec::new();
    for e in &a.entries {
        let k = e.key.as_deref().unwrap_or("");
        let v = match &e.value {
            Value::Str(s) => s.as_str(),
            _ => "",
        };
        let Some(b) = to_bool(&e.value).filter(|_| matches!(e.value, Value::Str(_))) else {
            diag.errors.push(format!(
                "unrecognized value for server.http-parseopts: {k} => {v} (expect \"[enable|disable]\")"
            ));
            continue;
        };
        if !HTTP_PARSEOPTS.contains(&k) {
            diag.errors
                .push(format!("unrecognized key for server.http-parseopts: {k}"));
            continue;
        }
        valid.push((k, b));
        // 1.4.69 reads no further: what follows is neither checked nor used
        if k == "url-normalize" && !b {
            break;
        }
    }
    // The conflicts are those of the options in force, defaults included
    // (url-path-dotseg-reject alone conflicts with the default
    // url-path-dotseg-remove).
    if let Err(conflicts) = crate::http::uri::UrlOpts::from_entries(valid) {
        diag.errors.extend(conflicts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::eval::{Input, read_config};

    const T: &[KeyDef] = &[
        KeyDef {
            name: "server.port",
            ty: KeyType::Short,
            scope: Scope::Server,
        },
        KeyDef {
            name: "server.tag",
            ty: KeyType::Str,
            scope: Scope::Connection,
        },
        KeyDef {
            name: "server.follow-symlink",
            ty: KeyType::Bool,
            scope: Scope::Connection,
        },
        KeyDef {
            name: "server.use-ipv6",
            ty: KeyType::Bool,
            scope: Scope::Socket,
        },
        KeyDef {
            name: "index-file.names",
            ty: KeyType::StrList,
            scope: Scope::Connection,
        },
    ];

    fn run(conf: &str) -> (Scoped, Diagnostics) {
        let t = read_config(Input::Stdin(conf)).unwrap();
        let mut d = Diagnostics::default();
        (compile(&t, T, &mut d), d)
    }

    #[test]
    fn types_and_messages() {
        let (_, d) = run(
            "server.port = \"abc\"\nserver.tag = 1\nserver.follow-symlink = \"maybe\"\nindex-file.names = \"x\"\n",
        );
        assert_eq!(
            d.errors,
            [
                "got a string but expected a short: server.port abc",
                "server.tag should have been a string like ... = \"...\"",
                "ERROR: unexpected type for key: server.follow-symlink (string) \"(enable|disable)\"",
                "index-file.names should have been a list like index-file.names = ( \"...\" )",
            ]
        );
        let (s, d) = run("server.port = \"8080\"\nserver.follow-symlink = \"Disable\"\n");
        assert!(d.errors.is_empty());
        assert_eq!(s.global(0), Some(&Typed::Short(8080)));
        assert_eq!(s.global(2), Some(&Typed::Bool(false)));
    }

    #[test]
    fn scope_warnings() {
        let (_, d) = run(
            "$HTTP[\"url\"] == \"/\" {\n server.port = 1\n server.use-ipv6 = \"enable\"\n}\n$SERVER[\"socket\"] == \":81\" {\n server.use-ipv6 = \"enable\"\n}\n",
        );
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
        assert!(d.warnings[0].starts_with("DEPRECATED"));
    }

    #[test]
    fn patches_apply_in_order() {
        let (s, _) = run(
            "server.tag = \"a\"\n$HTTP[\"url\"] =^ \"/x\" {\n server.tag = \"b\"\n}\n$HTTP[\"url\"] =^ \"/y\" {\n server.tag = \"c\"\n}\n",
        );
        assert_eq!(s.resolve(1, |_| false), Some(&Typed::Str("a".into())));
        assert_eq!(s.resolve(1, |b| b == 1), Some(&Typed::Str("b".into())));
        assert_eq!(s.resolve(1, |_| true), Some(&Typed::Str("c".into())));
    }

    #[test]
    fn parseopts() {
        let t = read_config(Input::Stdin("a = (\"header-strict\" => \"enable\", \"bogus\" => \"enable\", \"host-strict\" => \"maybe\")\n")).unwrap();
        let Some(Value::Array(a)) = t.global().values.get("var.a") else {
            panic!()
        };
        let mut d = Diagnostics::default();
        check_http_parseopts(a, &mut d);
        assert_eq!(d.errors.len(), 2);
    }

    #[test]
    fn strtol_like_c() {
        assert_eq!(strtol_full(" 80"), Some(80));
        assert_eq!(strtol_full("+1"), Some(1));
        assert_eq!(strtol_full("8x"), None);
        assert_eq!(strtol_full(""), None);
    }
}
