//! Config errors: one typed kind, the place it was found, and lighttpd's
//! wording, so that administrators can grep for the messages they know
//! (`Duplicate config variable in conditional ...`, `Undefined config
//! variable: ...`, `include file not found: ...`). Display gives the message;
//! `report` writes it the way lighttpd does: some messages bare on stderr,
//! then a log line naming source, line and position.

use super::ast::Span;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// Tokenizer errors, e.g. "missing closing quote".
    Lex(&'static str),
    /// The grammar did not expect this token.
    Syntax,
    UndefinedVar(String),
    UndefinedEnv(String),
    SetEnv {
        block: usize,
        block_key: String,
        key: String,
        append: bool,
    },
    DuplicateVar {
        block: usize,
        block_key: String,
        key: String,
    },
    DuplicateArrayKey(String),
    /// `+=` / `+` on arrays with a key present twice with different values.
    MergeDuplicateKey(String),
    TypeMismatch,
    NumberParse(String),
    OperandNotString,
    RvalueNotString,
    UnreachableElse,
    ElseAfterCatchAll,
    CondInGlobal,
    CompKey(String),
    InvalidIp(String),
    Regex(String),
    TooManyCaptures(String),
    IncludeNotFound(String),
    Open {
        path: String,
        err: String,
    },
    Glob {
        path: String,
        err: String,
    },
    ShellExit {
        cmd: String,
        code: i32,
    },
    Shell {
        cmd: String,
        err: String,
    },
    /// Errors of typed key validation (core or modules), already worded.
    Key(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub kind: ErrorKind,
    /// Where, and the token there (lighttpd's "near here: TOKEN").
    pub at: Option<(Span, String)>,
    /// The include / include_shell statements the error came through,
    /// innermost first: 1.4.69 writes a "parser failed" line for each.
    /// (Boxed: errors stay small, and few come through an include.)
    pub through: Option<Box<Through>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Through(pub Vec<Span>);

impl ConfigError {
    pub fn new(kind: ErrorKind) -> Self {
        ConfigError {
            kind,
            at: None,
            through: None,
        }
    }

    pub fn at(kind: ErrorKind, span: &Span, token: impl Into<String>) -> Self {
        ConfigError {
            kind,
            at: Some((span.clone(), token.into())),
            through: None,
        }
    }

    /// The error came through the include statement at `span`.
    pub fn through(mut self, span: &Span) -> Self {
        self.through.get_or_insert_default().0.push(span.clone());
        self
    }

    /// Writes the error as lighttpd would: a bare message for the parser's
    /// own complaints, then the timestamped "parser failed" line.
    pub fn report(&self) {
        use ErrorKind::*;
        let bare = !matches!(
            self.kind,
            Lex(_)
                | Syntax
                | IncludeNotFound(_)
                | Open { .. }
                | Glob { .. }
                | ShellExit { .. }
                | Shell { .. }
                | Key(_)
                | Regex(_)
                | TooManyCaptures(_)
        );
        if matches!(self.kind, MergeDuplicateKey(_)) {
            // written by the merge itself, as in 1.4.69
        } else if matches!(self.kind, RvalueNotString | CompKey(_)) {
            // 1.4.69 ends these without a newline: its "source:" line
            // follows on the same line.
            eprint!("{self}");
        } else if bare {
            eprintln!("{self}");
        } else if !matches!(self.kind, Syntax) {
            crate::log_error!("{}", self);
        }
        if let Some((span, token)) = &self.at {
            match self.kind {
                Lex(_) => crate::log_error!("configfile parser failed at: {token}"),
                _ => crate::log_error!(
                    "source: {} line: {} pos: {} parser failed somehow near here: {}",
                    span.source,
                    span.line,
                    span.col,
                    token
                ),
            }
        }
        for span in self.through.iter().flat_map(|t| &t.0) {
            crate::log_error!(
                "source: {} line: {} pos: {} parser failed somehow near here: (EOL)",
                span.source,
                span.line,
                span.col
            );
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match &self.kind {
            Lex(msg) => match &self.at {
                Some((s, _)) => write!(
                    f,
                    "source: {} line: {} pos: {} {}",
                    s.source, s.line, s.col, msg
                ),
                None => f.write_str(msg),
            },
            Syntax => match &self.at {
                Some((s, t)) => write!(
                    f,
                    "source: {} line: {} pos: {} parser failed somehow near here: {}",
                    s.source, s.line, s.col, t
                ),
                None => f.write_str("parser failed"),
            },
            UndefinedVar(k) => write!(f, "Undefined config variable: {k}"),
            UndefinedEnv(k) => write!(f, "Undefined env variable: {k}"),
            SetEnv {
                block,
                block_key,
                key,
                append,
            } => write!(
                f,
                "{} env variable is not supported in conditional {} {}: {}",
                if *append { "Appending" } else { "Setting" },
                block,
                block_key,
                key
            ),
            DuplicateVar {
                block,
                block_key,
                key,
            } => {
                write!(
                    f,
                    "Duplicate config variable in conditional {block} {block_key}: {key}"
                )
            }
            DuplicateArrayKey(k) => {
                write!(
                    f,
                    "Error: duplicate array-key: {k}. Please get rid of the duplicate entry."
                )
            }
            MergeDuplicateKey(k) => write!(f, "Duplicate array-key '{k}'"),
            TypeMismatch => f.write_str("data type mismatch, cannot merge"),
            NumberParse(n) => write!(f, "error parsing number: '{n}'"),
            OperandNotString => f.write_str("operand must be string"),
            RvalueNotString => f.write_str("rvalue must be string"),
            UnreachableElse => f.write_str("unreachable else condition"),
            ElseAfterCatchAll => f.write_str("unreachable condition following else catch-all"),
            CondInGlobal => f.write_str("Cannot use conditionals inside a global { ... } block"),
            CompKey(k) => write!(f, "error comp_key {k}"),
            InvalidIp(ip) => write!(f, "invalid IP addr: {ip}"),
            Regex(m) => f.write_str(m),
            TooManyCaptures(re) => {
                write!(
                    f,
                    "Too many captures in regex, use (?:...) instead of (...): {re}"
                )
            }
            IncludeNotFound(p) => write!(f, "include file not found: {p}"),
            Open { path, err } => write!(f, "opening configfile {path} failed: {err}"),
            Glob { path, err } => write!(f, "glob() {path} failed: {err}"),
            ShellExit { cmd, code } => write!(f, "command \"{cmd}\" exited non-zero: {code}"),
            Shell { cmd, err } => write!(f, "fork/exec({cmd}): {err}"),
            Key(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {}

pub type Result<T> = std::result::Result<T, ConfigError>;
