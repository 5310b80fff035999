//! Statements to the config tree, in lighttpd's order and with its rules:
//! blocks keyed by their condition text (repeating a condition reopens the
//! block), `=` / `:=` / `+=` with the merge table of config-language.md §1,
//! references looked up through enclosing blocks, `env.NAME`, `include`
//! (relative to the main file's directory, glob(3) with braces) and
//! `include_shell` (`$SHELL -c`, run in that directory), `global { }`, and
//! else chains. The result (`ConfigTree`) is what `-p` prints and what the
//! typed key tables are built from.

use super::ast::{AssignOp, Branch, CondExpr, CondOp, Expr, Lookahead, Span, Stmt};
use super::cond::{self, CondRegex, Field};
use super::error::{ConfigError, ErrorKind, Result};
use super::parse;
use super::value::{Array, Value};
use crate::http::lossless;
use std::collections::HashMap;

/// How a block is entered.
#[derive(Debug)]
pub enum BlockCond {
    /// The global block (index 0).
    Global,
    /// `$OBJ["tag"] op "value"`.
    Cond {
        field: Field,
        op: CondOp,
        /// The (simplified) right-hand side.
        value: String,
        /// `$HTTP["url"] =^ "/x"`, as `-p` prints it.
        text: String,
        regex: Option<CondRegex>,
        /// Written as a regex (`=~`) that was simplified to `op`: its
        /// captures (`%0`, the literal) still exist for the modules.
        simplified: bool,
    },
    /// A bare `else`, catching what its chain did not.
    Else { field: Field, text: String },
}

#[derive(Debug)]
pub struct Block {
    pub index: usize,
    /// Identity: the parent's key, " / ", then the condition text.
    pub key: String,
    pub cond: BlockCond,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub prev: Option<usize>,
    pub next: Option<usize>,
    pub values: Array,
}

impl Block {
    pub fn field(&self) -> Option<&Field> {
        match &self.cond {
            BlockCond::Global => None,
            BlockCond::Cond { field, .. } | BlockCond::Else { field, .. } => Some(field),
        }
    }

    pub fn op(&self) -> Option<CondOp> {
        match &self.cond {
            BlockCond::Cond { op, .. } => Some(*op),
            _ => None,
        }
    }
}

/// Every block of a configuration; index 0 is global.
#[derive(Debug)]
pub struct ConfigTree {
    pub blocks: Vec<Block>,
}

impl ConfigTree {
    pub fn global(&self) -> &Block {
        &self.blocks[0]
    }

    /// A boolean of server.feature-flags (off unless set), as 1.4.69's
    /// config_feature_bool reads one.
    pub fn feature_flag(&self, name: &str) -> bool {
        match self.global().values.get("server.feature-flags") {
            Some(super::value::Value::Array(a)) => a
                .get(name)
                .and_then(super::scoped::to_bool)
                .unwrap_or(false),
            _ => false,
        }
    }
}

