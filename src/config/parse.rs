//! lighttpd.conf text to statements. Two stages, both here: a tokenizer with
//! lighttpd's lexical rules (nom does the lexemes), then a recursive-descent
//! parser for lighttpd's grammar that builds `ast::Stmt`s with spans.
//!
//! Lexical rules reproduced (config-language.md §1): newlines end statements
//! except inside `( )`; runs of newlines, blanks and comments are one end of
//! line; after `}` anything on the same line gets an implied end of line; a
//! comma outside parentheses is ignored; strings know only the `\"` escape;
//! integers are bare digits read as a C long then stored in a 32-bit int;
//! keys are `[A-Za-z0-9._-]+` and get `var.` when they have no dot; NBSP is
//! blank. Where 1.4.69's parser silently misreads input (`a = "x" "y"`,
//! `else if`), we follow lighttpd HEAD: a clear error, or the HEAD keywords
//! `if`/`elif`/`elsif`/`elseif`/`else if` (doc/compat.md).

use super::ast::{AssignOp, Branch, CondExpr, CondOp, Expr, Lookahead, Span, Stmt};
use super::error::{ConfigError, ErrorKind, Result};
use super::value::Value;
use nom::IResult;
use nom::Parser as _;
use nom::bytes::complete::{take_till, take_while, take_while1};
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Eol,
    Comma,
    Str(String),
    Int(String),
    Key(String),
    SrvVar(String),
    Dollar,
    LBracket,
    RBracket,
    LParen,
    RParen,
    LCurly,
    RCurly,
    Assign,
    ForceAssign,
    Append,
    Plus,
    ArrayAssign,
    Cond(CondOp),
    Include,
    IncludeShell,
    Global,
    Else,
    /// HEAD's `if`, `elif`, `elsif`, `elseif` (only before `$`).
    If,
    Elif,
}

impl Tok {
    /// The text lighttpd shows for a token in "near here: ...".
    fn text(&self) -> String {
        match self {
            Tok::Eol => "(EOL)".into(),
            Tok::Comma => "(COMMA)".into(),
            Tok::Str(s) | Tok::Int(s) | Tok::Key(s) | Tok::SrvVar(s) => s.clone(),
            Tok::Dollar => "$".into(),
            Tok::LBracket => "[".into(),
            Tok::RBracket => "]".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::LCurly => "{".into(),
            Tok::RCurly => "}".into(),
            Tok::Assign => "=".into(),
            Tok::ForceAssign => ":=".into(),
            Tok::Append => "+=".into(),
            Tok::Plus => "+".into(),
            Tok::ArrayAssign => "=>".into(),
            Tok::Cond(op) => op.as_str().into(),
            Tok::Include => "include".into(),
            Tok::IncludeShell => "include_shell".into(),
            Tok::Global => "global".into(),
            Tok::Else => "else".into(),
            Tok::If => "if".into(),
            Tok::Elif => "elif".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'
}

/// The body of a string after its opening quote: text up to the closing
/// quote, with `\"` turned into `"` and every other backslash kept.
fn lex_string_body(input: &str) -> IResult<&str, String> {
    let mut out = String::new();
    let mut rest = input;
    loop {
        let (r, chunk) = take_till(|c| c == '"' || c == '\\').parse(rest)?;
        out.push_str(chunk);
        if let Some(r2) = r.strip_prefix("\\\"") {
            out.push('"');
            rest = r2;
        } else if let Some(r2) = r.strip_prefix('\\') {
            out.push('\\');
            rest = r2;
        } else if let Some(r2) = r.strip_prefix('"') {
            return Ok((r2, out));
        } else {
            return Err(nom::Err::Error(nom::error::Error::new(
                r,
                nom::error::ErrorKind::Char,
            )));
        }
    }
}

fn lex_digits(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_digit()).parse(input)
}

fn lex_key(input: &str) -> IResult<&str, &str> {
    take_while1(is_key_char).parse(input)
}

fn lex_srvvar(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphabetic() || c == '_').parse(input)
}

fn lex_comment(input: &str) -> IResult<&str, &str> {
    take_while(|c| c != '\n' && c != '\r').parse(input)
}

