//! What the user wrote: statements and expressions of lighttpd.conf, each
//! with the place it came from. Parsing produces this (parse.rs); evaluation
//! (eval.rs) walks it in order, because lighttpd evaluates as it reads:
//! a reference sees only keys set above it, and `include` splices a file in
//! at that point.

use super::value::Value;

/// Where a token starts: the source (file name, `-` or a shell command),
/// 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub source: std::rc::Rc<str>,
    pub line: u32,
    pub col: u32,
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.col)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`: the key must not exist in this block yet.
    Set,
    /// `:=`: replace or insert.
    Force,
    /// `+=`: merge with this block's or an enclosing block's value.
    Append,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal(Value, Span),
    /// A reference to an earlier key, already `var.`-prefixed when it had no
    /// dot; `env.NAME` reads the process environment.
    Ref(String, Span),
    /// `( ... )`: elements with an optional `key =>`, each with the token
    /// after it (`,` or `)`: where 1.4.69 reports a duplicate key).
    Array(Vec<(Option<Expr>, Expr, (Span, &'static str))>, Span),
    /// `a + b + ...`: at least two operands, merged left to right (kept
    /// flat so a long sum cannot nest deeply).
    Plus(Vec<Expr>, Span),
}

impl Expr {
    pub fn span(&self) -> &Span {
        match self {
            Expr::Literal(_, s) | Expr::Ref(_, s) | Expr::Array(_, s) | Expr::Plus(_, s) => s,
        }
    }
}

/// Comparison operators of a conditional, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CondOp {
    Eq,
    Ne,
    Match,
    NoMatch,
    Prefix,
    Suffix,
}

impl CondOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CondOp::Eq => "==",
            CondOp::Ne => "!=",
            CondOp::Match => "=~",
            CondOp::NoMatch => "!~",
            CondOp::Prefix => "=^",
            CondOp::Suffix => "=$",
        }
    }
}

/// `$OBJ["field"] OP value`.
#[derive(Clone, Debug, PartialEq)]
pub struct CondExpr {
    pub obj: String,
    pub field: Expr,
    pub op: CondOp,
    pub value: Expr,
    pub span: Span,
    /// The `{` that opens the block: errors in the condition are reported there.
    pub open: Lookahead,
}

/// Where a token is and how lighttpd names it in "near here: TOKEN".
#[derive(Clone, Debug, PartialEq)]
pub struct Lookahead {
    pub span: Span,
    pub text: String,
}

/// One branch of an if / else-if / else chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// None for a bare `else`.
    pub cond: Option<CondExpr>,
    pub body: Vec<Stmt>,
    pub span: Span,
    /// Where the closing `}` is.
    pub end: Span,
    /// The token after it, where 1.4.69 reports errors found once the
    /// block is read (an else that can never be taken).
    pub after: Lookahead,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Assign {
        key: String,
        op: AssignOp,
        value: Expr,
        /// The token after the statement: lighttpd reports errors found
        /// while evaluating a statement there (its parser acts on the
        /// lookahead).
        end: Lookahead,
    },
    Include {
        path: Expr,
        end: Lookahead,
    },
    IncludeShell {
        command: Expr,
        end: Lookahead,
    },
    Global {
        body: Vec<Stmt>,
        span: Span,
    },
    /// A conditional and its else branches, in order.
    Cond {
        branches: Vec<Branch>,
    },
}