/// Where the main config comes from.
pub enum Input<'a> {
    File(&'a str),
    /// `-f -`, already read.
    Stdin(&'a str),
    /// Text that may not reach outside (fuzzing): `include` and
    /// `include_shell` are errors.
    Sandboxed(&'a str),
}

struct Evaluator {
    blocks: Vec<Block>,
    by_key: HashMap<String, usize>,
    current: usize,
    stack: Vec<usize>,
    /// Directory of the main `-f` file, with a trailing '/', or empty.
    basedir: String,
    depth: u32,
    sandboxed: bool,
}

/// A runaway include loop ends here instead of exhausting the stack.
const MAX_INCLUDE_DEPTH: u32 = 64;

/// Reads a whole configuration, as `lighttpd -f` does.
pub fn read_config(input: Input<'_>) -> Result<ConfigTree> {
    let mut global = Array::new();
    let cwd = std::env::current_dir()
        .map(|p| lossless::from_os(p.as_os_str()).into_owned())
        .unwrap_or_default();
    global.push(Some("var.CWD".into()), Value::Str(cwd));
    global.push(
        Some("var.PID".into()),
        Value::Int(std::process::id() as i32),
    );
    let root = Block {
        index: 0,
        key: "global".into(),
        cond: BlockCond::Global,
        parent: None,
        children: Vec::new(),
        prev: None,
        next: None,
        values: global,
    };
    let mut ev = Evaluator {
        blocks: vec![root],
        by_key: HashMap::from([("global".to_string(), 0)]),
        current: 0,
        stack: Vec::new(),
        basedir: String::new(),
        depth: 0,
        sandboxed: matches!(input, Input::Sandboxed(_)),
    };
    match input {
        Input::File(path) => {
            if let Some(i) = path.rfind('/') {
                ev.basedir = path[..=i].to_string();
            }
            ev.parse_file(path)?;
        }
        Input::Stdin(text) | Input::Sandboxed(text) => {
            if !text.is_empty() {
                ev.run_text("-", text)?;
            }
        }
    }
    ev.compile_regexes()?;
    Ok(ConfigTree { blocks: ev.blocks })
}

impl Evaluator {
    fn parse_file(&mut self, path: &str) -> Result<()> {
        let bytes = std::fs::read(path).map_err(|e| {
            ConfigError::new(ErrorKind::Open {
                path: path.to_string(),
                err: crate::sys::strerror(&e),
            })
        })?;
        // bytes that are not UTF-8 (a Latin-1 document root) kept as
        // lossless.rs says, as 1.4.69 keeps them
        let text = lossless::from_bytes(&bytes);
        self.run_text(path, &text)
    }

    fn run_text(&mut self, source: &str, text: &str) -> Result<()> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(ConfigError::new(ErrorKind::Key(format!(
                "include nesting deeper than {MAX_INCLUDE_DEPTH} at {source}"
            ))));
        }
        let stmts = parse::parse(source, text)?;
        self.depth += 1;
        let r = self.exec_all(&stmts);
        self.depth -= 1;
        r
    }

    fn exec_all(&mut self, stmts: &[Stmt]) -> Result<()> {
        stmts.iter().try_for_each(|s| self.exec(s))
    }

    fn exec(&mut self, stmt: &Stmt) -> Result<()> {
        match stmt {
            Stmt::Assign {
                key,
                op,
                value,
                end,
            } => self.assign(key, *op, value, end).map_err(|e| at(e, end)),
            Stmt::Include { path, end } => {
                let p = self.string_operand(path).map_err(|e| at(e, end))?;
                self.include(&p, &end.span)
            }
            Stmt::IncludeShell { command, end } => {
                let c = self.string_operand(command).map_err(|e| at(e, end))?;
                self.include_shell(&c, &end.span)
            }
            Stmt::Global { body, .. } => {
                self.push(0)?;
                let r = self.exec_all(body);
                self.pop();
                r
            }
            Stmt::Cond { branches } => self.cond_chain(branches),
        }
    }

    fn assign(&mut self, key: &str, op: AssignOp, expr: &Expr, end: &Lookahead) -> Result<()> {
        let span = &end.span;
        let value = self.eval(expr)?;
        let cur = self.current;
        if key.len() >= 4 && key[..4].eq_ignore_ascii_case("env.") && key.starts_with("env.") {
            let b = &self.blocks[cur];
            return Err(ConfigError::at(
                ErrorKind::SetEnv {
                    block: cur,
                    block_key: b.key.clone(),
                    key: key.to_string(),
                    append: op == AssignOp::Append,
                },
                span,
                key,
            ));
        }
        match op {
            AssignOp::Set => {
                let b = &mut self.blocks[cur];
                if b.values.position(key).is_some() {
                    return Err(ConfigError::at(
                        ErrorKind::DuplicateVar {
                            block: cur,
                            block_key: b.key.clone(),
                            key: key.to_string(),
                        },
                        span,
                        key,
                    ));
                }
                b.values.push(Some(key.to_string()), value);
            }
            AssignOp::Force => self.blocks[cur].values.replace(key.to_string(), value),
            AssignOp::Append => {
                let old = match self.blocks[cur].values.extract(key) {
                    Some(e) => Some(e.value),
                    None => self.lookup(key),
                };
                let merged = match old {
                    Some(old) => merge(old, &value).map_err(|k| ConfigError::at(k, span, key))?,
                    None => value,
                };
                self.blocks[cur].values.push(Some(key.to_string()), merged);
            }
        }
        Ok(())
    }

    /// A copy of the nearest visible value of `key`.
    fn lookup(&self, key: &str) -> Option<Value> {
        let mut b = Some(self.current);
        while let Some(i) = b {
            if let Some(v) = self.blocks[i].values.get(key) {
                return Some(v.clone());
            }
            b = self.blocks[i].parent;
        }
        None
    }

    fn eval(&self, e: &Expr) -> Result<Value> {
        match e {
            Expr::Literal(v, _) => Ok(v.clone()),
            Expr::Ref(k, span) => {
                if let Some(name) = k.strip_prefix("env.") {
                    match std::env::var_os(name) {
                        Some(v) => Ok(Value::Str(lossless::from_os(&v).into_owned())),
                        None => Err(ConfigError::at(
                            ErrorKind::UndefinedEnv(name.into()),
                            span,
                            k.as_str(),
                        )),
                    }
                } else {
                    self.lookup(k).ok_or_else(|| {
                        ConfigError::at(ErrorKind::UndefinedVar(k.clone()), span, k.as_str())
                    })
                }
            }
            Expr::Plus(terms, span) => {
                let mut acc = self.eval(&terms[0])?;
                for t in &terms[1..] {
                    let r = self.eval(t)?;
                    acc = merge(acc, &r).map_err(|k| ConfigError::at(k, span, "+"))?;
                }
                Ok(acc)
            }
            Expr::Array(elems, _) => {
                let mut arr = Array::new();
                // Keys seen so far, lowercased: big literals (mimetype.assign
                // has ~1000 entries) stay linear.
                let mut seen = std::collections::HashSet::new();
                for (k, v, after) in elems {
                    let key = match k {
                        Some(k) => Some(self.string_operand(k)?),
                        None => None,
                    };
                    let val = self.eval(v)?;
                    if let Some(key) = &key
                        && !seen.insert(key.to_ascii_lowercase())
                    {
                        // 1.4.69 notices it on the token after the element
                        return Err(ConfigError::at(
                            ErrorKind::DuplicateArrayKey(key.clone()),
                            &after.0,
                            after.1,
                        ));
                    }
                    arr.push(key, val);
                }
                Ok(Value::Array(arr))
            }
        }
    }

    /// lighttpd's `stringop`: a string, or an integer as decimal text.
    fn string_operand(&self, e: &Expr) -> Result<String> {
        match self.eval(e)? {
            Value::Str(s) => Ok(s),
            Value::Int(n) => Ok(n.to_string()),
            Value::Array(_) => Err(ConfigError::at(ErrorKind::OperandNotString, e.span(), "(")),
        }
    }

    fn push(&mut self, block: usize) -> Result<()> {
        if !self.stack.is_empty() && self.current == 0 {
            return Err(ConfigError::new(ErrorKind::CondInGlobal));
        }
        self.stack.push(self.current);
        self.current = block;
        Ok(())
    }

    fn pop(&mut self) {
        if let Some(b) = self.stack.pop() {
            self.current = b;
        }
    }

    fn new_block(&mut self, key: String, cond: BlockCond) -> usize {
        let index = self.blocks.len();
        let parent = self.current;
        self.blocks.push(Block {
            index,
            key: key.clone(),
            cond,
            parent: Some(parent),
            children: Vec::new(),
            prev: None,
            next: None,
            values: Array::new(),
        });
        self.blocks[parent].children.push(index);
        self.by_key.insert(key.to_ascii_lowercase(), index);
        index
    }

    fn cond_chain(&mut self, branches: &[Branch]) -> Result<()> {
        let mut prev: Option<usize> = None;
        for br in branches {
            let this = match &br.cond {
                Some(c) => self.condline(c, &br.body)?,
                None => {
                    let Some(p) = prev else {
                        return Err(ConfigError::at(ErrorKind::Syntax, &br.span, "else"));
                    };
                    self.else_block(p, &br.body, &br.after)?
                }
            };
            if let Some(p) = prev {
                if p >= this {
                    return Err(ConfigError::at(
                        ErrorKind::UnreachableElse,
                        &br.after.span,
                        br.after.text.clone(),
                    ));
                }
                if matches!(self.blocks[p].cond, BlockCond::Else { .. }) {
                    return Err(ConfigError::at(
                        ErrorKind::ElseAfterCatchAll,
                        &br.after.span,
                        br.after.text.clone(),
                    ));
                }
                self.blocks[this].prev = Some(p);
                self.blocks[p].next = Some(this);
            }
            prev = Some(this);
        }
        Ok(())
    }

    /// Opens (or reopens) the block of a condition and runs its body.
    fn condline(&mut self, c: &CondExpr, body: &[Stmt]) -> Result<usize> {
        let index = self.open_cond(c).map_err(|e| at(e, &c.open))?;
        self.push(index)?;
        let r = self.exec_all(body);
        self.pop();
        r.map(|_| index)
    }

    /// Finds or creates the block of a condition (errors are lighttpd's
    /// checks of the condition itself).
    fn open_cond(&mut self, c: &CondExpr) -> Result<usize> {
        let tag = self.string_operand(&c.field)?;
        let rvalue = match self.eval(&c.value)? {
            Value::Str(s) => s,
            _ => {
                return Err(ConfigError::at(
                    ErrorKind::RvalueNotString,
                    c.value.span(),
                    "{",
                ));
            }
        };
        let field = Field::from_tags(&c.obj, &tag);
        let (op, value) = if c.op == CondOp::Match && field != Some(Field::ServerSocket) {
            cond::simplify_regex(&rvalue)
        } else {
            (c.op, rvalue)
        };
        let simplified = c.op == CondOp::Match && op != CondOp::Match;
        let text = format!("${}[\"{}\"] {} \"{}\"", c.obj, tag, op.as_str(), value);
        let key = format!("{} / {}", self.blocks[self.current].key, text);
        let index = match self.by_key.get(&key.to_ascii_lowercase()) {
            Some(&i) => i,
            None => {
                let Some(field) = field else {
                    return Err(ConfigError::at(ErrorKind::CompKey(text), &c.span, "{"));
                };
                if field == Field::RemoteIp
                    && matches!(
                        op,
                        CondOp::Eq | CondOp::Ne | CondOp::Prefix | CondOp::Suffix
                    )
                    && !cond::check_remoteip(&value)
                {
                    return Err(ConfigError::at(ErrorKind::InvalidIp(value), &c.span, "{"));
                }
                if field == Field::ServerSocket && !cond::check_socket(&value) {
                    return Err(ConfigError::at(ErrorKind::InvalidIp(value), &c.span, "{"));
                }
                let cond = BlockCond::Cond {
                    field,
                    op,
                    value,
                    text,
                    regex: None,
                    simplified,
                };
                self.new_block(key, cond)
            }
        };
        Ok(index)
    }

    /// A bare `else`: a new block keyed as the negation of the branch
    /// before it.
    fn else_block(&mut self, prev: usize, body: &[Stmt], after: &Lookahead) -> Result<usize> {
        let tmp_key = format!("{} / else_tmp_token", self.blocks[self.current].key);
        let field = self.blocks[prev].field().cloned().unwrap_or(Field::Url);
        let index = self.new_block(
            tmp_key.clone(),
            BlockCond::Else {
                field,
                text: String::new(),
            },
        );
        self.push(index)?;
        let r = self.exec_all(body);
        self.pop();
        r?;
        self.by_key.remove(&tmp_key.to_ascii_lowercase());
        let (negated, text) = match &self.blocks[prev].cond {
            BlockCond::Cond {
                text, op, value, ..
            } => {
                let comp = text
                    .rsplit_once(&format!(" {} \"", op.as_str()))
                    .map(|(c, _)| c)
                    .unwrap_or("");
                let flipped = op.as_str().replacen('=', "!", 1);
                let flipped = if flipped == op.as_str() {
                    op.as_str().replacen('!', "=", 1)
                } else {
                    flipped
                };
                (format!("{comp} {flipped} \"{value}\""), text.clone())
            }
            // An else after an else: reported by the caller.
            _ => (String::new(), String::new()),
        };
        if matches!(self.blocks[prev].cond, BlockCond::Else { .. }) {
            return Err(ConfigError::at(
                ErrorKind::ElseAfterCatchAll,
                &after.span,
                after.text.clone(),
            ));
        }
        let parent_key = &self.blocks[self.blocks[index].parent.unwrap_or(0)].key;
        let key = format!("{parent_key} / {negated}");
        if self.by_key.contains_key(&key.to_ascii_lowercase()) {
            return Err(ConfigError::at(
                ErrorKind::UnreachableElse,
                &after.span,
                after.text.clone(),
            ));
        }
        self.by_key.insert(key.to_ascii_lowercase(), index);
        let b = &mut self.blocks[index];
        b.key = key;
        if let BlockCond::Else { text: t, .. } = &mut b.cond {
            *t = text;
        }
        Ok(index)
    }

    fn include(&mut self, path: &str, span: &Span) -> Result<()> {
        if self.sandboxed {
            return Err(ConfigError::at(
                ErrorKind::IncludeNotFound(path.to_string()),
                span,
                "(EOL)",
            ));
        }
        let absolute = path.starts_with('/')
            || path.starts_with('\\')
            || path.starts_with("./")
            || path.starts_with(".\\")
            || path.starts_with("../")
            || path.starts_with("..\\");
        let full = if absolute || self.basedir.is_empty() {
            path.to_string()
        } else {
            format!("{}{}", self.basedir, path)
        };
        match crate::sys::glob_brace(&full) {
            crate::sys::GlobResult::Paths(paths) => {
                for p in paths {
                    self.parse_file(&p).map_err(|e| e.through(span))?;
                }
                Ok(())
            }
            crate::sys::GlobResult::NoMatch => {
                if full.contains(['*', '?', '[', ']', '{', '}']) {
                    Ok(())
                } else {
                    Err(ConfigError::at(
                        ErrorKind::IncludeNotFound(full),
                        span,
                        "(EOL)",
                    ))
                }
            }
            crate::sys::GlobResult::Failed(err) => Err(ConfigError::at(
                ErrorKind::Glob { path: full, err },
                span,
                "(EOL)",
            )),
        }
    }

    fn include_shell(&mut self, cmd: &str, span: &Span) -> Result<()> {
        if self.sandboxed {
            let err = "not allowed here".to_string();
            return Err(ConfigError::at(
                ErrorKind::Shell {
                    cmd: cmd.to_string(),
                    err,
                },
                span,
                "(EOL)",
            ));
        }
        let shell = std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into());
        let mut c = std::process::Command::new(shell);
        c.arg("-c")
            .arg(crate::http::lossless::to_os(cmd))
            .stdin(std::process::Stdio::null());
        if !self.basedir.is_empty() {
            c.current_dir(crate::http::lossless::to_path(&self.basedir));
        }
        let out = c.output().map_err(|e| {
            ConfigError::at(
                ErrorKind::Shell {
                    cmd: cmd.to_string(),
                    err: crate::sys::strerror(&e),
                },
                span,
                "(EOL)",
            )
        })?;
        if !out.status.success() {
            let code = out.status.code().unwrap_or(0);
            return Err(ConfigError::at(
                ErrorKind::ShellExit {
                    cmd: cmd.to_string(),
                    code,
                },
                span,
                "(EOL)",
            ));
        }
        let text = lossless::from_bytes(&out.stdout);
        self.run_text(cmd, &text).map_err(|e| e.through(span))
    }

    fn compile_regexes(&mut self) -> Result<()> {
        for b in &mut self.blocks {
            if let BlockCond::Cond {
                op: CondOp::Match | CondOp::NoMatch,
                value,
                regex,
                ..
            } = &mut b.cond
            {
                *regex = Some(cond::compile_regex(value)?);
            }
        }
        Ok(())
    }
}

