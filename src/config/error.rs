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
}

impl ConfigError {
    pub fn new(kind: ErrorKind) -> Self {
        ConfigError { kind, at: None }
    }

    pub fn at(kind: ErrorKind, span: &Span, token: impl Into<String>) -> Self {
        ConfigError {
            kind,
            at: Some((span.clone(), token.into())),
        }
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
        if bare {
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