/// The tokenizer: lighttpd's states (inside parentheses, inside a
/// condition, implied end of line after `}`).
struct Lexer<'a> {
    src: &'a str,
    rest: &'a str,
    source: Rc<str>,
    line: u32,
    line_start: usize,
    in_brace: i32,
    in_cond: bool,
    simulate_eol: bool,
}

impl<'a> Lexer<'a> {
    fn new(source: Rc<str>, src: &'a str) -> Self {
        Lexer {
            src,
            rest: src,
            source,
            line: 1,
            line_start: 0,
            in_brace: 0,
            in_cond: false,
            simulate_eol: false,
        }
    }

    fn offset(&self) -> usize {
        self.src.len() - self.rest.len()
    }

    fn span(&self) -> Span {
        Span {
            source: self.source.clone(),
            line: self.line,
            col: (self.offset() - self.line_start) as u32 + 1,
        }
    }

    /// A tokenizer error here; `tokenize` adds the previous token's text
    /// (lighttpd's "configfile parser failed at: TOKEN").
    fn err(&self, msg: &'static str) -> ConfigError {
        // 1.4.69 counts a tokenizer error's position from 0.
        let mut at = self.span();
        at.col -= 1;
        ConfigError::at(ErrorKind::Lex(msg), &at, "")
    }

    fn advance(&mut self, n: usize) {
        self.rest = &self.rest[n..];
    }

    /// Consumes one newline (CRLF counts once) and counts the line.
    fn newline(&mut self) {
        let n = if self.rest.starts_with("\r\n") { 2 } else { 1 };
        self.advance(n);
        self.line += 1;
        self.line_start = self.offset();
    }

    fn skip_comment(&mut self) {
        if let Ok((r, _)) = lex_comment(self.rest) {
            self.rest = r;
        }
    }

    fn tokenize(mut self) -> Result<Vec<Token>> {
        let mut out: Vec<Token> = Vec::new();
        loop {
            let next = self.next_token().map_err(|mut e| {
                // (an unterminated string: the string token, empty)
                if let Some((_, tok)) = &mut e.at
                    && e.kind != ErrorKind::Lex("missing closing quote")
                {
                    *tok = out.last().map(|t| t.tok.text()).unwrap_or_default();
                }
                e
            })?;
            match next {
                Some(t) => out.push(t),
                None => return Ok(out),
            }
        }
    }