/// Moves an evaluation error to the token lighttpd reports it at (a
/// duplicate array key keeps its own: the token after the element).
fn at(mut e: ConfigError, place: &Lookahead) -> ConfigError {
    if !matches!(
        e.kind,
        ErrorKind::Syntax | ErrorKind::Lex(_) | ErrorKind::DuplicateArrayKey(_)
    ) {
        e.at = Some((place.span.clone(), place.text.clone()));
    }
    e
}

/// lighttpd's merge of `a + b` and `+=` (config-language.md §1 table).
/// Errors carry the kind only; the caller adds the place.
pub fn merge(left: Value, right: &Value) -> std::result::Result<Value, ErrorKind> {
    match (left, right) {
        (Value::Str(mut s), Value::Str(r)) => {
            s.push_str(r);
            Ok(Value::Str(s))
        }
        (Value::Str(mut s), Value::Int(n)) => {
            s.push_str(&n.to_string());
            Ok(Value::Str(s))
        }
        (Value::Int(n), Value::Str(r)) => Ok(Value::Str(format!("{n}{r}"))),
        (Value::Int(a), Value::Int(b)) => Ok(Value::Int(a.wrapping_add(*b))),
        (Value::Array(mut dst), Value::Array(src)) => {
            // Index of dst's keys (lowercased), so a merge stays linear.
            let mut index: HashMap<String, usize> = HashMap::new();
            for (i, e) in dst.entries.iter().enumerate() {
                if let Some(k) = &e.key {
                    index.entry(k.to_ascii_lowercase()).or_insert(i);
                }
            }
            for e in &src.entries {
                let existing = e
                    .key
                    .as_deref()
                    .and_then(|k| index.get(&k.to_ascii_lowercase()))
                    .map(|&i| &dst.entries[i].value);
                if existing.is_none()
                    && let Some(k) = &e.key
                {
                    index.insert(k.to_ascii_lowercase(), dst.entries.len());
                }
                match (existing, &e.key) {
                    (Some(old), Some(k)) => {
                        eprintln!("Duplicate array-key '{k}'");
                        let same = matches!((old, &e.value),
                            (Value::Str(a), Value::Str(b)) if a == b)
                            || matches!((old, &e.value), (Value::Int(a), Value::Int(b)) if a == b);
                        if !same {
                            return Err(ErrorKind::MergeDuplicateKey(k.clone()));
                        }
                    }
                    _ => dst.push(e.key.clone(), e.value.clone()),
                }
            }
            Ok(Value::Array(dst))
        }
        _ => Err(ErrorKind::TypeMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ConfigTree> {
        read_config(Input::Stdin(text))
    }

    fn global_keys(t: &ConfigTree) -> Vec<String> {
        t.global()
            .values
            .entries
            .iter()
            .map(|e| e.key.clone().unwrap())
            .collect()
    }

    #[test]
    fn append_moves_key_to_end_swapping_last() {
        let t = read("a = 1\nb = 2\nc = 3\na += 1\n").unwrap();
        assert_eq!(
            global_keys(&t),
            ["var.CWD", "var.PID", "var.c", "var.b", "var.a"]
        );
        assert_eq!(t.global().values.get("var.a"), Some(&Value::Int(2)));
    }

    #[test]
    fn duplicate_and_force() {
        let e = read("a = 1\nA = 2\n").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::DuplicateVar { .. }));
        let t = read("a = 1\na := 2\n").unwrap();
        assert_eq!(t.global().values.get("var.a"), Some(&Value::Int(2)));
    }

    #[test]
    fn merge_table() {
        assert_eq!(
            merge(Value::Int(1), &Value::Str("b".into())),
            Ok(Value::Str("1b".into()))
        );
        assert_eq!(
            merge(Value::Str("a".into()), &Value::Int(1)),
            Ok(Value::Str("a1".into()))
        );
        assert_eq!(
            merge(Value::Int(i32::MAX), &Value::Int(1)),
            Ok(Value::Int(i32::MIN))
        );
        assert_eq!(
            merge(Value::Str("a".into()), &Value::Array(Array::new())),
            Err(ErrorKind::TypeMismatch)
        );
    }

    #[test]
    fn references_see_enclosing_blocks_only() {
        let t = read("x = 1\n$HTTP[\"url\"] == \"/\" {\n y = x + 1\n}\n").unwrap();
        assert_eq!(t.blocks[1].values.get("var.y"), Some(&Value::Int(2)));
        let e = read("$HTTP[\"url\"] == \"/\" {\n y = 1\n}\nz = y\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::UndefinedVar("var.y".into()));
    }

    #[test]
    fn same_condition_reopens_block() {
        let t = read("$HTTP[\"url\"] =~ \"^/x$\" { a = 1 }\n$HTTP[\"url\"] == \"/X\" { b = 1 }\n")
            .unwrap();
        assert_eq!(t.blocks.len(), 2);
        assert_eq!(t.blocks[1].values.len(), 2);
    }

    #[test]
    fn else_chain_links_and_errors() {
        let t = read("$HTTP[\"url\"] == \"/a\" { } else $HTTP[\"url\"] == \"/b\" { } else { }\n")
            .unwrap();
        assert_eq!(t.blocks[1].next, Some(2));
        assert_eq!(t.blocks[3].prev, Some(2));
        assert_eq!(t.blocks[3].key, "global / $HTTP[\"url\"] != \"/b\"");
        let e = read("$HTTP[\"url\"] == \"/a\" { } else { } else { }\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::ElseAfterCatchAll);
    }

    #[test]
    fn conditions_in_global_are_fatal() {
        let e = read("global {\n$HTTP[\"url\"] == \"/\" { }\n}\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::CondInGlobal);
        let t = read("$HTTP[\"url\"] == \"/\" {\n global {\n a = 1\n }\n}\n").unwrap();
        assert_eq!(t.global().values.get("var.a"), Some(&Value::Int(1)));
    }

    #[test]
    fn env_and_errors() {
        // SAFETY of test env: single-threaded use of a unique variable name.
        let e = read("a = env.LIGHTTPD_RS_SURELY_UNSET_VAR\n").unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::UndefinedEnv("LIGHTTPD_RS_SURELY_UNSET_VAR".into())
        );
        let e = read("env.X = 1\n").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::SetEnv { .. }));
        let t = read("a = env.PATH\n").unwrap();
        assert!(matches!(
            t.global().values.get("var.a"),
            Some(Value::Str(_))
        ));
    }

    #[test]
    fn array_duplicate_keys() {
        assert!(matches!(
            read("a = (\"k\" => 1, \"K\" => 2)\n").unwrap_err().kind,
            ErrorKind::DuplicateArrayKey(_)
        ));
        // reported at the token after the repeated element, as 1.4.69
        let at = |src: &str| {
            let e = read(src).unwrap_err();
            e.at.map(|(s, t)| (s.line, s.col, t))
        };
        assert_eq!(
            at("a = (\"k\" => 1, \"k\" => 2, \"j\" => 3)\n"),
            Some((1, 24, "(COMMA)".to_string()))
        );
        assert_eq!(
            at("a = (\"k\" => 1,\n \"k\" => 2\n)\n"),
            Some((3, 1, ")".to_string()))
        );
        assert!(read("a = (\"k\" => 1)\na += (\"k\" => 1)\n").is_ok());
        assert!(read("a = (\"k\" => 1)\na += (\"k\" => 2)\n").is_err());
    }

    #[test]
    fn field_and_ip_checks() {
        assert!(matches!(
            read("$HTTP[\"foo\"] == \"x\" { }\n").unwrap_err().kind,
            ErrorKind::CompKey(_)
        ));
        assert!(matches!(
            read("$HTTP[\"remoteip\"] == \"x.y\" { }\n")
                .unwrap_err()
                .kind,
            ErrorKind::InvalidIp(_)
        ));
        assert!(matches!(
            read("$HTTP[\"url\"] == 1 { }\n").unwrap_err().kind,
            ErrorKind::RvalueNotString
        ));
    }

    #[test]
    fn long_sum_evaluates() {
        let t = read(&format!("a = 0{}\n", " + 1".repeat(100_000))).unwrap();
        assert_eq!(t.global().values.get("var.a"), Some(&Value::Int(100_000)));
    }

    #[test]
    fn sandbox_refuses_includes() {
        assert!(read_config(Input::Sandboxed("include_shell \"echo x = 1\"\n")).is_err());
        assert!(read_config(Input::Sandboxed("include \"/etc/passwd\"\n")).is_err());
    }

    #[test]
    fn include_shell_output_is_parsed() {
        let t = read("include_shell \"echo 'x = 5'\"\n").unwrap();
        assert_eq!(t.global().values.get("var.x"), Some(&Value::Int(5)));
        let e = read("include_shell \"exit 3\"\n").unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::ShellExit {
                cmd: "exit 3".into(),
                code: 3
            }
        );
    }

    #[test]
    fn errors_name_the_includes_they_came_through() {
        // 1.4.69 writes a "parser failed" line for each include statement
        // an error came through, at the token after that statement.
        let dir = std::env::temp_dir().join(format!("lrs-inc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inner = dir.join("bad.conf");
        std::fs::write(&inner, "var.ok = 1\nvar.bad = ;\n").unwrap();
        let text = format!("var.a = 1\ninclude \"{}\"\n", inner.display());
        let e = read(&text).unwrap_err();
        let (at, _) = e.at.clone().unwrap();
        assert_eq!(
            (at.line, at.col),
            (2, 10),
            "tokenizer positions count from 0"
        );
        let through = e.through.as_ref().map(|t| t.0.clone()).unwrap_or_default();
        assert_eq!(through.len(), 1);
        assert_eq!(
            (&*through[0].source, through[0].line, through[0].col),
            ("-", 3, 0)
        );
        // and no chain for an error in the file itself
        assert!(read("var.bad = ;\n").unwrap_err().through.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_found_on_acting_are_placed_where_1_4_69_places_them() {
        // (line, pos, near) of 1.4.69's "parser failed" line, each taken
        // from 1.4.69 itself: the token after the statement or block, at
        // the place its tokenizer has reached once it read it
        let place = |text: &str| {
            let e = read(text).unwrap_err();
            let (at, near) = e.at.unwrap();
            (at.line, at.col, near)
        };
        let dup = "var.a = 1\nvar.a = 2";
        let cases: &[(String, (u32, u32, &str))] = &[
            // an end of line: read with the blank and comment lines after
            // it and the blanks before the next token
            (format!("{dup}\n  x = 1\n"), (3, 2, "(EOL)")),
            (format!("{dup}\n # c\n\n\t\tx = 1\n"), (5, 2, "(EOL)")),
            // the end of the input: the last token read, at the end
            (format!("{dup} # c"), (2, 13, "2")),
            // a `}`: with the blanks and a comment after it on its line
            ("$HTTP[\"url\"] == \"/\" { var.y = 1 var.y = 2 }  # c\n".to_string(), (1, 48, "}")),
            // an else that can never be taken: after the branch's `}`
            (
                "$HTTP[\"url\"] == \"/a\" {\n} else {\n}  else $HTTP[\"url\"] == \"/b\" {\n}\n".into(),
                (5, 0, "(EOL)"),
            ),
            (
                "$HTTP[\"url\"] == \"/a\" {\n} else {\n}\nelse {\n}  ".into(),
                (5, 3, "}"),
            ),
            (
                "$HTTP[\"url\"] == \"/a\" {\n} else {\n}\nelse {\n}  else $HTTP[\"url\"] == \"/b\" {\n}\n".into(),
                (5, 3, "(EOL)"),
            ),
        ];
        for (text, want) in cases {
            let (line, col, near) = place(text);
            assert_eq!((line, col, near.as_str()), *want, "{text:?}");
        }
    }

    #[test]
    fn include_missing_plain_vs_glob() {
        assert!(read("include \"/nonexistent/*.conf\"\n").is_ok());
        assert!(matches!(
            read("include \"/nonexistent/x.conf\"\n").unwrap_err().kind,
            ErrorKind::IncludeNotFound(_)
        ));
    }
}