    fn next_token(&mut self) -> Result<Option<Token>> {
        if self.simulate_eol {
            self.simulate_eol = false;
            return Ok(Some(Token {
                tok: Tok::Eol,
                span: self.span(),
            }));
        }
        loop {
            let Some(c) = self.rest.chars().next() else {
                return Ok(None);
            };
            let span = self.span();
            let next = self.rest[c.len_utf8()..].chars().next();
            let tok = match c {
                // NBSP is blank, except inside `$NAME[...] op` where
                // lighttpd's condition tokenizer rejects it.
                ' ' | '\t' => {
                    self.advance(1);
                    continue;
                }
                '\u{a0}' if !self.in_cond => {
                    self.advance(c.len_utf8());
                    continue;
                }
                '\n' | '\r' if self.in_brace == 0 => {
                    // One end of line for a run of newlines, blanks and comments.
                    loop {
                        match self.rest.chars().next() {
                            Some('\n' | '\r') => self.newline(),
                            Some('#') => self.skip_comment(),
                            Some(' ' | '\t') => self.advance(1),
                            _ => break,
                        }
                    }
                    // lighttpd reports errors at this token where its
                    // tokenizer stands: the start of the next line.
                    let span = Span {
                        source: self.source.clone(),
                        line: self.line,
                        col: 0,
                    };
                    return Ok(Some(Token {
                        tok: Tok::Eol,
                        span,
                    }));
                }
                '\n' | '\r' => {
                    self.newline();
                    continue;
                }
                '#' => {
                    self.skip_comment();
                    continue;
                }
                ',' => {
                    self.advance(1);
                    if self.in_brace > 0 {
                        Tok::Comma
                    } else {
                        continue;
                    }
                }
                '=' if self.in_brace > 0 => {
                    if next == Some('>') {
                        self.advance(2);
                        Tok::ArrayAssign
                    } else {
                        return Err(self.err("use => for assignments in arrays"));
                    }
                }
                '=' | '!' if self.in_cond => {
                    let op = match (c, next) {
                        ('=', Some('=')) => CondOp::Eq,
                        ('=', Some('~')) => CondOp::Match,
                        ('=', Some('^')) => CondOp::Prefix,
                        ('=', Some('$')) => CondOp::Suffix,
                        ('!', Some('=')) => CondOp::Ne,
                        ('!', Some('~')) => CondOp::NoMatch,
                        ('=', _) => {
                            return Err(self.err("only == =~ =^ =$ are allowed in the condition"));
                        }
                        _ => {
                            return Err(self.err("only !~ and != are allowed in the condition"));
                        }
                    };
                    self.advance(2);
                    self.in_cond = false;
                    Tok::Cond(op)
                }
                '=' => {
                    self.advance(1);
                    Tok::Assign
                }
                '!' => return Err(self.err("unexpected exclamation-marks: !")),
                '"' => match lex_string_body(&self.rest[1..]) {
                    Ok((r, s)) => {
                        // Strings may span lines: count them.
                        let consumed = &self.rest[..self.rest.len() - r.len()];
                        let nl = consumed.matches('\n').count() as u32;
                        if nl > 0 {
                            self.line += nl;
                            let last_nl = consumed.rfind('\n').unwrap_or(0);
                            self.line_start = self.offset() + last_nl + 1;
                        }
                        self.rest = r;
                        Tok::Str(s)
                    }
                    Err(_) => return Err(self.err("missing closing quote")),
                },
                '(' => {
                    self.advance(1);
                    self.in_brace += 1;
                    Tok::LParen
                }
                ')' => {
                    self.advance(1);
                    self.in_brace -= 1;
                    Tok::RParen
                }
                '$' => {
                    self.advance(1);
                    self.in_cond = true;
                    Tok::Dollar
                }
                '+' => {
                    if next == Some('=') {
                        self.advance(2);
                        Tok::Append
                    } else {
                        self.advance(1);
                        Tok::Plus
                    }
                }
                ':' => {
                    if next == Some('=') {
                        self.advance(2);
                        Tok::ForceAssign
                    } else {
                        return Err(self.err("unexpected character ':'"));
                    }
                }
                '{' => {
                    self.advance(1);
                    Tok::LCurly
                }
                '}' => {
                    self.advance(1);
                    // Anything but a comment on the rest of the line gets an
                    // implied end of line first.
                    loop {
                        match self.rest.chars().next() {
                            Some(' ' | '\t') => self.advance(1),
                            Some('#') => {
                                self.skip_comment();
                                break;
                            }
                            Some('\n' | '\r') | None => break,
                            Some(_) => {
                                self.simulate_eol = true;
                                break;
                            }
                        }
                    }
                    Tok::RCurly
                }
                '[' => {
                    self.advance(1);
                    Tok::LBracket
                }
                ']' => {
                    self.advance(1);
                    Tok::RBracket
                }
                _ if self.in_cond => match lex_srvvar(self.rest) {
                    Ok((r, name)) => {
                        let t = Tok::SrvVar(name.to_string());
                        self.rest = r;
                        t
                    }
                    Err(_) => return Err(self.err("invalid character in condition")),
                },
                _ if c.is_ascii_digit() => {
                    let (r, d) = lex_digits(self.rest).map_err(|_| self.err("invalid number"))?;
                    let t = Tok::Int(d.to_string());
                    self.rest = r;
                    t
                }
                _ => match lex_key(self.rest) {
                    Ok((r, k)) => {
                        let t = match k {
                            "include" => Tok::Include,
                            "include_shell" => Tok::IncludeShell,
                            "global" => Tok::Global,
                            "else" => Tok::Else,
                            "if" | "elif" | "elsif" | "elseif"
                                if r.trim_start_matches([' ', '\t']).starts_with('$') =>
                            {
                                if k == "if" { Tok::If } else { Tok::Elif }
                            }
                            _ => Tok::Key(k.to_string()),
                        };
                        self.rest = r;
                        t
                    }
                    Err(_) => return Err(self.err("invalid character in variable name")),
                },
            };
            return Ok(Some(Token { tok, span }));
        }
    }
}

/// Splits text into tokens (exposed for the fuzz target and tests).
pub fn tokenize(source: &str, text: &str) -> Result<Vec<Token>> {
    Lexer::new(Rc::from(source), text).tokenize()
}

/// The grammar over the token list.
struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    /// The end of the input as 1.4.69's tokenizer leaves it (its line, and
    /// the bytes after the last newline).
    eof: Span,
    /// Each line's length in bytes, without its newline.
    line_len: Vec<u32>,
    /// Nesting of arrays and blocks; lighttpd's parser stack holds 100.
    depth: u32,
}

/// Deeper nesting than lighttpd's parser stack allows is a syntax error
/// (and cannot exhaust ours).
const MAX_NESTING: u32 = 100;

type PResult<T> = Result<T>;

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&'t Tok> {
        self.toks.get(self.pos + n).map(|t| &t.tok)
    }

    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .map(|t| t.span.clone())
            .unwrap_or_else(|| self.eof.clone())
    }

    fn bump(&mut self) -> Option<&'t Token> {
        let t = self.toks.get(self.pos);
        self.pos += 1;
        t
    }

    /// Where 1.4.69 reports an error its parser finds when it acts on the
    /// current token (the one after a statement, a block's `{`, the token
    /// after a block's `}`): the token's text, and the place its tokenizer
    /// has reached once it has read it. An end of line is read with the
    /// blank and comment lines after it and the blanks before the next
    /// token; a `}` with the blanks and a comment after it on its line;
    /// at the end of the input (1.4.69 adds an end of line there, but
    /// names the last token it read) the place is the end.
    fn lookahead(&self) -> Lookahead {
        let from0 = |t: &Token| Span {
            source: t.span.source.clone(),
            line: t.span.line,
            col: t.span.col.saturating_sub(1),
        };
        let next_code = |i: usize| {
            self.toks[i..]
                .iter()
                .find(|t| t.tok != Tok::Eol)
                .map_or_else(|| self.eof.clone(), from0)
        };
        match self.toks.get(self.pos) {
            None => Lookahead {
                span: self.eof.clone(),
                text: self
                    .pos
                    .checked_sub(1)
                    .and_then(|i| self.toks.get(i))
                    .map_or_else(|| "(EOL)".into(), |t| t.tok.text()),
            },
            Some(t) if t.tok == Tok::Eol => Lookahead {
                span: next_code(self.pos + 1),
                text: t.tok.text(),
            },
            Some(t) if t.tok == Tok::RCurly => {
                let next = next_code(self.pos + 1);
                let span = if next.line == t.span.line && self.toks.len() > self.pos + 1 {
                    next
                } else {
                    Span {
                        source: t.span.source.clone(),
                        line: t.span.line,
                        col: self
                            .line_len
                            .get(t.span.line as usize - 1)
                            .copied()
                            .unwrap_or(t.span.col),
                    }
                };
                Lookahead {
                    span,
                    text: t.tok.text(),
                }
            }
            // (a `{`: its column counted from 1 is the place after it)
            Some(t) => Lookahead {
                span: t.span.clone(),
                text: t.tok.text(),
            },
        }
    }

    /// "parser failed somehow near here": the token the parser choked on.
    fn fail(&self) -> ConfigError {
        let text = self
            .peek()
            .map(|t| t.text())
            .unwrap_or_else(|| "(EOL)".into());
        ConfigError::at(ErrorKind::Syntax, &self.span(), text)
    }

    fn expect(&mut self, want: &Tok) -> PResult<Span> {
        if self.peek() == Some(want) {
            Ok(self
                .bump()
                .map(|t| t.span.clone())
                .unwrap_or_else(|| self.eof.clone()))
        } else {
            Err(self.fail())
        }
    }

    /// Statements until `}` (inside a block) or the end of input.
    fn metalines(&mut self, in_block: bool) -> PResult<Vec<Stmt>> {
        if in_block {
            self.enter()?;
        }
        let r = self.metalines_inner(in_block);
        if in_block {
            self.depth -= 1;
        }
        r
    }

    fn metalines_inner(&mut self, in_block: bool) -> PResult<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None if in_block => return Err(self.fail()),
                None => return Ok(out),
                Some(Tok::RCurly) if in_block => return Ok(out),
                Some(Tok::Eol) => {
                    self.pos += 1;
                }
                Some(Tok::Key(_)) => out.push(self.varline()?),
                Some(Tok::Global) => {
                    let span = self.span();
                    self.pos += 1;
                    self.expect(&Tok::LCurly)?;
                    let body = self.metalines(true)?;
                    self.expect(&Tok::RCurly)?;
                    out.push(Stmt::Global { body, span });
                }
                Some(Tok::Dollar | Tok::If) => {
                    out.push(self.condlines()?);
                    match self.peek() {
                        None | Some(Tok::Eol) => {}
                        Some(Tok::RCurly) if in_block => {}
                        _ => return Err(self.fail()),
                    }
                }
                Some(Tok::Include | Tok::IncludeShell) => {
                    let shell = self.peek() == Some(&Tok::IncludeShell);
                    self.pos += 1;
                    let e = self.expression()?;
                    let end = self.lookahead();
                    out.push(if shell {
                        Stmt::IncludeShell { command: e, end }
                    } else {
                        Stmt::Include { path: e, end }
                    });
                }
                Some(_) => return Err(self.fail()),
            }
        }
    }

    fn varline(&mut self) -> PResult<Stmt> {
        let Some(Token {
            tok: Tok::Key(k), ..
        }) = self.bump()
        else {
            return Err(self.fail());
        };
        let op = match self.peek() {
            Some(Tok::Assign) => AssignOp::Set,
            Some(Tok::ForceAssign) => AssignOp::Force,
            Some(Tok::Append) => AssignOp::Append,
            _ => return Err(self.fail()),
        };
        self.pos += 1;
        let value = self.expression()?;
        // HEAD rejects a value followed by a string or another value on
        // the same line (1.4.69 silently dropped it).
        if let Some(Tok::Str(_) | Tok::Int(_) | Tok::LParen) = self.peek() {
            return Err(self.fail());
        }
        let end = self.lookahead();
        Ok(Stmt::Assign {
            key: full_key(k),
            op,
            value,
            end,
        })
    }

    fn expression(&mut self) -> PResult<Expr> {
        let first = self.value()?;
        if self.peek() != Some(&Tok::Plus) {
            return Ok(first);
        }
        let span = self.span();
        let mut terms = vec![first];
        while self.peek() == Some(&Tok::Plus) {
            self.pos += 1;
            terms.push(self.value()?);
        }
        Ok(Expr::Plus(terms, span))
    }

    fn value(&mut self) -> PResult<Expr> {
        let span = self.span();
        match self.peek() {
            Some(Tok::Key(k)) => {
                self.pos += 1;
                Ok(Expr::Ref(full_key(k), span))
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Literal(Value::Str(s.clone()), span))
            }
            Some(Tok::Int(d)) => {
                self.pos += 1;
                Ok(Expr::Literal(Value::Int(parse_int(d, &span)?), span))
            }
            Some(Tok::LParen) => self.array(),
            _ => Err(self.fail()),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.fail());
        }
        Ok(())
    }

    fn array(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.array_inner();
        self.depth -= 1;
        r
    }

    fn array_inner(&mut self) -> PResult<Expr> {
        let span = self.expect(&Tok::LParen)?;
        let mut elems = Vec::new();
        if self.peek() == Some(&Tok::RParen) {
            self.pos += 1;
            return Ok(Expr::Array(elems, span));
        }
        elems.push(self.aelement()?);
        loop {
            match self.peek() {
                Some(Tok::RParen) => {
                    self.pos += 1;
                    return Ok(Expr::Array(elems, span));
                }
                Some(Tok::Comma) => {
                    self.pos += 1;
                    if !matches!(self.peek(), Some(Tok::Comma | Tok::RParen)) {
                        elems.push(self.aelement()?);
                    }
                }
                _ => return Err(self.fail()),
            }
        }
    }

    /// An element, `key => value` or `value`, with the token after it
    /// (`,` or `)`; anything else fails in the caller), where 1.4.69
    /// reports a duplicate key.
    fn aelement(&mut self) -> PResult<(Option<Expr>, Expr, (Span, &'static str))> {
        let first = self.expression()?;
        let (key, value) = if self.peek() == Some(&Tok::ArrayAssign) {
            self.pos += 1;
            (Some(first), self.expression()?)
        } else {
            (None, first)
        };
        let after = match self.peek() {
            Some(Tok::RParen) => ")",
            _ => "(COMMA)",
        };
        Ok((key, value, (self.span(), after)))
    }

    /// `$OBJ[field] op value { ... }` and its else branches.
    fn condlines(&mut self) -> PResult<Stmt> {
        if self.peek() == Some(&Tok::If) {
            self.pos += 1;
        }
        let mut branches = vec![self.condline()?];
        loop {
            // `eols ELSE`: at most one end of line before the else.
            let skip = match (self.peek(), self.peek_at(1)) {
                (Some(Tok::Eol), Some(Tok::Else | Tok::Elif)) => 1,
                (Some(Tok::Else | Tok::Elif), _) => 0,
                _ => return Ok(Stmt::Cond { branches }),
            };
            self.pos += skip;
            let span = self.span();
            let elif = self.peek() == Some(&Tok::Elif);
            self.pos += 1;
            if !elif && self.peek() == Some(&Tok::If) && self.peek_at(1) == Some(&Tok::Dollar) {
                self.pos += 1; // HEAD's `else if`
            }
            // `else` alone on its line, the block on the next.
            if self.peek() == Some(&Tok::Eol)
                && matches!(self.peek_at(1), Some(Tok::LCurly | Tok::Dollar))
            {
                self.pos += 1;
            }
            match self.peek() {
                Some(Tok::Dollar) => branches.push(self.condline()?),
                Some(Tok::LCurly) if !elif => {
                    self.pos += 1;
                    let body = self.metalines(true)?;
                    let end = self.expect(&Tok::RCurly)?;
                    branches.push(Branch {
                        cond: None,
                        body,
                        span,
                        end,
                        after: self.lookahead(),
                    });
                }
                _ => return Err(self.fail()),
            }
        }
    }

    fn condline(&mut self) -> PResult<Branch> {
        let span = self.expect(&Tok::Dollar)?;
        let obj = match self.bump() {
            Some(Token {
                tok: Tok::SrvVar(s),
                ..
            }) => s.clone(),
            _ => {
                self.pos -= 1;
                return Err(self.fail());
            }
        };
        self.expect(&Tok::LBracket)?;
        let field = self.expression()?;
        self.expect(&Tok::RBracket)?;
        let op = match self.peek() {
            Some(Tok::Cond(op)) => *op,
            _ => return Err(self.fail()),
        };
        self.pos += 1;
        let value = self.expression()?;
        let open = self.lookahead();
        self.expect(&Tok::LCurly)?;
        let body = self.metalines(true)?;
        let end = self.expect(&Tok::RCurly)?;
        let cond = CondExpr {
            obj,
            field,
            op,
            value,
            span: span.clone(),
            open,
        };
        Ok(Branch {
            cond: Some(cond),
            body,
            span,
            end,
            after: self.lookahead(),
        })
    }
}

/// A key without a dot lives in `var.`.
fn full_key(k: &str) -> String {
    if k.contains('.') {
        k.to_string()
    } else {
        format!("var.{k}")
    }
}

/// Digits as lighttpd reads them: strtol into a C long (an overflow is an
/// error), then stored in a 32-bit int (wrapping silently).
fn parse_int(d: &str, span: &Span) -> Result<i32> {
    match d.parse::<i64>() {
        Ok(v) => Ok(v as i32),
        Err(_) => Err(ConfigError::at(
            ErrorKind::NumberParse(d.to_string()),
            span,
            "(EOL)",
        )),
    }
}

/// Parses a whole file (or stdin, or a command's output) into statements.
pub fn parse(source: &str, text: &str) -> Result<Vec<Stmt>> {
    let toks = tokenize(source, text)?;
    let lines = text.matches('\n').count() as u32 + 1;
    let eof = Span {
        source: Rc::from(source),
        line: lines,
        col: (text.len() - text.rfind('\n').map_or(0, |i| i + 1)) as u32,
    };
    let line_len = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').len() as u32)
        .collect();
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        eof,
        line_len,
        depth: 0,
    };
    p.metalines(false)
}

#[cfg(test)]
mod tests;
